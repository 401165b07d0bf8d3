// Semantic checks of a whole Config (names, references, ranges, patterns), after the loader
// has checked keys and types. Pure; safe from any thread.
#pragma once

#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/diagnostic.h"
#include "core/ports/regex.h"

namespace vx::core::config {

// Returns every problem found, never stopping at the first, each at the line of the offending
// item or key (Diagnostic::file = config.file). Empty = valid. `regex` compiles path_regex
// patterns so a bad one is refused here, with the engine's message, rather than at route-table
// build.
std::vector<Diagnostic> validate(const Config& config, const RegexCompiler& regex);

// "*.example.com" (any sub-domain) or an exact host name / IP literal; no port.
bool is_valid_host_pattern(std::string_view pattern);
// RFC 9110 §5.6.2 token (method names, header names).
bool is_token(std::string_view s);
// "redis://host:port" with an optional "/db" (db a decimal number).
bool is_valid_redis_url(std::string_view url);

}  // namespace vx::core::config
