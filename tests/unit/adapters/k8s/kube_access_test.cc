#include "adapters/k8s/kube_access.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vx::adapters::k8s {
namespace {

class KubeAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("kube_access_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(KubeAccessTest, ReadsTheCurrentContextsClusterAndUser) {
  const std::string path = write("config", R"(
apiVersion: v1
kind: Config
current-context: b
contexts:
  - { name: a, context: { cluster: one, user: alice } }
  - { name: b, context: { cluster: two, user: bob } }
clusters:
  - { name: one, cluster: { server: "https://one:6443" } }
  - { name: two, cluster: { server: "https://127.0.0.1:7443/", certificate-authority: ca.pem } }
users:
  - { name: alice, user: { token: wrong } }
  - { name: bob, user: { client-certificate: c.pem, client-key-data: a2V5 } }
)");
  auto access = kubeconfig_access(path);
  ASSERT_TRUE(access.has_value()) << access.error();
  EXPECT_EQ(access->server, "https://127.0.0.1:7443");
  EXPECT_EQ(access->ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(access->client_cert_file, (dir_ / "c.pem").string());
  EXPECT_EQ(access->client_key_pem, "key");
  EXPECT_TRUE(access->token.empty());
}

TEST_F(KubeAccessTest, ATokenFileIsReadAgainEachTime) {
  const std::string token = write("token", "first\n");
  const std::string path = write("config", R"(
current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://k:443", certificate-authority-data: Y2E= } }]
users: [{ name: u, user: { tokenFile: token } }]
)");
  auto access = kubeconfig_access(path);
  ASSERT_TRUE(access.has_value()) << access.error();
  EXPECT_EQ(access->ca_pem, "ca");
  EXPECT_EQ(current_token(*access), "first");
  write("token", "second");
  EXPECT_EQ(current_token(*access), "second");
}

TEST_F(KubeAccessTest, RefusesWhatItCannotUse) {
  EXPECT_FALSE(kubeconfig_access((dir_ / "missing").string()).has_value());
  EXPECT_FALSE(kubeconfig_access(write("a", "current-context: x\ncontexts: []\n")).has_value());
  auto exec = kubeconfig_access(write("b", R"(
current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://k:443" } }]
users: [{ name: u, user: { exec: { command: aws } } }]
)"));
  ASSERT_FALSE(exec.has_value());
  EXPECT_NE(exec.error().find("exec"), std::string::npos);
  EXPECT_FALSE(kubeconfig_access(write("c", R"(
current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "ftp://k" } }]
users: [{ name: u, user: {} }]
)"))
                   .has_value());
}

TEST_F(KubeAccessTest, InClusterUsesTheServiceAccountDirectoryAndEnvironment) {
  write("token", "sa-token\n");
  ::setenv("VORTEX_K8S_SA_DIR", dir_.c_str(), 1);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(in_cluster_access().has_value());
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto access = in_cluster_access();
  ASSERT_TRUE(access.has_value()) << access.error();
  EXPECT_EQ(access->server, "https://10.96.0.1:443");
  EXPECT_EQ(access->ca_file, (dir_ / "ca.crt").string());
  EXPECT_EQ(current_token(*access), "sa-token");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ::unsetenv("VORTEX_K8S_SA_DIR");
}

}  // namespace
}  // namespace vx::adapters::k8s
