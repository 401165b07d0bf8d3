#include "proxy/filters/forwarded_headers_filter.h"

#include "proxy/forwarded_headers.h"
#include "proxy/stream_context.h"

namespace vx::proxy {

core::filter::FilterStatus ForwardedHeadersFilter::on_request_head(
    ports::FilterStream& filter_stream) const {
  StreamContext& stream = StreamContext::of(filter_stream);
  StreamScratch& scratch = stream.scratch();
  rewrite_forwarded_headers(stream.request_head(), scratch.forwarded, stream.client_ip(),
                            scratch.request_id);
  return core::filter::FilterStatus::Continue;
}

}  // namespace vx::proxy
