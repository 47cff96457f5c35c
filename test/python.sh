#!/usr/bin/env bash
# test/python.sh: the Python package (python/).  Builds and installs it
# offline (pip --no-build-isolation --no-index, Debian's setuptools) into a
# fresh venv of /usr/bin/python3, from a copy of python/ and ext/ (the
# build writes into its source folder), then runs rfm_score on a small
# table through Python's sqlite3 (sqlite_segment.load) and through sqlite-utils
# (--load-extension with sqlite_segment.loadable_path()), and compares both
# with the sqlite3 shell.  Needs .ci/deps pkg (skips, saying why, without
# sqlite-utils).  Prints "python: N passed, M failed" last.
set -u
cd "$(dirname "$0")/.."
root=$PWD
SQLITE3=${SQLITE3:-sqlite3}
PY=/usr/bin/python3
version=$(make -s --no-print-directory version)
. test/checks.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cp -r python ext "$tmp/src/"
rm -rf "$tmp/src/python/build" "$tmp/src/python/"*.egg-info

# --system-site-packages: Debian's setuptools and wheel, no network.
$PY -m venv --system-site-packages "$tmp/venv" || { bad python-1.0 "venv failed"; exit 1; }
vpy=$tmp/venv/bin/python
if "$vpy" -m pip install -v --no-build-isolation --no-index "$tmp/src/python" >"$tmp/log" 2>&1; then
  ok python-1.1
else
  cat "$tmp/log"; bad python-1.1 "pip install failed"
  echo "python: $pass passed, $fail failed"; exit 1
fi
grep -E "\.c:[0-9]+:[0-9]+: warning:" "$tmp/log" && bad python-1.2 "compiler warnings" || ok python-1.2

# the module's name is not the library's: it imports beside ./libsegment.so
check python-1.5 "$version" "$("$vpy" -c 'import sqlite_segment; print(sqlite_segment.__version__)')"
cd "$tmp"
check python-1.3 "$version" "$("$vpy" -c 'import sqlite_segment; print(sqlite_segment.__version__)')"
lp=$("$vpy" -c 'import sqlite_segment; print(sqlite_segment.loadable_path())')
case "$lp" in "$tmp/venv/"*/sqlite_segment/libsegment) ok python-1.4 ;; *) bad python-1.4 "loadable_path() = $lp" ;; esac

# A small table, as the examples' shop would have it.
$SQLITE3 db.sqlite "CREATE TABLE orders(customer_id, ordered_at, amount);
  INSERT INTO orders VALUES (1,'2024-01-05',10),(1,'2024-03-01',25.5),
  (2,'2024-02-10',7),(3,'2024-03-20 10:00:00',100),(3,'2024-03-21',40),
  (4,'2023-12-01',3),(5,'2024-03-30',12.25),(5,'2024-01-02',-2);"
q="SELECT customer, recency_days, frequency, monetary, r, f, m, rfm, segment FROM rfm_score('orders', 'as_of=2024-03-31') ORDER BY customer"
shell=$($SQLITE3 -cmd ".load $lp" db.sqlite "$q" 2>&1)
case "$shell" in *Lost*) ok python-2.0 ;; *) bad python-2.0 "shell: $shell" ;; esac

check python-2.1 "$shell" "$("$vpy" - "$q" <<'EOF' 2>&1
import sqlite3, sys, sqlite_segment
db = sqlite3.connect("db.sqlite")
sqlite_segment.load(db)
for row in db.execute(sys.argv[1]):
    print("|".join("" if v is None else str(v) for v in row))
EOF
)"
# load() leaves extension loading disabled again
check python-2.2 "not authorized" "$("$vpy" -c '
import sqlite3, sqlite_segment
db = sqlite3.connect(":memory:"); sqlite_segment.load(db)
try: db.execute("select load_extension(?)", (sqlite_segment.loadable_path(),))
except sqlite3.OperationalError as e: print(e)
' 2>&1)"

if command -v sqlite-utils >/dev/null 2>&1; then
  su=$(sqlite-utils query db.sqlite "$q" --load-extension "$lp" --tsv --no-headers 2>&1 | tr '\t' '|' | tr -d '\r')
  check python-3.1 "$shell" "$su"
else
  echo "skip python-3.*: sqlite-utils is not installed (bash .ci/deps pkg)"
fi
checks_done python
