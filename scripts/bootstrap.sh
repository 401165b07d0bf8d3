#!/usr/bin/env bash
# Installs every Debian 12 package Vortex's build, tests and benchmarks need.
# Idempotent: when everything is present it prints nothing and touches nothing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy
  libboost1.81-dev node-llhttp libssl-dev libnghttp2-dev libhiredis-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libyaml-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libjemalloc-dev
  libre2-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  # Wasm: libnode108's run-time dependencies (libnode itself: scripts/fetch_libnode.sh), the
  # tools that build the test and example guests, and wabt (also the WABT engine's headers and
  # libwabt.a, wasm.runtime: wabt)
  libuv1 libicu72 libc-ares2 libbrotli1 clang lld wabt
  # kernel-side bans (docs/xdp.md): the XDP program is compiled by clang for the BPF target
  # against the kernel's UAPI headers, embedded by bpftool's skeleton and loaded with libbpf;
  # its tests make network namespaces and veth pairs with iproute2
  libbpf-dev bpftool linux-libc-dev iproute2
  # HTTP/3 (docs/http3.md): ngtcp2 + nghttp3 over GnuTLS; the tests' clients are a quic-go
  # program built offline from Debian's Go packages (tests/h3client) and ngtcp2's gtlsclient
  libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev libgnutls28-dev
  golang-go golang-github-lucas-clemente-quic-go-dev ngtcp2-client
  # fuzzing (make fuzz): libFuzzer and the sanitizer runtimes for clang
  libclang-rt-14-dev
  # tests: real clients and servers
  python3 python3-pytest python3-pytest-timeout python3-pytest-rerunfailures python3-httpx python3-h2 python3-hpack python3-hyperframe python3-redis python3-grpcio python3-protobuf
  curl openssl redis-server nghttp2-client prometheus
  # benchmarks: the peers and the load generator; valgrind counts instructions per request,
  # perf the proxies' CPU (bench/macro/paired.sh, PERF= profiles)
  nginx haproxy wrk valgrind linux-perf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exec "$(dirname "$0")/fetch_libnode.sh"
fi

sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged servers; Vortex's tests and benchmarks start their own.
for svc in nginx haproxy redis-server prometheus; do
  $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
exec "$(dirname "$0")/fetch_libnode.sh"
