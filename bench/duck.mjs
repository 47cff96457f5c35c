// duck.mjs: the DuckDB side of the benchmark (bench/run.py), through
// DuckDB's Node API (@duckdb/node-api, installed into bench/node_modules).
//
//   node duck.mjs import CSVFILE DUCKFILE   copy: CSV -> a DuckDB table
//   node duck.mjs query DUCKFILE            the RFM recipe on that copy
//
// The copy keeps DuckDB's own types (ordered_at TIMESTAMP, amount DOUBLE),
// as a DuckDB user would.  The query is the plain-SQL recipe of
// bench/recipe.sql in DuckDB's dialect, with the same rules (refunds are
// not orders but lower monetary, a NULL amount is an order, whole days
// from the latest day, NTILE ties by customer id).  Each command prints one
// JSON line with its in-process seconds (wall, and CPU for the query); the
// query also prints checksums that run.py compares with SQLite's.  DuckDB
// uses every core (its default threads setting).
import { DuckDBInstance } from '@duckdb/node-api';
import { performance } from 'node:perf_hooks';
import { rmSync } from 'node:fs';

const RECIPE = `
WITH latest AS (
  SELECT max(CAST(ordered_at AS DATE)) AS d FROM orders
  WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL
),
c AS (
  SELECT customer_id,
         (SELECT d FROM latest)
           - CAST(max(CASE WHEN amount IS NULL OR amount >= 0
                           THEN ordered_at END) AS DATE) AS recency_days,
         count(CASE WHEN amount IS NULL OR amount >= 0 THEN 1 END)
           AS frequency,
         coalesce(sum(amount), 0.0) AS monetary
  FROM orders
  WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL
  GROUP BY customer_id
  HAVING count(CASE WHEN amount IS NULL OR amount >= 0 THEN 1 END) > 0
),
s AS (
  SELECT customer_id, recency_days, frequency, monetary,
         NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r,
         NTILE(5) OVER (ORDER BY frequency, customer_id) AS f,
         NTILE(5) OVER (ORDER BY monetary, customer_id) AS m
  FROM c
)
SELECT count(*) AS customers, sum(recency_days) AS sum_recency,
       sum(frequency) AS sum_frequency, sum(monetary) AS sum_monetary,
       sum(100*r + 10*f + m) AS sum_rfm
FROM s`;

async function main() {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === 'import') {
    rmSync(b, { force: true });
    rmSync(b + '.wal', { force: true });
    const t0 = performance.now();
    const inst = await DuckDBInstance.create(b);
    const con = await inst.connect();
    await con.run(`CREATE TABLE orders AS SELECT * FROM read_csv('${a}',
        header = false, nullstr = '',
        columns = {'order_id': 'BIGINT', 'customer_id': 'BIGINT',
                   'ordered_at': 'TIMESTAMP', 'amount': 'DOUBLE'})`);
    await con.run('CHECKPOINT');
    const t1 = performance.now();
    console.log(JSON.stringify({ seconds: (t1 - t0) / 1000 }));
  } else if (cmd === 'query') {
    const inst = await DuckDBInstance.create(a);
    const con = await inst.connect();
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    const reader = await con.runAndReadAll(RECIPE);
    const t1 = performance.now();
    const u1 = process.cpuUsage(u0);
    const row = reader.getRowObjects()[0];
    const out = { seconds: (t1 - t0) / 1000,
                  cpu: (u1.user + u1.system) / 1e6 };
    for (const [k, v] of Object.entries(row)) out[k] = Number(v);
    const th = await con.runAndReadAll("SELECT current_setting('threads')");
    out.threads = Number(th.getRows()[0][0]);
    console.log(JSON.stringify(out));
  } else {
    console.error('usage: node duck.mjs import CSV DUCKFILE | query DUCKFILE');
    process.exit(2);
  }
}

main().catch((e) => { console.error(String(e)); process.exit(1); });
