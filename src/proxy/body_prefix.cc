#include "proxy/body_prefix.h"

#include "proxy/model_sniffer.h"

namespace vx::proxy {

void pin_request_head(core::http::RequestHead& head, std::string& storage) {
  size_t total =
      head.method.size() + head.authority.size() + head.target.size() + head.scheme.size();
  for (const auto& h : head.headers) total += h.name.size() + h.value.size();
  storage.clear();
  storage.reserve(total);  // no reallocation below: every view stays valid
  auto keep = [&](std::string_view& v) {
    const size_t at = storage.size();
    storage.append(v);
    v = std::string_view(storage).substr(at, v.size());
  };
  keep(head.method);
  keep(head.authority);
  keep(head.target);
  keep(head.scheme);
  for (auto& h : head.headers) {
    keep(h.name);
    keep(h.value);
  }
}

ports::AsyncResult<std::string_view> read_model_from_body(DownstreamExchange& exchange,
                                                          BodyPrefix& prefix) {
  StreamScratch& scratch = exchange.scratch();
  pin_request_head(exchange.request(), scratch.head);
  scratch.body_prefix.clear();
  auto continued = co_await exchange.send_continue();
  if (!continued) co_return core::unexpected(continued.error());
  prefix.read = true;
  for (;;) {
    auto chunk = co_await exchange.read_body();
    if (!chunk) co_return core::unexpected(chunk.error());
    for (auto piece : chunk->pieces) scratch.body_prefix.append(piece);
    if (chunk->last) {
      prefix.complete = true;
      prefix.trailers = chunk->trailers;
    }
    const bool enough = prefix.complete || scratch.body_prefix.size() >= kModelSniffBytes;
    const SniffResult sniffed =
        sniff_model(std::string_view(scratch.body_prefix).substr(0, kModelSniffBytes), enough);
    if (sniffed.status == SniffStatus::Found) co_return sniffed.model;
    if (sniffed.status == SniffStatus::NotFound || enough) co_return std::string_view{};
  }
}

}  // namespace vx::proxy
