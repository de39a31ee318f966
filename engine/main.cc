// tuntcp: parse flags, set up the engine, run until SIGINT/SIGTERM or --duration, print the
// summary. Signals are blocked in every thread and taken synchronously here (sigtimedwait),
// so no handler ever runs on the packet path.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/clock.h"
#include "engine/client.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/options.h"
#include "engine/privileges.h"
#include "io/setup_error.h"

#ifdef TUNTCP_WITH_MIMALLOC
#include <mimalloc-new-delete.h>
#endif

using namespace tuntcp;

namespace {

double now_s() { return static_cast<double>(tuntcp::engine::clock::now_us()) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto parsed = engine::parse_options(argc, argv, exit_code);
  if (!parsed) return exit_code;
  const engine::Options opts = *parsed;
  engine::set_log_level(opts.log_level);

  // Block the signals before any thread exists: every thread inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // Client mode: map the file to send (read-only, shared with the worker, no copy).
  engine::ClientPlan plan;
  engine::ClientResult client;
  if (opts.client) {
    plan.pattern_bytes = opts.send_bytes;
    plan.receive = opts.receive;
    if (!opts.send_file.empty()) {
      int fd = open(opts.send_file.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (fd < 0 || fstat(fd, &st) < 0) {
        std::fprintf(stderr, "tuntcp: error: cannot read --send-file %s: %s\n", opts.send_file.c_str(),
                     std::strerror(errno));
        return 1;
      }
      if (st.st_size > 0) {
        void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
          std::fprintf(stderr, "tuntcp: error: cannot map --send-file %s: %s\n", opts.send_file.c_str(),
                       std::strerror(errno));
          return 1;
        }
        madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        plan.file = {static_cast<const uint8_t*>(p), static_cast<size_t>(st.st_size)};
      } else {
        plan.pattern_bytes = 0;
      }
      close(fd);
    }
  }

  std::unique_ptr<engine::Engine> eng;
  try {
    eng = std::make_unique<engine::Engine>(opts);
    if (opts.client) eng->set_client(plan, client);
    eng->start();
  } catch (const io::SetupError& e) {
    std::fprintf(stderr, "tuntcp: error: %s\n", e.what());
    return 1;
  }
  // Every reader has its reads armed and every worker its ring: "serving" means it. (The link
  // is up since the TUN was configured; what the kernel sent meanwhile waits in its queue.)
  // With --user this is also where every privileged set-up step is behind us.
  eng->wait_ready();
  if (!opts.user.empty()) {
    const std::string err = engine::drop_privileges(opts.user);
    if (!err.empty()) {
      std::fprintf(stderr, "tuntcp: error: %s\n", err.c_str());
      eng->stop();
      return 1;
    }
    log_info("running as %s, capabilities %s", opts.user.c_str(), engine::effective_capabilities().c_str());
  }
  log_info("up: %s", engine::describe(opts).c_str());
  log_info("serving on %s", eng->tun().name().c_str());

  // --stats-json: one JSON object per interval, for scripts and plots.
  FILE* json = nullptr;
  if (!opts.stats_json.empty()) {
    json = std::fopen(opts.stats_json.c_str(), "w");
    if (!json) {
      std::fprintf(stderr, "tuntcp: error: cannot write --stats-json %s: %s\n", opts.stats_json.c_str(),
                   std::strerror(errno));
      eng->stop();
      return 1;
    }
  }

  const double start = now_s();
  double next_stats = opts.stats_interval > 0 ? start + opts.stats_interval : INFINITY;
  const double deadline = opts.duration > 0 ? start + opts.duration : INFINITY;
  engine::Totals prev{};
  auto prev_cpu = eng->thread_cpu_seconds();
  double prev_t = start;
  auto report = [&](double t) {
    const engine::Totals cur = eng->totals();
    const auto cpu = eng->thread_cpu_seconds();
    engine::Interval iv;
    iv.elapsed = t - start;
    iv.seconds = t - prev_t;
    iv.now = &cur;
    iv.prev = &prev;
    iv.pool_in_use = eng->pool_in_use();
    iv.pool_total = eng->pool_total();
    for (size_t i = 0; i < cpu.size() && i < prev_cpu.size(); ++i)
      iv.cpu.push_back({cpu[i].first, iv.seconds > 0 ? 100 * (cpu[i].second - prev_cpu[i].second) / iv.seconds : 0});
    std::printf("%s\n", engine::format_interval(iv).c_str());
    std::fflush(stdout);
    if (json) {
      std::fprintf(json, "%s\n", engine::format_interval_json(iv).c_str());
      std::fflush(json);
    }
    prev = cur;
    prev_cpu = cpu;
    prev_t = t;
  };
  while (true) {
    const double t = now_s();
    if (t >= deadline) break;
    if (opts.client && client.state.load(std::memory_order_acquire) != 0) break;
    if (t >= next_stats) {
      report(t);
      next_stats += opts.stats_interval;
      if (next_stats < t) next_stats = t + opts.stats_interval;  // we were late: skip, don't burst
      continue;
    }
    const double wait = std::min({next_stats, deadline, t + (opts.client ? 0.02 : 1.0)}) - t;
    timespec ts{static_cast<time_t>(wait), static_cast<long>((wait - std::floor(wait)) * 1e9)};
    const int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGUSR1) {
      // Full per-thread counters, then each worker's connection table (workers print theirs).
      std::string dump = "tuntcp: counters per thread\n";
      for (const auto& [name, totals] : eng->thread_totals()) dump += "  " + engine::format_thread(name, totals) + "\n";
      std::fputs(dump.c_str(), stderr);
      eng->dump_connections();
    } else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      log_info("signal %d: shutting down", sig);
      break;
    }
  }
  if (opts.stats_interval > 0 && now_s() - prev_t > 0.05) report(now_s());  // the last part
  eng->stop();
  const double elapsed = now_s() - start;
  int client_rc = 0;
  if (opts.client) {
    const int st = client.state.load(std::memory_order_acquire);
    const double secs = client.transfer_us / 1e6;
    const uint64_t bytes = client.bytes_sent + client.bytes_received;
    std::printf("client: %s:%u %s; connect %.3f ms; sent %llu bytes, received %llu bytes in %.3f s "
                "(%.3f Gbit/s)\n",
                proto::format_ipv4_addr(opts.connect_addr).c_str(), opts.connect_port,
                st == 0 ? "unfinished" : client.outcome.c_str(), client.connect_us / 1e3,
                static_cast<unsigned long long>(client.bytes_sent),
                static_cast<unsigned long long>(client.bytes_received), secs,
                secs > 0 ? bytes * 8 / secs / 1e9 : 0.0);
    client_rc = st == 1 ? 0 : 1;
  }
  const engine::Totals t = eng->totals();
  std::printf("%s", engine::format_summary(t, elapsed).c_str());
  const uint64_t missing = eng->buffers_missing();
  std::printf("  %-28s %llu/%llu\n", "buffers_returned",
              static_cast<unsigned long long>(eng->pool_total() - missing),
              static_cast<unsigned long long>(eng->pool_total()));
  std::fflush(stdout);
  if (json) std::fclose(json);
  if (const auto* pc = eng->pcap())
    std::printf("  %-28s %llu (%llu not captured)\n", "pcap_packets", static_cast<unsigned long long>(pc->written()),
                static_cast<unsigned long long>(pc->dropped()));
  if (missing != 0) {
    log_error("%llu packet buffers were not returned to the pool", static_cast<unsigned long long>(missing));
    return 3;
  }
  return client_rc;
}
