#include "engine/timer_wheel.h"

namespace tuntcp::engine {

TimerWheel::TimerWheel(uint64_t now_us, uint32_t tick_us, uint32_t slots)
    : tick_us_(tick_us ? tick_us : 1), mask_(slots - 1), current_tick_(now_us / tick_us_),
      heads_(slots), occupied_((slots + 63) / 64), slot_count_(slots) {
  for (auto& h : heads_) h.prev = h.next = &h;
}

void TimerWheel::link(TimerNode* n, uint32_t slot) {
  if (slot_count_[slot]++ == 0) occupied_[slot / 64] |= uint64_t{1} << (slot % 64);
  n->slot = slot;
  TimerNode* head = &heads_[slot];
  n->next = head->next;
  n->prev = head;
  head->next->prev = n;
  head->next = n;
}

void TimerWheel::unlink(TimerNode* n) {
  if (--slot_count_[n->slot] == 0) occupied_[n->slot / 64] &= ~(uint64_t{1} << (n->slot % 64));
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
  const uint64_t turn = mask_ + 1;
  if (size_ > 0) {
    // Visit occupied slots in tick order from the current one, a bitmap word at a time.
    for (uint64_t i = 0; i < turn;) {
      const uint64_t slot = (current_tick_ + i) & mask_;
      uint64_t bits = occupied_[slot / 64] >> (slot % 64);
      if (bits == 0) {
        i += 64 - slot % 64;  // the rest of this word is empty
        continue;
      }
      i += static_cast<uint64_t>(__builtin_ctzll(bits));
      if (i >= turn) break;
      const uint64_t tick = current_tick_ + i;
      const TimerNode* head = &heads_[tick & mask_];
      // A node in this slot may belong to a later turn; only one due in this turn counts.
      for (const TimerNode* n = head->next; n != head; n = n->next)
        if (tick_of(n->deadline_us) <= tick) return tick * tick_us_;
      ++i;
    }
  }
  return (current_tick_ + turn) * tick_us_;
}

}  // namespace tuntcp::engine
