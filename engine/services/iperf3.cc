#include "engine/services/iperf3.h"

#include <algorithm>
#include <cstring>

#include "engine/services/iperf3_control.h"
#include "engine/services/iperf3_registry.h"
#include "engine/services/iperf3_stream.h"
#include "engine/socket.h"
#include "engine/tcp_stack.h"

namespace tuntcp::engine::services {
namespace {

using namespace iperf3;

// Every connection to the iperf3 port starts here. Which role it plays is known only from its
// first 37 bytes, the cookie: a new test's control connection, a data stream of the running
// test, or one to refuse.
class Iperf3Connection final : public App {
 public:
  size_t on_data(Socket& s, std::span<const uint8_t> data) override {
    size_t used = 0;
    if (role_ == Role::kCookie) {
      used = std::min(kCookieSize - have_, data.size());
      std::memcpy(cookie_.data() + have_, data.data(), used);
      have_ += used;
      if (have_ < kCookieSize) return used;
      admit(s);
    }
    const auto rest = data.subspan(used);
    if (role_ == Role::kControl) control_->on_data(s, rest);
    if (role_ == Role::kStream) stream_->on_data(s, rest.size());
    return data.size();  // a refused connection's input is dropped
  }
  void on_writable(Socket& s) override {
    if (role_ == Role::kControl) control_->on_writable(s);
    if (role_ == Role::kStream) stream_->on_writable(s);
  }
  void on_peer_close(Socket& s) override {
    if (role_ == Role::kControl) return control_->on_peer_close(s);
    if (role_ == Role::kStream) return stream_->on_peer_close(s);
    s.close();
  }
  void on_closed(Socket& s, proto::tcp::CloseReason) override {
    if (role_ == Role::kControl) control_->on_closed();
    if (role_ == Role::kStream) stream_->on_closed(s);
  }

 private:
  enum class Role : uint8_t { kCookie, kControl, kStream, kRefused };

  void admit(Socket& s) {
    TcpStack& stack = s.stack();
    const uint64_t now = s.stack_now();
    auto a = Registry::instance().admit(cookie_, stack.worker(), s.key(), s.open_order(), now,
                                        now + kSetupGraceUs);
    switch (a.kind) {
      case Registry::Admission::Kind::kControl:
        role_ = Role::kControl;
        control_ = std::make_shared<ControlSession>(s, a.test);
        Registry::instance().set_control(a.test, control_);
        if (a.evicted) ControlSession::post_evict(a.notify, a.notify_worker, stack);
        control_->begin(s);
        return;
      case Registry::Admission::Kind::kStream:
        role_ = Role::kStream;
        stream_ = std::move(a.stream);
        if (a.all_connected) ControlSession::post_all_connected(a.notify, a.notify_worker, stack);
        return;
      case Registry::Admission::Kind::kDenied: {
        // iperf_accept(): ACCESS_DENIED and close. The client reports "the server is busy".
        role_ = Role::kRefused;
        const uint8_t denied = static_cast<uint8_t>(kAccessDenied);
        s.send({&denied, 1});
        s.shutdown_write();
        return;
      }
    }
  }

  Role role_ = Role::kCookie;
  Cookie cookie_{};
  size_t have_ = 0;
  std::shared_ptr<ControlSession> control_;
  std::shared_ptr<StreamSession> stream_;
};

}  // namespace

AppFactory iperf3_server() {
  return [] { return std::make_unique<Iperf3Connection>(); };
}

}  // namespace tuntcp::engine::services
