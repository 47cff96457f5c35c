#!/usr/bin/env bash
# screenshot.sh OUT.png: the report page of examples.db (segment_report)
# as headless Chromium shows it at 1280 px wide, the whole page (its
# height measured in the page first).  make screenshot writes
# doc/report.png, the picture README shows.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-doc/report.png}
LIB=${LIBSEGMENT:-$PWD/libsegment}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  echo "screenshot.sh: chromium is not installed (apt-get install chromium)" >&2; exit 1
fi
mkdir -p build/shot "$(dirname "$OUT")"
sqlite3 -bail examples.db -cmd ".load $LIB" -cmd ".parameter set :out build/shot/report.html" \
  < sql/report.sql >/dev/null
sed 's#</body>#<script src="../../test/chart_check.js"></script></body>#' \
  build/shot/report.html > build/shot/measure.html
h=$("$CHROMIUM" --headless --no-sandbox --disable-gpu --window-size=1280,900 \
     --dump-dom "file://$PWD/build/shot/measure.html" 2>/dev/null \
     | sed -n 's/.*CHECK .* height=\([0-9]*\) .*/\1/p' | head -1)
h=${h:-4000}
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1280,"$h" --screenshot="$PWD/$OUT" "file://$PWD/build/shot/report.html" >/dev/null 2>&1
echo "screenshot.sh: $OUT (1280 x $h)"
