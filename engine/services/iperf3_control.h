// The control connection of an iperf3 test, on the worker that owns it: it runs the
// ControlProtocol, starts and stops the data streams (on whatever workers they landed, by
// posting commands there), waits until every stream's count is final and answers the client's
// results with the server's. When the control connection goes away, for whatever reason, the
// test is released and its streams closed, so the next client finds a free server.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/services/iperf3_protocol.h"
#include "engine/services/iperf3_registry.h"
#include "proto/flow.h"

namespace tuntcp::engine {
class Socket;
class TcpStack;
}  // namespace tuntcp::engine

namespace tuntcp::engine::services::iperf3 {

// How long a client may take between its cookie and the last stream connecting, or between
// TEST_END and IPERF_DONE, before a new client may take the server over.
constexpr uint64_t kSetupGraceUs = 10'000'000;
// iperf3's own server timer: duration + omit + 4 s per state transition, 10 transitions.
constexpr uint64_t kRunGraceUs = 40'000'000;

class ControlSession final : public ControlProtocol::Hooks,
                             public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(Socket& s, std::shared_ptr<Test> test);
  ~ControlSession() override;

  // --- connection events ---
  void begin(Socket& s);  // the cookie is in: PARAM_EXCHANGE
  void on_data(Socket& s, std::span<const uint8_t> data);
  void on_writable(Socket& s);
  void on_peer_close(Socket& s);
  void on_closed();

  // --- commands, run on this connection's worker ---
  // `c` lives on `worker`; `from` is the stack of the worker posting.
  // The last data stream connected (posted by the worker that admitted it).
  static void post_all_connected(const std::weak_ptr<ControlSession>& c, uint32_t worker,
                                 TcpStack& from);
  // A stream's count is final.
  static void post_stream_reported(const std::weak_ptr<ControlSession>& c, uint32_t worker,
                                   TcpStack& from);
  // A new client took the server over: this test's client is wedged. Resets the connection.
  static void post_evict(const std::weak_ptr<ControlSession>& c, uint32_t worker, TcpStack& from);

 private:
  // ControlProtocol::Hooks
  int32_t on_params(const TestParams& p) override;
  void on_test_end() override;
  void on_client_results(const std::vector<ClientStream>& streams) override;

  // Runs `fn(session)` on `worker` if the control connection is still open by then.
  template <typename Fn>
  static void post(const std::weak_ptr<ControlSession>& c, uint32_t worker, TcpStack& from, Fn fn);
  void all_connected();
  void stream_reported();
  void maybe_send_results();
  ServerResults compose_results() const;
  void flush();
  void teardown();
  std::string summary() const;  // --get-server-output
  uint64_t now() const;

  TcpStack& stack_;
  Socket* socket_;  // nullptr once the connection is gone
  proto::FlowKey key_;
  std::shared_ptr<Test> test_;
  ControlProtocol proto_;
  TestParams params_;
  std::vector<std::shared_ptr<StreamSession>> streams_;
  size_t reports_ = 0;  // streams whose count is final
  bool torn_down_ = false;
  bool write_shut_ = false;
  // Test clock (µs, the worker's monotonic clock) and process CPU time at start and end.
  uint64_t start_us_ = 0, end_us_ = 0;
  uint64_t cpu_user_us_ = 0, cpu_system_us_ = 0;  // used during the test
};

}  // namespace tuntcp::engine::services::iperf3
