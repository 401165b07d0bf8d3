// The schema of SPEC.md §2, key by key. Every key of the SPEC is parsed, including those of
// features the data plane does not act on yet (docs/config.md lists them).
#include "adapters/config/yaml_config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "adapters/config/re2_regex_compiler.h"
#include "adapters/config/yaml_document.h"
#include "adapters/config/yaml_map_reader.h"
#include "core/config/validate.h"

namespace vx::adapters::config {
namespace {

namespace cfg = core::config;
namespace fs = std::filesystem;

class Loader {
 public:
  Loader(DiagnosticSink& sink, fs::path base_dir) : sink_(sink), base_dir_(std::move(base_dir)) {}

  void load(const YamlNode& root, cfg::Config& c) {
    c.where.line = 1;
    YamlMapReader m(
        sink_, root, "",
        {"workers", "cpu_pinning", "drain_timeout_ms", "listeners", "limits", "routes", "clusters",
         "rate_limits", "bans", "wasm", "admin", "metrics", "tracing", "kubernetes", "access_log"},
        &c.where);
    read_workers(m, c);
    m.read("cpu_pinning", c.cpu_pinning);
    m.read("drain_timeout_ms", c.drain_timeout);
    m.each("listeners", [&](const YamlNode& n, const std::string& path, int i) {
      c.listeners.push_back(listener(n, path, i));
    });
    limits(m.sub("limits", {"max_header_bytes", "max_headers", "max_uri_bytes", "max_body_bytes",
                            "header_timeout_ms", "idle_timeout_ms", "max_connections"}),
           c.limits);
    m.each("routes", [&](const YamlNode& n, const std::string& path, int i) {
      c.routes.push_back(route(n, path, i));
    });
    m.each("clusters", [&](const YamlNode& n, const std::string& path, int) {
      c.clusters.push_back(cluster(n, path));
    });
    rate_limits(m.sub("rate_limits", {"store", "redis", "policies"}), c.rate_limits);
    bans(m.sub("bans", {"after_violations", "window_ms", "ttl_ms", "sweep_interval_ms", "xdp"}),
         c.bans);
    wasm(m.sub("wasm", {"runtime", "plugins"}), c.wasm);
    m.sub("admin", {"socket"}).read("socket", c.admin.socket);
    m.sub("metrics", {"address"}).read("address", c.metrics.address);
    YamlMapReader t =
        m.sub("tracing", {"otlp_endpoint", "sample_ratio", "service_name", "queue_size"});
    t.read("otlp_endpoint", c.tracing.otlp_endpoint);
    t.read("sample_ratio", c.tracing.sample_ratio);
    t.read("service_name", c.tracing.service_name);
    t.read("queue_size", c.tracing.queue_size);
    YamlMapReader k = m.sub("kubernetes", {"enabled", "namespace", "kubeconfig"});
    k.read("enabled", c.kubernetes.enabled);
    k.read("namespace", c.kubernetes.namespace_);
    if (k.read("kubeconfig", c.kubernetes.kubeconfig)) resolve(c.kubernetes.kubeconfig);
    YamlMapReader a = m.sub("access_log", {"path", "format"});
    a.read("path", c.access_log.path);
    a.read("format", c.access_log.format);
  }

 private:
  // Relative file names are relative to the config file, not to the working directory.
  void resolve(std::string& file) const {
    if (file.empty() || fs::path(file).is_absolute()) return;
    file = (base_dir_ / file).lexically_normal().string();
  }

  void read_workers(YamlMapReader& m, cfg::Config& c) {
    const YamlNode* v = m.value("workers");
    if (v == nullptr) return;
    if (v->is_scalar() && v->scalar() == "auto") {
      c.workers = 0;
      return;
    }
    uint32_t n = 0;
    if (!m.read("workers", n)) return;
    if (n < 1) {
      sink_.error(m.key_line("workers"), "workers must be at least 1 (or auto)");
      return;
    }
    c.workers = n;
  }

  cfg::Listener listener(const YamlNode& n, const std::string& path, int index) {
    cfg::Listener l;
    YamlMapReader m(sink_, n, path, {"name", "address", "tls", "http3"}, &l.where);
    l.where.line = m.line();
    m.require("address");
    m.read_address("address", cfg::HostKind::IpLiteral, l.address);
    if (!m.read("name", l.name)) {
      l.name = l.address.text.empty() ? "listener_" + std::to_string(index) : l.address.text;
    }
    m.read("http3", l.http3);
    YamlMapReader t = m.sub("tls", {"certificates", "alpn"});
    if (t.present()) {
      cfg::ListenerTls tls;
      t.each("certificates", [&](const YamlNode& cn, const std::string& cpath, int) {
        cfg::TlsCertificate cert;
        YamlMapReader cm(sink_, cn, cpath, {"cert", "key", "server_names"}, &cert.where);
        cert.where.line = cm.line();
        cm.require("cert");
        cm.require("key");
        if (cm.read("cert", cert.cert)) resolve(cert.cert);
        if (cm.read("key", cert.key)) resolve(cert.key);
        cm.read("server_names", cert.server_names);
        tls.certificates.push_back(std::move(cert));
      });
      t.read("alpn", tls.alpn);
      l.tls = std::move(tls);
    }
    return l;
  }

  void limits(YamlMapReader m, cfg::Limits& l) {
    m.read("max_header_bytes", l.max_header_bytes);
    m.read("max_headers", l.max_headers);
    m.read("max_uri_bytes", l.max_uri_bytes);
    m.read("max_body_bytes", l.max_body_bytes);
    m.read("header_timeout_ms", l.header_timeout);
    m.read("idle_timeout_ms", l.idle_timeout);
    m.read("max_connections", l.max_connections);
  }

  cfg::Route route(const YamlNode& n, const std::string& path, int index) {
    cfg::Route r;
    YamlMapReader m(sink_, n, path,
                    {"name", "match", "cluster", "direct_response", "timeout_ms", "retries",
                     "rate_limit", "plugins"},
                    &r.where);
    r.where.line = m.line();
    if (!m.read("name", r.name)) r.name = "route_" + std::to_string(index);
    YamlMapReader mm = m.sub("match", {"host", "path_prefix", "path_exact", "path_regex", "methods",
                                       "headers", "ai_model"});
    mm.read("host", r.match.host);
    mm.read("path_prefix", r.match.path_prefix);
    mm.read("path_exact", r.match.path_exact);
    mm.read("path_regex", r.match.path_regex);
    if (mm.read("methods", r.match.methods)) {
      // Methods are written upper case by convention; accept "get" as GET.
      for (std::string& method : r.match.methods) {
        std::transform(method.begin(), method.end(), method.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      }
    }
    if (const YamlNode* headers = mm.value("headers")) match_headers(*headers, mm, r.match);
    mm.read("ai_model", r.match.ai_model);
    m.read("cluster", r.cluster);
    YamlMapReader d = m.sub("direct_response", {"status", "body", "content_type"});
    if (d.present()) {
      cfg::DirectResponse dr;
      d.read("status", dr.status);
      d.read("body", dr.body);
      d.read("content_type", dr.content_type);
      r.direct_response = std::move(dr);
    }
    m.read("timeout_ms", r.timeout);
    YamlMapReader rt = m.sub("retries", {"attempts", "on"});
    if (rt.present()) {
      cfg::RetryPolicy policy;
      rt.read("attempts", policy.attempts);
      std::vector<std::string> on;
      if (rt.read("on", on)) {
        policy.on.clear();
        for (const std::string& what : on) {
          if (what == "connect_failure") {
            policy.on.push_back(cfg::RetryOn::ConnectFailure);
          } else if (what == "reset") {
            policy.on.push_back(cfg::RetryOn::Reset);
          } else {
            sink_.error(rt.key_line("on"), "bad value '" + what + "' for " + rt.path_of("on") +
                                               ": expected one of connect_failure, reset");
          }
        }
      }
      r.retries = std::move(policy);
    }
    m.read("rate_limit", r.rate_limit);
    m.read("plugins", r.plugins);
    return r;
  }

  // headers: { x-tenant: a }: names are case-insensitive, so they are stored lower case.
  void match_headers(const YamlNode& node, YamlMapReader& parent, cfg::RouteMatch& match) {
    int line = parent.key_line("headers");
    if (node.is_null()) return;
    if (!node.is_map()) {
      sink_.error(line, "expected a mapping for " + parent.path_of("headers"));
      return;
    }
    for (const auto& [key, val] : node.entries()) {
      int kline = key->line() > 0 ? key->line() : line;
      auto name = YamlMapReader::scalar(sink_, *key, kline, parent.path_of("headers") + " key");
      if (!name) continue;
      auto value =
          YamlMapReader::scalar(sink_, *val, kline, parent.path_of("headers") + "." + *name);
      if (!value) continue;
      std::transform(name->begin(), name->end(), name->begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      match.headers.emplace_back(std::move(*name), std::move(*value));
    }
  }

  cfg::Cluster cluster(const YamlNode& n, const std::string& path) {
    cfg::Cluster c;
    YamlMapReader m(sink_, n, path,
                    {"name", "protocol", "tls", "lb", "peak_ewma", "model_routing", "endpoints",
                     "connect_timeout_ms", "pool", "circuit_breaker", "health_check"},
                    &c.where);
    c.where.line = m.line();
    m.require("name");
    m.read("name", c.name);
    m.read_enum<cfg::UpstreamProtocol>("protocol",
                                       {{"http1", cfg::UpstreamProtocol::Http1},
                                        {"h2c", cfg::UpstreamProtocol::H2c},
                                        {"h2", cfg::UpstreamProtocol::H2}},
                                       c.protocol);
    YamlMapReader t = m.sub("tls", {"sni", "verify", "ca"});
    if (t.present()) {
      cfg::UpstreamTls tls;
      t.read("sni", tls.sni);
      t.read("verify", tls.verify);
      if (t.read("ca", tls.ca)) resolve(tls.ca);
      c.tls = std::move(tls);
    } else if (c.protocol == cfg::UpstreamProtocol::H2) {
      c.tls = cfg::UpstreamTls{};  // h2 means HTTP/2 over TLS: verify with the system CAs
    }
    m.read_enum<cfg::LbPolicy>("lb",
                               {{"peak_ewma", cfg::LbPolicy::PeakEwma},
                                {"round_robin", cfg::LbPolicy::RoundRobin},
                                {"least_request", cfg::LbPolicy::LeastRequest},
                                {"random", cfg::LbPolicy::Random}},
                               c.lb);
    YamlMapReader pe = m.sub("peak_ewma", {"decay_ms", "default_rtt_ms"});
    pe.read("decay_ms", c.peak_ewma.decay);
    pe.read("default_rtt_ms", c.peak_ewma.default_rtt);
    m.read("model_routing", c.model_routing);
    m.each("endpoints", [&](const YamlNode& en, const std::string& epath, int) {
      cfg::Endpoint e;
      YamlMapReader em(sink_, en, epath, {"address", "weight", "ai_models"}, &e.where);
      e.where.line = em.line();
      em.require("address");
      em.read_address("address", cfg::HostKind::IpOrName, e.address);
      em.read("weight", e.weight);
      em.read("ai_models", e.ai_models);
      c.endpoints.push_back(std::move(e));
    });
    m.read("connect_timeout_ms", c.connect_timeout);
    YamlMapReader p = m.sub("pool", {"max_idle_per_endpoint", "idle_timeout_ms"});
    p.read("max_idle_per_endpoint", c.pool.max_idle_per_endpoint);
    p.read("idle_timeout_ms", c.pool.idle_timeout);
    YamlMapReader cb =
        m.sub("circuit_breaker", {"consecutive_failures", "open_ms", "half_open_requests"});
    cb.read("consecutive_failures", c.circuit_breaker.consecutive_failures);
    cb.read("open_ms", c.circuit_breaker.open);
    cb.read("half_open_requests", c.circuit_breaker.half_open_requests);
    YamlMapReader h = m.sub(
        "health_check", {"path", "interval_ms", "timeout_ms", "unhealthy_after", "healthy_after"});
    if (h.present()) {
      cfg::HealthCheck hc;
      h.read("path", hc.path);
      h.read("interval_ms", hc.interval);
      h.read("timeout_ms", hc.timeout);
      h.read("unhealthy_after", hc.unhealthy_after);
      h.read("healthy_after", hc.healthy_after);
      c.health_check = std::move(hc);
    }
    return c;
  }

  void rate_limits(YamlMapReader m, cfg::RateLimits& rl) {
    m.read_enum<cfg::RateLimitStoreKind>(
        "store",
        {{"local", cfg::RateLimitStoreKind::Local}, {"redis", cfg::RateLimitStoreKind::Redis}},
        rl.store);
    YamlMapReader r = m.sub("redis", {"url", "timeout_ms", "pool_size", "on_error"});
    r.read("url", rl.redis.url);
    r.read("timeout_ms", rl.redis.timeout);
    r.read("pool_size", rl.redis.pool_size);
    r.read_enum<cfg::OnError>("on_error",
                              {{"allow", cfg::OnError::Allow}, {"deny", cfg::OnError::Deny}},
                              rl.redis.on_error);
    m.each("policies", [&](const YamlNode& n, const std::string& path, int) {
      cfg::RateLimitPolicy p;
      YamlMapReader pm(sink_, n, path, {"name", "key", "rate", "period_ms", "burst"}, &p.where);
      p.where.line = pm.line();
      pm.require("name");
      pm.read("name", p.name);
      pm.read("key", p.key);
      pm.read("rate", p.rate);
      pm.read("period_ms", p.period);
      pm.read("burst", p.burst);
      rl.policies.push_back(std::move(p));
    });
  }

  void bans(YamlMapReader m, cfg::Bans& b) {
    m.read("after_violations", b.after_violations);
    m.read("window_ms", b.window);
    m.read("ttl_ms", b.ttl);
    m.read("sweep_interval_ms", b.sweep_interval);
    YamlMapReader x = m.sub("xdp", {"interface", "mode"});
    x.read("interface", b.xdp_interface);
    x.read_enum<cfg::XdpMode>("mode",
                              {{"auto", cfg::XdpMode::Auto},
                               {"native", cfg::XdpMode::Native},
                               {"generic", cfg::XdpMode::Generic}},
                              b.xdp_mode);
  }

  void wasm(YamlMapReader m, cfg::Wasm& w) {
    m.read("runtime", w.runtime);
    m.each("plugins", [&](const YamlNode& n, const std::string& path, int) {
      cfg::WasmPlugin p;
      YamlMapReader pm(sink_, n, path,
                       {"name", "file", "abi", "config", "fail_open", "max_call_ms"}, &p.where);
      p.where.line = pm.line();
      pm.require("name");
      pm.require("file");
      pm.read("name", p.name);
      if (pm.read("file", p.file)) resolve(p.file);
      pm.read_enum<cfg::WasmAbi>(
          "abi", {{"proxy_wasm", cfg::WasmAbi::ProxyWasm}, {"execute", cfg::WasmAbi::Execute}},
          p.abi);
      pm.read("config", p.config);
      pm.read("fail_open", p.fail_open);
      pm.read("max_call_ms", p.max_call);
      w.plugins.push_back(std::move(p));
    });
  }

  DiagnosticSink& sink_;
  fs::path base_dir_;
};

fs::path folder_of(const std::string& file) {
  std::error_code ec;
  fs::path absolute = fs::absolute(fs::path(file), ec);
  return (ec ? fs::path(file) : absolute).parent_path();
}

}  // namespace

LoadResult load_config_string(std::string_view yaml, std::string file_name) {
  DiagnosticSink sink(file_name);
  auto config = std::make_shared<cfg::Config>();
  config->file = file_name;
  auto parsed = YamlDocument::parse(yaml);
  if (!parsed) {
    sink.error(parsed.error().line, parsed.error().message);
    return core::unexpected(std::move(sink.list()));
  }
  const YamlNode& root = parsed.value().root();
  if (root.is_null()) {
    sink.error(1, "the configuration is empty (at least one listener is required)");
    return core::unexpected(std::move(sink.list()));
  }
  if (!root.is_map()) {
    sink.error(root.line(), "expected a mapping at the top level");
    return core::unexpected(std::move(sink.list()));
  }
  Loader(sink, folder_of(file_name)).load(root, *config);
  Re2RegexCompiler regex;
  std::vector<cfg::Diagnostic> all = std::move(sink.list());
  // A value the schema pass refused is left at its default, which validate() may then flag
  // again ("needs an address"); one message per line is enough to fix it.
  std::set<int> schema_lines;
  for (const cfg::Diagnostic& d : all) schema_lines.insert(d.line);
  for (cfg::Diagnostic& d : cfg::validate(*config, regex)) {
    if (!schema_lines.contains(d.line)) all.push_back(std::move(d));
  }
  if (!all.empty()) {
    std::stable_sort(
        all.begin(), all.end(),
        [](const cfg::Diagnostic& a, const cfg::Diagnostic& b) { return a.line < b.line; });
    return core::unexpected(std::move(all));
  }
  return std::shared_ptr<const cfg::Config>(std::move(config));
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::unexpected(std::vector<cfg::Diagnostic>{
        cfg::Diagnostic{path, 0, std::string("cannot read file: ") + std::strerror(errno)}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_string(text.str(), path);
}

}  // namespace vx::adapters::config
