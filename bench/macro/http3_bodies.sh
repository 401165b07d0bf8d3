#!/usr/bin/env bash
# http3_bodies.sh — large-body throughput, HTTP/3 vs HTTP/2 over TLS, through the same Vortex
# route to the same HTTP/1.1 origin: a 1-worker nginx serving a static file (download) and
# storing PUT bodies with its WebDAV module in a tmpfs (upload: the whole body is read before
# the 201). Per direction and protocol: MiB/s of one transfer and Vortex CPU seconds
# (utime+stime from /proc) per GiB moved; ROUNDS runs each, the median printed. HTTP/2:
# curl --http2; HTTP/3: tests/h3client (quic-go). Uploads check the size that arrived.
# Knobs (environment): VORTEX (default build-dev/vortex), SIZE_MIB (64), ROUNDS (3).
# The clients and the origin share the machine with Vortex: MiB/s is a comparison, and
# the CPU per GiB (Vortex's alone) is the steadier number.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VORTEX_BIN=${VORTEX:-$REPO_DIR/build-dev/vortex}
SIZE_MIB=${SIZE_MIB:-64}
ROUNDS=${ROUNDS:-3}
BYTES=$((SIZE_MIB << 20))
CLK_TCK=$(getconf CLK_TCK)
RUN_DIR=$(mktemp -d /dev/shm/vortex-h3-bodies.XXXXXX)
chmod 755 "$RUN_DIR"  # nginx workers run as nobody when started by root
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
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$RUN_DIR/key.pem" -out "$RUN_DIR/cert.pem" 2>/dev/null
(cd "$REPO_DIR/tests/h3client" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$RUN_DIR/h3client" .)
head -c "$BYTES" /dev/urandom >"$RUN_DIR/upload.bin"

origin_port=$(free_port)
mkdir -p "$RUN_DIR/www/upload" "$RUN_DIR/tmp"
chmod 777 "$RUN_DIR/www/upload" "$RUN_DIR/tmp"
head -c "$BYTES" /dev/urandom >"$RUN_DIR/www/download.bin"
chmod 644 "$RUN_DIR/www/download.bin"
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
        location /upload/ { dav_methods PUT; create_full_put_path on; }
    }
}
NGINX
nginx -p "$RUN_DIR/" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf" &
ORIGIN_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$origin_port/" && break; sleep 0.05; done

cat >"$RUN_DIR/vx.yaml" <<YAML
workers: 1
listeners:
  - name: bench
    address: "127.0.0.1:$port"
    tls:
      certificates:
        - { cert: "$RUN_DIR/cert.pem", key: "$RUN_DIR/key.pem" }
    http3: true
limits: { max_body_bytes: 0 }
routes:
  - { name: r, match: { path_prefix: "/" }, cluster: origin }
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
url="https://127.0.0.1:$port"

# measure NAME CHECK COMMAND...: one transfer; appends its start/end times and Vortex CPU ticks
# to $RUN_DIR/NAME once CHECK (a grep -E pattern) is found in the command's output.
measure() {
  local name=$1 check=$2
  shift 2
  local t0 c0 t1 c1
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  "$@" >"$RUN_DIR/out" 2>&1
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  grep -Eq "$check" "$RUN_DIR/out" || { echo "$name failed:"; cat "$RUN_DIR/out"; exit 1; }
  echo "$t0 $t1 $c0 $c1" >>"$RUN_DIR/$name"
}

echo "SIZE_MIB=$SIZE_MIB ROUNDS=$ROUNDS, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$ROUNDS"); do
  measure h2-download "^200 $BYTES\$" curl -sk --http2 -o /dev/null -w '%{http_code} %{size_download}\n' "$url/download.bin"
  measure h3-download "\"status\":200,.*\"body_len\":$BYTES," "$RUN_DIR/h3client" -timeout 300s "$url/download.bin"
  rm -f "$RUN_DIR/www/upload/h2"
  measure h2-upload "^20[14]\$" curl -sk --http2 -o /dev/null -w '%{http_code}\n' -T "$RUN_DIR/upload.bin" "$url/upload/h2"
  [[ $(stat -c %s "$RUN_DIR/www/upload/h2") == "$BYTES" ]] || { echo "h2 upload incomplete"; exit 1; }
  rm -f "$RUN_DIR/www/upload/h3"
  measure h3-upload "\"status\":20[14]," "$RUN_DIR/h3client" -timeout 300s -X PUT -body-size "$BYTES" "$url/upload/h3"
  [[ $(stat -c %s "$RUN_DIR/www/upload/h3") == "$BYTES" ]] || { echo "h3 upload incomplete"; exit 1; }
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
