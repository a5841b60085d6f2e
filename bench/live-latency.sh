#!/usr/bin/env bash
# Live-feed latency (OTLP 200 → event on /ws), see bench/live-latency.py. Uses the browser-test venv
# (websockets, requests, opentelemetry-proto: tests/browser/requirements.txt) and the sink in
# OBSERVATORY_SINK_BIN (default: the debug build). Runs 10 and 100 clients at 1,000 events/s.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-tests/browser/.venv/bin/python}"
export OBSERVATORY_SINK_BIN="${OBSERVATORY_SINK_BIN:-$(swift build --show-bin-path)/observatory-sink}"
for clients in ${CLIENTS:-10 100}; do
  timeout 120 "$python" bench/live-latency.py --clients "$clients" --rate "${RATE:-1000}" --duration "${DURATION:-10}" | tail -1
done
