/*
** engagement.c: engagement and cart abandonment over an events source
** (DESIGN.md section 4, last bullet), and the text-list option helper
** that benefits.c shares.
**
**   SELECT * FROM engagement_score('events' [, 'key=value' ...]);
**   SELECT * FROM cart_abandonment('events' [, 'key=value' ...]);
**
** An events source has one row per event: a customer, a moment, an event
** type and, optionally, the seconds spent on the page, a session id and a
** value (price of the product, value put in the cart).  The event type
** column is type= (detected: event_type, type, event); the values that
** mean each kind of event are view= (default 'view'), click= ('click'),
** cart= ('add_to_cart') and purchase= ('purchase'), each a comma
** separated list matched case-insensitively against the text of the type.
**
** engagement_score, one row per customer with at least one event in the
** window, in the order of ORDER BY customer:
**
**   customer, first_seen, last_seen, recency_days, sessions, events,
**   views, clicks, carts, purchases, seconds, r, v, c, t, score, level
**
** Options: the source reader's (source, customer, date, amount, order,
** as_of, since, on_error) and type=, seconds=, session=, view=, click=,
** cart=, purchase=, bins=1..9 (default 5), method=rank|ntile|quantile
** (default rank).
**
** Requirements (engagement_score):
**   E1. Every used row is an event (DESIGN.md section 2 decides which rows
**       are used).  events counts them all; views, clicks, carts and
**       purchases count those whose type is in the matching list; a type
**       in no list (or NULL) counts only as an event.
**   E2. first_seen / last_seen: the UTC days of the first and last event;
**       recency_days = as_of day - last_seen.
**   E3. sessions: distinct non-NULL session ids of the customer when the
**       source has a session column (session=, or detected: session_id,
**       session); otherwise distinct UTC days with an event.
**   E4. seconds: the compensated sum of the known seconds (seconds=, or
**       detected: seconds, duration, time_on_page), REAL; 0.0 when none
**       is known or the source has no such column.  A value that is not a
**       number is an error naming column, value and row (or skipped under
**       on_error=skip).
**   E5. r, v, c, t: scores 1..bins of recency_days (lower is better),
**       views, clicks and seconds, from segScore() (score.c), the routine
**       rfm_score uses: rank, ntile (ties by customer order) or quantile.
**   E6. score = r + v + c + t.  level: with s = (score - 4) /
**       (4 * (bins - 1)), 'high' when s >= 2/3, 'medium' when s >= 1/3,
**       'low' otherwise; with bins=1 every customer is 'medium'.
**
** cart_abandonment, one row per abandoned cart, in the order of ORDER BY
** customer, cart_start:
**
**   customer, cart_start, last_added, items, value, hours_since, recovered
**
** Options: the source reader's and type=, cart=, purchase=, hours= (a
** number 0..100000, default 24).  The value column is amount= (detected: value,
** amount, price).
**
** Requirements (cart_abandonment):
**   C1. Only the add_to_cart and purchase events of a customer matter,
**       taken in time order (at one moment, add_to_cart first, then the
**       order of the scan).
**   C2. A cart is a run of add_to_cart events of one customer with no
**       purchase between them, each within hours= of the previous one.
**       The next add_to_cart after a purchase, or more than hours= after
**       the previous add_to_cart, starts a new cart.
**   C3. A cart is converted when the customer has a purchase event at most
**       hours= after its last add_to_cart (at the same moment counts).  It
**       is abandoned when it is not converted and hours= have passed
**       between its last add_to_cart and the end of the as_of day
**       (midnight UTC after it).  A cart still inside its hours= is open:
**       neither, and not output.
**   C4. cart_start / last_added: the moments of its first and last
**       add_to_cart, 'YYYY-MM-DD HH:MM:SS' in UTC (with '.SSS' when the
**       moment has milliseconds).  items: its add_to_cart events.  value:
**       the compensated sum of their known values, NULL when none is
**       known.  hours_since: hours (REAL) from last_added to the end of
**       the as_of day.  recovered: 1 when the customer has a purchase
**       event after the cart was abandoned (within the window), else 0.
**   C5. Memory grows with the add_to_cart and purchase events of the
**       window: they are sorted once (O(n log n)).
**
** Per-customer summaries are ordinary GROUP BY queries over the result:
**
**   SELECT customer, count(*) AS carts, sum(value) AS value
**   FROM cart_abandonment('events', 'hours=48')
**   WHERE NOT recovered GROUP BY customer;
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>


/**************************************************************************
** The columns of an events source
*/
static const char *const azEngAutoDate[] = {
  "ordered_at", "order_date", "date", "created_at", "occurred_at",
  "event_time", "timestamp", 0
};
static const char *const azEngAutoType[] = { "event_type", "type", "event", 0 };
static const char *const azEngAutoSeconds[] = {
  "seconds", "duration", "time_on_page", 0
};
static const char *const azEngAutoSession[] = { "session_id", "session", 0 };
static const char *const azEngAutoValue[] = { "value", "amount", "price", 0 };

#define ENG_ROLE_TYPE     3
#define ENG_ROLE_SECONDS  4
#define ENG_ROLE_SESSION  5

/* Roles: customer, date, amount (the value), type, seconds, session */
static void engColumns(SegColumn *aCol, int bValue){
  memcpy(aCol, segStdColumns, sizeof(SegColumn)*3);
  aCol[1].azAuto = azEngAutoDate;
  aCol[2].azAuto = bValue ? azEngAutoValue : 0;
  aCol[2].bRequired = 0;
  aCol[3].zOpt = "type";
  aCol[3].azAuto = azEngAutoType;
  aCol[3].eKind = SEG_COL_VALUE;
  aCol[3].bRequired = 1;
  aCol[4].zOpt = "seconds";
  aCol[4].azAuto = azEngAutoSeconds;
  aCol[4].eKind = SEG_COL_AMOUNT;
  aCol[4].bRequired = 0;
  aCol[5].zOpt = "session";
  aCol[5].azAuto = azEngAutoSession;
  aCol[5].eKind = SEG_COL_VALUE;
  aCol[5].bRequired = 0;
}

/* The kinds of event, in the order of their options. */
#define ENG_VIEW      0
#define ENG_CLICK     1
#define ENG_CART      2
#define ENG_PURCHASE  3
static const char *const azEngKindOpt[4] = { "view", "click", "cart", "purchase" };
static const char *const azEngKindDefault[4] = {
  "view", "click", "add_to_cart", "purchase"
};

static int engKindLists(const SegOpts *pOpts, SegTextList *aList,
                        char **pzErr){
  int i, rc = SQLITE_OK;
  memset(aList, 0, sizeof(SegTextList)*4);
  for(i=0; rc==SQLITE_OK && i<4; i++){
    /* an option the function does not take reads as absent */
    rc = segOptsTextList(pOpts, azEngKindOpt[i], azEngKindDefault[i],
                         &aList[i], pzErr);
  }
  return rc;
}

static void engKindListsFree(SegTextList *aList){
  int i;
  for(i=0; i<4; i++) segTextListFree(&aList[i]);
}

/**************************************************************************
** engagement_score
*/
typedef struct EngCust EngCust;
struct EngCust {
  int iFirst, iLast;              /* days of the first and last event */
  i64 nEvent;
  i64 anKind[4];                  /* views, clicks, carts, purchases */
  i64 nSession;
  SegSum sec;
};

typedef struct EngResult EngResult;
struct EngResult {
  SegSource src;                  /* keeps the customer map alive */
  EngCust *aCust;
  int *aOut;                      /* output rows: customer indexes */
  unsigned char *aScore;          /* 4 scores per output row */
  int nOut;
  int iAsOf;
  int nBin;
};

static void engFree(void *pData){
  EngResult *p = (EngResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aOut);
  sqlite3_free(p->aScore);
  sqlite3_free(p);
}

static const char *engLevel(int nScore, int nBin){
  if( nBin<=1 ) return "medium";
  if( 3*(nScore-4) >= 2*4*(nBin-1) ) return "high";
  if( 3*(nScore-4) >= 4*(nBin-1) ) return "medium";
  return "low";
}

static int engColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  EngResult *p = (EngResult*)pData;
  int iCust = p->aOut[iRow];
  EngCust *c = &p->aCust[iCust];
  unsigned char *s = &p->aScore[4*iRow];
  char zDay[16];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[iCust]); break;
    case 1:
    case 2:
      segFormatDay(iCol==1 ? c->iFirst : c->iLast, zDay);
      sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      break;
    case 3: sqlite3_result_int(ctx, p->iAsOf - c->iLast); break;
    case 4: sqlite3_result_int64(ctx, c->nSession); break;
    case 5: sqlite3_result_int64(ctx, c->nEvent); break;
    case 6: case 7: case 8: case 9:
      sqlite3_result_int64(ctx, c->anKind[iCol-6]);
      break;
    case 10: sqlite3_result_double(ctx, segSumValue(&c->sec)); break;
    case 11: case 12: case 13: case 14:
      sqlite3_result_int(ctx, s[iCol-11]);
      break;
    case 15: sqlite3_result_int(ctx, s[0]+s[1]+s[2]+s[3]); break;
    case 16:
      sqlite3_result_text(ctx, engLevel(s[0]+s[1]+s[2]+s[3], p->nBin), -1,
                          SQLITE_STATIC);
      break;
  }
  return SQLITE_OK;
}

/* The scan of engagement_score(). */
typedef struct EngScan EngScan;
struct EngScan {
  const SegTextList *aList;       /* the event types of each kind */
  int bSession;                   /* a session column */
  SegMap sessions;                /* session ids, salt = customer */
  SegDaySet days;                 /* active days, without a session column */
};

static int engRow(void *pCtx, void *pCust, const SegRow *r){
  EngScan *q = (EngScan*)pCtx;
  EngCust *c = (EngCust*)pCust;
  int k;
  if( r->bNewCust ) c->iFirst = c->iLast = r->iDay;
  if( r->iDay<c->iFirst ) c->iFirst = r->iDay;
  if( r->iDay>c->iLast ) c->iLast = r->iDay;
  c->nEvent++;
  for(k=0; k<4; k++){
    if( segTextListHas(&q->aList[k], r->apVal[ENG_ROLE_TYPE]) ){
      c->anKind[k]++;
      break;
    }
  }
  if( r->aNumKnown[ENG_ROLE_SECONDS] ){
    segSumAdd(&c->sec, r->aNum[ENG_ROLE_SECONDS]);
  }
  if( q->bSession ){
    sqlite3_value *pSess = r->apVal[ENG_ROLE_SESSION];
    if( sqlite3_value_type(pSess)!=SQLITE_NULL ){
      int iIdx, bNew;
      int rc = segMapFind(&q->sessions, pSess, r->iCust, &iIdx, &bNew);
      if( rc ) return rc;
      if( bNew ) c->nSession++;
    }
    return SQLITE_OK;
  }
  return segDayAdd(&q->days, r->iCust, r->iDay, 1, 0);
}

/* Without a session column, a customer's sessions are its active days. */
static int engDays(void *pCtx, int iCust, const SegDayCell *aCell,
                   int nCell){
  (void)aCell;
  ((EngResult*)pCtx)->aCust[iCust].nSession = nCell;
  return SQLITE_OK;
}

/* The scores r, v, c and t (E5) of p's output rows into p->aScore (4
** per row, freed with p), by method eMethod.  SQLITE_OK or
** SQLITE_NOMEM. */
static int engScores(EngResult *p, int eMethod){
  int n = p->nOut, rc = SQLITE_OK, i, k;
  double *aVal;
  unsigned char *aOne;
  p->aScore = sqlite3_malloc64(4*(u64)(n+1));
  aVal = sqlite3_malloc64(sizeof(double)*(u64)(n+1));
  aOne = sqlite3_malloc64((u64)(n+1));
  if( p->aScore==0 || aVal==0 || aOne==0 ) rc = SQLITE_NOMEM;
  for(k=0; k<4 && rc==SQLITE_OK; k++){
    for(i=0; i<n; i++){
      EngCust *c = &p->aCust[p->aOut[i]];
      switch( k ){
        case 0: aVal[i] = (double)(p->iAsOf - c->iLast); break;
        case 1: aVal[i] = (double)c->anKind[ENG_VIEW]; break;
        case 2: aVal[i] = (double)c->anKind[ENG_CLICK]; break;
        default: aVal[i] = segSumValue(&c->sec); break;
      }
    }
    rc = segScore(aVal, n, 0, p->nBin, eMethod, k==0, 0, 0, aOne, 0);
    for(i=0; i<n; i++) p->aScore[4*i+k] = aOne[i];
  }
  sqlite3_free(aOne);
  sqlite3_free(aVal);
  return rc;
}

static int engCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                      char **pzErr){
  SegColumn aCol[6];
  SegTextList aList[4];
  EngResult *p;
  EngScan q;
  int bSession, eMethod, rc;

  memset(&q, 0, sizeof(q));
  segMapInit(&q.sessions);
  segDaySetInit(&q.days, 0);
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = engKindLists(pOpts, aList, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsEnum(pOpts, "method", segMethodNames, SEG_METHOD_RANK,
                     &eMethod, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "bins", 5, 1, 9, &p->nBin, pzErr);
  }
  engColumns(aCol, 0);
  if( rc==SQLITE_OK ){
    rc = segSourceOpen(&p->src, db, pOpts, aCol, 6, pzErr);
  }
  bSession = rc==SQLITE_OK && p->src.aiCol[ENG_ROLE_SESSION]>=0;

  /* One pass over the source */
  if( rc==SQLITE_OK ){
    SegEach e = { sizeof(EngCust), 0, engRow, 0, 0, 0, 0 };
    q.aList = aList;
    q.bSession = bSession;
    e.pCtx = &q;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (EngCust*)e.aCust;
  }
  if( rc==SQLITE_OK && !bSession ) rc = segDayEach(&q.days, engDays, p);
  segMapFree(&q.sessions);
  segDaySetFree(&q.days);
  engKindListsFree(aList);

  /* Output: every customer seen, in customer order, with its scores */
  if( rc==SQLITE_OK ){
    segSourceAsOf(&p->src, &p->iAsOf);
    rc = segSourceCustomers(&p->src, 0, 0, &p->aOut, &p->nOut);
  }
  if( rc==SQLITE_OK ) rc = engScores(p, eMethod);
  if( rc ){
    engFree(p);
    return rc;
  }
  pRes->nRow = p->nOut;
  pRes->pData = p;
  return SQLITE_OK;
}

/**************************************************************************
** cart_abandonment
*/
typedef struct CartEvent CartEvent;
struct CartEvent {
  i64 iMs;
  i64 iPos;                       /* position in the scan */
  double rValue;
  int iCust;
  unsigned char bPurchase;
  unsigned char bValue;
};

typedef struct CartRow CartRow;
struct CartRow {
  int iCust;
  int nItem;
  i64 iStartMs, iLastMs;
  SegSum value;
  int bValue;
  int bRecovered;
};

typedef struct CartResult CartResult;
struct CartResult {
  SegSource src;
  CartRow *aRow;
  int nRow, nRowAlloc;
  i64 iEndMs;                     /* end of the as_of day */
};

typedef struct CartSort CartSort;
struct CartSort {
  const CartEvent *aEv;
  const int *aRank;               /* customer index -> rank in ORDER BY */
};

/* customer order, then moment, then add_to_cart before purchase, then
** scan position */
static int cartCmp(void *pCtx, int a, int b){
  const CartSort *s = (const CartSort*)pCtx;
  const CartEvent *x = &s->aEv[a], *y = &s->aEv[b];
  int rx = s->aRank[x->iCust], ry = s->aRank[y->iCust];
  if( rx!=ry ) return rx<ry ? -1 : +1;
  if( x->iMs!=y->iMs ) return x->iMs<y->iMs ? -1 : +1;
  if( x->bPurchase!=y->bPurchase ) return x->bPurchase ? +1 : -1;
  if( x->iPos!=y->iPos ) return x->iPos<y->iPos ? -1 : +1;
  return 0;
}

static void cartFree(void *pData){
  CartResult *p = (CartResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aRow);
  sqlite3_free(p);
}

/* 'YYYY-MM-DD HH:MM:SS[.SSS]' of a moment; zBuf >= 25 bytes */
static void cartFormatMs(i64 iMs, char *zBuf){
  int iDay = segDayOfMs(iMs);
  i64 iTime = iMs + SEG_MS_PER_DAY/2 - (i64)iDay*SEG_MS_PER_DAY;
  int iSec = (int)(iTime/1000), iFrac = (int)(iTime%1000);
  int n;
  segFormatDay(iDay, zBuf);
  n = (int)strlen(zBuf);          /* 10, or 11 before year 0000 */
  if( iFrac ){
    sqlite3_snprintf(14, zBuf+n, " %02d:%02d:%02d.%03d", iSec/3600,
                     (iSec/60)%60, iSec%60, iFrac);
  }else{
    sqlite3_snprintf(10, zBuf+n, " %02d:%02d:%02d", iSec/3600,
                     (iSec/60)%60, iSec%60);
  }
}

static int cartColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  CartResult *p = (CartResult*)pData;
  CartRow *c = &p->aRow[iRow];
  char zBuf[32];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[c->iCust]); break;
    case 1:
    case 2:
      cartFormatMs(iCol==1 ? c->iStartMs : c->iLastMs, zBuf);
      sqlite3_result_text(ctx, zBuf, -1, SQLITE_TRANSIENT);
      break;
    case 3: sqlite3_result_int(ctx, c->nItem); break;
    case 4:
      if( c->bValue ) sqlite3_result_double(ctx, segSumValue(&c->value));
      break;
    case 5:
      sqlite3_result_double(ctx, (double)(p->iEndMs - c->iLastMs)/3600000.0);
      break;
    case 6: sqlite3_result_int(ctx, c->bRecovered); break;
  }
  return SQLITE_OK;
}

/* Append the cart *pCart to the output. */
static int cartEmit(CartResult *p, const CartRow *pCart){
  int rc = segArrayEnsure((void**)&p->aRow, &p->nRowAlloc, p->nRow,
                          sizeof(CartRow));
  if( rc ) return rc;
  p->aRow[p->nRow++] = *pCart;
  return SQLITE_OK;
}

/* The scan of cart_abandonment(): the add_to_cart and purchase events. */
typedef struct CartScan CartScan;
struct CartScan {
  const SegTextList *aList;
  CartEvent *aEv;
  int nEv, nEvAlloc;
};

static int cartRow(void *pCtx, void *pCust, const SegRow *r){
  CartScan *q = (CartScan*)pCtx;
  CartEvent *e;
  int bCart, bPurchase;
  (void)pCust;
  bCart = segTextListHas(&q->aList[ENG_CART], r->apVal[ENG_ROLE_TYPE]);
  bPurchase = !bCart
           && segTextListHas(&q->aList[ENG_PURCHASE], r->apVal[ENG_ROLE_TYPE]);
  if( !bCart && !bPurchase ) return SQLITE_OK;
  if( segArrayEnsure((void**)&q->aEv, &q->nEvAlloc, q->nEv,
                     sizeof(CartEvent)) ){
    return SQLITE_NOMEM;
  }
  e = &q->aEv[q->nEv];
  e->iMs = r->iMs;
  e->iPos = q->nEv;
  e->iCust = r->iCust;
  e->bPurchase = (unsigned char)bPurchase;
  e->bValue = r->eAmount==SEG_AMT_KNOWN;
  e->rValue = r->rAmount;
  q->nEv++;
  return SQLITE_OK;
}

/* The events aEv[0..nEv-1] in the order of cartCmp(): into *paIdx
** (sqlite3_malloc'd, also on error), by the ranks of p's customers in
** ORDER BY customer.  SQLITE_OK or SQLITE_NOMEM. */
static int cartSortEvents(CartResult *p, const CartEvent *aEv, int nEv,
                          int **paIdx){
  int *aSorted = 0, *aRank = 0, *aIdx = 0;
  int rc, i;
  rc = segMapSorted(&p->src.cust, &aSorted);
  if( rc ) goto sort_done;
  aRank = sqlite3_malloc64(sizeof(int)*(u64)(p->src.cust.nKey+1));
  aIdx = sqlite3_malloc64(sizeof(int)*(u64)(nEv+1));
  if( aRank==0 || aIdx==0 ){ rc = SQLITE_NOMEM; goto sort_done; }
  for(i=0; i<p->src.cust.nKey; i++) aRank[aSorted[i]] = i;
  for(i=0; i<nEv; i++) aIdx[i] = i;
  {
    CartSort s;
    s.aEv = aEv;
    s.aRank = aRank;
    rc = segSortIdx(aIdx, nEv, cartCmp, &s);
  }
sort_done:
  *paIdx = aIdx;
  sqlite3_free(aSorted);
  sqlite3_free(aRank);
  return rc;
}

/* The sweep (C2-C4) over the events aEv[aIdx[0..nEv-1]], in cartCmp()
** order, one customer at a time: the abandoned carts appended to p's
** output, with iWindow the hours= option in milliseconds.  SQLITE_OK or
** SQLITE_NOMEM. */
static int cartSweep(CartResult *p, const CartEvent *aEv, const int *aIdx,
                     int nEv, i64 iWindow){
  int rc, i;
  i = 0;
  while( i<nEv ){
    int iCust = aEv[aIdx[i]].iCust;
    int iUnrecovered = p->nRow;   /* first output cart not yet recovered */
    int bOpen = 0;
    CartRow cart;
    memset(&cart, 0, sizeof(cart));
    for(; i<nEv && aEv[aIdx[i]].iCust==iCust; i++){
      const CartEvent *e = &aEv[aIdx[i]];
      if( !e->bPurchase ){
        if( bOpen && e->iMs - cart.iLastMs > iWindow ){
          rc = cartEmit(p, &cart);   /* abandoned: hours= passed */
          if( rc ) return rc;
          bOpen = 0;
        }
        if( !bOpen ){
          memset(&cart, 0, sizeof(cart));
          cart.iCust = iCust;
          cart.iStartMs = e->iMs;
          bOpen = 1;
        }
        cart.nItem++;
        cart.iLastMs = e->iMs;
        if( e->bValue ){
          segSumAdd(&cart.value, e->rValue);
          cart.bValue = 1;
        }
      }else{
        if( bOpen ){
          if( e->iMs - cart.iLastMs > iWindow ){
            rc = cartEmit(p, &cart);  /* abandoned, then recovered below */
            if( rc ) return rc;
          }
          bOpen = 0;
        }
        for(; iUnrecovered<p->nRow; iUnrecovered++){
          p->aRow[iUnrecovered].bRecovered = 1;
        }
      }
    }
    if( bOpen && p->iEndMs - cart.iLastMs > iWindow ){
      rc = cartEmit(p, &cart);
      if( rc ) return rc;
    }
  }
  return SQLITE_OK;
}

static int cartCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                       char **pzErr){
  SegColumn aCol[6];
  SegTextList aList[4];
  CartResult *p;
  CartScan q;
  CartEvent *aEv = 0;
  int nEv = 0;
  int *aIdx = 0;
  double rHours = 24.0;
  i64 iWindow;
  int iAsOf, rc;

  memset(&q, 0, sizeof(q));
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = engKindLists(pOpts, aList, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "hours", 24.0, 0.0, 100000.0, &rHours, pzErr);
  }
  engColumns(aCol, 1);
  if( rc==SQLITE_OK ){
    rc = segSourceOpen(&p->src, db, pOpts, aCol, 4, pzErr);
  }
  iWindow = (i64)llround(rHours*3600000.0);

  /* One pass: keep the add_to_cart and purchase events */
  if( rc==SQLITE_OK ){
    SegEach e = { 0, 0, cartRow, 0, 0, 0, 0 };
    q.aList = aList;
    e.pCtx = &q;
    rc = segSourceEach(&p->src, &e, pzErr);
  }
  aEv = q.aEv;
  nEv = q.nEv;
  engKindListsFree(aList);
  if( rc ) goto cart_done;
  if( !segSourceAsOf(&p->src, &iAsOf) ) goto cart_done;
  p->iEndMs = (i64)(iAsOf+1)*SEG_MS_PER_DAY - SEG_MS_PER_DAY/2;

  /* Customer ranks, then the events sorted, then the sweep */
  rc = cartSortEvents(p, aEv, nEv, &aIdx);
  if( rc==SQLITE_OK ) rc = cartSweep(p, aEv, aIdx, nEv, iWindow);

cart_done:
  sqlite3_free(aEv);
  sqlite3_free(aIdx);
  if( rc ){
    cartFree(p);
    return rc;
  }
  pRes->nRow = p->nRow;
  pRes->pData = p;
  return SQLITE_OK;
}

/**************************************************************************
** Registration
*/
static const char *const azEngOpt[] = {
  SEG_SOURCE_OPTIONS,
  "type", "seconds", "session", "view", "click", "cart", "purchase",
  "bins", "method",
  0
};

static const SegModuleSpec engModule = {
  "engagement_score",
  "customer,first_seen,last_seen,recency_days,sessions,events,views,clicks,"
  "carts,purchases,seconds,r,v,c,t,score,level",
  azEngOpt, 0, engCompute, SEG_READS_TABLE,
  engColumn, engFree
};

static const char *const azCartOpt[] = {
  SEG_SOURCE_OPTIONS,
  "type", "cart", "purchase", "hours",
  0
};

static const SegModuleSpec cartModule = {
  "cart_abandonment",
  "customer,cart_start,last_added,items,value,hours_since,recovered",
  azCartOpt, 0, cartCompute, SEG_READS_TABLE,
  cartColumn, cartFree
};

int segmentRegisterEngagement(sqlite3 *db, char **pzErr){
  int rc = segRegisterModule(db, &engModule, pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &cartModule, pzErr);
  return rc;
}
