#!/usr/bin/env bash
# Browser tests of the dashboard: checks the committed bundle is fresh, then runs pytest with
# Playwright driving Debian chromium against the real sink.
#
# Needs: dashboard/scripts/install-deps.sh (apt), a built sink (swift build), Python 3.11+.
# Python packages go into tests/browser/.venv (from requirements.txt, re-made when it changes).
# Screenshots land in tests/browser/artifacts/ (or $BROWSER_ARTIFACTS).
set -euo pipefail
cd "$(dirname "$0")/../.."

dashboard/build.sh --check

python="${PYTHON:-python3}"
venv=tests/browser/.venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cat tests/browser/requirements.txt tests/e2e/requirements.txt | cmp -s - "$stamp" 2>/dev/null; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/browser/requirements.txt
  cat tests/browser/requirements.txt tests/e2e/requirements.txt > "$stamp"
fi
OBSERVATORY_SINK_BIN="${OBSERVATORY_SINK_BIN:-$(swift build --show-bin-path)/observatory-sink}" \
  "$venv/bin/python" -m pytest tests/browser -q "$@"
