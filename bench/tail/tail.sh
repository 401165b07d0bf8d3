#!/usr/bin/env bash
# tail.sh — tail latency when one of three origins degrades (issue 3): Vortex's balancers
# (peak_ewma, least_request, round_robin) against nginx (least_conn, random two least_conn)
# and haproxy (leastconn, random(2)), one worker each, in the same run.
#
# Three origins (shared/bench/slow_upstream.c, built into the private run dir): #1 answers a
# fifth of its requests 50 ms late, #2 and #3 are healthy. Load: shared/bench/openloop.c at a
# FIXED rate with Poisson arrivals, latency counted from each request's INTENDED send time, so
# a proxy that stalls cannot hide it (no coordinated omission). Every config is measured once
# per round, rounds interleaved with the start rotated. Per config: p50/p99/p99.9 (median over
# rounds, and pooled over all rounds' samples), to_deg% = share of requests the proxy sent to
# the degraded origin (33.3 = blind), slow% = share of all requests that hit the injected delay
# (the origins count it: immune to CPU noise). The last line checks issue 3's target: Vortex
# peak_ewma below 0.5 % slow and a p99 at most a fifth of the best peer's.
#
# Pinning (2 cores): the proxy under test alone on CPU $PROXY_CPU; openloop and the three
# origins on CPU $LOAD_CPU. All proxies idle on their own ports; one at a time gets load.
#
# Usage: bench/tail/tail.sh            (make bench-tail runs it)
# Env (defaults):
#   ROUNDS=3 RATE=2000 DURATION=10 WARMUP=2   rounds; req/s; seconds measured; warm-up seconds
#   CONNS=128                        openloop's keep-alive connections
#   DELAY_MS=50 DELAY_FRACTION=0.2   origin #1's degradation
#   BODY_BYTES=128                   origin response body
#   CONFIGS="vortex:peak_ewma vortex:least_request vortex:round_robin nginx:least_conn
#            nginx:random2 haproxy:leastconn haproxy:random2"   (+ "direct": no proxy, the floor)
#   VORTEX=build/vortex              the binary under test (a Release build)
#   SHARED_BENCH=../shared/bench     where slow_upstream.c and openloop.c are read from
#   PEAK_EWMA=                       extra keys for Vortex's peak_ewma block, e.g. "decay_ms: 1000"
#                                    (empty: SPEC.md's defaults, as a user would run it)
#   NICE=0                           e.g. -10: every process started here above background work
#   BASE_PORT=                       empty: free ports from the OS
#   LOAD_CPU=0 PROXY_CPU=1  UPSTREAM_POOL=256  RESULTS_DIR=/tmp/vortex-bench-results  KEEP_TMP=0
set -euo pipefail

TAIL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../macro/lib.sh
source "$TAIL_DIR/../macro/lib.sh"

ROUNDS=${ROUNDS:-3}
RATE=${RATE:-2000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-128}
DELAY_MS=${DELAY_MS:-50}
DELAY_FRACTION=${DELAY_FRACTION:-0.2}
BODY_BYTES=${BODY_BYTES:-128}
CONFIGS=${CONFIGS:-"vortex:peak_ewma vortex:least_request vortex:round_robin nginx:least_conn nginx:random2 haproxy:leastconn haproxy:random2"}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}
SHARED_BENCH=${SHARED_BENCH:-$(cd "$REPO_DIR/.." && pwd)/shared/bench}
PEAK_EWMA=${PEAK_EWMA:-}
NICE=${NICE:-0}
NICE_CMD=()
[[ $NICE != 0 ]] && NICE_CMD=(nice -n "$NICE")

for t in curl taskset setsid ss awk sort gcc; do have "$t" || die "missing required tool: $t"; done
for c in $CONFIGS; do
  case ${c%%:*} in
    vortex) [[ -x $VORTEX ]] || die "no vortex binary at $VORTEX (make build, or set VORTEX)" ;;
    nginx | haproxy) have "${c%%:*}" || die "missing ${c%%:*}" ;;
    direct) ;;
    *) die "unknown config $c" ;;
  esac
done

bench_begin tail
BIN_DIR=$RUN_DIR/bin
mkdir -p "$BIN_DIR" "$RUN_DIR/lat" "$RESULTS_DIR"
for tool in slow_upstream openloop; do
  [[ -f $SHARED_BENCH/$tool.c ]] || die "missing $SHARED_BENCH/$tool.c (set SHARED_BENCH)"
  gcc -O2 -Wall -o "$BIN_DIR/$tool" "$SHARED_BENCH/$tool.c" -lm || die "building $tool failed"
done
STAMP=$(date +%Y%m%d-%H%M%S)
TSV="$RESULTS_DIR/tail-$STAMP.tsv"
TXT="$RESULTS_DIR/tail-$STAMP.txt"

n_configs=$(wc -w <<<"$CONFIGS")
mapfile -t PORTS < <(pick_ports $((3 + n_configs)))

# ------------------------------------------------------------------------------ origins
declare -a ORIGINS=()
for i in 1 2 3; do
  args=(--port "${PORTS[i - 1]}" --body-size "$BODY_BYTES" --seed "$i" --quiet)
  [[ $i == 1 ]] && args+=(--delay-ms "$DELAY_MS" --delay-fraction "$DELAY_FRACTION")
  start_pinned "origin$i" "$LOAD_CPU" "${NICE_CMD[@]}" "$BIN_DIR/slow_upstream" "${args[@]}"
  ORIGINS+=("127.0.0.1:${PORTS[i - 1]}")
done
for i in 1 2 3; do wait_ok "origin$i" "http://${ORIGINS[i - 1]}/__stats" 10; done
log "origins: ${ORIGINS[0]} degraded ($DELAY_FRACTION of its answers +$DELAY_MS ms), ${ORIGINS[1]} ${ORIGINS[2]} healthy"

# ------------------------------------------------------------------------------ proxies
# Same production-style settings for all: one worker, upstream keep-alive with a pool of
# UPSTREAM_POOL, no access log, no health checks (the degradation is latency, not failure).
gen_vortex_tail() { # DIR PORT LB
  mkdir -p "$1"
  {
    echo "workers: 1"
    echo "drain_timeout_ms: 1000"
    echo "listeners: [ { name: bench, address: \"127.0.0.1:$2\" } ]"
    echo "routes: [ { name: all, match: { path_prefix: \"/\" }, cluster: origins } ]"
    echo "clusters:"
    echo "  - name: origins"
    echo "    lb: $3"
    [[ -n $PEAK_EWMA ]] && echo "    peak_ewma: { $PEAK_EWMA }"
    echo "    pool: { max_idle_per_endpoint: $UPSTREAM_POOL }"
    echo "    endpoints:"
    for o in "${ORIGINS[@]}"; do echo "      - { address: \"$o\" }"; done
    echo "admin: { socket: \"$1/admin.sock\" }"
    echo "metrics: { address: \"127.0.0.1:$(pick_ports 1)\" }"
    echo "access_log: { path: \"off\" }"
  } >"$1/vortex.yaml"
}

gen_nginx_tail() { # DIR PORT ALGO
  local lb
  case $3 in
    least_conn) lb="least_conn;" ;;
    random2) lb="random two least_conn;" ;; # power of two choices
    *) die "nginx algo $3" ;;
  esac
  mkdir -p "$1/tmp"
  cat >"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    keepalive_requests 10000000;
    upstream origins {
        $lb
        server ${ORIGINS[0]};
        server ${ORIGINS[1]};
        server ${ORIGINS[2]};
        keepalive $UPSTREAM_POOL;
        keepalive_requests 10000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$2 backlog=4096;
        location / {
            proxy_pass http://origins;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
}

gen_haproxy_tail() { # DIR PORT ALGO
  local algo
  case $3 in
    leastconn) algo=leastconn ;;
    random2) algo="random(2)" ;; # power of two choices
    *) die "haproxy algo $3" ;;
  esac
  mkdir -p "$1"
  cat >"$1/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8192
defaults
    mode http
    option http-keep-alive
    option forwardfor
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:$2
    default_backend be
backend be
    balance $algo
    server o1 ${ORIGINS[0]}
    server o2 ${ORIGINS[1]}
    server o3 ${ORIGINS[2]}
EOF
}

declare -a NAMES=() URLS=()
k=3
for c in $CONFIGS; do
  proxy=${c%%:*} algo=${c#*:} port=${PORTS[k]} dir="$RUN_DIR/${c//:/-}" svc=${c//:/-}
  k=$((k + 1))
  case $proxy in
    direct)
      NAMES+=("direct") URLS+=("http://${ORIGINS[1]}/")
      continue
      ;;
    vortex)
      gen_vortex_tail "$dir" "$port" "$algo"
      start_pinned "$svc" "$PROXY_CPU" "${NICE_CMD[@]}" "$VORTEX" run --config "$dir/vortex.yaml"
      ;;
    nginx)
      gen_nginx_tail "$dir" "$port" "$algo"
      start_pinned "$svc" "$PROXY_CPU" "${NICE_CMD[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
      ;;
    haproxy)
      gen_haproxy_tail "$dir" "$port" "$algo"
      start_pinned "$svc" "$PROXY_CPU" "${NICE_CMD[@]}" haproxy -db -f "$dir/haproxy.cfg"
      ;;
  esac
  wait_ok "$svc" "http://127.0.0.1:$port/" 20
  NAMES+=("$c") URLS+=("http://127.0.0.1:$port/")
done

# ------------------------------------------------------------------------------ one run
origin_stats() { # ADDR [reset] -> "requests delayed"
  local q=""
  [[ ${2:-} == reset ]] && q="?reset=1"
  curl -s --max-time 2 "http://$1/__stats$q" | awk '{
    for (i = 1; i <= 2; i++) { f = i == 1 ? "requests" : "delayed"
      v = $0; sub(".*\"" f "\":", "", v); sub("[^0-9].*", "", v); printf "%s%s", v, i < 2 ? " " : "\n" } }'
}

printf 'round\tname\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\tok\terrors\tnon2xx\tto_deg_pct\tslow_pct\tmax_send_lag_ms\n' >"$TSV"

measure() { # ROUND INDEX
  local r=$1 name=${NAMES[$2]} url=${URLS[$2]} tag=${NAMES[$2]//:/-} out="$RUN_DIR/run.out"
  run_loadgen "${NICE_CMD[@]}" taskset -c "$LOAD_CPU" "$BIN_DIR/openloop" --url "$url" --rate "$RATE" \
    --duration "$WARMUP" --connections "$CONNS" --arrival poisson >/dev/null 2>&1 || true
  local o
  for o in "${ORIGINS[@]}"; do origin_stats "$o" reset >/dev/null; done
  run_loadgen "${NICE_CMD[@]}" taskset -c "$LOAD_CPU" "$BIN_DIR/openloop" --url "$url" --rate "$RATE" \
    --duration "$DURATION" --connections "$CONNS" --arrival poisson --seed "$r" --label "$tag" \
    --latencies "$RUN_DIR/lat/$tag.r$r" >"$out" 2>&1 || true
  local req1 del1 req2 req3 _d line
  read -r req1 del1 < <(origin_stats "${ORIGINS[0]}")
  read -r req2 _d < <(origin_stats "${ORIGINS[1]}")
  read -r req3 _d < <(origin_stats "${ORIGINS[2]}")
  line=$(grep '^label=' "$out" || true)
  if [[ -z $line ]]; then
    log "  $name: openloop produced no result"
    tail -n 5 "$out" >&2
    return 0
  fi
  local -A v=()
  local kv
  for kv in $line; do v[${kv%%=*}]=${kv#*=}; done
  local tot=$((req1 + req2 + req3)) share slow
  share=$(awk -v a="$req1" -v t="$tot" 'BEGIN { printf "%.1f", t ? 100 * a / t : 0 }')
  slow=$(awk -v a="$del1" -v t="$tot" 'BEGIN { printf "%.3f", t ? 100 * a / t : 0 }')
  if [[ $name == direct ]]; then share=-; slow=-; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "${v[p50]}" \
    "${v[p90]}" "${v[p99]}" "${v[p999]}" "${v[max]}" "${v[ok]}" \
    "$((${v[errors]} + ${v[timeouts]}))" "${v[non2xx]}" "$share" "$slow" "${v[max_send_lag]}" >>"$TSV"
  log "  r$r $(printf '%-22s' "$name") p50 ${v[p50]} p99 ${v[p99]} p99.9 ${v[p999]} ms  to-deg $share%  slow $slow%  errors $((${v[errors]} + ${v[timeouts]} + ${v[non2xx]}))"
}

{
  echo "# bench/tail/tail.sh $(date -Is)  $(nproc) CPUs, $(uname -r)"
  echo "# open loop: $RATE req/s Poisson, ${DURATION}s measured (+${WARMUP}s warm-up) per config, $CONNS conns, $ROUNDS rounds interleaved"
  echo "# origins: #1 degraded ($DELAY_FRACTION of its answers +$DELAY_MS ms), #2 #3 healthy; proxy on CPU $PROXY_CPU, load + origins on CPU $LOAD_CPU"
  echo "# vortex peak_ewma: { ${PEAK_EWMA:-SPEC defaults} }, nice $NICE; raw rows: $TSV"
} | tee "$TXT"

n=${#NAMES[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS"
  for ((j = 0; j < n; j++)); do measure "$r" $(((j + r - 1) % n)); done
done

# ------------------------------------------------------------------------------ summary
pooled() { # TAG -> "p99 p99.9" (ms) over all rounds' samples (microseconds, one a line)
  local files=("$RUN_DIR/lat/$1".r*)
  [[ -e ${files[0]} ]] || { echo "- -"; return; }
  cat "${files[@]}" | sort -n | awk '{ v[NR] = $1 }
    function pct(p,   k) { k = int(p / 100 * NR); if (k < p / 100 * NR) k++; if (k < 1) k = 1; return v[k] / 1000 }
    END { if (NR) printf "%.3f %.3f\n", pct(99), pct(99.9); else print "- -" }'
}
SUMMARY="$RUN_DIR/summary.tsv"
: >"$SUMMARY"
{
  echo
  echo "== $RATE req/s open loop, origin #1: $DELAY_FRACTION of answers +$DELAY_MS ms; medians over $ROUNDS rounds"
  printf '%-22s %8s %8s %9s %11s %12s %8s %7s %6s\n' name p50_ms p99_ms p99.9_ms pooled_p99 pooled_p999 to_deg% slow% errors
  for ((i = 0; i < n; i++)); do
    name=${NAMES[i]}
    read -r pp99 pp999 < <(pooled "${name//:/-}")
    awk -F'\t' -v name="$name" -v pp99="$pp99" -v pp999="$pp999" -v sum="$SUMMARY" '
      function median(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      NR > 1 && $2 == name { k++; p50[k] = $3; p99[k] = $5; p999[k] = $6; deg[k] = $11; slow[k] = $12; err += $9 + $10 }
      END {
        if (!k) { printf "%-22s no successful run\n", name; exit }
        d = deg[1] == "-" ? "-" : sprintf("%.1f", median(deg, k))
        s = slow[1] == "-" ? "-" : sprintf("%.3f", median(slow, k))
        m99 = median(p99, k)
        printf "%-22s %8.3f %8.3f %9.3f %11s %12s %8s %7s %6d\n", name, median(p50, k), m99, median(p999, k), pp99, pp999, d, s, err
        printf "%s\t%s\t%s\n", name, m99, s >> sum
      }' "$TSV"
  done
  awk -F'\t' '
    $1 ~ /^(nginx|haproxy):/ && (best == "" || $2 < best) { best = $2; who = $1 }
    $1 == "vortex:peak_ewma" { p99 = $2; slow = $3 }
    END {
      if (best == "" || p99 == "") exit
      ok = (slow < 0.5 && p99 <= best / 5) ? "MET" : "MISSED"
      printf "\ntarget (slow%% < 0.5 and p99 <= best peer p99 / 5): vortex:peak_ewma slow %.3f%%, p99 %.3f ms; best peer %s p99 %.3f ms (/5 = %.3f): %s\n",
        slow, p99, who, best, best / 5, ok
    }' "$SUMMARY"
} | tee -a "$TXT"
log "results: $TXT"
