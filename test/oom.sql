-- oom.sql: the statements of the out-of-memory loop (test/oom.c, make check).
--
-- One entry per line (continuation lines allowed until the SQL is
-- complete); an entry may hold several statements, run in order on a fresh
-- read-only image of examples.db (write to the temp schema only: CREATE
-- TEMP VIEW, CREATE TEMP TABLE).  Every SQL function and table-valued
-- function of libsegment belongs here: add a line for each new one, on a
-- small slice of the data (a view) so the loop stays quick.
--
-- Scalars and aggregates
SELECT segment_version();
SELECT rfm_score(5, 4, 3), rfm_score(NULL, 1, 1);
SELECT score_of(12.5, '[1, 10, 20]'), score_of(3, '[1,10,20]', 'desc'), score_of('x', '[]');
SELECT score_of(25, '[0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000025e152]'), score_of(1, '[0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000025e152]');
SELECT score_breaks(amount, 5) FROM orders WHERE order_id <= 300;
SELECT score_breaks(amount, 4, 'quantile') FROM orders WHERE order_id <= 300;
SELECT score_breaks(amount, 99) FROM orders WHERE order_id <= 3;
SELECT segment_of(5, 5, 5), segment_of(111), segment_of(3, 4, 2, 'rfm_r'), segment_of(2, 1, 1, 'rf_grid');
CREATE TEMP TABLE r(segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi, priority); INSERT INTO r VALUES('top',4,5,4,5,1,5,1),('rest',1,5,1,5,1,5,2); SELECT segment_of(5, 5, 1, 'r'), segment_of(111, 'r');
SELECT segment_of(1, 2, 3, 'no such rules');
CREATE TEMP TABLE r(segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi); INSERT INTO r VALUES('all',1,5,1,5,1,5); CREATE TEMP VIEW loop_rules AS SELECT segment_of(r_lo, f_lo, m_lo, 'loop_rules') AS segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi FROM r; SELECT segment_of(1, 1, 1, 'loop_rules');
CREATE TEMP VIEW loop_src AS SELECT customer AS customer_id, last_date AS ordered_at, monetary AS amount FROM rfm_score('loop_src'); SELECT * FROM loop_src;
SELECT pseudonymize('customer 42', 'key'), pseudonymize(42, x'00ff'), pseudonymize(NULL, 'k');
SELECT pseudonymize('a');
SELECT kmeans_fit(3, amount, discount) FROM orders WHERE order_id <= 200;
SELECT kmeans_fit('k=3, seed=7, max_iter=20', amount, discount) FROM orders WHERE order_id <= 200;
SELECT kmeans_fit(0, amount) FROM orders WHERE order_id <= 3;
WITH m AS (SELECT kmeans_fit(2, amount, discount) AS model FROM orders WHERE order_id <= 100) SELECT kmeans_cluster(m.model, o.amount, o.discount) FROM m, orders o WHERE o.order_id <= 20;
SELECT kmeans_cluster('{"bad": 1}', 1, 2);
-- kmeans_cluster's models from a column, ten of them in turn (the model cache evicts); a fit long enough to check for interrupts
CREATE TEMP TABLE km AS WITH RECURSIVE s(seed) AS (SELECT 1 UNION ALL SELECT seed+1 FROM s WHERE seed<10) SELECT seed, (SELECT kmeans_fit('k=3, seed=' || seed, amount, discount) FROM orders WHERE order_id <= 60) AS model FROM s; SELECT kmeans_cluster(km.model, o.amount, o.discount) FROM orders o, km WHERE o.order_id <= 3 ORDER BY o.order_id, km.seed;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<5000) SELECT length(kmeans_fit('k=30, max_iter=5', (i*7919) % 1009, (i*104729) % 1013)) FROM n;
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT kmeans_fit(3, recency_days, frequency, monetary) FROM rfm_score('o');
-- kmeans: n_init starts, transform (fit and cluster), the silhouette, a transform error
WITH m AS (SELECT kmeans_fit('k=3, n_init=3, transform=log1p,none', amount, discount) AS model FROM orders WHERE order_id <= 100) SELECT kmeans_cluster(m.model, o.amount, o.discount) FROM m, orders o WHERE o.order_id <= 5;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300) SELECT length(kmeans_fit('k=4, n_init=2', i % 7, i % 5)) FROM n;
SELECT kmeans_fit('k=2, transform=log1p', -2);
-- kmeans_select: k = 2..4, each fit with its swaps and profile
SELECT kmeans_select('kmin=2, kmax=4, n_init=2, transform=none,log1p', amount, discount) FROM orders WHERE order_id <= 150;
-- Table-valued functions
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('o', 'method=quantile', 'bins=4', 'scheme=rfm_r', 'as_of=2025-06-30', 'since=2024-01-01');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('o', 'method=ntile', 'monetary=average', 'r_breaks=30,90,365');
ATTACH ':memory:' AS s1; CREATE TABLE s1.orders AS SELECT * FROM orders WHERE customer_id <= 20; CREATE TEMP VIEW u AS SELECT * FROM s1.orders UNION ALL SELECT * FROM main.orders WHERE customer_id BETWEEN 21 AND 40; SELECT * FROM rfm_score('u', 'as_of=2025-12-31', 'r_breaks=30,30,365', 'f_breaks=2,2,5', 'm_breaks=50,100,100');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; CREATE VIRTUAL TABLE temp.v USING rfm_score(source=o, customer=customer_id, 'date'=ordered_at); SELECT * FROM v;
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('o', 'colour=red');
CREATE TEMP VIEW li AS SELECT i.order_id, o.customer_id, o.ordered_at, i.price*i.quantity AS amount FROM order_items i JOIN orders o USING(order_id) WHERE o.customer_id <= 30; SELECT * FROM rfm_score('li', 'order=order_id');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 60; SELECT * FROM source_stats('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('o', 'min_share=0.1', 'other=few');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_migration('o', 'from=2024-12-31');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_migration('o', 'from=2024-06-30', 'to=2025-06-30', 'lost=segment', 'min_customers=3', 'k=2', 'scheme=rfm_r', 'bins=4');
CREATE TEMP VIEW li AS SELECT i.order_id, o.customer_id, o.ordered_at, i.price*i.quantity AS amount FROM order_items i JOIN orders o USING(order_id) WHERE o.customer_id <= 30; SELECT * FROM segment_migration('li', 'order=order_id', 'from=2025-01-31');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; CREATE VIRTUAL TABLE temp.m USING segment_migration(source=o, from=2024-12-31, to=2025-12-31); SELECT * FROM m;
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_migration('o', 'from=2026-01-01');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_profile('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_profile('o', 'as_of=2025-06-30', 'window=90', 'flag=discount', 'min_share=0.1', 'k=3');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_profile('o', 'as_of=2025-06-30', 'window=90', 'method=ntile');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_profile('o', 'window=90');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM segment_profile('o', 'segment=shipping', 'as_of=2025-06-30', 'window=90', 'flag=discount', 'min_customers=5'); SELECT * FROM segment_migration('o', 'segment=shipping', 'from=2025-01-31', 'min_share=0.2');
CREATE TEMP TABLE nc(customer_id TEXT COLLATE NOCASE, ordered_at, amount); INSERT INTO nc SELECT printf(CASE customer_id % 3 WHEN 0 THEN 'Cust-%d' WHEN 1 THEN 'CUST-%d' ELSE 'cust-%d' END, customer_id % 9), ordered_at, amount FROM orders WHERE customer_id <= 40; SELECT * FROM rfm_score('nc', 'method=ntile'); SELECT * FROM source_stats('nc');
CREATE TEMP TABLE rt(customer_id TEXT COLLATE RTRIM, ordered_at, amount, order_id); INSERT INTO rt SELECT printf('%d%.*c', customer_id % 7, customer_id % 3, ' '), ordered_at, amount, order_id FROM orders WHERE customer_id <= 40; CREATE TEMP VIEW rtv AS SELECT * FROM rt; SELECT count(*), sum(frequency) FROM rfm_score('rtv', 'order=order_id');
SELECT count(*), sum(r), sum(f), sum(m) FROM rfm_score('orders');
PRAGMA threads=1; SELECT count(*), sum(r), sum(f), sum(m) FROM rfm_score('orders');
CREATE TEMP TABLE nq(customer_id, ordered_at, amount); INSERT INTO nq VALUES (1, '2024-01-01', NULL), (2, '2024-01-02', 10), (3, '2024-01-03', 20), (4, '2024-01-04', NULL); SELECT * FROM rfm_score('nq', 'monetary=average', 'method=quantile'); SELECT * FROM rfm_score('nq', 'monetary=average', 'method=ntile'); SELECT * FROM rfm_score('nq', 'monetary=average');
PRAGMA threads=1; SELECT * FROM source_stats('orders');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT count(*), sum(x), sum(monetary) FROM clv_summary('o');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT count(*), sum(orders) FROM lifecycle_stage('o');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT count(*), sum(active) FROM cohort_retention('o');
CREATE TEMP VIEW t AS SELECT printf('%.100c-%d', 'k', customer_id) AS customer_id, ordered_at, amount, order_id FROM orders WHERE customer_id <= 5; SELECT count(*), sum(frequency) FROM rfm_score('t', 'order=order_id');
PRAGMA threads=1; CREATE TEMP VIEW t AS SELECT printf('%.30000c-%d', 'k', customer_id % 3) AS customer_id, ordered_at, amount, CASE WHEN order_id % 4 = 0 THEN printf('%.70000c', 'o') ELSE order_id END AS order_id FROM orders WHERE order_id <= 30; SELECT count(*), sum(frequency) FROM rfm_score('t', 'order=order_id');
CREATE TEMP TABLE bad(customer_id, ordered_at, amount); INSERT INTO bad VALUES(1,'2024-01-01',5),(NULL,'2024-01-02',1),(2,NULL,1),(3,'2024-13-01',1),(4,'2024-01-03','abc'),(5,'2024-01-04',-2); SELECT * FROM source_stats('bad', 'on_error=skip'); SELECT * FROM rfm_score('bad', 'on_error=skip');
CREATE TEMP TABLE allbad(customer_id, ordered_at, amount, InvoiceNo); INSERT INTO allbad VALUES('',  '2024-01-01', 1, 'A'),(1,'12/1/2010 8:26',5,'A'),(2,'2024-01-02','£3','B'),(2,'2024-13-01',1,'B'),(3,'2024-01-05',1,'C'),(3,'2024-01-05',2,'C'); CREATE TEMP VIEW ob AS SELECT * FROM orders WHERE customer_id <= 3; SELECT * FROM source_stats('allbad', 'on_error=skip'); SELECT * FROM lifecycle_stage('ob', 'customers=allbad');
CREATE TEMP TABLE allbad(customer_id, ordered_at, amount); INSERT INTO allbad VALUES('',  '2024-01-01', 1),(1,'12/1/2010 8:26',5),(2,'2024-01-02','£3'),(2,'2024-13-01',1); SELECT * FROM rfm_score('allbad', 'on_error=skip');
CREATE TEMP TABLE bad(customer_id, ordered_at, amount); INSERT INTO bad VALUES(1,'2024-01-01',5),(3,'2024-13-01',1); SELECT * FROM rfm_score('bad');
CREATE TEMP TABLE sh(rowid, oid, customer_id, ordered_at, amount); INSERT INTO sh(_rowid_, customer_id, ordered_at, amount) VALUES(7,1,'2024-01-01',5),(9,3,'2024-13-01',1); SELECT * FROM rfm_score('sh');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM cohort_retention('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM cohort_retention('o', 'period=week', 'as_of=2024-06-30');
CREATE TEMP TABLE far(customer_id, ordered_at, amount); INSERT INTO far VALUES (1, '1700-01-01', 10), (1, '1700-01-09', 5), (3, '1950-06-01', 1), (2, '2200-01-01', 20); SELECT count(*), sum(active) FROM cohort_retention('far', 'period=week'); SELECT * FROM cohort_retention('far', 'period=quarter') WHERE active>0;
SELECT * FROM segment_rules('standard');
SELECT * FROM segment_rules('rfm_r');
SELECT * FROM segment_rules('rf_grid');
SELECT * FROM segment_rules();
CREATE TEMP TABLE r(segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi); INSERT INTO r VALUES('a',1,5,1,5,1,5); SELECT * FROM segment_rules('r');
-- usage_tier, lifecycle_stage (ext/usage.c, ext/lifecycle.c)
SELECT usage_tier(5, 2, 4), usage_tier('3', 2, 4), usage_tier(NULL, 1, 2);
SELECT usage_tier('x', 1, 2);
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM usage_tier('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM usage_tier('o', 'method=pareto', 'volume=amount', 'days=365');
CREATE TEMP VIEW e AS SELECT * FROM events WHERE customer_id <= 40; SELECT * FROM usage_tier('e', 'category=category', 'method=fixed', 'heavy_min=2', 'moderate_min=0.5');
CREATE TEMP VIEW li AS SELECT i.order_id, o.customer_id, o.ordered_at, i.category, i.price*i.quantity AS amount FROM order_items i JOIN orders o USING(order_id) WHERE o.customer_id <= 30; SELECT * FROM usage_tier('li', 'order=order_id', 'category=category');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM usage_tier('o', 'method=fixed');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM usage_tier('o', 'volume=amount');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM lifecycle_stage('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; CREATE TEMP VIEW c AS SELECT * FROM customers WHERE customer_id <= 50; SELECT * FROM lifecycle_stage('o', 'customers=c', 'as_of=2025-06-30', 'min_gaps=1');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM lifecycle_stage('o', 'customers=nope');
-- clv_summary, fits, model scalars, clv (ext/clv.c)
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM clv_summary('o', 'unit=day');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT bgnbd_fit(x, t_x, T) FROM clv_summary('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT pareto_nbd_fit(x, t_x, T) FROM clv_summary('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT gamma_gamma_fit(x, monetary) FROM clv_summary('o');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT bgnbd_fit(x, t_x, T, unit), pareto_nbd_fit(x, t_x, T, unit), gamma_gamma_fit(x, monetary) FROM clv_summary('o', 'unit=month');
WITH m AS (SELECT bgnbd_fit(x, t_x, T) AS b FROM (SELECT 1 x, 5 t_x, 20 T UNION ALL SELECT 3, 10, 30 UNION ALL SELECT 0, 0, 25)) SELECT p_alive(b, 2, 10, 20), expected_purchases(b, 12), expected_purchases(b, 12, 2, 10, 20) FROM m;
WITH g AS (SELECT gamma_gamma_fit(x, m) AS gg FROM (SELECT 1 x, 20.0 m UNION ALL SELECT 3, 35.5 UNION ALL SELECT 2, 10.0 UNION ALL SELECT 5, 80.0)) SELECT expected_spend(gg, 2, 30.0) FROM g;
SELECT p_alive('{"model":"nope"}', 1, 1, 2);
-- the CLV scalars' models from columns; a fit long enough to check for interrupts
CREATE TEMP TABLE cm(id, model); INSERT INTO cm VALUES (1, '{"model":"bgnbd","params":{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426}}'), (2, '{"model":"pareto_nbd","params":{"r":0.5,"alpha":10,"s":0.6,"beta":11}}'), (3, '{"model":"gamma_gamma","params":{"p":6.25,"q":3.74,"gamma":15.44}}'); SELECT p_alive(a.model, 2, 10, 20), expected_purchases(a.model, 5), clv(a.model, g.model, 2, 10, 20, 15.0, 6), expected_spend(g.model, 2, 15.0) FROM cm a, cm g WHERE a.id <= 2 AND g.id = 3;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<3000) SELECT length(bgnbd_fit(i % 4, (i % 4)*(i % 13), 13 + i % 17)) FROM n;
WITH d(x, t_x, n, w) AS (VALUES (0,0,6,3464),(1,1,6,1091),(1,6,6,129),(2,4,6,155),(3,6,6,357),(6,6,6,1203)) SELECT bgbb_fit(x, t_x, n, w), bgbb_fit(x, t_x, n) FROM d;
WITH m(b) AS (SELECT '{"model":"bgbb","params":{"alpha":1.204,"beta":0.75,"gamma":0.657,"delta":2.783}}') SELECT p_alive(b, 2, 4, 6), expected_purchases(b, 5), expected_purchases(b, 5, 2, 4, 6), dert(b, 0.1, 2, 4, 6), dert('{"model":"sbg"}', 0.1, 1, 1, 2) FROM m;
WITH d(t, c, w) AS (VALUES (1,1,369),(2,1,163),(3,1,86),(7,0,241)) SELECT sbg_fit(t, c, w), sbg_fit(t, c) FROM d;
WITH m(s) AS (SELECT '{"model":"sbg","params":{"alpha":0.704,"beta":1.182}}') SELECT sbg_survival(s, 7), sbg_retention(s, 7), derl(s, 0.1, 4), derl(s, 0.1, 4, 1), sbg_survival('{}', 1) FROM m;
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM clv('o', 'horizon=6', 'discount=0.02');
-- occasions, occasion_of, season_of, days_to_birthday, occasion_profile (ext/calendar.c)
SELECT * FROM occasions(2025, 'UK');
SELECT * FROM occasions(1500);
SELECT occasion_of('2024-12-10'), season_of('2024-12-10'), days_to_birthday('1990-02-28', '2025-03-01');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM occasion_profile('o', 'region=DE');
PRAGMA threads=1; CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM occasion_profile('o');
-- benefits_sought, engagement_score, cart_abandonment (ext/benefits.c, ext/engagement.c)
CREATE TEMP VIEW li AS SELECT o.*, i.category FROM order_items i JOIN orders o USING(order_id) WHERE o.customer_id <= 30; SELECT * FROM benefits_sought('li', 'order=order_id');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM benefits_sought('o', 'fast=express, pickup');
CREATE TEMP VIEW e AS SELECT * FROM events WHERE customer_id <= 300; SELECT * FROM engagement_score('e');
CREATE TEMP VIEW e AS SELECT customer_id, event_type, occurred_at, seconds FROM events WHERE customer_id <= 300; SELECT * FROM engagement_score('e');
CREATE TEMP VIEW e AS SELECT * FROM events WHERE customer_id <= 300; SELECT * FROM cart_abandonment('e', 'hours=48');
-- date_format= (ext/util.c 1.5): the compiled layout, and a layout refused
CREATE TEMP VIEW o AS SELECT customer_id, strftime('%m/%d/%Y %H:%M', ordered_at) AS ordered_at, amount FROM orders WHERE customer_id <= 20; SELECT * FROM rfm_score('o', 'date_format=%m/%d/%Y %H:%M');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 5; SELECT * FROM source_stats('o', 'date_format=%d %e %Y');
CREATE TEMP VIEW o AS SELECT customer_id, strftime('%m/%d/%Y', ordered_at) AS ordered_at, amount FROM orders WHERE customer_id <= 5; SELECT * FROM source_stats('o', 'date_format=%m/%d/%Y %H');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT mbgnbd_fit(x, t_x, T, unit) FROM clv_summary('o', 'unit=month');
WITH m AS (SELECT mbgnbd_fit(x, t_x, T) AS b FROM (SELECT 1 x, 5 t_x, 20 T UNION ALL SELECT 3, 10, 30 UNION ALL SELECT 0, 0, 25)) SELECT p_alive(b, 0, 0, 20), expected_purchases(b, 12), expected_purchases(b, 12, 2, 10, 20) FROM m;
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT count(*) FROM clv('o', 'model=mbgnbd');
SELECT purchase_probability('{"model":"bgnbd","params":{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426}}', 2, 30), purchase_probability('{"model":"pareto_nbd","params":{"r":0.553,"alpha":10.578,"s":0.606,"beta":11.669}}', 1, 30, 2, 10, 20);
SELECT purchase_probability('{"model":"nope"}', 1, 2);
-- clv_holdout, clv_validation, lr_test (ext/holdout.c)
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM clv_holdout('o', 'calibration_end=2024-06-30', 'holdout_end=2025-06-30');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM clv_holdout('o', 'calibration_end=2025-12-31');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT * FROM clv_validation('o', 'calibration_end=2024-06-30', 'unit=month', 'cap=3');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT count(*) FROM clv_validation('o', 'calibration_end=2024-06-30', 'holdout_end=2024-12-31', 'model=pareto_nbd');
SELECT lr_test('{"log_likelihood":-100.0,"k":3,"n":50}', '{"log_likelihood":-98.0,"k":4,"n":50}'), lr_test('{"log_likelihood":-1,"k":3,"n":5}', '{"log_likelihood":-1,"k":3,"n":6}'), lr_test('x', NULL);
-- Charts (chart.c) and the report page (report.c)
SELECT length(chart_bar(shipping, amount, 'title=Revenue; sort=value_desc; format=2')) FROM orders WHERE order_id <= 60;
SELECT length(chart_bar(x, 1)) FROM (SELECT 'a' x UNION ALL SELECT 'b' UNION ALL SELECT NULL), length(chart_bar('a', 'z'));
SELECT length(chart_histogram(amount, 'bins=8; x_label=amount')) FROM orders WHERE order_id <= 200;
SELECT length(chart_heatmap(customer_id % 5, shipping, amount, 'format=percent')) FROM orders WHERE order_id <= 100;
SELECT length(chart_treemap(shipping, abs(amount))), length(chart_treemap(shipping, abs(amount), discount, 'width=400')), length(chart_treemap(shipping, abs(amount), shipping, NULL)) FROM orders WHERE order_id <= 100;
SELECT length(chart_line(shipping, ordered_at, amount, 'y_label=amount')), length(chart_line(shipping, order_id, amount)) FROM orders WHERE order_id <= 100;
SELECT chart_bar('a', 1, 'no_such=1');
CREATE TEMP VIEW o AS SELECT * FROM orders WHERE customer_id <= 40; SELECT length(html) FROM segment_report('o', 'title=Small shop');
SELECT length(chart_bar(customer_id % 4, amount, shipping, 'layout=stacked')), length(chart_bar(customer_id % 4, amount, shipping)) FROM orders WHERE order_id <= 80;
