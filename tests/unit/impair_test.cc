// The netem-like impairment (engine/impair.h, engine/impair_spec.h): spec parsing and the flags,
// loss / duplication / corruption rates over 100k packets for a fixed seed, delay and jitter
// bounds, reordering, rate pacing, blackout edges, the held-queue bound, and that a corrupted
// TCP segment fails the receiver's checksum with and without checksum offload.
#include "engine/impair.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/options.h"
#include "io/vnet.h"
#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/ipv4.h"
#include "proto/tcp/wire.h"

namespace tuntcp::engine {
namespace {

ImpairSpec parse_ok(const std::string& text) {
  ImpairSpec s;
  std::string err;
  EXPECT_TRUE(parse_impair_spec(text, s, err)) << text << ": " << err;
  return s;
}

std::string parse_err(const std::string& text) {
  ImpairSpec s;
  std::string err;
  EXPECT_FALSE(parse_impair_spec(text, s, err)) << "accepted: " << text;
  EXPECT_FALSE(err.empty()) << text;
  EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
  return err;
}

// ---------------------------------------------------------------------------------------------
// Spec parsing

TEST(ImpairSpec, ParsesEveryKey) {
  const ImpairSpec s = parse_ok(
      "loss=1%,loss-corr=25%,delay=20ms,jitter=5ms,dist=normal,reorder=25%,duplicate=5%,"
      "corrupt=0.5%,rate=100mbit,limit=500,blackout=5s@3s,blackout=250ms@10s");
  EXPECT_DOUBLE_EQ(s.loss, 0.01);
  EXPECT_DOUBLE_EQ(s.loss_corr, 0.25);
  EXPECT_EQ(s.delay_us, 20000u);
  EXPECT_EQ(s.jitter_us, 5000u);
  EXPECT_EQ(s.dist, JitterDist::kNormal);
  EXPECT_DOUBLE_EQ(s.reorder, 0.25);
  EXPECT_DOUBLE_EQ(s.duplicate, 0.05);
  EXPECT_DOUBLE_EQ(s.corrupt, 0.005);
  EXPECT_EQ(s.rate_bps, 100000000u);
  EXPECT_EQ(s.limit, 500u);
  ASSERT_EQ(s.blackouts.size(), 2u);
  EXPECT_EQ(s.blackouts[0].length_us, 5000000u);
  EXPECT_EQ(s.blackouts[0].start_us, 3000000u);
  EXPECT_EQ(s.blackouts[1].length_us, 250000u);
  EXPECT_EQ(s.blackouts[1].start_us, 10000000u);
  EXPECT_TRUE(s.active());
  EXPECT_TRUE(s.holds());
}

TEST(ImpairSpec, EmptyAndNoneAreInactive) {
  EXPECT_FALSE(parse_ok("").active());
  EXPECT_FALSE(parse_ok("none").active());
  EXPECT_EQ(describe(parse_ok("none")), "none");
  EXPECT_FALSE(parse_ok("loss=1%").holds());
  EXPECT_TRUE(parse_ok("rate=1gbit").holds());
}

TEST(ImpairSpec, DescribeRoundTrips) {
  const std::string text =
      "loss=10%,delay=1500us,jitter=2ms,reorder=30%,duplicate=1%,corrupt=2%,rate=8000bit,limit=7,"
      "blackout=1s@2s";
  const ImpairSpec a = parse_ok(text);
  const ImpairSpec b = parse_ok(describe(a));
  EXPECT_EQ(describe(a), describe(b));
  EXPECT_DOUBLE_EQ(b.loss, 0.1);
  EXPECT_EQ(b.delay_us, 1500u);
  EXPECT_EQ(b.rate_bps, 8000u);
  EXPECT_EQ(b.limit, 7u);
  ASSERT_EQ(b.blackouts.size(), 1u);
}

TEST(ImpairSpec, RejectsBadSpecsWithOneLine) {
  for (const char* bad :
       {"loss=1", "loss=101%", "loss=-1%", "loss=%", "loss=abc", "delay=5", "delay=5xs", "delay=2h",
        "jitter=-1ms", "reorder=5%", "foo=1", "loss", "loss=1%,loss=2%", "blackout=5s",
        "blackout=0s@1s", "blackout=1s@x", "rate=10", "rate=0mbit", "limit=0", "limit=1x",
        "dist=pareto", "loss=1%,", ",loss=1%", "loss-corr=100%", "loss-corr=5%"}) {
    parse_err(bad);
  }
  EXPECT_NE(parse_err("reorder=25%").find("needs delay"), std::string::npos);
  EXPECT_NE(parse_err("bogus=1").find("unknown key 'bogus'"), std::string::npos);
}

// --impair* through the real command line: both directions, one direction, conflicts, exit 2.
std::optional<Options> cli(std::vector<std::string> args, int& code) {
  args.insert(args.begin(), "tuntcp");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  code = -1;
  return parse_options(static_cast<int>(args.size()), argv.data(), code);
}

TEST(ImpairSpec, CommandLineFlags) {
  int code;
  auto o = cli({"--impair", "loss=1%,delay=20ms", "--impair-seed", "42"}, code);
  ASSERT_TRUE(o.has_value());
  EXPECT_DOUBLE_EQ(o->impair_in.loss, 0.01);
  EXPECT_EQ(o->impair_out.delay_us, 20000u);
  EXPECT_EQ(o->impair_seed, 42u);
  EXPECT_NE(describe(*o).find("impair-in=loss=1%"), std::string::npos);

  o = cli({"--impair-out", "corrupt=1%"}, code);
  ASSERT_TRUE(o.has_value());
  EXPECT_FALSE(o->impair_in.active());
  EXPECT_DOUBLE_EQ(o->impair_out.corrupt, 0.01);

  o = cli({}, code);
  ASSERT_TRUE(o.has_value());
  EXPECT_FALSE(o->impair_in.active() || o->impair_out.active());

  for (auto bad : std::vector<std::vector<std::string>>{{"--impair", "loss=1%", "--impair-in", "loss=2%"},
                                                        {"--impair-in", "loss=1"},
                                                        {"--impair-out", "reorder=1%"},
                                                        {"--impair-seed", "x"}}) {
    EXPECT_FALSE(cli(bad, code).has_value()) << bad[0] << " " << bad[1];
    EXPECT_EQ(code, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Rates and timing over many packets

constexpr int kPackets = 100000;

// Counts of each outcome of `n` decisions at 1 us intervals.
struct Tally {
  int lost = 0, duplicated = 0, corrupt = 0, reordered = 0, blackout = 0, copies = 0;
  std::vector<uint64_t> delays;
};
Tally run(const std::string& spec, uint64_t seed = 7, int n = kPackets) {
  Impairment imp(parse_ok(spec), seed, 0);
  Tally t;
  for (int i = 0; i < n; ++i) {
    const uint64_t now = 1000000 + static_cast<uint64_t>(i);
    const Verdict v = imp.decide(now, 1500);
    if (v.blackout) {
      ++t.blackout;
      continue;
    }
    t.duplicated += v.duplicate;
    for (const Fate* f : {&v.first, v.duplicate ? &v.second : nullptr}) {
      if (!f) continue;
      ++t.copies;
      t.lost += f->lost;
      t.corrupt += f->corrupt;
      t.reordered += f->reordered;
      if (!f->lost) t.delays.push_back(f->release_us - now);
    }
  }
  return t;
}

// Within 5 standard deviations of the binomial mean: a fixed seed passes or fails for good.
void expect_rate(int count, int trials, double p, const char* what) {
  const double mean = trials * p, sd = std::sqrt(trials * p * (1 - p));
  EXPECT_NEAR(count, mean, 5 * sd) << what;
}

TEST(Impairment, LossDuplicationCorruptionRates) {
  Tally t = run("loss=1%");
  expect_rate(t.lost, kPackets, 0.01, "loss 1%");
  t = run("loss=10%");
  expect_rate(t.lost, kPackets, 0.10, "loss 10%");
  t = run("duplicate=5%");
  expect_rate(t.duplicated, kPackets, 0.05, "duplicate 5%");
  EXPECT_EQ(t.copies, kPackets + t.duplicated);
  t = run("corrupt=1%");
  expect_rate(t.corrupt, kPackets, 0.01, "corrupt 1%");
  t = run("loss=100%");
  EXPECT_EQ(t.lost, kPackets);
  t = run("delay=1ms");
  EXPECT_EQ(t.lost + t.duplicated + t.corrupt, 0);
}

TEST(Impairment, CorrelatedLossKeepsTheRateAndClusters) {
  Impairment imp(parse_ok("loss=10%,loss-corr=50%"), 3, 0);
  int lost = 0, after_loss = 0, lost_after_loss = 0;
  bool prev = false;
  for (int i = 0; i < kPackets; ++i) {
    const bool l = imp.decide(static_cast<uint64_t>(i), 100).first.lost;
    lost += l;
    if (prev) {
      ++after_loss;
      lost_after_loss += l;
    }
    prev = l;
  }
  EXPECT_NEAR(lost, kPackets * 0.10, kPackets * 0.01);
  // P(loss | loss before) = p + c (1 - p) = 0.55, against 0.10 without correlation.
  EXPECT_NEAR(static_cast<double>(lost_after_loss) / after_loss, 0.55, 0.03);
}

TEST(Impairment, SameSeedSameDecisions) {
  const Tally a = run("loss=5%,delay=10ms,jitter=3ms,duplicate=5%", 11, 10000);
  const Tally b = run("loss=5%,delay=10ms,jitter=3ms,duplicate=5%", 11, 10000);
  const Tally c = run("loss=5%,delay=10ms,jitter=3ms,duplicate=5%", 12, 10000);
  EXPECT_EQ(a.delays, b.delays);
  EXPECT_EQ(a.lost, b.lost);
  EXPECT_NE(a.delays, c.delays);
}

TEST(Impairment, UniformJitterStaysWithinBounds) {
  const Tally t = run("delay=20ms,jitter=5ms");
  ASSERT_EQ(t.delays.size(), static_cast<size_t>(kPackets));
  const auto [lo, hi] = std::minmax_element(t.delays.begin(), t.delays.end());
  EXPECT_GE(*lo, 15000u);
  EXPECT_LE(*hi, 25000u);
  EXPECT_LT(*lo, 15100u);  // the whole range is used
  EXPECT_GT(*hi, 24900u);
  double sum = 0;
  for (auto d : t.delays) sum += static_cast<double>(d);
  EXPECT_NEAR(sum / kPackets, 20000, 50);
}

TEST(Impairment, ConstantDelayWithoutJitter) {
  const Tally t = run("delay=7ms");
  for (auto d : t.delays) ASSERT_EQ(d, 7000u);
}

TEST(Impairment, NormalJitterHasTheRightSpreadAndNeverGoesNegative) {
  Tally t = run("delay=20ms,jitter=5ms,dist=normal");
  double sum = 0, sq = 0;
  for (auto d : t.delays) sum += static_cast<double>(d);
  const double mean = sum / static_cast<double>(t.delays.size());
  for (auto d : t.delays) sq += (static_cast<double>(d) - mean) * (static_cast<double>(d) - mean);
  EXPECT_NEAR(mean, 20000, 100);
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(t.delays.size())), 5000, 100);
  t = run("delay=1ms,jitter=5ms,dist=normal", 5, 10000);
  EXPECT_GT(std::count(t.delays.begin(), t.delays.end(), 0u), 1000);  // clamped at zero
}

TEST(Impairment, ReorderSendsAFractionAtOnce) {
  const Tally t = run("delay=10ms,reorder=25%");
  expect_rate(t.reordered, kPackets, 0.25, "reorder 25%");
  EXPECT_EQ(std::count(t.delays.begin(), t.delays.end(), 0u), t.reordered);
  EXPECT_EQ(std::count(t.delays.begin(), t.delays.end(), 10000u), kPackets - t.reordered);
}

TEST(Impairment, RateSerialisesPackets) {
  // 8 Mbit/s = one byte per microsecond: 1000-byte packets leave 1000 us apart.
  Impairment imp(parse_ok("rate=8mbit"), 1, 0);
  uint64_t prev = 0;
  for (int i = 0; i < 10; ++i) {
    const uint64_t r = imp.decide(500, 1000).first.release_us;
    EXPECT_EQ(r, 500 + 1000u * static_cast<uint64_t>(i + 1));
    EXPECT_GT(r, prev);
    prev = r;
  }
  // An idle link starts afresh.
  EXPECT_EQ(imp.decide(1000000, 1000).first.release_us, 1001000u);
}

TEST(Impairment, BlackoutWindowIsExact) {
  const uint64_t start = 123456;
  Impairment imp(parse_ok("blackout=5s@3s"), 1, start);
  EXPECT_FALSE(imp.in_blackout(start));
  EXPECT_FALSE(imp.in_blackout(start + 3000000 - 1));
  EXPECT_TRUE(imp.in_blackout(start + 3000000));
  EXPECT_TRUE(imp.in_blackout(start + 8000000 - 1));
  EXPECT_FALSE(imp.in_blackout(start + 8000000));
  EXPECT_TRUE(imp.decide(start + 4000000, 100).blackout);
  EXPECT_FALSE(imp.decide(start + 9000000, 100).blackout);
}

// ---------------------------------------------------------------------------------------------
// The held queue and the path through a port

TEST(HeldQueue, EarliestFirstFifoOnTiesAndBounded) {
  HeldQueue q(4);
  EXPECT_EQ(q.next_release_us(), kNoRelease);
  EXPECT_TRUE(q.push(30, 1, 0, 0));
  EXPECT_TRUE(q.push(10, 2, 0, 0));
  EXPECT_TRUE(q.push(10, 3, 0, 0));
  EXPECT_TRUE(q.push(20, 4, 0, 0));
  EXPECT_FALSE(q.push(5, 5, 0, 0));  // full
  EXPECT_EQ(q.next_release_us(), 10u);
  HeldQueue::Entry e;
  EXPECT_FALSE(q.pop_due(9, e));
  std::vector<uint32_t> order;
  while (q.pop_due(25, e)) order.push_back(e.id);
  EXPECT_EQ(order, (std::vector<uint32_t>{2, 3, 4}));
  EXPECT_TRUE(q.pop_due(kNoRelease, e));
  EXPECT_EQ(e.id, 1u);
  EXPECT_EQ(q.size(), 0u);
}

// A port over plain vectors that records what happens to each buffer.
struct FakePort final : ImpairPort {
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<uint32_t> passed, dropped;
  uint32_t copies_left = ~0u;
  uint32_t add(std::vector<uint8_t> b) {
    bufs.push_back(std::move(b));
    return static_cast<uint32_t>(bufs.size() - 1);
  }
  uint8_t* data(uint32_t id) override { return bufs[id].data(); }
  uint32_t copy(uint32_t id, uint32_t) override {
    if (copies_left == 0) return kNoCopy;
    --copies_left;
    return add(bufs[id]);
  }
  void pass(uint32_t id, uint32_t, uint32_t) override { passed.push_back(id); }
  void drop(uint32_t id) override { dropped.push_back(id); }
};

struct PathFixture {
  ReaderStats stats;
  FakePort port;
  ImpairedPath path;
  explicit PathFixture(const std::string& spec, uint32_t vnet_len = 0)
      : path(parse_ok(spec), 9, 0, vnet_len,
             ImpairCounters{&stats.impair_in_dropped, &stats.impair_in_delayed,
                            &stats.impair_in_duplicated, &stats.impair_in_corrupted,
                            &stats.impair_in_reordered, &stats.impair_in_overflow}) {}
};

TEST(ImpairedPath, HeldQueueBoundDropsAndCounts) {
  PathFixture f("delay=1s,limit=10");
  for (int i = 0; i < 15; ++i) f.path.admit(f.port.add({0}), 1, 0, 100, f.port);
  EXPECT_EQ(f.path.held(), 10u);
  EXPECT_EQ(f.stats.impair_in_delayed.get(), 10u);
  EXPECT_EQ(f.stats.impair_in_overflow.get(), 5u);
  EXPECT_EQ(f.port.dropped, (std::vector<uint32_t>{10, 11, 12, 13, 14}));
  EXPECT_TRUE(f.port.passed.empty());
  EXPECT_EQ(f.path.next_release_us(), 1000100u);
  f.path.release_due(1000099, f.port);
  EXPECT_TRUE(f.port.passed.empty());
  f.path.release_due(1000100, f.port);
  EXPECT_EQ(f.port.passed.size(), 10u);
  EXPECT_EQ(f.path.held(), 0u);
}

TEST(ImpairedPath, ReorderingOvertakesHeldPackets) {
  PathFixture f("delay=10ms,reorder=25%");
  for (uint32_t i = 0; i < 1000; ++i) f.path.admit(f.port.add({0}), 1, 0, 100 + i, f.port);
  f.path.release_due(kNoRelease - 1, f.port);
  ASSERT_EQ(f.port.passed.size(), 1000u);
  EXPECT_FALSE(std::is_sorted(f.port.passed.begin(), f.port.passed.end()));
  EXPECT_GT(f.stats.impair_in_reordered.get(), 150u);
  // The delayed ones keep their order among themselves.
  std::vector<uint32_t> late(f.port.passed.end() - static_cast<long>(f.stats.impair_in_delayed.get()),
                             f.port.passed.end());
  EXPECT_TRUE(std::is_sorted(late.begin(), late.end()));
}

TEST(ImpairedPath, DuplicatesAreCopiesAndFlushAllEmptiesTheQueue) {
  PathFixture f("duplicate=100%,delay=1ms");
  const uint32_t id = f.port.add({1, 2, 3});
  f.path.admit(id, 3, 0, 0, f.port);
  EXPECT_EQ(f.stats.impair_in_duplicated.get(), 1u);
  EXPECT_EQ(f.path.held(), 2u);
  f.path.flush_all(f.port, true);
  ASSERT_EQ(f.port.passed.size(), 2u);
  EXPECT_NE(f.port.passed[0], f.port.passed[1]);
  EXPECT_EQ(f.port.bufs[f.port.passed[0]], f.port.bufs[f.port.passed[1]]);

  // No buffer for the copy: the original still goes, nothing is counted as duplicated.
  PathFixture g("duplicate=100%");
  g.port.copies_left = 0;
  g.path.admit(g.port.add({1}), 1, 0, 0, g.port);
  EXPECT_EQ(g.port.passed.size(), 1u);
  EXPECT_EQ(g.stats.impair_in_duplicated.get(), 0u);

  // At shutdown the reader drops what it still holds.
  PathFixture h("delay=1s");
  h.path.admit(h.port.add({1}), 1, 0, 0, h.port);
  h.path.flush_all(h.port, false);
  EXPECT_EQ(h.port.dropped.size(), 1u);
  EXPECT_EQ(h.path.held(), 0u);
}

TEST(ImpairedPath, BlackoutDropsEverything) {
  PathFixture f("blackout=1s@0s,duplicate=100%");
  for (uint32_t i = 0; i < 100; ++i) f.path.admit(f.port.add({0}), 1, 0, i * 1000, f.port);
  EXPECT_EQ(f.port.dropped.size(), 100u);
  EXPECT_EQ(f.stats.impair_in_dropped.get(), 100u);
  EXPECT_EQ(f.stats.impair_in_duplicated.get(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Corruption must be caught by the receiver's checksum

constexpr uint32_t kSrc = 0xc6120001, kDst = 0xc6120002;

// A TCP/IPv4 datagram with `payload` bytes and a correct checksum, after `vnet_len` bytes.
std::vector<uint8_t> tcp_packet(size_t payload, uint32_t vnet_len) {
  std::vector<uint8_t> b(vnet_len + 40 + payload);
  uint8_t* ip = b.data() + vnet_len;
  for (size_t i = 0; i < payload; ++i) ip[40 + i] = static_cast<uint8_t>(i * 7 + 1);
  proto::tcp::TcpRepr h;
  h.src_port = 5000;
  h.dst_port = 7;
  h.flags = proto::tcp::Flags::ACK;
  h.window = 1000;
  EXPECT_EQ(proto::tcp::emit_header(h, {ip + 20, 20}, kSrc, kDst, {ip + 40, payload}), 20u);
  proto::Ipv4Repr r;
  r.src = kSrc;
  r.dst = kDst;
  r.protocol = proto::ipproto::kTcp;
  r.payload_len = static_cast<uint16_t>(20 + payload);
  proto::emit_ipv4(r, ip);
  return b;
}

bool tcp_ok(const std::vector<uint8_t>& b, uint32_t vnet_len) {
  return proto::tcp::verify_checksum({b.data() + vnet_len + 20, b.size() - vnet_len - 20}, kSrc, kDst);
}

// Index of the single differing bit, or -1.
long flipped_bit(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  long found = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    const uint8_t x = a[i] ^ b[i];
    if (!x) continue;
    if (found >= 0 || (x & (x - 1))) return -2;
    found = static_cast<long>(i * 8 + static_cast<size_t>(__builtin_ctz(x)));
  }
  return found;
}

TEST(Corruption, OneBitAfterTheIpHeaderFailsTheChecksum) {
  ImpairRng rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b = tcp_packet(1 + static_cast<size_t>(i % 1460), 0);
    ASSERT_TRUE(tcp_ok(b, 0));
    const std::vector<uint8_t> before = b;
    ASSERT_TRUE(corrupt_datagram(b.data(), 0, static_cast<uint32_t>(b.size()), rng.next()));
    const long bit = flipped_bit(before, b);
    ASSERT_GE(bit, 20 * 8) << "the IP header must stay intact";
    EXPECT_FALSE(tcp_ok(b, 0));
  }
  std::vector<uint8_t> tiny(20, 0x45);
  EXPECT_FALSE(corrupt_datagram(tiny.data(), 0, 20, 1));  // nothing after the IP header
}

TEST(Corruption, ComputesTheOffloadedChecksumFirstAndClearsTheFlags) {
  const uint32_t vl = io::kVnetHdrLen;
  for (uint8_t flags : {io::vnet::kNeedsCsum, io::vnet::kDataValid}) {
    std::vector<uint8_t> b = tcp_packet(3000, vl);  // a GSO super-segment
    const std::vector<uint8_t> good = b;
    uint8_t* ip = b.data() + vl;
    io::VnetHdr v;
    v.flags = flags;
    v.gso_type = io::vnet::kGsoTcpV4;
    v.gso_size = 1448;
    v.hdr_len = 40;
    if (flags == io::vnet::kNeedsCsum) {
      // As the sender leaves it: only the pseudo-header sum in the field.
      v.csum_start = 20;
      v.csum_offset = 16;
      proto::store_be16(ip + 36, proto::csum::fold(proto::csum::pseudo_header_sum_v4(
                                     kSrc, kDst, proto::ipproto::kTcp, static_cast<uint16_t>(3020))));
    }
    io::write_vnet(b.data(), v);
    ASSERT_TRUE(corrupt_datagram(b.data(), vl, static_cast<uint32_t>(b.size()), 12345));
    const io::VnetHdr after = io::read_vnet(b.data());
    EXPECT_EQ(after.flags & (io::vnet::kNeedsCsum | io::vnet::kDataValid), 0);
    EXPECT_EQ(after.gso_type, io::vnet::kGsoTcpV4);
    EXPECT_FALSE(tcp_ok(b, vl));
    // Flipping the bit back gives exactly the fully checksummed segment.
    std::vector<uint8_t> restored(b.begin() + vl, b.end());
    const std::vector<uint8_t> ref(good.begin() + vl, good.end());
    const long bit = flipped_bit(ref, restored);
    ASSERT_GE(bit, 20 * 8);
    restored[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(restored, ref);
  }
}

TEST(ImpairedPath, CorruptionIsCounted) {
  PathFixture f("corrupt=100%");
  const uint32_t id = f.port.add(tcp_packet(100, 0));
  f.path.admit(id, static_cast<uint32_t>(f.port.bufs[id].size()), 0, 0, f.port);
  EXPECT_EQ(f.stats.impair_in_corrupted.get(), 1u);
  EXPECT_FALSE(tcp_ok(f.port.bufs[id], 0));
}

}  // namespace
}  // namespace tuntcp::engine
