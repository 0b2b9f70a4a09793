# Shell functions shared by node.sh and peer.sh. Source it; it needs $bin (the folder holding
# kefu-wsload) and $work (a scratch folder).

# hold_connections PID TOTAL SECONDS KEFU_WSLOAD_ARGS...
#   Opens TOTAL idle widget connections from four kefu-wsload processes (127.0.0.2-5, so no
#   process holds more than 20,000 files), holds them SECONDS, samples the server PID's RSS
#   every 2 s meanwhile, and prints the connections held and the RSS per connection.
hold_connections() {
  local pid="$1" total="$2" seconds="$3"
  shift 3
  local rss_of="ps -o rss= -p $pid"
  local before high now held=0 per=$(( (total + 3) / 4 )) gens=() k
  before=$($rss_of | tr -d ' ')
  for k in 2 3 4 5; do
    "$bin/kefu-wsload" idle "$@" --connections "$per" --source "127.0.0.$k" --hold "$seconds" \
      > "$work/idle$k.log" &
    gens+=($!)
  done
  high=$before
  while kill -0 "${gens[@]}" 2> /dev/null; do
    now=$($rss_of | tr -d ' ')
    if [ "$now" -gt "$high" ]; then high=$now; fi
    sleep 2
  done
  wait "${gens[@]}" || true
  for k in 2 3 4 5; do
    grep '^final' "$work/idle$k.log" || cat "$work/idle$k.log"
    held=$(( held + $(grep '^final' "$work/idle$k.log" | sed 's/.* open=\([0-9]*\).*/\1/' || echo 0) ))
  done
  python3 -c "print(f'connections held={$held} server RSS before={$before / 1024:.1f} MiB held={$high / 1024:.1f} MiB per connection={($high - $before) / max($held, 1):.2f} KiB')"
}

# idle_figures PID SECONDS: the CPU seconds per 10 s that PID uses over SECONDS, and its RSS.
idle_figures() {
  local pid="$1" seconds="$2" hz t0 t1
  hz=$(getconf CLK_TCK)
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$seconds"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$seconds" \
    '/^VmRSS/ {rss = $2} END {printf "cpu_s_per_10s=%.3f rss_mib=%.1f\n", (b - a) / hz * 10 / s, rss / 1024}' \
    "/proc/$pid/status"
}
