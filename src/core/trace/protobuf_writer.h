// ProtobufWriter: the protobuf wire format (https://protobuf.dev/programming-guides/encoding/)
// for the few field types OTLP's messages use, appended to a string. Nested messages are written
// in place: open() leaves room for the length, close() writes it and closes the gap, so a
// message costs no temporary buffer. Not thread-safe; pure.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vx::core::trace {

class ProtobufWriter {
 public:
  explicit ProtobufWriter(std::string& out) : out_(out) {}

  void varint_field(uint32_t field, uint64_t value) {
    tag(field, kVarint);
    varint(value);
  }
  // proto3 leaves a field at its default out of the message.
  void varint_field_nonzero(uint32_t field, uint64_t value) {
    if (value != 0) varint_field(field, value);
  }
  void fixed64_field(uint32_t field, uint64_t value) {
    tag(field, kFixed64);
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));  // little endian
    out_.append(bytes, 8);
  }
  void fixed32_field(uint32_t field, uint32_t value) {
    tag(field, kFixed32);
    char bytes[4];
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
    out_.append(bytes, 4);
  }
  void bytes_field(uint32_t field, std::string_view bytes) {
    tag(field, kLengthDelimited);
    varint(bytes.size());
    out_.append(bytes);
  }
  void bytes_field(uint32_t field, const uint8_t* bytes, size_t n) {
    bytes_field(field, std::string_view(reinterpret_cast<const char*>(bytes), n));
  }

  // A nested message whose body size is known up front: just the tag and the length (the
  // caller writes exactly `size` bytes of body next). Cheaper than open()/close().
  void message_header(uint32_t field, size_t size) {
    tag(field, kLengthDelimited);
    varint(size);
  }

  static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v > 0x7f) {
      v >>= 7;
      ++n;
    }
    return n;
  }
  // Encoded size of a length-delimited field (tag < 16, so one byte) with a `size`-byte body.
  static size_t delimited_size(size_t size) { return 1 + varint_size(size) + size; }

  // A nested message: returns where its body starts, for close().
  size_t open(uint32_t field) {
    tag(field, kLengthDelimited);
    out_.append(kLengthRoom, '\0');
    return out_.size();
  }
  void close(size_t body_start) {
    const size_t length = out_.size() - body_start;
    char prefix[kLengthRoom];
    size_t n = 0;
    uint64_t v = length;
    do {
      prefix[n++] = static_cast<char>((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v >>= 7;
    } while (v != 0 && n < kLengthRoom);
    const size_t room_start = body_start - kLengthRoom;
    std::memcpy(out_.data() + room_start, prefix, n);
    if (n < kLengthRoom) out_.erase(room_start + n, kLengthRoom - n);
  }

 private:
  enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
  // Five varint bytes hold any length up to 2^35, far past any batch.
  static constexpr size_t kLengthRoom = 5;

  void tag(uint32_t field, WireType type) { varint(uint64_t{field} << 3 | type); }
  void varint(uint64_t v) {
    while (v > 0x7f) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

  std::string& out_;
};

}  // namespace vx::core::trace
