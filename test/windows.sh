#!/usr/bin/env bash
# test/windows.sh: libsegment.dll, cross-built with mingw-w64, loaded under
# wine by test/winhost.exe (built the same way with SQLite's amalgamation),
# must give the same results as libsegment.so in the sqlite3 shell for the
# queries of test/windows.sql on examples.db.
#
#   bash test/windows.sh        (or: make windows-test)
#
# Installs what it needs through .ci/deps windows (mingw-w64, wine, npm).
# The amalgamation is the one better-sqlite3's npm tarball ships, unpacked
# under build/win/ (never committed); the wine prefix is build/win/prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash .ci/deps build test windows
W=build/win
mkdir -p "$W"
make -s libsegment.so
make -s dll
examples=examples.db
[ -f "$examples" ] || make -s examples.db

# SQLite's amalgamation, from the npm registry's better-sqlite3 package
if [ ! -f "$W/sqlite/sqlite3.c" ]; then
  rm -rf "$W/npm" "$W/sqlite"
  mkdir -p "$W/npm" "$W/sqlite"
  (cd "$W/npm" && npm pack --silent better-sqlite3@12 >/dev/null)
  tar xzf "$W"/npm/better-sqlite3-*.tgz -C "$W/sqlite" --strip-components=3 \
    package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h \
    package/deps/sqlite3/sqlite3ext.h
fi
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
if [ ! -f "$W/sqlite3.o" ] || [ "$W/sqlite/sqlite3.c" -nt "$W/sqlite3.o" ]; then
  "$MINGW_CC" -O1 -c -o "$W/sqlite3.o" "$W/sqlite/sqlite3.c"
fi
"$MINGW_CC" -O1 -Wall -Wextra -Werror -I"$W/sqlite" -o "$W/winhost.exe" \
  test/winhost.c "$W/sqlite3.o" -static
t1=$(date +%s)

# wine: its first start creates the prefix (a few seconds)
export WINEPREFIX="$PWD/$W/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine64=$(command -v wine64 || command -v wine)
"$wine64" "$W/winhost.exe" "$examples" libsegment.dll test/windows.sql \
  > "$W/windows.out" 2> "$W/windows.err" || {
    echo "windows: winhost.exe failed under wine:" >&2
    grep -v '^wine: ' "$W/windows.err" >&2 || true
    exit 1
  }
t2=$(date +%s)
sqlite3 -bail "$examples" -cmd ".load ./libsegment" < test/windows.sql \
  > "$W/linux.out"

# The two SQLite versions print REALs differently: the older shell to 15
# significant digits, rounded by its own printf (not always correctly:
# 0.99851452575839449... prints as ...395), the newer library the shortest
# text that reads back.  So a field that is a REAL on both sides may differ
# by a relative 1e-14 (one unit or so of the 15th digit); every other
# field, and all JSON, must be equal to the byte.
rows=$(wc -l < "$W/linux.out")
if ! awk -F'|' '
  function isreal(s) {
    return s ~ /^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$/ || s ~ /^-?[0-9]+[eE][-+]?[0-9]+$/
  }
  function abs(x) { return x < 0 ? -x : x }
  function same(x, y,   fx, fy, m) {
    if ((x "") == (y "")) return 1
    if (!isreal(x) || !isreal(y)) return 0
    fx = x + 0; fy = y + 0
    m = abs(fx) > abs(fy) ? abs(fx) : abs(fy)
    return abs(fx - fy) <= 1e-14 * m
  }
  NR == FNR { L[FNR] = $0; nL = FNR; next }
  {
    nW = FNR
    n = split(L[FNR], a, "|"); k = split($0, b, "|")
    ok = (FNR <= nL && n == k)
    for (i = 1; ok && i <= n; i++) ok = same(a[i], b[i])
    if (!ok) { print FNR ": < " L[FNR]; print FNR ": > " $0; bad = 1 }
  }
  END {
    if (nW != nL) { print "lines: " nL " on Linux, " nW " on Windows"; bad = 1 }
    exit bad
  }' "$W/linux.out" "$W/windows.out" > "$W/windows.diff"; then
  echo "windows: results differ from Linux (first lines of $W/windows.diff):" >&2
  head -20 "$W/windows.diff" >&2
  exit 1
fi
[ "$rows" -gt 1000 ] || { echo "windows: only $rows lines of results" >&2; exit 1; }
sqlite_win=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$W/sqlite/sqlite3.h")
echo "windows: libsegment.dll under wine (SQLite $sqlite_win) equals libsegment.so" \
     "(SQLite $(sqlite3 -version | cut -d' ' -f1)): $rows lines;" \
     "build $((t1 - t0)) s, wine $((t2 - t1)) s"
