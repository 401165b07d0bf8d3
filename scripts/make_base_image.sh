#!/usr/bin/env bash
# Makes the Debian 12 base image locally, for machines that reach Debian's package mirror but
# no container registry: mmdebstrap builds a minimal bookworm root filesystem from the mirror
# apt uses, and the engine imports it as IMAGE. The Dockerfile then takes it as its BASE.
# Usage: scripts/make_base_image.sh ENGINE [IMAGE]   (ENGINE: docker | buildah | podman)
set -euo pipefail
engine=${1:?usage: make_base_image.sh docker|buildah|podman [IMAGE]}
image=${2:-localhost/debian:bookworm}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "base image: building $image with mmdebstrap (no registry reachable)"
# Once more on failure: on a busy machine its cleanup has been seen to fail unmounting the
# chroot's /proc ("target is busy") after a complete build.
for attempt in 1 2; do
  rm -f "$work/rootfs.tar"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$work/rootfs.tar" && break
  [[ $attempt == 2 ]] && { echo "base image: mmdebstrap failed twice" >&2; exit 1; }
  echo "base image: mmdebstrap failed; trying again"
done
case $engine in
  docker | podman) "$engine" import "$work/rootfs.tar" "$image" >/dev/null ;;
  buildah)
    # buildah has no import: an empty container, the tree added to it, committed.
    ctr=$(buildah from scratch)
    buildah add --quiet "$ctr" "$work/rootfs.tar" / >/dev/null
    buildah config --cmd /bin/bash "$ctr"
    buildah commit --quiet --rm "$ctr" "$image" >/dev/null
    ;;
  *) echo "make_base_image.sh: unknown engine $engine" >&2; exit 2 ;;
esac
echo "base image: $image ready"
