#!/usr/bin/env bash
# `make docker-build`: builds the image IMAGE from the Dockerfile with docker when its daemon
# answers, else with buildah (podman's own build needs cgroup support some sandboxes lack; its
# images are buildah's, so podman users see the result). Where the Debian base cannot be
# pulled, it is made locally with mmdebstrap (scripts/make_base_image.sh).
# Environment: IMAGE (localhost/vortex:dev), BASE (debian:12), BUILD_ARGS (extra --build-arg
# flags, e.g. "--build-arg VORTEX_LTO=OFF --build-arg JOBS=2").
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-localhost/vortex:dev}
base=${BASE:-debian:12}
local_base=localhost/debian:bookworm
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
  engine=docker
else
  scripts/image_tools.sh
  engine=buildah
fi

have_image() {
  if [[ $engine == docker ]]; then docker image inspect "$1"; else buildah inspect --type image "$1"; fi >/dev/null 2>&1
}
# A pull that cannot reach a registry fails within seconds; the timeout bounds one that hangs.
if ! have_image "$base" && ! timeout 120 "$engine" pull -q "$base" >/dev/null 2>&1; then
  echo "docker-build: cannot pull $base; using $local_base"
  base=$local_base
  have_image "$base" || scripts/make_base_image.sh "$engine" "$base"
fi

echo "docker-build: $engine builds $image from $base (commit $commit)"
args=(--build-arg "BASE=$base" --build-arg "VORTEX_COMMIT=$commit" ${BUILD_ARGS:-} -t "$image" -f Dockerfile .)
if [[ $engine == docker ]]; then
  docker build "${args[@]}"
else
  # chroot isolation: no user namespaces or cgroups needed; --layers keeps the bootstrap layer
  # cached across builds.
  buildah bud --isolation chroot --layers "${args[@]}"
fi
echo "docker-build: $image built"
