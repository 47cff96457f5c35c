# test/checks.sh: the counting helpers of the shell tests (install.sh,
# python.sh), sourced by them.  Each ends with `checks_done NAME`, which
# prints "NAME: N passed, M failed" and fails when M > 0.
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1: $2"; }
check() { # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "expected [$2] got [$3]"; fi
}
checks_done() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}
