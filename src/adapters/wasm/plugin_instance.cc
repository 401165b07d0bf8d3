#include "adapters/wasm/plugin_instance.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstring>

#include "adapters/wasm/host_functions.h"

namespace vx::adapters::wasm {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

struct PluginInstance::TickTimer {
  explicit TickTimer(ports::Executor executor) : timer(executor) {}
  boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, ports::Executor> timer;
};

PluginInstance::PluginInstance(std::shared_ptr<const PluginModule> module, PluginEnvironment env)
    : module_(std::move(module)), env_(env) {
  root_.id = 1;
  root_.root = true;
}

PluginInstance::~PluginInstance() {
  *alive_ = false;  // a tick or an HTTP call answered after this finds nothing to call
  if (tick_) tick_->timer.cancel();
}

core::Result<std::unique_ptr<PluginInstance>, std::string> PluginInstance::start(
    std::shared_ptr<const PluginModule> module, PluginEnvironment env) {
  std::unique_ptr<PluginInstance> instance(new PluginInstance(std::move(module), env));
  auto booted = instance->boot();
  if (!booted) return core::unexpected(booted.error());
  return instance;
}

core::Result<void, std::string> PluginInstance::boot() {
  InstanceLimits limits;
  limits.max_call = module_->max_call();
  auto made = module_->engine().instantiate(module_->module(), host_functions(), this, limits);
  if (!made) return core::unexpected(made.error());
  vm_ = std::move(*made);
  allocate_ = vm_->function("proxy_on_memory_allocate", {{ValueType::I32}, ValueType::I32});
  if (!allocate_) allocate_ = vm_->function("malloc", {{ValueType::I32}, ValueType::I32});

  auto failed = [&](const char* what) -> core::Result<void, std::string> {
    return core::unexpected(std::string(what) + (broken_ ? " trapped or timed out" : " failed"));
  };
  // WASI reactors export _initialize (and may have a main to run once); commands _start.
  if (module_->exports("_initialize")) {
    if (!call(Callback::Initialize, {}, &root_).ok) return failed("_initialize");
    if (module_->exports("main")) {
      if (!call(Callback::Main, {0, 0}, &root_, true).ok) return failed("main");
    }
  } else if (module_->exports("_start")) {
    if (!call(Callback::Start, {}, &root_).ok) return failed("_start");
  }
  if (module_->abi() == core::config::WasmAbi::Execute) return {};
  if (!call(Callback::OnContextCreate, {root_.id, 0}, &root_).ok) {
    return failed("proxy_on_context_create");
  }
  const Called started = call(Callback::OnVmStart, {root_.id, 0}, &root_, true);
  if (!started.ok || (started.exported && started.value == 0)) return failed("proxy_on_vm_start");
  const Called configured =
      call(Callback::OnConfigure, {root_.id, module_->configuration().size()}, &root_, true);
  if (!configured.ok || (configured.exported && configured.value == 0)) {
    return failed("proxy_on_configure");
  }
  prepare_sequences();
  return {};
}

std::string_view PluginInstance::name_of(Callback which) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Callback::Count)> kNames = {
      "_initialize",
      "main",
      "_start",
      "proxy_on_context_create",
      "proxy_on_vm_start",
      "proxy_on_configure",
      "proxy_on_request_headers",
      "proxy_on_response_headers",
      "proxy_on_request_body",
      "proxy_on_response_body",
      "proxy_on_done",
      "proxy_on_log",
      "proxy_on_delete",
      "execute",
      "proxy_on_tick",
      "proxy_on_http_call_response",
      "proxy_on_queue_ready",
  };
  return kNames[static_cast<size_t>(which)];
}

std::optional<WasmInstance::Function> PluginInstance::export_of(Callback which, size_t params,
                                                                bool has_result) {
  Export& cached = functions_[static_cast<size_t>(which)];
  if (!cached.looked_up) {
    cached.looked_up = true;
    if (skippable(which) && !module_->does_something(name_of(which))) return std::nullopt;
    Signature signature;
    signature.params.assign(params, ValueType::I32);
    if (has_result) signature.result = ValueType::I32;
    cached.function = vm_->function(name_of(which), std::move(signature));
  }
  return cached.function;
}

bool PluginInstance::skippable(Callback which) {
  switch (which) {
    case Callback::OnContextCreate:
    case Callback::OnDone:
    case Callback::OnLog:
    case Callback::OnDelete:
      return true;
    default:
      return false;
  }
}

PluginInstance::Called PluginInstance::call(Callback which, std::initializer_list<uint64_t> args,
                                            Context* context, bool has_result) {
  if (broken_) return {.ok = false};  // invariant 1
  return call(export_of(which, args.size(), has_result), {args.begin(), args.size()}, context,
              has_result);
}

PluginInstance::Called PluginInstance::call(const std::optional<WasmInstance::Function>& fn,
                                            std::span<const uint64_t> args, Context* context,
                                            bool has_result) {
  if (broken_) return {.ok = false};  // invariant 1
  if (!fn) return {};                 // not exported: nothing to do, not a failure
  Called called{.exported = true};
  Context* const outer = current_;
  current_ = context;
  const CallStatus status = vm_->call(*fn, args, has_result ? &called.value : nullptr);
  current_ = outer;
  if (status != CallStatus::Ok) {
    broken_ = true;  // invariant 1
    last_failure_ = status;
    called.ok = false;
    called.status = status;
  }
  return called;
}

Outcome PluginInstance::outcome_of(const Called& called) const {
  if (!called.ok) return called.status == CallStatus::Timeout ? Outcome::Timeout : Outcome::Trap;
  // Every non-zero action of every SDK (Pause, StopIteration, StopAllIterationAndBuffer ...)
  // stops the stream until the guest resumes it.
  return called.exported && called.value != static_cast<uint32_t>(Action::Continue)
             ? Outcome::Pause
             : Outcome::Continue;
}

PluginInstance::Context* PluginInstance::context(uint32_t id) {
  if (id == root_.id) return &root_;
  return streams_.find(id);
}

std::pair<size_t, bool> PluginInstance::shape(Callback which) const {
  switch (which) {
    case Callback::OnContextCreate:
      return {2, false};
    case Callback::OnRequestHeaders:  // ABI 0.1.0 has no end_of_stream argument
    case Callback::OnResponseHeaders:
      return {module_->version() == AbiVersion::V0_1_0 ? 2 : 3, true};
    case Callback::OnDone:
      return {1, true};
    default:  // proxy_on_log, proxy_on_delete
      return {1, false};
  }
}

PluginInstance::Sequence PluginInstance::sequence(std::initializer_list<Callback> parts) {
  Sequence sequence;
  std::vector<WasmInstance::Function> functions;
  for (const Callback part : parts) {
    const auto [params, has_result] = shape(part);
    if (const auto fn = export_of(part, params, has_result)) {
      functions.push_back(*fn);
      sequence.parts.push_back(part);
    }
  }
  if (functions.size() >= 2) sequence.function = vm_->sequence(functions);
  return sequence;
}

void PluginInstance::prepare_sequences() {
  open_ = sequence({Callback::OnContextCreate, Callback::OnRequestHeaders});
  finish_ = sequence({Callback::OnDone, Callback::OnLog, Callback::OnDelete});
  const auto [params, has_result] = shape(Callback::OnResponseHeaders);
  response_headers_ = export_of(Callback::OnResponseHeaders, params, has_result);
}

PluginInstance::Opened PluginInstance::open_stream(ports::FilterStream& stream, uint32_t headers,
                                                   bool end_of_stream) {
  uint32_t id = 0;
  do {  // after 2^32 streams the ids wrap: never reuse one still open (a long stream's)
    id = next_context_++;
    if (next_context_ == 0) {
      next_context_ = 2;
      ids_wrapped_ = true;
    }
  } while (ids_wrapped_ && streams_.find(id));
  Context& c = streams_.open(id);
  c.stream = &stream;
  const auto [header_params, _] = shape(Callback::OnRequestHeaders);
  if (open_.function) {  // both are exported
    const std::array<uint64_t, 5> args = {id, root_.id, id, headers, end_of_stream};
    const auto used = std::span(args).first(2 + header_params);
    return {&c, outcome_of(call(open_.function, used, &c, true))};
  }
  call(Callback::OnContextCreate, {id, root_.id}, &c);
  const Called called =
      header_params == 2 ? call(Callback::OnRequestHeaders, {id, headers}, &c, true)
                         : call(Callback::OnRequestHeaders, {id, headers, end_of_stream}, &c, true);
  return {&c, outcome_of(called)};
}

Outcome PluginInstance::on_response_headers(Context& c, uint32_t headers, bool end_of_stream) {
  c.in_response = true;
  const std::array<uint64_t, 3> args = {c.id, headers, end_of_stream};
  const size_t params = shape(Callback::OnResponseHeaders).first;
  return outcome_of(call(response_headers_, std::span(args).first(params), &c, true));
}

Outcome PluginInstance::on_request_body(Context& c, core::filter::BodyBuffer& body,
                                        bool end_of_stream) {
  c.body = &body;
  c.body_type = BufferType::HttpRequestBody;
  c.end_of_stream = end_of_stream;
  const Called called = call(Callback::OnRequestBody, {c.id, body.size(), end_of_stream}, &c, true);
  c.body = nullptr;
  return outcome_of(called);
}

Outcome PluginInstance::on_response_body(Context& c, core::filter::BodyBuffer& body,
                                         bool end_of_stream) {
  c.in_response = true;
  c.body = &body;
  c.body_type = BufferType::HttpResponseBody;
  c.end_of_stream = end_of_stream;
  const Called called =
      call(Callback::OnResponseBody, {c.id, body.size(), end_of_stream}, &c, true);
  c.body = nullptr;
  return outcome_of(called);
}

void PluginInstance::finish_stream(Context& c) {
  // The upstream's response head, as sent, is readable from here on (StreamContext
  // keep_sent_response), whether or not the plugin has a response callback.
  if (c.stream && c.stream->response().head().status != 0) c.in_response = true;
  const uint32_t id = c.id;
  if (finish_.function) {
    const std::array<uint64_t, 3> args = {id, id, id};
    call(finish_.function, std::span(args).first(finish_.parts.size()), &c,
         shape(finish_.parts.back()).second);
  } else {
    call(Callback::OnDone, {id}, &c, true);
    call(Callback::OnLog, {id}, &c);
    call(Callback::OnDelete, {id}, &c);
  }
  forget_stream(c);
}

void PluginInstance::forget_stream(Context& c) {
  const uint32_t id = c.id;
  if (current_ == &c) current_ = nullptr;
  for (auto it = calls_.begin(); it != calls_.end();) {
    it = it->second == id ? calls_.erase(it) : std::next(it);
  }
  streams_.close(id);
}

std::optional<int32_t> PluginInstance::execute() {
  const Called called = call(Callback::Execute, {}, &root_, true);
  if (!called.ok || !called.exported) return std::nullopt;
  return static_cast<int32_t>(static_cast<uint32_t>(called.value));
}

namespace {

std::optional<std::string_view> in_memory(std::span<uint8_t> memory, uint64_t ptr, uint64_t size) {
  if (ptr > memory.size() || size > memory.size() - ptr) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(memory.data()) + ptr, size);
}

}  // namespace

std::optional<std::string_view> PluginInstance::read(uint64_t ptr, uint64_t size) {
  return in_memory(vm_->memory(), ptr, size);
}

std::optional<std::pair<std::string_view, std::string_view>> PluginInstance::read(uint64_t ptr,
                                                                                  uint64_t size,
                                                                                  uint64_t ptr2,
                                                                                  uint64_t size2) {
  const auto memory = vm_->memory();
  const auto first = in_memory(memory, ptr, size);
  const auto second = in_memory(memory, ptr2, size2);
  if (!first || !second) return std::nullopt;
  return std::pair(*first, *second);
}

bool PluginInstance::write_u32(uint64_t ptr, uint32_t value) {
  const auto memory = vm_->memory();
  if (ptr > memory.size() || memory.size() - ptr < 4) return false;
  std::memcpy(memory.data() + ptr, &value, 4);  // Wasm is little-endian, as x86-64 is
  return true;
}

bool PluginInstance::write_u64(uint64_t ptr, uint64_t value) {
  const auto memory = vm_->memory();
  if (ptr > memory.size() || memory.size() - ptr < 8) return false;
  std::memcpy(memory.data() + ptr, &value, 8);
  return true;
}

WasmResult PluginInstance::hand_out(std::string_view bytes, uint64_t ptr_out, uint64_t size_out) {
  uint64_t address = 0;
  if (!bytes.empty()) {
    if (!allocate_ || broken_) return WasmResult::InternalFailure;
    const uint64_t size[] = {bytes.size()};
    if (vm_->call(*allocate_, size, &address) != CallStatus::Ok) {
      broken_ = true;
      return WasmResult::InternalFailure;
    }
    if (address == 0) return WasmResult::InternalFailure;  // the guest is out of memory
    const auto memory = vm_->memory();  // re-read: the allocation may have grown it
    if (address > memory.size() || memory.size() - address < bytes.size()) {
      return WasmResult::InvalidMemoryAccess;
    }
    std::memcpy(memory.data() + address, bytes.data(), bytes.size());
  }
  if (!write_u32(ptr_out, static_cast<uint32_t>(address)) ||
      !write_u32(size_out, static_cast<uint32_t>(bytes.size()))) {
    return WasmResult::InvalidMemoryAccess;
  }
  return WasmResult::Ok;
}

void PluginInstance::set_tick_period(std::chrono::milliseconds period) {
  tick_period_ = period;
  if (!tick_) tick_ = std::make_unique<TickTimer>(env_.executor);
  tick_->timer.cancel();
  if (period.count() > 0) schedule_tick();
}

void PluginInstance::schedule_tick() {
  tick_->timer.expires_after(tick_period_);
  tick_->timer.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive || tick_period_.count() == 0) return;
    call(Callback::OnTick, {root_.id}, &root_);
    if (!broken_ && tick_period_.count() > 0) schedule_tick();
  });
}

core::Result<uint32_t, WasmResult> PluginInstance::http_call(std::string_view cluster,
                                                             HttpCaller::Request request,
                                                             std::chrono::milliseconds timeout) {
  if (!env_.http || !current_) return core::unexpected(WasmResult::InternalFailure);
  const uint32_t token = next_call_++;
  const uint32_t from = current_->id;
  const bool sent =
      env_.http->call(cluster, std::move(request), timeout,
                      [this, alive = alive_, token, from](std::optional<HttpCaller::Response> r) {
                        if (*alive) on_http_call_done(token, from, std::move(r));
                      });
  if (!sent) return core::unexpected(WasmResult::BadArgument);  // no such cluster, bad request
  calls_[token] = from;
  return token;
}

void PluginInstance::on_http_call_done(uint32_t token, uint32_t from,
                                       std::optional<HttpCaller::Response> response) {
  const auto it = calls_.find(token);
  if (it == calls_.end()) return;  // the stream that made it is gone
  calls_.erase(it);
  Context* c = context(from);
  if (!c || broken_) return;
  CallResponse answer;
  answer.failed = !response;
  if (response) {
    answer.headers.push_back({":status", status_text_.assign(std::to_string(response->status))});
    for (const auto& [n, v] : response->headers) answer.headers.push_back({n, v});
    for (const auto& [n, v] : response->trailers) answer.trailers.push_back({n, v});
    answer.body = std::move(response->body);
  }
  call_response_ = &answer;
  // num_headers 0 tells the guest the call failed (ABI: proxy_on_http_call_response).
  call(Callback::OnHttpCallResponse,
       {c->id, token, answer.failed ? 0 : answer.headers.size(), answer.body.size(),
        answer.trailers.size()},
       c);
  call_response_ = nullptr;
  if (c->stream && !c->root && broken_) {
    // The guest failed while it held the stream: the stream must not wait out its hold. As
    // after a failure in a request callback, fail_open lets it go on.
    if (module_->fail_open()) {
      c->stream->resume();
    } else {
      c->stream->respond({500, "application/json",
                          R"({"error":"Internal Server Error","message":"wasm plugin failed"})"});
    }
  }
}

SharedState::Ready PluginInstance::queue_ready_notifier() {
  return [post = env_.post, alive = alive_, this](uint32_t queue) {
    if (!post) return;
    post([alive, this, queue] {
      if (*alive) call(Callback::OnQueueReady, {root_.id, queue}, &root_);
    });
  };
}

void PluginInstance::write_stdio(int fd, std::string_view bytes) {
  constexpr size_t kMaxLine = 4096;
  std::string& line = stdio_[fd == 2 ? 1 : 0];
  const LogLevel level = fd == 2 ? LogLevel::Error : LogLevel::Info;
  for (const char c : bytes) {
    if (c == '\n' || line.size() == kMaxLine) {
      log(level, line);
      line.clear();
      if (c == '\n') continue;
    }
    line.push_back(c);
  }
}

void PluginInstance::log(LogLevel level, std::string_view message) {
  // A plugin may log every header of every request: at most 100 lines a second per instance
  // reach stderr, and the rest are counted in the next line that does.
  constexpr uint32_t kLinesPerSecond = 100;
  const auto now = Clock::now();
  if (now - log_window_ >= std::chrono::seconds(1)) {
    log_window_ = now;
    log_lines_ = 0;
  }
  if (++log_lines_ > kLinesPerSecond) {
    ++log_dropped_;
    return;
  }
  static constexpr const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical"};
  const auto index = static_cast<size_t>(level);
  const char* name = index < std::size(kLevels) ? kLevels[index] : "info";
  if (log_dropped_ > 0) {
    std::fprintf(stderr, "vortex: wasm plugin %s: (%u lines dropped)\n", module_->name().c_str(),
                 log_dropped_);
    log_dropped_ = 0;
  }
  std::fprintf(stderr, "vortex: wasm plugin %s [%s]: %.*s\n", module_->name().c_str(), name,
               static_cast<int>(message.size()), message.data());
}

}  // namespace vx::adapters::wasm
