-- recipes.sql: SQL recipes over rfm_score, runnable on examples.db.
--
--   sqlite3 examples.db -cmd ".load ./libsegment" < sql/recipes.sql
--
-- Each recipe is one statement that stands alone: copy it, change the
-- table name or the dates, run it.  They use the columns of
-- rfm_score(): customer, first_date, last_date, recency_days, frequency,
-- monetary, avg_order_value, r, f, m, rfm, segment.
--
--   1. RFM in plain SQL (what rfm_score('orders', 'method=ntile') does)
--   2. Segment profile
--   3. Segment migration between two dates
--   4. Monthly acquisition cohorts and their retention (plain SQL)
--   5. Campaign list: valuable customers who are slipping away
--   6. Small-segment guard
--   7. What the segments found, against the generator's personas

.headers on
.mode box

------------------------------------------------------------------------
-- 1. RFM in plain SQL.
--
-- The same scores as rfm_score('orders', 'method=ntile'): as_of is the
-- last day in the table; refunds (negative amounts) lower monetary but
-- are not orders and do not move the dates; NTILE(5) splits ties by
-- customer id.  rfm_score() does this in one pass, with the tie-aware
-- default method=rank, and checks dates and amounts.
.print '-- 1. RFM in plain SQL (first 5 customers)'
WITH c AS (
  SELECT customer_id AS customer,
         min(date(ordered_at))
           FILTER (WHERE amount >= 0 OR amount IS NULL) AS first_date,
         max(date(ordered_at))
           FILTER (WHERE amount >= 0 OR amount IS NULL) AS last_date,
         count(*) FILTER (WHERE amount >= 0 OR amount IS NULL) AS frequency,
         coalesce(sum(amount), 0.0) AS monetary
  FROM orders
  GROUP BY customer_id
  HAVING frequency > 0
),
m AS (
  SELECT *,
         CAST(julianday((SELECT max(date(ordered_at)) FROM orders))
              - julianday(last_date) AS INTEGER) AS recency_days
  FROM c
),
s AS (
  SELECT *,
         ntile(5) OVER (ORDER BY recency_days DESC, customer) AS r,
         ntile(5) OVER (ORDER BY frequency, customer) AS f,
         ntile(5) OVER (ORDER BY monetary, customer) AS m
  FROM m
)
SELECT customer, first_date, last_date, recency_days, frequency,
       round(monetary, 2) AS monetary, r, f, m,
       100*r + 10*f + m AS rfm, segment_of(r, f, m) AS segment
FROM s
ORDER BY customer
LIMIT 5;

------------------------------------------------------------------------
-- 2. Segment profile.
--
-- Who is in each segment: size, value and behaviour from
-- segment_profile() (add 'as_of=...', 'window=90' for retention and churn
-- in the 90 days after a past day), and who they are (age on 2025-12-31,
-- the last day of the data; share in the US; how often they use a
-- discount or express shipping), from rfm_score joined with the customers
-- and orders tables.
.print '-- 2. Segment profile'
WITH p AS (
  SELECT * FROM segment_profile('orders')
),
shop AS (
  SELECT customer_id,
         avg(discount > 0) AS discounted,
         avg(shipping = 'express') AS express
  FROM orders WHERE amount >= 0
  GROUP BY customer_id
),
who AS (
  SELECT s.segment,
         avg((julianday('2025-12-31') - julianday(c.birth_date)) / 365.25)
           AS age,
         avg(c.region = 'US') AS us,
         avg(shop.discounted) AS discounted,
         avg(shop.express) AS express
  FROM rfm_score('orders') AS s
  JOIN customers AS c ON c.customer_id = s.customer
  JOIN shop ON shop.customer_id = s.customer
  GROUP BY s.segment
)
SELECT p.segment,
       p.customers,
       printf('%.1f', 100.0 * p.share) AS "share %",
       printf('%.1f', 100.0 * p.revenue_share) AS "revenue %",
       printf('%.0f', p.median_recency) AS recency,
       printf('%.1f', p.orders_per_customer) AS orders,
       printf('%.2f', p.avg_order_value) AS "avg order",
       printf('%.0f', 100.0 * p.repeat_rate) AS "repeat %",
       printf('%.0f', who.age) AS age,
       printf('%.0f', 100.0 * who.us) AS "US %",
       printf('%.0f', 100.0 * who.discounted) AS "discount %",
       printf('%.0f', 100.0 * who.express) AS "express %"
FROM p JOIN who USING (segment)
ORDER BY p.revenue DESC;

------------------------------------------------------------------------
-- 3. Segment migration between two dates.
--
-- segment_migration() scores the same orders as of 2024-12-31 and as of
-- 2025-12-31 in one read and counts where each customer went: customers
-- with no order by 2024-12-31 come in as '(new)', those with none after
-- it go to '(lost)' ('lost=segment' keeps their segment as of the second
-- day instead, as joining two rfm_score() calls on the customer does).
-- share is of the customers of the first segment; revenue is what they
-- spent in between.
.print '-- 3a. Segment migration, 2024-12-31 -> 2025-12-31: the largest moves'
SELECT from_segment AS "2024-12-31",
       to_segment AS "2025-12-31",
       customers,
       printf('%.1f', 100.0 * share) AS "share %",
       printf('%,d', CAST(round(revenue) AS INTEGER)) AS revenue
FROM segment_migration('orders', 'from=2024-12-31', 'to=2025-12-31')
ORDER BY customers DESC, 1, 2
LIMIT 12;

.print '-- 3b. Segment migration, 2024-12-31 -> 2025-12-31: cross-tab'
SELECT from_segment AS "from \ to",
       sum(iif(to_segment = 'Champions', customers, 0))          AS Champ,
       sum(iif(to_segment = 'Loyal', customers, 0))              AS Loyal,
       sum(iif(to_segment = 'Potential Loyalist', customers, 0)) AS PotL,
       sum(iif(to_segment = 'New Customers', customers, 0))      AS New,
       sum(iif(to_segment = 'Promising', customers, 0))          AS Prom,
       sum(iif(to_segment = 'Need Attention', customers, 0))     AS NeedA,
       sum(iif(to_segment = 'About To Sleep', customers, 0))     AS Sleep,
       sum(iif(to_segment = 'At Risk', customers, 0))            AS Risk,
       sum(iif(to_segment = 'Cannot Lose Them', customers, 0))   AS CantL,
       sum(iif(to_segment = 'Hibernating', customers, 0))        AS Hib,
       sum(iif(to_segment = 'Lost', customers, 0))               AS Lost,
       sum(iif(to_segment = '(lost)', customers, 0))             AS "(lost)",
       sum(customers)                                            AS total
FROM segment_migration('orders', 'from=2024-12-31', 'to=2025-12-31')
GROUP BY 1
ORDER BY CASE from_segment
  WHEN 'Champions' THEN 1 WHEN 'Loyal' THEN 2 WHEN 'Potential Loyalist' THEN 3
  WHEN 'New Customers' THEN 4 WHEN 'Promising' THEN 5
  WHEN 'Need Attention' THEN 6 WHEN 'About To Sleep' THEN 7
  WHEN 'At Risk' THEN 8 WHEN 'Cannot Lose Them' THEN 9
  WHEN 'Hibernating' THEN 10 WHEN 'Lost' THEN 11 ELSE 12 END;

------------------------------------------------------------------------
-- 4. Monthly acquisition cohorts and their retention, in plain SQL.
--
-- A customer's cohort is the month of the first order.  m1, m2, m3, m6,
-- m12: the percentage of the cohort that ordered again 1, 2, 3, 6, 12
-- calendar months later; blank where that month is after the data ends.
-- Refunds are not orders.
.print '-- 4. Monthly acquisition cohorts: retention %'
WITH o AS (
  SELECT customer_id,
         CAST(strftime('%Y', ordered_at) AS INTEGER) * 12
           + CAST(strftime('%m', ordered_at) AS INTEGER) - 1 AS month
  FROM orders WHERE amount >= 0
),
first AS (
  SELECT customer_id, min(month) AS cohort FROM o GROUP BY customer_id
),
active AS (
  SELECT DISTINCT customer_id, cohort, month - cohort AS k
  FROM o JOIN first USING (customer_id)
),
grid AS (
  SELECT cohort, count(*) FILTER (WHERE k = 0) AS size,
         count(*) FILTER (WHERE k = 1) AS n1,
         count(*) FILTER (WHERE k = 2) AS n2,
         count(*) FILTER (WHERE k = 3) AS n3,
         count(*) FILTER (WHERE k = 6) AS n6,
         count(*) FILTER (WHERE k = 12) AS n12,
         (SELECT max(month) FROM o) - cohort AS age
  FROM active GROUP BY cohort
)
SELECT printf('%04d-%02d', cohort / 12, cohort % 12 + 1) AS cohort,
       size AS customers,
       CASE WHEN age >= 1 THEN printf('%.1f', 100.0 * n1 / size) END AS m1,
       CASE WHEN age >= 2 THEN printf('%.1f', 100.0 * n2 / size) END AS m2,
       CASE WHEN age >= 3 THEN printf('%.1f', 100.0 * n3 / size) END AS m3,
       CASE WHEN age >= 6 THEN printf('%.1f', 100.0 * n6 / size) END AS m6,
       CASE WHEN age >= 12 THEN printf('%.1f', 100.0 * n12 / size) END AS m12
FROM grid
ORDER BY grid.cohort;

------------------------------------------------------------------------
-- 5. Campaign list: valuable customers who are slipping away.
--
-- 'At Risk' and 'Cannot Lose Them' customers whose spend scores 4 or 5,
-- highest spend first, with what a win-back mail needs.  The address is
-- a placeholder: join your own contact table instead.
.print '-- 5. Win-back list: At Risk / Cannot Lose Them with m >= 4 (top 15)'
SELECT s.customer,
       printf('customer%04d@example.com', s.customer) AS email,
       c.region,
       s.segment,
       s.last_date,
       s.recency_days AS "days since",
       s.frequency AS orders,
       printf('%.2f', s.monetary) AS spent
FROM rfm_score('orders') AS s
JOIN customers AS c ON c.customer_id = s.customer
WHERE s.segment IN ('At Risk', 'Cannot Lose Them') AND s.m >= 4
ORDER BY s.monetary DESC
LIMIT 15;

------------------------------------------------------------------------
-- 6. Small-segment guard.
--
-- A segment of a handful of customers makes noisy reports and campaigns
-- that are not worth their cost; it happens as soon as the customers are
-- split further, here by region.  Segments under min_share of the
-- region's customers, or under min_customers, are reported together as
-- 'Other (small)' and marked not to be used on their own.  Change the
-- parameters in the first line.  Over the whole shop, the options
-- min_share=, min_customers= and other= of rfm_score, segment_profile and
-- segment_migration do this; within a region, as here, the customers are
-- scored on the whole shop and then split, so the guard is applied after.
.print '-- 6. Small-segment guard: region DE, min_share 5 %, min_customers 25'
WITH params(region, min_share, min_customers) AS (VALUES ('DE', 0.05, 25)),
s AS (
  SELECT segment, count(*) AS n, sum(monetary) AS revenue
  FROM rfm_score('orders') AS r
  JOIN customers AS c ON c.customer_id = r.customer
  WHERE c.region = (SELECT region FROM params)
  GROUP BY segment
),
t AS (
  SELECT s.*, n * 1.0 / (SELECT sum(n) FROM s) AS share,
         n * 1.0 / (SELECT sum(n) FROM s) < min_share
           OR n < min_customers AS small
  FROM s, params
)
SELECT CASE WHEN small THEN 'Other (small)' ELSE segment END AS segment,
       sum(n) AS customers,
       printf('%.1f', 100.0 * sum(share)) AS "share %",
       printf('%,d', CAST(round(sum(revenue)) AS INTEGER)) AS revenue,
       group_concat(CASE WHEN small THEN segment || ' ' || n END, ', ')
         AS "folded in",
       CASE WHEN small THEN 'no' ELSE 'yes' END AS "use alone"
FROM t
GROUP BY 1
ORDER BY small, sum(revenue) DESC;

------------------------------------------------------------------------
-- 7. What the segments found, against the generator's personas.
--
-- examples.db keeps the kind of customer each one was generated as in
-- the table personas (a real shop has no such table).  This shows where
-- each kind lands: loyal customers should be Champions or Loyal, lapsed
-- ones At Risk, Hibernating or Lost, one-time buyers spread by recency.
.print '-- 7. Personas (rows) by RFM segment (columns)'
SELECT p.persona,
       sum(s.segment = 'Champions')          AS Champ,
       sum(s.segment = 'Loyal')              AS Loyal,
       sum(s.segment = 'Potential Loyalist') AS PotL,
       sum(s.segment = 'New Customers')      AS New,
       sum(s.segment = 'Promising')          AS Prom,
       sum(s.segment = 'Need Attention')     AS NeedA,
       sum(s.segment = 'About To Sleep')     AS Sleep,
       sum(s.segment = 'At Risk')            AS Risk,
       sum(s.segment = 'Cannot Lose Them')   AS CantL,
       sum(s.segment = 'Hibernating')        AS Hib,
       sum(s.segment = 'Lost')               AS Lost,
       count(*)                              AS total
FROM rfm_score('orders') AS s
JOIN personas AS p ON p.customer_id = s.customer
GROUP BY p.persona
ORDER BY total DESC, p.persona;
