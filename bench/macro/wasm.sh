#!/usr/bin/env bash
# wasm.sh — what a Wasm plugin costs per request (issue 14): the same Vortex binary with no
# plugin, with one header-adding Proxy-Wasm plugin (examples/plugins/hello_header.c: one request
# and one response header) on V8 and on WABT, with the same plugin keeping state in its stream
# callbacks as SDK-built plugins do (tests/wasm/header_stateful.c: the host cannot leave those
# calls out) on V8, and with one `execute` plugin, beside nginx, in paired.sh's interleaved
# rounds (CPU per request from perf's task-clock, per-round ratios; WABT in MODE=instructions
# only).
#
# MODE=instructions: instead, user-space instructions per request of each Vortex variant under
# callgrind (instructions.sh, PROXIES=vortex): no timing noise, V8's JIT code counted too.
#
# Usage: bench/macro/wasm.sh            (make bench-wasm runs it)
#        MODE=instructions bench/macro/wasm.sh
# Env: VORTEX=build/vortex, and paired.sh's knobs (ROUNDS, DURATION, WARMUP, CONNS, BODY_BYTES)
#      or instructions.sh's (SHORT, LONG, CONNS).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
VORTEX=${VORTEX:-$repo/build/vortex}
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")
build=$(dirname "$VORTEX")
header=$build/examples/hello_header.wasm
stateful=$build/wasm/header_stateful.wasm
execute=$build/wasm/execute_allow.wasm
for f in "$header" "$stateful" "$execute"; do
  [[ -f $f ]] || { echo "wasm.sh: no $f (make build makes it)" >&2; exit 1; }
done

blocks=$(mktemp -d /tmp/vortex-bench-wasm.XXXXXX)
trap 'rm -rf "$blocks"' EXIT
plugin() { # plugin FILE RUNTIME NAME WASM ABI
  cat >"$1" <<YAML
wasm:
  runtime: $2
  plugins:
    - { name: $3, file: "$4", abi: $5, config: "bench", max_call_ms: 5000 }  # room for callgrind
YAML
}
plugin "$blocks/header-v8.yaml" v8 hello "$header" proxy_wasm
plugin "$blocks/header-wabt.yaml" wabt hello "$header" proxy_wasm
plugin "$blocks/stateful-v8.yaml" v8 hello "$stateful" proxy_wasm
plugin "$blocks/execute-v8.yaml" v8 allow "$execute" execute

if [[ ${MODE:-paired} == instructions ]]; then
  for variant in none header-v8 stateful-v8 execute-v8 header-wabt; do
    block=""
    [[ $variant == none ]] || block=$blocks/$variant.yaml
    echo "== $variant"
    BENCH_VORTEX_WASM=$block PROXIES=vortex VORTEX=$VORTEX "$here/instructions.sh"
  done
  exit 0
fi
# paired.sh takes five targets: WABT's header plugin is left to MODE=instructions.
"$here/paired.sh" "$VORTEX" "$VORTEX+$blocks/header-v8.yaml" "$VORTEX+$blocks/stateful-v8.yaml" \
  "$VORTEX+$blocks/execute-v8.yaml" nginx
