// Typed, line-aware reading of one YAML mapping for the config loader: reports unknown,
// duplicate and missing keys and wrong types as diagnostics instead of throwing. One loader
// call at a time; not thread-safe.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/config/yaml_document.h"
#include "core/config/config.h"
#include "core/config/diagnostic.h"
#include "core/config/socket_address.h"

namespace vx::adapters::config {

// The diagnostics of one file being loaded.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}
  void error(int line, std::string message) {
    list_.push_back(core::config::Diagnostic{file_, line, std::move(message)});
  }
  const std::string& file() const { return file_; }
  std::vector<core::config::Diagnostic>& list() { return list_; }

 private:
  std::string file_;
  std::vector<core::config::Diagnostic> list_;
};

class YamlMapReader {
 public:
  // Reads `node` (a mapping, or null = empty) found at `path` ("routes[0].match"; "" = the
  // document). Reports a non-mapping, keys not in `allowed`, and keys written twice. Records
  // the line of each key into `where` as where_prefix + key.
  YamlMapReader(DiagnosticSink& sink, const YamlNode& node, std::string path,
                std::initializer_list<std::string_view> allowed, core::config::SourceLine* where,
                std::string where_prefix = "");

  bool present() const { return present_; }  // false: the key of this map was absent
  int line() const { return line_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // "missing required key 'KEY' in PATH"; returns whether it is there.
  bool require(std::string_view key);
  std::string path_of(std::string_view key) const;

  // Each reader leaves `out` untouched when the key is absent or its value is refused, and
  // returns true only when it stored a value.
  bool read(std::string_view key, std::string& out);
  bool read(std::string_view key, std::optional<std::string>& out);
  bool read(std::string_view key, bool& out);
  bool read(std::string_view key, uint16_t& out);
  bool read(std::string_view key, uint32_t& out);
  bool read(std::string_view key, uint64_t& out);
  bool read(std::string_view key, double& out);
  bool read(std::string_view key, core::config::Millis& out);
  bool read(std::string_view key, std::vector<std::string>& out);
  bool read_address(std::string_view key, core::config::HostKind kind,
                    core::config::SocketAddress& out);
  template <typename E>
  bool read_enum(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> values,
                 E& out);

  // The nested mapping under `key`; absent key -> a reader with present() false and no keys.
  YamlMapReader sub(std::string_view key, std::initializer_list<std::string_view> allowed);
  // Calls fn(item_node, item_path, index) for each element of the sequence under `key`.
  template <typename F>
  void each(std::string_view key, F&& fn);

  // Raw access for values of unusual shape; nullptr when absent.
  const YamlNode* value(std::string_view key) const;
  int key_line(std::string_view key) const;
  DiagnosticSink& sink() { return sink_; }

  // Scalar text of `node` for `what`, or nullopt after reporting "expected a string for WHAT".
  static std::optional<std::string> scalar(DiagnosticSink& sink, const YamlNode& node, int line,
                                           const std::string& what);

 private:
  struct Field {
    std::string key;
    int line;
    const YamlNode* value;
  };
  YamlMapReader(DiagnosticSink& sink, std::string path, core::config::SourceLine* where,
                std::string where_prefix);
  const Field* find(std::string_view key) const;
  std::optional<uint64_t> read_unsigned(std::string_view key, uint64_t max);

  DiagnosticSink& sink_;
  std::string path_;
  core::config::SourceLine* where_;
  std::string where_prefix_;
  bool present_ = false;
  int line_ = 0;
  std::vector<Field> fields_;
};

template <typename E>
bool YamlMapReader::read_enum(std::string_view key,
                              std::initializer_list<std::pair<std::string_view, E>> values,
                              E& out) {
  const Field* f = find(key);
  if (f == nullptr) return false;
  std::optional<std::string> text = scalar(sink_, *f->value, f->line, path_of(key));
  if (!text) return false;
  std::string expected;
  for (const auto& [name, value] : values) {
    if (name == *text) {
      out = value;
      return true;
    }
    expected += (expected.empty() ? "" : ", ") + std::string(name);
  }
  sink_.error(f->line,
              "bad value '" + *text + "' for " + path_of(key) + ": expected one of " + expected);
  return false;
}

template <typename F>
void YamlMapReader::each(std::string_view key, F&& fn) {
  const Field* f = find(key);
  if (f == nullptr || f->value->is_null()) return;
  if (!f->value->is_sequence()) {
    sink_.error(f->line, "expected a list for " + path_of(key));
    return;
  }
  int index = 0;
  for (const YamlNode* item : f->value->items()) {
    fn(*item, path_of(key) + "[" + std::to_string(index) + "]", index);
    ++index;
  }
}

}  // namespace vx::adapters::config
