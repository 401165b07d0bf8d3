#!/usr/bin/env bash
# conn_memory.sh — memory per idle client connection (issue 19): Vortex, nginx and haproxy, one
# worker each, in front of the same origin. For each protocol kind (plain HTTP/1.1 keep-alive,
# HTTPS/1.1, HTTPS/2 by ALPN) and each count N, a fresh proxy is started, warmed with a few
# requests, then bench/macro/idle_conns.py opens N connections that make one request each and
# are left idle. Reported: (RSS of the proxy's process group holding them - RSS before) / N,
# the p50/p99 of LAT_REQUESTS requests made one after another on one more connection while the
# N are held, and whether every held connection still answers a second request.
#
# The descriptor limit is raised (hard and soft, as root) to what the largest N needs; a count
# the limit cannot hold is skipped and said so. More than ~25k connections use several source
# addresses (127.0.0.2, ...), so the ephemeral ports of one address never run out.
#
# Usage: bench/macro/conn_memory.sh        (make bench-connmem runs it)
# Env (defaults):
#   COUNTS="10000 50000 100000"   idle connections held per measurement
#   KINDS="plain tls h2"          plain HTTP/1.1, HTTPS/1.1, HTTPS/2
#   TARGETS="vortex nginx haproxy"
#   LAT_REQUESTS=500              requests timed while the connections are held
#   BODY_BYTES=128                origin response body
#   SETTLE_S=3                    seconds between the last connection's answer and the RSS
#                                 reading (allocators purge with a delay; Vortex gives an idle
#                                 HTTP/2 connection's buffers back at a watchdog tick, ~1 s,
#                                 and parks an idle HTTP/1.1 connection after 1-2 s)
#   VORTEX=build/vortex           the binary under test (a Release build, for numbers that count)
#   LOAD_CPU=0 PROXY_CPU=1        pinning: client and origin; the proxy alone
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

COUNTS=${COUNTS:-10000 50000 100000}
KINDS=${KINDS:-plain tls h2}
TARGETS=${TARGETS:-vortex nginx haproxy}
LAT_REQUESTS=${LAT_REQUESTS:-500}
BODY_BYTES=${BODY_BYTES:-128}
SETTLE_S=${SETTLE_S:-3}
VORTEX=${VORTEX:-$REPO_DIR/build/vortex}

knobs_only "$@"
for tool in nginx haproxy openssl curl taskset setsid awk /usr/bin/python3; do
  have "$tool" || die "missing $tool (scripts/bootstrap.sh installs it)"
done
/usr/bin/python3 -c 'import hpack' 2>/dev/null || die "missing python3-hpack (scripts/bootstrap.sh installs it)"
[[ -x $VORTEX ]] || die "no Vortex binary at $VORTEX (make build, or set VORTEX)"
VORTEX=$(cd "$(dirname "$VORTEX")" && pwd)/$(basename "$VORTEX")

# ------------------------------------------------------------------------------ descriptors
max_count=0
for n in $COUNTS; do ((n > max_count)) && max_count=$n; done
# The held connections, the upstream pool and the few requests in flight at once (the client
# proxies at most --parallel at a time through the held connections).
want_fds=$((max_count + 8192))
if (($(ulimit -Hn) < want_fds)); then
  ulimit -Hn "$want_fds" 2>/dev/null || log "cannot raise the hard descriptor limit to $want_fds (not root?)"
fi
ulimit -Sn "$(ulimit -Hn)"
fd_limit=$(ulimit -n)
export BENCH_FD_LIMIT=$fd_limit
# Every proxy is told it may hold the largest count (plus the latency probe and the pool).
export BENCH_MAX_CONNS=$max_count
# Opening 100k TLS connections takes minutes: no proxy may close the first ones meanwhile.
export BENCH_IDLE_TIMEOUT_S=3600

bench_begin connmem
mapfile -t ports < <(pick_ports 3)
origin_port=${ports[0]} proxy_port=${ports[1]} metrics_port=${ports[2]}
# shellcheck disable=SC2046  # the command line gen_origin prints is meant to be split
start_pinned origin "$LOAD_CPU" $(gen_origin "$RUN_DIR/origin" "$origin_port" "$BODY_BYTES")
wait_ok origin "http://127.0.0.1:$origin_port/"
gen_cert "$RUN_DIR/cert"

# group_rss PGID -> resident bytes of every process in that group (nginx: master + worker)
group_rss() {
  local want=$1 f line sum=0 pid kb
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    line=${line##*) }
    # shellcheck disable=SC2086
    set -- $line
    [[ $3 == "$want" ]] || continue
    pid=${f#/proc/}
    pid=${pid%/stat}
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || kb=0
    sum=$((sum + ${kb:-0}))
  done
  echo $((sum * 1024))
}

# start_target TARGET KIND: the proxy for that kind on proxy_port; prints its URL.
start_target() {
  local t=$1 kind=$2 dir="$RUN_DIR/$1-$2" scheme=http
  BENCH_TLS_CERT="" BENCH_TLS_KEY="" BENCH_TLS_ALPN=http/1.1
  if [[ $kind != plain ]]; then
    BENCH_TLS_CERT=$RUN_DIR/cert/cert.pem BENCH_TLS_KEY=$RUN_DIR/cert/key.pem scheme=https
    [[ $kind == h2 ]] && BENCH_TLS_ALPN=h2
  fi
  # shellcheck disable=SC2046  # the command lines the generators print are meant to be split
  case $t in
    vortex)
      gen_vortex "$dir" "$proxy_port" "127.0.0.1:$origin_port" "$metrics_port"
      start_pinned "$t-$kind" "$PROXY_CPU" "$VORTEX" run --config "$dir/vortex.yaml"
      ;;
    nginx) start_pinned "$t-$kind" "$PROXY_CPU" $(gen_nginx "$dir" "$proxy_port" "127.0.0.1:$origin_port") ;;
    haproxy) start_pinned "$t-$kind" "$PROXY_CPU" $(gen_haproxy "$dir" "$proxy_port" "127.0.0.1:$origin_port") ;;
    *) die "unknown target $t" ;;
  esac
  wait_ok "$t-$kind" "$scheme://127.0.0.1:$proxy_port/" 20
}

# measure TARGET KIND N -> one table row
measure() {
  local t=$1 kind=$2 n=$3 pg before after held lat verified in out
  start_target "$t" "$kind"
  pg=${BENCH_PID[$t-$kind]}
  # Warm: the upstream pool, TLS contexts and the allocator's first arenas exist before "before".
  /usr/bin/python3 "$MACRO_DIR/idle_conns.py" --port "$proxy_port" --kind "$kind" --count 64 \
    <<<"close" >/dev/null || die "$t $kind: the warm-up connections failed"
  sleep 0.5
  before=$(group_rss "$pg")
  coproc CLIENT { taskset -c "$LOAD_CPU" /usr/bin/python3 "$MACRO_DIR/idle_conns.py" \
    --port "$proxy_port" --kind "$kind" --count "$n" 2>"$RUN_DIR/client-$t-$kind-$n.log"; }
  in=${CLIENT[1]} out=${CLIENT[0]}
  read -r -u "$out" held || die "$t $kind $n: the client ended early ($(tail -n 3 "$RUN_DIR/client-$t-$kind-$n.log"))"
  sleep "$SETTLE_S"
  after=$(group_rss "$pg")
  echo "latency $LAT_REQUESTS" >&"$in"
  read -r -u "$out" lat
  echo "verify" >&"$in"
  read -r -u "$out" verified
  echo "close" >&"$in"
  read -r -u "$out" _ || true
  wait "$CLIENT_PID" 2>/dev/null || true
  stop_group "$pg"
  # shellcheck disable=SC2086
  set -- $held
  local ok=$2 failed=$3
  # shellcheck disable=SC2086
  set -- $lat
  local p50=$2 p99=$3 lat_failed=$5
  # shellcheck disable=SC2086
  set -- $verified
  local still=$2
  awk -v t="$t" -v k="$kind" -v n="$n" -v ok="$ok" -v b="$before" -v a="$after" -v p50="$p50" \
    -v p99="$p99" -v lf="$lat_failed" -v still="$still" 'BEGIN {
      printf "| %s | %s | %d | %d | %.1f | %.1f | %.2f | %s | %s | %d |\n", k, t, n, ok,
        b / 1048576, a / 1048576, (a - b) / n / 1024, p50, p99, still }'
  ((failed == 0 && lat_failed == 0)) || log "warning: $t $kind $n: $failed connections failed to open, $lat_failed timed requests failed"
}

echo "# bench/macro/conn_memory.sh  $(date -Is)"
echo "# command: COUNTS=\"$COUNTS\" KINDS=\"$KINDS\" TARGETS=\"$TARGETS\" LAT_REQUESTS=$LAT_REQUESTS SETTLE_S=$SETTLE_S VORTEX=$(printf %q "${VORTEX#"$REPO_DIR"/}") bench/macro/conn_memory.sh"
echo "# host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg); $("$VORTEX" version 2>&1 | head -1); $(nginx -v 2>&1); $(haproxy -v 2>&1 | head -1)"
echo "# one worker each on CPU $PROXY_CPU; client and origin on CPU $LOAD_CPU; descriptor limit $fd_limit"
echo
echo "| kind | proxy | held | answered | RSS before MiB | RSS held MiB | KiB per connection | p50 ms | p99 ms | still served |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for kind in $KINDS; do
  for n in $COUNTS; do
    if ((n + 2048 > fd_limit)); then
      log "skipping $n connections: the descriptor limit is $fd_limit"
      continue
    fi
    for t in $TARGETS; do
      log "$kind: $t holding $n"
      measure "$t" "$kind" "$n"
    done
  done
done
