// A parsed YAML document as a read-only tree, built with libyaml's event parser: what the
// config loader reads. yaml-cpp, which this replaces here, spent ~1 700 instructions per byte
// in its scanner, so a 10 000-route config took half a second to parse; libyaml's events cost a
// few percent of that, and a node is a few dozen bytes instead of several hundred.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace vx::adapters::config {

class YamlNode {
 public:
  // A plain scalar spelled ~, null, Null, NULL or nothing is Null, as YAML 1.2's core schema says.
  enum class Kind : unsigned char { Null, Scalar, Sequence, Mapping };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_scalar() const { return kind_ == Kind::Scalar; }
  bool is_sequence() const { return kind_ == Kind::Sequence; }
  bool is_map() const { return kind_ == Kind::Mapping; }
  // 1-based line where the node starts.
  int line() const { return line_; }
  // The text of a scalar; empty for other kinds.
  const std::string& scalar() const { return scalar_; }
  // A sequence's items; empty for other kinds.
  const std::vector<const YamlNode*>& items() const { return children_; }
  // A mapping's entries in document order (key, value); empty for other kinds.
  const std::vector<std::pair<const YamlNode*, const YamlNode*>>& entries() const {
    return entries_;
  }
  // The value of a mapping's first entry whose key is the scalar `key`; nullptr when there is
  // none or this is no mapping.
  const YamlNode* find(std::string_view key) const;

 private:
  friend class YamlDocument;
  Kind kind_ = Kind::Null;
  int line_ = 0;
  std::string scalar_;
  std::vector<const YamlNode*> children_;
  std::vector<std::pair<const YamlNode*, const YamlNode*>> entries_;
};

class YamlDocument {
 public:
  struct ParseError {
    int line;  // 1-based; 0 when libyaml gave no position
    std::string message;
  };

  // The single document in `text` (none: a Null root). A syntax error, an undefined alias or a
  // second document is refused with its line.
  static core::Result<YamlDocument, ParseError> parse(std::string_view text);

  const YamlNode& root() const { return *root_; }

  YamlDocument(YamlDocument&&) noexcept = default;
  YamlDocument& operator=(YamlDocument&&) noexcept = default;
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

 private:
  YamlDocument() = default;
  // A deque: nodes never move, so children and aliases point at them.
  std::deque<YamlNode> nodes_;
  const YamlNode* root_ = nullptr;
};

}  // namespace vx::adapters::config
