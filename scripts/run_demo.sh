#!/usr/bin/env bash
# `make run`: two demo origins on 127.0.0.1:9001/9002, a development certificate in certs/
# (made once), then Vortex in the foreground with examples/vortex.yaml. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
vortex=${1:-build/vortex}

if [[ ! -f certs/dev-cert.pem ]]; then
  mkdir -p certs
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout certs/dev-key.pem -out certs/dev-cert.pem >/dev/null 2>&1
  echo "make run: generated a development certificate in certs/"
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in 1 2; do
  /usr/bin/python3 scripts/demo_origin.py --port "900$i" --name "origin-$i" &
  pids+=($!)
done
echo "make run: demo origins on 127.0.0.1:9001 and 127.0.0.1:9002; try: curl localhost:8080/"
"$vortex" run --config examples/vortex.yaml &
pids+=($!)
wait "${pids[-1]}"
