-- test/windows.sql: the core queries that test/windows.sh runs on
-- examples.db in the sqlite3 shell (Linux, libsegment.so) and in
-- test/winhost.exe (under wine, libsegment.dll); the outputs must be equal.
-- One statement at a time; no dot-commands (winhost reads plain SQL).
-- The two hosts' SQLite versions differ, so nothing here sums REALs in SQL
-- (newer SQLite's sum() is compensated) and test/windows.sh compares REAL
-- columns to a relative 1e-14 (the older shell prints 15 digits, rounded
-- its own way, the newer library the shortest exact text); the extension's
-- own JSON text is compared exactly.
SELECT segment_version();
SELECT * FROM source_stats('orders');
SELECT * FROM rfm_score('orders') ORDER BY customer;
SELECT segment, count(*), sum(frequency), max(monetary)
  FROM rfm_score('orders', 'method=quantile') GROUP BY 1 ORDER BY 1;
SELECT * FROM lifecycle_stage('orders') ORDER BY customer;
SELECT * FROM cohort_retention('orders', 'period=quarter');
SELECT * FROM clv_summary('orders') ORDER BY customer LIMIT 50;
SELECT bgnbd_fit(x, t_x, T, unit) FROM clv_summary('orders');
WITH m AS (SELECT bgnbd_fit(x, t_x, T, unit) AS model
             FROM clv_summary('orders'))
SELECT customer, p_alive(m.model, x, t_x, T)
  FROM clv_summary('orders'), m ORDER BY customer;
SELECT kmeans_fit('k=4, seed=7', recency_days, frequency, monetary)
  FROM rfm_score('orders');
PRAGMA threads=1;
SELECT * FROM rfm_score('orders') ORDER BY customer;
SELECT * FROM source_stats('orders');
