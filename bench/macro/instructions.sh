#!/usr/bin/env bash
# instructions.sh — user-space instructions per proxied request, Vortex beside nginx, counted
# with valgrind's callgrind. Unlike CPU time, the count does not drift with the VM's speed, so
# it shows small changes to the hot path that the timed benchmarks (http1.sh) cannot resolve.
# It says nothing about the kernel's share (about 70 % of a request's CPU here, and the same
# for both) nor about cache misses: a claim about speed still needs http1.sh.
#
# Each proxy (one worker; nginx with master_process off) runs under callgrind in front of the
# same origin as http1.sh, and wrk -t1 -c$CONNS drives it twice: SHORT then LONG seconds, each
# run in a fresh process. The difference of the two totals over the difference of the request
# counts is the cost per request, start-up and shutdown excluded.
#
# Usage: bench/macro/instructions.sh
# Env (defaults):
#   SHORT=3 LONG=10 CONNS=8 BODY_BYTES=128
#   PROXIES="vortex nginx"   VORTEX=build/vortex
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SHORT=${SHORT:-3}
LONG=${LONG:-10}
CONNS=${CONNS:-8}
BODY_BYTES=${BODY_BYTES:-128}
PROXIES=${PROXIES:-"vortex nginx"}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}

knobs_only "$@"
for tool in valgrind callgrind_annotate nginx wrk curl taskset setsid; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
((LONG > SHORT)) || die "LONG must be greater than SHORT"

bench_begin instructions
mapfile -t ports < <(pick_ports 4)
origin_port=${ports[0]} proxy_port=${ports[1]} metrics_port=${ports[2]}

# shellcheck disable=SC2046  # the command line gen_origin prints is meant to be split
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "$origin_port" "$BODY_BYTES")
wait_ok origin "http://127.0.0.1:$origin_port/"

# measure TARGET SECONDS: sets INSTRUCTIONS and REQUESTS (in this shell, so that the EXIT trap
# knows every process it started).
measure() {
  local target=$1 seconds=$2 out="$RUN_DIR/$1-$2.callgrind"
  local -a cmd
  case $target in
    vortex)
      gen_vortex "$RUN_DIR/vortex" "$proxy_port" "127.0.0.1:$origin_port" "$metrics_port" >/dev/null
      cmd=("$VORTEX" run -c "$RUN_DIR/vortex/vortex.yaml")
      ;;
    nginx)
      gen_nginx "$RUN_DIR/nginx" "$proxy_port" "127.0.0.1:$origin_port" >/dev/null
      cmd=(nginx -p "$RUN_DIR/nginx/" -e "$RUN_DIR/nginx/error.log" -c "$RUN_DIR/nginx/nginx.conf"
        -g "master_process off;")
      ;;
    *) die "unknown target $target (vortex, nginx)" ;;
  esac
  start_pinned "$target" "$PROXY_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}"
  wait_ok "$target" "http://127.0.0.1:$proxy_port/" 60
  run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${seconds}s" \
    "http://127.0.0.1:$proxy_port/" >"$RUN_DIR/$target-$seconds.wrk"
  callgrind_counts "$target" "$RUN_DIR/$target-$seconds.wrk" "$out"
}

printf '%-8s %14s %10s %14s %10s %16s\n' target "instr(${SHORT}s)" requests "instr(${LONG}s)" requests instr/request
for target in $PROXIES; do
  log "$target: ${SHORT}s and ${LONG}s under callgrind"
  measure "$target" "$SHORT"
  i1=$INSTRUCTIONS r1=$REQUESTS
  measure "$target" "$LONG"
  i2=$INSTRUCTIONS r2=$REQUESTS
  ((r2 > r1)) || die "$target served no more requests in ${LONG}s than in ${SHORT}s"
  printf '%-8s %14d %10d %14d %10d %16d\n' "$target" "$i1" "$r1" "$i2" "$r2" $(((i2 - i1) / (r2 - r1)))
done
