// ContextTable: the stream contexts of one plugin instance, found by the id the guest knows
// them by. A stream opens and closes one per request, so the table neither allocates nor
// hashes per request once warm: contexts live in stable storage recycled through a free list,
// and ids (handed out in increasing order) index an open-addressing table by their low bits,
// so consecutive ids never collide. Used on one worker's thread only.
//
// Invariants:
//  1. A context's address stays valid from open() until its close(): growing the table moves
//     only the index, never a context.
//  2. find(id) finds exactly the open contexts; ids of open contexts are distinct and non-zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "adapters/wasm/abi.h"
#include "core/filter/body_buffer.h"
#include "ports/filter_stream.h"

namespace vx::adapters::wasm {

// What the host keeps about one Proxy-Wasm context, for the host functions.
struct Context {
  uint32_t id = 0;
  bool root = false;
  ports::FilterStream* stream = nullptr;     // cleared when the stream is gone
  core::filter::BodyBuffer* body = nullptr;  // during a body callback
  BufferType body_type = BufferType::HttpRequestBody;
  bool end_of_stream = false;
  bool in_response = false;  // the response hooks have begun
  bool responded = false;
};

class ContextTable {
 public:
  // A fresh context (every field at its default but id) for `id`, which no open context has.
  Context& open(uint32_t id);
  // The open context `id`, or null.
  Context* find(uint32_t id) const;
  // Closes the open context `id` (nothing when there is none); its storage is reused.
  void close(uint32_t id);
  size_t size() const { return open_; }

 private:
  size_t slot_of(uint32_t id) const;  // the index slot holding `id`, or buckets_.size()
  void grow();

  std::deque<Context> storage_;  // invariant 1: a deque never moves what it holds
  std::vector<Context*> spare_;  // closed contexts, reused first
  std::vector<Context*> index_;  // a power of two long; linear probing from id & mask
  size_t open_ = 0;
  size_t displaced_ = 0;  // open contexts not in their home slot (id & mask)
};

}  // namespace vx::adapters::wasm
