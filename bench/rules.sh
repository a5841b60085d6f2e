#!/usr/bin/env bash
# Rule engine benchmark (issue 3): evaluation cost per event with 10 and 200 rules loaded (the
# default rule pack, copied under new ids), and how late a `for: 30s` alert fires while the engine
# takes 1,000 events/s. Targets: < 5 µs per event per rule on average; alerts within 1 s.
#
#   bench/rules.sh                 # release build in .build-release (a few minutes the first time), then ~35 s
#   bench/rules.sh --quick         # 20,000 events, no timer run (~5 s after the build)
#   RULES_BENCH_BIN=/path/RulesBench bench/rules.sh    # use this binary, no build
#
# Settings: SCRATCH (default .build-release), EVENTS (default 100000), BUILD_TIMEOUT (s, 3600).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scratch="${SCRATCH:-.build-release}"
events="${EVENTS:-100000}"
extra=()
if [[ "${1:-}" == "--quick" ]]; then
    events="${EVENTS:-20000}"
    extra+=(--skip-timer)
elif [[ -n "${1:-}" ]]; then
    echo "usage: bench/rules.sh [--quick]" >&2
    exit 2
fi

bin="${RULES_BENCH_BIN:-}"
if [[ -z "$bin" ]]; then
    echo "building RulesBench (release, --scratch-path $scratch) ..." >&2
    timeout "${BUILD_TIMEOUT:-3600}" scripts/build-release.sh --scratch-path "$scratch" --product RulesBench >&2
    bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/RulesBench"
fi
[[ -x "$bin" ]] || { echo "bench/rules.sh: no benchmark binary at $bin" >&2; exit 1; }

echo "rules bench: $(uname -m), $(nproc 2>/dev/null || sysctl -n hw.ncpu) cores, rule pack $root/rules, binary $bin"
# The timer run takes 33 s of real time; bounded in case the engine stalls.
timeout 300 "$bin" --rules "$root/rules" --events "$events" "${extra[@]}"
