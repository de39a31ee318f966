// Fuzzes one tcp::Connection (proto/tcp/connection.h) with a script decoded from the input:
// the fuzzer plays the remote peer, the application and the clock. The connection must never
// crash (ASan/UBSan), and after every step the checks below must hold. This is what every
// segment from the network reaches once its checksum verifies, so it is the harness that matters.
//
// Input layout (every field is consumed from the front; a missing byte reads as 0):
//   setup   u8   bit0 active open (connect) else passive (LISTEN + accept_syn); bit1 window
//                scaling, bit2 timestamps, bit3 SACK, bit4 nodelay, bit5 keepalive,
//                bits6-7 receive buffer size (kBufSizes)
//   setup2  u8   bits0-1 send buffer size, bits2-3 MSS (kMss), bits4-5 max_ooo_ranges (kOoo),
//                bit6 coalesce_acks (where Config has it), bit7 buffer auto-tuning (both
//                buffers may grow to 4x their start)
//   setup3  u8   bit0 NewReno (else CUBIC), bit1 no HyStart, bit2 no RACK, bit3 no TLP,
//                bit4 no D-SACK, bits5-6 tso_max (kTso), bit7 passive open through a SYN cookie
//                (accept_cookie, where proto has it) instead of accept_syn
//   iss     u32  our ISN;   peer_iss u32: the peer's ISN
//   passive: the peer's SYN: window u16, options (see read_options), payload length u16
//   cookie:  the cookie's MSS index u8, then the ACK: flags u8 (ACK on, SYN and RST off),
//            window u16, options (TSecr carries wscale and SACK-permitted back), payload length u16
//   then operations until the input ends: opcode u8 (kind = opcode % 17), arguments (see run()).
//
// Payload bytes are not taken from the input: the byte at sequence number s is a fixed function
// of s (peer_byte / our_byte). So the harness knows what every byte of either stream must be, and
// checks that the application receives the peer's stream exactly (reassembly, trimming, receive
// buffer) and that every segment we transmit carries exactly the application's bytes for its
// sequence numbers (send buffer, retransmission).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "proto/tcp/connection.h"
#include "proto/tcp/wire.h"
#include "tests/fuzz/fuzz_check.h"

using namespace tuntcp::proto::tcp;

namespace {

constexpr uint32_t kLocalIp = 0xc6120002, kRemoteIp = 0xc6120001;
constexpr uint32_t kBufSizes[4] = {256 * 1024, 65535, 4096, 700};
constexpr uint16_t kMss[4] = {1460, 536, 64, 8960};
constexpr uint32_t kOoo[4] = {32, 1, 4, 64};
constexpr uint32_t kTso[4] = {0, 65535 - 20 - 60, 16384, 3000};  // [1]: what the engine sets

uint8_t peer_byte(Seq s) { return static_cast<uint8_t>((s.raw() * 0x9e3779b1u) >> 24); }
uint8_t our_byte(Seq s) {
  return static_cast<uint8_t>(((s.raw() ^ 0x5bd1e995u) * 0x9e3779b1u) >> 24);
}

// Filling and checking payload bytes is the harness's busiest loop: keep it out of the coverage
// instrumentation (it only slows the fuzzer down and adds no feature worth finding).
using ByteFn = uint8_t (*)(Seq);
template <ByteFn fn>
__attribute__((noinline, no_sanitize("coverage"))) void fill(std::span<uint8_t> out, Seq first) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = fn(first + static_cast<uint32_t>(i));
}
// Index of the first byte of `d` that is not fn(first + i), or d.size().
template <ByteFn fn>
__attribute__((noinline, no_sanitize("coverage"))) size_t mismatch(std::span<const uint8_t> d,
                                                                   Seq first) {
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i] != fn(first + static_cast<uint32_t>(i))) return i;
  return d.size();
}

// Sequential little-endian reader; reads past the end yield zeros so every input is a script.
struct Reader {
  const uint8_t* p;
  size_t n;
  bool empty() const { return n == 0; }
  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  // (Two statements: the operands of | are not sequenced.)
  uint16_t u16() {
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | u8() << 8);
  }
  uint32_t u32() {
    const uint32_t lo = u16();
    return lo | static_cast<uint32_t>(u16()) << 16;
  }
};

// Which states may follow which within one step: the closure of the RFC 9293 3.3.2 diagram
// (one segment can take several edges, e.g. SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT).
constexpr int kStates = 11;
uint32_t bit(State s) { return 1u << static_cast<int>(s); }
struct Transitions {
  uint32_t reach[kStates];
  Transitions() {
    auto edge = [&](State a, std::initializer_list<State> to) {
      reach[static_cast<int>(a)] = bit(a) | bit(State::kClosed);
      for (State b : to) reach[static_cast<int>(a)] |= bit(b);
    };
    using S = State;
    edge(S::kClosed, {S::kListen, S::kSynSent});
    edge(S::kListen, {S::kSynReceived});
    edge(S::kSynSent, {S::kSynReceived, S::kEstablished, S::kFinWait1});  // FIN queued early
    edge(S::kSynReceived, {S::kEstablished, S::kFinWait1});
    edge(S::kEstablished, {S::kFinWait1, S::kCloseWait});
    edge(S::kFinWait1, {S::kFinWait2, S::kClosing});
    edge(S::kFinWait2, {S::kTimeWait});
    edge(S::kCloseWait, {S::kLastAck});
    edge(S::kClosing, {S::kTimeWait});
    edge(S::kLastAck, {});
    edge(S::kTimeWait, {});
    for (int k = 0; k < kStates; ++k)  // transitive closure
      for (int i = 0; i < kStates; ++i)
        for (int j = 0; j < kStates; ++j)
          if ((reach[i] >> k & 1) && (reach[k] >> j & 1)) reach[i] |= 1u << j;
  }
};
const Transitions kTransitions;

// FUZZ_TRACE=1 prints every step and segment: to read what a reproducer does.
const bool kTrace = std::getenv("FUZZ_TRACE") != nullptr;
void trace_segment(const char* dir, const TcpRepr& h, size_t len, uint64_t now) {
  if (!kTrace) return;
  std::fprintf(stderr, "%12llu %s %s%s%s%s%s seq=%u ack=%u win=%u len=%zu",
               static_cast<unsigned long long>(now), dir, h.has(Flags::SYN) ? "S" : "",
               h.has(Flags::FIN) ? "F" : "", h.has(Flags::RST) ? "R" : "",
               h.has(Flags::PSH) ? "P" : "", h.has(Flags::ACK) ? "." : "", h.seq.raw(), h.ack.raw(),
               h.window, len);
  if (h.opt.mss) std::fprintf(stderr, " mss=%u", *h.opt.mss);
  if (h.opt.wscale) std::fprintf(stderr, " ws=%u", *h.opt.wscale);
  if (h.opt.sack_permitted) std::fprintf(stderr, " sackOK");
  if (h.opt.ts) std::fprintf(stderr, " ts=%u/%u", h.opt.ts->val, h.opt.ts->ecr);
  for (size_t i = 0; i < h.opt.sack_count; ++i)
    std::fprintf(stderr, " sack=%u-%u", h.opt.sack[i].left.raw(), h.opt.sack[i].right.raw());
  std::fputc('\n', stderr);
}

bool sends_data_in(State s) {
  return s == State::kEstablished || s == State::kCloseWait || s == State::kFinWait1 ||
         s == State::kClosing || s == State::kLastAck;
}

// ACK coalescing (Config::coalesce_acks + Connection::flush_acks) is newer than this harness:
// use it where proto has it, so that the harness builds either way.
template <class C>
void set_coalesce_acks(C& cfg, bool on) {
  if constexpr (requires { cfg.coalesce_acks; }) cfg.coalesce_acks = on;
}
template <class C>
void flush_acks(C& conn, uint64_t now) {
  if constexpr (requires { conn.flush_acks(now); }) conn.flush_acks(now);
}

// What the application does inside callbacks (callbacks may call back into the connection).
struct Policy {
  uint8_t consume = 0;  // on_data returns: 0 all, 1 nothing, 2 half, 3 one byte
  uint8_t on_data = 0;  // 0 nothing, 1 send as many bytes as consumed, 2 shutdown_write,
                        // 3 close, 4 abort, 5 read() everything and return 0
  bool refill_on_writable = false;
  uint8_t on_peer_closed = 0;     // 0 nothing, 1 close, 2 shutdown_write, 3 abort
  uint8_t on_established = 0;     // 0 nothing, 1 send 2000 bytes, 2 close, 3 abort
  bool poke_when_closed = false;  // on_closed calls send/read/close/abort: all must be harmless
};

class Harness final : public Env {
 public:
  // --- the peer, the application and the clock -------------------------------------------

  void run(Reader r) {
    const uint8_t setup = r.u8(), setup2 = r.u8(), setup3 = r.u8();
    cfg_.local_addr = kLocalIp;
    cfg_.remote_addr = kRemoteIp;
    cfg_.local_port = 80;
    cfg_.remote_port = 49152;
    cfg_.window_scaling = setup & 2;
    cfg_.timestamps = setup & 4;
    cfg_.sack = setup & 8;
    cfg_.nodelay = setup & 16;
    cfg_.keepalive = setup & 32;
    cfg_.recv_buffer = kBufSizes[setup >> 6];
    cfg_.send_buffer = kBufSizes[setup2 & 3];
    cfg_.mss = kMss[(setup2 >> 2) & 3];
    cfg_.max_ooo_ranges = kOoo[(setup2 >> 4) & 3];
    cfg_.cc = setup3 & 1 ? CcAlgo::kNewReno : CcAlgo::kCubic;
    cfg_.hystart = !(setup3 & 2);
    cfg_.rack = !(setup3 & 4);
    cfg_.tlp = !(setup3 & 8);
    cfg_.dsack = !(setup3 & 16);
    cfg_.tso_max = kTso[(setup3 >> 5) & 3];
    set_coalesce_acks(cfg_, setup2 & 0x40);
    if (setup2 & 0x80) {
      cfg_.recv_buffer_max = 4 * cfg_.recv_buffer;
      cfg_.send_buffer_max = 4 * cfg_.send_buffer;
    }
    iss_ = Seq(r.u32());
    peer_iss_ = Seq(r.u32());
    max_sent_ = iss_;
    conn_ = std::make_unique<Connection>(cfg_, *this);

    State before = conn_->state();
    if (setup & 1) {
      conn_->connect(iss_, now_);
    } else if (setup3 & 0x80) {
      before = State::kSynReceived;  // the stateless listener stood for SYN-RECEIVED
      cookie_open(r);
    } else {
      // The engine hands a listener only bare SYNs (SYN without ACK and RST).
      SegmentIn syn;
      syn.hdr.flags = Flags::SYN;
      syn.hdr.seq = peer_iss_;
      syn.hdr.window = r.u16();
      uint8_t mask = r.u8();
      syn.hdr.opt = read_options(r, mask);
      peer_mss_ = syn.hdr.opt.mss ? std::max<uint16_t>(*syn.hdr.opt.mss, 64) : 536;
      deliver(syn, payload_len(r), [&](const SegmentIn& s) {
        conn_->accept_syn(s, iss_, now_);
        return Disposition::kKeep;
      });
    }
    after_step(before);

    while (!r.empty()) {
      before = conn_->state();
      const uint8_t op = r.u8();
      // clang-format off
      switch (op % 17) {
        case 0: case 1: case 2: case 3: case 4: case 5: segment(r); break;
        case 6: case 7: advance(r, true); break;
        case 8: advance(r, false); break;  // the engine's timer wheel may fire late
        case 9: case 10: app_send(r.u16()); break;
        case 11: app_read(r.u16()); break;
        case 12: app_consume(r.u16()); break;
        case 13:
          switch (r.u8() % 3) {
            case 0: app_close(); break;
            case 1: app_shutdown(); break;
            default: app_abort(); break;
          }
          break;
        case 14: set_policy(r); break;
        case 15: reply(r); break;
        default: flush_acks(*conn_, now_); break;  // the end of one of the engine's batches
      }
      // clang-format on
      after_step(before);
    }
    conn_.reset();
  }

 private:

  void set_policy(Reader& r) {
    const uint8_t b = r.u8(), b2 = r.u8();
    policy_.consume = b & 3;
    policy_.on_data = (b >> 2 & 7) % 6;
    policy_.refill_on_writable = b & 0x20;
    policy_.on_peer_closed = b >> 6;
    policy_.on_established = b2 & 3;
    policy_.poke_when_closed = b2 & 4;
  }

  // A passive open through a SYN cookie: the engine's SynCookies::check() accepted the ACK
  // (SEG.ACK = our ISS + 1 for a SYN with SEG.SEQ = peer ISS) and recovered these options.
  void cookie_open(Reader& r) {
    uint8_t mss_index = r.u8();
    SegmentIn ack;
    ack.hdr.src_port = cfg_.remote_port;
    ack.hdr.dst_port = cfg_.local_port;
    // What the engine takes for a cookie's ACK (as Linux cookie_v4_check()).
    ack.hdr.flags = static_cast<uint8_t>((r.u8() | Flags::ACK) & ~(Flags::SYN | Flags::RST));
    ack.hdr.seq = peer_iss_ + 1;
    ack.hdr.ack = iss_ + 1;
    ack.hdr.window = r.u16();
    uint8_t mask = r.u8();
    ack.hdr.opt = read_options(r, mask);
    // The handshake is over before the call: the SYN-ACK was sent, IRS is the SYN's SEG.SEQ.
    max_sent_ = iss_ + 1;
    irs_ = peer_iss_;
    irs_known_ = true;
#if __has_include("proto/tcp/syn_cookie.h")
    CookieOptions o;  // as the engine fills it
    o.mss = kCookieMssTable[mss_index % kCookieMssTable.size()];
    if (ack.hdr.opt.ts) decode_cookie_tsecr(ack.hdr.opt.ts->ecr, o);
    peer_mss_ = std::max<uint16_t>(o.mss, 64);
    deliver(ack, payload_len(r), [&](const SegmentIn& s) {
      conn_->accept_cookie(s, o, now_);
      return Disposition::kKeep;
    });
#else
    (void)mss_index;
    conn_->abort(now_);  // this proto has no SYN cookies: nothing to fuzz here
#endif
  }

  // The payload length: usually small, large (TSO super-segments) when the top bit is set.
  static uint32_t payload_len(Reader& r) {
    uint16_t v = r.u16();
    return v & 0x8000 ? v & 0x7fff : v & 0x7ff;
  }
  static int32_t scaled_offset(Reader& r, uint8_t sel) {
    return static_cast<int32_t>(static_cast<int16_t>(r.u16())) * (1 << 4 * (sel >> 2 & 3));
  }

  TcpOptions read_options(Reader& r, uint8_t mask) {
    TcpOptions o;
    if (mask & 1) o.mss = r.u16();
    if (mask & 2) o.wscale = r.u8();
    if (mask & 4) o.sack_permitted = true;
    if (mask & 8) {
      int8_t d = static_cast<int8_t>(r.u8());
      peer_ts_ += d == -128 ? 0x80000000u : static_cast<uint32_t>(d);  // -128: half the space
      o.ts = Timestamps{peer_ts_, mask & 0x10 ? last_tsval_ : r.u32()};
    }
    o.sack_count = static_cast<uint8_t>(mask >> 5 & 3);
    for (size_t i = 0; i < o.sack_count; ++i) {
      // Around SND.UNA: blocks below it are D-SACKs (RFC 2883), above it plain SACKs.
      Seq left = conn_->snd_una() + static_cast<uint32_t>(static_cast<int16_t>(r.u16()));
      o.sack[i] = SackBlock{left, left + r.u16()};
    }
    return o;
  }

  // Delivers one segment whose payload is [seq, seq + len) of the peer's stream (after the SYN),
  // in a buffer of exactly that size, freed as soon as the call returns (as the engine recycles
  // the packet buffer), so ASan catches a connection that keeps a pointer into it.
  template <typename Fn>
  Disposition deliver(SegmentIn seg, uint32_t len, Fn&& call) {
    Seq first = seg.hdr.seq + (seg.hdr.has(Flags::SYN) ? 1 : 0);
    std::vector<uint8_t> bytes(len);
    fill<peer_byte>(bytes, first);
    seg.payload = bytes;
    trace_segment("in ", seg.hdr, len, now_);
    return call(seg);
  }

  void segment(Reader& r) {
    SegmentIn s;
    s.hdr.src_port = cfg_.remote_port;
    s.hdr.dst_port = cfg_.local_port;
    s.hdr.flags = r.u8();
    uint8_t sel = r.u8();
    int32_t off = scaled_offset(r, sel);
    switch (sel & 3) {
      case 0:
        s.hdr.seq = conn_->rcv_nxt() + static_cast<uint32_t>(off);
        break;
      case 1:
        s.hdr.seq = peer_iss_ + static_cast<uint32_t>(off);
        break;
      case 2:
        s.hdr.seq = conn_->rcv_nxt() + conn_->rcv_wnd() + static_cast<uint32_t>(off);
        break;
      default:
        s.hdr.seq = Seq(r.u32());
        break;
    }
    sel = r.u8();
    off = scaled_offset(r, sel);
    switch (sel & 3) {
      case 0:
        s.hdr.ack = conn_->snd_una() + static_cast<uint32_t>(off);
        break;
      case 1:
        s.hdr.ack = conn_->snd_nxt() + static_cast<uint32_t>(off);
        break;
      case 2:
        s.hdr.ack = max_sent_ + static_cast<uint32_t>(off);
        break;
      default:
        s.hdr.ack = Seq(r.u32());
        break;
    }
    s.hdr.window = r.u16();
    uint8_t mask = r.u8();
    s.hdr.opt = read_options(r, mask);
    input(s, payload_len(r));
  }

  // A well-behaved peer's next segment: in order, acknowledging everything we sent.
  void reply(Reader& r) {
    uint8_t b = r.u8();
    SegmentIn s;
    s.hdr.src_port = cfg_.remote_port;
    s.hdr.dst_port = cfg_.local_port;
    s.hdr.flags = Flags::ACK | (b & (Flags::FIN | Flags::PSH));
    s.hdr.seq = conn_->rcv_nxt();
    s.hdr.ack = max_sent_;
    s.hdr.window = b & 0x40 ? 0 : 65535;
    if (conn_->ts_enabled()) s.hdr.opt.ts = Timestamps{++peer_ts_, last_tsval_};
    input(s, (b & 0x20) ? r.u8() * 8u : 0);
  }

  void input(const SegmentIn& s, uint32_t len) {
    State st = conn_->state();
    // A SYN that synchronizes the connection fixes the peer's MSS (before the call: the ACK of
    // it goes out inside on_segment).
    if ((st == State::kSynSent || st == State::kListen) && s.hdr.has(Flags::SYN))
      peer_mss_ = s.hdr.opt.mss ? std::max<uint16_t>(*s.hdr.opt.mss, 64) : 536;
    Disposition d = deliver(s, len,
                            [&](const SegmentIn& seg) { return conn_->on_segment(seg, now_); });
    if (d == Disposition::kReopen)
      FUZZ_CHECK(st == State::kTimeWait && conn_->state() == State::kClosed &&
                     s.hdr.has(Flags::SYN) && !s.hdr.has(Flags::ACK),
                 "kReopen from %s, now %s", state_name(st), state_name(conn_->state()));
  }

  void advance(Reader& r, bool run_timers) {
    uint8_t scale = r.u8();
    uint64_t target = now_ + (static_cast<uint64_t>(r.u16()) << (scale % 29));
    if (!run_timers) {
      now_ = target;
      late_ = true;
      return;
    }
    // As the engine's timer wheel: run each deadline that falls due, in order, at its time.
    for (int guard = 0; guard < 20000; ++guard) {
      uint64_t d = conn_->next_deadline();
      if (d > target) break;
      now_ = std::max(now_, d);
      State before = conn_->state();
      conn_->on_timer(now_);
      FUZZ_CHECK(conn_->next_deadline() > now_,
                 "on_timer(%llu) left a deadline at %llu unhandled (state %s)",
                 static_cast<unsigned long long>(now_),
                 static_cast<unsigned long long>(conn_->next_deadline()),
                 state_name(conn_->state()));
      after_step(before);
    }
    now_ = std::max(now_, target);
    late_ = false;
  }

  void app_send(size_t n) {
    std::vector<uint8_t> data(n);
    Seq start = iss_ + 1 + static_cast<uint32_t>(sent_);
    fill<our_byte>(data, start);
    size_t space = conn_->send_space();
    // transmit() may run inside send(), when the accepted bytes are already in the ring. After
    // close()/shutdown_write() nothing may be accepted (the FIN marks the end of the data).
    sending_ = app_fin_ ? 0 : n;
    size_t k = conn_->send(data, now_);
    sending_ = 0;
    FUZZ_CHECK(k <= n && k <= space, "send accepted %zu of %zu with %zu free", k, n, space);
    FUZZ_CHECK(k == 0 || !app_fin_, "send accepted %zu bytes after the FIN was queued", k);
    sent_ += k;
  }
  // After close() or abort() the application reads no more (RFC 9293 3.10.4).
  void app_read(size_t n) {
    if (app_gone_) return;
    std::vector<uint8_t> buf(n);
    size_t k = conn_->read(buf, now_);
    FUZZ_CHECK(k <= n, "read %zu into %zu", k, n);
    take(std::span<const uint8_t>(buf.data(), k));
  }
  void app_consume(size_t n) {
    if (app_gone_) return;
    TwoSpans s = conn_->peek();
    FUZZ_CHECK(s.size() == conn_->readable(), "peek %zu, readable %zu", s.size(),
               conn_->readable());
    size_t k = std::min(n, s.size());
    size_t ka = std::min(k, s.a.size());
    take(s.a.first(ka));
    take(s.b.first(k - ka));
    conn_->consume(n, now_);
  }
  void app_close() {
    app_fin_ = app_gone_ = true;
    conn_->close(now_);
  }
  void app_abort() {
    app_gone_ = true;
    conn_->abort(now_);
  }
  void app_shutdown() {
    app_fin_ = true;
    conn_->shutdown_write(now_);
  }

  // The application takes these bytes of the peer's stream: they must be the next ones.
  void take(std::span<const uint8_t> d) {
    if (d.empty()) return;
    FUZZ_CHECK(irs_known_, "data delivered before the connection was synchronized");
    Seq first = irs_ + 1 + static_cast<uint32_t>(taken_);
    size_t i = mismatch<peer_byte>(d, first);
    FUZZ_CHECK(i == d.size(), "stream byte %llu (seq %u) is %02x, the peer sent %02x",
               static_cast<unsigned long long>(taken_ + i),
               (first + static_cast<uint32_t>(i)).raw(), i < d.size() ? d[i] : 0,
               peer_byte(first + static_cast<uint32_t>(i)));
    taken_ += d.size();
  }

  // --- checks after every step -----------------------------------------------------------

  void after_step(State before) {
    const Connection& c = *conn_;
    State st = c.state();
    if (kTrace)
      std::fprintf(
          stderr,
          "%12llu -- %s una=%u nxt=%u rcv_nxt=%u wnd=%u snd_wnd=%u cwnd=%u queued=%zu "
          "readable=%zu ooo=%zu taken=%llu sent=%llu deadline=%lld\n",
          static_cast<unsigned long long>(now_), state_name(st), c.snd_una().raw(),
          c.snd_nxt().raw(), c.rcv_nxt().raw(), c.rcv_wnd(), c.snd_wnd(), c.cwnd(), c.send_queued(),
          c.readable(), c.ooo_ranges(), static_cast<unsigned long long>(taken_),
          static_cast<unsigned long long>(sent_),
          c.next_deadline() == kNever ? -1LL : static_cast<long long>(c.next_deadline() - now_));
    FUZZ_CHECK(kTransitions.reach[static_cast<int>(before)] & bit(st),
               "illegal transition %s -> %s", state_name(before), state_name(st));
    if (!irs_known_ && st != State::kClosed && st != State::kListen && st != State::kSynSent) {
      irs_known_ = true;  // no data rides on a SYN here, so RCV.NXT is IRS + 1 right now
      irs_ = c.rcv_nxt() - 1;
    }
    FUZZ_CHECK(c.ooo_ranges() <= cfg_.max_ooo_ranges, "%zu out-of-order ranges, limit %u",
               c.ooo_ranges(), cfg_.max_ooo_ranges);
    if (peer_closed_ && st != State::kClosed)
      FUZZ_CHECK(c.rcv_nxt() == fin_seq_, "RCV.NXT moved from %u to %u after the FIN",
                 fin_seq_.raw(), c.rcv_nxt().raw());
    if (irs_known_ && st != State::kClosed) {
      // Every byte we acknowledge (RCV.NXT) was taken by the application or waits in the
      // receive buffer: acknowledged data is never lost.
      uint64_t in_order = c.rcv_nxt().since(irs_ + 1) - (c.peer_closed() ? 1 : 0);
      FUZZ_CHECK(in_order == taken_ + c.readable(),
                 "acknowledged %llu bytes, the application has %llu",
                 static_cast<unsigned long long>(in_order),
                 static_cast<unsigned long long>(taken_ + c.readable()));
    }
    if (st == State::kClosed) {
      FUZZ_CHECK(c.next_deadline() == kNever, "closed with timers armed");
      return;
    }
    if (st == State::kListen) return;
    FUZZ_CHECK(c.snd_una() <= c.snd_nxt() && c.iss() <= c.snd_una(), "iss %u una %u nxt %u",
               c.iss().raw(), c.snd_una().raw(), c.snd_nxt().raw());
    FUZZ_CHECK(c.snd_nxt() <= iss_ + 2 + static_cast<uint32_t>(sent_), "nxt %u beyond the data",
               c.snd_nxt().raw());
    FUZZ_CHECK(c.rto_us() >= 1000 && c.rto_us() <= cfg_.rto_max_us, "rto %llu",
               static_cast<unsigned long long>(c.rto_us()));
    // The window we offered must fit in the receive buffer beside the unread data, or data we
    // invited would have nowhere to go.
    // (With auto-tuning: the buffer as it is now, which never passes its maximum.)
    const uint32_t rcv_max = std::max(cfg_.recv_buffer, cfg_.recv_buffer_max);
    uint32_t ws = 0;
    while (ws < 14 && (uint64_t{65535} << ws) < rcv_max) ++ws;
    FUZZ_CHECK(c.recv_buffer() >= cfg_.recv_buffer && c.recv_buffer() <= rcv_max,
               "receive buffer %u outside %u..%u", c.recv_buffer(), cfg_.recv_buffer, rcv_max);
    FUZZ_CHECK(c.send_buffer() >= cfg_.send_buffer &&
                   c.send_buffer() <= std::max(cfg_.send_buffer, cfg_.send_buffer_max),
               "send buffer %zu outside its range", c.send_buffer());
    FUZZ_CHECK(c.readable() + c.rcv_wnd() <= c.recv_buffer() + (size_t{1} << ws),
               "window %u + unread %zu exceed the buffer %u", c.rcv_wnd(), c.readable(),
               c.recv_buffer());
    if (sends_data_in(st)) FUZZ_CHECK(c.cwnd() > 0, "cwnd 0");
    if (st != State::kSynSent && st != State::kSynReceived) check_scoreboard(c);
    if (!late_)
      FUZZ_CHECK(c.next_deadline() > now_, "deadline %llu already due at %llu",
                 static_cast<unsigned long long>(c.next_deadline()),
                 static_cast<unsigned long long>(now_));
    // Liveness: whatever the peer does not answer, something must still happen by itself.
    bool waiting = st == State::kSynSent || st == State::kSynReceived || st == State::kTimeWait ||
                   st == State::kFinWait1 || st == State::kClosing || st == State::kLastAck ||
                   ((st == State::kEstablished || st == State::kCloseWait) && c.send_queued() > 0);
    FUZZ_CHECK(!waiting || c.next_deadline() != kNever, "%s with %zu bytes queued and no timer",
               state_name(st), c.send_queued());
  }

  // The sender's scoreboard (RFC 6675 2) tiles SND.UNA..SND.MAX without gaps, and its counters
  // (from which pipe is computed) agree with its records: a drifting counter stalls or floods.
  void check_scoreboard(const Connection& c) {
    const SackScoreboard& sb = c.scoreboard();
    uint32_t mss = c.snd_mss();
    uint32_t max_seg = cfg_.tso_max > mss ? cfg_.tso_max / mss * mss : mss;
    uint32_t total = 0, sacked = 0, lost = 0, retrans = 0, sacked_segs = 0;
    Seq at = c.snd_una();
    for (size_t i = 0; i < sb.size(); ++i) {
      const TxSegment& r = sb.at(i);
      FUZZ_CHECK(
          r.seq == at && r.seg_len() > 0 && r.len <= max_seg && (!r.fin || i + 1 == sb.size()),
          "record %zu: seq %u len %u fin %d, expected seq %u", i, r.seq.raw(), r.len, r.fin,
          at.raw());
      at = r.end();
      total += r.seg_len();
      if (r.has(TxSegment::kSacked)) {
        sacked += r.seg_len();
        ++sacked_segs;
        continue;
      }
      if (r.has(TxSegment::kLost)) lost += r.seg_len();
      if (r.has(TxSegment::kRetrans)) retrans += r.seg_len();
    }
    FUZZ_CHECK(at == max_sent_, "records end at %u, SND.MAX is %u", at.raw(), max_sent_.raw());
    FUZZ_CHECK(total == sb.total_bytes() && sacked == sb.sacked_bytes() &&
                   lost == sb.lost_bytes() && retrans == sb.retrans_bytes() &&
                   sacked_segs == sb.sacked_segments(),
               "scoreboard counters total %u/%u sacked %u/%u lost %u/%u retrans %u/%u segs %u/%u",
               sb.total_bytes(), total, sb.sacked_bytes(), sacked, sb.lost_bytes(), lost,
               sb.retrans_bytes(), retrans, sb.sacked_segments(), sacked_segs);
  }

  // --- Env: what the connection does ------------------------------------------------------

  void transmit(const TcpRepr& h, std::span<const uint8_t> a, std::span<const uint8_t> b) override {
    const Connection& c = *conn_;
    trace_segment("out", h, a.size() + b.size(), now_);
    std::vector<uint8_t> payload(a.begin(), a.end());
    payload.insert(payload.end(), b.begin(), b.end());
    // The engine writes every segment with emit_header; one it cannot write is lost for good.
    std::vector<uint8_t> wire(kHeaderMax + payload.size());
    size_t hl =
        emit_header(h, std::span<uint8_t>(wire.data(), kHeaderMax), kLocalIp, kRemoteIp, a, b);
    FUZZ_CHECK(hl > 0, "emit_header refused a segment (%zu option bytes, %u SACK blocks)",
               options_len(h.opt), h.opt.sack_count);
    std::copy(payload.begin(), payload.end(), wire.begin() + static_cast<std::ptrdiff_t>(hl));
    std::span<const uint8_t> seg(wire.data(), hl + payload.size());
    FUZZ_CHECK(verify_checksum(seg, kLocalIp, kRemoteIp), "bad checksum");
    TcpRepr back;
    std::span<const uint8_t> back_payload;
    FUZZ_CHECK(parse(seg, back, &back_payload) == ParseError::kOk && back == h &&
                   back_payload.size() == payload.size(),
               "segment does not survive emit + parse");
    FUZZ_CHECK(h.src_port == cfg_.local_port && h.dst_port == cfg_.remote_port, "ports");
    // RFC 7323 3.2: once negotiated every non-RST segment carries timestamps, and TSvals never go
    // backwards (5.4; a 1 ms clock wraps its sign after 24 days idle); SACK blocks only when SACK
    // was negotiated (RFC 2018 2); MSS, window scale and SACK-permitted only on SYNs.
    if (h.opt.ts) {
      FUZZ_CHECK(!tsval_known_ || now_ - last_tsval_us_ >= (1ull << 31) * 1000 ||
                     static_cast<int32_t>(h.opt.ts->val - last_tsval_) >= 0,
                 "TSval %u after %u", h.opt.ts->val, last_tsval_);
      last_tsval_ = h.opt.ts->val;
      last_tsval_us_ = now_;
      tsval_known_ = true;
    }
    if (!h.has(Flags::RST) && !h.has(Flags::SYN)) {
      FUZZ_CHECK(h.opt.ts.has_value() == c.ts_enabled(), "timestamps %d, negotiated %d",
                 h.opt.ts.has_value(), c.ts_enabled());
      FUZZ_CHECK(h.opt.sack_count == 0 || c.sack_enabled(), "SACK blocks without SACK-permitted");
      FUZZ_CHECK(!h.opt.mss && !h.opt.wscale && !h.opt.sack_permitted, "SYN option on a non-SYN");
    }

    if (h.has(Flags::RST)) {
      FUZZ_CHECK(payload.empty() && !h.has(Flags::SYN) && !h.has(Flags::FIN), "RST with more");
      return;
    }
    FUZZ_CHECK(c.state() != State::kClosed && c.state() != State::kListen,
               "non-RST segment sent in %s", state_name(c.state()));
    if (h.has(Flags::ACK))
      FUZZ_CHECK(h.ack == c.rcv_nxt(), "ack %u, rcv_nxt %u", h.ack.raw(), c.rcv_nxt().raw());
    if (h.has(Flags::ACK) && !h.has(Flags::SYN)) {
      // RFC 9293 3.8.6: the right edge of the offered window never moves left. (Not for SYN-ACKs:
      // their window is unscaled, at most 65535, RFC 7323 2.2.) With window scaling a field
      // rounded down may show it up to one scale unit left of where it was.
      Seq edge = h.ack + (static_cast<uint32_t>(h.window) << c.rcv_wscale());
      FUZZ_CHECK(!edge_known_ || edge + ((1u << c.rcv_wscale()) - 1) >= max_edge_,
                 "window edge moved left: %u < %u", edge.raw(), max_edge_.raw());
      if (!edge_known_ || edge > max_edge_) max_edge_ = edge;
      edge_known_ = true;
    }
    for (size_t i = 0; i < h.opt.sack_count; ++i) {
      // RFC 2018 3: blocks describe queued data above the cumulative ACK; RFC 2883 4: the first
      // may be a D-SACK, data received twice, then entirely below the ACK.
      const SackBlock& s = h.opt.sack[i];
      FUZZ_CHECK(s.left < s.right && (h.ack < s.left || (i == 0 && s.right <= h.ack)),
                 "SACK block %zu: %u-%u with ack %u", i, s.left.raw(), s.right.raw(), h.ack.raw());
    }
    if (h.has(Flags::SYN)) {
      FUZZ_CHECK(h.seq == iss_ && payload.empty() && !h.has(Flags::FIN), "SYN seq %u", h.seq.raw());
      FUZZ_CHECK(c.state() == (h.has(Flags::ACK) ? State::kSynReceived : State::kSynSent),
                 "SYN%s in %s", h.has(Flags::ACK) ? "-ACK" : "", state_name(c.state()));
      max_sent_ = seq_max(max_sent_, iss_ + 1);
      return;
    }
    FUZZ_CHECK(h.has(Flags::ACK), "segment without ACK after the SYN");
    // Sequence numbers: from a keepalive/zero-window probe (SND.UNA - 1) up to the data end.
    Seq data_end = iss_ + 1 + static_cast<uint32_t>(sent_ + sending_);
    Seq seq_end = data_end + (app_fin_ ? 1 : 0);  // the FIN takes one sequence number
    FUZZ_CHECK(h.seq >= c.snd_una() - 1 &&
                   (payload.empty() || h.seq + static_cast<uint32_t>(payload.size()) <= data_end) &&
                   h.seq + h.seg_len(payload.size()) <= seq_end,
               "seq %u len %zu outside [%u, %u]", h.seq.raw(), payload.size(),
               c.snd_una().raw() - 1, seq_end.raw());
    if (!payload.empty() || h.has(Flags::FIN))
      FUZZ_CHECK(sends_data_in(c.state()), "data or FIN sent in %s", state_name(c.state()));
    if (h.has(Flags::FIN))
      FUZZ_CHECK(app_fin_ && h.seq + static_cast<uint32_t>(payload.size()) == data_end,
                 "FIN at %u, data ends at %u",
                 (h.seq + static_cast<uint32_t>(payload.size())).raw(), data_end.raw());
    // One MSS, or with TSO a super-segment of whole MSS that the engine can still write.
    uint32_t mss = c.snd_mss();
    uint32_t max_seg = cfg_.tso_max > mss ? cfg_.tso_max / mss * mss : mss;
    FUZZ_CHECK(payload.size() <= max_seg && mss <= std::min<uint32_t>(peer_mss_, cfg_.mss),
               "%zu bytes, snd_mss %u, peer MSS %u", payload.size(), mss, peer_mss_);
    FUZZ_CHECK(20 + hl + payload.size() <= 65535, "%zu-byte datagram", 20 + hl + payload.size());
    size_t bad = mismatch<our_byte>(payload, h.seq);
    FUZZ_CHECK(bad == payload.size(), "byte %zu of a segment at seq %u is not the application's",
               bad, h.seq.raw());
    // New data stays inside the peer's window (RFC 9293 3.8.6); only retransmissions of the
    // head may go beyond a window that shrank.
    if (!payload.empty() && h.seq >= max_sent_)
      FUZZ_CHECK(h.seq + static_cast<uint32_t>(payload.size()) <= c.snd_una() + c.snd_wnd(),
                 "new data %u-%u beyond the window %u+%u", h.seq.raw(),
                 (h.seq + static_cast<uint32_t>(payload.size())).raw(), c.snd_una().raw(),
                 c.snd_wnd());
    max_sent_ = seq_max(max_sent_, h.seq + h.seg_len(payload.size()));
  }

  void on_established() override {
    FUZZ_CHECK(++established_ == 1, "on_established twice");
    FUZZ_CHECK(conn_->state() == State::kEstablished || conn_->state() == State::kFinWait1,
               "on_established in %s", state_name(conn_->state()));
    switch (policy_.on_established) {
      case 1:
        app_send(2000);
        break;
      case 2:
        app_close();
        break;
      case 3:
        app_abort();
        break;
      default:
        break;
    }
  }
  size_t on_data(std::span<const uint8_t> data) override {
    FUZZ_CHECK(closed_ == 0 && !data.empty(), "on_data after close or empty");
    size_t n = data.size();
    if (policy_.on_data == 5) {
      // Reads from the receive buffer instead of taking the span, and consumes nothing of it.
      app_read(conn_->readable());
      return 0;
    }
    switch (policy_.consume) {
      case 1:
        n = 0;
        break;
      case 2:
        n /= 2;
        break;
      case 3:
        n = 1;
        break;
      default:
        break;
    }
    take(data.first(n));
    switch (policy_.on_data) {
      case 1:
        app_send(n);
        break;
      case 2:
        app_shutdown();
        break;
      case 3:
        app_close();
        break;
      case 4:
        app_abort();
        break;
      default:
        break;
    }
    return n;
  }
  void on_writable() override {
    if (policy_.refill_on_writable) app_send(4000);
  }
  void on_peer_closed() override {
    FUZZ_CHECK(++peer_closed_ == 1 && conn_->peer_closed(), "on_peer_closed twice");
    fin_seq_ = conn_->rcv_nxt();  // nothing more is accepted after the peer's FIN
    switch (policy_.on_peer_closed) {
      case 1:
        app_close();
        break;
      case 2:
        app_shutdown();
        break;
      case 3:
        app_abort();
        break;
      default:
        break;
    }
  }
  void on_closed(CloseReason) override {
    FUZZ_CHECK(++closed_ == 1 && conn_->state() == State::kClosed, "on_closed twice or not closed");
    if (policy_.poke_when_closed) {
      app_send(100);
      app_read(100);
      app_close();
      app_abort();
      FUZZ_CHECK(conn_->state() == State::kClosed, "a closed connection came back");
    }
  }

  Config cfg_;
  std::unique_ptr<Connection> conn_;
  uint64_t now_ = 1'000'000'000;  // µs; any monotonic origin
  bool late_ = false;             // the clock moved without running the timers that fell due
  Seq iss_, peer_iss_, irs_;
  bool irs_known_ = false;
  uint32_t peer_mss_ = 536;
  uint64_t taken_ = 0;     // bytes of the peer's stream the application has taken
  uint64_t sent_ = 0;      // bytes the application has handed to send()
  uint64_t sending_ = 0;   // bytes of the send() call in progress
  bool app_fin_ = false;   // close() or shutdown_write() was called
  bool app_gone_ = false;  // close() or abort() was called
  Seq max_sent_;           // highest sequence number we have sent (SND.MAX)
  Seq max_edge_;
  bool edge_known_ = false;
  uint32_t peer_ts_ = 1;
  uint32_t last_tsval_ = 0;
  bool tsval_known_ = false;
  uint64_t last_tsval_us_ = 0;
  Seq fin_seq_;  // RCV.NXT after the peer's FIN
  Policy policy_;
  int established_ = 0, peer_closed_ = 0, closed_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  h.run(Reader{data, size});
  return 0;
}
