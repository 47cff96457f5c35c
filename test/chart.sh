#!/usr/bin/env bash
# chart.sh: the charts and the report page as a person sees them.
#
# Headless Chromium renders each chart kind and the report of examples.db
# at 1280 px wide.  Fails on: output that does not parse as XML (xmllint),
# an empty or all-white screenshot, a page wider than the viewport, text
# boxes that overlap or leave their SVG (measured in the page by
# test/chart_check.js through the DOM's bounding boxes).  Screenshots are
# left in build/chart/.  Skipped, saying so, without chromium or xmllint.
#
#   LIBSEGMENT=$PWD/libsegment bash test/chart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=${LIBSEGMENT:-$PWD/libsegment}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
OUT=build/chart
if [ -z "$CHROMIUM" ]; then
  echo "chart.sh: skipped: chromium is not installed (apt-get install chromium)"; exit 0
fi
if ! command -v xmllint >/dev/null; then
  echo "chart.sh: skipped: xmllint is not installed (apt-get install libxml2-utils)"; exit 0
fi
if ! command -v convert >/dev/null || ! command -v python3 >/dev/null; then
  echo "chart.sh: skipped: ImageMagick's convert or python3 is missing"; exit 0
fi
test -f examples.db || make --no-print-directory examples.db
rm -rf "$OUT"; mkdir -p "$OUT"
fail=0

sqlite3 -bail examples.db -cmd ".load $LIB" >/dev/null <<SQL
SELECT writefile('$OUT/bar.svg', chart_bar(segment, n, 'title=Customers by segment; x_label=customers; sort=value_desc'))
  FROM (SELECT segment, count(*) AS n FROM rfm_score('orders') GROUP BY segment);
SELECT writefile('$OUT/bar_hostile.svg', chart_bar(label, v, 'title=<script>alert("x")</script> & co'))
  FROM (SELECT '<script>alert(1)</script>' AS label, 3 AS v UNION ALL SELECT 'O''Brien & "Sons"', -2
        UNION ALL SELECT 'مرحبا بالعالم שלום', 5 UNION ALL SELECT NULL, 1
        UNION ALL SELECT printf('%.10000c', 'W'), 4 UNION ALL SELECT 'Potential Loyalist', 1234567.5);
SELECT writefile('$OUT/bar_grouped.svg', chart_bar(segment, n, shipping, 'title=Customers by segment and usual shipping; x_label=customers'))
  FROM (SELECT s.segment, coalesce(o.shipping, 'none') AS shipping, count(DISTINCT s.customer) AS n
        FROM rfm_score('orders') s JOIN orders o ON o.customer_id = s.customer
        WHERE o.order_id = (SELECT max(order_id) FROM orders WHERE customer_id = s.customer) GROUP BY 1, 2);
SELECT writefile('$OUT/bar_stacked.svg', chart_bar(segment, revenue, lifecycle, 'layout=stacked; sort=value_desc; title=Revenue by segment and stage; x_label=revenue'))
  FROM (SELECT s.segment, l.stage AS lifecycle, sum(s.monetary) AS revenue
        FROM rfm_score('orders') s JOIN lifecycle_stage('orders') l ON l.customer = s.customer GROUP BY 1, 2);
SELECT writefile('$OUT/histogram.svg', chart_histogram(monetary, 'title=Customers by money spent; x_label=money spent; y_label=customers'))
  FROM rfm_score('orders');
SELECT writefile('$OUT/heatmap.svg', chart_heatmap(f, r, n, 'title=Customers by recency and frequency score; x_label=F; y_label=R'))
  FROM (SELECT r, f, count(*) AS n FROM rfm_score('orders') GROUP BY r, f);
SELECT writefile('$OUT/heatmap_labels.svg', chart_heatmap(segment, lifecycle, n, 'title=Segments by stage'))
  FROM (SELECT s.segment, coalesce(l.stage, 'none') AS lifecycle, count(*) AS n
        FROM rfm_score('orders') s LEFT JOIN lifecycle_stage('orders') l ON l.customer = s.customer GROUP BY 1, 2);
SELECT writefile('$OUT/treemap.svg', chart_treemap(segment, n, avg_m, 'title=Segments (colour: average spend)'))
  FROM (SELECT segment, count(*) AS n, avg(monetary) AS avg_m FROM rfm_score('orders') GROUP BY segment);
SELECT writefile('$OUT/line.svg', chart_line(shipping, month, revenue, 'title=Revenue by month and shipping; y_label=revenue'))
  FROM (SELECT coalesce(shipping, 'none') AS shipping, strftime('%Y-%m-01', ordered_at) AS month, sum(amount) AS revenue
        FROM orders GROUP BY 1, 2);
SQL
sqlite3 -bail examples.db -cmd ".load $LIB" -cmd ".parameter set :out $OUT/report.html" \
  < sql/report.sql >/dev/null || { echo "chart.sh: the report of examples.db failed"; fail=1; }

for f in "$OUT"/*.svg "$OUT"/*.html; do
  [ -f "$f" ] || continue
  name=$(basename "$f"); base=${name%.*}
  if [ "${f##*.}" = html ]; then
    xmllint --noout "$f" || { echo "chart.sh: $name does not parse as XML"; fail=1; }
    harness="$OUT/$base.check.html"
    sed 's#</body>#<script src="../../test/chart_check.js"></script></body>#' "$f" > "$harness"
  else
    xmllint --noout "$f" || { echo "chart.sh: $name does not parse as XML"; fail=1; }
    harness="$OUT/$base.check.html"
    { echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
      sed '1{/^<?xml/d}' "$f"
      echo '<script src="../../test/chart_check.js"></script></body></html>'; } > "$harness"
  fi
  url="file://$PWD/$harness"
  result=$("$CHROMIUM" --headless --no-sandbox --disable-gpu --window-size=1280,900 \
           --virtual-time-budget=2000 --dump-dom "$url" 2>/dev/null \
           | sed -n '/<pre id="chart-check">/,/<\/pre>/p' | sed 's/<[^>]*>//g')
  if [ -z "$result" ]; then
    echo "chart.sh: $name: the page check did not run"; fail=1; continue
  fi
  echo "chart.sh: $name: $(echo "$result" | head -1)"
  if ! echo "$result" | head -1 | grep -q 'problems=0'; then
    echo "$result" | tail -n +2 | head -20 | sed 's/^/    /'; fail=1
  fi
  h=900
  if [ "${f##*.}" = html ]; then
    h=$(echo "$result" | head -1 | sed -n 's/.* height=\([0-9]*\) .*/\1/p'); h=${h:-4000}
  fi
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1280,$h --screenshot="$OUT/$base.png" "file://$PWD/$f" >/dev/null 2>&1
  if ! convert "$OUT/$base.png" ppm:- | python3 test/chart_image.py "$name"; then
    fail=1
  fi
done
if [ $fail = 0 ]; then echo "chart.sh: all passed (screenshots in $OUT/)"; else echo "chart.sh: FAILED"; fi
exit $fail
