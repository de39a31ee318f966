// A hashed timing wheel (Varghese & Lauck, scheme 6) for one worker's timers: O(1) schedule,
// cancel and per-tick expiry, no allocation (nodes are embedded in their owners).
//
// Each connection owns one TimerNode and keeps it scheduled at its next deadline (the earliest
// of RTO, delayed ACK, persist, keepalive, TIME-WAIT). Deadlines further away than one turn of
// the wheel sit in their slot and are simply skipped until their turn comes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tuntcp::engine {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  uint64_t deadline_us = 0;
  uint32_t slot = 0;
  bool linked() const { return prev != nullptr; }
};

class TimerWheel {
 public:
  // `tick_us` is the resolution; `slots` (a power of two) * tick is one turn.
  TimerWheel(uint64_t now_us, uint32_t tick_us = 1000, uint32_t slots = 4096);

  // (Re)schedules `n` to fire at the first tick at or after `deadline_us`.
  void schedule(TimerNode* n, uint64_t deadline_us);
  void cancel(TimerNode* n);

  // Unlinks and passes to `fire(node)` every node whose deadline is <= now_us. `fire` may
  // schedule the node again (or others).
  template <typename Fn>
  void advance(uint64_t now_us, Fn&& fire);

  // A time at which advance() may next have work: the next tick with a linked node within one
  // turn, or one turn ahead. For sleep timeouts.
  uint64_t next_wakeup_hint() const;
  size_t size() const { return size_; }

 private:
  uint64_t tick_of(uint64_t t) const { return t / tick_us_; }
  uint32_t slot_of(uint64_t tick) const { return static_cast<uint32_t>(tick & mask_); }
  void link(TimerNode* n, uint32_t slot);
  void unlink(TimerNode* n);

  uint32_t tick_us_;
  uint64_t mask_;
  uint64_t current_tick_;  // every tick before this one has been processed
  std::vector<TimerNode> heads_;  // sentinel per slot (circular list)
  // Which slots hold nodes (bit per slot) and how many: next_wakeup_hint() skips empty slots
  // 64 at a time instead of walking all of them before every sleep.
  std::vector<uint64_t> occupied_;
  std::vector<uint32_t> slot_count_;
  size_t size_ = 0;
};

template <typename Fn>
void TimerWheel::advance(uint64_t now_us, Fn&& fire) {
  const uint64_t target = tick_of(now_us);
  // Never walk more than one turn: after that every slot has been visited once.
  uint64_t steps = target >= current_tick_ ? target - current_tick_ + 1 : 0;
  if (steps > mask_ + 1) steps = mask_ + 1;
  for (uint64_t i = 0; i < steps; ++i) {
    TimerNode* head = &heads_[slot_of(current_tick_ + i)];
    TimerNode* n = head->next;
    while (n != head) {
      TimerNode* next = n->next;
      if (n->deadline_us <= now_us) {
        unlink(n);
        --size_;
        fire(n);
      }
      n = next;
    }
  }
  current_tick_ = target;  // the current tick is visited again next time: deadlines later in it
}

}  // namespace tuntcp::engine
