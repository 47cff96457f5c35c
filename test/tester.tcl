# tester.tcl: libsegment's small test harness, in the manner of SQLite's.
#
#   do_execsql_test NAME SQL EXPECTED      result list compared with EXPECTED
#   do_catchsql_test NAME SQL {RC MSG}     {0 result} or {1 {error message}}
#   do_test NAME SCRIPT EXPECTED           result of a Tcl script
#   finish_test                            end of a .test file
#
# Comparison: element by element; two elements that are both numbers match
# when |a - b| <= tol * max(1, |a|, |b|), with tol = $::tolerance (1e-9
# unless a test sets it, e.g. `set ::tolerance 1e-3` for published figures
# printed to 3 digits).  Anything else must match exactly.
#
# Every test file opens `db`, an in-memory database with the extension
# loaded (reopen with `reset_db` or `open_db FILE`).

package require sqlite3

if {![info exists ::testdir]} {
  set ::testdir [file dirname [file normalize [info script]]]
  set ::rootdir [file dirname $::testdir]
  set ::n_pass 0
  set ::n_fail 0
  set ::failures {}
  set ::standalone 1
}
if {[info exists ::env(LIBSEGMENT)]} {
  set ::libsegment $::env(LIBSEGMENT)
} else {
  set ::libsegment [file join $::rootdir libsegment]
}
set ::tolerance 1e-9

# all.tcl runs the suite a second time with ::segment_threads 1: every
# connection then allows a worker thread (PRAGMA threads), so that scans
# run on two threads.
proc load_segment {handle} {
  $handle enable_load_extension 1
  $handle eval {SELECT load_extension($::libsegment)}
  if {[info exists ::segment_threads]} {
    $handle eval "PRAGMA threads=$::segment_threads"
  }
}

proc open_db {{file :memory:} args} {
  catch {db close}
  sqlite3 db $file {*}$args
  load_segment db
}
proc reset_db {} { open_db :memory: }

proc values_match {expected got} {
  if {[llength $expected] != [llength $got]} { return 0 }
  foreach e $expected g $got {
    if {$e eq $g} continue
    if {[string is double -strict $e] && [string is double -strict $g]} {
      if {$e == $g} continue
      set scale [expr {max(1.0, abs(double($e)), abs(double($g)))}]
      if {abs(double($e) - double($g)) <= $::tolerance * $scale} continue
    }
    # Nested lists (e.g. catchsql results) compare element by element.
    if {[llength $e] > 1 || [llength $g] > 1} {
      if {[values_match $e $g]} continue
    }
    return 0
  }
  return 1
}

proc test_result {name ok expected got} {
  if {$ok} {
    incr ::n_pass
  } else {
    incr ::n_fail
    if {[info exists ::segment_threads]} {
      append name " (threads=$::segment_threads)"
    }
    lappend ::failures $name
    puts "! $name failed"
    puts "!   expected: [string range $expected 0 2000]"
    puts "!   got:      [string range $got 0 2000]"
  }
}

proc do_test {name script expected} {
  if {[catch {uplevel 1 $script} got]} {
    set got [list error $got]
  }
  test_result $name [values_match $expected $got] $expected $got
}

proc do_execsql_test {name sql expected} {
  if {[catch {uplevel 1 [list db eval $sql]} got]} {
    set got [list error $got]
  }
  test_result $name [values_match $expected $got] $expected $got
}

proc catchsql {sql} {
  if {[catch {uplevel 1 [list db eval $sql]} msg]} {
    return [list 1 $msg]
  }
  return [list 0 $msg]
}

proc do_catchsql_test {name sql expected} {
  set got [uplevel 1 [list catchsql $sql]]
  test_result $name [values_match $expected $got] $expected $got
}

# execsql SQL: the result list (errors propagate).
proc execsql {sql} { uplevel 1 [list db eval $sql] }

# Load a CSV file (first line: header) into table TABLE of db, every value
# as TEXT, then apply the column affinities of CREATE.
proc load_csv {table create file} {
  db eval $create
  set fd [open $file r]
  fconfigure $fd -translation auto -encoding utf-8
  gets $fd header
  set cols [csv_split $header]
  set n [llength $cols]
  set ph [join [lrepeat $n ?] ,]
  db transaction {
    while {[gets $fd line] >= 0} {
      if {$line eq ""} continue
      set vals [csv_split $line]
      set args {}
      for {set i 0} {$i < $n} {incr i} { lappend args "\$v($i)"; set v($i) [lindex $vals $i] }
      db eval "INSERT INTO \"$table\" VALUES([join $args ,])"
    }
  }
  close $fd
}
proc csv_split {line} {
  set out {}
  set cur ""
  set inq 0
  set i 0
  set n [string length $line]
  while {$i < $n} {
    set c [string index $line $i]
    if {$inq} {
      if {$c eq "\""} {
        if {[string index $line [expr {$i+1}]] eq "\""} { append cur "\""; incr i } else { set inq 0 }
      } else { append cur $c }
    } elseif {$c eq "\""} { set inq 1
    } elseif {$c eq ","} { lappend out $cur; set cur ""
    } else { append cur $c }
    incr i
  }
  lappend out $cur
  return $out
}

# The CDNOW sample (test/data/CDNOW_sample.txt) as a transaction table
# cdnow: customer = sample id (integer),
# date YYYYMMDD converted to ISO text, amount in dollars.
proc load_cdnow {} {
  db eval {CREATE TABLE cdnow(customer INTEGER, date TEXT, cds INTEGER, amount REAL)}
  set fd [open [file join $::testdir data CDNOW_sample.txt] r]
  db transaction {
    while {[gets $fd line] >= 0} {
      set f [regexp -all -inline {\S+} $line]
      if {[llength $f] < 5} continue
      lassign $f m id d n v
      set iso "[string range $d 0 3]-[string range $d 4 5]-[string range $d 6 7]"
      set id [scan $id %d]
      db eval {INSERT INTO cdnow VALUES($id, $iso, $n, $v)}
    }
  }
  close $fd
}

# Is a measured time (ms) under its bound?  Under the sanitizers and
# valgrind (make check sets LIBSEGMENT_SLOW) time is not measured: every
# bound holds there, and make test checks them.
proc in_time {ms bound} {
  expr {$ms < $bound || [info exists ::env(LIBSEGMENT_SLOW)]}
}

proc finish_test {} {
  catch {db close}
  if {[info exists ::standalone]} {
    puts "$::n_pass passed, $::n_fail failed"
    exit [expr {$::n_fail > 0}]
  }
}

reset_db
