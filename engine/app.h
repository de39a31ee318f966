// The application API (README, "Architecture"): services run on the worker that owns the
// connection, through callbacks; they never block and never see threads.
//
//   on_accept      the connection is established (passive or active open)
//   on_data        in-order bytes, zero copy; return how many were consumed. The rest stays in
//                  the connection's receive buffer (the advertised window shrinks) and is read
//                  later with Socket::peek()/consume(), typically from on_writable.
//   on_writable    send space freed after a short send()
//   on_peer_close  the peer sent FIN: no more data will come (we may keep sending)
//   on_state       the TCP state changed (e.g. FIN-WAIT-2: everything we sent is acknowledged)
//   on_closed      the connection is gone (reason: normal, reset, timeout, aborted); the
//                  Socket must not be used after this returns
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "proto/tcp/connection.h"

namespace tuntcp::engine {

class Socket;

class App {
 public:
  virtual ~App() = default;
  virtual void on_accept(Socket&) {}
  virtual size_t on_data(Socket&, std::span<const uint8_t> data) { return data.size(); }
  virtual void on_writable(Socket&) {}
  virtual void on_peer_close(Socket&) {}
  virtual void on_state(Socket&, proto::tcp::State /*from*/, proto::tcp::State /*to*/) {}
  virtual void on_closed(Socket&, proto::tcp::CloseReason) {}
};

// Makes the App instance for one new connection.
using AppFactory = std::function<std::unique_ptr<App>()>;

}  // namespace tuntcp::engine
