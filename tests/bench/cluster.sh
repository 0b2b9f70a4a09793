#!/usr/bin/env bash
# Web chat load across a local cluster: `kefu cluster --nodes N` on one PostgreSQL and one
# Redis, and one `kefu-wsload` process per node, each from its own 127.0.0.x (so no process
# holds more than 20,000 files and no source address runs out of ports).
#
#   tests/bench/cluster.sh idle NODES TOTAL_CONNECTIONS HOLD_SECS
#       connections held idle, spread over the nodes; each node's RSS sampled meanwhile
#   tests/bench/cluster.sh latency NODES TOTAL_VISITORS TOTAL_RATE SECONDS
#       visitor → agent latency with every message crossing nodes: generator k puts its
#       visitors on node k and its agent console on node k+1
#
# Needs release builds of `kefu` and `kefu-wsload` (cargo build --release -p kefu-gateway
# --bin kefu -p kefu-tests --bin kefu-wsload), PostgreSQL at $PG (default
# postgres://postgres@127.0.0.1:5432) and Redis at $REDIS (default redis://127.0.0.1:6379). It
# creates a fresh database and removes it at the end.
set -euo pipefail
mode="${1:?idle or latency}"
nodes="${2:-6}"
total="${3:-100000}"
hold="${4:-60}"
seconds="${5:-20}"
pg="${PG:-postgres://postgres@127.0.0.1:5432}"
redis="${REDIS:-redis://127.0.0.1:6379}"
bin="${CARGO_TARGET_DIR:-target}/release"
per=$(( (total + nodes - 1) / nodes ))
db="kefu_cluster_bench_$$"
work="$(mktemp -d)"
ulimit -n 20000

psql "$pg/postgres" -qc "create database $db"
cleanup() {
  kill -TERM -- "-$cluster_pid" 2>/dev/null || true
  wait "$cluster_pid" 2>/dev/null || true
  psql "$pg/postgres" -qc "drop database if exists $db with (force)" || true
  rm -rf "$work"
}
trap cleanup EXIT

proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(
  cd "$work"
  exec setsid env KEFU_DATABASE_URL="$pg/$db" KEFU_REDIS_URL="$redis" \
    KEFU_REDIS_NAMESPACE="bench$$" KEFU_LISTEN="127.0.0.1:$proxy_port" KEFU_DATA_DIR="$work/data" \
    KEFU_BOOTSTRAP_ADMIN_EMAIL=bench@example.com KEFU_BOOTSTRAP_ADMIN_PASSWORD=bench-password \
    RUST_LOG=warn "$bin/kefu" cluster --nodes "$nodes" --first-port 0 > "$work/cluster.out"
) &
cluster_pid=$!
until grep -q '^proxy ' "$work/cluster.out" 2>/dev/null; do sleep 0.5; done
proxy="http://127.0.0.1:$proxy_port"
token=$(curl -sf "$proxy/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
read -r inbox website < <(curl -sf "$proxy/api/v1/inboxes" -H "authorization: Bearer $token" | python3 -c '
import json,sys
i = next(i for i in json.load(sys.stdin)["items"] if i["channel"]["type"]=="web_chat")
print(i["id"], i["website_token"])')
# All generators of one process share an address: lift the per-address tab limit for the run.
curl -sf -X PATCH "$proxy/api/v1/inboxes/$inbox" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' \
  -d '{"channel": {"visitor_limits": {"connections_per_ip": 100000, "conversations_per_ip_per_hour": 100000}}}' > /dev/null

mapfile -t node_lines < <(grep '^node ' "$work/cluster.out")
echo "nodes:"; printf '  %s\n' "${node_lines[@]}"
rss_all() {
  local sum=0 line pid rss
  for line in "${node_lines[@]}"; do
    pid=$(awk '{print $4}' <<<"$line")
    rss=$(ps -o rss= -p "$pid" | tr -d ' ')
    printf '%s:%s MiB ' "$(awk '{print $2}' <<<"$line")" $(( rss / 1024 ))
    sum=$(( sum + rss ))
  done
  printf '| total %s MiB\n' $(( sum / 1024 ))
}
echo "idle RSS: $(rss_all)"

if [ "$mode" = latency ]; then
  rate=$(python3 -c "print(${4:-1000} / $nodes)")
  k=2
  for i in "${!node_lines[@]}"; do
    url=$(awk '{print $5}' <<<"${node_lines[$i]}" | sed 's#^http#ws#')
    next=$(( (i + 1) % nodes ))
    agent=$(awk '{print $5}' <<<"${node_lines[$next]}" | sed 's#^http#ws#')
    "$bin/kefu-wsload" latency --url "$url" --agent-url "$agent" --api "$proxy" \
      --email bench@example.com --password bench-password --token "$website" \
      --visitors "$per" --rate "$rate" --seconds "$seconds" --source "127.0.0.$k" \
      > "$work/load-$k.out" 2>&1 &
    k=$(( k + 1 ))
  done
  for pid in $(jobs -p); do [ "$pid" = "$cluster_pid" ] || wait "$pid" || true; done
  echo "RSS after: $(rss_all)"
  for f in "$work"/load-*.out; do echo "== $f"; grep -v -e "^visitor [0-9]" -e "^visitor connect failed" "$f" || true; done
  exit 0
fi

k=2
for line in "${node_lines[@]}"; do
  url=$(awk '{print $5}' <<<"$line" | sed 's#^http#ws#')
  "$bin/kefu-wsload" idle --url "$url" --token "$website" --connections "$per" \
    --source "127.0.0.$k" --hold "$hold" > "$work/load-$k.out" 2>&1 &
  k=$(( k + 1 ))
done
for _ in $(seq 1 $(( (hold + 30) / 10 ))); do
  sleep 10
  open=0
  for f in "$work"/load-*.out; do
    n=$(grep -o ' open=[0-9]*' "$f" | tail -1 | cut -d= -f2 || true)
    open=$(( open + ${n:-0} ))
  done
  echo "$(date +%T) open=$open RSS: $(rss_all)"
done
for pid in $(jobs -p); do [ "$pid" = "$cluster_pid" ] || wait "$pid" || true; done
echo "generators:"; tail -n 2 "$work"/load-*.out
