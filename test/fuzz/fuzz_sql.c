/*
** fuzz_sql.c: libFuzzer harness that runs fuzzed SQL against a small
** database with libsegment registered (`make fuzz`, replayed by
** `make check`).
**
** Requirements:
**   1. Each input is SQL text run with sqlite3_exec() on a fresh in-memory
**      database that holds small sources of every shape the extension
**      reads: a rowid table (orders), a WITHOUT ROWID table (wr), a view
**      (v), a table with odd values (odd: NULLs, bad dates, text and blob
**      amounts, INT64 bounds, Inf), events, a rules table (rules), an
**      attached in-memory schema (aux) and an identifier with quotes,
**      spaces and unicode.
**   2. Errors are expected and ignored; crashes, sanitizer reports and
**      leaks (LeakSanitizer) are the findings.
**   3. Runs are bounded: a progress handler stops a statement after about
**      one million virtual-machine steps, SQLITE_LIMIT_LENGTH is 1 MB and
**      the heap is capped at 64 MB.
**   4. Nothing touches the file system: ATTACH is allowed for ':memory:'
**      and '' only (authorizer), and inputs containing VACUUM (VACUUM INTO
**      writes a file) are skipped.
**
** Example:  fuzz_sql -dict=build/check/fuzz/sql.dict test/fuzz/corpus/sql
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_segment_init(sqlite3*, char**, const sqlite3_api_routines*);

static const char zSetup[] =
  "ATTACH ':memory:' AS aux;"
  "CREATE TABLE orders(order_id INTEGER PRIMARY KEY, customer_id, ordered_at,"
  "  amount, discount, shipping);"
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<60)"
  " INSERT INTO orders SELECT i, 1 + i%7, date('2024-01-01', '+' || ((i*11)%400)"
  "  || ' days') || ' 10:00:00', round((i*37)%200 - 10 + 0.25, 2), i%3,"
  "  'standard' FROM n;"
  "CREATE TABLE wr(customer TEXT, date TEXT, total REAL, oid INT,"
  "  PRIMARY KEY(customer, date, oid)) WITHOUT ROWID;"
  "INSERT INTO wr SELECT 'c' || customer_id, substr(ordered_at, 1, 10), amount,"
  "  order_id FROM orders;"
  "CREATE VIEW v AS SELECT customer_id AS customer, ordered_at AS date, amount"
  "  FROM orders WHERE amount > 0;"
  "CREATE TABLE odd(customer_id, ordered_at, amount);"
  "INSERT INTO odd VALUES(1, '2024-01-01', 10), (NULL, '2024-01-02', 1),"
  "  (2, NULL, 1), (3, '2024-02-30', 1), (4, '2024-03-01', 'abc'),"
  "  (5, '2024-03-02', x'00ff'), (6, 1709251200, 9223372036854775807),"
  "  (7, 2460000.5, -9223372036854775808), (8, '2024-03-04Z', 1e300),"
  "  (9, '2024-03-05 10:00:00+02:00', 9e999), (1.0, '2024-03-06', ''),"
  "  ('1', '2024-03-07', ' 12.5 '), (x'01', '2024-03-08', -5);"
  "CREATE TABLE events(customer_id, occurred_at, event_type, seconds, value,"
  "  session_id, category);"
  "INSERT INTO events SELECT customer_id, ordered_at, 'view', order_id%90,"
  "  amount, order_id/3, 'books' FROM orders;"
  "CREATE TABLE rules(segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi, priority);"
  "INSERT INTO rules VALUES('top', 4, 5, 4, 5, 1, 5, 1),"
  "  ('rest', 1, 5, 1, 5, 1, 5, 2);"
  "CREATE TABLE aux.orders AS SELECT * FROM main.orders WHERE order_id<20;"
  "CREATE TABLE \"we\"\"ird [t]; é\"(\"cust id\", \"the date\", \"$amt\");"
  "INSERT INTO \"we\"\"ird [t]; é\" SELECT customer_id, ordered_at, amount"
  "  FROM orders;";

static int fuzzProgress(void *p){
  int *pn = (int*)p;
  return ++(*pn) > 1000;              /* x 1000 steps */
}

static int fuzzAuth(void *p, int eCode, const char *z1, const char *z2,
                    const char *z3, const char *z4){
  (void)p; (void)z2; (void)z3; (void)z4;
  if( eCode==SQLITE_ATTACH ){
    if( z1==0 || (z1[0] && strcmp(z1, ":memory:")!=0) ) return SQLITE_DENY;
  }
  return SQLITE_OK;
}

static int bInit = 0;

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  sqlite3 *db = 0;
  char *zSql;
  char *zErr = 0;
  int nProgress = 0;
  size_t i;
  if( !bInit ){
    sqlite3_initialize();
    sqlite3_hard_heap_limit64(64*1024*1024);
    bInit = 1;
  }
  if( nData>100000 ) return 0;
  zSql = malloc(nData+1);
  if( zSql==0 ) return 0;
  memcpy(zSql, aData, nData);
  zSql[nData] = 0;
  for(i=0; i+6<=nData; i++){
    if( sqlite3_strnicmp(zSql+i, "vacuum", 6)==0 ){ free(zSql); return 0; }
  }
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ){
    sqlite3_close(db);
    free(zSql);
    return 0;
  }
  if( sqlite3_segment_init(db, &zErr, 0)!=SQLITE_OK ) abort();
  if( sqlite3_exec(db, zSetup, 0, 0, &zErr)!=SQLITE_OK ) abort();
  sqlite3_set_authorizer(db, fuzzAuth, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000000);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 3);
  sqlite3_progress_handler(db, 1000, fuzzProgress, &nProgress);
  sqlite3_exec(db, zSql, 0, 0, &zErr);
  sqlite3_free(zErr);
  sqlite3_close(db);
  free(zSql);
  return 0;
}
