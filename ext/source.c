/*
** source.c: the one source reader, and source_stats().
**
** Every table-valued function over a transaction or event table reads it
** here (DESIGN.md section 2):
**
**   1. The source is the option source= (or the bare 1st argument): a table
**      or view, `schema.table` when `schema` is an attached database,
**      otherwise the whole text is the table name.  It is always quoted as
**      an identifier; no SQL text is ever taken from the user.
**   2. Columns come from their options (customer=, date=, amount=, order=
**      and the function's own) or, when absent, from the first present of
**      the usual names.  A column that cannot be found is an error that
**      lists the source's columns and the option to add.  Only the needed
**      columns are read, in one pass.  The order column, without
**      order=, is the first present of order_id, orderid, order_number,
**      order_no, invoice_id, invoice_no, invoiceno, invoice_number,
**      invoice; order=none reads none.  An order column that is its
**      table's whole PRIMARY KEY holds no id twice and is not read.
**      date_format= (a strftime layout) reads the TEXT of every date
**      column (util.c 1.5); as_of= and since= are always ISO.
**   3. Each row is, in this order: skipped as null_customer (NULL, or
**      TEXT that is empty or all spaces: segCustomerIsNull), null_date,
**      bad_date (an error unless on_error=skip), bad_amount (likewise),
**      after_as_of (a day after as_of= or before since=); or used.
**      Errors name the column, the value and the row (rowid, or `row N`,
**      the 1-based position in the scan, for views and WITHOUT ROWID
**      tables).  The rowid is read under the first of its names rowid,
**      oid, _rowid_ that no column of the table has; a table with columns
**      of all three names has its rows named by position too.
**      When on_error=skip skipped every row that has a customer and a
**      date, the scan ends with an error giving the count and the first
**      bad value (source_stats reports the counts instead).
**   4. Used rows with amount < 0 are refunds: not orders.  Other used rows
**      are orders; with order=, rows sharing an order id within a customer
**      are one order (a NULL id is an order of its own).
**   5. Customers are grouped as GROUP BY groups them and ordered as
**      ORDER BY orders them (SegMap): under the customer column's
**      collation (BINARY, NOCASE or RTRIM; any other is an error), text in
**      the database's encoding (segSourceCollation).
**   6. as_of defaults to the latest day of the usable rows (non-NULL
**      customer, valid date).
**   7. Interrupts and progress handlers stop the scan: the inner
**      statement runs on the caller's connection.
**   8. Batch mode (segSourceBatch), for callers that read only the scalar
**      fields of a row: rows are read SEG_BATCH at a time, keys copied,
**      map slots loaded while the following rows are read, customers found
**      in one tight loop and the caller's state prefetched, with
**      SEG_LOOKAHEAD found rows kept ahead of the caller.  Rows, counts,
**      indexes and errors are exactly those of one-row mode; an error met
**      while reading ahead is delivered after the rows before it.
**   9. segSourceScan runs the caller's loop on a worker thread when the
**      connection allows one (PRAGMA threads >= 1, an allocator safe to
**      call from two threads): this thread steps the statement into a
**      ring of buffers, the worker finds the customers and does the
**      caller's work.  Rows, counts and errors are those of one thread.
**  10. segSourceEach is the one scan every table-valued function runs:
**      its rows to a callback with the customer's state, which it keeps
**      (grown, zeroed, prefetched); in batch mode and on the worker when
**      the callback reads only a row's scalar fields.
**
** source_stats(source, options...) returns one row describing what the
** reader read and skipped: rows, used, null_customer, null_date, bad_date,
** bad_amount, after_as_of, refunds, refund_only, customers, first_date,
** last_date, as_of, orders, order_column.  rows = used + the skipped
** counts; orders counts the orders of the used rows (rows sharing an
** order id are one) and order_column names the order column read.
*/
#include "segmentInt.h"
#include <string.h>

/* The reader thread (threads.c; -DSEG_THREADS=0 builds without threads:
** every scan then runs on the caller's thread). */
#if SEG_THREADS && defined(__SSE2__)
# include <emmintrin.h>
#endif

static const char *const azAutoCustomer[] = {
  "customer_id", "customer", "customerid", "customer id", 0
};
static const char *const azAutoDate[] = {
  "ordered_at", "order_date", "date", "created_at", "invoicedate",
  "invoice_date", 0
};
static const char *const azAutoAmount[] = { "amount", "total", "revenue", 0 };
static const char *const azAutoOrder[] = {
  "order_id", "orderid", "order_number", "order_no", "invoice_id",
  "invoice_no", "invoiceno", "invoice_number", "invoice", 0
};

const SegColumn segStdColumns[3] = {
  { "customer", azAutoCustomer, SEG_COL_VALUE,  1 },
  { "date",     azAutoDate,     SEG_COL_DATE,   1 },
  { "amount",   azAutoAmount,   SEG_COL_AMOUNT, 1 },
};

#define SRC_ERR(p, pzErr, ...) \
  (*(pzErr) = segOptsError((p)->pOpts, __VA_ARGS__), \
   *(pzErr) ? SQLITE_ERROR : SQLITE_NOMEM)

int segCustomerIsNull(sqlite3_value *pVal){
  const unsigned char *z;
  int n, i;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL: return 1;
    case SQLITE_TEXT: break;
    default: return 0;
  }
  z = sqlite3_value_text(pVal);
  if( z==0 ) return 0;            /* out of memory: the key's copy says so */
  n = sqlite3_value_bytes(pVal);
  for(i=0; i<n && z[i]==' '; i++){}
  return i==n;
}

/* Is zCol the whole PRIMARY KEY of table zTab (a table, not a view)? Its
** values are then distinct.  0 when not, or when unknown. */
static int segIsWholeKey(sqlite3 *db, const char *zSchema, const char *zTab,
                         const char *zCol){
  sqlite3_stmt *pStmt = 0;
  int bPk = 0, bWhole = 0;
  if( sqlite3_table_column_metadata(db, zSchema, zTab, zCol, 0, 0, 0,
                                    &bPk, 0)!=SQLITE_OK || !bPk ){
    return 0;
  }
  if( sqlite3_prepare_v2(db, zSchema
          ? "SELECT count(*) FROM pragma_table_info(?1, ?2) WHERE pk>0"
          : "SELECT count(*) FROM pragma_table_info(?1) WHERE pk>0",
          -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC)==SQLITE_OK
   && (zSchema==0 || sqlite3_bind_text(pStmt, 2, zSchema, -1,
                                       SQLITE_STATIC)==SQLITE_OK)
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    bWhole = sqlite3_column_int(pStmt, 0)==1;
  }
  sqlite3_finalize(pStmt);
  return bWhole;
}

/* Is zName an attached schema of db? */
int segIsSchema(sqlite3 *db, const char *zName, int nName){
  sqlite3_stmt *pStmt = 0;
  int bFound = 0;
  if( sqlite3_prepare_v2(db, "PRAGMA database_list", -1, &pStmt, 0) ){
    return 0;
  }
  while( !bFound && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 1);
    if( z && (int)strlen(z)==nName && sqlite3_strnicmp(z, zName, nName)==0 ){
      bFound = 1;
    }
  }
  sqlite3_finalize(pStmt);
  return bFound;
}

/* The column list of a statement, for messages. */
static char *segColumnList(sqlite3_stmt *pStmt){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i, n = sqlite3_column_count(pStmt);
  for(i=0; i<n; i++){
    const char *z = sqlite3_column_name(pStmt, i);
    sqlite3_str_appendf(pStr, "%s%s", i ? ", " : "", z ? z : "?");
  }
  return sqlite3_str_finish(pStr);
}

static int segFindColumn(sqlite3_stmt *pStmt, const char *zName){
  int i, n = sqlite3_column_count(pStmt);
  for(i=0; i<n; i++){
    const char *z = sqlite3_column_name(pStmt, i);
    if( z && sqlite3_stricmp(z, zName)==0 ) return i;
  }
  return -1;
}

/* The database's text encoding: SQLITE_UTF8, SQLITE_UTF16LE or _UTF16BE
** (0 on OOM). */
static int segDbEncoding(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int eEnc = SQLITE_UTF8;
  if( sqlite3_prepare_v2(db, "PRAGMA encoding", -1, &pStmt, 0) ){
    return sqlite3_errcode(db)==SQLITE_NOMEM ? 0 : SQLITE_UTF8;
  }
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    if( z==0 ) eEnc = 0;
    else if( sqlite3_stricmp(z, "UTF-16le")==0 ) eEnc = SQLITE_UTF16LE;
    else if( sqlite3_stricmp(z, "UTF-16be")==0 ) eEnc = SQLITE_UTF16BE;
  }else if( sqlite3_errcode(db)==SQLITE_NOMEM ){
    eEnc = 0;
  }
  sqlite3_finalize(pStmt);
  return eEnc;
}

/*
** Group and order customers as GROUP BY and ORDER BY on the customer
** column do (detail 5): under the column's collation, text in the
** database's encoding.  A table's column has the collation it declares
** (sqlite3_table_column_metadata); a view's column declares none, and
** SQLite's GROUP BY applies the collation of the expression under it,
** which is found here by how it groups and orders texts that the three
** collations group differently:
**
**   'a', 'A', 'b', 'b ', 'b  '    BINARY 5 groups, NOCASE 4, RTRIM 3
**
** (united with an empty select of the view, so no row of it is read).
** Any other collation is an error.
*/
static int segSourceCollation(SegSource *p, const char *zSchema,
                              const char *zName, const char *zCol,
                              const char *zDisplay, char **pzErr){
  const char *zColl = 0;
  int eColl = -1, eEnc, rc;
  rc = sqlite3_table_column_metadata(p->db, zSchema, zName, zCol,
                                     0, &zColl, 0, 0, 0);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc==SQLITE_OK ){
    if( zColl==0 || sqlite3_stricmp(zColl, "BINARY")==0 ){
      eColl = SEG_COLL_BINARY;
    }else if( sqlite3_stricmp(zColl, "NOCASE")==0 ){
      eColl = SEG_COLL_NOCASE;
    }else if( sqlite3_stricmp(zColl, "RTRIM")==0 ){
      eColl = SEG_COLL_RTRIM;
    }
  }else{
    /* a view (or a table-valued function): ask GROUP BY and ORDER BY */
    sqlite3_stmt *pStmt = 0;
    char *zSql = sqlite3_mprintf(
        "SELECT count(*), group_concat(c, '|'), group_concat(lower(c), '|'),"
        " group_concat(rtrim(c), '|') FROM (SELECT c FROM ("
        "SELECT \"%w\" AS c FROM %s WHERE 0"
        " UNION SELECT 'a' UNION SELECT 'A' UNION SELECT 'b'"
        " UNION SELECT 'b ' UNION SELECT 'b  ') ORDER BY c)",
        zCol, p->zTable);
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_OK ) rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      static const char *const azWant[] = {
        "A|a|b|b |b  ", "a|b|b |b  ", "A|a|b"    /* BINARY, NOCASE, RTRIM */
      };
      int k = 5 - sqlite3_column_int(pStmt, 0);
      if( k>=0 && k<=2 ){
        const char *z = (const char*)sqlite3_column_text(pStmt, 1+k);
        if( z==0 ){ sqlite3_finalize(pStmt); return SQLITE_NOMEM; }
        if( strcmp(z, azWant[k])==0 ) eColl = k;
      }
      rc = SQLITE_OK;
    }else{
      rc = sqlite3_errcode(p->db);
      rc = rc==SQLITE_NOMEM ? rc
         : SRC_ERR(p, pzErr, "cannot read %s: %s", zDisplay,
                   sqlite3_errmsg(p->db));
    }
    sqlite3_finalize(pStmt);
    if( rc ) return rc;
    if( eColl<0 ){
      return SRC_ERR(p, pzErr, "customer column %s of %s has a collation "
                     "other than BINARY, NOCASE and RTRIM", zCol, zDisplay);
    }
  }
  if( eColl<0 ){
    return SRC_ERR(p, pzErr, "customer column %s of %s has collation '%s'; "
                   "only BINARY, NOCASE and RTRIM are supported",
                   zCol, zDisplay, zColl);
  }
  eEnc = segDbEncoding(p->db);
  if( eEnc==0 ) return SQLITE_NOMEM;
  segMapCollate(&p->cust, eColl, eEnc);
  return SQLITE_OK;
}

/*
** The name under which the scan reads the rowid of table zTab (in schema
** zSchema, or the first that has it when zSchema is NULL): the first of
** SQLite's names for it, rowid, oid and _rowid_, that no column of the
** table (hidden ones included) is named.  *pzAlias is NULL when there is
** no rowid to read (a view, a WITHOUT ROWID table) or when all three are
** the names of columns: rows are then named by their position.  SQLITE_OK
** or SQLITE_NOMEM.
*/
int segRowidAlias(sqlite3 *db, const char *zSchema, const char *zTab,
                  const char **pzAlias){
  static const char *const azAlias[] = { "rowid", "oid", "_rowid_" };
  sqlite3_stmt *pStmt = 0;
  int aShadow[3] = { 0, 0, 0 };
  int rc, i;
  *pzAlias = 0;
  rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1, ?2)",
                          -1, &pStmt, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC);
  if( rc==SQLITE_OK && zSchema ){
    rc = sqlite3_bind_text(pStmt, 2, zSchema, -1, SQLITE_STATIC);
  }
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    rc = SQLITE_OK;
    if( z==0 && sqlite3_errcode(db)==SQLITE_NOMEM ) rc = SQLITE_NOMEM;
    for(i=0; z && i<3; i++){
      if( sqlite3_stricmp(z, azAlias[i])==0 ) aShadow[i] = 1;
    }
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc!=SQLITE_DONE ) return SQLITE_OK;   /* unreadable: count rows */
  for(i=0; i<3 && aShadow[i]; i++){}
  /* a name no column has is the rowid, if the table has one: not a view
  ** nor a WITHOUT ROWID table */
  if( i<3 && sqlite3_table_column_metadata(db, zSchema, zTab, azAlias[i],
                                           0, 0, 0, 0, 0)==SQLITE_OK ){
    *pzAlias = azAlias[i];
  }
  return SQLITE_OK;
}

/* "no column 'zName' in zDisplay (columns: ...)" */
static int segNoColumn(SegSource *p, sqlite3_stmt *pAll, const char *zName,
                       const char *zDisplay, char **pzErr){
  char *zList = segColumnList(pAll);
  int rc = SRC_ERR(p, pzErr, "no column '%s' in %s (columns: %s)",
                   zName, zDisplay, zList ? zList : "");
  sqlite3_free(zList);
  return rc;
}

/* The first of the usual names azAuto that pAll has, or -1. */
static int segFindAuto(sqlite3_stmt *pAll, const char *const *azAuto){
  int k, iFound = -1;
  for(k=0; iFound<0 && azAuto && azAuto[k]; k++){
    iFound = segFindColumn(pAll, azAuto[k]);
  }
  return iFound;
}

/*
** Phase 2 of segSourceOpen: each role's column (its option, else the
** first present of its usual names) into p->aiCol, and the order column
** (order=, none, or the first of the usual order-id names) into
** p->iOrderCol and p->zOrderCol.
*/
static int segSourceColumns(SegSource *p, sqlite3_stmt *pAll,
                            const char *zDisplay, char **pzErr){
  const SegColumn *aCol = p->aCol;
  const char *zOrder = segOptsGet(p->pOpts, "order");
  int i;
  p->aiCol = sqlite3_malloc64(sizeof(int)*(p->nCol+1));
  if( p->aiCol==0 ) return SQLITE_NOMEM;
  for(i=0; i<p->nCol; i++){
    const char *zOpt = segOptsGet(p->pOpts, aCol[i].zOpt);
    int iFound = zOpt ? segFindColumn(pAll, zOpt)
                      : segFindAuto(pAll, aCol[i].azAuto);
    if( iFound<0 && zOpt ){
      return segNoColumn(p, pAll, zOpt, zDisplay, pzErr);
    }
    if( iFound<0 && aCol[i].bRequired ){
      char *zList = segColumnList(pAll);
      int rc = aCol[i].azAuto
        ? SRC_ERR(p, pzErr, "cannot find the %s column of %s "
                  "(columns: %s); add the option %s=COLUMN",
                  aCol[i].zOpt, zDisplay, zList ? zList : "", aCol[i].zOpt)
        : SRC_ERR(p, pzErr, "the option %s=COLUMN is required "
                  "(columns of %s: %s)", aCol[i].zOpt, zDisplay,
                  zList ? zList : "");
      sqlite3_free(zList);
      return rc;
    }
    p->aiCol[i] = iFound;
  }
  if( zOrder && sqlite3_stricmp(zOrder, "none")==0 ) return SQLITE_OK;
  p->iOrderCol = zOrder ? segFindColumn(pAll, zOrder)
                        : segFindAuto(pAll, azAutoOrder);
  if( p->iOrderCol<0 && zOrder ){
    return segNoColumn(p, pAll, zOrder, zDisplay, pzErr);
  }
  if( p->iOrderCol>=0 ){
    const char *z = sqlite3_column_name(pAll, p->iOrderCol);
    p->zOrderCol = z ? sqlite3_mprintf("%s", z) : 0;
    if( p->zOrderCol==0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/*
** Phase 1 of segSourceOpen: the source's name quoted into p->zTable (with
** its schema, *pzSchema, when the name before a dot is one), the rowid's
** name in the scan (*pzRowid, 0 for a view or a WITHOUT ROWID table), and
** "SELECT *" of it prepared into *ppAll, whose errors name the source as
** the user gave it.
*/
static int segSourceTable(SegSource *p, const char *zSrc, char **pzSchema,
                          const char **pzName, const char **pzRowid,
                          sqlite3_stmt **ppAll, char **pzErr){
  sqlite3 *db = p->db;
  const char *zDot = strchr(zSrc, '.');
  char *zSql;
  int rc;
  if( zDot && segIsSchema(db, zSrc, (int)(zDot-zSrc)) ){
    *pzSchema = sqlite3_mprintf("%.*s", (int)(zDot-zSrc), zSrc);
    if( *pzSchema==0 ) return SQLITE_NOMEM;
    p->zTable = sqlite3_mprintf("\"%w\".\"%w\"", *pzSchema, zDot+1);
    *pzName = zDot+1;
  }else{
    p->zTable = sqlite3_mprintf("\"%w\"", zSrc);
    *pzName = zSrc;
  }
  if( p->zTable==0 ) return SQLITE_NOMEM;
  /* A view or a WITHOUT ROWID table has no rowid to name rows by */
  rc = segRowidAlias(db, *pzSchema, *pzName, pzRowid);
  if( rc ) return rc;
  zSql = sqlite3_mprintf("SELECT * FROM %s", p->zTable);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, ppAll, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
    const char *zMsg = sqlite3_errmsg(db);
    if( strncmp(zMsg, "no such table: ", 15)==0
     && sqlite3_stricmp(zMsg+15, zSrc)==0 ){
      rc = SRC_ERR(p, pzErr, "no such table or view: %s", zSrc);
    }else{
      rc = SRC_ERR(p, pzErr, "cannot read %s: %s", zSrc, zMsg);
    }
  }
  return rc;
}

/*
** Phase 3 of segSourceOpen: the options of the window (as_of=, since=),
** of bad rows (on_error=) and of the dates' form (date_format=).
*/
static int segSourceWindow(SegSource *p, char **pzErr){
  static const char *const azOnError[] = { "error", "skip", 0 };
  const SegOpts *pOpts = p->pOpts;
  int rc = segOptsDay(pOpts, "as_of", &p->iAsOfDay, &p->bAsOf, pzErr);
  if( rc ) return rc;
  rc = segOptsDay(pOpts, "since", &p->iSinceDay, &p->bSince, pzErr);
  if( rc ) return rc;
  if( p->bAsOf && p->bSince && p->iSinceDay>p->iAsOfDay ){
    return SRC_ERR(p, pzErr, "since= is later than as_of=");
  }
  rc = segOptsEnum(pOpts, "on_error", azOnError, 0, &p->bSkipErrors, pzErr);
  if( rc ) return rc;
  rc = segDateFormatOpen(pOpts, &p->pDateFmt, pzErr);
  if( rc ) return rc;
  p->dateMemo.pFmt = p->pDateFmt;
  return SQLITE_OK;
}

/*
** Phase 4 of segSourceOpen: the scan into p->pStmt, which selects the
** rowid (zRowid, when there is one, else NULL), then each role's column
** (NULL for an absent optional one), then the order column.  Should the
** rowid's name not prepare, the scan is prepared again without it.
*/
static int segSourceScanStmt(SegSource *p, sqlite3_stmt *pAll,
                             const char *zRowid, const char *zDisplay,
                             char **pzErr){
  int rc = SQLITE_OK, i, iSkip;
  for(iSkip=zRowid ? 0 : 1; iSkip<2; iSkip++){
    sqlite3_str *pStr = sqlite3_str_new(p->db);
    char *zSql;
    if( iSkip==0 ){
      sqlite3_str_appendf(pStr, "SELECT %s", zRowid);
    }else{
      sqlite3_str_appendall(pStr, "SELECT NULL");
    }
    for(i=0; i<p->nCol; i++){
      if( p->aiCol[i]>=0 ){
        sqlite3_str_appendf(pStr, ", \"%w\"",
                            sqlite3_column_name(pAll, p->aiCol[i]));
      }else{
        sqlite3_str_appendall(pStr, ", NULL");
      }
    }
    if( p->iOrderCol>=0 ){
      sqlite3_str_appendf(pStr, ", \"%w\"",
                          sqlite3_column_name(pAll, p->iOrderCol));
    }
    sqlite3_str_appendf(pStr, " FROM %s", p->zTable);
    zSql = sqlite3_str_finish(pStr);
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(p->db, zSql, -1, &p->pStmt, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_OK ) break;
    if( rc==SQLITE_NOMEM ) return rc;
  }
  if( rc!=SQLITE_OK ){
    return SRC_ERR(p, pzErr, "cannot read %s: %s", zDisplay,
                   sqlite3_errmsg(p->db));
  }
  p->bHasRowid = (iSkip==0);
  return SQLITE_OK;
}

/*
** Phase 5 of segSourceOpen: the row's buffers (one value, number and
** time slot per role and one for the order id), of a batch of one row.
*/
static int segSourceBuffers(SegSource *p){
  int nNum = p->nCol+1;
  p->apVal = sqlite3_malloc64(sizeof(sqlite3_value*)*nNum);
  p->aNum = sqlite3_malloc64(sizeof(double)*nNum);
  p->aNumKnown = sqlite3_malloc64(sizeof(int)*nNum);
  p->aMs = sqlite3_malloc64(sizeof(i64)*nNum);
  p->aMsKnown = sqlite3_malloc64(sizeof(int)*nNum);
  if( !p->apVal || !p->aNum || !p->aNumKnown || !p->aMs || !p->aMsKnown ){
    return SQLITE_NOMEM;
  }
  memset(p->apVal, 0, sizeof(sqlite3_value*)*nNum);
  memset(p->aNum, 0, sizeof(double)*nNum);
  memset(p->aNumKnown, 0, sizeof(int)*nNum);
  memset(p->aMs, 0, sizeof(i64)*nNum);
  memset(p->aMsKnown, 0, sizeof(int)*nNum);
  p->aPend = sqlite3_malloc64(sizeof(SegPending));
  p->aFound = sqlite3_malloc64(sizeof(SegFound));
  if( p->aPend==0 || p->aFound==0 ) return SQLITE_NOMEM;
  if( p->iOrderCol>=0 ){
    p->aOrd = sqlite3_malloc64(sizeof(SegValue));
    if( p->aOrd==0 ) return SQLITE_NOMEM;
  }
  p->nBatch = 1;
  p->row.apVal = p->apVal;
  p->row.aNum = p->aNum;
  p->row.aNumKnown = p->aNumKnown;
  p->row.aMs = p->aMs;
  p->row.aMsKnown = p->aMsKnown;
  return SQLITE_OK;
}

int segSourceOpen(SegSource *p, sqlite3 *db, const SegOpts *pOpts,
                  const SegColumn *aCol, int nCol, char **pzErr){
  const char *zSrc = segOptsGet(pOpts, "source");
  sqlite3_stmt *pAll = 0;
  const char *zName = 0;          /* the table's name, without its schema */
  const char *zRowid = 0;         /* the rowid's name in the scan */
  const char *zCust;
  char *zSchema = 0;
  int rc;

  memset(p, 0, sizeof(*p));
  p->db = db;
  p->pOpts = pOpts;
  p->aCol = aCol;
  p->nCol = nCol;
  p->iOrderCol = -1;
  segMapInit(&p->cust);
  segMapInit(&p->orders);
  if( zSrc==0 ){
    return SRC_ERR(p, pzErr, "no source: give a table or view name as "
                             "1st argument or source=");
  }
  rc = segSourceTable(p, zSrc, &zSchema, &zName, &zRowid, &pAll, pzErr);
  if( rc==SQLITE_OK ) rc = segSourceColumns(p, pAll, zSrc, pzErr);
  if( rc ) goto open_done;

  /* The customer column's collation */
  zCust = sqlite3_column_name(pAll, p->aiCol[0]);
  if( zCust==0 ){ rc = SQLITE_NOMEM; goto open_done; }
  rc = segSourceCollation(p, zSchema, zName, zCust, zSrc, pzErr);
  if( rc ) goto open_done;
  /* an order column that is its table's whole key: each row is an
  ** order, as without one, and the ids need not be read */
  if( p->zOrderCol && segIsWholeKey(db, zSchema, zName, p->zOrderCol) ){
    p->iOrderCol = -1;
  }
  rc = segSourceWindow(p, pzErr);
  if( rc==SQLITE_OK ) rc = segSourceScanStmt(p, pAll, zRowid, zSrc, pzErr);
  if( rc==SQLITE_OK ) rc = segSourceBuffers(p);

open_done:
  sqlite3_finalize(pAll);
  sqlite3_free(zSchema);
  return rc;
}

void segSourceClose(SegSource *p){
  sqlite3_finalize(p->pStmt);
  p->pStmt = 0;
  sqlite3_free(p->aiCol);
  sqlite3_free(p->apVal);
  sqlite3_free(p->aNum);
  sqlite3_free(p->aNumKnown);
  sqlite3_free(p->aMs);
  sqlite3_free(p->aMsKnown);
  sqlite3_free(p->zTable);
  sqlite3_free(p->zOrderCol);
  p->zOrderCol = 0;
  sqlite3_free(p->aPend);
  sqlite3_free(p->aFound);
  sqlite3_free(p->aOrd);
  sqlite3_free(p->arena.a);
  sqlite3_free(p->zErrEnd);
  sqlite3_free(p->pDateFmt);
  p->pDateFmt = 0;
  p->dateMemo.pFmt = 0;
  p->aPend = 0;
  p->aFound = 0;
  p->aOrd = 0;
  p->arena.a = 0;
  p->zErrEnd = 0;
  p->nPend = p->iPend = 0;
  segMapFree(&p->cust);
  segMapFree(&p->orders);
  p->aiCol = 0;
  p->apVal = 0;
  p->aNum = 0;
  p->aNumKnown = 0;
  p->aMs = 0;
  p->aMsKnown = 0;
  p->zTable = 0;
}

/* "(rowid 12)" or "(row 12)" */
static char *segRowName(SegSource *p, i64 iRowid){
  return sqlite3_mprintf(p->bHasRowid ? "rowid %lld" : "row %lld", iRowid);
}

/* The error for a bad value in column iCol of the statement. */
static int segBadValue(SegSource *p, int iStmtCol, const char *zWhat,
                       char **pzErr){
  /* the statement is still on the row: its rowid is read only now */
  i64 iRowid = p->bHasRowid ? sqlite3_column_int64(p->pStmt, 0) : p->iPos;
  sqlite3_value *pVal = sqlite3_column_value(p->pStmt, iStmtCol);
  const char *zCol = sqlite3_column_name(p->pStmt, iStmtCol);
  char *zRow = segRowName(p, iRowid);
  char *zVal;
  int rc;
  if( zRow==0 ) return SQLITE_NOMEM;
  if( sqlite3_value_type(pVal)==SQLITE_BLOB ){
    zVal = sqlite3_mprintf("a blob");
  }else{
    const char *z = (const char*)sqlite3_value_text(pVal);
    zVal = sqlite3_mprintf("'%.60s'", z ? z : "");
  }
  if( zVal==0 ){ sqlite3_free(zRow); return SQLITE_NOMEM; }
  if( p->pDateFmt && sqlite3_value_type(pVal)==SQLITE_TEXT
   && strcmp(zWhat, "date")==0 ){
    rc = SRC_ERR(p, pzErr, "cannot parse date %s in column %s (%s) with "
                 "date_format '%s'", zVal, zCol ? zCol : "?", zRow,
                 segDateFormatText(p->pDateFmt));
  }else{
    rc = SRC_ERR(p, pzErr, "cannot parse %s %s in column %s (%s)",
                 zWhat, zVal, zCol ? zCol : "?", zRow);
  }
  sqlite3_free(zRow);
  sqlite3_free(zVal);
  return rc;
}

/* Keep the first bad value of a kind, quoted, for segAllSkipped(). */
static void segKeepExample(char *zBuf, sqlite3_value *pVal){
  const char *z;
  int n;
  if( zBuf[0] ) return;
  if( sqlite3_value_type(pVal)==SQLITE_BLOB ){
    memcpy(zBuf, "a blob", 7);
    return;
  }
  z = (const char*)sqlite3_value_text(pVal);
  n = z ? sqlite3_value_bytes(pVal) : 0;
  if( n>60 ){
    n = 60;
    while( n>0 && (z[n] & 0xc0)==0x80 ) n--;   /* not inside a character */
  }
  zBuf[0] = '\'';
  if( n ) memcpy(zBuf+1, z, n);
  zBuf[n+1] = '\'';
  zBuf[n+2] = 0;
}

/*
** The end of a scan under on_error=skip that skipped every row with a
** customer and a date as a bad date or a bad amount: an error, for a scan
** that would otherwise give nothing and say nothing.
*/
static int segAllSkipped(SegSource *p, char **pzErr){
  SegStats *st = &p->st;
  const char *zDateCol = sqlite3_column_name(p->pStmt, 2);
  const char *zAmtCol = st->nBadAmount
                      ? sqlite3_column_name(p->pStmt, st->iBadAmountCol) : 0;
  i64 n = st->nBadDate + st->nBadAmount;
  if( st->nBadAmount==0 ){
    return SRC_ERR(p, pzErr, "on_error=skip skipped all %lld rows with a "
                   "customer and a date: no date in column %s could be read "
                   "(e.g. %s); give their layout with date_format=",
                   n, zDateCol ? zDateCol : "?", st->zBadDate);
  }
  if( st->nBadDate==0 ){
    return SRC_ERR(p, pzErr, "on_error=skip skipped all %lld rows with a "
                   "customer and a date: no %s in column %s could be read "
                   "(e.g. %s)", n, st->zBadAmountWhat,
                   zAmtCol ? zAmtCol : "?", st->zBadAmount);
  }
  return SRC_ERR(p, pzErr, "on_error=skip skipped all %lld rows with a "
                 "customer and a date: %lld with a bad date in column %s "
                 "(e.g. %s), %lld with a bad %s in column %s (e.g. %s)",
                 n, st->nBadDate, zDateCol ? zDateCol : "?", st->zBadDate,
                 st->nBadAmount, st->zBadAmountWhat, zAmtCol ? zAmtCol : "?",
                 st->zBadAmount);
}

/* Under on_error=skip: note a bad value of the role in column iCol (of
** kind zWhat) in a row that is skipped. */
static void segKeepBad(SegStats *st, int iCol, const char *zWhat,
                       sqlite3_value *pV){
  if( st->zBadAmount[0]==0 ){
    st->iBadAmountCol = iCol;
    st->zBadAmountWhat = zWhat;
  }
  segKeepExample(st->zBadAmount, pV);
}

/*
** The roles after customer and date of the current row: each amount's
** number into p->aNum (the amount's kind and value, the role at 2, into
** *peAmount and *prAmount), each date's time into p->aMs.  Returns
** SQLITE_OK, SQLITE_ROW for a row to skip for a bad value (on_error=skip),
** or an error.
*/
static int segSourceRoles(SegSource *p, int *peAmount, double *prAmount,
                          char **pzErr){
  SegStats *st = &p->st;
  int i;
  for(i=2; i<p->nCol; i++){
    sqlite3_value *pV = sqlite3_column_value(p->pStmt, i+1);
    p->apVal[i] = pV;
    if( p->aCol[i].eKind==SEG_COL_AMOUNT ){
      const char *zWhat = i==2 ? "amount" : "number";
      int e = segAmountFromValue(pV, &p->aNum[i]);
      if( e<0 ){
        if( sqlite3_errcode(p->db)==SQLITE_NOMEM ) return SQLITE_NOMEM;
        if( !p->bSkipErrors ) return segBadValue(p, i+1, zWhat, pzErr);
        segKeepBad(st, i+1, zWhat, pV);
        return SQLITE_ROW;
      }
      p->aNumKnown[i] = (e==SEG_AMT_KNOWN);
      if( i==2 ){
        *peAmount = e;
        if( e==SEG_AMT_KNOWN ) *prAmount = p->aNum[i];
      }
    }else if( p->aCol[i].eKind==SEG_COL_DATE ){
      int e = segDateFromValueFmt(pV, &p->aMs[i], p->pDateFmt);
      if( e==SEG_DATE_BAD ){
        if( !p->bSkipErrors ) return segBadValue(p, i+1, "date", pzErr);
        segKeepBad(st, i+1, "date", pV);
        return SQLITE_ROW;
      }
      p->aMsKnown[i] = (e==SEG_DATE_OK);
    }
  }
  return SQLITE_OK;
}

/*
** A used row into *pP (its date's value already in p->apVal[1]): its
** customer (pCust, of type eCust), time iMs (on day iDay) and amount
** (NAN when not known), and its order key into *pOrd (with order=), keys
** borrowed from the statement; the statistics of orders and refunds.
** Returns SQLITE_ROW or SQLITE_NOMEM.
*/
static int segSourceUse(SegSource *p, SegPending *pP, SegValue *pOrd,
                        sqlite3_value *pCust, int eCust, i64 iMs, int iDay,
                        int eAmount, double rAmount){
  SegStats *st = &p->st;
  st->nUsed++;
  p->apVal[0] = pCust;
  pP->iMs = iMs;
  pP->rAmount = eAmount==SEG_AMT_KNOWN ? rAmount : NAN;
  if( eCust==SQLITE_INTEGER ){
    /* the usual customer id, without a second look at its type */
    pP->cust.eType = SQLITE_INTEGER;
    pP->cust.n = 0;
    pP->cust.u.i = sqlite3_value_int64(pCust);
  }else if( segValueBorrow(pCust, &pP->cust) ){
    return SQLITE_NOMEM;
  }
  if( pOrd ) pOrd->eType = SQLITE_NULL;
  if( eAmount==SEG_AMT_KNOWN && rAmount<0.0 ){
    st->nRefunds++;
  }else{
    if( st->nOrderRows==0 || iDay<st->iFirstOrderDay ) st->iFirstOrderDay = iDay;
    if( st->nOrderRows==0 || iDay>st->iLastOrderDay ) st->iLastOrderDay = iDay;
    st->nOrderRows++;
    if( pOrd ){
      sqlite3_value *pV = sqlite3_column_value(p->pStmt, p->nCol+1);
      if( sqlite3_value_type(pV)!=SQLITE_NULL ){
        if( segValueBorrow(pV, pOrd) ) return SQLITE_NOMEM;
      }
    }
  }
  return SQLITE_ROW;
}

/*
** Step to the next used row and classify it into *pP, and its order key
** into *pOrd (with order=; NULL otherwise), keys borrowed from the
** statement.
*/
static int segSourceStep(SegSource *p, SegPending *pP, SegValue *pOrd,
                         char **pzErr){
  SegStats *st = &p->st;
  sqlite3_stmt *pStmt = p->pStmt;
  int rc;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_value *pCust, *pDate;
    int eCust, eDate, iDay, eAmount = SEG_AMT_NULL;
    double rAmount = 0.0;
    i64 iMs;
    st->nRows++;
    p->iPos++;
    pCust = sqlite3_column_value(pStmt, 1);
    eCust = sqlite3_value_type(pCust);
    if( eCust!=SQLITE_INTEGER && segCustomerIsNull(pCust) ){
      st->nNullCustomer++;
      continue;
    }
    pDate = sqlite3_column_value(pStmt, 2);
    eDate = segDateFromValueMemo(pDate, &iMs, &p->dateMemo);
    if( eDate==SEG_DATE_NULL ){
      st->nNullDate++;
      continue;
    }
    if( eDate==SEG_DATE_BAD ){
      if( sqlite3_errcode(p->db)==SQLITE_NOMEM ) return SQLITE_NOMEM;
      if( p->bSkipErrors ){
        segKeepExample(st->zBadDate, pDate);
        st->nBadDate++;
        continue;
      }
      return segBadValue(p, 2, "date", pzErr);
    }
    iDay = segDayOfMs(iMs);
    if( !st->bAnyDay || iDay>st->iMaxDay ) st->iMaxDay = iDay;
    if( !st->bAnyDay || iDay<st->iMinDay ) st->iMinDay = iDay;
    st->bAnyDay = 1;
    rc = segSourceRoles(p, &eAmount, &rAmount, pzErr);
    if( rc==SQLITE_ROW ){
      st->nBadAmount++;
      continue;
    }
    if( rc ) return rc;
    if( (p->bSince && iDay<p->iSinceDay) || (p->bAsOf && iDay>p->iAsOfDay) ){
      st->nAfterAsOf++;
      continue;
    }
    p->apVal[1] = pDate;
    return segSourceUse(p, pP, pOrd, pCust, eCust, iMs, iDay, eAmount, rAmount);
  }
  if( rc==SQLITE_DONE ){
    if( p->bSkipErrors && !p->bCountOnly && st->nUsed+st->nAfterAsOf==0
     && st->nBadDate+st->nBadAmount>0 ){
      return segAllSkipped(p, pzErr);
    }
    return SQLITE_DONE;
  }
  if( rc==SQLITE_NOMEM ) return rc;
  *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  return rc;
}

/* Copy a borrowed text or blob key into the arena; its offset goes to
** pKey->u.i (the pointer is set once the batch is complete). */
static int segArenaKeep(SegArena *pA, SegValue *pKey){
  if( pKey->eType!=SQLITE_TEXT && pKey->eType!=SQLITE_BLOB ) return SQLITE_OK;
  if( pA->n + pKey->n > pA->nAlloc ){
    i64 nNew = pA->nAlloc ? pA->nAlloc : 4096;
    char *aNew;
    while( nNew < pA->n + pKey->n ) nNew *= 2;
    aNew = sqlite3_realloc64(pA->a, nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    pA->a = aNew;
    pA->nAlloc = nNew;
  }
  if( pKey->n ) memcpy(pA->a + pA->n, pKey->u.z, pKey->n);
  pKey->u.i = pA->n;
  pA->n += pKey->n;
  return SQLITE_OK;
}

/* Point a text key of a complete batch into its arena. */
static void segArenaResolve(SegValue *pKey, const SegArena *pA){
  if( pKey->eType==SQLITE_TEXT || pKey->eType==SQLITE_BLOB ){
    pKey->u.z = pA->a + pKey->u.i;
  }
}

/* Find the customers, then the orders (aOrd, with order=), of rows
** a[i0..n-1] into f[i0..n-1], whose hashes f[].h were taken and slots
** loaded ahead; the caller's state is loaded as each customer is known. */
static int segSourceFind(SegSource *p, const SegPending *a,
                         const SegValue *aOrd, SegFound *f, int i0, int n){
  int i, rc, bNew;
  for(i=i0; i<n; i++){
    rc = segMapFindKey(&p->cust, &a[i].cust, f[i].h, 0, &f[i].iCust, &bNew);
    if( rc ) return rc;
    f[i].bNewCust = (unsigned char)bNew;
    if( p->xPrefetch ) p->xPrefetch(p->pPrefetchCtx, f[i].iCust);
    if( aOrd && aOrd[i].eType!=SQLITE_NULL ){
      f[i].h = segMapHash(&p->orders, &aOrd[i], f[i].iCust);
      segMapPrefetch(&p->orders, &aOrd[i], f[i].h);
    }
  }
  for(i=i0; i<n; i++){
    if( aOrd && aOrd[i].eType!=SQLITE_NULL ){
      rc = segMapFindKey(&p->orders, &aOrd[i], f[i].h, f[i].iCust,
                         &f[i].iOrder, &bNew);
      if( rc ) return rc;
      f[i].bNewOrder = (unsigned char)bNew;
    }else{
      f[i].iOrder = -1;
      f[i].bNewOrder = 1;           /* a row of its own (refunds: unused) */
    }
  }
  return SQLITE_OK;
}

/* Hand a found row to the caller in p->row. */
static void segSourceDeliver(SegSource *p, const SegPending *pP,
                             const SegFound *pF){
  SegRow *pRow = &p->row;
  int bKnown = !isnan(pP->rAmount);
  pRow->iCust = pF->iCust;
  pRow->bNewCust = pF->bNewCust;
  pRow->iMs = pP->iMs;
  pRow->iDay = segDayOfMs(pP->iMs);   /* again: no room in the 32 bytes */
  pRow->eAmount = bKnown ? SEG_AMT_KNOWN : SEG_AMT_NULL;
  pRow->rAmount = bKnown ? pP->rAmount : 0.0;
  pRow->bRefund = bKnown && pP->rAmount<0.0;
  pRow->bOrder = !pRow->bRefund;
  pRow->bNewOrder = pRow->bOrder && pF->bNewOrder;
  pRow->iOrder = pRow->bOrder ? pF->iOrder : -1;
}

/*
** Read rows ahead until nBatch are pending (the ones not yet delivered
** kept first), then find their customers and orders in the maps, slots
** loaded ahead of the finds.  The end of the scan or an error met while
** reading ahead is delivered after the rows before it.
*/
static int segSourceFill(SegSource *p, char **pzErr){
  int nKeep = p->nPend - p->iPend;
  int n, i, rc = SQLITE_ROW;
  int bBatch = p->nBatch>1;
  if( nKeep>0 ){
    memmove(p->aPend, &p->aPend[p->iPend], sizeof(SegPending)*nKeep);
    memmove(p->aFound, &p->aFound[p->iPend], sizeof(SegFound)*nKeep);
    if( p->aOrd ){
      memmove(p->aOrd, &p->aOrd[p->iPend], sizeof(SegValue)*nKeep);
    }
  }
  p->iPend = 0;
  p->nPend = nKeep;
  p->arena.n = 0;
  for(n=nKeep; n<p->nBatch && !p->bEof; n++){
    SegPending *pP = &p->aPend[n];
    SegValue *pOrd = p->aOrd ? &p->aOrd[n] : 0;
    rc = segSourceStep(p, pP, pOrd, pzErr);
    if( rc==SQLITE_ROW ){
      /* load the slot while the next rows are read */
      p->aFound[n].h = segMapHash(&p->cust, &pP->cust, 0);
      segMapPrefetch(&p->cust, &pP->cust, p->aFound[n].h);
    }
    if( rc==SQLITE_ROW && bBatch ){
      rc = segArenaKeep(&p->arena, &pP->cust);
      if( rc==SQLITE_OK && pOrd ) rc = segArenaKeep(&p->arena, pOrd);
      if( rc==SQLITE_OK ) rc = SQLITE_ROW;
    }
    if( rc!=SQLITE_ROW ){
      p->bEof = 1;
      p->rcEnd = rc;
      p->zErrEnd = *pzErr;
      *pzErr = 0;
      break;
    }
  }
  if( bBatch ){
    /* the arena has stopped moving: text keys point into it */
    for(i=nKeep; i<n; i++){
      segArenaResolve(&p->aPend[i].cust, &p->arena);
      if( p->aOrd ) segArenaResolve(&p->aOrd[i], &p->arena);
    }
  }
  rc = segSourceFind(p, p->aPend, p->aOrd, p->aFound, nKeep, n);
  if( rc ) return rc;
  p->nPend = n;
  return SQLITE_OK;
}

#if SEG_THREADS
static int segRingNext(SegSource*, char**);
#endif

/* Next used row into p->row.  SQLITE_ROW, SQLITE_DONE or an error (with
** *pzErr).  Skipped rows are counted in p->st. */
static int segSourceNext(SegSource *p, char **pzErr){
#if SEG_THREADS
  if( p->pRing ) return segRingNext(p, pzErr);
#endif
  if( p->nPend - p->iPend <= p->nLook && !p->bEof ){
    int rc = segSourceFill(p, pzErr);
    if( rc ) return rc;
  }
  if( p->iPend>=p->nPend ){
    /* the end of the scan, or the error that ended it */
    int rc = p->rcEnd;
    *pzErr = p->zErrEnd;
    p->zErrEnd = 0;
    p->rcEnd = SQLITE_DONE;
    return rc;
  }
  segSourceDeliver(p, &p->aPend[p->iPend], &p->aFound[p->iPend]);
  p->iPend++;
  return SQLITE_ROW;
}

/* Batch mode, for loops that read only the scalar fields of p->row
** (never apVal, aNum, aMs): rows are read SEG_BATCH at a time and their
** map slots loaded ahead, which hides memory latency on large maps.
** xPrefetch, when not NULL, is called with each row's customer index as
** soon as it is known, well before the row is delivered: it loads the
** customer's state (SEG_PREFETCH).  Call after segSourceOpen(), before
** the first segSourceNext(). */
static int segSourceBatch(SegSource *p, void (*xPrefetch)(void*, int),
                          void *pCtx){
  SegPending *aNew;
  SegFound *aNewFound;
  if( p->nBatch>1 || p->nPend>0 || p->bEof ) return SQLITE_OK;
  aNew = sqlite3_realloc64(p->aPend, sizeof(SegPending)*SEG_BATCH);
  if( aNew==0 ) return SQLITE_NOMEM;
  p->aPend = aNew;
  aNewFound = sqlite3_realloc64(p->aFound, sizeof(SegFound)*SEG_BATCH);
  if( aNewFound==0 ) return SQLITE_NOMEM;
  p->aFound = aNewFound;
  if( p->aOrd ){
    SegValue *aNewOrd = sqlite3_realloc64(p->aOrd, sizeof(SegValue)*SEG_BATCH);
    if( aNewOrd==0 ) return SQLITE_NOMEM;
    p->aOrd = aNewOrd;
  }
  p->nBatch = SEG_BATCH;
  p->nLook = SEG_LOOKAHEAD;
  p->xPrefetch = xPrefetch;
  p->pPrefetchCtx = pCtx;
  return SQLITE_OK;
}

int segSourceAsOf(SegSource *p, int *piDay){
  if( p->bAsOf ){ *piDay = p->iAsOfDay; return 1; }
  if( p->st.bAnyDay ){ *piDay = p->st.iMaxDay; return 1; }
  return 0;
}

/* The customers kept by xKeep(pCtx, iCust), in customer order, into
** *paOut and *pnOut (segmentInt.h).  SQLITE_OK or SQLITE_NOMEM. */
int segSourceCustomers(SegSource *p, int (*xKeep)(void*, int), void *pCtx,
                       int **paOut, int *pnOut){
  int *a, i, n = 0;
  int rc = segMapSorted(&p->cust, paOut);
  if( rc ) return rc;
  a = *paOut;
  for(i=0; i<p->cust.nKey; i++){
    if( xKeep==0 || xKeep(pCtx, a[i]) ) a[n++] = a[i];
  }
  *pnOut = n;
  return SQLITE_OK;
}

/**************************************************************************
** The reader thread (segSourceScan)
**
** The calling thread, the only one that touches the statement, is the
** reader: it fills the buffer at iHead with rows (segSourceStep, text
** keys copied to the buffer's arena) and publishes it.  The worker runs
** the caller's loop: segSourceNext() takes the buffer at iTail, finds its
** customers SEG_BATCH rows at a time as in one-thread batch mode, delivers
** its rows and releases it.  nFull counts the buffers published and not
** yet released, the one the worker holds included.  The reader's end (the
** statement done, or its error) is published with its last buffer and
** delivered after the rows before it.  When the worker returns, the
** reader stops at its next buffer.
**
** The reader works on its own copy of the source (rd), so that the fields
** it writes for every row (stats, position, date memo) share no cache line
** with those the worker writes; they are copied back at the end.  Rows go
** to the ring with non-temporal stores where there are some (SSE2): a
** line the reader wrote would otherwise be fetched back from the worker's
** cache, one miss per two rows, before the reader could write it again.
** The stores are fenced before the buffer is published.
*/
#define SEG_RING_BUFS 8           /* buffers in the ring */
#define SEG_RING_ROWS 4096        /* rows per buffer */
#define SEG_RING_KEYS 65536       /* bytes of text keys per buffer */

#if SEG_THREADS
/* segRingStore() copies four 8-byte words: the build fails if SegPending
** is not 32 bytes. */
typedef char segPendingIs32[sizeof(SegPending)==32 ? 1 : -1];

/* Copy row *pSrc to *pDst, around the cache where possible. */
static void segRingStore(SegPending *pDst, const SegPending *pSrc){
#if defined(__SSE2__) && defined(__x86_64__)
  long long *d = (long long*)pDst;
  const long long *q = (const long long*)pSrc;
  _mm_stream_si64(d, q[0]);
  _mm_stream_si64(d+1, q[1]);
  _mm_stream_si64(d+2, q[2]);
  _mm_stream_si64(d+3, q[3]);
#else
  *pDst = *pSrc;
#endif
}

/* Order the rows stored before the buffer is published. */
static void segRingFence(void){
#if defined(__SSE2__) && defined(__x86_64__)
  _mm_sfence();
#endif
}

typedef struct SegRingBuf SegRingBuf;
struct SegRingBuf {
  SegPending *aRow;
  SegValue *aOrd;                 /* with order= */
  int nRow;
  int bLent;                      /* its last row's keys are the
                                  ** statement's own, not copies */
  SegArena arena;
};

struct SegRing {
  SegSource rd;                   /* the reader's copy of the source */
  char aPad1[128];
  SegRingBuf aBuf[SEG_RING_BUFS];
  pthread_mutex_t mu;
  pthread_cond_t cvRead;          /* the reader waits for a free buffer */
  pthread_cond_t cvWork;          /* the worker waits for a full buffer */
  int iHead;                      /* reader: next buffer to fill */
  int iTail;                      /* worker: buffer held or taken next */
  int nFull;                      /* published, not released */
  int bReadWaits, bWorkWaits;     /* a thread waits on its cv */
  int bEnd; int rcEnd; char *zErrEnd;   /* the reader's end */
  int bStop;                      /* the worker has returned */
  int (*xScan)(void*, char**);
  void *pCtx;
  char **pzErr;
  int rcScan;                     /* what xScan returned */
  char aPad2[128];
  int bHeld;                      /* worker: it holds aBuf[iTail] */
  int iFound;                     /* worker: rows of it found */
  SegFound aFound[SEG_RING_ROWS]; /* worker: their keys */
};

/*
** May this connection's scans use a worker thread?  Only when PRAGMA
** threads (SQLITE_LIMIT_WORKER_THREADS) allows one, as for SQLite's own
** sorter, and when SQLite's memory allocator may be called from two
** threads at once: its core mutexes are real.  That is so in the
** serialized and multi-thread modes and not in single-thread mode, where
** the mutexes are no-ops that never report a held mutex busy.
*/
static int segWorkerAllowed(sqlite3 *db){
  sqlite3_mutex *pMutex;
  int bReal = 0;
  if( sqlite3_threadsafe()==0 ) return 0;
  if( segThreadsAllowed(db)<1 ) return 0;
  if( sqlite3_db_mutex(db) ) return 1;         /* serialized */
  pMutex = sqlite3_mutex_alloc(SQLITE_MUTEX_FAST);
  if( pMutex==0 ) return 0;
  if( sqlite3_mutex_try(pMutex)==SQLITE_OK ){
    bReal = sqlite3_mutex_try(pMutex)!=SQLITE_OK;
    if( !bReal ) sqlite3_mutex_leave(pMutex);
    sqlite3_mutex_leave(pMutex);
  }
  sqlite3_mutex_free(pMutex);
  return bReal;
}

/* Bytes of a text or blob key (0 for other keys). */
static i64 segKeyBytes(const SegValue *pKey){
  return pKey->eType==SQLITE_TEXT || pKey->eType==SQLITE_BLOB ? pKey->n : 0;
}

/*
** Reader: fill the buffer at iHead (not full: nFull<SEG_RING_BUFS) and
** publish it, with the end of the scan if it came.
**
** The text keys in the ring are bounded in bytes, not only in rows: a
** buffer is published once its copies of them reach SEG_RING_KEYS bytes,
** so the ring's arenas stay below 2*SEG_RING_KEYS each whatever the keys'
** length.  A row whose keys alone are longer is not copied at all: it is
** the buffer's last row, its keys are lent from the statement, and the
** statement is stepped again only once the worker has released the buffer
** (a key that long costs more to copy than to wait for).
*/
static void segRingFill(SegRing *r){
  SegRingBuf *b = &r->aBuf[r->iHead];
  char *zErr = 0;
  int n = 0, rc = SQLITE_ROW;
  b->arena.n = 0;
  b->bLent = 0;
  while( n<SEG_RING_ROWS ){
    SegPending row;
    SegValue *pOrd = b->aOrd ? &b->aOrd[n] : 0;
    i64 nKey;
    rc = segSourceStep(&r->rd, &row, pOrd, &zErr);
    if( rc!=SQLITE_ROW ) break;
    nKey = segKeyBytes(&row.cust) + (pOrd ? segKeyBytes(pOrd) : 0);
    if( nKey>SEG_RING_KEYS ){
      b->bLent = 1;
    }else if( nKey ){
      rc = segArenaKeep(&b->arena, &row.cust);
      if( rc==SQLITE_OK && pOrd ) rc = segArenaKeep(&b->arena, pOrd);
      if( rc!=SQLITE_OK ) break;
      rc = SQLITE_ROW;
    }
    segRingStore(&b->aRow[n], &row);
    n++;
    if( nKey && (b->bLent || b->arena.n>=SEG_RING_KEYS) ) break;
  }
  segRingFence();
  pthread_mutex_lock(&r->mu);
  b->nRow = n;
  if( n>0 ){
    r->iHead = (r->iHead+1) % SEG_RING_BUFS;
    r->nFull++;
  }
  if( rc!=SQLITE_ROW ){
    r->bEnd = 1;
    r->rcEnd = rc;
    r->zErrEnd = zErr;
  }
  if( r->bWorkWaits ) pthread_cond_signal(&r->cvWork);
  while( b->bLent && r->nFull>0 && !r->bStop ){
    /* the worker reads the lent keys: the statement waits */
    r->bReadWaits = 1;
    pthread_cond_wait(&r->cvRead, &r->mu);
    r->bReadWaits = 0;
  }
  pthread_mutex_unlock(&r->mu);
}

/* Worker: segSourceNext() in ring mode. */
static int segRingNext(SegSource *p, char **pzErr){
  SegRing *r = p->pRing;
  SegRingBuf *b = &r->aBuf[r->iTail];
  int i, n, rc;
  if( !r->bHeld || p->iPend>=b->nRow ){
    pthread_mutex_lock(&r->mu);
    if( r->bHeld ){
      r->bHeld = 0;
      r->iTail = (r->iTail+1) % SEG_RING_BUFS;
      r->nFull--;
      if( r->bReadWaits ) pthread_cond_signal(&r->cvRead);
    }
    while( r->nFull==0 && !r->bEnd ){
      r->bWorkWaits = 1;
      pthread_cond_wait(&r->cvWork, &r->mu);
      r->bWorkWaits = 0;
    }
    if( r->nFull==0 ){
      /* the end of the scan, or the error that ended it */
      rc = r->rcEnd;
      *pzErr = r->zErrEnd;
      r->zErrEnd = 0;
      r->rcEnd = SQLITE_DONE;
      pthread_mutex_unlock(&r->mu);
      return rc;
    }
    r->bHeld = 1;
    pthread_mutex_unlock(&r->mu);
    b = &r->aBuf[r->iTail];
    n = b->nRow - b->bLent;         /* rows whose keys are in the arena */
    for(i=0; i<b->nRow; i++){
      SegPending *pP = &b->aRow[i];
      if( i<n ){
        segArenaResolve(&pP->cust, &b->arena);
        if( b->aOrd ) segArenaResolve(&b->aOrd[i], &b->arena);
      }
      r->aFound[i].h = segMapHash(&p->cust, &pP->cust, 0);
      segMapPrefetch(&p->cust, &pP->cust, r->aFound[i].h);
    }
    p->iPend = 0;
    r->iFound = 0;
  }
  if( r->iFound<b->nRow && r->iFound - p->iPend <= SEG_LOOKAHEAD ){
    n = r->iFound + SEG_BATCH;
    if( n>b->nRow ) n = b->nRow;
    rc = segSourceFind(p, b->aRow, b->aOrd, r->aFound, r->iFound, n);
    if( rc ) return rc;
    r->iFound = n;
  }
  segSourceDeliver(p, &b->aRow[p->iPend], &r->aFound[p->iPend]);
  p->iPend++;
  return SQLITE_ROW;
}

static void *segRingWorker(void *pArg){
  SegRing *r = (SegRing*)pArg;
  int rc = r->xScan(r->pCtx, r->pzErr);
  pthread_mutex_lock(&r->mu);
  r->rcScan = rc;
  r->bStop = 1;
  if( r->bReadWaits ) pthread_cond_signal(&r->cvRead);
  pthread_mutex_unlock(&r->mu);
  return 0;
}

/* Free the ring, destroying the nSync of its mutex and two condition
** variables that were initialised (in that order). */
static void segRingFree(SegRing *r, int nSync){
  int i;
  if( nSync>2 ) pthread_cond_destroy(&r->cvWork);
  if( nSync>1 ) pthread_cond_destroy(&r->cvRead);
  if( nSync>0 ) pthread_mutex_destroy(&r->mu);
  for(i=0; i<SEG_RING_BUFS; i++){
    sqlite3_free(r->aBuf[i].aRow);
    sqlite3_free(r->aBuf[i].aOrd);
    sqlite3_free(r->aBuf[i].arena.a);
  }
  sqlite3_free(r->zErrEnd);
  sqlite3_free(r);
}
#endif /* SEG_THREADS */

/* Run xScan(pCtx, pzErr), a loop of segSourceNext() calls, in batch mode
** (segSourceBatch() first), and return what it returns.  When the
** connection allows a worker thread (PRAGMA threads of 1 or more,
** SQLite's allocator safe from two threads, a build with threads), xScan
** runs on a worker thread while this thread reads the statement into
** buffers, so reading and the loop's work overlap.  xScan must then touch
** nothing but p->row, p->cust, p->orders and its own memory (sqlite3_malloc
** and friends are safe); p->st is complete when segSourceScan returns.
** Rows, their order, counts and errors are exactly those of a scan on one
** thread. */
static int segSourceScan(SegSource *p, int (*xScan)(void*, char**),
                         void *pCtx, char **pzErr){
#if SEG_THREADS
  SegRing *r;
  SegThread tid;
  int i, nSync = 0, rcCreate = 1;
  if( p->nBatch<=1 || p->nPend>0 || p->bEof || p->pRing
   || !segWorkerAllowed(p->db) ){
    return xScan(pCtx, pzErr);
  }
  r = sqlite3_malloc64(sizeof(*r));
  if( r==0 ) return SQLITE_NOMEM;
  memset(r, 0, sizeof(*r));
  for(i=0; i<SEG_RING_BUFS; i++){
    r->aBuf[i].aRow = sqlite3_malloc64(sizeof(SegPending)*SEG_RING_ROWS);
    if( p->aOrd ){
      r->aBuf[i].aOrd = sqlite3_malloc64(sizeof(SegValue)*SEG_RING_ROWS);
    }
    if( r->aBuf[i].aRow==0 || (p->aOrd && r->aBuf[i].aOrd==0) ){
      segRingFree(r, 0);
      return SQLITE_NOMEM;
    }
  }
  r->rd = *p;
  r->xScan = xScan;
  r->pCtx = pCtx;
  r->pzErr = pzErr;
  if( pthread_mutex_init(&r->mu, 0)==0 ) nSync++;
  if( nSync==1 && pthread_cond_init(&r->cvRead, 0)==0 ) nSync++;
  if( nSync==2 && pthread_cond_init(&r->cvWork, 0)==0 ) nSync++;
  if( nSync==3 ){
    p->pRing = r;
    rcCreate = segThreadStart(&tid, segRingWorker, r);
  }
  if( rcCreate ){
    /* no thread to be had: the scan runs here, as without threads */
    p->pRing = 0;
    segRingFree(r, nSync);
    return xScan(pCtx, pzErr);
  }
  pthread_mutex_lock(&r->mu);
  for(;;){
    while( r->nFull==SEG_RING_BUFS && !r->bStop ){
      r->bReadWaits = 1;
      pthread_cond_wait(&r->cvRead, &r->mu);
      r->bReadWaits = 0;
    }
    if( r->bStop || r->bEnd ) break;
    pthread_mutex_unlock(&r->mu);
    segRingFill(r);
    pthread_mutex_lock(&r->mu);
  }
  pthread_mutex_unlock(&r->mu);
  segThreadJoin(tid);
  /* what the reader counted */
  p->st = r->rd.st;
  p->iPos = r->rd.iPos;
  p->dateMemo = r->rd.dateMemo;
  p->pRing = 0;
  i = r->rcScan;
  segRingFree(r, nSync);
  return i;
#else
  (void)p;
  return xScan(pCtx, pzErr);
#endif
}

/**************************************************************************
** The scan every table-valued function runs (segSourceEach)
*/

/* Load a customer's state ahead of its row: each of its cache lines. */
static void segEachPrefetch(void *pCtx, int iCust){
  SegEach *e = (SegEach*)pCtx;
  if( iCust<e->nCustAlloc ){
    const char *z = (const char*)e->aCust + e->szCust*(size_t)iCust;
    size_t k;
    for(k=0; k<e->szCust; k+=64) SEG_PREFETCH(z + k);
    SEG_PREFETCH(z + e->szCust - 1);
  }
}

/* The loop: each used row to xRow, with its customer's state. */
static int segEachLoop(void *pCtx, char **pzErr){
  SegEach *e = (SegEach*)pCtx;
  SegSource *p = e->pSrc;
  const SegRow *r = &p->row;
  for(;;){
    void *pCust = 0;
    int rc = segSourceNext(p, pzErr);
    if( rc!=SQLITE_ROW ) return rc==SQLITE_DONE ? SQLITE_OK : rc;
    if( e->szCust ){
      if( segArrayEnsure(&e->aCust, &e->nCustAlloc, r->iCust, e->szCust) ){
        return SQLITE_NOMEM;
      }
      pCust = (char*)e->aCust + e->szCust*(size_t)r->iCust;
      if( r->bNewCust ) memset(pCust, 0, e->szCust);
    }
    rc = e->xRow(e->pCtx, pCust, r);
    if( rc ) return rc;
  }
}

int segSourceEach(SegSource *p, SegEach *e, char **pzErr){
  int rc;
  e->pSrc = p;
  if( !e->bScalar ) return segEachLoop(e, pzErr);
  rc = segSourceBatch(p, e->szCust ? segEachPrefetch : 0, e);
  if( rc==SQLITE_OK ) rc = segSourceScan(p, segEachLoop, e, pzErr);
  return rc;
}

/**************************************************************************
** source_stats()
*/
typedef struct StatsResult StatsResult;
struct StatsResult {
  SegStats st;
  i64 nRefundOnly;
  i64 nCustomers;
  i64 nOrders;
  int bAsOf;
  int iAsOf;
  char *zOrderCol;
};

static int statsColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  StatsResult *p = (StatsResult*)pData;
  char zDay[16];
  (void)iRow;
  switch( iCol ){
    case 0: sqlite3_result_int64(ctx, p->st.nRows); break;
    case 1: sqlite3_result_int64(ctx, p->st.nUsed); break;
    case 2: sqlite3_result_int64(ctx, p->st.nNullCustomer); break;
    case 3: sqlite3_result_int64(ctx, p->st.nNullDate); break;
    case 4: sqlite3_result_int64(ctx, p->st.nBadDate); break;
    case 5: sqlite3_result_int64(ctx, p->st.nBadAmount); break;
    case 6: sqlite3_result_int64(ctx, p->st.nAfterAsOf); break;
    case 7: sqlite3_result_int64(ctx, p->st.nRefunds); break;
    case 8: sqlite3_result_int64(ctx, p->nRefundOnly); break;
    case 9: sqlite3_result_int64(ctx, p->nCustomers); break;
    case 10:
    case 11:
      if( p->st.nOrderRows ){
        segFormatDay(iCol==10 ? p->st.iFirstOrderDay : p->st.iLastOrderDay,
                     zDay);
        sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      }
      break;
    case 12:
      if( p->bAsOf ){
        segFormatDay(p->iAsOf, zDay);
        sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      }
      break;
    case 13: sqlite3_result_int64(ctx, p->nOrders); break;
    case 14:
      if( p->zOrderCol ){
        sqlite3_result_text(ctx, p->zOrderCol, -1, SQLITE_TRANSIENT);
      }
      break;
  }
  return SQLITE_OK;
}

static void statsFree(void *pData){
  StatsResult *p = (StatsResult*)pData;
  if( p ) sqlite3_free(p->zOrderCol);
  sqlite3_free(pData);
}

/* A row of source_stats()'s scan: its customer has an order (bit 1) or a
** refund (bit 2); orders are counted once per order id. */
static int statsRow(void *pCtx, void *pCust, const SegRow *r){
  *(unsigned char*)pCust |= r->bOrder ? 1 : 2;
  if( r->bNewOrder ) (*(i64*)pCtx)++;
  return SQLITE_OK;
}

static int statsCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                        char **pzErr){
  SegColumn aCol[3];
  SegSource src;
  StatsResult *pOut;
  SegEach e = { 1, 1, statsRow, 0, 0, 0, 0 };
  i64 nOrders = 0;
  unsigned char *aFlag;
  int rc, i;
  memcpy(aCol, segStdColumns, sizeof(aCol));
  aCol[2].bRequired = 0;          /* amounts are optional here */
  e.pCtx = &nOrders;
  rc = segSourceOpen(&src, db, pOpts, aCol, 3, pzErr);
  src.bCountOnly = 1;             /* report what skipping left, not fail */
  if( rc==SQLITE_OK ) rc = segSourceEach(&src, &e, pzErr);
  aFlag = (unsigned char*)e.aCust;
  if( rc==SQLITE_OK ){
    pOut = sqlite3_malloc64(sizeof(*pOut));
    if( pOut==0 ){
      rc = SQLITE_NOMEM;
    }else{
      memset(pOut, 0, sizeof(*pOut));
      pOut->st = src.st;
      for(i=0; i<src.cust.nKey; i++){
        if( aFlag[i] & 1 ) pOut->nCustomers++;
        else pOut->nRefundOnly++;
      }
      pOut->bAsOf = segSourceAsOf(&src, &pOut->iAsOf);
      pOut->nOrders = nOrders;
      pOut->zOrderCol = src.zOrderCol;
      src.zOrderCol = 0;
      pRes->nRow = 1;
      pRes->pData = pOut;
    }
  }
  sqlite3_free(aFlag);
  segSourceClose(&src);
  return rc;
}

static const char *const azStatsOpt[] = { SEG_SOURCE_OPTIONS, 0 };

static const SegModuleSpec statsModule = {
  "source_stats",
  "rows,used,null_customer,null_date,bad_date,bad_amount,after_as_of,"
  "refunds,refund_only,customers,first_date,last_date,as_of,orders,"
  "order_column",
  azStatsOpt, 0, statsCompute, SEG_READS_TABLE,
  statsColumn, statsFree
};

int segmentRegisterSource(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &statsModule, pzErr);
}
