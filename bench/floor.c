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
**
** bench_rfm_min(TABLE) and bench_rfm_min_rows(TABLE) are the smallest
** program that does rfm_score's job on the benchmark's data, the bound a
** target for rfm_score is checked against before it is called out of
** reach:
**
**   4. The same scan as bench_fetch; per row, the day parsed from the
**      ISO text (YYYY-MM-DD...), then first day, last day, order count
**      and sum (refunds lower the sum and are not orders; a NULL amount
**      is an order of value 0) into 24 bytes per customer in an array
**      indexed directly by the integer customer id less the lowest id
**      seen (the benchmark's ids are dense; an id outside 1..10^8 is an
**      error), rows read in batches of 64 with each customer's state
**      prefetched.
**   5. After the scan, r, f and m as NTILE(5) over (value, customer id),
**      the orders rfm_score's ntile uses: counting sorts for recency
**      and frequency, one LSD radix sort for monetary.
**   6. bench_rfm_min returns the customer count; bench_rfm_min_rows, a
**      table-valued function as rfm_score is, returns one row per
**      customer with rfm_score's columns and types (customer,
**      first_date, last_date, recency_days, frequency, monetary,
**      avg_order_value, r, f, m, rfm, segment; the segment a name from a
**      table of five), so that both write a temp table the same way.
**
** bench_fetch_par(TABLE, N) is the row-fetch floor on N threads: the
** rowids 1..max(rowid) cut into N equal ranges, each read by its own
** thread on its own read-only connection to the same file
** (SELECT ... WHERE rowid BETWEEN lo AND hi), the same three columns
** read and folded as bench_fetch does.  It returns the rows read; it
** is the bound for a scan on parallel readers (no aggregation).
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

static volatile sqlite3_uint64 floorSink;

/* Steps pStmt to its end, reading the three columns of every row (the
** customer as an integer, the date as text with its length, the amount
** as a double) and folding them into *pH; *pnRow counts the rows.
** Returns the last sqlite3_step() code (SQLITE_DONE at the end). */
static int floorReadRows(sqlite3_stmt *pStmt, sqlite3_int64 *pnRow,
                         sqlite3_uint64 *pH){
  int rc;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_int64 iCust = sqlite3_column_int64(pStmt, 0);
    const unsigned char *zDate = sqlite3_column_text(pStmt, 1);
    int nDate = sqlite3_column_bytes(pStmt, 1);
    double rAmt = sqlite3_column_type(pStmt, 2)==SQLITE_NULL ? 0.0
                  : sqlite3_column_double(pStmt, 2);
    *pH = *pH*31 + (sqlite3_uint64)iCust + (sqlite3_uint64)nDate
        + (zDate ? zDate[nDate>0 ? nDate-1 : 0] : 0) + (sqlite3_uint64)rAmt;
    (*pnRow)++;
  }
  return rc;
}

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
  rc = floorReadRows(pStmt, &nRow, &h);
  floorSink = h;
  if( rc!=SQLITE_DONE ){
    sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
  }else{
    sqlite3_result_int64(ctx, nRow);
  }
  sqlite3_finalize(pStmt);
}

#define MIN_BATCH 64
#define MIN_COL_TAB 12

/* One customer's state: 24 bytes. */
typedef struct MinCust { int iFirst, iLast, nOrd, bSeen; double rSum; } MinCust;

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int minDays(int y, int m, int d){
  int era, yoe, doy, doe;
  y -= m<=2;
  era = (y>=0 ? y : y-399)/400;
  yoe = y - era*400;
  doy = (153*(m>2 ? m-3 : m+9) + 2)/5 + d - 1;
  doe = yoe*365 + yoe/4 - yoe/100 + doy;
  return era*146097 + doe - 719468;
}

static void minDate(int z, char *zOut){
  int era, doe, yoe, doy, mp, d, m, y;
  z += 719468;
  era = (z>=0 ? z : z-146096)/146097;
  doe = z - era*146097;
  yoe = (doe - doe/1460 + doe/36524 - doe/146096)/365;
  y = yoe + era*400;
  doy = doe - (365*yoe + yoe/4 - yoe/100);
  mp = (5*doy + 2)/153;
  d = doy - (153*mp + 2)/5 + 1;
  m = mp<10 ? mp+3 : mp-9;
  y += m<=2;
  zOut[0] = '0'+y/1000; zOut[1] = '0'+y/100%10; zOut[2] = '0'+y/10%10;
  zOut[3] = '0'+y%10; zOut[4] = '-'; zOut[5] = '0'+m/10; zOut[6] = '0'+m%10;
  zOut[7] = '-'; zOut[8] = '0'+d/10; zOut[9] = '0'+d%10; zOut[10] = 0;
}

/* Scores 1..5, NTILE(5) over the customers in aOrder (ascending). */
static void minNtile(const int *aOrder, int n, unsigned char *aScore){
  int i, big = n%5, base = n/5, q = 0, left;
  left = base + (q<big);
  for(i=0; i<n; i++){
    if( left==0 ){ q++; left = base + (q<big); }
    aScore[aOrder[i]] = (unsigned char)(q+1);
    left--;
  }
}

/* Stable counting sort of customers 0..n-1 by small integer keys. */
static int minCountSort(const int *aKey, int n, int iMin, int iMax, int *aOut){
  int nB = iMax - iMin + 2, i;
  int *aCnt = calloc((size_t)nB, sizeof(int));
  if( aCnt==0 ) return 1;
  for(i=0; i<n; i++) aCnt[aKey[i]-iMin+1]++;
  for(i=1; i<nB; i++) aCnt[i] += aCnt[i-1];
  for(i=0; i<n; i++) aOut[aCnt[aKey[i]-iMin]++] = i;
  free(aCnt);
  return 0;
}

/* LSD radix sort of customers by a double (stable: ties by index). */
static int minRadixSort(const double *aVal, int n, int *aOut){
  sqlite3_uint64 *aK = malloc(sizeof(*aK)*(size_t)n*2);
  int *aTmp = malloc(sizeof(int)*(size_t)n), pass, i;
  if( aK==0 || aTmp==0 ){ free(aK); free(aTmp); return 1; }
  for(i=0; i<n; i++){
    sqlite3_uint64 u;
    memcpy(&u, &aVal[i], 8);
    aK[i] = (u>>63) ? ~u : u | ((sqlite3_uint64)1<<63);
    aOut[i] = i;
  }
  for(pass=0; pass<64; pass+=16){
    int aCnt[65537];
    memset(aCnt, 0, sizeof(aCnt));
    for(i=0; i<n; i++) aCnt[((aK[aOut[i]]>>pass)&0xffff)+1]++;
    for(i=1; i<65537; i++) aCnt[i] += aCnt[i-1];
    for(i=0; i<n; i++) aTmp[aCnt[(aK[aOut[i]]>>pass)&0xffff]++] = aOut[i];
    memcpy(aOut, aTmp, sizeof(int)*(size_t)n);
  }
  free(aK); free(aTmp);
  return 0;
}

/* The minimal program's result: every customer with an order, in id
** order, with r, f and m. */
typedef struct MinRes {
  MinCust *a;              /* state, indexed by customer id */
  int *aId;                /* a[] indexes of the customers with an order */
  unsigned char *aR;       /* r, then f, then m, nCust+1 each */
  int nCust, iLatest;
  int iLo;                  /* the customer id of a[0] */
} MinRes;

static void minResFree(MinRes *p){
  free(p->a); free(p->aId); free(p->aR);
  memset(p, 0, sizeof(*p));
}

/* Computes *pRes from table zTab.  Returns SQLITE_OK, SQLITE_NOMEM or
** SQLITE_ERROR with *pzErr (sqlite3_malloc'd). */
static int minCompute(sqlite3 *db, const char *zTab, MinRes *pRes,
                      char **pzErr){
  sqlite3_stmt *pStmt = 0;
  MinCust *a = 0;
  int nAlloc = 0, iLo = 0, nCust = 0, iLatest = -2147483647, i, rc;
  int *aId = 0, *aKey = 0, *aOrder = 0;
  double *aMon = 0;
  unsigned char *aR = 0, *aF, *aM;
  char *zSql;
  memset(pRes, 0, sizeof(*pRes));
  zSql = sqlite3_mprintf(
      "SELECT customer_id, ordered_at, amount FROM \"%w\"", zTab);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) goto sqlerr;
  rc = SQLITE_ROW;
  while( rc==SQLITE_ROW ){
    /* A batch of rows is read first, each customer's state prefetched as
    ** its row arrives, then folded in: the ids are in random order, and
    ** without the prefetch every row waits for a cache miss. */
    struct { int iCust, iDay, bNull; double rAmt; } aB[MIN_BATCH];
    int nB = 0, j;
    while( nB<MIN_BATCH && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
      sqlite3_int64 iCust = sqlite3_column_int64(pStmt, 0);
      const unsigned char *z = sqlite3_column_text(pStmt, 1);
      int bNull = sqlite3_column_type(pStmt, 2)==SQLITE_NULL;
      if( z==0 || sqlite3_column_bytes(pStmt, 1)<10 ) continue;
      if( iCust<=0 || iCust>=100000000 ){
        *pzErr = sqlite3_mprintf("customer id out of range: %lld", iCust);
        rc = SQLITE_ERROR;
        goto done;
      }
      if( nAlloc==0 ){
        a = calloc(1<<16, sizeof(MinCust));
        if( a==0 ) goto nomem;
        nAlloc = 1<<16;
        iLo = (int)iCust;
      }
      if( iCust<iLo ){
        /* grow downwards: the lower part at least doubles */
        int nLow = nAlloc>iLo-(int)iCust ? nAlloc : iLo-(int)iCust;
        MinCust *aNew;
        if( nLow>iLo-1 ) nLow = iLo-1;
        aNew = realloc(a, sizeof(MinCust)*((size_t)nAlloc+nLow));
        if( aNew==0 ) goto nomem;
        memmove(aNew+nLow, aNew, sizeof(MinCust)*(size_t)nAlloc);
        memset(aNew, 0, sizeof(MinCust)*(size_t)nLow);
        a = aNew; nAlloc += nLow; iLo -= nLow;
      }
      if( iCust-iLo>=nAlloc ){
        int nNew = nAlloc*2;
        MinCust *aNew;
        while( nNew<=iCust-iLo ) nNew *= 2;
        aNew = realloc(a, sizeof(MinCust)*(size_t)nNew);
        if( aNew==0 ) goto nomem;
        memset(aNew+nAlloc, 0, sizeof(MinCust)*(size_t)(nNew-nAlloc));
        a = aNew; nAlloc = nNew;
      }
      __builtin_prefetch(&a[iCust-iLo], 1);
      aB[nB].iCust = (int)iCust;
      aB[nB].iDay = minDays(
          (z[0]-'0')*1000 + (z[1]-'0')*100 + (z[2]-'0')*10 + (z[3]-'0'),
          (z[5]-'0')*10 + (z[6]-'0'), (z[8]-'0')*10 + (z[9]-'0'));
      aB[nB].bNull = bNull;
      aB[nB].rAmt = bNull ? 0.0 : sqlite3_column_double(pStmt, 2);
      nB++;
    }
    for(j=0; j<nB; j++){
      MinCust *p = &a[aB[j].iCust-iLo];
      int iDay = aB[j].iDay;
      if( !p->bSeen ){ p->bSeen = 1; p->iFirst = p->iLast = iDay; }
      p->rSum += aB[j].rAmt;
      if( aB[j].rAmt>=0 || aB[j].bNull ){
        if( p->nOrd==0 || iDay<p->iFirst ) p->iFirst = iDay;
        if( p->nOrd==0 || iDay>p->iLast ) p->iLast = iDay;
        p->nOrd++;
      }
      if( iDay>iLatest ) iLatest = iDay;
    }
  }
  if( rc!=SQLITE_DONE ) goto sqlerr;

  /* The customers with an order, in id order; their r, f and m. */
  aId = malloc(sizeof(int)*(size_t)(nAlloc+1));
  if( aId==0 ) goto nomem;
  for(i=0; i<nAlloc; i++) if( a[i].nOrd>0 ) aId[nCust++] = i;
  aKey = malloc(sizeof(int)*(size_t)(nCust+1));
  aOrder = malloc(sizeof(int)*(size_t)(nCust+1));
  aMon = malloc(sizeof(double)*(size_t)(nCust+1));
  aR = malloc((size_t)nCust*3+3);
  if( aKey==0 || aOrder==0 || aMon==0 || aR==0 ) goto nomem;
  aF = aR + nCust + 1; aM = aF + nCust + 1;
  if( nCust>0 ){
    int iMin = a[aId[0]].iLast, iMx = iMin, nMx = 0;
    for(i=0; i<nCust; i++){
      MinCust *p = &a[aId[i]];
      if( p->iLast<iMin ) iMin = p->iLast;
      if( p->iLast>iMx ) iMx = p->iLast;
      if( p->nOrd>nMx ) nMx = p->nOrd;
      aMon[i] = p->rSum;
    }
    /* recency descending = last day ascending */
    for(i=0; i<nCust; i++) aKey[i] = a[aId[i]].iLast;
    if( minCountSort(aKey, nCust, iMin, iMx, aOrder) ) goto nomem;
    minNtile(aOrder, nCust, aR);
    for(i=0; i<nCust; i++) aKey[i] = a[aId[i]].nOrd;
    if( minCountSort(aKey, nCust, 1, nMx, aOrder) ) goto nomem;
    minNtile(aOrder, nCust, aF);
    if( minRadixSort(aMon, nCust, aOrder) ) goto nomem;
    minNtile(aOrder, nCust, aM);
  }
  pRes->a = a; pRes->aId = aId; pRes->aR = aR;
  pRes->nCust = nCust; pRes->iLatest = iLatest; pRes->iLo = iLo;
  a = 0; aId = 0; aR = 0;
  rc = SQLITE_OK;
  goto done;
sqlerr:
  *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  rc = SQLITE_ERROR;
  goto done;
nomem:
  rc = SQLITE_NOMEM;
done:
  sqlite3_finalize(pStmt);
  free(a); free(aId); free(aKey); free(aOrder); free(aMon); free(aR);
  return rc;
}

/* bench_rfm_min(TABLE): the customer count. */
static void minRfm(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zTab = (const char*)sqlite3_value_text(argv[0]);
  char *zErr = 0;
  MinRes res;
  int rc;
  (void)argc;
  if( zTab==0 ) return;
  rc = minCompute(sqlite3_context_db_handle(ctx), zTab, &res, &zErr);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc!=SQLITE_OK ){
    sqlite3_result_error(ctx, zErr, -1);
  }else{
    sqlite3_result_int(ctx, res.nCust);
  }
  sqlite3_free(zErr);
  minResFree(&res);
}

/* bench_rfm_min_rows(TABLE): an eponymous table-valued function with
** rfm_score's twelve columns, the rows of the minimal program. */
typedef struct MinVtab {
  sqlite3_vtab base;
  sqlite3 *db;
} MinVtab;

typedef struct MinCur {
  sqlite3_vtab_cursor base;
  MinRes res;
  int iRow;
} MinCur;

static int minConnect(sqlite3 *db, void *pAux, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr){
  MinVtab *p;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(customer INTEGER,"
      " first_date TEXT, last_date TEXT, recency_days INTEGER,"
      " frequency INTEGER, monetary REAL, avg_order_value REAL, r INTEGER,"
      " f INTEGER, m INTEGER, rfm INTEGER, segment TEXT, tab HIDDEN)");
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int minDisconnect(sqlite3_vtab *p){ sqlite3_free(p); return SQLITE_OK; }

static int minBestIndex(sqlite3_vtab *p, sqlite3_index_info *pInfo){
  int i;
  for(i=0; i<pInfo->nConstraint; i++){
    if( pInfo->aConstraint[i].iColumn==MIN_COL_TAB
     && pInfo->aConstraint[i].op==SQLITE_INDEX_CONSTRAINT_EQ ){
      if( !pInfo->aConstraint[i].usable ) return SQLITE_CONSTRAINT;
      pInfo->aConstraintUsage[i].argvIndex = 1;
      pInfo->aConstraintUsage[i].omit = 1;
      pInfo->estimatedCost = 1e6;
      return SQLITE_OK;
    }
  }
  p->zErrMsg = sqlite3_mprintf("bench_rfm_min_rows(TABLE): no table");
  return SQLITE_ERROR;
}

static int minOpen(sqlite3_vtab *p, sqlite3_vtab_cursor **ppCur){
  MinCur *c = sqlite3_malloc(sizeof(*c));
  (void)p;
  if( c==0 ) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *ppCur = &c->base;
  return SQLITE_OK;
}

static int minClose(sqlite3_vtab_cursor *pCur){
  MinCur *c = (MinCur*)pCur;
  minResFree(&c->res);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int minFilter(sqlite3_vtab_cursor *pCur, int idxNum,
                     const char *idxStr, int argc, sqlite3_value **argv){
  MinCur *c = (MinCur*)pCur;
  const char *zTab = argc>0 ? (const char*)sqlite3_value_text(argv[0]) : 0;
  char *zErr = 0;
  int rc;
  (void)idxNum; (void)idxStr;
  minResFree(&c->res);
  c->iRow = 0;
  if( zTab==0 ) return SQLITE_OK;
  rc = minCompute(((MinVtab*)pCur->pVtab)->db, zTab, &c->res, &zErr);
  if( zErr ){
    sqlite3_free(pCur->pVtab->zErrMsg);
    pCur->pVtab->zErrMsg = zErr;
  }
  return rc;
}

static int minNext(sqlite3_vtab_cursor *pCur){
  ((MinCur*)pCur)->iRow++;
  return SQLITE_OK;
}

static int minEof(sqlite3_vtab_cursor *pCur){
  MinCur *c = (MinCur*)pCur;
  return c->iRow>=c->res.nCust;
}

static int minColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx,
                     int iCol){
  static const char *const azSeg[] = {
    "Lost", "Hibernating", "Need Attention", "Loyal", "Champions"
  };
  MinCur *c = (MinCur*)pCur;
  const MinRes *p = &c->res;
  int i = c->iRow, n = p->nCust;
  const MinCust *pc = &p->a[p->aId[i]];
  int r = p->aR[i], f = p->aR[n+1+i], m = p->aR[2*(n+1)+i];
  char zDay[11];
  switch( iCol ){
    case 0: sqlite3_result_int(ctx, p->iLo + p->aId[i]); break;
    case 1: minDate(pc->iFirst, zDay);
            sqlite3_result_text(ctx, zDay, 10, SQLITE_TRANSIENT); break;
    case 2: minDate(pc->iLast, zDay);
            sqlite3_result_text(ctx, zDay, 10, SQLITE_TRANSIENT); break;
    case 3: sqlite3_result_int(ctx, p->iLatest - pc->iLast); break;
    case 4: sqlite3_result_int(ctx, pc->nOrd); break;
    case 5: sqlite3_result_double(ctx, pc->rSum); break;
    case 6: sqlite3_result_double(ctx, pc->rSum/pc->nOrd); break;
    case 7: sqlite3_result_int(ctx, r); break;
    case 8: sqlite3_result_int(ctx, f); break;
    case 9: sqlite3_result_int(ctx, m); break;
    case 10: sqlite3_result_int(ctx, 100*r + 10*f + m); break;
    case 11: sqlite3_result_text(ctx, azSeg[(r+f+m-3)*5/13], -1,
                                 SQLITE_STATIC); break;
    default: break;
  }
  return SQLITE_OK;
}

static int minRowid(sqlite3_vtab_cursor *pCur, sqlite_int64 *pRowid){
  *pRowid = ((MinCur*)pCur)->iRow + 1;
  return SQLITE_OK;
}

static sqlite3_module minModule = {
  0, 0, minConnect, minBestIndex, minDisconnect, 0, minOpen, minClose,
  minFilter, minNext, minEof, minColumn, minRowid,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

/* One reader of bench_fetch_par. */
typedef struct ParReader {
  const char *zFile, *zTab;
  sqlite3_int64 iLo, iHi, nRow;
  sqlite3_uint64 h;
  int rc;
  pthread_t tid;
} ParReader;

static void *parRun(void *pArg){
  ParReader *p = (ParReader*)pArg;
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  char *zSql = 0;
  p->rc = sqlite3_open_v2(p->zFile, &db, SQLITE_OPEN_READONLY, 0);
  if( p->rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("SELECT customer_id, ordered_at, amount FROM \"%w\""
                           " WHERE rowid BETWEEN %lld AND %lld",
                           p->zTab, p->iLo, p->iHi);
    p->rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
  }
  if( p->rc==SQLITE_OK && floorReadRows(pStmt, &p->nRow, &p->h)!=SQLITE_DONE ){
    p->rc = SQLITE_ERROR;
  }
  sqlite3_free(zSql);
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return 0;
}

static void floorFetchPar(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zTab = (const char*)sqlite3_value_text(argv[0]);
  int n = sqlite3_value_int(argv[1]), i, rc;
  const char *zFile = sqlite3_db_filename(db, "main");
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 iMax = 0, nRow = 0;
  ParReader *a;
  char *zSql;
  (void)argc;
  if( zTab==0 || n<1 || n>64 || zFile==0 || zFile[0]==0 ){
    sqlite3_result_error(ctx, "bench_fetch_par(TABLE, 1..64) on a file", -1);
    return;
  }
  zSql = sqlite3_mprintf("SELECT max(rowid) FROM \"%w\"", zTab);
  if( zSql==0 ){ sqlite3_result_error_nomem(ctx); return; }
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){ sqlite3_result_error(ctx, sqlite3_errmsg(db), -1); return; }
  if( sqlite3_step(pStmt)==SQLITE_ROW ) iMax = sqlite3_column_int64(pStmt, 0);
  sqlite3_finalize(pStmt);
  a = calloc((size_t)n, sizeof(*a));
  if( a==0 ){ sqlite3_result_error_nomem(ctx); return; }
  for(i=0; i<n; i++){
    a[i].zFile = zFile;
    a[i].zTab = zTab;
    a[i].iLo = iMax/n*i + 1;
    a[i].iHi = i==n-1 ? iMax : iMax/n*(i+1);
    if( pthread_create(&a[i].tid, 0, parRun, &a[i]) ) a[i].rc = -1;
  }
  rc = SQLITE_OK;
  for(i=0; i<n; i++){
    if( a[i].rc!=-1 ) pthread_join(a[i].tid, 0);
    if( a[i].rc!=SQLITE_OK ) rc = a[i].rc;
    nRow += a[i].nRow;
    floorSink += a[i].h;
  }
  free(a);
  if( rc!=SQLITE_OK ){
    sqlite3_result_error(ctx, "bench_fetch_par: a reader failed", -1);
  }else{
    sqlite3_result_int64(ctx, nRow);
  }
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_floor_init(sqlite3 *db, char **pzErr,
                       const sqlite3_api_routines *pApi){
  SQLITE_EXTENSION_INIT2(pApi);
  (void)pzErr;
  int rc = sqlite3_create_function(db, "bench_fetch", 1,
                                   SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                   floorFetch, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "bench_rfm_min", 1,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                 minRfm, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_module(db, "bench_rfm_min_rows", &minModule, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "bench_fetch_par", 2,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                 floorFetchPar, 0, 0);
  }
  return rc;
}
