#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, for CI and for longer local runs.
#
#   fuzz/run.sh                      every target, KEFU_FUZZ_SECS (default 30) seconds each
#   fuzz/run.sh wechat_xml email_mime   only these
#
# Each target starts from its committed seeds (fuzz/seeds/<target>) plus a corpus kept between
# runs next to the build (<target dir>/fuzz/corpus/<target>), so coverage found once is not
# searched for again. A crash, a panic, a leak of memory past 2 GB or an input taking over
# KEFU_FUZZ_TIMEOUT seconds fails the run; the input is kept in fuzz/artifacts/<target>/ and
# printed, and `cargo fuzz run <target> <file>` replays it.
#
# The stable toolchain runs cargo-fuzz with RUSTC_BOOTSTRAP=1 (it passes -Z flags). Without a
# sanitizer (the default here) panics, overflows (debug assertions are on), aborts, timeouts
# and memory blow-ups are still found, with a lighter build; set KEFU_FUZZ_SANITIZER=address
# for AddressSanitizer on longer local runs.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${KEFU_FUZZ_SECS:-30}"
timeout="${KEFU_FUZZ_TIMEOUT:-10}"
sanitizer="${KEFU_FUZZ_SANITIZER:-none}"
work="${CARGO_TARGET_DIR:-$HOME/.cache/kefu-target}/fuzz"
# A cached corpus larger than this is dropped and grown again from the seeds.
max_corpus_kb="${KEFU_FUZZ_MAX_CORPUS_KB:-16384}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

opts=(--sanitizer "$sanitizer" --debug-assertions --target-dir "$work/target")
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

dict_for() {
  case "$1" in
    wechat_*) echo "fuzz/dicts/wechat.dict" ;;
    email_*) echo "fuzz/dicts/email.dict" ;;
    *) echo "fuzz/dicts/json.dict" ;;
  esac
}

start=$(date +%s)
cargo fuzz build "${opts[@]}"
echo "fuzz: built in $(($(date +%s) - start)) s"

failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  if [ -d "$corpus" ] && [ "$(du -sk "$corpus" | cut -f1)" -gt "$max_corpus_kb" ]; then
    echo "fuzz: $t: cached corpus over $max_corpus_kb KiB, starting again from the seeds"
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  log="$work/$t.log"
  echo "fuzz: $t for $secs s"
  if cargo fuzz run "${opts[@]}" "$t" "$corpus" "fuzz/seeds/$t" -- \
      -max_total_time="$secs" -timeout="$timeout" -dict="$(dict_for "$t")" \
      -print_final_stats=1 >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    echo "fuzz: $t: ${execs:-?} runs, ${rate:-?}/s, corpus $(find "$corpus" -type f | wc -l) files"
  else
    failed+=("$t")
    echo "fuzz: $t FAILED; the end of its log:"
    tail -n 60 "$log"
    for a in "fuzz/artifacts/$t"/*; do
      [ -f "$a" ] || continue
      echo "fuzz: $t: input $a (base64):"
      base64 -w0 "$a" | head -c 4096
      echo
    done
  fi
done

echo "fuzz: done in $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]}"
  exit 1
fi
