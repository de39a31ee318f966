#include "engine/packet_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "engine/clock.h"
#include "engine/completion_tags.h"
#include "engine/log.h"

namespace tuntcp::engine {
namespace {
}

PacketIo::PacketIo(uint32_t worker, int tun_fd, io::BufferPool& pool, uint32_t partition,
                   uint32_t max_writes, uint32_t vnet_hdr_len, WorkerStats& stats)
    : worker_(worker), fd_(tun_fd), pool_(pool), partition_(partition),
      own_(pool.partition(partition)), returns_(pool), max_writes_(max_writes),
      hdr_len_(vnet_hdr_len), stats_(stats) {
  refused_.reserve(max_writes);
}

void PacketIo::enable_zero_copy(bool on) {
  zero_copy_ = on && hdr_len_ > 0;
  if (zero_copy_) zc_iov_.resize(own_.size());
}

// --impair-out decides; this port carries it out on the worker's own buffers and ring.
class PacketIo::TxPort final : public ImpairPort {
 public:
  explicit TxPort(PacketIo& io) : io_(io) {}
  uint8_t* data(uint32_t id) override { return io_.pool_.data(id); }
  // A duplicate needs a buffer of its own (the original is released when its write completes).
  uint32_t copy(uint32_t id, uint32_t len) override {
    const io::BufId c = io_.own_.alloc();
    if (c == io::kNoBuf) return kNoCopy;
    io_.pool_.refs(c) = 1;
    std::memcpy(io_.pool_.data(c), io_.pool_.data(id), len);
    return c;
  }
  void pass(uint32_t id, uint32_t len, uint32_t) override { io_.write(id, len - io_.hdr_len_); }
  void drop(uint32_t id) override { io_.release(id); }

 private:
  PacketIo& io_;
};

PacketIo::~PacketIo() = default;

void PacketIo::set_impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us) {
  // Held writes keep the worker's buffers: leave at least half of them for new segments.
  ImpairSpec s = spec;
  s.limit = std::min(s.limit, std::max(own_.size() / 2, 1u));
  impair_ = std::make_unique<ImpairedPath>(
      s, seed, start_us, hdr_len_,
      ImpairCounters{&stats_.impair_out_dropped, &stats_.impair_out_delayed,
                     &stats_.impair_out_duplicated, &stats_.impair_out_corrupted,
                     &stats_.impair_out_reordered, &stats_.impair_out_overflow});
  port_ = std::make_unique<TxPort>(*this);
}

void PacketIo::flush_held() {
  if (impair_) impair_->flush_all(*port_, true);
}

io::BufId PacketIo::alloc_tx() {
  io::BufId id = own_.alloc();
  if (id == io::kNoBuf) {
    // Buffers of ours may be waiting in completed writes: reap them and try once more.
    reap();
    id = own_.alloc();
    if (id == io::kNoBuf) {
      stats_.drop(Drop::k_tx_no_buffer);
      return io::kNoBuf;
    }
  }
  pool_.refs(id) = 1;
  return id;
}

void PacketIo::release(io::BufId id) {
  uint16_t& r = pool_.refs(id);
  if (r > 1) {
    --r;
    return;
  }
  r = 0;
  if (pool_.owner_of(id) == partition_) {
    own_.free_local(id);
  } else {
    returns_.add(id);
  }
}

void PacketIo::transmit(io::BufId id, uint32_t ip_len, const io::VnetHdr& v) {
  if (hdr_len_) io::write_vnet(pool_.data(id), v);
  if (impair_) [[unlikely]] {
    transmit_impaired(id, ip_len);
    return;
  }
  write(id, ip_len);
}

void PacketIo::transmit_zero_copy(io::BufId id, uint32_t head_len, std::span<const uint8_t> a,
                                  std::span<const uint8_t> b, const io::VnetHdr& v) {
  io::write_vnet(pool_.data(id), v);
  std::array<iovec, 3>& iov = zc_iov_[id - own_.first()];
  unsigned n = 0;
  iov[n++] = iovec{pool_.data(id), hdr_len_ + head_len};
  if (!a.empty()) iov[n++] = iovec{const_cast<uint8_t*>(a.data()), a.size()};
  if (!b.empty()) iov[n++] = iovec{const_cast<uint8_t*>(b.data()), b.size()};
  const uint32_t len = static_cast<uint32_t>(hdr_len_ + head_len + a.size() + b.size());
  stats_.tx_packets.add();
  stats_.tx_bytes.add(len - hdr_len_);
  stats_.tx_zero_copy.add();
  make_room();
  io_uring_sqe* sqe = ring_->sqe();
  io_uring_prep_writev(sqe, fd_, iov.data(), n, 0);
  io_uring_sqe_set_data64(sqe, tag::write(id, len, /*zero_copy=*/true));
  ++writes_in_flight_;
  ++zc_in_flight_;
}

void PacketIo::make_room() {
  if (writes_in_flight_ + refused_.size() >= max_writes_) {
    // Keep the completion queue from overflowing: wait for some writes to finish.
    ring_->submit_and_wait(1000);
    reap();
  }
}

void PacketIo::wait_zero_copy() {
  // A TUN write is copied while it is issued, so after the submit the completions are normally
  // there already.
  ring_->submit_and_wait(0);
  reap();
  while (zc_in_flight_ > 0) {
    ring_->submit_and_wait(1000);
    reap();
  }
}

void PacketIo::transmit_impaired(io::BufId id, uint32_t ip_len) {
  impair_->admit(id, hdr_len_ + ip_len, 0, clock::now_us(), *port_);
}

void PacketIo::write(io::BufId id, uint32_t ip_len) {
  if (pcap_) pcap_->capture(ip(id), ip_len);
  stats_.tx_packets.add();
  stats_.tx_bytes.add(ip_len);
  submit_write(id, hdr_len_ + ip_len);
}

void PacketIo::submit_write(io::BufId id, uint32_t len) {
  make_room();
  io_uring_sqe* sqe = ring_->sqe();
  if (ring_->region_registered()) {
    io_uring_prep_write_fixed(sqe, fd_, pool_.data(id), len, 0, 0);
  } else {
    io_uring_prep_write(sqe, fd_, pool_.data(id), len, 0);
  }
  // The length rides in the tag (bits 32-60): a refused write can go again, a short one is seen.
  io_uring_sqe_set_data64(sqe, tag::write(id, len, /*zero_copy=*/false));
  ++writes_in_flight_;
}

void PacketIo::resubmit_refused() {
  if (refused_.empty()) return;
  // Taken out first: submit_write() may reap, which may refuse more.
  Refused again[64];
  while (!refused_.empty()) {
    const size_t n = std::min(refused_.size(), std::size(again));
    std::copy_n(refused_.begin(), n, again);
    refused_.erase(refused_.begin(), refused_.begin() + static_cast<std::ptrdiff_t>(n));
    for (size_t i = 0; i < n; ++i) submit_write(again[i].id, again[i].len);
  }
}

void PacketIo::drain(uint32_t max_rounds) {
  for (uint32_t round = 0; round < max_rounds && (writes_in_flight_ > 0 || !refused_.empty()); ++round) {
    resubmit_refused();
    ring_->submit_and_wait(writes_in_flight_ > 0 ? 1000 : 0);
    reap();
  }
  while (writes_in_flight_ > 0) {  // whatever the kernel holds must come back before exit
    ring_->submit_and_wait(1000);
    reap();
  }
  for (const Refused& r : refused_) {
    stats_.drop(Drop::k_tx_error);
    release(r.id);
  }
  refused_.clear();
}

void PacketIo::reap() {
  ring_->for_each_cqe([&](io_uring_cqe* cqe) {
    const uint64_t t = io_uring_cqe_get_data64(cqe);
    if (t == tag::kEvent) {
      event_completed_ = true;
      return;
    }
    if (tag::is_write(t)) {
      --writes_in_flight_;
      const io::BufId id = tag::write_buffer(t);
      const uint32_t len = tag::write_len(t);
      const int res = cqe->res;
      const bool zero_copy = tag::is_zero_copy(t);
      if (zero_copy) --zc_in_flight_;
      // A zero-copy write is not written again when refused: the payload it points to may be
      // gone by then. It counts as failed, and TCP sends the segment again.
      if (!zero_copy && (res == -EAGAIN || res == -ENOBUFS || res == -EINTR)) {
        stats_.tx_retries.add();
        refused_.push_back(Refused{id, len});
        return;
      }
      // A TUN write takes a whole datagram or fails; a short count would mean a truncated one.
      if (res < 0 || static_cast<uint32_t>(res) != len) {
        stats_.drop(Drop::k_tx_error);
        if (stats_.drops[static_cast<size_t>(Drop::k_tx_error)].get() <= 3)
          log_warn("worker %u: TUN write failed: %s", worker_,
                   res < 0 ? std::strerror(-res) : "short write");
      }
      release(id);
    }
  });
}

void PacketIo::flush() {
  if (impair_ && impair_->held() > 0) impair_->release_due(clock::now_us(), *port_);
  resubmit_refused();
  ring_->submit_and_wait(0);
  reap();
  returns_.flush();
}

uint32_t PacketIo::buffers_in_use() const {
  return own_.size() - static_cast<uint32_t>(own_.free_count());
}

}  // namespace tuntcp::engine
