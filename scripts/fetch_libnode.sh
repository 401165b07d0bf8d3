#!/usr/bin/env bash
# V8 for the Wasm host: Debian 12's libnode108 (Node 18's V8 10.2), unpacked into .deps/libnode
# rather than installed. Machines with NodeSource's nodejs (this project's CI and dev VMs)
# cannot install libnode108 beside it, and /usr/include/node there holds another V8's headers
# (docs/wasm.md). Idempotent: prints nothing when the prefix is complete.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=.deps/libnode
[[ -e $prefix/usr/lib/x86_64-linux-gnu/libnode.so.108 && -e $prefix/usr/include/node/v8.h ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bootstrap: unpacking libnode108 + libnode-dev into $prefix"
# apt-get download runs as the unprivileged _apt user where it can; a root-owned temp dir
# makes it fall back to root with a warning, which is harmless here.
if ! (cd "$work" && apt-get download -qq libnode108 libnode-dev 2>/dev/null); then
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq libnode108 libnode-dev 2>/dev/null)
fi
rm -rf "$prefix"
mkdir -p "$prefix"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
