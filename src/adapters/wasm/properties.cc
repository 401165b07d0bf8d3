#include "adapters/wasm/properties.h"

#include <chrono>
#include <cstring>

#include "adapters/wasm/pairs.h"
#include "adapters/wasm/plugin_instance.h"

namespace vx::adapters::wasm {

namespace {

void put_int(std::string& out, int64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);  // little-endian, as the guest reads it
  out.append(bytes, 8);
}

}  // namespace

bool property(PluginInstance& plugin, std::string_view path, std::string& out) {
  // Paths use NUL between segments; accept dots too (some plugins pass "request.path").
  std::string key(path);
  for (char& c : key) {
    if (c == '\0') c = '.';
  }
  const PluginModule& module = plugin.module();
  if (key == "plugin_name" || key == "plugin_vm_id") {
    out = module.name();
    return true;
  }
  if (key == "plugin_root_id") {
    out.clear();  // Vortex has no root ids: every plugin has one root context
    return true;
  }
  PluginInstance::Context* c = plugin.current();
  ports::FilterStream* s = c && !c->root ? c->stream : nullptr;
  if (!s) return false;
  const auto request = s->request();
  const core::http::RequestHead& head = request.head();
  if (key == "request.path") {
    out = head.target;
  } else if (key == "request.url_path") {
    out = head.path();
  } else if (key == "request.host") {
    out = head.authority;
  } else if (key == "request.scheme") {
    out = head.scheme;
  } else if (key == "request.method") {
    out = head.method;
  } else if (key == "request.headers") {
    core::http::HeaderList fields = head.headers;
    out.clear();
    encode_pairs(fields, out);
  } else if (key == "request.id") {
    out = s->request_id();
  } else if (key == "request.protocol") {
    out = s->connection().protocol;
  } else if (key == "request.time") {
    out.clear();
    put_int(out,
            std::chrono::duration_cast<std::chrono::nanoseconds>(s->start_time().time_since_epoch())
                .count());
  } else if (key == "source.address" || key == "source.port" || key == "destination.address" ||
             key == "destination.port") {
    const ports::ConnectionFacts facts = s->connection();
    const bool source = key.starts_with("source");
    const std::string_view ip = source ? facts.client_ip : facts.local_ip;
    const uint16_t port = source ? facts.client_port : facts.local_port;
    out.clear();
    if (key.ends_with(".port")) {
      put_int(out, port);
    } else {
      out = ip.find(':') == std::string_view::npos ? std::string(ip) : "[" + std::string(ip) + "]";
      out += ":" + std::to_string(port);
    }
  } else if (key == "connection.mtls") {
    out.assign(1, '\0');  // a bool: Vortex asks no client certificates
  } else if (key == "response.code") {
    if (!c->in_response) return false;
    out.clear();
    put_int(out, s->response().head().status);
  } else if (key == "response.headers") {
    if (!c->in_response) return false;
    out.clear();
    encode_pairs(s->response().head().headers, out);
  } else if (key == "route_name") {
    out = s->route_name();
  } else if (key == "cluster_name") {
    out = s->cluster_name();
  } else if (key == "listener_name" || key == "node.id") {
    out = key == "node.id" ? std::string("vortex") : std::string(s->connection().listener);
  } else {
    return false;
  }
  return true;
}

}  // namespace vx::adapters::wasm
