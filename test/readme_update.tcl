# readme_update.tcl: rewrite the output of every README.md example with
# what it prints now (see readme_lib.tcl).  Review the diff before
# committing: readme.test then holds README.md to it.  Nothing is written
# when an example has a fault (an error it does not announce, an announced
# error that does not happen, a ```sql block without output): the faults
# are listed and the exit status is 1.
#
#   make readme                       (or: tclsh readme_update.tcl ?FILE?)
set testdir [file dirname [file normalize [info script]]]
set rootdir [file dirname $testdir]
source [file join $testdir readme_lib.tcl]
set lib [expr {[info exists ::env(LIBSEGMENT)] ? $::env(LIBSEGMENT) : [file join $rootdir libsegment]}]
set sqlite3 [expr {[info exists ::env(SQLITE3)] ? $::env(SQLITE3) : "sqlite3"}]
set exdb [file join $rootdir examples.db]
set readme [expr {$argc > 0 ? [lindex $argv 0] : [file join $rootdir README.md]}]
set fd [open $readme r]
set lines [split [read $fd] "\n"]
close $fd
set faults {}
# Replace from the last example backwards so that line numbers hold.
foreach ex [lreverse [readme_examples $lines]] {
  lassign $ex s e kind os oe
  set sql [join [lrange $lines $s [expr {$e-1}]] "\n"]
  set run [readme_run $sql $kind $lib $exdb $sqlite3]
  set fault [readme_fault $ex $run]
  if {$fault ne ""} {
    set faults [linsert $faults 0 "[file tail $readme] line $s: $fault"]
    continue
  }
  set got [split [lindex $run 0] "\n"]
  if {$oe > $os} {
    set lines [lreplace $lines $os [expr {$oe-1}] {*}$got]
  } else {
    set lines [linsert $lines $os {*}$got]
  }
}
if {[llength $faults]} {
  puts stderr [join $faults "\n"]
  puts stderr "[file tail $readme] not written"
  exit 1
}
set fd [open $readme w]
puts -nonewline $fd [join $lines "\n"]
close $fd
