#!/usr/bin/env bash
# http3.sh — HTTP/3 vs HTTP/2 over TLS in front of the same Vortex.
# 1. Small requests at the same client concurrency: requests/s and Vortex CPU per request
#    (utime+stime from /proc). The route is a direct_response, so only the downstream protocol
#    differs. HTTP/2: h2load, CONNECTIONS connections with STREAMS streams each; HTTP/3:
#    tests/h3client in load mode, as many processes as CONNECTIONS, one connection with STREAMS
#    streams each, REQUESTS split between them (what lets several workers share the load, each
#    connection being served by one); the HTTP/3 CPU split by worker thread.
# 2. Large bodies (SIZE_MIB > 0): one SIZE_MIB download and one upload at a time through a
#    route (/bodies/) to a 1-worker nginx origin (a static file down; a WebDAV PUT into tmpfs up,
#    so the whole body is read before the answer): MiB/s and Vortex CPU seconds per GiB, the
#    median of ROUNDS. HTTP/2: curl --http2; HTTP/3: tests/h3client. Uploads check the size.
# Knobs (environment): VORTEX (default build-dev/vortex), REQUESTS (20000), STREAMS (50),
# WORKERS (1), CONNECTIONS (1), SIZE_MIB (64; 0 skips part 2), ROUNDS (3).
# The clients and the origin share the machine with Vortex: read req/s and MiB/s as a
# comparison, not as capacity; Vortex's CPU per request or per GiB is the steadier number.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VORTEX_BIN=${VORTEX:-$REPO_DIR/build-dev/vortex}
REQUESTS=${REQUESTS:-20000}
STREAMS=${STREAMS:-50}
WORKERS=${WORKERS:-1}
CONNECTIONS=${CONNECTIONS:-1}
SIZE_MIB=${SIZE_MIB:-64}
ROUNDS=${ROUNDS:-3}
BYTES=$((SIZE_MIB << 20))
CLK_TCK=$(getconf CLK_TCK)
RUN_DIR=$(mktemp -d /dev/shm/vortex-h3-bench.XXXXXX)
chmod 755 "$RUN_DIR" # nginx workers run as nobody when started by root
VORTEX_PID=""
ORIGIN_PID=""
cleanup() {
  [[ -n $VORTEX_PID ]] && kill "$VORTEX_PID" 2>/dev/null && wait "$VORTEX_PID" 2>/dev/null
  [[ -n $ORIGIN_PID ]] && kill "$ORIGIN_PID" 2>/dev/null && wait "$ORIGIN_PID" 2>/dev/null
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics_port=$(free_port)
origin_port=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$RUN_DIR/key.pem" -out "$RUN_DIR/cert.pem" 2>/dev/null
(cd "$REPO_DIR/tests/h3client" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$RUN_DIR/h3client" .)
mkdir -p "$RUN_DIR/www/bodies/upload" "$RUN_DIR/tmp"
chmod 777 "$RUN_DIR/www/bodies/upload" "$RUN_DIR/tmp"
if ((SIZE_MIB > 0)); then
  head -c "$BYTES" /dev/urandom >"$RUN_DIR/www/bodies/download.bin"
  chmod 644 "$RUN_DIR/www/bodies/download.bin"
  head -c "$BYTES" /dev/urandom >"$RUN_DIR/upload.bin"
fi
cat >"$RUN_DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $RUN_DIR/nginx.pid;
error_log $RUN_DIR/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $RUN_DIR/tmp;
    server {
        listen 127.0.0.1:$origin_port;
        root $RUN_DIR/www;
        client_max_body_size 0;
        location /bodies/upload/ { dav_methods PUT; }
    }
}
NGINX
nginx -p "$RUN_DIR/" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf" &
ORIGIN_PID=$!
cat >"$RUN_DIR/vx.yaml" <<YAML
workers: $WORKERS
listeners:
  - name: bench
    address: "127.0.0.1:$port"
    tls:
      certificates:
        - { cert: "$RUN_DIR/cert.pem", key: "$RUN_DIR/key.pem" }
    http3: true
limits: { max_body_bytes: 0 }
routes:
  - { name: bodies, match: { path_prefix: "/bodies/" }, cluster: origin }
  - { name: r, match: { path_prefix: "/" }, direct_response: { status: 200, body: "hello" } }
clusters:
  - { name: origin, endpoints: [{ address: "127.0.0.1:$origin_port" }] }
admin: { socket: "$RUN_DIR/admin.sock" }
metrics: { address: "127.0.0.1:$metrics_port" }
access_log: { path: "off" }
YAML
"$VORTEX_BIN" run --config "$RUN_DIR/vx.yaml" >"$RUN_DIR/vortex.log" 2>&1 &
VORTEX_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$RUN_DIR/vortex.log" && break; sleep 0.05; done
grep -q "listening on" "$RUN_DIR/vortex.log" || { cat "$RUN_DIR/vortex.log"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$VORTEX_PID/stat"; }

# timed OUT COMMAND...: runs COMMAND with its output in OUT; prints "t0 t1 c0 c1": wall-clock
# seconds and Vortex CPU ticks before and after.
timed() {
  local out=$1 t0 c0
  shift
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  "$@" >"$out" 2>&1
  echo "$t0 $(date +%s.%N) $c0 $(cpu_ticks)"
}

# run NAME COMMAND...: prints NAME, requests/s and Vortex CPU microseconds per request.
run() {
  local name=$1
  shift
  local times
  times=$(timed "$RUN_DIR/$name.out" "$@")
  # shellcheck disable=SC2086 # four numbers
  python3 - "$name" "$REQUESTS" $times "$CLK_TCK" <<'PY'
import sys
name, n, t0, t1, c0, c1, tck = sys.argv[1:]
n, secs, cpu = int(n), float(t1) - float(t0), (int(c1) - int(c0)) / int(tck)
print(f"{name:6s} {n / secs:9.0f} req/s   {cpu / n * 1e6:7.1f} us Vortex CPU/request   ({secs:.2f} s)")
PY
}

# h3_clients: CONNECTIONS h3client processes side by side, REQUESTS split between them; each
# prints its result line to h3.N.out.
h3_clients() {
  local i pids=()
  for ((i = 0; i < CONNECTIONS; i++)); do
    "$RUN_DIR/h3client" -n $((REQUESTS / CONNECTIONS)) -c "$STREAMS" "https://127.0.0.1:$port/" \
      >"$RUN_DIR/h3.$i.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"  # not Vortex, a child as well
}

echo "requests=$REQUESTS streams=$STREAMS connections=$CONNECTIONS workers=$WORKERS," \
  "$(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
run h2 h2load -n "$REQUESTS" -c "$CONNECTIONS" -m "$STREAMS" "https://127.0.0.1:$port/"
grep -q "$REQUESTS succeeded" "$RUN_DIR/h2.out" || { cat "$RUN_DIR/h2.out"; exit 1; }
# worker_cpu: "name ns-on-CPU" of each worker thread (vortex-wN), from /proc schedstat.
worker_cpu() {
  local task
  for task in /proc/$VORTEX_PID/task/*; do
    if [[ $(cat "$task/comm") == vortex-w* ]]; then
      echo "$(cat "$task/comm") $(cut -d' ' -f1 "$task/schedstat")"
    fi
  done
}
worker_cpu >"$RUN_DIR/cpu.before"
run h3 h3_clients
worker_cpu >"$RUN_DIR/cpu.after"
python3 - "$RUN_DIR/cpu.before" "$RUN_DIR/cpu.after" <<'PY'
import sys
read = lambda path: dict(line.split() for line in open(path))
before, after = read(sys.argv[1]), read(sys.argv[2])
spent = {name: int(after[name]) - int(before[name]) for name in sorted(after)}
total = sum(spent.values()) or 1
print("h3 CPU by worker: " + ", ".join(f"{name} {100 * ns / total:.0f}%" for name, ns in spent.items()))
PY
for ((i = 0; i < CONNECTIONS; i++)); do
  grep -q "\"200\":$((REQUESTS / CONNECTIONS))" "$RUN_DIR/h3.$i.out" || { cat "$RUN_DIR/h3.$i.out"; exit 1; }
done

((SIZE_MIB > 0)) || exit 0
url="https://127.0.0.1:$port/bodies"
# measure NAME CHECK COMMAND...: one transfer; appends its start/end times and Vortex CPU ticks
# to $RUN_DIR/NAME once CHECK (a grep -E pattern) is found in the command's output.
measure() {
  local name=$1 check=$2 times
  shift 2
  times=$(timed "$RUN_DIR/out" "$@")
  grep -Eq "$check" "$RUN_DIR/out" || { echo "$name failed:"; cat "$RUN_DIR/out"; exit 1; }
  echo "$times" >>"$RUN_DIR/$name"
}
# uploaded NAME: the origin stored the whole body.
uploaded() {
  [[ $(stat -c %s "$RUN_DIR/www/bodies/upload/$1") == "$BYTES" ]] || { echo "$1 upload incomplete"; exit 1; }
  rm -f "$RUN_DIR/www/bodies/upload/$1"
}

echo "SIZE_MIB=$SIZE_MIB ROUNDS=$ROUNDS, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$ROUNDS"); do
  measure h2-download "^200 $BYTES\$" curl -sk --http2 -o /dev/null -w '%{http_code} %{size_download}\n' "$url/download.bin"
  measure h3-download "\"status\":200,.*\"body_len\":$BYTES," "$RUN_DIR/h3client" -timeout 300s "$url/download.bin"
  measure h2-upload "^20[14]\$" curl -sk --http2 -o /dev/null -w '%{http_code}\n' -T "$RUN_DIR/upload.bin" "$url/upload/h2"
  uploaded h2
  measure h3-upload "\"status\":20[14]," "$RUN_DIR/h3client" -timeout 300s -X PUT -body-size "$BYTES" "$url/upload/h3"
  uploaded h3
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RUN_DIR" "$BYTES" "$CLK_TCK" <<'PY'
import statistics, sys
run_dir, size, tck = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"{'transfer':12s} {'MiB/s':>8s} {'CPU s/GiB':>10s}   (median of the rounds)")
for name in ("h2-download", "h3-download", "h2-upload", "h3-upload"):
    rates, cpus = [], []
    for line in open(f"{run_dir}/{name}"):
        t0, t1, c0, c1 = map(float, line.split())
        rates.append(size / (1 << 20) / (t1 - t0))
        cpus.append((c1 - c0) / tck / (size / (1 << 30)))
    print(f"{name:12s} {statistics.median(rates):8.1f} {statistics.median(cpus):10.2f}")
PY
