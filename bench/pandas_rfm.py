#!/usr/bin/python3
"""pandas_rfm.py DBFILE: the RFM recipe as a pandas user writes it.

Reads the orders table with pandas.read_sql (the copy out of SQLite),
then computes recency_days, frequency and monetary per customer with
groupby and scores them 1..5 with qcut on ranks (ties broken by customer
id, as NTILE does in the plain-SQL recipe).  The rules are the ones of
rfm_score: refunds (amount < 0) are not orders but lower monetary, a NULL
amount is an order of unknown value, recency is counted in whole UTC days
from the latest day in the table.

Prints one JSON line: load and compute seconds, wall and CPU (in-process,
after the imports), the number of customers and checksums of the measures and
scores, which bench/run.py compares with SQLite's.
"""
import json
import sqlite3
import sys
import time

import pandas as pd


def main():
    db = sys.argv[1]
    t0 = time.perf_counter()
    c0 = time.process_time()
    con = sqlite3.connect(db)
    df = pd.read_sql("SELECT customer_id, ordered_at, amount FROM orders", con)
    con.close()
    t1 = time.perf_counter()
    c1 = time.process_time()

    df = df[df.customer_id.notna() & df.ordered_at.notna()]
    day = pd.to_datetime(df.ordered_at.str.slice(0, 10), format="%Y-%m-%d")
    df = df.assign(day=day)
    as_of = df.day.max()
    is_order = df.amount.isna() | (df.amount >= 0)
    orders = df[is_order]
    g = orders.groupby("customer_id").agg(last=("day", "max"),
                                          frequency=("day", "size"))
    g["monetary"] = df.groupby("customer_id").amount.sum()   # NaN skipped
    g["recency_days"] = (as_of - g["last"]).dt.days
    g = g.reset_index()

    def ntile(sort_cols, ascending):
        order = g.sort_values(sort_cols, ascending=ascending, kind="mergesort")
        pos = pd.Series(range(len(order)), index=order.index)
        return pd.qcut(pos, 5, labels=False) + 1

    g["r"] = ntile(["recency_days", "customer_id"], [False, True])
    g["f"] = ntile(["frequency", "customer_id"], [True, True])
    g["m"] = ntile(["monetary", "customer_id"], [True, True])
    t2 = time.perf_counter()
    c2 = time.process_time()

    print(json.dumps({
        "load": t1 - t0,
        "compute": t2 - t1,
        "cpu_load": c1 - c0,
        "cpu_compute": c2 - c1,
        "customers": int(len(g)),
        "sum_recency": int(g.recency_days.sum()),
        "sum_frequency": int(g.frequency.sum()),
        "sum_monetary": float(g.monetary.sum()),
        "sum_rfm": int((100 * g.r + 10 * g.f + g.m).sum()),
    }))


if __name__ == "__main__":
    main()
