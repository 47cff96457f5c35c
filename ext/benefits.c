/*
** benefits.c: benefits sought (DESIGN.md section 4): does a customer shop
** for price, for quality or for convenience?
**
**   SELECT * FROM benefits_sought('orders' [, 'key=value' ...]);
**
** One row per customer with at least one order in the window, in the
** order of ORDER BY customer:
**
**   customer, orders, items, discount_share, price_level, fast_share,
**   price_score, quality_score, convenience_score, label
**
** The source has one row per order or one row per order line (then give
** order=, so that the lines of an order count as one order).  Its columns,
** each named by an option or detected:
**
**   discount=  the discount of the order (detected: discount,
**              discount_amount): a number, 0 when there is none
**   price=     the unit price of the item (detected: price, unit_price)
**   category=  the item's category (detected: category)
**   shipping=  the shipping method (detected: shipping, shipping_method,
**              ship_method)
**
** At least one of discount, price and shipping must be found.  When the
** order and item data live in two tables, join them in a view (there is
** no option that takes SQL text).
**
** Other options: the source reader's (source, customer, date, amount,
** order, as_of, since, on_error) and
**   fast=        the shipping values that mean fast delivery, comma
**                separated, matched case-insensitively (default express)
**   min_orders=  customers with fewer orders get a NULL label (default 3)
**   threshold=   the score a leaning needs, 0..1 (default 0.6)
**
** Requirements:
**   1. Orders are the source's orders (DESIGN.md section 2, detail 3):
**      refund rows (amount < 0) count for nothing here; with order=, rows
**      sharing an order id are one order.
**   2. discount_share = orders with a discount other than 0 / orders with
**      a known discount (with order=, an order has a discount when any of
**      its rows has one, a known discount when any row's is known).  NULL
**      when no order has a known discount.
**   3. price_level = the mean, over the customer's order rows with a known
**      price, of the price's percentile rank within its category among all
**      such rows of the window: (L + E/2) / N, L rows of the category
**      cheaper, E as expensive (itself included), N in the category.  So
**      0 < price_level < 1, the cheapest items rank low, equal prices rank
**      alike, a category of one price ranks 0.5.  Rows whose category is
**      NULL are left out; without a category column, all rows are one
**      category.  NULL when the customer has no such row.  items counts
**      the rows that entered price_level.
**   4. fast_share = orders shipped fast (shipping in fast=) / orders with a
**      known (non-NULL) shipping.  NULL when there is none.
**   5. Scores, 0..1: price_score = the mean of discount_share and
**      1 - price_level (just the one when the other is NULL);
**      quality_score = price_level; convenience_score = fast_share.  NULL
**      when their inputs are NULL.
**   6. label: NULL when orders < min_orders; otherwise the dimension
**      ('price', 'quality', 'convenience') with the highest score when that
**      score is >= threshold and no other score equals it; otherwise
**      'mixed'.
**   7. Memory grows with customers, and with the rows that have a price
**      (sorted once by category and price: O(n log n)).
**
** Example:
**   SELECT label, count(*) FROM benefits_sought('orders') GROUP BY 1;
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

#define BEN_ROLE_DISCOUNT  3
#define BEN_ROLE_PRICE     4
#define BEN_ROLE_CATEGORY  5
#define BEN_ROLE_SHIPPING  6
#define BEN_NROLE          7

static const char *const azBenAutoDiscount[] = {
  "discount", "discount_amount", 0
};
static const char *const azBenAutoPrice[] = { "price", "unit_price", 0 };
static const char *const azBenAutoCategory[] = { "category", 0 };
static const char *const azBenAutoShipping[] = {
  "shipping", "shipping_method", "ship_method", 0
};

/* Flags of an order (with order=) */
#define BEN_DISC_KNOWN  0x01
#define BEN_DISCOUNTED  0x02
#define BEN_SHIP_KNOWN  0x04
#define BEN_FAST        0x08

typedef struct BenCust BenCust;
struct BenCust {
  unsigned int nOrder;
  unsigned int nDiscKnown, nDiscounted;
  unsigned int nShipKnown, nFast;
  unsigned int nItem;
  SegSum pct;                     /* sum of the items' percentile ranks */
};

typedef struct BenItem BenItem;
struct BenItem {
  double rPrice;
  int iCat;
  int iCust;
};

typedef struct BenResult BenResult;
struct BenResult {
  SegSource src;                  /* keeps the customer map alive */
  BenCust *aCust;
  int *aOut;
  int nOut;
  int nMinOrders;
  double rThreshold;
};

static void benFree(void *pData){
  BenResult *p = (BenResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aOut);
  sqlite3_free(p);
}

/* The three measures and scores of a customer; NaN is NULL. */
typedef struct BenScores BenScores;
struct BenScores {
  double rDiscount, rLevel, rFast;
  double aScore[3];               /* price, quality, convenience */
};

static void benScores(const BenCust *c, BenScores *s){
  s->rDiscount = c->nDiscKnown ? (double)c->nDiscounted/(double)c->nDiscKnown
                               : NAN;
  s->rLevel = c->nItem ? segSumValue(&c->pct)/(double)c->nItem : NAN;
  s->rFast = c->nShipKnown ? (double)c->nFast/(double)c->nShipKnown : NAN;
  if( isnan(s->rDiscount) ){
    s->aScore[0] = isnan(s->rLevel) ? NAN : 1.0 - s->rLevel;
  }else if( isnan(s->rLevel) ){
    s->aScore[0] = s->rDiscount;
  }else{
    s->aScore[0] = (s->rDiscount + (1.0 - s->rLevel))/2.0;
  }
  s->aScore[1] = s->rLevel;
  s->aScore[2] = s->rFast;
}

static void benDouble(sqlite3_context *ctx, double r){
  if( !isnan(r) ) sqlite3_result_double(ctx, r);
}

static int benColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  static const char *const azLabel[] = { "price", "quality", "convenience" };
  BenResult *p = (BenResult*)pData;
  int iCust = p->aOut[iRow];
  BenCust *c = &p->aCust[iCust];
  BenScores s;
  benScores(c, &s);
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[iCust]); break;
    case 1: sqlite3_result_int64(ctx, (i64)c->nOrder); break;
    case 2: sqlite3_result_int64(ctx, (i64)c->nItem); break;
    case 3: benDouble(ctx, s.rDiscount); break;
    case 4: benDouble(ctx, s.rLevel); break;
    case 5: benDouble(ctx, s.rFast); break;
    case 6: case 7: case 8: benDouble(ctx, s.aScore[iCol-6]); break;
    case 9: {
      int k, iBest = -1, bTie = 0;
      if( c->nOrder<(unsigned int)p->nMinOrders ) break;
      for(k=0; k<3; k++){
        if( isnan(s.aScore[k]) ) continue;
        if( iBest<0 || s.aScore[k]>s.aScore[iBest] ){
          iBest = k;
          bTie = 0;
        }else if( s.aScore[k]==s.aScore[iBest] ){
          bTie = 1;
        }
      }
      if( iBest>=0 && !bTie && s.aScore[iBest]>=p->rThreshold ){
        sqlite3_result_text(ctx, azLabel[iBest], -1, SQLITE_STATIC);
      }else{
        sqlite3_result_text(ctx, "mixed", -1, SQLITE_STATIC);
      }
      break;
    }
  }
  return SQLITE_OK;
}

/* Items by category, then price */
static int benItemCmp(void *pCtx, int a, int b){
  const BenItem *x = &((const BenItem*)pCtx)[a];
  const BenItem *y = &((const BenItem*)pCtx)[b];
  if( x->iCat!=y->iCat ) return x->iCat<y->iCat ? -1 : +1;
  if( x->rPrice!=y->rPrice ) return x->rPrice<y->rPrice ? -1 : +1;
  return a<b ? -1 : (a>b);
}

/* price_level: the percentile rank of each item within its category,
** summed per customer. */
static int benPriceLevels(BenResult *p, BenItem *aItem, int nItem){
  int *aIdx;
  int i, rc;
  if( nItem==0 ) return SQLITE_OK;
  aIdx = sqlite3_malloc64(sizeof(int)*(u64)nItem);
  if( aIdx==0 ) return SQLITE_NOMEM;
  for(i=0; i<nItem; i++) aIdx[i] = i;
  rc = segSortIdx(aIdx, nItem, benItemCmp, aItem);
  i = 0;
  while( rc==SQLITE_OK && i<nItem ){
    int iCat = aItem[aIdx[i]].iCat;
    int iStart = i, iEnd = i, j;
    while( iEnd<nItem && aItem[aIdx[iEnd]].iCat==iCat ) iEnd++;
    /* [iStart, iEnd): one category, N = iEnd - iStart */
    while( i<iEnd ){
      int e = i;
      double rPct;
      while( e<iEnd && aItem[aIdx[e]].rPrice==aItem[aIdx[i]].rPrice ) e++;
      rPct = ((double)(i-iStart) + 0.5*(double)(e-i))/(double)(iEnd-iStart);
      for(j=i; j<e; j++){
        BenCust *c = &p->aCust[aItem[aIdx[j]].iCust];
        segSumAdd(&c->pct, rPct);
        c->nItem++;
      }
      i = e;
    }
  }
  sqlite3_free(aIdx);
  return rc;
}

/* The scan of benefits_sought(): per customer its orders, discounted and
** fast-shipped ones (once per order id with order=), and the priced
** items. */
typedef struct BenScan BenScan;
struct BenScan {
  SegTextList fast;               /* the fast shipping values */
  SegMap cats;                    /* category values */
  int bCategory;
  BenItem *aItem; int nItem, nItemAlloc;
  unsigned char *aFlag; int nFlag;     /* with order=: BEN_xxx per order */
};

static int benRow(void *pCtx, void *pCust, const SegRow *r){
  BenScan *q = (BenScan*)pCtx;
  BenCust *c = (BenCust*)pCust;
  int bDiscKnown, bDiscounted, bShipKnown, bFast;
  if( !r->bOrder ) return SQLITE_OK;
  if( r->bNewOrder ) c->nOrder++;
  bDiscKnown = r->aNumKnown[BEN_ROLE_DISCOUNT];
  bDiscounted = bDiscKnown && r->aNum[BEN_ROLE_DISCOUNT]!=0.0;
  bShipKnown = sqlite3_value_type(r->apVal[BEN_ROLE_SHIPPING])!=SQLITE_NULL;
  bFast = bShipKnown && segTextListHas(&q->fast, r->apVal[BEN_ROLE_SHIPPING]);
  if( r->iOrder<0 ){
    c->nDiscKnown += bDiscKnown;
    c->nDiscounted += bDiscounted;
    c->nShipKnown += bShipKnown;
    c->nFast += bFast;
  }else{
    unsigned char *f;
    if( segArrayEnsureZero((void**)&q->aFlag, &q->nFlag, r->iOrder, 1) ){
      return SQLITE_NOMEM;
    }
    f = &q->aFlag[r->iOrder];
    if( bDiscKnown && !(*f & BEN_DISC_KNOWN) ){ *f |= BEN_DISC_KNOWN; c->nDiscKnown++; }
    if( bDiscounted && !(*f & BEN_DISCOUNTED) ){ *f |= BEN_DISCOUNTED; c->nDiscounted++; }
    if( bShipKnown && !(*f & BEN_SHIP_KNOWN) ){ *f |= BEN_SHIP_KNOWN; c->nShipKnown++; }
    if( bFast && !(*f & BEN_FAST) ){ *f |= BEN_FAST; c->nFast++; }
  }
  if( r->aNumKnown[BEN_ROLE_PRICE] ){
    int iCat = 0, bNew;
    if( q->bCategory ){
      sqlite3_value *pCat = r->apVal[BEN_ROLE_CATEGORY];
      int rc;
      if( sqlite3_value_type(pCat)==SQLITE_NULL ) return SQLITE_OK;
      rc = segMapFind(&q->cats, pCat, 0, &iCat, &bNew);
      if( rc ) return rc;
    }
    if( segArrayEnsure((void**)&q->aItem, &q->nItemAlloc, q->nItem,
                       sizeof(BenItem)) ){
      return SQLITE_NOMEM;
    }
    q->aItem[q->nItem].rPrice = r->aNum[BEN_ROLE_PRICE];
    q->aItem[q->nItem].iCat = iCat;
    q->aItem[q->nItem].iCust = r->iCust;
    q->nItem++;
  }
  return SQLITE_OK;
}

/* Open the source with the roles customer, date, amount, discount, price,
** category, shipping, set in aCol[BEN_NROLE] (which the source reads
** until it is closed); one of discount, price or shipping is needed. */
static int benOpen(BenResult *p, sqlite3 *db, const SegOpts *pOpts,
                   SegColumn *aCol, int *pbCategory, char **pzErr){
  int i, rc, *ai;
  memcpy(aCol, segStdColumns, sizeof(SegColumn)*3);
  aCol[2].bRequired = 0;
  aCol[3].zOpt = "discount";
  aCol[3].azAuto = azBenAutoDiscount;
  aCol[3].eKind = SEG_COL_AMOUNT;
  aCol[4].zOpt = "price";
  aCol[4].azAuto = azBenAutoPrice;
  aCol[4].eKind = SEG_COL_AMOUNT;
  aCol[5].zOpt = "category";
  aCol[5].azAuto = azBenAutoCategory;
  aCol[5].eKind = SEG_COL_VALUE;
  aCol[6].zOpt = "shipping";
  aCol[6].azAuto = azBenAutoShipping;
  aCol[6].eKind = SEG_COL_VALUE;
  for(i=3; i<BEN_NROLE; i++) aCol[i].bRequired = 0;
  rc = segSourceOpen(&p->src, db, pOpts, aCol, BEN_NROLE, pzErr);
  if( rc ) return rc;
  ai = p->src.aiCol;
  if( ai[BEN_ROLE_DISCOUNT]<0 && ai[BEN_ROLE_PRICE]<0
   && ai[BEN_ROLE_SHIPPING]<0 ){
    const char *zSrc = segOptsGet(pOpts, "source");
    *pzErr = segOptsError(pOpts, "found no discount, price or shipping "
                          "column in %s; add discount=COLUMN, "
                          "price=COLUMN or shipping=COLUMN", zSrc);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  *pbCategory = ai[BEN_ROLE_CATEGORY]>=0;
  return SQLITE_OK;
}

/* segSourceCustomers()'s filter for the output (pCtx the BenResult): a
** customer with an order. */
static int benKeep(void *pCtx, int iCust){
  return ((BenResult*)pCtx)->aCust[iCust].nOrder>0;
}

static int benCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  SegColumn aCol[BEN_NROLE];
  BenResult *p;
  BenScan q;
  int rc;

  memset(&q, 0, sizeof(q));
  segMapInit(&q.cats);
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = segOptsTextList(pOpts, "fast", "express", &q.fast, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "min_orders", 3, 0, 2000000000, &p->nMinOrders,
                    pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "threshold", 0.6, 0.0, 1.0, &p->rThreshold,
                       pzErr);
  }
  if( rc==SQLITE_OK ) rc = benOpen(p, db, pOpts, aCol, &q.bCategory, pzErr);

  /* One pass over the source */
  if( rc==SQLITE_OK ){
    SegEach e = { sizeof(BenCust), 0, benRow, 0, 0, 0, 0 };
    e.pCtx = &q;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (BenCust*)e.aCust;
  }
  sqlite3_free(q.aFlag);
  segMapFree(&q.cats);
  segTextListFree(&q.fast);
  if( rc==SQLITE_OK ) rc = benPriceLevels(p, q.aItem, q.nItem);
  sqlite3_free(q.aItem);
  if( rc ) goto ben_error;

  /* Output customers with an order, in customer order */
  rc = segSourceCustomers(&p->src, benKeep, p, &p->aOut, &p->nOut);
  if( rc ) goto ben_error;
  pRes->nRow = p->nOut;
  pRes->pData = p;
  return SQLITE_OK;

ben_error:
  benFree(p);
  return rc;
}

static const char *const azBenOpt[] = {
  SEG_SOURCE_OPTIONS,
  "discount", "price", "category", "shipping", "fast", "min_orders",
  "threshold",
  0
};

static const SegModuleSpec benModule = {
  "benefits_sought",
  "customer,orders,items,discount_share,price_level,fast_share,"
  "price_score,quality_score,convenience_score,label",
  azBenOpt, 0, benCompute, SEG_READS_TABLE,
  benColumn, benFree
};

int segmentRegisterBenefits(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &benModule, pzErr);
}
