// tuntcp-impair-relay: a wire between two network namespaces made of two TUN devices, with
// tuntcp's own impairment (engine/impair.h) on it in both directions. It gives the kernel's TCP
// the same impaired path tuntcp gets, for a fair baseline (bench/loss.sh), since this kernel has
// no sch_netem.
//
//   ip netns exec A tuntcp-impair-relay --dev-a ra --netns-b /run/netns/B --dev-b rb
//       --impair 'loss=1%,delay=5ms' [--impair-seed N] [--duration S]
//
// Device ra is created in the namespace the relay starts in, rb in namespace B (the relay
// switches with setns() before opening it); the caller gives them addresses and routes with
// `ip -n`. Every datagram read from one device is written to the other after the impairment.
// Prints "ready" once both devices exist, and a counter summary at exit (SIGINT/SIGTERM or
// --duration). Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for setns).
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/impair.h"

using namespace tuntcp::engine;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "impair-relay: %s\n", what.c_str());
  std::exit(1);
}

int open_tun(const std::string& name) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) die("open /dev/net/tun: " + std::string(std::strerror(errno)));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF " + name + ": " + std::strerror(errno));
  return fd;
}

// Fixed-size packet slots; a slot id is what the impairment holds while a packet is delayed.
class Slots {
 public:
  Slots(uint32_t count, uint32_t size) : size_(size), mem_(static_cast<size_t>(count) * size) {
    for (uint32_t i = count; i-- > 0;) free_.push_back(i);
  }
  uint32_t alloc() {
    if (free_.empty()) return ImpairPort::kNoCopy;
    const uint32_t id = free_.back();
    free_.pop_back();
    return id;
  }
  void free(uint32_t id) { free_.push_back(id); }
  uint8_t* data(uint32_t id) { return mem_.data() + static_cast<size_t>(id) * size_; }
  uint32_t size() const { return size_; }
  size_t free_count() const { return free_.size(); }

 private:
  uint32_t size_;
  std::vector<uint8_t> mem_;
  std::vector<uint32_t> free_;
};

// One direction's exit: writes to the device on the far side.
class Exit final : public ImpairPort {
 public:
  Exit(Slots& slots, int fd) : slots_(slots), fd_(fd) {}
  uint8_t* data(uint32_t id) override { return slots_.data(id); }
  uint32_t copy(uint32_t id, uint32_t len) override {
    const uint32_t c = slots_.alloc();
    if (c != kNoCopy) std::memcpy(slots_.data(c), slots_.data(id), len);
    return c;
  }
  void pass(uint32_t id, uint32_t len, uint32_t) override {
    // A TUN write hands the datagram to the kernel at once; it never blocks.
    if (write(fd_, slots_.data(id), len) < 0) ++write_errors;
    else ++written;
    slots_.free(id);
  }
  void drop(uint32_t id) override { slots_.free(id); }
  uint64_t written = 0, write_errors = 0;

 private:
  Slots& slots_;
  int fd_;
};

struct Direction {
  const char* name;
  int in_fd;
  ReaderStats counters;  // only the impair_in_* block is used
  std::unique_ptr<ImpairedPath> path;
  std::unique_ptr<Exit> exit;
  uint64_t read = 0;
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

const char* arg_value(int& i, int argc, char** argv) {
  if (i + 1 >= argc) die(std::string(argv[i]) + " needs a value");
  return argv[++i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dev_a, dev_b, netns_b, spec_text = "none";
  uint64_t seed = 1;
  double duration = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dev-a") dev_a = arg_value(i, argc, argv);
    else if (a == "--dev-b") dev_b = arg_value(i, argc, argv);
    else if (a == "--netns-b") netns_b = arg_value(i, argc, argv);
    else if (a == "--impair") spec_text = arg_value(i, argc, argv);
    else if (a == "--impair-seed") seed = std::strtoull(arg_value(i, argc, argv), nullptr, 10);
    else if (a == "--duration") duration = std::strtod(arg_value(i, argc, argv), nullptr);
    else die("unknown argument " + a + " (see the comment at the top of impair_relay.cc)");
  }
  if (dev_a.empty() || dev_b.empty() || netns_b.empty()) die("--dev-a, --dev-b and --netns-b are required");
  ImpairSpec spec;
  std::string err;
  if (!parse_impair_spec(spec_text, spec, err)) die("--impair: " + err);

  const int fd_a = open_tun(dev_a);
  const int ns = open(netns_b.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) die("open " + netns_b + ": " + std::strerror(errno));
  if (setns(ns, CLONE_NEWNET) < 0) die("setns " + netns_b + ": " + std::strerror(errno));
  close(ns);
  const int fd_b = open_tun(dev_b);

  // Devices without offloads: one datagram of at most the MTU (1500 in bench/loss.sh) per read.
  constexpr uint32_t kSlots = 8192, kSlotSize = 4096;
  Slots slots(kSlots, kSlotSize);
  spec.limit = std::min(spec.limit, kSlots / 4);  // per direction, leaving room to read
  const uint64_t start = clock::now_us();
  Direction dirs[2] = {{"a->b", fd_a, {}, nullptr, nullptr, 0}, {"b->a", fd_b, {}, nullptr, nullptr, 0}};
  for (uint32_t d = 0; d < 2; ++d) {
    ReaderStats& c = dirs[d].counters;
    dirs[d].exit = std::make_unique<Exit>(slots, d == 0 ? fd_b : fd_a);
    dirs[d].path = std::make_unique<ImpairedPath>(
        spec, impair_seed_for(seed, d, 0), start, 0,
        ImpairCounters{&c.impair_in_dropped, &c.impair_in_delayed, &c.impair_in_duplicated,
                       &c.impair_in_corrupted, &c.impair_in_reordered, &c.impair_in_overflow});
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  std::printf("ready: %s <-> %s, impair %s\n", dev_a.c_str(), dev_b.c_str(), describe(spec).c_str());
  std::fflush(stdout);

  const uint64_t deadline = duration > 0 ? start + static_cast<uint64_t>(duration * 1e6) : kNoRelease;
  while (!g_stop) {
    uint64_t now = clock::now_us();
    if (now >= deadline) break;
    uint64_t next = std::min({deadline, dirs[0].path->next_release_us(), dirs[1].path->next_release_us()});
    // Sleep until a device is readable or the next held packet is due (microseconds, as the
    // engine's io_uring waits), 100 ms at most so signals and the deadline are seen.
    const uint64_t wait_us = next <= now ? 0 : std::min<uint64_t>(next - now, 100000);
    const timespec ts{static_cast<time_t>(wait_us / 1000000), static_cast<long>(wait_us % 1000000) * 1000};
    pollfd p[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
    if (ppoll(p, 2, &ts, nullptr) < 0 && errno != EINTR) die("ppoll: " + std::string(std::strerror(errno)));
    now = clock::now_us();
    for (auto& dir : dirs) {
      // Read what is there (bounded, so the other direction gets its turn), keeping slots free
      // for duplicates.
      for (int n = 0; n < 256 && slots.free_count() > 64; ++n) {
        const uint32_t id = slots.alloc();
        const ssize_t len = read(dir.in_fd, slots.data(id), slots.size());
        if (len <= 0) {
          slots.free(id);
          if (len < 0 && errno != EAGAIN && errno != EINTR) die("read: " + std::string(std::strerror(errno)));
          break;
        }
        ++dir.read;
        dir.path->admit(id, static_cast<uint32_t>(len), 0, now, *dir.exit);
      }
      dir.path->release_due(now, *dir.exit);
    }
  }
  for (auto& dir : dirs) {
    const ReaderStats& c = dir.counters;
    std::printf("%s: read %llu written %llu write_errors %llu dropped %llu delayed %llu duplicated %llu "
                "corrupted %llu reordered %llu overflow %llu\n",
                dir.name, static_cast<unsigned long long>(dir.read),
                static_cast<unsigned long long>(dir.exit->written),
                static_cast<unsigned long long>(dir.exit->write_errors),
                static_cast<unsigned long long>(c.impair_in_dropped.get()),
                static_cast<unsigned long long>(c.impair_in_delayed.get()),
                static_cast<unsigned long long>(c.impair_in_duplicated.get()),
                static_cast<unsigned long long>(c.impair_in_corrupted.get()),
                static_cast<unsigned long long>(c.impair_in_reordered.get()),
                static_cast<unsigned long long>(c.impair_in_overflow.get()));
  }
  close(fd_a);
  close(fd_b);
  return 0;
}
