#include "adapters/wasm/vm/v8/v8_engine.h"

#include "adapters/wasm/vm/v8/sequence_module.h"

#include <libplatform/libplatform.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <v8.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

// The headers and the library must be Node 18's V8; /usr/include/node on a machine with
// NodeSource's nodejs holds V8 11's, which link and then fail at run time (docs/wasm.md).
static_assert(V8_MAJOR_VERSION == 10 && V8_MINOR_VERSION == 2, "V8 headers are not libnode108's");

namespace vx::adapters::wasm {

namespace {

using Clock = std::chrono::steady_clock;

v8::Local<v8::String> str(v8::Isolate* isolate, std::string_view s) {
  return v8::String::NewFromUtf8(isolate, s.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(s.size()))
      .ToLocalChecked();
}

std::string to_string(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value utf8(isolate, value);
  return *utf8 ? std::string(*utf8, static_cast<size_t>(utf8.length())) : std::string();
}

// Every i32 crossing between Wasm and the host is a Smi: V8 here has 32-bit Smis (Node 18 is
// built without pointer compression). Reading and writing the handle's slot directly, as V8's
// own inline accessors do (v8-internal.h, ReturnValue::Set), skips a call into V8 per value,
// and writing into a slot made once skips making a handle per argument.
static_assert(!v8::internal::SmiValuesAre31Bits(), "i32 values must fit a Smi");
using Slot = v8::internal::Address;
using Internals = v8::internal::Internals;

std::optional<int32_t> smi_of(v8::Local<v8::Value> value) {
  const Slot raw = *reinterpret_cast<const Slot*>(*value);
  if (Internals::HasHeapObjectTag(raw)) return std::nullopt;
  return Internals::SmiValue(raw);
}

v8::Local<v8::Value> put_smi(v8::Local<v8::Value> slot, int32_t value) {
  *reinterpret_cast<Slot*>(*slot) = Internals::IntToSmi(value);
  return slot;
}

// The handle a Global holds, as a Local, without making a handle in the current scope (two a
// call otherwise: the context and the function). Node does the same (PersistentToLocal::Strong,
// src/util.h); valid while the Global is set, which outlives every use here.
template <class T>
v8::Local<T> held(const v8::Global<T>& global) {
  static_assert(sizeof(v8::Global<T>) == sizeof(v8::Local<T>));
  return *reinterpret_cast<const v8::Local<T>*>(&global);
}

// One thread's calls into its isolate, as the watchdog sees them. `state` is (call serial << 2)
// | phase; the caller moves Idle -> Running -> Idle, the watchdog Running -> Stopping ->
// Stopped, and only then calls TerminateExecution, so a caller that finds its call Stopping
// waits for Stopped and then cancels: a termination never outlives the call it was meant for.
// The caller does not read the clock (three times a request, it was a noticeable part of a
// call's cost): the watchdog times a call from the tick that first sees it running.
struct CallSlot {
  enum Phase : uint64_t { Idle = 0, Running = 1, Stopping = 2, Stopped = 3 };
  std::atomic<uint64_t> state{Idle};
  std::atomic<int64_t> max_call_ns{0};  // of the call `state` names
  v8::Isolate* isolate = nullptr;
  // The watchdog's own: the call it saw running last, and when it first saw it; the serial at
  // its last tick.
  uint64_t seen_serial = 0;
  int64_t seen_at_ns = 0;
  uint64_t ticked_serial = 0;
};

// Stops calls that ran past their max_call. Wakes every few milliseconds while calls come; a
// call is seen at most one tick after it starts and stopped at most one tick after its
// max_call: never early, at most two ticks late. After kRestAfter without a call it rests
// until the next one starts (an idle proxy should not wake 200 times a second for nothing).
//
// Resting must never miss a call that starts meanwhile, without a fence on every call: the
// caller stores Running, then reads `resting_` (call_started); the watchdog stores `resting_`,
// then makes every thread of the process pass a full barrier (membarrier), then reads the
// slots. Either it sees the call, or the caller sees it resting and wakes it. Without
// membarrier (an old kernel, a seccomp filter, valgrind) it never rests.
class Watchdog {
 public:
  static constexpr auto kTick = std::chrono::milliseconds(5);
  static constexpr auto kRestAfter = std::chrono::seconds(1);

  Watchdog()
      : can_rest_(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0) {}

  void watch(std::shared_ptr<CallSlot> slot) {
    std::lock_guard lock(mutex_);
    slots_.push_back(std::move(slot));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  void forget(const CallSlot* slot) {
    std::lock_guard lock(mutex_);
    std::erase_if(slots_, [&](const auto& s) { return s.get() == slot; });
  }
  // A slot has just been set Running.
  void call_started() {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the other half is membarrier's
    if (resting_.load(std::memory_order_relaxed)) [[unlikely]] {
      {
        std::lock_guard lock(mutex_);
        resting_.store(false, std::memory_order_relaxed);
      }
      wake_.notify_one();
    }
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), "vortex-wasm-wd");  // /proc shows it resting (tests)
    std::unique_lock lock(mutex_);
    Clock::duration quiet{};
    for (;;) {
      if (quiet >= kRestAfter && can_rest_) {
        rest(lock);
        quiet = {};
      }
      wake_.wait_for(lock, kTick);
      quiet = tick() ? Clock::duration{} : quiet + kTick;
    }
  }
  // Looks at every slot; whether any call ran since the last tick.
  bool tick() {
    const int64_t now = Clock::now().time_since_epoch().count();
    bool calls = false;
    for (const auto& slot : slots_) {
      uint64_t state = slot->state.load(std::memory_order_acquire);
      const uint64_t serial = state >> 2;
      calls |= serial != slot->ticked_serial;
      slot->ticked_serial = serial;
      if ((state & 3) != CallSlot::Running) continue;
      calls = true;
      if (serial != slot->seen_serial) {
        slot->seen_serial = serial;
        slot->seen_at_ns = now;
        continue;
      }
      if (now - slot->seen_at_ns < slot->max_call_ns.load(std::memory_order_relaxed)) continue;
      if (!slot->state.compare_exchange_strong(state, serial << 2 | CallSlot::Stopping)) {
        continue;  // the call ended meanwhile
      }
      slot->isolate->TerminateExecution();
      slot->state.store(serial << 2 | CallSlot::Stopped, std::memory_order_release);
    }
    return calls;
  }
  void rest(std::unique_lock<std::mutex>& lock) {
    resting_.store(true);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    if (!tick()) wake_.wait(lock, [&] { return !resting_.load(std::memory_order_relaxed); });
    resting_.store(false, std::memory_order_relaxed);
  }

  const bool can_rest_;
  std::atomic<bool> resting_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<CallSlot>> slots_;
  std::thread thread_;  // runs for the life of the process, as V8 does
};

// The isolate of one thread, and the context its instances live in. Shared by the thread and
// its instances: an instance destroyed after its thread ended (a worker's plugins are released
// by the main thread) still finds its isolate.
struct ThreadIsolate {
  v8::Isolate* isolate = nullptr;
  v8::Global<v8::Context> context;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator;
  std::shared_ptr<CallSlot> slot = std::make_shared<CallSlot>();
  uint64_t serial = 0;
  int depth = 0;  // calls in progress (a host function may call back into the guest)
  Watchdog* watchdog = nullptr;
  // Handles made once in the thread's outermost handle scope (EnteredIsolate), whose slots a
  // call overwrites with its i32 arguments: V8 has read them by the time a nested call (a host
  // function allocating guest memory) overwrites them again.
  std::array<v8::Local<v8::Value>, 16> argument_slots;
  // A call's arguments as V8 takes them (those slots, or an i64's BigInt): kept here rather
  // than made per call.
  std::array<v8::Local<v8::Value>, 16> arguments;

  // The outermost call into the guest starts: past `max_call` the watchdog stops it.
  uint64_t arm(std::chrono::milliseconds max_call) {
    const uint64_t id = ++serial;
    slot->max_call_ns.store(std::chrono::nanoseconds(max_call).count(), std::memory_order_relaxed);
    slot->state.store(id << 2 | CallSlot::Running, std::memory_order_release);
    watchdog->call_started();
    return id;
  }
  // It ended; true when the watchdog stopped it (the termination is cleared here, once the
  // watchdog is done, so that it cannot hit the next call).
  bool disarm(uint64_t id) {
    uint64_t running = id << 2 | CallSlot::Running;
    if (slot->state.compare_exchange_strong(running, id << 2 | CallSlot::Idle)) return false;
    while ((slot->state.load(std::memory_order_acquire) & 3) != CallSlot::Stopped) {
      std::this_thread::yield();
    }
    isolate->CancelTerminateExecution();
    slot->state.store(id << 2 | CallSlot::Idle, std::memory_order_release);
    return true;
  }

  ~ThreadIsolate() {
    watchdog->forget(slot.get());
    context.Reset();
    // Isolates come and go with threads, rarely: one at a time, so that the process-wide state
    // V8 updates then is ordered by a lock ThreadSanitizer can see (V8's own locks are inside
    // uninstrumented libnode).
    std::lock_guard lock(lifecycle_mutex());
    isolate->Dispose();
  }
  static std::mutex& lifecycle_mutex() {
    static std::mutex m;
    return m;
  }
};

class V8Module final : public WasmModule {
 public:
  V8Module(v8::CompiledWasmModule compiled, std::vector<Import> imports,
           std::vector<std::string> exports)
      : compiled_(std::move(compiled)),
        imports_(std::move(imports)),
        exports_(std::move(exports)) {}
  const std::vector<Import>& imports() const override { return imports_; }
  const std::vector<std::string>& function_exports() const override { return exports_; }
  const v8::CompiledWasmModule& compiled() const { return compiled_; }

 private:
  v8::CompiledWasmModule compiled_;
  std::vector<Import> imports_;
  std::vector<std::string> exports_;
};

class V8Instance;

// What a host function's V8 trampoline needs, its signature's facts read once here rather
// than from the HostFunction's vector on every call.
struct Binding {
  const HostFunction* function;
  void* host;
  V8Instance* instance;
  uint8_t arity = 0;      // of the params, at most 16
  bool i32_only = false;  // every param an i32: Wasm passes each as a Smi
};

class V8Instance final : public WasmInstance {
 public:
  V8Instance(std::shared_ptr<ThreadIsolate> thread, InstanceLimits limits)
      : thread_(std::move(thread)), limits_(limits) {}
  ~V8Instance() override {
    for (auto& f : functions_) f.handle.Reset();
    memory_.Reset();
    store_.reset();
    instance_.Reset();
  }

  std::optional<Function> function(std::string_view name, Signature signature) override {
    for (size_t i = 0; i < functions_.size(); ++i) {
      if (functions_[i].name != name) continue;
      functions_[i].params = std::move(signature.params);
      functions_[i].result = signature.result;
      functions_[i].i32_only = i32_only(functions_[i].params);
      return static_cast<Function>(i);
    }
    return std::nullopt;
  }

  CallStatus call(Function fn, std::span<const uint64_t> args, uint64_t* result) override;
  std::optional<Function> sequence(std::span<const Function> fns) override;

  // The thread keeps its isolate entered (thread_isolate()): no Isolate::Scope here or in call().
  std::span<uint8_t> memory() override {
    if (!memory_span_.empty() || memory_.IsEmpty()) return memory_span_;
    if (store_) {
      memory_span_ = {store_data_, store_->ByteLength()};
      return memory_span_;
    }
    v8::Isolate* isolate = thread_->isolate;
    v8::HandleScope handles(isolate);
    auto buffer = memory_.Get(isolate)->Buffer();
    memory_span_ = {static_cast<uint8_t*>(buffer->Data()), buffer->ByteLength()};
    return memory_span_;
  }
  // The guest runs (and may grow its memory) from here on.
  void forget_memory() { memory_span_ = {}; }

  struct Export {
    std::string name;
    v8::Global<v8::Function> handle;
    std::vector<ValueType> params;  // the signature the host calls it with
    std::optional<ValueType> result;
    bool i32_only = true;  // no i64 among params: every argument goes into a Smi slot
  };
  static bool i32_only(const std::vector<ValueType>& params) {
    return std::find(params.begin(), params.end(), ValueType::I64) == params.end();
  }

  std::shared_ptr<ThreadIsolate> thread_;
  InstanceLimits limits_;
  std::vector<Binding> bindings_;
  v8::Global<v8::Object> instance_;
  v8::Global<v8::WasmMemoryObject> memory_;
  std::vector<Export> functions_;
  // Where memory() found the memory since the guest last ran: a host function reads and writes
  // it several times, and finding it through V8 costs more than most of those accesses.
  std::span<uint8_t> memory_span_;
  // The memory's backing store, where it is known to grow in place (V8Engine::grows_in_place):
  // its address never changes and its length follows the guest's memory.grow, so the memory
  // is found without V8's API (handles, the buffer object), a good part of a host call's cost.
  std::shared_ptr<v8::BackingStore> store_;
  uint8_t* store_data_ = nullptr;  // store_->Data(), which growing in place never moves
};

void trampoline(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const auto* binding = static_cast<const Binding*>(info.Data().As<v8::External>()->Value());
  binding->instance->forget_memory();
  const HostFunction& f = *binding->function;
  uint64_t args[16];  // the first n are set
  const size_t n = binding->arity;
  // The ABI's host functions take i32s only, which Wasm hands over as Smis in consecutive
  // argument slots (info[i] is values_ + i): read them in one pass and check the tags once.
  bool read = false;
  if (binding->i32_only && n > 0 && info.Length() >= static_cast<int>(n)) {
    const auto* slots = reinterpret_cast<const Slot*>(*info[0]);
    Slot tags = 0;
    for (size_t i = 0; i < n; ++i) {
      tags |= slots[i];
      args[i] = static_cast<uint32_t>(Internals::SmiValue(slots[i]));
    }
    read = (tags & v8::internal::kSmiTagMask) == v8::internal::kSmiTag;  // no heap object
  }
  for (size_t i = 0; !read && i < n; ++i) {
    v8::Local<v8::Value> v = info[static_cast<int>(i)];
    if (f.params[i] == ValueType::I64) {
      args[i] = v->IsBigInt() ? v.As<v8::BigInt>()->Uint64Value() : 0;
    } else if (const auto smi = smi_of(v)) {
      args[i] = static_cast<uint32_t>(*smi);
    } else {
      args[i] = v->Uint32Value(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
    }
  }
  const uint64_t r = f.callback(binding->host, args);
  if (!f.result) return;
  if (*f.result == ValueType::I64) {
    info.GetReturnValue().Set(v8::BigInt::NewFromUnsigned(info.GetIsolate(), r));
  } else {
    info.GetReturnValue().Set(static_cast<int32_t>(static_cast<uint32_t>(r)));
  }
}

CallStatus V8Instance::call(Function fn, std::span<const uint64_t> args, uint64_t* result) {
  ThreadIsolate& t = *thread_;
  v8::Isolate* isolate = t.isolate;
  v8::HandleScope handles(isolate);  // for what V8 makes during the call (its result)
  const v8::Local<v8::Context> context = held(t.context);
  const Export& e = functions_[fn];
  forget_memory();

  const size_t argc = std::min<size_t>(args.size(), t.arguments.size());
  v8::Local<v8::Value>* argv = t.argument_slots.data();
  if (e.i32_only) {  // the ABI's callbacks: the slots are the arguments
    for (size_t i = 0; i < argc; ++i) {
      put_smi(t.argument_slots[i], static_cast<int32_t>(static_cast<uint32_t>(args[i])));
    }
  } else {
    for (size_t i = 0; i < argc; ++i) {
      const bool i64 = i < e.params.size() && e.params[i] == ValueType::I64;
      t.arguments[i] =
          i64 ? v8::Local<v8::Value>(v8::BigInt::NewFromUnsigned(isolate, args[i]))
              : put_smi(t.argument_slots[i], static_cast<int32_t>(static_cast<uint32_t>(args[i])));
    }
    argv = t.arguments.data();
  }

  const bool outermost = t.depth++ == 0;
  const uint64_t serial = outermost ? t.arm(limits_.max_call) : 0;
  v8::TryCatch caught(isolate);
  v8::MaybeLocal<v8::Value> returned =
      held(e.handle)->Call(context, v8::Undefined(isolate), static_cast<int>(argc), argv);
  --t.depth;
  forget_memory();

  bool stopped = false;
  if (outermost) {
    stopped = t.disarm(serial);
  } else if (isolate->IsExecutionTerminating()) {
    return CallStatus::Timeout;  // the outermost call reports and cancels it
  }
  if (stopped) return CallStatus::Timeout;
  v8::Local<v8::Value> value;
  if (!returned.ToLocal(&value)) return CallStatus::Trap;
  const size_t memory_bytes =
      store_ ? store_->ByteLength()
             : (memory_.IsEmpty() ? 0 : memory_.Get(isolate)->Buffer()->ByteLength());
  if (memory_bytes > uint64_t{limits_.max_memory_pages} << 16) {
    return CallStatus::Trap;  // grew past its cap: stopped like a trap
  }
  if (result) {
    if (e.result != ValueType::I64) {
      if (const auto smi = smi_of(value)) {
        *result = static_cast<uint32_t>(*smi);
        return CallStatus::Ok;
      }
    }
    if (e.result == ValueType::I64 && value->IsBigInt()) {
      *result = value.As<v8::BigInt>()->Uint64Value();
    } else if (value->IsNumber()) {
      *result = static_cast<uint32_t>(value->Int32Value(context).FromMaybe(0));
    } else {
      *result = 0;
    }
  }
  return CallStatus::Ok;
}

v8::MaybeLocal<v8::WasmModuleObject> compile_bytes(v8::Isolate* isolate, std::string_view bytes) {
  return v8::WasmModuleObject::Compile(
      isolate, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

// new WebAssembly.Instance(module, imports); the start function runs in here.
v8::MaybeLocal<v8::Object> new_instance(v8::Isolate* isolate, v8::Local<v8::Context> context,
                                        v8::Local<v8::WasmModuleObject> module,
                                        v8::Local<v8::Object> imports) {
  auto wasm = context->Global()->Get(context, str(isolate, "WebAssembly")).ToLocalChecked();
  auto ctor = wasm.As<v8::Object>()->Get(context, str(isolate, "Instance")).ToLocalChecked();
  v8::Local<v8::Value> argv[] = {module, imports};
  return ctor.As<v8::Function>()->NewInstance(context, 2, argv);
}

std::optional<WasmInstance::Function> V8Instance::sequence(std::span<const Function> fns) {
  if (fns.empty()) return std::nullopt;
  std::vector<Signature> parts;
  Export run;
  // Nameless: function() never finds it for a guest export.
  for (const Function fn : fns) {
    if (fn >= functions_.size()) return std::nullopt;
    const Export& part = functions_[fn];
    parts.push_back({part.params, part.result});
    run.params.insert(run.params.end(), part.params.begin(), part.params.end());
    run.result = part.result;
  }
  run.i32_only = V8Instance::i32_only(run.params);
  const std::string bytes = sequence_module(parts);
  v8::Isolate* isolate = thread_->isolate;
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handles(isolate);
  v8::Local<v8::Context> context = thread_->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  v8::TryCatch caught(isolate);
  v8::Local<v8::WasmModuleObject> module;
  if (!compile_bytes(isolate, bytes).ToLocal(&module)) return std::nullopt;
  auto seq = v8::Object::New(isolate);
  for (size_t i = 0; i < fns.size(); ++i) {
    seq->Set(context, str(isolate, std::to_string(i)), functions_[fns[i]].handle.Get(isolate))
        .Check();
  }
  auto imports = v8::Object::New(isolate);
  imports->Set(context, str(isolate, "seq"), seq).Check();
  // A guest export whose real signature differs from the host's expectation fails to link
  // here; the host then calls the parts one by one, and such a call traps as it always did.
  v8::Local<v8::Object> object;
  if (!new_instance(isolate, context, module, imports).ToLocal(&object)) return std::nullopt;
  v8::Local<v8::Value> exports, fn;
  if (!object->Get(context, str(isolate, "exports")).ToLocal(&exports) || !exports->IsObject() ||
      !exports.As<v8::Object>()->Get(context, str(isolate, "run")).ToLocal(&fn) ||
      !fn->IsFunction()) {
    return std::nullopt;
  }
  run.handle.Reset(isolate, fn.As<v8::Function>());
  functions_.push_back(std::move(run));
  return static_cast<Function>(functions_.size() - 1);
}

class V8Engine final : public WasmEngine {
 public:
  V8Engine() {
    // A module's memory never grows past twice the largest cap an instance may have: a guest
    // that keeps growing fails its grow there (and is stopped, being past its cap) instead of
    // reaching V8's own 4 GiB. Calls from the host go through a JS-to-Wasm wrapper compiled for
    // the export's signature rather than V8 10's generic one: about 100 instructions less a call.
    v8::V8::SetFlagsFromString(("--no-wasm-generic-wrapper --wasm-max-mem-pages=" +
                                std::to_string(2 * InstanceLimits::kMaxMemoryPages))
                                   .c_str());
    platform_ = v8::platform::NewDefaultPlatform();
    v8::V8::InitializePlatform(platform_.get());
    // Out-of-bounds accesses become traps through guard pages, with no bounds checks in code.
    grows_in_place_ = v8::V8::EnableWebAssemblyTrapHandler(true);
    v8::V8::Initialize();
    compiler_ = new_isolate();
  }

  std::string_view name() const override { return "v8"; }

  core::Result<std::shared_ptr<const WasmModule>, std::string> compile(
      std::string_view bytes) override;
  core::Result<std::unique_ptr<WasmInstance>, std::string> instantiate(
      const WasmModule& module, std::span<const HostFunction> functions, void* host,
      InstanceLimits limits) override;

 private:
  std::shared_ptr<ThreadIsolate> new_isolate() {
    auto t = std::make_shared<ThreadIsolate>();
    t->allocator.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = t->allocator.get();
    std::lock_guard lock(ThreadIsolate::lifecycle_mutex());
    t->isolate = v8::Isolate::New(params);
    // Guests make no promises: with the default (auto) policy every call into one ends with a
    // microtask checkpoint.
    t->isolate->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
    t->slot->isolate = t->isolate;
    t->watchdog = &watchdog_;
    {
      v8::Isolate::Scope scope(t->isolate);
      v8::HandleScope handles(t->isolate);
      t->context.Reset(t->isolate, v8::Context::New(t->isolate));
    }
    watchdog_.watch(t->slot);
    return t;
  }
  // The calling thread's isolate, entered with its context for as long as the thread lives:
  // entering an isolate that is not already the thread's current one takes a lock and a table
  // lookup inside V8, which every call into a guest paid (a third of V8's cost per call).
  // A handle scope stays open as long, holding the argument slots: with a handle block in
  // use, a call's own scope finds room in it, where the first handle of an outermost scope
  // allocates a block and its end frees it again.
  struct EnteredIsolate {
    explicit EnteredIsolate(std::shared_ptr<ThreadIsolate> entered) : t(std::move(entered)) {
      t->isolate->Enter();
      handles.emplace(t->isolate);
      t->context.Get(t->isolate)->Enter();
      for (auto& slot : t->argument_slots) slot = v8::Integer::New(t->isolate, 0);
    }
    ~EnteredIsolate() {  // before the isolate may be disposed: V8 refuses an entered one
      t->context.Get(t->isolate)->Exit();
      t->argument_slots = {};
      handles.reset();
      t->isolate->Exit();
    }
    std::shared_ptr<ThreadIsolate> t;
    std::optional<v8::HandleScope> handles;
  };
  std::shared_ptr<ThreadIsolate> thread_isolate() {
    thread_local EnteredIsolate mine(new_isolate());
    return mine.t;
  }

  std::unique_ptr<v8::Platform> platform_;
  // With the trap handler, V8 reserves the whole address range a Wasm memory may grow to (with
  // its guard pages) and grows it in place; without it, a grow may copy the memory elsewhere.
  bool grows_in_place_ = false;
  Watchdog watchdog_;
  std::mutex compile_mutex_;
  std::shared_ptr<ThreadIsolate> compiler_;
};

// WebAssembly.Module.<what>(module) as {module, name, kind} triples.
std::vector<WasmModule::Import> describe(v8::Isolate* isolate, v8::Local<v8::Context> context,
                                         v8::Local<v8::WasmModuleObject> module, const char* what) {
  std::vector<WasmModule::Import> out;
  auto wasm = context->Global()->Get(context, str(isolate, "WebAssembly")).ToLocalChecked();
  auto module_ctor = wasm.As<v8::Object>()->Get(context, str(isolate, "Module")).ToLocalChecked();
  auto fn = module_ctor.As<v8::Object>()->Get(context, str(isolate, what)).ToLocalChecked();
  v8::Local<v8::Value> argv[] = {module};
  auto list = fn.As<v8::Function>()->Call(context, module_ctor, 1, argv).ToLocalChecked();
  auto array = list.As<v8::Array>();
  for (uint32_t i = 0; i < array->Length(); ++i) {
    auto entry = array->Get(context, i).ToLocalChecked().As<v8::Object>();
    auto field = [&](const char* key) {
      return to_string(isolate, entry->Get(context, str(isolate, key)).ToLocalChecked());
    };
    out.push_back({field("module"), field("name"), field("kind") == "function"});
  }
  return out;
}

core::Result<std::shared_ptr<const WasmModule>, std::string> V8Engine::compile(
    std::string_view bytes) {
  std::lock_guard lock(compile_mutex_);
  v8::Isolate* isolate = compiler_->isolate;
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handles(isolate);
  v8::Local<v8::Context> context = compiler_->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  v8::TryCatch caught(isolate);
  v8::Local<v8::WasmModuleObject> module;
  if (!compile_bytes(isolate, bytes).ToLocal(&module)) {
    std::string why = caught.HasCaught() ? to_string(isolate, caught.Exception()) : "";
    return core::unexpected(why.empty() ? std::string("not a valid Wasm module") : why);
  }
  auto imports = describe(isolate, context, module, "imports");
  std::vector<std::string> exports;
  for (auto& e : describe(isolate, context, module, "exports")) {
    if (e.function) exports.push_back(std::move(e.name));
  }
  return std::shared_ptr<const WasmModule>(std::make_shared<V8Module>(
      module->GetCompiledModule(), std::move(imports), std::move(exports)));
}

core::Result<std::unique_ptr<WasmInstance>, std::string> V8Engine::instantiate(
    const WasmModule& module, std::span<const HostFunction> functions, void* host,
    InstanceLimits limits) {
  const auto& v8_module = static_cast<const V8Module&>(module);
  auto thread = thread_isolate();
  v8::Isolate* isolate = thread->isolate;
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handles(isolate);
  v8::Local<v8::Context> context = thread->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  v8::TryCatch caught(isolate);

  auto instance = std::make_unique<V8Instance>(thread, limits);
  instance->bindings_.reserve(module.imports().size());  // trampolines point into it
  auto imports = v8::Object::New(isolate);
  for (const auto& import : module.imports()) {
    if (!import.function) {
      return core::unexpected("imports a " + import.module + "." + import.name +
                              " that is not a function (not supported)");
    }
    const HostFunction* found = nullptr;
    for (const auto& f : functions) {
      if (f.module == import.module && f.name == import.name) found = &f;
    }
    if (!found) {
      return core::unexpected("imports " + import.module + "." + import.name +
                              ", which this host does not provide");
    }
    instance->bindings_.push_back({found, host, instance.get(),
                                   static_cast<uint8_t>(std::min<size_t>(found->params.size(), 16)),
                                   V8Instance::i32_only(found->params)});
    auto data = v8::External::New(isolate, &instance->bindings_.back());
    // Its length is the import's arity: Wasm then calls it as a function whose arity matches,
    // without the mismatch path's argument adaptation.
    auto fn = v8::Function::New(context, trampoline, data, static_cast<int>(found->params.size()))
                  .ToLocalChecked();
    v8::Local<v8::Value> ns;
    auto ns_name = str(isolate, import.module);
    if (!imports->Get(context, ns_name).ToLocal(&ns) || !ns->IsObject()) {
      ns = v8::Object::New(isolate);
      imports->Set(context, ns_name, ns).Check();
    }
    ns.As<v8::Object>()->Set(context, str(isolate, import.name), fn).Check();
  }

  auto compiled = v8::WasmModuleObject::FromCompiledModule(isolate, v8_module.compiled());
  v8::Local<v8::WasmModuleObject> module_object;
  if (!compiled.ToLocal(&module_object)) return core::unexpected(std::string("cannot load module"));
  v8::Local<v8::Object> object;
  // The module's start function runs in here: as long as max_call, like any call.
  const uint64_t serial = thread->arm(limits.max_call);
  const bool made = new_instance(isolate, context, module_object, imports).ToLocal(&object);
  if (thread->disarm(serial)) {
    return core::unexpected("its start function ran past max_call (" +
                            std::to_string(limits.max_call.count()) + " ms)");
  }
  if (!made) {
    const std::string why = caught.HasCaught() ? to_string(isolate, caught.Exception()) : "";
    return core::unexpected("instantiation failed" + (why.empty() ? "" : ": " + why));
  }
  instance->instance_.Reset(isolate, object);
  auto exports = object->Get(context, str(isolate, "exports")).ToLocalChecked().As<v8::Object>();
  auto names = exports->GetOwnPropertyNames(context).ToLocalChecked();
  for (uint32_t i = 0; i < names->Length(); ++i) {
    auto key = names->Get(context, i).ToLocalChecked();
    auto value = exports->Get(context, key).ToLocalChecked();
    if (value->IsWasmMemoryObject()) {
      instance->memory_.Reset(isolate, value.As<v8::WasmMemoryObject>());
      if (grows_in_place_) {
        instance->store_ = value.As<v8::WasmMemoryObject>()->Buffer()->GetBackingStore();
        instance->store_data_ = static_cast<uint8_t*>(instance->store_->Data());
      }
    } else if (value->IsFunction()) {
      V8Instance::Export e;
      e.name = to_string(isolate, key);
      e.handle.Reset(isolate, value.As<v8::Function>());
      instance->functions_.push_back(std::move(e));
    }
  }
  if (instance->memory_.IsEmpty()) return core::unexpected(std::string("exports no memory"));
  return std::unique_ptr<WasmInstance>(std::move(instance));
}

}  // namespace

WasmEngine& v8_engine() {
  // Never destroyed: V8 cannot be initialised twice, and isolates of worker threads may outlive
  // static destruction's order.
  static V8Engine* engine = new V8Engine;
  return *engine;
}

}  // namespace vx::adapters::wasm

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer cannot see V8's heap (mmap'ed pages it does not scan), so the small blocks V8
// hangs off it (slot sets, remembered sets) look unreachable. They are V8's to free, not ours.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libnode.so\n";
}
#endif
