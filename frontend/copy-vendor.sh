#!/bin/sh
# Copy the browser libraries installed by `npm ci` into app/static/vendor/ (git-ignored).
# Usage: frontend/copy-vendor.sh [DEST]   (default: app/static/vendor next to frontend/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$here/../app/static/vendor"}
nm="$here/node_modules"
mkdir -p "$dest"
for f in \
    tabulator-tables/dist/js/tabulator.min.js \
    tabulator-tables/dist/css/tabulator.min.css \
    tabulator-tables/dist/css/tabulator_bootstrap5.min.css \
    papaparse/papaparse.min.js \
    luxon/build/global/luxon.min.js \
    echarts/dist/echarts.min.js \
    @zxing/browser/umd/zxing-browser.min.js
do
    [ -f "$nm/$f" ] || { echo "copy-vendor: missing $nm/$f (run npm ci in frontend/)" >&2; exit 1; }
    cp "$nm/$f" "$dest/"
done
echo "copy-vendor: vendor files copied into $dest"
