#include "engine/services/iperf2.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "engine/services/iperf2_header.h"
#include "engine/socket.h"
#include "engine/tcp_stack.h"

namespace tuntcp::engine::services {
namespace {

using namespace iperf2;

// What the server sends, shared read-only by all connections. Its first bytes double as the
// header of the connections the server opens for -d/-r: all-zero flags mean "no test
// options", so the client's listener just reads.
const std::array<uint8_t, 128 * 1024> kBlock{};

// Sends for a duration or a number of bytes, as fast as the window allows. Without timers,
// the clock is looked at whenever the window opens, which a sending connection sees
// continuously.
class Pump {
 public:
  void start(const Plan& p, uint64_t now_us) {
    active_ = true;
    deadline_us_ = p.duration_us ? now_us + p.duration_us : 0;
    remaining_ = p.bytes;
  }
  bool active() const { return active_; }
  // Fills the send buffer. Returns true when the test's sending is over.
  bool fill(Socket& s) {
    while (active_) {
      if (deadline_us_ ? s.stack_now() >= deadline_us_ : remaining_ == 0) {
        active_ = false;
        return true;
      }
      const size_t want =
          deadline_us_ ? kBlock.size() : std::min<uint64_t>(remaining_, kBlock.size());
      const size_t n = s.send({kBlock.data(), want});
      if (!deadline_us_) remaining_ -= n;
      if (n < want) return false;  // send buffer full: on_writable continues
    }
    return false;
  }

 private:
  bool active_ = false;
  uint64_t deadline_us_ = 0;
  uint64_t remaining_ = 0;
};

// A connection tuntcp opens back to the client for -d/-r: it sends, then closes.
class CallbackStream final : public App {
 public:
  explicit CallbackStream(const Plan& p) : plan_(p) {}
  void on_accept(Socket& s) override {
    pump_.start(plan_, s.stack_now());
    pump(s);
  }
  void on_writable(Socket& s) override { pump(s); }
  void on_peer_close(Socket& s) override { s.close(); }

 private:
  void pump(Socket& s) {
    if (pump_.fill(s)) s.close();
  }
  Plan plan_;
  Pump pump_;
};

// A connection from an iperf client: reads the header, then plays the test it asks for.
class Iperf2Connection final : public App {
 public:
  size_t on_data(Socket& s, std::span<const uint8_t> data) override {
    // The header is read and the rest dropped; the header bytes are also test data.
    for (auto rest = data; !decided_ && !rest.empty();) {
      const size_t want = have_ < 4 ? 4 : header_size(flags());
      const size_t n = std::min(want - have_, rest.size());
      std::memcpy(header_.data() + have_, rest.data(), n);
      have_ += n;
      rest = rest.subspan(n);
      if (have_ >= 4 && have_ == header_size(flags())) decide(s);
    }
    return data.size();
  }
  void on_writable(Socket& s) override {
    if (pump_.active() && pump_.fill(s)) sending_done(s);
  }
  void on_peer_close(Socket& s) override {
    peer_closed_ = true;
    if (!decided_) decide(s);  // a stream shorter than its header: nothing more to learn
    if (plan_.mode == Mode::kTradeoff) connect_back(s);
    if (!pump_.active()) s.close();
  }

 private:
  uint32_t flags() const { return read_flags(std::span<const uint8_t, 4>(header_.data(), 4)); }
  void decide(Socket& s) {
    decided_ = true;
    plan_ = parse_plan({header_.data(), have_});
    switch (plan_.mode) {
      case Mode::kReverse:
      case Mode::kFullDuplex:
        pump_.start(plan_, s.stack_now());
        if (pump_.fill(s)) sending_done(s);
        break;
      case Mode::kDualTest:
        connect_back(s);
        break;
      case Mode::kReceive:
      case Mode::kTradeoff:
        break;  // -r: connect back once the client's stream ends
    }
  }
  void sending_done(Socket& s) {
    if (peer_closed_) {
      s.close();
    } else {
      s.shutdown_write();  // the client reads to the end, reports and closes
    }
  }
  // Opens the -d/-r connection to the client's listener. Posted to this worker rather than
  // done here: opening a connection from inside another connection's callback would run the
  // stack's reaping under that callback.
  void connect_back(Socket& s) {
    TcpStack& stack = s.stack();
    const Plan plan = plan_;
    const uint32_t client = s.key().remote_addr;
    stack.post(stack.worker(), [plan, client](TcpStack& st) {
      st.connect(client, plan.callback_port, std::make_unique<CallbackStream>(plan), st.now());
    });
  }

  std::array<uint8_t, kExtendedSize> header_{};
  size_t have_ = 0;
  bool decided_ = false;
  bool peer_closed_ = false;
  Plan plan_;
  Pump pump_;
};

}  // namespace

AppFactory iperf2_server() {
  return [] { return std::make_unique<Iperf2Connection>(); };
}

}  // namespace tuntcp::engine::services
