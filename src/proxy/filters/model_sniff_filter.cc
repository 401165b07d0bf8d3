#include "proxy/filters/model_sniff_filter.h"

#include "proxy/body_prefix.h"
#include "proxy/stream_context.h"

namespace vx::proxy {

namespace {

ports::Awaitable<void> read_model(StreamContext& stream) {
  auto model = co_await read_model_from_body(stream.exchange(), stream.body_prefix());
  if (model) {
    stream.set_ai_model(*model);  // a view into the stream's scratch
  } else {
    stream.fail(model.error());
  }
}

}  // namespace

core::filter::FilterStatus ModelSniffFilter::on_request_head(
    ports::FilterStream& filter_stream) const {
  StreamContext& stream = StreamContext::of(filter_stream);
  if (!stream.ai_model().empty() ||
      stream.request_head().framing == core::http::BodyFraming::None) {
    return core::filter::FilterStatus::Continue;
  }
  stream.hold_until(read_model(stream));
  return core::filter::FilterStatus::Hold;
}

}  // namespace vx::proxy
