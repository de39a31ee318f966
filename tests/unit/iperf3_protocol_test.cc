// The iperf3 control protocol (server side), driven with the byte strings a stock iperf3 3.12
// client sends: the whole test, refusals, every protocol error, and input split at every
// byte boundary. Also the JSON rules on network input: exact 64-bit integers, escapes,
// malformed text, the nesting limit, random bytes.
#include "engine/services/iperf3_protocol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace i3 = tuntcp::engine::services::iperf3;
using Phase = i3::ControlProtocol::Phase;

namespace {

// cJSON_PrintUnformatted output of iperf3 3.12 (-P 2 --bidir, -t 1).
const std::string kParams =
    R"({"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":2,)"
    R"("bidirectional":true,"len":131072,"pacing_timer":1000,"client_version":"3.12"})";
// The client's results of the same test (its receiving streams report retransmits as
// 2^64-1: cJSON's rendering of -1 through an unsigned field).
const std::string kClientResults =
    R"({"cpu_util_total":40.266349719764143,"cpu_util_user":0.56401962784362769,)"
    R"("cpu_util_system":39.702231538779181,"sender_has_retransmits":1,"congestion_used":"bbr",)"
    R"("streams":[{"id":1,"bytes":441712640,"retransmits":2,"jitter":0,"errors":0,"packets":0,)"
    R"("start_time":0,"end_time":1.001028},{"id":3,"bytes":415498240,"retransmits":1,"jitter":0,)"
    R"("errors":0,"packets":0,"start_time":0,"end_time":1.001032},{"id":4,"bytes":620166797,)"
    R"("retransmits":18446744073709551615,"jitter":0,"errors":0,"packets":0,"start_time":0,)"
    R"("end_time":1.001033}]})";

std::string frame(const std::string& json) {
  const auto n = static_cast<uint32_t>(json.size());
  std::string out;
  out += static_cast<char>(n >> 24);
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  return out + json;
}

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s += static_cast<char>(b);
  return s;
}

struct FakeHooks : i3::ControlProtocol::Hooks {
  int32_t refuse_with = 0;
  std::vector<i3::TestParams> params;
  int test_ends = 0;
  std::vector<std::vector<i3::ClientStream>> results;
  int32_t on_params(const i3::TestParams& p) override {
    params.push_back(p);
    return refuse_with;
  }
  void on_test_end() override { ++test_ends; }
  void on_client_results(const std::vector<i3::ClientStream>& s) override { results.push_back(s); }
};

struct Harness {
  FakeHooks hooks;
  i3::ControlProtocol proto{hooks};
  void feed(const std::string& s) {
    proto.feed({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  std::string take() { return std::exchange(proto.out(), {}); }
};

}  // namespace

TEST(Iperf3Params, ParsesWhatTheClientSends) {
  std::string err;
  const auto p = i3::parse_params(kParams, err);
  ASSERT_TRUE(p) << err;
  EXPECT_TRUE(p->tcp);
  EXPECT_EQ(p->duration, 1);
  EXPECT_EQ(p->parallel, 2);
  EXPECT_TRUE(p->bidirectional);
  EXPECT_FALSE(p->reverse);
  EXPECT_EQ(p->block_len, 131072u);
  EXPECT_EQ(p->client_version, "3.12");
  EXPECT_EQ(p->server_receive_streams(), 2);
  EXPECT_EQ(p->server_send_streams(), 2);
  EXPECT_EQ(i3::check_supported(*p), 0);
}

TEST(Iperf3Params, DirectionsAndEndConditions) {
  std::string err;
  auto p = i3::parse_params(R"({"tcp":true,"omit":2,"time":0,"num":104857600,"parallel":4,)"
                            R"("reverse":true,"get_server_output":1})",
                            err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->omit, 2);
  EXPECT_EQ(p->bytes, 104857600u);
  EXPECT_TRUE(p->get_server_output);
  EXPECT_EQ(p->server_receive_streams(), 0);
  EXPECT_EQ(p->server_send_streams(), 4);
  p = i3::parse_params(R"({"tcp":true,"time":10,"parallel":3})", err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_receive_streams(), 3);
  EXPECT_EQ(p->server_send_streams(), 0);
  p = i3::parse_params("{}", err);  // iperf3's defaults
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->tcp);
  EXPECT_EQ(p->parallel, 1);
  EXPECT_EQ(p->duration, 10);
}

TEST(Iperf3Params, RefusesWhatTuntcpCannotRun) {
  std::string err;
  auto refused = [&](const char* json) {
    const auto p = i3::parse_params(json, err);
    EXPECT_TRUE(p) << json << ": " << err;
    return p ? i3::check_supported(*p) : -1;
  };
  EXPECT_EQ(refused(R"({"udp":true,"parallel":1})"), i3::kErrUnimplemented);
  EXPECT_EQ(refused(R"({"sctp":true})"), i3::kErrUnimplemented);
  EXPECT_EQ(refused(R"({"tcp":true,"parallel":0})"), i3::kErrNumStreams);
  EXPECT_EQ(refused(R"({"tcp":true,"parallel":129})"), i3::kErrNumStreams);
  EXPECT_EQ(refused(R"({"tcp":true,"reverse":true,"bidirectional":true})"), i3::kErrReverseBidir);
}

TEST(Iperf3Params, RejectsBadValues) {
  std::string err;
  for (const char* bad :
       {"[]", "\"x\"", "{\"parallel\":\"2\"}", "{\"parallel\":-1}", "{\"parallel\":1.5}",
        "{\"time\":99999999999}", "{\"num\":true}", "{\"client_version\":3}", "{\"tcp\":true,"}) {
    EXPECT_FALSE(i3::parse_params(bad, err)) << bad;
  }
}

TEST(Iperf3Results, ClientResultsGiveBytesPerStream) {
  std::string err;
  const auto r = i3::parse_client_results(kClientResults, err);
  ASSERT_TRUE(r) << err;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, 1);
  EXPECT_EQ((*r)[0].bytes, 441712640u);
  EXPECT_EQ((*r)[2].id, 4);
  EXPECT_EQ((*r)[2].bytes, 620166797u);
  EXPECT_FALSE(i3::parse_client_results(R"({"streams":{}})", err));
  EXPECT_FALSE(i3::parse_client_results(R"({"streams":[{"id":1}]})", err));
  EXPECT_FALSE(i3::parse_client_results(R"({"cpu_util_total":1})", err));
  EXPECT_TRUE(i3::parse_client_results(R"({"streams":[]})", err));
}

TEST(Iperf3Params, IntegersAreExact) {
  std::string err;
  auto num = [&](const std::string& v) -> std::optional<uint64_t> {
    const auto p = i3::parse_params("{\"num\":" + v + "}", err);
    return p ? std::optional<uint64_t>(p->bytes) : std::nullopt;
  };
  EXPECT_EQ(num("9007199254740993"), 9007199254740993u);  // 2^53 + 1
  EXPECT_EQ(num("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(num("-0"), 0u);
  // Integral values written as doubles (cJSON prints 2^64-1 as 1.8446744073709552e+19).
  EXPECT_EQ(num("1e3"), 1000u);
  EXPECT_EQ(num("3.0"), 3u);
  for (const char* bad : {"18446744073709551616", "1.8446744073709552e+19", "-1", "2.5", "-2.5E-3",
                          "\"5\"", "true", "null", "[]", "{}"}) {
    EXPECT_EQ(num(bad), std::nullopt) << bad;
    EXPECT_EQ(err, "\"num\" is not a non-negative integer") << bad;
  }
  // Counts iperf3 keeps in C ints.
  auto p = i3::parse_params(R"({"time":2147483647,"parallel":1e2})", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->duration, 2147483647);
  EXPECT_EQ(p->parallel, 100);
  EXPECT_FALSE(i3::parse_params(R"({"time":2147483648})", err));
  EXPECT_EQ(err, "\"time\" is out of range");
  EXPECT_FALSE(i3::parse_params(R"({"parallel":-1})", err));
  EXPECT_EQ(err, "\"parallel\" is not a non-negative integer");

  // Client results: stream ids are signed 64-bit, byte counts unsigned.
  auto one = [&](const std::string& id, const std::string& bytes) {
    return i3::parse_client_results(R"({"streams":[{"id":)" + id + R"(,"bytes":)" + bytes + "}]}",
                                    err);
  };
  auto r = one("-9223372036854775808", "18446744073709551615");
  ASSERT_TRUE(r) << err;
  EXPECT_EQ((*r)[0].id, INT64_MIN);
  EXPECT_EQ((*r)[0].bytes, UINT64_MAX);
  r = one("9223372036854775807", "9007199254740993");
  ASSERT_TRUE(r) << err;
  EXPECT_EQ((*r)[0].id, INT64_MAX);
  EXPECT_EQ((*r)[0].bytes, 9007199254740993u);
  r = one("3.0", "1e3");
  ASSERT_TRUE(r) << err;
  EXPECT_EQ((*r)[0].id, 3);
  EXPECT_EQ((*r)[0].bytes, 1000u);
  for (const auto& [id, bytes] :
       std::vector<std::pair<const char*, const char*>>{{"9223372036854775808", "1"},
                                                        {"9.2233720368547758e+18", "1"},  // 2^63
                                                        {"1.5", "1"},
                                                        {"\"1\"", "1"},
                                                        {"1", "-1"},
                                                        {"1", "null"}}) {
    EXPECT_FALSE(one(id, bytes)) << id << " " << bytes;
    EXPECT_EQ(err, "a stream result lacks an integer \"id\" or \"bytes\"");
  }
  EXPECT_FALSE(i3::parse_client_results(R"({"streams":[1]})", err));
  EXPECT_FALSE(i3::parse_client_results(R"([{"streams":[]}])", err));
  EXPECT_EQ(err, "results have no \"streams\" array");
}

TEST(Iperf3Params, StringsFlagsAndRepeatedMembers) {
  std::string err;
  auto version = [&](const std::string& v) {
    const auto p = i3::parse_params("{\"client_version\":" + v + "}", err);
    return p ? p->client_version : "(rejected: " + err + ")";
  };
  EXPECT_EQ(version(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(version(R"("\u00e9\u20ac")"), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(version(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");  // surrogate pair
  EXPECT_EQ(version("\"caf\xc3\xa9\""), "caf\xc3\xa9");         // raw UTF-8
  EXPECT_FALSE(i3::parse_params(R"({"client_version":3.12})", err));
  EXPECT_EQ(err, "\"client_version\" is not a string");
  // A flag is set by its presence, whatever its value (get_parameters() in iperf_api.c).
  auto p = i3::parse_params(R"({"reverse":false,"get_server_output":null,"udp":0})", err);
  ASSERT_TRUE(p) << err;
  EXPECT_TRUE(p->reverse);
  EXPECT_TRUE(p->get_server_output);
  EXPECT_TRUE(p->udp);
  EXPECT_FALSE(p->tcp);
  p = i3::parse_params(R"({"bidirectional":0,"sctp":false})", err);
  ASSERT_TRUE(p) << err;
  EXPECT_TRUE(p->bidirectional);
  EXPECT_TRUE(p->sctp);
  EXPECT_FALSE(p->tcp);
  // A repeated member: the last one counts.
  p = i3::parse_params(R"({"parallel":1,"parallel":2,"time":"x","time":3})", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->parallel, 2);
  EXPECT_EQ(p->duration, 3);
}

TEST(Iperf3Params, RejectsMalformedJson) {
  auto refused = [](const std::string& bad) {
    std::string err;
    EXPECT_FALSE(i3::parse_params(bad, err)) << "accepted: " << bad;
    EXPECT_FALSE(err.empty()) << bad;
    EXPECT_EQ(err.find("last read"), std::string::npos) << err;  // no input bytes in the log
    EXPECT_FALSE(i3::parse_client_results(bad, err)) << "accepted: " << bad;
  };
  for (const char* bad :
       {"",           " ",       "{",         "}",           "[1,]",        "{\"a\":1,}",
        "{\"a\" 1}",  "{a:1}",   "[1 2]",     "01",          "1.",          ".5",
        "-",          "1e",      "+1",        "0x10",        "tru",         "nul",
        "\"abc",      "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\nb\"",
        "{\"a\":1}}", "1 2",     "[]x",       "{\"a\":}",    "NaN",         "Infinity",
        "'a'",        "{} {}"})
    refused(bad);
  // No comments, no byte order mark; a NUL byte is input, not the end of it.
  for (const char* bad : {"{\"a\":/*c*/1}", "{\"a\":1}//", "\xEF\xBB\xBF{}"}) refused(bad);
  refused(std::string("{}\0", 3));
  refused(std::string("{\"a\":1}\0{}", 9));
  refused(std::string("{\"a\":\"\0\"}", 8));
}

TEST(Iperf3Params, RejectsDeepNesting) {
  // At most 64 containers around a value; the parameters object itself is depth 0.
  auto nested = [](int arrays, const char* inner) {
    return "{\"x\":" + std::string(arrays, '[') + inner + std::string(arrays, ']') + "}";
  };
  std::string err;
  EXPECT_TRUE(i3::parse_params(nested(64, ""), err)) << err;
  EXPECT_TRUE(i3::parse_params(nested(63, "1"), err)) << err;
  EXPECT_TRUE(i3::parse_params(nested(63, "{}"), err)) << err;
  for (const auto& deep :
       {nested(65, ""), nested(64, "1"), nested(64, "\"s\""), nested(64, "{}"), nested(1000, "")}) {
    err.clear();
    EXPECT_FALSE(i3::parse_params(deep, err)) << deep.size();
    EXPECT_NE(err.find("nesting too deep"), std::string::npos) << err;
  }
  std::string objects = "{\"x\":0}";
  for (int i = 0; i < 64; ++i) objects = "{\"x\":" + objects + "}";
  EXPECT_FALSE(i3::parse_params(objects, err));
  EXPECT_NE(err.find("deep"), std::string::npos) << err;
  // 100000 open brackets: refused before parsing, wherever they are.
  EXPECT_FALSE(i3::parse_client_results(std::string(100000, '['), err));
  EXPECT_NE(err.find("deep"), std::string::npos) << err;
  // Brackets in strings, escaped quotes included, are not nesting.
  const std::string brackets(1000, '[');
  EXPECT_TRUE(i3::parse_params(R"({"client_version":"\")" + brackets + R"(\\"})", err)) << err;
}

TEST(Iperf3Params, RandomBytesNeverThrow) {
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]:,\"\\0123456789.eE+-truefalsnl \n\tu";
  std::string err;
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 40, ' ');
    for (auto& c : s)
      c = (rng() % 4 == 0) ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    EXPECT_NO_THROW((void)i3::parse_params(s, err)) << s;
    EXPECT_NO_THROW((void)i3::parse_client_results("{\"streams\":[" + s + "]}", err)) << s;
  }
}

TEST(Iperf3Results, ServerResultsHaveWhatTheClientRequires) {
  i3::ServerResults r;
  r.cpu_total = 12.5;
  r.cpu_user = 2.5;
  r.cpu_system = 10;
  r.sender_has_retransmits = 1;
  r.streams.push_back({1, 441712640, -1, 0, 2.05});
  r.streams.push_back({3, 5000000000ull, 7, 0, 2.05});
  r.server_output_text = "text\n";
  const std::string text = i3::results_json(r);
  const auto v = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(v.is_discarded()) << text;
  // get_results() in iperf_api.c fails the test without these.
  for (const char* k :
       {"cpu_util_total", "cpu_util_user", "cpu_util_system", "sender_has_retransmits", "streams"})
    EXPECT_TRUE(v.contains(k)) << k;
  EXPECT_EQ(v["server_output_text"], "text\n");
  const auto& streams = v["streams"];
  ASSERT_EQ(streams.size(), 2u);
  for (const auto& s : streams)
    for (const char* k :
         {"id", "bytes", "retransmits", "jitter", "errors", "packets", "start_time", "end_time"})
      EXPECT_TRUE(s.contains(k)) << k;
  EXPECT_EQ(streams[1]["bytes"].get<uint64_t>(), 5000000000ull);
  EXPECT_EQ(streams[0]["retransmits"].get<int64_t>(), -1);
  EXPECT_DOUBLE_EQ(streams[0]["end_time"].get<double>(), 2.05);
}

TEST(Iperf3Results, ServerResultsTextIsCompactInSendResultsOrder) {
  // Members in the order send_results() adds them, as cJSON_PrintUnformatted writes them.
  i3::ServerResults r;
  r.cpu_total = 40.2663;
  r.cpu_user = 0.5;
  r.cpu_system = std::nan("");  // not JSON: written as null
  r.sender_has_retransmits = -1;
  r.congestion_used = "cubic";
  r.server_output_text = "line \"1\"\n\ttab \x01\\";
  r.streams.push_back({5, UINT64_MAX, -1, 0, 2.047717});
  EXPECT_EQ(i3::results_json(r),
            R"({"cpu_util_total":40.2663,"cpu_util_user":0.5,"cpu_util_system":null,)"
            R"("sender_has_retransmits":-1,"congestion_used":"cubic",)"
            R"("server_output_text":"line \"1\"\n\ttab \u0001\\",)"
            R"("streams":[{"id":5,"bytes":18446744073709551615,"retransmits":-1,"jitter":0,)"
            R"("errors":0,"packets":0,"start_time":0.0,"end_time":2.047717}]})");
  r.congestion_used.clear();
  r.server_output_text.reset();
  r.streams.clear();
  r.cpu_system = 1;
  EXPECT_EQ(i3::results_json(r),
            R"({"cpu_util_total":40.2663,"cpu_util_user":0.5,"cpu_util_system":1.0,)"
            R"("sender_has_retransmits":-1,"streams":[]})");
  // Text that is not UTF-8 is mended (U+FFFD), not an exception, and the output stays JSON.
  r.server_output_text = "bad \xff byte";
  const std::string text = i3::results_json(r);
  EXPECT_NE(text.find("bad \xef\xbf\xbd byte"), std::string::npos) << text;
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
}

TEST(Iperf3Control, AWholeTest) {
  Harness h;
  h.proto.begin();
  EXPECT_EQ(h.take(), bytes({i3::kParamExchange}));
  h.feed(frame(kParams));
  ASSERT_EQ(h.hooks.params.size(), 1u);
  EXPECT_EQ(h.hooks.params[0].parallel, 2);
  EXPECT_EQ(h.take(), bytes({i3::kCreateStreams}));
  EXPECT_EQ(h.proto.phase(), Phase::kCreateStreams);

  h.proto.start_test();  // all streams connected
  EXPECT_EQ(h.take(), bytes({i3::kTestStart, i3::kTestRunning}));
  EXPECT_EQ(h.proto.phase(), Phase::kRunning);

  h.feed(bytes({i3::kTestEnd}));
  EXPECT_EQ(h.hooks.test_ends, 1);
  EXPECT_EQ(h.take(), bytes({i3::kExchangeResults}));
  h.feed(frame(kClientResults));
  ASSERT_EQ(h.hooks.results.size(), 1u);
  EXPECT_EQ(h.hooks.results[0].size(), 3u);
  EXPECT_EQ(h.proto.phase(), Phase::kServerResults);
  EXPECT_EQ(h.take(), "");  // nothing until the streams' counts are final

  h.proto.send_results("{\"x\":1}");
  EXPECT_EQ(h.take(), frame("{\"x\":1}") + bytes({i3::kDisplayResults}));
  EXPECT_FALSE(h.proto.finished());
  h.feed(bytes({i3::kIperfDone}));
  EXPECT_EQ(h.proto.phase(), Phase::kDone);
  EXPECT_TRUE(h.proto.finished());
  h.feed("trailing bytes are ignored");
  EXPECT_EQ(h.proto.phase(), Phase::kDone);
  EXPECT_EQ(h.take(), "");
}

TEST(Iperf3Control, InputSplitAnywhere) {
  // The same client bytes cut in two at every position give the same result.
  const std::string first = frame(kParams);
  const std::string second = bytes({i3::kTestEnd}) + frame(kClientResults);
  for (const std::string* part : {&first, &second}) {
    for (size_t cut = 0; cut <= part->size(); ++cut) {
      Harness h;
      h.proto.begin();
      if (part == &second) {
        h.feed(first);
        h.proto.start_test();
      }
      h.feed(part->substr(0, cut));
      h.feed(part->substr(cut));
      if (part == &first) {
        ASSERT_EQ(h.hooks.params.size(), 1u) << cut;
        EXPECT_EQ(h.proto.phase(), Phase::kCreateStreams) << cut;
      } else {
        ASSERT_EQ(h.hooks.results.size(), 1u) << cut;
        EXPECT_EQ(h.hooks.results[0][1].bytes, 415498240u) << cut;
      }
    }
  }
}

TEST(Iperf3Control, UdpIsRefusedWithServerError) {
  Harness h;
  h.proto.begin();
  h.take();
  h.feed(frame(R"({"udp":true,"time":1,"parallel":1})"));
  EXPECT_TRUE(h.hooks.params.empty());  // refused before the server is asked
  // SERVER_ERROR, i_errno = IEUNIMP (13), errno = 0, both network order.
  EXPECT_EQ(h.take(), bytes({i3::kServerError, 0, 0, 0, 13, 0, 0, 0, 0}));
  EXPECT_EQ(h.proto.phase(), Phase::kFailed);
}

TEST(Iperf3Control, TheServerMayRefuse) {
  Harness h;
  h.hooks.refuse_with = i3::kErrNumStreams;
  h.proto.begin();
  h.take();
  h.feed(frame(kParams));
  EXPECT_EQ(h.take(), bytes({i3::kServerError, 0, 0, 0, 6, 0, 0, 0, 0}));
  EXPECT_TRUE(h.proto.finished());
}

TEST(Iperf3Control, GarbageEndsTheTest) {
  struct Case {
    const char* what;
    std::string input;
  };
  const std::vector<Case> cases = {
      {"length 0", bytes({0, 0, 0, 0})},
      {"huge length", bytes({0x7f, 0xff, 0xff, 0xff})},
      {"length over the limit", bytes({0, 0x10, 0, 1})},
      {"bad JSON", frame("{bad json")},
      {"not an object", frame("[1,2]")},
      {"wrong type", frame(R"({"parallel":"many"})")},
      {"message before parameters are done", frame(kParams) + bytes({i3::kTestEnd})},
      {"client terminates", frame(kParams) + bytes({i3::kClientTerminate})},
  };
  for (const auto& c : cases) {
    Harness h;
    h.proto.begin();
    h.feed(c.input);
    EXPECT_EQ(h.proto.phase(), Phase::kFailed) << c.what;
    EXPECT_FALSE(h.proto.error().empty()) << c.what;
    EXPECT_EQ(h.hooks.test_ends, 0) << c.what;
  }
}

TEST(Iperf3Control, UnexpectedMessagesWhileRunning) {
  for (int m :
       {0, int{i3::kTestStart}, int{i3::kParamExchange}, int{i3::kDisplayResults}, 99, -1}) {
    Harness h;
    h.proto.begin();
    h.feed(frame(kParams));
    h.proto.start_test();
    h.feed(bytes({m}));
    EXPECT_EQ(h.proto.phase(), Phase::kFailed) << m;
  }
}

TEST(Iperf3Control, IperfDoneEndsTheTestInAnyPhase) {
  // iperf_client_end() sends IPERF_DONE after an error of its own, e.g. a stream that failed
  // to connect: the server must let go of the test.
  Harness h;
  h.proto.begin();
  h.feed(frame(kParams) + bytes({i3::kIperfDone}));
  EXPECT_EQ(h.proto.phase(), Phase::kDone);
}

TEST(Iperf3Control, ClientTerminateAfterTheResultsIsNormal) {
  Harness h;
  h.proto.begin();
  h.feed(frame(kParams));
  h.proto.start_test();
  h.feed(bytes({i3::kTestEnd}) + frame(kClientResults));
  h.proto.send_results("{}");
  h.feed(bytes({i3::kClientTerminate}));
  EXPECT_EQ(h.proto.phase(), Phase::kDone);
}

TEST(Iperf3Control, CallsOutOfOrderAreIgnored) {
  Harness h;
  h.proto.begin();
  h.take();
  h.proto.start_test();        // no parameters yet
  h.proto.send_results("{}");  // no results asked for
  EXPECT_EQ(h.take(), "");
  EXPECT_EQ(h.proto.phase(), Phase::kParams);
}
