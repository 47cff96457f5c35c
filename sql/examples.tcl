# examples.tcl: generate examples.db, the demo shop of libsegment.
#
#   tclsh sql/examples.tcl OUTFILE        (make examples.db)
#
# The shop opened on 1 January 2023; the data ends on 31 December 2025.  The
# tables are those of sql/schema.sql.  The generator is deterministic: it
# uses its own seeded random number generator (L'Ecuyer's combined linear
# congruential generator, period about 2.3e18), never rand() or the clock,
# so running it again gives the same rows.  Money is computed in integer
# cents.
#
# What it models:
#
#   1. 2,000 customers who sign up over the three years, more of them as
#      the shop grows and around Black Friday and Christmas.  Regions US,
#      UK, DE (50/30/20 %).  Birth dates for ages 18-85, a few on
#      29 February, about 2.5 % not given (NULL).
#   2. Kinds of customer (table personas), drawn in fixed numbers:
#        prospect         280  signed up, never ordered
#        one_time         840  one order, soon after signing up
#        occasional       330  2 to 8 orders
#        loyal            260  an order every 8-30 days on average
#        big_spender       50  premium items, larger baskets, an order
#                              every 25-50 days
#        lapsed           120  an order every 25-60 days, stopped before
#                              December 2024
#        seasonal          60  only buy from 10 November to 23 December
#        price_sensitive   30  budget items, a 15-40 % discount on most
#                              orders
#        convenience       30  three orders in four shipped express
#      Regulars (loyal, big_spender, price_sensitive, convenience) sign up
#      all the time, more of them early on; one_time and occasional
#      buyers and prospects follow the growth of the shop.
#   3. Order days follow a seasonal curve: quieter January and February,
#      busier November and December, peaks on Black Friday (strongest in
#      the US), the Saturday after it, Cyber Monday and the ten days before
#      Christmas; few orders on 25 December.  Order times follow a daily
#      curve with an evening peak.
#   4. Each order has 1-6 lines (big spenders up to 8) in six categories
#      (books, music, electronics, home, toys, garden) with category price
#      ranges; each customer has a price level (budget to premium) and a
#      favourite category; toys sell more before Christmas, garden in
#      spring.
#   5. Discounts: 12 % of orders use a 5-20 % coupon, most orders on Black
#      Friday, the Saturday after it and Cyber Monday get 20-30 %,
#      price-sensitive customers 15-40 %.
#      amount = sum(price * quantity) - discount.
#   6. Refunds: about 1.5 % of orders are refunded 2-30 days later, fully
#      or one line; the refund is an orders row with a negative amount and
#      refund_of set.
#   7. Events from 1 September 2025: a session before every order (views,
#      clicks, add_to_cart per line, purchase), and browsing sessions
#      without an order, some with abandoned carts; prospects browse too.

package require sqlite3

if {[llength $argv] != 1} {
  puts stderr "usage: tclsh examples.tcl OUTFILE"
  exit 1
}
set zOut [lindex $argv 0]
set zSchema [file join [file dirname [file normalize [info script]]] schema.sql]

#------------------------------------------------------------------------
# Random numbers: L'Ecuyer (1988) combined LCG; rnd returns (0,1).
#
set s1 20230101
set s2 20251231
proc rnd {} {
  global s1 s2
  set s1 [expr {($s1 * 40014) % 2147483563}]
  set s2 [expr {($s2 * 40692) % 2147483399}]
  set z [expr {$s1 - $s2}]
  if {$z < 1} { incr z 2147483562 }
  return [expr {$z / 2147483563.0}]
}
# An integer in [a, b].
proc randint {a b} { expr {$a + int([rnd] * ($b - $a + 1))} }
# A real in [a, b).
proc uniform {a b} { expr {$a + [rnd] * ($b - $a)} }
# Exponential with the given mean.
proc expo {mean} { expr {-$mean * log([rnd])} }
# Poisson with the given mean (Knuth; the means here are small).
proc poisson {mean} {
  if {$mean <= 0} { return 0 }
  if {$mean > 50} {
    # Normal approximation for large means.
    set u1 [rnd]; set u2 [rnd]
    set z [expr {sqrt(-2.0*log($u1)) * cos(6.283185307179586*$u2)}]
    return [expr {max(0, int(round($mean + sqrt($mean)*$z)))}]
  }
  set l [expr {exp(-$mean)}]
  set k 0
  set p [rnd]
  while {$p > $l} { incr k; set p [expr {$p * [rnd]}] }
  return $k
}
# Pick from a list {item weight item weight ...}.
proc pick {lw} {
  set tot 0.0
  foreach {x w} $lw { set tot [expr {$tot + $w}] }
  set u [expr {[rnd] * $tot}]
  foreach {x w} $lw {
    set u [expr {$u - $w}]
    if {$u < 0} { return $x }
  }
  return $x
}

#------------------------------------------------------------------------
# Calendar.  Days are numbered from 0 = 2023-01-01 to 1095 = 2025-12-31;
# internally day numbers are days since 1970-01-01 (H. Hinnant's
# algorithms).
#
set E0 19358                 ;# 2023-01-01 as days since 1970-01-01
set NDAY 1096
set EV0 974                  ;# 2025-09-01: first day of the events table

proc civil {z} {
  set z [expr {$z + 719468}]
  set era [expr {$z / 146097}]
  set doe [expr {$z - $era * 146097}]
  set yoe [expr {($doe - $doe/1460 + $doe/36524 - $doe/146096) / 365}]
  set y [expr {$yoe + $era * 400}]
  set doy [expr {$doe - (365*$yoe + $yoe/4 - $yoe/100)}]
  set mp [expr {(5*$doy + 2) / 153}]
  set d [expr {$doy - (153*$mp + 2)/5 + 1}]
  set m [expr {$mp < 10 ? $mp + 3 : $mp - 9}]
  if {$m <= 2} { incr y }
  return [list $y $m $d]
}
proc daynum {y m d} {
  if {$m <= 2} { incr y -1 }
  set era [expr {$y / 400}]
  set yoe [expr {$y - $era * 400}]
  set doy [expr {(153*($m > 2 ? $m - 3 : $m + 9) + 2)/5 + $d - 1}]
  set doe [expr {$yoe*365 + $yoe/4 - $yoe/100 + $doy}]
  return [expr {$era * 146097 + $doe - 719468}]
}
proc isodate {z} {
  lassign [civil $z] y m d
  format %04d-%02d-%02d $y $m $d
}
# Shop day -> 'YYYY-MM-DD'; month and day of month.
for {set d 0} {$d < $NDAY} {incr d} {
  lassign [civil [expr {$E0 + $d}]] y m dd
  set DSTR($d) [format %04d-%02d-%02d $y $m $dd]
  set MON($d) $m
  set MDAY($d) $dd
  set YEAR($d) $y
}
proc shopday {y m d} { expr {[daynum $y $m $d] - $::E0} }
# Timestamp (seconds since 2023-01-01 00:00:00) -> 'YYYY-MM-DD HH:MM:SS'.
proc isots {ts} {
  set d [expr {$ts / 86400}]
  set s [expr {$ts % 86400}]
  format "%s %02d:%02d:%02d" $::DSTR($d) [expr {$s/3600}] \
      [expr {($s/60)%60}] [expr {$s%60}]
}

# Day weights per region: the seasonal curve of section 3.
foreach y {2023 2024 2025} {
  set n1 [daynum $y 11 1]
  set dow [expr {($n1 + 4) % 7}]               ;# 0 = Sunday
  set thanks [expr {$n1 + (4 - $dow + 7) % 7 + 21 - $E0}]
  set BF($y) [expr {$thanks + 1}]
  lappend special($thanks) thanksgiving
  lappend special([expr {$thanks+1}]) blackfriday
  lappend special([expr {$thanks+2}]) bfsaturday
  lappend special([expr {$thanks+4}]) cybermonday
}
set WMAX 0.0
foreach region {US UK DE} {
  for {set d 0} {$d < $NDAY} {incr d} {
    set m $MON($d)
    set md $MDAY($d)
    set w [lindex {0 0.8 0.85 1.0 1.0 1.0 0.95 0.95 1.0 1.05 1.1 1.35 1.6} $m]
    if {$m == 12 && $md >= 13 && $md <= 22} { set w 2.3 }
    if {$m == 12 && $md == 23} { set w 1.6 }
    if {$m == 12 && $md == 24} { set w 0.8 }
    if {$m == 12 && $md == 25} { set w 0.35 }
    if {$m == 12 && $md == 26} { set w [expr {$region eq "UK" ? 1.5 : 1.0}] }
    if {$m == 12 && $md >= 27} { set w 0.9 }
    if {[info exists special($d)]} {
      switch [lindex $special($d) 0] {
        thanksgiving { set w [expr {$region eq "US" ? 0.7 : 1.3}] }
        blackfriday  { set w [dict get {US 6.0 UK 4.5 DE 3.5} $region] }
        bfsaturday   { set w 2.6 }
        cybermonday  { set w [dict get {US 4.0 UK 3.0 DE 2.5} $region] }
      }
    }
    set W($region,$d) $w
    if {$w > $WMAX} { set WMAX $w }
  }
}
# A day in [a, b] drawn along the seasonal curve of REGION.
proc seasonday {region a b} {
  while 1 {
    set d [randint $a $b]
    if {[rnd] * $::WMAX < $::W($region,$d)} { return $d }
  }
}
# A time of day in seconds, along the daily curve (evening peak).
set HOURW {0 2 1 1 2 1 3 1 4 1 5 1 6 2 7 3 8 4 9 5 10 5 11 6 12 7 13 6
           14 5 15 5 16 5 17 6 18 7 19 9 20 10 21 9 22 6 23 4}
proc timeofday {} {
  expr {[pick $::HOURW]*3600 + [randint 0 59]*60 + [randint 0 59]}
}
proc is_season {d} {
  expr {($::MON($d) == 11 && $::MDAY($d) >= 10)
        || ($::MON($d) == 12 && $::MDAY($d) <= 23)}
}

#------------------------------------------------------------------------
# Products.
#
set CATS {books music electronics home toys garden}
array set PLO {books 6 music 8 electronics 20 home 10 toys 8 garden 6}
array set PHI {books 60 music 40 electronics 1200 home 400 toys 150 garden 350}
proc catweights {d} {
  set m $::MON($d)
  set toys 15; set garden 15; set elec 15
  if {$m == 11 || $m == 12} { set toys 40; set elec 22 }
  if {$m >= 3 && $m <= 6} { set garden 35 }
  if {$m <= 2 || $m >= 11} { set garden 5 }
  list books 25 music 10 electronics $elec home 20 toys $toys garden $garden
}
# Unit price in cents for a customer of price level L (0 budget .. 1
# premium): log-uniform within the category range, shifted by L, ending
# in .99 or .49.
proc price {cat L} {
  set lo $::PLO($cat); set hi $::PHI($cat)
  set x [expr {0.75*$L + 0.25*[rnd]}]
  set p [expr {$lo * pow(double($hi)/$lo, $x)}]
  set whole [expr {max(1, int($p))}]
  expr {$whole*100 + ([rnd] < 0.7 ? 99 : 49) - 100}
}

#------------------------------------------------------------------------
# Customers.
#
set PERSONAS {
  prospect 280 one_time 840 occasional 330 loyal 260 big_spender 50
  lapsed 120 seasonal 60 price_sensitive 30 convenience 30
}
set g 0
foreach {persona n} $PERSONAS {
  for {set i 0} {$i < $n} {incr i} {
    set region [pick {US 50 UK 30 DE 20}]
    switch $persona {
      loyal - big_spender - price_sensitive - convenience {
        # Regulars join all the time, more of them early on.
        set s [seasonday $region 0 [randint 0 1000]]
      }
      lapsed {
        set s [seasonday $region 0 520]
      }
      seasonal {
        set y [pick {2023 3 2024 2 2025 1}]
        set s [seasonday $region [shopday $y 11 10] [shopday $y 12 20]]
      }
      default {
        # Growing shop: signup density rising from 1 to 2 over the years.
        while 1 {
          set x [expr {-1.0 + sqrt(1.0 + 3.0*[rnd])}]
          set s [expr {min($NDAY-1, int($x * $NDAY))}]
          if {[rnd] * $WMAX < $W($region,$s)} break
        }
      }
    }
    set P($g) $persona
    set S($g) $s
    set R($g) $region
    switch $persona {
      big_spender     { set lvl [uniform 0.75 1.0] }
      price_sensitive { set lvl [uniform 0.0 0.35] }
      default         { set lvl [expr {pow([rnd], 1.3)}] }
    }
    set L($g) $lvl
    set FAV($g) [pick {books 30 music 12 electronics 18 home 20 toys 12
                       garden 8}]
    lappend order [list $s [rnd] $g]
    incr g
  }
}
set NCUST $g
# Customer ids in signup order.
set id 0
set order [lsort -integer -index 0 [lsort -real -index 1 $order]]
foreach rec $order {
  set g [lindex $rec 2]
  set CID($g) [incr id]
}
unset order

#------------------------------------------------------------------------
# Orders.  Held in arrays keyed by a temporary number k; renumbered in time
# order at the end.
#
set NK 0
proc add_order {g d} {
  global NK O
  set k [incr NK]
  set O($k,cust) $g
  set O($k,ts) [expr {$d * 86400 + [timeofday]}]
  return $k
}
for {set g 0} {$g < $NCUST} {incr g} {
  set persona $P($g)
  set region $R($g)
  set s $S($g)
  if {$persona eq "prospect"} continue
  set last [expr {$NDAY - 1}]
  if {$persona eq "seasonal"} {
    set n 0
    foreach y {2023 2024 2025} {
      set a [expr {max($s, [shopday $y 11 10])}]
      set b [shopday $y 12 23]
      if {$a > $b} continue
      if {$n > 0 && [rnd] > 0.85} continue
      set m [pick {1 50 2 35 3 15}]
      for {set i 0} {$i < $m} {incr i} {
        add_order $g [seasonday $region $a $b]
        incr n
      }
    }
    continue
  }
  # First order: the day of signing up or soon after.
  if {[rnd] < 0.45} { set f $s } else {
    set f [expr {min($last, $s + int([expo 6]))}]
  }
  add_order $g $f
  switch $persona {
    one_time { continue }
    occasional {
      set n [pick {1 30 2 25 3 18 4 12 5 8 6 4 7 3}]
      set b $last
    }
    loyal           { set gap [uniform 8 30];  set b $last }
    big_spender     { set gap [uniform 25 50]; set b $last }
    price_sensitive { set gap [uniform 18 36]; set b $last }
    convenience     { set gap [uniform 14 32]; set b $last }
    lapsed {
      set gap [uniform 25 60]
      set b [expr {max($f + 60, [randint 300 700])}]
      set b [expr {min($b, 700)}]
    }
  }
  if {$f >= $b} continue
  if {$persona ne "occasional"} {
    set n [poisson [expr {($b - $f) / $gap}]]
  }
  for {set i 0} {$i < $n} {incr i} {
    add_order $g [seasonday $region [expr {$f + 1}] $b]
  }
}
set NORD $NK

# Baskets, discounts, shipping.
for {set k 1} {$k <= $NORD} {incr k} {
  set g $O($k,cust)
  set persona $P($g)
  set d [expr {$O($k,ts) / 86400}]
  set nl [pick {1 55 2 25 3 12 4 5 5 2 6 1}]
  if {$persona eq "big_spender"} { incr nl [randint 0 2] }
  set cw [catweights $d]
  set items {}
  set tot 0
  for {set i 0} {$i < $nl} {incr i} {
    if {[rnd] < 0.45} { set cat $FAV($g) } else { set cat [pick $cw] }
    set p [price $cat $L($g)]
    if {$cat in {books music toys} && $p < 3000} {
      set q [pick {1 75 2 18 3 7}]
    } else {
      set q [pick {1 92 2 7 3 1}]
    }
    lappend items [list $cat $p $q]
    incr tot [expr {$p * $q}]
  }
  set O($k,items) $items
  # Discount percentage.
  set pct 0
  set promo [expr {[info exists special($d)] && [lindex $special($d) 0]
                   in {blackfriday bfsaturday cybermonday}}]
  if {$persona eq "price_sensitive"} {
    if {[rnd] < 0.88} { set pct [randint 15 40] }
  } elseif {$promo && [rnd] < 0.7} {
    set pct [pick {20 50 25 30 30 20}]
  } elseif {[rnd] < 0.12} {
    set pct [pick {5 20 10 50 15 20 20 10}]
  }
  set O($k,disc) [expr {($tot * $pct + 50) / 100}]
  set O($k,amount) [expr {$tot - $O($k,disc)}]
  switch $persona {
    convenience { set O($k,ship) [pick {express 75 standard 15 pickup 10}] }
    big_spender { set O($k,ship) [pick {express 40 standard 50 pickup 10}] }
    price_sensitive { set O($k,ship) [pick {standard 70 pickup 29 express 1}] }
    default     { set O($k,ship) [pick {standard 78 express 10 pickup 12}] }
  }
  set O($k,refund_of) {}
}

# Refunds: a row of their own, 2-30 days after the order.
for {set k0 1} {$k0 <= $NORD} {incr k0} {
  if {[rnd] >= 0.015} continue
  set d [expr {$O($k0,ts) / 86400 + [randint 2 30]}]
  if {$d >= $NDAY} continue
  if {[rnd] < 0.65 || [llength $O($k0,items)] == 1} {
    set a $O($k0,amount)
  } else {
    set nl [llength $O($k0,items)]
    lassign [lindex $O($k0,items) [randint 0 [expr {$nl - 1}]]] cat p q
    set full [expr {$O($k0,amount) + $O($k0,disc)}]
    set a [expr {($p * $q * $O($k0,amount) + $full/2) / $full}]
  }
  set k1 [add_order $O($k0,cust) $d]
  set O($k1,items) {}
  set O($k1,disc) 0
  set O($k1,amount) [expr {-$a}]
  set O($k1,ship) {}
  set O($k1,refund_of) $k0
}
set NALL $NK

# Order ids in time order (ties: the order of generation).
set recs {}
for {set k 1} {$k <= $NALL} {incr k} { lappend recs [list $O($k,ts) $k] }
set id 0
foreach rec [lsort -integer -index 0 $recs] {
  set OID([lindex $rec 1]) [incr id]
}
unset recs

#------------------------------------------------------------------------
# Events (from day EV0 on).  A session is a list of events
# {type seconds category value orderid}; it is placed so that its purchase
# event falls on the order's time, or starting at a browsing time.
#
proc views {cats L n} {
  set ev {}
  for {set i 0} {$i < $n} {incr i} {
    set cat [lindex $cats [randint 0 [expr {[llength $cats]-1}]]]
    lappend ev [list view [expr {5 + int([expo 50])}] $cat [price $cat $L] {}]
    if {[rnd] < 0.3} {
      lappend ev [list click [randint 1 20] $cat {} {}]
    }
  }
  return $ev
}
set ENDTS [expr {$NDAY * 86400 - 1}]
set sessions {}
set ns 0
proc add_session {g start ev} {
  global sessions ns
  lappend sessions [list $start [incr ns] $g $ev]
}
# Sessions before orders.
for {set k 1} {$k <= $NALL} {incr k} {
  if {$O($k,ts) < $EV0 * 86400 || $O($k,refund_of) ne ""} continue
  set g $O($k,cust)
  set cats {}
  foreach it $O($k,items) { lappend cats [lindex $it 0] }
  set ev [views [concat $cats $CATS] $L($g) [pick {0 30 1 30 2 20 3 12 4 8}]]
  foreach it $O($k,items) {
    lassign $it cat p q
    lappend ev [list view [expr {10 + int([expo 60])}] $cat $p {}]
    lappend ev [list add_to_cart [randint 3 25] $cat [expr {$p * $q}] {}]
  }
  set dur 0
  foreach e $ev { incr dur [lindex $e 1] }
  lappend ev [list purchase [randint 10 60] {} $O($k,amount) $OID($k)]
  set start [expr {$O($k,ts) - $dur}]
  if {$start < $EV0 * 86400} continue
  add_session $g $start $ev
}
# Browsing sessions without an order.
array set BROWSE {
  prospect 1.5 one_time 1.0 occasional 2.0 loyal 6 big_spender 4
  lapsed 0.3 seasonal 2.5 price_sensitive 6 convenience 3
}
set evdays [expr {$NDAY - $EV0}]
for {set g 0} {$g < $NCUST} {incr g} {
  set persona $P($g)
  set a [expr {max($EV0, $S($g))}]
  set b [expr {$NDAY - 1}]
  if {$persona eq "seasonal"} { set a [expr {max($a, [shopday 2025 11 1])}] }
  if {$a > $b} continue
  set n [poisson [expr {$BROWSE($persona) * ($b - $a + 1) / double($evdays)}]]
  for {set i 0} {$i < $n} {incr i} {
    set d [seasonday $R($g) $a $b]
    set cats [concat $FAV($g) $FAV($g) [lrange [catweights $d] 0 end]]
    set cats [lsearch -all -inline -not -regexp $cats {^[0-9]}]
    set ev [views $cats $L($g) [pick {1 35 2 25 3 18 4 10 5 7 8 4 12 1}]]
    set pcart [expr {$persona in {prospect price_sensitive} ? 0.4 : 0.25}]
    if {[rnd] < $pcart} {
      set m [pick {1 70 2 22 3 8}]
      for {set j 0} {$j < $m} {incr j} {
        set cat [lindex $cats [randint 0 [expr {[llength $cats]-1}]]]
        set p [price $cat $L($g)]
        lappend ev [list view [expr {10 + int([expo 60])}] $cat $p {}]
        lappend ev [list add_to_cart [randint 3 25] $cat $p {}]
      }
    }
    set dur 0
    foreach e $ev { incr dur [lindex $e 1] }
    set start [expr {$d * 86400 + [timeofday]}]
    if {$start + $dur > $ENDTS} { set start [expr {$ENDTS - $dur}] }
    add_session $g $start $ev
  }
}

#------------------------------------------------------------------------
# Write the database.
#
file delete -force $zOut
sqlite3 db $zOut
set fd [open $zSchema r]
set zSql [read $fd]
close $fd
db eval {PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF}
db eval $zSql
proc money {cents} { expr {$cents / 100.0} }

db transaction {
  for {set g 0} {$g < $NCUST} {incr g} {
    set cid $CID($g)
    # Birth date: age 18-85 on 2025-12-31, mostly 25-50.
    set u [expr {([rnd] + [rnd] + [rnd]) / 3.0}]
    set age [expr {min(85, 18 + int($u * 50 + [expo 4]))}]
    set by [expr {2025 - $age}]
    set doy [randint 0 364]
    set birth [isodate [expr {[daynum $by 1 1] + $doy}]]
    if {$cid % 283 == 0} {
      # A few 29 February birthdays.
      set by [expr {$by - $by % 4}]
      set birth [format %04d-02-29 $by]
    }
    if {[rnd] < 0.025} { set birth {} }
    set signup $DSTR($S($g))
    set region $R($g)
    if {$birth eq ""} {
      db eval {INSERT INTO customers VALUES($cid, $signup, NULL, $region)}
    } else {
      db eval {INSERT INTO customers VALUES($cid, $signup, $birth, $region)}
    }
    set persona $P($g)
    db eval {INSERT INTO personas VALUES($cid, $persona)}
  }
  for {set k 1} {$k <= $NALL} {incr k} {
    set oid $OID($k)
    set cid $CID($O($k,cust))
    set ts [isots $O($k,ts)]
    set amount [money $O($k,amount)]
    set disc [money $O($k,disc)]
    set ship $O($k,ship)
    if {$O($k,refund_of) eq ""} {
      db eval {INSERT INTO orders VALUES($oid, $cid, $ts, $amount, $disc,
                                         $ship, NULL)}
    } else {
      set ref $OID($O($k,refund_of))
      db eval {INSERT INTO orders VALUES($oid, $cid, $ts, $amount, $disc,
                                         NULL, $ref)}
    }
    set line 0
    foreach it $O($k,items) {
      lassign $it cat p q
      incr line
      set price [money $p]
      db eval {INSERT INTO order_items VALUES($oid, $line, $cat, $price, $q)}
    }
  }
  set sid 0
  set eid 0
  foreach s [lsort -integer -index 0 $sessions] {
    lassign $s ts - g ev
    incr sid
    set cid $CID($g)
    foreach e $ev {
      lassign $e type secs cat value oid
      set at [isots $ts]
      incr eid
      if {$value ne ""} { set value [money $value] }
      db eval {INSERT INTO events VALUES($eid, $cid, $sid, $type, $at, $secs,
                 nullif($cat, ''), nullif($value, ''), nullif($oid, ''))}
      incr ts $secs
    }
  }
}
db eval {ANALYZE; VACUUM}
db close
