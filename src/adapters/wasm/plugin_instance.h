// PluginInstance: one worker's running instance of one plugin: its Wasm instance, its root
// context and the stream contexts of the requests it serves now, and every host function the
// guest may import (adapters/wasm/host_functions.cc). Made and used on one worker's thread only.
//
// Invariants:
//  1. The host calls into the guest only through call(); a Trap or Timeout marks the instance
//     broken, and a broken instance is never called again (its owner makes a new one).
//  2. A stream context lives from on_request_head to on_log; its FilterStream pointer is
//     cleared when the stream is gone, so a late callback (an HTTP call's answer) finds no
//     stream instead of a dangling one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/wasm/abi.h"
#include "adapters/wasm/context_table.h"
#include "adapters/wasm/http_caller.h"
#include "adapters/wasm/plugin_module.h"
#include "adapters/wasm/shared_state.h"
#include "core/filter/body_buffer.h"
#include "ports/awaitable_result.h"
#include "ports/filter_stream.h"

namespace vx::adapters::wasm {

// What a worker lends its plugin instances.
struct PluginEnvironment {
  ports::Executor executor;
  SharedState& shared;
  HttpCaller* http = nullptr;  // how proxy_http_call reaches a cluster; null: refused
  // Runs a task on this worker's thread, from any thread (a shared queue's item arriving).
  std::function<void(std::function<void()>)> post;
};

// How a guest callback ended, as the filter acts on it.
enum class Outcome : uint8_t {
  Continue,
  Pause,   // the guest paused the stream (it resumes it later, or answers locally)
  Trap,    // the guest trapped: the instance is broken
  Timeout  // the guest ran past max_call: the instance is broken
};

class PluginInstance {
 public:
  using Context = wasm::Context;  // what the host keeps about one context (context_table.h)

  // Instantiates `module` on the calling (worker) thread and starts it as the SDKs expect:
  // _initialize (then main, if exported) or _start; the root context; proxy_on_vm_start with
  // the VM configuration (empty) and proxy_on_configure with the plugin's `config`. Refuses
  // with why (a missing import, a trap, a false from vm_start or configure).
  static core::Result<std::unique_ptr<PluginInstance>, std::string> start(
      std::shared_ptr<const PluginModule> module, PluginEnvironment env);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const PluginModule& module() const { return *module_; }
  bool broken() const { return broken_; }
  // The last failure was a call stopped at max_call (not a trap).
  bool timed_out() const { return last_failure_ == CallStatus::Timeout; }

  // Stream contexts (proxy_wasm ABI). A stream context is created for `stream` with its
  // request headers (proxy_on_context_create, then proxy_on_request_headers); the hooks return
  // how the guest answered. `end_of_stream` as the ABI passes it. The stream's filter keeps the
  // context it got (stable until finish_stream or forget_stream: ContextTable invariant 1),
  // so no hook looks it up.
  struct Opened {
    Context* context = nullptr;
    Outcome outcome = Outcome::Continue;
  };
  Opened open_stream(ports::FilterStream& stream, uint32_t headers, bool end_of_stream);
  Outcome on_request_body(Context& c, core::filter::BodyBuffer& body, bool end_of_stream);
  Outcome on_response_headers(Context& c, uint32_t headers, bool end_of_stream);
  Outcome on_response_body(Context& c, core::filter::BodyBuffer& body, bool end_of_stream);
  // proxy_on_done, proxy_on_log, proxy_on_delete: the stream is over.
  void finish_stream(Context& c);
  // The stream ended without on_log (its worker shutting down, or no stream-end callback that
  // does something): forget it, calling nothing.
  void forget_stream(Context& c);
  size_t open_streams() const { return streams_.size(); }

  // The execute ABI: the guest's verdict (200 lets the request on), or a Trap/Timeout.
  std::optional<int32_t> execute();

  // For the host functions (host_functions.cc).
  struct CallResponse {  // an HTTP call's answer, while proxy_on_http_call_response runs
    core::http::HeaderList headers;
    core::http::HeaderList trailers;
    std::string body;
    bool failed = false;
  };
  Context* current() { return current_; }
  Context* context(uint32_t id);
  void set_current(Context* context) { current_ = context; }
  PluginEnvironment& env() { return env_; }
  WasmInstance& vm() { return *vm_; }
  // Guest memory helpers (bounds-checked; false/nullopt when out of range).
  std::optional<std::string_view> read(uint64_t ptr, uint64_t size);
  // Two ranges (a header's name and value), the memory found once; nullopt if either is out.
  std::optional<std::pair<std::string_view, std::string_view>> read(uint64_t ptr, uint64_t size,
                                                                    uint64_t ptr2, uint64_t size2);
  bool write_u32(uint64_t ptr, uint32_t value);
  bool write_u64(uint64_t ptr, uint64_t value);
  // Copies `bytes` into memory the guest allocates (proxy_on_memory_allocate / malloc) and
  // writes its address and size at ptr_out/size_out; the guest owns it afterwards.
  WasmResult hand_out(std::string_view bytes, uint64_t ptr_out, uint64_t size_out);
  const CallResponse* call_response() const { return call_response_; }
  void set_tick_period(std::chrono::milliseconds period);
  // proxy_http_call: the answer comes back through proxy_on_http_call_response on the context
  // that made the call. Returns the call id, or a WasmResult error.
  core::Result<uint32_t, WasmResult> http_call(std::string_view cluster,
                                               HttpCaller::Request request,
                                               std::chrono::milliseconds timeout);
  void log(LogLevel level, std::string_view message);
  // WASI fd_write to stdout (1) or stderr (2): whole lines reach log() at info or error, since
  // guests write as they please (TinyGo's println: a byte at a time). Longer than 4 KiB: cut.
  void write_stdio(int fd, std::string_view bytes);
  // WASI proc_exit: the guest ended itself; the instance is done (invariant 1).
  void exit() { broken_ = true; }
  // What SharedState calls when an item reaches a queue this instance registered: posts
  // proxy_on_queue_ready to this worker.
  SharedState::Ready queue_ready_notifier();

 private:
  PluginInstance(std::shared_ptr<const PluginModule> module, PluginEnvironment env);
  core::Result<void, std::string> boot();
  // How one call into the guest went.
  struct Called {
    bool exported = false;  // false: the guest does not export the callback (nothing ran)
    bool ok = true;         // false: it trapped or timed out (status says which)
    CallStatus status = CallStatus::Ok;
    uint64_t value = 0;  // the i32 result, when has_result
  };
  // The guest exports the host calls, by a fixed index rather than by name: a stream makes six
  // of these calls, and hashing a name for each showed up in the profile.
  enum class Callback : uint8_t {
    Initialize,
    Main,
    Start,
    OnContextCreate,
    OnVmStart,
    OnConfigure,
    OnRequestHeaders,
    OnResponseHeaders,
    OnRequestBody,
    OnResponseBody,
    OnDone,
    OnLog,
    OnDelete,
    Execute,
    OnTick,
    OnHttpCallResponse,
    OnQueueReady,
    Count
  };
  static std::string_view name_of(Callback which);
  // A stream lifecycle callback whose result the host does not use: one that does nothing
  // (PluginModule::does_something) is left out, as if not exported.
  static bool skippable(Callback which);
  // The guest's export, as the host calls it (i32 arguments), or nullopt.
  std::optional<WasmInstance::Function> export_of(Callback which, size_t params, bool has_result);
  // Calls an exported callback with i32 arguments, `context` current (invariant 1).
  Called call(Callback which, std::initializer_list<uint64_t> args, Context* context,
              bool has_result = false);
  // `fn` empty: the guest does not export it.
  Called call(const std::optional<WasmInstance::Function>& fn, std::span<const uint64_t> args,
              Context* context, bool has_result);
  // The callbacks the host always makes together, as one call into the guest where the engine
  // can (WasmInstance::sequence): opening a stream and finishing it.
  struct Sequence {
    std::optional<WasmInstance::Function> function;
    std::vector<Callback> parts;  // the exported ones, in order
  };
  Sequence sequence(std::initializer_list<Callback> parts);
  // How many i32 arguments the host passes a callback of a sequence, and whether it reads a
  // result.
  std::pair<size_t, bool> shape(Callback which) const;
  void prepare_sequences();
  Outcome outcome_of(const Called& called) const;
  void schedule_tick();
  void on_http_call_done(uint32_t token, uint32_t from, std::optional<HttpCaller::Response>);

  std::shared_ptr<const PluginModule> module_;
  PluginEnvironment env_;
  std::unique_ptr<WasmInstance> vm_;
  bool broken_ = false;
  CallStatus last_failure_ = CallStatus::Ok;
  struct Export {
    bool looked_up = false;
    std::optional<WasmInstance::Function> function;
  };
  // Resolved on first use.
  std::array<Export, static_cast<size_t>(Callback::Count)> functions_{};
  Sequence open_;    // proxy_on_context_create + proxy_on_request_headers
  Sequence finish_;  // proxy_on_done + proxy_on_log + proxy_on_delete
  std::optional<WasmInstance::Function> response_headers_;  // once a request: found once
  std::optional<WasmInstance::Function> allocate_;
  Context root_;
  ContextTable streams_;
  Context* current_ = nullptr;
  uint32_t next_context_ = 2;  // 1 is the root context
  bool ids_wrapped_ = false;   // next_context_ went past 2^32 - 1: an id may still be open
  uint32_t next_call_ = 1;
  const CallResponse* call_response_ = nullptr;
  std::map<uint32_t, uint32_t> calls_;  // HTTP call id -> the context that made it
  std::string status_text_;             // an HTTP call's :status, while its answer is read
  std::chrono::milliseconds tick_period_{0};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for timers and calls
  struct TickTimer;
  std::unique_ptr<TickTimer> tick_;
  // Log lines per second, so a plugin logging every header of every request cannot flood.
  std::chrono::steady_clock::time_point log_window_{};
  uint32_t log_lines_ = 0;
  uint32_t log_dropped_ = 0;
  std::array<std::string, 2> stdio_;  // stdout's and stderr's line so far
};

}  // namespace vx::adapters::wasm
