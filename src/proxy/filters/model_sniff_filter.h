// ModelSniffFilter: the AI model a request names, found before routing (SPEC.md §2
// routes[].match.ai_model, clusters[].model_routing): the x-ai-model header, else the "model"
// of a JSON body, read ahead up to 64 KiB (proxy/body_prefix.h) and later forwarded unchanged.
// In the pre-route chain only when some route or cluster routes by model. Stateless; shared by
// all workers.
#pragma once

#include "ports/http_filter.h"

namespace vx::proxy {

class ModelSniffFilter final : public ports::HttpFilter {
 public:
  std::string_view name() const override { return "ai_model"; }
  core::filter::HookSet hooks() const override { return core::filter::Hook::RequestHead; }
  // Holds the request while its body's first bytes are read; a failed read (413, client gone)
  // is the stream's answer.
  core::filter::FilterStatus on_request_head(ports::FilterStream& stream) const override;
};

}  // namespace vx::proxy
