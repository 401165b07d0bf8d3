// BufferPool / LentBuffer: read buffers lent to connections only while bytes are in flight.
// An edge proxy holds far more idle connections than busy ones, so a connection waiting for
// its next request holds no buffer (issue 19): it borrows one from its worker's pool when bytes
// arrive and gives it back once the request is served. The pool keeps a bounded stack of free
// buffers, so the busy path takes and returns a warm one without malloc; beyond that bound
// they go back to the allocator and the memory of a burst is returned.
//
// One pool per worker thread (thread_local: a worker is one thread, and every connection lives
// on its worker's thread), never shared, so no lock.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace vx::adapters::net {

class BufferPool {
 public:
  static constexpr size_t kBufferBytes = 16 * 1024;
  // Free buffers kept: enough for every connection of a busy worker's burst to find a warm
  // one (512 KiB); a larger burst's extra buffers are freed when they come back.
  static constexpr size_t kKeep = 32;

  static BufferPool& local() {
    thread_local BufferPool pool;
    return pool;
  }

  char* take() {
    if (free_.empty()) return static_cast<char*>(::operator new(kBufferBytes));
    char* b = free_.back();
    free_.pop_back();
    return b;
  }
  void give(char* buffer) {
    if (free_.size() < kKeep) {
      free_.push_back(buffer);
    } else {
      ::operator delete(buffer);
    }
  }
  size_t free_buffers() const { return free_.size(); }

  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool() {
    for (char* b : free_) ::operator delete(b);
  }

 private:
  BufferPool() { free_.reserve(kKeep); }
  std::vector<char*> free_;
};

// LentBuffer: a connection's read buffer, held only between take() and give_back(). Normally a
// pool buffer; a request head larger than it grows it into a buffer of its own (bounded by the
// parser's max_header_bytes), freed rather than pooled when given back.
class LentBuffer {
 public:
  LentBuffer() = default;
  LentBuffer(const LentBuffer&) = delete;
  LentBuffer& operator=(const LentBuffer&) = delete;
  ~LentBuffer() { give_back(); }

  bool held() const { return data_ != nullptr; }
  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

  void take() {
    if (data_) return;
    data_ = BufferPool::local().take();
    size_ = BufferPool::kBufferBytes;
  }
  void give_back() {
    if (!data_) return;
    if (size_ == BufferPool::kBufferBytes) {
      BufferPool::local().give(data_);
    } else {
      ::operator delete(data_);
    }
    data_ = nullptr;
    size_ = 0;
  }
  // Twice the size, the first `keep` bytes copied.
  void grow(size_t keep) {
    auto* bigger = static_cast<char*>(::operator new(size_ * 2));
    std::memcpy(bigger, data_, keep);
    const size_t doubled = size_ * 2;
    give_back();
    data_ = bigger;
    size_ = doubled;
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vx::adapters::net
