// The `vortex run` process: builds the runtime, starts the workers, waits for signals
// (SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the config file) on the main thread.
#pragma once

#include <memory>

#include "core/config/config.h"

namespace vx::app {

// Returns the process exit code.
int run_server(std::shared_ptr<const core::config::Config> config);

}  // namespace vx::app
