#!/usr/bin/env bash
# test/node.sh: the npm package in node/.  Packs it (npm pack), installs the
# tarball into a project with better-sqlite3 12 (build/node-test/, kept
# between runs while its package-lock.json is test/node/package-lock.json),
# runs rfm_score and source_stats through better-sqlite3 and compares the
# rows with the sqlite3 shell's; then does the same with the folder itself
# installed (npm install node/).  Skipped, saying why in one line, when
# node and npm are missing or better-sqlite3 cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
proj=build/node-test
say() { echo "node.sh: $*"; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "skipped: node and npm are not installed (Debian: apt-get install nodejs npm)"
  exit 0
fi
bash .ci/deps build test node || true   # node: g++, make, python3 for better-sqlite3
make -s libsegment.so >/dev/null
mkdir -p "$proj"
npmq=(--no-audit --no-fund --loglevel=error)

# better-sqlite3: no prebuilt binary can be downloaded when only the npm
# registry is reachable, so it compiles from source, against the headers of
# the running node when they are installed beside it (Debian's nodejs puts
# them in /usr/include/node) instead of headers downloaded from nodejs.org.
nodeprefix=$(dirname "$(dirname "$(node -p process.execPath)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$nodeprefix/include/node/node.h" ]; then
  export npm_config_nodedir=$nodeprefix
fi
if cmp -s test/node/package-lock.json "$proj/package-lock.json" &&
   (cd "$proj" && node -e 'new (require("better-sqlite3"))(":memory:")') 2>/dev/null; then
  :
else
  rm -rf "$proj/node_modules" "$proj/package-lock.json"
  cp test/node/package.json test/node/package-lock.json "$proj/"
  t0=$SECONDS
  if ! (cd "$proj" && npm ci "${npmq[@]}") >"$proj/npm-ci.log" 2>&1; then
    why=$(grep -m1 -iE 'error|ERR!' "$proj/npm-ci.log" || tail -n1 "$proj/npm-ci.log")
    rm -f "$proj/package-lock.json"
    say "skipped: better-sqlite3 12 could not be installed (npm ci in $proj: ${why:-no output}; log: $proj/npm-ci.log)"
    exit 0
  fi
  say "better-sqlite3 installed in $((SECONDS - t0)) s"
fi
cp test/node/check.js "$proj/"

# The data: a small table of our own, and examples.db.
rm -f "$proj/small.db"
sqlite3 "$proj/small.db" "
CREATE TABLE orders(customer TEXT, ordered_at TEXT, amount REAL);
INSERT INTO orders VALUES
 ('ann','2024-01-05',12.5),('ann','2024-06-30',40),('ann','2024-12-20',7.25),
 ('bob','2023-03-01',120),('cy','2024-11-11',19.99),('cy','2024-12-01',5),
 ('dee','2024-02-29',60),('dee','2024-03-01',0.1),('eve',NULL,3),
 ('fay','2024-07-04',33.333);"
small=("SELECT segment_version()"
       "SELECT * FROM rfm_score('orders', 'as_of=2024-12-31') ORDER BY customer"
       "SELECT * FROM source_stats('orders')")
shop=("SELECT * FROM rfm_score('orders') ORDER BY customer")

fail=0
compare() {  # compare LABEL DB SQL...: better-sqlite3's rows against the shell's
  local label=$1 db=$2; shift 2
  local s
  for s in "$@"; do
    sqlite3 "$db" -cmd ".load $root/libsegment" "$s"
  done >"$proj/expected.txt"
  if ! (cd "$proj" && node check.js "$db" "$@") >"$proj/actual.txt" 2>"$proj/error.txt"; then
    say "$label: FAILED, better-sqlite3: $(grep -m1 -i error "$proj/error.txt")"
    fail=1
  elif cmp -s "$proj/expected.txt" "$proj/actual.txt"; then
    say "$label: $(wc -l <"$proj/actual.txt") rows equal to the sqlite3 shell's"
  else
    say "$label: FAILED, better-sqlite3 and the sqlite3 shell differ:"
    diff "$proj/expected.txt" "$proj/actual.txt" | head -n 20
    fail=1
  fi
}
check_package() {  # check_package HOW: the installed package's path and rows
  local how=$1 path
  path=$(cd "$proj" && node -p 'require("libsegment").getLoadablePath()')
  case "$path" in
    "$2"/build/libsegment.so) ;;
    *) say "$how: FAILED, getLoadablePath() is $path"; fail=1 ;;
  esac
  compare "$how, small table" "$root/$proj/small.db" "${small[@]}"
  compare "$how, examples.db" "$root/examples.db" "${shop[@]}"
}

# 1. The packed tarball (the sources copied in by the prepack script).
rm -f "$proj"/libsegment-*.tgz
tgz=$(cd node && npm pack --pack-destination "$root/$proj" "${npmq[@]}" | tail -n1)
t0=$SECONDS
(cd "$proj" && npm install --no-save "${npmq[@]}" "./$tgz") >/dev/null
say "tarball $tgz installed (extension compiled) in $((SECONDS - t0)) s"
check_package "npm install $tgz" "$root/$proj/node_modules/libsegment"
pkgver=$(cd "$proj" && node -p 'require("libsegment/package.json").version')
extver=$(node -p 'require("./node/scripts/version").sourceVersion("ext")')
if [ "$pkgver" != "$extver" ]; then
  say "FAILED: the package's version $pkgver is not the extension's $extver"; fail=1
fi

# 2. The folder itself (npm links it; its install script builds from ext/).
rm -rf node/build
(cd "$proj" && npm install --no-save "${npmq[@]}" "$root/node") >/dev/null
check_package "npm install node/" "$root/node"

cmp -s test/node/package-lock.json "$proj/package-lock.json" ||
  { say "FAILED: installing libsegment changed $proj/package-lock.json"; fail=1; }
[ $fail = 0 ] && say "passed" || { say "failed"; exit 1; }
