#include "adapters/wasm/host_functions.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <string>

#include <sys/random.h>

#include "adapters/wasm/pairs.h"
#include "adapters/wasm/plugin_instance.h"
#include "adapters/wasm/properties.h"

namespace vx::adapters::wasm {

namespace {

using Context = PluginInstance::Context;
constexpr auto I32 = ValueType::I32;
constexpr auto I64 = ValueType::I64;

PluginInstance& self(void* host) {
  return *static_cast<PluginInstance*>(host);
}
uint64_t r(WasmResult result) {
  return static_cast<uint32_t>(result);
}
uint64_t r(WasiErrno e) {
  return static_cast<uint32_t>(e);
}

// A stream context's stream, when the effective context has one and it is still there.
ports::FilterStream* stream_of(PluginInstance& p) {
  Context* c = p.current();
  return c && !c->root ? c->stream : nullptr;
}

// Scratch reused call after call on this worker: host functions allocate nothing they can avoid.
std::string& scratch() {
  thread_local std::string bytes;
  bytes.clear();
  return bytes;
}
core::http::HeaderList& scratch_fields() {
  thread_local core::http::HeaderList fields;
  fields.clear();
  return fields;
}

// ------------------------------------------------------------------------------ header maps

// The fields of a map as the guest sees it: HTTP/2-style pseudo-headers first (Envoy's maps carry
// them, and plugins read :path and :status), then the head's own fields. Null: not available in
// this context.
const core::http::HeaderList* map_fields(PluginInstance& p, MapType type) {
  core::http::HeaderList& out = scratch_fields();
  switch (type) {
    case MapType::HttpRequestHeaders: {
      ports::FilterStream* s = stream_of(p);
      if (!s) return nullptr;
      const auto editor = s->request();
      const core::http::RequestHead& head = editor.head();
      out.push_back({":authority", head.authority});
      out.push_back({":path", head.target});
      out.push_back({":method", head.method});
      out.push_back({":scheme", head.scheme});
      out.insert(out.end(), head.headers.begin(), head.headers.end());
      return &out;
    }
    case MapType::HttpResponseHeaders: {
      ports::FilterStream* s = stream_of(p);
      if (!s || !p.current()->in_response) return nullptr;
      const auto editor = s->response();
      thread_local std::string status;
      status = std::to_string(editor.head().status);
      out.push_back({":status", status});
      out.insert(out.end(), editor.head().headers.begin(), editor.head().headers.end());
      return &out;
    }
    case MapType::HttpRequestTrailers:
    case MapType::HttpResponseTrailers:
      // Trailers pass through untouched (docs/wasm.md): the map is empty, never unavailable.
      return stream_of(p) ? &out : nullptr;
    case MapType::HttpCallResponseHeaders:
      return p.call_response() ? &p.call_response()->headers : nullptr;
    case MapType::HttpCallResponseTrailers:
      return p.call_response() ? &p.call_response()->trailers : nullptr;
    default:
      return nullptr;
  }
}

// Sets one field of a writable map (replace: every field of the name becomes this one).
WasmResult put_field(PluginInstance& p, MapType type, std::string_view name, std::string_view value,
                     bool replace) {
  ports::FilterStream* s = stream_of(p);
  if (!s) return WasmResult::NotFound;
  if (type == MapType::HttpRequestHeaders) {
    auto editor = s->request();
    bool done = false;
    if (!name.empty() && name.front() == ':') {  // a pseudo-header: only these three
      if (name == ":path") {
        done = editor.set_target(value);
      } else if (name == ":method") {
        done = editor.set_method(value);
      } else if (name == ":authority") {
        done = editor.set_authority(value);
      }
    } else if (replace && core::http::iequals(name, "host")) {
      done = editor.set_authority(value);
    } else {
      done = replace ? editor.set(name, value) : editor.add(name, value);
    }
    return done ? WasmResult::Ok : WasmResult::BadArgument;
  }
  if (type == MapType::HttpResponseHeaders && p.current()->in_response) {
    auto editor = s->response();
    bool done = false;
    if (!name.empty() && name.front() == ':') {  // a pseudo-header: only :status
      if (name == ":status") {
        uint32_t code = 0;
        for (char c : value) code = c >= '0' && c <= '9' ? code * 10 + (c - '0') : 1000;
        done = editor.set_status(static_cast<uint16_t>(std::min(code, 1000u)));
      }
    } else {
      done = replace ? editor.set(name, value) : editor.add(name, value);
    }
    return done ? WasmResult::Ok : WasmResult::BadArgument;
  }
  return WasmResult::BadArgument;  // trailers and call responses are read-only here
}

WasmResult remove_field(PluginInstance& p, MapType type, std::string_view name) {
  ports::FilterStream* s = stream_of(p);
  if (!s || (!name.empty() && name.front() == ':')) return WasmResult::BadArgument;
  if (type == MapType::HttpRequestHeaders) {
    s->request().remove(name);
    return WasmResult::Ok;
  }
  if (type == MapType::HttpResponseHeaders && p.current()->in_response) {
    s->response().remove(name);
    return WasmResult::Ok;
  }
  return WasmResult::BadArgument;
}

uint64_t get_header_map_size(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto* fields = map_fields(p, static_cast<MapType>(a[0]));
  if (!fields) return r(WasmResult::NotFound);
  return r(p.write_u32(a[1], static_cast<uint32_t>(encoded_size(*fields)))
               ? WasmResult::Ok
               : WasmResult::InvalidMemoryAccess);
}

uint64_t get_header_map_pairs(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto* fields = map_fields(p, static_cast<MapType>(a[0]));
  if (!fields) return r(WasmResult::NotFound);
  std::string& bytes = scratch();
  encode_pairs(*fields, bytes);
  return r(p.hand_out(bytes, a[1], a[2]));
}

uint64_t set_header_map_pairs(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto type = static_cast<MapType>(a[0]);
  const auto bytes = p.read(a[1], a[2]);
  if (!bytes) return r(WasmResult::InvalidMemoryAccess);
  const auto pairs = decode_pairs(*bytes);
  if (!pairs) return r(WasmResult::ParseFailure);
  for (const auto& [name, value] : *pairs) {
    if (name.empty()) return r(WasmResult::BadArgument);  // before any field is touched
  }
  const auto* fields = map_fields(p, type);
  if (!fields) return r(WasmResult::NotFound);
  std::vector<std::string> names;  // the regular fields there now, gone unless set again
  for (const auto& f : *fields) {
    if (!f.name.empty() && f.name.front() != ':') names.emplace_back(f.name);
  }
  for (const auto& name : names) remove_field(p, type, name);
  for (const auto& [name, value] : *pairs) {
    const WasmResult put = put_field(p, type, name, value, name.front() == ':');
    if (put != WasmResult::Ok) return r(put);
  }
  return r(WasmResult::Ok);
}

uint64_t get_header_map_value(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto key = p.read(a[1], a[2]);
  if (!key) return r(WasmResult::InvalidMemoryAccess);
  const auto* fields = map_fields(p, static_cast<MapType>(a[0]));
  if (!fields) return r(WasmResult::NotFound);
  const auto value = core::http::find_header(*fields, *key);
  if (!value) {
    // ABI 0.1.0 answered a missing key with an empty value; 0.2.0 made it NOT_FOUND.
    if (p.module().version() != AbiVersion::V0_1_0) return r(WasmResult::NotFound);
    return r(p.hand_out({}, a[3], a[4]));
  }
  std::string& copy = scratch();  // the scratch fields' views may not survive the allocation
  copy.assign(*value);
  return r(p.hand_out(copy, a[3], a[4]));
}

uint64_t add_header_map_value(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto field = p.read(a[1], a[2], a[3], a[4]);
  if (!field) return r(WasmResult::InvalidMemoryAccess);
  return r(put_field(p, static_cast<MapType>(a[0]), field->first, field->second, false));
}

uint64_t replace_header_map_value(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto field = p.read(a[1], a[2], a[3], a[4]);
  if (!field) return r(WasmResult::InvalidMemoryAccess);
  return r(put_field(p, static_cast<MapType>(a[0]), field->first, field->second, true));
}

uint64_t remove_header_map_value(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto key = p.read(a[1], a[2]);
  if (!key) return r(WasmResult::InvalidMemoryAccess);
  return r(remove_field(p, static_cast<MapType>(a[0]), *key));
}

// ------------------------------------------------------------------------------ buffers

// A buffer's bytes, copied into the scratch string (a body's pieces are not contiguous).
std::optional<std::string_view> buffer_bytes(PluginInstance& p, BufferType type) {
  Context* c = p.current();
  switch (type) {
    case BufferType::VmConfiguration:
      return std::string_view{};  // Vortex has no VM configuration
    case BufferType::PluginConfiguration:
      return std::string_view(p.module().configuration());
    case BufferType::HttpRequestBody:
    case BufferType::HttpResponseBody: {
      if (!c || !c->body || c->body_type != type) return std::nullopt;
      std::string& bytes = scratch();
      c->body->copy_to(bytes);
      return std::string_view(bytes);
    }
    case BufferType::HttpCallResponseBody:
      if (!p.call_response()) return std::nullopt;
      return std::string_view(p.call_response()->body);
    default:
      return std::nullopt;
  }
}

uint64_t get_buffer_bytes(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto bytes = buffer_bytes(p, static_cast<BufferType>(a[0]));
  if (!bytes) return r(WasmResult::NotFound);
  const uint64_t start = a[1], max = a[2];
  if (start > bytes->size()) return r(WasmResult::BadArgument);
  const std::string_view part = bytes->substr(start, max);
  // hand_out may call into the guest: a body view in the scratch string stays put meanwhile.
  return r(p.hand_out(part, a[3], a[4]));
}

uint64_t set_buffer_bytes(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto type = static_cast<BufferType>(a[0]);
  const auto value = p.read(a[3], a[4]);
  if (!value) return r(WasmResult::InvalidMemoryAccess);
  Context* c = p.current();
  if ((type != BufferType::HttpRequestBody && type != BufferType::HttpResponseBody) || !c ||
      !c->body || c->body_type != type) {
    return r(WasmResult::NotFound);
  }
  // (0, 0) prepends, a start at or past the end appends, anything else replaces the range.
  c->body->splice(a[1], a[2], *value);
  return r(WasmResult::Ok);
}

uint64_t get_buffer_status(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto type = static_cast<BufferType>(a[0]);
  const auto bytes = buffer_bytes(p, type);
  if (!bytes) return r(WasmResult::NotFound);
  Context* c = p.current();
  const bool end = (type == BufferType::HttpRequestBody || type == BufferType::HttpResponseBody)
                       ? c->end_of_stream
                       : true;
  return r(p.write_u32(a[1], static_cast<uint32_t>(bytes->size())) && p.write_u32(a[2], end)
               ? WasmResult::Ok
               : WasmResult::InvalidMemoryAccess);
}

uint64_t get_configuration(void* h, const uint64_t* a) {  // ABI 0.1.0
  PluginInstance& p = self(h);
  return r(p.hand_out(p.module().configuration(), a[0], a[1]));
}

// ------------------------------------------------------------------------------ stream control

uint64_t continue_stream(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto type = static_cast<StreamType>(a[0]);
  if (type != StreamType::HttpRequest && type != StreamType::HttpResponse) {
    return r(WasmResult::Unimplemented);
  }
  ports::FilterStream* s = stream_of(p);
  if (!s) return r(WasmResult::NotFound);
  s->resume();
  return r(WasmResult::Ok);
}

uint64_t continue_request(void* h, const uint64_t*) {  // ABI 0.1.0
  const uint64_t request[] = {static_cast<uint32_t>(StreamType::HttpRequest)};
  return continue_stream(h, request);
}

uint64_t close_stream(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  ports::FilterStream* s = stream_of(p);
  if (!s) return r(WasmResult::NotFound);
  // Closing a stream ends it without the upstream: the SPEC answer for a plugin's refusal.
  s->respond(
      {403, "application/json", R"({"error":"Forbidden","message":"closed by a wasm plugin"})"});
  p.current()->responded = true;
  return r(WasmResult::Ok);
}

uint64_t send_local_response(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  ports::FilterStream* s = stream_of(p);
  if (!s) return r(WasmResult::NotFound);
  const auto body = p.read(a[3], a[4]);
  const auto headers = p.read(a[5], a[6]);
  if (!body || !headers) return r(WasmResult::InvalidMemoryAccess);
  const auto pairs = decode_pairs(*headers);
  if (!pairs) return r(WasmResult::ParseFailure);
  for (const auto& [name, value] : *pairs) s->add_response_header(name, value);
  const auto status = static_cast<uint16_t>(std::min<uint64_t>(a[0], 1000));
  s->respond({status, {}, s->keep(*body)});  // as the plugin wrote it (SPEC.md §3)
  p.current()->responded = true;
  return r(WasmResult::Ok);
}

uint64_t get_status(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto* answer = p.call_response();
  if (!answer) return r(WasmResult::NotFound);
  const uint32_t code = answer->failed ? 14 : 0;  // gRPC UNAVAILABLE for a failed call
  if (!p.write_u32(a[0], code)) return r(WasmResult::InvalidMemoryAccess);
  return r(p.hand_out(answer->failed ? "call failed" : "", a[1], a[2]));
}

// ------------------------------------------------------------------------------ contexts, time

uint64_t set_effective_context(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  Context* c = p.context(static_cast<uint32_t>(a[0]));
  if (!c) return r(WasmResult::BadArgument);
  p.set_current(c);
  return r(WasmResult::Ok);
}

uint64_t done(void*, const uint64_t*) {
  return r(WasmResult::Ok);  // Vortex never waits for a context to finish (on_done's answer)
}

uint64_t log(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto message = p.read(a[1], a[2]);
  if (!message) return r(WasmResult::InvalidMemoryAccess);
  if (a[0] > static_cast<uint32_t>(LogLevel::Critical)) return r(WasmResult::BadArgument);
  p.log(static_cast<LogLevel>(a[0]), *message);
  return r(WasmResult::Ok);
}

uint64_t get_log_level(void* h, const uint64_t* a) {
  return r(self(h).write_u32(a[0], static_cast<uint32_t>(LogLevel::Info))
               ? WasmResult::Ok
               : WasmResult::InvalidMemoryAccess);
}

uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t get_current_time(void* h, const uint64_t* a) {
  return r(self(h).write_u64(a[0], wall_clock_ns()) ? WasmResult::Ok
                                                    : WasmResult::InvalidMemoryAccess);
}

uint64_t set_tick_period(void* h, const uint64_t* a) {
  self(h).set_tick_period(std::chrono::milliseconds(static_cast<uint32_t>(a[0])));
  return r(WasmResult::Ok);
}

// ------------------------------------------------------------------------------ HTTP calls

uint64_t http_call(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto upstream = p.read(a[0], a[1]);
  const auto headers = p.read(a[2], a[3]);
  const auto body = p.read(a[4], a[5]);
  if (!upstream || !headers || !body) return r(WasmResult::InvalidMemoryAccess);
  const auto pairs = decode_pairs(*headers);
  if (!pairs) return r(WasmResult::ParseFailure);
  HttpCaller::Request request;
  for (const auto& [name, value] : *pairs) {
    if (name == ":method") {
      request.method = value;
    } else if (name == ":path") {
      request.path = value;
    } else if (name == ":authority") {
      request.authority = value;
    } else if (!name.empty() && name.front() != ':') {
      request.headers.emplace_back(name, value);
    }
  }
  if (request.method.empty() || request.path.empty() || request.authority.empty()) {
    return r(WasmResult::BadArgument);  // ABI: :method, :path and :authority are required
  }
  request.body = *body;
  auto token = p.http_call(*upstream, std::move(request),
                           std::chrono::milliseconds(static_cast<uint32_t>(a[8])));
  if (!token) return r(token.error());
  return r(p.write_u32(a[9], *token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint64_t unimplemented(void*, const uint64_t*) {
  return r(WasmResult::Unimplemented);
}

// ------------------------------------------------------------------------------ shared state

uint64_t set_shared_data(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto key = p.read(a[0], a[1]);
  const auto value = p.read(a[2], a[3]);
  if (!key || !value) return r(WasmResult::InvalidMemoryAccess);
  return r(p.env().shared.set_data(p.module().name(), *key, *value, static_cast<uint32_t>(a[4])));
}

uint64_t get_shared_data(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto key = p.read(a[0], a[1]);
  if (!key) return r(WasmResult::InvalidMemoryAccess);
  const auto value = p.env().shared.get_data(p.module().name(), *key);
  if (!value) return r(WasmResult::NotFound);
  if (!p.write_u32(a[4], value->cas)) return r(WasmResult::InvalidMemoryAccess);
  return r(p.hand_out(value->bytes, a[2], a[3]));
}

uint64_t register_shared_queue(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto name = p.read(a[0], a[1]);
  if (!name) return r(WasmResult::InvalidMemoryAccess);
  const uint32_t id =
      p.env().shared.register_queue(p.module().name(), *name, p.queue_ready_notifier());
  return r(p.write_u32(a[2], id) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint64_t resolve_shared_queue(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto vm = p.read(a[0], a[1]);
  const auto name = p.read(a[2], a[3]);
  if (!vm || !name) return r(WasmResult::InvalidMemoryAccess);
  const auto id =
      p.env().shared.resolve_queue(vm->empty() ? std::string_view(p.module().name()) : *vm, *name);
  if (!id) return r(WasmResult::NotFound);
  return r(p.write_u32(a[4], *id) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint64_t enqueue_shared_queue(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto value = p.read(a[1], a[2]);
  if (!value) return r(WasmResult::InvalidMemoryAccess);
  return r(p.env().shared.enqueue(static_cast<uint32_t>(a[0]), *value));
}

uint64_t dequeue_shared_queue(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  auto item = p.env().shared.dequeue(static_cast<uint32_t>(a[0]));
  if (!item) return r(item.error());
  return r(p.hand_out(*item, a[1], a[2]));
}

// ------------------------------------------------------------------------------ metrics

uint64_t define_metric(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto name = p.read(a[1], a[2]);
  if (!name) return r(WasmResult::InvalidMemoryAccess);
  auto id = p.env().shared.define_metric(p.module().name(), static_cast<MetricType>(a[0]), *name);
  if (!id) return r(id.error());
  return r(p.write_u32(a[3], *id) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint64_t record_metric(void* h, const uint64_t* a) {
  return r(self(h).env().shared.record_metric(static_cast<uint32_t>(a[0]), a[1]));
}

uint64_t increment_metric(void* h, const uint64_t* a) {
  return r(self(h).env().shared.increment_metric(static_cast<uint32_t>(a[0]),
                                                 static_cast<int64_t>(a[1])));
}

uint64_t get_metric(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  auto value = p.env().shared.get_metric(static_cast<uint32_t>(a[0]));
  if (!value) return r(value.error());
  return r(p.write_u64(a[1], *value) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

// ------------------------------------------------------------------------------ properties

uint64_t get_property(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const auto path = p.read(a[0], a[1]);
  if (!path) return r(WasmResult::InvalidMemoryAccess);
  std::string& value = scratch();
  if (!property(p, *path, value)) return r(WasmResult::NotFound);
  return r(p.hand_out(value, a[2], a[3]));
}

uint64_t set_property(void*, const uint64_t*) {
  return r(WasmResult::NotFound);  // no property is writable in Vortex
}

uint64_t call_foreign_function(void*, const uint64_t*) {
  return r(WasmResult::NotFound);  // Vortex registers no foreign functions
}

// ------------------------------------------------------------------------------ WASI

uint64_t fd_write(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  const uint64_t fd = a[0];
  if (fd != 1 && fd != 2) return r(WasiErrno::BadF);
  std::string& text = scratch();
  for (uint64_t i = 0; i < a[2]; ++i) {
    const auto iov = p.read(a[1] + i * 8, 8);
    if (!iov) return r(WasiErrno::Fault);
    uint32_t ptr, len;
    std::memcpy(&ptr, iov->data(), 4);
    std::memcpy(&len, iov->data() + 4, 4);
    const auto piece = p.read(ptr, len);
    if (!piece) return r(WasiErrno::Fault);
    text.append(*piece);
  }
  if (!p.write_u32(a[3], static_cast<uint32_t>(text.size()))) return r(WasiErrno::Fault);
  p.write_stdio(static_cast<int>(fd), text);
  return r(WasiErrno::Success);
}

uint64_t clock_time_get(void* h, const uint64_t* a) {
  uint64_t now;
  if (a[0] == 0) {  // REALTIME
    now = wall_clock_ns();
  } else if (a[0] == 1) {  // MONOTONIC
    now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
  } else {
    return r(WasiErrno::Inval);
  }
  return r(self(h).write_u64(a[2], now) ? WasiErrno::Success : WasiErrno::Fault);
}

uint64_t random_get(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  if (a[1] > 65536) return r(WasiErrno::Inval);  // cpp-host's cap
  const auto memory = p.vm().memory();
  if (a[0] > memory.size() || memory.size() - a[0] < a[1]) return r(WasiErrno::Fault);
  // The kernel's CSPRNG, as WASI means it: guests seed their own generators from it and make
  // keys and tokens with it, which a fast non-cryptographic generator would make guessable.
  uint8_t* out = memory.data() + a[0];
  for (uint64_t done = 0; done < a[1];) {
    const ssize_t got = ::getrandom(out + done, a[1] - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return r(WasiErrno::Io);
    done += static_cast<uint64_t>(got);
  }
  return r(WasiErrno::Success);
}

// args and environ are empty: a plugin never sees the host's (proxy-wasm-abi.md §2).
uint64_t sizes_zero(void* h, const uint64_t* a) {
  PluginInstance& p = self(h);
  return r(p.write_u32(a[0], 0) && p.write_u32(a[1], 0) ? WasiErrno::Success : WasiErrno::Fault);
}
uint64_t wasi_success(void*, const uint64_t*) {
  return r(WasiErrno::Success);
}
uint64_t wasi_badf(void*, const uint64_t*) {
  return r(WasiErrno::BadF);
}
uint64_t wasi_notsup(void*, const uint64_t*) {
  return r(WasiErrno::NotSup);
}
uint64_t proc_exit(void* h, const uint64_t*) {
  self(h).exit();  // the guest stops itself: its instance is done
  return 0;
}

uint64_t nothing(void*, const uint64_t*) {
  return 0;
}
uint64_t pthread_equal(void*, const uint64_t* a) {
  return a[0] == a[1];
}

std::vector<HostFunction> make_table() {
  std::vector<HostFunction> t = {
      {"env", "proxy_log", {I32, I32, I32}, I32, log},
      {"env", "proxy_get_log_level", {I32}, I32, get_log_level},
      {"env", "proxy_get_current_time_nanoseconds", {I32}, I32, get_current_time},
      {"env", "proxy_set_tick_period_milliseconds", {I32}, I32, set_tick_period},
      {"env", "proxy_set_effective_context", {I32}, I32, set_effective_context},
      {"env", "proxy_done", {}, I32, done},
      {"env", "proxy_get_buffer_bytes", {I32, I32, I32, I32, I32}, I32, get_buffer_bytes},
      {"env", "proxy_set_buffer_bytes", {I32, I32, I32, I32, I32}, I32, set_buffer_bytes},
      {"env", "proxy_get_buffer_status", {I32, I32, I32}, I32, get_buffer_status},
      {"env", "proxy_get_configuration", {I32, I32}, I32, get_configuration},
      {"env", "proxy_get_header_map_size", {I32, I32}, I32, get_header_map_size},
      {"env", "proxy_get_header_map_pairs", {I32, I32, I32}, I32, get_header_map_pairs},
      {"env", "proxy_set_header_map_pairs", {I32, I32, I32}, I32, set_header_map_pairs},
      {"env", "proxy_get_header_map_value", {I32, I32, I32, I32, I32}, I32, get_header_map_value},
      {"env", "proxy_add_header_map_value", {I32, I32, I32, I32, I32}, I32, add_header_map_value},
      {"env",
       "proxy_replace_header_map_value",
       {I32, I32, I32, I32, I32},
       I32,
       replace_header_map_value},
      {"env", "proxy_remove_header_map_value", {I32, I32, I32}, I32, remove_header_map_value},
      {"env", "proxy_continue_stream", {I32}, I32, continue_stream},
      {"env", "proxy_close_stream", {I32}, I32, close_stream},
      {"env", "proxy_continue_request", {}, I32, continue_request},
      {"env",
       "proxy_continue_response",
       {},
       I32,
       [](void* h, const uint64_t*) -> uint64_t {
         const uint64_t response[] = {static_cast<uint32_t>(StreamType::HttpResponse)};
         return continue_stream(h, response);
       }},
      {"env",
       "proxy_clear_route_cache",
       {},
       I32,
       [](void*, const uint64_t*) -> uint64_t { return r(WasmResult::Ok); }},
      {"env", "proxy_get_status", {I32, I32, I32}, I32, get_status},
      {"env",
       "proxy_send_local_response",
       {I32, I32, I32, I32, I32, I32, I32, I32},
       I32,
       send_local_response},
      {"env",
       "proxy_http_call",
       {I32, I32, I32, I32, I32, I32, I32, I32, I32, I32},
       I32,
       http_call},
      {"env",
       "proxy_grpc_call",
       {I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32},
       I32,
       unimplemented},
      {"env",
       "proxy_grpc_stream",
       {I32, I32, I32, I32, I32, I32, I32, I32, I32},
       I32,
       unimplemented},
      {"env", "proxy_grpc_send", {I32, I32, I32, I32}, I32, unimplemented},
      {"env", "proxy_grpc_cancel", {I32}, I32, unimplemented},
      {"env", "proxy_grpc_close", {I32}, I32, unimplemented},
      {"env", "proxy_set_shared_data", {I32, I32, I32, I32, I32}, I32, set_shared_data},
      {"env", "proxy_get_shared_data", {I32, I32, I32, I32, I32}, I32, get_shared_data},
      {"env", "proxy_register_shared_queue", {I32, I32, I32}, I32, register_shared_queue},
      {"env", "proxy_resolve_shared_queue", {I32, I32, I32, I32, I32}, I32, resolve_shared_queue},
      {"env", "proxy_enqueue_shared_queue", {I32, I32, I32}, I32, enqueue_shared_queue},
      {"env", "proxy_dequeue_shared_queue", {I32, I32, I32}, I32, dequeue_shared_queue},
      {"env", "proxy_define_metric", {I32, I32, I32, I32}, I32, define_metric},
      {"env", "proxy_record_metric", {I32, I64}, I32, record_metric},
      {"env", "proxy_increment_metric", {I32, I64}, I32, increment_metric},
      {"env", "proxy_get_metric", {I32, I32}, I32, get_metric},
      {"env", "proxy_get_property", {I32, I32, I32, I32}, I32, get_property},
      {"env", "proxy_set_property", {I32, I32, I32, I32}, I32, set_property},
      {"env",
       "proxy_call_foreign_function",
       {I32, I32, I32, I32, I32, I32},
       I32,
       call_foreign_function},
      {"env", "emscripten_notify_memory_growth", {I32}, std::nullopt, nothing},
      {"env", "pthread_equal", {I32, I32}, I32, pthread_equal},
  };
  // WASI as the SDKs need it, under both module names (TinyGo imports wasi_unstable).
  for (std::string_view wasi : {"wasi_snapshot_preview1", "wasi_unstable"}) {
    const std::vector<HostFunction> w = {
        {wasi, "fd_write", {I32, I32, I32, I32}, I32, fd_write},
        {wasi, "fd_read", {I32, I32, I32, I32}, I32, wasi_badf},
        {wasi, "fd_close", {I32}, I32, wasi_badf},
        {wasi, "fd_seek", {I32, I64, I32, I32}, I32, wasi_badf},
        {wasi, "fd_fdstat_get", {I32, I32}, I32, wasi_badf},
        {wasi, "fd_fdstat_set_flags", {I32, I32}, I32, wasi_badf},
        {wasi, "fd_prestat_get", {I32, I32}, I32, wasi_badf},
        {wasi, "fd_prestat_dir_name", {I32, I32, I32}, I32, wasi_badf},
        {wasi, "path_open", {I32, I32, I32, I32, I32, I64, I64, I32, I32}, I32, wasi_notsup},
        {wasi, "path_filestat_get", {I32, I32, I32, I32, I32}, I32, wasi_notsup},
        {wasi, "clock_time_get", {I32, I64, I32}, I32, clock_time_get},
        {wasi, "clock_res_get", {I32, I32}, I32, wasi_notsup},
        {wasi, "random_get", {I32, I32}, I32, random_get},
        {wasi, "environ_sizes_get", {I32, I32}, I32, sizes_zero},
        {wasi, "environ_get", {I32, I32}, I32, wasi_success},
        {wasi, "args_sizes_get", {I32, I32}, I32, sizes_zero},
        {wasi, "args_get", {I32, I32}, I32, wasi_success},
        {wasi, "proc_exit", {I32}, std::nullopt, proc_exit},
        {wasi, "sched_yield", {}, I32, wasi_success},
        {wasi, "poll_oneoff", {I32, I32, I32, I32}, I32, wasi_notsup},
    };
    t.insert(t.end(), w.begin(), w.end());
  }
  return t;
}

}  // namespace

bool reads_headers(std::string_view module, std::string_view name) {
  static constexpr std::string_view kReaders[] = {
      "proxy_get_header_map_value", "proxy_get_header_map_pairs", "proxy_get_header_map_size",
      "proxy_set_header_map_pairs",  // reads the fields it replaces
      "proxy_get_property",          // response.code, response.headers
  };
  return module == "env" &&
         std::find(std::begin(kReaders), std::end(kReaders), name) != std::end(kReaders);
}

std::span<const HostFunction> host_functions() {
  static const std::vector<HostFunction> table = make_table();
  return table;
}

}  // namespace vx::adapters::wasm
