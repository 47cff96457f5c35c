# readme_lib.tcl: find and run the examples of README.md (used by
# readme.test, which checks them, and readme_update.tcl, which rewrites
# their outputs).
#
# An example is a ```sql block followed (after blank lines) by either
#   - a ```text block: the output of the SQL as the sqlite3 shell prints it
#     (list mode unless the SQL sets another), or
#   - a markdown table (lines starting with '|'): the output of the SQL in
#     `.mode markdown` with headers.
# The SQL runs in the sqlite3 shell on a fresh in-memory database with
# examples.db attached read-only as `shop`, so `orders`, `customers` ...
# resolve to the shop's tables and examples may create tables of their own.

# Returns a list of {sqlStart sqlEnd kind outStart outEnd} (line indexes;
# the output lines are outStart..outEnd-1).
proc readme_examples {lines} {
  set out {}
  set n [llength $lines]
  for {set i 0} {$i < $n} {incr i} {
    if {[string trim [lindex $lines $i]] ne "```sql"} continue
    set s [expr {$i+1}]
    for {incr i} {$i < $n && [string trim [lindex $lines $i]] ne "```"} {incr i} {}
    set e $i
    set j [expr {$i+1}]
    while {$j < $n && [string trim [lindex $lines $j]] eq ""} { incr j }
    if {$j >= $n} continue
    if {[string trim [lindex $lines $j]] eq "```text"} {
      set os [expr {$j+1}]
      for {set k $os} {$k < $n && [string trim [lindex $lines $k]] ne "```"} {incr k} {}
      lappend out [list $s $e text $os $k]
      set i $k
    } elseif {[string index [lindex $lines $j] 0] eq "|"} {
      for {set k $j} {$k < $n && [string index [lindex $lines $k] 0] eq "|"} {incr k} {}
      lappend out [list $s $e markdown $j $k]
      set i [expr {$k-1}]
    }
  }
  return $out
}

proc readme_run {sql kind lib exdb {sqlite3 sqlite3}} {
  set pre ".bail on\nATTACH 'file:[string map {' ''} $exdb]?mode=ro' AS shop;\n"
  if {$kind eq "markdown"} { append pre ".headers on\n.mode markdown\n" }
  catch {exec $sqlite3 :memory: -cmd ".load $lib" << "$pre$sql\n" 2>@1} got
  regsub {\nchild process exited abnormally$} $got {} got
  return [string trimright $got]
}

proc readme_lines {rootdir} {
  set fd [open [file join $rootdir README.md] r]
  set lines [split [read $fd] "\n"]
  close $fd
  return $lines
}
