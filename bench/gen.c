/*
** gen.c: a deterministic generator of realistic order data for the
** benchmark (bench/run.py, `make bench`).
**
**   gen DBFILE NORDERS NCUSTOMERS [SEED]
**
** writes a fresh SQLite database DBFILE with one table
**
**   orders(order_id INTEGER PRIMARY KEY, customer_id INTEGER,
**          ordered_at TEXT, amount REAL)
**
** and no other index.  Requirements:
**   1. Deterministic: the same arguments give the same rows, byte for byte
**      (own PRNG: splitmix64; no libc rand()).
**   2. Exactly NORDERS rows and exactly NCUSTOMERS customers, each with at
**      least one order row.
**   3. Skewed purchase counts: 60% of customers buy once; the others buy
**      2 + floor(s * X) times, X Pareto (alpha 1.3), capped at 2000, with
**      the scale s chosen so that the total is NORDERS (the last few orders
**      are added to or taken from the biggest buyers, one at a time).  At
**      10 orders per customer a few hundred customers buy hundreds of
**      times.
**   4. Dates over three years, 2022-01-01 to 2024-12-31, as ISO text
**      'YYYY-MM-DD HH:MM:SS': a customer's first purchase is uniform over
**      the span.  Customers churn: a repeat buyer stays for an exponential
**      time (mean 540 days, at least one day) and its later purchases are
**      uniform between the first and the end of its stay or of the span,
**      whichever comes first.  (Without churn the purchase models of the
**      CLV job have no dropout to estimate and stop at their boundary.)
**   5. Amounts log-normal (median 45, sigma 0.9) in cents; about 2% of
**      rows are refunds (a negative amount, a share of a typical order),
**      and 1 row in 1000 has a NULL amount.
**   6. Rows are stored in date order (order_id follows ordered_at);
**      customer ids are a shuffled range starting at 1000001.
**   7. PRAGMA user_version is the generator's version (2: with churn), so
**      that bench/run.py makes a file of an older version again.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdint.h>

typedef struct GenRow GenRow;
struct GenRow {
  int64_t iSec;        /* seconds since 2022-01-01 00:00:00 */
  int iCust;           /* customer id */
  int iCents;          /* amount in cents; INT32_MIN = NULL */
};

static uint64_t genState;
static uint64_t genNext(void){
  uint64_t z = (genState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* Uniform in [0, 1). */
static double genUnit(void){
  return (double)(genNext() >> 11) * (1.0/9007199254740992.0);
}
/* Uniform integer in [0, n). */
static int64_t genBelow(int64_t n){
  return (int64_t)(genUnit() * (double)n);
}
/* Standard normal (Box-Muller, one of the pair). */
static double genNormal(void){
  double u1 = genUnit(), u2 = genUnit();
  if( u1<1e-300 ) u1 = 1e-300;
  return sqrt(-2.0*log(u1)) * cos(6.283185307179586*u2);
}

static int genCmp(const void *a, const void *b){
  const GenRow *x = (const GenRow*)a, *y = (const GenRow*)b;
  if( x->iSec!=y->iSec ) return x->iSec<y->iSec ? -1 : 1;
  if( x->iCust!=y->iCust ) return x->iCust<y->iCust ? -1 : 1;
  return 0;
}
#define GEN_MAX_ORDERS 2000
/* Total orders for scale rScale; fills aCount when not NULL. */
static int64_t genTotal(const double *aExtra, int nCust, double rScale,
                        int *aCount){
  int64_t nSum = 0;
  int c;
  for(c=0; c<nCust; c++){
    int n = 1;
    if( aExtra[c]>=0.0 ){
      double x = 2.0 + floor(rScale*aExtra[c]);
      n = x>GEN_MAX_ORDERS ? GEN_MAX_ORDERS : (int)x;
    }
    if( aCount ) aCount[c] = n;
    nSum += n;
  }
  return nSum;
}

static int genCmpKeyDesc(const void *a, const void *b){
  const int64_t *x = (const int64_t*)a, *y = (const int64_t*)b;
  return *x<*y ? 1 : (*x>*y ? -1 : 0);
}

/* 'YYYY-MM-DD HH:MM:SS' from seconds since 2022-01-01 00:00:00. */
static void genFormat(int64_t iSec, char *z){  /* z: 40 bytes */
  static const int aDays[] = {31,28,31,30,31,30,31,31,30,31,30,31};
  int iDay = (int)(iSec / 86400), s = (int)(iSec % 86400);
  int y = 2022, m = 0;
  for(;;){
    int nYear = (y%4==0 && (y%100!=0 || y%400==0)) ? 366 : 365;
    if( iDay<nYear ) break;
    iDay -= nYear; y++;
  }
  for(;;){
    int n = aDays[m] + (m==1 && (y%4==0 && (y%100!=0 || y%400==0)));
    if( iDay<n ) break;
    iDay -= n; m++;
  }
  snprintf(z, 40, "%04d-%02d-%02d %02d:%02d:%02d", y, m+1, iDay+1,
           s/3600, (s/60)%60, s%60);
}

int main(int argc, char **argv){
  const int64_t nSpan = 1096LL*86400;       /* 2022-01-01 .. 2024-12-31 */
  sqlite3 *db = 0;
  sqlite3_stmt *pIns = 0;
  int64_t nOrder, i, nSum;
  int nCust, c, *aCount, *aId, *aSorted;
  double *aExtra;
  GenRow *aRow;
  int rc;
  if( argc<4 || argc>5 ){
    fprintf(stderr, "usage: %s DBFILE NORDERS NCUSTOMERS [SEED]\n", argv[0]);
    return 2;
  }
  nOrder = atoll(argv[2]);
  nCust = atoi(argv[3]);
  genState = argc==5 ? strtoull(argv[4], 0, 10) : 20240101ULL;
  if( nCust<1 || nOrder<nCust ){
    fprintf(stderr, "gen: need NORDERS >= NCUSTOMERS >= 1\n");
    return 2;
  }

  /* Requirement 3: purchase counts.  aExtra[c]: a continuous Pareto draw
  ** (-1 for one-time buyers); a repeat buyer buys 2 + floor(s * aExtra[c])
  ** times, capped, with s found by bisection so that the total is as near
  ** NORDERS as it gets; the rest is fixed one order at a time. */
  aCount = malloc(sizeof(int)*(size_t)nCust);
  aId = malloc(sizeof(int)*(size_t)nCust);
  aSorted = malloc(sizeof(int)*(size_t)nCust);
  aExtra = malloc(sizeof(double)*(size_t)nCust);
  aRow = malloc(sizeof(GenRow)*(size_t)nOrder);
  if( !aCount || !aId || !aSorted || !aExtra || !aRow ){
    fprintf(stderr, "gen: out of memory\n");
    return 1;
  }
  for(c=0; c<nCust; c++){
    aExtra[c] = -1.0;
    if( genUnit()>=0.6 ){
      aExtra[c] = pow(1.0 - genUnit(), -1.0/1.3) - 1.0;     /* Pareto */
    }
  }
  {
    double lo = 0.0, hi = 1e6, rScale = 0.0;
    int iIter;
    for(iIter=0; iIter<200; iIter++){
      rScale = 0.5*(lo+hi);
      if( genTotal(aExtra, nCust, rScale, 0)<nOrder ) lo = rScale;
      else hi = rScale;
    }
    nSum = genTotal(aExtra, nCust, lo, aCount);
    /* aSorted: customer indexes, biggest buyers first (ties: lower
    ** index first). */
    {
      int64_t *aKey = malloc(sizeof(int64_t)*(size_t)nCust);
      if( aKey==0 ){ fprintf(stderr, "gen: out of memory\n"); return 1; }
      for(c=0; c<nCust; c++){
        aKey[c] = ((int64_t)aCount[c]<<32) | (int64_t)(nCust-1-c);
      }
      qsort(aKey, (size_t)nCust, sizeof(int64_t), genCmpKeyDesc);
      for(c=0; c<nCust; c++){
        aSorted[c] = nCust-1-(int)(aKey[c] & 0xffffffff);
      }
      free(aKey);
    }
    for(c=0; nSum!=nOrder; c = (c+1) % nCust){
      int iC = aSorted[c];
      if( nSum<nOrder ){ aCount[iC]++; nSum++; }
      else if( aCount[iC]>1 ){ aCount[iC]--; nSum--; }
    }
  }

  /* Requirement 6: shuffled customer ids. */
  for(c=0; c<nCust; c++) aId[c] = 1000001 + c;
  for(c=nCust-1; c>0; c--){
    int j = (int)genBelow(c+1), t = aId[c];
    aId[c] = aId[j]; aId[j] = t;
  }

  /* Requirements 4 and 5: dates and amounts. */
  i = 0;
  for(c=0; c<nCust; c++){
    int64_t iFirst = genBelow(nSpan), iEnd = nSpan;
    int k;
    if( aCount[c]>1 ){
      double rStay = -log(1.0 - genUnit())*540.0*86400.0;
      if( rStay<86400.0 ) rStay = 86400.0;
      if( (double)iFirst + rStay < (double)nSpan ){
        iEnd = iFirst + (int64_t)rStay;
      }
    }
    for(k=0; k<aCount[c]; k++){
      GenRow *p = &aRow[i++];
      double u;
      p->iSec = k==0 ? iFirst : iFirst + genBelow(iEnd - iFirst);
      p->iCust = aId[c];
      u = genUnit();
      if( u<0.001 ){
        p->iCents = INT32_MIN;
      }else{
        double a = exp(log(45.0) + 0.9*genNormal());
        if( a<0.5 ) a = 0.5;
        if( a>20000.0 ) a = 20000.0;
        p->iCents = (int)floor(a*100.0 + 0.5);
        if( u<0.021 && k>0 ) p->iCents = -(int)floor(a*50.0 + 0.5) - 1;
      }
    }
  }
  qsort(aRow, (size_t)nOrder, sizeof(GenRow), genCmp);

  remove(argv[1]);
  rc = sqlite3_open(argv[1], &db);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db,
      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
      "PRAGMA user_version=2;"      /* the generator's version: run.py */
      "CREATE TABLE orders(order_id INTEGER PRIMARY KEY, customer_id INTEGER,"
      " ordered_at TEXT, amount REAL);"
      "BEGIN;", 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "INSERT INTO orders VALUES(?1,?2,?3,?4)",
                            -1, &pIns, 0);
  }
  for(i=0; rc==SQLITE_OK && i<nOrder; i++){
    char zDate[40];
    genFormat(aRow[i].iSec, zDate);
    sqlite3_bind_int64(pIns, 1, i+1);
    sqlite3_bind_int(pIns, 2, aRow[i].iCust);
    sqlite3_bind_text(pIns, 3, zDate, 19, SQLITE_TRANSIENT);
    if( aRow[i].iCents==INT32_MIN ){
      sqlite3_bind_null(pIns, 4);
    }else{
      sqlite3_bind_double(pIns, 4, aRow[i].iCents / 100.0);
    }
    rc = sqlite3_step(pIns);
    if( rc==SQLITE_DONE ) rc = sqlite3_reset(pIns);
  }
  sqlite3_finalize(pIns);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "gen: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return 1;
  }
  sqlite3_close(db);
  free(aCount); free(aExtra); free(aId); free(aSorted); free(aRow);
  return 0;
}
