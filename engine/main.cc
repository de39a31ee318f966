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

#include "engine/client.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/options.h"
#include "io/setup_error.h"

#ifdef TUNTCP_WITH_MIMALLOC
#include <mimalloc-new-delete.h>
#endif

using namespace tuntcp;

namespace {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

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
  log_info("up: %s", engine::describe(opts).c_str());
  log_info("serving on %s", eng->tun().name().c_str());

  const double start = now_s();
  double next_stats = opts.stats_interval > 0 ? start + opts.stats_interval : INFINITY;
  const double deadline = opts.duration > 0 ? start + opts.duration : INFINITY;
  engine::Totals prev{};
  double prev_t = start;
  while (true) {
    const double t = now_s();
    if (t >= deadline) break;
    if (opts.client && client.state.load(std::memory_order_acquire) != 0) break;
    if (t >= next_stats) {
      const engine::Totals cur = eng->totals();
      std::printf("%s\n", engine::format_interval(cur, prev, t - start, t - prev_t, eng->pool_in_use(),
                                                  eng->pool_total()).c_str());
      std::fflush(stdout);
      prev = cur;
      prev_t = t;
      next_stats += opts.stats_interval;
      continue;
    }
    const double wait = std::min({next_stats, deadline, t + (opts.client ? 0.02 : 1.0)}) - t;
    timespec ts{static_cast<time_t>(wait), static_cast<long>((wait - std::floor(wait)) * 1e9)};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      log_info("signal %d: shutting down", sig);
      break;
    }
  }
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
  if (missing != 0) {
    log_error("%llu packet buffers were not returned to the pool", static_cast<unsigned long long>(missing));
    return 3;
  }
  return client_rc;
}
