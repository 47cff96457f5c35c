# readme_lib.tcl: find and run the examples of README.md (used by
# readme.test, which checks them, and readme_update.tcl, which rewrites
# their outputs).
#
# Every ```sql block of README.md is an example, and must be followed
# (after blank lines) by either
#   - a ```text block: the output of the SQL as the sqlite3 shell prints it
#     (list mode unless the SQL sets another; an empty block for SQL that
#     prints nothing), or
#   - a markdown table (lines starting with '|'): the output of the SQL in
#     `.mode markdown` with headers.
# The SQL runs in the sqlite3 shell (with -bail) on a fresh in-memory
# database with examples.db attached read-only as `shop`, so `orders`,
# `customers` ... resolve to the shop's tables and examples may create
# tables of their own (an example does not see the tables of another).
#
# Errors.  An example fails when the shell reports an error (anything on
# its standard error, e.g. `Parse error near line 2: ...`,
# `Runtime error near line 3: ...`, `Error: ...`) or exits with a
# non-zero status, unless the example announces the error: the line
#   <!-- error -->
# directly before its ```sql block (blank lines between are allowed).  The
# output of an announced error is checked like any other (standard output
# then standard error, in a ```text block), and an example that announces
# an error but runs without one fails as well.  The prose should say what
# goes wrong, too: the marker is for the checker.

# Returns a list of {sqlStart sqlEnd kind outStart outEnd expect} (line
# indexes; the SQL lines are sqlStart..sqlEnd-1 and the output lines
# outStart..outEnd-1).  kind is text, markdown or none (no output block
# follows: a fault); expect is error for an announced error, else ok.
proc readme_examples {lines} {
  set out {}
  set n [llength $lines]
  for {set i 0} {$i < $n} {incr i} {
    if {[string trim [lindex $lines $i]] ne "```sql"} continue
    set expect ok
    for {set p [expr {$i-1}]} {$p >= 0 && [string trim [lindex $lines $p]] eq ""} {incr p -1} {}
    if {$p >= 0 && [string trim [lindex $lines $p]] eq "<!-- error -->"} { set expect error }
    set s [expr {$i+1}]
    for {incr i} {$i < $n && [string trim [lindex $lines $i]] ne "```"} {incr i} {}
    set e $i
    set j [expr {$i+1}]
    while {$j < $n && [string trim [lindex $lines $j]] eq ""} { incr j }
    if {$j < $n && [string trim [lindex $lines $j]] eq "```text"} {
      set os [expr {$j+1}]
      for {set k $os} {$k < $n && [string trim [lindex $lines $k]] ne "```"} {incr k} {}
      lappend out [list $s $e text $os $k $expect]
      set i $k
    } elseif {$j < $n && [string index [lindex $lines $j] 0] eq "|"} {
      for {set k $j} {$k < $n && [string index [lindex $lines $k] 0] eq "|"} {incr k} {}
      lappend out [list $s $e markdown $j $k $expect]
      set i [expr {$k-1}]
    } else {
      lappend out [list $s $e none $e $e $expect]
    }
  }
  return $out
}

# Runs SQL as an example of the given kind.  Returns {output failure}:
# output is what the shell printed (standard output, then standard error),
# failure is empty when the shell printed nothing on standard error and
# exited with status 0, else the reason (the first line of standard error,
# or the exit status).
proc readme_run {sql kind lib exdb {sqlite3 sqlite3}} {
  set cmd [list $sqlite3 -bail :memory: -cmd ".load $lib" \
      -cmd "ATTACH 'file:[string map {' ''} $exdb]?mode=ro' AS shop"]
  if {$kind eq "markdown"} { lappend cmd -cmd ".headers on" -cmd ".mode markdown" }
  set efd [file tempfile epath]
  set failure ""
  if {[catch {exec {*}$cmd << "$sql\n" 2>@ $efd} got opts]} {
    regsub {(^|\n)child process exited abnormally$} $got {} got
    set code [dict get $opts -errorcode]
    switch -- [lindex $code 0] {
      CHILDSTATUS { set failure "exit status [lindex $code 2]" }
      CHILDKILLED { set failure "killed by [lindex $code 2]" }
      default     { set failure $got; set got "" }
    }
  }
  close $efd
  set efd [open $epath r]
  set err [string trimright [read $efd]]
  close $efd
  file delete $epath
  if {$err ne ""} {
    set failure [lindex [split $err "\n"] 0]
    set got [string trimright $got]
    append got [expr {$got eq "" ? "" : "\n"}] $err
  }
  return [list [string trimright $got] $failure]
}

# The fault of an example given the {output failure} of its run, or "" when
# there is none (the output is then compared with the README's).
proc readme_fault {ex run} {
  lassign $ex s e kind os oe expect
  lassign $run got failure
  if {$kind eq "none"} {
    return "the ```sql block has no output after it (a ```text block or a markdown table)"
  }
  if {$failure ne "" && $expect ne "error"} {
    return "the example fails but does not announce an error (<!-- error --> before its ```sql block): $failure"
  }
  if {$failure eq "" && $expect eq "error"} {
    return "the example announces an error (<!-- error -->) but runs without one"
  }
  if {$kind eq "markdown" && $failure ne ""} {
    return "the output of an error is not a markdown table: show it in a ```text block"
  }
  return ""
}

# Checks every example of LINES.  Returns a list of {line ok want got}, one
# per example: line is the 1-based line of its ```sql fence; ok is 1 when
# the example has no fault and prints what the README shows.
proc readme_check {lines lib exdb {sqlite3 sqlite3}} {
  set out {}
  foreach ex [readme_examples $lines] {
    lassign $ex s e kind os oe
    set sql [join [lrange $lines $s [expr {$e-1}]] "\n"]
    set want [string trimright [join [lrange $lines $os [expr {$oe-1}]] "\n"]]
    set run [readme_run $sql $kind $lib $exdb $sqlite3]
    set fault [readme_fault $ex $run]
    set got [lindex $run 0]
    if {$fault ne ""} { set got "$fault\n$got" }
    lappend out [list $s [expr {$fault eq "" && $got eq $want}] $want $got]
  }
  return $out
}

proc readme_lines {rootdir} {
  set fd [open [file join $rootdir README.md] r]
  set lines [split [read $fd] "\n"]
  close $fd
  return $lines
}
