#!/usr/bin/env bash
# xdp.sh — what a banned client's flood costs (issue 16, docs/BENCHMARKS.md §8). Vortex runs in a
# network namespace behind a veth pair; the banned client floods it from the root namespace while
# a legitimate client (another address) times one GET per new connection. Three phases, one run:
#   xdp        bans.xdp on the veth, native then generic: raw TCP SYNs from the banned address,
#              as fast as one core writes them (bench/xdp/flood.c syn, AF_PACKET), dropped by the
#              XDP program; counted by vortex_xdp_dropped_packets_total.
#   userspace  no XDP: real connections from the banned address, one after another, each
#              completed by the kernel, accepted by Vortex and closed (flood.c connect).
#   syn-stack  no XDP, the same raw SYN flood as `xdp`: what the stack pays without the program
#              (SYN-ACKs or cookies; never reaches Vortex, so no user-space refusal either).
# For each: attempts per second absorbed, the CPU they cost on the receiving side (softirq time of
# the whole box from /proc/stat, plus Vortex's own CPU), attempts per CPU-second, and the good
# client's latency (a second run of the same flood, so its requests' CPU stays out of the first).
# The flooder's own CPU is not counted (it is the attacker's); softirq time is the whole box's,
# so in the userspace and stack rows it includes the client side's receive work too.
#
# Usage: sudo bench/macro/xdp.sh          (make bench-xdp runs it; needs root)
# Env: DURATION=5 VORTEX=build/vortex FLOOD_CPU=0 VORTEX_CPU=1
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
VORTEX=${VORTEX:-build/vortex}
VORTEXCTL=$(dirname "$VORTEX")/vortexctl
FLOOD_CPU=${FLOOD_CPU:-0}
VORTEX_CPU=${VORTEX_CPU:-1}
[[ $(id -u) -eq 0 ]] || { echo "xdp.sh: needs root (namespaces, AF_PACKET, bpf)" >&2; exit 1; }
[[ -x $VORTEX ]] || { echo "xdp.sh: no vortex at $VORTEX (make build)" >&2; exit 1; }

NS=vxbench$$ SIF=vxbs$$ CIF=vxbc$$
SERVER=10.252.0.1 GOOD=10.252.0.2 BAD=10.252.0.3 PORT=8080 METRICS=9191
work=$(mktemp -d /tmp/vortex-xdp-bench.XXXXXX)
vortex_pid=""
cleanup() {
  [[ -n $vortex_pid ]] && kill "$vortex_pid" 2>/dev/null && wait "$vortex_pid" 2>/dev/null
  ip link del "$CIF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/flood" bench/xdp/flood.c
ip netns add "$NS"
ip link add "$CIF" type veth peer name "$SIF" netns "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$SERVER/24" dev "$SIF"
ip -n "$NS" link set "$SIF" up
ip addr add "$GOOD/24" dev "$CIF"
ip addr add "$BAD/24" dev "$CIF"
ip link set "$CIF" up
server_mac=$(ip -n "$NS" -j link show dev "$SIF" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')

start_vortex() {  # $1: the bans.xdp interface ("" = off)
  cat >"$work/vortex.yaml" <<YAML
workers: 1
listeners: [ { name: main, address: "$SERVER:$PORT" } ]
metrics: { address: "$SERVER:$METRICS" }
admin: { socket: "$work/admin.sock" }
access_log: { path: "off" }
routes:
  - { name: d, match: { path_prefix: "/" }, direct_response: { status: 200, body: "ok\n", content_type: "text/plain" } }
bans: { ttl_ms: 600000, xdp: { interface: "$1", mode: $MODE } }
YAML
  ip netns exec "$NS" taskset -c "$VORTEX_CPU" "$VORTEX" run --config "$work/vortex.yaml" 2>"$work/vortex.log" &
  vortex_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/vortex.log" && break; sleep 0.05; done
  "$VORTEXCTL" --socket "$work/admin.sock" ban "$BAD" >/dev/null
}
stop_vortex() { kill "$vortex_pid"; wait "$vortex_pid" || true; vortex_pid=""; }
softirq_ticks() { awk '/^cpu /{print $8}' /proc/stat; }
vortex_ticks() { awk '{print $14 + $15}' "/proc/$vortex_pid/stat"; }
drops() {
  curl -s --interface "$GOOD" "http://$SERVER:$METRICS/metrics" | awk '/^vortex_xdp_dropped_packets_total/{print $2}'
}
hz=$(getconf CLK_TCK)

flood() {  # $1 kind: syn | connect
  if [[ $1 == syn ]]; then
    taskset -c "$FLOOD_CPU" "$work/flood" syn "$CIF" "$BAD" "$SERVER" "$server_mac" "$PORT" "$DURATION"
  else
    taskset -c "$FLOOD_CPU" "$work/flood" connect "$BAD" "$SERVER" "$PORT" "$DURATION"
  fi
}

run_phase() {  # $1 name, $2 bans.xdp.mode ("" = no XDP), $3 flood kind ("" = none)
  local mode=$2
  MODE=${mode:-native} start_vortex "${mode:+$SIF}"
  # The flood alone, for its rate and CPU (the good client would add its own requests' CPU)...
  local d0 s0 v0 out="sent 0" s1 v1 d1
  d0=$(drops); s0=$(softirq_ticks); v0=$(vortex_ticks)
  if [[ -n $3 ]]; then out=$(flood "$3"); else sleep "$DURATION"; fi
  s1=$(softirq_ticks); v1=$(vortex_ticks); d1=$(drops)
  # ...then the same flood again with the good client timing its requests.
  "$work/flood" probe "$GOOD" "$SERVER" "$PORT" "$DURATION" >"$work/probe" &
  local probe_pid=$!
  if [[ -n $3 ]]; then flood "$3" >/dev/null; fi
  wait "$probe_pid"
  local sent attempts
  sent=$(awk '{print $2}' <<<"$out")
  # What the server absorbed: XDP's own count when it ran, else what the flooder made.
  if [[ -n $mode ]]; then attempts=$((${d1%.*} - ${d0%.*})); else attempts=$sent; fi
  python3 - "$1" "$attempts" "$sent" "$DURATION" "$((s1 - s0))" "$((v1 - v0))" "$hz" "$(cat "$work/probe")" <<'PY'
import sys
name, attempts, sent, duration, si, vx, hz, probe = sys.argv[1:]
attempts, sent, duration, hz = int(attempts), int(sent), float(duration), int(hz)
si_s, vx_s = int(si) / hz, int(vx) / hz
cpu = si_s + vx_s
p = dict(zip(probe.split()[0::2], probe.split()[1::2]))
per_cpu = f"{attempts / cpu:,.0f}" if cpu and attempts else "–"
us = f"{cpu * 1e6 / attempts:.2f}" if attempts else "–"
print(f"| {name} | {sent / duration:,.0f} | {attempts / duration:,.0f} | {si_s:.2f} | {vx_s:.2f} | "
      f"{per_cpu} | {us} | {p['requests']} ({p['failed']} failed) | "
      f"{p['p50_us']} / {p['p99_us']} / {p['max_us']} |")
PY
  grep "bans:" "$work/vortex.log" | sed 's/^/    # /' >&2 || true
  stop_vortex
}

echo "kernel $(uname -r), $(nproc) CPUs, $DURATION s per phase (flood alone, then flood + good client)"
echo
echo "| phase | sent/s | absorbed/s | softirq CPU-s | Vortex CPU-s | absorbed per CPU-s | CPU µs per attempt | good client requests | good client p50 / p99 / max µs |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
run_phase "no flood (good client alone)" "" ""
run_phase "xdp native: SYN flood dropped" native syn
run_phase "xdp generic: SYN flood dropped" generic syn
run_phase "userspace: connections accepted + closed" "" connect
run_phase "no XDP: same SYN flood, answered by the stack" "" syn
