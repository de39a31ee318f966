// TCP micro-benchmarks on one core, no I/O: the receive path through proto alone (a bulk
// stream of in-order segments into one connection, with its ACKs), transmit segmentation
// (application data cut into MSS-sized or TSO-sized segments, ACK-clocked), the timer wheel
// and the connection table. They report segments/s and Gbit/s (or ns per operation).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/conn_table.h"
#include "engine/timer_wheel.h"
#include "proto/checksum.h"
#include "proto/tcp/connection.h"
#include "proto/tcp/wire.h"

namespace tcp = tuntcp::proto::tcp;
using tcp::Flags;
using tcp::Seq;

namespace {

constexpr uint32_t kLocal = 0xc6120002, kRemote = 0xc6120001;
constexpr uint32_t kMss = 1448;  // a 1500-byte MTU with timestamps

// Counts what the connection emits and consumes every byte delivered (a discard service).
class SinkEnv final : public tcp::Env {
 public:
  void transmit(const tcp::TcpRepr& h, std::span<const uint8_t> a, std::span<const uint8_t> b) override {
    ++segments;
    bytes += a.size() + b.size();
    last = h;
    // Build the header as the engine would (the checksum over the payload included).
    header_len = tcp::emit_header(h, {hdr, sizeof hdr}, kLocal, kRemote, a, b);
  }
  size_t on_data(std::span<const uint8_t> d) override {
    delivered += d.size();
    return d.size();
  }
  uint64_t segments = 0, bytes = 0, delivered = 0;
  size_t header_len = 0;
  tcp::TcpRepr last;
  uint8_t hdr[tcp::kHeaderMax];
};

tcp::Config config(uint32_t tso_max) {
  tcp::Config c;
  c.local_addr = kLocal;
  c.remote_addr = kRemote;
  c.local_port = 9;
  c.remote_port = 40000;
  c.recv_buffer = 4 << 20;
  c.send_buffer = 4 << 20;
  c.tso_max = tso_max;
  return c;
}

tcp::SegmentIn segment(uint8_t flags, uint32_t seq, uint32_t ack, std::span<const uint8_t> payload) {
  tcp::SegmentIn s;
  s.hdr.src_port = 40000;
  s.hdr.dst_port = 9;
  s.hdr.seq = Seq(seq);
  s.hdr.ack = Seq(ack);
  s.hdr.flags = flags;
  s.hdr.window = 0xffff;
  s.payload = payload;
  return s;
}

// A passive connection in ESTABLISHED with window scaling (the peer's SYN offered wscale 7).
void establish(tcp::Connection& c, uint64_t now) {
  tcp::SegmentIn syn = segment(Flags::SYN, 1000, 0, {});
  syn.hdr.opt.mss = 1460;
  syn.hdr.opt.wscale = 7;
  syn.hdr.opt.sack_permitted = true;
  c.accept_syn(syn, Seq(5000), now);
  c.on_segment(segment(Flags::ACK, 1001, 5001, {}), now);
}

// The receive path: in-order full-sized segments; every second one is ACKed (delayed ACK).
void BM_TcpReceiveInOrder(benchmark::State& state) {
  SinkEnv env;
  tcp::Connection c(config(0), env);
  uint64_t now = 1'000'000;
  establish(c, now);
  std::vector<uint8_t> payload(kMss, 0x5a);
  uint32_t seq = 1001;
  for (auto _ : state) {
    c.on_segment(segment(Flags::ACK, seq, 5001, payload), now);
    seq += kMss;
    now += 1;  // 1 µs per segment: about 11.6 Gbit/s of arrivals
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kMss);
  state.counters["acks_per_segment"] = static_cast<double>(env.segments) / static_cast<double>(state.iterations());
  state.counters["Gbit"] = benchmark::Counter(static_cast<double>(state.iterations()) * kMss * 8 / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpReceiveInOrder);

// The same with the checksum verification and header parsing the engine does per segment.
void BM_TcpReceiveWithParseAndChecksum(benchmark::State& state) {
  SinkEnv env;
  tcp::Connection c(config(0), env);
  uint64_t now = 1'000'000;
  establish(c, now);
  std::vector<uint8_t> wire(20 + kMss, 0x5a);
  uint32_t seq = 1001;
  for (auto _ : state) {
    tcp::TcpRepr h = segment(Flags::ACK, seq, 5001, {}).hdr;
    tcp::emit_header(h, {wire.data(), 20}, kRemote, kLocal, {wire.data() + 20, kMss});
    benchmark::DoNotOptimize(tcp::verify_checksum(wire, kRemote, kLocal));
    tcp::SegmentIn in;
    std::span<const uint8_t> pl;
    tcp::parse(wire, in.hdr, &pl);
    in.payload = pl;
    c.on_segment(in, now);
    seq += kMss;
    now += 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kMss);
}
BENCHMARK(BM_TcpReceiveWithParseAndChecksum);

// Transmit: the application keeps the send buffer full, the peer ACKs everything sent so far
// after each round; arg 0 = MSS segments, arg 1 = TSO super-segments of up to 64 KB.
void BM_TcpTransmitSegmentation(benchmark::State& state) {
  SinkEnv env;
  tcp::Connection c(config(state.range(0) ? 65535 - 80 : 0), env);
  uint64_t now = 1'000'000;
  establish(c, now);
  std::vector<uint8_t> chunk(256 * 1024, 0xa5);
  uint64_t acked_bytes = 0;
  for (auto _ : state) {
    while (c.send(chunk, now) > 0) {
    }
    now += 100;
    c.on_segment(segment(Flags::ACK, 1001, c.snd_nxt().raw(), {}), now);
    acked_bytes = env.bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(acked_bytes));
  state.counters["segments"] = static_cast<double>(env.segments);
  state.counters["Gbit"] = benchmark::Counter(static_cast<double>(acked_bytes) * 8 / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpTransmitSegmentation)->Arg(0)->Arg(1);

// The timer wheel: one connection's re-arm per segment (schedule moves an armed node), and the
// per-batch advance over 10k armed timers.
void BM_TimerWheelReschedule(benchmark::State& state) {
  tuntcp::engine::TimerWheel w(0);
  std::vector<tuntcp::engine::TimerNode> nodes(10000);
  std::mt19937_64 rng(1);
  for (auto& n : nodes) w.schedule(&n, 200'000 + rng() % 1'000'000);
  size_t i = 0;
  uint64_t t = 0;
  for (auto _ : state) {
    w.schedule(&nodes[i], t + 200'000);
    i = (i + 1) % nodes.size();
    ++t;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelReschedule);

void BM_TimerWheelAdvanceEmptyTick(benchmark::State& state) {
  tuntcp::engine::TimerWheel w(0);
  std::vector<tuntcp::engine::TimerNode> nodes(10000);
  for (size_t i = 0; i < nodes.size(); ++i) w.schedule(&nodes[i], 10'000'000 + i * 100);
  uint64_t t = 0;
  for (auto _ : state) {
    t += 1000;  // one 1 ms tick per batch
    w.advance(t % 9'000'000, [](tuntcp::engine::TimerNode*) {});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelAdvanceEmptyTick);

// Connection lookup by 4-tuple among `n` connections (hit), as for every received segment.
void BM_ConnTableLookup(benchmark::State& state) {
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  tuntcp::engine::ConnTable t(n);
  std::vector<tuntcp::proto::FlowKey> keys;
  for (uint32_t i = 0; i < n; ++i) {
    tuntcp::proto::FlowKey k{kRemote + (i >> 16), kLocal, static_cast<uint16_t>(i), 5201, 6};
    keys.push_back(k);
    t.insert(k, i);
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.find(keys[i]));
    i = (i + 7919) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConnTableLookup)->Arg(16)->Arg(10000)->Arg(500000);

}  // namespace
