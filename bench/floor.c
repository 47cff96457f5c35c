/*
** floor.c: the row-fetch floor of the benchmark, a tiny loadable extension.
**
**   .load ./floor
**   SELECT bench_fetch('orders');
**
** bench_fetch(TABLE) prepares
**
**   SELECT customer_id, ordered_at, amount FROM "TABLE"
**
** steps every row, reads the three columns (the customer as an integer,
** the date as text with its length, the amount as a double) and does
** nothing else.  It returns the number of rows.  This is the least work
** any function that reads every order through SQLite can do, so rfm_score
** is measured against it (bench/run.py).
**
** Requirements:
**   1. The three values are folded into a checksum that is kept alive (so
**      no read can be optimised away); only the row count is returned.
**   2. A prepare or step error is returned as the function's error.
**   3. Registered SQLITE_DIRECTONLY: it runs SQL on the table it is given,
**      so it is for the benchmark only, never part of libsegment.
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

static volatile sqlite3_uint64 floorSink;

static void floorFetch(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zTab = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 nRow = 0;
  sqlite3_uint64 h = 0;
  char *zSql;
  int rc;
  (void)argc;
  if( zTab==0 ) return;
  zSql = sqlite3_mprintf(
      "SELECT customer_id, ordered_at, amount FROM \"%w\"", zTab);
  if( zSql==0 ){ sqlite3_result_error_nomem(ctx); return; }
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
    return;
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_int64 iCust = sqlite3_column_int64(pStmt, 0);
    const unsigned char *zDate = sqlite3_column_text(pStmt, 1);
    int nDate = sqlite3_column_bytes(pStmt, 1);
    double rAmt = sqlite3_column_type(pStmt, 2)==SQLITE_NULL ? 0.0
                  : sqlite3_column_double(pStmt, 2);
    h = h*31 + (sqlite3_uint64)iCust + (sqlite3_uint64)nDate
          + (zDate ? zDate[nDate>0 ? nDate-1 : 0] : 0) + (sqlite3_uint64)rAmt;
    nRow++;
  }
  floorSink = h;
  if( rc!=SQLITE_DONE ){
    sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
  }else{
    sqlite3_result_int64(ctx, nRow);
  }
  sqlite3_finalize(pStmt);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_floor_init(sqlite3 *db, char **pzErr,
                       const sqlite3_api_routines *pApi){
  SQLITE_EXTENSION_INIT2(pApi);
  (void)pzErr;
  return sqlite3_create_function(db, "bench_fetch", 1,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                 floorFetch, 0, 0);
}
