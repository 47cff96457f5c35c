-- demo.sql: what a shop owner wants to see first, from examples.db.
--
--   sqlite3 -bail examples.db -cmd ".load ./libsegment" < sql/demo.sql
--   (or: make demo)
--
-- Each section starts with a .print heading.  To add one, append:
--   .print
--   .print '== N. Title (function_name) =='
--   .print 'One line saying what the table shows.'
--   SELECT ...;

.headers on
.mode box

.print
.print '== examples.db: a small online shop, January 2023 to December 2025 =='
.print
SELECT (SELECT count(*) FROM customers) AS customers,
       (SELECT count(DISTINCT customer_id) FROM orders) AS buyers,
       count(*) FILTER (WHERE amount >= 0) AS orders,
       count(*) FILTER (WHERE amount < 0) AS refunds,
       printf('%,d', CAST(round(sum(amount)) AS INTEGER)) AS "net revenue",
       printf('%.2f', avg(amount) FILTER (WHERE amount >= 0))
         AS "avg order",
       min(date(ordered_at)) AS "first order",
       max(date(ordered_at)) AS "last order"
FROM orders;

.print
.print '== 1. RFM segments (rfm_score) =='
.print 'Customers scored 1-5 on recency, frequency and monetary value as of'
.print 'the last order day, grouped by the standard segment map, best first.'
.print 'share: of customers who ordered; avg order: net revenue / orders;'
.print 'median recency: days since the last order of the middle customer.'
WITH s AS (
  SELECT * FROM rfm_score('orders')
),
ranked AS (
  SELECT segment, recency_days,
         row_number() OVER (PARTITION BY segment ORDER BY recency_days) AS i,
         count(*) OVER (PARTITION BY segment) AS n
  FROM s
),
median AS (
  SELECT segment, avg(recency_days) AS recency
  FROM ranked WHERE i IN ((n + 1) / 2, (n + 2) / 2)
  GROUP BY segment
),
seg_order(segment, pos) AS (VALUES
  ('Champions', 1), ('Loyal', 2), ('Potential Loyalist', 3),
  ('New Customers', 4), ('Promising', 5), ('Need Attention', 6),
  ('About To Sleep', 7), ('At Risk', 8), ('Cannot Lose Them', 9),
  ('Hibernating', 10), ('Lost', 11)
)
SELECT s.segment,
       count(*) AS customers,
       printf('%.1f', 100.0 * count(*) / (SELECT count(*) FROM s))
         AS "share %",
       printf('%,d', CAST(round(sum(s.monetary)) AS INTEGER)) AS revenue,
       printf('%.1f', 100.0 * sum(s.monetary) / (SELECT sum(monetary) FROM s))
         AS "revenue %",
       printf('%.2f', sum(s.monetary) / sum(s.frequency)) AS "avg order",
       printf('%.1f', avg(s.frequency)) AS "orders each",
       printf('%g', median.recency) AS "median recency"
FROM s JOIN median USING (segment) LEFT JOIN seg_order USING (segment)
GROUP BY s.segment
ORDER BY coalesce(seg_order.pos, 99), sum(s.monetary) DESC;

.print
.print '== Usage tiers and lifecycle stages (usage_tier, lifecycle_stage) =='
.print 'Each customer by lifecycle stage (against its own buying rhythm) and by'
.print 'usage tier (orders over the whole history: top 20% heavy, next 30%'
.print 'moderate). Prospects registered but never ordered.'
SELECT l.stage,
       count(*) AS customers,
       count(*) FILTER (WHERE u.tier = 'heavy') AS heavy,
       count(*) FILTER (WHERE u.tier = 'moderate') AS moderate,
       count(*) FILTER (WHERE u.tier = 'light') AS light,
       round(avg(l.rhythm_days), 1) AS "avg rhythm (days)",
       round(avg(l.days_overdue), 1) AS "avg overdue (days)"
FROM lifecycle_stage('orders', 'customers=customers') AS l
LEFT JOIN (SELECT * FROM usage_tier('orders')) AS u ON u.customer = l.customer
GROUP BY l.stage
ORDER BY CASE l.stage WHEN 'prospect' THEN 0 WHEN 'new' THEN 1
  WHEN 'active' THEN 2 WHEN 'reactivated' THEN 3 WHEN 'at_risk' THEN 4
  ELSE 5 END;

.print
.print '== Benefits sought, engagement, abandoned carts (benefits_sought, engagement_score, cart_abandonment) =='
.print 'Who shops for price, quality or convenience (customers with 3+ orders;'
.print 'orders joined with their lines in a view), how engaged web visitors'
.print 'are since September 2025, and the abandoned carts not yet recovered.'
CREATE TEMP VIEW order_lines AS
  SELECT o.order_id, o.customer_id, o.ordered_at, o.amount, o.discount,
         o.shipping, i.category, i.price
  FROM orders AS o JOIN order_items AS i USING (order_id);
SELECT label, count(*) AS customers,
       printf('%.2f', avg(discount_share)) AS "discount share",
       printf('%.2f', avg(price_level)) AS "price level",
       printf('%.2f', avg(fast_share)) AS "express share"
FROM benefits_sought('order_lines', 'order=order_id')
WHERE label IS NOT NULL GROUP BY label ORDER BY count(*) DESC;
SELECT level AS engagement, count(*) AS customers,
       printf('%.1f', avg(views)) AS "views each",
       printf('%.0f', avg(recency_days)) AS "days since last visit"
FROM engagement_score('events') GROUP BY level ORDER BY min(score) DESC;
SELECT count(*) AS "abandoned carts", sum(NOT recovered) AS "to remind",
       printf('%.2f', sum(value) FILTER (WHERE NOT recovered)) AS "value to win back"
FROM cart_abandonment('events');

.print
.print '== Occasions (occasion_profile, occasions) =='
.print 'Which retail occasions bring the orders (US calendar), and how many'
.print 'customers buy mostly for occasions rather than all year round.'
CREATE TEMP VIEW orders_birth AS
  SELECT o.*, c.birth_date FROM orders AS o JOIN customers AS c USING (customer_id);
SELECT top_occasion AS "top occasion", count(*) AS customers,
       sum(shopper = 'seasonal') AS seasonal,
       sum(birthday_buyer) AS "birthday buyers"
FROM occasion_profile('orders_birth')
WHERE top_occasion IS NOT NULL
GROUP BY 1 ORDER BY 2 DESC LIMIT 6;

.print
.print '== Predicted value and churn risk (clv) =='
.print 'Pareto/NBD and Gamma-Gamma fitted on the whole history, per customer the'
.print 'chance of still being active and the value of the next 12 months,'
.print 'by RFM segment.'
SELECT r.segment, count(*) AS customers,
       printf('%.2f', avg(c.p_alive)) AS "avg p(alive)",
       printf('%.2f', sum(c.expected_purchases)) AS "orders next 12m",
       printf('%.0f', sum(c.clv)) AS "value next 12m"
FROM rfm_score('orders') AS r
JOIN clv('orders', 'model=pareto_nbd', 'horizon=12') AS c ON c.customer = r.customer
GROUP BY 1 ORDER BY sum(c.clv) DESC;
