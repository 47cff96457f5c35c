# readme_update.tcl: rewrite the output of every README.md example with
# what it prints now (see readme_lib.tcl).  Review the diff before
# committing: readme.test then holds README.md to it.
#
#   make readme
set testdir [file dirname [file normalize [info script]]]
set rootdir [file dirname $testdir]
source [file join $testdir readme_lib.tcl]
set lib [expr {[info exists ::env(LIBSEGMENT)] ? $::env(LIBSEGMENT) : [file join $rootdir libsegment]}]
set sqlite3 [expr {[info exists ::env(SQLITE3)] ? $::env(SQLITE3) : "sqlite3"}]
set exdb [file join $rootdir examples.db]
set lines [readme_lines $rootdir]
# Replace from the last example backwards so that line numbers hold.
foreach ex [lreverse [readme_examples $lines]] {
  lassign $ex s e kind os oe
  set sql [join [lrange $lines $s [expr {$e-1}]] "\n"]
  set got [split [readme_run $sql $kind $lib $exdb $sqlite3] "\n"]
  if {$oe > $os} {
    set lines [lreplace $lines $os [expr {$oe-1}] {*}$got]
  } else {
    set lines [linsert $lines $os {*}$got]
  }
}
set fd [open [file join $rootdir README.md] w]
puts -nonewline $fd [join $lines "\n"]
close $fd
