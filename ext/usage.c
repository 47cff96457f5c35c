/*
** usage.c: usage rate (DESIGN.md section 4, first bullet).
**
**   SELECT usage_tier(x, moderate_min, heavy_min);
**   SELECT * FROM usage_tier('events' [, 'key=value' ...]);
**
** usage_tier(x, moderate_min, heavy_min) scalar: 'heavy' when
** x >= heavy_min, else 'moderate' when x >= moderate_min, else 'light'.
**
** usage_tier table-valued, one row per customer (per customer and category
** with category=) with at least one event in the window, in the order of
** ORDER BY customer, category:
**
**   customer, category, events, active_days, volume, per_week,
**   share_of_volume, tier
**
** Options: the source reader's (source, customer, date, amount, order,
** as_of, since, on_error) and
**   days=N        the window: the N days ending at as_of (as_of - N + 1 ..
**                 as_of); default: from since= or the first day of the
**                 source up to as_of
**   category=COL  one row per customer and category value
**   volume=events|amount   the measure (default events)
**   method=quantile|pareto|fixed   (default quantile)
**   heavy_pct= moderate_pct=       quantile: percent of customers
**                                  (default 20 and 30: the top 20% heavy,
**                                  the next 30% moderate)
**   heavy_share= moderate_share=   pareto: cumulative percent of volume
**                                  (default 80 and 95)
**   heavy_min= moderate_min=       fixed: volume per week (required)
**
** Requirements:
**   1. The scalar: each argument INTEGER, REAL, or TEXT that is a decimal
**      number ('' is NULL); a NULL argument gives NULL; anything else is
**      the error "Nth argument to usage_tier() is not a number".
**      moderate_min > heavy_min is an error.  usageTierRule() is the one
**      tier rule: every method of the table-valued function ends in it.
**   2. The date column is detected among ordered_at, order_date, date,
**      created_at, occurred_at.  The amount column is optional unless
**      volume=amount.
**   3. events: event rows in the window; with order=, distinct order ids
**      (per category with category=).  Rows with amount < 0 are refunds:
**      not events (DESIGN.md detail 3), but they lower volume=amount.
**      active_days: distinct UTC days with an event.  A group without an
**      event in the window is not output.  With category=, rows whose
**      category is NULL are left out.
**   4. volume: events (INTEGER), or with volume=amount the net sum of the
**      known amounts (REAL, compensated).  per_week = volume * 7 / the
**      window's days: the same window for every customer.
**      share_of_volume = volume / the total volume of the output rows (of
**      the category), NULL when that total is <= 0.
**   5. Tiers are decided within each category (or over all customers).
**      quantile: W = customers with a strictly lower volume, N = all;
**      heavy when W >= (1 - heavy_pct/100) N, moderate when
**      W >= (1 - (heavy_pct+moderate_pct)/100) N.  Equal volumes share a
**      tier; the least active customers are always light (so with one
**      customer, or all tied, everybody is light); with distinct volumes
**      exactly floor(N heavy_pct/100) customers are heavy.
**   6. pareto: customers by volume, largest first; heavy_min = the volume
**      of the k-th, k the fewest whose volumes sum to >= heavy_share% of
**      the total; moderate_min likewise with moderate_share.  Customers
**      tied with the k-th share its tier.  A total <= 0, or a share of 0,
**      makes nobody heavy (moderate).
**   7. fixed: the tier rule on per_week with heavy_min= and moderate_min=.
**   8. Options of another method are an error, so none is silently
**      ignored.
**
** Example:
**   SELECT tier, count(*) FROM usage_tier('events', 'days=28') GROUP BY 1;
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

/**************************************************************************
** The tier rule (requirement 1): 0 light, 1 moderate, 2 heavy.
*/
static const char *const azUsageTier[] = { "light", "moderate", "heavy" };

static int usageTierRule(double x, double rModerateMin, double rHeavyMin){
  if( x>=rHeavyMin ) return 2;
  if( x>=rModerateMin ) return 1;
  return 0;
}

/* A scalar argument: 0 number, 1 NULL, -1 not a number, SQLITE_NOMEM. */
static int usageNumber(sqlite3_value *pVal, double *pr){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:    return 1;
    case SQLITE_INTEGER: *pr = (double)sqlite3_value_int64(pVal); return 0;
    case SQLITE_FLOAT:   *pr = sqlite3_value_double(pVal); return 0;
    case SQLITE_TEXT: {
      int e;
      if( sqlite3_value_text(pVal)==0 ) return SQLITE_NOMEM;
      e = segAmountFromValue(pVal, pr);
      return e==SEG_AMT_KNOWN ? 0 : e==SEG_AMT_NULL ? 1 : -1;
    }
    default:             return -1;
  }
}

static void usageTierFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  double a[3];
  int i, bNull = 0;
  (void)argc;
  for(i=0; i<3; i++){
    int e = usageNumber(argv[i], &a[i]);
    if( e==SQLITE_NOMEM ){ sqlite3_result_error_nomem(ctx); return; }
    if( e<0 ){
      char *z = sqlite3_mprintf("%s argument to usage_tier() is not a number",
                                segOrdinal(i+1));
      if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
      sqlite3_result_error(ctx, z, -1);
      sqlite3_free(z);
      return;
    }
    if( e==1 ) bNull = 1;
  }
  if( bNull ) return;
  if( a[1]>a[2] ){
    sqlite3_result_error(ctx, "2nd argument to usage_tier() (moderate_min) "
                         "is greater than the 3rd (heavy_min)", -1);
    return;
  }
  sqlite3_result_text(ctx, azUsageTier[usageTierRule(a[0], a[1], a[2])], -1,
                      SQLITE_STATIC);
}

/**************************************************************************
** usage_tier table-valued function
*/
#define USAGE_QUANTILE 0
#define USAGE_PARETO   1
#define USAGE_FIXED    2

typedef struct UsageRow UsageRow;
struct UsageRow {
  int iCust;                      /* customer index (src.cust) */
  int iCat;                       /* category index (cats), -1 if none */
  i64 nEvent;
  int nActive;
  double rVolume;
  double rShare;                  /* NaN: NULL */
  int eTier;
};

typedef struct UsageResult UsageResult;
struct UsageResult {
  SegSource src;                  /* keeps the customer map alive */
  SegMap cats;                    /* category values */
  UsageRow *aRow;
  int nRow;
  int bAmount;                    /* volume=amount */
  int nWindow;                    /* days of the window */
};

static void usageFree(void *pData){
  UsageResult *p = (UsageResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  segMapFree(&p->cats);
  sqlite3_free(p->aRow);
  sqlite3_free(p);
}

static int usageColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  UsageResult *p = (UsageResult*)pData;
  UsageRow *r = &p->aRow[iRow];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[r->iCust]); break;
    case 1: if( r->iCat>=0 ) segValueResult(ctx, &p->cats.aKey[r->iCat]); break;
    case 2: sqlite3_result_int64(ctx, r->nEvent); break;
    case 3: sqlite3_result_int(ctx, r->nActive); break;
    case 4:
      if( p->bAmount ) sqlite3_result_double(ctx, r->rVolume);
      else sqlite3_result_int64(ctx, r->nEvent);
      break;
    case 5: sqlite3_result_double(ctx, r->rVolume*7.0/(double)p->nWindow); break;
    case 6: if( !isnan(r->rShare) ) sqlite3_result_double(ctx, r->rShare); break;
    case 7:
      sqlite3_result_text(ctx, azUsageTier[r->eTier], -1, SQLITE_STATIC);
      break;
  }
  return SQLITE_OK;
}

/* Sort context: rows by the customer and category ranks. */
typedef struct UsageSort UsageSort;
struct UsageSort {
  const UsageRow *aRow;
  const int *aCustRank;
  const int *aCatRank;
};

/* aIdx[0..n-1] = the rows by category, then volume ascending, then row:
** two stable radix sorts, by volume and then by category. */
static int usageSortByVolume(const UsageRow *aRow, int n, int *aIdx){
  u64 *aKey = sqlite3_malloc64(sizeof(u64)*((u64)n+1));
  int i, rc;
  if( aKey==0 ) return SQLITE_NOMEM;
  for(i=0; i<n; i++){
    aIdx[i] = i;
    aKey[i] = segDoubleKey(aRow[i].rVolume);
  }
  rc = segRadixSort(aKey, aIdx, n, 0);
  if( rc==SQLITE_OK ){
    for(i=0; i<n; i++) aKey[i] = (u64)(aRow[aIdx[i]].iCat + 1);
    rc = segRadixSort(aKey, aIdx, n, 0);
  }
  sqlite3_free(aKey);
  return rc;
}

static int usageCmpOutput(void *pCtx, int a, int b){
  UsageSort *s = (UsageSort*)pCtx;
  const UsageRow *x = &s->aRow[a], *y = &s->aRow[b];
  int cx = s->aCustRank[x->iCust], cy = s->aCustRank[y->iCust];
  if( cx!=cy ) return cx<cy ? -1 : +1;
  if( x->iCat>=0 ){
    cx = s->aCatRank[x->iCat];
    cy = s->aCatRank[y->iCat];
    if( cx!=cy ) return cx<cy ? -1 : +1;
  }
  return 0;
}

/* The tier options (requirement 8). */
typedef struct UsageOpts UsageOpts;
struct UsageOpts {
  int eMethod;
  double rHeavy, rModerate;       /* pct, share or min, by method */
};

static int usageTierOptions(const SegOpts *pOpts, UsageOpts *pU, char **pzErr){
  static const char *const azMethod[] = { "quantile", "pareto", "fixed", 0 };
  static const char *const azOpt[3][2] = {
    { "heavy_pct",   "moderate_pct"   },
    { "heavy_share", "moderate_share" },
    { "heavy_min",   "moderate_min"   },
  };
  int rc, m, k;
  rc = segOptsEnum(pOpts, "method", azMethod, USAGE_QUANTILE, &pU->eMethod,
                   pzErr);
  if( rc ) return rc;
  for(m=0; m<3; m++){
    for(k=0; k<2; k++){
      if( m!=pU->eMethod && segOptsGet(pOpts, azOpt[m][k]) ){
        *pzErr = segOptsError(pOpts, "option '%s' applies only to method=%s",
                              azOpt[m][k], azMethod[m]);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
    }
  }
  switch( pU->eMethod ){
    case USAGE_QUANTILE:
      rc = segOptsDouble(pOpts, "heavy_pct", 20.0, 0.0, 100.0, &pU->rHeavy,
                         pzErr);
      if( rc==SQLITE_OK ){
        rc = segOptsDouble(pOpts, "moderate_pct", 30.0, 0.0, 100.0,
                           &pU->rModerate, pzErr);
      }
      if( rc==SQLITE_OK && pU->rHeavy+pU->rModerate>100.0 ){
        *pzErr = segOptsError(pOpts, "heavy_pct + moderate_pct is more "
                              "than 100");
        rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      break;
    case USAGE_PARETO:
      rc = segOptsDouble(pOpts, "heavy_share", 80.0, 0.0, 100.0, &pU->rHeavy,
                         pzErr);
      if( rc==SQLITE_OK ){
        rc = segOptsDouble(pOpts, "moderate_share", 95.0, 0.0, 100.0,
                           &pU->rModerate, pzErr);
      }
      if( rc==SQLITE_OK && pU->rHeavy>pU->rModerate ){
        *pzErr = segOptsError(pOpts, "heavy_share is greater than "
                              "moderate_share");
        rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      break;
    default:
      if( segOptsGet(pOpts, "heavy_min")==0
       || segOptsGet(pOpts, "moderate_min")==0 ){
        *pzErr = segOptsError(pOpts, "method=fixed needs heavy_min= and "
                              "moderate_min= (volume per week)");
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      rc = segOptsDouble(pOpts, "heavy_min", 0.0, -1.0e300, 1.0e300,
                         &pU->rHeavy, pzErr);
      if( rc==SQLITE_OK ){
        rc = segOptsDouble(pOpts, "moderate_min", 0.0, -1.0e300, 1.0e300,
                           &pU->rModerate, pzErr);
      }
      if( rc==SQLITE_OK && pU->rModerate>pU->rHeavy ){
        *pzErr = segOptsError(pOpts, "moderate_min is greater than "
                              "heavy_min");
        rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      break;
  }
  return rc;
}

/* Tiers of the rows aIdx[0..n-1] of one category, sorted by volume
** ascending (requirements 5-7). */
static void usageTiers(UsageResult *p, const UsageOpts *pU, const int *aIdx,
                       int n){
  UsageRow *aRow = p->aRow;
  SegSum tot = {0, 0};
  double rTot, rHeavyMin, rModerateMin;
  int i;
  for(i=0; i<n; i++) segSumAdd(&tot, aRow[aIdx[i]].rVolume);
  rTot = segSumValue(&tot);
  for(i=0; i<n; i++){
    aRow[aIdx[i]].rShare = rTot>0.0 ? aRow[aIdx[i]].rVolume/rTot : NAN;
  }
  switch( pU->eMethod ){
    case USAGE_QUANTILE: {
      int w = 0;
      rHeavyMin = (100.0 - pU->rHeavy)*(double)n;
      rModerateMin = (100.0 - pU->rHeavy - pU->rModerate)*(double)n;
      for(i=0; i<n; i++){
        if( i>0 && aRow[aIdx[i]].rVolume!=aRow[aIdx[i-1]].rVolume ) w = i;
        aRow[aIdx[i]].eTier = usageTierRule(100.0*(double)w, rModerateMin,
                                            rHeavyMin);
      }
      break;
    }
    case USAGE_PARETO: {
      SegSum cum = {0, 0};
      int bHeavy = 0, bModerate = 0;
      rHeavyMin = rModerateMin = INFINITY;
      if( rTot>0.0 ){
        for(i=n-1; i>=0 && !bModerate; i--){
          double v = aRow[aIdx[i]].rVolume;
          segSumAdd(&cum, v);
          if( !bHeavy && pU->rHeavy>0.0
           && segSumValue(&cum)*100.0>=pU->rHeavy*rTot ){
            rHeavyMin = v;
            bHeavy = 1;
          }
          if( pU->rModerate>0.0
           && segSumValue(&cum)*100.0>=pU->rModerate*rTot ){
            rModerateMin = v;
            bModerate = 1;
          }
        }
        /* Rounding can leave a 100% share unreached: then everybody */
        if( !bHeavy && pU->rHeavy>0.0 ) rHeavyMin = aRow[aIdx[0]].rVolume;
        if( !bModerate && pU->rModerate>0.0 ){
          rModerateMin = aRow[aIdx[0]].rVolume;
        }
      }
      for(i=0; i<n; i++){
        aRow[aIdx[i]].eTier = usageTierRule(aRow[aIdx[i]].rVolume,
                                            rModerateMin, rHeavyMin);
      }
      break;
    }
    default:
      for(i=0; i<n; i++){
        double rWeek = aRow[aIdx[i]].rVolume*7.0/(double)p->nWindow;
        aRow[aIdx[i]].eTier = usageTierRule(rWeek, pU->rModerate, pU->rHeavy);
      }
      break;
  }
}

static const char *const azUsageAutoDate[] = {
  "ordered_at", "order_date", "date", "created_at", "occurred_at", 0
};

/* The scan's state: the day cells and, with category=, the groups. */
typedef struct UsageScan UsageScan;
struct UsageScan {
  UsageResult *p;
  SegDaySet days;                 /* rows by group and day */
  SegMap groups;                  /* category values, salt = customer */
  SegMap orderCats;               /* category values, salt = order index */
  int *aGroupCat, nGroupAlloc;    /* group i: (customer, category) */
  int bCategory;
  int bMinDay, iMinDay;           /* the first day of the source */
  int iStart;                     /* the window's first day */
  const SegOpts *pOpts;
  char **pzErr;
};

/* A row of the one pass (requirement 3): a day row, with category= per
** customer and category value. */
static int usageRow(void *pCtx, void *pCust, const SegRow *r){
  UsageScan *s = (UsageScan*)pCtx;
  int iGroup = r->iCust, bEvent = r->bOrder && r->bNewOrder;
  (void)pCust;
  if( !s->bMinDay || r->iDay<s->iMinDay ){
    s->iMinDay = r->iDay;
    s->bMinDay = 1;
  }
  if( s->bCategory ){
    sqlite3_value *pCat = r->apVal[3];
    int iCat, bNew, i, rc;
    if( sqlite3_value_type(pCat)==SQLITE_NULL ) return SQLITE_OK;
    rc = segMapFind(&s->p->cats, pCat, 0, &iCat, &bNew);
    if( rc==SQLITE_OK ){
      rc = segMapFind(&s->groups, pCat, r->iCust, &iGroup, &bNew);
    }
    if( rc==SQLITE_OK ){
      rc = segArrayEnsure((void**)&s->aGroupCat, &s->nGroupAlloc, iGroup,
                          2*sizeof(int));
    }
    if( rc ) return rc;
    s->aGroupCat[2*iGroup] = r->iCust;
    s->aGroupCat[2*iGroup+1] = iCat;
    if( r->bOrder && r->iOrder>=0 ){
      /* an order counts once in each of its categories */
      rc = segMapFind(&s->orderCats, pCat, r->iOrder, &i, &bEvent);
      if( rc ) return rc;
    }
  }
  return segDayAdd(&s->days, iGroup, r->iDay, bEvent,
                   s->p->bAmount && r->eAmount==SEG_AMT_KNOWN
                   ? &r->rAmount : 0);
}

/* A group's row from its cells in the window (requirement 4). */
static int usageGroup(void *pCtx, int iGroup, const SegDayCell *aCell,
                      int nCell){
  UsageScan *s = (UsageScan*)pCtx;
  UsageResult *p = s->p;
  UsageRow *r = &p->aRow[p->nRow];
  SegSum vol = {0, 0};
  int k;
  memset(r, 0, sizeof(*r));
  r->iCust = s->bCategory ? s->aGroupCat[2*iGroup] : iGroup;
  r->iCat = s->bCategory ? s->aGroupCat[2*iGroup+1] : -1;
  for(k=0; k<nCell; k++){
    if( aCell[k].iDay<s->iStart ) continue;
    r->nEvent += aCell[k].nEvent;
    if( aCell[k].nEvent ) r->nActive++;
    segSumAdd(&vol, segSumValue(&aCell[k].sum));
  }
  if( r->nEvent==0 ) return SQLITE_OK;
  r->rVolume = p->bAmount ? segSumValue(&vol) : (double)r->nEvent;
  if( isinf(r->rVolume) || isnan(r->rVolume) ){
    *s->pzErr = segOptsError(s->pOpts, "the amount overflows");
    return *s->pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  p->nRow++;
  return SQLITE_OK;
}

/* Tiers, category by category (requirements 5-7), then the rows in the
** output order: customer, then category. */
static int usageTierAndOrder(UsageResult *p, const UsageOpts *pU,
                             int bCategory){
  UsageRow *aRow = p->aRow, *aOut;
  int *aIdx, *aSorted = 0, *aCustRank = 0, *aCatRank = 0;
  UsageSort sortCtx;
  int rc, i;

  aIdx = sqlite3_malloc64(sizeof(int)*((u64)p->nRow+1));
  if( aIdx==0 ) return SQLITE_NOMEM;
  rc = usageSortByVolume(aRow, p->nRow, aIdx);
  if( rc ) goto order_end;
  for(i=0; i<p->nRow; ){
    int j = i;
    while( j<p->nRow && aRow[aIdx[j]].iCat==aRow[aIdx[i]].iCat ) j++;
    usageTiers(p, pU, &aIdx[i], j-i);
    i = j;
  }

  rc = segMapSorted(&p->src.cust, &aSorted);
  if( rc ) goto order_end;
  aCustRank = sqlite3_malloc64(sizeof(int)*((u64)p->src.cust.nKey+1));
  if( aCustRank==0 ){ rc = SQLITE_NOMEM; goto order_end; }
  if( !bCategory ){
    /* a row per customer at most: the customers' order, in linear time */
    int k = 0;
    for(i=0; i<p->src.cust.nKey; i++) aCustRank[i] = -1;
    for(i=0; i<p->nRow; i++) aCustRank[aRow[i].iCust] = i;
    for(i=0; i<p->src.cust.nKey; i++){
      if( aCustRank[aSorted[i]]>=0 ) aIdx[k++] = aCustRank[aSorted[i]];
    }
  }else{
    for(i=0; i<p->src.cust.nKey; i++) aCustRank[aSorted[i]] = i;
    sqlite3_free(aSorted);
    aSorted = 0;
    rc = segMapSorted(&p->cats, &aSorted);
    if( rc ) goto order_end;
    aCatRank = sqlite3_malloc64(sizeof(int)*((u64)p->cats.nKey+1));
    if( aCatRank==0 ){ rc = SQLITE_NOMEM; goto order_end; }
    for(i=0; i<p->cats.nKey; i++) aCatRank[aSorted[i]] = i;
    for(i=0; i<p->nRow; i++) aIdx[i] = i;
    sortCtx.aRow = aRow;
    sortCtx.aCustRank = aCustRank;
    sortCtx.aCatRank = aCatRank;
    rc = segSortIdx(aIdx, p->nRow, usageCmpOutput, &sortCtx);
    if( rc ) goto order_end;
  }
  aOut = sqlite3_malloc64(sizeof(UsageRow)*((u64)p->nRow+1));
  if( aOut==0 ){ rc = SQLITE_NOMEM; goto order_end; }
  for(i=0; i<p->nRow; i++) aOut[i] = aRow[aIdx[i]];
  sqlite3_free(aRow);
  p->aRow = aOut;

order_end:
  sqlite3_free(aIdx);
  sqlite3_free(aSorted);
  sqlite3_free(aCustRank);
  sqlite3_free(aCatRank);
  return rc;
}

static int usageCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                        char **pzErr){
  static const char *const azVolume[] = { "events", "amount", 0 };
  SegColumn aCol[4];
  UsageResult *p;
  UsageOpts u;
  UsageScan s;
  int nDays = 0, iAsOf, rc, nGroup;

  memset(&s, 0, sizeof(s));
  segMapInit(&s.groups);
  segMapInit(&s.orderCats);
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  segMapInit(&p->cats);
  s.p = p;
  s.pOpts = pOpts;
  s.pzErr = pzErr;

  rc = usageTierOptions(pOpts, &u, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsEnum(pOpts, "volume", azVolume, 0, &p->bAmount, pzErr);
  }
  if( rc==SQLITE_OK && segOptsGet(pOpts, "days") ){
    rc = segOptsInt(pOpts, "days", 0, 1, 100000000, &nDays, pzErr);
  }
  if( rc ) goto usage_end;
  segDaySetInit(&s.days, p->bAmount);

  memcpy(aCol, segStdColumns, sizeof(SegColumn)*3);
  aCol[1].azAuto = azUsageAutoDate;
  aCol[2].bRequired = p->bAmount;
  aCol[3].zOpt = "category";
  aCol[3].azAuto = 0;
  aCol[3].eKind = SEG_COL_VALUE;
  aCol[3].bRequired = 0;
  s.bCategory = segOptsGet(pOpts, "category")!=0;
  rc = segSourceOpen(&p->src, db, pOpts, aCol, 4, pzErr);
  if( rc==SQLITE_OK ){
    /* without category=, the row's scalar fields only */
    SegEach e = { 0, 0, usageRow, 0, 0, 0, 0 };
    e.bScalar = !s.bCategory;
    e.pCtx = &s;
    rc = segSourceEach(&p->src, &e, pzErr);
  }
  if( rc ) goto usage_end;
  if( !segSourceAsOf(&p->src, &iAsOf) || !s.bMinDay ){
    goto usage_end;               /* empty source: no rows */
  }

  /* The window (requirement 4), then a row per group with events in it */
  s.iStart = nDays>0 ? iAsOf - nDays + 1 : s.iMinDay;
  if( p->src.bSince && s.iStart<p->src.iSinceDay ){
    s.iStart = p->src.iSinceDay;
  }
  p->nWindow = iAsOf - s.iStart + 1;
  nGroup = s.bCategory ? s.groups.nKey : p->src.cust.nKey;
  p->aRow = sqlite3_malloc64(sizeof(UsageRow)*((u64)nGroup+1));
  if( p->aRow==0 ){ rc = SQLITE_NOMEM; goto usage_end; }
  rc = segDayEach(&s.days, usageGroup, &s);
  if( rc==SQLITE_OK ) rc = usageTierAndOrder(p, &u, s.bCategory);

usage_end:
  sqlite3_free(s.aGroupCat);
  segDaySetFree(&s.days);
  segMapFree(&s.groups);
  segMapFree(&s.orderCats);
  if( rc ){
    usageFree(p);
    return rc;
  }
  pRes->nRow = p->nRow;
  pRes->pData = p;
  return SQLITE_OK;
}

static const char *const azUsageOpt[] = {
  SEG_SOURCE_OPTIONS,
  "days", "category", "volume", "method", "heavy_pct", "moderate_pct",
  "heavy_share", "moderate_share", "heavy_min", "moderate_min",
  0
};

static const SegModuleSpec usageModule = {
  "usage_tier",
  "customer,category,events,active_days,volume,per_week,share_of_volume,tier",
  azUsageOpt, 0, usageCompute, SEG_READS_TABLE,
  usageColumn, usageFree
};

static const SegFunc aUsageFunc[] = {
  { "usage_tier", 3, SEG_SCALAR_FLAGS, 0, usageTierFunc, 0, 0 },
};

int segmentRegisterUsage(sqlite3 *db, char **pzErr){
  int rc = segRegisterFunctions(db, aUsageFunc, SEG_COUNT(aUsageFunc),
                                pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &usageModule, pzErr);
  return rc;
}
