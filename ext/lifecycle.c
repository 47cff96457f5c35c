/*
** lifecycle.c: the lifecycle_stage table-valued function (DESIGN.md
** section 4, second bullet).
**
**   SELECT * FROM lifecycle_stage('orders' [, 'key=value' ...]);
**
** One row per customer with at least one order up to as_of, plus, with
** customers=, every customer of that table without one; in the order of
** ORDER BY customer:
**
**   customer, stage, orders, first_date, last_date, recency_days,
**   rhythm_days, rhythm_source, days_overdue, reason
**
** Options: the source reader's (source, customer, date, amount, order,
** as_of, since, on_error) and
**   customers=TABLE     a table or view of all customers: those without an
**                       order are 'prospect'
**   new_days=N          (default 30) integer 0..100000
**   at_risk_factor=X    (default 1.5) number > 0
**   lapsed_factor=X     (default 3) number >= at_risk_factor
**   min_gaps=N          (default 2) gaps needed for an own rhythm, 1..1000
**   rhythm_days=X       the population rhythm, instead of computing it
**
** Requirements:
**   1. Orders, first_date, last_date and recency_days are read as
**      rfm_score reads them (DESIGN.md details 2-3): refunds are not
**      orders; a customer with refunds only is not output (unless a
**      prospect).  The amount column is optional.
**   2. Gaps are the days between consecutive distinct order days (UTC).
**      The own rhythm is the median gap (the mean of the two middle gaps
**      for an even count) of a customer with at least min_gaps gaps.
**   3. The population rhythm is rhythm_days= when given, else the median
**      of the own rhythms, else (nobody has min_gaps gaps) the median of
**      every gap of every customer, else (no gap at all) new_days, with
**      rhythm_source 'default'.  A customer without an own rhythm is
**      judged against it: rhythm_source 'population'.
**   4. The stage is the first that applies:
**        prospect    in customers=, no order up to as_of
**        new         first order less than new_days days before as_of
**                    (as_of - first_date < new_days)
**        lapsed      recency_days > lapsed_factor x rhythm
**        at_risk     recency_days > at_risk_factor x rhythm
**        reactivated the last gap (between the last two order days)
**                    > lapsed_factor x rhythm: the customer had lapsed
**                    and has bought again
**        active      otherwise
**   5. rhythm_days and days_overdue (= recency_days - rhythm_days) are
**      REAL; reason states the numbers that decided the stage.  Prospects
**      have NULL dates, recency, rhythm and overdue, and 0 orders.
**   6. The customers= table is read by identifier, like the source
**      (schema.table when schema is attached).  Its customer column is
**      the column named like the source's customer column, else the first
**      of customer_id, customer.  NULL ids, and TEXT ids that are empty
**      or all spaces, are ignored (segCustomerIsNull); ids are grouped as
**      the source groups them.
**
** Example:
**   SELECT stage, count(*) FROM lifecycle_stage('orders',
**     'customers=customers') GROUP BY 1;
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

#define LC_PROSPECT    0
#define LC_NEW         1
#define LC_ACTIVE      2
#define LC_AT_RISK     3
#define LC_LAPSED      4
#define LC_REACTIVATED 5
static const char *const azLcStage[] = {
  "prospect", "new", "active", "at_risk", "lapsed", "reactivated"
};

#define LC_OWN         0
#define LC_POPULATION  1
#define LC_DEFAULT     2
static const char *const azLcSource[] = { "own", "population", "default" };

typedef struct LcCust LcCust;
struct LcCust {
  unsigned int nOrder;
  unsigned char bProspect;        /* in customers= */
  unsigned char eStage;
  unsigned char eSource;
  int iFirst, iLast;              /* order days */
  int nGap;
  int iLastGap;
  double rRhythm;                 /* own rhythm, then the one used */
};

typedef struct LcResult LcResult;
struct LcResult {
  SegSource src;
  LcCust *aCust;
  int *aOut;
  int nOut;
  int iAsOf;
  int nNewDays;
  double rAtRisk, rLapsed;
};

static void lcFree(void *pData){
  LcResult *p = (LcResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aOut);
  sqlite3_free(p);
}

/* The reason column (requirement 5). */
static char *lcReason(const LcResult *p, const LcCust *c){
  int iRecency = p->iAsOf - c->iLast;
  const char *zSrc = azLcSource[c->eSource];
  switch( c->eStage ){
    case LC_PROSPECT:
      return sqlite3_mprintf("in customers, no order");
    case LC_NEW:
      return sqlite3_mprintf("first order %d days ago, less than new_days=%d",
                             p->iAsOf - c->iFirst, p->nNewDays);
    case LC_LAPSED:
      return sqlite3_mprintf("last order %d days ago, more than %.15g x the "
                             "%s rhythm of %.15g days", iRecency, p->rLapsed,
                             zSrc, c->rRhythm);
    case LC_AT_RISK:
      return sqlite3_mprintf("last order %d days ago, more than %.15g x the "
                             "%s rhythm of %.15g days", iRecency, p->rAtRisk,
                             zSrc, c->rRhythm);
    case LC_REACTIVATED:
      return sqlite3_mprintf("back after a gap of %d days, more than %.15g x "
                             "the %s rhythm of %.15g days", c->iLastGap,
                             p->rLapsed, zSrc, c->rRhythm);
    default:
      return sqlite3_mprintf("last order %d days ago, within %.15g x the "
                             "%s rhythm of %.15g days", iRecency, p->rAtRisk,
                             zSrc, c->rRhythm);
  }
}

static int lcColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  LcResult *p = (LcResult*)pData;
  int iCust = p->aOut[iRow];
  LcCust *c = &p->aCust[iCust];
  int bOrder = c->nOrder>0;
  char zDay[16];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[iCust]); break;
    case 1:
      sqlite3_result_text(ctx, azLcStage[c->eStage], -1, SQLITE_STATIC);
      break;
    case 2: sqlite3_result_int64(ctx, (i64)c->nOrder); break;
    case 3:
    case 4:
      if( bOrder ){
        segFormatDay(iCol==3 ? c->iFirst : c->iLast, zDay);
        sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      }
      break;
    case 5: if( bOrder ) sqlite3_result_int(ctx, p->iAsOf - c->iLast); break;
    case 6: if( bOrder ) sqlite3_result_double(ctx, c->rRhythm); break;
    case 7:
      if( bOrder ){
        sqlite3_result_text(ctx, azLcSource[c->eSource], -1, SQLITE_STATIC);
      }
      break;
    case 8:
      if( bOrder ){
        sqlite3_result_double(ctx, (double)(p->iAsOf - c->iLast) - c->rRhythm);
      }
      break;
    case 9: {
      char *z = lcReason(p, c);
      if( z==0 ) return SQLITE_NOMEM;
      sqlite3_result_text(ctx, z, -1, sqlite3_free);
      break;
    }
  }
  return SQLITE_OK;
}

/* Prepare SELECT * of the customers= table zTab (schema.table when schema
** is attached) into *ppStmt.  SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR
** with *pzErr naming the table. */
static int lcPrepare(sqlite3 *db, const SegOpts *pOpts, const char *zTab,
                     sqlite3_stmt **ppStmt, char **pzErr){
  const char *zDot = strchr(zTab, '.');
  char *zQuoted, *zSql;
  int rc;
  if( zDot && segIsSchema(db, zTab, (int)(zDot-zTab)) ){
    char *zSchema = sqlite3_mprintf("%.*s", (int)(zDot-zTab), zTab);
    if( zSchema==0 ) return SQLITE_NOMEM;
    zQuoted = sqlite3_mprintf("\"%w\".\"%w\"", zSchema, zDot+1);
    sqlite3_free(zSchema);
  }else{
    zQuoted = sqlite3_mprintf("\"%w\"", zTab);
  }
  if( zQuoted==0 ) return SQLITE_NOMEM;
  zSql = sqlite3_mprintf("SELECT * FROM %s", zQuoted);
  if( zSql==0 ){ sqlite3_free(zQuoted); return SQLITE_NOMEM; }
  rc = sqlite3_prepare_v2(db, zSql, -1, ppStmt, 0);
  sqlite3_free(zSql);
  sqlite3_free(zQuoted);
  if( rc!=SQLITE_OK ){
    const char *zMsg = sqlite3_errmsg(db);
    if( rc==SQLITE_NOMEM ) return rc;
    if( strncmp(zMsg, "no such table: ", 15)==0 ){
      *pzErr = segOptsError(pOpts, "no such table or view: %s (option "
                            "customers)", zTab);
    }else{
      *pzErr = segOptsError(pOpts, "cannot read %s: %s", zTab, zMsg);
    }
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* The error when pStmt, reading table zTab, has no customer column
** (zSrcCol: the source's customer column, or NULL): *pzErr lists its
** columns.  pStmt is finalized.  SQLITE_ERROR or SQLITE_NOMEM. */
static int lcNoCustomerColumn(sqlite3_stmt *pStmt, const SegOpts *pOpts,
                              const char *zTab, const char *zSrcCol,
                              char **pzErr){
  sqlite3_str *pStr = sqlite3_str_new(0);
  char *zList;
  int i, n = sqlite3_column_count(pStmt);
  for(i=0; i<n; i++){
    const char *z = sqlite3_column_name(pStmt, i);
    sqlite3_str_appendf(pStr, "%s%s", i ? ", " : "", z ? z : "?");
  }
  zList = sqlite3_str_finish(pStr);
  sqlite3_finalize(pStmt);
  if( zList==0 ) return SQLITE_NOMEM;
  if( zSrcCol && sqlite3_stricmp(zSrcCol, "customer_id")
   && sqlite3_stricmp(zSrcCol, "customer") ){
    *pzErr = segOptsError(pOpts, "cannot find the customer column of %s "
                          "(columns: %s); expected %s, customer_id or "
                          "customer", zTab, zList, zSrcCol);
  }else{
    *pzErr = segOptsError(pOpts, "cannot find the customer column of %s "
                          "(columns: %s); expected customer_id or "
                          "customer", zTab, zList);
  }
  sqlite3_free(zList);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* Read the customers= table into the source's customer map (req. 6). */
static int lcProspects(LcResult *p, sqlite3 *db, const SegOpts *pOpts,
                       const char *zTab, LcCust **paCust, int *pnAlloc,
                       char **pzErr){
  static const char *const azAuto[] = { "customer_id", "customer", 0 };
  const char *zSrcCol = sqlite3_column_name(p->src.pStmt, 1);
  sqlite3_stmt *pStmt = 0;
  int rc, i, k, iCol = -1, n;
  rc = lcPrepare(db, pOpts, zTab, &pStmt, pzErr);
  if( rc ) return rc;
  n = sqlite3_column_count(pStmt);
  for(k=-1; iCol<0 && (k<0 || azAuto[k]); k++){
    const char *zWant = k<0 ? zSrcCol : azAuto[k];
    if( zWant==0 ) continue;
    for(i=0; i<n && iCol<0; i++){
      const char *z = sqlite3_column_name(pStmt, i);
      if( z && sqlite3_stricmp(z, zWant)==0 ) iCol = i;
    }
  }
  if( iCol<0 ){
    return lcNoCustomerColumn(pStmt, pOpts, zTab, zSrcCol, pzErr);
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_value *pVal = sqlite3_column_value(pStmt, iCol);
    int iCust, bNew;
    if( segCustomerIsNull(pVal) ) continue;
    rc = segMapFind(&p->src.cust, pVal, 0, &iCust, &bNew);
    if( rc ) break;
    rc = segArrayEnsure((void**)paCust, pnAlloc, iCust, sizeof(LcCust));
    if( rc ) break;
    if( bNew ) memset(&(*paCust)[iCust], 0, sizeof(LcCust));
    (*paCust)[iCust].bProspect = 1;
  }
  if( rc==SQLITE_DONE ){
    rc = SQLITE_OK;
  }else if( rc!=SQLITE_NOMEM && segNestTooDeep() ){
    /* a view reading itself: the nesting guard's message, as it is */
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    if( *pzErr==0 ) rc = SQLITE_NOMEM;
  }else if( rc!=SQLITE_NOMEM ){
    *pzErr = segOptsError(pOpts, "cannot read %s: %s", zTab,
                          sqlite3_errmsg(db));
    if( *pzErr==0 ) rc = SQLITE_NOMEM;
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* The scan of lifecycle_stage(): orders per customer, a day row per
** order row, then each customer's days. */
typedef struct LcScan LcScan;
struct LcScan {
  LcResult *p;
  SegDaySet days;                 /* order days */
  int nCustAlloc;
  int nMinGaps;
  double *aGap; int nGapAlloc;    /* one customer's gaps */
  int bCollect;                   /* keep every gap while !bOwn */
  int bOwn;                       /* a customer with orders has its own
                                  ** rhythm */
  double *aAll; int nAll, nAllAlloc;   /* every gap, while collected */
};

/* A row of the one pass: orders per customer, a day row per order row. */
static int lcRow(void *pCtx, void *pCust, const SegRow *r){
  LcScan *q = (LcScan*)pCtx;
  LcCust *c = (LcCust*)pCust;
  if( !r->bOrder ) return SQLITE_OK;
  if( r->bNewOrder ) c->nOrder++;
  return segDayAdd(&q->days, r->iCust, r->iDay, 1, 0);
}

/* A customer's order days: first, last, gaps and own rhythm
** (requirement 2), and, until some customer has an own rhythm, its gaps
** for the population's (requirement 3). */
static int lcGroup(void *pCtx, int iCust, const SegDayCell *aCell,
                   int nCell){
  LcScan *q = (LcScan*)pCtx;
  LcCust *c = &q->p->aCust[iCust];
  int k;
  c->iFirst = aCell[0].iDay;
  c->iLast = aCell[nCell-1].iDay;
  c->nGap = nCell-1;
  c->iLastGap = c->nGap ? aCell[nCell-1].iDay - aCell[nCell-2].iDay : 0;
  c->eSource = LC_POPULATION;
  if( c->nGap>=q->nMinGaps ){
    if( segArrayEnsure((void**)&q->aGap, &q->nGapAlloc, c->nGap-1,
                       sizeof(double)) ){
      return SQLITE_NOMEM;
    }
    for(k=1; k<nCell; k++){
      q->aGap[k-1] = (double)(aCell[k].iDay - aCell[k-1].iDay);
    }
    c->rRhythm = segMedian(q->aGap, c->nGap);
    c->eSource = LC_OWN;
    if( c->nOrder ) q->bOwn = 1;
  }
  if( q->bCollect && !q->bOwn && c->nGap>0 ){
    if( segArrayEnsure((void**)&q->aAll, &q->nAllAlloc, q->nAll+c->nGap-1,
                       sizeof(double)) ){
      return SQLITE_NOMEM;
    }
    for(k=1; k<nCell; k++){
      q->aAll[q->nAll++] = (double)(aCell[k].iDay - aCell[k-1].iDay);
    }
  }
  return SQLITE_OK;
}

/* The population rhythm (requirement 3): the median own rhythm of the
** customers with orders, else the median of every gap, else new_days. */
static int lcPopulation(LcScan *q, int n, double *pPop, int *pePop){
  LcResult *p = q->p;
  if( q->bOwn ){
    double *aTmp = sqlite3_malloc64(sizeof(double)*((u64)n+1));
    int i, nRhythm = 0;
    if( aTmp==0 ) return SQLITE_NOMEM;
    for(i=0; i<n; i++){
      if( p->aCust[i].nOrder && p->aCust[i].eSource==LC_OWN ){
        aTmp[nRhythm++] = p->aCust[i].rRhythm;
      }
    }
    *pPop = segMedian(aTmp, nRhythm);
    sqlite3_free(aTmp);
  }else if( q->nAll>0 ){
    *pPop = segMedian(q->aAll, q->nAll);
  }else{
    *pPop = (double)p->nNewDays;
    *pePop = LC_DEFAULT;
  }
  return SQLITE_OK;
}

/* Stages (requirement 4), with the population rhythm where a customer
** has none of its own. */
static void lcStages(LcResult *p, int n, double rPop, int ePop){
  int i;
  for(i=0; i<n; i++){
    LcCust *c = &p->aCust[i];
    double rRecency;
    if( c->nOrder==0 ) continue;
    if( c->eSource!=LC_OWN ){
      c->eSource = (unsigned char)ePop;
      c->rRhythm = rPop;
    }
    rRecency = (double)(p->iAsOf - c->iLast);
    if( p->iAsOf - c->iFirst < p->nNewDays ){
      c->eStage = LC_NEW;
    }else if( rRecency > p->rLapsed*c->rRhythm ){
      c->eStage = LC_LAPSED;
    }else if( rRecency > p->rAtRisk*c->rRhythm ){
      c->eStage = LC_AT_RISK;
    }else if( c->nGap>0 && (double)c->iLastGap > p->rLapsed*c->rRhythm ){
      c->eStage = LC_REACTIVATED;
    }else{
      c->eStage = LC_ACTIVE;
    }
  }
}

static int lcOptions(LcResult *p, const SegOpts *pOpts, int *pnMinGaps,
                     char **pzErr){
  int rc = segOptsInt(pOpts, "new_days", 30, 0, 100000, &p->nNewDays, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "at_risk_factor", 1.5, 1e-9, 1e9, &p->rAtRisk,
                       pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "lapsed_factor", 3.0, 1e-9, 1e9, &p->rLapsed,
                       pzErr);
  }
  if( rc==SQLITE_OK && p->rAtRisk>p->rLapsed ){
    *pzErr = segOptsError(pOpts, "at_risk_factor is greater than "
                          "lapsed_factor");
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "min_gaps", 2, 1, 1000, pnMinGaps, pzErr);
  }
  return rc;
}

/* segSourceCustomers()'s filter for the output (pCtx the LcResult): a
** customer with an order, or a prospect of customers=, whose stage it
** sets.  Returns 1 to keep customer iCust, 0 to leave it out. */
static int lcKeep(void *pCtx, int iCust){
  LcCust *c = &((LcResult*)pCtx)->aCust[iCust];
  if( c->nOrder==0 ){
    if( !c->bProspect ) return 0;
    c->eStage = LC_PROSPECT;
  }
  return 1;
}

static int lcCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                     char **pzErr){
  SegColumn aCol[3];
  LcResult *p;
  LcScan q;
  int rc, n, bRhythm;
  double rPop = 0.0;
  int ePop = LC_POPULATION;
  const char *zCustomers;

  memset(&q, 0, sizeof(q));
  segDaySetInit(&q.days, 0);
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  q.p = p;

  rc = lcOptions(p, pOpts, &q.nMinGaps, pzErr);
  bRhythm = segOptsGet(pOpts, "rhythm_days")!=0;
  q.bCollect = !bRhythm;
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "rhythm_days", 0.0, 1e-9, 1e9, &rPop, pzErr);
  }
  if( rc ) goto lc_end;

  memcpy(aCol, segStdColumns, sizeof(aCol));
  aCol[2].bRequired = 0;
  rc = segSourceOpen(&p->src, db, pOpts, aCol, 3, pzErr);
  if( rc==SQLITE_OK ){
    SegEach e = { sizeof(LcCust), 1, lcRow, 0, 0, 0, 0 };
    e.pCtx = &q;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (LcCust*)e.aCust;
    q.nCustAlloc = e.nCustAlloc;
  }
  if( rc ) goto lc_end;
  segSourceAsOf(&p->src, &p->iAsOf);

  n = p->src.cust.nKey;
  rc = segDayEach(&q.days, lcGroup, &q);
  if( rc==SQLITE_OK && !bRhythm ) rc = lcPopulation(&q, n, &rPop, &ePop);
  if( rc ) goto lc_end;
  lcStages(p, n, rPop, ePop);

  /* Prospects (requirement 6) */
  zCustomers = segOptsGet(pOpts, "customers");
  if( zCustomers ){
    rc = lcProspects(p, db, pOpts, zCustomers, &p->aCust, &q.nCustAlloc,
                     pzErr);
    if( rc ) goto lc_end;
  }

  /* Output in customer order */
  rc = segSourceCustomers(&p->src, lcKeep, p, &p->aOut, &p->nOut);

lc_end:
  sqlite3_free(q.aGap);
  sqlite3_free(q.aAll);
  segDaySetFree(&q.days);
  if( rc ){
    lcFree(p);
    return rc;
  }
  pRes->nRow = p->nOut;
  pRes->pData = p;
  return SQLITE_OK;
}

static const char *const azLcOpt[] = {
  SEG_SOURCE_OPTIONS,
  "customers", "new_days", "at_risk_factor", "lapsed_factor", "min_gaps",
  "rhythm_days",
  0
};

static const SegModuleSpec lcModule = {
  "lifecycle_stage",
  "customer,stage,orders,first_date,last_date,recency_days,rhythm_days,"
  "rhythm_source,days_overdue,reason",
  azLcOpt, 0, lcCompute, SEG_READS_TABLE,
  lcColumn, lcFree
};

int segmentRegisterLifecycle(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &lcModule, pzErr);
}
