# shellcheck shell=bash
# lib.sh — helpers for the bench/macro scripts (sourced, never run). Every process a script
# starts leads its own process group, pinned with taskset; an EXIT trap (also taken on Ctrl-C
# and SIGTERM) stops exactly those groups, never anything by name, never a system service.
# Also: free ports, CPU accounting from /proc, and the configs of the origin and the peers.

# shellcheck disable=SC2034  # used by the scripts that source this
MACRO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$MACRO_DIR/../.." && pwd)
LOAD_CPU=${LOAD_CPU:-0}   # load generator + origin
PROXY_CPU=${PROXY_CPU:-1} # the proxy under test, alone
RESULTS_DIR=${RESULTS_DIR:-/tmp/vortex-bench-results}
KEEP_TMP=${KEEP_TMP:-0}           # 1: keep the run dir (configs, logs) after exit
UPSTREAM_POOL=${UPSTREAM_POOL:-256} # idle origin connections each proxy may keep (>= CONNS)
# TLS on the proxies' listeners (gen_nginx, gen_haproxy, gen_vortex): empty = plain HTTP; set
# both to a PEM certificate and its key (see gen_cert) and every proxy terminates TLS 1.3
# there (Vortex: no knob for the version; TLS 1.3 is what any 1.3-capable client gets).
BENCH_TLS_CERT=""
BENCH_TLS_KEY=""
# ALPN the TLS listeners offer: "h2" makes every proxy speak HTTP/2 over TLS (nginx: http2).
BENCH_TLS_ALPN=${BENCH_TLS_ALPN:-http/1.1}
# Client connections each proxy must accept (empty: 8192 connections in all, nginx's
# worker_connections and haproxy's maxconn), and how long an idle keep-alive client connection
# is kept (empty: each proxy's own default).
BENCH_MAX_CONNS=${BENCH_MAX_CONNS:-}
BENCH_IDLE_TIMEOUT_S=${BENCH_IDLE_TIMEOUT_S:-}
# The descriptor limit the proxies must live within (empty: nginx and haproxy size their own
# from the connection counts above, which may ask for more than the hard limit allows).
BENCH_FD_LIMIT=${BENCH_FD_LIMIT:-}
# shellcheck disable=SC2034
CLK_TCK=$(getconf CLK_TCK)

declare -a BENCH_PGIDS=()  # process groups we started, in start order
declare -A BENCH_PID=()    # service name -> pid (== its pgid)
declare -A BENCH_BORN=()   # pgid -> start time of its leader: a reused pid is not ours
LOADGEN_PG=""              # the wrk running right now, if any
RUN_DIR=""

exec {LOG_FD}>&2 # log() still reaches the terminal while stderr is redirected
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" 2>/dev/null 1>&"$LOG_FD" || true; }
die() {
  log "ERROR: $*"
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# A script takes no arguments, every knob is an environment variable: -h/--help prints the
# script's header comment (down to `set -euo`), anything else is refused.
knobs_only() {
  case ${1:-} in
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    "") ;;
    *) die "no arguments; every knob is an environment variable (see --help)" ;;
  esac
}

# ------------------------------------------------------------------------------ lifecycle

# bench_begin NAME: private run dir, and the traps that clean up whatever happens next.
bench_begin() {
  RUN_DIR=$(mktemp -d "/tmp/vortex-bench-$1.XXXXXX")
  trap bench_end EXIT
  # An interrupted `| tee` reader is gone too: ignore SIGPIPE so logging cannot abort cleanup.
  trap 'trap "" PIPE; log "interrupted"; exit 130' INT
  trap 'trap "" PIPE; log "terminated"; exit 143' TERM
}

bench_end() {
  local rc=$? pg
  trap - EXIT INT TERM
  trap '' PIPE
  [[ -n $LOADGEN_PG ]] && stop_group "$LOADGEN_PG"
  for pg in "${BENCH_PGIDS[@]}"; do stop_group "$pg"; done
  wait 2>/dev/null || true
  if [[ -n $RUN_DIR && -d $RUN_DIR ]]; then
    # Kept after a failure (not after Ctrl-C) so the configs and logs can be read.
    if [[ $KEEP_TMP == 1 || ($rc != 0 && $rc != 130 && $rc != 143) ]]; then
      log "kept run dir: $RUN_DIR"
    else
      rm -rf "$RUN_DIR"
    fi
  fi
  exit "$rc"
}

# stat_field PID N: field N of /proc/PID/stat, counted after the "(comm)" field (state = 1).
stat_field() {
  local n=$2 line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line=${line##*) }
  # shellcheck disable=SC2086
  set -- $line
  ((n <= $#)) || return 1
  echo "${!n}"
}

# stop_group PGID [GRACE]: SIGTERM to the whole group, GRACE seconds (5) to exit, then SIGKILL.
stop_group() {
  local pg=$1 grace=${2:-5} born i
  born=$(stat_field "$pg" 20) || born=""
  # The leader's pid now names another process (ours exited, the pid was reused): leave it.
  if [[ -n $born && -n ${BENCH_BORN[$pg]:-} && $born != "${BENCH_BORN[$pg]}" ]]; then return 0; fi
  kill -TERM -- "-$pg" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 -- "-$pg" 2>/dev/null || return 0
    sleep 0.1
  done
  log "process group $pg ignored SIGTERM for $grace s: SIGKILL"
  kill -KILL -- "-$pg" 2>/dev/null || true
}

# start_pinned NAME CPU CMD...: CMD in a new session pinned to CPU, output in RUN_DIR/NAME.log.
# A background job of a non-interactive shell is no group leader, so setsid does not fork:
# $! is CMD's pid and its pgid. Checked rather than assumed.
start_pinned() {
  local name=$1 cpu=$2 pid pg
  shift 2
  setsid taskset -c "$cpu" "$@" >"$RUN_DIR/$name.log" 2>&1 </dev/null {LOG_FD}>&- &
  pid=$!
  BENCH_PGIDS+=("$pid")
  BENCH_PID[$name]=$pid
  BENCH_BORN[$pid]=$(stat_field "$pid" 20) || true
  sleep 0.05
  pg=$(stat_field "$pid" 3) || {
    tail -n 20 "$RUN_DIR/$name.log" >&2
    die "$name exited at once (log: $RUN_DIR/$name.log)"
  }
  [[ $pg == "$pid" ]] || log "warning: $name (pid $pid) is in process group $pg"
}

# run_loadgen CMD...: a bounded client in its own group, waited for with the `wait` builtin so
# Ctrl-C interrupts the wait at once and bench_end stops the client too.
run_loadgen() {
  local rc=0
  setsid "$@" {LOG_FD}>&- &
  LOADGEN_PG=$!
  BENCH_BORN[$LOADGEN_PG]=$(stat_field "$LOADGEN_PG" 20) || true
  wait "$LOADGEN_PG" || rc=$?
  LOADGEN_PG=""
  return "$rc"
}

# wait_ok NAME URL [SECONDS]: until URL answers 200; dies early if NAME's process died.
wait_ok() {
  local name=$1 url=$2 deadline=$((SECONDS + ${3:-15})) code=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "${BENCH_PID[$name]}" 2>/dev/null; then
      tail -n 30 "$RUN_DIR/$name.log" >&2 || true
      die "$name died while starting (log: $RUN_DIR/$name.log)"
    fi
    # -k: the TLS listeners of the bench have a self-signed certificate (no effect on http://)
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
    [[ $code == 200 ]] && return 0
    sleep 0.1
  done
  tail -n 30 "$RUN_DIR/$name.log" >&2 || true
  die "$name does not answer 200 on $url after ${3:-15} s (last status: ${code:-none})"
}

# callgrind_counts NAME WRK_OUT CALLGRIND_OUT: stops NAME (a process under callgrind, started
# with start_pinned), then sets REQUESTS (wrk's count in WRK_OUT) and INSTRUCTIONS (the profile's
# program total). Dies on a non-2xx answer or a missing number.
callgrind_counts() {
  # Under callgrind, exiting (and writing the profile) can take a while on a busy machine;
  # a SIGKILL would lose the profile.
  stop_group "${BENCH_PID[$1]}" 60
  grep -q "Non-2xx" "$2" && die "$1 answered non-2xx (see $2)"
  REQUESTS=$(awk '/ requests in / { print $1 }' "$2")
  INSTRUCTIONS=$(callgrind_annotate "$3" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  [[ -n $INSTRUCTIONS && -n $REQUESTS ]] || die "no callgrind total in $3 or wrk count in $2"
}

# ------------------------------------------------------------------------------ ports

port_in_use() { [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]; }

# pick_ports N: N distinct free TCP ports, from BASE_PORT up when it is set, else from the OS
# (all bound at once, then released: another program may still take one before we do, in
# which case the service fails to start and says so).
pick_ports() {
  local n=$1 i
  if [[ -n ${BASE_PORT:-} ]]; then
    for ((i = 0; i < n; i++)); do
      port_in_use $((BASE_PORT + i)) && die "port $((BASE_PORT + i)) is in use (change BASE_PORT)"
      echo $((BASE_PORT + i))
    done
  else
    /usr/bin/python3 - "$n" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
EOF
  fi
}

# ------------------------------------------------------------------------------ CPU accounting

# cpu_snapshot -> "busy_load total_load busy_proxy total_proxy steal_both usersys_all irq_proxy"
# in ticks.
# busy = user + nice + system + irq + softirq (iowait counts as idle); usersys_all = user +
# nice + system over every CPU, comparable with the per-process times (which exclude irqs).
cpu_snapshot() {
  awk -v a="cpu$LOAD_CPU" -v b="cpu$PROXY_CPU" '
    $1 ~ /^cpu[0-9]+$/ { usersys += $2 + $3 + $4 }
    $1 == a || $1 == b {
      busy[$1] = $2 + $3 + $4 + $7 + $8; irq[$1] = $7 + $8; steal += $9
      for (i = 2; i <= 9; i++) total[$1] += $i
    }
    END { print busy[a], total[a], busy[b], total[b], steal, usersys, irq[b] }' /proc/stat
}

# cpu_busy BEFORE AFTER OURS_TICKS ELAPSED_S -> "load% proxy% steal% other% proxy_irq%"
#   steal: % of both cores' time the hypervisor took; other: CPU used meanwhile by processes
#   we did not start (OURS_TICKS = what ours used; "-" when unknown), in % of one core;
#   proxy_irq: irq + softirq share of the proxy core (kernel time no process is charged for).
cpu_busy() {
  awk -v b="$1" -v a="$2" -v ours="$3" -v el="$4" -v hz="$CLK_TCK" 'BEGIN {
    split(b, x, " "); split(a, y, " ")
    t0 = y[2] - x[2]; t1 = y[4] - x[4]
    if (t0 <= 0) t0 = 1
    if (t1 <= 0) t1 = 1
    other = "-"
    if (ours != "-") { other = 100 * ((y[6] - x[6]) - ours) / (el * hz); other = sprintf("%.0f", other < 0 ? 0 : other) }
    printf "%.0f %.0f %.1f %s %.0f\n", 100 * (y[1] - x[1]) / t0, 100 * (y[3] - x[3]) / t1,
      100 * (y[5] - x[5]) / (t0 + t1), other, 100 * (y[7] - x[7]) / t1 }'
}

# group_ticks PGID -> utime + stime (ticks) of every live process in that group. A process's
# /proc/PID/stat already sums all its threads.
group_ticks() {
  local want=$1 f line sum=0
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    line=${line##*) }
    # shellcheck disable=SC2086
    set -- $line # 1 state, 3 pgrp, 12 utime, 13 stime
    [[ $3 == "$want" ]] && sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

# group_pids PGID -> the live pids of that group, comma-separated (for perf -p)
group_pids() {
  local want=$1 f line pids=""
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    line=${line##*) }
    # shellcheck disable=SC2086
    set -- $line
    [[ $3 == "$want" ]] && pids+="${pids:+,}${f//[^0-9]/}"
  done
  echo "$pids"
}

# ------------------------------------------------------------------------------ configs
# The generators write into DIR and print the command line that runs it in the foreground.

# gen_cert DIR: a self-signed ECDSA P-256 certificate for localhost, valid 1 day, as
# DIR/cert.pem + DIR/key.pem, and DIR/haproxy.pem (both in one file, as haproxy's crt wants).
gen_cert() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>"$dir/openssl.log" ||
    die "openssl could not make a certificate: $(tail -n 3 "$dir/openssl.log")"
  cat "$dir/cert.pem" "$dir/key.pem" >"$dir/haproxy.pem"
}

# gen_origin DIR PORT BODY_BYTES: 1-worker nginx answering a fixed body from memory.
gen_origin() {
  local dir=$1 port=$2 body
  body=$(head -c "$3" /dev/zero | tr '\0' 'x')
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# the origin, shared by every target; not under test (pinned with the load generator)
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 10000000;   # never close the proxies' pooled connections mid-run
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location / {
            default_type text/plain;
            return 200 "$body";
        }
        # stub_status "accepts" before/after a run = origin connections a proxy opened
        location = /__status { stub_status; }
        # start-up check that the proxy added x-forwarded-for (not on the measured path)
        location = /__xff { default_type text/plain; return 200 "\$http_x_forwarded_for"; }
    }
}
EOF
  echo "nginx -p $dir/ -e $dir/error.log -c $dir/nginx.conf"
}

# origin_accepts URL -> connections the origin accepted so far (stub_status line 3, field 1)
origin_accepts() {
  curl -s --max-time 2 "$1" | awk 'NR == 3 { print $1; ok = 1 } END { if (!ok) print -1 }'
}

# gen_nginx DIR PORT UPSTREAM: nginx as a reverse proxy, one worker, pooled upstream.
gen_nginx() {
  local dir=$1 port=$2 upstream=$3
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;            # one worker, pinned by taskset
daemon off;                    # foreground: its process group is ours to stop
pid $dir/nginx.pid;
error_log $dir/error.log warn;
$([[ -n $BENCH_FD_LIMIT ]] && echo "worker_rlimit_nofile $BENCH_FD_LIMIT;")
events { worker_connections $([[ -n $BENCH_MAX_CONNS ]] && echo $((2 * BENCH_MAX_CONNS + 512)) || echo 8192); }  # client + upstream
http {
    access_log off;
$([[ -n $BENCH_IDLE_TIMEOUT_S ]] && echo "    keepalive_timeout ${BENCH_IDLE_TIMEOUT_S}s;")
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 10000000;   # the default 1000 would recycle client connections
    upstream origin {
        server $upstream;
        keepalive $UPSTREAM_POOL;            # idle upstream connections kept by the worker
        keepalive_requests 10000000;
        keepalive_timeout 60s;
    }
    server {
$(if [[ -n $BENCH_TLS_CERT ]]; then
    if [[ $BENCH_TLS_ALPN == h2 ]]; then
      echo "        listen 127.0.0.1:$port ssl http2 backlog=4096;"
    else
      echo "        listen 127.0.0.1:$port ssl backlog=4096;   # HTTP/1.1 only (no http2)"
    fi
    echo "        ssl_certificate $BENCH_TLS_CERT;"
    echo "        ssl_certificate_key $BENCH_TLS_KEY;"
    echo "        ssl_protocols TLSv1.3;                  # session tickets: nginx's default (on)"
  else
    echo "        listen 127.0.0.1:$port backlog=4096;"
  fi)
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;          # upstream keep-alive needs 1.1 ...
            proxy_set_header Connection "";  # ... and no "Connection: close"
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
  echo "nginx -p $dir/ -e $dir/error.log -c $dir/nginx.conf"
}

# gen_haproxy DIR PORT UPSTREAM: haproxy in http mode, one thread, server connections shared.
gen_haproxy() {
  local dir=$1 port=$2 upstream=$3 tls=""
  mkdir -p "$dir"
  # crt: certificate and key in one file (gen_cert's haproxy.pem); tickets: haproxy's default
  [[ -n $BENCH_TLS_CERT ]] && tls=" ssl crt ${BENCH_TLS_CERT%/*}/haproxy.pem ssl-min-ver TLSv1.3 alpn $BENCH_TLS_ALPN"
  cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread 1                 # one thread, pinned by taskset
    maxconn $([[ -n $BENCH_MAX_CONNS ]] && echo $((BENCH_MAX_CONNS + 512)) || echo 8192)
$([[ -n $BENCH_FD_LIMIT ]] && printf '    ulimit-n %s\n    no strict-limits           # maxconn may exceed ulimit-n / 2: few requests are in flight\n' "$BENCH_FD_LIMIT")
    # no 'log': no access log; no 'daemon' (run with -db): its process group is ours to stop

defaults
    mode http
    option http-keep-alive
    option forwardfor          # x-forwarded-for
    http-reuse always          # idle server connections shared by all client connections
    timeout connect 5s
    timeout client ${BENCH_IDLE_TIMEOUT_S:-30}s
    timeout server 30s
    timeout http-keep-alive ${BENCH_IDLE_TIMEOUT_S:-30}s

frontend fe
    bind 127.0.0.1:$port$tls
    default_backend be

backend be
    server origin $upstream
EOF
  echo "haproxy -db -f $dir/haproxy.cfg"
}

# gen_vortex DIR PORT UPSTREAM METRICS_PORT: DIR/vortex.yaml (SPEC.md §2), the peers' shape.
# Prints nothing: the caller runs "$VORTEX" itself, whatever characters its path holds.
# BENCH_VORTEX_WASM=FILE: a `wasm:` block with one plugin (bench/macro/wasm.sh writes them),
# appended to the config and run on the route.
BENCH_VORTEX_WASM=${BENCH_VORTEX_WASM:-}
gen_vortex() {
  local dir=$1 port=$2 upstream=$3 metrics_port=$4 plugins=""
  if [[ -n $BENCH_VORTEX_WASM ]]; then
    plugins=", plugins: [$(awk '/name:/ { sub(/.*name: */, ""); sub(/[ ,}].*/, ""); print; exit }' "$BENCH_VORTEX_WASM")]"
  fi
  mkdir -p "$dir"
  cat >"$dir/vortex.yaml" <<EOF
workers: 1                 # one worker, pinned by taskset
cpu_pinning: false         # taskset already chose the CPU; worker 0 -> CPU 0 would be wrong
drain_timeout_ms: 1000
listeners:
$(if [[ -n $BENCH_TLS_CERT ]]; then
    echo "  - name: bench"
    echo "    address: \"127.0.0.1:$port\""
    echo "    tls:                   # TLS 1.2 and 1.3 accepted (no version key); clients here get 1.3"
    echo "      certificates:"
    echo "        - { cert: \"$BENCH_TLS_CERT\", key: \"$BENCH_TLS_KEY\", server_names: [\"*\"] }"
    echo "      alpn: [$BENCH_TLS_ALPN]"
  else
    echo "  - { name: bench, address: \"127.0.0.1:$port\" }"
  fi)
routes:
  - { name: all, match: { path_prefix: "/" }, cluster: origin$plugins }
clusters:
  - name: origin
    lb: round_robin
    endpoints:
      - { address: "$upstream" }
    pool: { max_idle_per_endpoint: $UPSTREAM_POOL }
admin: { socket: "$dir/admin.sock" }
metrics: { address: "127.0.0.1:$metrics_port" }
$([[ -n $BENCH_IDLE_TIMEOUT_S ]] && echo "limits: { idle_timeout_ms: $((BENCH_IDLE_TIMEOUT_S * 1000)), max_connections: $((${BENCH_MAX_CONNS:-8192} + 512)) }")
access_log: { path: "off" }
EOF
  if [[ -n $BENCH_VORTEX_WASM ]]; then cat "$BENCH_VORTEX_WASM" >>"$dir/vortex.yaml"; fi
}
