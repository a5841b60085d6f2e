#!/usr/bin/env bash
# Every benchmark of observatory-sink in one run, one table at the end (issue 8).
#
# usage: bench/all.sh [--quick] [--out DIR] [SECTION ...]
#   SECTION: ingest latency push control rules memory start   (default: all of them, in this order)
#     ingest   records/s through the whole path vs nginx and rotel, same requests, interleaved (bench/run.sh)
#     latency  OTLP 200 -> WebSocket client, 10 and 100 clients, 1,000 events/s (bench/ws-latency.py)
#     push     OTLP POST -> decrypted Web Push at a local fake push service (bench/push-latency.sh)
#     control  POST /control/kill -> agent process gone, through sink, helper and wrapper (bench/control-http-latency.py)
#     rules    rule evaluation cost per event, 10 and 200 rules (bench/rules.sh)
#     memory   RSS at idle, 100 and 10,000 sessions (bench/memory-start.py)
#     start    exec -> /healthz and -> ready file, fresh data dir and one with 10,000 sessions (same script)
#   --quick   smoke run: ingest 1 rep x 5 s, latency 5 s, 20 kills, 20 pushes, rules --quick, 2 starts (~5 min)
#   --out DIR where the logs and raw results go (default: a new folder under $TMPDIR, printed)
# environment:
#   SKIP_BUILD=1 (use the binaries already in .build-release), BUILD_TIMEOUT (s, 3600),
#   OBSERVATORY_SINK_BIN / OBSERVATORY_BIN / RULES_BENCH_BIN (use these binaries, no build),
#   WS_PROCS (client processes for the 100-client latency run, default 2).
# Builds once: scripts/build-release.sh --scratch-path .build-release, the release build as shipped
# (static Swift runtime, lld, packed relocations; gitignored; ~7 min cold on 2
# cores, incremental after). Python: bench/.venv (created here: rotel, opentelemetry-proto) for the
# ingest section; the e2e venv .venv (tests/e2e/requirements.txt) for push. Tools: wrk, nginx, curl.
# Exit status: 0 when every section ran (targets missed are reported, not an error), 1 otherwise.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
cd "$REPO"

QUICK=""
OUT=""
SECTIONS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=${2:?--out needs a folder}; shift ;;
    --out=*) OUT=${1#--out=} ;;
    ingest|latency|push|control|rules|memory|start) SECTIONS+=("$1") ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#SECTIONS[@]} -gt 0 ] || SECTIONS=(ingest latency push control rules memory start)
want() { local s; for s in "${SECTIONS[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

say() { echo "[all] $*"; }
die() { echo "[all] error: $*" >&2; exit 1; }

[ -n "$OUT" ] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/observatory-bench-all.XXXXXX")
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/status.txt"
say "output folder $OUT; sections: ${SECTIONS[*]}${QUICK:+ (quick)}"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo '+uncommitted Sources changes')"
  echo "cpus=$(nproc)"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "quick=${QUICK:-0}"
} >"$OUT/meta.txt"

# --- build once ---
BIN_DIR="$REPO/.build-release/release"
if [ -z "${SKIP_BUILD:-}" ] && [ -z "${OBSERVATORY_SINK_BIN:-}" ]; then
  command -v swift >/dev/null 2>&1 || die "swift not found (or set OBSERVATORY_SINK_BIN, OBSERVATORY_BIN, RULES_BENCH_BIN)"
  say "building: scripts/build-release.sh --scratch-path .build-release (log: $OUT/build.log)"
  t0=$(date +%s)
  timeout "${BUILD_TIMEOUT:-3600}" "$REPO/scripts/build-release.sh" --scratch-path .build-release >"$OUT/build.log" 2>&1 \
    || { tail -20 "$OUT/build.log" >&2; die "release build failed or timed out"; }
  BIN_DIR=$(timeout 600 swift build -c release --scratch-path .build-release --show-bin-path) || die "--show-bin-path failed"
  say "built in $(( $(date +%s) - t0 )) s"
fi
SINK=${OBSERVATORY_SINK_BIN:-$BIN_DIR/observatory-sink}
OBS=${OBSERVATORY_BIN:-$BIN_DIR/observatory}
RULESBENCH=${RULES_BENCH_BIN:-$BIN_DIR/RulesBench}
for b in "$SINK" "$OBS" "$RULESBENCH"; do [ -x "$b" ] || die "no binary at $b"; done
echo "sink=$SINK" >>"$OUT/meta.txt"
echo "sink_built=$(date -u -r "$SINK" +%Y-%m-%dT%H:%M:%SZ)" >>"$OUT/meta.txt"

# --- Python for the ingest section (rotel, opentelemetry-proto) ---
BENCH_PY="$HERE/.venv/bin/python"
ensure_bench_venv() {
  if ! "$BENCH_PY" -c 'import rotel, opentelemetry.proto' 2>/dev/null; then
    say "creating bench/.venv (pip install rotel opentelemetry-proto)"
    python3 -m venv "$HERE/.venv" && timeout 600 "$HERE/.venv/bin/pip" install -q rotel opentelemetry-proto \
      || return 1
  fi
  ROTEL_BIN=$("$BENCH_PY" -c 'import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')
  [ -x "$ROTEL_BIN" ]
}

section() {  # section NAME COMMAND...: run, log to OUT/NAME.log (also shown), note the status
  local name=$1 rc; shift
  say "=== $name $(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$@" 2>&1 | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  echo "$name $rc $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/status.txt"
  [ "$rc" = 0 ] || say "$name exited with $rc (see $OUT/$name.log)"
}

if want ingest; then
  if ensure_bench_venv; then
    ingest() {
      OBSERVATORY_SINK_BIN="$SINK" ROTEL_BIN="$ROTEL_BIN" PYTHON="$BENCH_PY" BENCH_OUT="$OUT/ingest.jsonl" \
        bash "$HERE/run.sh" ${QUICK:+--quick}
    }
    section ingest ingest
  else
    echo "ingest 127 -" >>"$OUT/status.txt"; say "ingest skipped: cannot set up bench/.venv with rotel"
  fi
fi

if want latency; then
  latency() {
    local d=10 rc=0
    [ -n "$QUICK" ] && d=5
    timeout 300 python3 "$HERE/ws-latency.py" --sink "$SINK" --clients 10 --procs 1 --duration "$d" || rc=1
    timeout 300 python3 "$HERE/ws-latency.py" --sink "$SINK" --clients 100 --procs "${WS_PROCS:-2}" --duration "$d" || rc=1
    return $rc
  }
  section latency latency
fi

if want push; then
  if [ -x "$REPO/.venv/bin/python" ] && "$REPO/.venv/bin/python" -c 'import pytest, http_ece' 2>/dev/null; then
    push() {
      OBSERVATORY_SINK_BIN="$SINK" PUSH_LATENCY_SAMPLES=$([ -n "$QUICK" ] && echo 20 || echo 100) \
        timeout 600 bash "$HERE/push-latency.sh"
    }
    section push push
  else
    echo "push 127 -" >>"$OUT/status.txt"
    say "push skipped: needs the e2e venv: python3 -m venv .venv && .venv/bin/pip install -r tests/e2e/requirements.txt"
  fi
fi

if want control; then
  control() { timeout 600 python3 "$HERE/control-http-latency.py" --sink "$SINK" --observatory "$OBS" --n "$([ -n "$QUICK" ] && echo 20 || echo 100)"; }
  section control control
fi

if want rules; then
  rules() { RULES_BENCH_BIN="$RULESBENCH" timeout 600 bash "$HERE/rules.sh" ${QUICK:+--quick}; }
  section rules rules
fi

if want memory || want start; then
  memstart() {
    timeout 900 python3 "$HERE/memory-start.py" --sink "$SINK" --reps "$([ -n "$QUICK" ] && echo 2 || echo 5)" \
      --settle "$([ -n "$QUICK" ] && echo 1 || echo 3)"
  }
  section memory memstart
fi

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
echo
python3 "$HERE/all_table.py" "$OUT" ${SECTIONS[@]/#/--section=} | tee "$OUT/table.txt"
echo
say "logs and raw results: $OUT"
awk '$2 != 0 {bad = 1} END {exit bad}' "$OUT/status.txt"
