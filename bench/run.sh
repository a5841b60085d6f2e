#!/usr/bin/env bash
# observatory-sink throughput benchmark: log records/s through the whole path (OTLP/HTTP decode
# -> normalize -> session update -> SQLite commit -> 200) and RSS, next to an nginx baseline
# (answers 200, discards the body) measured in the same run with the same requests.
#
# usage: bench/run.sh [--quick] [--out FILE.jsonl] [--perf] [--help]
#   --quick   1 repetition x 5 s (default: REPS=3 x DURATION=10)
#   --out     where the raw per-run JSON lines go (default: in the scratch folder, printed)
#   --perf    one extra sink run under `perf record`, its top symbols printed after the table
# environment:
#   REPS, DURATION (s), CONNS ("16 64"), VARIANTS ("pb gz"), RECORDS (per request, 100),
#   SESSIONS (per request, 10), PYTHON (default: .venv/bin/python of the repo, else python3),
#   OBSERVATORY_SINK_BIN (skip the build), BUILD_TIMEOUT (s, 3600), BENCH_OUT (= --out),
#   KEEP_WORK=1 (keep the scratch folder: sink database, logs), TMPDIR,
#   ROTEL_BIN=/path/to/rotel-agent (PyPI `rotel`): a third peer, rotel with the blackhole exporter,
#   run between nginx and the sink with the same requests (bench/all.sh sets it).
# Needs: wrk, nginx (Debian: apt-get install -y wrk nginx-light), curl, coreutils timeout,
# Python 3 with opentelemetry-proto, and swift unless OBSERVATORY_SINK_BIN is given.
# Everything listens on 127.0.0.1; every wait is bounded; the servers are stopped on exit.
# The approach and the helper scripts come from the project's performance anchors
# (shared/reference/perf/: run_all.sh, bench.py, otlp_post_unique.lua, nginx.conf,
# gen_bodies.py); see bench/README.md.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

REPS=${REPS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16 64}
VARIANTS=${VARIANTS:-pb gz}
RECORDS=${RECORDS:-100}
SESSIONS=${SESSIONS:-10}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}
OUT=${BENCH_OUT:-}
PERF=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) REPS=1; DURATION=5 ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    --out=*) OUT=${1#--out=} ;;
    --perf) PERF=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "[bench] $*"; }
die() { echo "[bench] error: $*" >&2; exit 2; }

# --- tools ---
missing=()
for t in wrk nginx curl timeout; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}. Install on Debian/Ubuntu: apt-get install -y wrk nginx-light curl coreutils"
fi
if [ -n "$PERF" ] && ! command -v perf >/dev/null 2>&1; then
  die "--perf needs perf (Debian: apt-get install -y linux-perf)"
fi
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "no Python interpreter '$PYTHON' (set PYTHON=...)"
if ! timeout 60 "$PYTHON" -c 'import opentelemetry.proto.collector.logs.v1.logs_service_pb2' 2>/dev/null; then
  die "$PYTHON lacks opentelemetry-proto. Install: python3 -m venv $REPO/.venv && $REPO/.venv/bin/pip install opentelemetry-proto (or set PYTHON=...)"
fi

# --- the sink binary ---
if [ -n "${OBSERVATORY_SINK_BIN:-}" ]; then
  SINK_BIN=$OBSERVATORY_SINK_BIN
  [ -x "$SINK_BIN" ] || die "OBSERVATORY_SINK_BIN=$SINK_BIN is not an executable"
else
  command -v swift >/dev/null 2>&1 || die "swift not found: install a Swift 6.1+ toolchain, or set OBSERVATORY_SINK_BIN"
  say "building: scripts/build-release.sh --product observatory-sink (timeout ${BUILD_TIMEOUT}s)"
  (cd "$REPO" && timeout "$BUILD_TIMEOUT" scripts/build-release.sh --product observatory-sink) \
    || die "release build failed or timed out"
  BIN_DIR=$(cd "$REPO" && timeout 600 swift build -c release --show-bin-path) || die "swift build --show-bin-path failed"
  SINK_BIN="$BIN_DIR/observatory-sink"
  [ -x "$SINK_BIN" ] || die "no binary at $SINK_BIN"
fi

# --- scratch folder, cleanup ---
WORK=$(mktemp -d "${TMPDIR:-/tmp}/observatory-bench.XXXXXX") || die "mktemp failed"
[ -n "$OUT" ] || OUT="$WORK/results.jsonl"
mkdir -p "$(dirname "$OUT")" || die "cannot create the folder of $OUT"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
SINK_PID=""; NGINX_PID=""; DRIVER_PID=""; ROTEL_PID=""

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
stop_pid() {  # stop_pid PID SIGNAL SECONDS: signal, wait (bounded), then SIGKILL it and its children
  local pid=$1 sig=$2 secs=$3 kids i
  alive "$pid" || return 0
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
  kill -s "$sig" "$pid" 2>/dev/null
  for ((i = 0; i < secs * 10; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    say "pid $pid did not stop within ${secs}s after SIG$sig; killing it"
    kill -9 "$pid" 2>/dev/null
  fi
  for k in $kids; do alive "$k" && kill -9 "$k" 2>/dev/null; done
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$DRIVER_PID" TERM 10
  stop_pid "$SINK_PID" TERM 30    # the sink commits what is queued on SIGTERM
  stop_pid "$NGINX_PID" TERM 10
  stop_pid "$ROTEL_PID" TERM 10
  if [ "${KEEP_WORK:-}" = 1 ]; then
    say "kept the scratch folder $WORK"
  else
    rm -rf "$WORK/sink-data" "$WORK/nginx" "$WORK/bodies" "$WORK/rotel"
  fi
  say "raw results (JSON lines): $OUT"
  say "logs: $WORK/sink.log, $WORK/nginx.log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- request bodies ---
say "generating bodies ($RECORDS records, $SESSIONS sessions per request) in $WORK/bodies"
timeout 120 "$PYTHON" "$HERE/gen_bodies.py" "$WORK/bodies" --records "$RECORDS" --sessions "$SESSIONS" \
  || die "body generation failed"

# --- nginx baseline ---
NGINX_PORT=$(timeout 10 "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
  || die "cannot pick a free port"
mkdir -p "$WORK/nginx"
sed "s/@PORT@/$NGINX_PORT/" "$HERE/nginx.conf" >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -g "worker_processes 1;" >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$NGINX_PORT/" && break
  alive "$NGINX_PID" || die "nginx exited: $(tail -5 "$WORK/nginx.log")"
  sleep 0.1
done
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$NGINX_PORT/" || die "nginx does not answer on port $NGINX_PORT"

# --- rotel (optional third peer) ---
ROTEL_ARGS=()
if [ -n "${ROTEL_BIN:-}" ]; then
  [ -x "$ROTEL_BIN" ] || die "ROTEL_BIN=$ROTEL_BIN is not an executable (pip install rotel; the binary is rotel/rotel-agent in site-packages)"
  read -r ROTEL_PORT ROTEL_GRPC < <(timeout 10 "$PYTHON" -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))') || die "cannot pick free ports for rotel"
  mkdir -p "$WORK/rotel"
  "$ROTEL_BIN" start --otlp-http-endpoint "127.0.0.1:$ROTEL_PORT" --otlp-grpc-endpoint "127.0.0.1:$ROTEL_GRPC" \
    --exporter blackhole --pid-file "$WORK/rotel/pidfile" --log-file "$WORK/rotel/log" >"$WORK/rotel.log" 2>&1 &
  ROTEL_PID=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$ROTEL_PORT/" && break
    alive "$ROTEL_PID" || die "rotel exited: $(tail -5 "$WORK/rotel.log")"
    sleep 0.1
  done
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$ROTEL_PORT/" || die "rotel does not answer on port $ROTEL_PORT"
  ROTEL_ARGS=(--rotel-pid "$ROTEL_PID" --rotel-url "http://127.0.0.1:$ROTEL_PORT")
  say "rotel pid $ROTEL_PID port $ROTEL_PORT ($("$ROTEL_BIN" --version 2>&1 | head -1))"
fi

# --- the sink ---
mkdir -p "$WORK/sink-data"
"$SINK_BIN" --data-dir "$WORK/sink-data" --ingest-host 127.0.0.1 --ingest-port 0 --api-host 127.0.0.1 --api-port 0 \
  --ready-file "$WORK/sink.ready" >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 600); do
  [ -s "$WORK/sink.ready" ] && break
  alive "$SINK_PID" || die "observatory-sink exited: $(tail -5 "$WORK/sink.log")"
  sleep 0.1
done
[ -s "$WORK/sink.ready" ] || die "observatory-sink wrote no ready file within 60 s"
read -r INGEST_PORT API_PORT < <(timeout 10 "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ingest"], d["api"])' "$WORK/sink.ready") \
  || die "unreadable ready file"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$API_PORT/metrics" || die "the sink's /metrics does not answer"
sleep 2  # let it settle before the idle RSS

say "nginx pid $NGINX_PID port $NGINX_PORT; observatory-sink pid $SINK_PID ingest $INGEST_PORT api $API_PORT ($SINK_BIN)"
say "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $(wrk --version 2>&1 | head -1 | cut -c1-60); $(nginx -v 2>&1)"

"$PYTHON" "$HERE/bench.py" --nginx-pid "$NGINX_PID" --nginx-url "http://127.0.0.1:$NGINX_PORT" \
  --sink-pid "$SINK_PID" --sink-url "http://127.0.0.1:$INGEST_PORT" --sink-api "http://127.0.0.1:$API_PORT" \
  --bodies "$WORK/bodies" --db "$WORK/sink-data/observatory.sqlite" --records "$RECORDS" \
  --reps "$REPS" --duration "$DURATION" --conns $CONNS --variants $VARIANTS --out "$OUT" "${ROTEL_ARGS[@]}" \
  ${PERF:+--perf --perf-out "$WORK/perf.data"} &
DRIVER_PID=$!
wait "$DRIVER_PID"
RC=$?
DRIVER_PID=""
exit "$RC"
