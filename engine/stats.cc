#include "engine/stats.h"

#include <cinttypes>
#include <cstdio>

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

std::string format_interval(const Totals& now, const Totals& prev, double elapsed, double seconds,
                            uint64_t pool_in_use, uint64_t pool_total) {
  const double s = seconds > 0 ? seconds : 1;
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "[%7.2fs] rx %9.0f pkt/s %8.3f Gbit/s | tx %9.0f pkt/s %8.3f Gbit/s | "
                "conns %" PRIu64 " (+%" PRIu64 ") | retrans %" PRIu64 " | drops %" PRIu64
                " | pool %" PRIu64 "/%" PRIu64,
                elapsed, (now.rx_packets - prev.rx_packets) / s,
                (now.rx_bytes - prev.rx_bytes) * 8 / s / 1e9, (now.tx_packets - prev.tx_packets) / s,
                (now.tx_bytes - prev.tx_bytes) * 8 / s / 1e9, now.tcp_conns_open,
                (now.tcp_passive_opens + now.tcp_active_opens) -
                    (prev.tcp_passive_opens + prev.tcp_active_opens),
                now.tcp_retransmits - prev.tcp_retransmits, now.drops_total() - prev.drops_total(),
                pool_in_use, pool_total);
  return buf;
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
