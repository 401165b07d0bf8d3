#!/usr/bin/env bash
# http1.sh — HTTP/1.1 keep-alive (TLS=1: over HTTPS): Vortex, nginx and haproxy in front of
# the same origin, one worker each, measured with wrk in interleaved rounds; prints requests/s,
# p50, p99, proxy CPU time per request and the ratios to nginx (medians over rounds).
#
# Pinning (2 cores): the proxy under test runs alone on CPU $PROXY_CPU; the origin (nginx,
# 1 worker, `return 200` of BODY_BYTES) and wrk share CPU $LOAD_CPU. All proxies idle on
# their own ports; one at a time gets load. Every round visits every target once, starting
# one target later each round, so drift on the machine hits all of them alike.
#
# TLS=1: the same, over HTTPS: every proxy terminates TLS 1.3 on its listener (one ECDSA P-256
# self-signed certificate made per run with openssl; session tickets/resumption as each proxy's
# default) and forwards plain HTTP/1.1 keep-alive to the origin; wrk drives https:// over its
# keep-alive connections, so handshakes are amortised as with real clients. Results in
# https1-STAMP instead of http1-STAMP.
#
# Usage: bench/macro/http1.sh            (make bench runs it)
#        TLS=1 bench/macro/http1.sh      HTTPS + HTTP/1.1 (TLS 1.3, ECDSA P-256)
# Env (defaults):
#   TLS=0                           1: HTTPS to the proxies ("direct" stays plain HTTP: the origin has no TLS)
#   ROUNDS=3 DURATION=10 WARMUP=2   rounds; seconds per measured run; warm-up seconds before each
#   CONNS=64 THREADS=1              wrk -c / -t (keep-alive connections / threads)
#   BODY_BYTES=128                  origin response body
#   PROXIES="vortex nginx haproxy"  targets and their order; "direct" = wrk straight at the origin
#   VORTEX=build/vortex             the binary under test (a Release build, for numbers that count)
#   BASE_PORT=                      empty: free ports from the OS; else BASE_PORT..BASE_PORT+5
#   LOAD_CPU=0 PROXY_CPU=1          pinning
#   UPSTREAM_POOL=256               idle origin connections each proxy may keep
#   RESULTS_DIR=/tmp/vortex-bench-results   raw rows, wrk outputs, configs and the table
#   KEEP_TMP=0                      1: keep the private run dir under /tmp as well
#   PERF=                           targets to profile after the rounds ("vortex", "all"): two
#                                   more DURATION runs each, not measured, under `perf record -g`
#                                   and `perf trace -s`; profile + syscalls/request in results/perf
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
BODY_BYTES=${BODY_BYTES:-128}
PROXIES=${PROXIES:-"vortex nginx haproxy"}
PERF=${PERF:-}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}
TLS=${TLS:-0}

knobs_only "$@"

for tool in nginx haproxy wrk curl taskset setsid ss awk /usr/bin/python3; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
[[ $TLS == 0 || $TLS == 1 ]] || die "TLS must be 0 or 1, not '$TLS'"
[[ $TLS == 0 ]] || have openssl || die "TLS=1 needs openssl"
[[ -z $PERF ]] || have perf || die "PERF is set but perf is missing (apt-get install linux-perf)"
((ROUNDS >= 1 && DURATION >= 1 && WARMUP >= 0 && CONNS >= 1)) || die "bad ROUNDS/DURATION/WARMUP/CONNS"
[[ $(nproc) -ge 2 ]] || log "warning: 1 CPU: pinning cannot keep the proxy apart from the load"
read -r -a TARGETS <<<"$PROXIES"
((${#TARGETS[@]})) || die "PROXIES is empty"
for t in "${TARGETS[@]}"; do
  case $t in
    vortex)
      [[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (build it, set VORTEX, or PROXIES=\"nginx haproxy\")"
      VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")
      ;;
    nginx | haproxy | direct) ;;
    *) die "unknown target '$t' (known: vortex nginx haproxy direct)" ;;
  esac
done

SCENARIO=http1 SCHEME=http SCENARIO_TITLE="HTTP/1.1 keep-alive"
if [[ $TLS == 1 ]]; then
  SCENARIO=https1 SCHEME=https SCENARIO_TITLE="HTTPS + HTTP/1.1 keep-alive (TLS 1.3, ECDSA P-256)"
fi
bench_begin "$SCENARIO"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$RESULTS_DIR/$SCENARIO-$STAMP"
mkdir -p "$OUT/wrk" "$OUT/configs"
ln -sfn "$SCENARIO-$STAMP" "$RESULTS_DIR/$SCENARIO-latest"
TSV="$OUT/rounds.tsv"
TXT="$OUT/summary.txt"

# ------------------------------------------------------------------------------ services
mapfile -t PORTS < <(pick_ports 6)
((${#PORTS[@]} == 6)) || die "could not get 6 free ports"
ORIGIN="127.0.0.1:${PORTS[0]}"
# shellcheck disable=SC2046  # a generated command line, split on purpose
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "${PORTS[0]}" "$BODY_BYTES")
wait_ok origin "http://$ORIGIN/"
ORIGIN_STATUS="http://$ORIGIN/__status"
if [[ $TLS == 1 ]]; then
  gen_cert "$RUN_DIR/tls" # read by the generators of the proxies' configs (lib.sh)
  BENCH_TLS_CERT="$RUN_DIR/tls/cert.pem" BENCH_TLS_KEY="$RUN_DIR/tls/key.pem"
fi

declare -A URL=() PGID=()
port_i=1
for t in "${TARGETS[@]}"; do
  if [[ $t == direct ]]; then
    URL[$t]="http://$ORIGIN/" PGID[$t]=-
    continue
  fi
  port=${PORTS[port_i]}
  port_i=$((port_i + 1))
  if [[ $t == vortex ]]; then
    gen_vortex "$RUN_DIR/vortex" "$port" "$ORIGIN" "${PORTS[5]}"
    "$VORTEX" check --config "$RUN_DIR/vortex/vortex.yaml" >&2 || die "vortex check rejects the generated config"
    start_pinned vortex "$PROXY_CPU" "$VORTEX" run --config "$RUN_DIR/vortex/vortex.yaml"
  else
    cmd=$("gen_$t" "$RUN_DIR/$t" "$port" "$ORIGIN")
    # shellcheck disable=SC2086  # a generated command line, split on purpose
    start_pinned "$t" "$PROXY_CPU" $cmd
  fi
  URL[$t]="$SCHEME://127.0.0.1:$port/" PGID[$t]=${BENCH_PID[$t]}
done
declare -A TLS_SEEN=() # target -> "TLSv1.3 / CIPHER" as curl negotiated it at start-up
for t in "${TARGETS[@]}"; do
  [[ $t == direct ]] && continue
  wait_ok "$t" "${URL[$t]}" 20
  # -k: self-signed certificate in TLS mode (no effect on http://)
  got=$(curl -sk --max-time 5 "${URL[$t]}" | wc -c)
  [[ $got == "$BODY_BYTES" ]] || die "$t: body through ${URL[$t]} is $got bytes, want $BODY_BYTES"
  xff=$(curl -sk --max-time 5 "${URL[$t]}__xff")
  [[ $xff == *127.0.0.1* ]] || die "$t: origin saw x-forwarded-for '$xff', want 127.0.0.1"
  if [[ $TLS == 1 ]]; then
    # what a client offering TLS 1.2 and 1.3 gets (wrk uses the same OpenSSL): must be 1.3
    TLS_SEEN[$t]=$(curl -skv --max-time 5 -o /dev/null "${URL[$t]}" 2>&1 |
      sed -n 's/^\* SSL connection using \(.*\)$/\1/p' | head -n 1)
    [[ ${TLS_SEEN[$t]} == TLSv1.3* ]] || die "$t: TLS through ${URL[$t]} is '${TLS_SEEN[$t]}', want TLSv1.3"
  fi
  log "ready: $(printf '%-8s' "$t") ${URL[$t]} pid ${PGID[$t]} on CPU $PROXY_CPU${TLS_SEEN[$t]:+ (${TLS_SEEN[$t]})}"
done
if [[ $TLS == 1 ]]; then
  cp "$RUN_DIR/tls/cert.pem" "$OUT/configs/tls-cert.pem" # the certificate only, never the key
fi
for d in "$RUN_DIR"/*/; do
  for f in "$d"*.conf "$d"*.cfg "$d"*.yaml; do
    [[ -f $f ]] && cp "$f" "$OUT/configs/$(basename "$d")-$(basename "$f")"
  done
done

# wrk's done() hook prints one parseable line; with no per-request hooks wrk keeps its C path.
cat >"$RUN_DIR/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%.3f p99=%.3f socket_errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF

# ------------------------------------------------------------------------------ one run
printf 'round\ttarget\trps\trequests\tp50_ms\tp99_ms\tsocket_errors\tnon2xx\tcpu_us_per_req\tproxy_pct\tcpu0_pct\tcpu1_pct\tsteal_pct\tother_pct\tup_conns\tcpu1_irq_pct\n' >"$TSV"

# measure ROUND TARGET: warm-up, then one measured wrk run with CPU and connection counters
# read right before and after it; appends a row to $TSV.
measure() {
  local round=$1 t=$2 url=${URL[$2]} pg=${PGID[$2]}
  local raw="$OUT/wrk/r$1-$2.txt" b a pt0=0 pt1=0 ot0 ot1 acc0 acc1 t0 t1
  if ((WARMUP > 0)); then
    run_loadgen taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || true
  fi
  # Counters are read outside the window between the two CPU snapshots, so reading them does
  # not count as other work.
  acc0=$(origin_accepts "$ORIGIN_STATUS")
  [[ $pg != - ]] && pt0=$(group_ticks "$pg")
  ot0=$(group_ticks "${BENCH_PID[origin]}")
  b=$(cpu_snapshot)
  t0=$(date +%s.%N)
  local -a timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$RUN_DIR/wrk.time")
  run_loadgen "${timer[@]}" taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" \
    --timeout 5s --latency -s "$RUN_DIR/report.lua" "$url" >"$raw" 2>&1 || true
  t1=$(date +%s.%N)
  a=$(cpu_snapshot)
  [[ $pg != - ]] && pt1=$(group_ticks "$pg")
  ot1=$(group_ticks "${BENCH_PID[origin]}")
  acc1=$(origin_accepts "$ORIGIN_STATUS")
  local ours=-
  if ((${#timer[@]})); then
    ours=$(awk -v hz="$CLK_TCK" -v rest=$(((pt1 - pt0) + (ot1 - ot0))) \
      'END { printf "%d", ($1 + $2) * hz + rest }' "$RUN_DIR/wrk.time")
  fi
  local res
  res=$(awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                         print v["requests"], v["rps"], v["p50"], v["p99"], v["socket_errors"], v["non2xx"] }' "$raw")
  if [[ -z $res ]]; then
    log "  r$round $t: wrk printed no result:"
    tail -n 20 "$raw" >&2
    printf '%s\t%s\tFAILED\n' "$round" "$t" >>"$TSV"
    return 0
  fi
  read -r req rps p50 p99 serr non <<<"$res"
  read -r c0 c1 steal other irq1 <<<"$(cpu_busy "$b" "$a" "$ours" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")"
  local us=- pct=-
  if [[ $pg != - ]]; then
    read -r us pct <<<"$(awk -v t=$((pt1 - pt0)) -v n="$req" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
      'BEGIN { printf "%.2f %.0f\n", (n > 0 ? t / hz * 1e6 / n : 0), 100 * t / hz / (t1 - t0) }')"
  fi
  # the second stub_status probe is itself one accepted connection
  local up=$((acc1 - acc0 - 1))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$t" "$rps" "$req" \
    "$p50" "$p99" "$serr" "$non" "$us" "$pct" "$c0" "$c1" "$steal" "$other" "$up" "$irq1" >>"$TSV"
  local warn=""
  ((serr + non > 0)) && warn="  <-- socket errors $serr, non-2xx $non"
  log "  r$round $(printf '%-8s %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms  %6s us/req  cpu0 %3s%% cpu1 %3s%%  steal %s%% other %s%%' \
    "$t" "$rps" "$p50" "$p99" "$us" "$c0" "$c1" "$steal" "$other")$warn"
}

# ------------------------------------------------------------------------------ header
vortex_version=-
[[ " ${TARGETS[*]} " == *" vortex "* ]] && vortex_version=$("$VORTEX" version 2>&1 | head -1)
knobs=""
[[ $TLS == 1 ]] && knobs="TLS=1 "
knobs+="ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS THREADS=$THREADS BODY_BYTES=$BODY_BYTES PROXIES=\"$PROXIES\""
[[ $vortex_version != - ]] && knobs+=" VORTEX=$(printf %q "${VORTEX#"$REPO_DIR"/}")"
{
  echo "# bench/macro/http1.sh  $(date -Is)"
  echo "# command: $knobs bench/macro/http1.sh"
  echo "# host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
  echo "# versions: $vortex_version; $(nginx -v 2>&1 | sed 's/.*: //'); haproxy $(haproxy -v | awk 'NR == 1 { print $3 }'); wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
  echo "# wrk -t$THREADS -c$CONNS -d${DURATION}s keep-alive, ${BODY_BYTES} B body; proxy on CPU $PROXY_CPU alone, origin + wrk on CPU $LOAD_CPU"
  if [[ $TLS == 1 ]]; then
    seen=""
    for t in "${TARGETS[@]}"; do [[ -n ${TLS_SEEN[$t]:-} ]] && seen+="${seen:+; }$t ${TLS_SEEN[$t]}"; done
    echo "# scenario: $SCENARIO_TITLE: wrk -> https:// -> proxy -> plain HTTP/1.1 keep-alive -> origin;"
    echo "#   self-signed ECDSA P-256 certificate made for this run; session resumption as each proxy's default"
    echo "#   negotiated at start-up (curl): $seen"
  fi
  echo "# raw results: $OUT"
} | tee "$TXT"

# ------------------------------------------------------------------------------ rounds
n=${#TARGETS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS"
  for ((j = 0; j < n; j++)); do
    measure "$r" "${TARGETS[(j + r - 1) % n]}"
  done
done

# ------------------------------------------------------------------------------ table
# Medians over rounds; errors summed over rounds; spread = (max - min) / median of req/s.
summarize() {
  awk -F'\t' -v order="${TARGETS[*]}" '
    function isort(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(col, t,    i, a, n) { n = cnt[t]; for (i = 1; i <= n; i++) a[i] = v[t, i, col]; isort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function lo(col, t,    i, m) { m = v[t, 1, col]; for (i = 2; i <= cnt[t]; i++) if (v[t, i, col] < m) m = v[t, i, col]; return m }
    function hi(col, t,    i, m) { m = v[t, 1, col]; for (i = 2; i <= cnt[t]; i++) if (v[t, i, col] > m) m = v[t, i, col]; return m }
    NR == 1 { next }
    $3 == "FAILED" { failed[$2]++; next }
    { t = $2; k = ++cnt[t]; for (c = 3; c <= NF; c++) v[t, k, c] = $c; err[t] += $7 + $8 }
    END {
      if (cnt["nginx"]) { ng_rps = med(3, "nginx"); ng_us = med(9, "nginx") }
      print "| target | req/s | spread | p50 ms | p99 ms | cpu µs/req | req/s vs nginx | cpu eff vs nginx | errors | cpu0% | cpu1% | steal% | other% | up_conns |"
      print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
      n = split(order, names, " ")
      for (i = 1; i <= n; i++) {
        t = names[i]
        if (!cnt[t]) { printf "| %s | no result in %d run(s) |\n", t, failed[t]; continue }
        rps = med(3, t); us = v[t, 1, 9] == "-" ? "-" : med(9, t)
        oth = v[t, 1, 14] == "-" ? "-" : sprintf("%.0f", med(14, t))
        printf "| %s | %.0f | %.1f%% | %.3f | %.3f | %s | %s | %s | %d%s | %.0f | %.0f | %.1f | %s | %.0f |\n",
          t, rps, 100 * (hi(3, t) - lo(3, t)) / rps, med(5, t), med(6, t),
          us == "-" ? "-" : sprintf("%.2f", us),
          ng_rps ? sprintf("%.2fx", rps / ng_rps) : "-",
          (us == "-" || !ng_us) ? "-" : sprintf("%.2fx", ng_us / us),
          err[t], err[t] ? " !!" : "", med(11, t), med(12, t), med(13, t), oth, med(15, t)
      }
    }' "$TSV"
}
{
  echo
  echo "$SCENARIO_TITLE, medians of $ROUNDS rounds (cpu eff vs nginx = nginx cpu µs/req ÷ this one; higher is better)"
  echo
  summarize
  echo
  echo "cpu0% near 100 means the load side (wrk + origin) was the limit: compare cpu µs/req then, not req/s."
  echo "steal% = time the hypervisor took; other% = CPU of processes this script did not start (% of one core):"
  echo "  both are noise; when they are high, rerun on a quieter machine or read the ratios only."
  echo "up_conns = new origin connections per measured run (about 0: upstream keep-alive works)."
} | tee -a "$TXT"
# ------------------------------------------------------------------------------ profiles
# After the rounds, so perf's own cost never lands in a measured run.
profile() {
  local t=$1 dir="$OUT/perf" pids
  mkdir -p "$dir"
  pids=$(group_pids "${PGID[$t]}")
  log "profiling $t: perf record -g, then perf trace -s, ${DURATION}s of load each (not measured)"
  run_loadgen taskset -c "$LOAD_CPU" perf record -q -e cpu-clock -F 1999 -g -p "$pids" -o "$dir/$t.data" \
    -- taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "${URL[$t]}" \
    >"$dir/$t.record-wrk.txt" 2>&1 || log "perf record for $t failed (see $dir/$t.record-wrk.txt)"
  # A flat profile; the fixed-width IPC columns perf pads every line with are cut off.
  {
    perf report -i "$dir/$t.data" --stdio --no-children -g none --percent-limit 1 --sort dso 2>/dev/null
    perf report -i "$dir/$t.data" --stdio --no-children -g none --percent-limit 0.3 --sort dso,symbol 2>/dev/null
  } | grep -v '^#' | grep -v '^$' | sed -E 's/ +- +- *$//' >"$dir/$t.report.txt" || true
  # Syscalls per request: the proxy's own syscall count and failures (EAGAIN reads) ÷ requests.
  run_loadgen taskset -c "$LOAD_CPU" perf trace -s -p "$pids" -o "$dir/$t.trace.txt" \
    -- taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "${URL[$t]}" \
    >"$dir/$t.trace-wrk.txt" 2>&1 || log "perf trace for $t failed (see $dir/$t.trace-wrk.txt)"
  awk -v req="$(awk '/requests in/ { print $1 }' "$dir/$t.trace-wrk.txt")" '
    $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && NF >= 8 { calls[$1] += $2; errs[$1] += $3; total += $2 }
    END {
      if (req <= 0) { print "no request count"; exit }
      printf "%d requests; syscalls per request (calls, failed):\n", req
      for (c in calls) printf "  %-16s %7.2f %7.2f\n", c, calls[c] / req, errs[c] / req | "sort -k2 -rn"
      close("sort -k2 -rn")
      printf "  %-16s %7.2f\n", "all", total / req
    }' "$dir/$t.trace.txt" >"$dir/$t.syscalls.txt" 2>/dev/null || true
  log "  $dir/$t.report.txt: $(awk 'NR <= 3' "$dir/$t.report.txt" | tr -s ' ' | paste -sd';')"
  log "  $dir/$t.syscalls.txt: $(tail -n 1 "$dir/$t.syscalls.txt" | tr -s ' ') syscalls/request"
}
if [[ -n $PERF ]]; then
  for t in "${TARGETS[@]}"; do
    [[ $t == direct ]] && continue
    [[ $PERF == all || " $PERF " == *" $t "* ]] && profile "$t"
  done
fi
log "results: $OUT"
