#include "engine/timer_wheel.h"

namespace tuntcp::engine {

TimerWheel::TimerWheel(uint64_t now_us, uint32_t tick_us, uint32_t slots)
    : tick_us_(tick_us ? tick_us : 1), mask_(slots - 1), current_tick_(now_us / tick_us_),
      heads_(slots) {
  for (auto& h : heads_) h.prev = h.next = &h;
}

void TimerWheel::link(TimerNode* n, uint32_t slot) {
  TimerNode* head = &heads_[slot];
  n->next = head->next;
  n->prev = head;
  head->next->prev = n;
  head->next = n;
}

void TimerWheel::unlink(TimerNode* n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = nullptr;
}

void TimerWheel::schedule(TimerNode* n, uint64_t deadline_us) {
  if (n->linked()) {
    unlink(n);
    --size_;
  }
  n->deadline_us = deadline_us;
  uint64_t tick = tick_of(deadline_us);
  if (tick < current_tick_) tick = current_tick_;  // already due: fires on the next advance
  link(n, slot_of(tick));
  ++size_;
}

void TimerWheel::cancel(TimerNode* n) {
  if (!n->linked()) return;
  unlink(n);
  --size_;
}

uint64_t TimerWheel::next_wakeup_hint() const {
  for (uint64_t i = 0; i <= mask_; ++i) {
    const TimerNode* head = &heads_[slot_of(current_tick_ + i)];
    for (const TimerNode* n = head->next; n != head; n = n->next) {
      // A node in this slot may belong to a later turn; only count it if it is due this turn.
      if (tick_of(n->deadline_us) <= current_tick_ + i) return (current_tick_ + i) * tick_us_;
    }
  }
  return (current_tick_ + mask_ + 1) * tick_us_;
}

}  // namespace tuntcp::engine
