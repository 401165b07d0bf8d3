#!/usr/bin/env bash
# routes.sh — what the size of the route table costs (issue 19): the same Vortex binary, one
# worker, in front of the same origin, with 1, 1 000 and 10 000 routes of the shape gateways in
# front of many tenants carry (host + path_prefix, each its own tenant), the request matching
# the LAST route (the worst case of a scan), and for the biggest table also the first and the
# middle one. Every table has one cluster; only the matching route changes.
#
# Four measurements:
#  1. `vortex check` wall time (best of 3) and the RSS of a started Vortex, per table size.
#  2. instructions per request under callgrind (as instructions.sh: a SHORT and a LONG wrk run
#     in fresh processes, the difference over the difference of requests). Noise-immune.
#  3. CPU per request, timed: the cases interleaved in ROUNDS rounds of DURATION seconds
#     (wrk -c$CONNS), Vortex's CPU ticks ÷ requests; "vs 1 route" is the median of per-round
#     ratios against the 1-route case of the same round.
#  4. Reloads under traffic: RELOADS reloads of the biggest table (admin ReloadConfig through
#     vortexctl) while wrk drives it; any non-2xx or socket error fails the run.
#
# Usage: bench/macro/routes.sh        (make bench-routes runs it)
# Env (defaults):
#   SIZES="1 1000 10000"            route table sizes (the first is the reference)
#   SHORT=3 LONG=10                 callgrind runs (seconds); SKIP_CALLGRIND=1 skips them
#   ROUNDS=5 DURATION=4 WARMUP=1    timed rounds; SKIP_TIMED=1 skips them
#   RELOADS=5                       reloads under traffic (0 skips them)
#   CONNS=32 BODY_BYTES=128         wrk -t1 -c; origin response body
#   VORTEX=build/vortex VORTEXCTL=build/vortexctl   the binaries under test (Release builds)
#   LOAD_CPU=0 PROXY_CPU=1          pinning: wrk and origin; Vortex alone
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SIZES=${SIZES:-"1 1000 10000"}
SHORT=${SHORT:-3}
LONG=${LONG:-10}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
RELOADS=${RELOADS:-5}
CONNS=${CONNS:-32}
BODY_BYTES=${BODY_BYTES:-128}
SKIP_CALLGRIND=${SKIP_CALLGRIND:-0}
SKIP_TIMED=${SKIP_TIMED:-0}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}
VORTEXCTL=${VORTEXCTL:-$(dirname "$VORTEX")/vortexctl}

knobs_only "$@"
for tool in valgrind callgrind_annotate wrk curl taskset setsid awk; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
[[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (make build, or set VORTEX)"
[[ -x $VORTEXCTL ]] || die "no vortexctl at $VORTEXCTL (make build, or set VORTEXCTL)"
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")
((LONG > SHORT)) || die "LONG must be greater than SHORT"
read -ra sizes <<<"$SIZES"
biggest=${sizes[-1]}

# The cases: SIZE:WHERE, WHERE = the matching route's position (last, first, middle).
cases=()
for n in "${sizes[@]}"; do cases+=("$n:last"); done
((biggest > 2)) && cases+=("$biggest:first" "$biggest:middle")

bench_begin routes
mapfile -t ports < <(pick_ports $((2 + 2 * ${#cases[@]})))
origin_port=${ports[0]}
# shellcheck disable=SC2046  # the command line gen_origin prints is meant to be split
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "$origin_port" "$BODY_BYTES")
wait_ok origin "http://127.0.0.1:$origin_port/"

# config SIZE PORT METRICS_PORT: a SIZE-route config in its own dir; prints the dir. Route i
# matches host t<i>.example.com and path prefix /s<i>/.
config() {
  local n=$1 dir="$RUN_DIR/vortex-$1-$2"
  gen_vortex "$dir" "$2" "127.0.0.1:$origin_port" "$3"
  awk -v n="$n" '
    /^routes:/ { print; for (i = 0; i < n; i++) printf "  - { name: r%d, match: { host: \"t%d.example.com\", path_prefix: \"/s%d/\" }, cluster: origin }\n", i, i, i; skip = 1; next }
    skip && /^  - / { next }
    { skip = 0; print }' "$dir/vortex.yaml" >"$dir/vortex.yaml.new"
  mv "$dir/vortex.yaml.new" "$dir/vortex.yaml"
  "$VORTEX" check --config "$dir/vortex.yaml" >/dev/null || die "vortex check rejects $dir/vortex.yaml"
  echo "$dir"
}

# target CASE -> "HOST PATH" of the request that matches the case's route
target() {
  local n=${1%:*} where=${1#*:} i
  case $where in
    last) i=$((n - 1)) ;;
    first) i=0 ;;
    middle) i=$((n / 2)) ;;
  esac
  echo "t$i.example.com /s$i/x"
}

# check_routed PORT CASE: the case's request reaches the origin (200), a near miss is a 404.
check_routed() {
  local host path code
  read -r host path <<<"$(target "$2")"
  # Generous timeouts: under callgrind a request takes a while.
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Host: $host" "http://127.0.0.1:$1$path") || true
  [[ $code == 200 ]] || die "$2: the matching request got ${code:-no answer}"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Host: $host" "http://127.0.0.1:$1/nope$path") || true
  [[ $code == 404 ]] || die "$2: a request no route matches got ${code:-no answer}"
}

# wait_routed NAME PORT CASE [SECONDS]: until the case's request answers 200 (a big table under
# callgrind takes a while to load); dies early if NAME's process died.
wait_routed() {
  local name=$1 port=$2 host path deadline=$((SECONDS + ${4:-20}))
  read -r host path <<<"$(target "$3")"
  while ((SECONDS < deadline)); do
    kill -0 "${BENCH_PID[$name]}" 2>/dev/null || die "$name died while starting (log: $RUN_DIR/$name.log)"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Host: $host" "http://127.0.0.1:$port$path") == 200 ]] && return 0
    sleep 0.1
  done
  die "$name does not route $3 after ${4:-20} s (log: $RUN_DIR/$name.log)"
}

# drive SECONDS PORT CASE OUT: wrk against the case's route
drive() {
  local host path
  read -r host path <<<"$(target "$3")"
  run_loadgen taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${1}s" -H "Host: $host" \
    "http://127.0.0.1:$2$path" >"$4"
}

echo "# bench/macro/routes.sh  $(date -Is)"
echo "# command: SIZES=\"$SIZES\" SHORT=$SHORT LONG=$LONG ROUNDS=$ROUNDS DURATION=$DURATION RELOADS=$RELOADS CONNS=$CONNS BODY_BYTES=$BODY_BYTES VORTEX=$(printf %q "${VORTEX#"$REPO_DIR"/}") bench/macro/routes.sh"
echo "# host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); $("$VORTEX" version 2>&1 | head -1)"
echo "# Vortex (workers: 1) on CPU $PROXY_CPU alone; origin and wrk on CPU $LOAD_CPU; routes: host + path_prefix, one per tenant"

# ------------------------------------------------------------------------------ 1. size
echo
echo "1. Loading a table: vortex check (best of 3) and the RSS of a started Vortex"
echo
echo "| routes | vortex check | RSS after start | vs 1 route |"
echo "|--:|--:|--:|--:|"
base_rss=""
for n in "${sizes[@]}"; do
  dir=$(config "$n" "${ports[1]}" "${ports[2]}")
  best=""
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    "$VORTEX" check --config "$dir/vortex.yaml" >/dev/null
    ms=$((($(date +%s%N) - t0) / 1000000))
    [[ -z $best || $ms -lt $best ]] && best=$ms
  done
  start_pinned "size-$n" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
  wait_routed "size-$n" "${ports[1]}" "$n:last"
  sleep 3 # jemalloc's background thread returns the load's freed pages after 1 s
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/${BENCH_PID[size-$n]}/status")
  stop_group "${BENCH_PID[size-$n]}" 30
  [[ -z $base_rss ]] && base_rss=$rss
  awk -v n="$n" -v ms="$best" -v rss="$rss" -v base="$base_rss" \
    'BEGIN { printf "| %d | %d ms | %.1f MB | %+.1f MB |\n", n, ms, rss / 1024, (rss - base) / 1024 }'
done

# ------------------------------------------------------------------------------ 2. callgrind
if [[ $SKIP_CALLGRIND != 1 ]]; then
  measure_instr() {
    local c=$1 seconds=$2 port=${ports[1]} metrics=${ports[2]} dir out
    dir=$(config "${c%:*}" "$port" "$metrics")
    out="$RUN_DIR/${c/:/-}-$seconds.callgrind"
    start_pinned "cg-${c/:/-}-$seconds" "$PROXY_CPU" valgrind --tool=callgrind \
      --callgrind-out-file="$out" "$VORTEX" run -c "$dir/vortex.yaml"
    wait_routed "cg-${c/:/-}-$seconds" "$port" "$c" 120
    check_routed "$port" "$c"
    drive "$seconds" "$port" "$c" "$RUN_DIR/${c/:/-}-$seconds.wrk"
    callgrind_counts "cg-${c/:/-}-$seconds" "$RUN_DIR/${c/:/-}-$seconds.wrk" "$out"
  }
  echo
  echo "2. Instructions per request (callgrind, whole process)"
  echo
  echo "| routes | match | instr (${SHORT}s) | requests | instr (${LONG}s) | requests | instr/request | vs 1 route |"
  echo "|--:|---|--:|--:|--:|--:|--:|--:|"
  ref=""
  for c in "${cases[@]}"; do
    log "callgrind: $c, ${SHORT}s and ${LONG}s"
    measure_instr "$c" "$SHORT"
    i1=$INSTRUCTIONS r1=$REQUESTS
    measure_instr "$c" "$LONG"
    i2=$INSTRUCTIONS r2=$REQUESTS
    ((r2 > r1)) || die "$c served no more requests in ${LONG}s than in ${SHORT}s"
    per=$(((i2 - i1) / (r2 - r1)))
    [[ -z $ref ]] && ref=$per
    awk -v n="${c%:*}" -v w="${c#*:}" -v i1="$i1" -v r1="$r1" -v i2="$i2" -v r2="$r2" -v per="$per" -v ref="$ref" \
      'BEGIN { printf "| %d | %s | %.0f | %d | %.0f | %d | %d | %+.1f %% |\n", n, w, i1, r1, i2, r2, per, 100 * (per / ref - 1) }'
  done
fi

# ------------------------------------------------------------------------------ 3. timed
if [[ $SKIP_TIMED != 1 ]]; then
  declare -A PORT=() PG=()
  i=1
  for c in "${cases[@]}"; do
    port=${ports[i]} metrics=${ports[i + 1]}
    i=$((i + 2))
    dir=$(config "${c%:*}" "$port" "$metrics")
    start_pinned "vortex-${c/:/-}" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
    PORT[$c]=$port PG[$c]=${BENCH_PID[vortex-${c/:/-}]}
    wait_routed "vortex-${c/:/-}" "$port" "$c"
    check_routed "$port" "$c"
  done
  TSV="$RUN_DIR/timed.tsv"
  : >"$TSV"
  for ((r = 1; r <= ROUNDS; r++)); do
    order=("${cases[@]}")
    ((r % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${cases[@]}" | tac)  # alternate who goes first
    for c in "${order[@]}"; do
      drive "$WARMUP" "${PORT[$c]}" "$c" /dev/null 2>&1 || true
      t0=$(group_ticks "${PG[$c]}")
      drive "$DURATION" "${PORT[$c]}" "$c" "$RUN_DIR/wrk-$r-${c/:/-}.txt"
      t1=$(group_ticks "${PG[$c]}")
      grep -q "Non-2xx" "$RUN_DIR/wrk-$r-${c/:/-}.txt" && die "$c answered non-2xx"
      req=$(awk '/ requests in / { print $1 }' "$RUN_DIR/wrk-$r-${c/:/-}.txt")
      rps=$(awk '/^Requests\/sec/ { print $2 }' "$RUN_DIR/wrk-$r-${c/:/-}.txt")
      us=$(awk -v d=$((t1 - t0)) -v n="$req" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
      printf '%s\t%s\t%s\t%s\n' "$r" "$c" "$rps" "$us" >>"$TSV"
      log "  round $r $c: $rps req/s, $us µs CPU/request"
    done
  done
  echo
  echo "3. CPU per request, timed (wrk -c$CONNS, $ROUNDS rounds of ${DURATION}s; medians; vs 1 route: median of per-round ratios)"
  echo
  awk -F'\t' -v order="${cases[*]}" '
    function isort(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(a, n) { isort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { rps[$2, $1] = $3; us[$2, $1] = $4; if ($1 > rounds) rounds = $1 }
    END {
      k = split(order, cs, " ")
      print "| routes | match | req/s | Vortex CPU µs/request | vs 1 route |"
      print "|--:|---|--:|--:|--:|"
      for (j = 1; j <= k; j++) {
        c = cs[j]; split(c, p, ":")
        for (r = 1; r <= rounds; r++) { a[r] = rps[c, r]; b[r] = us[c, r]; d[r] = us[c, r] / us[cs[1], r] }
        printf "| %d | %s | %.0f | %.2f | %s |\n", p[1], p[2], med(a, rounds), med(b, rounds), j == 1 ? "" : sprintf("%+.1f %%", 100 * (med(d, rounds) - 1))
      }
    }' "$TSV"
  for c in "${cases[@]}"; do stop_group "${PG[$c]}"; done
fi

# ------------------------------------------------------------------------------ 4. reloads
if ((RELOADS > 0)); then
  port=${ports[1]} metrics=${ports[2]} c="$biggest:last"
  dir=$(config "$biggest" "$port" "$metrics")
  start_pinned "reload" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
  wait_routed reload "$port" "$c"
  seconds=$((RELOADS + 2))
  drive "$seconds" "$port" "$c" "$RUN_DIR/reload.wrk" &
  wrk_job=$!
  sleep 1
  times=()
  for ((k = 0; k < RELOADS; k++)); do
    t0=$(date +%s%N)
    "$VORTEXCTL" --socket "$dir/admin.sock" reload >"$RUN_DIR/reload-$k.txt" 2>&1 ||
      die "reload $k failed: $(cat "$RUN_DIR/reload-$k.txt")"
    times+=($((($(date +%s%N) - t0) / 1000000)))
    sleep 0.8
  done
  wait "$wrk_job"
  errors=$(awk '/Socket errors/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s }' "$RUN_DIR/reload.wrk")
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$RUN_DIR/reload.wrk")
  req=$(awk '/ requests in / { print $1 }' "$RUN_DIR/reload.wrk")
  echo
  echo "4. $RELOADS reloads of $biggest routes under wrk -c$CONNS: ${req} requests, non-2xx ${non2xx:-0}, socket errors ${errors:-0}; reload took ${times[*]} ms"
  [[ -z $non2xx && (-z $errors || $errors == 0) ]] || die "reloads disturbed traffic (see $RUN_DIR/reload.wrk)"
fi
