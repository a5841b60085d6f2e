#!/usr/bin/env bash
# Builds the dashboard into dashboard/dist/ (committed: the sink serves it, no JS toolchain at run time).
#
#   dashboard/build.sh          type-check (tsc) and rebuild dist/
#   dashboard/build.sh --check  type-check, build into a temporary directory, and fail if the
#                               committed dist/ differs (stale bundle) — for CI
#
# Needs Debian's esbuild, node-typescript, node-react, node-react-dom, node-csstype and
# node-prop-types (see scripts/install-deps.sh). No npm. The build is deterministic.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")"

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

NODE_MODULES_DIR="${NODE_MODULES_DIR:-/usr/share/nodejs}"
for tool in esbuild tsc; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found; run dashboard/scripts/install-deps.sh" >&2; exit 1; }
done
for mod in react react-dom scheduler @types/react @types/react-dom; do
  [ -e "$NODE_MODULES_DIR/$mod" ] || { echo "build.sh: $NODE_MODULES_DIR/$mod missing; run dashboard/scripts/install-deps.sh" >&2; exit 1; }
done

echo "== tsc (type check)"
tsc -p tsconfig.json

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/dist"
mkdir -p "$out/assets"

echo "== esbuild"
NODE_PATH="$NODE_MODULES_DIR" esbuild src/main.tsx --bundle --minify --format=iife --target=es2020 \
  --jsx=automatic --define:process.env.NODE_ENV='"production"' --legal-comments=none \
  --charset=utf8 --log-level=warning --entry-names='[name]' --outdir="$out/assets"

# Content-hashed names, computed here: esbuild's [hash] also covers the input paths, which include
# the checkout's depth below /usr/share/nodejs, so the same source built in another directory would
# get another name and the --check would report a stale bundle that is not.
for ext in js css; do
  [ -f "$out/assets/main.$ext" ] || { echo "build.sh: esbuild did not write main.$ext" >&2; exit 1; }
  h="$(sha256sum "$out/assets/main.$ext" | cut -c1-10)"
  mv "$out/assets/main.$ext" "$out/assets/main-$h.$ext"
done
js="$(cd "$out" && ls assets/main-*.js)"
css="$(cd "$out" && ls assets/main-*.css)"
[ -n "$js" ] && [ -n "$css" ] || { echo "build.sh: esbuild did not write the JS and CSS bundles" >&2; exit 1; }
if grep -q "/usr/share" "$out/$js"; then echo "build.sh: the bundle mentions /usr/share" >&2; exit 1; fi

cp -r public/. "$out/"
sed -e "s|%APP_JS%|$js|" -e "s|%APP_CSS%|$css|" index.html > "$out/index.html"

# The service worker keeps a stable URL (/sw.js); its cache name changes with every build.
version="$(cat "$out/$js" "$out/$css" "$out/index.html" "$out/manifest.webmanifest" sw.js | sha256sum | cut -c1-12)"
shell="$(cd "$out" && { echo /; echo /index.html; echo "/$js"; echo "/$css"; echo /manifest.webmanifest; ls icons/*.png | sed 's|^|/|'; } \
  | python3 -c 'import json,sys; print(json.dumps([l.strip() for l in sys.stdin if l.strip()]))')"
python3 - "$out/sw.js" "$version" "$shell" <<'PY'
import sys
path, version, shell = sys.argv[1:]
src = open("sw.js", encoding="utf-8").read()
assert "%VERSION%" in src and "%SHELL%" in src
open(path, "w", encoding="utf-8").write(src.replace("%VERSION%", version).replace("%SHELL%", shell))
PY
echo "$version" > "$out/VERSION"

if [ "$mode" = check ]; then
  if diff -r dist "$out" >/dev/null 2>&1; then
    echo "dashboard/dist is up to date ($version)"
  else
    echo "dashboard/dist is STALE: run dashboard/build.sh and commit dashboard/dist" >&2
    diff -rq dist "$out" >&2 || true
    exit 1
  fi
else
  rm -rf dist
  cp -r "$out" dist
  echo "built dashboard/dist ($version): $js $(wc -c <"dist/$js") bytes, $css $(wc -c <"dist/$css") bytes"
fi
