#!/usr/bin/env bash
# Installs what building and browser-testing the dashboard needs, from Debian (bookworm) apt only —
# there is no npm registry here. Run as root (or with sudo) in CI before dashboard/build.sh --check
# and tests/browser/run.sh.
#
#   dashboard/scripts/install-deps.sh           build/check toolchain + chromium for the browser tests
#   dashboard/scripts/install-deps.sh --build   only the build/check toolchain (esbuild, tsc, React)
set -euo pipefail

build_pkgs=(esbuild node-react node-react-dom node-typescript node-csstype node-prop-types)
browser_pkgs=(chromium fonts-dejavu-core)

pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  --build) ;;
  "") pkgs+=("${browser_pkgs[@]}") ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y --no-install-recommends "${pkgs[@]}"
esbuild --version
tsc --version
