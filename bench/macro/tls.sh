#!/usr/bin/env bash
# tls.sh — HTTPS + HTTP/2 (h2load -c16 -m16, TLS 1.3, ECDSA P-256, HTTP/1.1 upstream): Vortex
# beside nginx, haproxy (and h2o, caddy when installed), one worker each, pinned, interleaved
# rounds, same run. It drives the shared peer harness (../shared/bench/peers.sh --tls), which
# also runs its plain HTTP/1.1 scenario first, with Vortex plugged in as the extra proxy.
#
# Usage: bench/macro/tls.sh
# Env (defaults):
#   VORTEX=build/vortex        the binary under test (a Release build, for numbers that count)
#   PEERS=../shared/bench/peers.sh   the harness; ROUNDS, DURATION, H2_CONNS, H2_STREAMS and
#                              its other knobs pass through (see peers.sh --help)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
peers=${PEERS:-$repo/../shared/bench/peers.sh}
extra=$(dirname "$peers")/vortex_extra.sh
case ${1:-} in
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac
[[ -x $peers ]] || { echo "tls.sh: no peer harness at $peers (set PEERS)" >&2; exit 1; }
export VORTEX=${VORTEX:-$repo/build/vortex}
[[ -x $VORTEX ]] || { echo "tls.sh: no vortex binary at $VORTEX (make build)" >&2; exit 1; }
EXTRA_NAME=vortex EXTRA_CMD=$extra EXTRA_TLS_CMD=$extra exec "$peers" --tls "$@"
