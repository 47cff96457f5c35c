#!/usr/bin/env bash
# mkdict.sh LIB OUT: write the libFuzzer dictionary of the SQL fuzzer.
#
# The entries come from what the extension registers (the functions and
# modules LIB adds to a connection, read back through pragma_function_list
# and pragma_module_list), the quoted lower-case words of ext/*.c (option
# names, method, scheme and period names), and a few SQL words.  Run at
# make time, so every new function and option joins the dictionary.
set -euo pipefail
lib=$1; out=$2
cd "$(dirname "$0")/../.."
q="SELECT name FROM pragma_function_list UNION SELECT name FROM pragma_module_list"
{
  comm -13 <(sqlite3 :memory: "$q" | sort -u) \
           <(sqlite3 :memory: -cmd ".load $lib" "$q" | sort -u) |
    sed 's/.*/"&("/'
  grep -ohE '"[a-z_][a-z0-9_]{1,24}"' ext/*.c | sort -u |
    sed 's/"\(.*\)"/"\1="\n"'"'"'\1"/'
  for w in SELECT FROM WHERE "GROUP BY" "ORDER BY" "CREATE VIEW" \
           "CREATE TABLE" "CREATE VIRTUAL TABLE" USING "WITHOUT ROWID" \
           "WITH RECURSIVE" "UNION ALL" "INSERT INTO" VALUES "CREATE TRIGGER" \
           "PRAGMA query_only=1" "PRAGMA trusted_schema=0" ATTACH aux. main. \
           temp. NULL 9223372036854775807 -9223372036854775808 1e300 9e999 \
           "x'00'" "'2024-02-29'" "'2024-01-01 10:00:00Z'" "+02:00" 2460000.5 \
           orders wr odd events rules "\"cust id\"" "[t]" \
           customer_id ordered_at amount "'orders'" "','" "'='"; do
    printf '"%s"\n' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  done
} | awk 'length($0) > 2' | sort -u > "$out"
echo "mkdict.sh: $(wc -l < "$out") entries in $out" >&2
