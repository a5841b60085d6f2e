#!/usr/bin/env bash
# Push latency: OTLP POST that triggers an `event` rule → notification received and decrypted by a
# local fake push service (VAPID verified, RFC 8291 decrypted with http_ece), p50/p99; and
# POST /api/push/test → decrypted. Runs the two latency tests of tests/e2e/test_push.py and prints
# their figures. Needs the e2e venv (.venv, from tests/e2e/requirements.txt) and a built sink
# (OBSERVATORY_SINK_BIN, default: the debug build). Target: p99 under 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
export OBSERVATORY_SINK_BIN="${OBSERVATORY_SINK_BIN:-$(swift build --show-bin-path)/observatory-sink}"
.venv/bin/python -m pytest tests/e2e/test_push.py -q -s -k latency 2>&1 | grep -E "latency|->|passed|failed"
