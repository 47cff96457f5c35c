// segsql: runs SQL statements on a dqlite cluster and prints their rows as
// the sqlite3 shell does in list mode ('|' between values, NULL as an
// empty string, REAL values as SQLite prints them).
//
//	segsql -cluster 127.0.0.1:9001,127.0.0.1:9002 [-db NAME] [-timeout 60s] [SQL ...]
//	segsql -cluster ... -leader        (prints the leader's address)
//
// Each argument is one request; without arguments each line of standard
// input is one (empty lines and lines starting with "--" are skipped).  A
// request may hold several statements only when none returns rows.  The
// first error is printed on standard error as "Error: MESSAGE" and ends
// the program with status 1, as `sqlite3 -bail` does.
//
// dqlite has two requests: a query, whose rows come back, and an exec,
// whose changes are replicated.  A statement is sent as a query when it
// reads only: SELECT, VALUES, EXPLAIN, a WITH whose main statement is a
// SELECT, or a PRAGMA that sets nothing; everything else is an exec.  Two
// things are refused before they are sent: a query request of several
// statements (dqlite would run the first one only) and a write with
// RETURNING (it aborts a libdqlite 1.11 node).
package main

import (
	"bufio"
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/canonical/go-dqlite/client"
	"github.com/canonical/go-dqlite/driver"
)

func main() {
	cluster := flag.String("cluster", "127.0.0.1:9001", "comma-separated addresses of the cluster's nodes")
	dbName := flag.String("db", "shop", "database name")
	timeout := flag.Duration("timeout", 60*time.Second, "time limit of each request")
	verbose := flag.Bool("v", false, "log the driver's messages on standard error")
	leader := flag.Bool("leader", false, "print the address of the cluster's leader and exit")
	flag.Parse()

	store := client.NewInmemNodeStore()
	var nodes []client.NodeInfo
	for _, a := range strings.Split(*cluster, ",") {
		nodes = append(nodes, client.NodeInfo{Address: strings.TrimSpace(a)})
	}
	if err := store.Set(context.Background(), nodes); err != nil {
		fail(err)
	}
	logf := func(client.LogLevel, string, ...interface{}) {}
	if *verbose {
		logf = func(l client.LogLevel, f string, a ...interface{}) {
			fmt.Fprintf(os.Stderr, "segsql: %s: %s\n", l.String(), fmt.Sprintf(f, a...))
		}
	}
	drv, err := driver.New(store, driver.WithLogFunc(logf),
		driver.WithConnectionTimeout(5*time.Second), driver.WithContextTimeout(*timeout))
	if err != nil {
		fail(err)
	}
	if *leader {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		cli, err := client.FindLeader(ctx, store, client.WithLogFunc(logf))
		if err != nil {
			fail(err)
		}
		defer cli.Close()
		info, err := cli.Leader(ctx)
		if err != nil {
			fail(err)
		}
		fmt.Println(info.Address)
		return
	}
	sess := &session{drv: drv, name: *dbName, logf: logf}
	defer sess.drop()

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	run := func(stmt string) {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		if err := sess.run(ctx, stmt, out); err != nil {
			out.Flush()
			fail(err)
		}
	}
	if flag.NArg() > 0 {
		for _, s := range flag.Args() {
			run(s)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		run(line)
	}
	if err := in.Err(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	var de driver.Error
	if errors.As(err, &de) {
		fmt.Fprintf(os.Stderr, "Error: %s (code %d)\n", de.Message, de.Code)
	} else {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	}
	os.Exit(1)
}

// session holds one connection to the leader, opened again after an
// error that closed it.  database/sql is not used: it retries a request
// that failed with driver.ErrBadConn up to three times, which would run a
// failing statement three times over.
type session struct {
	drv  *driver.Driver
	name string
	conn sqldriver.Conn
	logf client.LogFunc
}

func (s *session) get() (sqldriver.Conn, error) {
	if s.conn == nil {
		c, err := s.drv.Open(s.name)
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	return s.conn, nil
}

func (s *session) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *session) exec(ctx context.Context, stmt string) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	_, err = c.(sqldriver.ExecerContext).ExecContext(ctx, stmt, nil)
	if errors.Is(err, sqldriver.ErrBadConn) {
		s.drop()
	}
	return err
}

// run sends one request and prints the rows of a query.
//
// libdqlite 1.11 answers a query that fails while it steps (after it was
// prepared) with a mangled error: its code is the number of result
// columns and its message the first column's name (go-dqlite then reports
// code 12, "not found", as a lost connection).  So a failed query is sent
// again as an exec, whose error comes back whole; the query's error is
// kept only if the exec fails no better.
func (s *session) run(ctx context.Context, stmt string, out *bufio.Writer) error {
	toks := words(stmt)
	if !readOnly(toks) {
		for _, t := range toks {
			if t == "RETURNING" {
				// the statement steps with a row while its transaction
				// is open, and libdqlite 1.11.1's leader aborts on an
				// assertion of its VFS (vfsFileShmLock)
				return errors.New("not sent: a write with RETURNING aborts a libdqlite 1.11 node; run the write, then a SELECT")
			}
		}
		return s.exec(ctx, stmt)
	}
	for i, t := range toks {
		if t == ";" && i+1 < len(toks) {
			// a query request runs its first statement only
			return errors.New("not sent: a query must be one statement (dqlite runs the first one only)")
		}
	}
	err := s.query(ctx, stmt, out)
	if err == nil {
		return nil
	}
	if errors.Is(err, sqldriver.ErrBadConn) {
		s.drop()
	}
	var de driver.Error
	if !errors.As(err, &de) && !errors.Is(err, sqldriver.ErrBadConn) {
		return err
	}
	if errors.As(err, &de) {
		s.logf(client.LogDebug, "query failed (code %d, %q); sent again as an exec", de.Code, de.Message)
	} else {
		s.logf(client.LogDebug, "query failed (%v); sent again as an exec", err)
	}
	if xerr := s.exec(ctx, stmt); xerr != nil {
		var xe driver.Error
		if errors.As(xerr, &xe) {
			return xerr
		}
	}
	return err
}

func (s *session) query(ctx context.Context, stmt string, out *bufio.Writer) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	rows, err := c.(sqldriver.QueryerContext).QueryContext(ctx, stmt, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]sqldriver.Value, len(rows.Columns()))
	for {
		err := rows.Next(vals)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i, v := range vals {
			if i > 0 {
				out.WriteByte('|')
			}
			out.WriteString(format(v))
		}
		out.WriteByte('\n')
	}
}

// format writes a value as sqlite3_column_text() does.
func format(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatReal(x)
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		// dqlite turns TEXT of columns declared DATE, DATETIME or
		// TIMESTAMP into times; written back in SQLite's layout
		return x.Format("2006-01-02 15:04:05.999999999-07:00")
	default:
		return fmt.Sprint(x)
	}
}

// formatReal is SQLite's "%!.15g": 15 significant digits, and a ".0" when
// the digits have no decimal point.
func formatReal(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	case math.IsNaN(x):
		return ""
	case x == 0:
		return "0.0" // -0.0 too, as SQLite prints it
	}
	s := strconv.FormatFloat(x, 'g', 15, 64)
	mant, exp := s, ""
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant, exp = s[:i], s[i:]
	}
	if !strings.ContainsRune(mant, '.') {
		mant += ".0"
	}
	return mant + exp
}

// readPragmas are the PRAGMAs that read with an argument in parentheses;
// with one, any other sets a value.  writePragmas write without one.
var readPragmas = map[string]bool{
	"TABLE_INFO": true, "TABLE_XINFO": true, "TABLE_LIST": true,
	"INDEX_INFO": true, "INDEX_XINFO": true, "INDEX_LIST": true,
	"FOREIGN_KEY_LIST": true, "FOREIGN_KEY_CHECK": true,
	"INTEGRITY_CHECK": true, "QUICK_CHECK": true,
}
var writePragmas = map[string]bool{
	"OPTIMIZE": true, "INCREMENTAL_VACUUM": true, "WAL_CHECKPOINT": true,
}

// readOnly tells whether a statement is sent as a query (see the top).
func readOnly(toks []string) bool {
	if len(toks) == 0 {
		return false
	}
	switch toks[0] {
	case "SELECT", "VALUES", "EXPLAIN":
		return true
	case "PRAGMA":
		// PRAGMA [schema.]name [= value | (value)]
		name, rest := "", toks[1:]
		if len(rest) > 0 {
			name, rest = rest[0], rest[1:]
		}
		if len(rest) > 1 && rest[0] == "." {
			name, rest = rest[1], rest[2:]
		}
		if writePragmas[name] {
			return false
		}
		for _, t := range rest {
			if t == "=" {
				return false
			}
		}
		return len(rest) == 0 || rest[0] != "(" || readPragmas[name]
	case "WITH":
		// the main statement is the first keyword at depth 0 after the
		// common table expressions
		depth := 0
		for _, t := range toks[1:] {
			switch t {
			case "(":
				depth++
			case ")":
				depth--
			default:
				if depth == 0 {
					switch t {
					case "SELECT", "VALUES":
						return true
					case "INSERT", "UPDATE", "DELETE", "REPLACE":
						return false
					}
				}
			}
		}
	}
	return false
}

// words splits SQL into upper-cased bare words and the characters ( ) = . ;
// leaving out strings, quoted identifiers (each becomes "?") and comments.
func words(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for j < len(s) && s[j] != end {
				j++
			}
			out = append(out, "?")
			i = j + 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		case c == '(' || c == ')' || c == '=' || c == '.' || c == ';':
			out = append(out, string(c))
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, strings.ToUpper(s[i:j]))
			i = j
		default:
			i++
		}
	}
	return out
}
