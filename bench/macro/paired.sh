#!/usr/bin/env bash
# paired.sh — CPU per request of several proxies side by side, in many short interleaved rounds:
# two Vortex binaries (before and after a change) and nginx, say. Each proxy's CPU is counted
# with `perf stat -e task-clock` on its own processes only, over exactly the measured seconds.
#
# Why beside http1.sh: this VM's speed swings by a third within minutes (the hypervisor's steal),
# more than the differences worth measuring. Rounds of a few seconds put every target in the
# same phase of the VM within a round, and the per-round ratios cancel most of the swing; the
# script prints the medians and the median of the per-round ratios first target ÷ target.
#
# Usage: bench/macro/paired.sh TARGET...     TARGET: nginx, haproxy, or a Vortex binary's path,
#          or BINARY+WASM.yaml: its route runs the plugin of that `wasm:` block (see wasm.sh)
#   e.g. bench/macro/paired.sh nginx /tmp/vortex-before build/vortex
#   (nginx first: the ratios are then http1.sh's "cpu eff vs nginx", above 1 = less CPU)
# Env (defaults):
#   ROUNDS=16 DURATION=2 WARMUP=1   rounds; seconds per measured run; warm-up seconds before each
#   CONNS=64 BODY_BYTES=128         wrk -t1 -c; origin response body
#   LOAD_CPU=0 PROXY_CPU=1          pinning (wrk and the origin; the proxies)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ROUNDS=${ROUNDS:-16}
DURATION=${DURATION:-2}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-64}
BODY_BYTES=${BODY_BYTES:-128}

case ${1:-} in
  -h | --help | "")
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    [[ -n ${1:-} ]] && exit 0
    exit 2
    ;;
esac
for tool in perf nginx wrk curl taskset setsid awk; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
((ROUNDS >= 1 && DURATION >= 1 && WARMUP >= 0 && CONNS >= 1)) || die "bad ROUNDS/DURATION/WARMUP/CONNS"
(($# <= 5)) || die "at most 5 targets"
for t in "$@"; do
  case $t in
    nginx | haproxy) have "$t" || die "missing $t" ;;
    *)
      [[ -x ${t%%+*} ]] || die "no Vortex binary at ${t%%+*}"
      [[ $t != *+* || -f ${t#*+} ]] || die "no wasm block file at ${t#*+}"
      ;;
  esac
done

bench_begin paired
mapfile -t ports < <(pick_ports 11)
origin="127.0.0.1:${ports[0]}"
# shellcheck disable=SC2046  # a generated command line, split on purpose
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "${ports[0]}" "$BODY_BYTES")
wait_ok origin "http://$origin/"

declare -a names=() urls=()
i=1
for t in "$@"; do
  name="t$i" port=${ports[i]}
  case $t in
    nginx | haproxy)
      # shellcheck disable=SC2046
      start_pinned "$name" "$PROXY_CPU" $("gen_$t" "$RUN_DIR/$name" "$port" "$origin")
      ;;
    *)
      BENCH_VORTEX_WASM=""
      [[ $t == *+* ]] && BENCH_VORTEX_WASM=${t#*+}
      gen_vortex "$RUN_DIR/$name" "$port" "$origin" "${ports[i + 5]}"
      "${t%%+*}" check --config "$RUN_DIR/$name/vortex.yaml" >&2 || die "$t: vortex check refuses its config"
      start_pinned "$name" "$PROXY_CPU" "${t%%+*}" run --config "$RUN_DIR/$name/vortex.yaml"
      ;;
  esac
  wait_ok "$name" "http://127.0.0.1:$port/"
  names+=("$name")
  urls+=("http://127.0.0.1:$port/")
  log "$name = $t"
  i=$((i + 1))
done

rows="$RUN_DIR/rounds.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
  line="round $r:"
  for ((k = 0; k < ${#names[@]}; k++)); do
    name=${names[k]}
    pids=$(pgrep -g "${BENCH_PID[$name]}" | paste -sd,)
    ((WARMUP == 0)) || run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${urls[k]}" >/dev/null
    perf stat -x, -e task-clock -p "$pids" -o "$RUN_DIR/perf" -- sleep "$DURATION" &
    perf_pid=$!
    run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${urls[k]}" >"$RUN_DIR/wrk"
    wait "$perf_pid"
    grep -q "Non-2xx\|Socket errors" "$RUN_DIR/wrk" && die "$name: errors under load (see $RUN_DIR/wrk)"
    requests=$(awk '/ requests in / { print $1 }' "$RUN_DIR/wrk")
    ms=$(awk -F, '/task-clock/ { print $1 }' "$RUN_DIR/perf")
    [[ -n $requests && -n $ms ]] || die "$name: no request count or CPU time"
    us=$(awk -v ms="$ms" -v n="$requests" 'BEGIN { printf "%.2f", ms * 1000 / n }')
    printf '%d\t%s\t%s\n' "$r" "$name" "$us" >>"$rows"
    line+=" $name $us"
  done
  log "$line"
done

echo
echo "CPU µs per request, $ROUNDS rounds of ${DURATION}s, wrk -t1 -c$CONNS (ratio: t1 ÷ target, per round, then median)"
i=1
for t in "$@"; do
  awk -F'\t' -v me="t$i" -v label="$t" '
    $2 == "t1" { base[$1] = $3 }
    $2 == me { us[++n] = $3; ratio[n] = base[$1] / $3 }
    function median(a, n,   i, j, tmp) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { tmp = a[j]; a[j] = a[j - 1]; a[j - 1] = tmp }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END { printf "t%-2s %-40s median %7.2f µs/req   t1 ÷ this %.3f\n", substr(me, 2), label, median(us, n), median(ratio, n) }
  ' "$rows"
  i=$((i + 1))
done
