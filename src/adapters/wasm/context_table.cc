#include "adapters/wasm/context_table.h"

namespace vx::adapters::wasm {

Context& ContextTable::open(uint32_t id) {
  // At most a quarter full: ids open at once are rarely further apart than that, so nearly
  // every id sits at its home slot and a close has nothing to shift.
  if ((open_ + 1) * 4 > index_.size()) grow();
  Context* c;
  if (spare_.empty()) {
    c = &storage_.emplace_back();
  } else {
    c = spare_.back();
    spare_.pop_back();
    *c = Context{};
  }
  c->id = id;
  const size_t mask = index_.size() - 1;
  size_t i = id & mask;
  while (index_[i]) i = (i + 1) & mask;
  index_[i] = c;
  if (i != (id & mask)) ++displaced_;
  ++open_;
  return *c;
}

size_t ContextTable::slot_of(uint32_t id) const {
  if (id == 0 || index_.empty()) return index_.size();
  const size_t mask = index_.size() - 1;
  for (size_t i = id & mask; index_[i]; i = (i + 1) & mask) {
    if (index_[i]->id == id) return i;
  }
  return index_.size();
}

Context* ContextTable::find(uint32_t id) const {
  const size_t i = slot_of(id);
  return i == index_.size() ? nullptr : index_[i];
}

void ContextTable::close(uint32_t id) {
  size_t hole = slot_of(id);
  if (hole == index_.size()) return;
  const size_t mask = index_.size() - 1;
  spare_.push_back(index_[hole]);
  --open_;
  if (hole != (id & mask)) --displaced_;
  // Backward-shift deletion: every entry after the hole in its probe run that may move into
  // the hole does, so that no lookup stops early at an empty slot (invariant 2). With every
  // entry at its home (ids are consecutive: the usual case) none may move.
  for (size_t next = (hole + 1) & mask; displaced_ > 0 && index_[next]; next = (next + 1) & mask) {
    const size_t home = index_[next]->id & mask;
    // `next` stays when its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    index_[hole] = index_[next];
    if (hole == home) --displaced_;
    hole = next;
  }
  index_[hole] = nullptr;
}

void ContextTable::grow() {
  std::vector<Context*> old = std::move(index_);
  index_.assign(old.empty() ? 64 : old.size() * 2, nullptr);
  const size_t mask = index_.size() - 1;
  displaced_ = 0;
  for (Context* c : old) {
    if (!c) continue;
    size_t i = c->id & mask;
    while (index_[i]) i = (i + 1) & mask;
    index_[i] = c;
    if (i != (c->id & mask)) ++displaced_;
  }
}

}  // namespace vx::adapters::wasm
