/*
** holdout.c: checking the purchase models (DESIGN.md section 5b): the
** calibration / holdout split, the comparison of a model's predictions
** with the holdout, and the likelihood-ratio test.
**
**   SELECT * FROM clv_holdout('orders', 'calibration_end=1997-09-30',
**                             'holdout_end=1998-06-30');
**   SELECT * FROM clv_validation('orders', 'calibration_end=1997-09-30',
**                                'holdout_end=1998-06-30');
**   SELECT lr_test(:restricted_model, :full_model);
**
** clv_holdout: one row per customer whose first purchase is on or before
** calibration_end (ORDER BY customer):
**   customer, x, t_x, T, monetary, x_holdout, monetary_holdout,
**   duration_holdout
** Options: the source reader's but as_of= (calibration_end= takes its
** place), unit= (as clv_summary), calibration_end= (required) and
** holdout_end= (default: the source's latest usable day).
**
** Requirements (split):
**   H1. The source is read once.  Rows after holdout_end are left out;
**       x, t_x, T and monetary are clv_summary's (requirements S1-S4 of
**       clv.c) over the rows up to calibration_end, with T =
**       calibration_end - first purchase day: the same numbers as
**       clv_summary with as_of=calibration_end.
**   H2. x_holdout = the purchase days (days with an order, as x counts
**       them) after calibration_end, up to holdout_end.
**   H3. monetary_holdout = the net total of the known amounts dated in the
**       holdout (refunds lower it); 0.0 when there are none; NULL when
**       there are holdout purchase days but none has a known amount.
**       (lifetimes' monetary_value_holdout is the mean instead:
**       monetary_holdout / x_holdout.)
**   H4. duration_holdout = (holdout_end - calibration_end) in the unit,
**       the same on every row.
**   H5. holdout_end must be later than calibration_end: "clv_holdout():
**       holdout_end= is not later than calibration_end="; so must the
**       latest day when holdout_end= is not given (a source without
**       a usable row gives no rows).
**
** clv_validation: the model fitted on the calibration summary (model=
** bgnbd|pareto_nbd|mbgnbd, default bgnbd, fitted as bgnbd_fit() fits)
** against the holdout.  Options: clv_holdout's, model= and cap= (the
** highest calibration frequency shown alone, 1..1000, default 7).  Columns:
**   view, period, label, customers, actual, predicted, value
** Rows, in this order:
**   V1. view 'frequency': one row per calibration frequency x = 0 ..
**       cap-1 with customers, and one for x >= cap (label 'cap+'; the
**       literature's conditional-expectation plot pools 7+, lifetimes'
**       plot_calibration_purchases_vs_holdout_purchases(n=7) drops the
**       frequencies from 7 instead): period = x (the
**       group's lowest), label = x as text, customers, actual = mean
**       x_holdout, predicted = mean expected_purchases(model,
**       duration_holdout, x, t_x, T).  Groups without a customer are not
**       output.
**   V2. view 'tracking': the cumulative repeat purchases of the whole
**       base, per period of one unit from the base's first purchase day
**       D0: period p ends on day e = D0 + ceil(p u) - 1 (u the unit in
**       days), the last on holdout_end.  label = that day (ISO),
**       customers = customers whose first purchase is on or before it,
**       actual = their repeat purchase days up to it (calibration and
**       holdout), predicted = the sum over them of expected_purchases(
**       model, (e - first purchase day + 1) / u), each day counted whole
**       as BTYD and lifetimes count it: the cumulative tracking
**       plot of Fader, Hardie & Lee (2005), in weeks (BTYD's
**       bgnbd.ExpectedCumulativeTransactions, lifetimes'
**       plot_cumulative_transactions).
**   V3. view 'summary': label 'total' (customers; actual = sum of
**       x_holdout; predicted = sum of the predictions), 'mae', 'rmse'
**       (value: mean absolute and root mean squared error of the
**       per-customer prediction of x_holdout), 'correlation' (value:
**       Pearson's between x_holdout and the prediction; NULL when either
**       is constant), 'model' (value: the fitted model's JSON, as
**       bgnbd_fit() returns it).  period is NULL.
**   V4. Columns a view does not use are NULL.  No customer in the
**       calibration is an error; so is a fit whose parameters are not
**       finite.  Interrupts stop the fit and the tracking sums.
**
** lr_test(restricted, full): the likelihood-ratio test of a model whose
** parameters are a restriction of another's, both fitted to the same
** data.  Returns {"statistic":..,"df":..,"p_value":..}: statistic = 2
** (LL_full - LL_restricted), df = k_full - k_restricted, p_value = its
** chi-square survival probability (regularized upper incomplete gamma
** Q(df/2, statistic/2)).
**   L1. Each argument is a model JSON with log_likelihood, k and n
**       ("1st argument to lr_test() is not a fitted model (with
**       log_likelihood, k and n)"); a NULL argument gives NULL.
**   L2. The n must be equal ("lr_test(): the models are not fitted to the
**       same data (n 2357 and 2000)"); the full model must have more
**       parameters ("lr_test(): the 2nd model does not have more
**       parameters than the 1st (k 4 and 4)"); and a log-likelihood at
**       least the restricted one's, to 1e-9 relative ("lr_test(): the 2nd
**       model's log-likelihood is below the 1st's, so the 1st is not
**       nested in it or a fit did not converge"); a statistic within that
**       tolerance of 0 is 0.
**   L2b. A model whose "converged" is false is refused: "lr_test(): the
**       1st model did not converge ("converged":false), so its
**       log-likelihood is not its maximum".
**   L3. Nesting itself cannot be seen from two JSON texts: it is the
**       caller's claim.  BG/NBD and MBG/NBD have the same four
**       parameters and neither is the other with a parameter fixed, so
**       they are not a pair for this test (L2 refuses them by k);
**       compare them by aic and bic.
*/
#include "segmentInt.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

/**************************************************************************
** The split (clv_holdout, and the first step of clv_validation)
*/
typedef struct HoldResult HoldResult;
struct HoldResult {
  SegSource src;
  SegClvCust *aCust;
  int nCust;
  int eUnit;
  double rDuration;               /* duration_holdout */
  SegClvSplit split;
};

static void holdResultFree(void *pData){
  HoldResult *p = (HoldResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->split.aRepeat);
  sqlite3_free(p);
}

/* Read the options calibration_end= and holdout_end= and the source into
** p (H1-H5).  SQLITE_OK or an error with *pzErr. */
static int holdSplit(sqlite3 *db, const SegOpts *pOpts, HoldResult *p,
                     char **pzErr){
  int iCal, iHold = 0x7fffffff, bCal, bHold, rc;
  rc = segOptsDay(pOpts, "calibration_end", &iCal, &bCal, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsDay(pOpts, "holdout_end", &iHold, &bHold, pzErr);
  }
  if( rc ) return rc;
  if( !bCal ){
    *pzErr = segOptsError(pOpts, "calibration_end= is required");
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( bHold && iHold<=iCal ){
    *pzErr = segOptsError(pOpts,
                          "holdout_end= is not later than calibration_end=");
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  p->split.iCalEnd = iCal;
  p->split.iHoldEnd = iHold;
  rc = segClvSummarize(db, pOpts, &p->split, &p->src, &p->aCust, &p->nCust,
                       &p->eUnit, pzErr);
  if( rc ) return rc;
  if( !bHold ){
    /* H5: the latest usable day; a source without one has no customer
    ** (and no rows) */
    if( !segSourceAsOf(&p->src, &iHold) ){
      iHold = iCal + 1;
    }else if( iHold<=iCal ){
      char zDay[12];
      segFormatDay(iHold, zDay);
      *pzErr = segOptsError(pOpts, "holdout_end= is not later than "
                            "calibration_end= (the source's latest day is "
                            "%s)", zDay);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    p->split.iHoldEnd = iHold;
  }
  p->rDuration = (p->split.iHoldEnd - iCal)/segClvUnitDays(p->eUnit);
  return SQLITE_OK;
}

static int holdColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  HoldResult *p = (HoldResult*)pData;
  SegClvCust *c = &p->aCust[iRow];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[c->iCust]); break;
    case 1: sqlite3_result_int(ctx, c->x); break;
    case 2: sqlite3_result_double(ctx, c->tx); break;
    case 3: sqlite3_result_double(ctx, c->T); break;
    case 4: if( !isnan(c->m) ) sqlite3_result_double(ctx, c->m); break;
    case 5: sqlite3_result_int(ctx, c->xHold); break;
    case 6: if( !isnan(c->mHold) ) sqlite3_result_double(ctx, c->mHold);
            break;
    case 7: sqlite3_result_double(ctx, p->rDuration); break;
  }
  return SQLITE_OK;
}

static int holdCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                       char **pzErr){
  HoldResult *p = sqlite3_malloc64(sizeof(*p));
  int rc;
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = holdSplit(db, pOpts, p, pzErr);
  if( rc ){
    holdResultFree(p);
    return rc;
  }
  pRes->nRow = p->nCust;
  pRes->pData = p;
  return SQLITE_OK;
}

/**************************************************************************
** clv_validation
*/
#define VAL_FREQUENCY 0
#define VAL_TRACKING  1
#define VAL_SUMMARY   2
static const char *const azValView[] = { "frequency", "tracking", "summary" };

typedef struct ValRow ValRow;
struct ValRow {
  int eView;
  int bPeriod; i64 iPeriod;       /* period, when bPeriod */
  char zLabel[16];                /* label (a number, a day or a name) */
  i64 nCust;                      /* customers, -1 for NULL */
  double rActual, rPred, rValue;  /* NaN = NULL */
};

typedef struct ValResult ValResult;
struct ValResult {
  ValRow *aRow;
  int nRow;
  char *zModel;                   /* the 'model' row's value */
};

static void valResultFree(void *pData){
  ValResult *p = (ValResult*)pData;
  if( p==0 ) return;
  sqlite3_free(p->aRow);
  sqlite3_free(p->zModel);
  sqlite3_free(p);
}

static void valDouble(sqlite3_context *ctx, double r){
  if( !isnan(r) ) sqlite3_result_double(ctx, r);
}

static int valColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  ValResult *p = (ValResult*)pData;
  ValRow *r = &p->aRow[iRow];
  switch( iCol ){
    case 0: sqlite3_result_text(ctx, azValView[r->eView], -1, SQLITE_STATIC);
            break;
    case 1: if( r->bPeriod ) sqlite3_result_int64(ctx, r->iPeriod); break;
    case 2: sqlite3_result_text(ctx, r->zLabel, -1, SQLITE_TRANSIENT); break;
    case 3: if( r->nCust>=0 ) sqlite3_result_int64(ctx, r->nCust); break;
    case 4: valDouble(ctx, r->rActual); break;
    case 5: valDouble(ctx, r->rPred); break;
    case 6:
      if( r->eView==VAL_SUMMARY && strcmp(r->zLabel, "model")==0 ){
        sqlite3_result_text(ctx, p->zModel, -1, SQLITE_TRANSIENT);
      }else{
        valDouble(ctx, r->rValue);
      }
      break;
  }
  return SQLITE_OK;
}

/* A new row of p (aRow has room: counted before). */
static ValRow *valAdd(ValResult *p, int eView, const char *zLabel){
  ValRow *r = &p->aRow[p->nRow++];
  memset(r, 0, sizeof(*r));
  r->eView = eView;
  r->nCust = -1;
  r->rActual = r->rPred = r->rValue = NAN;
  sqlite3_snprintf(sizeof(r->zLabel), r->zLabel, "%s", zLabel);
  return r;
}

static int valIntCmp(const void *pA, const void *pB){
  int a = *(const int*)pA, b = *(const int*)pB;
  return a<b ? -1 : a>b;
}

/* Cumulative tracking (V2) into p: per period, actual and expected
** repeat purchases of the base.  E[X(d/u)] is computed once per elapsed
** day d, then weighted by the customers of each distinct first day.  By
** the end of day e a customer first seen on day f has had e - f + 1 days
** (the whole of both), BTYD's and lifetimes' count. */
#define VAL_MAX_PERIODS 100000
static int valTracking(const HoldResult *h, int eModel, const double *aParam,
                       ValResult *p, i64 nPeriod, int iD0, SegCheck *pChk){
  double u = segClvUnitDays(h->eUnit);
  int nSpan = h->split.iHoldEnd - iD0 + 1;    /* days D0 .. holdout_end */
  double *aE = 0;
  i64 *aFirst = 0;                            /* customers per first day */
  int *aOff = 0, nOff = 0;                    /* the days with some */
  int *aRepeat = h->split.aRepeat;
  i64 iRep = 0, nBase, k;
  int i, d, rc = SQLITE_OK;
  aE = sqlite3_malloc64(sizeof(double)*((u64)nSpan+1));
  aFirst = sqlite3_malloc64(sizeof(i64)*(u64)nSpan);
  aOff = sqlite3_malloc64(sizeof(int)*(u64)nSpan);
  if( aE==0 || aFirst==0 || aOff==0 ){ rc = SQLITE_NOMEM; goto tracking_done; }
  memset(aFirst, 0, sizeof(i64)*(u64)nSpan);
  for(i=0; i<h->nCust; i++) aFirst[h->aCust[i].iFirstDay - iD0]++;
  for(d=0; d<nSpan; d++){
    if( aFirst[d] ) aOff[nOff++] = d;
  }
  for(d=0; d<=nSpan && rc==SQLITE_OK; d++){
    aE[d] = segClvExpected(eModel, aParam, d/u);
    if( !isfinite(aE[d]) ) rc = SQLITE_RANGE;
    if( rc==SQLITE_OK ) rc = segCheck(pChk, 20000);
  }
  if( rc ) goto tracking_done;
  qsort(aRepeat, (size_t)h->split.nRepeat, sizeof(int), valIntCmp);
  for(k=1; k<=nPeriod && rc==SQLITE_OK; k++){
    int iEnd = iD0 + (int)ceil(k*u) - 1, iLast;
    SegSum s = {0.0, 0.0};
    ValRow *r;
    if( k==nPeriod || iEnd>h->split.iHoldEnd ) iEnd = h->split.iHoldEnd;
    iLast = iEnd - iD0;
    for(i=0, nBase=0; i<nOff && aOff[i]<=iLast; i++){
      nBase += aFirst[aOff[i]];
      segSumAdd(&s, aFirst[aOff[i]]*aE[iLast-aOff[i]+1]);
    }
    while( iRep<h->split.nRepeat && aRepeat[iRep]<=iEnd ) iRep++;
    r = valAdd(p, VAL_TRACKING, "");
    segFormatDay(iEnd, r->zLabel);
    r->bPeriod = 1;
    r->iPeriod = k;
    r->nCust = nBase;
    r->rActual = (double)iRep;
    r->rPred = segSumValue(&s);
    rc = segCheck(pChk, 10*(i64)(i+1));
  }

tracking_done:
  sqlite3_free(aE);
  sqlite3_free(aFirst);
  sqlite3_free(aOff);
  return rc;
}

static const char *const azValModel[] = { "bgnbd", "pareto_nbd", "mbgnbd",
                                          0 };
static const int aeValModel[] = { SEG_CLV_BGNBD, SEG_CLV_PARETO,
                                  SEG_CLV_MBGNBD };
/* The option name of model eModel. */
static const char *valModelName(int eModel){
  return azValModel[eModel==SEG_CLV_MBGNBD ? 2 : eModel];
}

/* eModel fitted to the calibration summary of h: aParam and the model's
** JSON p->zModel, or an error (a model that could not be fitted). */
static int valFit(const HoldResult *h, int eModel, SegCheck *pCheck,
                  double *aParam, ValResult *p, const SegOpts *pOpts,
                  char **pzErr){
  int i, rc = segClvFit(eModel, h->eUnit, h->aCust, h->nCust, pCheck,
                        aParam, &p->zModel);
  for(i=0; rc==SQLITE_OK && i<4; i++){
    if( !isfinite(aParam[i]) || !(aParam[i]>0.0) ){
      *pzErr = segOptsError(pOpts, "the %s model could not be fitted",
                            valModelName(eModel));
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  return rc;
}

/* The frequency groups (V1): each customer's expected holdout purchases
** aPred[i], summed with the actual ones into the nCap+1 groups of x and
** into the totals of *g.  SQLITE_RANGE for an expectation that is not
** finite. */
typedef struct ValGroups ValGroups;
struct ValGroups {
  double *aA, *aE;                /* actual and expected sums, by group */
  i64 *aN;                        /* customers, by group */
  SegSum sa, se;                  /* actual and expected totals */
};
static int valGroups(const HoldResult *h, int eModel, const double *aParam,
                     int nCap, double *aPred, ValGroups *g,
                     SegCheck *pCheck){
  int i, rc = SQLITE_OK;
  g->aA = sqlite3_malloc64(sizeof(double)*(u64)(nCap+1));
  g->aE = sqlite3_malloc64(sizeof(double)*(u64)(nCap+1));
  g->aN = sqlite3_malloc64(sizeof(i64)*(u64)(nCap+1));
  if( g->aA==0 || g->aE==0 || g->aN==0 ) return SQLITE_NOMEM;
  for(i=0; i<=nCap; i++){ g->aA[i] = g->aE[i] = 0.0; g->aN[i] = 0; }
  for(i=0; i<h->nCust && rc==SQLITE_OK; i++){
    SegClvCust *c = &h->aCust[i];
    double a = c->xHold, e;
    int k = c->x<nCap ? c->x : nCap;
    e = aPred[i] = segClvCondExpected(eModel, aParam, h->rDuration, c->x,
                                      c->tx, c->T);
    if( !isfinite(e) ) return SQLITE_RANGE;
    g->aA[k] += a;
    g->aE[k] += e;
    g->aN[k]++;
    segSumAdd(&g->sa, a);
    segSumAdd(&g->se, e);
    rc = segCheck(pCheck, 2000);
  }
  return rc;
}

/* V3: the summary rows, from the errors per customer in two passes (the
** means first). */
static void valSummary(const HoldResult *h, const double *aPred,
                       const ValGroups *g, ValResult *p){
  SegSum sae = {0.0, 0.0}, saa = {0.0, 0.0}, see = {0.0, 0.0};
  SegSum sabs = {0.0, 0.0}, ssq = {0.0, 0.0};
  int i, n = h->nCust;
  double ma = segSumValue(&g->sa)/n, me = segSumValue(&g->se)/n;
  double rCorr = NAN;
  ValRow *r;
  for(i=0; i<n; i++){
    double a = h->aCust[i].xHold, e = aPred[i];
    segSumAdd(&sabs, fabs(a-e));
    segSumAdd(&ssq, (a-e)*(a-e));
    segSumAdd(&saa, (a-ma)*(a-ma));
    segSumAdd(&see, (e-me)*(e-me));
    segSumAdd(&sae, (a-ma)*(e-me));
  }
  if( segSumValue(&saa)>0.0 && segSumValue(&see)>0.0 ){
    rCorr = segSumValue(&sae)/sqrt(segSumValue(&saa)*segSumValue(&see));
  }
  r = valAdd(p, VAL_SUMMARY, "total");
  r->nCust = n;
  r->rActual = segSumValue(&g->sa);
  r->rPred = segSumValue(&g->se);
  r = valAdd(p, VAL_SUMMARY, "mae");
  r->nCust = n;
  r->rValue = segSumValue(&sabs)/n;
  r = valAdd(p, VAL_SUMMARY, "rmse");
  r->nCust = n;
  r->rValue = sqrt(segSumValue(&ssq)/n);
  r = valAdd(p, VAL_SUMMARY, "correlation");
  r->nCust = n;
  r->rValue = rCorr;
  valAdd(p, VAL_SUMMARY, "model");
}

/* The rows' room (the groups, *pnPeriod periods from day *piD0, the 5
** summary rows) and the frequency groups' rows. */
static int valRows(const HoldResult *h, int nCap, const ValGroups *g,
                   ValResult *p, const SegOpts *pOpts, i64 *pnPeriod,
                   int *piD0, char **pzErr){
  double u = segClvUnitDays(h->eUnit);
  int i, iD0 = h->split.iCalEnd;
  i64 nPeriod;
  for(i=0; i<h->nCust; i++){
    if( h->aCust[i].iFirstDay<iD0 ) iD0 = h->aCust[i].iFirstDay;
  }
  nPeriod = (i64)ceil((h->split.iHoldEnd - iD0 + 1)/u);
  if( nPeriod>VAL_MAX_PERIODS ){
    *pzErr = segOptsError(pOpts, "the tracking would have %lld periods "
                          "(more than %d): use a longer unit=",
                          nPeriod, VAL_MAX_PERIODS);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  p->aRow = sqlite3_malloc64(sizeof(ValRow)*(u64)(nCap+1+nPeriod+5));
  if( p->aRow==0 ) return SQLITE_NOMEM;
  for(i=0; i<=nCap; i++){
    ValRow *r;
    char zLabel[16];
    if( g->aN[i]==0 ) continue;
    sqlite3_snprintf(sizeof(zLabel), zLabel, i<nCap ? "%d" : "%d+", i);
    r = valAdd(p, VAL_FREQUENCY, zLabel);
    r->bPeriod = 1;
    r->iPeriod = i;
    r->nCust = g->aN[i];
    r->rActual = g->aA[i]/g->aN[i];
    r->rPred = g->aE[i]/g->aN[i];
  }
  *pnPeriod = nPeriod;
  *piD0 = iD0;
  return SQLITE_OK;
}

static int valCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  HoldResult *h = 0;
  ValResult *p = 0;
  ValGroups g;
  SegCheck chk;
  double *aPred = 0, aParam[4];
  i64 nPeriod;
  int eModel = 0, nCap, iD0, rc;

  memset(&g, 0, sizeof(g));
  segCheckInit(&chk, db);
  rc = segOptsEnum(pOpts, "model", azValModel, 0, &eModel, pzErr);
  if( rc==SQLITE_OK ) rc = segOptsInt(pOpts, "cap", 7, 1, 1000, &nCap, pzErr);
  if( rc ) goto val_done;
  eModel = aeValModel[eModel];
  h = sqlite3_malloc64(sizeof(*h));
  if( h ) memset(h, 0, sizeof(*h));
  p = sqlite3_malloc64(sizeof(*p));
  if( p ) memset(p, 0, sizeof(*p));
  if( h==0 || p==0 ){ rc = SQLITE_NOMEM; goto val_done; }
  rc = holdSplit(db, pOpts, h, pzErr);
  if( rc ) goto val_done;
  if( h->nCust==0 ){
    *pzErr = segOptsError(pOpts, "no customer's first purchase is on or "
                          "before calibration_end=");
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    goto val_done;
  }
  aPred = sqlite3_malloc64(sizeof(double)*(u64)h->nCust);
  if( aPred==0 ){ rc = SQLITE_NOMEM; goto val_done; }
  rc = valFit(h, eModel, &chk, aParam, p, pOpts, pzErr);
  if( rc==SQLITE_OK ){
    rc = valGroups(h, eModel, aParam, nCap, aPred, &g, &chk);
  }
  if( rc ) goto val_done;
  rc = valRows(h, nCap, &g, p, pOpts, &nPeriod, &iD0, pzErr);
  if( rc==SQLITE_OK ){
    rc = valTracking(h, eModel, aParam, p, nPeriod, iD0, &chk);
  }
  if( rc==SQLITE_OK ) valSummary(h, aPred, &g, p);

val_done:
  if( rc==SQLITE_RANGE ){
    /* an expectation that is not finite (P4 of clv.c): an error, never a
    ** silent NULL */
    *pzErr = segOptsError(pOpts, "numerical failure in the %s model's "
                          "expected purchases (a span too long for its "
                          "alpha: use a longer unit=)",
                          valModelName(eModel));
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  segCheckFree(&chk);
  sqlite3_free(aPred);
  sqlite3_free(g.aA);
  sqlite3_free(g.aE);
  sqlite3_free(g.aN);
  holdResultFree(h);
  if( rc ){
    valResultFree(p);
    return rc;
  }
  pRes->nRow = p->nRow;
  pRes->pData = p;
  return SQLITE_OK;
}

/**************************************************************************
** lr_test(restricted, full)
*/

/* log Gamma(a) for a whole or half-whole a > 0 (a = df/2), exactly as
** the sum of logs of the recurrence Gamma(a+1) = a Gamma(a). */
static double lrLogGammaHalf(double a){
  double l = 0.0, x;
  if( a!=floor(a) ){
    l = 0.5*log(3.14159265358979323846);   /* Gamma(1/2) = sqrt(pi) */
    for(x=0.5; x<a; x+=1.0) l += log(x);
  }else{
    for(x=1.0; x<a; x+=1.0) l += log(x);
  }
  return l;
}

/* Q(a, x) = Gamma(a, x)/Gamma(a), the regularized upper incomplete
** gamma function: 1 - the series of P(a, x) when x < a + 1, else the
** continued fraction of Q (modified Lentz), each to 1e-15. */
static double lrGammaQ(double a, double x){
  double lPre, r;
  int i;
  if( x<=0.0 ) return 1.0;
  if( isinf(x) ) return 0.0;
  lPre = a*log(x) - x - lrLogGammaHalf(a);
  if( x<a+1.0 ){
    double s = 1.0/a, t = s;
    for(i=1; i<100000; i++){
      t *= x/(a+i);
      s += t;
      if( t<s*1e-16 ) break;
    }
    r = 1.0 - exp(lPre)*s;
    return r<0.0 ? 0.0 : r;
  }else{
    double b = x+1.0-a, c = 1e300, d = 1.0/b, f = d;
    for(i=1; i<100000; i++){
      double an = -i*(i-a), del;
      b += 2.0;
      d = an*d + b;
      if( fabs(d)<1e-300 ) d = 1e-300;
      c = b + an/c;
      if( fabs(c)<1e-300 ) c = 1e-300;
      d = 1.0/d;
      del = d*c;
      f *= del;
      if( fabs(del-1.0)<1e-16 ) break;
    }
    return exp(lPre)*f;
  }
}

/* Read argument iArg's log_likelihood, k and n: 1 OK, 0 error set. */
static int lrModelArg(sqlite3_context *ctx, sqlite3_value *pVal, int iArg,
                      double *pLl, double *pK, double *pN){
  SegJson *pJson = 0;
  const char *z = (const char*)sqlite3_value_text(pVal);
  int rc, bOk = 0, bConverged = 1;
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return 0; }
  rc = segJsonParse(z, sqlite3_value_bytes(pVal), &pJson);
  if( rc==SQLITE_NOMEM ){ sqlite3_result_error_nomem(ctx); return 0; }
  if( rc==SQLITE_OK
   && segJsonGetNumber(pJson, "log_likelihood", pLl) && isfinite(*pLl)
   && segJsonGetNumber(pJson, "k", pK) && *pK>=0.0 && *pK==floor(*pK)
   && *pK<=1000.0
   && segJsonGetNumber(pJson, "n", pN) && *pN>0.0 && *pN==floor(*pN) ){
    bOk = 1;
    segJsonGetBool(pJson, "converged", &bConverged);
  }
  segJsonFree(pJson);
  if( bOk && !bConverged ){
    char *zErr = sqlite3_mprintf("lr_test(): the %s model did not converge "
                                 "(\"converged\":false), so its "
                                 "log-likelihood is not its maximum",
                                 segOrdinal(iArg+1));
    if( zErr ) sqlite3_result_error(ctx, zErr, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
    return 0;
  }
  if( !bOk ){
    char *zErr = sqlite3_mprintf("%s argument to lr_test() is not a fitted "
                                 "model (with log_likelihood, k and n)",
                                 segOrdinal(iArg+1));
    if( zErr ) sqlite3_result_error(ctx, zErr, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
  }
  return bOk;
}

static void lrTestFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  double aLl[2], aK[2], aN[2], rStat, rTol;
  char *z;
  sqlite3_str *pStr;
  int i;
  (void)argc;
  for(i=0; i<2; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  for(i=0; i<2; i++){
    if( !lrModelArg(ctx, argv[i], i, &aLl[i], &aK[i], &aN[i]) ) return;
  }
  rStat = 2.0*(aLl[1] - aLl[0]);
  rTol = 2e-9*(fabs(aLl[0]) + fabs(aLl[1]));
  if( aN[0]!=aN[1] || aK[1]<=aK[0] || rStat < -rTol ){
    if( aN[0]!=aN[1] ){
      z = sqlite3_mprintf("lr_test(): the models are not fitted to the same "
                          "data (n %.0f and %.0f)", aN[0], aN[1]);
    }else if( aK[1]<=aK[0] ){
      z = sqlite3_mprintf("lr_test(): the 2nd model does not have more "
                          "parameters than the 1st (k %.0f and %.0f)",
                          aK[0], aK[1]);
    }else{
      z = sqlite3_mprintf("lr_test(): the 2nd model's log-likelihood is "
                          "below the 1st's, so the 1st is not nested in it "
                          "or a fit did not converge");
    }
    if( z ) sqlite3_result_error(ctx, z, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(z);
    return;
  }
  if( rStat<rTol ) rStat = 0.0;
  pStr = sqlite3_str_new(0);
  sqlite3_str_appendall(pStr, "{\"statistic\":");
  segJsonAppendNumber(pStr, rStat);
  sqlite3_str_appendf(pStr, ",\"df\":%.0f,\"p_value\":", aK[1]-aK[0]);
  segJsonAppendNumber(pStr, lrGammaQ(0.5*(aK[1]-aK[0]), 0.5*rStat));
  sqlite3_str_appendall(pStr, "}");
  z = sqlite3_str_finish(pStr);
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/**************************************************************************
** Registration
*/
static const char *const azHoldOpt[] = {
  "source", "customer", "date", "amount", "order", "since", "on_error",
  "date_format", "unit", "calibration_end", "holdout_end", 0
};
static const char *const azValOpt[] = {
  "source", "customer", "date", "amount", "order", "since", "on_error",
  "date_format", "unit", "calibration_end", "holdout_end", "model", "cap", 0
};
static const SegModuleSpec holdModule = {
  "clv_holdout", "customer,x,t_x,T,monetary,x_holdout,monetary_holdout,"
  "duration_holdout", azHoldOpt, 0, holdCompute, SEG_READS_TABLE,
  holdColumn, holdResultFree
};
static const SegModuleSpec valModule = {
  "clv_validation", "view,period,label,customers,actual,predicted,value",
  azValOpt, 0, valCompute, SEG_READS_TABLE,
  valColumn, valResultFree
};

int segmentRegisterHoldout(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "lr_test", 2, SEG_SCALAR_FLAGS, 0, lrTestFunc, 0, 0 },
  };
  int rc = segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &holdModule, pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &valModule, pzErr);
  return rc;
}
