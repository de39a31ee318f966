// The iperf3 control protocol, server side, sans-IO: bytes in, bytes out, hooks for the
// decisions that need the rest of the server (streams on other workers, counters, clocks).
// It follows iperf3 3.12 (src/iperf_server_api.c, iperf_api.c, iperf.h):
//
//   client                                   server
//   connect, 37-byte cookie         ──►
//                                   ◄──      PARAM_EXCHANGE (9)
//   [len32 BE][JSON parameters]     ──►
//                                   ◄──      CREATE_STREAMS (10)   (or SERVER_ERROR -2 + 2x int32)
//   N stream connections, each sends the cookie first
//                                   ◄──      TEST_START (1), TEST_RUNNING (2)
//   ... data ...
//   TEST_END (4)                    ──►
//                                   ◄──      EXCHANGE_RESULTS (13)
//   [len32][JSON client results]    ──►
//                                   ◄──      [len32][JSON server results], DISPLAY_RESULTS (14)
//   IPERF_DONE (16), close          ──►
//
// A second client while a test runs gets ACCESS_DENIED (-1) right after its cookie. The
// cookie is read by the connection dispatcher (iperf3.cc), not here: it decides whether a
// connection is a control connection, a data stream or refused.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tuntcp::engine::services::iperf3 {

// Control message codes (iperf.h), sent as one signed byte.
enum Msg : int8_t {
  kTestStart = 1,
  kTestRunning = 2,
  kTestEnd = 4,
  kParamExchange = 9,
  kCreateStreams = 10,
  kServerTerminate = 11,
  kClientTerminate = 12,
  kExchangeResults = 13,
  kDisplayResults = 14,
  kIperfDone = 16,
  kAccessDenied = -1,
  kServerError = -2,
};

// iperf_api.h error numbers the client turns into messages after SERVER_ERROR.
enum ErrorCode : int32_t {
  kErrNumStreams = 6,      // "number of parallel streams too large"
  kErrUnimplemented = 13,  // "an option you are trying to set is not implemented yet"
  kErrReverseBidir = 25,   // "cannot be both reverse and bidirectional"
};

constexpr size_t kCookieSize = 37;      // 36 characters and a NUL
constexpr uint32_t kMaxJson = 1 << 20;  // longest JSON message accepted
constexpr int kMaxStreams = 128;        // iperf3's MAX_STREAMS
constexpr uint32_t kDefaultBlock = 128 * 1024;

// The test as the client describes it in PARAM_EXCHANGE. Options that only shape the
// client's own behaviour (-b on the client side, -w, -M, -C, --title...) are accepted and
// ignored, as a server without those socket options would.
struct TestParams {
  bool tcp = true;
  bool udp = false;
  bool sctp = false;
  int64_t omit = 0;       // seconds at the start left out of the results (-O)
  int64_t duration = 10;  // seconds (-t); 0 with -n/-k
  uint64_t bytes = 0;     // -n
  uint64_t blocks = 0;    // -k
  int64_t parallel = 1;   // -P
  bool reverse = false;   // -R: the server sends
  bool bidirectional = false;
  uint64_t block_len = kDefaultBlock;  // -l
  bool get_server_output = false;
  std::string client_version;

  // Data connections the server receives on and sends on. The client opens the receiving
  // ones first (for --bidir: its sending streams, then its receiving streams).
  int server_receive_streams() const { return reverse ? 0 : static_cast<int>(parallel); }
  int server_send_streams() const {
    return reverse || bidirectional ? static_cast<int>(parallel) : 0;
  }
};

// Parses the PARAM_EXCHANGE JSON. nullopt (with the reason in err) if it is not a JSON object
// or a known member has the wrong type or an impossible value.
std::optional<TestParams> parse_params(std::string_view json, std::string& err);
// 0 if tuntcp can run the test, else the iperf3 error number to refuse it with.
int32_t check_supported(const TestParams& p);

// What the client reports about each of its streams in EXCHANGE_RESULTS.
struct ClientStream {
  int64_t id = 0;
  uint64_t bytes = 0;
};
std::optional<std::vector<ClientStream>> parse_client_results(std::string_view json,
                                                              std::string& err);

// The server's results, as send_results() in iperf_api.c writes them.
struct StreamResult {
  int64_t id = 0;
  uint64_t bytes = 0;
  int64_t retransmits = -1;  // -1: not the sending side
  double start_time = 0;     // seconds, relative to the stream's start (after --omit)
  double end_time = 0;
};
struct ServerResults {
  double cpu_total = 0, cpu_user = 0, cpu_system = 0;  // percent
  int sender_has_retransmits = -1;                     // -1 when the server only receives
  std::string congestion_used;
  std::vector<StreamResult> streams;
  std::optional<std::string> server_output_text;  // with --get-server-output
};
std::string results_json(const ServerResults& r);

// The control connection's state machine.
class ControlProtocol {
 public:
  enum class Phase : uint8_t {
    kParams,         // PARAM_EXCHANGE sent, reading the parameters
    kCreateStreams,  // CREATE_STREAMS sent, waiting for start_test()
    kRunning,        // TEST_START + TEST_RUNNING sent, waiting for TEST_END
    kClientResults,  // EXCHANGE_RESULTS sent, reading the client's results
    kServerResults,  // waiting for send_results()
    kDisplay,        // results and DISPLAY_RESULTS sent, waiting for IPERF_DONE
    kDone,           // IPERF_DONE received: the test is over
    kFailed,         // refused, terminated by the client, or a protocol error (see error())
  };

  class Hooks {
   public:
    virtual ~Hooks() = default;
    // The parameters are in. Return 0 to go on, or an iperf3 error number to refuse.
    virtual int32_t on_params(const TestParams& p) = 0;
    // TEST_END: stop the sending streams and freeze the clock (EXCHANGE_RESULTS follows).
    virtual void on_test_end() = 0;
    // The client's per-stream counts; call send_results() once the server's are final.
    virtual void on_client_results(const std::vector<ClientStream>& streams) = 0;
  };

  explicit ControlProtocol(Hooks& hooks) : hooks_(hooks) {}

  // Queues PARAM_EXCHANGE (call once the cookie is in).
  void begin();
  // Consumes bytes from the client; may call hooks and queue output. Always consumes all.
  void feed(std::span<const uint8_t> data);
  // All data streams are connected: queues TEST_START and TEST_RUNNING.
  void start_test();
  // Queues the server's results and DISPLAY_RESULTS (in phase kServerResults).
  void send_results(std::string_view results);

  Phase phase() const { return phase_; }
  bool finished() const { return phase_ == Phase::kDone || phase_ == Phase::kFailed; }
  const std::string& error() const { return error_; }
  // Bytes to send to the client; the caller sends them and erases what was sent.
  std::string& out() { return out_; }

 private:
  void on_message(int8_t m);
  void on_json(std::string_view body);
  void fail(std::string why);
  void put(int8_t m) { out_ += static_cast<char>(m); }

  Hooks& hooks_;
  Phase phase_ = Phase::kParams;
  std::string out_;
  std::string error_;
  // JSON framing: 4 length bytes, then the body.
  uint8_t len_bytes_[4] = {};
  size_t len_have_ = 0;
  uint32_t body_len_ = 0;
  std::string body_;
};

const char* phase_name(ControlProtocol::Phase p);

}  // namespace tuntcp::engine::services::iperf3
