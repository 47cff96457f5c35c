/*
** daycells.c: the day cells that usage_tier, lifecycle_stage and
** engagement_score share: the distinct (group, UTC day) pairs of a scan,
** each with its events and the net sum of its known amounts.
**
** A row is not looked up in a hash as it arrives: a million customers'
** days in random order would cost a cache miss per row, and the hash
** would hold every cell until the end.  segDayAdd appends an 8-byte
** record (16 with amounts) to the partition of its group, SEG_DAY_PART
** consecutive groups to a partition, in blocks of SEG_DAY_BLOCK records.
** segDayEach then takes one partition at a time, small enough for the
** cache: a counting sort by group, then each group's records by day, then
** one callback per group with its cells in day order.  Records of one
** cell keep the order in which they were added (the sort keys end in the
** record's position), so a cell's sum adds its amounts in row order, as
** one pass over the rows would.
*/
#include "segmentInt.h"
#include <string.h>
#include <stddef.h>

#define SEG_DAY_SHIFT 10
#define SEG_DAY_PART  (1<<SEG_DAY_SHIFT)  /* groups per partition */
#define SEG_DAY_BLOCK 256                 /* records per block */

#define SEG_DAY_EVENT 2                   /* SegDayRec.uKey flags */
#define SEG_DAY_KNOWN 1

typedef struct SegDayRec SegDayRec;
struct SegDayRec {
  unsigned int uKey;              /* group in partition <<2, flags */
  int iDay;
};
struct SegDayBlock {
  SegDayBlock *pNext;
  int n;                          /* records used */
  SegDayRec a[SEG_DAY_BLOCK];
  double aAmt[];                  /* SEG_DAY_BLOCK, with amounts only */
};

void segDaySetInit(SegDaySet *p, int bAmount){
  memset(p, 0, sizeof(*p));
  p->bAmount = bAmount!=0;
}

static void dayPartFree(SegDayPart *pPart){
  SegDayBlock *b = pPart->pFirst;
  while( b ){
    SegDayBlock *pNext = b->pNext;
    sqlite3_free(b);
    b = pNext;
  }
  memset(pPart, 0, sizeof(*pPart));
}

void segDaySetFree(SegDaySet *p){
  int i;
  for(i=0; i<p->nPart; i++) dayPartFree(&p->aPart[i]);
  sqlite3_free(p->aPart);
  memset(p, 0, sizeof(*p));
}

int segDayAdd(SegDaySet *p, int iGroup, int iDay, int bEvent,
              const double *pAmount){
  int iPart = iGroup>>SEG_DAY_SHIFT;
  SegDayPart *pPart;
  SegDayBlock *b;
  SegDayRec *r;
  if( iPart>=p->nPart ){
    if( segArrayEnsureZero((void**)&p->aPart, &p->nPartAlloc, iPart,
                           sizeof(SegDayPart)) ){
      return SQLITE_NOMEM;
    }
    p->nPart = iPart+1;
  }
  pPart = &p->aPart[iPart];
  b = pPart->pLast;
  if( b==0 || b->n==SEG_DAY_BLOCK ){
    b = sqlite3_malloc64(offsetof(SegDayBlock, aAmt)
                         + (p->bAmount ? sizeof(double)*SEG_DAY_BLOCK : 0));
    if( b==0 ) return SQLITE_NOMEM;
    b->pNext = 0;
    b->n = 0;
    if( pPart->pLast ) pPart->pLast->pNext = b; else pPart->pFirst = b;
    pPart->pLast = b;
  }
  r = &b->a[b->n];
  if( !p->bAmount ) pAmount = 0;   /* a set without amounts keeps none */
  r->uKey = ((unsigned int)(iGroup & (SEG_DAY_PART-1))<<2)
          | (bEvent ? SEG_DAY_EVENT : 0) | (pAmount ? SEG_DAY_KNOWN : 0);
  r->iDay = iDay;
  if( p->bAmount ) b->aAmt[b->n] = pAmount ? *pAmount : 0.0;
  b->n++;
  pPart->nRec++;
  return SQLITE_OK;
}

/* Sort keys: the day (order-preserving as unsigned) above the record's
** position, so that equal days keep the order of their records. */
static u64 dayKey(int iDay, int iPos){
  return ((u64)((unsigned int)iDay ^ 0x80000000u)<<32) | (unsigned int)iPos;
}

SEG_HEAP_SORT(dayHeapSort, u64)

/* One group's keys: insertion sort when there are few, else an in-place
** heap sort (O(n log n) whatever the days).  The keys are unique. */
static void daySortKeys(u64 *a, int n){
  int i;
  if( n<=24 ){
    for(i=1; i<n; i++){
      u64 t = a[i];
      int j = i;
      while( j>0 && a[j-1]>t ){ a[j] = a[j-1]; j--; }
      a[j] = t;
    }
    return;
  }
  dayHeapSort(a, n);
}

/* Scratch for one partition, sized for the largest. */
typedef struct DayScratch DayScratch;
struct DayScratch {
  SegDayRec *aRec;                /* the partition's records, in order */
  double *aAmt;                   /* their amounts (with amounts) */
  u64 *aKey;                      /* sort keys, by group */
  SegDayCell *aCell;              /* one group's cells */
  int nCellAlloc;
};

/* The cells of one group from its sorted keys; returns their number. */
static int dayCells(const DayScratch *s, const u64 *aKey, int n,
                    SegDayCell *aCell){
  int j, nCell = 0;
  for(j=0; j<n; j++){
    int k = (int)(unsigned int)aKey[j];
    const SegDayRec *r = &s->aRec[k];
    SegDayCell *c;
    if( nCell==0 || aCell[nCell-1].iDay!=r->iDay ){
      c = &aCell[nCell++];
      memset(c, 0, sizeof(*c));
      c->iDay = r->iDay;
    }else{
      c = &aCell[nCell-1];
    }
    if( r->uKey & SEG_DAY_EVENT ) c->nEvent++;
    if( r->uKey & SEG_DAY_KNOWN ) segSumAdd(&c->sum, s->aAmt[k]);
  }
  return nCell;
}

/* One partition: its records gathered, grouped, sorted, called back. */
static int dayPart(SegDaySet *p, int iPart, DayScratch *s,
                   SegDayGroupFn xGroup, void *pCtx){
  SegDayPart *pPart = &p->aPart[iPart];
  int aStart[SEG_DAY_PART+1];
  int n = 0, nMax = 0, g, k, rc = SQLITE_OK;
  SegDayBlock *b;
  for(b=pPart->pFirst; b; b=b->pNext){
    memcpy(&s->aRec[n], b->a, sizeof(SegDayRec)*(size_t)b->n);
    if( p->bAmount ){
      memcpy(&s->aAmt[n], b->aAmt, sizeof(double)*(size_t)b->n);
    }
    n += b->n;
  }
  dayPartFree(pPart);
  memset(aStart, 0, sizeof(aStart));
  for(k=0; k<n; k++) aStart[(s->aRec[k].uKey>>2)+1]++;
  for(g=0; g<SEG_DAY_PART; g++){
    if( aStart[g+1]>nMax ) nMax = aStart[g+1];
    aStart[g+1] += aStart[g];
  }
  if( segArrayEnsure((void**)&s->aCell, &s->nCellAlloc, nMax-1,
                     sizeof(SegDayCell)) ){
    return SQLITE_NOMEM;
  }
  for(k=0; k<n; k++){
    int *pNext = &aStart[s->aRec[k].uKey>>2];
    s->aKey[(*pNext)++] = dayKey(s->aRec[k].iDay, k);
  }
  /* aStart[g] is now the end of group g, the start of group g+1 */
  for(g=0; g<SEG_DAY_PART && rc==SQLITE_OK; g++){
    int a = g ? aStart[g-1] : 0, nCell;
    if( a==aStart[g] ) continue;
    daySortKeys(&s->aKey[a], aStart[g]-a);
    nCell = dayCells(s, &s->aKey[a], aStart[g]-a, s->aCell);
    rc = xGroup(pCtx, (iPart<<SEG_DAY_SHIFT) + g, s->aCell, nCell);
  }
  return rc;
}

int segDayEach(SegDaySet *p, SegDayGroupFn xGroup, void *pCtx){
  DayScratch s;
  i64 nMax = 0;
  int i, rc = SQLITE_OK;
  for(i=0; i<p->nPart; i++){
    if( p->aPart[i].nRec>nMax ) nMax = p->aPart[i].nRec;
  }
  if( nMax==0 ) return SQLITE_OK;
  if( nMax>=0x7fffffff ) return SQLITE_NOMEM;
  memset(&s, 0, sizeof(s));
  s.aRec = sqlite3_malloc64(sizeof(SegDayRec)*(u64)nMax);
  s.aKey = sqlite3_malloc64(sizeof(u64)*(u64)nMax);
  if( p->bAmount ) s.aAmt = sqlite3_malloc64(sizeof(double)*(u64)nMax);
  if( s.aRec==0 || s.aKey==0 || (p->bAmount && s.aAmt==0) ){
    rc = SQLITE_NOMEM;
  }
  for(i=0; i<p->nPart && rc==SQLITE_OK; i++){
    if( p->aPart[i].nRec ) rc = dayPart(p, i, &s, xGroup, pCtx);
  }
  sqlite3_free(s.aRec);
  sqlite3_free(s.aAmt);
  sqlite3_free(s.aKey);
  sqlite3_free(s.aCell);
  return rc;
}
