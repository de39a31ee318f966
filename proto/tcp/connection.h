// One TCP connection as a sans-IO state machine (RFC 9293 3.10 event processing).
//
// The engine feeds it parsed segments (on_segment) and timer ticks (on_timer, when
// next_deadline() is due), and the application calls send/read/close. Everything it emits goes
// through the Env it was given: segments to transmit and application events. Payload spans are
// used during the call only (out-of-order data is copied into the receive buffer). Time is an argument (microseconds, any monotonic origin).
//
// Callbacks may call back into the connection (send, read, close, abort). Do not destroy the
// connection from inside a callback: check state() == State::kClosed after the call returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "proto/tcp/cc.h"
#include "proto/tcp/config.h"
#include "proto/tcp/rack.h"
#include "proto/tcp/reassembly.h"
#include "proto/tcp/ring.h"
#include "proto/tcp/rtt.h"
#include "proto/tcp/sack_scoreboard.h"
#include "proto/tcp/stats.h"
#include "proto/tcp/seq.h"
#include "proto/tcp/syn_cookie.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {

constexpr uint64_t kNever = UINT64_MAX;

// RFC 9293 3.3.2
enum class State : uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
const char* state_name(State s);

enum class CloseReason : uint8_t {
  kNormal,   // both FINs exchanged (or TIME-WAIT over)
  kReset,    // RST from the peer (ECONNRESET / ECONNREFUSED)
  kTimeout,  // retransmissions, keepalive or FIN-WAIT-2 timer gave up (ETIMEDOUT)
  kAborted,  // abort() by the application, or close() with unread data (Linux sends RST)
};


// Sender loss-recovery state (Linux tcp_ca_state, less Disorder and CWR, which need no state).
enum class CaState : uint8_t {
  kOpen,
  kRecovery,  // fast recovery: SACK (RFC 6675 + PRR, RFC 6937) or NewReno (RFC 6582)
  kLoss,      // after an RTO until SND.UNA passes the point it fired at (RFC 5681 3.1, 6582 4.1)
};

class Env {
 public:
  virtual ~Env() = default;
  // A segment to send: header fields and options in `hdr`; payload in a then b (the send ring
  // may wrap). The spans are valid only during the call.
  virtual void transmit(const TcpRepr& hdr, std::span<const uint8_t> a, std::span<const uint8_t> b) = 0;
  virtual void on_established() {}
  // In-order data. Return how many bytes the application consumed; the rest is kept in the
  // receive buffer (shrinking the advertised window) and can be read later with read().
  virtual size_t on_data(std::span<const uint8_t> data) {
    (void)data;
    return 0;
  }
  virtual void on_writable() {}     // send space freed after a short send()
  virtual void on_peer_closed() {}  // FIN received: no more data will arrive (half-close)
  virtual void on_closed(CloseReason reason) { (void)reason; }
  // Buffer auto-tuning asks before it grows a buffer by `bytes` (the engine's memory cap);
  // false keeps the buffer as it is.
  virtual bool grow_buffer(size_t bytes) {
    (void)bytes;
    return true;
  }
};

struct SegmentIn {
  TcpRepr hdr;
  std::span<const uint8_t> payload;  // valid during the call only
};

// What the engine should do with the connection after on_segment().
enum class Disposition : uint8_t {
  kKeep,
  // RFC 9293 3.10.7.4 / RFC 6191: a new SYN hit this connection in TIME-WAIT and may open a new
  // incarnation. The connection is now closed; hand the same SYN to the listener.
  kReopen,
};

class Connection {
 public:
  Connection(const Config& cfg, Env& env);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // RFC 9293 3.10.1 OPEN. Passive: LISTEN, the next SYN gets `iss` (from IsnGenerator).
  void listen(Seq iss);
  // Active: sends the SYN and enters SYN-SENT.
  void connect(Seq iss, uint64_t now_us);
  // A listener got a SYN for this 4-tuple: listen(iss) + on_segment(syn).
  void accept_syn(const SegmentIn& syn, Seq iss, uint64_t now_us);
  // SYN cookies (RFC 4987 3.6, proto/tcp/syn_cookie.h): a listener that keeps no state for a
  // SYN answers with cookie_syn_ack(), what a connection with `cfg` would send from
  // SYN-RECEIVED with ISS `cookie`, less the options the cookie cannot bring back.
  static TcpRepr cookie_syn_ack(const Config& cfg, const TcpRepr& syn, Seq cookie, uint64_t now_us);
  // Its ACK came back and SynCookies::check() accepted SEG.ACK - 1: enter ESTABLISHED at once
  // (ISS = SEG.ACK - 1, IRS = SEG.SEQ - 1, the SYN's options as `syn_opts` recovered them),
  // then process the ACK's data and FIN like any segment.
  void accept_cookie(const SegmentIn& ack, const CookieOptions& syn_opts, uint64_t now_us);

  // RFC 9293 3.10.7 SEGMENT ARRIVES. The caller checked the checksum and the 4-tuple.
  Disposition on_segment(const SegmentIn& seg, uint64_t now_us);
  // Runs expired timers. Call at or after next_deadline().
  void on_timer(uint64_t now_us);
  uint64_t next_deadline() const;

  // RFC 9293 3.10.2 SEND: queues up to send_space() bytes; returns the number accepted.
  size_t send(std::span<const uint8_t> data, uint64_t now_us);
  // Copies out received data that the application left in the receive buffer.
  size_t read(std::span<uint8_t> out, uint64_t now_us);
  TwoSpans peek() const { return recv_ring_.peek(0, recv_ring_.size()); }
  void consume(size_t n, uint64_t now_us);
  // RFC 9293 3.10.4 CLOSE: FIN after the queued data; the application reads no more (data
  // arriving afterwards gets a RST, and unread data makes close() send RST, as Linux does).
  void close(uint64_t now_us);
  // Half-close: FIN after the queued data, keep receiving.
  void shutdown_write(uint64_t now_us);
  // RFC 9293 3.10.5 ABORT: RST if synchronized, then CLOSED.
  void abort(uint64_t now_us);

  State state() const { return state_; }
  const Stats& stats() const { return stats_; }
  const Config& config() const { return cfg_; }
  size_t send_space() const { return send_ring_.free(); }
  // The buffer sizes now (they grow with auto-tuning).
  uint32_t recv_buffer() const { return rcvbuf_; }
  size_t send_buffer() const { return send_ring_.capacity(); }
  uint64_t rcv_rtt_us() const { return rcv_rtt_x8_ >> 3; }
  size_t send_queued() const { return send_ring_.size(); }
  size_t readable() const { return recv_ring_.size(); }
  bool peer_closed() const { return fin_received_; }

  // Introspection (tests, stats).
  Seq iss() const { return iss_; }
  Seq snd_una() const { return snd_una_; }
  Seq snd_nxt() const { return snd_nxt_; }
  Seq rcv_nxt() const { return rcv_nxt_; }
  uint32_t snd_wnd() const { return snd_wnd_; }
  uint32_t rcv_wnd() const { return rcv_adv_ > rcv_nxt_ ? rcv_adv_.since(rcv_nxt_) : 0; }
  // The usual payload of a full segment: the MSS less the timestamp option (Linux mss_cache).
  // Congestion control and loss detection count in it.
  uint32_t snd_mss() const { return snd_mss_; }
  // RFC 9293 3.7.1, RFC 6691: the payload a segment may carry when its header has the options
  // `o`: every option comes out of the payload, so the datagram fits the MTU. The one rule
  // for segment sizes: output() cuts segments with it (current_mss()), and a TSO
  // super-segment's gso_size is it for the header the segment was emitted with.
  uint32_t payload_mss(const TcpOptions& o) const;
  uint8_t snd_wscale() const { return snd_wscale_; }
  uint8_t rcv_wscale() const { return rcv_wscale_; }
  bool ts_enabled() const { return ts_ok_; }
  bool sack_enabled() const { return sack_ok_; }
  uint32_t cwnd() const { return cc_->cwnd(); }
  uint32_t ssthresh() const { return cc_->ssthresh(); }
  uint64_t rto_us() const { return rtt_.rto_us(); }
  const RttEstimator& rtt() const { return rtt_; }
  bool in_recovery() const { return ca_state_ == CaState::kRecovery; }
  CaState ca_state() const { return ca_state_; }
  const char* cc_name() const { return cc_->name(); }
  const CongestionControl& cc() const { return *cc_; }
  const SackScoreboard& scoreboard() const { return sb_; }
  const Rack& rack() const { return rack_; }
  uint32_t pipe() const { return sb_.pipe(); }
  uint64_t min_rtt_us() const { return min_rtt_; }
  // Which timer next_deadline()'s retransmission deadline belongs to.
  enum class RtxTimer : uint8_t { kRto, kTlp, kReo };
  RtxTimer rtx_timer() const { return rtx_timer_; }
  uint64_t rtx_deadline() const { return rtx_deadline_; }  // RTO, PTO or RACK, by rtx_timer()
  size_t ooo_ranges() const { return ooo_.size(); }

  // With Config::coalesce_acks: sends the ACK deferred during the last batch, if any. Returns
  // false when nothing was pending.
  bool flush_acks(uint64_t now_us);
  bool ack_deferred() const { return ack_deferred_; }

 private:
  // --- input (connection_input.cc) ---
  void input_listen(const SegmentIn& seg);
  void input_syn_sent(const SegmentIn& seg);
  Disposition input_synchronized(const SegmentIn& seg);
  bool check_paws(const SegmentIn& seg);
  bool acceptable(const TcpRepr& h, uint32_t payload_len) const;
  void handle_rst(const TcpRepr& h);
  bool process_ack(const SegmentIn& seg, uint32_t payload_len);
  void update_send_window(const TcpRepr& h);
  int64_t take_rtt_sample(const TcpRepr& h, Seq ack, int64_t seq_rtt_us);
  void note_duplicate(Seq seq, Seq end);
  void process_text(Seq seq, std::span<const uint8_t> payload, bool fin);
  void deliver(std::span<const uint8_t> data);
  void offer_readable();
  // Buffer auto-tuning (connection_tuning.cc).
  void rcv_rtt_measure(const TcpRepr& h, uint32_t plen);
  void rcv_space_adjust();
  void snd_buf_expand();
  uint64_t app_taken() const { return stats_.bytes_in - recv_ring_.size(); }
  // Scoreboard records for a send buffer: one per segment in flight; full-sized segments need
  // buffer / MSS, the rest leaves room for small ones (a full scoreboard holds back new data,
  // like a full sndbuf).
  static size_t scoreboard_capacity(size_t send_buffer) { return send_buffer / 256 + 64; }
  void process_fin();
  void apply_syn_options(const TcpRepr& syn);
  void established();

  // --- output (connection_output.cc) ---
  void output();
  void send_syn();
  void send_ack();
  void send_challenge_ack();
  void send_rst(Seq seq, Seq ack, bool with_ack);
  void send_data(Seq seq, uint32_t len, bool fin);
  void send_new(uint32_t len, bool fin);
  bool retransmit(size_t i);
  void retransmit_head();
  uint32_t in_flight() const;
  uint32_t max_segment(uint32_t mss) const;
  uint32_t current_mss();
  size_t sack_blocks(SackBlock* out, bool with_dsack);
  void transmit(TcpRepr& h, TwoSpans payload);
  void fill_options(TcpRepr& h);
  uint16_t advertise_window();
  uint32_t offerable_window() const;
  bool window_may_advance(uint32_t cur, uint32_t free) const;
  uint16_t window_field_if_advertised() const;
  uint32_t ts_now() const;
  // The TSval of a segment going out now; the receiver's RTT measure (connection_tuning.cc)
  // asks when the last segment with a given TSval left.
  uint32_t stamp_tsval();
  std::optional<uint64_t> tsval_sent_us(uint32_t v) const;
  bool can_send_data() const;
  void send_probe();
  bool oow_ack_rate_limited();
  uint32_t eff_rcv_mss() const;
  Seq data_end() const { return ring_seq_ + static_cast<uint32_t>(send_ring_.size()); }
  uint32_t flight_size() const { return snd_nxt_ > snd_una_ ? snd_nxt_.since(snd_una_) : 0; }
  uint32_t recv_free() const;
  void maybe_window_update();

  // --- sender loss recovery (connection_recovery.cc) ---
  struct AckInfo {
    Seq prior_una;
    uint32_t acked = 0;         // SND.UNA advanced by
    uint32_t newly_sacked = 0;  // bytes newly SACKed
    uint32_t delivered = 0;     // acked and SACKed bytes that were not SACKed before
    uint32_t newly_lost = 0;    // bytes loss detection marked lost on this ACK
    int64_t seq_rtt = -1;       // RTT of the oldest newly acked, never retransmitted segment
    int64_t ca_rtt = -1;        // RTT of the newest one (Linux ca_rtt_us)
    bool dup = false;           // RFC 5681 2 duplicate ACK
    bool dsack = false;         // carried a D-SACK block
    bool dsack_tlp = false;     // the D-SACK covers the tail loss probe
    bool reo_timer_set = false;
  };
  void sender_ack(const TcpRepr& h, Seq ack, bool dup);
  void process_sack_blocks(const TcpRepr& h, Seq ack, AckInfo& ai);
  void process_dsack(const SackBlock& b, AckInfo& ai);
  void cumulative_ack(Seq ack, AckInfo& ai);
  void detect_loss(AckInfo& ai, bool arm_reo_timer);
  void loss_state_machine(const TcpRepr& h, AckInfo& ai);
  void enter_sack_recovery();
  void enter_newreno_recovery();
  void exit_recovery();
  void prr_update(const AckInfo& ai);
  void process_tlp_ack(Seq ack, const AckInfo& ai);
  void init_undo();
  bool try_undo();
  bool undo_reduction(bool unmark_loss = false);
  bool packet_delayed(const TcpRepr& h) const;
  void set_xmit_timer();
  bool schedule_tlp();
  bool tlp_eligible() const;
  void on_tlp();
  void on_reo_timeout();
  void on_rto();

  // --- timers and lifecycle (connection.cc) ---
  void on_persist();
  void on_keepalive();
  void arm_rto();
  void arm_persist();
  void arm_keepalive();
  void enter_time_wait();
  void set_state(State s);
  void finish(CloseReason why);
  void queue_fin();
  void init_send(Seq iss);
  bool fin_acked() const { return fin_sent_ && snd_una_ == data_end() + 1; }

  Config cfg_;
  Env& env_;
  State state_ = State::kClosed;
  uint64_t now_ = 0;
  bool in_input_ = false;  // inside on_segment: app calls defer output to its end

  // Send sequence space (RFC 9293 3.3.1). snd_max_ is the highest sequence sent; after an RTO
  // snd_nxt_ goes back to snd_una_ and retransmits (go-back-N) up to snd_max_.
  Seq iss_;
  Seq snd_una_;
  Seq snd_nxt_;
  Seq snd_max_;
  Seq snd_wl1_;
  Seq snd_wl2_;
  uint32_t snd_wnd_ = 0;
  uint32_t max_snd_wnd_ = 0;
  Seq snd_sml_;   // end of the last small segment sent (Nagle, Minshall's variant)
  Seq ring_seq_;  // sequence number of the first byte in send_ring_
  ByteRing send_ring_;
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  bool user_closed_ = false;  // close(): the application reads no more
  bool send_blocked_ = false;  // a send() was short: raise on_writable when space frees

  // Receive sequence space.
  Seq irs_;
  Seq rcv_nxt_;
  Seq rcv_adv_;         // right edge of the window last advertised
  Seq last_ack_sent_;   // RCV.NXT carried by the last ACK (RFC 7323 4.3 Last.ACK.sent)
  ByteRing recv_ring_;
  uint32_t rcvbuf_;  // the receive buffer's size now: bounds the window (auto-tuned)
  Reassembly ooo_;
  // Receive-buffer auto-tuning (Linux tcp_rcv_space_adjust()): the receiver's RTT estimate
  // (x8, from timestamps or from the time a window takes to fill) and the bytes the
  // application took in the current measurement period.
  uint64_t rcv_rtt_x8_ = 0;
  struct TsSent {
    uint32_t val = 0;
    uint64_t us = 0;
  };
  std::array<TsSent, 4> ts_sent_{};  // the last few TSvals sent and when each last went out
  size_t ts_sent_next_ = 0;
  size_t ts_sent_n_ = 0;
  uint32_t rcv_rtt_last_ecr_ = 0;
  Seq rcv_rtt_seq_;
  uint64_t rcv_rtt_time_ = 0;
  uint64_t rcvq_time_ = 0;
  uint64_t rcvq_copied_at_ = 0;  // bytes taken by the application when the period began
  uint32_t rcvq_space_ = 0;      // the most taken in one period so far
  SackTracker sack_;
  bool fin_received_ = false;
  uint32_t rcv_mss_ = 536;  // estimate of the peer's segment size (delayed-ACK rule)

  // Options (RFC 7323, RFC 2018).
  uint16_t peer_mss_ = 536;
  uint32_t eff_mss_ = 536;  // the payload of a segment without options: min(peer's MSS, ours)
  uint32_t snd_mss_ = 536;  // eff_mss_ less the timestamp option when negotiated
  uint8_t our_wscale_ = 0;  // offered in our SYN
  uint8_t snd_wscale_ = 0;
  uint8_t rcv_wscale_ = 0;
  bool ws_ok_ = false;
  bool ts_ok_ = false;
  bool sack_ok_ = false;
  uint32_t ts_recent_ = 0;
  uint64_t ts_recent_stamp_ = 0;

  // Retransmission (RFC 6298) and congestion control (RFC 5681, RFC 6582, RFC 9438).
  RttEstimator rtt_;
  std::unique_ptr<CongestionControl> cc_;  // the one controller cfg_.cc names
  uint32_t retries_ = 0;
  bool syn_retransmitted_ = false;
  bool rtt_timing_ = false;  // Karn: one unretransmitted segment timed at a time
  Seq rtt_seq_;
  uint64_t rtt_start_ = 0;
  uint32_t dupacks_ = 0;
  CaState ca_state_ = CaState::kOpen;
  Seq recover_;  // RFC 6582 recover / RFC 6675 RecoveryPoint (Linux high_seq)
  uint64_t min_rtt_ = UINT64_MAX;
  uint64_t last_send_ = 0;  // time of the last data segment sent (idle restart)

  // Loss recovery with SACK (RFC 6675, RFC 8985) and its undo (RFC 2883 4, Linux).
  SackScoreboard sb_;
  Rack rack_;
  uint32_t prr_delivered_ = 0;  // RFC 6937: bytes delivered since recovery began
  uint32_t prr_out_ = 0;        // bytes sent since recovery began
  bool undo_armed_ = false;     // Linux undo_marker != 0
  Seq undo_marker_;             // SND.UNA when the reduction began
  int32_t undo_retrans_ = -1;   // retransmissions not yet shown spurious (-1: none sent)
  uint32_t retrans_ts_ = 0;     // TSval of the episode's first retransmission (Linux
  bool retrans_ts_set_ = false;  // retrans_stamp): an echo older than it proves a delay
  bool tlp_out_ = false;        // a probe is outstanding (RFC 8985 TLP.end_seq != None)
  Seq tlp_high_seq_;            // SND.NXT when it was sent
  bool tlp_retrans_ = false;    // it was a retransmission
  RtxTimer rtx_timer_ = RtxTimer::kRto;

  // Receiver side D-SACK (RFC 2883): the duplicate range to report in the next ACK.
  bool dsack_pending_ = false;
  SackBlock dsack_;

  // Timers as deadlines (kNever when off).
  // The retransmission timer: one deadline for whichever of the RTO, TLP's probe timeout or
  // RACK's reordering timer is armed, rtx_timer_ says which (Linux icsk_retransmit_timer).
  uint64_t rtx_deadline_ = kNever;
  uint64_t delack_deadline_ = kNever;
  uint64_t persist_deadline_ = kNever;
  uint64_t keepalive_deadline_ = kNever;
  uint64_t linger_deadline_ = kNever;  // TIME-WAIT expiry or FIN-WAIT-2 timeout
  uint32_t persist_backoff_ = 0;
  uint32_t probes_out_ = 0;  // unanswered zero-window probes
  uint32_t ka_probes_ = 0;   // unanswered keepalive probes
  bool writable_pending_ = false;
  bool ack_now_ = false;
  bool ack_deferred_ = false;  // an every-second-segment ACK waiting for flush_acks()

  // RFC 5961 7 challenge-ACK rate limit, and the out-of-window ACK limit.
  uint64_t challenge_window_start_ = 0;
  uint32_t challenge_count_ = 0;
  uint64_t last_oow_ack_ = 0;
  bool sent_oow_ack_ = false;

  Seq listen_iss_;
  Stats stats_;
};

}  // namespace tuntcp::proto::tcp
