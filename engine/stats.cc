#include "engine/stats.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "proto/tcp/connection.h"

namespace tuntcp::engine {

std::string_view to_string(Drop d) {
  switch (d) {
#define X(n) \
  case Drop::k_##n: return #n;
    TUNTCP_DROPS(X)
#undef X
    case Drop::kCount: break;
  }
  return "?";
}

uint64_t Totals::drops_total() const {
  uint64_t s = 0;
  for (auto d : drops) s += d;
  return s;
}

Totals sum(const std::vector<const ReaderStats*>& readers,
           const std::vector<const WorkerStats*>& workers) {
  Totals t;
  for (const auto* r : readers) {
#define X(n) t.n += r->n.get();
    TUNTCP_READER_COUNTERS(X)
#undef X
  }
  for (const auto* w : workers) {
#define X(n) t.n += w->n.get();
    TUNTCP_WORKER_COUNTERS(X)
#undef X
    for (size_t i = 0; i < t.drops.size(); ++i) t.drops[i] += w->drops[i].get();
    for (size_t i = 0; i < kTcpStates; ++i) t.tcp_state_at_exit[i] += w->tcp_state_at_exit[i].get();
  }
  return t;
}

namespace {

uint64_t closed_total(const Totals& t) {
  return t.tcp_closed_normal + t.tcp_closed_reset + t.tcp_closed_timeout + t.tcp_closed_aborted;
}
uint64_t opened_total(const Totals& t) { return t.tcp_passive_opens + t.tcp_active_opens; }

}  // namespace

std::string format_interval(const Interval& iv) {
  const Totals& n = *iv.now;
  const Totals& p = *iv.prev;
  const double s = iv.seconds > 0 ? iv.seconds : 1;
  char buf[512];
  int len = std::snprintf(
      buf, sizeof buf,
      "[%7.2fs] rx %8.3f Gbit/s %8.0f pkt/s | tx %8.3f Gbit/s %8.0f pkt/s | conns %" PRIu64
      " +%" PRIu64 " -%" PRIu64 " | retrans %" PRIu64 " | drops %" PRIu64 " | pool %" PRIu64
      "/%" PRIu64 " | cpu",
      iv.elapsed, (n.rx_bytes - p.rx_bytes) * 8 / s / 1e9, (n.rx_packets - p.rx_packets) / s,
      (n.tx_bytes - p.tx_bytes) * 8 / s / 1e9, (n.tx_packets - p.tx_packets) / s, n.tcp_conns_open,
      opened_total(n) - opened_total(p), closed_total(n) - closed_total(p),
      n.tcp_retransmits - p.tcp_retransmits, n.drops_total() - p.drops_total(), iv.pool_in_use,
      iv.pool_total);
  std::string out(buf, static_cast<size_t>(std::max(len, 0)));
  for (const auto& c : iv.cpu) {
    std::snprintf(buf, sizeof buf, " %s %.0f%%", c.name.c_str(), c.percent);
    out += buf;
  }
  return out;
}

std::string format_interval_json(const Interval& iv) {
  using Json = nlohmann::ordered_json;  // members in the order they are set
  const Totals& n = *iv.now;
  const Totals& p = *iv.prev;
  const double s = iv.seconds > 0 ? iv.seconds : 1;
  // Times and rates to six significant digits, CPU shares to one decimal, as printf wrote them
  // before (%.6g, %.1f): lines stay short and a reader sees no false precision.
  auto g6 = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return std::strtod(buf, nullptr);
  };
  Json j;
  j["time"] = g6(iv.elapsed);
  j["interval"] = g6(iv.seconds);
  j["rx_gbps"] = g6((n.rx_bytes - p.rx_bytes) * 8 / s / 1e9);
  j["rx_pps"] = g6((n.rx_packets - p.rx_packets) / s);
  j["tx_gbps"] = g6((n.tx_bytes - p.tx_bytes) * 8 / s / 1e9);
  j["tx_pps"] = g6((n.tx_packets - p.tx_packets) / s);
  j["conns_open"] = n.tcp_conns_open;
  j["conns_new"] = opened_total(n) - opened_total(p);
  j["conns_closed"] = closed_total(n) - closed_total(p);
  j["retransmits"] = n.tcp_retransmits - p.tcp_retransmits;
  j["drops"] = n.drops_total() - p.drops_total();
  j["pool_in_use"] = iv.pool_in_use;
  j["pool_total"] = iv.pool_total;
  Json cpu = Json::object();
  for (const auto& c : iv.cpu) cpu[c.name] = std::round(c.percent * 10) / 10;
  j["cpu_percent"] = std::move(cpu);
  Json totals = Json::object();
#define X(name) totals[#name] = n.name;
  TUNTCP_READER_COUNTERS(X)
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  for (size_t i = 0; i < n.drops.size(); ++i)
    totals["drop_" + std::string(to_string(static_cast<Drop>(i)))] = n.drops[i];
  j["totals"] = std::move(totals);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string format_thread(const std::string& name, const Totals& t) {
  std::string out = name + ":";
  char buf[96];
#define X(n)                                                       \
  if (t.n) {                                                       \
    std::snprintf(buf, sizeof buf, " %s=%" PRIu64, #n, t.n);       \
    out += buf;                                                    \
  }
  TUNTCP_READER_COUNTERS(X)
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  for (size_t i = 0; i < t.drops.size(); ++i) {
    if (!t.drops[i]) continue;
    std::snprintf(buf, sizeof buf, " drop_%s=%" PRIu64, std::string(to_string(static_cast<Drop>(i))).c_str(), t.drops[i]);
    out += buf;
  }
  return out;
}

std::string format_summary(const Totals& t, double seconds) {
  std::string out;
  char line[128];
  auto put = [&](std::string_view name, uint64_t v) {
    std::snprintf(line, sizeof line, "  %-28.*s %" PRIu64 "\n", static_cast<int>(name.size()),
                  name.data(), v);
    out += line;
  };
  std::snprintf(line, sizeof line, "tuntcp summary after %.2f s\n", seconds);
  out += line;
#define X(n) put(#n, t.n);
  TUNTCP_READER_COUNTERS(X)
  TUNTCP_WORKER_COUNTERS(X)
#undef X
  put("drops_total", t.drops_total());
  for (size_t i = 0; i < t.drops.size(); ++i) {
    if (t.drops[i] == 0) continue;
    put("drop_" + std::string(to_string(static_cast<Drop>(i))), t.drops[i]);
  }
  for (size_t i = 0; i < kTcpStates; ++i) {
    std::string name = "tcp_at_exit_";
    for (const char* c = proto::tcp::state_name(static_cast<proto::tcp::State>(i)); *c; ++c)
      name += *c == '-' ? '_' : static_cast<char>(*c | 0x20);  // "TIME-WAIT" -> "time_wait"
    put(name, t.tcp_state_at_exit[i]);
  }
  return out;
}

}  // namespace tuntcp::engine
