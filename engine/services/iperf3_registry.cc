#include "engine/services/iperf3_registry.h"

#include "engine/services/iperf3_stream.h"

namespace tuntcp::engine::services::iperf3 {

Registry& Registry::instance() {
  static Registry r;
  return r;
}

Registry::Admission Registry::admit(const Cookie& cookie, uint32_t worker,
                                    const proto::FlowKey& key, uint64_t now_us,
                                    uint64_t setup_deadline_us) {
  std::lock_guard lock(mu_);
  Admission a;
  if (active_ && active_->cookie == cookie) {
    Test& t = *active_;
    const size_t expected = static_cast<size_t>(t.receive_streams + t.send_streams);
    // Like iperf3, a connection with the test's cookie is a data stream only while the
    // server waits for streams; the client opens the ones the server receives on first.
    if (t.phase != Test::Phase::kCreateStreams || t.streams.size() >= expected) return a;
    const size_t index = t.streams.size();
    const bool sends = index >= static_cast<size_t>(t.receive_streams);
    a.stream = std::make_shared<StreamSession>(stream_id(index), sends, worker, key,
                                               t.control_worker, t.control);
    t.streams.push_back(a.stream);
    a.kind = Admission::Kind::kStream;
    a.test = active_;
    if (t.streams.size() == expected) {
      t.phase = Test::Phase::kRunning;
      a.all_connected = true;
      a.notify = t.control;
      a.notify_worker = t.control_worker;
    }
    return a;
  }
  if (active_) {
    if (now_us <= active_->deadline_us) return a;  // busy: ACCESS_DENIED
    active_->phase = Test::Phase::kClosed;
    a.evicted = true;
    a.notify = active_->control;
    a.notify_worker = active_->control_worker;
  }
  active_ = std::make_shared<Test>(cookie, worker);
  active_->deadline_us = setup_deadline_us;
  a.kind = Admission::Kind::kControl;
  a.test = active_;
  return a;
}

void Registry::set_control(const std::shared_ptr<Test>& t, std::weak_ptr<ControlSession> c) {
  std::lock_guard lock(mu_);
  t->control = std::move(c);
}

void Registry::expect_streams(const std::shared_ptr<Test>& t, int receive, int send,
                              uint64_t deadline_us) {
  std::lock_guard lock(mu_);
  if (t->phase != Test::Phase::kSetup) return;
  t->receive_streams = receive;
  t->send_streams = send;
  t->deadline_us = deadline_us;
  t->phase = Test::Phase::kCreateStreams;
}

void Registry::set_deadline(const std::shared_ptr<Test>& t, uint64_t deadline_us) {
  std::lock_guard lock(mu_);
  t->deadline_us = deadline_us;
}

std::vector<std::shared_ptr<StreamSession>> Registry::streams(const std::shared_ptr<Test>& t) {
  std::lock_guard lock(mu_);
  return t->streams;
}

std::vector<std::shared_ptr<StreamSession>> Registry::release(const std::shared_ptr<Test>& t) {
  std::lock_guard lock(mu_);
  t->phase = Test::Phase::kClosed;
  if (active_ == t) active_.reset();
  return t->streams;
}

bool Registry::busy() {
  std::lock_guard lock(mu_);
  return active_ != nullptr;
}

}  // namespace tuntcp::engine::services::iperf3
