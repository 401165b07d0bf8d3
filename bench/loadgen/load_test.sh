#!/usr/bin/env bash
# `make load-test`: open-loop load against a running Vortex (`make run`, or a Service reached
# through `kubectl port-forward`). Requests go out at a fixed RATE whatever the answers do, and
# each one's latency counts from the moment it was due, so a stalled proxy shows up in the
# percentiles instead of slowing the generator down (no coordinated omission; Vegeta and wrk2
# are not in Debian, openloop.c is this project's). Prints the percentiles, the achieved rate
# and every failure: non-2xx answers, connection errors, timeouts.
# Env: URL (http://127.0.0.1:8080/) RATE (req/s, 500) DURATION (s, 10) CONNECTIONS (64)
#      WARMUP (s, 2; sent, not counted) TIMEOUT_MS (10000) ARRIVAL (const | poisson)
#      OPENLOOP (where the tool is built: build/bench/openloop)
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${URL:-http://127.0.0.1:8080/}
rate=${RATE:-500}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
warmup=${WARMUP:-2}
timeout_ms=${TIMEOUT_MS:-10000}
arrival=${ARRIVAL:-const}
tool=${OPENLOOP:-build/bench/openloop}

if [[ ! -x $tool || bench/loadgen/openloop.c -nt $tool ]]; then
  mkdir -p "$(dirname "$tool")"
  gcc -O2 -Wall -Wextra -o "$tool" bench/loadgen/openloop.c -lm
fi

# openloop connects to an IPv4 literal: a name (localhost, a node) is resolved here once.
if [[ $url =~ ^http://([^/:]+)(.*)$ ]]; then
  host=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
  if [[ ! $host =~ ^[0-9.]+$ ]]; then
    ip=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
    [[ -n $ip ]] || { echo "load-test: cannot resolve $host" >&2; exit 2; }
    url="http://$ip$rest"
  fi
else
  echo "load-test: URL must be http://HOST[:PORT]/PATH (no https), got $url" >&2
  exit 2
fi

echo "load test: $url, $rate req/s ($arrival arrivals) for ${duration}s after ${warmup}s warm-up, $connections connections"
out=$("$tool" --url "$url" --rate "$rate" --duration "$duration" --warmup "$warmup" \
  --connections "$connections" --timeout-ms "$timeout_ms" --arrival "$arrival" --label load-test)
# One line of key=value pairs (openloop.c's header) made readable.
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
  END {
    printf "requests:  %d due, %d ok (2xx), %d non-2xx, %d connection errors, %d timeouts\n",
      v["intended"], v["ok"], v["non2xx"], v["errors"], v["timeouts"]
    printf "rate:      %s req/s achieved of %s asked\n", v["achieved_rps"], v["rate"]
    printf "latency:   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s ms (from each request'"'"'s due time)\n",
      v["p50"], v["p90"], v["p99"], v["p999"], v["max"], v["mean"]
    printf "generator: %s connections open, %s reconnects, %s failed connects, longest send lag %s ms, longest queue %s\n",
      v["conns"], v["reconnects"], v["connect_errors"], v["max_send_lag"], v["max_queue"]
    if (v["max_send_lag"] > 5) print "warning:   the generator itself fell behind (send lag over 5 ms); the machine is loaded"
  }' <<<"$out"
echo "raw: $out"
