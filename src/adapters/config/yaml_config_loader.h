// Loads SPEC.md §2's YAML into core::config::Config with line numbers, applies defaults and
// runs validate(). A YAML syntax error is a diagnostic like any other. Each call is independent:
// safe to call from any thread (the reload path runs it on the admin thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/diagnostic.h"
#include "core/result.h"

namespace vx::adapters::config {

using LoadResult = core::Result<std::shared_ptr<const core::config::Config>,
                                std::vector<core::config::Diagnostic>>;

// Reads and loads `path`. Relative file names inside (certificates, CA, wasm files,
// kubeconfig) are resolved against the file's folder. On failure returns every diagnostic,
// syntax, schema and semantic, sorted by line; "FILE: cannot read ..." if unreadable.
LoadResult load_config_file(const std::string& path);

// The same for text already in memory; `file_name` names it in diagnostics and its folder
// anchors relative paths.
LoadResult load_config_string(std::string_view yaml, std::string file_name);

}  // namespace vx::adapters::config
