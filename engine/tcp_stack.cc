#include "engine/tcp_stack.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "engine/log.h"
#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/tcp/rst.h"
#include "proto/tcp/wire.h"

namespace tuntcp::engine {

namespace tcp = proto::tcp;

namespace {
// Payload from which a segment is written from the send ring rather than copied (TSO only).
constexpr size_t kZeroCopyMinPayload = 16384;
// Linux's default ephemeral port range (net.ipv4.ip_local_port_range).
constexpr uint32_t kEphemeralLo = 32768;
constexpr uint32_t kEphemeralHi = 60999;

}  // namespace

TcpStack::TcpStack(uint32_t worker, const Options& opts, PacketIo& io, WorkerStats& stats,
                   const tcp::SipKey& isn_secret, SharedLimits& limits, uint64_t now_us)
    : worker_(worker), opts_(opts), io_(io), stats_(stats), isn_(isn_secret), cookies_(isn_secret),
      memory_cap_(opts.max_memory_mb << 20), now_(now_us),
      // Flows are hashed, so any one worker may end up holding all of them.
      table_(opts.max_connections),
      wheel_(now_us), listeners_(65536), embryonic_(65536),
      next_ip_id_(static_cast<uint16_t>(worker * 7919 + 1)),
      limits_(limits) {
  to_destroy_.reserve(64);
}

TcpStack::~TcpStack() {
  // Sockets still open at destruction (abort_all not called): drop them without callbacks
  // into a half-destroyed stack.
  for (auto& s : slots_) {
    if (s) wheel_.cancel(s.get());
  }
}

bool TcpStack::take_connection_slot() {
  // A few atomics per connection set-up (never per packet).
  uint32_t n = limits_.connections.load(std::memory_order_relaxed);
  do {
    if (n >= opts_.max_connections) return false;
  } while (!limits_.connections.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  if (reserve_memory(conn_reservation())) return true;
  limits_.connections.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

bool TcpStack::reserve_memory(uint64_t bytes) {
  uint64_t used = limits_.buffer_bytes.load(std::memory_order_relaxed);
  do {
    if (!memory_fits(used, bytes)) return false;
  } while (!limits_.buffer_bytes.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

Socket* TcpStack::find(const proto::FlowKey& key) {
  const uint32_t slot = table_.find(key);
  return slot == ConnTable::kNone ? nullptr : slots_[slot].get();
}

void TcpStack::reap_closed() {
  for (Socket* x : to_destroy_) destroy(*x);
  to_destroy_.clear();
}

void TcpStack::listen(uint16_t port, AppFactory factory) { listeners_[port] = std::move(factory); }

tcp::Config TcpStack::config_for(const proto::FlowKey& key) const {
  tcp::Config c;
  c.local_addr = key.local_addr;
  c.remote_addr = key.remote_addr;
  c.local_port = key.local_port;
  c.remote_port = key.remote_port;
  c.mss = static_cast<uint16_t>(std::min<uint32_t>(opts_.mtu - 40, 65495));
  c.recv_buffer = opts_.rcvbuf;
  c.send_buffer = opts_.sndbuf;
  c.recv_buffer_max = opts_.rcvbuf_max;
  c.send_buffer_max = opts_.sndbuf_max;
  c.nodelay = opts_.nodelay;
  c.rto_min_us = opts_.min_rto_ms * 1000;
  c.challenge_ack_limit = opts_.challenge_ack_limit;
  c.time_wait_us = static_cast<uint64_t>(opts_.time_wait * 1e6);
  c.keepalive = opts_.keepalive;
  c.keepalive_idle_us = static_cast<uint64_t>(opts_.keepalive_idle * 1e6);
  c.keepalive_interval_us = static_cast<uint64_t>(opts_.keepalive_interval * 1e6);
  c.keepalive_count = opts_.keepalive_count;
  c.window_scaling = !opts_.no_wscale;
  c.timestamps = !opts_.no_timestamps;
  c.sack = !opts_.no_sack;
  c.cc = opts_.cc;
  c.coalesce_acks = opts_.ack_coalesce;
  // With offloads one emitted segment may carry up to 64 KB (TSO): the largest payload that
  // fits an IPv4 datagram with a 20-byte IP header and a 60-byte TCP header.
  if (opts_.offload) c.tso_max = 65535 - 20 - 60;
  // RFC 7323 5.4 / Linux: a random timestamp offset per connection, from the same keyed hash.
  c.ts_offset = isn_.isn(key.local_addr, key.local_port, key.remote_addr, key.remote_port, 0).raw() * 2654435761u;
  return c;
}

Socket* TcpStack::create(const proto::FlowKey& key, std::unique_ptr<App> app, uint16_t listener_port) {
  if (!take_connection_slot()) return nullptr;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  if (!table_.insert(key, slot)) {
    free_slots_.push_back(slot);
    limits_.connections.fetch_sub(1, std::memory_order_relaxed);
    limits_.buffer_bytes.fetch_sub(conn_reservation(), std::memory_order_relaxed);
    return nullptr;
  }
  slots_[slot] = std::make_unique<Socket>(*this, slot, key, config_for(key), std::move(app), listener_port,
                                          limits_.opens.fetch_add(1, std::memory_order_relaxed));
  stats_.tcp_conns_open.add();
  return slots_[slot].get();
}

void TcpStack::destroy(Socket& s) {
  wheel_.cancel(&s);
  if (s.ack_pending) std::erase(ack_pending_, &s);
  const tcp::Stats& st = s.conn().stats();
  add_conn_stats(st);
  if (log_enabled(LogLevel::kDebug)) {
    log_debug("worker %u: closed %s:%u <-> %s:%u in %s: in %llu B/%llu segs, out %llu B/%llu segs, "
              "retrans %llu, ooo %llu, dup %llu", worker_,
              proto::format_ipv4_addr(s.key().local_addr).c_str(), s.key().local_port,
              proto::format_ipv4_addr(s.key().remote_addr).c_str(), s.key().remote_port,
              tcp::state_name(s.conn().state()), static_cast<unsigned long long>(st.bytes_in),
              static_cast<unsigned long long>(st.segs_in), static_cast<unsigned long long>(st.bytes_out),
              static_cast<unsigned long long>(st.segs_out), static_cast<unsigned long long>(st.retransmits),
              static_cast<unsigned long long>(st.ooo_segments),
              static_cast<unsigned long long>(st.dup_segments));
  }
  if (s.embryonic) {
    --embryonic_[s.listener_port()];
    s.embryonic = false;
  }
  table_.erase(s.key());
  const uint32_t slot = s.slot();
  const uint64_t buffers = s.buffer_bytes();
  io_.quiesce_zero_copy();  // a queued write may still point into this socket's send ring
  slots_[slot].reset();
  free_slots_.push_back(slot);
  stats_.tcp_conns_open.sub();
  limits_.connections.fetch_sub(1, std::memory_order_relaxed);
  limits_.buffer_bytes.fetch_sub(buffers, std::memory_order_relaxed);
}

void TcpStack::add_conn_stats(const tcp::Stats& st) {
#define TUNTCP_X(n) stats_.tcp_##n.add(st.n);
  TUNTCP_TCP_CONN_COUNTERS(TUNTCP_X, )
#undef TUNTCP_X
}

void TcpStack::established(Socket& s) {
  if (s.embryonic) {
    --embryonic_[s.listener_port()];
    s.embryonic = false;
  }
  stats_.tcp_established.add();
}

void TcpStack::closed(Socket& s, tcp::CloseReason why) {
  switch (why) {
    case tcp::CloseReason::kNormal: stats_.tcp_closed_normal.add(); break;
    case tcp::CloseReason::kReset: stats_.tcp_closed_reset.add(); break;
    case tcp::CloseReason::kTimeout: stats_.tcp_closed_timeout.add(); break;
    case tcp::CloseReason::kAborted: stats_.tcp_closed_aborted.add(); break;
  }
  (void)s;
}

void TcpStack::settle(Socket& s) {
  s.notify_state();
  if (s.conn().state() == tcp::State::kClosed) {
    wheel_.cancel(&s);
    if (!s.linked() && std::find(to_destroy_.begin(), to_destroy_.end(), &s) == to_destroy_.end())
      to_destroy_.push_back(&s);
    return;
  }
  const uint64_t d = s.conn().next_deadline();
  if (d == tcp::kNever) {
    wheel_.cancel(&s);
  } else if (!s.linked() || s.deadline_us != d) {
    wheel_.schedule(&s, d);
  }
}

// Writes the IPv4 header in front of a TCP segment of `tcp_len` bytes already in buffer `id`
// and queues the datagram: the one place this stack finishes and sends a packet.
void TcpStack::send_ipv4(io::BufId id, uint32_t src, uint32_t dst, uint16_t ip_id, size_t tcp_len,
                         const io::VnetHdr& v, std::span<const uint8_t> in_place_a,
                         std::span<const uint8_t> in_place_b) {
  proto::Ipv4Repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = proto::ipproto::kTcp;
  ip.id = ip_id;
  ip.payload_len = static_cast<uint16_t>(tcp_len);
  proto::emit_ipv4(ip, io_.ip(id));
  stats_.tcp_segments_out.add();
  const size_t in_place = in_place_a.size() + in_place_b.size();
  if (in_place > 0) {
    io_.transmit_zero_copy(id, static_cast<uint32_t>(proto::kIpv4MinHeader + tcp_len - in_place),
                           in_place_a, in_place_b, v);
    return;
  }
  io_.transmit(id, static_cast<uint32_t>(proto::kIpv4MinHeader + tcp_len), v);
}

void TcpStack::emit(const Socket& s, const tcp::TcpRepr& h, std::span<const uint8_t> a,
                    std::span<const uint8_t> b) {
  const io::BufId id = io_.alloc_tx();
  if (id == io::kNoBuf) return;  // counted; TCP's retransmission covers the loss
  uint8_t* p = io_.ip(id);
  const size_t hl = tcp::header_len(h);
  const size_t payload = a.size() + b.size();
  const size_t total = proto::kIpv4MinHeader + hl + payload;
  if (total > io_.ip_capacity() || total > 65535) {
    log_error("worker %u: segment of %zu bytes exceeds the buffer size %u", worker_, total, io_.ip_capacity());
    io_.release(id);
    return;
  }
  uint8_t* tcp_hdr = p + proto::kIpv4MinHeader;
  uint8_t* data = tcp_hdr + hl;
  // A TSO super-segment goes out from the send ring itself (the kernel copies it once);
  // anything smaller is cheaper to copy than to give its own system call.
  const bool in_place = payload >= kZeroCopyMinPayload && io_.zero_copy();
  if (!in_place) {
    if (!a.empty()) std::memcpy(data, a.data(), a.size());
    if (!b.empty()) std::memcpy(data + a.size(), b.data(), b.size());
  }
  const uint32_t src = s.key().local_addr, dst = s.key().remote_addr;
  io::VnetHdr v;
  if (io_.vnet_hdr_len()) {
    // Checksum offload: the kernel takes the segment as CHECKSUM_PARTIAL, so we sum only the
    // header here and leave the pseudo-header sum in the field (virtio NEEDS_CSUM contract).
    if (tcp::emit_header(h, {tcp_hdr, hl}, src, dst) == 0) {
      io_.release(id);
      return;
    }
    const uint16_t pseudo = proto::csum::fold(
        proto::csum::pseudo_header_sum_v4(src, dst, proto::ipproto::kTcp, static_cast<uint16_t>(hl + payload)));
    proto::store_be16(tcp_hdr + 16, pseudo);
    v.flags = io::vnet::kNeedsCsum;
    v.csum_start = static_cast<uint16_t>(proto::kIpv4MinHeader);
    v.csum_offset = 16;
    // The segment size for this header's options (SACK blocks make it smaller than snd_mss).
    const uint32_t mss = s.conn().payload_mss(h.opt);
    if (payload > mss) {
      // TSO: the kernel takes this super-segment as MSS-sized segments (it delivers it whole
      // to its socket; GSO cuts it only if it has to leave the host).
      v.gso_type = io::vnet::kGsoTcpV4;
      v.gso_size = static_cast<uint16_t>(mss);
      v.hdr_len = static_cast<uint16_t>(proto::kIpv4MinHeader + hl);
    }
    if (in_place) {
      send_ipv4(id, src, dst, next_ip_id_++, hl + payload, v, a, b);
      return;
    }
  } else if (tcp::emit_header(h, {tcp_hdr, hl}, src, dst, {data, payload}) == 0) {
    io_.release(id);
    return;
  }
  send_ipv4(id, src, dst, next_ip_id_++, hl + payload, v);
}

void TcpStack::send_stateless(const tcp::TcpRepr& h, uint32_t src, uint32_t dst) {
  const io::BufId id = io_.alloc_tx();
  if (id == io::kNoBuf) return;
  uint8_t* p = io_.ip(id);
  const size_t hl = tcp::emit_header(h, {p + proto::kIpv4MinHeader, io_.ip_capacity() - proto::kIpv4MinHeader}, src, dst);
  if (hl == 0) {
    io_.release(id);
    return;
  }
  if (h.has(tcp::Flags::RST)) stats_.tcp_rst_sent.add();
  send_ipv4(id, src, dst, 0, hl, {});
}

void TcpStack::input(const proto::Ipv4View& ip, uint64_t now_us,
                     const io::VnetHdr& vnet) {
  now_ = now_us;
  const auto segment = ip.payload();
  stats_.tcp_segments_in.add();
  // With offloads the kernel marks what it already vouches for: its own unchecksummed segments
  // (NEEDS_CSUM, e.g. 64 KB super-segments) and verified ones (DATA_VALID).
  const bool csum_trusted = (vnet.flags & (io::vnet::kNeedsCsum | io::vnet::kDataValid)) != 0;
  if (!csum_trusted && !tcp::verify_checksum(segment, ip.src, ip.dst)) {
    stats_.drop(Drop::k_tcp_bad_checksum);
    return;
  }
  tcp::SegmentIn seg;
  if (tcp::parse(segment, seg.hdr, &seg.payload) != tcp::ParseError::kOk) {
    stats_.drop(Drop::k_tcp_malformed);
    return;
  }
  const proto::FlowKey key{ip.src, ip.dst, seg.hdr.src_port, seg.hdr.dst_port, proto::ipproto::kTcp};
  const uint32_t slot = table_.find(key);
  if (slot != ConnTable::kNone) {
    Socket& s = *slots_[slot];
    const tcp::Disposition d = s.conn().on_segment(seg, now_us);
    if (s.conn().ack_deferred() && !s.ack_pending) {
      s.ack_pending = true;
      ack_pending_.push_back(&s);
    }
    settle(s);
    if (d == tcp::Disposition::kReopen) {
      // RFC 9293 3.10.7.4: a new SYN for a connection in TIME-WAIT; the old one is closed now.
      reap_closed();
      handle_no_connection(seg.hdr, seg, ip, seg.payload.size());
    }
  } else {
    handle_no_connection(seg.hdr, seg, ip, seg.payload.size());
  }
  reap_closed();
}

void TcpStack::handle_no_connection(const tcp::TcpRepr& h, const tcp::SegmentIn& seg,
                                    const proto::Ipv4View& ip, size_t payload_len) {
  const AppFactory& listener = listeners_[h.dst_port];
  if (!listener) {
    // RFC 9293 3.10.7.1: CLOSED port.
    if (auto rst = tcp::reset_for_closed(h, payload_len)) {
      send_stateless(*rst, ip.dst, ip.src);
      stats_.tcp_refused.add();
    }
    return;
  }
  const bool bare_syn = h.has(tcp::Flags::SYN) && !h.has(tcp::Flags::ACK) && !h.has(tcp::Flags::RST);
  if (!bare_syn) {
    // The ACK of a cookie SYN-ACK (Linux cookie_v4_check(): an ACK without SYN or RST).
    const bool cookie_ack =
        h.has(tcp::Flags::ACK) && !h.has(tcp::Flags::SYN) && !h.has(tcp::Flags::RST);
    const bool cookies_live = opts_.syncookies == SynCookieMode::kAlways ||
                              (cookie_sent_ && now_ - last_cookie_us_ < tcp::kCookieLifetimeUs);
    if (cookie_ack && cookies_live) {
      if (accept_cookie(seg, ip, listener)) return;
      stats_.tcp_syncookies_failed.add();
    }
    // RFC 9293 3.10.7.2: LISTEN gets no connection from anything but a SYN.
    if (auto rst = tcp::reset_for_listen(h)) send_stateless(*rst, ip.dst, ip.src);
    return;
  }
  if (!admit(h, ip, payload_len)) return;
  const bool full = embryonic_[h.dst_port] >= opts_.backlog;
  if (opts_.syncookies == SynCookieMode::kAlways ||
      (full && opts_.syncookies == SynCookieMode::kOn)) {
    send_cookie(seg, ip);
    return;
  }
  if (full) {
    // Backlog full: drop the SYN, as Linux does without SYN cookies; the client retries.
    stats_.tcp_syn_backlog_drops.add();
    return;
  }
  accept(seg, ip, listener);
}

bool TcpStack::admit(const tcp::TcpRepr& h, const proto::Ipv4View& ip, size_t payload_len) {
  const uint32_t n = limits_.connections.load(std::memory_order_relaxed);
  const bool memory_ok =
      memory_fits(limits_.buffer_bytes.load(std::memory_order_relaxed), conn_reservation());
  if (n < opts_.max_connections && memory_ok) return true;
  // Refuse cleanly (the client sees ECONNREFUSED at once) rather than let it time out.
  if (n >= opts_.max_connections) {
    stats_.tcp_refused_max_conns.add();
  } else {
    stats_.tcp_refused_memory.add();
  }
  // A SYN gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>; a cookie's ACK <SEQ=SEG.ACK><CTL=RST>.
  if (auto rst = tcp::reset_for_closed(h, payload_len)) send_stateless(*rst, ip.dst, ip.src);
  return false;
}

void TcpStack::send_cookie(const tcp::SegmentIn& syn, const proto::Ipv4View& ip) {
  const tcp::TcpRepr& h = syn.hdr;
  const proto::FlowKey key{ip.src, ip.dst, h.src_port, h.dst_port, proto::ipproto::kTcp};
  const tcp::CookieTuple t{ip.dst, ip.src, h.dst_port, h.src_port};
  const uint32_t mss_index = tcp::SynCookies::mss_index(h.opt.mss.value_or(536));
  const tcp::Seq cookie = cookies_.make(t, h.seq, mss_index, now_);
  send_stateless(tcp::Connection::cookie_syn_ack(config_for(key), h, cookie, now_), ip.dst, ip.src);
  stats_.tcp_syncookies_sent.add();
  // Once per flood, as Linux's "Possible SYN flooding on port N. Sending cookies."
  if (opts_.syncookies == SynCookieMode::kOn &&
      (!cookie_sent_ || now_ - last_cookie_us_ >= tcp::kCookieLifetimeUs))
    log_warn("worker %u: backlog of port %u full (--backlog %u): possible SYN flood, sending SYN "
             "cookies", worker_, h.dst_port, opts_.backlog);
  cookie_sent_ = true;
  last_cookie_us_ = now_;
}

bool TcpStack::accept_cookie(const tcp::SegmentIn& ack, const proto::Ipv4View& ip,
                             const AppFactory& f) {
  const tcp::TcpRepr& h = ack.hdr;
  const tcp::CookieTuple t{ip.dst, ip.src, h.dst_port, h.src_port};
  const auto mss = cookies_.check(t, h.seq - 1, h.ack - 1, now_);
  if (!mss) return false;
  tcp::CookieOptions o;
  o.mss = *mss;
  if (h.opt.ts) tcp::decode_cookie_tsecr(h.opt.ts->ecr, o);
  stats_.tcp_syncookies_ok.add();
  if (!admit(h, ip, ack.payload.size())) return true;
  const proto::FlowKey key{ip.src, ip.dst, h.src_port, h.dst_port, proto::ipproto::kTcp};
  Socket* s = create(key, f(), h.dst_port);
  if (!s) return true;
  stats_.tcp_passive_opens.add();
  s->conn().accept_cookie(ack, o, now_);
  if (s->conn().ack_deferred() && !s->ack_pending) {
    s->ack_pending = true;
    ack_pending_.push_back(s);
  }
  settle(*s);
  return true;
}

void TcpStack::accept(const tcp::SegmentIn& syn, const proto::Ipv4View& ip, const AppFactory& f) {
  const proto::FlowKey key{ip.src, ip.dst, syn.hdr.src_port, syn.hdr.dst_port, proto::ipproto::kTcp};
  Socket* s = create(key, f(), syn.hdr.dst_port);
  if (!s) return;
  s->embryonic = true;
  ++embryonic_[syn.hdr.dst_port];
  stats_.tcp_passive_opens.add();
  s->conn().accept_syn(syn, isn_.isn(ip.dst, syn.hdr.dst_port, ip.src, syn.hdr.src_port, now_), now_);
  settle(*s);
}

bool TcpStack::connect(uint32_t remote, uint16_t port, std::unique_ptr<App> app, uint64_t now_us) {
  now_ = now_us;
  // Choose a source port whose flow hash maps to this worker, so the reader hands the replies
  // straight here (Seastar does the same), starting at a keyed-random place in the range.
  const uint32_t span = kEphemeralHi - kEphemeralLo + 1;
  const uint32_t start = isn_.isn(opts_.addr, 0, remote, port, now_us).raw() % span;
  for (uint32_t i = 0; i < span; ++i) {
    const uint16_t lport = static_cast<uint16_t>(kEphemeralLo + (start + i) % span);
    const proto::FlowKey key{remote, opts_.addr, port, lport, proto::ipproto::kTcp};
    if (proto::pick_shard(proto::flow_hash(key), opts_.workers) != worker_) continue;
    if (table_.find(key) != ConnTable::kNone) continue;
    Socket* s = create(key, std::move(app), 0);
    if (!s) break;
    stats_.tcp_active_opens.add();
    s->conn().connect(isn_.isn(opts_.addr, lport, remote, port, now_us), now_us);
    settle(*s);
    reap_closed();
    return true;
  }
  log_error("worker %u: no free local port or connection slot for %s:%u", worker_,
            proto::format_ipv4_addr(remote).c_str(), port);
  return false;
}

void TcpStack::flush_acks(uint64_t now_us) {
  now_ = now_us;
  for (Socket* s : ack_pending_) {
    s->ack_pending = false;
    s->conn().flush_acks(now_us);
    settle(*s);
  }
  ack_pending_.clear();
  reap_closed();
}

void TcpStack::run_timers(uint64_t now_us) {
  now_ = now_us;
  wheel_.advance(now_us, [&](TimerNode* n) {
    Socket& s = *static_cast<Socket*>(n);
    s.conn().on_timer(now_us);
    settle(s);
  });
  reap_closed();
}

std::string TcpStack::dump_connections() const {
  std::string out;
  char line[384];
  for (const auto& sp : slots_) {
    if (!sp) continue;
    const tcp::Connection& c = sp->conn();
    const auto& k = sp->key();
    const auto& st = c.stats();
    std::snprintf(line, sizeof line,
                  "  w%u %s:%u <-> %s:%u %-12s cwnd %u ssthresh %u srtt %.3f ms rto %.0f ms "
                  "inflight %u snd_wnd %u rcv_wnd %u in %llu B out %llu B retrans %llu\n",
                  worker_, proto::format_ipv4_addr(k.local_addr).c_str(), k.local_port,
                  proto::format_ipv4_addr(k.remote_addr).c_str(), k.remote_port,
                  tcp::state_name(c.state()), c.cwnd(), c.ssthresh(), c.rtt().srtt_us() / 1e3,
                  c.rto_us() / 1e3, c.snd_nxt() > c.snd_una() ? c.snd_nxt().since(c.snd_una()) : 0,
                  c.snd_wnd(), c.rcv_wnd(), static_cast<unsigned long long>(st.bytes_in),
                  static_cast<unsigned long long>(st.bytes_out),
                  static_cast<unsigned long long>(st.retransmits));
    out += line;
  }
  return out;
}

void TcpStack::abort_all(uint64_t now_us) {
  now_ = now_us;
  for (auto& sp : slots_) {
    if (!sp) continue;
    const auto st = sp->conn().state();
    stats_.tcp_state_at_exit[static_cast<size_t>(st)].add();
    // As when a process exits on Linux: connections the application had not closed get a
    // RST; ones whose FIN is already out (FIN-WAIT-2, CLOSING, LAST-ACK, TIME-WAIT) just go.
    const bool app_closed = st == tcp::State::kFinWait2 || st == tcp::State::kClosing ||
                            st == tcp::State::kLastAck || st == tcp::State::kTimeWait ||
                            st == tcp::State::kClosed;
    if (!app_closed) sp->conn().abort(now_us);
    settle(*sp);
  }
  for (auto& sp : slots_) {
    if (sp) destroy(*sp);
  }
  to_destroy_.clear();
}

}  // namespace tuntcp::engine
