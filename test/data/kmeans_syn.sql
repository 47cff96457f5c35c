-- The synthetic set of test/kmeans.test and test/xcheck/kmeans_sklearn.py:
-- four groups of 750 customers (recency, frequency, monetary), i the
-- customer, g its group.
CREATE TABLE syn AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i<2999),
   u AS (SELECT i, i%4 AS g, ((i*7919)%1009)/1009.0 AS u1, ((i*104729)%1013)/1013.0 AS u2,
                ((i*1299709)%1019)/1019.0 AS u3 FROM n)
   SELECT i, g,
     CASE g WHEN 0 THEN 3+10*u1 WHEN 1 THEN 30+60*u1 WHEN 2 THEN 300+300*u1 ELSE 5+20*u1 END AS r,
     CASE g WHEN 0 THEN 20+30*u2 WHEN 1 THEN 3+4*u2 WHEN 2 THEN u2 ELSE 1+3*u2 END AS f,
     CASE g WHEN 0 THEN 2000+4000*u3 WHEN 1 THEN 200+300*u3 WHEN 2 THEN 10+40*u3 ELSE 20+60*u3 END AS m
   FROM u;
