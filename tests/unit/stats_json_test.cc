// --stats-json: one JSON object per interval, members in a fixed order, every counter in
// "totals", names escaped.
#include "engine/stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace engine = tuntcp::engine;

TEST(StatsJson, OneObjectWithRatesCpuAndEveryCounter) {
  engine::Totals prev, now;
  prev.rx_bytes = 1000;
  now.rx_bytes = 1000 + 1'250'000'000;  // 10 Gbit in 1 s
  now.rx_packets = 3;
  now.tcp_conns_open = 2;
  now.tcp_passive_opens = 5;
  now.tcp_retransmits = 18446744073709551615u;  // counters are exact 64-bit integers
  now.drops[static_cast<size_t>(engine::Drop::k_ip_bad_checksum)] = 4;
  engine::Interval iv;
  iv.elapsed = 2.000123456;
  iv.seconds = 1;
  iv.now = &now;
  iv.prev = &prev;
  iv.pool_in_use = 7;
  iv.pool_total = 2048;
  iv.cpu = {{"r0", 12.345}, {"w\"1\n", 99.96}};

  const std::string line = engine::format_interval_json(iv);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;  // one line per interval
  const auto j = nlohmann::ordered_json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  std::string keys;
  for (const auto& [k, v] : j.items()) keys += k + " ";
  EXPECT_EQ(keys,
            "time interval rx_gbps rx_pps tx_gbps tx_pps conns_open conns_new conns_closed "
            "retransmits drops pool_in_use pool_total cpu_percent totals ");
  EXPECT_EQ(j["time"], 2.00012);  // %.6g, as before
  EXPECT_EQ(j["rx_gbps"], 10.0);
  EXPECT_EQ(j["rx_pps"], 3.0);
  EXPECT_EQ(j["conns_new"], 5u);
  EXPECT_EQ(j["retransmits"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(j["drops"], 4u);
  EXPECT_EQ(j["pool_total"], 2048u);
  EXPECT_EQ(j["cpu_percent"].dump(), R"({"r0":12.3,"w\"1\n":100.0})");  // %.1f, escaped name
  const auto& totals = j["totals"];
  EXPECT_EQ(totals.begin().key(), "rx_packets");
  EXPECT_EQ(totals["rx_bytes"], 1'250'001'000u);
  EXPECT_EQ(totals["drop_ip_bad_checksum"], 4u);
  EXPECT_EQ(totals["drop_tx_error"], 0u);
  size_t counters = 0;
#define X(n) ++counters;
  TUNTCP_READER_COUNTERS(X)
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  EXPECT_EQ(totals.size(), counters + static_cast<size_t>(engine::Drop::kCount));
}
