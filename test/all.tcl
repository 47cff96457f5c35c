# all.tcl: run every test/*.test file and print, as the very last line,
# "N passed, M failed".  Exit status is non-zero when M > 0.
#
#   tclsh test/all.tcl [PATTERN...]    (PATTERN: glob on file names)

set ::testdir [file dirname [file normalize [info script]]]
set ::rootdir [file dirname $::testdir]
set ::n_pass 0
set ::n_fail 0
set ::failures {}
source [file join $::testdir tester.tcl]

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
foreach f $files {
  set before [expr {$::n_pass + $::n_fail}]
  set t0 [clock milliseconds]
  reset_db
  if {[catch {source $f} err]} {
    incr ::n_fail
    lappend ::failures "[file tail $f] (aborted)"
    puts "! [file tail $f] aborted: $err"
    puts "! $::errorInfo"
  }
  catch {db close}
  set n [expr {$::n_pass + $::n_fail - $before}]
  puts "[file tail $f]: $n tests, [expr {[clock milliseconds]-$t0}] ms"
}
if {$::n_fail > 0} {
  puts "failures: $::failures"
}
puts "$::n_pass passed, $::n_fail failed"
exit [expr {$::n_fail > 0 ? 1 : 0}]
