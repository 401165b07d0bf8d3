#include "adapters/k8s/kube_access.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/config/yaml_document.h"

namespace vx::adapters::k8s {

namespace {

// A token or certificate file is small; more than this is not one.
constexpr std::streamsize kMaxCredentialBytes = 1 << 20;

bool read_small_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(static_cast<size_t>(kMaxCredentialBytes), '\0');
  in.read(out.data(), kMaxCredentialBytes);
  out.resize(static_cast<size_t>(in.gcount()));
  return !in.bad();
}

std::string trim_right(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

// kubeconfig *-data fields are base64 (standard alphabet, padded).
core::Result<std::string, std::string> base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const int v = value(c);
    if (v < 0) return core::unexpected(std::string("not base64"));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

using config::YamlNode;

// The entry of `list` (clusters, users, contexts) whose name is `name`: its inner map.
const YamlNode* named(const YamlNode* list, const std::string& name, const char* inner) {
  if (list == nullptr || !list->is_sequence()) return nullptr;
  for (const YamlNode* item : list->items()) {
    const YamlNode* n = item->find("name");
    if (n != nullptr && n->is_scalar() && n->scalar() == name) return item->find(inner);
  }
  return nullptr;
}

std::string text_at(const YamlNode* map, const char* key) {
  if (map == nullptr) return {};
  const YamlNode* v = map->find(key);
  return v != nullptr && v->is_scalar() ? v->scalar() : std::string();
}

}  // namespace

core::Result<KubeAccess, std::string> in_cluster_access() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return core::unexpected(std::string(
        "not in a cluster: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT unset (set "
        "kubernetes.kubeconfig to run outside one)"));
  }
  const char* dir_env = std::getenv("VORTEX_K8S_SA_DIR");
  const std::string dir = dir_env && *dir_env ? dir_env : kServiceAccountDir;
  KubeAccess access;
  const std::string h = host;
  // RFC 3986 §3.2.2: an IPv6 literal goes in brackets.
  access.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  access.ca_file = dir + "/ca.crt";
  access.token_file = dir + "/token";
  access.origin = "in-cluster";
  if (current_token(access).empty()) {
    return core::unexpected("cannot read the service account token " + access.token_file);
  }
  return access;
}

core::Result<KubeAccess, std::string> kubeconfig_access(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return core::unexpected("kubeconfig " + path + ": " + why);
  };
  std::string text;
  if (!read_small_file(path, text)) return fail("cannot read it");
  auto parsed = config::YamlDocument::parse(text);
  if (!parsed) {
    return fail("line " + std::to_string(parsed.error().line) + ": " + parsed.error().message);
  }
  const YamlNode* doc = &parsed.value().root();
  if (!doc->is_map()) return fail("not a kubeconfig (expected a map)");
  const std::string context_name = text_at(doc, "current-context");
  if (context_name.empty()) return fail("no current-context");
  const YamlNode* context = named(doc->find("contexts"), context_name, "context");
  if (context == nullptr || !context->is_map()) return fail("no context '" + context_name + "'");
  const std::string cluster_name = text_at(context, "cluster");
  const std::string user_name = text_at(context, "user");
  const YamlNode* cluster = named(doc->find("clusters"), cluster_name, "cluster");
  if (cluster == nullptr || !cluster->is_map()) return fail("no cluster '" + cluster_name + "'");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  auto file_at = [&](const std::string& p) {
    if (p.empty() || p.front() == '/') return p;
    return (folder / p).string();
  };

  KubeAccess access;
  access.origin = path;
  access.server = text_at(cluster, "server");
  while (!access.server.empty() && access.server.back() == '/') access.server.pop_back();
  if (access.server.rfind("https://", 0) != 0 && access.server.rfind("http://", 0) != 0) {
    return fail("cluster '" + cluster_name + "': server must be an https:// or http:// URL");
  }
  access.ca_file = file_at(text_at(cluster, "certificate-authority"));
  if (auto data = text_at(cluster, "certificate-authority-data"); !data.empty()) {
    auto pem = base64_decode(data);
    if (!pem)
      return fail("cluster '" + cluster_name + "': certificate-authority-data is not base64");
    access.ca_pem = std::move(*pem);
  }
  access.insecure_skip_tls_verify = text_at(cluster, "insecure-skip-tls-verify") == "true";

  const YamlNode* user = named(doc->find("users"), user_name, "user");
  if (!user_name.empty() && (user == nullptr || !user->is_map())) {
    return fail("no user '" + user_name + "'");
  }
  if (user != nullptr && user->is_map()) {
    if (user->find("exec") != nullptr || user->find("auth-provider") != nullptr) {
      return fail("user '" + user_name +
                  "': exec and auth-provider plugins are not supported; "
                  "use a token or a client certificate");
    }
    access.token = text_at(user, "token");
    access.token_file = file_at(text_at(user, "tokenFile"));
    access.client_cert_file = file_at(text_at(user, "client-certificate"));
    access.client_key_file = file_at(text_at(user, "client-key"));
    if (auto data = text_at(user, "client-certificate-data"); !data.empty()) {
      auto pem = base64_decode(data);
      if (!pem) return fail("user '" + user_name + "': client-certificate-data is not base64");
      access.client_cert_pem = std::move(*pem);
    }
    if (auto data = text_at(user, "client-key-data"); !data.empty()) {
      auto pem = base64_decode(data);
      if (!pem) return fail("user '" + user_name + "': client-key-data is not base64");
      access.client_key_pem = std::move(*pem);
    }
    const bool has_cert = !access.client_cert_file.empty() || !access.client_cert_pem.empty();
    const bool has_key = !access.client_key_file.empty() || !access.client_key_pem.empty();
    if (has_cert != has_key) {
      return fail("user '" + user_name +
                  "': a client certificate needs its key and a key its "
                  "certificate");
    }
  }
  return access;
}

std::string current_token(const KubeAccess& access) {
  if (access.token_file.empty()) return access.token;
  std::string token;
  if (!read_small_file(access.token_file, token)) return {};
  return trim_right(std::move(token));
}

}  // namespace vx::adapters::k8s
