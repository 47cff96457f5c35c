#!/usr/bin/python3
"""Reference implementation of rfm_score() and source_stats() from DESIGN.md.

Written from DESIGN.md sections 2 and 3 and "Details every table-valued
function shares" only, to cross-check the C implementation.  Standard
library only.

    import rfm_ref
    rows = rfm_ref.rfm_score(conn, 'orders', {'as_of': '2024-12-31'})
    row  = rfm_ref.source_stats(conn, 'orders', {})

Option dicts use lower-case keys: customer, date, amount, order, as_of,
since, on_error, bins, method, monetary, r_breaks, f_breaks, m_breaks.
Errors are raised as RefError (only whether an error happens is compared).
"""

import math
import re
from fractions import Fraction

COLUMNS = ['customer', 'first_date', 'last_date', 'recency_days',
           'frequency', 'monetary', 'avg_order_value', 'r', 'f', 'm', 'rfm',
           'segment']
STATS = ['rows', 'used', 'null_customer', 'null_date', 'bad_date',
         'bad_amount', 'after_as_of', 'refunds', 'refund_only', 'customers',
         'first_date', 'last_date', 'as_of', 'orders', 'order_column']

USUAL = {
    'customer': ['customer_id', 'customer'],
    'date': ['ordered_at', 'order_date', 'date', 'created_at'],
    'amount': ['amount', 'total', 'revenue'],
    'order': ['order_id', 'orderid', 'order_number', 'order_no', 'invoice_id',
              'invoice_no', 'invoiceno', 'invoice_number', 'invoice'],
}


class RefError(Exception):
    def __init__(self, msg, kind=None, column=None, value=None, where=None):
        Exception.__init__(self, msg)
        self.kind = kind
        self.column = column
        self.value = value
        self.where = where

    def expected_message(self, func):
        """The message DESIGN section 7 shows, for a TEXT bad date."""
        if self.kind == 'date' and isinstance(self.value, str):
            return '%s(): cannot parse date \'%s\' in column %s (%s)' % (
                func, self.value, self.column, self.where)
        return None


class BadDate(Exception):
    pass


class BadAmount(Exception):
    pass


# ---------------------------------------------------------------- dates
# Days are counted from 1970-01-01 (unix day numbers), proleptic Gregorian.

def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def day_text(day):
    """The day as SQLite's date() writes it."""
    if day is None:
        return None
    y, m, d = civil_from_days(day)
    if y < 0:
        return '-%04d-%02d-%02d' % (-y, m, d)
    return '%04d-%02d-%02d' % (y, m, d)


def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


MDAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

DATE_RE = re.compile(
    r'(\d{4})-(\d{2})-(\d{2})'
    r'(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?'
    r'(Z| ?[+-](\d{2}):?(\d{2}))?)?\Z', re.ASCII)

JD_UNIX_EPOCH = 2440587.5          # julian day of 1970-01-01 00:00 UTC
JD_MAX = 5373484.5                 # exclusive upper bound (10000-01-01)
UNIX_MIN = -210866760000           # julian day 0
UNIX_MAX = 253402300800            # exclusive: julian day 5373484.5
DAY_MIN = -2440588                 # unix day of julian day 0 (-4713-11-24)
DAY_MAX = 2932896                  # unix day of 9999-12-31


def parse_date(v):
    """Unix day number of a value of the date column (detail 1)."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        if v < UNIX_MIN or v >= UNIX_MAX:
            raise BadDate()
        return v // 86400
    if isinstance(v, float):
        if not (v >= 0.0 and v < JD_MAX):
            raise BadDate()
        # v + 0.5 is exact: v < 2^23 has an ulp of at most 2^-29.
        return int(math.floor(v + 0.5)) - 2440588
    if isinstance(v, str):
        mt = DATE_RE.match(v)
        if not mt:
            raise BadDate()
        y, mo, d = int(mt.group(1)), int(mt.group(2)), int(mt.group(3))
        if mo < 1 or mo > 12:
            raise BadDate()
        dim = 29 if (mo == 2 and is_leap(y)) else MDAYS[mo - 1]
        if d < 1 or d > dim:
            raise BadDate()
        day = days_from_civil(y, mo, d)
        if mt.group(4) is not None:
            hh, mm = int(mt.group(4)), int(mt.group(5))
            ss = int(mt.group(6)) if mt.group(6) is not None else 0
            if hh > 23 or mm > 59 or ss > 59:
                raise BadDate()
            tz = mt.group(8)
            if tz is not None and tz != 'Z':
                oh, om = int(mt.group(9)), int(mt.group(10))
                if oh > 23 or om > 59:
                    raise BadDate()
                off = oh * 60 + om
                if tz.lstrip(' ')[0] == '-':
                    off = -off
                minutes = hh * 60 + mm - off
                day += minutes // 1440
        if day < DAY_MIN or day > DAY_MAX:
            raise BadDate()
        return day
    raise BadDate()


def parse_option_day(text):
    try:
        return parse_date(text.strip())
    except BadDate:
        raise RefError('bad date option %r' % text)


# ---------------------------------------------------------------- amounts

AMOUNT_RE = re.compile(r'[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z',
                       re.ASCII)


def parse_amount(v):
    """None for an unknown amount, else a float; BadAmount (detail 4)."""
    if v is None:
        return None
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return float(v)
    if isinstance(v, float):
        if math.isinf(v) or math.isnan(v):
            raise BadAmount()
        return v
    if isinstance(v, str):
        if v == '':
            return None
        t = v.strip(' ')
        if not AMOUNT_RE.match(t):
            raise BadAmount()
        x = float(t)
        if math.isinf(x):
            raise BadAmount()
        return x
    raise BadAmount()


# ---------------------------------------------------------------- ordering

def sort_key(v):
    """SQLite ORDER BY under BINARY collation."""
    if v is None:
        return (0, 0)
    if isinstance(v, (int, float)):
        return (1, v)         # Python compares int and float exactly
    if isinstance(v, str):
        return (2, v.encode('utf-8'))
    return (3, bytes(v))


def group_key(v):
    """Values equal under SQLite's '=' (BINARY) share a key."""
    if isinstance(v, (int, float)):
        return ('n', v)       # 1 == 1.0 and hash(1) == hash(1.0)
    if isinstance(v, str):
        return ('t', v)
    return ('b', bytes(v))


# ---------------------------------------------------------------- options

def _qid(name):
    return '"' + name.replace('"', '""') + '"'


def resolve_columns(conn, table, opts):
    cols = [r[1] for r in conn.execute('PRAGMA table_info(%s)' % _qid(table))]
    if not cols:
        raise RefError('no such table')
    low = {}
    for c in cols:
        low.setdefault(c.lower(), c)
    out = {}
    for what in ('customer', 'date', 'amount', 'order'):
        if what == 'order' and (opts.get(what) or '').lower() == 'none':
            out[what] = None
        elif opts.get(what) is not None:
            name = opts[what]
            if name.lower() not in low:
                raise RefError('no such column %s' % name)
            out[what] = low[name.lower()]
        else:
            for cand in USUAL[what]:
                if cand in low:
                    out[what] = low[cand]
                    break
            else:
                if what == 'order':
                    out[what] = None       # optional: each row an order
                else:
                    raise RefError('cannot decide %s column' % what)
    return out


def parse_breaks(text):
    parts = [p.strip() for p in text.split(',')]
    vals = []
    for p in parts:
        if not AMOUNT_RE.match(p):
            raise RefError('bad breaks %r' % text)
        vals.append(float(p))
    for a, b in zip(vals, vals[1:]):
        if not a < b:
            raise RefError('breaks not ascending %r' % text)
    return vals


# ---------------------------------------------------------------- reading

class Cust:
    __slots__ = ('value', 'types', 'orders', 'order_ids', 'known_ids',
                 'known', 'amounts', 'first', 'last', 'refunds')

    def __init__(self, value):
        self.value = value
        self.types = set()
        self.orders = 0            # order rows without an order id scheme
        self.order_ids = set()
        self.known_ids = set()
        self.known = 0
        self.amounts = []
        self.first = None
        self.last = None
        self.refunds = 0


def read_source(conn, table, opts, count_only=False):
    """Returns (stats dict, list of Cust output in ORDER BY order).  Unless
    count_only (source_stats), on_error=skip that skips every row with a
    customer and a date is an error."""
    cols = resolve_columns(conn, table, opts)
    skip = (opts.get('on_error') or '').lower() == 'skip'
    # Options are checked before the scan.
    opt_as_of = parse_option_day(opts['as_of']) \
        if opts.get('as_of') is not None else None
    since = parse_option_day(opts['since']) \
        if opts.get('since') is not None else None
    # DESIGN is silent; the extension rejects an explicit since= later than
    # an explicit as_of= (a since= later than the default as_of just
    # leaves every row out).  The reference does the same.
    if opt_as_of is not None and since is not None and since > opt_as_of:
        raise RefError('since= is later than as_of=')
    sel = [cols['customer'], cols['date'], cols['amount']]
    if cols['order']:
        sel.append(cols['order'])
    is_view = conn.execute("SELECT type FROM sqlite_master WHERE name = ?",
                           (table,)).fetchone()[0] == 'view'
    sql = 'SELECT %s%s FROM %s' % ('' if is_view else 'rowid, ',
                                   ', '.join(_qid(c) for c in sel),
                                   _qid(table))
    rows = conn.execute(sql).fetchall()
    if is_view:
        rows = [('row %d' % (i + 1),) + r for i, r in enumerate(rows)]
    else:
        rows = [('rowid %d' % r[0],) + r[1:] for r in rows]

    st = dict.fromkeys(STATS, 0)
    st['first_date'] = st['last_date'] = st['as_of'] = None
    st['rows'] = len(rows)

    # Pass 1: classify rows up to the date/amount checks.
    parsed = []
    for row in rows:
        where, row = row[0], row[1:]
        cust, dv, av = row[0], row[1], row[2]
        oid = row[3] if cols['order'] else None
        # detail 5: empty or all-space (U+0020) TEXT is a NULL customer
        if cust is None or (isinstance(cust, str) and cust.strip(' ') == ''):
            st['null_customer'] += 1
            continue
        if dv is None:
            st['null_date'] += 1
            continue
        try:
            day = parse_date(dv)
        except BadDate:
            if not skip:
                raise RefError('bad date %r' % (dv,), kind='date',
                               column=cols['date'], value=dv, where=where)
            st['bad_date'] += 1
            continue
        try:
            amt = parse_amount(av)
            bad = False
        except BadAmount:
            if not skip:
                raise RefError('bad amount %r' % (av,), kind='amount',
                               column=cols['amount'], value=av, where=where)
            amt, bad = None, True
        parsed.append((cust, day, amt, oid, bad))

    # as_of: default is the latest day among usable rows (non-NULL
    # customer, valid date).
    if opt_as_of is not None:
        as_of = opt_as_of
    elif parsed:
        as_of = max(p[1] for p in parsed)
    else:
        as_of = None
    st['as_of'] = day_text(as_of)

    custs = {}
    for cust, day, amt, oid, bad in parsed:
        if bad:
            st['bad_amount'] += 1
            continue
        if (as_of is not None and day > as_of) or \
                (since is not None and day < since):
            st['after_as_of'] += 1
            continue
        st['used'] += 1
        k = group_key(cust)
        c = custs.get(k)
        if c is None:
            c = custs[k] = Cust(cust)
        c.types.add(type(cust))
        if amt is not None:
            c.amounts.append(amt)
        if amt is not None and amt < 0:
            st['refunds'] += 1
            c.refunds += 1
            continue
        # an order row
        if cols['order'] and oid is not None:
            c.order_ids.add(group_key(oid))
            if amt is not None:
                c.known_ids.add(group_key(oid))
        else:
            c.orders += 1
            if amt is not None:
                c.known += 1
        c.first = day if c.first is None else min(c.first, day)
        c.last = day if c.last is None else max(c.last, day)

    if skip and not count_only and st['used'] + st['after_as_of'] == 0 \
            and st['bad_date'] + st['bad_amount'] > 0:
        raise RefError('on_error=skip skipped every row')
    st['orders'] = sum(c.orders + len(c.order_ids) for c in custs.values())
    st['order_column'] = cols['order']
    out = []
    for c in custs.values():
        if c.first is None:
            st['refund_only'] += 1
            continue
        out.append(c)
    out.sort(key=lambda c: sort_key(c.value))
    st['customers'] = len(out)
    if out:
        st['first_date'] = day_text(min(c.first for c in out))
        st['last_date'] = day_text(max(c.last for c in out))
    return st, out, as_of


def source_stats(conn, table, opts):
    st, _, _ = read_source(conn, table, opts, count_only=True)
    return [st[k] for k in STATS]


# ---------------------------------------------------------------- scoring

def r_type7(xs, p):
    """R's quantile(x, p, type = 7) on sorted xs, R's double arithmetic."""
    n = len(xs)
    index = 1 + max(n - 1, 0) * p
    lo = math.floor(index)
    hi = math.ceil(index)
    qs = xs[lo - 1]
    xhi = xs[hi - 1]
    if index > lo and xhi != qs:
        h = index - lo
        qs = (1 - h) * qs + h * xhi
    return qs


def score_rank(vals, bins, higher_better):
    n = len(vals)
    srt = sorted(vals)
    import bisect
    out = []
    for v in vals:
        if higher_better:
            w = bisect.bisect_left(srt, v)
        else:
            w = n - bisect.bisect_right(srt, v)
        out.append(1 + (bins * w) // n)
    return out


def score_ntile(vals, keys, bins, higher_better):
    n = len(vals)
    idx = list(range(n))
    # worst first; ties by customer (ORDER BY measure [DESC], customer)
    if higher_better:
        idx.sort(key=lambda i: (vals[i], keys[i]))
    else:
        idx.sort(key=lambda i: (-vals[i], keys[i]))
    q, rem = divmod(n, bins)
    out = [0] * n
    pos = 0
    for t in range(1, bins + 1):
        size = q + (1 if t <= rem else 0)
        for _ in range(size):
            if pos < n:
                out[idx[pos]] = t
                pos += 1
    return out


def score_quantile(vals, bins, higher_better):
    xs = sorted(vals)
    step = 1 / bins
    breaks = [r_type7(xs, k * step) + 1 for k in range(1, bins)]
    out = []
    for v in vals:
        i = 1 + sum(1 for b in breaks if b <= v)
        i = min(i, bins)
        out.append(i if higher_better else bins + 1 - i)
    return out


def score_breaks(vals, breaks, higher_better):
    bins = len(breaks) + 1
    out = []
    for v in vals:
        i = 1 + sum(1 for b in breaks if b <= v)
        out.append(i if higher_better else bins + 1 - i)
    return out


STANDARD = {
    'Champions': '555 554 544 545 454 455 445',
    'Loyal': '543 444 435 355 354 345 344 335',
    'Potential Loyalist': '553 551 552 541 542 533 532 531 452 451 442 441 '
                          '431 453 433 432 423 353 352 351 342 341 333 323',
    'New Customers': '512 511 422 421 412 411 311',
    'Promising': '525 524 523 522 521 515 514 513 425 424 413 414 415 315 '
                 '314 313',
    'Need Attention': '535 534 443 434 343 334 325 324',
    'About To Sleep': '331 321 312 221 213 231 241 251',
    'At Risk': '255 254 245 244 253 252 243 242 235 234 225 224 153 152 145 '
               '143 142 135 134 133 125 124',
    'Cannot Lose Them': '155 154 144 214 215 115 114 113',
    'Hibernating': '332 322 233 232 223 222 132 123 122 212 211',
    'Lost': '111 112 121 131 141 151',
}
CELL = {}
for _seg, _cells in STANDARD.items():
    for _c in _cells.split():
        CELL[_c] = _seg
assert len(CELL) == 125


def standard_segment(r, f, m, bins):
    if bins != 5:
        r, f, m = (1 + (5 * (s - 1)) // bins for s in (r, f, m))
    return CELL['%d%d%d' % (r, f, m)]


def fsum_exact(xs):
    """Correctly rounded sum; RefError when it overflows (not used: DESIGN
    asks for compensated summation, which is not always correctly
    rounded)."""
    if not xs:
        return 0.0
    s = sum((Fraction(x) for x in xs), Fraction(0))
    try:
        r = float(s)
    except OverflowError:
        raise RefError('monetary overflow')
    if math.isinf(r):
        raise RefError('monetary overflow')
    return r


def sum_kbn(xs):
    """Kahan-Babuska-Neumaier compensated sum in scan order (detail 4:
    "the net sum (compensated summation)"); a running sum that leaves the
    doubles is an overflow (DESIGN: "a sum that overflows is an error
    naming the customer")."""
    s = 0.0
    c = 0.0
    for x in xs:
        t = s + x
        if math.isinf(t):
            raise RefError('monetary overflow')
        if abs(s) >= abs(x):
            c += (s - t) + x
        else:
            c += (x - t) + s
        s = t
    r = s + c
    if math.isinf(r):
        raise RefError('monetary overflow')
    return r


def rfm_score(conn, table, opts):
    bins_opt = opts.get('bins')
    method = (opts.get('method') or 'rank').lower()
    if method not in ('rank', 'ntile', 'quantile'):
        raise RefError('bad method')
    brk = {}
    for k in ('r', 'f', 'm'):
        if opts.get(k + '_breaks') is not None:
            brk[k] = parse_breaks(opts[k + '_breaks'])
    if bins_opt is not None:
        bins = int(bins_opt)
        if bins < 1 or bins > 9:
            raise RefError('bad bins')
    else:
        bins = None
    for k, b in brk.items():
        if bins is None:
            bins = len(b) + 1
        elif bins != len(b) + 1:
            raise RefError('bins disagree with breaks')
        if not 1 <= len(b) + 1 <= 9:
            raise RefError('bad breaks length')
    if bins is None:
        bins = 5
    mon_avg = (opts.get('monetary') or 'total').lower() == 'average'

    st, custs, as_of = read_source(conn, table, opts)
    rows = []
    for c in custs:
        monetary = sum_kbn(c.amounts)
        known = c.known + len(c.known_ids)
        freq = c.orders + len(c.order_ids)
        aov = monetary / known if known else None
        rows.append([c.value, day_text(c.first), day_text(c.last),
                     as_of - c.last, freq, monetary, aov])
    n = len(rows)
    if n == 0:
        return []
    keys = [sort_key(r[0]) for r in rows]
    measures = {
        'r': ([r[3] for r in rows], False),
        'f': ([r[4] for r in rows], True),
        'm': ([(r[6] if mon_avg else r[5]) for r in rows], True),
    }
    scores = {}
    for k, (vals, hb) in measures.items():
        # A NULL (avg_order_value with no known amount) is worse than every
        # value under every method and scores 1; it counts among the
        # customers (below every value for rank, first for ntile), and
        # quantile breaks are those of the non-NULL values (README, rfm_score).
        isnull = [v is None for v in vals]
        vals = [(-math.inf if v is None else v) for v in vals]
        if k in brk:
            sc = score_breaks(vals, brk[k], hb)
        elif method == 'rank':
            sc = score_rank(vals, bins, hb)
        elif method == 'ntile':
            sc = score_ntile(vals, keys, bins, hb)
        else:
            known = [v for v, n in zip(vals, isnull) if not n]
            it = iter(score_quantile(known, bins, hb) if known else [])
            sc = [1 if n else next(it) for n in isnull]
        scores[k] = [1 if n else x for x, n in zip(sc, isnull)]
    out = []
    for i, r in enumerate(rows):
        rs, fs, ms = scores['r'][i], scores['f'][i], scores['m'][i]
        out.append(r + [rs, fs, ms, 100 * rs + 10 * fs + ms,
                        standard_segment(rs, fs, ms, bins)])
    return out


def mixed_numeric_customers(conn, table, opts):
    """Group keys whose rows mix INTEGER and REAL values (either may be
    returned as the customer's value)."""
    _, custs, _ = read_source(conn, table, opts)
    return {group_key(c.value) for c in custs if len(c.types) > 1}
