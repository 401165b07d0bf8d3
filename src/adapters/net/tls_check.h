// check_tls: the part of `vortex check` that needs OpenSSL: every listener certificate and key
// is readable, parses, and the key matches its certificate. Control plane only.
#pragma once

#include <vector>

#include "core/config/config.h"
#include "core/config/diagnostic.h"

namespace vx::adapters::net {

// One diagnostic per problem, at the certificate's line ("FILE:LINE: message"); empty = ok.
std::vector<core::config::Diagnostic> check_tls(const core::config::Config& config);

}  // namespace vx::adapters::net
