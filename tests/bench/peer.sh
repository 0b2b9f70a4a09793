#!/usr/bin/env bash
# The loads of node.sh against a peer: a chat server the reader installed themselves, described
# by a file of shell variables (see peers/go-fly.env for one).
#
#   tests/bench/peer.sh PEER.env throughput|latency|replies|idle|connections VISITORS RATE SECONDS
#
# The file defines:
#   peer_start      a command that starts the peer on a fresh database, waits until it
#                   listens and prints its pid as the last line of its output
#   peer_login      a command that prints the agent's credential ({token} in the templates)
#   peer_db_pid     a command that prints the database server's pid (its CPU time is counted)
#   peer_args       a bash array of kefu-wsload's --peer-* flags (see kefu-wsload/peer.rs)
# Needs a release kefu-wsload (cargo build --release -p kefu-tests --bin kefu-wsload).
set -euo pipefail
env_file="${1:?a peer description, e.g. tests/bench/peers/go-fly.env}"
mode="${2:?throughput, latency, replies, idle or connections}"
visitors="${3:-1000}"
rate="${4:-100}"
seconds="${5:-20}"
shift $(( $# < 5 ? $# : 5 ))
bin="${KEFU_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release}"
work="$(mktemp -d)"
ulimit -n 20000
# shellcheck source=/dev/null
. "$env_file"
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"

peer_pid=$(eval "$peer_start" | tail -n 1)
cleanup() {
  kill -TERM "$peer_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "peer pid $peer_pid, RSS $(ps -o rss= -p "$peer_pid" | tr -d ' ') KiB"
case "$mode" in
  idle)
    sleep 5
    idle_figures "$peer_pid" "$seconds"
    ;;
  connections)
    hold_connections "$peer_pid" "$visitors" "$seconds" "${peer_args[@]}"
    ;;
  *)
    token=$(eval "$peer_login")
    "$bin/kefu-wsload" "$mode" --visitors "$visitors" --rate "$rate" --seconds "$seconds" \
      --source 127.0.0.7 --server-pid "$peer_pid" --db-pid "$(eval "$peer_db_pid")" \
      --peer-token "$token" "${peer_args[@]}" "$@"
    ;;
esac
echo "peer RSS after $(ps -o rss= -p "$peer_pid" | tr -d ' ') KiB"
