#!/usr/bin/env bash
# test/install.sh: make install and make uninstall.
#   1. into a temporary root (DESTDIR, PREFIX=/usr): the file is where it
#      should be, loads from there (by path, and by name through
#      LD_LIBRARY_PATH), and make uninstall removes it;
#   2. as root only (CI): the real install (PREFIX=/usr/local), then
#      `.load libsegment` by name from another directory, then make
#      uninstall, after which the name no longer loads.
# Prints "install: N passed, M failed" last; exit status non-zero on failure.
set -u
cd "$(dirname "$0")/.."
root=$PWD
SQLITE3=${SQLITE3:-sqlite3}
version=$(make -s --no-print-directory version)
. test/checks.sh
case "$(uname -s)" in Darwin) so=dylib ;; MINGW*|MSYS*|CYGWIN*) so=dll ;; *) so=so ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. DESTDIR: the library goes to $stage$prefix/lib
stage=$tmp/root
prefix=/usr
libdir=$stage$prefix/lib
make -s --no-print-directory install DESTDIR="$stage" PREFIX=$prefix >"$tmp/log" 2>&1 \
  || { cat "$tmp/log"; bad install-1.0 "make install DESTDIR failed"; }
lib=$libdir/libsegment.$so
if [ -f "$lib" ]; then ok install-1.1; else bad install-1.1 "$lib missing"; fi
grep -q '^ldconfig' "$tmp/log" && bad install-1.2 "ldconfig ran under DESTDIR" || ok install-1.2
check install-1.3 "$version" \
  "$(cd "$tmp" && $SQLITE3 :memory: ".load $libdir/libsegment" 'select segment_version()' 2>&1)"
check install-1.4 "$version" \
  "$(cd "$tmp" && LD_LIBRARY_PATH=$libdir $SQLITE3 :memory: '.load libsegment' 'select segment_version()' 2>&1)"
make -s --no-print-directory uninstall DESTDIR="$stage" PREFIX=$prefix >"$tmp/log" 2>&1 \
  || { cat "$tmp/log"; bad install-1.5 "make uninstall DESTDIR failed"; }
if [ -e "$lib" ]; then bad install-1.6 "$lib still there"; else ok install-1.6; fi

# 2. The real install path
real=/usr/local/lib/libsegment.$so
if [ "$(id -u)" != 0 ]; then
  echo "skip install-2.*: the real install (PREFIX=/usr/local) is tested as root only"
elif [ -e "$real" ]; then
  echo "skip install-2.*: $real is already installed; not replacing it"
else
  make -s --no-print-directory install >"$tmp/log" 2>&1 \
    || { cat "$tmp/log"; bad install-2.0 "make install failed"; }
  if [ -f "$real" ]; then ok install-2.1; else bad install-2.1 "$real missing"; fi
  check install-2.2 "$version" \
    "$(cd "$tmp" && env -u LD_LIBRARY_PATH $SQLITE3 :memory: '.load libsegment' 'select segment_version()' 2>&1)"
  make -s --no-print-directory uninstall >"$tmp/log" 2>&1 \
    || { cat "$tmp/log"; bad install-2.3 "make uninstall failed"; }
  if [ -e "$real" ]; then bad install-2.4 "$real still there"; else ok install-2.4; fi
  out=$(cd "$tmp" && env -u LD_LIBRARY_PATH $SQLITE3 :memory: '.load libsegment' 2>&1)
  case "$out" in
    *"cannot open shared object file"*|*"image not found"*|*"no such file"*) ok install-2.5 ;;
    *) bad install-2.5 "still loads after uninstall: [$out]" ;;
  esac
fi
checks_done install
