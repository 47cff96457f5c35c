package main

import (
	"math"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		v    interface{}
		want string
	}{
		{nil, ""}, {int64(-7), "-7"}, {"a|b", "a|b"}, {[]byte("x"), "x"},
		{1.0, "1.0"}, {0.1, "0.1"}, {2344.22, "2344.22"}, {1.0 / 3, "0.333333333333333"},
		{25.2066666666667, "25.2066666666667"}, {1e20, "1.0e+20"}, {1.5e-7, "1.5e-07"},
		{math.Copysign(0, -1), "0.0"}, {1e14, "100000000000000.0"}, {1e15, "1.0e+15"}, {1.23456789012345678e17, "1.23456789012346e+17"}, {math.Inf(1), "Inf"}, {math.Inf(-1), "-Inf"}, {true, "1"},
		{time.Date(2024, 1, 5, 10, 0, 0, 0, time.UTC), "2024-01-05 10:00:00+00:00"},
	}
	for _, c := range cases {
		if got := format(c.v); got != c.want {
			t.Errorf("format(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1":                             true,
		"  select * from rfm_score('orders')":  true,
		"VALUES (1)":                           true,
		"EXPLAIN QUERY PLAN SELECT 1":          true,
		"WITH x AS (SELECT 1) SELECT * FROM x": true,
		"WITH x(v) AS (SELECT 1) INSERT INTO t SELECT v FROM x":  false,
		"with x as (select ')') delete from t":                   false,
		"PRAGMA table_info(orders)":                              true,
		"PRAGMA main.table_info('orders')":                       true,
		"PRAGMA user_version":                                    true,
		"PRAGMA user_version = 3":                                false,
		"PRAGMA user_version(3)":                                 false,
		"PRAGMA optimize":                                        false,
		"-- comment\nSELECT 1":                                   true,
		"/* SELECT */ INSERT INTO t VALUES (1)":                  false,
		"CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END": false,
		"CREATE VIRTUAL TABLE r USING rfm_score(source=orders)":  false,
		"": false,
	}
	for sql, want := range cases {
		if got := readOnly(words(sql)); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", sql, got, want)
		}
	}
}
