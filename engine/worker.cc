#include "engine/worker.h"

#include <algorithm>
#include <vector>

#include "engine/clock.h"
#include "engine/completion_tags.h"
#include "engine/log.h"
#include "engine/services/services.h"
#include "engine/tcp_stack.h"
#include "io/uring.h"
#include "proto/icmp.h"

namespace tuntcp::engine {
namespace {

Drop drop_of(proto::Ipv4Drop d) {
  switch (d) {
    case proto::Ipv4Drop::kTruncated: return Drop::k_ip_truncated;
    case proto::Ipv4Drop::kNotIpv4: return Drop::k_ip_not_ipv4;
    case proto::Ipv4Drop::kBadIhl: return Drop::k_ip_bad_ihl;
    case proto::Ipv4Drop::kBadTotalLength: return Drop::k_ip_bad_total_length;
    case proto::Ipv4Drop::kBadChecksum: return Drop::k_ip_bad_checksum;
    case proto::Ipv4Drop::kBadSource: return Drop::k_ip_bad_source;
    case proto::Ipv4Drop::kNotForUs: return Drop::k_ip_not_for_us;
    default: return Drop::k_ip_fragment;
  }
}

constexpr uint64_t kMaxSleepUs = 100000;

}  // namespace

Worker::Worker(uint32_t index, int tun_fd, io::BufferPool& pool, uint32_t partition,
               const Options& opts, const proto::tcp::SipKey& isn_secret,
               SharedLimits& limits)
    : index_(index), opts_(opts), isn_secret_(isn_secret), limits_(limits),
      io_(index, tun_fd, pool, partition, opts.ring_entries, opts.vnet_hdr_len(), stats_),
      icmp_errors_(opts.icmp_rate, opts.icmp_burst),
      next_ip_id_(static_cast<uint16_t>(index * 7919)) {}

Worker::~Worker() = default;

void Worker::handle_icmp(PacketRef pkt, const proto::Ipv4View& ip) {
  const auto icmp = proto::icmp::parse_icmp(ip);
  if (!icmp.ok()) {
    stats_.drop(icmp.drop == proto::icmp::IcmpDrop::kTruncated ? Drop::k_icmp_truncated
                                                                : Drop::k_icmp_bad_checksum);
    io_.release(pkt.buf);
    return;
  }
  if (icmp.type != proto::icmp::kEchoRequest) {
    stats_.icmp_other.add();
    io_.release(pkt.buf);
    return;
  }
  // The reply is built in the request's own buffer: no allocation, no copy of the data.
  const size_t len = proto::icmp::make_echo_reply_in_place(io_.ip(pkt.buf), ip, next_ip_id_++);
  stats_.icmp_echo_replies.add();
  io_.transmit(pkt.buf, static_cast<uint32_t>(len));
}

void Worker::send_dest_unreachable(const proto::Ipv4View& ip, uint8_t code, uint64_t now_us) {
  if (!icmp_errors_.allow(now_us)) {
    stats_.drop(Drop::k_icmp_error_ratelimited);
    return;
  }
  const io::BufId out = io_.alloc_tx();
  if (out == io::kNoBuf) return;
  const size_t len = proto::icmp::build_dest_unreachable(io_.ip(out), io_.ip_capacity(), opts_.addr,
                                                         ip, code, next_ip_id_++);
  if (len == 0) {
    io_.release(out);
    return;
  }
  stats_.icmp_errors_sent.add();
  io_.transmit(out, static_cast<uint32_t>(len));
}

void Worker::handle(PacketRef pkt, uint64_t now_us) {
  stats_.packets.add();
  io_.adopt(pkt.buf);
  const uint32_t hdr = io_.vnet_hdr_len();
  if (pkt.len < hdr) {
    stats_.drop(Drop::k_ip_truncated);
    io_.release(pkt.buf);
    return;
  }
  const auto parsed = proto::parse_ipv4({io_.ip(pkt.buf), pkt.len - hdr}, opts_.addr);
  if (!parsed.ok()) {
    stats_.drop(drop_of(parsed.drop));
    io_.release(pkt.buf);
    return;
  }
  const proto::Ipv4View& ip = parsed.view;
  switch (ip.protocol) {
    case proto::ipproto::kIcmp:
      handle_icmp(pkt, ip);
      return;
    case proto::ipproto::kTcp:
      tcp_->input(ip, now_us, io_.vnet(pkt.buf));
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
  io_.release(pkt.buf);
}

void Worker::process_batch(const PacketRef* pkts, size_t n) {
  const uint64_t now = clock::now_us();  // one clock read per batch
  tcp_->set_now(now);
  for (size_t i = 0; i < n; ++i) handle(pkts[i], now);
  tcp_->flush_acks(now);
  tcp_->run_timers(now);
  stats_.batches.add();
  io_.flush();  // one submission for the whole batch
  in_use_.store(io_.buffers_in_use(), std::memory_order_relaxed);
}

void Worker::run_commands() {
  Command c;
  bool ran = false;
  while (inbox_.commands().try_dequeue(c)) {
    tcp_->set_now(clock::now_us());
    c(*tcp_);
    ran = true;
  }
  if (ran) {
    tcp_->reap_closed();
    io_.flush();
  }
}

uint64_t Worker::idle_timeout_us(uint64_t now_us) const {
  // Held --impair-out writes are due like timers.
  const uint64_t next = std::min(tcp_->next_timer_us(), io_.next_release_us());
  if (next <= now_us) return 1;
  return std::min(next - now_us, kMaxSleepUs);
}

void Worker::run() {
  io::Ring ring(opts_.ring_entries, opts_.sqpoll);
  // Registering the whole pool once lets every write be a WRITE_FIXED (no page pinning per
  // write). Without it (memlock limits) plain writes work the same, a little slower.
  if (!ring.register_region(io_.pool().region(), io_.pool().region_bytes()))
    log_debug("worker %u: buffer registration refused, using plain writes", index_);
  io_.attach(&ring);
  io_.enable_zero_copy(opts_.tx_zero_copy && !ring.sqpoll());
  tcp_ = std::make_unique<TcpStack>(index_, opts_, io_, stats_, isn_secret_, limits_,
                                    clock::now_us());
  tcp_->set_poster([this](uint32_t w, Command c) { directory_.at(w)->post(std::move(c)); });
  std::string err;
  for (const auto& svc : services::parse_service_list(opts_.services, err))
    tcp_->listen(svc.port, *services::factory_for(svc.name));
  if (client_result_) {
    const uint64_t now = clock::now_us();
    if (!tcp_->connect(opts_.connect_addr, opts_.connect_port,
                       make_client(client_plan_, *client_result_, now), now)) {
      client_result_->outcome = "no local port or connection slot";
      client_result_->state.store(2, std::memory_order_release);
    }
    io_.flush();
  }

  moodycamel::ConsumerToken token(inbox_.queue());
  std::vector<PacketRef> batch(opts_.batch);
  ready_.store(true, std::memory_order_release);
  while (true) {
    const size_t n = inbox_.queue().try_dequeue_bulk(token, batch.data(), batch.size());
    if (n > 0) {
      process_batch(batch.data(), n);
      if (inbox_.commands().size_approx() > 0) run_commands();
      continue;
    }
    run_commands();
    const uint64_t now = clock::now_us();
    tcp_->run_timers(now);
    io_.flush();
    if (stop_.load(std::memory_order_acquire) && inbox_.queue().size_approx() == 0) break;
    // Idle: block until a reader wakes us through the eventfd, a write completes, or the next
    // timer is due.
    if (io_.take_event()) eventfd_armed_ = false;
    if (!eventfd_armed_) {
      io_uring_sqe* sqe = ring.sqe();
      io_uring_prep_read(sqe, inbox_.eventfd_fd(), &eventfd_value_, sizeof eventfd_value_, 0);
      io_uring_sqe_set_data64(sqe, tag::kEvent);
      eventfd_armed_ = true;
    }
    if (opts_.busy_poll) continue;  // spin: the inbox, timers and completions again at once
    if (inbox_.prepare_sleep()) {
      stats_.sleeps.add();
      ring.submit_and_wait(idle_timeout_us(now));
      inbox_.end_sleep();
    }
    io_.reap();
  }
  // Shutdown: RST every open connection (as a process exit would), then drain the writes.
  tcp_->abort_all(clock::now_us());
  io_.flush_held();
  io_.flush();
  io_.drain(10000);
  io_.flush();
  tcp_.reset();
  io_.attach(nullptr);
  in_use_.store(io_.buffers_in_use(), std::memory_order_relaxed);
  log_debug("worker %u stopped", index_);
}

}  // namespace tuntcp::engine
