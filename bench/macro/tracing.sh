#!/usr/bin/env bash
# tracing.sh — what tracing costs (issue 17): the same Vortex binary, one worker, in front of the
# same origin, with tracing off ("off": no otlp_endpoint) and on ("on": sample_ratio 1.0, every
# request a SERVER and a CLIENT span exported to a live collector, bench/macro/otlp_sink.py).
#
# Two measurements, both counting the whole Vortex process (workers and the exporter thread):
#  1. instructions per request under callgrind (as instructions.sh: a SHORT and a LONG wrk run
#     in fresh processes, the difference over the difference of requests). Noise-immune: other
#     work on the machine does not change it.
#  2. CPU per request, timed: off and on interleaved in ROUNDS rounds of DURATION seconds (wrk
#     -c$CONNS), Vortex's CPU ticks ÷ requests; "on vs off" is the median of per-round ratios.
#
# Usage: bench/macro/tracing.sh        (make bench-tracing runs it)
# Env (defaults):
#   SHORT=3 LONG=10                 callgrind runs (seconds); SKIP_CALLGRIND=1 skips them
#   ROUNDS=6 DURATION=5 WARMUP=1    timed rounds; SKIP_TIMED=1 skips them
#   CONNS=8 BODY_BYTES=128          wrk -t1 -c; origin response body
#   RATIO=1.0                       "on"'s sample_ratio (0: traced and propagated, never sampled)
#   VORTEX=build/vortex             the binary under test (a Release build, for numbers that count)
#   LOAD_CPU=0 PROXY_CPU=1          pinning: wrk, origin and collector; Vortex alone
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SHORT=${SHORT:-3}
LONG=${LONG:-10}
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-8}
BODY_BYTES=${BODY_BYTES:-128}
RATIO=${RATIO:-1.0}
SKIP_CALLGRIND=${SKIP_CALLGRIND:-0}
SKIP_TIMED=${SKIP_TIMED:-0}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}

knobs_only "$@"
for tool in valgrind callgrind_annotate wrk curl taskset setsid awk /usr/bin/python3; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
[[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (make build, or set VORTEX)"
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")
((LONG > SHORT)) || die "LONG must be greater than SHORT"

bench_begin tracing
mapfile -t ports < <(pick_ports 6)
origin_port=${ports[0]} sink_port=${ports[1]}
# shellcheck disable=SC2046  # the command line gen_origin prints is meant to be split
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "$origin_port" "$BODY_BYTES")
wait_ok origin "http://127.0.0.1:$origin_port/"
start_pinned sink "$LOAD_CPU" /usr/bin/python3 "$MACRO_DIR/otlp_sink.py" "$sink_port"
wait_ok sink "http://127.0.0.1:$sink_port/stats"

# config TARGET PORT METRICS_PORT: DIR/vortex.yaml of that target; prints the dir.
config() {
  local t=$1 dir="$RUN_DIR/vortex-$1-$2"
  gen_vortex "$dir" "$2" "127.0.0.1:$origin_port" "$3"
  if [[ $t == on ]]; then
    echo "tracing: { otlp_endpoint: \"http://127.0.0.1:$sink_port\", sample_ratio: $RATIO, service_name: bench }" >>"$dir/vortex.yaml"
  fi
  "$VORTEX" check --config "$dir/vortex.yaml" >&2 || die "vortex check rejects $dir/vortex.yaml"
  echo "$dir"
}

sink_posts() { curl -s --max-time 2 "http://127.0.0.1:$sink_port/stats" | awk '{ print $1 }'; }

# check_traced TARGET URL METRICS_PORT: "on" exports (the sink gets posts, nothing dropped);
# "off" adds no traceparent.
check_traced() {
  local t=$1 url=$2 metrics=$3 before dropped
  [[ $t == off ]] && return 0
  awk -v r="$RATIO" 'BEGIN { exit !(r > 0) }' || return 0  # nothing sampled, nothing exported
  before=$(sink_posts)
  curl -s -o /dev/null --max-time 5 "$url"
  for _ in $(seq 100); do (($(sink_posts) > before)) && break; sleep 0.1; done
  (($(sink_posts) > before)) || die "on: no span reached the collector"
  dropped=$(curl -s --max-time 5 "http://127.0.0.1:$metrics/metrics" | awk '/^vortex_tracing_spans_dropped_total/ { print $2 }')
  [[ $dropped == 0 ]] || log "warning: on: $dropped spans dropped (the collector did not keep up)"
}

echo "# bench/macro/tracing.sh  $(date -Is)"
echo "# command: SHORT=$SHORT LONG=$LONG ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS BODY_BYTES=$BODY_BYTES RATIO=$RATIO VORTEX=$(printf %q "${VORTEX#"$REPO_DIR"/}") bench/macro/tracing.sh"
echo "# host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); $("$VORTEX" version 2>&1 | head -1)"
echo "# Vortex (workers: 1) on CPU $PROXY_CPU alone; origin, wrk and the OTLP sink on CPU $LOAD_CPU"

# ------------------------------------------------------------------------------ 1. callgrind
if [[ $SKIP_CALLGRIND != 1 ]]; then
  measure_instr() {
    local t=$1 seconds=$2 port=${ports[2]} metrics=${ports[3]} dir out
    dir=$(config "$t" "$port" "$metrics")
    out="$RUN_DIR/$t-$seconds.callgrind"
    start_pinned "cg-$t-$seconds" "$PROXY_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$VORTEX" run -c "$dir/vortex.yaml"
    wait_ok "cg-$t-$seconds" "http://127.0.0.1:$port/" 60
    check_traced "$t" "http://127.0.0.1:$port/" "$metrics"
    run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${seconds}s" \
      "http://127.0.0.1:$port/" >"$RUN_DIR/$t-$seconds.wrk"
    callgrind_counts "cg-$t-$seconds" "$RUN_DIR/$t-$seconds.wrk" "$out"
  }
  echo
  echo "1. Instructions per request (callgrind, whole process: workers + exporter thread)"
  echo
  echo "| tracing | instr (${SHORT}s) | requests | instr (${LONG}s) | requests | instr/request |"
  echo "|---|--:|--:|--:|--:|--:|"
  declare -A PER=()
  for t in off on; do
    log "callgrind: $t, ${SHORT}s and ${LONG}s"
    measure_instr "$t" "$SHORT"
    i1=$INSTRUCTIONS r1=$REQUESTS
    measure_instr "$t" "$LONG"
    i2=$INSTRUCTIONS r2=$REQUESTS
    ((r2 > r1)) || die "$t served no more requests in ${LONG}s than in ${SHORT}s"
    PER[$t]=$(((i2 - i1) / (r2 - r1)))
    echo "| $t | $i1 | $r1 | $i2 | $r2 | ${PER[$t]} |"
  done
  awk -v off="${PER[off]}" -v on="${PER[on]}" \
    'BEGIN { printf "\non vs off: %+.1f %% instructions per request\n", 100 * (on / off - 1) }'
fi

# ------------------------------------------------------------------------------ 2. timed
if [[ $SKIP_TIMED != 1 ]]; then
  declare -A URL=() PG=()
  i=2
  for t in off on; do
    port=${ports[i]} metrics=${ports[i + 2]}
    i=$((i + 1))
    dir=$(config "$t" "$port" "$metrics")
    start_pinned "vortex-$t" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
    URL[$t]="http://127.0.0.1:$port/" PG[$t]=${BENCH_PID[vortex-$t]}
    wait_ok "vortex-$t" "${URL[$t]}" 20
    check_traced "$t" "${URL[$t]}" "$metrics"
  done
  TSV="$RUN_DIR/timed.tsv"
  : >"$TSV"
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in off on; do
      ((r % 2 == 0)) && t=$([[ $t == off ]] && echo on || echo off)  # alternate who goes first
      run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${URL[$t]}" >/dev/null 2>&1 || true
      t0=$(group_ticks "${PG[$t]}")
      run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${URL[$t]}" >"$RUN_DIR/wrk-$r-$t.txt"
      t1=$(group_ticks "${PG[$t]}")
      grep -q "Non-2xx" "$RUN_DIR/wrk-$r-$t.txt" && die "$t answered non-2xx"
      req=$(awk '/ requests in / { print $1 }' "$RUN_DIR/wrk-$r-$t.txt")
      rps=$(awk '/^Requests\/sec/ { print $2 }' "$RUN_DIR/wrk-$r-$t.txt")
      us=$(awk -v d=$((t1 - t0)) -v n="$req" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
      printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$rps" "$us" >>"$TSV"
      log "  round $r $t: $rps req/s, $us µs CPU/request"
    done
  done
  echo
  echo "2. CPU per request, timed (wrk -c$CONNS, $ROUNDS rounds of ${DURATION}s; medians; on vs off: median of per-round ratios)"
  echo
  awk -F'\t' '
    function isort(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(a, n) { isort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { rps[$2, $1] = $3; us[$2, $1] = $4; if ($1 > rounds) rounds = $1 }
    END {
      print "| tracing | req/s | Vortex CPU µs/request | vs off |"
      print "|---|--:|--:|--:|"
      for (k = 1; k <= 2; k++) {
        t = k == 1 ? "off" : "on"
        for (r = 1; r <= rounds; r++) { a[r] = rps[t, r]; b[r] = us[t, r]; c[r] = us[t, r] / us["off", r] }
        printf "| %s | %.0f | %.2f | %s |\n", t, med(a, rounds), med(b, rounds), t == "off" ? "" : sprintf("%+.1f %%", 100 * (med(c, rounds) - 1))
      }
    }' "$TSV"
fi
echo
echo "collector: $(curl -s --max-time 2 "http://127.0.0.1:$sink_port/stats" | awk '{ printf "%d export requests, %d bytes", $1, $2 }')"
