#include "engine/services/iperf3_registry.h"

#include <algorithm>

#include "engine/services/iperf3_stream.h"

namespace tuntcp::engine::services::iperf3 {

Registry& Registry::instance() {
  static Registry r;
  return r;
}

Registry::Admission Registry::admit(const Cookie& cookie, uint32_t worker,
                                    const proto::FlowKey& key, uint64_t open_order,
                                    uint64_t now_us, uint64_t setup_deadline_us) {
  std::lock_guard lock(mu_);
  Admission a;
  if (active_ && active_->cookie == cookie) {
    Test& t = *active_;
    const size_t expected = static_cast<size_t>(t.receive_streams + t.send_streams);
    // Like iperf3, a connection with the test's cookie is a data stream only while the
    // server waits for streams; the client opens the ones the server receives on first.
    if (t.phase != Test::Phase::kCreateStreams || t.streams.size() >= expected) return a;
    a.stream = std::make_shared<StreamSession>(worker, key, open_order, t.control_worker,
                                               t.control);
    t.streams.push_back(a.stream);
    a.kind = Admission::Kind::kStream;
    a.test = active_;
    if (t.streams.size() == expected) {
      // All in: number them in the client's order; it opens the streams the server receives on
      // first (iperf_create_streams(); for --bidir its sending streams, then its receiving ones).
      std::sort(t.streams.begin(), t.streams.end(), [](const auto& x, const auto& y) {
        return x->open_order() < y->open_order();
      });
      for (size_t i = 0; i < t.streams.size(); ++i)
        t.streams[i]->assign(stream_id(i), i >= static_cast<size_t>(t.receive_streams));
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
