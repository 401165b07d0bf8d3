// ProtobufWriter: the protobuf wire format (https://protobuf.dev/programming-guides/encoding/)
// for the few field types OTLP's messages use, written through a raw cursor into a buffer the
// caller sized for the worst case (a span record's texts are bounded, so its encoding is too):
// no capacity check per byte. Nested messages of unknown size are written in place: open()
// leaves room for the length, close() writes it and moves the body back over the room it did
// not need. Not thread-safe; pure.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace vx::core::trace {

class ProtobufWriter {
 public:
  // REQUIRES: [at, end of the caller's buffer) holds everything that will be written.
  explicit ProtobufWriter(char* at) : p_(at) {}
  char* position() const { return p_; }

  void varint_field(uint32_t field, uint64_t value) {
    tag(field, kVarint);
    varint(value);
  }
  void fixed64_field(uint32_t field, uint64_t value) {
    tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<char>(value >> (8 * i));  // little endian
  }
  void fixed32_field(uint32_t field, uint32_t value) {
    tag(field, kFixed32);
    for (int i = 0; i < 4; ++i) *p_++ = static_cast<char>(value >> (8 * i));
  }
  void bytes_field(uint32_t field, std::string_view bytes) {
    tag(field, kLengthDelimited);
    varint(bytes.size());
    if (!bytes.empty()) std::memcpy(p_, bytes.data(), bytes.size());  // an empty view: no pointer
    p_ += bytes.size();
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

  // Writes v as a varint at `out` (10 bytes of room); returns how many bytes it took.
  static size_t write_varint(uint64_t v, char* out) {
    size_t n = 0;
    while (v > 0x7f) {
      out[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out[n++] = static_cast<char>(v);
    return n;
  }

  // Five varint bytes hold any length up to 2^35, far past any batch.
  static constexpr size_t kLengthRoom = 5;

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

  // A nested message of unknown size: returns where its body starts, for close().
  char* open(uint32_t field) {
    tag(field, kLengthDelimited);
    p_ += kLengthRoom;
    return p_;
  }
  void close(char* body) {
    const size_t length = static_cast<size_t>(p_ - body);
    char* const room = body - kLengthRoom;
    char* q = room;
    uint64_t v = length;
    while (v > 0x7f) {
      *q++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *q++ = static_cast<char>(v);
    if (q != body) {
      std::memmove(q, body, length);
      p_ = q + length;
    }
  }

 private:
  enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

  void tag(uint32_t field, WireType type) { varint(uint64_t{field} << 3 | type); }
  void varint(uint64_t v) {
    while (v > 0x7f) {
      *p_++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }

  char* p_;
};

}  // namespace vx::core::trace
