// The JSON reader/writer used by the iperf3 control protocol: valid documents, exact integers,
// escapes, every kind of malformed input it must refuse, and writer round trips.
#include "engine/services/json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using tuntcp::engine::services::json::Value;
using tuntcp::engine::services::json::Writer;

namespace {

Value parse_ok(std::string_view text) {
  std::string err;
  auto v = Value::parse(text, &err);
  EXPECT_TRUE(v.has_value()) << text << ": " << err;
  return v ? *v : Value{};
}

bool rejects(std::string_view text) { return !Value::parse(text).has_value(); }

}  // namespace

TEST(IperfJson, ParsesTheParametersOfAnIperf3Client) {
  // As iperf3 3.12 sends them with -P 2 --bidir (cJSON_PrintUnformatted).
  const Value v =
      parse_ok(R"({"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":2,)"
               R"("bidirectional":true,"len":131072,"pacing_timer":1000,"client_version":"3.12"})");
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.find("tcp")->as_bool());
  EXPECT_EQ(v.find("parallel")->as_int64(), 2);
  EXPECT_EQ(v.find("len")->as_uint64(), 131072u);
  EXPECT_EQ(v.find("client_version")->as_string(), "3.12");
  EXPECT_EQ(v.find("udp"), nullptr);
  EXPECT_EQ(v.items().size(), 10u);
}

TEST(IperfJson, WhitespaceAndNesting) {
  const Value v = parse_ok(" \n\t{ \"a\" : [ 1 , { \"b\" : null } , [ ] , { } ] } \r\n");
  const Value* a = v.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->is_array());
  ASSERT_EQ(a->items().size(), 4u);
  EXPECT_TRUE(a->items()[1].find("b")->is_null());
  EXPECT_TRUE(a->items()[2].is_array());
  EXPECT_TRUE(a->items()[3].is_object());
  EXPECT_TRUE(parse_ok("true").as_bool());
  EXPECT_TRUE(parse_ok("\"x\"").is_string());
}

TEST(IperfJson, IntegersAreExact) {
  EXPECT_EQ(parse_ok("9007199254740993").as_uint64(), 9007199254740993u);  // 2^53 + 1
  EXPECT_EQ(parse_ok("18446744073709551615").as_uint64(), UINT64_MAX);
  EXPECT_EQ(parse_ok("18446744073709551615").as_int64(), std::nullopt);
  EXPECT_EQ(parse_ok("-9223372036854775808").as_int64(), INT64_MIN);
  EXPECT_EQ(parse_ok("9223372036854775807").as_int64(), INT64_MAX);
  EXPECT_EQ(parse_ok("-1").as_int64(), -1);
  EXPECT_EQ(parse_ok("-1").as_uint64(), std::nullopt);
  EXPECT_EQ(parse_ok("-0").as_uint64(), 0u);
  // Integral values written as doubles (cJSON prints 2^64-1 as 1.8446744073709552e+19).
  EXPECT_EQ(parse_ok("3.0").as_int64(), 3);
  EXPECT_EQ(parse_ok("1e3").as_uint64(), 1000u);
  EXPECT_EQ(parse_ok("1.8446744073709552e+19").as_uint64(), std::nullopt);  // 2^64: too big
  EXPECT_EQ(parse_ok("2.5").as_int64(), std::nullopt);
  EXPECT_DOUBLE_EQ(parse_ok("1.010489").as_double(), 1.010489);
  EXPECT_DOUBLE_EQ(parse_ok("-2.5E-3").as_double(), -0.0025);
  EXPECT_EQ(parse_ok("\"5\"").as_int64(), std::nullopt);  // not a number
  // Out of double range: still a number, just not an integer.
  EXPECT_TRUE(parse_ok("1e999").is_number());
  EXPECT_EQ(parse_ok("1e999").as_uint64(), std::nullopt);
}

TEST(IperfJson, StringEscapes) {
  EXPECT_EQ(parse_ok(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("\u00e9\u20ac")").as_string(), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");  // surrogate pair
  EXPECT_EQ(parse_ok("\"caf\xc3\xa9\"").as_string(), "caf\xc3\xa9");         // raw UTF-8
}

TEST(IperfJson, DuplicateKeysTakeTheLast) {
  EXPECT_EQ(parse_ok(R"({"a":1,"a":2})").find("a")->as_int64(), 2);
}

TEST(IperfJson, RejectsMalformedInput) {
  for (const char* bad :
       {"",           " ",       "{",         "}",           "[1,]",        "{\"a\":1,}",
        "{\"a\" 1}",  "{a:1}",   "[1 2]",     "01",          "1.",          ".5",
        "-",          "1e",      "+1",        "0x10",        "tru",         "nul",
        "\"abc",      "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\nb\"",
        "{\"a\":1}}", "1 2",     "[]x",       "{\"a\":}",    "NaN",         "Infinity",
        "'a'"}) {
    EXPECT_TRUE(rejects(bad)) << "accepted: " << bad;
  }
}

TEST(IperfJson, RejectsDeepNesting) {
  const std::string ok = std::string(Value::kMaxDepth, '[') + std::string(Value::kMaxDepth, ']');
  EXPECT_FALSE(rejects(ok));
  const std::string deep(100000, '[');  // would overflow the stack without the limit
  std::string err;
  EXPECT_FALSE(Value::parse(deep, &err).has_value());
  EXPECT_NE(err.find("deep"), std::string::npos) << err;
}

TEST(IperfJson, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]:,\"\\0123456789.eE+-truefalsnl \n\tu";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 40, ' ');
    for (auto& c : s)
      c = (rng() % 4 == 0) ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    (void)Value::parse(s);
  }
}

TEST(IperfJson, WriterIsCompactAndRoundTrips) {
  Writer w;
  w.begin_object();
  w.key("id").value(3);
  w.key("bytes").value(uint64_t{18446744073709551615u});
  w.key("retransmits").value(int64_t{-1});
  w.key("end_time").value(2.047717);
  w.key("ok").value(true);
  w.key("text").value("line \"1\"\n\ttab \x01");
  w.key("nothing").null();
  w.key("list")
      .begin_array()
      .value(1)
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .end_array();
  w.end_object();
  EXPECT_EQ(w.str(),
            R"({"id":3,"bytes":18446744073709551615,"retransmits":-1,"end_time":2.047717,)"
            R"("ok":true,"text":"line \"1\"\n\ttab \u0001","nothing":null,"list":[1,{},[]]})");
  const Value v = parse_ok(w.str());
  EXPECT_EQ(v.find("bytes")->as_uint64(), UINT64_MAX);
  EXPECT_EQ(v.find("retransmits")->as_int64(), -1);
  EXPECT_DOUBLE_EQ(v.find("end_time")->as_double(), 2.047717);
  EXPECT_EQ(v.find("text")->as_string(), "line \"1\"\n\ttab \x01");
}

TEST(IperfJson, WriterTurnsNonFiniteIntoNull) {
  Writer w;
  w.begin_array().value(1.0 / 0.0).value(0.5).end_array();
  EXPECT_EQ(w.str(), "[null,0.5]");
}
