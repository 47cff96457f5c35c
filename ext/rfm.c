/*
** rfm.c: the rfm_score table-valued function (DESIGN.md section 3).
**
**   SELECT * FROM rfm_score('orders' [, 'key=value' ...]);
**   CREATE VIRTUAL TABLE rfm USING rfm_score(source=orders, bins=4);
**
** One row per customer with at least one order in the window, in the order
** of ORDER BY customer:
**
**   customer, first_date, last_date, recency_days, frequency, monetary,
**   avg_order_value, r, f, m, rfm, segment
**
** Options: the source reader's (source, customer, date, amount, order,
** as_of, since, on_error) and
**   bins=1..9 (default 5), method=rank|ntile|quantile (default rank),
**   monetary=total|average (score m on the net total or on
**   avg_order_value), r_breaks= f_breaks= m_breaks= (explicit ascending
**   thresholds; bins becomes k+1 and an explicit bins= must agree),
**   scheme= (standard, rfm_r, rf_grid or a rules table; default standard),
**   min_share= min_customers= other= (the small-segment guard, segtools.c:
**   a customer whose segment is under the bar has segment other=).
**
** Requirements:
**   1. first_date / last_date / recency_days come from orders only
**      (refunds never move them); recency_days = as_of day - last order day.
**   2. frequency = orders: order rows, or distinct order ids with order=.
**   3. monetary = compensated net sum of all known amounts, refunds
**      included; 0.0 when none is known; an overflow is an error naming
**      the customer.  avg_order_value = monetary / orders with a known
**      amount, NULL when there are none.
**   4. Scores from segScore() (score.c), the one scoring routine; ties in
**      ntile are broken by the customer order.  A NULL avg_order_value is
**      scored as NaN: 1 under every method (score.c requirement 5).
**   5. rfm = 100r + 10f + m; segment from the scheme (schemes.c), or
**      other= when the guard folds it.  The options and the scoring are
**      segRfmOptions() and segRfmScore(), which segtools.c shares.
**   6. Memory grows with customers, not rows: one pass over the source,
**      per-customer state in arrays indexed by the reader's customer map.
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

typedef struct RfmCust RfmCust;
struct RfmCust {
  int iFirst, iLast;              /* order days */
  unsigned int nOrder;            /* orders */
  unsigned int nKnown;            /* orders with a known amount */
  SegSum sum;                     /* net amount */
};

/* An output row (SegRfmRow, segmentInt.h), in output order */
typedef SegRfmRow RfmRow;

typedef struct RfmResult RfmResult;
struct RfmResult {
  SegSource src;                  /* keeps the customer map alive */
  RfmCust *aCust;                 /* the scan's state by customer index; then scratch for the scores */
  int nCustAlloc;                 /* allocated entries of aCust */
  unsigned char *aKnownOrder;     /* with order=: order has a known amount */
  int nKnownOrder;
  RfmRow *aRow;                   /* output rows */
  unsigned char *aR, *aF, *aM;    /* scores of each output row */
  int nOut;
  int iAsOf;
  SegRfmSpec spec;                /* the scoring options and scheme */
  SegGuard guard;                 /* min_share= / min_customers= / other= */
  SegCells *pCells;               /* the segments folded, when guarded */
};

static void rfmFree(void *pData){
  RfmResult *p = (RfmResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aKnownOrder);
  sqlite3_free(p->aRow);
  sqlite3_free(p->aR);
  sqlite3_free(p->pCells);
  segRfmSpecFree(&p->spec);
  segGuardFree(&p->guard);
  sqlite3_free(p);
}

static int rfmColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  RfmResult *p = (RfmResult*)pData;
  const RfmRow *c = &p->aRow[iRow];
  char zDay[16];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[c->iCust]); break;
    case 1:
      sqlite3_result_text(ctx, zDay, segFormatDay(c->iFirst, zDay),
                          SQLITE_TRANSIENT);
      break;
    case 2:
      sqlite3_result_text(ctx, zDay, segFormatDay(c->iLast, zDay),
                          SQLITE_TRANSIENT);
      break;
    case 3: sqlite3_result_int(ctx, p->iAsOf - c->iLast); break;
    case 4: sqlite3_result_int64(ctx, (i64)c->nOrder); break;
    case 5: sqlite3_result_double(ctx, c->rMonetary); break;
    case 6:
      if( c->nKnown ){
        sqlite3_result_double(ctx, c->rMonetary/(double)c->nKnown);
      }
      break;
    case 7: sqlite3_result_int(ctx, p->aR[iRow]); break;
    case 8: sqlite3_result_int(ctx, p->aF[iRow]); break;
    case 9: sqlite3_result_int(ctx, p->aM[iRow]); break;
    case 10:
      sqlite3_result_int(ctx, 100*p->aR[iRow] + 10*p->aF[iRow] + p->aM[iRow]);
      break;
    case 11: {
      const char *z;
      if( p->pCells ){
        z = segCellsName(p->pCells, p->aR[iRow], p->aF[iRow], p->aM[iRow]);
      }else{
        z = segSchemeSegment(p->spec.pScheme, p->aR[iRow], p->aF[iRow],
                             p->aM[iRow], p->spec.nBin);
      }
      if( z ) sqlite3_result_text(ctx, z, -1, SQLITE_STATIC);
      break;
    }
  }
  return SQLITE_OK;
}

/* Read the bins/method/breaks options. */
static int rfmScoringOptions(const SegOpts *pOpts, int *pnBin, int *peMethod,
                             double **apBreak, int *anBreak, char **pzErr){
  static const char *const azBreak[] = { "r_breaks", "f_breaks", "m_breaks" };
  int rc, i, nBreakBin = 0, iFirst = -1;
  rc = segOptsEnum(pOpts, "method", segMethodNames, SEG_METHOD_RANK,
                   peMethod, pzErr);
  if( rc ) return rc;
  rc = segOptsInt(pOpts, "bins", 5, 1, 9, pnBin, pzErr);
  if( rc ) return rc;
  for(i=0; i<3; i++){
    rc = segOptsNumberList(pOpts, azBreak[i], &apBreak[i], &anBreak[i], pzErr);
    if( rc ) return rc;
    if( apBreak[i]==0 ) continue;
    if( anBreak[i]>8 ){
      *pzErr = segOptsError(pOpts, "option '%s' has more than 8 thresholds",
                            azBreak[i]);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    if( iFirst<0 ){
      iFirst = i;
      nBreakBin = anBreak[i]+1;
    }else if( anBreak[i]+1!=nBreakBin ){
      *pzErr = segOptsError(pOpts, "%s has %d thresholds but %s has %d",
                            azBreak[iFirst], anBreak[iFirst], azBreak[i],
                            anBreak[i]);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  if( iFirst>=0 ){
    if( segOptsGet(pOpts, "bins") && *pnBin!=nBreakBin ){
      *pzErr = segOptsError(pOpts, "bins=%d disagrees with %s "
                            "(%d thresholds make %d bins)", *pnBin,
                            azBreak[iFirst], anBreak[iFirst], nBreakBin);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    *pnBin = nBreakBin;
  }
  return SQLITE_OK;
}

int segRfmOptions(sqlite3 *db, const SegOpts *pOpts, SegRfmSpec *p,
                  char **pzErr){
  static const char *const azMonetary[] = { "total", "average", 0 };
  const char *zScheme;
  int rc;
  memset(p, 0, sizeof(*p));
  rc = rfmScoringOptions(pOpts, &p->nBin, &p->eMethod, p->apBreak,
                         p->anBreak, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsEnum(pOpts, "monetary", azMonetary, 0, &p->bAverage, pzErr);
  }
  if( rc==SQLITE_OK ){
    zScheme = segOptsGet(pOpts, "scheme");
    rc = segSchemeLoad(db, zScheme ? zScheme : "standard", pOpts->zFunc,
                       &p->pScheme, pzErr);
  }
  return rc;
}

void segRfmSpecFree(SegRfmSpec *p){
  int i;
  for(i=0; i<3; i++){
    sqlite3_free(p->apBreak[i]);
    p->apBreak[i] = 0;
  }
  if( p->pScheme ) segSchemeFree(p->pScheme);
  p->pScheme = 0;
}

int segRfmMonetaryError(const SegOpts *pOpts, const SegValue *k,
                        char **pzErr){
  sqlite3_str *pStr = sqlite3_str_new(0);
  char *zCust;
  if( k->eType==SQLITE_INTEGER ) sqlite3_str_appendf(pStr, "%lld", k->u.i);
  else if( k->eType==SQLITE_FLOAT ) sqlite3_str_appendf(pStr, "%!.15g", k->u.r);
  else if( k->eType==SQLITE_TEXT ) sqlite3_str_appendf(pStr, "'%.*q'", k->n, k->u.z);
  else sqlite3_str_appendall(pStr, "(blob)");
  zCust = sqlite3_str_finish(pStr);
  if( zCust==0 ) return SQLITE_NOMEM;
  *pzErr = segOptsError(pOpts, "monetary overflows for customer %s", zCust);
  sqlite3_free(zCust);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int segRfmScore(const SegRfmSpec *p, const SegRfmRow *aRow, int n, int iAsOf,
                unsigned char *aR, unsigned char *aF, unsigned char *aM,
                double *aVal, SegScratch *pBuf){
  int i, rc;
  for(i=0; i<n; i++) aVal[i] = (double)(iAsOf - aRow[i].iLast);
  rc = segScore(aVal, n, 0, p->nBin,
                p->apBreak[0] ? SEG_METHOD_BREAKS : p->eMethod,
                1, p->apBreak[0], p->anBreak[0], aR, pBuf);
  if( rc ) return rc;
  for(i=0; i<n; i++) aVal[i] = (double)aRow[i].nOrder;
  rc = segScore(aVal, n, 0, p->nBin,
                p->apBreak[1] ? SEG_METHOD_BREAKS : p->eMethod,
                0, p->apBreak[1], p->anBreak[1], aF, pBuf);
  if( rc ) return rc;
  for(i=0; i<n; i++){
    const SegRfmRow *c = &aRow[i];
    if( !p->bAverage ){
      aVal[i] = c->rMonetary;
    }else{
      aVal[i] = c->nKnown ? c->rMonetary/(double)c->nKnown : NAN;
    }
  }
  return segScore(aVal, n, 0, p->nBin,
                  p->apBreak[2] ? SEG_METHOD_BREAKS : p->eMethod,
                  0, p->apBreak[2], p->anBreak[2], aM, pBuf);
}

/* A row of the pass over the source, into its customer's state. */
static int rfmRow(void *pCtx, void *pCust, const SegRow *r){
  RfmResult *p = (RfmResult*)pCtx;
  RfmCust *c = (RfmCust*)pCust;
  if( r->eAmount==SEG_AMT_KNOWN ) segSumAdd(&c->sum, r->rAmount);
  if( !r->bOrder ) return SQLITE_OK;
  if( c->nOrder==0 ){
    c->iFirst = c->iLast = r->iDay;
  }else{
    if( r->iDay<c->iFirst ) c->iFirst = r->iDay;
    if( r->iDay>c->iLast ) c->iLast = r->iDay;
  }
  if( r->bNewOrder ) c->nOrder++;
  if( r->eAmount==SEG_AMT_KNOWN ){
    if( r->iOrder<0 ){
      c->nKnown++;
    }else{
      if( segArrayEnsureZero((void**)&p->aKnownOrder, &p->nKnownOrder,
                             r->iOrder, 1) ){
        return SQLITE_NOMEM;
      }
      if( !p->aKnownOrder[r->iOrder] ){
        p->aKnownOrder[r->iOrder] = 1;
        c->nKnown++;
      }
    }
  }
  return SQLITE_OK;
}

/* The output rows, the customers with an order in customer order
** aSorted, into p->aRow, and their number into p->nOut.  SQLITE_OK,
** SQLITE_NOMEM, or the error of a monetary that overflows (with
** *pzErr). */
static int rfmRows(RfmResult *p, const int *aSorted, const SegOpts *pOpts,
                   char **pzErr){
  int i, n;
  p->aRow = sqlite3_malloc64(sizeof(RfmRow)*(u64)(p->src.cust.nKey+1));
  if( p->aRow==0 ) return SQLITE_NOMEM;
  n = 0;
  for(i=0; i<p->src.cust.nKey; i++){
    RfmCust *c = &p->aCust[aSorted[i]];
    RfmRow *pRow = &p->aRow[n];
    /* customers are read in key order, at random: load them ahead */
    if( i+16<p->src.cust.nKey ) SEG_PREFETCH(&p->aCust[aSorted[i+16]]);
    if( c->nOrder==0 ) continue;
    pRow->rMonetary = segSumValue(&c->sum);
    if( isinf(pRow->rMonetary) || isnan(pRow->rMonetary) ){
      return segRfmMonetaryError(pOpts, &p->src.cust.aKey[aSorted[i]], pzErr);
    }
    pRow->iCust = i;                /* the key's place after the reorder */
    pRow->iFirst = c->iFirst;
    pRow->iLast = c->iLast;
    pRow->nOrder = c->nOrder;
    pRow->nKnown = c->nKnown;
    n++;
  }
  p->nOut = n;
  return SQLITE_OK;
}

/* The scores of p's n output rows into p->aR, p->aF and p->aM.  aCust,
** read into aRow and dead now but already mapped (32 bytes per
** customer), holds the measures (8) and lends segScore() the rest for
** its temporaries, where new memory would have to be faulted in page by
** page; it is freed after.  SQLITE_OK or SQLITE_NOMEM. */
static int rfmScores(RfmResult *p, int n){
  double *aVal = 0, *aValOwn = 0;
  SegScratch buf = {0, 0};
  int rc;
  p->aR = sqlite3_malloc64(3*(u64)(n+1));
  if( p->aR==0 ) return SQLITE_NOMEM;
  if( sizeof(RfmCust)*(u64)p->nCustAlloc >= sizeof(double)*(u64)(n+1) ){
    aVal = (double*)p->aCust;
    buf.a = (char*)p->aCust + sizeof(double)*(u64)(n+1);
    buf.n = sizeof(RfmCust)*(u64)p->nCustAlloc - sizeof(double)*(u64)(n+1);
  }else{
    aVal = aValOwn = sqlite3_malloc64(sizeof(double)*(u64)(n+1));
    if( aVal==0 ) return SQLITE_NOMEM;
  }
  p->aF = p->aR + n;
  p->aM = p->aF + n;
  rc = segRfmScore(&p->spec, p->aRow, n, p->iAsOf, p->aR, p->aF, p->aM,
                   aVal, &buf);
  sqlite3_free(aValOwn);
  return rc;
}

static int rfmCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  RfmResult *p;
  int rc, n;
  int *aSorted = 0;

  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));

  rc = segRfmOptions(db, pOpts, &p->spec, pzErr);
  if( rc==SQLITE_OK ) rc = segGuardOptions(pOpts, &p->guard, pzErr);
  if( rc==SQLITE_OK ){
    rc = segSourceOpen(&p->src, db, pOpts, segStdColumns, 3, pzErr);
  }

  /* One pass over the source */
  if( rc==SQLITE_OK ){
    SegEach e = { sizeof(RfmCust), 1, rfmRow, 0, 0, 0, 0 };
    e.pCtx = p;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (RfmCust*)e.aCust;
    p->nCustAlloc = e.nCustAlloc;
  }
  sqlite3_free(p->aKnownOrder);
  p->aKnownOrder = 0;
  if( rc ) goto rfm_error;

  /* Output customers (those with an order), in customer order */
  segSourceAsOf(&p->src, &p->iAsOf);
  rc = segMapSorted(&p->src.cust, &aSorted);
  if( rc ) goto rfm_error;
  segMapFreeSlots(&p->src.cust);    /* no more finds: the keys suffice */
  segMapFreeSlots(&p->src.orders);
  rc = rfmRows(p, aSorted, pOpts, pzErr);
  if( rc ) goto rfm_error;
  n = p->nOut;                      /* from here on, rows in output order */
  rc = rfmScores(p, n);
  if( rc ) goto rfm_error;

  /* The small-segment guard: folded cells are named by other= */
  if( p->guard.bOn ){
    p->pCells = sqlite3_malloc64(sizeof(SegCells));
    if( p->pCells==0 ){ rc = SQLITE_NOMEM; goto rfm_error; }
    rc = segCellsBuild(p->pCells, &p->spec, &p->guard, p->aR, p->aF, p->aM,
                       0, n);
    if( rc ) goto rfm_error;
  }

  sqlite3_free(p->aCust);
  p->aCust = 0;
  /* keys in output order, so that the rows read them in sequence (once
  ** the state is freed: the new key array is not on top of it) */
  rc = segMapReorder(&p->src.cust, aSorted);
  if( rc ) goto rfm_error;
  sqlite3_free(aSorted);
  pRes->nRow = n;
  pRes->pData = p;
  return SQLITE_OK;

rfm_error:
  sqlite3_free(aSorted);
  rfmFree(p);
  return rc;
}

static const char *const azRfmOpt[] = {
  SEG_SOURCE_OPTIONS,
  SEG_RFM_OPTIONS, SEG_GUARD_OPTIONS,
  0
};

static const SegModuleSpec rfmModule = {
  "rfm_score",
  "customer,first_date,last_date,recency_days,frequency,monetary,"
  "avg_order_value,r,f,m,rfm,segment",
  azRfmOpt, 0, rfmCompute, SEG_READS_TABLE,
  rfmColumn, rfmFree
};

int segmentRegisterRfm(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &rfmModule, pzErr);
}
