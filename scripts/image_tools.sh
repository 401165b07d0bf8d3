#!/usr/bin/env bash
# The tools `make docker-build` needs where no docker daemon runs: buildah builds the image
# (podman's own build fails in cgroup-hybrid sandboxes, docs in deploy/README.md), mmdebstrap
# makes the Debian base where no registry is reachable. Installed here, only on this path, so
# scripts/bootstrap.sh (what CI runs) stays small. Idempotent: silent when all are present.
set -euo pipefail

packages=(buildah mmdebstrap uidmap fuse-overlayfs crun)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
echo "image tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
