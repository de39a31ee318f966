#include "engine/socket.h"

#include "engine/tcp_stack.h"

namespace tuntcp::engine {

using proto::tcp::CloseReason;

Socket::Socket(TcpStack& stack, uint32_t slot, const proto::FlowKey& key,
               const proto::tcp::Config& cfg, std::unique_ptr<App> app, uint16_t listener_port,
               uint64_t open_order)
    : stack_(stack), slot_(slot), key_(key), app_(std::move(app)), listener_port_(listener_port),
      open_order_(open_order), conn_(cfg, *this) {}

uint64_t Socket::stack_now() const { return stack_.now(); }

size_t Socket::send(std::span<const uint8_t> data) {
  const size_t n = conn_.send(data, stack_.now());
  stack_.settle(*this);
  return n;
}

void Socket::consume(size_t n) {
  conn_.consume(n, stack_.now());
  stack_.settle(*this);
}

void Socket::shutdown_write() {
  conn_.shutdown_write(stack_.now());
  stack_.settle(*this);
}

void Socket::close() {
  conn_.close(stack_.now());
  stack_.settle(*this);
}

void Socket::abort() {
  conn_.abort(stack_.now());
  stack_.settle(*this);
}

void Socket::transmit(const proto::tcp::TcpRepr& hdr, std::span<const uint8_t> a,
                      std::span<const uint8_t> b) {
  stack_.emit(*this, hdr, a, b);
}


void Socket::on_established() {
  stack_.established(*this);
  if (app_) app_->on_accept(*this);
}

size_t Socket::on_data(std::span<const uint8_t> data) {
  return app_ ? app_->on_data(*this, data) : data.size();
}

void Socket::on_writable() {
  if (app_) app_->on_writable(*this);
}

void Socket::on_peer_closed() {
  if (app_) app_->on_peer_close(*this);
}

void Socket::notify_state() {
  const auto now_state = conn_.state();
  if (now_state == seen_state_) return;
  const auto from = seen_state_;
  seen_state_ = now_state;
  if (app_) app_->on_state(*this, from, now_state);
}

bool Socket::grow_buffer(size_t bytes) {
  if (!stack_.grow_buffer(bytes)) return false;
  // The buffer is reallocated next: a queued zero-copy write may still point into it.
  stack_.io().quiesce_zero_copy();
  grown_ += bytes;
  return true;
}

uint64_t Socket::buffer_bytes() const { return stack_.conn_reservation() + grown_; }

void Socket::on_closed(CloseReason reason) {
  if (closed_seen) return;
  closed_seen = true;
  stack_.closed(*this, reason);
  if (app_) app_->on_closed(*this, reason);
}

}  // namespace tuntcp::engine
