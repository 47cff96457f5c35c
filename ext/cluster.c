/*
** cluster.c: cohort retention (DESIGN.md section 6).
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
**      distinct (customer, period) pairs.
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

typedef struct CohortRow CohortRow;
struct CohortRow {
  int iCohort;                    /* absolute period of the cohort */
  int iOffset;                    /* periods since */
  i64 nCustomers;
  i64 nActive;
};

typedef struct CohortResult CohortResult;
struct CohortResult {
  CohortRow *aRow;
  int ePeriod;
};

static int cohortColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  CohortResult *p = (CohortResult*)pData;
  CohortRow *r = &p->aRow[iRow];
  char zDay[16];
  switch( iCol ){
    case 0:
      segFormatDay(cohortPeriodStart(p->ePeriod, r->iCohort), zDay);
      sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      break;
    case 1: sqlite3_result_int(ctx, r->iOffset); break;
    case 2: sqlite3_result_int64(ctx, r->nCustomers); break;
    case 3: sqlite3_result_int64(ctx, r->nActive); break;
    case 4:
      sqlite3_result_double(ctx, (double)r->nActive/(double)r->nCustomers);
      break;
  }
  return SQLITE_OK;
}

static void cohortFree(void *pData){
  CohortResult *p = (CohortResult*)pData;
  if( p ){
    sqlite3_free(p->aRow);
    sqlite3_free(p);
  }
}

/* (customer, period) pairs, sorted by customer then period */
typedef struct CohortPair CohortPair;
struct CohortPair { int iCust; int iPer; };

static int cohortPairCmp(void *pCtx, int a, int b){
  const CohortPair *aP = (const CohortPair*)pCtx;
  if( aP[a].iCust!=aP[b].iCust ) return aP[a].iCust<aP[b].iCust ? -1 : 1;
  if( aP[a].iPer!=aP[b].iPer ) return aP[a].iPer<aP[b].iPer ? -1 : 1;
  return 0;
}

static int cohortCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                         char **pzErr){
  static const char *const azPeriod[] = {
    "month", "week", "quarter", "year", 0
  };
  SegColumn aCol[3];
  SegSource src;
  CohortPair *aPair = 0;
  int *aIdx = 0;
  i64 nPair = 0, nPairAlloc = 0;
  int ePeriod = COHORT_MONTH, rc, i, iAsOf = 0;
  int iMinPer = 0, iMaxPer = 0, nPer, nCohortRow = 0;
  i64 *aSize = 0, *aActive = 0;
  CohortResult *pOut = 0;

  memcpy(aCol, segStdColumns, sizeof(aCol));
  aCol[2].bRequired = 0;
  rc = segOptsEnum(pOpts, "period", azPeriod, COHORT_MONTH, &ePeriod, pzErr);
  if( rc ) return rc;
  rc = segSourceOpen(&src, db, pOpts, aCol, 3, pzErr);
  while( rc==SQLITE_OK ){
    int iPer;
    rc = segSourceNext(&src, pzErr);
    if( rc==SQLITE_DONE ){ rc = SQLITE_OK; break; }
    if( rc!=SQLITE_ROW ) break;
    rc = SQLITE_OK;
    if( !src.row.bOrder ) continue;
    iPer = cohortPeriodOf(ePeriod, src.row.iDay);
    /* rows of one customer in one period often come together */
    if( nPair>0 && aPair[nPair-1].iCust==src.row.iCust
     && aPair[nPair-1].iPer==iPer ) continue;
    if( nPair>=nPairAlloc ){
      i64 nNew = nPairAlloc ? nPairAlloc*2 : 1024;
      CohortPair *aNew;
      if( nNew>0x7ffffff0 ){ rc = SQLITE_TOOBIG; break; }
      aNew = sqlite3_realloc64(aPair, sizeof(CohortPair)*nNew);
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      aPair = aNew;
      nPairAlloc = nNew;
    }
    aPair[nPair].iCust = src.row.iCust;
    aPair[nPair].iPer = iPer;
    nPair++;
  }
  if( rc==SQLITE_OK && nPair>0 ){
    int bAsOf = segSourceAsOf(&src, &iAsOf);
    int j;
    (void)bAsOf;
    iMaxPer = cohortPeriodOf(ePeriod, iAsOf);
    aIdx = sqlite3_malloc64(sizeof(int)*(u64)nPair);
    if( aIdx==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
    for(i=0; i<nPair; i++) aIdx[i] = i;
    rc = segSortIdx(aIdx, (int)nPair, cohortPairCmp, aPair);
    if( rc ) goto cohort_done;
    iMinPer = aPair[aIdx[0]].iPer;
    for(i=1; i<nPair; i++){
      if( aPair[aIdx[i]].iPer<iMinPer ) iMinPer = aPair[aIdx[i]].iPer;
    }
    nPer = iMaxPer - iMinPer + 1;
    aSize = sqlite3_malloc64(sizeof(i64)*(u64)nPer);
    aActive = sqlite3_malloc64(sizeof(i64)*(u64)nPer*(u64)nPer);
    if( aSize==0 || aActive==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
    memset(aSize, 0, sizeof(i64)*(u64)nPer);
    memset(aActive, 0, sizeof(i64)*(u64)nPer*(u64)nPer);
    for(i=0; i<nPair; i=j){
      int iCust = aPair[aIdx[i]].iCust;
      int iCohort = aPair[aIdx[i]].iPer - iMinPer;   /* sorted: the first */
      int iPrev = -1;
      aSize[iCohort]++;
      for(j=i; j<nPair && aPair[aIdx[j]].iCust==iCust; j++){
        int iOff = aPair[aIdx[j]].iPer - iMinPer - iCohort;
        if( iOff!=iPrev ){
          aActive[(i64)iCohort*nPer + iOff]++;
          iPrev = iOff;
        }
      }
    }
    for(i=0; i<nPer; i++){
      if( aSize[i] ) nCohortRow += nPer - i;
    }
    pOut = sqlite3_malloc64(sizeof(*pOut));
    if( pOut==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
    pOut->ePeriod = ePeriod;
    pOut->aRow = sqlite3_malloc64(sizeof(CohortRow)*(u64)(nCohortRow+1));
    if( pOut->aRow==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
    nCohortRow = 0;
    for(i=0; i<nPer; i++){
      if( aSize[i]==0 ) continue;
      for(j=0; j<nPer-i; j++){
        CohortRow *r = &pOut->aRow[nCohortRow++];
        r->iCohort = iMinPer + i;
        r->iOffset = j;
        r->nCustomers = aSize[i];
        r->nActive = aActive[(i64)i*nPer + j];
      }
    }
  }else if( rc==SQLITE_OK ){
    pOut = sqlite3_malloc64(sizeof(*pOut));
    if( pOut==0 ){ rc = SQLITE_NOMEM; goto cohort_done; }
    pOut->aRow = 0;
    pOut->ePeriod = ePeriod;
  }
  if( rc==SQLITE_OK ){
    pRes->nRow = nCohortRow;
    pRes->pData = pOut;
    pRes->xColumn = cohortColumn;
    pRes->xFree = cohortFree;
    pOut = 0;
  }
cohort_done:
  cohortFree(pOut);
  sqlite3_free(aPair);
  sqlite3_free(aIdx);
  sqlite3_free(aSize);
  sqlite3_free(aActive);
  segSourceClose(&src);
  return rc;
}

static const char *const azCohortOpt[] = { SEG_SOURCE_OPTIONS, "period", 0 };

static const SegModuleSpec cohortModule = {
  "cohort_retention",
  "cohort,period,customers,active,retention",
  azCohortOpt, 0, cohortCompute
};

int segmentRegisterCluster(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &cohortModule, pzErr);
}
