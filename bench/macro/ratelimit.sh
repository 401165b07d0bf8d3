#!/usr/bin/env bash
# ratelimit.sh — what rate limiting costs (issue 5): the same Vortex binary, one worker, in front of
# the same origin, three ways: no policy ("off"), a local GCRA policy generous enough never to deny
# ("local"), and the same policy in Redis ("redis"). Measured with wrk in interleaved rounds at
# CONNS_LIST connection counts (default 64, then 1: -c1 shows the cost of one Redis round trip per
# request, -c64 how pipelining hides it). Reports req/s, p50, p99, Vortex CPU per request and,
# for redis, redis-server CPU per request, EVALSHA calls per request and commands per read
# (how many decisions each Redis read carried: the pipelining depth).
#
# Pinning (2 cores, as bench/macro/http1.sh): Vortex alone on CPU $PROXY_CPU; origin, wrk and
# redis-server on CPU $LOAD_CPU.
#
# Usage: bench/macro/ratelimit.sh        (make bench-ratelimit runs it)
# Env (defaults):
#   ROUNDS=3 DURATION=10 WARMUP=2   rounds; seconds per measured run; warm-up seconds before each
#   CONNS_LIST="64 1" THREADS=1     wrk -c values (each a table of its own) / wrk -t
#   BODY_BYTES=128                  origin response body
#   TARGETS="off local redis"       which Vortex set-ups, in order
#   POOL_SIZE=4 TIMEOUT_MS=50       rate_limits.redis pool_size / timeout_ms
#   VORTEX=build/vortex             the binary under test (a Release build, for numbers that count)
#   LOAD_CPU=0 PROXY_CPU=1          pinning
#   RESULTS_DIR=/tmp/vortex-bench-results   raw rows, wrk outputs, configs and the table
#   KEEP_TMP=0                      1: keep the private run dir under /tmp as well
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS_LIST=${CONNS_LIST:-"64 1"}
THREADS=${THREADS:-1}
BODY_BYTES=${BODY_BYTES:-128}
TARGETS_TEXT=${TARGETS:-"off local redis"}
POOL_SIZE=${POOL_SIZE:-4}
TIMEOUT_MS=${TIMEOUT_MS:-50}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}

knobs_only "$@"

read -r -a TARGETS <<<"$TARGETS_TEXT"
read -r -a CONNS_ALL <<<"$CONNS_LIST"
((${#TARGETS[@]})) || die "TARGETS is empty"
for t in "${TARGETS[@]}"; do
  case $t in off | local | redis) ;; *) die "unknown target '$t' (known: off local redis)" ;; esac
done
for tool in nginx wrk curl taskset setsid awk /usr/bin/python3; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
[[ " ${TARGETS[*]} " != *" redis "* ]] || { have redis-server && have redis-cli; } ||
  die "missing redis-server / redis-cli (scripts/bootstrap.sh installs them)"
[[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (make build, or set VORTEX)"
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")

bench_begin ratelimit
STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$RESULTS_DIR/ratelimit-$STAMP"
mkdir -p "$OUT/wrk" "$OUT/configs"
ln -sfn "ratelimit-$STAMP" "$RESULTS_DIR/ratelimit-latest"
TSV="$OUT/rounds.tsv"
TXT="$OUT/summary.txt"

# ------------------------------------------------------------------------------ services
mapfile -t PORTS < <(pick_ports 8)
((${#PORTS[@]} == 8)) || die "could not get 8 free ports"
ORIGIN="127.0.0.1:${PORTS[0]}"
REDIS_PORT=${PORTS[1]}
# shellcheck disable=SC2046  # a generated command line, split on purpose
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "${PORTS[0]}" "$BODY_BYTES")
wait_ok origin "http://$ORIGIN/"

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
if [[ " ${TARGETS[*]} " == *" redis "* ]]; then
  mkdir -p "$RUN_DIR/redis"
  start_pinned redis "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$RUN_DIR/redis"
  for _ in $(seq 100); do [[ $(rcli PING 2>/dev/null) == PONG ]] && break; sleep 0.05; done
  [[ $(rcli PING 2>/dev/null) == PONG ]] || die "redis-server does not answer on $REDIS_PORT"
fi

# A policy generous enough never to deny: 10^8 per second, a burst of 10^6.
POLICY='    - { name: bench, key: client_ip, rate: 100000000, period_ms: 1000, burst: 1000000 }'

declare -A URL=() PGID=()
i=2
for t in "${TARGETS[@]}"; do
  port=${PORTS[i]} metrics=${PORTS[i + 3]}
  i=$((i + 1))
  dir="$RUN_DIR/vortex-$t"
  gen_vortex "$dir" "$port" "$ORIGIN" "$metrics"
  if [[ $t != off ]]; then
    store=local
    [[ $t == redis ]] && store=redis
    # the catch-all route names the policy; everything else is http1.sh's Vortex config
    sed -i 's/cluster: origin }/cluster: origin, rate_limit: bench }/' "$dir/vortex.yaml"
    {
      echo "rate_limits:"
      echo "  store: $store"
      echo "  redis: { url: \"redis://127.0.0.1:$REDIS_PORT\", timeout_ms: $TIMEOUT_MS, pool_size: $POOL_SIZE, on_error: deny }"
      echo "  policies:"
      echo "$POLICY"
    } >>"$dir/vortex.yaml"
  fi
  "$VORTEX" check --config "$dir/vortex.yaml" >&2 || die "vortex check rejects $dir/vortex.yaml"
  cp "$dir/vortex.yaml" "$OUT/configs/vortex-$t.yaml"
  start_pinned "vortex-$t" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
  URL[$t]="http://127.0.0.1:$port/" PGID[$t]=${BENCH_PID[vortex-$t]}
done
for t in "${TARGETS[@]}"; do
  wait_ok "vortex-$t" "${URL[$t]}" 20
  head=$(curl -s -D - -o /dev/null --max-time 5 "${URL[$t]}" | tr -d '\r')
  if [[ $t == off ]]; then
    [[ $head != *atelimit-limit* ]] || die "$t: RateLimit-Limit without a policy"
  else
    # on_error: deny, so a decision that did not come from the store would be a 429
    [[ $head == *"atelimit-limit: 1000001"* ]] || die "$t: no RateLimit-Limit: 1000001 in: $head"
  fi
  log "ready: $(printf '%-6s' "$t") ${URL[$t]} pid ${PGID[$t]} on CPU $PROXY_CPU"
done

cat >"$RUN_DIR/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%.3f p99=%.3f socket_errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF

# redis_counters -> "evalsha_calls reads_processed"
redis_counters() {
  local info
  info=$(rcli INFO all 2>/dev/null | tr -d '\r')
  awk -F'[:=,]' '/^cmdstat_evalsha:/ { ev = $3 } /^total_reads_processed:/ { rd = $2 }
                 END { printf "%d %d\n", ev, rd }' <<<"$info"
}

# ------------------------------------------------------------------------------ one run
printf 'round\tconns\ttarget\trps\trequests\tp50_ms\tp99_ms\terrors\tvortex_us_per_req\tredis_us_per_req\tevalsha_per_req\tcmds_per_read\tcpu0_pct\tcpu1_pct\tother_pct\n' >"$TSV"

measure() {
  local round=$1 conns=$2 t=$3 url=${URL[$3]} pg=${PGID[$3]}
  local raw="$OUT/wrk/r$1-c$2-$3.txt" b a pt0 pt1 rt0=0 rt1=0 ot0 ot1 ev0=0 ev1=0 rd0=0 rd1=0 t0 t1
  if ((WARMUP > 0)); then
    run_loadgen taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$conns" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || true
  fi
  [[ $t == redis ]] && read -r ev0 rd0 <<<"$(redis_counters)"
  pt0=$(group_ticks "$pg")
  ot0=$(group_ticks "${BENCH_PID[origin]}")
  [[ -n ${BENCH_PID[redis]:-} ]] && rt0=$(group_ticks "${BENCH_PID[redis]}")
  b=$(cpu_snapshot)
  t0=$(date +%s.%N)
  local -a timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$RUN_DIR/wrk.time")
  run_loadgen "${timer[@]}" taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" \
    --timeout 5s --latency -s "$RUN_DIR/report.lua" "$url" >"$raw" 2>&1 || true
  t1=$(date +%s.%N)
  a=$(cpu_snapshot)
  pt1=$(group_ticks "$pg")
  ot1=$(group_ticks "${BENCH_PID[origin]}")
  [[ -n ${BENCH_PID[redis]:-} ]] && rt1=$(group_ticks "${BENCH_PID[redis]}")
  [[ $t == redis ]] && read -r ev1 rd1 <<<"$(redis_counters)"
  local ours=-
  if ((${#timer[@]})); then
    ours=$(awk -v hz="$CLK_TCK" -v rest=$(((pt1 - pt0) + (ot1 - ot0) + (rt1 - rt0))) \
      'END { printf "%d", ($1 + $2) * hz + rest }' "$RUN_DIR/wrk.time")
  fi
  local res
  res=$(awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                         print v["requests"], v["rps"], v["p50"], v["p99"], v["socket_errors"] + v["non2xx"] }' "$raw")
  if [[ -z $res ]]; then
    log "  r$round c$conns $t: wrk printed no result:"
    tail -n 20 "$raw" >&2
    return 0
  fi
  read -r req rps p50 p99 errs <<<"$res"
  read -r c0 c1 _steal other _irq <<<"$(cpu_busy "$b" "$a" "$ours" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")"
  local us rus=- evr=- cpr=-
  us=$(awk -v t=$((pt1 - pt0)) -v n="$req" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (n > 0 ? t / hz * 1e6 / n : 0) }')
  if [[ $t == redis ]]; then
    read -r rus evr cpr <<<"$(awk -v t=$((rt1 - rt0)) -v n="$req" -v hz="$CLK_TCK" -v ev=$((ev1 - ev0)) -v rd=$((rd1 - rd0)) \
      'BEGIN { printf "%.2f %.3f %.2f\n", (n > 0 ? t / hz * 1e6 / n : 0), (n > 0 ? ev / n : 0), (rd > 0 ? ev / rd : 0) }')"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$conns" "$t" "$rps" "$req" \
    "$p50" "$p99" "$errs" "$us" "$rus" "$evr" "$cpr" "$c0" "$c1" "$other" >>"$TSV"
  log "  r$round c$conns $(printf '%-6s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  %6s us/req  redis %6s us/req  evalsha/req %5s  cmds/read %5s  cpu0 %3s%% cpu1 %3s%% other %s%%' \
    "$t" "$rps" "$p50" "$p99" "$us" "$rus" "$evr" "$cpr" "$c0" "$c1" "$other")$( ((errs > 0)) && echo "  <-- $errs errors")"
}

# ------------------------------------------------------------------------------ header
{
  echo "# bench/macro/ratelimit.sh  $(date -Is)"
  echo "# command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS_LIST=\"$CONNS_LIST\" THREADS=$THREADS BODY_BYTES=$BODY_BYTES TARGETS=\"$TARGETS_TEXT\" POOL_SIZE=$POOL_SIZE TIMEOUT_MS=$TIMEOUT_MS VORTEX=$(printf %q "${VORTEX#"$REPO_DIR"/}") bench/macro/ratelimit.sh"
  echo "# host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
  echo "# versions: $("$VORTEX" version 2>&1 | head -1); $(redis-server --version 2>/dev/null | awk '{ print $1, $2, $3 }'); wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
  echo "# Vortex (workers: 1) on CPU $PROXY_CPU alone; origin, wrk and redis-server on CPU $LOAD_CPU"
  echo "# raw results: $OUT"
} | tee "$TXT"

n=${#TARGETS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS"
  for conns in "${CONNS_ALL[@]}"; do
    for ((j = 0; j < n; j++)); do
      measure "$r" "$conns" "${TARGETS[(j + r - 1) % n]}"
    done
  done
done

# ------------------------------------------------------------------------------ table
# Medians over rounds (errors summed). "vs off" is paired: in each round, this row's value ÷ the
# off row's of the same round and conns, then the median of those ratios; the rounds run back to
# back, so drift of the machine between rounds cancels out.
summarize() {
  awk -F'\t' -v order="${TARGETS[*]}" -v conns_list="${CONNS_ALL[*]}" '
    function isort(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(k, col,    i, a, n) { n = cnt[k]; for (i = 1; i <= n; i++) a[i] = v[k, i, col]; isort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function ratio(c, t, col,    i, a, n, r, off) {
      n = 0
      for (i = 1; i <= cnt[c SUBSEP t]; i++) {
        r = rnd[c SUBSEP t, i]; off = byround[c SUBSEP "off", r, col]
        if (off > 0) a[++n] = v[c SUBSEP t, i, col] / off
      }
      if (!n) return "-"
      isort(a, n)
      return sprintf("%+.1f%%", 100 * ((n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) - 1))
    }
    NR == 1 { next }
    { k = $2 SUBSEP $3; i = ++cnt[k]; rnd[k, i] = $1; err[k] += $8
      for (c = 4; c <= NF; c++) { v[k, i, c] = $c; byround[k, $1, c] = $c } }
    END {
      print "| conns | target | req/s | vs off | p50 ms | p99 ms | vortex cpu µs/req | vs off | redis cpu µs/req | evalsha/req | cmds/read | errors | cpu0% | cpu1% | other% |"
      print "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
      nc = split(conns_list, cl, " "); nt = split(order, tl, " ")
      for (x = 1; x <= nc; x++) {
        c = cl[x]
        for (y = 1; y <= nt; y++) {
          k = c SUBSEP tl[y]
          if (!cnt[k]) { printf "| %s | %s | no result |\n", c, tl[y]; continue }
          rps = med(k, 4); us = med(k, 9)
          redis = v[k, 1, 10] == "-" ? "-" : sprintf("%.2f", med(k, 10))
          evr = v[k, 1, 11] == "-" ? "-" : sprintf("%.3f", med(k, 11))
          cpr = v[k, 1, 12] == "-" ? "-" : sprintf("%.2f", med(k, 12))
          printf "| %s | %s | %.0f | %s | %.3f | %.3f | %.2f | %s | %s | %s | %s | %d%s | %.0f | %.0f | %.0f |\n",
            c, tl[y], rps, ratio(c, tl[y], 4), med(k, 6), med(k, 7), us,
            ratio(c, tl[y], 9), redis, evr, cpr, err[k], err[k] ? " !!" : "",
            med(k, 13), med(k, 14), med(k, 15)
        }
      }
    }' "$TSV"
}
{
  echo
  echo "Rate limiting on vs off, one Vortex worker, medians of $ROUNDS rounds (vs off: median of per-round ratios)"
  echo
  summarize
  echo
  echo "vortex cpu µs/req: CPU of the Vortex process ÷ requests (the figure that counts: CPU $LOAD_CPU, shared by"
  echo "  wrk, the origin and redis-server, is often the limit of req/s). redis cpu µs/req: redis-server's CPU ÷ requests."
  echo "evalsha/req: Redis decisions per request (1.000 = one script call each). cmds/read: EVALSHAs per read"
  echo "  Redis processed (total_reads_processed): > 1 means several decisions arrived in one pipelined write."
} | tee -a "$TXT"
log "results: $OUT"
