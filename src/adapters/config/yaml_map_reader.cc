// YAML nodes -> typed values with diagnostics: a bad value becomes a message with its line.
#include "adapters/config/yaml_map_reader.h"

#include <charconv>
#include <limits>

namespace vx::adapters::config {

namespace {

// YAML 1.1's booleans, as yaml-cpp read them before: configs written for it keep working.
std::optional<bool> parse_bool(std::string_view text) {
  for (std::string_view t :
       {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"}) {
    if (text == t) return true;
  }
  for (std::string_view f :
       {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"}) {
    if (text == f) return false;
  }
  return std::nullopt;
}

}  // namespace

YamlMapReader::YamlMapReader(DiagnosticSink& sink, std::string path,
                             core::config::SourceLine* where, std::string where_prefix)
    : sink_(sink), path_(std::move(path)), where_(where), where_prefix_(std::move(where_prefix)) {}

YamlMapReader::YamlMapReader(DiagnosticSink& sink, const YamlNode& node, std::string path,
                             std::initializer_list<std::string_view> allowed,
                             core::config::SourceLine* where, std::string where_prefix)
    : YamlMapReader(sink, std::move(path), where, std::move(where_prefix)) {
  present_ = true;
  line_ = node.line();
  if (node.is_null()) return;
  if (!node.is_map()) {
    sink_.error(line_, "expected a mapping for " + (path_.empty() ? "the document" : path_));
    return;
  }
  for (const auto& [key_node, value] : node.entries()) {
    int line = key_node->line();
    if (!key_node->is_scalar()) {
      sink_.error(line, "expected a string key" + (path_.empty() ? "" : " in " + path_));
      continue;
    }
    const std::string& key = key_node->scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) {
      sink_.error(line, "unknown key '" + key + "'" + (path_.empty() ? "" : " in " + path_));
      continue;
    }
    if (find(key) != nullptr) {
      sink_.error(line, "duplicate key '" + key + "'" + (path_.empty() ? "" : " in " + path_));
      continue;
    }
    fields_.push_back(Field{key, line, value});
    if (where_ != nullptr) where_->keys.emplace_back(where_prefix_ + key, line);
  }
}

const YamlMapReader::Field* YamlMapReader::find(std::string_view key) const {
  for (const Field& f : fields_) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

const YamlNode* YamlMapReader::value(std::string_view key) const {
  const Field* f = find(key);
  return f == nullptr ? nullptr : f->value;
}

int YamlMapReader::key_line(std::string_view key) const {
  const Field* f = find(key);
  return f == nullptr ? line_ : f->line;
}

std::string YamlMapReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool YamlMapReader::require(std::string_view key) {
  if (has(key)) return true;
  sink_.error(line_, "missing required key '" + std::string(key) + "'" +
                         (path_.empty() ? "" : " in " + path_));
  return false;
}

std::optional<std::string> YamlMapReader::scalar(DiagnosticSink& sink, const YamlNode& node,
                                                 int line, const std::string& what) {
  if (!node.is_scalar()) {
    sink.error(line, "expected a string for " + what);
    return std::nullopt;
  }
  return node.scalar();
}

bool YamlMapReader::read(std::string_view key, std::string& out) {
  const Field* f = find(key);
  if (f == nullptr) return false;
  // The key's path only for the error: a 10 000-route config reads ~50 000 strings.
  if (!f->value->is_scalar()) return scalar(sink_, *f->value, f->line, path_of(key)).has_value();
  out = f->value->scalar();
  return true;
}

bool YamlMapReader::read(std::string_view key, std::optional<std::string>& out) {
  std::string value;
  if (!read(key, value)) return false;
  out = std::move(value);
  return true;
}

bool YamlMapReader::read(std::string_view key, bool& out) {
  const Field* f = find(key);
  if (f == nullptr) return false;
  std::optional<bool> value;
  if (f->value->is_scalar()) value = parse_bool(f->value->scalar());
  if (!value) {
    sink_.error(f->line, "expected true or false for " + path_of(key));
    return false;
  }
  out = *value;
  return true;
}

std::optional<uint64_t> YamlMapReader::read_unsigned(std::string_view key, uint64_t max) {
  const Field* f = find(key);
  if (f == nullptr) return std::nullopt;
  if (!f->value->is_scalar()) {
    sink_.error(f->line, "expected an integer for " + path_of(key));
    return std::nullopt;
  }
  const std::string& text = f->value->scalar();
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
  if (ok && value <= max) return value;
  const std::string what = path_of(key);
  if (!text.empty() && text[0] == '-') {
    sink_.error(f->line, "expected a non-negative integer for " + what + ", got '" + text + "'");
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && value > max)) {
    sink_.error(f->line, what + " is out of range (at most " + std::to_string(max) + ")");
    return std::nullopt;
  }
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    sink_.error(f->line, "expected an integer for " + what + ", got '" + text + "'");
    return std::nullopt;
  }
  return value;
}

bool YamlMapReader::read(std::string_view key, uint16_t& out) {
  auto v = read_unsigned(key, std::numeric_limits<uint16_t>::max());
  if (v) out = static_cast<uint16_t>(*v);
  return v.has_value();
}

bool YamlMapReader::read(std::string_view key, uint32_t& out) {
  auto v = read_unsigned(key, std::numeric_limits<uint32_t>::max());
  if (v) out = static_cast<uint32_t>(*v);
  return v.has_value();
}

bool YamlMapReader::read(std::string_view key, uint64_t& out) {
  auto v = read_unsigned(key, std::numeric_limits<int64_t>::max());
  if (v) out = *v;
  return v.has_value();
}

bool YamlMapReader::read(std::string_view key, core::config::Millis& out) {
  auto v = read_unsigned(key, std::numeric_limits<int64_t>::max());
  if (v) out = core::config::Millis(static_cast<int64_t>(*v));
  return v.has_value();
}

bool YamlMapReader::read(std::string_view key, double& out) {
  const Field* f = find(key);
  if (f == nullptr) return false;
  double value = 0;
  bool ok = f->value->is_scalar();
  if (ok) {
    const std::string& text = f->value->scalar();
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
  }
  if (!ok) {
    sink_.error(f->line, "expected a number for " + path_of(key));
    return false;
  }
  out = value;
  return true;
}

bool YamlMapReader::read(std::string_view key, std::vector<std::string>& out) {
  const Field* f = find(key);
  if (f == nullptr) return false;
  if (!f->value->is_sequence()) {
    sink_.error(f->line, "expected a list of strings for " + path_of(key));
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  int index = 0;
  for (const YamlNode* item : f->value->items()) {
    int line = item->line() > 0 ? item->line() : f->line;
    auto text = scalar(sink_, *item, line, path_of(key) + "[" + std::to_string(index++) + "]");
    if (text) {
      values.push_back(std::move(*text));
    } else {
      ok = false;
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

bool YamlMapReader::read_address(std::string_view key, core::config::HostKind kind,
                                 core::config::SocketAddress& out) {
  std::string text;
  if (!read(key, text)) return false;
  auto parsed = core::config::parse_socket_address(text, kind);
  if (!parsed) {
    sink_.error(key_line(key), parsed.error());
    return false;
  }
  out = std::move(parsed.value());
  return true;
}

YamlMapReader YamlMapReader::sub(std::string_view key,
                                 std::initializer_list<std::string_view> allowed) {
  const Field* f = find(key);
  if (f == nullptr) return YamlMapReader(sink_, path_of(key), nullptr, "");
  YamlMapReader reader(sink_, *f->value, path_of(key), allowed, where_,
                       where_prefix_ + std::string(key) + ".");
  if (reader.line_ == 0) reader.line_ = f->line;
  return reader;
}

}  // namespace vx::adapters::config
