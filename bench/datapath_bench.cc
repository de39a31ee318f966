// Per-packet costs of the receive path outside TCP: flow key + hash + shard choice, the buffer
// pool (local alloc/free, cross-partition return via ReturnBatch), the reader -> worker
// hand-off queue (single thread and two threads), IPv4 parsing and the in-place echo reply.
//
//   build/release/bench/datapath_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Per-item numbers: benchmarks that move batches call SetItemsProcessed, so "items_per_second"
// is the rate per packet/buffer; the Time column is per iteration (per batch where batched).
#include <benchmark/benchmark.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "engine/handoff.h"
#include "io/buffer_pool.h"
#include "proto/bytes.h"
#include "proto/checksum.h"
#include "proto/flow.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

namespace {

using namespace tuntcp;

constexpr uint32_t kLocal = 0xc6120002;   // 198.18.0.2
constexpr uint32_t kRemote = 0xc6120001;  // 198.18.0.1

// A valid IPv4 datagram of `total` bytes, 20-byte header, `protocol`, payload bytes 0..255.
std::vector<uint8_t> datagram(size_t total, uint8_t protocol, uint16_t src_port = 40000,
                              uint16_t dst_port = 5201) {
  std::vector<uint8_t> d(total);
  for (size_t i = 20; i < total; ++i) d[i] = static_cast<uint8_t>(i);
  proto::Ipv4Repr r;
  r.src = kRemote;
  r.dst = kLocal;
  r.protocol = protocol;
  r.payload_len = static_cast<uint16_t>(total - 20);
  proto::emit_ipv4(r, d.data());
  if (total >= 24) {
    proto::store_be16(&d[20], src_port);
    proto::store_be16(&d[22], dst_port);
  }
  return d;
}

// ----------------------------------------------------------------------------------------------
// Flow key + hash + shard: what a reader does per packet before the hand-off.

void BM_flow_key_hash_shard(benchmark::State& state) {
  const auto shards = static_cast<uint32_t>(state.range(0));
  // 64 TCP packets of different flows, so the branch predictor and the compiler see real data.
  std::vector<std::vector<uint8_t>> pkts;
  for (uint16_t i = 0; i < 64; ++i)
    pkts.push_back(datagram(1500, proto::ipproto::kTcp, static_cast<uint16_t>(40000 + i * 7)));
  size_t i = 0;
  for (auto _ : state) {
    const auto& p = pkts[i++ & 63];
    const proto::FlowKey k = proto::flow_key_of_received({p.data(), p.size()});
    const uint32_t w = proto::pick_shard(proto::flow_hash(k), shards);
    benchmark::DoNotOptimize(w);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_flow_key_hash_shard)->Arg(4);

// ----------------------------------------------------------------------------------------------
// Buffer pool

void BM_partition_alloc_free_local(benchmark::State& state) {
  io::BufferPool pool(1, 1024, 2048);
  io::Partition& p = pool.partition(0);
  for (auto _ : state) {
    const io::BufId id = p.alloc();
    benchmark::DoNotOptimize(id);
    p.free_local(id);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_partition_alloc_free_local);

// A worker returns a batch of buffers owned by a reader's partition (ReturnBatch add x32 +
// flush: one bulk enqueue), then the owner takes them back (drain_returns + free_local) and
// allocates them again. Everything on one thread: this is the instruction cost, not the
// cache-line transfer between cores.
void BM_return_batch_cross_partition(benchmark::State& state) {
  constexpr size_t kBatch = 32;
  io::BufferPool pool(2, 4096, 2048);
  io::Partition& owner = pool.partition(1);  // ids 4096.., "not ours" for a partition-0 worker
  io::ReturnBatch returns(pool);
  io::BufId ids[kBatch];
  io::BufId drained[kBatch];
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) ids[i] = owner.alloc();
    for (size_t i = 0; i < kBatch; ++i) returns.add(ids[i]);
    returns.flush();
    size_t got = 0;
    while (got < kBatch) got += owner.drain_returns(drained + got, kBatch - got);
    for (size_t i = 0; i < kBatch; ++i) owner.free_local(drained[i]);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_return_batch_cross_partition);

// ----------------------------------------------------------------------------------------------
// Hand-off queue

void BM_inbox_bulk_single_thread(benchmark::State& state) {
  constexpr size_t kBatch = 32;
  engine::WorkerInbox inbox;
  moodycamel::ProducerToken ptok(inbox.queue());
  moodycamel::ConsumerToken ctok(inbox.queue());
  engine::PacketRef in[kBatch], out[kBatch];
  for (size_t i = 0; i < kBatch; ++i) in[i] = {static_cast<io::BufId>(i), 1500};
  for (auto _ : state) {
    inbox.queue().enqueue_bulk(ptok, in, kBatch);
    const size_t n = inbox.queue().try_dequeue_bulk(ctok, out, kBatch);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_inbox_bulk_single_thread);

// A producer thread (the reader) enqueues kItems in batches of 32 and notify()s; this thread
// (the worker) dequeues up to 64 at a time and sleeps on the eventfd when prepare_sleep()
// allows, exactly as engine/worker.cc does. Wall time; items/s is the hand-off throughput.
void BM_inbox_two_threads(benchmark::State& state) {
  constexpr uint32_t kItems = 1u << 20;
  constexpr uint32_t kBatch = 32;
  uint64_t sleeps = 0, wakeups = 0;
  for (auto _ : state) {
    engine::WorkerInbox inbox;
    std::atomic<uint64_t> woke{0};
    std::thread producer([&] {
      moodycamel::ProducerToken tok(inbox.queue());
      engine::PacketRef batch[kBatch];
      for (uint32_t seq = 0; seq < kItems; seq += kBatch) {
        for (uint32_t i = 0; i < kBatch; ++i) batch[i] = {seq + i, 1500};
        while (!inbox.queue().enqueue_bulk(tok, batch, kBatch)) std::this_thread::yield();
        if (inbox.notify()) woke.fetch_add(1, std::memory_order_relaxed);
      }
    });
    moodycamel::ConsumerToken tok(inbox.queue());
    engine::PacketRef got[64];
    uint64_t received = 0;
    while (received < kItems) {
      const size_t n = inbox.queue().try_dequeue_bulk(tok, got, 64);
      if (n > 0) {
        received += n;
        benchmark::DoNotOptimize(got);
        continue;
      }
      if (!inbox.prepare_sleep()) continue;
      ++sleeps;
      pollfd p{inbox.eventfd_fd(), POLLIN, 0};
      poll(&p, 1, 1000);
      uint64_t v;
      [[maybe_unused]] auto r = read(inbox.eventfd_fd(), &v, sizeof v);
      inbox.end_sleep();
    }
    producer.join();
    wakeups += woke.load();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kItems);
  state.counters["sleeps/iter"] =
      benchmark::Counter(static_cast<double>(sleeps), benchmark::Counter::kAvgIterations);
  state.counters["wakeups/iter"] =
      benchmark::Counter(static_cast<double>(wakeups), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_inbox_two_threads)->Unit(benchmark::kMillisecond)->UseRealTime();

// ----------------------------------------------------------------------------------------------
// IPv4 and ICMP

void BM_parse_ipv4_1500(benchmark::State& state) {
  const auto d = datagram(1500, proto::ipproto::kTcp);
  const uint8_t* p = d.data();
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    auto r = proto::parse_ipv4({p, d.size()}, kLocal);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_parse_ipv4_1500);

// A 64-byte ICMP echo request (ping's default: 8-byte header + 56 data, 84-byte datagram)
// turned into a reply in place. The same buffer is reused, so after the first iteration it
// already is a reply; the work done (RFC 1624 update, 20-byte header + checksum) is the same.
void BM_echo_reply_in_place_64(benchmark::State& state) {
  auto d = datagram(84, proto::ipproto::kIcmp);
  uint8_t* msg = d.data() + 20;
  msg[0] = proto::icmp::kEchoRequest;
  msg[1] = 0;
  proto::store_be16(msg + 2, 0);
  proto::store_be16(msg + 4, 0x1234);
  proto::store_be16(msg + 6, 1);
  proto::store_be16(msg + 2, proto::csum::checksum(msg, 64));
  const auto parsed = proto::parse_ipv4(d, kLocal);
  if (!parsed.ok() || !proto::icmp::parse_icmp(parsed.view).ok()) {
    state.SkipWithError("bad test datagram");
    return;
  }
  uint16_t id = 0;
  for (auto _ : state) {
    const size_t len = proto::icmp::make_echo_reply_in_place(d.data(), parsed.view, id++);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_echo_reply_in_place_64);

// The full ICMP echo receive path for one ping: parse IPv4 + parse ICMP (checksum over 64
// bytes) + reply in place. A fresh request is copied in each time (84 bytes).
void BM_ping_parse_and_reply_64(benchmark::State& state) {
  auto req = datagram(84, proto::ipproto::kIcmp);
  uint8_t* msg = req.data() + 20;
  msg[0] = proto::icmp::kEchoRequest;
  msg[1] = 0;
  proto::store_be16(msg + 2, 0);
  proto::store_be16(msg + 2, proto::csum::checksum(msg, 64));
  std::vector<uint8_t> buf(req.size());
  uint16_t id = 0;
  for (auto _ : state) {
    std::memcpy(buf.data(), req.data(), req.size());
    const auto parsed = proto::parse_ipv4(buf, kLocal);
    if (!parsed.ok() || !proto::icmp::parse_icmp(parsed.view).ok()) {
      state.SkipWithError("bad test datagram");
      break;
    }
    const size_t len = proto::icmp::make_echo_reply_in_place(buf.data(), parsed.view, id++);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ping_parse_and_reply_64);

}  // namespace
