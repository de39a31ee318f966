// The congestion-controller registry: every listed controller has its name, parses back to
// itself, and the factory gives each connection an object of that controller (a fresh one).
#include "proto/tcp/cc_registry.h"

#include <gtest/gtest.h>

#include <string>

#include "proto/tcp/config.h"

namespace tuntcp::proto::tcp {
namespace {

TEST(CcRegistry, EveryControllerRoundTripsAndIsMadeByItsFactory) {
  int n = 0;
#define TUNTCP_X(e, nm, mk, doc)                              \
  {                                                               \
    ++n;                                                          \
    EXPECT_EQ(cc_name(CcAlgo::e), nm);                          \
    ASSERT_TRUE(parse_cc(nm).has_value());                      \
    EXPECT_EQ(*parse_cc(nm), CcAlgo::e);                        \
    Config c;                                                     \
    c.cc = CcAlgo::e;                                             \
    auto a = make_congestion_control(c), b = make_congestion_control(c); \
    ASSERT_TRUE(a && b);                                          \
    EXPECT_NE(a.get(), b.get()) << "one object per connection";   \
    EXPECT_EQ(std::string(a->name()), nm);                      \
    EXPECT_NE(cc_help().find(nm), std::string::npos);           \
  }
  TUNTCP_CONGESTION_CONTROLLERS(TUNTCP_X)
#undef TUNTCP_X
  EXPECT_GE(n, 2);
  EXPECT_FALSE(parse_cc("reno").has_value());
  EXPECT_FALSE(parse_cc("").has_value());
}

TEST(CcRegistry, ConfigReachesTheController) {
  Config c;
  c.cc = CcAlgo::kCubic;
  c.hystart = false;
  auto cc = make_congestion_control(c);
  cc->init(1000);
  EXPECT_EQ(cc->cwnd(), 10000u);  // RFC 6928 initial window
  EXPECT_STREQ(cc->name(), "cubic");
}

}  // namespace
}  // namespace tuntcp::proto::tcp
