#!/usr/bin/python3
"""run.py: the benchmark behind `make bench` (see README.md, "Benchmark").

    bench/run.py --lib PATH/libsegment.so [--size 1m|10m] [--runs 3]

On one generated orders table (bench/gen.c; bench/data/orders_SIZE.db,
made when missing) it measures, each in a fresh process, several times:

  - SQLite's floors: a full scan (count(*), sum(amount)); the row-fetch
    floor (bench/floor.c: step every row, read the three columns); GROUP BY
    customer_id computing count, sum and max date;
    and the same fetch on two threads, each with its own read-only
    connection reading half of the rowids (bench_fetch_par);
  - the plain-SQL RFM recipe (bench/recipe.sql: one GROUP BY, NTILE(5));
  - rfm_score with method=rank and method=ntile, and source_stats, each
    as SQLite runs by default (one thread) and with PRAGMA threads=1 (a
    worker thread for the scan), the two outputs checked to be the same;
  - like for like, the rows written into a temp table: rfm_score
    (method=ntile, on one thread and with PRAGMA threads=1), the plain-SQL
    recipe, and the minimal RFM program (bench/floor.c, bench_rfm_min: the
    smallest program that does rfm_score's job, the bound for its
    targets), which is also timed without output;
  - the other scan-based functions that run on the orders table alone
    (clv_summary, usage_tier, lifecycle_stage, cohort_retention,
    occasion_profile), on one thread, counted;
  - CLV: clv_summary and the three fits over it (bgnbd_fit,
    pareto_nbd_fit, gamma_gamma_fit), and the three fits alone on the CDNOW
    sample (test/data/CDNOW_sample.txt, 2,357 customers, as test/clv.test
    loads it; summarised before the timing), when libsegment registers
    them;
  - k-means: kmeans_select for k = 2..8 on 100,000 customers' (recency,
    frequency, monetary) from rfm_score, log1p (the vectors made once,
    untimed);
  - pandas (read_sql, groupby, qcut) when python3-pandas is installed, and
    DuckDB (@duckdb/node-api in bench/node_modules) on a copy of the data,
    the copy's cost shown on rows of its own.

Seconds are measured inside each process (the sqlite3 shell's .timer, or
the script's own clock after its imports); peak memory is the process's
maximum RSS (/usr/bin/time).  It checks that rfm_score's method=ntile
output equals the plain-SQL recipe's exactly (customer, recency_days,
frequency, r, f, m; monetary within 1e-9 relative), then prints one table:
method, runs, median seconds, peak MB, ratio to the GROUP BY floor, ratio
to the plain-SQL recipe, and the targets of the issue.  Results go to
bench/data/results_SIZE.json and .md; when both sizes have results, the
growth from 1m to 10m is printed too.  Exit status 1 when the equality
check fails or PRAGMA threads=1 changes an output.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# A function's rows written into a temp table, then counted.
TEMP = "CREATE TEMP TABLE t AS SELECT * FROM %s; SELECT count(*) FROM t"
# The other scan-based functions that run on the orders table alone.
SCANS = ("clv_summary", "usage_tier", "lifecycle_stage", "cohort_retention",
         "occasion_profile")
DATA = os.path.join(HERE, "data")
GEN_VERSION = 2      # bench/gen.c's PRAGMA user_version


def gen_version(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


SIZES = {"1m": (1_000_000, 100_003), "10m": (10_000_000, 1_000_003)}
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
TIME = "/usr/bin/time"
CLV_TIMEOUT = 600
CDNOW = os.path.join(HERE, "..", "test", "data", "CDNOW_sample.txt")
CLV_FITS = ("bgnbd_fit(x, t_x, T), pareto_nbd_fit(x, t_x, T),"
            " gamma_gamma_fit(x, monetary)")


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Timeout(Exception):
    pass


def run(cmd, stdin=None, cwd=None, timeout=None):
    """Run cmd in a fresh process; return (stdout, peak RSS in KB).  Past
    timeout seconds the process group is killed and Timeout raised."""
    rss_file = os.path.join(DATA, ".rss")
    full = [TIME, "-f", "%M", "-o", rss_file] + cmd
    p = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=cwd, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise Timeout()
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd),
                                              (err or out).strip()))
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return out, rss


def sqlite_run(db, sql, loads=(), timeout=None):
    """One statement in the sqlite3 shell: (seconds, CPU seconds, rss KB,
    output)."""
    cmd = [SQLITE3, "-bail", db]
    for lib in loads:
        cmd += ["-cmd", ".load " + lib]
    cmd += ["-cmd", ".timer on"]
    out, rss = run(cmd, stdin=sql.rstrip().rstrip(";") + ";\n",
                   timeout=timeout)
    t = re.findall(r"Run Time: real ([0-9.]+) user ([0-9.]+) sys ([0-9.]+)",
                   out)
    secs = sum(float(x[0]) for x in t)
    cpu = sum(float(x[1]) + float(x[2]) for x in t)
    rows = re.sub(r"Run Time:.*\n?", "", out).strip()
    return secs, cpu, rss, rows


def median_of(fn, runs):
    """Call fn() runs times: (median seconds, median CPU seconds, max rss
    KB, last info)."""
    secs, cpus, rss, info = [], [], 0, None
    for _ in range(runs):
        s, c, r, info = fn()
        secs.append(s)
        cpus.append(c)
        rss = max(rss, r)
    return statistics.median(secs), statistics.median(cpus), rss, info


def recipe_sql():
    with open(os.path.join(HERE, "recipe.sql")) as f:
        return "\n".join(l for l in f.read().splitlines()
                         if not l.startswith("--"))


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True,
                                   text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    ver = subprocess.run([SQLITE3, ":memory:", "select sqlite_version()"],
                         capture_output=True, text=True).stdout.strip()
    try:
        load = "%.1f" % os.getloadavg()[0]
    except OSError:
        load = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "sqlite": ver,
            "system": platform.system() + " " + platform.release(),
            "load": load}


def cdnow_db(lib):
    """bench/data/cdnow.db: the CDNOW sample as test/clv.test loads it
    (customer, ISO date, cds, amount) and its summary s (as_of
    1997-09-30), made by libsegment."""
    path = os.path.join(DATA, "cdnow.db")
    if os.path.exists(path):
        os.remove(path)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE cdnow(customer INTEGER, date TEXT,"
                " cds INTEGER, amount REAL)")
    rows = []
    with open(CDNOW) as f:
        for line in f:
            v = line.split()
            if len(v) < 5:
                continue
            d = v[2]
            rows.append((int(v[1]), "%s-%s-%s" % (d[:4], d[4:6], d[6:8]),
                         int(v[3]), float(v[4])))
    con.executemany("INSERT INTO cdnow VALUES(?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    sqlite_run(path, "CREATE TABLE s AS SELECT * FROM"
               " clv_summary('cdnow', 'as_of=1997-09-30')", [lib])
    return path


def kmeans_db(db, lib):
    """bench/data/kmeans.db: table c(r, f, m), the recency_days, frequency
    and monetary of rfm_score's first 100,000 customers of db (net
    spend below 0, of refunds, taken as 0 for log1p)."""
    path = os.path.join(DATA, "kmeans.db")
    if os.path.exists(path):
        os.remove(path)
    sqlite_run(path, "ATTACH '%s' AS o; CREATE TABLE c AS SELECT"
               " recency_days AS r, frequency AS f, max(monetary, 0) AS m"
               " FROM rfm_score('o.orders') LIMIT 100000"
               % db.replace("'", "''"), [lib])
    return path


def has_function(db, lib, kind, name):
    table = "pragma_function_list" if kind == "function" else \
        "pragma_module_list"
    _, _, _, out = sqlite_run(db, "SELECT count(*) FROM %s WHERE name='%s'"
                           % (table, name), [lib])
    return out.strip() not in ("", "0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True, help="path of libsegment.so")
    ap.add_argument("--size", default="1m", choices=sorted(SIZES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--check-only", action="store_true",
                    help="only the equality check, no timings")
    args = ap.parse_args()
    lib = os.path.abspath(args.lib)
    floor = os.path.join(DATA, "floor")
    n_orders, n_cust = SIZES[args.size]
    big = args.size != "1m"
    slow_runs = 1 if big else args.runs
    os.makedirs(DATA, exist_ok=True)
    mach = machine()

    db = os.path.join(DATA, "orders_%s.db" % args.size)
    if os.path.exists(db) and gen_version(db) != GEN_VERSION:
        note("%s was made by an older bench/gen.c: made again" % db)
        os.remove(db)
    if not os.path.exists(db):
        note("generating %s (%d orders, %d customers)"
             % (db, n_orders, n_cust))
        subprocess.run([os.path.join(DATA, "gen"), db + ".tmp",
                        str(n_orders), str(n_cust)], check=True)
        os.rename(db + ".tmp", db)
    with open(db, "rb") as f:              # warm the page cache
        while f.read(1 << 24):
            pass

    recipe = recipe_sql()
    if args.check_only:
        check_ok, check, _ = equality_check(db, lib, recipe)
        print(check)
        return 0 if check_ok else 1

    rows = []            # (name, runs, seconds, rss KB, note)
    info = {}

    def add(name, runs, fn, tag=None):
        note("%s (%d run%s)" % (name, runs, "s" if runs > 1 else ""))
        s, c, r, out = median_of(fn, runs)
        rows.append({"method": name, "runs": runs, "seconds": s, "cpu": c,
                     "rss_kb": r})
        if tag:
            info[tag] = out
        return s

    def sq(sql, loads=()):
        return lambda: sqlite_run(db, sql, loads)

    add("SQLite full scan: count(*), sum(amount)", args.runs,
        sq("SELECT count(*), sum(amount) FROM orders"))
    add("row-fetch floor (C: step + read 3 columns)", args.runs,
        sq("SELECT bench_fetch('orders')", [floor]), "fetch")
    add("row-fetch floor on 2 threads (C: 2 read-only connections,"
        " rowid ranges)", args.runs,
        sq("SELECT bench_fetch_par('orders', 2)", [floor]))
    add("SQLite GROUP BY customer_id: count, sum, max date", args.runs,
        sq("SELECT count(*), sum(n), sum(s), max(d) FROM (SELECT customer_id,"
           " count(*) AS n, sum(amount) AS s, max(ordered_at) AS d"
           " FROM orders GROUP BY customer_id)"), "groupby")
    sums = ("count(*), sum(recency_days), sum(frequency), sum(monetary),"
            " sum(100*r + 10*f + m)")
    add("plain-SQL recipe (GROUP BY + NTILE(5))", slow_runs,
        sq("SELECT %s FROM (%s)" % (sums, recipe)), "recipe")
    # Each libsegment scan twice: as SQLite runs by default (one thread),
    # then with PRAGMA threads=1, which lets the scan use a worker thread
    # (README.md, "Threads"); the outputs must be the same.
    threads = "PRAGMA threads=1;\n"
    for pre, suffix in (("", ""), (threads, ", PRAGMA threads=1")):
        for method in ("rank", "ntile"):
            add("rfm_score method=%s%s" % (method, suffix), args.runs,
                sq(pre + "SELECT count(*), sum(recency_days), sum(frequency),"
                   " sum(monetary), sum(rfm), count(segment)"
                   " FROM rfm_score('orders', 'method=%s')" % method, [lib]),
                "rfm_" + method + ("_threads" if pre else ""))
        add("source_stats" + suffix, args.runs,
            sq(pre + "SELECT * FROM source_stats('orders')", [lib]),
            "stats" + ("_threads" if pre else ""))
    # Like for like with the recipe and the minimal program: the rows
    # written into a temp table (the targets hold on these), then
    # the other scan-based functions, aggregated, on one thread.
    add("minimal RFM program (C: fetch, 24 bytes per customer, ntile)",
        args.runs, sq("SELECT bench_rfm_min('orders')", [floor]))
    add("minimal RFM program, rows into a temp table", args.runs,
        sq(TEMP % "bench_rfm_min_rows('orders')", [floor]))
    for pre, suffix in (("", ""), (threads, ", PRAGMA threads=1")):
        add("rfm_score method=ntile, rows into a temp table" + suffix,
            args.runs,
            sq(pre + TEMP % "rfm_score('orders', 'method=ntile')", [lib]))
    add("plain-SQL recipe, rows into a temp table", slow_runs,
        sq(TEMP % ("(%s)" % recipe)))
    for fn in SCANS:
        if has_function(db, lib, "module", fn):
            add("%s (one thread)" % fn, args.runs,
                sq("SELECT count(*) FROM %s('orders')" % fn, [lib]))
    for tag in ("rfm_rank", "rfm_ntile", "stats"):
        two = info[tag + "_threads"].split("\n", 1)[-1]  # PRAGMA's own "1"
        if two != info[tag]:
            note("%s: output with PRAGMA threads=1 differs: %r vs %r"
                 % (tag, two, info[tag]))
            info["threads_differ"] = True

    if has_function(db, lib, "module", "clv_summary") and \
            all(has_function(db, lib, "function", f) for f in
                ("bgnbd_fit", "pareto_nbd_fit", "gamma_gamma_fit")):
        clv_sql = "SELECT %s FROM clv_summary('orders')" % CLV_FITS
        for pre, suffix in (("", ""), (threads, ", PRAGMA threads=1")):
            try:
                add("CLV: clv_summary + bgnbd_fit + pareto_nbd_fit +"
                    " gamma_gamma_fit" + suffix, slow_runs,
                    lambda: sqlite_run(db, pre + clv_sql, [lib], CLV_TIMEOUT),
                    "clv" + ("_threads" if pre else ""))
            except Timeout:
                note("CLV fits stopped after %d s" % CLV_TIMEOUT)
                info["clv"] = "did not finish in %d s" % CLV_TIMEOUT
        if os.path.exists(CDNOW):
            cdnow = cdnow_db(lib)
            add("CLV: the three fits on CDNOW (2,357 customers)", args.runs,
                lambda: sqlite_run(cdnow, "SELECT %s FROM s" % CLV_FITS,
                                   [lib]), "clv_cdnow")
        else:
            note("CDNOW fits skipped: %s is missing" % CDNOW)
    else:
        note("CLV fits skipped: clv_summary, bgnbd_fit, pareto_nbd_fit or"
             " gamma_gamma_fit not registered")
        info["clv"] = "skipped: not registered"

    # k-means: kmeans_select over k = 2..8 (each fit with its ten starts,
    # swaps and silhouette) on the first 100,000 customers' recency,
    # frequency and monetary value from rfm_score, log1p; the vectors are
    # made once, outside the timing
    if has_function(db, lib, "function", "kmeans_select"):
        kdb = kmeans_db(db, lib)
        add("k-means: kmeans_select k = 2..8, 100,000 customers", slow_runs,
            lambda: sqlite_run(kdb, "SELECT json_extract(kmeans_select("
                               "'kmin=2, kmax=8, transform=log1p', r, f, m),"
                               " '$.k') FROM c", [lib]), "kmeans")
    else:
        note("k-means skipped: kmeans_select not registered")

    # pandas
    pandas_ok = subprocess.run(["/usr/bin/python3", "-c", "import pandas"],
                               capture_output=True).returncode == 0
    if pandas_ok:
        res = []

        def pd_run():
            out, rss = run(["/usr/bin/python3",
                            os.path.join(HERE, "pandas_rfm.py"), db])
            j = json.loads(out)
            res.append(j)
            return (j["load"] + j["compute"], j["cpu_load"] + j["cpu_compute"],
                    rss, j)
        add("pandas: read_sql + groupby + qcut (total)", slow_runs, pd_run,
            "pandas")
        rss = rows[-1]["rss_kb"]
        rows.insert(len(rows) - 1, {
            "method": "pandas: read_sql (the copy)", "runs": slow_runs,
            "seconds": statistics.median(j["load"] for j in res),
            "cpu": statistics.median(j["cpu_load"] for j in res),
            "rss_kb": None})
        rows.insert(len(rows) - 1, {
            "method": "pandas: groupby + qcut", "runs": slow_runs,
            "seconds": statistics.median(j["compute"] for j in res),
            "cpu": statistics.median(j["cpu_compute"] for j in res),
            "rss_kb": None})
        rows[-1]["rss_kb"] = rss
        info["pandas_version"] = subprocess.run(
            ["/usr/bin/python3", "-c",
             "import pandas; print(pandas.__version__)"],
            capture_output=True, text=True).stdout.strip()
    else:
        note("pandas skipped: python3-pandas is not installed")

    # DuckDB
    duck_ok = shutil.which("node") and os.path.isdir(
        os.path.join(HERE, "node_modules", "@duckdb", "node-api"))
    if duck_ok:
        csv = os.path.join(DATA, "orders_%s.csv" % args.size)
        duckdb = os.path.join(DATA, "orders_%s.duckdb" % args.size)
        note("DuckDB: copy (CSV export + import)")
        t0 = time.perf_counter()
        _, rss1 = run([SQLITE3, "-csv", db, ".once " + csv,
                       "SELECT * FROM orders"])
        export_s = time.perf_counter() - t0
        out, rss2 = run(["node", os.path.join(HERE, "duck.mjs"), "import",
                         csv, duckdb], cwd=HERE)
        import_s = json.loads(out)["seconds"]
        rows.append({"method": "DuckDB: copy (sqlite3 CSV export + import)",
                     "runs": 1, "seconds": export_s + import_s, "cpu": None,
                     "rss_kb": max(rss1, rss2)})
        info["duckdb_copy"] = {"export": export_s, "import": import_s}

        def duck_run():
            out, rss = run(["node", os.path.join(HERE, "duck.mjs"), "query",
                            duckdb], cwd=HERE)
            j = json.loads(out)
            return j["seconds"], j["cpu"], rss, j
        add("DuckDB: recipe on its own copy", args.runs, duck_run, "duckdb")
        with open(os.path.join(HERE, "node_modules", "@duckdb", "node-api",
                               "package.json")) as f:
            info["duckdb_version"] = json.load(f)["version"]
        os.remove(csv)
    else:
        note("DuckDB skipped: run `npm install` in bench/ (needs node, npm)")

    check_ok, check, result_check = equality_check(db, lib, recipe)

    # The table.
    def find(prefix):
        for r in rows:
            if r["method"].startswith(prefix):
                return r
        return None
    gb = find("SQLite GROUP BY")["seconds"]
    rc = find("plain-SQL recipe")["seconds"]
    for r in rows:
        r["x_groupby"] = r["seconds"] / gb if gb else None
        r["x_recipe"] = r["seconds"] / rc if rc else None

    result = {"size": args.size, "orders": n_orders, "customers": n_cust,
              "machine": mach, "rows": rows, "info": info, "check": check,
              "check_detail": result_check,
              "check_ok": check_ok, "version": lib_version(lib),
              "date": time.strftime("%Y-%m-%d")}

    fetch = find("row-fetch floor")
    pd_row = find("pandas: read_sql + groupby")
    dk = find("DuckDB: recipe")
    targets = []
    floor_s = fetch["seconds"]
    tmp1 = find("rfm_score method=ntile, rows into a temp table")
    mint = find("minimal RFM program, rows into a temp table")
    rct = find("plain-SQL recipe, rows into a temp table")
    if tmp1:
        targets.append(("rfm_score into a temp table (one thread) / row-fetch"
                        " floor", "<= 1.25", tmp1["seconds"] / floor_s,
                        tmp1["seconds"] / floor_s <= 1.25))
    if mint:
        targets.append(("the minimal RFM program into a temp table / row-fetch"
                        " floor (the bound)", "<= 1.25",
                        mint["seconds"] / floor_s,
                        mint["seconds"] / floor_s <= 1.25))
    if tmp1 and rct:
        x = rct["seconds"] / tmp1["seconds"]
        targets.append(("plain-SQL recipe / rfm_score, both into a temp table",
                        ">= 5", x, x >= 5))
    for fn in SCANS + ("source_stats",):
        r = find("%s (one thread)" % fn) or find(fn)
        if r:
            targets.append(("%s / row-fetch floor" % fn, "<= 1.5",
                            r["seconds"] / floor_s,
                            r["seconds"] / floor_s <= 1.5))
    ntt = find("rfm_score method=ntile, PRAGMA threads=1")
    if dk and ntt:
        # both aggregate their rows (DuckDB's recipe prints sums)
        x = dk["seconds"] / ntt["seconds"]
        targets.append(("DuckDB on its copy / rfm_score (ntile, PRAGMA"
                        " threads=1), both aggregated", "> 1", x, x > 1))
    if pd_row:
        rank = find("rfm_score method=rank")
        x = pd_row["seconds"] / rank["seconds"]
        targets.append(("pandas total / rfm_score (rank)", ">= 10", x,
                        x >= 10))
    rank = find("rfm_score method=rank")
    clv = find("CLV: clv_summary")
    if clv and n_cust >= 1_000_000:
        targets.append(("CLV: clv_summary + the three fits, %s customers, s"
                        % format(n_cust, ","), "<= 3 s", clv["seconds"],
                        clv["seconds"] <= 3))
    cd = find("CLV: the three fits on CDNOW")
    if cd:
        targets.append(("CLV: the three fits on CDNOW, ms", "< 50 ms",
                        cd["seconds"] * 1000, cd["seconds"] < 0.05))
    bpc = (rank["rss_kb"] - fetch["rss_kb"]) * 1024.0 / n_cust
    targets.append(("rfm_score peak RSS beyond the fetch floor, bytes per"
                    " customer", "< 100", bpc, bpc < 100))
    result["targets"] = [{"what": t[0], "target": t[1], "value": t[2],
                          "met": t[3]} for t in targets]
    result["bytes_per_customer"] = bpc

    md = render(result)
    growth = None
    other = {"1m": "10m", "10m": "1m"}[args.size]
    other_file = os.path.join(DATA, "results_%s.json" % other)
    with open(os.path.join(DATA, "results_%s.json" % args.size), "w") as f:
        json.dump(result, f, indent=1)
    if os.path.exists(other_file):
        with open(other_file) as f:
            o = json.load(f)
        small, large = (result, o) if args.size == "1m" else (o, result)
        growth = render_growth(small, large)
        md += "\n" + growth
    with open(os.path.join(DATA, "results_%s.md" % args.size), "w") as f:
        f.write(md)
    write_results()
    print(md)
    if info.get("threads_differ"):
        return 1
    return 0 if check_ok else 1


def equality_check(db, lib, recipe):
    # The equality check: rfm_score method=ntile == the plain-SQL recipe.
    # Exact on customers, recency_days, frequency, r and f; monetary within
    # 1e-9 relative.  m must be equal too, except where the recipe's sum()
    # and rfm_score's compensated sum differ in the last bits (the sum() of
    # SQLite 3.40 adds naively), which can swap two customers of equal
    # spend at a tile boundary; so the NTILE(5) windows are also run on
    # rfm_score's own measures, and those must give its r, f, m exactly.
    note("checking rfm_score method=ntile against the plain-SQL recipe")
    check_sql = (
        "CREATE TEMP TABLE a AS SELECT customer, recency_days, frequency,"
        " monetary, r, f, m FROM rfm_score('orders', 'method=ntile');\n"
        "CREATE TEMP TABLE b AS %s;\n"
        "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b),"
        " (SELECT count(*) FROM (SELECT customer, recency_days, frequency,"
        "  r, f FROM a EXCEPT"
        "  SELECT customer_id, recency_days, frequency, r, f FROM b)),"
        " (SELECT count(*) FROM a JOIN b ON a.customer = b.customer_id"
        "  WHERE abs(a.monetary - b.monetary)"
        "        > 1e-9 * max(1.0, abs(b.monetary))),"
        " (SELECT count(*) FROM a JOIN b ON a.customer = b.customer_id"
        "  WHERE a.monetary <> b.monetary),"
        " (SELECT count(*) FROM a JOIN b ON a.customer = b.customer_id"
        "  WHERE a.m <> b.m),"
        " (SELECT count(*) FROM (SELECT customer, r, f, m FROM a EXCEPT"
        "  SELECT customer,"
        "   NTILE(5) OVER (ORDER BY recency_days DESC, customer),"
        "   NTILE(5) OVER (ORDER BY frequency, customer),"
        "   NTILE(5) OVER (ORDER BY monetary, customer) FROM a))"
        % recipe)
    _, _, _, out = sqlite_run(db, check_sql, [lib])
    na, nb, d_rf, d_tol, d_bits, d_m, d_own = (int(x) for x in
                                                out.split("|"))
    exact = na == nb and d_rf == 0 and d_tol == 0 and d_own == 0
    check_ok = exact and (d_m == 0 or d_bits > 0)
    verdict = "EQUAL" if exact and d_m == 0 else (
        "EQUAL up to float summation" if check_ok else "DIFFERENT")
    check = ("rfm_score method=ntile vs the plain-SQL recipe: %s.  %d and %d"
             " customers; %d differ in customer, recency_days, frequency, r"
             " or f; %d in monetary beyond 1e-9 relative; %d sums differ in"
             " the last bits and %d m scores differ with them; NTILE(5) on"
             " rfm_score's own measures differs from its scores for %d"
             % (verdict, na, nb, d_rf, d_tol, d_bits, d_m, d_own))
    result_check = {"customers": [na, nb], "differ_rf": d_rf,
                    "monetary_beyond_tolerance": d_tol,
                    "monetary_last_bits": d_bits, "differ_m": d_m,
                    "own_ntile_differs": d_own, "verdict": verdict}
    return check_ok, check, result_check


def fmt_ratio(x):
    return "" if x is None else "%.2f" % x


def render(res):
    m = res["machine"]
    out = []
    out.append("%s orders, %s customers; %s, %d cores, SQLite %s (%s);"
               " load average %s before the run\n"
               % (format(res["orders"], ","), format(res["customers"], ","),
                  m["cpu"], m["cores"], m["sqlite"], m["system"],
                  m.get("load", "?")))
    out.append("| method | runs | median s | CPU s | peak MB"
               " | x GROUP BY floor | x plain SQL |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in res["rows"]:
        mb = "" if r["rss_kb"] is None else "%.1f" % (r["rss_kb"] / 1024.0)
        cpu = "" if r.get("cpu") is None else "%.3f" % r["cpu"]
        out.append("| %s | %d | %.3f | %s | %s | %s | %s |"
                   % (r["method"], r["runs"], r["seconds"], cpu, mb,
                      fmt_ratio(r["x_groupby"]), fmt_ratio(r["x_recipe"])))
    out.append("")
    out.append(res["check"])
    out.append("")
    out.append("| target | wanted | measured | met |")
    out.append("|---|---|---:|---|")
    for t in res["targets"]:
        out.append("| %s | %s | %.2f | %s |" % (t["what"], t["target"],
                                               t["value"],
                                               "yes" if t["met"] else "NO"))
    for tag, what in (("clv", "CLV fits"),
                      ("clv_cdnow", "CLV fits on CDNOW")):
        if res["info"].get(tag):
            out.append("")
            out.append("%s: %s" % (what, clv_models(res["info"][tag])))
    return "\n".join(out) + "\n"


def clv_models(out):
    """The fits' JSON models (one output row, '|' between them) in a line:
    model, converged, log-likelihood; other text as it is."""
    parts = []
    for m in out.split("|"):
        try:
            j = json.loads(m)
        except ValueError:
            return out[:400]
        parts.append("%s converged %s, LL %.1f" % (
            j["model"], "true" if j["converged"] else "false",
            j["log_likelihood"]))
    return "; ".join(parts)


def render_growth(small, large):
    out = ["Growth from %s to %s orders (%s to %s customers):\n"
           % (format(small["orders"], ","), format(large["orders"], ","),
              format(small["customers"], ","),
              format(large["customers"], ",")),
           "| method | s at 1m | s at 10m | time x | MB at 1m | MB at 10m |",
           "|---|---:|---:|---:|---:|---:|"]
    lrows = {r["method"]: r for r in large["rows"]}
    for r in small["rows"]:
        o = lrows.get(r["method"])
        if not o or "CDNOW" in r["method"]:
            continue
        mb = lambda x: "" if x["rss_kb"] is None else \
            "%.1f" % (x["rss_kb"] / 1024.0)
        out.append("| %s | %.3f | %.3f | %.1f | %s | %s |"
                   % (r["method"], r["seconds"], o["seconds"],
                      o["seconds"] / r["seconds"] if r["seconds"] else 0,
                      mb(r), mb(o)))
    out.append("")
    out.append("rfm_score (rank) peak RSS beyond the fetch floor: %.0f bytes"
               " per customer at %s, %.0f at %s"
               % (small["bytes_per_customer"], small["size"],
                  large["bytes_per_customer"], large["size"]))
    return "\n".join(out) + "\n"


def lib_version(lib):
    """segment_version() of the library measured."""
    r = subprocess.run([SQLITE3, ":memory:", "-cmd", ".load " + lib,
                        "SELECT segment_version()"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def old_sections(path):
    """The sections of an existing RESULTS.md by their heading's order
    count ("10,000,000"), so that a size not run here keeps its last
    results."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        text = f.read()
    for m in re.finditer(r"^## ([0-9,]+) orders .*?(?=^## |\Z)", text,
                         re.M | re.S):
        out[m.group(1)] = m.group(0).rstrip("\n") + "\n"
    return out


def write_results():
    """bench/RESULTS.md: the latest table of each size (10m first), each
    under the date and libsegment version of its run; a size without
    results in bench/data (a fresh clone) keeps its section as it was."""
    path = os.path.join(HERE, "RESULTS.md")
    old = old_sections(path)
    parts = ["# Benchmark results\n",
             "Written by `make bench` (bench/run.py): the latest run of each"
             " size, `make bench SIZE=10m` first. How the methods are"
             " measured is in README.md, *Benchmark*.\n"]
    for size in ("10m", "1m"):
        fj = os.path.join(DATA, "results_%s.json" % size)
        fm = os.path.join(DATA, "results_%s.md" % size)
        if not (os.path.exists(fj) and os.path.exists(fm)):
            kept = old.get(format(SIZES[size][0], ","))
            if kept:
                parts.append(kept)
            continue
        with open(fj) as f:
            res = json.load(f)
        with open(fm) as f:
            body = f.read()
        parts.append("## %s orders (libsegment %s, %s)\n"
                     % (format(res["orders"], ","), res.get("version", "?"),
                        res.get("date", "?")))
        parts.append(body)
    with open(path, "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
