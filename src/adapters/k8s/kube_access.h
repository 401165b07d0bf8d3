// KubeAccess: where the Kubernetes API server is and how to authenticate to it, from the pod's
// service account (in-cluster) or a kubeconfig file. Files named here are read again on every
// connection (KubeClient), so a rotated service-account token is picked up without a restart.
// Value type; the loaders are blocking file reads for the control plane only.
#pragma once

#include <string>

#include "core/result.h"

namespace vx::adapters::k8s {

struct KubeAccess {
  std::string server;  // "https://host:port", no trailing '/'
  // The CA that signs the server's certificate: a file or PEM data (kubeconfig
  // certificate-authority-data). Neither: the system store.
  std::string ca_file;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;  // kubeconfig insecure-skip-tls-verify: true
  // Bearer token: a file read at every connection (in-cluster; kubeconfig tokenFile) or a value.
  std::string token_file;
  std::string token;
  // Client certificate and key: files or PEM data (kubeconfig client-certificate(-data),
  // client-key(-data)).
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  std::string origin;  // "in-cluster" or the kubeconfig path, for log lines
};

// The service-account directory in a pod; VORTEX_K8S_SA_DIR overrides it (tests).
inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the CA <dir>/ca.crt and
// the token <dir>/token. Refused: either variable unset, or the token file unreadable now.
core::Result<KubeAccess, std::string> in_cluster_access();

// A kubeconfig file: its current-context's cluster (server, certificate-authority(-data),
// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate(-data) +
// client-key(-data)); relative paths are taken from the file's folder. Refused with the reason:
// unreadable or not YAML, no current-context, a context, cluster or user it names missing, a
// server that is not https:// or http://, or a user with an exec / auth-provider plugin (not
// supported).
core::Result<KubeAccess, std::string> kubeconfig_access(const std::string& path);

// The bearer token to send now: token_file read again (trailing whitespace trimmed) when set,
// else `token`; empty when there is none or the file cannot be read.
std::string current_token(const KubeAccess& access);

}  // namespace vx::adapters::k8s
