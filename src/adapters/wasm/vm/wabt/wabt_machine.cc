// Compiled as C++17: WABT 1.0.32's interp-inl.h is not valid C++20 (a template-id destructor).
#include "adapters/wasm/vm/wabt/wabt_machine.h"

#include <algorithm>
#include <utility>

#include <wabt/interp/interp.h>

namespace vx::adapters::wasm {

namespace {

namespace interp = ::wabt::interp;
using Clock = std::chrono::steady_clock;
using Outcome = WabtMachine::Outcome;

// WABT 1.0.32 has no public way to run a call with a budget: Func::Call loops Thread::Run until
// the function returns, however long that is. Thread::Run(n) (public) runs n instructions and
// stops; what is private is setting a call up and taking its results, which DefinedFunc::DoCall
// does with PushValues, PushCall and PopValues. We do the same, reaching those three members
// through explicit template instantiation, where access is not checked ([temp.spec]/6 in C++17:
// "the usual access checking rules do not apply to names used to specify explicit
// instantiations"). The signatures below are 1.0.32's; a WABT whose differ fails to compile here.
template <typename Tag, typename Tag::Type kMember>
struct Expose {
  friend typename Tag::Type member(Tag) { return kMember; }
};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
struct PushValues {
  using Type = void (interp::Thread::*)(const interp::ValueTypes&, const interp::Values&);
  friend Type member(PushValues);
};
struct PushCall {
  using Type = interp::RunResult (interp::Thread::*)(const interp::DefinedFunc&,
                                                     interp::Trap::Ptr*);
  friend Type member(PushCall);
};
struct PopValues {
  using Type = void (interp::Thread::*)(const interp::ValueTypes&, interp::Values*);
  friend Type member(PopValues);
};
#pragma GCC diagnostic pop
template struct Expose<PushValues, &interp::Thread::PushValues>;
template struct Expose<PushCall, &interp::Thread::PushCall>;
template struct Expose<PopValues, &interp::Thread::PopValues>;

// Instructions between two looks at the clock and the memory: WABT's own Run loop uses slices
// of 1000. The interpreter runs ~23 ns an instruction (a counting loop of 8 took ~190 ns an
// iteration here), so that is a check every ~25 us for one clock read (~20 ns); a call that
// returns sooner reads the clock once, at its start.
constexpr int kSlice = 1000;

interp::Value make(WabtType type, uint64_t raw) {
  return type == WabtType::I64 ? interp::Value::Make(raw)
                               : interp::Value::Make(static_cast<uint32_t>(raw));
}
uint64_t raw(WabtType type, const interp::Value& value) {
  return type == WabtType::I64 ? value.Get<uint64_t>() : value.Get<uint32_t>();
}

class Machine final : public WabtMachine {
 public:
  Machine(std::shared_ptr<const WabtCode> code, std::vector<Binding> bindings, Limits limits)
      : code_(std::move(code)), bindings_(std::move(bindings)), limits_(limits) {}

  bool start(std::string* error);

  Outcome call(size_t export_index, const uint64_t* args, uint64_t* result) override {
    if (export_index >= functions_.size() || !functions_[export_index]) return Outcome::Trap;
    return enter(*functions_[export_index], code_->exports()[export_index].type, args, result);
  }
  uint8_t* memory_data() override { return memory_->UnsafeData(); }
  size_t memory_size() const override { return memory_->ByteSize(); }
  const std::string& last_trap() const override { return last_trap_; }

 private:
  Outcome enter(interp::Func& func, const WabtFuncType& type, const uint64_t* args,
                uint64_t* result);
  Outcome run(interp::Func& func, const WabtFuncType& type, const uint64_t* args, uint64_t* result);
  ::wabt::Result on_host_call(size_t import, const interp::Values& params, interp::Values& results,
                              interp::Trap::Ptr* out_trap);
  bool over_cap() const { return memory_->PageSize() > limits_.max_memory_pages; }
  Outcome trapped(const interp::Trap::Ptr& trap) {
    // After a failure in a call back in, the outer call's trap only unwinds: keep the first.
    if (stopped_ == Outcome::Ok) last_trap_ = trap ? trap->message() : "uncaught exception";
    return Outcome::Trap;
  }

  std::shared_ptr<const WabtCode> code_;
  std::vector<Binding> bindings_;
  Limits limits_;
  // The store owns every object below, and goes last. Objects are never collected: an instance
  // makes garbage only when it traps, and a trapped machine is dropped.
  interp::Store store_;
  interp::Thread thread_{store_};
  interp::Instance::Ptr instance_;
  std::vector<interp::Func*> functions_;  // by export index; null for other kinds
  interp::Memory* memory_ = nullptr;
  interp::Values params_;   // scratch: a nested call uses them only once the outer call's are
  interp::Values results_;  // pushed, and before its results are popped
  Clock::time_point deadline_{};
  int depth_ = 0;                  // calls in progress: a host function may call back in
  Outcome stopped_ = Outcome::Ok;  // the first failure at any depth; sticks
  std::string last_trap_;
};

bool Machine::start(std::string* error) {
  interp::ModuleDesc desc = code_->desc();
  for (auto& memory : desc.memories) {
    auto& limits = memory.type.limits;
    if (limits.initial > limits_.max_memory_pages) {
      *error = "its memory starts at " + std::to_string(limits.initial) +
               " pages, over the cap of " + std::to_string(limits_.max_memory_pages);
      return false;
    }
    // A grow past the cap succeeds (it is noticed at the next slice and the guest stopped), but
    // never past twice the cap: that grow fails, as Wasm lets it, and memory stays bounded even
    // within one slice. V8's engine-wide ceiling is twice the largest cap for the same reason.
    const uint64_t ceiling = uint64_t{2} * limits_.max_memory_pages;
    if (!limits.has_max || limits.max > ceiling) {
      limits.has_max = true;
      limits.max = ceiling;  // >= initial: that is at most the cap
    }
  }
  // Start functions run below, under the deadline; Instance::Instantiate would run them to the
  // end, however long.
  const std::vector<interp::StartDesc> starts = std::move(desc.starts);
  desc.starts.clear();
  interp::Module::Ptr module = interp::Module::New(store_, std::move(desc));

  interp::RefVec imports;
  const auto& import_descs = module->desc().imports;
  for (size_t i = 0; i < import_descs.size(); ++i) {
    const auto* type = ::wabt::dyn_cast<interp::FuncType>(import_descs[i].type.type.get());
    if (!type || i >= bindings_.size() || !bindings_[i].callback) {
      *error = "no host function for import " + code_->imports()[i].module + "." +
               code_->imports()[i].name;
      return false;
    }
    auto callback = [this, i](interp::Thread&, const interp::Values& params,
                              interp::Values& results, interp::Trap::Ptr* out_trap) {
      return on_host_call(i, params, results, out_trap);
    };
    imports.push_back(interp::HostFunc::New(store_, *type, callback).ref());
  }

  interp::Trap::Ptr trap;
  instance_ = interp::Instance::Instantiate(store_, module.ref(), imports, &trap);
  if (!instance_) {
    *error = "instantiation failed: " + (trap ? trap->message() : std::string("unknown"));
    return false;
  }
  const auto& exports = instance_->exports();
  functions_.assign(exports.size(), nullptr);
  for (size_t i = 0; i < exports.size(); ++i) {
    const auto kind = module->desc().exports[i].type.type->kind;
    if (kind == ::wabt::ExternalKind::Func) {
      functions_[i] = store_.UnsafeGet<interp::Func>(exports[i]).get();
    } else if (kind == ::wabt::ExternalKind::Memory && !memory_) {
      memory_ = store_.UnsafeGet<interp::Memory>(exports[i]).get();
    }
  }
  if (!memory_) {
    *error = "exports no memory";
    return false;
  }
  for (const auto& s : starts) {
    auto func = store_.UnsafeGet<interp::Func>(instance_->funcs()[s.func_index]);
    const Outcome outcome = enter(*func, {}, nullptr, nullptr);
    if (outcome == Outcome::Timeout) {
      *error = "its start function ran past max_call";
      return false;
    }
    if (outcome == Outcome::Trap) {
      *error = "its start function trapped: " + last_trap_;
      return false;
    }
  }
  return true;
}

Outcome Machine::enter(interp::Func& func, const WabtFuncType& type, const uint64_t* args,
                       uint64_t* result) {
  if (stopped_ != Outcome::Ok) return stopped_;
  if (depth_ == 0) deadline_ = Clock::now() + limits_.max_call;
  ++depth_;
  const Outcome outcome = run(func, type, args, result);
  --depth_;
  if (outcome != Outcome::Ok && stopped_ == Outcome::Ok) stopped_ = outcome;
  return stopped_;
}

Outcome Machine::run(interp::Func& func, const WabtFuncType& type, const uint64_t* args,
                     uint64_t* result) {
  const interp::FuncType& wabt_type = func.type();
  params_.resize(type.params.size());
  results_.resize(type.results.size());  // a host function writes into them, sized
  for (size_t i = 0; i < type.params.size(); ++i) params_[i] = make(type.params[i], args[i]);

  interp::Trap::Ptr trap;  // fresh each time: RefPtr's assignment leaks a root it replaces
  if (auto* defined = ::wabt::dyn_cast<interp::DefinedFunc>(&func)) {
    (thread_.*member(PushValues{}))(wabt_type.params, params_);
    interp::RunResult ran = (thread_.*member(PushCall{}))(*defined, &trap);
    while (ran == interp::RunResult::Ok) {
      ran = thread_.Run(kSlice, &trap);
      if (ran != interp::RunResult::Ok) break;
      if (Clock::now() >= deadline_) return Outcome::Timeout;
      if (over_cap()) {
        last_trap_ = "memory grew past the instance's cap";
        return Outcome::Trap;
      }
    }
    // Return: this call's frame was popped (to the host function that called in, if nested).
    if (ran != interp::RunResult::Return) return trapped(trap);
    (thread_.*member(PopValues{}))(wabt_type.results, &results_);
  } else if (::wabt::Failed(func.Call(thread_, params_, results_, &trap))) {
    return trapped(trap);  // an export of an import: the host function itself
  }
  if (over_cap()) {
    last_trap_ = "memory grew past the instance's cap";
    return Outcome::Trap;
  }
  if (result && !type.results.empty()) *result = raw(type.results[0], results_[0]);
  return Outcome::Ok;
}

::wabt::Result Machine::on_host_call(size_t import, const interp::Values& params,
                                     interp::Values& results, interp::Trap::Ptr* out_trap) {
  const WabtFuncType& type = code_->imports()[import].type;
  uint64_t args[kMaxHostParams] = {};
  const size_t n = std::min(params.size(), kMaxHostParams);
  for (size_t i = 0; i < n; ++i) args[i] = raw(type.params[i], params[i]);
  const Binding& binding = bindings_[import];
  const uint64_t r = binding.callback(binding.host, args);
  if (stopped_ != Outcome::Ok) {
    // A call back into the guest from this host function trapped or timed out, leaving the
    // thread's stacks mid-call: unwind the outer call at once (it reports stopped_).
    *out_trap = interp::Trap::New(store_, "stopped in a call back into the guest");
    return ::wabt::Result::Error;
  }
  if (!results.empty()) results[0] = make(type.results[0], r);
  return ::wabt::Result::Ok;
}

}  // namespace

std::unique_ptr<WabtMachine> WabtMachine::create(std::shared_ptr<const WabtCode> code,
                                                 std::vector<Binding> bindings, Limits limits,
                                                 std::string* error) {
  auto machine = std::make_unique<Machine>(std::move(code), std::move(bindings), limits);
  if (!machine->start(error)) return nullptr;
  return machine;
}

}  // namespace vx::adapters::wasm
