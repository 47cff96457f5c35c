/*
** segtools.c: segments you can act on (DESIGN.md section 6): how they
** move, who is in them, and a guard against segments too small to use.
**
**   SELECT * FROM segment_migration('orders', 'from=2024-12-31',
**                                   'to=2025-12-31');
**   SELECT * FROM segment_profile('orders', 'as_of=2025-06-30', 'window=90');
**
** Both take the source reader's options and rfm_score's (bins, method,
** monetary, r/f/m_breaks, scheme): the segments are rfm_score's, scored by
** the same code (segRfmOptions, segRfmScore in rfm.c).  With segment=, a
** column of the source (a view's, e.g. the customer's region) names the
** segments instead:
**   S1. A customer's segment as of a day is the column's value on the
**       customer's latest order row by that day (of the rows of the same
**       moment, the last read); NULL is a segment of its own, first.
**       Values are grouped and ordered as GROUP BY / ORDER BY do (BINARY).
**
** segment_migration: options from= (required) and to= (default: the
** latest day of the source; as_of= is not taken, to= is it), lost=row|
** segment; one row per (from_segment, to_segment):
**
**   from_segment, to_segment, customers, share, revenue, small, withheld
**
**   M1. The customers are rfm_score's as of to=: every customer with an
**       order by to=.  to_segment is the segment rfm_score('src',
**       'as_of=<to>') gives; from_segment the one rfm_score('src',
**       'as_of=<from>') gives, or '(new)' for a customer with no order by
**       from=.  A customer with an order by from= but none after it (and
**       up to to=) goes to '(lost)' (lost=row, the default); lost=segment
**       keeps the segment as of to= instead.
**   M2. share = customers / the customers of the from_segment row (all
**       its to_segments, '(lost)' included).  revenue = net amount of the
**       rows dated after from= and up to to= (refunds lower it, as they
**       lower monetary).
**   M3. Rows ordered by from_segment then to_segment, segments by name
**       (BINARY), the folded segment after them, '(new)' and '(lost)' last.
**   M4. from= must be before to=; since= must not be after from=.
**
** segment_profile: options window= (days after as_of=, which it needs:
** a backtest) and flag= (a numeric column: an order row with a value
** other than 0 and NULL converts); one row per segment:
**
**   segment, customers, share, revenue, revenue_share, avg_order_value,
**   orders_per_customer, median_recency, repeat_rate, retention, churn,
**   revenue_per_customer, conversion, small, withheld
**
**   P1. customers, share (of all customers), revenue (sum of monetary),
**       revenue_share (of the total; NULL when the total is 0),
**       avg_order_value (revenue / orders with a known amount),
**       orders_per_customer, median_recency (of recency_days, the mean of
**       the two middle values for an even count), repeat_rate (share with
**       2 or more orders): as of as_of, as rfm_score gives them.
**   P2. With window=W: retention = share of the segment's customers with
**       an order after as_of and up to as_of + W; churn = 1 - retention;
**       revenue_per_customer = net amount in that window / customers.
**       Without window=, these three are NULL.
**   P3. With flag= (and window=): conversion = share of the segment's
**       customers with a flagged order in the window; NULL otherwise.
**   P4. Rows in segment order (M3); flag= needs window=, window= as_of=.
**
** The small-segment guard (rfm_score and both functions):
**   G1. min_share= (0..1) and min_customers= (0..1000000000): a segment
**       whose customers are fewer than min_customers, or whose share of
**       the customers is under min_share, is folded with the others under
**       the bar into one segment named other= (default 'Other (small)');
**       its rows have small = 1.  A segment exactly at the bar stays.
**       Migration judges its from side among the customers as of from=
**       and its to side among those with a to_segment (not '(lost)').
**   G2. k= (1..1000000000, profile and migration): a row of fewer than k
**       customers is withheld: every count and measure of it NULL, and
**       withheld = 1.
**
** One read of the source each: the customer state as of the first day
** (from=, as_of=) and as of the second (to=, as_of + window) are kept side
** by side in one scan of rows up to the second day.
*/
#include "segmentInt.h"
#include <string.h>
#include <limits.h>

/************************************************************************
** The small-segment guard and the cells' segments
*/
int segGuardOptions(const SegOpts *pOpts, SegGuard *p, char **pzErr){
  const char *z;
  int rc;
  memset(p, 0, sizeof(*p));
  rc = segOptsDouble(pOpts, "min_share", 0.0, 0.0, 1.0, &p->rMinShare,
                     pzErr);
  if( rc ) return rc;
  rc = segOptsInt(pOpts, "min_customers", 0, 0, 1000000000, &p->nMinCust,
                  pzErr);
  if( rc ) return rc;
  p->bOn = segOptsGet(pOpts, "min_share")!=0
        || segOptsGet(pOpts, "min_customers")!=0;
  z = segOptsGet(pOpts, "other");
  p->zOther = sqlite3_mprintf("%s", z ? z : "Other (small)");
  return p->zOther ? SQLITE_OK : SQLITE_NOMEM;
}

void segGuardFree(SegGuard *p){
  sqlite3_free(p->zOther);
  p->zOther = 0;
}

/* Names in segment order: NULL (no rule matched) first, then BINARY. */
static int toolsNameCmp(const char *a, const char *b){
  if( a==b ) return 0;
  if( a==0 ) return -1;
  if( b==0 ) return 1;
  return strcmp(a, b);
}

/*
** Order and fold nRaw groups of anRaw[g] customers (nTotal in all): the
** groups under the guard's bar (pGuard may be NULL) become one segment,
** the last; the others are ordered by xCmp(pCtx, g1, g2).  aSeg[g] = the
** segment of group g; aRawOf[s] = the group of segment s, -1 for the
** folded one (nRaw+1 entries); *pnSeg segments.  SQLITE_OK or NOMEM.
*/
static int toolsFold(const SegGuard *pGuard, const i64 *anRaw, int nRaw,
                     i64 nTotal, int (*xCmp)(void*, int, int), void *pCtx,
                     int *aSeg, int *aRawOf, int *pnSeg){
  int g, n = 0, bFold = 0, rc;
  for(g=0; g<nRaw; g++){
    int bSmall = 0;
    if( pGuard && pGuard->bOn && anRaw[g]>0 ){
      bSmall = anRaw[g]<pGuard->nMinCust
            || (double)anRaw[g]/(double)nTotal < pGuard->rMinShare;
    }
    if( bSmall ){
      bFold = 1;
      aSeg[g] = -1;
    }else{
      aRawOf[n++] = g;
    }
  }
  rc = segSortIdx(aRawOf, n, xCmp, pCtx);
  if( rc ) return rc;
  for(g=0; g<n; g++) aSeg[aRawOf[g]] = g;
  if( bFold ){
    for(g=0; g<nRaw; g++){
      if( aSeg[g]<0 ) aSeg[g] = n;
    }
    aRawOf[n++] = -1;
  }
  *pnSeg = n;
  return SQLITE_OK;
}

static int toolsCmpName(void *pCtx, int a, int b){
  const char *const *az = (const char *const*)pCtx;
  return toolsNameCmp(az[a], az[b]);
}

int segCellsBuild(SegCells *p, const SegRfmSpec *pSpec, const SegGuard *pGuard,
                  const unsigned char *aR, const unsigned char *aF,
                  const unsigned char *aM, const unsigned char *abSkip, int n){
  i64 anCell[SEG_NCELL];
  int aName[SEG_NCELL];           /* cell -> name */
  const char *azName[SEG_NCELL];
  i64 anName[SEG_NCELL];
  int aSeg[SEG_NCELL];            /* name -> segment */
  int aRawOf[SEG_NCELL+1];        /* segment -> name */
  int nName = 0, i, j, r, f, m, rc;
  const int nBin = pSpec->nBin;

  memset(p, 0, sizeof(*p));
  p->pSpec = pSpec;
  memset(anCell, 0, sizeof(anCell));
  for(i=0; i<n; i++){
    if( abSkip && abSkip[i] ) continue;
    anCell[SEG_CELL(aR[i], aF[i], aM[i])]++;
    p->nTotal++;
  }
  /* the distinct names of every cell of 1..nBin scores */
  for(i=0; i<SEG_NCELL; i++) p->aSeg[i] = -1;
  for(r=1; r<=nBin; r++) for(f=1; f<=nBin; f++) for(m=1; m<=nBin; m++){
    int c = SEG_CELL(r, f, m);
    const char *z = segSchemeSegment(pSpec->pScheme, r, f, m, nBin);
    for(j=0; j<nName && toolsNameCmp(azName[j], z)!=0; j++){}
    if( j==nName ){
      azName[nName] = z;
      anName[nName] = 0;
      nName++;
    }
    anName[j] += anCell[c];
    aName[c] = j;
  }
  rc = toolsFold(pGuard, anName, nName, p->nTotal, toolsCmpName,
                 (void*)azName, aSeg, aRawOf, &p->nSeg);
  if( rc ) return rc;
  for(i=0; i<p->nSeg; i++){
    if( aRawOf[i]<0 ){
      p->azName[i] = pGuard->zOther;
      p->abSmall[i] = 1;
    }else{
      p->azName[i] = azName[aRawOf[i]];
    }
  }
  for(j=0; j<nName; j++) p->anCust[aSeg[j]] += anName[j];
  for(r=1; r<=nBin; r++) for(f=1; f<=nBin; f++) for(m=1; m<=nBin; m++){
    int c = SEG_CELL(r, f, m);
    p->aSeg[c] = (short)aSeg[aName[c]];
  }
  return SQLITE_OK;
}

int segCellsSegment(const SegCells *p, int r, int f, int m){
  return p->aSeg[SEG_CELL(r, f, m)];
}

const char *segCellsName(const SegCells *p, int r, int f, int m){
  return p->azName[segCellsSegment(p, r, f, m)];
}

/************************************************************************
** The scan both functions share: each customer as of day A and day B
*/
typedef struct ToolsAcc ToolsAcc;
struct ToolsAcc {
  int iFirst, iLast;              /* order days */
  unsigned int nOrder, nKnown;
  SegSum sum;                     /* net amount */
};
typedef struct ToolsCust ToolsCust;
struct ToolsCust {
  ToolsAcc a;                     /* rows up to day A */
  ToolsAcc b;                     /* every row read (up to day B) */
  SegSum after;                   /* amounts of the rows after day A */
  unsigned char bAfter;           /* an order after day A */
  unsigned char bFlag;            /* a flagged order after day A */
  unsigned char bSegA, bSegB;     /* with segment=: iSegA / iSegB set */
  int iSegA, iSegB;               /* the segment= value of the latest
                                  ** order row by A / by B: its index in
                                  ** Tools.segs, -1 when NULL */
  i64 iSegMsA, iSegMsB;           /* the moments of those rows */
};

/* Order bits (with order=): counted / known as of A, known as of B */
#define TOOLS_A_COUNTED 1
#define TOOLS_A_KNOWN   2
#define TOOLS_B_KNOWN   4

/* The segments of one day: rfm_score's (the scores' cells) or, with
** segment=, the column's values, in order and folded by the guard. */
typedef struct ToolsSegs ToolsSegs;
struct ToolsSegs {
  int nSeg;
  int bColumn;                    /* segment= */
  SegCells cells;                 /* !bColumn */
  int *aSeg;                      /* bColumn: value -> segment (the value
                                  ** nKey is NULL) */
  int *aRawOf;                    /* bColumn: segment -> value, -1 for the
                                  ** folded one */
  const SegMap *pMap;             /* bColumn: the values */
  const char *zOther;
};

typedef struct Tools Tools;
struct Tools {
  SegSource src;
  SegOpts opts;                   /* the options with as_of= set to day B */
  char **azVal;                   /* opts.azVal, owned */
  char zDayB[16];                 /* day B as text */
  SegRfmSpec spec;
  SegGuard guard;
  int nK;                         /* k=, 0 when absent */
  int iDayA, iDayB;
  int bAFromSource, bBFromSource; /* the day is the source's as_of */
  int bFlag;                      /* flag= given */
  int iFlagRole, iSegRole;        /* their roles, or -1 */
  SegMap segs;                    /* segment= values */
  ToolsCust *aCust; int nCustAlloc;
  unsigned char *aBits; int nBits;
  SegRfmRow *aRowA, *aRowB;       /* customers with an order by A / by B */
  int nA, nB;
  int *aAofB;                     /* aRowA index of each aRowB row, or -1 */
  unsigned char *aRA, *aFA, *aMA, *aRB, *aFB, *aMB;
  ToolsSegs segA, segB;           /* the segments as of A and as of B */
};

static void toolsSegsFree(ToolsSegs *p){
  sqlite3_free(p->aSeg);
  sqlite3_free(p->aRawOf);
}

static void toolsFree(Tools *p){
  segSourceClose(&p->src);
  segMapFree(&p->segs);
  toolsSegsFree(&p->segA);
  toolsSegsFree(&p->segB);
  sqlite3_free(p->azVal);
  segRfmSpecFree(&p->spec);
  segGuardFree(&p->guard);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aBits);
  sqlite3_free(p->aRowA);
  sqlite3_free(p->aRowB);
  sqlite3_free(p->aAofB);
  sqlite3_free(p->aRA);
}

#define TOOLS_ERR(pOpts, pzErr, ...) \
  (*(pzErr) = segOptsError((pOpts), __VA_ARGS__), \
   *(pzErr) ? SQLITE_ERROR : SQLITE_NOMEM)

/* The options both take: scoring, guard, k=. */
static int toolsOptions(sqlite3 *db, const SegOpts *pOpts, Tools *p,
                        char **pzErr){
  int rc = segRfmOptions(db, pOpts, &p->spec, pzErr);
  if( rc==SQLITE_OK ) rc = segGuardOptions(pOpts, &p->guard, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "k", 0, 1, 1000000000, &p->nK, pzErr);
  }
  return rc;
}

/* An optional role, the column named by option zOpt (none is detected):
** appended to aCol, its place returned. */
static int toolsRole(SegColumn *aCol, int *pnCol, const char *zOpt,
                     int eKind){
  static const char *const azNone[] = { 0 };
  int iRole = (*pnCol)++;
  aCol[iRole].zOpt = zOpt;
  aCol[iRole].azAuto = azNone;
  aCol[iRole].eKind = eKind;
  aCol[iRole].bRequired = 0;
  return iRole;
}

/* Start: the options both take (scoring, guard, k=) and the roles:
** customer, date, amount, then segment= and flag= when given. */
static int toolsInit(sqlite3 *db, const SegOpts *pOpts, Tools *p,
                     SegColumn *aCol, int *pnCol, char **pzErr){
  int nCol = 3;
  segMapInit(&p->segs);
  p->iSegRole = p->iFlagRole = -1;
  memcpy(aCol, segStdColumns, sizeof(SegColumn)*3);
  if( segOptsGet(pOpts, "segment") ){
    p->iSegRole = toolsRole(aCol, &nCol, "segment", SEG_COL_VALUE);
  }
  if( segOptsGet(pOpts, "flag") ){
    p->bFlag = 1;
    p->iFlagRole = toolsRole(aCol, &nCol, "flag", SEG_COL_AMOUNT);
  }
  *pnCol = nCol;
  return toolsOptions(db, pOpts, p, pzErr);
}

/* Open the source, with as_of= replaced by day B when bDayB. */
static int toolsOpen(Tools *p, sqlite3 *db, const SegOpts *pOpts, int bDayB,
                     const SegColumn *aCol, int nCol, char **pzErr){
  const SegOpts *pUse = pOpts;
  if( bDayB ){
    int i;
    p->opts = *pOpts;
    p->azVal = sqlite3_malloc64(sizeof(char*)*(u64)(pOpts->nName+1));
    if( p->azVal==0 ) return SQLITE_NOMEM;
    segFormatDay(p->iDayB, p->zDayB);
    for(i=0; i<pOpts->nName; i++){
      p->azVal[i] = sqlite3_stricmp(pOpts->azName[i], "as_of")==0
                  ? p->zDayB : pOpts->azVal[i];
    }
    p->opts.azVal = p->azVal;
    pUse = &p->opts;
  }
  return segSourceOpen(&p->src, db, pUse, aCol, nCol, pzErr);
}

static void toolsAccOrder(ToolsAcc *c, int iDay){
  if( c->nOrder==0 ){
    c->iFirst = c->iLast = iDay;
  }else{
    if( iDay<c->iFirst ) c->iFirst = iDay;
    if( iDay>c->iLast ) c->iLast = iDay;
  }
}

/* With segment=: the value of an order row, if it is the latest so far
** (a later row of the same moment wins) by B, and by A when bA. */
static int toolsSegValue(Tools *p, ToolsCust *c, const SegRow *r, int bA){
  sqlite3_value *pVal = r->apVal[p->iSegRole];
  int iSeg = -1, bNew, rc;
  int bB = !c->bSegB || r->iMs>=c->iSegMsB;
  bA = bA && (!c->bSegA || r->iMs>=c->iSegMsA);
  if( !bA && !bB ) return SQLITE_OK;
  if( sqlite3_value_type(pVal)!=SQLITE_NULL ){
    rc = segMapFind(&p->segs, pVal, 0, &iSeg, &bNew);
    if( rc ) return rc;
  }
  if( bB ){
    c->bSegB = 1;
    c->iSegB = iSeg;
    c->iSegMsB = r->iMs;
  }
  if( bA ){
    c->bSegA = 1;
    c->iSegA = iSeg;
    c->iSegMsA = r->iMs;
  }
  return SQLITE_OK;
}

static int toolsRow(void *pCtx, void *pCust, const SegRow *r){
  Tools *p = (Tools*)pCtx;
  ToolsCust *c = (ToolsCust*)pCust;
  int bA = r->iDay<=p->iDayA, bKnown = r->eAmount==SEG_AMT_KNOWN;
  if( bKnown ){
    segSumAdd(&c->b.sum, r->rAmount);
    segSumAdd(bA ? &c->a.sum : &c->after, r->rAmount);
  }
  if( !r->bOrder ) return SQLITE_OK;
  if( !bA ){
    c->bAfter = 1;
    if( p->iFlagRole>=0 && r->aNumKnown[p->iFlagRole]
     && r->aNum[p->iFlagRole]!=0.0 ){
      c->bFlag = 1;
    }
  }
  if( p->iSegRole>=0 ){
    int rc = toolsSegValue(p, c, r, bA);
    if( rc ) return rc;
  }
  if( segArrayEnsureZero((void**)&p->aBits, &p->nBits, r->iOrder, 1) ){
    return SQLITE_NOMEM;
  }
  /* as of B: what rfm_score counts */
  toolsAccOrder(&c->b, r->iDay);
  if( r->bNewOrder ) c->b.nOrder++;
  if( bKnown ){
    if( r->iOrder<0 ){
      c->b.nKnown++;
    }else if( !(p->aBits[r->iOrder] & TOOLS_B_KNOWN) ){
      p->aBits[r->iOrder] |= TOOLS_B_KNOWN;
      c->b.nKnown++;
    }
  }
  if( !bA ) return SQLITE_OK;
  /* as of A: the orders with a row by A */
  toolsAccOrder(&c->a, r->iDay);
  if( r->iOrder<0 ){
    c->a.nOrder++;
    if( bKnown ) c->a.nKnown++;
  }else{
    unsigned char *pB = &p->aBits[r->iOrder];
    if( !(*pB & TOOLS_A_COUNTED) ){ *pB |= TOOLS_A_COUNTED; c->a.nOrder++; }
    if( bKnown && !(*pB & TOOLS_A_KNOWN) ){
      *pB |= TOOLS_A_KNOWN;
      c->a.nKnown++;
    }
  }
  return SQLITE_OK;
}

/* Read the source once; then the customers with an order by A (aRowA)
** and, when bB, by B (aRowB), each in customer order, scored. */
static int toolsRead(Tools *p, const SegOpts *pOpts, int bB, char **pzErr){
  int *aSorted = 0;
  double *aVal = 0;
  int rc, i, nCust;
  {
    /* flag= and segment= read apVal/aNum: no batch mode then */
    SegEach e = { sizeof(ToolsCust), 0, toolsRow, 0, 0, 0, 0 };
    e.bScalar = p->iFlagRole<0 && p->iSegRole<0;
    e.pCtx = p;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (ToolsCust*)e.aCust;
    p->nCustAlloc = e.nCustAlloc;
  }
  sqlite3_free(p->aBits);
  p->aBits = 0;
  if( rc ) return rc;
  if( p->bAFromSource ) segSourceAsOf(&p->src, &p->iDayA);
  if( p->bBFromSource ) segSourceAsOf(&p->src, &p->iDayB);
  nCust = p->src.cust.nKey;
  rc = segMapSorted(&p->src.cust, &aSorted);
  if( rc ) return rc;
  p->aRowA = sqlite3_malloc64(sizeof(SegRfmRow)*(u64)(nCust+1));
  p->aRowB = sqlite3_malloc64(sizeof(SegRfmRow)*(u64)(nCust+1));
  p->aAofB = sqlite3_malloc64(sizeof(int)*(u64)(nCust+1));
  p->aRA = sqlite3_malloc64(6*(u64)(nCust+1));
  aVal = sqlite3_malloc64(sizeof(double)*(u64)(nCust+1));
  if( !p->aRowA || !p->aRowB || !p->aAofB || !p->aRA || !aVal ){
    rc = SQLITE_NOMEM;
    goto read_done;
  }
  p->aFA = p->aRA + nCust;
  p->aMA = p->aFA + nCust;
  p->aRB = p->aMA + nCust;
  p->aFB = p->aRB + nCust;
  p->aMB = p->aFB + nCust;
  for(i=0; i<nCust; i++){
    ToolsCust *c = &p->aCust[aSorted[i]];
    int iAB;
    for(iAB=0; iAB<2; iAB++){
      ToolsAcc *pAcc = iAB ? &c->b : &c->a;
      SegRfmRow *pRow;
      if( pAcc->nOrder==0 ) continue;
      pRow = iAB ? &p->aRowB[p->nB] : &p->aRowA[p->nA];
      pRow->iCust = aSorted[i];
      pRow->iFirst = pAcc->iFirst;
      pRow->iLast = pAcc->iLast;
      pRow->nOrder = pAcc->nOrder;
      pRow->nKnown = pAcc->nKnown;
      pRow->rMonetary = segSumValue(&pAcc->sum);
      if( isinf(pRow->rMonetary) || isnan(pRow->rMonetary) ){
        rc = segRfmMonetaryError(pOpts, &p->src.cust.aKey[aSorted[i]],
                                 pzErr);
        goto read_done;
      }
      if( iAB ){
        p->aAofB[p->nB] = c->a.nOrder ? p->nA-1 : -1;
        p->nB++;
      }else{
        p->nA++;
      }
    }
  }
  rc = segRfmScore(&p->spec, p->aRowA, p->nA, p->iDayA, p->aRA, p->aFA,
                   p->aMA, aVal, 0);
  if( rc==SQLITE_OK && bB ){
    rc = segRfmScore(&p->spec, p->aRowB, p->nB, p->iDayB, p->aRB, p->aFB,
                     p->aMB, aVal, 0);
  }
read_done:
  sqlite3_free(aSorted);
  sqlite3_free(aVal);
  return rc;
}

/* The customer state of an output row */
#define TOOLS_CUST(p, pRow) (&(p)->aCust[(pRow)->iCust])

/* The segment= value index of row i of aRowA (bB 0) or aRowB (bB 1):
** nKey for NULL. */
static int toolsRawOf(const Tools *p, int bB, int i){
  const ToolsCust *c = TOOLS_CUST(p, bB ? &p->aRowB[i] : &p->aRowA[i]);
  int iSeg = bB ? c->iSegB : c->iSegA;
  return iSeg<0 ? p->segs.nKey : iSeg;
}

static int toolsCmpValue(void *pCtx, int a, int b){
  const SegMap *pMap = (const SegMap*)pCtx;
  if( a==b ) return 0;
  if( a==pMap->nKey ) return -1;
  if( b==pMap->nKey ) return 1;
  return segMapCompare(pMap, &pMap->aKey[a], &pMap->aKey[b]);
}

/* The segments as of A (bB 0) or B (bB 1) of the rows but those with
** abSkip[i] set. */
static int toolsSegsBuild(Tools *p, int bB, const unsigned char *abSkip){
  ToolsSegs *pS = bB ? &p->segB : &p->segA;
  int n = bB ? p->nB : p->nA, i, rc;
  i64 *anRaw, nTotal = 0;
  int nRaw;
  pS->zOther = p->guard.zOther;
  if( p->iSegRole<0 ){
    rc = segCellsBuild(&pS->cells, &p->spec, &p->guard,
                       bB ? p->aRB : p->aRA, bB ? p->aFB : p->aFA,
                       bB ? p->aMB : p->aMA, abSkip, n);
    pS->nSeg = pS->cells.nSeg;
    return rc;
  }
  pS->bColumn = 1;
  pS->pMap = &p->segs;
  nRaw = p->segs.nKey+1;
  anRaw = sqlite3_malloc64(sizeof(i64)*(u64)nRaw);
  pS->aSeg = sqlite3_malloc64(sizeof(int)*(u64)nRaw);
  pS->aRawOf = sqlite3_malloc64(sizeof(int)*(u64)(nRaw+1));
  if( anRaw==0 || pS->aSeg==0 || pS->aRawOf==0 ){
    sqlite3_free(anRaw);
    return SQLITE_NOMEM;
  }
  memset(anRaw, 0, sizeof(i64)*(u64)nRaw);
  for(i=0; i<n; i++){
    if( abSkip && abSkip[i] ) continue;
    anRaw[toolsRawOf(p, bB, i)]++;
    nTotal++;
  }
  rc = toolsFold(&p->guard, anRaw, nRaw, nTotal, toolsCmpValue,
                 (void*)&p->segs, pS->aSeg, pS->aRawOf, &pS->nSeg);
  sqlite3_free(anRaw);
  return rc;
}

/* The segment of row i (of aRowA or aRowB) */
static int toolsSegOf(const Tools *p, int bB, int i){
  const ToolsSegs *pS = bB ? &p->segB : &p->segA;
  if( pS->bColumn ) return pS->aSeg[toolsRawOf(p, bB, i)];
  return bB ? segCellsSegment(&pS->cells, p->aRB[i], p->aFB[i], p->aMB[i])
            : segCellsSegment(&pS->cells, p->aRA[i], p->aFA[i], p->aMA[i]);
}

static int toolsSegSmall(const ToolsSegs *pS, int iSeg){
  if( iSeg>=pS->nSeg ) return 0;
  return pS->bColumn ? pS->aRawOf[iSeg]<0 : pS->cells.abSmall[iSeg];
}

/* The name of segment iSeg as a result (NULL: no rule matched, a NULL
** value) */
static void toolsSegResult(sqlite3_context *ctx, const ToolsSegs *pS,
                           int iSeg){
  if( pS->bColumn ){
    int g = pS->aRawOf[iSeg];
    if( g<0 ){
      sqlite3_result_text(ctx, pS->zOther, -1, SQLITE_STATIC);
    }else if( g<pS->pMap->nKey ){
      segValueResult(ctx, &pS->pMap->aKey[g]);
    }
  }else if( pS->cells.azName[iSeg] ){
    sqlite3_result_text(ctx, pS->cells.azName[iSeg], -1, SQLITE_STATIC);
  }
}

/* since= (the source reader's) must not be after day A, when day A is
** given (bDayA; zDay names its option, for the message). */
static int toolsSince(const SegOpts *pOpts, int bDayA, int iDayA,
                      const char *zDay, char **pzErr){
  int iSince, bSince;
  int rc = segOptsDay(pOpts, "since", &iSince, &bSince, pzErr);
  if( rc==SQLITE_OK && bDayA && bSince && iSince>iDayA ){
    rc = TOOLS_ERR(pOpts, pzErr, "since= is later than %s=", zDay);
  }
  return rc;
}

/* Hand the output rows (pData, whose Tools is t) to the caller.  The
** source is closed first: its keys are not needed any more. */
static void toolsResult(Tools *t, SegResult *pRes, void *pData, i64 nRow){
  segSourceClose(&t->src);
  pRes->nRow = nRow;
  pRes->pData = pData;
}

/* The sort key of output candidate i (toolsSort): the high 32 bits group
** the rows into runs, the low 32 order them within a run. */
typedef u64 (*ToolsKeyFunc)(const Tools *p, const void *pCtx, int i);

/* Rows 0..n-1 sorted by their keys (xKey): *paKey the keys in order,
** *paIdx the rows.  Both are the caller's to free, even after an error. */
static int toolsSort(const Tools *p, int n, ToolsKeyFunc xKey,
                     const void *pCtx, u64 **paKey, int **paIdx){
  u64 *aKey = sqlite3_malloc64(sizeof(u64)*(u64)(n+1));
  int *aIdx = sqlite3_malloc64(sizeof(int)*(u64)(n+1));
  int i;
  *paKey = aKey;
  *paIdx = aIdx;
  if( aKey==0 || aIdx==0 ) return SQLITE_NOMEM;
  for(i=0; i<n; i++){
    aKey[i] = xKey(p, pCtx, i);
    aIdx[i] = i;
  }
  return segRadixSort(aKey, aIdx, n, 0);
}

/************************************************************************
** segment_migration
*/
typedef struct MigCell MigCell;
struct MigCell {
  int iFrom, iTo;                 /* segments; nSeg of a side: (new)/(lost) */
  i64 nCust;
  double rRevenue;
  i64 nFrom;                      /* customers of the from segment */
};
typedef struct Mig Mig;
struct Mig {
  Tools t;
  MigCell *aCell;
  int nCell;
};


static void migFree(void *pData){
  Mig *p = (Mig*)pData;
  if( p==0 ) return;
  toolsFree(&p->t);
  sqlite3_free(p->aCell);
  sqlite3_free(p);
}

static int migColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  Mig *p = (Mig*)pData;
  const MigCell *c = &p->aCell[iRow];
  int bWithheld = p->t.nK>0 && c->nCust<p->t.nK;
  const ToolsSegs *pS = iCol ? &p->t.segB : &p->t.segA;
  int iSeg = iCol ? c->iTo : c->iFrom;
  switch( iCol ){
    case 0:
    case 1:
      if( iSeg>=pS->nSeg ){
        sqlite3_result_text(ctx, iCol ? "(lost)" : "(new)", -1,
                            SQLITE_STATIC);
      }else{
        toolsSegResult(ctx, pS, iSeg);
      }
      break;
    case 2: if( !bWithheld ) sqlite3_result_int64(ctx, c->nCust); break;
    case 3:
      if( !bWithheld ){
        sqlite3_result_double(ctx, (double)c->nCust/(double)c->nFrom);
      }
      break;
    case 4: if( !bWithheld ) sqlite3_result_double(ctx, c->rRevenue); break;
    case 5:
      sqlite3_result_int(ctx, toolsSegSmall(&p->t.segA, c->iFrom)
                              || toolsSegSmall(&p->t.segB, c->iTo));
      break;
    case 6: sqlite3_result_int(ctx, bWithheld); break;
  }
  return SQLITE_OK;
}

/* The options of segment_migration: lost= (*pbLostRow for lost=row),
** from= (required; as_of= is not taken, to= is it), to= (when given,
** after from=: *pbTo) and since= (not after from=). */
static int migOptions(Mig *p, const SegOpts *pOpts, int *pbTo,
                      int *pbLostRow, char **pzErr){
  static const char *const azLost[] = { "row", "segment", 0 };
  char zA[16], zB[16];
  int rc, bFrom;
  rc = segOptsEnum(pOpts, "lost", azLost, 0, pbLostRow, pzErr);
  if( rc ) return rc;
  *pbLostRow = !*pbLostRow;
  if( segOptsGet(pOpts, "as_of") ){
    return TOOLS_ERR(pOpts, pzErr, "option 'as_of' is to= here "
                     "(customers are scored as of from= and as of to=)");
  }
  rc = segOptsDay(pOpts, "from", &p->t.iDayA, &bFrom, pzErr);
  if( rc ) return rc;
  if( !bFrom ) return TOOLS_ERR(pOpts, pzErr, "option 'from' is required");
  rc = segOptsDay(pOpts, "to", &p->t.iDayB, pbTo, pzErr);
  if( rc ) return rc;
  if( *pbTo && p->t.iDayA>=p->t.iDayB ){
    segFormatDay(p->t.iDayA, zA);
    segFormatDay(p->t.iDayB, zB);
    return TOOLS_ERR(pOpts, pzErr, "from= (%s) is not before to= (%s)",
                     zA, zB);
  }
  return toolsSince(pOpts, 1, p->t.iDayA, "from", pzErr);
}

/* The segments of each side: the to side among the customers not lost
** (*pabLost, one flag per aRowB row: with lost=row, no order after
** from=). */
static int migSegments(Mig *p, int bLostRow, unsigned char **pabLost){
  Tools *t = &p->t;
  unsigned char *abLost = sqlite3_malloc64((u64)t->nB+1);
  int i, rc;
  *pabLost = abLost;
  if( abLost==0 ) return SQLITE_NOMEM;
  for(i=0; i<t->nB; i++){
    abLost[i] = bLostRow && !TOOLS_CUST(t, &t->aRowB[i])->bAfter;
  }
  rc = toolsSegsBuild(t, 0, 0);
  if( rc==SQLITE_OK ) rc = toolsSegsBuild(t, 1, abLost);
  return rc;
}

/* The sort key of aRowB[i]: its (from, to), nSeg of a side standing for
** (new) and (lost).  pCtx is migSegments' abLost. */
static u64 migKey(const Tools *t, const void *pCtx, int i){
  const unsigned char *abLost = (const unsigned char*)pCtx;
  int iA = t->aAofB[i];
  u64 iFrom = iA<0 ? (u64)t->segA.nSeg : (u64)toolsSegOf(t, 0, iA);
  u64 iTo = abLost[i] ? (u64)t->segB.nSeg : (u64)toolsSegOf(t, 1, i);
  return (iFrom<<32) | iTo;
}

/* The output rows: the runs of one (from, to) in the sorted keys, each
** with its customers and their revenue after from=. */
static int migCells(Mig *p, const u64 *aKey, const int *aIdx){
  Tools *t = &p->t;
  int i;
  p->aCell = sqlite3_malloc64(sizeof(MigCell)*(u64)(t->nB+1));
  if( p->aCell==0 ) return SQLITE_NOMEM;
  for(i=0; i<t->nB; ){
    int j;
    SegSum rev = {0, 0};
    MigCell *c = &p->aCell[p->nCell++];
    c->iFrom = (int)(aKey[i]>>32);
    c->iTo = (int)(aKey[i] & 0xffffffff);
    for(j=i; j<t->nB && aKey[j]==aKey[i]; j++){
      segSumAdd(&rev, segSumValue(&TOOLS_CUST(t, &t->aRowB[aIdx[j]])->after));
    }
    c->nCust = j-i;
    c->rRevenue = segSumValue(&rev);
    i = j;
  }
  return SQLITE_OK;
}

/* The from segments' totals (M2: the share's denominator), over the runs
** of one from segment. */
static void migFromTotals(Mig *p){
  int i;
  for(i=0; i<p->nCell; ){
    int j;
    i64 n = 0;
    for(j=i; j<p->nCell && p->aCell[j].iFrom==p->aCell[i].iFrom; j++){
      n += p->aCell[j].nCust;
    }
    for(; i<j; i++) p->aCell[i].nFrom = n;
  }
}

static int migCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  Mig *p;
  int rc, bTo = 0, bLostRow = 0;
  u64 *aKey = 0;
  int *aIdx = 0;
  unsigned char *abLost = 0;
  char zA[16], zB[16];
  SegColumn aCol[5];
  int nCol;

  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = toolsInit(db, pOpts, &p->t, aCol, &nCol, pzErr);
  if( rc==SQLITE_OK ) rc = migOptions(p, pOpts, &bTo, &bLostRow, pzErr);
  if( rc ) goto mig_done;
  p->t.bBFromSource = !bTo;
  rc = toolsOpen(&p->t, db, pOpts, bTo, aCol, nCol, pzErr);
  if( rc ) goto mig_done;
  rc = toolsRead(&p->t, pOpts, 1, pzErr);
  if( rc ) goto mig_done;
  if( p->t.nB==0 ) goto mig_empty;
  if( !bTo && p->t.iDayA>=p->t.iDayB ){
    segFormatDay(p->t.iDayA, zA);
    segFormatDay(p->t.iDayB, zB);
    rc = TOOLS_ERR(pOpts, pzErr, "from= (%s) is not before to= "
                   "(by default the latest day, %s)", zA, zB);
    goto mig_done;
  }
  rc = migSegments(p, bLostRow, &abLost);
  if( rc==SQLITE_OK ){
    rc = toolsSort(&p->t, p->t.nB, migKey, abLost, &aKey, &aIdx);
  }
  if( rc==SQLITE_OK ) rc = migCells(p, aKey, aIdx);
  if( rc ) goto mig_done;
  migFromTotals(p);

mig_empty:
  toolsResult(&p->t, pRes, p, p->nCell);
  p = 0;

mig_done:
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  sqlite3_free(abLost);
  migFree(p);
  return rc;
}

/************************************************************************
** segment_profile
*/
typedef struct ProSeg ProSeg;
struct ProSeg {
  i64 nCust, nOrder, nKnown, nRepeat, nAfter, nFlag;
  SegSum revenue, window;
  double rMedian;
};
typedef struct Pro Pro;
struct Pro {
  Tools t;
  ProSeg *aSeg;                   /* by segment, those with customers */
  int *aiSeg;                     /* output row -> segment */
  int nOut;
  int bWindow;
  i64 nTotal;
  double rTotal;                  /* revenue of every customer */
};

static void proFree(void *pData){
  Pro *p = (Pro*)pData;
  if( p==0 ) return;
  toolsFree(&p->t);
  sqlite3_free(p->aSeg);
  sqlite3_free(p->aiSeg);
  sqlite3_free(p);
}

static int proColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  Pro *p = (Pro*)pData;
  int iSeg = p->aiSeg[iRow];
  const ProSeg *s = &p->aSeg[iSeg];
  double n = (double)s->nCust;
  double rRev = segSumValue(&s->revenue);
  if( p->t.nK>0 && s->nCust<p->t.nK && iCol>=1 && iCol<=12 ) return SQLITE_OK;
  switch( iCol ){
    case 0: toolsSegResult(ctx, &p->t.segA, iSeg); break;
    case 1: sqlite3_result_int64(ctx, s->nCust); break;
    case 2: sqlite3_result_double(ctx, n/(double)p->nTotal); break;
    case 3: sqlite3_result_double(ctx, rRev); break;
    case 4: if( p->rTotal!=0.0 ) sqlite3_result_double(ctx, rRev/p->rTotal); break;
    case 5:
      if( s->nKnown ) sqlite3_result_double(ctx, rRev/(double)s->nKnown);
      break;
    case 6: sqlite3_result_double(ctx, (double)s->nOrder/n); break;
    case 7: sqlite3_result_double(ctx, s->rMedian); break;
    case 8: sqlite3_result_double(ctx, (double)s->nRepeat/n); break;
    case 9: if( p->bWindow ) sqlite3_result_double(ctx, (double)s->nAfter/n); break;
    case 10:
      if( p->bWindow ) sqlite3_result_double(ctx, 1.0 - (double)s->nAfter/n);
      break;
    case 11:
      if( p->bWindow ){
        sqlite3_result_double(ctx, segSumValue(&s->window)/n);
      }
      break;
    case 12:
      if( p->t.bFlag ) sqlite3_result_double(ctx, (double)s->nFlag/n);
      break;
    case 13: sqlite3_result_int(ctx, toolsSegSmall(&p->t.segA, iSeg)); break;
    case 14: sqlite3_result_int(ctx, p->t.nK>0 && s->nCust<p->t.nK); break;
  }
  return SQLITE_OK;
}

/* The options of segment_profile: window= (it needs as_of=), as_of=,
** flag= (it needs window=) and since= (not after as_of=).  Day B is the
** window's end; without window= or as_of=, day A is the source's as_of
** and every row read is as of it. */
static int proOptions(Pro *p, const SegOpts *pOpts, char **pzErr){
  int rc, nWindow = 0, bAsOf;
  rc = segOptsInt(pOpts, "window", 0, 1, 100000, &nWindow, pzErr);
  if( rc ) return rc;
  p->bWindow = segOptsGet(pOpts, "window")!=0;
  rc = segOptsDay(pOpts, "as_of", &p->t.iDayA, &bAsOf, pzErr);
  if( rc ) return rc;
  if( p->t.bFlag && !p->bWindow ){
    return TOOLS_ERR(pOpts, pzErr, "flag= needs window= "
                     "(conversion is counted in the window after as_of)");
  }
  if( p->bWindow && !bAsOf ){
    return TOOLS_ERR(pOpts, pzErr, "window= needs as_of= "
                     "(the window follows it: a backtest from a past day)");
  }
  rc = toolsSince(pOpts, bAsOf, p->t.iDayA, "as_of", pzErr);
  if( rc ) return rc;
  if( p->bWindow ){
    /* the window's end, no later than 9999-12-31 (a day dates can name) */
    int iMax = segDayFromYmd(9999, 12, 31);
    p->t.iDayB = p->t.iDayA>iMax-nWindow ? iMax : p->t.iDayA + nWindow;
  }else if( !bAsOf ){
    p->t.iDayA = INT_MAX;           /* every row read is as of A ... */
    p->t.bAFromSource = 1;          /* ... which is the source's as_of */
  }
  return SQLITE_OK;
}

/* The sort key of aRowA[i]: its segment, then its recency in days. */
static u64 proKey(const Tools *t, const void *pCtx, int i){
  u64 iSeg = (u64)toolsSegOf(t, 0, i);
  (void)pCtx;
  return (iSeg<<32) | (u64)(unsigned int)(t->iDayA - t->aRowA[i].iLast);
}

/* The run of one segment's customers that starts at aKey[i] (in order of
** recency): its sums, with its revenue added to *pTotal too, and its
** median recency (P1).  Returns the end of the run. */
static int proRun(Pro *p, const u64 *aKey, const int *aIdx, int i,
                  SegSum *pTotal){
  int j, iSeg = (int)(aKey[i]>>32);
  ProSeg *s = &p->aSeg[iSeg];
  i64 n;
  for(j=i; j<p->t.nA && (int)(aKey[j]>>32)==iSeg; j++){
    const SegRfmRow *pRow = &p->t.aRowA[aIdx[j]];
    const ToolsCust *c = TOOLS_CUST(&p->t, pRow);
    s->nOrder += pRow->nOrder;
    s->nKnown += pRow->nKnown;
    s->nRepeat += pRow->nOrder>=2;
    s->nAfter += c->bAfter;
    s->nFlag += c->bFlag;
    segSumAdd(&s->revenue, pRow->rMonetary);
    segSumAdd(pTotal, pRow->rMonetary);
    segSumAdd(&s->window, segSumValue(&c->after));
  }
  n = j-i;
  s->nCust = n;
  if( n%2 ){
    s->rMedian = (double)(unsigned int)(aKey[i + n/2] & 0xffffffff);
  }else{
    s->rMedian = 0.5*((double)(unsigned int)(aKey[i + n/2 - 1] & 0xffffffff)
                    + (double)(unsigned int)(aKey[i + n/2] & 0xffffffff));
  }
  return j;
}

/* The segments' sums from the customers sorted by (segment, recency), the
** total revenue, and the output rows: the segments with customers, in
** segment order. */
static int proSegments(Pro *p, const u64 *aKey, const int *aIdx){
  SegSum total = {0, 0};
  int i, nSeg = p->t.segA.nSeg;
  p->aSeg = sqlite3_malloc64(sizeof(ProSeg)*(u64)(nSeg+1));
  p->aiSeg = sqlite3_malloc64(sizeof(int)*(u64)(nSeg+1));
  if( !p->aSeg || !p->aiSeg ) return SQLITE_NOMEM;
  memset(p->aSeg, 0, sizeof(ProSeg)*(u64)(nSeg+1));
  for(i=0; i<p->t.nA; ){
    i = proRun(p, aKey, aIdx, i, &total);
  }
  p->rTotal = segSumValue(&total);
  for(i=0; i<nSeg; i++){
    if( p->aSeg[i].nCust ) p->aiSeg[p->nOut++] = i;
  }
  return SQLITE_OK;
}

static int proCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  SegColumn aCol[5];
  int nCol;
  Pro *p;
  int rc;
  u64 *aKey = 0;
  int *aIdx = 0;

  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = toolsInit(db, pOpts, &p->t, aCol, &nCol, pzErr);
  if( rc==SQLITE_OK ) rc = proOptions(p, pOpts, pzErr);
  if( rc==SQLITE_OK ){
    rc = toolsOpen(&p->t, db, pOpts, p->bWindow, aCol, nCol, pzErr);
  }
  if( rc==SQLITE_OK ) rc = toolsRead(&p->t, pOpts, 0, pzErr);
  if( rc==SQLITE_OK ) rc = toolsSegsBuild(&p->t, 0, 0);
  if( rc==SQLITE_OK ){
    p->nTotal = p->t.nA;
    rc = toolsSort(&p->t, p->t.nA, proKey, 0, &aKey, &aIdx);
  }
  if( rc==SQLITE_OK ) rc = proSegments(p, aKey, aIdx);
  if( rc==SQLITE_OK ){
    toolsResult(&p->t, pRes, p, p->nOut);
    p = 0;
  }
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  proFree(p);
  return rc;
}

/************************************************************************
** Registration
*/
static const char *const azMigOpt[] = {
  SEG_SOURCE_OPTIONS, SEG_RFM_OPTIONS, SEG_GUARD_OPTIONS,
  "k", "from", "to", "lost", "segment", 0
};
static const char *const azProOpt[] = {
  SEG_SOURCE_OPTIONS, SEG_RFM_OPTIONS, SEG_GUARD_OPTIONS,
  "k", "window", "flag", "segment", 0
};

static const SegModuleSpec migModule = {
  "segment_migration",
  "from_segment,to_segment,customers,share,revenue,small,withheld",
  azMigOpt, 0, migCompute, SEG_READS_TABLE,
  migColumn, migFree
};
static const SegModuleSpec proModule = {
  "segment_profile",
  "segment,customers,share,revenue,revenue_share,avg_order_value,"
  "orders_per_customer,median_recency,repeat_rate,retention,churn,"
  "revenue_per_customer,conversion,small,withheld",
  azProOpt, 0, proCompute, SEG_READS_TABLE,
  proColumn, proFree
};

int segmentRegisterSegtools(sqlite3 *db, char **pzErr){
  int rc = segRegisterModule(db, &migModule, pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &proModule, pzErr);
  return rc;
}
