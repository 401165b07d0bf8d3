// SpanQueue: the bounded queue between the workers (many producers) and the exporter's thread
// (one consumer). Lock-free: Dmitry Vyukov's bounded MPMC ring, each cell with a sequence
// number, so a producer claims a cell with one CAS and never waits for another producer or the
// consumer; a full ring refuses at once (the span is dropped and counted by the caller).
// Capacity is a power of two at least the asked size; the cells are allocated once.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/trace/span_record.h"

namespace vx::adapters::telemetry {

class SpanQueue {
 public:
  explicit SpanQueue(size_t min_capacity)
      : capacity_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity)),
        mask_(capacity_ - 1),
        cells_(new Cell[capacity_]) {
    for (size_t i = 0; i < capacity_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }

  size_t capacity() const { return capacity_; }

  // Any thread. False (nothing written) when the ring is full.
  bool push(const core::trace::SpanRecord& span) noexcept {
    size_t pos = enqueue_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const size_t seq = cell.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (diff == 0) {
        if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.span = span;
          cell.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the consumer has not freed this cell yet: full
      } else {
        pos = enqueue_.load(std::memory_order_relaxed);
      }
    }
  }

  // The consumer's thread only: how many spans producers have claimed and not yet consumed
  // (some may still be being written).
  size_t size_hint() const { return enqueue_.load(std::memory_order_relaxed) - dequeue_; }

  // The consumer's thread only: calls f(span) on up to `max` spans in order, in their cells (no
  // copy), freeing each after; stops early at a cell still being written. Returns how many.
  template <typename F>
  size_t consume(size_t max, F&& f) {
    size_t n = 0;
    while (n < max) {
      Cell& cell = cells_[dequeue_ & mask_];
      const size_t seq = cell.sequence.load(std::memory_order_acquire);
      if (static_cast<intptr_t>(seq) - static_cast<intptr_t>(dequeue_ + 1) < 0) break;
      f(static_cast<const core::trace::SpanRecord&>(cell.span));
      cell.sequence.store(dequeue_ + capacity_, std::memory_order_release);
      ++dequeue_;
      ++n;
    }
    return n;
  }

  // The consumer's thread only. False when empty (or the next span is still being written).
  bool pop(core::trace::SpanRecord& out) noexcept {
    Cell& cell = cells_[dequeue_ & mask_];
    const size_t seq = cell.sequence.load(std::memory_order_acquire);
    if (static_cast<intptr_t>(seq) - static_cast<intptr_t>(dequeue_ + 1) < 0) return false;
    out = cell.span;
    cell.sequence.store(dequeue_ + capacity_, std::memory_order_release);
    ++dequeue_;
    return true;
  }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    core::trace::SpanRecord span;
  };

  const size_t capacity_;
  const size_t mask_;
  const std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> enqueue_{0};
  alignas(64) size_t dequeue_ = 0;
};

}  // namespace vx::adapters::telemetry
