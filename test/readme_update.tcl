# readme_update.tcl: rewrite the output block of every README.md example
# with what it prints now (see readme.test for the convention).  Review the
# diff before committing it: readme.test then holds README.md to it.
#
#   make readme
set rootdir [file dirname [file dirname [file normalize [info script]]]]
set lib [expr {[info exists ::env(LIBSEGMENT)] ? $::env(LIBSEGMENT) : [file join $rootdir libsegment]}]
set sqlite3 [expr {[info exists ::env(SQLITE3)] ? $::env(SQLITE3) : "sqlite3"}]
set exdb [file join $rootdir examples.db]
set fd [open [file join $rootdir README.md] r]
set lines [split [read $fd] "\n"]
close $fd
set out {}
set n [llength $lines]
for {set i 0} {$i < $n} {incr i} {
  set l [lindex $lines $i]
  lappend out $l
  if {[string trim $l] ne "```sql"} continue
  set sql {}
  for {incr i} {$i < $n && [string trim [lindex $lines $i]] ne "```"} {incr i} {
    lappend sql [lindex $lines $i]
    lappend out [lindex $lines $i]
  }
  lappend out [lindex $lines $i]
  set j [expr {$i+1}]
  while {$j < $n && [string trim [lindex $lines $j]] eq ""} { incr j }
  if {$j >= $n || [string trim [lindex $lines $j]] ne "```text"} continue
  for {incr i} {$i < $j} {incr i} { lappend out [lindex $lines $i] }
  lappend out [lindex $lines $j]
  for {incr j} {$j < $n && [string trim [lindex $lines $j]] ne "```"} {incr j} {}
  set script ".bail on\nATTACH 'file:[string map {' ''} $exdb]?mode=ro' AS shop;\n[join $sql \n]\n"
  catch {exec $sqlite3 :memory: -cmd ".load $lib" << $script 2>@1} got
  foreach g [split [string trimright $got] "\n"] { lappend out $g }
  lappend out [lindex $lines $j]
  set i $j
}
set fd [open [file join $rootdir README.md] w]
puts -nonewline $fd [join $out "\n"]
close $fd
