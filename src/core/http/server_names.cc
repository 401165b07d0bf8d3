#include "core/http/server_names.h"

#include "core/http/header.h"

namespace vx::core::http {

namespace {

// RFC 6125 §6.4.3: "*.example.com" covers exactly one label left of "example.com".
bool wildcard_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.starts_with("*.")) return false;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (name.size() <= suffix.size()) return false;
  const std::string_view label = name.substr(0, name.size() - suffix.size());
  return label.find('.') == std::string_view::npos && iequals(name.substr(label.size()), suffix);
}

}  // namespace

void ServerNames::add_certificate(const std::vector<std::string>& names) {
  auto& lower = names_.emplace_back();
  for (const auto& n : names) {
    std::string l;
    for (char c : n) l.push_back(ascii_lower(c));
    lower.push_back(std::move(l));
  }
}

std::optional<size_t> ServerNames::choose(std::string_view server_name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const auto& n : names_[i]) {
      if (iequals(n, server_name)) return i;
    }
  }
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const auto& n : names_[i]) {
      if (wildcard_matches(n, server_name)) return i;
    }
  }
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const auto& n : names_[i]) {
      if (n == "*") return i;
    }
  }
  return std::nullopt;
}

}  // namespace vx::core::http
