#include "engine/stats.h"

#include <cinttypes>
#include <cstdio>

namespace tuntcp::engine {

std::string_view to_string(Drop d) {
  switch (d) {
    case Drop::kIpTruncated: return "ip_truncated";
    case Drop::kIpNotIpv4: return "ip_not_ipv4";
    case Drop::kIpBadIhl: return "ip_bad_ihl";
    case Drop::kIpBadTotalLength: return "ip_bad_total_length";
    case Drop::kIpBadChecksum: return "ip_bad_checksum";
    case Drop::kIpBadSource: return "ip_bad_source";
    case Drop::kIpNotForUs: return "ip_not_for_us";
    case Drop::kIpFragment: return "ip_fragment";
    case Drop::kIcmpTruncated: return "icmp_truncated";
    case Drop::kIcmpBadChecksum: return "icmp_bad_checksum";
    case Drop::kTcpUnhandled: return "tcp_unhandled";
    case Drop::kIcmpErrorLimited: return "icmp_error_ratelimited";
    case Drop::kTxNoBuffer: return "tx_no_buffer";
    case Drop::kTxError: return "tx_error";
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
    t.rx_packets += r->rx_packets.get();
    t.rx_bytes += r->rx_bytes.get();
    t.handoffs += r->handoffs.get();
    t.handoff_batches += r->handoff_batches.get();
    t.wakeups += r->wakeups.get();
    t.pool_exhausted += r->pool_exhausted.get();
    t.read_errors += r->read_errors.get();
    t.rearms += r->rearms.get();
  }
  for (const auto* w : workers) {
    t.worker_packets += w->packets.get();
    t.tx_packets += w->tx_packets.get();
    t.tx_bytes += w->tx_bytes.get();
    t.icmp_echo_replies += w->icmp_echo_replies.get();
    t.icmp_other += w->icmp_other.get();
    t.icmp_errors_sent += w->icmp_errors_sent.get();
    t.batches += w->batches.get();
    t.sleeps += w->sleeps.get();
    for (size_t i = 0; i < t.drops.size(); ++i) t.drops[i] += w->drops[i].get();
  }
  return t;
}

std::string format_interval(const Totals& now, const Totals& prev, double elapsed, double seconds,
                            uint64_t pool_in_use, uint64_t pool_total) {
  const double s = seconds > 0 ? seconds : 1;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "[%7.2fs] rx %9.0f pkt/s %8.3f Gbit/s | tx %9.0f pkt/s %8.3f Gbit/s | "
                "drops %" PRIu64 " | pool %" PRIu64 "/%" PRIu64,
                elapsed, (now.rx_packets - prev.rx_packets) / s,
                (now.rx_bytes - prev.rx_bytes) * 8 / s / 1e9, (now.tx_packets - prev.tx_packets) / s,
                (now.tx_bytes - prev.tx_bytes) * 8 / s / 1e9, now.drops_total() - prev.drops_total(),
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
  put("rx_packets", t.rx_packets);
  put("rx_bytes", t.rx_bytes);
  put("tx_packets", t.tx_packets);
  put("tx_bytes", t.tx_bytes);
  put("handoffs", t.handoffs);
  put("handoff_batches", t.handoff_batches);
  put("worker_wakeups", t.wakeups);
  put("icmp_echo_replies", t.icmp_echo_replies);
  put("icmp_other", t.icmp_other);
  put("icmp_errors_sent", t.icmp_errors_sent);
  put("pool_exhausted", t.pool_exhausted);
  put("read_errors", t.read_errors);
  put("drops_total", t.drops_total());
  for (size_t i = 0; i < t.drops.size(); ++i) {
    if (t.drops[i] == 0) continue;
    put("drop_" + std::string(to_string(static_cast<Drop>(i))), t.drops[i]);
  }
  return out;
}

}  // namespace tuntcp::engine
