#!/usr/bin/python3
"""Cross-check rfm_score() and source_stats() against rfm_ref.py.

    LIBSEGMENT=path/to/libsegment /usr/bin/python3 test/xcheck/xcheck.py
        [--cases N] [--seed S] [--verbose] [--show CASE]

Generates random small source tables (deterministic seeds), runs the
extension and the reference with random options and compares row by row
(floats to a relative tolerance of 1e-9) and error status.  Prints one
summary line; exits 1 on any mismatch.
"""

import argparse
import math
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rfm_ref  # noqa: E402

REL_TOL = 1e-9
STATS = {'vtab': 0, 'calls': 0, 'both_error': 0, 'messages': 0, 'rows': 0}
SOURCE_OPTS = ('customer', 'date', 'amount', 'order', 'as_of', 'since',
               'on_error')

# ---------------------------------------------------------------- values


def fmt_date(rng, day, secs):
    """A valid text form of the instant (unix day, seconds in day)."""
    kind = rng.random()
    if kind < 0.25:
        return rfm_ref.day_text(day)
    # time forms, possibly with an offset: local = utc + offset
    off = 0
    tz = ''
    t = rng.random()
    if t < 0.2:
        tz = 'Z'
    elif t < 0.55:
        oh = rng.choice([0, 1, 2, 5, 9, 11, 12, 13, 14, 23])
        om = rng.choice([0, 0, 30, 45, 59])
        sign = rng.choice([1, -1])
        off = sign * (oh * 60 + om) * 60
        # as ISO writes it, or as shop exports do (+HHMM, after a space)
        tz = rng.choice(['%s%02d:%02d', '%s%02d%02d', ' %s%02d:%02d',
                         ' %s%02d%02d']) % ('+' if sign > 0 else '-', oh, om)
    total = day * 86400 + secs + off
    lday, lsec = divmod(total, 86400)
    hh, rem = divmod(lsec, 3600)
    mm, ss = divmod(rem, 60)
    sep = rng.choice(['T', ' '])
    f = rng.random()
    if f < 0.3:
        tm = '%02d:%02d' % (hh, mm)
    elif f < 0.7:
        tm = '%02d:%02d:%02d' % (hh, mm, ss)
    else:
        tm = '%02d:%02d:%02d.%s' % (hh, mm, ss, ''.join(
            rng.choice('0123456789') for _ in range(rng.randint(1, 9))))
    return rfm_ref.day_text(lday) + sep + tm + tz


def opt_date(rng, day):
    if rng.random() < 0.75:
        return rfm_ref.day_text(day)
    return fmt_date(rng, day, rng.choice([0, 60, 43200, 86340]))


def gen_date(rng, base, span):
    day = base + rng.randint(0, span)
    secs = rng.choice([0, 1, 59, 3599, 43200, 86399, rng.randint(0, 86399)])
    k = rng.random()
    if k < 0.6:
        return fmt_date(rng, day, secs)
    if k < 0.8:
        # REAL julian day
        if rng.random() < 0.5:
            secs += rng.randint(1, 998) / 1000.0
        jd = 2440587.5 + day + secs / 86400.0
        return jd
    return day * 86400 + secs  # INTEGER unix seconds


BAD_DATES = [
    '2024-02-30', '2023-02-29', '1900-02-29', '2024-13-01', '2024-00-10',
    '2024-01-00', '2024-04-31', '2024-1-05', '24-01-05', ' 2024-01-05',
    '2024-01-05 ', '20240105', '2024/01/05', '2024-01-05T', '2024-01-05 ',
    '2024-01-05T24:00', '2024-01-05T10:60', '2024-01-05T10:00:60',
    '2024-01-05Z', '2024-01-05+01:00', '2024-01-05T10:00:00.',
    '2024-01-05T10', '2024-01-05T1:00', '2024-01-05T10:00  +01:00',
    '2024-01-05T10:00 Z', '2024-01-05 -0500', '2024-01-05T10:00+010',
    '2024-01-05T10:00 +01', '2024-01-05T10:00+01:0', '2024-01-05T10:00\t+0100',
    '2024-01-05T10:00:00Z ', '2460000.5', '1700000000', 'yesterday', '',
    '2024-01-05T10:00+01', '2024-01-05t10:00', '2024-01-05T10:00z',
    '2024-01-05T10:00:00,5', '+2024-01-05', '2024-01-05T10:00:00+01:00:00',
    -1.0, -0.5, 5373484.5, 1e300, float('inf'), float('-inf'),
    253402300800, -210866760001, 2**62, -2**63,
    b'2024-01-05', b'',
]

EDGE_GOOD_DATES = [
    '2000-02-29', '2024-02-29', '1600-02-29', '0001-01-01', '9999-12-31',
    '9999-12-31T23:59:59.999999999', '0000-01-01', '2024-12-31T23:59:59Z',
    '2024-01-01T00:00+00:01', '2024-12-31T23:59-00:01',
    '2024-01-05T10:00+0100', '2024-01-15 10:23:45 -0500', '2024-01-15 10:23 +0530',
    0.0, 5373484.499, 2460000.5, 2459999.5,
    253402300799, -210866760000, 0, -1, 86399, 86400,
]


def gen_amount(rng, huge):
    k = rng.random()
    if k < 0.35:
        return rng.randint(0, 500)
    if k < 0.55:
        return round(rng.uniform(0, 300), 2)
    if k < 0.62:
        return rng.choice([None, ''])
    if k < 0.72:
        return -rng.choice([1, 5, 10.5, 20, 99.99, 300])
    if k < 0.85:
        return rng.choice(['12.50', ' 7 ', '+0.25', '.5', '5.', '1e2',
                           '-3.5', '0', '-0', '  8.25', '1E1', '100',
                           '99999999999999999999', '-.5', '2.5e-3'])
    if k < 0.9:
        return rng.choice([0, 0.0, -0.0, 1e-300])
    if huge:
        return rng.choice([1e300, 1.5e307, -1e300, 9.2e18, 2**63 - 1,
                           -2**63, 1e22, 3.4e38])
    return rng.randint(1, 50)


BAD_AMOUNTS = ['abc', '12,50', '0x10', '1e999', '-1e999', 'inf', 'NaN',
               '$5', '5 5', '1e', 'e5', '.', '+', '--1', b'\x01',
               float('inf'), float('-inf'), '1_000', '١٢', '   ']


def gen_customers(rng):
    n = rng.randint(1, 12)
    pool = []
    kinds = rng.random()
    for i in range(n):
        k = rng.random()
        if kinds < 0.3 or k < 0.4:
            pool.append(rng.randint(-3, 40))
        elif k < 0.55:
            pool.append(float(rng.randint(-3, 40)))
        elif k < 0.6:
            pool.append(rng.choice([2.5, -0.0, 1e20, 2**53, 2**53 + 1,
                                    9007199254740992.0, 2**63 - 1]))
        elif k < 0.85:
            pool.append(rng.choice(['1', '2', 'alice', 'Bob', 'bob', ' 1',
                                    '01', 'zoë', 'Zoe', '', 'a' * 30,
                                    '1.0', 'émile']))
        else:
            pool.append(rng.choice([b'1', b'alice', b'', b'\x00\xff']))
    return pool


USUAL_NAMES = {
    'customer': ['customer_id', 'customer', 'Customer_ID', 'CUSTOMER'],
    'date': ['ordered_at', 'order_date', 'date', 'created_at', 'Date'],
    'amount': ['amount', 'total', 'revenue', 'AMOUNT'],
}
ODD_NAMES = {
    'customer': ['cust no', 'client', 'who'],
    'date': ['when', 'ts', 'day of'],
    'amount': ['amt', 'price', 'net'],
}


def make_case(seed):
    rng = random.Random(seed)
    conn = sqlite3.connect(':memory:')
    load(conn)
    base = rfm_ref.days_from_civil(2023, 1, 1) + rng.randint(-400, 400)
    if rng.random() < 0.05:
        base = rng.choice([rfm_ref.days_from_civil(1000, 1, 1),
                           rfm_ref.days_from_civil(9999, 1, 1),
                           rfm_ref.days_from_civil(1600, 2, 1),
                           rfm_ref.days_from_civil(1969, 12, 20)])
    span = rng.choice([0, 1, 3, 30, 200, 600])
    skip = rng.random() < 0.5
    want_bad = rng.random() < (0.6 if skip else 0.15)
    huge = rng.random() < 0.1
    with_order = rng.random() < 0.3

    # columns
    names = {}
    opts = {}
    for what in ('customer', 'date', 'amount'):
        if rng.random() < 0.6:
            names[what] = rng.choice(USUAL_NAMES[what])
            if rng.random() < 0.15:
                opts[what] = names[what]
        else:
            names[what] = rng.choice(ODD_NAMES[what])
            opts[what] = names[what]
    extra = []
    if rng.random() < 0.2:
        # decoys: detection must take the first usual name present
        extra = rng.sample(['customer', 'created_at', 'total', 'revenue',
                            'order_date', 'note'], 2)
        extra = [e for e in extra
                 if e.lower() not in {v.lower() for v in names.values()}]
    if with_order:
        names['order'] = rng.choice(['order_id', 'ord'])
        opts['order'] = names['order']
    decl = {}
    if rng.random() < 0.15:
        decl['amount'] = rng.choice(['REAL', 'NUMERIC', 'INTEGER', 'TEXT'])
    if rng.random() < 0.1:
        decl['customer'] = rng.choice(['INTEGER', 'TEXT', 'REAL'])
    colspec = []
    order_cols = []
    for what in ('customer', 'date', 'amount', 'order'):
        if what in names:
            colspec.append('%s %s' % (q(names[what]), decl.get(what, '')))
            order_cols.append(what)
    for e in extra:
        colspec.append(q(e))
    rng.shuffle(colspec)
    conn.execute('CREATE TABLE src(%s)' % ', '.join(colspec))

    custs = gen_customers(rng)
    nrows = rng.choice([0, 1, 2, 5, 10, 20, 40, 60])
    oids = [rng.randint(1, 6) for _ in range(4)] + ['A', 'B', 1.0, None]
    rows = []
    for _ in range(nrows):
        c = rng.choice(custs) if rng.random() > 0.05 else None
        if rng.random() < 0.03:
            c = rng.choice(custs)
            c = float(c) if isinstance(c, int) and abs(c) < 2**53 else c
        d = gen_date(rng, base, span)
        if rng.random() < 0.04:
            d = None
        if rng.random() < 0.02:
            d = rng.choice(EDGE_GOOD_DATES)
        if want_bad and rng.random() < 0.1:
            d = rng.choice(BAD_DATES)
        a = gen_amount(rng, huge)
        if want_bad and rng.random() < 0.08:
            a = rng.choice(BAD_AMOUNTS)
        row = {'customer': c, 'date': d, 'amount': a}
        if with_order:
            row['order'] = rng.choice(oids)
        rows.append(row)
    cols = [names[w] for w in order_cols]
    conn.executemany(
        'INSERT INTO src(%s) VALUES(%s)' % (', '.join(q(c) for c in cols),
                                             ', '.join('?' * len(cols))),
        [[r[w] for w in order_cols] for r in rows])
    source = 'src'
    if rng.random() < 0.15:
        conn.execute('CREATE VIEW v AS SELECT * FROM src')
        source = 'v'

    # options
    if skip:
        opts['on_error'] = 'skip'
    if rng.random() < 0.3:
        opts['as_of'] = opt_date(rng, base + rng.randint(-5, span + 5))
    if rng.random() < 0.2:
        opts['since'] = opt_date(rng, base + rng.randint(-5, span // 2 + 1))
    r = rng.random()
    if r < 0.3:
        opts['method'] = 'ntile'
    elif r < 0.6:
        opts['method'] = 'quantile'
    elif r < 0.75:
        opts['method'] = 'rank'
    if rng.random() < 0.5:
        opts['bins'] = str(rng.randint(1, 9))
    if rng.random() < 0.2:
        opts['monetary'] = 'average'
    if rng.random() < 0.15:
        k = rng.randint(1, 5)
        opts.pop('bins', None)
        if rng.random() < 0.2:
            opts['bins'] = str(k + 1)
        for which in rng.sample(['r', 'f', 'm'], rng.randint(1, 3)):
            if which == 'r':
                b = sorted(rng.sample(range(0, 400), k))
            elif which == 'f':
                b = sorted(rng.sample(range(1, 12), k))
            else:
                b = sorted(rng.sample([-50, 0, 10, 25.5, 50, 100, 250,
                                       500, 1000, 1e6], k))
            opts[which + '_breaks'] = ','.join(
                ('%g' % x) for x in b)
    return conn, source, opts


def q(name):
    return '"' + name.replace('"', '""') + '"'


LIB = os.environ.get('LIBSEGMENT', './libsegment')


def load(conn):
    conn.enable_load_extension(True)
    conn.load_extension(LIB)
    conn.enable_load_extension(False)


# ---------------------------------------------------------------- running


def spell(rng, k, v):
    """key=value with the liberties detail 6 allows (case, spaces)."""
    if rng.random() < 0.3:
        k = ''.join(ch.upper() if rng.random() < 0.5 else ch for ch in k)
    if k.lower() in ('method', 'monetary', 'on_error') and rng.random() < 0.3:
        v = v.upper()
    sp = lambda: rng.choice(['', '', ' ', '  '])  # noqa: E731
    return k, v, sp(), sp(), sp()


def run_lib(conn, func, source, opts, form_seed=None):
    rng = random.Random(form_seed)
    parts = [spell(rng, k, v) for k, v in opts.items()]
    try:
        if form_seed is not None and rng.random() < 0.2:
            # CREATE VIRTUAL TABLE form, values quoted when they need it
            def quote(v):
                if all(ch.isalnum() or ch in '_-.:' for ch in v) and \
                        v[:1].isalpha():
                    return v
                return "'" + v.replace("'", "''") + "'"
            args = ['source=%s' % quote(source)] + [
                '%s%s=%s%s' % (k, a, b, quote(v)) for k, v, a, b, _ in parts]
            conn.execute('DROP TABLE IF EXISTS temp.xc')
            conn.execute('CREATE VIRTUAL TABLE temp.xc USING %s(%s)'
                         % (func, ', '.join(args)))
            cur = conn.execute('SELECT * FROM temp.xc')
            STATS['vtab'] += 1
        else:
            params = [source] + ['%s%s%s=%s%s' % (a, k, b, c, v)
                                 for k, v, a, b, c in parts]
            sql = 'SELECT * FROM %s(%s)' % (func, ', '.join(['?'] *
                                                            len(params)))
            cur = conn.execute(sql, params)
        rows = [list(r) for r in cur.fetchall()]
        return None, rows
    except sqlite3.Error as e:
        return str(e), None


def run_ref(fn, conn, source, opts):
    try:
        return None, fn(conn, source, opts)
    except rfm_ref.RefError as e:
        return e, None


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, (str, bytes)) or \
                isinstance(b, (str, bytes)):
            return False
        if type(a) is not type(b):
            return False
        if a == b:
            return True
        return abs(a - b) <= REL_TOL * max(abs(a), abs(b))
    return type(a) is type(b) and a == b


def compare_rows(got, exp, names, mixed=frozenset()):
    """List of difference strings."""
    diffs = []
    if len(got) != len(exp):
        diffs.append('row count: got %d, expected %d' % (len(got), len(exp)))
    for i, (g, e) in enumerate(zip(got, exp)):
        for j, name in enumerate(names):
            gv, ev = g[j], e[j]
            if name == 'customer' and rfm_ref.group_key(ev) in mixed and \
                    isinstance(gv, (int, float)) and gv == ev:
                continue
            if not same_value(gv, ev):
                diffs.append('row %d %s: got %r, expected %r'
                             % (i + 1, name, gv, ev))
    return diffs


def check_case(seed, verbose=False):
    conn, source, opts = make_case(seed)
    results = []
    for func, fn, names in (('rfm_score', rfm_ref.rfm_score, rfm_ref.COLUMNS),
                            ('source_stats', rfm_ref.source_stats,
                             rfm_ref.STATS)):
        o = opts
        if func == 'source_stats':
            o = {k: v for k, v in opts.items() if k in SOURCE_OPTS}
        lerr, lrows = run_lib(conn, func, source, o, seed)
        rerr, rrows = run_ref(fn, conn, source, o)
        STATS['calls'] += 1
        if lerr or rerr:
            if bool(lerr) != bool(rerr):
                results.append((func, ['error status: lib %r, ref %r'
                                       % (lerr, str(rerr) if rerr else None)]))
                continue
            STATS['both_error'] += 1
            want = rerr.expected_message(func)
            if want is not None:
                STATS['messages'] += 1
                if lerr != want:
                    results.append((func, ['error message: lib %r, expected %r'
                                           % (lerr, want)]))
            elif rerr.kind == 'amount':
                STATS['messages'] += 1
                if rerr.column not in lerr or rerr.where not in lerr:
                    results.append((func, ['amount error message %r does not '
                                           'name %r and %r' % (lerr,
                                           rerr.column, rerr.where)]))
            continue
        STATS['rows'] += len(lrows)
        if func == 'source_stats':
            rrows = [rrows]
            mixed = frozenset()
        else:
            mixed = rfm_ref.mixed_numeric_customers(conn, source, opts)
        d = compare_rows(lrows, rrows, names, mixed)
        if d:
            results.append((func, d))
    return conn, source, opts, results


def dump_case(seed):
    conn, source, opts, results = check_case(seed)
    print('seed %d source %s options %r' % (seed, source, opts))
    print(conn.execute("SELECT sql FROM sqlite_master WHERE name='src'")
          .fetchone()[0])
    cur = conn.execute('SELECT rowid, * FROM src')
    print([d[0] for d in cur.description])
    for r in cur.fetchall():
        print('  ', r)
    for func, diffs in results:
        for d in diffs:
            print('  %s: %s' % (func, d))
    # rows classified differently, one-row tables under the same as_of
    so = {k: v for k, v in opts.items() if k in SOURCE_OPTS}
    st = run_ref(rfm_ref.source_stats, conn, source, so)[1]
    if st and st[-1] and 'as_of' not in so:
        so['as_of'] = st[-1]
    cols = [r[1] for r in conn.execute('PRAGMA table_info(src)')]
    for r in conn.execute('SELECT rowid, * FROM src').fetchall():
        c1 = sqlite3.connect(':memory:')
        load(c1)
        c1.execute('CREATE TABLE src(%s)' % ', '.join(q(c) for c in cols))
        c1.execute('INSERT INTO src VALUES(%s)' % ','.join('?' * len(cols)),
                   r[1:])
        a = run_lib(c1, 'source_stats', 'src', so)
        b = run_ref(rfm_ref.source_stats, c1, 'src', so)
        if bool(a[0]) != bool(b[0]) or (a[1] and a[1][0][:10] != b[1][:10]):
            print('  row differs:', r, 'lib', a, 'ref', b)
        c1.close()
    for func in ('rfm_score', 'source_stats'):
        print(func, 'lib:', run_lib(conn, func, source, opts))
    print('rfm_score ref:', run_ref(rfm_ref.rfm_score, conn, source, opts))
    print('source_stats ref:', run_ref(rfm_ref.source_stats, conn, source,
                                       opts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cases', type=int, default=40000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--seconds', type=float, default=50)
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--show', type=int)
    a = ap.parse_args()
    if a.show is not None:
        dump_case(a.show)
        return 0
    t0 = time.time()
    n = bad = 0
    errors_expected = 0
    for i in range(a.cases):
        seed = a.seed * 1000003 + i
        conn, source, opts, results = check_case(seed)
        n += 1
        if results:
            bad += 1
            if bad <= 20 or a.verbose:
                for func, diffs in results:
                    print('seed %d %s %r: %s' % (seed, func, opts,
                                                 '; '.join(diffs[:4])))
        conn.close()
        if time.time() - t0 > a.seconds:
            break
    print('xcheck: %d cases (%d calls, %d as CREATE VIRTUAL TABLE, %d rows '
          'compared, %d errors on both sides, %d messages checked), '
          '%d mismatched, %.1f s'
          % (n, STATS['calls'], STATS['vtab'], STATS['rows'],
             STATS['both_error'],
             STATS['messages'], bad, time.time() - t0))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
