-- schema.sql: the tables of examples.db, a small online shop that opened on
-- 1 January 2023; the data ends on 31 December 2025.
--
-- sql/examples.tcl creates a database from this file and fills it with its
-- deterministic generator (make examples.db).  Column names are the ones
-- libsegment detects by itself (customer_id, ordered_at, amount), so
-- `SELECT * FROM rfm_score('orders')` needs no options.

-- One row per registered customer.  Customers are numbered in the order they
-- signed up.  280 of the 2,000 never ordered (prospects).
CREATE TABLE customers(
  customer_id INTEGER PRIMARY KEY,
  signup_date TEXT NOT NULL,          -- 'YYYY-MM-DD'
  birth_date  TEXT,                   -- 'YYYY-MM-DD'; NULL when not given
  region      TEXT NOT NULL           -- 'US', 'UK' or 'DE'
);

-- One row per order, numbered in time order.  A refund is a row of its own
-- with a negative amount; refund_of names the order it refunds (same
-- customer, earlier date).
--   amount   = sum(price * quantity) of the order's items - discount
--   discount = the discount taken off the items, in currency (>= 0); the
--              discount share of an order is discount / (amount + discount)
--   shipping = 'standard', 'express' or 'pickup' (NULL for refunds)
CREATE TABLE orders(
  order_id    INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers,
  ordered_at  TEXT NOT NULL,          -- 'YYYY-MM-DD HH:MM:SS' (UTC)
  amount      REAL NOT NULL,          -- 2 decimals; negative for refunds
  discount    REAL NOT NULL,
  shipping    TEXT,
  refund_of   INTEGER REFERENCES orders
);

-- The lines of each (non-refund) order.  price is the unit list price.
CREATE TABLE order_items(
  order_id INTEGER NOT NULL REFERENCES orders,
  line_no  INTEGER NOT NULL,          -- 1, 2, ... within the order
  category TEXT NOT NULL,             -- books, music, electronics, home,
                                      -- toys, garden
  price    REAL NOT NULL,
  quantity INTEGER NOT NULL,
  PRIMARY KEY(order_id, line_no)
);

-- Web analytics, recorded from 1 September 2025 on: one row per page event.
-- Sessions are numbered in the order they started.  A session that ends in
-- an order has a 'purchase' event at the order's time (order_id set, value
-- = the order's amount); 'add_to_cart' without a later purchase is an
-- abandoned cart.
--   seconds  = time spent on the page (INTEGER)
--   category = product category of the page (NULL for purchase events)
--   value    = price of the product viewed, value put in the cart, or the
--              order amount; NULL for clicks
CREATE TABLE events(
  event_id    INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers,
  session_id  INTEGER NOT NULL,
  event_type  TEXT NOT NULL,          -- 'view','click','add_to_cart','purchase'
  occurred_at TEXT NOT NULL,          -- 'YYYY-MM-DD HH:MM:SS' (UTC)
  seconds     INTEGER NOT NULL,
  category    TEXT,
  value       REAL,
  order_id    INTEGER REFERENCES orders
);

-- The generator's ground truth: the kind of customer each one was drawn as
-- (one_time, occasional, loyal, big_spender, lapsed, seasonal,
-- price_sensitive, convenience, prospect).  A shop does not have this
-- table; it is here to check what the segmentation functions find.
CREATE TABLE personas(
  customer_id INTEGER PRIMARY KEY REFERENCES customers,
  persona     TEXT NOT NULL
);
