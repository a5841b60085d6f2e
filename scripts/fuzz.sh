#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, Linux) of the sink's parsers of untrusted input:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default 30 s each for otlp-protobuf otlp-json rules expr control
#
# Builds Sources/ObservatoryFuzz (only the modules its targets need) in release with
# -sanitize=fuzzer into .build-fuzz, then runs each target for SECONDS on a copy of its seed
# corpus (fuzz/corpus/<target>, read-only here; new inputs go to .build-fuzz/corpus/<target>), with
# the dictionary fuzz/otlp.dict or fuzz/rules.dict (both made by fuzz/make_corpus.py).
# A crash, a timeout (> 10 s on one input) or an out-of-memory (> 2 GB) fails the run; the input is
# left in .build-fuzz/artifacts/ and printed as base64, for a regression test in Tests/.
# Reproduce one: FUZZ_TARGET=<target> .build-fuzz/release/observatory-fuzz <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(otlp-protobuf otlp-json rules expr control)

build=(swift build -c release --scratch-path .build-fuzz --product observatory-fuzz
       -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library)
OBSERVATORY_FUZZ=1 "${build[@]}"
bin="$(OBSERVATORY_FUZZ=1 "${build[@]}" --show-bin-path)/observatory-fuzz"

mkdir -p .build-fuzz/artifacts
status=0
summary=()
for target in "${targets[@]}"; do
  seeds="fuzz/corpus/$target"
  [ -d "$seeds" ] || { echo "no seed corpus $seeds" >&2; exit 2; }
  work=".build-fuzz/corpus/$target"
  mkdir -p "$work"
  log=".build-fuzz/$target.log"
  case "$target" in otlp-*) dict=fuzz/otlp.dict ;; *) dict=fuzz/rules.dict ;; esac
  echo "== fuzz $target (${seconds}s)"
  set +e
  # SWIFT_BACKTRACE=enable=no: let libFuzzer, not the Swift backtracer, handle a trap and save the input.
  SWIFT_BACKTRACE=enable=no FUZZ_TARGET="$target" "$bin" "$work" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -dict="$dict" -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$work" | wc -l)
  summary+=("$(printf '%-14s %10s execs %8s/s  cov %5s  corpus %5s  %s' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" \
    "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
  if [ $rc -ne 0 ]; then
    status=1
    grep -E '^==[0-9]+==|ERROR|Fatal error|SUMMARY|Test unit written|Base64' "$log" | head -20 || true
    tail -40 "$log"
  fi
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit $status
