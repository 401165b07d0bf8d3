#!/usr/bin/env bash
# Runs the libFuzzer targets built in BUILD_DIR/fuzz (make fuzz, make fuzz-ci; docs/fuzzing.md).
#
#   run.sh campaign BUILD_DIR SECONDS WORK_DIR [TARGET...]
#       Each target fuzzes for SECONDS from its committed corpus (tests/fuzz/corpus/TARGET,
#       read only) plus WORK_DIR/corpus/TARGET, where new inputs go: the repository's corpus
#       changes only when someone copies minimised inputs in. Crashes, hangs and leaks go to
#       WORK_DIR/findings/TARGET/, logs to WORK_DIR/logs/, a table to WORK_DIR/summary.txt.
#   run.sh ci BUILD_DIR SECONDS WORK_DIR [TARGET...]
#       Replays each committed corpus (every input once), then fuzzes SECONDS from it into a
#       scratch corpus that is thrown away.
#
# Without TARGETs: every tests/fuzz/*_fuzz.cc. A target's dictionary is dict/TARGET.dict, else
# dict/PREFIX.dict (PREFIX = the name up to its first '_'). Exits 1 if any target failed,
# naming the inputs that made it fail.
set -euo pipefail

mode=${1:?mode: campaign or ci}
build=${2:?build dir}
seconds=${3:?seconds per target}
work=${4:?work dir}
shift 4
here=$(cd "$(dirname "$0")" && pwd)

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for source in "$here"/*_fuzz.cc; do
    name=$(basename "$source" _fuzz.cc)
    targets+=("$name")
  done
fi

dict_for() {
  local name=$1
  for candidate in "$here/dict/$name.dict" "$here/dict/${name%%_*}.dict"; do
    if [[ -f $candidate ]]; then
      echo "-dict=$candidate"
      return
    fi
  done
}

mkdir -p "$work/logs"
failed=()
summary="$work/summary.txt"
[[ $mode == campaign ]] && printf '%-15s %8s %12s %9s %6s %7s %7s\n' \
  target seconds execs exec/s cov ft corpus >"$summary"

for name in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$name"
  corpus="$here/corpus/$name"
  findings="$work/findings/$name"
  log="$work/logs/$name.log"
  [[ -x $binary ]] || { echo "fuzz: no $binary (build it: make fuzz)" >&2; exit 1; }
  mkdir -p "$findings"
  # -timeout: an input that takes 10 s is a hang worth a look; -rss_limit_mb: libFuzzer's
  # default, stated, as a finding's threshold.
  options=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1)
  read -r -a dict <<<"$(dict_for "$name")"

  if [[ $mode == ci ]]; then
    echo "fuzz-ci: $name: replaying $(find "$corpus" -type f | wc -l) committed inputs"
    if ! "$binary" "${options[@]}" -runs=0 "$corpus" >"$log" 2>&1; then
      failed+=("$name (committed corpus; $log)")
      continue
    fi
    scratch="$work/corpus/$name"
    rm -rf "$scratch"
    mkdir -p "$scratch"
    echo "fuzz-ci: $name: fuzzing ${seconds}s"
    if ! "$binary" "${options[@]}" "${dict[@]}" -max_total_time="$seconds" "$scratch" "$corpus" \
      >>"$log" 2>&1; then
      failed+=("$name ($(ls "$findings" | tr '\n' ' '); $log)")
    fi
    rm -rf "$scratch"
    continue
  fi

  scratch="$work/corpus/$name"
  mkdir -p "$scratch"
  echo "fuzz: $name for ${seconds}s (log: $log)"
  start=$(date +%s)
  status=0
  "$binary" "${options[@]}" "${dict[@]}" -max_total_time="$seconds" "$scratch" "$corpus" \
    >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  stat() { grep -o "^stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' | tail -1; }
  # libFuzzer's status lines: "#1234<TAB>NEW    cov: ..." (a tab after the count).
  last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|REDUCE|NEW|pulse|INITED)' "$log" | tail -1 || true)
  field() { grep -o "$1: [0-9]*" <<<"$last" | grep -o '[0-9]*$' || echo "?"; }
  printf '%-15s %8s %12s %9s %6s %7s %7s\n' "$name" "$elapsed" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(field cov)" "$(field ft)" "$(field corp)" >>"$summary"
  if [[ $status -ne 0 ]]; then
    failed+=("$name ($(ls "$findings" | tr '\n' ' '); $log)")
  fi
done

[[ $mode == campaign ]] && cat "$summary"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
