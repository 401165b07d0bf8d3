#include "adapters/k8s/status_writer.h"

#include <cstdio>
#include <ctime>
#include <optional>
#include <random>

#include "adapters/k8s/kube_client.h"
#include "adapters/k8s/route_json.h"
#include "core/k8s/watch_backoff.h"
#include "ports/guarded_thread.h"

namespace vx::adapters::k8s {

namespace {

std::string rfc3339_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

StatusWriter::StatusWriter(RouteWatcher::LoadAccess load_access, std::string namespace_)
    : load_access_(std::move(load_access)), namespace_(std::move(namespace_)) {}

StatusWriter::~StatusWriter() {
  stop();
}

void StatusWriter::start() {
  thread_ = std::thread(
      [this] { ports::run_guarded_thread(ports::TaskKind::KubernetesStatus, [this] { run(); }); });
}

void StatusWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusWriter::report(std::vector<StatusReport> all) {
  std::lock_guard lock(mutex_);
  std::map<std::string, StatusReport, std::less<>> wanted;
  for (auto& r : all) {
    auto seen = seen_.find(r.name);
    const bool is_new = seen == seen_.end() || !seen->second.same_verdict(r);
    if (is_new && !r.verdict.accepted()) {
      rejected_[static_cast<size_t>(r.verdict.reason)].fetch_add(1, std::memory_order_relaxed);
      std::fprintf(
          stderr, "vortex: kubernetes: VortexRoute %s/%s (generation %lld) refused: %s: %s\n",
          namespace_.c_str(), r.name.c_str(), static_cast<long long>(r.generation),
          std::string(core::k8s::reason_name(r.verdict.reason)).c_str(), r.verdict.message.c_str());
      std::fflush(stderr);
    }
    std::string name = r.name;
    wanted.emplace(std::move(name), std::move(r));
  }
  seen_ = wanted;
  wanted_ = std::move(wanted);
  dirty_ = true;
  wake_.notify_all();
}

void StatusWriter::run() {
  std::mt19937_64 random(std::random_device{}());
  unsigned failures = 0;
  std::optional<KubeClient> client;
  for (;;) {
    std::map<std::string, StatusReport, std::less<>> wanted;
    {
      std::unique_lock lock(mutex_);
      const auto retry = core::k8s::backoff_delay(failures, random());
      auto ready = [this] { return dirty_ || stopping_.load(); };
      if (failures == 0) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_for(lock, retry, ready);
      }
      if (stopping_.load()) return;
      dirty_ = false;
      wanted = wanted_;
    }
    // Forget what was deleted; write what changed.
    std::erase_if(written_, [&](const auto& w) { return !wanted.contains(w.first); });
    bool failed = false;
    for (const auto& [name, report] : wanted) {
      auto written = written_.find(name);
      if (written != written_.end() && written->second.report.same_verdict(report)) continue;
      if (written == written_.end() && report.current &&
          report.current->observed_generation == report.generation &&
          report.current->accepted == report.verdict.accepted() &&
          report.current->reason == core::k8s::reason_name(report.verdict.reason) &&
          report.current->message == report.verdict.message) {
        written_[name] = Written{report, report.current->last_transition_time};
        continue;  // the resource says so already
      }
      if (!client) {
        auto access = load_access_();
        if (!access) {
          failed = true;
          break;
        }
        client.emplace(std::move(*access));
      }
      std::string transition = rfc3339_now();
      if (written != written_.end() &&
          written->second.report.verdict.accepted() == report.verdict.accepted()) {
        transition = written->second.transition_time;
      } else if (written == written_.end() && report.current &&
                 report.current->accepted == report.verdict.accepted() &&
                 !report.current->last_transition_time.empty()) {
        transition = report.current->last_transition_time;
      }
      const std::string path = "/apis/vortex.dev/v1alpha1/namespaces/" + namespace_ +
                               "/vortexroutes/" + name + "/status";
      const auto response = client->merge_patch(
          path, accepted_status_patch(report.generation, report.verdict, transition), kWriteTimeout,
          stopping_);
      if (stopping_.load()) return;
      if (response.status == 404) continue;  // deleted meanwhile: its DELETED event follows
      if (response.status < 200 || response.status >= 300) {
        write_failures_.fetch_add(1, std::memory_order_relaxed);
        std::fprintf(stderr, "vortex: kubernetes: status of VortexRoute %s/%s not written: %s\n",
                     namespace_.c_str(), name.c_str(),
                     response.status ? ("HTTP " + std::to_string(response.status)).c_str()
                                     : response.error.c_str());
        std::fflush(stderr);
        client.reset();  // the next try loads the credentials again
        failed = true;
        break;
      }
      written_[name] = Written{report, transition};
    }
    if (failed) {
      ++failures;  // the next round comes after the backoff, or sooner with a new report
    } else {
      failures = 0;
    }
  }
}

}  // namespace vx::adapters::k8s
