#include "proxy/filter_chain.h"

#include <bit>

#include "proxy/stream_context.h"

namespace vx::proxy {

using core::filter::BodyStatus;
using core::filter::Hook;

namespace {

// What a run keeps of a filter's buffer between streams; more is given back.
constexpr size_t kKeptBytes = 16 * 1024;

size_t bit_of(Hook hook) {
  return static_cast<size_t>(std::countr_zero(static_cast<unsigned>(hook)));
}

}  // namespace

FilterChain::FilterChain(std::vector<std::shared_ptr<const ports::HttpFilter>> filters,
                         size_t slot_base)
    : owned_(std::move(filters)), slot_base_(slot_base) {
  entries_.reserve(owned_.size());
  for (const auto& f : owned_) {
    const Entry entry{f.get(), f->hooks(), slot_base_ + entries_.size()};
    for (Hook hook : {Hook::RequestHead, Hook::RequestBody, Hook::ResponseHead, Hook::ResponseBody,
                      Hook::Log, Hook::LogResponseHead}) {
      if (entry.hooks.has(hook)) ++counts_[bit_of(hook)];
    }
    entries_.push_back(entry);
  }
}

void BodyFilterRun::start(const FilterChain& chain, Hook hook) {
  const size_t wanted = chain.count(hook);
  hook_ = hook;
  limit_ = chain.buffer_limit_bytes();
  if (slots_.size() < wanted) slots_.resize(wanted);
  used_ = 0;
  for (const auto& entry : chain.entries()) {
    if (!entry.hooks.has(hook)) continue;
    Slot& slot = slots_[used_++];
    slot.entry = &entry;
    slot.holding = false;
    slot.held.clear();
    // A stream that buffered a large body does not leave it to the connection's next one.
    if (slot.held.capacity() > kKeptBytes) slot.held.shrink_to_fit();
  }
  buffer_.view({});
}

size_t BodyFilterRun::capacity() const {
  size_t total = slots_.capacity() * sizeof(Slot);
  for (const Slot& slot : slots_) total += slot.held.capacity();
  return total;
}

BodyFilterRun::Result BodyFilterRun::run(StreamContext& stream,
                                         std::span<const std::string_view> pieces,
                                         bool end_of_stream) {
  buffer_.view(pieces);
  uint64_t held_bytes = 0;
  for (Slot& slot : std::span(slots_).first(used_)) {
    if (slot.holding) {
      buffer_.copy_to(slot.held);
      slot.held_view = slot.held;
      buffer_.view({&slot.held_view, 1});
    }
    stream.enter_filter(slot.entry->slot);
    const BodyStatus status =
        hook_ == Hook::RequestBody
            ? slot.entry->filter->on_request_body(stream, buffer_, end_of_stream)
            : slot.entry->filter->on_response_body(stream, buffer_, end_of_stream);
    if (status == BodyStatus::Respond && hook_ == Hook::RequestBody) return Result::Respond;
    if (status == BodyStatus::Buffer && !end_of_stream) {
      // The filter may have rewritten what it keeps: hold the bytes as they stand now.
      const auto now = buffer_.pieces();
      if (!slot.holding || now.size() != 1 || now[0].data() != slot.held.data() ||
          now[0].size() != slot.held.size()) {
        std::string kept;
        buffer_.copy_to(kept);
        slot.held.swap(kept);
      }
      slot.holding = true;
      for (const Slot& s : std::span(slots_).first(used_))
        held_bytes += s.holding ? s.held.size() : 0;
      return held_bytes > limit_ ? Result::Overflow : Result::Buffered;
    }
    // The bytes go on; views into slot.held stay valid until this slot holds again.
    slot.holding = false;
  }
  return Result::Continue;
}

}  // namespace vx::proxy
