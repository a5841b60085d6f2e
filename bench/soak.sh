#!/usr/bin/env bash
# Soak test: 10 simulated Claude Code agents for 30 minutes against the real sink with the repo's
# rules (bench/soak.py --help for the options). The sink binary: $OBSERVATORY_SINK_BIN, else the
# release build (.build-release/release/observatory-sink) if present, else .build/debug.
#   bench/soak.sh                                  # 10 agents, 30 min, real rates
#   bench/soak.sh --duration 60 --speed 25         # a minute, time compressed 25x (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
if ! "$PYTHON" -c 'import opentelemetry.proto, requests' 2>/dev/null; then
  echo "soak.sh: $PYTHON lacks opentelemetry-proto/requests: python3 -m venv .venv && .venv/bin/pip install -r tests/e2e/requirements.txt" >&2
  exit 2
fi
exec "$PYTHON" bench/soak.py "$@"
