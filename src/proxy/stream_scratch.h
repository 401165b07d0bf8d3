// StreamScratch: per-stream string storage the pipeline writes into (rewritten header values,
// what the access log needs after the head's views are gone). Owned by the exchange and reused
// stream after stream, so a warm connection allocates nothing here.
#pragma once

#include <string>

namespace vx::proxy {

struct StreamScratch {
  std::string forwarded;    // values of x-forwarded-for, via, x-request-id sent upstream
  std::string path;         // the request target, for the log
  std::string request_id;   // the id in effect, for the log
  std::string head;         // the request head's bytes when it must outlive the first body read
  std::string body_prefix;  // body bytes read ahead of routing (the AI model in a JSON body)
};

}  // namespace vx::proxy
