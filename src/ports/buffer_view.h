// BufferView: a non-owning ConstBufferSequence over gathered buffers. Asio's write operation
// keeps a copy of the sequence it is given; a view copies two pointers where a
// std::vector<const_buffer> would be copied onto the heap for every write.
#pragma once

#include <boost/asio/buffer.hpp>
#include <span>

namespace vx::ports {

class BufferView {
 public:
  using value_type = boost::asio::const_buffer;
  using const_iterator = const boost::asio::const_buffer*;

  explicit BufferView(std::span<const boost::asio::const_buffer> buffers) : buffers_(buffers) {}
  const_iterator begin() const { return buffers_.data(); }
  const_iterator end() const { return buffers_.data() + buffers_.size(); }

 private:
  std::span<const boost::asio::const_buffer> buffers_;
};

}  // namespace vx::ports
