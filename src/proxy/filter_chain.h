// FilterChain: the filters of one route (or those that run before routing), in order, with how
// many want each hook: a direction whose count is zero costs the stream nothing. Built when a
// config is applied and immutable afterwards; shared by all workers with the Runtime, so a
// stream runs to its end on the chain it started with.
// BodyFilterRun: one stream's pass of its body through one direction's body hooks, with what
// the filters asked to buffer. One per stream and direction, on the worker's thread.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/filter/body_buffer.h"
#include "core/filter/filter_status.h"
#include "ports/http_filter.h"

namespace vx::proxy {

class StreamContext;

class FilterChain {
 public:
  struct Entry {
    const ports::HttpFilter* filter;
    core::filter::HookSet hooks;  // filter->hooks(), read once
    size_t slot;                  // the filter's FilterStream::state() slot in a stream
  };

  FilterChain() = default;
  // `slot_base`: the first state slot of this chain's filters (the pre-route chain's come
  // first in a stream, then the route's).
  FilterChain(std::vector<std::shared_ptr<const ports::HttpFilter>> filters, size_t slot_base);

  std::span<const Entry> entries() const { return entries_; }
  bool wants(core::filter::Hook hook) const { return count(hook) > 0; }
  size_t count(core::filter::Hook hook) const {
    return counts_[static_cast<size_t>(std::countr_zero(static_cast<unsigned>(hook)))];
  }
  // Bytes body hooks may ask to buffer per stream and direction; past it the request gets 413
  // (the response, 502).
  uint64_t buffer_limit_bytes() const { return buffer_limit_bytes_; }
  // One past the last state slot this chain uses.
  size_t slot_end() const { return slot_base_ + entries_.size(); }

 private:
  std::vector<std::shared_ptr<const ports::HttpFilter>> owned_;
  std::vector<Entry> entries_;
  std::array<uint16_t, 6> counts_{};  // by bit of core::filter::Hook
  size_t slot_base_ = 0;
  uint64_t buffer_limit_bytes_ = 1024 * 1024;
};

class BodyFilterRun {
 public:
  enum class Result : uint8_t {
    Continue,  // output() goes on
    Buffered,  // a filter keeps the bytes: nothing goes on yet
    Respond,   // a request body hook answered (the stream owes the answer)
    Overflow,  // the buffered bytes passed the chain's buffer limit
  };

  // Readies the run for one stream of `chain` (`hook`: RequestBody or ResponseBody), keeping
  // the memory of the stream before unless it grew large. REQUIRES: chain.wants(hook).
  void start(const FilterChain& chain, core::filter::Hook hook);

  // Runs `pieces` (views that live until output() is used) through the hooks in order; a filter
  // that buffers is called again with everything it kept plus what came since. At the end of
  // the stream, Buffer means Continue.
  Result run(StreamContext& stream, std::span<const std::string_view> pieces, bool end_of_stream);
  // What the last Continue lets through; valid until the next run().
  std::span<const std::string_view> output() const { return buffer_.pieces(); }
  // Bytes of memory held between streams.
  size_t capacity() const;

 private:
  struct Slot {
    const FilterChain::Entry* entry = nullptr;
    bool holding = false;
    std::string held;
    std::string_view held_view;
  };

  core::filter::Hook hook_ = core::filter::Hook::RequestBody;
  uint64_t limit_ = 0;
  std::vector<Slot> slots_;  // the chain's filters with this hook, in order
  size_t used_ = 0;          // slots_[0, used_) belong to this stream
  core::filter::BodyBuffer buffer_;
};

}  // namespace vx::proxy
