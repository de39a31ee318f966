#include "engine/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "engine/clock.h"
#include "engine/completion_tags.h"
#include "engine/log.h"
#include "io/uring.h"
#include "proto/flow.h"

namespace tuntcp::engine {
namespace {

constexpr uint16_t kBufGroup = 0;
// With --impair-in duplicate=..., buffers kept out of the provided ring for the copies.
constexpr uint32_t kDuplicateReserve = 32;

uint32_t next_pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

Reader::Reader(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
               std::vector<WorkerInbox*> inboxes, const Options& opts, PcapWriter* pcap)
    : index_(index), fd_(tun_fd), pool_(pool), partition_(partition),
      inboxes_(std::move(inboxes)), opts_(opts), pcap_(pcap) {}

void Reader::set_impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us) {
  // Held packets keep the reader's buffers: leave at least half of them to the kernel.
  ImpairSpec s = spec;
  s.limit = std::min(s.limit, std::max(pool_.partition(partition_).size() / 2, 1u));
  impair_ = std::make_unique<ImpairedPath>(
      s, seed, start_us, opts_.vnet_hdr_len(),
      ImpairCounters{&stats_.impair_in_dropped, &stats_.impair_in_delayed,
                     &stats_.impair_in_duplicated, &stats_.impair_in_corrupted,
                     &stats_.impair_in_reordered, &stats_.impair_in_overflow});
}

void Reader::run() {
  io::Partition& part = pool_.partition(partition_);
  io::Ring ring(opts_.ring_entries, opts_.sqpoll);
  // The ring of buffers the kernel may read into. A buffer id (bid) is the slot's index in
  // this partition; the kernel hands it back in each completion.
  io::BufRing bufs(ring, kBufGroup, next_pow2(part.size()));
  std::vector<uint8_t> in_ring(part.size(), 0);
  uint32_t ring_count = 0;
  auto give_to_kernel = [&](io::BufId id) {
    const uint16_t bid = static_cast<uint16_t>(id - part.first());
    bufs.add(pool_.data(id), pool_.slot_size(), bid);
    in_ring[bid] = 1;
    ++ring_count;
  };
  const uint32_t keep = impair_ && impair_->spec().duplicate > 0 ? kDuplicateReserve : 0;
  for (io::BufId id; part.free_count() > keep && (id = part.alloc()) != io::kNoBuf;) give_to_kernel(id);
  bufs.publish();

  bool multishot = opts_.read_mode == ReadMode::kMultishot;
  uint32_t reads_armed = 0;  // SQEs (multishot: 0 or 1) that may still complete with data
  auto arm = [&]() {
    io_uring_sqe* sqe = ring.sqe();
    if (multishot) {
      // liburing 2.3 has no prep helper for READ_MULTISHOT: fill the SQE by hand.
      io_uring_prep_rw(io::kOpReadMultishot, sqe, fd_, nullptr, 0, 0);
    } else {
      io_uring_prep_read(sqe, fd_, nullptr, pool_.slot_size(), 0);
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
    io_uring_sqe_set_data64(sqe, tag::kRead);
    ++reads_armed;
  };
  auto target_reads = [&]() -> uint32_t {
    if (multishot) return ring_count > 0 ? 1 : 0;
    return std::min<uint32_t>(opts_.reads_in_flight, ring_count);
  };

  // Packets staged per worker, handed over in one bulk enqueue per round.
  const size_t workers = inboxes_.size();
  std::vector<std::vector<PacketRef>> staged(workers);
  for (auto& s : staged) s.reserve(256);
  std::vector<std::unique_ptr<moodycamel::ProducerToken>> tokens;
  for (auto* inbox : inboxes_) tokens.push_back(std::make_unique<moodycamel::ProducerToken>(inbox->queue()));

  std::vector<io::BufId> returned(256);
  // --impair-in hands packets over through this port: at once, later (held), twice, or never.
  struct RxPort final : ImpairPort {
    io::BufferPool& pool;
    io::Partition& part;
    std::vector<std::vector<PacketRef>>& staged;
    RxPort(io::BufferPool& p, io::Partition& pt, std::vector<std::vector<PacketRef>>& s)
        : pool(p), part(pt), staged(s) {}
    uint8_t* data(uint32_t id) override { return pool.data(id); }
    uint32_t copy(uint32_t id, uint32_t len) override {
      const io::BufId c = part.alloc();
      if (c == io::kNoBuf) return kNoCopy;
      std::memcpy(pool.data(c), pool.data(id), len);
      return c;
    }
    void pass(uint32_t id, uint32_t len, uint32_t w) override { staged[w].push_back({id, len}); }
    void drop(uint32_t id) override { part.free_local(id); }
  } port(pool_, part, staged);
  ready_.store(true, std::memory_order_release);
  bool stopping = false, cancel_sent = false;
  bool warned_fallback = false;
  while (true) {
    if (!stopping && stop_.load(std::memory_order_relaxed)) stopping = true;
    if (stopping && !cancel_sent && reads_armed > 0) {
      io_uring_sqe* sqe = ring.sqe();
      io_uring_prep_cancel64(sqe, tag::kRead, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(sqe, tag::kCancel);
      cancel_sent = true;
    }
    if (stopping && reads_armed == 0) break;
    if (!stopping) {
      while (reads_armed < target_reads()) arm();
    }
    // Sleep in the kernel until a read completes; poll briefly while starved of buffers so
    // that returns from workers re-arm reads quickly.
    const bool starved = !stopping && ring_count == 0;
    uint64_t wait_us = opts_.busy_poll ? 0 : starved ? 200 : 50000;
    if (impair_ && impair_->held() > 0) {
      // --impair-in: wake up when the next held packet is due.
      const uint64_t t = clock::now_us(), next = impair_->next_release_us();
      wait_us = std::min(wait_us, next > t ? next - t : 0);
    }
    ring.submit_and_wait(wait_us);
    const uint64_t now = impair_ ? clock::now_us() : 0;

    uint32_t got = 0;
    ring.for_each_cqe([&](io_uring_cqe* cqe) {
      if (io_uring_cqe_get_data64(cqe) != tag::kRead) return;
      const bool more = multishot && (cqe->flags & IORING_CQE_F_MORE);
      if (!more) --reads_armed;
      if (cqe->flags & IORING_CQE_F_BUFFER) {
        const uint16_t bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        const io::BufId id = part.first() + bid;
        in_ring[bid] = 0;
        --ring_count;
        if (cqe->res <= 0) {
          part.free_local(id);  // nothing read into it: back to the free list, re-added below
          return;
        }
        const uint32_t len = static_cast<uint32_t>(cqe->res);
        const uint32_t hdr = opts_.vnet_hdr_len();
        if (pcap_ && len > hdr) pcap_->capture(pool_.data(id) + hdr, len - hdr);
        const proto::FlowKey key =
            len > hdr ? proto::flow_key_of_received({pool_.data(id) + hdr, len - hdr}) : proto::FlowKey{};
        const uint32_t w = proto::pick_shard(proto::flow_hash(key), static_cast<uint32_t>(workers));
        if (impair_) [[unlikely]]
          impair_->admit(id, len, w, now, port);
        else
          staged[w].push_back({id, len});
        stats_.rx_packets.add();
        stats_.rx_bytes.add(len);
        ++got;
        return;
      }
      if (cqe->res == -ENOBUFS) {
        stats_.pool_exhausted.add();
      } else if (cqe->res == -EINVAL && multishot && !stopping) {
        // Kernel without READ_MULTISHOT (before 6.7): fall back to single reads for good.
        multishot = false;
        if (!warned_fallback) log_warn("reader %u: multishot read unsupported, using single reads", index_);
        warned_fallback = true;
      } else if (cqe->res < 0 && cqe->res != -ECANCELED) {
        stats_.read_errors.add();
        if (stats_.read_errors.get() <= 3)
          log_warn("reader %u: read failed: %s", index_, std::strerror(-cqe->res));
      }
      if (!more && !stopping && multishot) stats_.rearms.add();
    });

    if (impair_) impair_->release_due(now, port);
    for (size_t w = 0; w < workers; ++w) {
      auto& s = staged[w];
      if (s.empty()) continue;
      inboxes_[w]->queue().enqueue_bulk(*tokens[w], s.data(), s.size());
      stats_.handoffs.add(s.size());
      stats_.handoff_batches.add();
      s.clear();
      if (inboxes_[w]->notify()) stats_.worker_wakeups.add();
    }
    // Buffers come home from workers through the return queue; free ones go back to the kernel.
    size_t n;
    while ((n = part.drain_returns(returned.data(), returned.size())) > 0)
      for (size_t i = 0; i < n; ++i) part.free_local(returned[i]);
    if (!stopping)
      for (io::BufId id; part.free_count() > keep && (id = part.alloc()) != io::kNoBuf;) give_to_kernel(id);
    bufs.publish();
    in_use_.store(part.size() - ring_count - static_cast<uint32_t>(part.free_count()),
                  std::memory_order_relaxed);
    (void)got;
  }
  // Packets still held by --impair-in never arrive: the link goes down with them.
  if (impair_) impair_->flush_all(port, false);
  // Buffers still in the provided ring are free: take them back before the ring goes away.
  for (uint32_t bid = 0; bid < in_ring.size(); ++bid)
    if (in_ring[bid]) part.free_local(part.first() + bid);
  log_debug("reader %u stopped", index_);
}

}  // namespace tuntcp::engine
