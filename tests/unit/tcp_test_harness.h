// Packetdrill-style helpers for tcp::Connection tests: the test plays the remote peer, sends
// crafted segments with peer(...), and asserts each segment the connection emits with
// expect(...). A fake clock advances with advance(), running timers when they fall due.
// Every emitted segment is also written with emit_header() and parsed back, so the wire code
// is exercised by every test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <initializer_list>
#include <vector>

#include "proto/tcp/connection.h"
#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp::testing {

using F = Flags;

constexpr uint32_t kLocalIp = 0xC6120002;   // 198.18.0.2
constexpr uint32_t kRemoteIp = 0xC6120001;  // 198.18.0.1
constexpr uint16_t kLocalPort = 80;
constexpr uint16_t kRemotePort = 49152;
constexpr uint32_t kIss = 5000;       // our ISS
constexpr uint32_t kPeerIss = 1000;   // the peer's ISS
constexpr uint64_t kMs = 1000;
constexpr uint64_t kSec = 1000 * kMs;

struct Sent {
  TcpRepr h;
  std::vector<uint8_t> payload;
  std::string text() const { return std::string(payload.begin(), payload.end()); }
};

class TestEnv : public Env {
 public:
  void transmit(const TcpRepr& hdr, std::span<const uint8_t> a, std::span<const uint8_t> b) override {
    Sent s{hdr, {}};
    s.payload.insert(s.payload.end(), a.begin(), a.end());
    s.payload.insert(s.payload.end(), b.begin(), b.end());
    // Round trip through the one segment builder and parser.
    uint8_t buf[kHeaderMax + 2000];
    size_t hl = emit_header(hdr, std::span<uint8_t>(buf, kHeaderMax), kLocalIp, kRemoteIp, a, b);
    EXPECT_GT(hl, 0u);
    if (hl && s.payload.size() <= 2000) {
      std::copy(s.payload.begin(), s.payload.end(), buf + hl);
      std::span<const uint8_t> seg(buf, hl + s.payload.size());
      EXPECT_TRUE(verify_checksum(seg, kLocalIp, kRemoteIp));
      TcpRepr back;
      std::span<const uint8_t> pl;
      EXPECT_EQ(parse(seg, back, &pl), ParseError::kOk);
      EXPECT_EQ(back, hdr);
      EXPECT_EQ(pl.size(), s.payload.size());
    }
    out.push_back(std::move(s));
  }
  void on_established() override { ++established; }
  size_t on_data(std::span<const uint8_t> d) override {
    ++data_events;
    size_t n = std::min(d.size(), consume_limit);
    received.append(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
    if (consume_limit != SIZE_MAX) consume_limit -= n;
    return n;
  }
  void on_writable() override { ++writable; }
  void on_peer_closed() override { ++peer_closed; }
  bool grow_buffer(size_t n) override {
    if (!allow_grow) return false;
    grown += n;
    return true;
  }
  void on_closed(CloseReason r) override {
    EXPECT_FALSE(closed.has_value()) << "on_closed raised twice";
    closed = r;
  }

  std::deque<Sent> out;
  std::string received;
  size_t consume_limit = SIZE_MAX;  // bytes on_data() will still consume
  bool allow_grow = true;           // the answer to grow_buffer()
  size_t grown = 0;                 // bytes of buffer growth granted
  int established = 0;
  int data_events = 0;
  int writable = 0;
  int peer_closed = 0;
  std::optional<CloseReason> closed;
};

inline TcpOptions opts_none() { return {}; }
inline TcpOptions opts_syn(std::optional<uint16_t> mss = 1460, std::optional<uint8_t> ws = {},
                           bool sack = false, std::optional<Timestamps> ts = {}) {
  TcpOptions o;
  o.mss = mss;
  o.wscale = ws;
  o.sack_permitted = sack;
  o.ts = ts;
  return o;
}
inline TcpOptions opts_ts(uint32_t val, uint32_t ecr) {
  TcpOptions o;
  o.ts = Timestamps{val, ecr};
  return o;
}

class TcpTest : public ::testing::Test {
 protected:
  // Plain defaults: no options beyond MSS, a window that needs no scaling.
  static Config base_config() {
    Config c;
    c.local_addr = kLocalIp;
    c.remote_addr = kRemoteIp;
    c.local_port = kLocalPort;
    c.remote_port = kRemotePort;
    c.mss = 1460;
    c.recv_buffer = 65535;
    c.send_buffer = 65536;
    c.window_scaling = false;
    c.timestamps = false;
    c.sack = false;
    return c;
  }

  void make(const Config& c) {
    cfg = c;
    conn = std::make_unique<Connection>(cfg, env);
  }
  void make() { make(base_config()); }

  // The peer sends a segment. Payload bytes live in `buffers_`.
  Disposition peer(uint8_t flags, uint32_t seq, uint32_t ack, std::string_view data = {},
                   uint16_t win = 65535, const TcpOptions& opt = {}) {
    SegmentIn s;
    s.hdr.src_port = kRemotePort;
    s.hdr.dst_port = kLocalPort;
    s.hdr.seq = Seq(seq);
    s.hdr.ack = Seq(ack);
    s.hdr.flags = flags;
    s.hdr.window = win;
    s.hdr.opt = opt;
    buffers_.emplace_back(data.begin(), data.end());
    s.payload = std::span<const uint8_t>(buffers_.back().data(), buffers_.back().size());
    return conn->on_segment(s, now);
  }
  Disposition peer_opt(uint8_t flags, uint32_t seq, uint32_t ack, const TcpOptions& opt,
                       std::string_view data = {}, uint16_t win = 65535) {
    return peer(flags, seq, ack, data, win, opt);
  }

  // Pops the next emitted segment and checks it. win < 0 means "don't check".
  Sent expect(uint8_t flags, uint32_t seq, uint32_t ack, int win = -1, size_t len = 0) {
    if (env.out.empty()) {
      ADD_FAILURE() << "expected a segment, none was sent";
      return {};
    }
    Sent s = std::move(env.out.front());
    env.out.pop_front();
    EXPECT_EQ(static_cast<int>(s.h.flags), static_cast<int>(flags)) << "flags";
    EXPECT_EQ(s.h.seq.raw(), seq) << "seq";
    if (flags & F::ACK) {
      EXPECT_EQ(s.h.ack.raw(), ack) << "ack";
    }
    if (win >= 0) {
      EXPECT_EQ(static_cast<int>(s.h.window), win) << "window";
    }
    EXPECT_EQ(s.payload.size(), len) << "payload length";
    EXPECT_EQ(s.h.src_port, kLocalPort);
    EXPECT_EQ(s.h.dst_port, kRemotePort);
    return s;
  }
  void expect_none() {
    if (!env.out.empty()) {
      const Sent& s = env.out.front();
      ADD_FAILURE() << "unexpected segment flags=" << int(s.h.flags) << " seq=" << s.h.seq.raw()
                    << " ack=" << s.h.ack.raw() << " len=" << s.payload.size();
      env.out.clear();
    }
  }

  // Moves the clock to now + us, running every timer that falls due on the way.
  void advance(uint64_t us) {
    uint64_t target = now + us;
    for (int guard = 0; guard < 10000; ++guard) {
      uint64_t d = conn->next_deadline();
      if (d > target) break;
      now = std::max(now, d);
      conn->on_timer(now);
    }
    now = target;
  }
  // Runs timers due exactly now (after a manual now change).
  void tick() { conn->on_timer(now); }

  size_t app_send(std::string_view s) {
    return conn->send(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()), now);
  }
  static std::string bytes(size_t n, char c = 'x') { return std::string(n, c); }

  // The peer's SYN (window 65535, options `opt`) to a connection that accepts it.
  void peer_syn(const TcpOptions& opt) {
    SegmentIn syn;
    syn.hdr.src_port = kRemotePort;
    syn.hdr.dst_port = kLocalPort;
    syn.hdr.seq = Seq(kPeerIss);
    syn.hdr.flags = F::SYN;
    syn.hdr.window = 65535;
    syn.hdr.opt = opt;
    conn->accept_syn(syn, Seq(kIss), now);
  }

  // Passive open with plain options: SYN in, SYN-ACK out, ACK in. Ends in ESTABLISHED with
  // our next seq kIss+1 and the peer's kPeerIss+1.
  void establish_passive(uint16_t peer_win = 65535) {
    if (!conn) make();
    peer_syn(opts_syn(1460));
    expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    peer(F::ACK, kPeerIss + 1, kIss + 1, {}, peer_win);
    ASSERT_EQ(conn->state(), State::kEstablished);
    expect_none();
  }
  // Active open with plain options.
  void establish_active(uint16_t peer_win = 65535) {
    if (!conn) make();
    conn->connect(Seq(kIss), now);
    expect(F::SYN, kIss, 0);
    peer_opt(F::SYN | F::ACK, kPeerIss, kIss + 1, opts_syn(1460), {}, peer_win);
    ASSERT_EQ(conn->state(), State::kEstablished);
    expect(F::ACK, kIss + 1, kPeerIss + 1);
    expect_none();
  }

  // Passive open with SACK (and no other option) over a path of the given round-trip time:
  // the SYN-ACK is acknowledged `rtt` later, which gives the first RTT sample.
  void establish_sack(uint64_t rtt = 50 * kMs, uint16_t peer_win = 65535) {
    if (!conn) {
      Config c = base_config();
      c.sack = true;
      make(c);
    }
    peer_syn(opts_syn(1460, {}, true));
    expect(F::SYN | F::ACK, kIss, kPeerIss + 1);
    advance(rtt);
    peer(F::ACK, kPeerIss + 1, kIss + 1, {}, peer_win);
    ASSERT_EQ(conn->state(), State::kEstablished);
    ASSERT_TRUE(conn->sack_enabled());
    expect_none();
  }
  // SACK blocks as [left, right) pairs of absolute sequence numbers (the first is reported
  // first, so a D-SACK goes first).
  static TcpOptions sacks(std::initializer_list<std::pair<uint32_t, uint32_t>> blocks) {
    TcpOptions o;
    for (auto [l, r] : blocks) o.sack[o.sack_count++] = SackBlock{Seq(l), Seq(r)};
    return o;
  }
  // The peer acknowledges `ack` with SACK blocks.
  void peer_sack(uint32_t ack, std::initializer_list<std::pair<uint32_t, uint32_t>> blocks) {
    peer(F::ACK, kPeerIss + 1, ack, {}, 65535, sacks(blocks));
  }

  Config cfg;
  TestEnv env;
  std::unique_ptr<Connection> conn;
  uint64_t now = 1'000'000;
  std::deque<std::vector<uint8_t>> buffers_;
};

}  // namespace tuntcp::proto::tcp::testing
