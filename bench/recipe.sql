-- The plain-SQL RFM recipe: one GROUP BY, then NTILE(5) windows.
-- Same rules as rfm_score: refunds (amount < 0) are not orders but lower
-- monetary; a NULL amount is an order of unknown value; recency is whole
-- UTC days from the latest day in the table; ties go by customer id.
WITH latest AS (
  SELECT max(date(ordered_at)) AS d FROM orders
  WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL
),
c AS (
  SELECT customer_id,
         CAST(julianday((SELECT d FROM latest))
              - julianday(date(max(CASE WHEN amount IS NULL OR amount >= 0
                                        THEN ordered_at END))) AS INTEGER)
           AS recency_days,
         count(CASE WHEN amount IS NULL OR amount >= 0 THEN 1 END)
           AS frequency,
         total(amount) AS monetary
  FROM orders
  WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL
  GROUP BY customer_id
  HAVING frequency > 0
)
SELECT customer_id, recency_days, frequency, monetary,
       NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r,
       NTILE(5) OVER (ORDER BY frequency, customer_id) AS f,
       NTILE(5) OVER (ORDER BY monetary, customer_id) AS m
FROM c
