#!/usr/bin/env bash
# Refresh the vendored front-end files in static/vendor/ from npm packages (no CDN at run time),
# and axe-core in tests/e2e/vendor/ (only the browser tests inject it; it is never served).
# The files are committed; run this only to change a version, then commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
PICO_VERSION=2.1.1
HTMX_VERSION=2.0.11
AXE_VERSION=4.14.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch PACKAGE VERSION -> unpacked in $work/PACKAGE
  local name=$1 version=$2 dir="$work/${1//\//_}"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar -xzf ./*.tgz)
  echo "$dir/package"
}

pico=$(fetch @picocss/pico "$PICO_VERSION")
mkdir -p static/vendor/pico
cp "$pico/css/pico.min.css" "$pico/LICENSE.md" static/vendor/pico/
echo "@picocss/pico $PICO_VERSION" > static/vendor/pico/VERSION

htmx=$(fetch htmx.org "$HTMX_VERSION")
mkdir -p static/vendor/htmx
cp "$htmx/dist/htmx.min.js" "$htmx/LICENSE" static/vendor/htmx/
echo "htmx.org $HTMX_VERSION" > static/vendor/htmx/VERSION
axe=$(fetch axe-core "$AXE_VERSION")
mkdir -p tests/e2e/vendor
cp "$axe/axe.min.js" "$axe/LICENSE" tests/e2e/vendor/
echo "axe-core $AXE_VERSION" > tests/e2e/vendor/VERSION
echo "Vendored: pico $PICO_VERSION, htmx $HTMX_VERSION, axe-core $AXE_VERSION"
