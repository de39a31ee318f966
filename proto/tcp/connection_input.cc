// Segment arrival: RFC 9293 3.10.7 in its order (with RFC 5961, RFC 7323, RFC 5681, RFC 6582).
#include <algorithm>

#include "proto/tcp/connection.h"
#include "proto/tcp/rst.h"

namespace tuntcp::proto::tcp {

namespace {
constexpr uint64_t kPawsIdleUs = 24ull * 24 * 3600 * 1'000'000;  // RFC 7323 5.5: 24 days
}

Disposition Connection::on_segment(const SegmentIn& seg, uint64_t now_us) {
  now_ = std::max(now_, now_us);
  ++stats_.segs_in;
  Disposition d = Disposition::kKeep;
  in_input_ = true;
  switch (state_) {
    case State::kClosed:
      // RFC 9293 3.10.7.1
      if (auto r = reset_for_closed(seg.hdr, seg.payload.size())) {
        ++stats_.segs_out;
        ++stats_.rst_sent;
        env_.transmit(*r, {}, {});
      }
      break;
    case State::kListen:
      input_listen(seg);
      break;
    case State::kSynSent:
      input_syn_sent(seg);
      break;
    default:
      d = input_synchronized(seg);
      break;
  }
  in_input_ = false;
  if (state_ == State::kClosed || state_ == State::kListen) return d;
  if (writable_pending_) {
    writable_pending_ = false;
    env_.on_writable();
    if (state_ == State::kClosed) return d;
  }
  output();
  return d;
}

// RFC 9293 3.7.1, RFC 7323 1.3 and 2.2-2.3, RFC 2018 2: what the peer's SYN offered.
void Connection::apply_syn_options(const TcpRepr& syn) {
  peer_mss_ = syn.opt.mss ? std::max<uint16_t>(*syn.opt.mss, 64) : 536;
  ws_ok_ = cfg_.window_scaling && syn.opt.wscale.has_value();
  snd_wscale_ = ws_ok_ ? std::min<uint8_t>(*syn.opt.wscale, 14) : 0;
  rcv_wscale_ = ws_ok_ ? our_wscale_ : 0;
  ts_ok_ = cfg_.timestamps && syn.opt.ts.has_value();
  if (ts_ok_) {
    ts_recent_ = syn.opt.ts->val;
    ts_recent_stamp_ = now_;
  }
  sack_ok_ = cfg_.sack && syn.opt.sack_permitted;
  // Linux tcp_sync_mss(): the payload size is the smaller MSS less the timestamp option.
  eff_mss_ = std::min<uint32_t>(peer_mss_, cfg_.mss);
  snd_mss_ = ts_ok_ ? eff_mss_ - 12 : eff_mss_;
  if (cfg_.tso_max > snd_mss_) sb_.set_split_unit(snd_mss_);
  // Linux tcp_initialize_rcv_mss(): a conservative first guess of the peer's segment size.
  rcv_mss_ = std::clamp<uint32_t>(std::min(eff_rcv_mss(), snd_mss_), 88, 536);
}

void Connection::established() {
  set_state(fin_queued_ ? State::kFinWait1 : State::kEstablished);
  cc_->init(snd_mss_);
  if (syn_retransmitted_) rtt_.fallback_after_syn_loss();
  retries_ = 0;
  rtx_deadline_ = kNever;
  arm_keepalive();
  env_.on_established();
}

// RFC 9293 3.10.7.2
void Connection::input_listen(const SegmentIn& seg) {
  const TcpRepr& h = seg.hdr;
  if (h.has(Flags::RST)) return;
  if (h.has(Flags::ACK)) {
    send_rst(h.ack, Seq(0), false);
    return;
  }
  if (!h.has(Flags::SYN)) return;
  irs_ = h.seq;
  rcv_nxt_ = h.seq + 1;
  rcv_adv_ = rcv_nxt_;
  apply_syn_options(h);
  init_send(listen_iss_);
  // RFC 7323 2.2: the window of a SYN is not scaled.
  snd_wnd_ = max_snd_wnd_ = h.window;
  snd_wl1_ = h.seq;
  snd_wl2_ = iss_;
  set_state(State::kSynReceived);
  // Data on a SYN is not acknowledged (no TCP Fast Open, as Linux without a cookie).
  send_syn();
  arm_rto();
}

// RFC 9293 3.10.7.3
void Connection::input_syn_sent(const SegmentIn& seg) {
  const TcpRepr& h = seg.hdr;
  if (h.has(Flags::ACK) && (h.ack <= iss_ || h.ack > snd_max_)) {
    if (!h.has(Flags::RST)) send_rst(h.ack, Seq(0), false);
    return;
  }
  if (h.has(Flags::RST)) {
    // RFC 5961 3.2 / RFC 9293: only a RST whose ACK acknowledges our SYN resets the connection.
    if (h.has(Flags::ACK)) finish(CloseReason::kReset);
    return;
  }
  if (!h.has(Flags::SYN)) return;
  irs_ = h.seq;
  rcv_nxt_ = h.seq + 1;
  apply_syn_options(h);
  rcv_adv_ = rcv_nxt_ + std::min<uint32_t>(rcvbuf_, 65535);
  last_ack_sent_ = rcv_nxt_;
  snd_wnd_ = max_snd_wnd_ = h.window;  // RFC 7323 2.2: unscaled in a SYN
  snd_wl1_ = h.seq;
  if (h.has(Flags::ACK)) {
    snd_wl2_ = h.ack;
    take_rtt_sample(h, h.ack, -1);
    snd_una_ = h.ack;
    established();
    if (state_ == State::kClosed) return;
    ack_now_ = true;  // RFC 9293: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    return;
  }
  // Simultaneous open (RFC 9293 3.5, figure 7): SYN-RECEIVED, send SYN,ACK with the same ISS.
  snd_wl2_ = iss_;
  set_state(State::kSynReceived);
  send_syn();
  arm_rto();
}

// RFC 7323 5.3 R1 (PAWS). Returns false if the segment must be dropped.
bool Connection::check_paws(const SegmentIn& seg) {
  const TcpRepr& h = seg.hdr;
  if (!ts_ok_ || !h.opt.ts || h.has(Flags::RST)) return true;
  if (static_cast<int32_t>(h.opt.ts->val - ts_recent_) >= 0) return true;
  // RFC 7323 5.5: TS.Recent idle for more than 24 days is no longer valid.
  if (now_ - ts_recent_stamp_ > kPawsIdleUs) {
    ts_recent_ = h.opt.ts->val;
    ts_recent_stamp_ = now_;
    return true;
  }
  ++stats_.paws_drops;
  bool pure = seg.payload.empty() && !h.has(Flags::SYN) && !h.has(Flags::FIN);
  if (!pure || !oow_ack_rate_limited()) send_ack();
  return false;
}

// RFC 9293 3.10.7.4 "first": the four cases of segment acceptability. As RFC 9293 asks, a
// zero window still accepts a segment starting at RCV.NXT so that its ACK and RST are seen
// (the data is then trimmed away, as Linux tcp_sequence() does).
bool Connection::acceptable(const TcpRepr& h, uint32_t payload_len) const {
  uint32_t len = h.seg_len(payload_len);
  uint32_t wnd = rcv_wnd();
  if (wnd == 0) return h.seq == rcv_nxt_;
  Seq end = rcv_nxt_ + wnd;
  if (len == 0) return seq_in(rcv_nxt_, h.seq, end);
  return seq_in(rcv_nxt_, h.seq, end) || seq_in(rcv_nxt_, h.seq + len - 1, end);
}

// RFC 9293 3.10.7.4 "second" with RFC 5961 3.2.
void Connection::handle_rst(const TcpRepr& h) {
  if (h.seq != rcv_nxt_) {
    send_challenge_ack();  // in the window but not exact
    return;
  }
  switch (state_) {
    case State::kClosing:
    case State::kLastAck:
    case State::kTimeWait:
      finish(CloseReason::kNormal);
      break;
    default:
      finish(CloseReason::kReset);
      break;
  }
}

Disposition Connection::input_synchronized(const SegmentIn& seg) {
  const TcpRepr& h = seg.hdr;
  uint32_t plen = static_cast<uint32_t>(std::min<size_t>(seg.payload.size(), 0x7fffffff));
  bool bare_syn = h.has(Flags::SYN) && !h.has(Flags::ACK) && !h.has(Flags::RST);

  // A retransmitted SYN in SYN-RECEIVED: our SYN,ACK was lost (Linux tcp_check_req()).
  if (state_ == State::kSynReceived && bare_syn && h.seq == irs_) {
    ++stats_.retransmits;
    send_syn();
    return Disposition::kKeep;
  }
  // RFC 9293 3.10.7.4 / RFC 6191: a new SYN in TIME-WAIT whose sequence number (or timestamp)
  // is beyond the old incarnation may start a new connection.
  if (state_ == State::kTimeWait && bare_syn) {
    bool newer = ts_ok_ && h.opt.ts ? static_cast<int32_t>(h.opt.ts->val - ts_recent_) > 0
                                    : h.seq > rcv_nxt_;
    if (newer) {
      finish(CloseReason::kNormal);
      return Disposition::kReopen;
    }
  }
  if (!check_paws(seg)) return Disposition::kKeep;

  // "first": sequence number.
  if (!acceptable(h, plen)) {
    if (h.has(Flags::RST)) return Disposition::kKeep;
    if (h.has(Flags::SYN)) {
      send_challenge_ack();  // RFC 5961 4.2: SYN in a synchronized state
      return Disposition::kKeep;
    }
    if (plen > 0) {
      ++stats_.dup_segments;
      if (h.seq < rcv_nxt_) note_duplicate(h.seq, seq_min(h.seq + plen, rcv_nxt_));
    }
    // TIME-WAIT: a retransmitted FIN restarts the 2 MSL timer (RFC 9293 3.10.7.4 "eighth").
    if (state_ == State::kTimeWait && h.has(Flags::FIN))
      linger_deadline_ = now_ + cfg_.time_wait_us;
    bool pure = plen == 0 && !h.has(Flags::FIN);
    if (!pure || !oow_ack_rate_limited()) send_ack();
    return Disposition::kKeep;
  }
  // "second": RST.
  if (h.has(Flags::RST)) {
    handle_rst(h);
    return Disposition::kKeep;
  }
  // "fourth": SYN. RFC 5961 4.2: challenge ACK, whatever the sequence number.
  if (h.has(Flags::SYN)) {
    send_challenge_ack();
    return Disposition::kKeep;
  }
  // "fifth": ACK. RFC 9293: without ACK the segment is dropped.
  if (!h.has(Flags::ACK)) return Disposition::kKeep;

  if (!process_ack(seg, plen)) return Disposition::kKeep;
  // RFC 7323 4.3 R3: TS.Recent follows the segment covering Last.ACK.sent. Only once the ACK
  // passed the RFC 5961 5.2 check (Linux tcp_ack() -> tcp_replace_ts_recent()): a blind
  // segment with a bad ACK must not plant a TSval that PAWS then holds against the real peer.
  if (ts_ok_ && h.opt.ts && static_cast<int32_t>(h.opt.ts->val - ts_recent_) >= 0 &&
      h.seq <= last_ack_sent_) {
    ts_recent_ = h.opt.ts->val;
    ts_recent_stamp_ = now_;
  }
  if (state_ == State::kClosed) return Disposition::kKeep;
  ka_probes_ = 0;
  arm_keepalive();

  // "sixth": URG. The urgent pointer is ignored and urgent bytes stay in the stream (RFC 6093
  // recommends in-line delivery), so nothing is lost.
  // "seventh" and "eighth": text and FIN.
  bool fin = h.has(Flags::FIN);
  if (state_ != State::kEstablished && state_ != State::kFinWait1 && state_ != State::kFinWait2)
    return Disposition::kKeep;  // after the peer's FIN: ignore text (RFC 9293 "seventh")
  Seq seq = h.seq;
  std::span<const uint8_t> payload = seg.payload.first(plen);
  Seq end = seq + plen;
  // Linux tcp_rcv_state_process(): new data after close() aborts (the application is gone).
  if (user_closed_ && plen > 0 && end > rcv_nxt_) {
    send_rst(h.ack, Seq(0), false);
    finish(CloseReason::kAborted);
    return Disposition::kKeep;
  }
  if (seq < rcv_nxt_) {  // trim what was already received
    uint32_t cut = rcv_nxt_.since(seq);
    if (!payload.empty()) note_duplicate(seq, seq_min(end, rcv_nxt_));
    if (cut >= payload.size()) {
      if (end < rcv_nxt_) fin = false;  // the FIN was already processed
      payload = {};
    } else {
      payload = payload.subspan(cut);
    }
    seq = rcv_nxt_;
  }
  // Trim to the window (and to what the receive buffer can take).
  uint32_t room = std::min<uint32_t>(rcv_wnd(), static_cast<uint32_t>(recv_ring_.free()));
  Seq right = rcv_nxt_ + room;
  if (seq + static_cast<uint32_t>(payload.size()) > right) {
    payload = right > seq ? payload.first(right.since(seq)) : std::span<const uint8_t>{};
    fin = false;
    ack_now_ = true;  // data beyond the window was dropped: tell the sender where we are
  }
  if (!payload.empty() && seq == rcv_nxt_) rcv_rtt_measure(h, static_cast<uint32_t>(payload.size()));
  process_text(seq, payload, fin);
  return Disposition::kKeep;
}

void Connection::update_send_window(const TcpRepr& h) {
  // RFC 9293 3.10.7.4 "fifth": only a segment newer than the last window update moves it.
  if (snd_wl1_ < h.seq || (snd_wl1_ == h.seq && snd_wl2_ <= h.ack)) {
    snd_wnd_ = static_cast<uint32_t>(h.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
  }
}

// seq_rtt_us: the scoreboard's measurement (time since the oldest newly acknowledged segment
// that was never retransmitted), which Linux prefers to timestamps; -1 if none. Returns the
// sample taken, or -1.
int64_t Connection::take_rtt_sample(const TcpRepr& h, Seq ack, int64_t seq_rtt_us) {
  if (seq_rtt_us >= 0) {
    rtt_.sample(static_cast<uint64_t>(seq_rtt_us));
    rtt_timing_ = false;
    min_rtt_ = std::min(min_rtt_, static_cast<uint64_t>(seq_rtt_us));
    return seq_rtt_us;
  }
  // RFC 7323 4.1-4.2: the echoed timestamp times the segment, retransmitted or not.
  if (ts_ok_ && h.opt.ts && h.opt.ts->ecr != 0) {
    uint32_t ms = ts_now() - h.opt.ts->ecr;
    if (uint64_t{ms} * 1000 <= cfg_.rto_max_us) {
      rtt_.sample(uint64_t{ms} * 1000);
      rtt_timing_ = false;
      min_rtt_ = std::min(min_rtt_, uint64_t{ms} * 1000);
      return int64_t{ms} * 1000;
    }
  }
  // RFC 6298 3 (Karn): the timed SYN was never retransmitted.
  if (rtt_timing_ && ack > rtt_seq_) {
    uint64_t r = now_ - rtt_start_;
    rtt_.sample(r);
    rtt_timing_ = false;
    min_rtt_ = std::min(min_rtt_, r);
    return static_cast<int64_t>(r);
  }
  return -1;
}

bool Connection::process_ack(const SegmentIn& seg, uint32_t plen) {
  const TcpRepr& h = seg.hdr;
  Seq ack = h.ack;
  if (state_ == State::kSynReceived) {
    // RFC 9293 3.10.7.4 "fifth", SYN-RECEIVED.
    if (!(snd_una_ < ack && ack <= snd_max_)) {
      send_rst(ack, Seq(0), false);
      return false;
    }
    take_rtt_sample(h, ack, -1);
    snd_una_ = ack;
    snd_wnd_ = static_cast<uint32_t>(h.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = h.seq;
    snd_wl2_ = ack;
    established();
    if (state_ == State::kClosed) return false;
  }
  // RFC 9293: an ACK of something not yet sent gets an ACK and is dropped. RFC 5961 5.2: so
  // does one older than the largest window the peer could know about (Linux also bounds it by
  // the bytes acked so far).
  if (ack > snd_max_) {
    send_challenge_ack();
    return false;
  }
  uint32_t bound = std::min(max_snd_wnd_, snd_una_.since(iss_));
  if (ack < snd_una_ - bound) {
    send_challenge_ack();
    return false;
  }
  if (ack < snd_una_) {
    // An old ACK (overtaken on the path): its ACK field is ignored, its text kept. Its SACK
    // blocks still count (Linux tcp_ack() tags them too): a D-SACK in it may prove a
    // retransmission spurious, and losing those under reordering would leave undo undone.
    if (sack_ok_ && h.opt.sack_count > 0) sender_ack(h, ack, false);
    return state_ != State::kClosed;
  }

  probes_out_ = 0;
  uint32_t wnd = static_cast<uint32_t>(h.window) << snd_wscale_;
  // RFC 5681 2: the five conditions of a duplicate ACK.
  bool dup = ack == snd_una_ && plen == 0 && !h.has(Flags::FIN) && wnd == snd_wnd_ &&
             snd_max_ != snd_una_;
  update_send_window(h);
  sender_ack(h, ack, dup);
  if (fin_acked()) {
    switch (state_) {
      case State::kFinWait1:
        set_state(State::kFinWait2);
        if (user_closed_) linger_deadline_ = now_ + cfg_.fin_wait2_timeout_us;
        break;
      case State::kClosing:
        enter_time_wait();
        break;
      case State::kLastAck:
        finish(CloseReason::kNormal);
        return false;
      default:
        break;
    }
  }
  return true;
}

void Connection::process_text(Seq seq, std::span<const uint8_t> payload, bool fin) {
  if (payload.empty() && !fin) return;
  if (seq != rcv_nxt_) {
    // Out of order (RFC 9293 3.10.7.4 "seventh"): copied to its place in the receive buffer,
    // past the readable bytes (the window trim above guarantees it fits).
    ++stats_.ooo_segments;
    if (!payload.empty()) {
      uint32_t n = static_cast<uint32_t>(payload.size());
      // RFC 2883 4 / Linux tcp_data_queue_ofo(): data already queued is reported by D-SACK.
      if (auto o = ooo_.overlap(seq, seq + n)) note_duplicate(o->left, o->right);
      auto r = ooo_.insert(seq, n);
      if (r == Reassembly::Insert::kStored)
        recv_ring_.write_at(recv_ring_.size() + seq.since(rcv_nxt_), payload);
      if (r == Reassembly::Insert::kDuplicate) ++stats_.dup_segments;
      if (r != Reassembly::Insert::kNoRoom) sack_.on_segment(seq);
    }
    if (fin) ooo_.note_fin(seq + static_cast<uint32_t>(payload.size()));
    ack_now_ = true;  // RFC 5681 4.2: an immediate duplicate ACK for out-of-order data
    return;
  }
  bool filling_hole = !ooo_.empty();
  if (!payload.empty()) {
    uint32_t n = static_cast<uint32_t>(payload.size());
    if (n > rcv_mss_) rcv_mss_ = std::min(n, eff_rcv_mss());
    rcv_nxt_ += n;
    if (!filling_hole) {
      deliver(payload);
      if (state_ == State::kClosed) return;
    } else {
      recv_ring_.write(payload);  // into the hole, before the stored out-of-order bytes
      stats_.bytes_in += n;
    }
  }
  if (filling_hole) {
    // The stored ranges that now join RCV.NXT become readable where they already lie.
    while (!ooo_.empty() && ooo_.front().seq <= rcv_nxt_) {
      const OooRange& e = ooo_.front();
      if (e.end() > rcv_nxt_) {
        uint32_t add = e.end().since(rcv_nxt_);
        recv_ring_.commit(add);
        rcv_nxt_ += add;
        stats_.bytes_in += add;
      }
      ooo_.pop_front();
    }
    if (ooo_.empty()) recv_ring_.drop_unreadable();
    offer_readable();
    if (state_ == State::kClosed) return;
  }
  if (fin || (ooo_.fin() && *ooo_.fin() == rcv_nxt_)) {
    process_fin();
    return;
  }
  rcv_space_adjust();
  if (filling_hole) {
    ack_now_ = true;  // RFC 5681 4.2: ACK at once when a gap is (partly) filled
  } else if (rcv_nxt_.since(last_ack_sent_) > rcv_mss_) {
    // RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full-sized segment (Linux:
    // more than one full frame unacknowledged), otherwise within the delayed-ACK time.
    if (cfg_.coalesce_acks) {
      // One ACK at the end of the engine's batch covers every segment of it (a stretch ACK,
      // as after GRO). The delayed-ACK timer still bounds the wait if no flush comes.
      ack_deferred_ = true;
      if (delack_deadline_ == kNever) delack_deadline_ = now_ + cfg_.delayed_ack_us;
    } else {
      ack_now_ = true;
    }
  } else if (delack_deadline_ == kNever) {
    delack_deadline_ = now_ + cfg_.delayed_ack_us;
  }
}

// RFC 2883 4: a duplicate arrived; the next ACK reports it in a D-SACK block (Linux
// tcp_dsack_set(): the first duplicate range since the last ACK), and goes at once.
void Connection::note_duplicate(Seq seq, Seq end) {
  if (!sack_ok_ || !cfg_.dsack || !(seq < end)) return;
  if (!dsack_pending_) {
    dsack_ = SackBlock{seq, end};
    dsack_pending_ = true;
  }
  ack_now_ = true;
}

// In-order data: offered to the application in place (zero copy); what it leaves is copied
// into the receive buffer, which shrinks the advertised window (flow control).
void Connection::deliver(std::span<const uint8_t> data) {
  stats_.bytes_in += data.size();
  if (recv_ring_.empty()) {
    size_t used = std::min(env_.on_data(data), data.size());
    if (state_ == State::kClosed) return;
    recv_ring_.write(data.subspan(used));
    return;
  }
  recv_ring_.write(data);
  offer_readable();
}

// Offers the buffered bytes (their first contiguous part) to the application.
void Connection::offer_readable() {
  TwoSpans s = recv_ring_.peek(0, recv_ring_.size());
  if (s.a.empty()) return;
  size_t used = std::min(env_.on_data(s.a), s.a.size());
  // What the application took is gone even if it closed the connection meanwhile.
  recv_ring_.consume(used);
}

// RFC 9293 3.10.7.4 "eighth".
void Connection::process_fin() {
  rcv_nxt_ += 1;
  fin_received_ = true;
  ack_now_ = true;
  ooo_.clear();
  recv_ring_.drop_unreadable();
  sack_.clear();
  delack_deadline_ = kNever;
  switch (state_) {
    case State::kEstablished:
      set_state(State::kCloseWait);
      arm_keepalive();
      break;
    case State::kFinWait1:
      // Our FIN is not acked yet (else we would be in FIN-WAIT-2): simultaneous close.
      set_state(State::kClosing);
      break;
    case State::kFinWait2:
      enter_time_wait();
      break;
    default:
      break;
  }
  env_.on_peer_closed();
}

}  // namespace tuntcp::proto::tcp
