#!/usr/bin/env bash
# The release build as shipped (the Dockerfile and bench/all.sh use it):
#   * the Swift runtime and Foundation linked statically (--static-swift-stdlib): no Swift
#     libraries needed at run time, and only the parts of Foundation the sink uses are loaded;
#   * linked by lld with packed relative relocations (-z pack-relative-relocs, DT_RELR, glibc
#     2.36+): the ~146,000 relocations of a static Swift binary take 30 KB instead of 3.4 MB, which
#     the loader would otherwise read at every start (3-4 MB of the idle RSS).
# Without an lld next to swift it falls back to the default linker and says so.
#
# usage: scripts/build-release.sh [swift build arguments, e.g. --scratch-path DIR --product NAME]
set -euo pipefail

swift_bin=$(command -v swift) || { echo "build-release: swift not found" >&2; exit 2; }
lld="$(dirname "$(readlink -f "$swift_bin")")/ld.lld"
[ -x "$lld" ] || lld=$(command -v ld.lld || true)

args=(-c release --static-swift-stdlib)
if [ -n "$lld" ] && [ -x "$lld" ]; then
  toolset=$(mktemp "${TMPDIR:-/tmp}/observatory-toolset.XXXXXX.json")
  trap 'rm -f "$toolset"' EXIT
  printf '{ "schemaVersion": "1.0", "linker": { "path": "%s", "extraCLIOptions": ["-z", "pack-relative-relocs"] } }\n' "$lld" >"$toolset"
  args+=(--toolset "$toolset")
else
  echo "build-release: no ld.lld next to $swift_bin; linking with the default linker (larger idle RSS)" >&2
fi
exec swift build "${args[@]}" "$@"
