#!/usr/bin/env bash
# The project's test command:
#   1. Swift unit and integration tests (swift test), then a bounded libFuzzer run (scripts/fuzz.sh)
#   2. end-to-end tests with real outside peers: the Python OpenTelemetry SDK exporters, the
#      otelcol-contrib collector, `observatory hook`, a fake Web Push service (tests/e2e)
#   3. the dashboard: committed bundle fresh and type-checked, then browser tests with Playwright
#      driving Debian chromium against the real sink (tests/browser)
# Python packages go into .venv and tests/browser/.venv (made on first run from the requirements).
# System packages: .ci/run installs them (libsqlite3-dev; dashboard/scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift build"
swift build --build-tests

echo "== swift test"
swift test --skip-build

# Coverage-guided fuzzing of the OTLP decoders, rule files and expressions: a bounded run from the
# committed corpus (its own release build in .build-fuzz, only the modules the targets need).
fuzz_seconds="${FUZZ_SECONDS:-20}"
echo "== fuzz (libFuzzer, ${fuzz_seconds}s per target)"
if [ "$(uname -s)" = Linux ] && [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds"
else
  echo "skipped (libFuzzer runs on Linux; FUZZ_SECONDS=0 skips it)"
fi

bin="$(swift build --show-bin-path)"
export OBSERVATORY_SINK_BIN="${OBSERVATORY_SINK_BIN:-$bin/observatory-sink}"
export OBSERVATORY_BIN="${OBSERVATORY_BIN:-$bin/observatory}"

echo "== end-to-end tests (tests/e2e)"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ] || ! cmp -s tests/e2e/requirements.txt .venv/.requirements 2>/dev/null; then
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
  cp tests/e2e/requirements.txt .venv/.requirements
fi
.venv/bin/python -m pytest tests/e2e -q

echo "== dashboard and browser tests (tests/browser)"
tests/browser/run.sh
