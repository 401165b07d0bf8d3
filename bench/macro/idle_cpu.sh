#!/usr/bin/env bash
# idle_cpu.sh — what a proxy costs while nothing happens: Vortex with no plugin, Vortex with the
# header plugin on V8 (examples/plugins/hello_header.c; V8 brings a watchdog thread that stops
# calls past max_call), nginx and haproxy, one worker each, in front of the same origin. Each
# is started, answers WARM_REQUESTS requests, is left alone SETTLE_S seconds, and is then
# watched for IDLE_S seconds: the context switches of all its threads (voluntary and not, from
# /proc/PID/task/*/status: how often it wakes up) and its CPU time (utime + stime).
#
# Usage: bench/macro/idle_cpu.sh        (make bench-idle runs it)
# Env (defaults):
#   IDLE_S=10 SETTLE_S=3 WARM_REQUESTS=10
#   TARGETS="vortex vortex+wasm nginx haproxy"
#   VORTEX=build/vortex           the binary under test (its build's examples/hello_header.wasm)
#   LOAD_CPU=0 PROXY_CPU=1        pinning: origin and curl; the proxy alone
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

IDLE_S=${IDLE_S:-10}
SETTLE_S=${SETTLE_S:-3}
WARM_REQUESTS=${WARM_REQUESTS:-10}
TARGETS=${TARGETS:-vortex vortex+wasm nginx haproxy}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}

knobs_only "$@"
for tool in nginx haproxy curl taskset setsid awk; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
[[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (make build, or set VORTEX)"
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")
header=$(dirname "$VORTEX")/examples/hello_header.wasm
[[ $TARGETS != *vortex+wasm* || -f $header ]] || die "no $header (make build makes it)"

bench_begin idle
mapfile -t ports < <(pick_ports 3)
origin_port=${ports[0]} port=${ports[1]} metrics_port=${ports[2]}
# shellcheck disable=SC2046  # the command line gen_origin prints is meant to be split
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "$origin_port" 128)
wait_ok origin "http://127.0.0.1:$origin_port/"

# switches PGID -> context switches so far of every thread of every process in the group
switches() {
  local pid sum=0 n
  for pid in $(group_pids "$1" | tr , ' '); do
    n=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches:/ { s += $2 } END { print s + 0 }')
    sum=$((sum + n))
  done
  echo "$sum"
}

# shellcheck disable=SC2046  # the command lines gen_* print are meant to be split
start_target() {
  local t=$1 dir="$RUN_DIR/$1"
  case $t in
    vortex | vortex+wasm)
      if [[ $t == vortex+wasm ]]; then
        printf 'wasm:\n  runtime: v8\n  plugins:\n    - { name: hello, file: "%s", config: "bench" }\n' \
          "$header" >"$RUN_DIR/wasm.yaml"
        BENCH_VORTEX_WASM=$RUN_DIR/wasm.yaml
      fi
      gen_vortex "$dir" "$port" "127.0.0.1:$origin_port" "$metrics_port"
      BENCH_VORTEX_WASM=""
      start_pinned "$t" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
      ;;
    nginx) start_pinned "$t" "$PROXY_CPU" $(gen_nginx "$dir" "$port" "127.0.0.1:$origin_port") ;;
    haproxy) start_pinned "$t" "$PROXY_CPU" $(gen_haproxy "$dir" "$port" "127.0.0.1:$origin_port") ;;
    *) die "unknown target $t" ;;
  esac
}

printf '%-12s %14s %18s\n' target "wakeups/s" "CPU ms per 10 s"
for t in $TARGETS; do
  start_target "$t"
  wait_ok "$t" "http://127.0.0.1:$port/"
  for _ in $(seq "$WARM_REQUESTS"); do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"; done
  sleep "$SETTLE_S"
  pg=${BENCH_PID[$t]}
  s0=$(switches "$pg") c0=$(group_ticks "$pg")
  sleep "$IDLE_S"
  s1=$(switches "$pg") c1=$(group_ticks "$pg")
  awk -v t="$t" -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v el="$IDLE_S" -v hz="$CLK_TCK" \
    'BEGIN { printf "%-12s %14.1f %18.0f\n", t, s / el, 1000 * c / hz * 10 / el }'
  stop_group "$pg"
done
