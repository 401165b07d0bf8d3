#include "proxy/model_sniffer.h"

namespace vx::proxy {
namespace {

// A cursor over the prefix. Each step returns false when the bytes run out (NeedMore) and sets
// bad_ when the JSON is not what a top-level object scan can accept (NotFound).
class Scanner {
 public:
  explicit Scanner(std::string_view in) : in_(in) {}

  bool bad() const { return bad_; }

  void skip_space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // The next non-space byte, or 0 at the end.
  char peek() {
    skip_space();
    return pos_ < in_.size() ? in_[pos_] : '\0';
  }

  bool expect(char c) {
    if (peek() == '\0') return false;
    if (in_[pos_] != c) {
      bad_ = true;
      return false;
    }
    ++pos_;
    return true;
  }

  // A string at the cursor (after its opening quote is next): its raw contents, and whether it
  // held a backslash escape.
  bool string(std::string_view& raw, bool& escaped) {
    if (!expect('"')) return false;
    const size_t start = pos_;
    escaped = false;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '\\') {
        escaped = true;
        pos_ += 2;
        continue;
      }
      if (c == '"') {
        raw = in_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        bad_ = true;
        return false;
      }
      ++pos_;
    }
    return false;
  }

  // Skips one value of any kind; containers by depth, strings by their quotes.
  bool skip_value() {
    const char c = peek();
    if (c == '\0') return false;
    if (c == '"') {
      std::string_view raw;
      bool escaped;
      return string(raw, escaped);
    }
    if (c == '{' || c == '[') return skip_container();
    // Number or literal: up to the next delimiter.
    while (pos_ < in_.size()) {
      const char d = in_[pos_];
      if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r') {
        return true;
      }
      ++pos_;
    }
    return false;
  }

 private:
  bool skip_container() {
    uint32_t depth = 0;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '"') {
        std::string_view raw;
        bool escaped;
        if (!string(raw, escaped)) return false;
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return true;
      }
    }
    return false;
  }

  std::string_view in_;
  size_t pos_ = 0;
  bool bad_ = false;
};

}  // namespace

SniffResult sniff_model(std::string_view body_prefix, bool complete) {
  const SniffResult need_more{complete ? SniffStatus::NotFound : SniffStatus::NeedMore, {}};
  Scanner scan(body_prefix);
  if (!scan.expect('{')) return scan.bad() ? SniffResult{} : need_more;
  if (scan.peek() == '}') return {};
  for (;;) {
    std::string_view key;
    bool key_escaped = false;
    if (!scan.string(key, key_escaped) || !scan.expect(':')) {
      return scan.bad() ? SniffResult{} : need_more;
    }
    if (key == "model" && !key_escaped) {
      if (scan.peek() != '"') return scan.peek() == '\0' ? need_more : SniffResult{};
      std::string_view value;
      bool escaped = false;
      if (!scan.string(value, escaped)) return scan.bad() ? SniffResult{} : need_more;
      if (escaped || value.empty()) return {};
      return {SniffStatus::Found, value};
    }
    if (!scan.skip_value()) return scan.bad() ? SniffResult{} : need_more;
    const char next = scan.peek();
    if (next == '\0') return need_more;
    if (next == '}') return {};
    if (!scan.expect(',')) return scan.bad() ? SniffResult{} : need_more;
  }
}

}  // namespace vx::proxy
