# seeds.tcl: write the SQL that the Tcl suite runs, one statement a file,
# as seeds for the SQL fuzzer (make fuzz, make check).
#
#   LIBSEGMENT=path/libsegment tclsh test/fuzz/seeds.tcl OUTDIR
#
# Every test file runs in an interpreter of its own (as in all.tcl) in
# which every database connection traces its statements.  Kept: statements
# that call a function or module of the extension, deduplicated, at most
# 4 KB long and at most 150 per test file.  Test results are not checked
# here.
set outdir [lindex $argv 0]
set fuzzdir [file dirname [file normalize [info script]]]
set testdir [file dirname $fuzzdir]
set rootdir [file dirname $testdir]
file mkdir $outdir
set n 0
set nfile 0
array set seen {}

# The names the extension registers (as in mkdict.sh).
package require sqlite3
sqlite3 plain :memory:
sqlite3 ext :memory:
ext enable_load_extension 1
ext eval {SELECT load_extension($::env(LIBSEGMENT))}
set q {SELECT name FROM pragma_function_list UNION SELECT name FROM pragma_module_list}
set builtin [plain eval $q]
set names {}
foreach name [ext eval $q] {
  if {[lsearch -exact $builtin $name] < 0} { lappend names [string tolower $name] }
}
plain close
ext close
set re "([join $names |])\\s*\\("

proc record {sql {force 0}} {
  global seen n nfile outdir re
  set sql [string trim $sql]
  if {$sql eq "" || [string length $sql] > 4096} return
  if {[info exists seen($sql)]} return
  if {!$force && ($nfile >= 150 || ![regexp -nocase $re $sql])} return
  set seen($sql) 1
  incr nfile
  set fd [open [file join $outdir [format seed-%05d.sql [incr n]]] w]
  fconfigure $fd -translation binary -encoding utf-8
  puts -nonewline $fd $sql
  close $fd
}
foreach f [lsort [glob -directory $testdir *.test]] {
  set nfile 0
  set child [interp create]
  interp alias $child ::seed_record {} record
  $child eval [list set ::testdir $testdir]
  $child eval [list set ::rootdir $rootdir]
  $child eval {set ::n_pass 0; set ::n_fail 0; set ::failures {}}
  $child eval {proc puts {args} {}}
  catch {
    $child eval [list source [file join $testdir tester.tcl]]
    $child eval {
      rename ::sqlite3 ::seed_sqlite3
      proc ::sqlite3 {name args} {
        set r [uplevel 1 [list ::seed_sqlite3 $name {*}$args]]
        catch {$name trace ::seed_record}
        return $r
      }
      db trace ::seed_record
    }
    $child eval [list source $f]
  }
  interp delete $child
}
# The statements of the OOM loop are seeds too.
set fd [open [file join $testdir oom.sql] r]
set entry ""
while {[gets $fd line] >= 0} {
  if {$entry eq "" && ([string trim $line] eq "" || [string match "--*" [string trim $line]])} continue
  append entry $line "\n"
  if {[info complete $entry] && [string match "*;" [string trim $entry]]} {
    record $entry 1
    set entry ""
  }
}
close $fd
puts stderr "seeds.tcl: $n seeds in $outdir"
