#include "adapters/k8s/route_watcher.h"

#include <cstdio>
#include <random>

#include "adapters/k8s/kube_client.h"
#include "adapters/k8s/route_json.h"
#include "core/k8s/watch_backoff.h"
#include "ports/guarded_thread.h"

namespace vx::adapters::k8s {

namespace {

// RFC 3986 query component: unreserved characters as they are, the rest %XX.
std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void log_line(const std::string& message) {
  std::fprintf(stderr, "vortex: kubernetes: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace

RouteWatcher::RouteWatcher(LoadAccess load_access, std::string namespace_, OnView on_view)
    : load_access_(std::move(load_access)),
      namespace_(std::move(namespace_)),
      on_view_(std::move(on_view)) {}

RouteWatcher::~RouteWatcher() {
  stop();
}

void RouteWatcher::start() {
  thread_ = std::thread(
      [this] { ports::run_guarded_thread(ports::TaskKind::KubernetesWatcher, [this] { run(); }); });
}

void RouteWatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RouteWatcher::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_.load(); });
}

std::string RouteWatcher::collection_path() const {
  return "/apis/vortex.dev/v1alpha1/namespaces/" + query_escape(namespace_) + "/vortexroutes";
}

void RouteWatcher::run() {
  std::mt19937_64 random(std::random_device{}());
  unsigned failures = 0;
  auto back_off = [&] {
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    counters_.synced.store(false);
    return pause(core::k8s::backoff_delay(++failures, random()));
  };
  while (!stopping_.load()) {
    auto access = load_access_();
    if (!access) {
      log_line(access.error());
      if (!back_off()) return;
      continue;
    }
    KubeClient client(std::move(*access));
    if (!list(client)) {
      if (!back_off()) return;
      continue;
    }
    // Watch until the stream cannot be resumed; a watch the server ended is resumed from the
    // last resourceVersion, without a list.
    for (;;) {
      const auto started = std::chrono::steady_clock::now();
      const WatchEnd end = watch(client);
      if (end == WatchEnd::Stopped) return;
      if (end == WatchEnd::Expired) {
        // A server that ends every watch at once must not make this spin.
        if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
          if (!pause(core::k8s::backoff_delay(++failures, random()))) return;
        } else {
          failures = 0;
        }
        continue;
      }
      if (end == WatchEnd::Gone) {
        log_line("watch: resourceVersion " + resource_version_ + " is gone (410); listing again");
        counters_.synced.store(false);
        // List again at once: the server moved on, nothing failed. Unless the watch of a fresh
        // list was gone at once: then the server is confused, and it must not make this spin.
        if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
          if (!back_off()) return;
        } else {
          failures = 0;
        }
        break;
      }
      if (!back_off()) return;
      break;
    }
  }
}

bool RouteWatcher::list(KubeClient& client) {
  core::k8s::RouteView view;
  std::string continue_token;
  std::string resource_version;
  do {
    std::string path = collection_path() + "?limit=" + std::to_string(kPageSize);
    if (!continue_token.empty()) path += "&continue=" + query_escape(continue_token);
    const auto response = client.get(path, kMaxListBytes, kListTimeout, stopping_);
    if (stopping_.load()) return false;
    if (response.status == 410 && !continue_token.empty()) {
      // The continue token expired mid-list: start over (never hand on a partial view).
      log_line("list: continue token expired; listing again from the start");
      return false;
    }
    if (response.status != 200) {
      log_line("list " + client.access().server + path + " failed: " +
               (response.status
                    ? "HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 200)
                    : response.error));
      return false;
    }
    auto page = decode_route_list(response.body, namespace_);
    if (!page) {
      log_line("list: " + page.error());
      return false;
    }
    for (auto& route : page->items) {
      std::string name = route.name;
      view.insert_or_assign(std::move(name), std::move(route));
    }
    // The first page's resourceVersion is the snapshot every page belongs to.
    if (resource_version.empty()) resource_version = page->resource_version;
    continue_token = page->continue_token;
  } while (!continue_token.empty());

  if (lists_++ > 0) counters_.relists.fetch_add(1, std::memory_order_relaxed);
  view_ = std::move(view);
  resource_version_ = std::move(resource_version);
  log_line("listed " + std::to_string(view_.size()) + " VortexRoutes in namespace " + namespace_ +
           " (resourceVersion " + resource_version_ + ") from " + client.access().origin);
  on_view_(view_);
  counters_.synced.store(true);
  return true;
}

RouteWatcher::WatchEnd RouteWatcher::watch(KubeClient& client) {
  const std::string path =
      collection_path() +
      "?watch=1&allowWatchBookmarks=true&resourceVersion=" + query_escape(resource_version_) +
      "&timeoutSeconds=" + std::to_string(kWatchTimeoutSeconds);
  std::string pending;
  WatchEnd end = WatchEnd::Expired;
  const auto on_data = [&](std::string_view data) {
    pending.append(data);
    bool changed = false;
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(pending.data() + start, nl - start);
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      auto event = decode_watch_event(line, namespace_);
      if (!event) {
        log_line("watch: " + event.error() + "; listing again");
        end = WatchEnd::Broken;
        return false;
      }
      counters_.events[static_cast<size_t>(event->type)].fetch_add(1, std::memory_order_relaxed);
      switch (event->type) {
        case WatchEvent::Type::Added:
        case WatchEvent::Type::Modified: {
          std::string name = event->route.name;
          view_.insert_or_assign(std::move(name), std::move(event->route));
          changed = true;
          break;
        }
        case WatchEvent::Type::Deleted:
          changed = view_.erase(event->route.name) > 0 || changed;
          break;
        case WatchEvent::Type::Bookmark:
          break;
        case WatchEvent::Type::Error:
          if (changed) on_view_(view_);  // what came before the error is whole
          if (event->code == 410) {
            end = WatchEnd::Gone;
          } else {
            log_line("watch: error " + std::to_string(event->code) + ": " + event->message);
            end = WatchEnd::Broken;
          }
          return false;
      }
      if (!event->resource_version.empty()) resource_version_ = event->resource_version;
    }
    pending.erase(0, start);
    if (pending.size() > kMaxEventBytes) {
      log_line("watch: an event larger than " + std::to_string(kMaxEventBytes) +
               " bytes; listing again");
      end = WatchEnd::Broken;
      return false;
    }
    if (changed) on_view_(view_);
    return true;
  };
  const auto response = client.stream(path, on_data, kWatchIdle, stopping_, counters_.connected);
  counters_.connected.store(false);
  if (stopping_.load()) return WatchEnd::Stopped;
  if (end != WatchEnd::Expired) return end;
  if (response.status == 410) return WatchEnd::Gone;
  if (response.status != 200) {
    log_line("watch " + client.access().server + " failed: " +
             (response.status
                  ? "HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 200)
                  : response.error));
    return WatchEnd::Broken;
  }
  if (!response.error.empty()) {
    log_line("watch stream broke: " + response.error + "; listing again");
    return WatchEnd::Broken;
  }
  if (!pending.empty()) {
    log_line("watch stream ended inside an event; listing again");
    return WatchEnd::Broken;
  }
  return WatchEnd::Expired;
}

}  // namespace vx::adapters::k8s
