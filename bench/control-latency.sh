#!/usr/bin/env bash
# Control latency: kill request through the helper socket → agent process gone, p50/p99 (N=50).
# Target: under 100 ms. Uses the debug build unless OBSERVATORY_BIN is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export OBSERVATORY_BIN="${OBSERVATORY_BIN:-$(swift build --show-bin-path)/observatory}"
exec python3 bench/control-latency.py "$@"
