/*
** cohort.c: cohort retention (DESIGN.md section 6): cohort_retention.
**
** cohort_retention:
**
**   SELECT * FROM cohort_retention('orders' [, 'period=month'] ...);
**
** One row per acquisition cohort and period since acquisition:
**
**   cohort    first day of the period of the customer's first order
**             ('YYYY-MM-DD')
**   period    0, 1, 2 ... periods since the cohort's period
**   customers customers in the cohort
**   active    of them, customers with an order in that period
**   retention active / customers
**
** Requirements:
**   1. The source is read by the one source reader (every option of
**      section 2: columns, as_of, since, on_error, order=).  Orders make a
**      customer active; refunds do not.
**   2. period=month (default) | week (weeks start on Monday) | quarter |
**      year.  Periods are UTC calendar periods.
**   3. Every cohort gets every period from 0 to the period of as_of, with
**      active = 0 where nobody bought, so the triangle has no holes.
**   4. Rows come ordered by cohort, then period.  Memory grows with the
**      distinct (customer, period) pairs and the (cohort, period) cells
**      with an active customer, never with the periods spanned: the rows
**      with active = 0 are made up as they are read.
*/
#include "segmentInt.h"
#include <string.h>

#define COHORT_MONTH   0
#define COHORT_WEEK    1
#define COHORT_QUARTER 2
#define COHORT_YEAR    3

/* The absolute number of the period that contains iDay. */
static int cohortPeriodOf(int ePeriod, int iDay){
  int y, m, d;
  if( ePeriod==COHORT_WEEK ) return (iDay - segWeekday(iDay))/7;
  segYmdFromDay(iDay, &y, &m, &d);
  switch( ePeriod ){
    case COHORT_MONTH:   return y*12 + (m-1);
    case COHORT_QUARTER: return y*4 + (m-1)/3;
    default:             return y;
  }
}

/* The first day of absolute period iPer. */
static int cohortPeriodStart(int ePeriod, int iPer){
  switch( ePeriod ){
    case COHORT_WEEK:    return iPer*7;
    case COHORT_MONTH:   return segDayFromYmd(iPer/12, iPer%12 + 1, 1);
    case COHORT_QUARTER: return segDayFromYmd(iPer/4, (iPer%4)*3 + 1, 1);
    default:             return segDayFromYmd(iPer, 1, 1);
  }
}

/*
** The result is sparse: one cell per (cohort, period offset) with at least
** one active customer, grouped by cohort.  The rows between the cells
** (active = 0) are made up when they are read, so memory follows the
** cells that exist, not the number of periods spanned.
*/
typedef struct CohortGroup CohortGroup;
struct CohortGroup {
  int iCohort;                    /* absolute period of the cohort */
  int iCell;                      /* its first cell in aCell[] */
  i64 iRow;                       /* its first row */
  i64 nCustomers;
};
typedef struct CohortCell CohortCell;
struct CohortCell {
  int iOffset;                    /* periods since the cohort's period */
  int nActive;
};

typedef struct CohortResult CohortResult;
struct CohortResult {
  CohortGroup *aGroup;            /* nGroup+1: the last one ends the rows */
  CohortCell *aCell;
  int nGroup;
  int iHint;                      /* the group of the last row read */
  int ePeriod;
};

/* The group that holds row iRow: the last one read, the next, or else a
** binary search. */
static const CohortGroup *cohortGroupOf(CohortResult *p, i64 iRow){
  int g = p->iHint, lo, hi;
  if( g<p->nGroup && p->aGroup[g].iRow<=iRow && iRow<p->aGroup[g+1].iRow ){
    return &p->aGroup[g];
  }
  if( g+1<p->nGroup && p->aGroup[g+1].iRow<=iRow && iRow<p->aGroup[g+2].iRow ){
    p->iHint = g+1;
    return &p->aGroup[g+1];
  }
  lo = 0;
  hi = p->nGroup-1;
  while( lo<hi ){
    int mid = lo + (hi-lo+1)/2;
    if( p->aGroup[mid].iRow<=iRow ) lo = mid; else hi = mid-1;
  }
  p->iHint = lo;
  return &p->aGroup[lo];
}

/* Active customers of cohort pG in period offset iOff: its cell, or 0. */
static i64 cohortActive(const CohortResult *p, const CohortGroup *pG,
                        int iOff){
  int lo = pG->iCell, hi = pG[1].iCell - 1;
  while( lo<=hi ){
    int mid = lo + (hi-lo)/2;
    if( p->aCell[mid].iOffset==iOff ) return p->aCell[mid].nActive;
    if( p->aCell[mid].iOffset<iOff ) lo = mid+1; else hi = mid-1;
  }
  return 0;
}

static int cohortColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  CohortResult *p = (CohortResult*)pData;
  const CohortGroup *pG = cohortGroupOf(p, iRow);
  int iOff = (int)(iRow - pG->iRow);
  char zDay[16];
  switch( iCol ){
    case 0:
      segFormatDay(cohortPeriodStart(p->ePeriod, pG->iCohort), zDay);
      sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      break;
    case 1: sqlite3_result_int(ctx, iOff); break;
    case 2: sqlite3_result_int64(ctx, pG->nCustomers); break;
    case 3: sqlite3_result_int64(ctx, cohortActive(p, pG, iOff)); break;
    case 4:
      sqlite3_result_double(ctx, (double)cohortActive(p, pG, iOff)
                                 /(double)pG->nCustomers);
      break;
  }
  return SQLITE_OK;
}

static void cohortFree(void *pData){
  CohortResult *p = (CohortResult*)pData;
  if( p ){
    sqlite3_free(p->aGroup);
    sqlite3_free(p->aCell);
    sqlite3_free(p);
  }
}

/* Radix keys: (customer, period) pairs, then (cohort, offset) cells; the
** high half of each key sorts first.  Periods are signed. */
#define COHORT_KEY(hi, lo) \
  (((u64)((unsigned int)(hi) ^ 0x80000000u) << 32) \
   | (u64)((unsigned int)(lo) ^ 0x80000000u))
#define COHORT_KEY_HI(k) ((int)((unsigned int)((k)>>32) ^ 0x80000000u))
#define COHORT_KEY_LO(k) ((int)((unsigned int)(k) ^ 0x80000000u))

/* The scan of cohort_retention(): the (customer, period) keys of the
** orders. */
typedef struct CohortScan CohortScan;
struct CohortScan {
  int ePeriod;
  u64 *aKey;
  i64 nKey, nKeyAlloc;
};

static int cohortRow(void *pCtx, void *pCust, const SegRow *r){
  CohortScan *q = (CohortScan*)pCtx;
  u64 iKey;
  (void)pCust;
  if( !r->bOrder ) return SQLITE_OK;
  iKey = COHORT_KEY(r->iCust, cohortPeriodOf(q->ePeriod, r->iDay));
  /* rows of one customer in one period often come together */
  if( q->nKey>0 && q->aKey[q->nKey-1]==iKey ) return SQLITE_OK;
  if( q->nKey>=q->nKeyAlloc ){
    i64 nNew = q->nKeyAlloc ? q->nKeyAlloc*2 : 1024;
    u64 *aNew;
    if( nNew>0x7ffffff0 ) return SQLITE_TOOBIG;
    aNew = sqlite3_realloc64(q->aKey, sizeof(u64)*nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    q->aKey = aNew;
    q->nKeyAlloc = nNew;
  }
  q->aKey[q->nKey++] = iKey;
  return SQLITE_OK;
}

/* The (customer, period) keys aKey[0..*pnKey-1] of the orders, sorted
** and rewritten in place: each distinct pair up to period iMaxPer becomes
** the key (cohort, offset), the first period of a customer being its
** cohort.  *pnKey: the keys kept.  SQLITE_OK or SQLITE_NOMEM. */
static int cohortPairs(u64 *aKey, int *pnKey, int iMaxPer){
  int nKey = *pnKey, i, k, iCust = 0, iCohort = 0;
  u64 iPrev = 0;
  int rc = segRadixSort(aKey, 0, nKey, 0);
  if( rc ) return rc;
  for(i=k=0; i<nKey; i++){
    u64 iThis = aKey[i];
    int iPer = COHORT_KEY_LO(iThis);
    if( i>0 && iThis==iPrev ) continue;
    iPrev = iThis;
    if( i==0 || COHORT_KEY_HI(iThis)!=iCust ){
      iCust = COHORT_KEY_HI(iThis);
      iCohort = iPer;
    }
    if( iPer>iMaxPer ) continue;        /* the source stops at as_of */
    aKey[k++] = COHORT_KEY(iCohort, iPer - iCohort);
  }
  *pnKey = k;
  return SQLITE_OK;
}

/* The groups and cells of pOut from the (cohort, offset) keys
** aKey[0..nKey-1] (sorted here; a run of equal keys is one cell), every
** cohort with its periods up to iMaxPer: *pnRow rows in all.  SQLITE_OK
** or SQLITE_NOMEM (what was allocated is pOut's). */
static int cohortGroups(CohortResult *pOut, u64 *aKey, int nKey,
                        int iMaxPer, i64 *pnRow){
  int nCell = 0, nGroup = 0, iPrevCohort = 0, i, j;
  i64 nRow = 0;
  int rc = segRadixSort(aKey, 0, nKey, 0);
  if( rc ) return rc;
  for(i=0; i<nKey; i++){
    if( i>0 && aKey[i]==aKey[i-1] ) continue;
    nCell++;
    if( i==0 || COHORT_KEY_HI(aKey[i])!=iPrevCohort ) nGroup++;
    iPrevCohort = COHORT_KEY_HI(aKey[i]);
  }
  pOut->aGroup = sqlite3_malloc64(sizeof(CohortGroup)*(u64)(nGroup+1));
  pOut->aCell = sqlite3_malloc64(sizeof(CohortCell)*(u64)nCell);
  if( pOut->aGroup==0 || pOut->aCell==0 ) return SQLITE_NOMEM;
  nCell = nGroup = 0;
  for(i=0; i<nKey; i=j){
    int iThis = COHORT_KEY_HI(aKey[i]);
    for(j=i+1; j<nKey && aKey[j]==aKey[i]; j++){}
    if( nGroup==0 || pOut->aGroup[nGroup-1].iCohort!=iThis ){
      CohortGroup *pG = &pOut->aGroup[nGroup++];
      pG->iCohort = iThis;
      pG->iCell = nCell;
      pG->iRow = nRow;
      pG->nCustomers = j-i;             /* offset 0: every customer */
      nRow += (i64)iMaxPer - iThis + 1;
    }
    pOut->aCell[nCell].iOffset = COHORT_KEY_LO(aKey[i]);
    pOut->aCell[nCell].nActive = j-i;
    nCell++;
  }
  pOut->aGroup[nGroup].iCohort = 0;
  pOut->aGroup[nGroup].iCell = nCell;
  pOut->aGroup[nGroup].iRow = nRow;
  pOut->aGroup[nGroup].nCustomers = 0;
  pOut->nGroup = nGroup;
  *pnRow = nRow;
  return SQLITE_OK;
}

static int cohortCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                         char **pzErr){
  static const char *const azPeriod[] = {
    "month", "week", "quarter", "year", 0
  };
  SegColumn aCol[3];
  SegSource src;
  CohortScan q;
  u64 *aKey = 0;
  int nKey = 0;
  int ePeriod = COHORT_MONTH, rc, iAsOf = 0;
  i64 nRow = 0;
  CohortResult *pOut = 0;

  memcpy(aCol, segStdColumns, sizeof(aCol));
  aCol[2].bRequired = 0;
  rc = segOptsEnum(pOpts, "period", azPeriod, COHORT_MONTH, &ePeriod, pzErr);
  if( rc ) return rc;
  memset(&q, 0, sizeof(q));
  q.ePeriod = ePeriod;
  rc = segSourceOpen(&src, db, pOpts, aCol, 3, pzErr);
  if( rc==SQLITE_OK ){
    SegEach e = { 0, 1, cohortRow, 0, 0, 0, 0 };
    e.pCtx = &q;
    rc = segSourceEach(&src, &e, pzErr);
  }
  aKey = q.aKey;
  nKey = (int)q.nKey;
  if( rc ) goto cohort_done;
  pOut = sqlite3_malloc64(sizeof(*pOut));
  if( pOut==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
  memset(pOut, 0, sizeof(*pOut));
  pOut->ePeriod = ePeriod;
  if( nKey>0 ){
    int bAsOf = segSourceAsOf(&src, &iAsOf);
    int iMaxPer;
    (void)bAsOf;
    iMaxPer = cohortPeriodOf(ePeriod, iAsOf);
    rc = cohortPairs(aKey, &nKey, iMaxPer);
    if( rc==SQLITE_OK ) rc = cohortGroups(pOut, aKey, nKey, iMaxPer, &nRow);
    if( rc ) goto cohort_done;
  }
  pRes->nRow = nRow;
  pRes->pData = pOut;
  pOut = 0;
cohort_done:
  cohortFree(pOut);
  sqlite3_free(aKey);
  segSourceClose(&src);
  return rc;
}

static const char *const azCohortOpt[] = { SEG_SOURCE_OPTIONS, "period", 0 };

static const SegModuleSpec cohortModule = {
  "cohort_retention",
  "cohort,period,customers,active,retention",
  azCohortOpt, 0, cohortCompute, SEG_READS_TABLE,
  cohortColumn, cohortFree
};

int segmentRegisterCohort(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &cohortModule, pzErr);
}
