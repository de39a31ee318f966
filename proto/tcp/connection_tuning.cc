// Buffer auto-tuning: the receive buffer (and with it the advertised window) grows while the
// application takes more than the window held in one round trip (Linux tcp_rcv_space_adjust()
// "dynamic right-sizing"), the send buffer while it, not the congestion or peer window, limits
// what is in flight (Linux tcp_sndbuf_expand()). Both grow up to Config::*_buffer_max and only
// with the engine's consent (Env::grow_buffer: the memory cap); they never shrink.
#include <algorithm>

#include "proto/tcp/connection.h"

namespace tuntcp::proto::tcp {

namespace {
// Linux tcp_rcv_rtt_update(): a sample from timestamps is smoothed (gain 1/8); one from the
// time a window took to fill is an upper bound, so the smaller of old and new is kept.
uint64_t rcv_rtt_update(uint64_t est_x8, uint64_t sample_us, bool window_based) {
  sample_us = std::max<uint64_t>(sample_us, 1);
  if (est_x8 == 0) return sample_us << 3;
  if (window_based) return std::min(est_x8, sample_us << 3);
  return est_x8 - (est_x8 >> 3) + sample_us;
}
}  // namespace

// Linux tcp_rcv_rtt_measure_ts() / tcp_rcv_rtt_measure(), for in-order data.
void Connection::rcv_rtt_measure(const TcpRepr& h, uint32_t plen) {
  if (rcvbuf_ >= cfg_.recv_buffer_max) return;
  if (ts_ok_ && h.opt.ts && h.opt.ts->ecr != 0) {
    // The peer echoes the TSval of our latest ACK: now minus the echo is a round trip. Only
    // full-sized segments (a small one may have waited for the application) and a new echo.
    if (h.opt.ts->ecr == rcv_rtt_last_ecr_ || plen < rcv_mss_) return;
    rcv_rtt_last_ecr_ = h.opt.ts->ecr;
    // TSvals tick in milliseconds, which would make every fast path look 1 ms long and grow
    // the window 20-fold past what it needs (the surplus then overflows the TUN queue): the
    // time the last segment with the echoed value left gives microseconds. It is a lower
    // bound, short by less than the millisecond the value covered.
    if (auto sent = tsval_sent_us(h.opt.ts->ecr)) {
      rcv_rtt_x8_ = rcv_rtt_update(rcv_rtt_x8_, now_ - std::min(now_, *sent), false);
      return;
    }
    int32_t ms = static_cast<int32_t>(ts_now() - h.opt.ts->ecr);
    if (ms < 0 || ms > 3'600'000) return;
    rcv_rtt_x8_ = rcv_rtt_update(rcv_rtt_x8_, std::max(ms, 1) * uint64_t{1000}, false);
    return;
  }
  // Without timestamps: the time from advertising a window until RCV.NXT reaches its edge.
  if (rcv_rtt_time_ != 0 && rcv_nxt_ < rcv_rtt_seq_) return;
  if (rcv_rtt_time_ != 0) rcv_rtt_x8_ = rcv_rtt_update(rcv_rtt_x8_, now_ - rcv_rtt_time_, true);
  rcv_rtt_seq_ = rcv_nxt_ + std::max<uint32_t>(rcv_wnd(), 1);
  rcv_rtt_time_ = now_;
}

// Linux tcp_rcv_space_adjust(): once per receiver RTT, compare what the application took with
// the most it took in an RTT before; growth means the sender is still opening its window, so
// offer twice what was taken plus the growth again.
void Connection::rcv_space_adjust() {
  if (rcvbuf_ >= cfg_.recv_buffer_max || rcv_rtt_x8_ == 0) return;
  if (rcvq_time_ == 0 || rcvq_space_ == 0) {
    rcvq_time_ = now_;
    rcvq_copied_at_ = app_taken();
    rcvq_space_ = std::min(rcvbuf_, 10 * eff_rcv_mss());  // Linux: TCP_INIT_CWND * advmss
    return;
  }
  if (now_ - rcvq_time_ < (rcv_rtt_x8_ >> 3)) return;
  uint64_t copied = app_taken() - rcvq_copied_at_;
  if (copied > rcvq_space_) {
    uint64_t win = 2 * copied + 16 * uint64_t{eff_rcv_mss()};
    win += 2 * (win * (copied - rcvq_space_) / rcvq_space_);
    // The engine hands over a batch of segments at one instant, so on a fast path one "round
    // trip" may hold a whole batch: grow only when the application took more than half the
    // buffer in it (the window was what limited the sender) and at most double per round trip
    // (the sender's slow start does no more).
    if (2 * copied <= rcvbuf_) win = 0;
    uint32_t target = static_cast<uint32_t>(
        std::min<uint64_t>({win, cfg_.recv_buffer_max, 2 * uint64_t{rcvbuf_}}));
    if (target > rcvbuf_) {
      if (env_.grow_buffer(target - rcvbuf_)) {
        recv_ring_.grow(target + (size_t{1} << our_wscale_));
        rcvbuf_ = target;
        ++stats_.buffer_grows;
      } else {
        cfg_.recv_buffer_max = rcvbuf_;  // refused: stop asking
      }
    }
    rcvq_space_ = static_cast<uint32_t>(std::min<uint64_t>(copied, UINT32_MAX));
  }
  rcvq_time_ = now_;
  rcvq_copied_at_ = app_taken();
}

// Linux tcp_should_expand_sndbuf() / tcp_sndbuf_expand(): called on an ACK while the
// application waits for send space. Everything buffered was sent and the congestion and peer
// windows still had room: the buffer was the limit, so double it (at least twice the cwnd).
void Connection::snd_buf_expand() {
  size_t cap = send_ring_.capacity();
  if (!send_blocked_ || cap >= cfg_.send_buffer_max) return;
  // Unsent data beyond a partial segment (which Nagle or SWS avoidance holds back): the windows
  // are the limit, not the buffer.
  if (snd_nxt_ < data_end() && data_end().since(snd_nxt_) >= snd_mss_) return;
  uint64_t room = std::min<uint64_t>(cc_->cwnd(), snd_wnd_);
  if (uint64_t{flight_size()} + snd_mss_ > room) return;
  uint64_t want = std::max<uint64_t>(2 * uint64_t{cap}, 2 * uint64_t{cc_->cwnd()});
  size_t target = static_cast<size_t>(std::min<uint64_t>(want, cfg_.send_buffer_max));
  if (!env_.grow_buffer(target - cap)) {
    cfg_.send_buffer_max = static_cast<uint32_t>(cap);  // refused: stop asking
    return;
  }
  send_ring_.grow(target);
  sb_.grow(scoreboard_capacity(target));
  ++stats_.buffer_grows;
}

}  // namespace tuntcp::proto::tcp
