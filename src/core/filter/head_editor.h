// Head editors: what a filter changes of a request or response head, and the checks that keep
// a filter from writing a head the wire cannot carry (CR/LF in a value would split the message;
// framing fields belong to the pipeline). Pure; values are copied into the stream's arena, so
// a filter may pass views that die right after the call.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/filter/string_arena.h"
#include "core/http/message_head.h"

namespace vx::core::filter {

// A field value a head may carry (RFC 9110 §5.5): visible bytes, spaces and tabs, obs-text;
// never CR, LF, NUL or another control byte.
bool is_valid_field_value(std::string_view value);

class HeaderEditor {
 public:
  HeaderEditor(http::HeaderList& headers, StringArena& arena) : headers_(headers), arena_(arena) {}

  // The first value of `name` (case-insensitive).
  std::optional<std::string_view> get(std::string_view name) const {
    return http::find_header(headers_, name);
  }
  const http::HeaderList& fields() const { return headers_; }

  // Every field `name` becomes one field with `value`, where the first one was (at the end when
  // there was none). add() appends one more. Both refuse (false, nothing changed) a name that
  // is not a token, a value with forbidden bytes, and the framing fields Content-Length and
  // Transfer-Encoding, which the pipeline derives from how the body is sent.
  bool set(std::string_view name, std::string_view value);
  bool add(std::string_view name, std::string_view value);
  // Removes every field `name`; returns how many there were.
  size_t remove(std::string_view name);

 protected:
  StringArena& arena() { return arena_; }

 private:
  static bool acceptable(std::string_view name, std::string_view value);
  // The field, its name and value copied into the arena.
  http::Header copied(std::string_view name, std::string_view value);

  http::HeaderList& headers_;
  StringArena& arena_;
};

class RequestHeadEditor : public HeaderEditor {
 public:
  RequestHeadEditor(http::RequestHead& head, StringArena& arena)
      : HeaderEditor(head.headers, arena), head_(head) {}

  const http::RequestHead& head() const { return head_; }
  // Refuses (false) a method that is not a token.
  bool set_method(std::string_view method);
  // The origin-form target, path and query ("/a/b?c"). Refuses one that does not start with
  // '/' or holds a space, a control byte or '#'.
  bool set_target(std::string_view target);
  // The authority the upstream sees (:authority, and Host when the head has one). Refuses an
  // empty one and what core::http::is_valid_authority refuses.
  bool set_authority(std::string_view authority);

 private:
  http::RequestHead& head_;
};

class ResponseHeadEditor : public HeaderEditor {
 public:
  ResponseHeadEditor(http::ResponseHead& head, StringArena& arena)
      : HeaderEditor(head.headers, arena), head_(head) {}

  const http::ResponseHead& head() const { return head_; }
  // A final status, 200..599 (an interim one cannot replace a final head); the reason phrase
  // becomes the status's standard one.
  bool set_status(uint16_t status);

 private:
  http::ResponseHead& head_;
};

}  // namespace vx::core::filter
