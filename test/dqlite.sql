-- test/dqlite.sql: the statements of the dqlite cluster test (test/dqlite.sh),
-- one per line.  The lines before "-- @data" make the schema; the script
-- then writes a sample of examples.db's orders; the lines after "-- @queries"
-- run through the cluster (segsql) and in the sqlite3 shell on the same
-- rows, before and after the leader is killed, and must print the same.
CREATE TABLE orders(order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, ordered_at TEXT NOT NULL, amount REAL NOT NULL, discount REAL NOT NULL, shipping TEXT, refund_of INTEGER)
CREATE TABLE customer_totals(customer_id INTEGER PRIMARY KEY, orders INTEGER NOT NULL, amount REAL NOT NULL, last_at TEXT NOT NULL)
CREATE TRIGGER orders_total AFTER INSERT ON orders BEGIN INSERT INTO customer_totals VALUES(new.customer_id, 1, new.amount, new.ordered_at) ON CONFLICT(customer_id) DO UPDATE SET orders = orders + 1, amount = round(amount + excluded.amount, 2), last_at = max(last_at, excluded.last_at); END
-- @data
CREATE VIRTUAL TABLE rfm USING rfm_score(source=orders, as_of=2025-12-31)
CREATE VIEW champions AS SELECT customer, rfm, monetary FROM rfm WHERE segment = 'Champions'
CREATE VIEW clv_in AS SELECT * FROM clv_summary('orders', 'as_of=2025-12-31')
CREATE TABLE rfm_snapshot AS SELECT * FROM rfm
-- @queries
SELECT count(*), round(sum(amount), 2), min(ordered_at), max(ordered_at) FROM orders
SELECT * FROM customer_totals ORDER BY customer_id LIMIT 5
SELECT * FROM rfm ORDER BY customer
SELECT count(*) FROM (SELECT * FROM rfm_snapshot EXCEPT SELECT * FROM rfm)
SELECT segment, count(*), round(avg(monetary), 2) FROM rfm GROUP BY segment ORDER BY segment
SELECT * FROM champions ORDER BY monetary DESC LIMIT 5
SELECT * FROM rfm_score('orders', 'as_of=2025-12-31', 'method=rank', 'bins=4') ORDER BY customer
SELECT * FROM lifecycle_stage('orders', 'as_of=2025-12-31') ORDER BY customer
WITH s AS (SELECT stage, count(*) AS n FROM lifecycle_stage('orders', 'as_of=2025-12-31') GROUP BY stage) SELECT stage, n FROM s ORDER BY n DESC, stage
SELECT * FROM clv_in ORDER BY customer
SELECT bgnbd_fit(x, t_x, T, unit) FROM clv_in
WITH m AS (SELECT bgnbd_fit(x, t_x, T, unit) AS model FROM clv_in) SELECT customer, round(p_alive(m.model, x, t_x, T), 6), round(expected_purchases(m.model, 4, x, t_x, T), 6) FROM clv_in, m ORDER BY customer LIMIT 20
PRAGMA table_info(customer_totals)
SELECT (SELECT sum(orders) FROM customer_totals) = (SELECT count(*) FROM orders)
