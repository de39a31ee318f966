// Segment output: SYNs, data and FIN, ACKs, RSTs and probes; the advertised window.
#include <algorithm>

#include "proto/tcp/connection.h"

namespace tuntcp::proto::tcp {

namespace {
constexpr uint32_t kTsOptionLen = 12;  // NOP NOP TS: what every segment carries with timestamps
}

uint32_t Connection::ts_now() const { return static_cast<uint32_t>(now_ / 1000) + cfg_.ts_offset; }

// The TSval for a segment going out now; remembers when the last segment with each recent value
// left (to the microsecond), so that the receiver's RTT measure can tell more than milliseconds.
uint32_t Connection::stamp_tsval() {
  const uint32_t v = ts_now();
  const size_t n = ts_sent_.size();
  TsSent& newest = ts_sent_[(ts_sent_next_ + n - 1) % n];
  if (ts_sent_n_ > 0 && newest.val == v) {
    newest.us = now_;
    return v;
  }
  ts_sent_[ts_sent_next_ % n] = TsSent{v, now_};
  ++ts_sent_next_;
  ts_sent_n_ = std::min(ts_sent_n_ + 1, n);
  return v;
}

// When the last segment carrying TSval `v` was sent, if it is among the recent ones.
std::optional<uint64_t> Connection::tsval_sent_us(uint32_t v) const {
  for (size_t i = 0; i < ts_sent_n_; ++i)
    if (ts_sent_[i].val == v) return ts_sent_[i].us;
  return std::nullopt;
}

uint32_t Connection::eff_rcv_mss() const {
  uint32_t m = cfg_.mss;
  return ts_ok_ && m > kTsOptionLen ? m - kTsOptionLen : m;
}

uint32_t Connection::recv_free() const {
  return rcvbuf_ > recv_ring_.size()
             ? rcvbuf_ - static_cast<uint32_t>(recv_ring_.size())
             : 0;
}

bool Connection::can_send_data() const {
  switch (state_) {
    case State::kEstablished:
    case State::kCloseWait:
    case State::kFinWait1:
    case State::kClosing:
    case State::kLastAck:
      return true;
    default:
      return false;
  }
}

// The largest window the receive buffer could offer now (what the window field can carry).
uint32_t Connection::offerable_window() const {
  return std::min(recv_free(), 65535u << rcv_wscale_);
}

// RFC 9293 3.8.6.2.2 (receiver SWS avoidance): the right edge moves from a window of `cur` to
// one of `free` only when it advances by at least min(half the buffer, one MSS).
bool Connection::window_may_advance(uint32_t cur, uint32_t free) const {
  return free >= cur + uint64_t{std::min(rcvbuf_ / 2, eff_rcv_mss())};
}

// The window field for an outgoing segment; commits the new right edge (RCV.NXT + RCV.WND).
uint16_t Connection::advertise_window() {
  uint32_t cur = rcv_wnd();
  uint32_t free = offerable_window();
  // The edge never moves left (RFC 9293 3.8.6), and right only past the SWS threshold.
  uint32_t wnd = window_may_advance(cur, free) ? free : cur;
  uint32_t unit = 1u << rcv_wscale_;
  // A new edge is rounded up to the scale unit; a kept one is rounded down, or the rounding
  // would creep the edge past the free space by up to a unit per ACK and the window would
  // never close while the application does not read (RFC 7323 Appendix F; Linux b650d953cd39).
  uint32_t field = wnd == cur && wnd != free ? wnd >> rcv_wscale_
                                             : static_cast<uint32_t>((uint64_t{wnd} + unit - 1) >> rcv_wscale_);
  field = std::min(field, 65535u);
  Seq edge = rcv_nxt_ + (field << rcv_wscale_);
  if (edge > rcv_adv_) rcv_adv_ = edge;
  return static_cast<uint16_t>(field);
}

// The SACK blocks the next segment carries, into `out` (room for kMaxSackBlocks). RFC 2018 3:
// while out-of-order data is queued (3 fit beside timestamps); RFC 2883 4: a pending D-SACK
// block first. Changes nothing a second call would see differently, so current_mss() can ask
// before the segment is cut and fill_options() gets the same blocks.
size_t Connection::sack_blocks(SackBlock* out, bool with_dsack) {
  if (!sack_ok_) return 0;
  const size_t max = ts_ok_ ? 3 : 4;
  size_t n = 0;
  if (dsack_pending_ && with_dsack) out[n++] = dsack_;
  if (!ooo_.empty()) n += sack_.build(ooo_, rcv_nxt_, max - n, out + n);
  return n;
}

uint32_t Connection::payload_mss(const TcpOptions& o) const {
  const auto opts = static_cast<uint32_t>(options_len(o));
  return eff_mss_ > opts ? eff_mss_ - opts : 1;
}

// The payload of the next data segment: the MSS less the options it will carry (Linux
// tcp_current_mss()). With nothing to SACK that is snd_mss_ (timestamps only, or nothing).
uint32_t Connection::current_mss() {
  if (!sack_ok_ || (ooo_.empty() && !dsack_pending_)) return snd_mss_;
  TcpOptions o;
  if (ts_ok_) o.ts = Timestamps{};
  o.sack_count = static_cast<uint8_t>(sack_blocks(o.sack.data(), true));
  return payload_mss(o);
}

void Connection::fill_options(TcpRepr& h) {
  // RFC 7323 3.2: once negotiated, every non-RST segment carries timestamps.
  if (ts_ok_) h.opt.ts = Timestamps{stamp_tsval(), ts_recent_};
  const bool dsack = dsack_pending_ && h.has(Flags::ACK);
  h.opt.sack_count = static_cast<uint8_t>(sack_blocks(h.opt.sack.data(), dsack));
  if (dsack && h.opt.sack_count > 0) {  // a D-SACK block goes once
    dsack_pending_ = false;
    ++stats_.dsacks_sent;
  }
}

void Connection::transmit(TcpRepr& h, TwoSpans p) {
  h.src_port = cfg_.local_port;
  h.dst_port = cfg_.remote_port;
  if (h.has(Flags::ACK)) {
    h.ack = rcv_nxt_;
    h.window = advertise_window();
    last_ack_sent_ = rcv_nxt_;
    ack_now_ = false;
    ack_deferred_ = false;
    delack_deadline_ = kNever;
  }
  fill_options(h);
  ++stats_.segs_out;
  env_.transmit(h, p.a, p.b);
}

void Connection::send_syn() {
  TcpRepr h;
  h.src_port = cfg_.local_port;
  h.dst_port = cfg_.remote_port;
  h.seq = iss_;
  h.flags = Flags::SYN;
  // RFC 7323 2.2: the window of a SYN is never scaled.
  h.window = static_cast<uint16_t>(std::min<uint32_t>(rcvbuf_, 65535));
  h.opt.mss = cfg_.mss;
  if (state_ == State::kSynSent) {
    if (cfg_.window_scaling) h.opt.wscale = our_wscale_;
    h.opt.sack_permitted = cfg_.sack;
    if (cfg_.timestamps) h.opt.ts = Timestamps{stamp_tsval(), 0};
  } else {
    // RFC 7323 1.3 / RFC 2018 2: a SYN-ACK carries only the options the SYN offered.
    h.flags |= Flags::ACK;
    h.ack = rcv_nxt_;
    if (ws_ok_) h.opt.wscale = our_wscale_;
    h.opt.sack_permitted = sack_ok_;
    if (ts_ok_) h.opt.ts = Timestamps{stamp_tsval(), ts_recent_};
    last_ack_sent_ = rcv_nxt_;
    Seq edge = rcv_nxt_ + h.window;
    if (edge > rcv_adv_) rcv_adv_ = edge;
  }
  ++stats_.segs_out;
  env_.transmit(h, {}, {});
}

void Connection::send_ack() {
  TcpRepr h;
  h.seq = snd_nxt_;
  h.flags = Flags::ACK;
  transmit(h, {});
}

// A segment the peer must answer with an ACK (Linux tcp_xmit_probe_skb): an old sequence
// number and no data. Used for zero-window probes and keepalives.
void Connection::send_probe() {
  TcpRepr h;
  h.seq = snd_una_ - 1;
  h.flags = Flags::ACK;
  transmit(h, {});
}

// RFC 5961 7: at most challenge_ack_limit challenge ACKs per second.
void Connection::send_challenge_ack() {
  if (now_ - challenge_window_start_ >= 1'000'000 || now_ < challenge_window_start_) {
    challenge_window_start_ = now_;
    challenge_count_ = 0;
  }
  if (challenge_count_ >= cfg_.challenge_ack_limit) return;
  ++challenge_count_;
  ++stats_.challenge_acks;
  send_ack();
}

// Linux tcp_oow_rate_limited(): answer out-of-window pure ACKs at most once per interval.
bool Connection::oow_ack_rate_limited() {
  if (sent_oow_ack_ && now_ - last_oow_ack_ < cfg_.oow_ack_interval_us) return true;
  sent_oow_ack_ = true;
  last_oow_ack_ = now_;
  return false;
}

void Connection::send_rst(Seq seq, Seq ack, bool with_ack) {
  TcpRepr h;
  h.src_port = cfg_.local_port;
  h.dst_port = cfg_.remote_port;
  h.seq = seq;
  h.flags = Flags::RST;
  if (with_ack) {
    h.flags |= Flags::ACK;
    h.ack = ack;
  }
  ++stats_.segs_out;
  ++stats_.rst_sent;
  env_.transmit(h, {}, {});
}

void Connection::send_data(Seq seq, uint32_t len, bool fin) {
  TcpRepr h;
  h.seq = seq;
  h.flags = Flags::ACK;
  if (fin) h.flags |= Flags::FIN;
  if (len > 0 && seq + len == data_end()) h.flags |= Flags::PSH;
  Seq end = seq + len + (fin ? 1 : 0);
  if (seq < snd_max_) ++stats_.retransmits;
  if (end > snd_max_) snd_max_ = end;
  // Linux tcp_minshall_update(): a segment shorter than what fitted counts as small.
  if (len < snd_mss_ && seq + len > snd_sml_ && len < current_mss()) snd_sml_ = seq + len;
  if (fin) fin_sent_ = true;
  stats_.bytes_out += len;
  transmit(h, send_ring_.peek(seq.since(ring_seq_), len));
}

// A first transmission at SND.NXT, recorded in the scoreboard (the caller checked it has room).
void Connection::send_new(uint32_t len, bool fin) {
  Seq seq = snd_nxt_;
  // Linux CA_EVENT_TX_START: the first segment after an idle period with nothing in flight.
  if (sb_.empty() && last_send_ != 0 && now_ > last_send_) cc_->on_idle_restart(now_ - last_send_, now_);
  send_data(seq, len, fin);
  sb_.on_send(seq, len, fin, now_);
  snd_nxt_ = seq + len + (fin ? 1 : 0);
  last_send_ = now_;
  if (ca_state_ == CaState::kRecovery) prr_out_ += len + (fin ? 1 : 0);
}

// Scoreboard record i again (fast retransmit, partial ACK, RTO, RACK, TLP). A small record
// absorbs the lost ones after it first (Linux tcp_retrans_try_collapse()).
bool Connection::retransmit(size_t i) {
  // Cut to what fits beside this segment's options, as a first transmission is.
  const uint32_t mss = current_mss();
  if (sb_.at(i).len < mss) sb_.collapse(i, mss);
  // A lost TSO super-segment goes again one MSS at a time (Linux tcp_retransmit_skb() fragments
  // to the current MSS): cwnd after a loss covers a few segments, not 64 KB.
  if (sb_.at(i).len > mss) sb_.split(i, mss);
  const TxSegment& r = sb_.at(i);
  // Linux __tcp_retransmit_skb(): nothing beyond a shrunk window except the head.
  if (r.seq >= snd_una_ + snd_wnd_ && r.seq != snd_una_) return false;
  send_data(r.seq, r.len, r.fin);
  uint32_t l = r.seg_len();
  sb_.on_retransmit(i, now_);
  if (ca_state_ == CaState::kRecovery) prr_out_ += l;
  // Linux tcp_retransmit_skb(): count retransmissions a D-SACK may later show spurious.
  if (undo_retrans_ < 0) undo_retrans_ = 0;
  ++undo_retrans_;
  // Linux retrans_stamp: the TSval of the first retransmission of the episode (Eifel).
  if (!retrans_ts_set_) {
    retrans_ts_ = ts_now();
    retrans_ts_set_ = true;
  }
  last_send_ = now_;
  return true;
}

// The first unacknowledged segment again, window or not.
void Connection::retransmit_head() {
  if (!sb_.empty()) retransmit(0);
}

// Payload of the largest segment output() may emit: one MSS, or a multiple of it with TSO.
uint32_t Connection::max_segment(uint32_t mss) const {
  if (cfg_.tso_max <= mss || mss == 0) return mss;
  return cfg_.tso_max / mss * mss;
}

// What cwnd is compared with: RFC 6675 pipe, except during NewReno recovery, where RFC 5681
// 3.2 and RFC 6582 work with FlightSize and an inflated window.
uint32_t Connection::in_flight() const {
  if (!sack_ok_ && ca_state_ == CaState::kRecovery) return flight_size();
  return sb_.pipe();
}

// Sends what the windows, Nagle and sender SWS avoidance allow, then a pending ACK if no
// segment carried it, and keeps the persist timer in step.
void Connection::output() {
  if (state_ == State::kClosed || state_ == State::kListen || state_ == State::kSynSent) return;
  if (!can_send_data()) {
    if (ack_now_ && state_ != State::kSynReceived) send_ack();
    return;
  }
  bool sent_any = false;
  // RFC 6675 5 (NextSeg rule 1) and RFC 5681 3.1 after an RTO: segments deemed lost go first,
  // while cwnd - pipe leaves room for them.
  for (;;) {
    size_t i = sb_.next_lost();
    if (i == SackScoreboard::kNone) break;
    uint32_t need = std::min(sb_.at(i).seg_len(), current_mss());
    uint32_t inflight = in_flight();
    uint32_t cwnd = cc_->cwnd();
    if (inflight >= cwnd || cwnd - inflight < need) break;
    if (!retransmit(i)) break;
    sent_any = true;
  }
  // RFC 3042 limited transmit (without SACK; with SACK the SACKed bytes leave the pipe): the
  // first two duplicate ACKs each let one new segment out beyond cwnd.
  uint32_t limited = !sack_ok_ && ca_state_ == CaState::kOpen && dupacks_ > 0 && dupacks_ < 3
                         ? dupacks_ * snd_mss_
                         : 0;
  bool new_data = false;
  for (;;) {
    Seq de = data_end();
    uint32_t unsent = de > snd_nxt_ ? de.since(snd_nxt_) : 0;
    bool fin_pending = fin_queued_ && snd_nxt_ <= de;
    if (unsent == 0 && !fin_pending) break;
    Seq wnd_end = snd_una_ + snd_wnd_;
    uint32_t wnd_avail = wnd_end > snd_nxt_ ? wnd_end.since(snd_nxt_) : 0;
    if (sb_.full()) break;
    uint32_t flight = in_flight();
    uint32_t cwnd = cc_->cwnd() + limited;
    uint32_t cwnd_avail = cwnd > flight ? cwnd - flight : 0;
    const uint32_t mss = current_mss();  // less this segment's SACK blocks
    uint32_t want = std::min(unsent, max_segment(mss));
    // Congestion-limited: wait for ACKs rather than cut a short segment.
    if (cwnd_avail < std::min(want, mss)) break;
    uint32_t len = std::min({want, wnd_avail, cwnd_avail});
    // A super-segment carries only full-sized segments, except at the end of the data.
    if (len > mss && len < unsent) len -= len % mss;
    bool fin = fin_pending && len == unsent;
    if (len == 0 && !fin) break;
    if (len > 0 && len < mss && !fin) {
      if (len < unsent) {
        // RFC 1122 4.2.3.4 sender SWS avoidance: a window-limited piece goes only if it is at
        // least half the largest window the peer offered.
        if (len < max_snd_wnd_ / 2) break;
      } else if (!cfg_.nodelay && flight_size() > 0 && snd_sml_ > snd_una_) {
        // RFC 9293 3.7.4 Nagle, with Minshall's refinement as in Linux tcp_minshall_check():
        // hold a small segment only while another small segment is unacknowledged.
        break;
      }
    }
    send_new(len, fin);
    if (rtx_deadline_ == kNever) arm_rto();
    sent_any = new_data = true;
  }
  // RFC 8985 7.2 / Linux tcp_write_xmit(): new data in flight: (re)schedule the loss probe.
  if (new_data) schedule_tlp();
  if (!sent_any && ack_now_) send_ack();
  // RFC 9293 3.8.6.1: data waiting, nothing in flight to bring an ACK: the persist timer.
  bool waiting = data_end() > snd_nxt_ && snd_nxt_ == snd_una_ && rtx_deadline_ == kNever;
  if (waiting) {
    if (persist_deadline_ == kNever) arm_persist();
  } else if (persist_deadline_ != kNever) {
    persist_deadline_ = kNever;
    persist_backoff_ = 0;
  }
}

}  // namespace tuntcp::proto::tcp
