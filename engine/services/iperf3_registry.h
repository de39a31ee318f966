// The one iperf3 test that may run at a time, shared by every worker: connections of one test
// (the control connection and its data streams) hash to different workers, so the cookie
// each of them sends first is looked up here to tell which is which. A mutex guards it; it is
// taken only when a connection presents its cookie and when a test starts or ends, never per
// packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/services/iperf3_protocol.h"
#include "proto/flow.h"

namespace tuntcp::engine::services::iperf3 {

class ControlSession;
class StreamSession;

using Cookie = std::array<uint8_t, kCookieSize>;

struct Test {
  enum class Phase : uint8_t {
    kSetup,          // control connected, parameters not yet accepted
    kCreateStreams,  // data streams may connect
    kRunning,        // all streams connected
    kClosed,         // over: released from the registry
  };
  Test(const Cookie& c, uint32_t worker) : cookie(c), control_worker(worker) {}

  const Cookie cookie;
  const uint32_t control_worker;
  // Everything below is guarded by the registry's mutex.
  std::weak_ptr<ControlSession> control;
  Phase phase = Phase::kSetup;
  int receive_streams = 0;  // streams the server receives on (the client's first ones)
  int send_streams = 0;     // then the ones it sends on
  // The streams connected so far, by their cookie's arrival; once all are in, in the order the
  // client opened them (which fixes their ids and directions).
  std::vector<std::shared_ptr<StreamSession>> streams;
  // Past this, a new client may take the server over: the client of this test is wedged (it
  // stopped talking without closing). UINT64_MAX: no limit.
  uint64_t deadline_us = UINT64_MAX;
};

class Registry {
 public:
  static Registry& instance();

  struct Admission {
    enum class Kind : uint8_t { kControl, kStream, kDenied } kind = Kind::kDenied;
    std::shared_ptr<Test> test;
    std::shared_ptr<StreamSession> stream;  // kStream
    bool all_connected = false;             // kStream: it was the last one the test waits for
                                            // (the streams' ids and directions are set now)
    bool evicted = false;                   // kControl: it replaced a wedged test
    // The control connection to tell: the test's own when all streams are connected, the
    // wedged test's when it was evicted.
    std::weak_ptr<ControlSession> notify;
    uint32_t notify_worker = 0;
  };
  // A connection on `worker` with 4-tuple `key` and open order `open_order` (Socket::open_order)
  // sent `cookie`. It starts a new test when none runs (or the running one is past its
  // deadline), joins the test with this cookie as a data stream while that test waits for
  // streams, and is refused otherwise.
  //
  // Which stream is which (its id, and with --bidir its direction) follows the order the client
  // opened them in, not the order their cookies arrive: the client sends a stream's cookie
  // right after its connect() returns and goes on to the next connect(), so a cookie delayed on
  // a busy worker, or lost and sent again, arrives after the next stream's. Numbered by arrival,
  // the server's stream 1 could be the client's stream 3: the results would pair the wrong
  // counts, and the server would wait for bytes that never come on that stream (a hang at the
  // end of the test). Roles are therefore given once the last stream is in.
  Admission admit(const Cookie& cookie, uint32_t worker, const proto::FlowKey& key,
                  uint64_t open_order, uint64_t now_us, uint64_t setup_deadline_us);

  // For the control connection of `t`:
  void set_control(const std::shared_ptr<Test>& t, std::weak_ptr<ControlSession> c);
  // Parameters accepted: data streams may connect now.
  void expect_streams(const std::shared_ptr<Test>& t, int receive, int send, uint64_t deadline_us);
  void set_deadline(const std::shared_ptr<Test>& t, uint64_t deadline_us);
  // The streams connected so far (once all are in: in the client's order, with their roles).
  std::vector<std::shared_ptr<StreamSession>> streams(const std::shared_ptr<Test>& t);
  // The test is over: no stream may join it any more and the next client may start. Returns
  // its streams (to close them).
  std::vector<std::shared_ptr<StreamSession>> release(const std::shared_ptr<Test>& t);

  bool busy();

 private:
  std::mutex mu_;
  std::shared_ptr<Test> active_;
};

// Stream ids as iperf_add_stream() numbers them: 1, then 3, 4, 5... (the client does the same,
// and the results are matched by id).
inline int stream_id(size_t index) { return index == 0 ? 1 : static_cast<int>(index) + 2; }

}  // namespace tuntcp::engine::services::iperf3
