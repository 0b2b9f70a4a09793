#!/usr/bin/env bash
# Web chat load against one release `kefu` on a fresh database, with the server's CPU seconds
# (and, on PostgreSQL, its database backends', transactions and table scans) reported.
#
#   tests/bench/node.sh postgres|sqlite replies VISITORS RATE SECONDS
#       agent replies to visitors' conversations (kefu-wsload replies)
#   tests/bench/node.sh postgres|sqlite latency VISITORS RATE SECONDS
#       visitor messages to one agent console (kefu-wsload latency)
#   tests/bench/node.sh postgres|sqlite throughput VISITORS - SECONDS
#       durable visitor messages per second, 64 in flight (kefu-wsload throughput)
#   tests/bench/node.sh postgres|sqlite connections CONNECTIONS - SECONDS
#       idle widget connections held SECONDS, from four generator processes (kefu-wsload
#       idle, 127.0.0.2-5); prints the server's RSS before and at its highest while held
#
# After a load it prints the server's resident memory; with SETTLE=S set, again S seconds later.
#
# Needs release builds of `kefu` and `kefu-wsload` (cargo build --release -p kefu-gateway
# --bin kefu -p kefu-tests --bin kefu-wsload) and, for postgres, PostgreSQL at $PG (default
# postgres://postgres@127.0.0.1:5432). It creates a fresh database and removes it at the end.
# Extra arguments after SECONDS go to kefu-wsload. With ANALYZE=1 on postgres, the generator
# refreshes the planner statistics after its warm-up, as autovacuum does within a minute of a
# production database filling; without it, plans are made for tables the planner takes for empty.
set -euo pipefail
db_kind="${1:?postgres or sqlite}"
mode="${2:?replies or latency}"
visitors="${3:-1000}"
rate="${4:-100}"
seconds="${5:-20}"
shift $(( $# < 5 ? $# : 5 ))
pg="${PG:-postgres://postgres@127.0.0.1:5432}"
bin="${KEFU_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release}"
work="$(mktemp -d)"
db="kefu_node_bench_$$"
ulimit -n 20000

pg_args=()
if [ "$db_kind" = postgres ]; then
  psql "$pg/postgres" -qc "create database $db"
  # PG_LOG_STATEMENTS=1: every statement of the run goes to the PostgreSQL server log.
  if [ -n "${PG_LOG_STATEMENTS:-}" ]; then
    psql "$pg/postgres" -qc "alter database $db set log_statement = 'all'"
  fi
  database_url="$pg/$db"
  pg_args=(--pg "$database_url")
  if [ -n "${ANALYZE:-}" ] && [ "$mode" != connections ]; then
    pg_args+=(--analyze "$database_url")
  fi
else
  database_url="sqlite://$work/kefu.db?mode=rwc"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  kill -TERM "$kefu_pid" 2>/dev/null || true
  wait "$kefu_pid" 2>/dev/null || true
  if [ "$db_kind" = postgres ]; then
    psql "$pg/postgres" -qc "drop database if exists $db with (force)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
(
  cd "$work"
  exec env KEFU_DATABASE_URL="$database_url" KEFU_LISTEN="127.0.0.1:$port" \
    KEFU_DATA_DIR="$work/data" KEFU_BOOTSTRAP_ADMIN_EMAIL=bench@example.com \
    KEFU_BOOTSTRAP_ADMIN_PASSWORD=bench-password RUST_LOG="${RUST_LOG:-warn}" \
    "$bin/kefu" > "$work/kefu.log" 2>&1
) &
kefu_pid=$!
api="http://127.0.0.1:$port"
until curl -sf "$api/readyz" > /dev/null; do
  kill -0 "$kefu_pid" || { cat "$work/kefu.log"; exit 1; }
  sleep 0.2
done
token=$(curl -sf "$api/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
read -r inbox website < <(curl -sf "$api/api/v1/inboxes" -H "authorization: Bearer $token" | python3 -c '
import json,sys
i = next(i for i in json.load(sys.stdin)["items"] if i["channel"]["type"]=="web_chat")
print(i["id"], i["website_token"])')
# Every visitor comes from one address: lift the per-address limits for the run.
curl -sf -X PATCH "$api/api/v1/inboxes/$inbox" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' \
  -d '{"channel": {"visitor_limits": {"connections_per_ip": 100000, "conversations_per_ip_per_hour": 100000}}}' > /dev/null
echo "kefu pid $kefu_pid on $db_kind, RSS $(ps -o rss= -p "$kefu_pid" | tr -d ' ') KiB"
if [ "$mode" = connections ]; then
  # shellcheck source=tests/bench/lib.sh
  . "$(dirname "$0")/lib.sh"
  hold_connections "$kefu_pid" "$visitors" "$seconds" --url "ws://127.0.0.1:$port" --token "$website"
  exit 0
fi
"$bin/kefu-wsload" "$mode" --url "ws://127.0.0.1:$port" --api "$api" \
  --email bench@example.com --password bench-password --token "$website" \
  --visitors "$visitors" --rate "$rate" --seconds "$seconds" --source 127.0.0.7 \
  --server-pid "$kefu_pid" "${pg_args[@]}" "$@"
rss_line() { awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s %s KiB  ", $1, $2} END {print ""}' "/proc/$kefu_pid/status"; }
echo "kefu after: $(rss_line)"
# SETTLE=S: the RSS again after S idle seconds, for what the allocator gives back after a burst.
if [ -n "${SETTLE:-}" ]; then
  sleep "$SETTLE"
  echo "kefu ${SETTLE}s later: $(rss_line)"
fi
if [ -n "${KEEP_LOG:-}" ]; then cp "$work/kefu.log" "$KEEP_LOG"; fi
