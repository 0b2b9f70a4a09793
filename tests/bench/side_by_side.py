#!/usr/bin/env python3
"""Issue 24's side-by-side table: Kefu on SQLite and on PostgreSQL, and optionally a peer.

    python3 tests/bench/side_by_side.py [--runs 3] [--systems sqlite,postgres,peer]
        [--figures throughput,latency100,...] [--peer-env FILE] [--json OUT]

Every figure is measured --runs times, each run on a fresh database with a fresh server
(tests/bench/node.sh for Kefu, tests/bench/peer.sh for a peer), and the table prints the
median with the range. Figures (1,000 visitors unless said otherwise):

    throughput    durable visitor messages per second, 64 in flight, 3,000 visitors, 15 s
    latency100    visitor -> agent p99 at 100 msg/s for 15 s (also 500 and 1000)
    replies100    agent -> visitor p99 at 100 replies/s for 15 s
    idle          the server's RSS and CPU with nobody connected (kefu-bench idle for Kefu)
    connections   RSS per idle WebSocket, 19,000 held for 20 s

CPU seconds per 1,000 messages (server plus database) come from the throughput, latency100 and
replies100 runs. A peer is any chat server that takes a visitor's message over plain HTTP and
pushes it to an agent's WebSocket: --peer-env names a file of shell variables describing it
(see tests/bench/peer.sh). Nothing else may run on the machine meanwhile.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get(
    "KEFU_BENCH_BIN", os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release")
)
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")

FIGURES = {
    # name: (mode, visitors, rate, seconds)
    # 3,000 visitors: Kefu allows one widget connection 5 frames a second, so 1,000 would cap
    # the run at 5,000 messages a second.
    "throughput": ("throughput", 3000, 0, 15),
    "latency100": ("latency", 1000, 100, 15),
    "latency500": ("latency", 1000, 500, 15),
    "latency1000": ("latency", 1000, 1000, 15),
    "replies100": ("replies", 1000, 100, 15),
    "idle": ("idle", 0, 0, 20),
    "connections": ("connections", 19000, 0, 20),
}

NUM = r"([0-9.]+)"
PATTERNS = {
    "msg_s": re.compile(r"acknowledged \d+ messages in [0-9.]+s with \d+ in flight: " + NUM),
    "agent_p50": re.compile(r"visitor send -> agent message\.created: n=\d+ p50=" + NUM),
    "agent_p99": re.compile(r"visitor send -> agent message\.created: .* p99=" + NUM),
    "ack_p99": re.compile(r"visitor send -> ack: .* p99=" + NUM),
    "reply_p50": re.compile(r"agent reply -> visitor message: n=\d+ p50=" + NUM),
    "reply_p99": re.compile(r"agent reply -> visitor message: .* p99=" + NUM),
    "received": re.compile(r"(?:agent events|visitor messages) received=(\d+)/"),
    "cpu_per_1000": re.compile(r"per 1,000 \w+: .* total=" + NUM),
    "rss_mib": re.compile(r"\brss_mib=" + NUM),
    "idle_cpu": re.compile(r"(?:^|\s)(?:kefu_)?cpu_s_per_10s=" + NUM),
    "per_conn_kib": re.compile(r"per connection=" + NUM + r" KiB"),
    "held": re.compile(r"connections held=(\d+)"),
}


def command(system, figure, peer_env):
    mode, visitors, rate, seconds = FIGURES[figure]
    if system == "peer":
        return ["bash", os.path.join(HERE, "peer.sh"), peer_env, mode, str(visitors),
                str(rate), str(seconds)]
    if mode == "idle":
        url = "sqlite" if system == "sqlite" else PG + "/postgres"
        return [os.path.join(BIN, "kefu-bench"), "idle", "--kefu", os.path.join(BIN, "kefu"),
                "--database-url", url, "--seconds", str(seconds), "--runs", "1"]
    return ["bash", os.path.join(HERE, "node.sh"), system, mode, str(visitors), str(rate),
            str(seconds)]


def measure(system, figure, peer_env, log):
    cmd = command(system, figure, peer_env)
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    log.write(out.stdout + out.stderr + "\n")
    log.flush()
    if out.returncode != 0:
        print(f"  {system} {figure}: exit {out.returncode}; see the log", file=sys.stderr)
    found = {}
    for key, pat in PATTERNS.items():
        m = pat.search(out.stdout)
        if m:
            found[key] = float(m.group(1))
    return found


def cell(values, digits):
    if not values:
        return "–"
    med = statistics.median(values)
    fmt = f"{{:,.{digits}f}}"
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


ROWS = [
    ("durable messages/s, 64 in flight", "throughput", "msg_s", 0),
    ("visitor→agent p99 at 100 msg/s (ms)", "latency100", "agent_p99", 1),
    ("visitor→agent p99 at 500 msg/s (ms)", "latency500", "agent_p99", 1),
    ("visitor→agent p99 at 1,000 msg/s (ms)", "latency1000", "agent_p99", 1),
    ("visitor→agent p50 at 1,000 msg/s (ms)", "latency1000", "agent_p50", 1),
    ("agent→visitor p99 at 100 msg/s (ms)", "replies100", "reply_p99", 1),
    ("idle server RSS (MiB)", "idle", "rss_mib", 1),
    ("idle server CPU (s per 10 s)", "idle", "idle_cpu", 3),
    ("RSS per idle WebSocket (KiB)", "connections", "per_conn_kib", 2),
    ("CPU s per 1,000 visitor messages, saturated", "throughput", "cpu_per_1000", 2),
    ("CPU s per 1,000 visitor messages, 100/s", "latency100", "cpu_per_1000", 2),
    ("CPU s per 1,000 agent replies, 100/s", "replies100", "cpu_per_1000", 2),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--systems", default="sqlite,postgres")
    ap.add_argument("--figures", default=",".join(FIGURES))
    ap.add_argument("--peer-env", help="shell variables describing the peer (see peer.sh)")
    ap.add_argument("--json", help="write every run's figures here")
    ap.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "side_by_side.log"),
                    help="every command's output (appended)")
    args = ap.parse_args()
    systems = args.systems.split(",")
    figures = args.figures.split(",")
    if "peer" in systems and not args.peer_env:
        ap.error("--systems peer needs --peer-env")
    results = {s: {f: [] for f in figures} for s in systems}
    with open(args.log, "a") as log:
        # Runs alternate between systems, so drift on the machine touches each alike.
        for figure in figures:
            for run in range(args.runs):
                for system in systems:
                    found = measure(system, figure, args.peer_env, log)
                    print(f"{figure} run {run + 1} {system}: {found}", flush=True)
                    results[system][figure].append(found)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print()
    print("| figure | " + " | ".join(systems) + " |")
    print("|---|" + "---|" * len(systems))
    for label, figure, key, digits in ROWS:
        if figure not in figures:
            continue
        cells = [cell([r[key] for r in results[s][figure] if key in r], digits) for s in systems]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
