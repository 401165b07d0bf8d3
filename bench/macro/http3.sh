#!/usr/bin/env bash
# http3.sh — HTTP/3 vs HTTP/2 over TLS in front of the same Vortex route, at the same client
# concurrency: requests/s and Vortex CPU per request (utime+stime from /proc). The route is a
# direct_response, so only the downstream protocol differs. HTTP/2: h2load, one connection with
# STREAMS streams; HTTP/3: tests/h3client in load mode, one connection with STREAMS streams.
# Knobs (environment): VORTEX (default build-dev/vortex), REQUESTS (20000), STREAMS (50),
# WORKERS (1), CONNECTIONS (1: with more, h2load opens that many connections and as many
# h3client processes run side by side, REQUESTS split between them; what lets several workers
# share the load, each connection being served by one).
# Both clients share the machine with Vortex: read the numbers as a comparison, not as capacity.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VORTEX_BIN=${VORTEX:-$REPO_DIR/build-dev/vortex}
REQUESTS=${REQUESTS:-20000}
STREAMS=${STREAMS:-50}
WORKERS=${WORKERS:-1}
CONNECTIONS=${CONNECTIONS:-1}
CLK_TCK=$(getconf CLK_TCK)
RUN_DIR=$(mktemp -d /tmp/vortex-h3-bench.XXXXXX)
VORTEX_PID=""
cleanup() {
  [[ -n $VORTEX_PID ]] && kill "$VORTEX_PID" 2>/dev/null && wait "$VORTEX_PID" 2>/dev/null
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics_port=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$RUN_DIR/key.pem" -out "$RUN_DIR/cert.pem" 2>/dev/null
(cd "$REPO_DIR/tests/h3client" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$RUN_DIR/h3client" .)
cat >"$RUN_DIR/vx.yaml" <<YAML
workers: $WORKERS
listeners:
  - name: bench
    address: "127.0.0.1:$port"
    tls:
      certificates:
        - { cert: "$RUN_DIR/cert.pem", key: "$RUN_DIR/key.pem" }
    http3: true
routes:
  - { name: r, match: { path_prefix: "/" }, direct_response: { status: 200, body: "hello" } }
admin: { socket: "$RUN_DIR/admin.sock" }
metrics: { address: "127.0.0.1:$metrics_port" }
access_log: { path: "off" }
YAML
"$VORTEX_BIN" run --config "$RUN_DIR/vx.yaml" >"$RUN_DIR/vortex.log" 2>&1 &
VORTEX_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$RUN_DIR/vortex.log" && break; sleep 0.05; done
grep -q "listening on" "$RUN_DIR/vortex.log" || { cat "$RUN_DIR/vortex.log"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$VORTEX_PID/stat"; }

# run NAME COMMAND...: prints NAME, requests/s and Vortex CPU microseconds per request.
run() {
  local name=$1
  shift
  local t0 c0 t1 c1
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  "$@" >"$RUN_DIR/$name.out" 2>&1
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  python3 - "$name" "$REQUESTS" "$t0" "$t1" "$c0" "$c1" "$CLK_TCK" <<'PY'
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
