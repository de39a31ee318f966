// The iperf3 control protocol (server side), driven with the byte strings a stock iperf3 3.12
// client sends: the whole test, refusals, every protocol error, and input split at every
// byte boundary.
#include "engine/services/iperf3_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/services/json.h"

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
  const auto v = tuntcp::engine::services::json::Value::parse(text);
  ASSERT_TRUE(v) << text;
  // get_results() in iperf_api.c fails the test without these.
  for (const char* k :
       {"cpu_util_total", "cpu_util_user", "cpu_util_system", "sender_has_retransmits", "streams"})
    EXPECT_NE(v->find(k), nullptr) << k;
  EXPECT_EQ(v->find("server_output_text")->as_string(), "text\n");
  const auto& streams = v->find("streams")->items();
  ASSERT_EQ(streams.size(), 2u);
  for (const auto& s : streams)
    for (const char* k :
         {"id", "bytes", "retransmits", "jitter", "errors", "packets", "start_time", "end_time"})
      EXPECT_NE(s.find(k), nullptr) << k;
  EXPECT_EQ(streams[1].find("bytes")->as_uint64(), 5000000000ull);
  EXPECT_EQ(streams[0].find("retransmits")->as_int64(), -1);
  EXPECT_DOUBLE_EQ(streams[0].find("end_time")->as_double(), 2.05);
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
