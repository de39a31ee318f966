// tuntcp: parse flags, set up the engine, run until SIGINT/SIGTERM or --duration, print the
// summary. Signals are blocked in every thread and taken synchronously here (sigtimedwait),
// so no handler ever runs on the packet path.
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

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

  std::unique_ptr<engine::Engine> eng;
  try {
    eng = std::make_unique<engine::Engine>(opts);
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
    const double wait = std::min({next_stats, deadline, t + 1.0}) - t;
    timespec ts{static_cast<time_t>(wait), static_cast<long>((wait - std::floor(wait)) * 1e9)};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      log_info("signal %d: shutting down", sig);
      break;
    }
  }
  eng->stop();
  const double elapsed = now_s() - start;
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
  return 0;
}
