// Command-line options: defaults, every flag, the address/prefix consistency rules, CPU lists,
// and that every bad value ends in nullopt with exit code 2 (and --help/--version in 0).
#include "engine/options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace tuntcp::engine {
namespace {

// Runs parse_options on "tuntcp <args...>". exit_code starts at a sentinel so tests can tell
// whether it was set.
constexpr int kUnset = -12345;

struct Parsed {
  std::optional<Options> opts;
  int exit_code = kUnset;
};

Parsed parse(std::initializer_list<std::string> args) {
  std::vector<std::string> storage{"tuntcp"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  Parsed p;
  p.opts = parse_options(static_cast<int>(storage.size()), argv.data(), p.exit_code);
  return p;
}

// Formats argv for failure messages.
std::string joined(std::initializer_list<std::string> args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

void expect_rejected(std::initializer_list<std::string> args) {
  Parsed p = parse(args);
  EXPECT_FALSE(p.opts.has_value()) << "accepted: " << joined(args);
  EXPECT_EQ(p.exit_code, 2) << "exit code for: " << joined(args);
}

Options expect_accepted(std::initializer_list<std::string> args) {
  Parsed p = parse(args);
  EXPECT_TRUE(p.opts.has_value()) << "rejected: " << joined(args);
  return p.opts.value_or(Options{});
}

// ----------------------------------------------------------------------------------------------
// Defaults and every flag

TEST(CliOptions, NoArgumentsGiveTheDocumentedDefaults) {
  Parsed p = parse({});
  ASSERT_TRUE(p.opts.has_value());
  const Options& o = *p.opts;
  EXPECT_EQ(o.dev, "tuntcp0");
  EXPECT_EQ(o.queues, 1u);
  EXPECT_EQ(o.workers, 1u) << "workers 0 = same as queues";
  EXPECT_EQ(o.addr, 0xc6120002u);       // 198.18.0.2
  EXPECT_EQ(o.host_addr, 0xc6120001u);  // 198.18.0.1
  EXPECT_EQ(o.host_prefix, 24);
  EXPECT_EQ(o.mtu, 1500u);
  EXPECT_EQ(o.txqueuelen, 1000u);
  EXPECT_EQ(o.ring_entries, 256u);
  EXPECT_TRUE(o.offload);
  EXPECT_EQ(o.pool_buffers, 2048u) << "auto: 2048 64 KB buffers with --offload on";
  EXPECT_EQ(o.batch, 64u);
  EXPECT_EQ(o.reads_in_flight, 64u);
  EXPECT_EQ(o.read_mode, ReadMode::kMultishot);
  EXPECT_TRUE(o.cpus.empty());
  EXPECT_EQ(o.stats_interval, 0.0);
  EXPECT_EQ(o.duration, 0.0);
  EXPECT_EQ(o.icmp_rate, 1000u);
  EXPECT_EQ(o.icmp_burst, 50u);
  EXPECT_EQ(o.log_level, LogLevel::kInfo);
}

TEST(CliOptions, EveryFlagParses) {
  const Options o = expect_accepted({
      "--dev", "mytun", "--queues", "4", "--workers", "2", "--addr", "10.1.2.3", "--host-addr",
      "10.1.0.1/16", "--mtu", "9000", "--txqueuelen", "5000", "--ring-entries", "1024",
      "--pool-buffers", "16384", "--batch", "32", "--read-mode", "single", "--reads-in-flight",
      "128", "--cpus", "0,2,4-6", "--stats-interval", "1.5", "--duration", "10",
      "--icmp-ratelimit", "0", "--icmp-burst", "7", "--log-level", "debug", "--offload", "off"});
  EXPECT_EQ(o.dev, "mytun");
  EXPECT_EQ(o.queues, 4u);
  EXPECT_EQ(o.workers, 2u);
  EXPECT_EQ(o.addr, 0x0a010203u);
  EXPECT_EQ(o.host_addr, 0x0a010001u);
  EXPECT_EQ(o.host_prefix, 16);
  EXPECT_EQ(o.mtu, 9000u);
  EXPECT_EQ(o.txqueuelen, 5000u);
  EXPECT_EQ(o.ring_entries, 1024u);
  EXPECT_EQ(o.pool_buffers, 16384u);
  EXPECT_EQ(o.batch, 32u);
  EXPECT_EQ(o.read_mode, ReadMode::kSingle);
  EXPECT_EQ(o.reads_in_flight, 128u);
  EXPECT_EQ(o.cpus, (std::vector<int>{0, 2, 4, 5, 6}));
  EXPECT_DOUBLE_EQ(o.stats_interval, 1.5);
  EXPECT_DOUBLE_EQ(o.duration, 10.0);
  EXPECT_EQ(o.icmp_rate, 0u);
  EXPECT_EQ(o.icmp_burst, 7u);
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_FALSE(o.offload);
}

TEST(CliOptions, EqualsSignSyntaxWorks) {
  const Options o = expect_accepted({"--queues=3", "--mtu=1280", "--read-mode=multishot"});
  EXPECT_EQ(o.queues, 3u);
  EXPECT_EQ(o.workers, 3u);
  EXPECT_EQ(o.mtu, 1280u);
  EXPECT_EQ(o.read_mode, ReadMode::kMultishot);
}

TEST(CliOptions, EveryLogLevelParses) {
  EXPECT_EQ(expect_accepted({"--log-level", "error"}).log_level, LogLevel::kError);
  EXPECT_EQ(expect_accepted({"--log-level", "warn"}).log_level, LogLevel::kWarn);
  EXPECT_EQ(expect_accepted({"--log-level", "info"}).log_level, LogLevel::kInfo);
  EXPECT_EQ(expect_accepted({"--log-level", "debug"}).log_level, LogLevel::kDebug);
}

TEST(CliOptions, WorkersZeroMeansSameAsQueues) {
  EXPECT_EQ(expect_accepted({"--queues", "4"}).workers, 4u);
  EXPECT_EQ(expect_accepted({"--queues", "4", "--workers", "0"}).workers, 4u);
  EXPECT_EQ(expect_accepted({"--workers", "0", "--queues", "8"}).workers, 8u);
  EXPECT_EQ(expect_accepted({"--queues", "4", "--workers", "2"}).workers, 2u);
  EXPECT_EQ(expect_accepted({"--queues", "2", "--workers", "6"}).workers, 6u);
}

TEST(CliOptions, RangeEdgesAreAccepted) {
  EXPECT_EQ(expect_accepted({"--queues", "1"}).queues, 1u);
  EXPECT_EQ(expect_accepted({"--queues", "64", "--pool-buffers", "8192"}).queues, 64u);
  EXPECT_EQ(expect_accepted({"--mtu", "576"}).mtu, 576u);
  EXPECT_EQ(expect_accepted({"--mtu", "65535"}).mtu, 65535u);
  EXPECT_EQ(expect_accepted({"--batch", "1"}).batch, 1u);
  EXPECT_EQ(expect_accepted({"--batch", "4096"}).batch, 4096u);
  EXPECT_EQ(expect_accepted({"--ring-entries", "8"}).ring_entries, 8u);
  EXPECT_EQ(expect_accepted({"--icmp-burst", "1"}).icmp_burst, 1u);
  EXPECT_EQ(expect_accepted({"--pool-buffers", "128"}).pool_buffers, 128u);  // 64 per thread
}

TEST(CliOptions, PoolBuffersZeroMeansAutoSizedForOffloadAndThreads) {
  EXPECT_EQ(expect_accepted({"--pool-buffers", "0"}).pool_buffers, 2048u);
  const Options off = expect_accepted({"--offload", "off"});
  EXPECT_FALSE(off.offload);
  EXPECT_EQ(off.pool_buffers, 8192u);
  EXPECT_EQ(off.vnet_hdr_len(), 0u);
  EXPECT_EQ(expect_accepted({"--offload", "on"}).vnet_hdr_len(), 12u);
  // Never below 64 per thread: 20 readers + 20 workers need 2560.
  EXPECT_EQ(expect_accepted({"--queues", "20"}).pool_buffers, 2560u);
  // An explicit size is kept.
  EXPECT_EQ(expect_accepted({"--pool-buffers", "4096"}).pool_buffers, 4096u);
}

TEST(CliOptions, CpuListsParse) {
  EXPECT_EQ(expect_accepted({"--cpus", "3"}).cpus, (std::vector<int>{3}));
  EXPECT_EQ(expect_accepted({"--cpus", "3-3"}).cpus, (std::vector<int>{3}));
  EXPECT_EQ(expect_accepted({"--cpus", "0,1"}).cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(expect_accepted({"--cpus", "2-5"}).cpus, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(expect_accepted({"--cpus", "7,0-1,4"}).cpus, (std::vector<int>{7, 0, 1, 4}));
}

// ----------------------------------------------------------------------------------------------
// Addresses

TEST(CliOptions, HostAddrNoneLeavesTheDeviceAddressesAlone) {
  const Options o = expect_accepted({"--host-addr", "none"});
  EXPECT_EQ(o.host_prefix, 0);
  EXPECT_EQ(o.host_addr, 0u);
  EXPECT_EQ(o.addr, 0xc6120002u);
  // Without a host prefix there is nothing for --addr to be inside of.
  EXPECT_EQ(expect_accepted({"--host-addr", "none", "--addr", "203.0.113.9"}).addr, 0xcb007109u);
}

TEST(CliOptions, AddrInsideTheHostPrefixIsAccepted) {
  const Options o = expect_accepted({"--host-addr", "10.0.0.1/8", "--addr", "10.255.0.7"});
  EXPECT_EQ(o.host_prefix, 8);
  EXPECT_EQ(o.addr, 0x0aff0007u);
  EXPECT_EQ(expect_accepted({"--host-addr", "128.0.0.1/1", "--addr", "200.1.1.1"}).host_prefix,
            1);
  EXPECT_EQ(expect_accepted({"--host-addr", "10.0.0.1/30", "--addr", "10.0.0.2"}).host_prefix,
            30);
}

// ----------------------------------------------------------------------------------------------
// Bad values: nullopt and exit code 2

TEST(CliOptions, ZeroQueuesIsRejected) { expect_rejected({"--queues", "0"}); }
TEST(CliOptions, TooManyQueuesIsRejected) { expect_rejected({"--queues", "257"}); }
TEST(CliOptions, TooManyWorkersIsRejected) { expect_rejected({"--workers", "257"}); }

TEST(CliOptions, MtuOutsideItsRangeIsRejected) {
  expect_rejected({"--mtu", "100"});
  expect_rejected({"--mtu", "575"});
  expect_rejected({"--mtu", "65536"});
}

TEST(CliOptions, MalformedAddrIsRejected) {
  expect_rejected({"--addr", "1.2.3"});
  expect_rejected({"--addr", "198.18.0.256"});
  expect_rejected({"--addr", "198.18.0.2/24"});
  expect_rejected({"--addr", ""});
  expect_rejected({"--addr", "localhost"});
}

TEST(CliOptions, HostAddrWithoutPrefixIsRejected) {
  expect_rejected({"--host-addr", "198.18.0.1"});
}

TEST(CliOptions, HostAddrWithABadPrefixIsRejected) {
  for (const char* h : {"198.18.0.1/", "198.18.0.1/0", "198.18.0.1/31", "198.18.0.1/32",
                        "198.18.0.1/33", "198.18.0.1/x", "198.18.0.1/24x", "198.18.0.1/-8",
                        "198.18.0/24", "/24", "none/24"}) {
    expect_rejected({"--host-addr", h});
  }
}

TEST(CliOptions, AddrOutsideTheHostPrefixIsRejected) {
  expect_rejected({"--addr", "198.18.1.2"});  // default host 198.18.0.1/24
  expect_rejected({"--host-addr", "10.0.0.1/24", "--addr", "10.0.1.2"});
  expect_rejected({"--host-addr", "10.0.0.1/30", "--addr", "10.0.0.4"});
}

TEST(CliOptions, AddrEqualToTheHostAddressIsRejected) {
  expect_rejected({"--addr", "198.18.0.1"});
  expect_rejected({"--host-addr", "10.0.0.5/24", "--addr", "10.0.0.5"});
}

TEST(CliOptions, NonUnicastAddrIsRejected) {
  for (const char* a : {"0.0.0.0", "255.255.255.255", "127.0.0.1", "224.0.0.1", "239.1.2.3"})
    expect_rejected({"--host-addr", "none", "--addr", a});
}

TEST(CliOptions, BadCpuListsAreRejected) {
  for (const char* c : {"3-1", "a", "1,,2", "-1", "1-", "-", "1-2-3", "1-a", ",", "1;2", " 1"})
    expect_rejected({"--cpus", c});
}

TEST(CliOptions, UnknownFlagIsRejected) { expect_rejected({"--frobnicate"}); }
TEST(CliOptions, UnknownFlagWithValueIsRejected) { expect_rejected({"--queuez", "2"}); }
TEST(CliOptions, StrayPositionalArgumentIsRejected) { expect_rejected({"extra"}); }
TEST(CliOptions, FlagMissingItsValueIsRejected) { expect_rejected({"--queues"}); }

TEST(CliOptions, NonNumericValuesAreRejected) {
  expect_rejected({"--queues", "two"});
  expect_rejected({"--queues", "1.5"});
  expect_rejected({"--mtu", ""});
  expect_rejected({"--stats-interval", "soon"});
}

TEST(CliOptions, NegativeValuesAreRejected) {
  expect_rejected({"--workers", "-1"});
  expect_rejected({"--stats-interval", "-1"});
  expect_rejected({"--duration", "-0.5"});
}

TEST(CliOptions, UnknownEnumValuesAreRejected) {
  expect_rejected({"--read-mode", "batch"});
  expect_rejected({"--log-level", "verbose"});
  expect_rejected({"--log-level", "INFO"});
  expect_rejected({"--offload", "yes"});
}

TEST(CliOptions, IcmpBurstZeroIsRejected) { expect_rejected({"--icmp-burst", "0"}); }

TEST(CliOptions, PoolTooSmallForTheThreadsIsRejected) {
  // 4 readers + 4 workers need at least 64 buffers each.
  expect_rejected({"--queues", "4", "--pool-buffers", "511"});
  EXPECT_EQ(expect_accepted({"--queues", "4", "--pool-buffers", "512"}).pool_buffers, 512u);
  expect_rejected({"--pool-buffers", "63"});
}

// ----------------------------------------------------------------------------------------------
// --help and --version

TEST(CliOptions, HelpExitsWithCodeZero) {
  Parsed p = parse({"--help"});
  EXPECT_FALSE(p.opts.has_value());
  EXPECT_EQ(p.exit_code, 0);
  Parsed q = parse({"-h"});
  EXPECT_FALSE(q.opts.has_value());
  EXPECT_EQ(q.exit_code, 0);
}

TEST(CliOptions, VersionExitsWithCodeZero) {
  Parsed p = parse({"--version"});
  EXPECT_FALSE(p.opts.has_value());
  EXPECT_EQ(p.exit_code, 0);
}

// ----------------------------------------------------------------------------------------------
// Regressions

// parse_cpu_list had no upper bound: "--cpus 2147483647" made `for (int c = lo; c <= hi; ++c)`
// overflow a signed int (in practice an endless push_back until std::bad_alloc), and
// "--cpus 0-1000000000" built a 4 GB vector. CPU numbers at or above CPU_SETSIZE (1024) are
// silently dropped by CPU_SET, so such a list could never pin anything.
TEST(CliOptions, CpuNumbersBeyondCpuSetSizeAreRejected) {
  expect_rejected({"--cpus", "1024"});
  expect_rejected({"--cpus", "0-100000"});
  expect_rejected({"--cpus", "2147483647"});
  expect_rejected({"--cpus", "0-2147483647"});
  EXPECT_EQ(expect_accepted({"--cpus", "1023"}).cpus, (std::vector<int>{1023}));
}

// The kernel installs a broadcast route for the all-ones host part of an address/prefix it is
// given (prefix < 31), so the kernel never sends unicast traffic for that address into the TUN;
// the all-zeros host part is the subnet itself.
TEST(CliOptions, AddrThatIsTheBroadcastOfTheHostPrefixIsRejected) {
  expect_rejected({"--addr", "198.18.0.255"});
  expect_rejected({"--host-addr", "10.0.0.1/30", "--addr", "10.0.0.3"});
}

TEST(CliOptions, AddrThatIsTheNetworkAddressOfTheHostPrefixIsRejected) {
  expect_rejected({"--addr", "198.18.0.0"});
  expect_rejected({"--host-addr", "10.0.0.1/30", "--addr", "10.0.0.0"});
}

TEST(CliOptions, HostAddrThatIsANetworkOrBroadcastAddressIsRejected) {
  expect_rejected({"--host-addr", "198.18.0.255/24"});
  expect_rejected({"--host-addr", "198.18.0.0/24"});
}

// --cc is parsed once into the controller enum, from the registry's names.
TEST(CliOptions, CongestionControlIsParsedIntoTheRegistryEnum) {
  using tuntcp::proto::tcp::CcAlgo;
  EXPECT_EQ(expect_accepted({}).cc, CcAlgo::kCubic);
  EXPECT_EQ(expect_accepted({"--cc", "newreno"}).cc, CcAlgo::kNewReno);
  EXPECT_EQ(expect_accepted({"--cc", "cubic"}).cc, CcAlgo::kCubic);
  expect_rejected({"--cc", "reno"});
  expect_rejected({"--cc", ""});
}

}  // namespace
}  // namespace tuntcp::engine
