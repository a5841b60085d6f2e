#!/usr/bin/env bash
# The project's test command: Swift unit and integration tests, then the end-to-end tests with
# real outside OTLP clients (Python OpenTelemetry SDK exporters, the otelcol-contrib collector).
# Python packages go into .venv (created on first run from tests/e2e/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift build"
swift build --build-tests

echo "== swift test"
swift test --skip-build

echo "== end-to-end tests (tests/e2e)"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ] || ! cmp -s tests/e2e/requirements.txt .venv/.requirements 2>/dev/null; then
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
  cp tests/e2e/requirements.txt .venv/.requirements
fi
OBSERVATORY_SINK_BIN="${OBSERVATORY_SINK_BIN:-$(swift build --show-bin-path)/observatory-sink}" \
  .venv/bin/python -m pytest tests/e2e -q
