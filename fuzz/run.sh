#!/usr/bin/env bash
# Runs every cargo-fuzz target (or those named) for a fixed number of executions, one after the
# other, and prints for each: executions, seconds, executions per second and the result.
#
#   fuzz/run.sh                     # 10,000,000 executions per target (hours on 2 cores)
#   RUNS=100000 fuzz/run.sh         # fewer executions per target
#   fuzz/run.sh path return_to      # only these targets
#   SECONDS_EACH=5 fuzz/run.sh      # each target for 5 s instead of RUNS (what tests/run does)
#   BUILD=--dev fuzz/run.sh         # unoptimised build: builds faster, runs slower
#
# Stable Rust works: the build is `cargo fuzz build -s none` (no sanitizer, so no nightly-only
# -Zsanitizer flag). The committed corpus (fuzz/corpus/<target>) is read, never written: new
# inputs go to fuzz/work/<target>, crashes to fuzz/artifacts/<target> (both ignored by git).
# A crash fails the script; turn it into a regression file with fuzz/README.md's steps.
set -euo pipefail
cd "$(dirname "$0")"

runs=${RUNS:-10000000}
seconds_each=${SECONDS_EACH:-}
build=${BUILD:-}   # empty: cargo-fuzz's default, an optimised build with debug assertions
all_targets=(policy config apps clients cookie ticket return_to path headers oidc_params jwt)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
say() { printf 'fuzz/run.sh: %s\n' "$*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "cargo-fuzz is missing: cargo install cargo-fuzz --locked"
  exit 1
fi

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

build_started=$(date +%s.%N)
# shellcheck disable=SC2086  # $build is empty or one flag
if [ $# -gt 0 ]; then
  for t in "${targets[@]}"; do cargo fuzz build -s none $build "$t"; done
else
  cargo fuzz build -s none $build
fi
printf 'build: %s s (cargo fuzz build -s none %s)\n' "$(since "$build_started")" "$build"

if [ -n "$seconds_each" ]; then limit=(-max_total_time="$seconds_each"); else limit=(-runs="$runs"); fi
printf '%-12s %14s %9s %12s  %s\n' target executions seconds 'execs/s' result
status=0
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  case $t in policy|config|apps|clients) max_len=8192 ;; *) max_len=4096 ;; esac
  log=$(mktemp)
  started=$(date +%s.%N)
  rc=0
  # shellcheck disable=SC2086
  cargo fuzz run -s none $build "$t" "work/$t" "corpus/$t" -- \
    "${limit[@]}" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" </dev/null >"$log" 2>&1 || rc=$?
  seconds=$(since "$started")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  rate=$(awk -v n="$execs" -v s="$seconds" 'BEGIN {printf "%d", n / (s + 0.001)}')
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    status=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="CRASH (exit $rc) ${crash:-see the log below}"
    sed 's/^/  | /' "$log" | tail -40 >&2
  fi
  printf '%-12s %14s %9s %12s  %s\n' "$t" "$execs" "$seconds" "$rate" "$result"
  rm -f "$log"
done
exit "$status"
