#!/usr/bin/env bash
# dqlite/longscan.sh: how long may one query run on a dqlite leader?
# dqlite runs each query on its event-loop thread, so while a query steps
# the leader sends no raft heartbeats; past the election timeout the
# followers elect another leader.  This starts three nodes on 127.0.0.1,
# writes synthetic orders through the cluster and, at growing sizes, times
# a full rfm_score through the client and notes whether the leader changed.
#
#   bash dqlite/longscan.sh [K...]   (default "1 2 4 8 16 32": 0.5 to 16 million rows)
#   DQLITE_PORT=29201 LATENCY=0 bash dqlite/longscan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s dqlite
B=build/dqlite
PORT=${DQLITE_PORT:-29201}
SIZES=${*:-"1 2 4 8 16 32"}
LAT=()
[ "${LATENCY:-0}" != 0 ] && LAT=(-latency "$LATENCY")
W=$(mktemp -d "${TMPDIR:-/tmp}/seglong.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
A="127.0.0.1:$PORT,127.0.0.1:$((PORT+1)),127.0.0.1:$((PORT+2))"
for n in 0 1 2; do
  join=(); [ $n != 0 ] && join=(-join "$A")
  "$B/segnode" -dir "$W/n$n" -address "127.0.0.1:$((PORT+n))" -lib "$PWD/libsegment.so" \
    "${join[@]}" "${LAT[@]}" 2>"$W/n$n.log" &
  PIDS+=($!)
  for i in $(seq 1 150); do grep -q ' ready on ' "$W/n$n.log" && break; sleep 0.1; done
done
sql() { timeout 300 "$B/segsql" -cluster "$A" -timeout 280s "$@"; }
# 500,000 stored rows; the view big_x repeats them k times (k rows in
# mult), as many customers again each time, so that a scan grows without
# the database (which dqlite keeps in memory) growing with it
sql "CREATE TABLE big(order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, ordered_at TEXT NOT NULL, amount REAL NOT NULL)" \
    "CREATE TABLE mult(i INTEGER PRIMARY KEY)" \
    "CREATE VIEW big_x AS SELECT b.customer_id * 1000 + m.i AS customer_id, b.ordered_at, b.amount FROM big AS b CROSS JOIN mult AS m"
for c in $(seq 1 10); do
  sql "INSERT INTO big(customer_id, ordered_at, amount) SELECT abs(random()) % 50000, date('2023-01-01', '+' || (abs(random()) % 1000) || ' days'), round(5 + abs(random()) % 20000 / 100.0, 2) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50000) SELECT i FROM c)"
done
printf '%10s %9s %8s  %s\n' rows seconds result leader
for k in $SIZES; do
  sql "DELETE FROM mult" "INSERT INTO mult SELECT value FROM generate_series(1, $k)" 2>/dev/null ||
    sql "DELETE FROM mult" "INSERT INTO mult WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $k) SELECT i FROM c"
  before=$(sql -leader)
  t0=$(date +%s%N)
  if out=$(sql "SELECT count(*), sum(frequency) FROM rfm_score('big_x')" 2>&1); then res=ok; else res=error; fi
  t1=$(date +%s%N)
  sleep 2
  after=$(sql -leader 2>/dev/null || echo none)
  change="kept by $before"
  [ "$after" != "$before" ] && change="LOST: $before -> $after"
  printf "%10d %9s %8s  %s  %s\n" "$((k * 500000))" "$(awk "BEGIN { printf \"%.2f\", ($t1 - $t0) / 1e9 }")" "$res" "$change" "$out"
done
