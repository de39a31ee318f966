// Connection lifecycle, application calls and timers (RFC 9293 3.10.1-3.10.6, 3.10.8).
#include "proto/tcp/connection.h"

#include <algorithm>

namespace tuntcp::proto::tcp {

const char* state_name(State s) {
  switch (s) {
    case State::kClosed: return "CLOSED";
    case State::kListen: return "LISTEN";
    case State::kSynSent: return "SYN-SENT";
    case State::kSynReceived: return "SYN-RECEIVED";
    case State::kEstablished: return "ESTABLISHED";
    case State::kFinWait1: return "FIN-WAIT-1";
    case State::kFinWait2: return "FIN-WAIT-2";
    case State::kCloseWait: return "CLOSE-WAIT";
    case State::kClosing: return "CLOSING";
    case State::kLastAck: return "LAST-ACK";
    case State::kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

namespace {
// RFC 7323 2.3: the smallest shift that lets the window cover the receive buffer, at most 14.
uint8_t choose_wscale(uint32_t buffer) {
  uint8_t s = 0;
  while (s < 14 && (uint64_t{65535} << s) < buffer) ++s;
  return s;
}
Config sanitize(Config c) {
  c.recv_buffer = std::max<uint32_t>(c.recv_buffer, 1);
  c.send_buffer = std::max<uint32_t>(c.send_buffer, 1);
  c.recv_buffer_max = std::max(c.recv_buffer_max, c.recv_buffer);
  c.send_buffer_max = std::max(c.send_buffer_max, c.send_buffer);
  c.mss = std::max<uint16_t>(c.mss, 64);
  c.rto_min_us = std::max<uint64_t>(c.rto_min_us, 1000);
  c.rto_max_us = std::max(c.rto_max_us, c.rto_min_us);
  return c;
}
}  // namespace

Connection::Connection(const Config& cfg, Env& env)
    : cfg_(sanitize(cfg)),
      env_(env),
      send_ring_(cfg_.send_buffer),
      // The slack of one window-scale unit absorbs rounding the advertised window up. The
      // scale covers the largest the buffer may grow to.
      recv_ring_(cfg_.recv_buffer + (size_t{1} << choose_wscale(cfg_.recv_buffer_max))),
      rcvbuf_(cfg_.recv_buffer),
      ooo_(cfg_.max_ooo_ranges),
      our_wscale_(choose_wscale(cfg_.recv_buffer_max)),
      rtt_(cfg_.rto_initial_us, cfg_.rto_min_us, cfg_.rto_max_us),
      cc_(make_congestion_control(cfg_)),
      sb_(scoreboard_capacity(cfg_.send_buffer)) {}

Connection::~Connection() = default;

void Connection::set_state(State s) { state_ = s; }

void Connection::init_send(Seq iss) {
  iss_ = iss;
  snd_una_ = iss;
  snd_nxt_ = iss + 1;
  snd_max_ = iss + 1;
  ring_seq_ = iss + 1;
  snd_sml_ = iss;
  recover_ = iss;
  rtt_timing_ = true;  // time the SYN (Karn: dropped if it is retransmitted)
  rtt_seq_ = iss;
  rtt_start_ = now_;
}

void Connection::listen(Seq iss) {
  if (state_ != State::kClosed) return;
  listen_iss_ = iss;
  set_state(State::kListen);
}

void Connection::connect(Seq iss, uint64_t now_us) {
  if (state_ != State::kClosed) return;
  now_ = std::max(now_, now_us);
  init_send(iss);
  set_state(State::kSynSent);
  send_syn();
  arm_rto();
}

void Connection::accept_syn(const SegmentIn& syn, Seq iss, uint64_t now_us) {
  listen(iss);
  on_segment(syn, now_us);
}

TcpRepr Connection::cookie_syn_ack(const Config& config, const TcpRepr& syn, Seq cookie,
                                   uint64_t now_us) {
  const Config c = sanitize(config);
  TcpRepr h;
  h.src_port = syn.dst_port;
  h.dst_port = syn.src_port;
  h.seq = cookie;
  h.ack = syn.seq + 1;  // data on the SYN is not acknowledged, as in input_listen()
  h.flags = Flags::SYN | Flags::ACK;
  h.window = static_cast<uint16_t>(std::min<uint32_t>(c.recv_buffer, 65535));  // RFC 7323 2.2
  h.opt.mss = c.mss;
  // Window scale and SACK-permitted only when the TSval can carry them back (Linux clears
  // them for a cookie without timestamps): both sides must agree on them.
  if (c.timestamps && syn.opt.ts) {
    std::optional<uint8_t> ws;
    if (c.window_scaling && syn.opt.wscale) ws = std::min<uint8_t>(*syn.opt.wscale, 14);
    const bool sack = c.sack && syn.opt.sack_permitted;
    if (ws) h.opt.wscale = choose_wscale(c.recv_buffer_max);
    h.opt.sack_permitted = sack;
    const uint32_t ts_now = static_cast<uint32_t>(now_us / 1000) + c.ts_offset;  // as ts_now()
    h.opt.ts = Timestamps{cookie_tsval(ts_now, ws, sack), syn.opt.ts->val};
  }
  return h;
}

void Connection::accept_cookie(const SegmentIn& ack, const CookieOptions& syn_opts,
                               uint64_t now_us) {
  if (state_ != State::kClosed) return;
  now_ = std::max(now_, now_us);
  const TcpRepr& h = ack.hdr;
  // The SYN as far as the cookie remembers it; the ACK's TSval stands in for the SYN's, as
  // Linux's cookie_v4_check() takes it for ts_recent.
  TcpRepr syn;
  syn.seq = h.seq - 1;
  syn.opt.mss = syn_opts.mss;
  syn.opt.wscale = syn_opts.wscale;
  syn.opt.sack_permitted = syn_opts.sack;
  if (h.opt.ts) syn.opt.ts = Timestamps{h.opt.ts->val, 0};
  irs_ = syn.seq;
  rcv_nxt_ = h.seq;
  apply_syn_options(syn);
  init_send(h.ack - 1);
  // The SYN-ACK's send time is unknown and its TSval was rounded down: no RTT sample from this
  // handshake (Linux: snt_synack = 0 for a cookie request).
  rtt_timing_ = false;
  // What the SYN-ACK advertised (unscaled, RFC 7323 2.2) and acknowledged.
  rcv_adv_ = rcv_nxt_ + std::min<uint32_t>(rcvbuf_, 65535);
  last_ack_sent_ = rcv_nxt_;
  // RFC 9293 3.10.7.4 "fifth" in SYN-RECEIVED: the ACK acknowledges our SYN.
  snd_una_ = h.ack;
  snd_wnd_ = max_snd_wnd_ = static_cast<uint32_t>(h.window) << snd_wscale_;
  snd_wl1_ = h.seq;
  snd_wl2_ = h.ack;
  established();
  if (state_ == State::kClosed) return;
  on_segment(ack, now_);  // its data and FIN; a pure ACK changes nothing more
}

void Connection::finish(CloseReason why) {
  if (state_ == State::kClosed) return;
  set_state(State::kClosed);
  ooo_.clear();
  sack_.clear();
  sb_.clear();
  rtx_deadline_ = delack_deadline_ = persist_deadline_ = keepalive_deadline_ = linger_deadline_ = kNever;
  ack_now_ = false;
  writable_pending_ = false;
  env_.on_closed(why);
}

bool Connection::flush_acks(uint64_t now_us) {
  if (!ack_deferred_) return false;
  now_ = std::max(now_, now_us);
  ack_deferred_ = false;
  ack_now_ = true;
  output();  // data going out carries the ACK; otherwise a pure ACK
  return true;
}

void Connection::enter_time_wait() {
  set_state(State::kTimeWait);
  // RFC 9293 3.10.7.4 "eighth": start the time-wait timer (2 MSL), turn off the others.
  linger_deadline_ = now_ + cfg_.time_wait_us;
  rtx_deadline_ = persist_deadline_ = keepalive_deadline_ = kNever;
  ooo_.clear();
}

// ---------------------------------------------------------------------------------------------
// Application calls

size_t Connection::send(std::span<const uint8_t> data, uint64_t now_us) {
  now_ = std::max(now_, now_us);
  // RFC 9293 3.10.2: data may be queued before the connection is established.
  switch (state_) {
    case State::kSynSent:
    case State::kSynReceived:
    case State::kEstablished:
    case State::kCloseWait:
      break;
    default:
      return 0;
  }
  if (fin_queued_) return 0;
  size_t n = send_ring_.write(data);
  if (n < data.size()) send_blocked_ = true;
  if (!in_input_) output();
  return n;
}

size_t Connection::read(std::span<uint8_t> out, uint64_t now_us) {
  now_ = std::max(now_, now_us);
  size_t n = recv_ring_.read(out);
  if (n) {
    rcv_space_adjust();
    maybe_window_update();
  }
  return n;
}

void Connection::consume(size_t n, uint64_t now_us) {
  now_ = std::max(now_, now_us);
  if (recv_ring_.consume(n)) {
    rcv_space_adjust();
    maybe_window_update();
  }
}

// Linux tcp_cleanup_rbuf(): after the application reads, send a window update at once if the
// window would at least double (the receiver SWS rule still applies, see advertise_window()).
void Connection::maybe_window_update() {
  if (state_ != State::kEstablished && state_ != State::kFinWait1 && state_ != State::kFinWait2)
    return;
  uint32_t cur = rcv_wnd();
  if (uint64_t{2} * cur > rcvbuf_) return;
  uint32_t free = offerable_window();
  if (!window_may_advance(cur, free)) return;
  if (free >= 2 * uint64_t{cur}) {
    ack_now_ = true;
    if (!in_input_) output();
  }
}

void Connection::queue_fin() {
  if (fin_queued_) return;
  switch (state_) {
    case State::kSynSent:
    case State::kSynReceived:
      fin_queued_ = true;  // sent once established (RFC 9293 3.10.4)
      return;
    case State::kEstablished:
      set_state(State::kFinWait1);
      break;
    case State::kCloseWait:
      set_state(State::kLastAck);
      break;
    default:
      return;
  }
  fin_queued_ = true;
  if (!in_input_) output();
}

void Connection::close(uint64_t now_us) {
  now_ = std::max(now_, now_us);
  switch (state_) {
    case State::kClosed:
      return;
    case State::kListen:
    case State::kSynSent:
      finish(CloseReason::kNormal);  // RFC 9293 3.10.4: delete the TCB
      return;
    default:
      break;
  }
  user_closed_ = true;
  // Linux tcp_close(): unread received data means the application lost data: RST, not FIN.
  if (!recv_ring_.empty() && state_ != State::kTimeWait && state_ != State::kClosing &&
      state_ != State::kLastAck) {
    send_rst(snd_nxt_, rcv_nxt_, true);
    finish(CloseReason::kAborted);
    return;
  }
  if (state_ == State::kFinWait2 && linger_deadline_ == kNever)
    linger_deadline_ = now_ + cfg_.fin_wait2_timeout_us;
  queue_fin();
}

void Connection::shutdown_write(uint64_t now_us) {
  now_ = std::max(now_, now_us);
  if (state_ == State::kListen) {
    finish(CloseReason::kNormal);
    return;
  }
  queue_fin();
}

void Connection::abort(uint64_t now_us) {
  now_ = std::max(now_, now_us);
  switch (state_) {
    case State::kSynReceived:
    case State::kEstablished:
    case State::kFinWait1:
    case State::kFinWait2:
    case State::kCloseWait:
      // RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST> (Linux tcp_send_active_reset adds the ACK).
      send_rst(snd_nxt_, rcv_nxt_, true);
      break;
    default:
      break;
  }
  finish(CloseReason::kAborted);
}

// ---------------------------------------------------------------------------------------------
// Timers (RFC 9293 3.10.8)

uint64_t Connection::next_deadline() const {
  return std::min({rtx_deadline_, delack_deadline_, persist_deadline_, keepalive_deadline_,
                   linger_deadline_});
}

void Connection::on_timer(uint64_t now_us) {
  now_ = std::max(now_, now_us);
  if (linger_deadline_ <= now_) {
    linger_deadline_ = kNever;
    // TIME-WAIT over (RFC 9293 3.10.8), or the FIN-WAIT-2 timeout of a closed socket (Linux).
    finish(state_ == State::kTimeWait ? CloseReason::kNormal : CloseReason::kTimeout);
    return;
  }
  if (rtx_deadline_ <= now_) {
    rtx_deadline_ = kNever;
    switch (rtx_timer_) {
      case RtxTimer::kRto: on_rto(); break;
      case RtxTimer::kTlp: on_tlp(); break;
      case RtxTimer::kReo: on_reo_timeout(); break;
    }
    if (state_ == State::kClosed) return;
  }
  if (persist_deadline_ <= now_) {
    persist_deadline_ = kNever;
    on_persist();
    if (state_ == State::kClosed) return;
  }
  if (delack_deadline_ <= now_) {
    delack_deadline_ = kNever;
    if (state_ != State::kListen && state_ != State::kSynSent) send_ack();
  }
  if (keepalive_deadline_ <= now_) {
    keepalive_deadline_ = kNever;
    on_keepalive();
  }
}

void Connection::arm_rto() {
  rtx_deadline_ = now_ + rtt_.rto_us();
  rtx_timer_ = RtxTimer::kRto;
}

void Connection::arm_persist() {
  // RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: probe a zero window with exponential backoff.
  uint64_t t = rtt_.rto_us();
  for (uint32_t i = 0; i < persist_backoff_ && t < cfg_.rto_max_us; ++i) t *= 2;
  persist_deadline_ = now_ + std::min(t, cfg_.rto_max_us);
}

void Connection::arm_keepalive() {
  if (!cfg_.keepalive) return;
  if (state_ != State::kEstablished && state_ != State::kCloseWait) {
    keepalive_deadline_ = kNever;
    return;
  }
  keepalive_deadline_ = now_ + cfg_.keepalive_idle_us;
}

void Connection::on_persist() {
  if (!can_send_data() || data_end() <= snd_nxt_) return;
  Seq wnd_end = snd_una_ + snd_wnd_;
  if (wnd_end > snd_nxt_) {
    // Linux tcp_write_wakeup(): the window opened a little; send what fits.
    output();
    if (snd_nxt_ == snd_una_) {
      uint32_t len = std::min({wnd_end.since(snd_nxt_), data_end().since(snd_nxt_), current_mss()});
      if (sb_.full()) return;
      send_new(len, false);
      arm_rto();
    }
    return;
  }
  if (++probes_out_ > cfg_.data_retries) {
    finish(CloseReason::kTimeout);
    return;
  }
  send_probe();
  ++persist_backoff_;
  arm_persist();
}

// RFC 1122 4.2.3.6; Linux tcp_keepalive_timer(): probes only on an idle connection, RST after
// the last unanswered one.
void Connection::on_keepalive() {
  if (!cfg_.keepalive || (state_ != State::kEstablished && state_ != State::kCloseWait)) return;
  if (snd_max_ != snd_una_ || !send_ring_.empty()) {
    arm_keepalive();
    return;
  }
  if (ka_probes_ >= cfg_.keepalive_count) {
    send_rst(snd_nxt_, rcv_nxt_, true);
    finish(CloseReason::kTimeout);
    return;
  }
  ++ka_probes_;
  send_probe();
  keepalive_deadline_ = now_ + cfg_.keepalive_interval_us;
}

}  // namespace tuntcp::proto::tcp
