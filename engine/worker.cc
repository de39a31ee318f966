#include "engine/worker.h"

#include <time.h>

#include <cerrno>
#include <cstring>

#include "engine/log.h"
#include "io/uring.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

namespace tuntcp::engine {
namespace {

constexpr uint64_t kEventTag = 1ull << 63;
constexpr uint64_t kWriteTag = 1ull << 62;

uint64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

Drop drop_of(proto::Ipv4Drop d) {
  switch (d) {
    case proto::Ipv4Drop::kTruncated: return Drop::kIpTruncated;
    case proto::Ipv4Drop::kNotIpv4: return Drop::kIpNotIpv4;
    case proto::Ipv4Drop::kBadIhl: return Drop::kIpBadIhl;
    case proto::Ipv4Drop::kBadTotalLength: return Drop::kIpBadTotalLength;
    case proto::Ipv4Drop::kBadChecksum: return Drop::kIpBadChecksum;
    case proto::Ipv4Drop::kBadSource: return Drop::kIpBadSource;
    case proto::Ipv4Drop::kNotForUs: return Drop::kIpNotForUs;
    default: return Drop::kIpFragment;
  }
}

}  // namespace

Worker::Worker(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
               const Options& opts)
    : index_(index), fd_(tun_fd), pool_(pool), partition_(partition), own_(pool.partition(partition)), opts_(opts),
      returns_(pool), icmp_errors_(opts.icmp_rate, opts.icmp_burst),
      next_ip_id_(static_cast<uint16_t>(index * 7919)) {}

void Worker::release(io::BufId id) {
  if (pool_.owner_of(id) == partition_) {
    own_.free_local(id);
  } else {
    returns_.add(id);
  }
}

void Worker::transmit(io::BufId id, uint32_t len) {
  io_uring_sqe* sqe = ring_->sqe();
  if (ring_->region_registered()) {
    io_uring_prep_write_fixed(sqe, fd_, pool_.data(id), len, 0, 0);
  } else {
    io_uring_prep_write(sqe, fd_, pool_.data(id), len, 0);
  }
  io_uring_sqe_set_data64(sqe, kWriteTag | id);
  ++writes_in_flight_;
  stats_.tx_packets.add();
  stats_.tx_bytes.add(len);
}

void Worker::reap_completions() {
  ring_->for_each_cqe([&](io_uring_cqe* cqe) {
    const uint64_t tag = io_uring_cqe_get_data64(cqe);
    if (tag == kEventTag) {
      eventfd_armed_ = false;
      return;
    }
    if (tag & kWriteTag) {
      --writes_in_flight_;
      if (cqe->res < 0) {
        stats_.drop(Drop::kTxError);
        if (stats_.drops[static_cast<size_t>(Drop::kTxError)].get() <= 3)
          log_warn("worker %u: TUN write failed: %s", index_, std::strerror(-cqe->res));
      }
      release(static_cast<io::BufId>(tag & 0xffffffffu));
    }
  });
}

void Worker::handle_icmp(PacketRef pkt, const proto::Ipv4View& ip) {
  const auto icmp = proto::icmp::parse_icmp(ip);
  if (!icmp.ok()) {
    stats_.drop(icmp.drop == proto::icmp::IcmpDrop::kTruncated ? Drop::kIcmpTruncated
                                                                : Drop::kIcmpBadChecksum);
    release(pkt.buf);
    return;
  }
  if (icmp.type != proto::icmp::kEchoRequest) {
    stats_.icmp_other.add();
    release(pkt.buf);
    return;
  }
  // The reply is built in the request's own buffer: no allocation, no copy of the data.
  const size_t len = proto::icmp::make_echo_reply_in_place(pool_.data(pkt.buf), ip, next_ip_id_++);
  stats_.icmp_echo_replies.add();
  transmit(pkt.buf, static_cast<uint32_t>(len));
}

void Worker::send_dest_unreachable(const proto::Ipv4View& ip, uint8_t code, uint64_t now_us) {
  if (!icmp_errors_.allow(now_us)) {
    stats_.drop(Drop::kIcmpErrorLimited);
    return;
  }
  const io::BufId out = own_.alloc();
  if (out == io::kNoBuf) {
    stats_.drop(Drop::kTxNoBuffer);
    return;
  }
  const size_t len = proto::icmp::build_dest_unreachable(pool_.data(out), pool_.slot_size(),
                                                         opts_.addr, ip, code, next_ip_id_++);
  if (len == 0) {
    own_.free_local(out);
    return;
  }
  stats_.icmp_errors_sent.add();
  transmit(out, static_cast<uint32_t>(len));
}

void Worker::handle(PacketRef pkt, uint64_t now_us) {
  stats_.packets.add();
  const auto parsed = proto::parse_ipv4({pool_.data(pkt.buf), pkt.len}, opts_.addr);
  if (!parsed.ok()) {
    stats_.drop(drop_of(parsed.drop));
    release(pkt.buf);
    return;
  }
  const proto::Ipv4View& ip = parsed.view;
  switch (ip.protocol) {
    case proto::ipproto::kIcmp:
      handle_icmp(pkt, ip);
      return;
    case proto::ipproto::kTcp:
      stats_.drop(Drop::kTcpUnhandled);
      break;
    case proto::ipproto::kUdp:
      // No UDP sockets: every port is closed (RFC 1122 4.1.3.1, as Linux answers).
      send_dest_unreachable(ip, proto::icmp::kCodePortUnreachable, now_us);
      break;
    default:
      // RFC 1122 3.2.2.1: a transport protocol we do not implement.
      send_dest_unreachable(ip, proto::icmp::kCodeProtocolUnreachable, now_us);
      break;
  }
  release(pkt.buf);
}

void Worker::run() {
  io::Ring ring(opts_.ring_entries);
  ring_ = &ring;
  // Registering the whole pool once lets every write be a WRITE_FIXED (no page pinning per
  // write). Without it (memlock limits) plain writes work the same, a little slower.
  if (!ring.register_region(pool_.region(), pool_.region_bytes()))
    log_debug("worker %u: buffer registration refused, using plain writes", index_);
  moodycamel::ConsumerToken token(inbox_.queue());
  std::vector<PacketRef> batch(opts_.batch);
  const uint32_t max_writes = opts_.ring_entries;

  while (true) {
    const size_t n = inbox_.queue().try_dequeue_bulk(token, batch.data(), batch.size());
    if (n > 0) {
      const uint64_t now = monotonic_us();  // one clock read per batch
      for (size_t i = 0; i < n; ++i) {
        handle(batch[i], now);
        if (writes_in_flight_ >= max_writes) {  // keep the CQ from overflowing
          ring.submit_and_wait(1000);
          reap_completions();
        }
      }
      stats_.batches.add();
      ring.submit_and_wait(0);  // one submission for the whole batch
      reap_completions();
      returns_.flush();
      in_use_.store(own_.size() - static_cast<uint32_t>(own_.free_count()), std::memory_order_relaxed);
      continue;
    }
    ring.submit_and_wait(0);
    reap_completions();
    returns_.flush();
    if (stop_.load(std::memory_order_acquire) && inbox_.queue().size_approx() == 0) {
      if (writes_in_flight_ == 0) break;
      ring.submit_and_wait(1000);
      reap_completions();
      continue;
    }
    // Idle: block until a reader wakes us through the eventfd, or a write completes.
    if (!eventfd_armed_) {
      io_uring_sqe* sqe = ring.sqe();
      io_uring_prep_read(sqe, inbox_.eventfd_fd(), &eventfd_value_, sizeof eventfd_value_, 0);
      io_uring_sqe_set_data64(sqe, kEventTag);
      eventfd_armed_ = true;
    }
    if (inbox_.prepare_sleep()) {
      stats_.sleeps.add();
      ring.submit_and_wait(100000);
      inbox_.end_sleep();
    }
    reap_completions();
  }
  returns_.flush();
  in_use_.store(own_.size() - static_cast<uint32_t>(own_.free_count()), std::memory_order_relaxed);
  ring_ = nullptr;
  log_debug("worker %u stopped", index_);
}

}  // namespace tuntcp::engine
