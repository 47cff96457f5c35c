# all.tcl: run every test/*.test file twice, the second time with every
# connection allowing a worker thread (PRAGMA threads=1, so that scans run
# on two threads), and print, as the very last line, "N passed, M failed".
# Exit status is non-zero when M > 0.
#
#   tclsh test/all.tcl [PATTERN...]    (PATTERN: glob on file names)
#
# SEGMENT_THREADS=0 or =1 in the environment runs one pass only, with
# that PRAGMA threads.

set ::testdir [file dirname [file normalize [info script]]]
set ::rootdir [file dirname $::testdir]
set ::n_pass 0
set ::n_fail 0
set ::failures {}

set files [lsort [glob -directory $::testdir *.test]]
if {[llength $argv] > 0} {
  set sel {}
  foreach f $files {
    foreach p $argv {
      if {[string match $p [file tail $f]]} { lappend sel $f; break }
    }
  }
  set files $sel
}

if {[info exists ::env(SEGMENT_THREADS)]} {
  set passes [list $::env(SEGMENT_THREADS)]
} else {
  set passes {0 1}
}
foreach threads $passes {
foreach f $files {
  # Each file runs in an interpreter of its own: no state leaks between
  # files.
  set t0 [clock milliseconds]
  set child [interp create]
  $child eval [list set ::testdir $::testdir]
  $child eval [list set ::rootdir $::rootdir]
  if {$threads} {
    $child eval [list set ::segment_threads $threads]
  }
  $child eval {set ::n_pass 0; set ::n_fail 0; set ::failures {}}
  if {[catch {
    $child eval [list source [file join $::testdir tester.tcl]]
    $child eval [list source $f]
  } err]} {
    $child eval [list incr ::n_fail]
    $child eval [list lappend ::failures "[file tail $f] (aborted)"]
    puts "! [file tail $f] aborted: $err"
  }
  set np [$child eval {set ::n_pass}]
  set nf [$child eval {set ::n_fail}]
  incr ::n_pass $np
  incr ::n_fail $nf
  lappend ::failures {*}[$child eval {set ::failures}]
  catch {$child eval {catch {db close}}}
  interp delete $child
  set tag [expr {$threads ? " (threads=$threads)" : ""}]
  puts "[file tail $f]$tag: [expr {$np + $nf}] tests, [expr {[clock milliseconds]-$t0}] ms"
}
}
if {$::n_fail > 0} {
  puts "failures: $::failures"
}
puts "$::n_pass passed, $::n_fail failed"
exit [expr {$::n_fail > 0 ? 1 : 0}]
