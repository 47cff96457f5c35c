/*
** discrete.c: the discrete-time and contractual models (DESIGN.md section
** 5b): BG/BB (Fader, Hardie & Shang 2010, "Customer-base analysis in a
** discrete-time noncontractual setting", Marketing Science 29(6)) and the
** shifted-beta-geometric sBG (Fader & Hardie 2007, "How to project
** customer retention", Journal of Interactive Marketing 21(1); its DERL
** from Fader & Hardie 2010, "Customer-base valuation in a contractual
** setting: the perils of ignoring heterogeneity", Marketing Science
** 29(1)).  The fits use clv.c's optimiser and JSON (segFitOptimize,
** segFitJson); the scalars read models through clv.c's cache
** (segModelOfArg), and clv.c's p_alive() and expected_purchases() hand a
** bgbb model to segBgbbPAliveFunc / segBgbbExpectedFunc.
**
**   SELECT bgbb_fit(frequency, recency, periods, weights) FROM donations;
**   SELECT sbg_fit(tenure, churned, weight) FROM subscribers;
**
** BG/BB: at each of n opportunities a customer, while alive, transacts
** with probability p ~ Beta(alpha, beta); after each opportunity he
** drops out with probability theta ~ Beta(gamma, delta).  Data per
** customer: x transactions, the last at opportunity t_x (0 when x = 0),
** out of n.  With B() the beta function and B1 = B(alpha, beta), B2 =
** B(gamma, delta):
**   L = B(alpha+x, beta+n-x)/B1 B(gamma, delta+n)/B2
**     + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B1
**                           B(gamma+1, delta+t_x+i)/B2
**   p_alive = B(alpha+x, beta+n-x)/B1 B(gamma, delta+n+1)/B2 / L
**       (alive at opportunity n+1)
**   expected_purchases(m, n*, x, t_x, n)
**     = B(alpha+x+1, beta+n-x)/B1 / L  sum_{k=1}^{n*} B(gamma, delta+n+k)/B2
**   expected_purchases(m, n*) = alpha/(alpha+beta)
**                               sum_{k=1}^{n*} B(gamma, delta+k)/B2
**   dert(m, d, x, t_x, n) = B(alpha+x+1, beta+n-x)/B1 / L
**       sum_{k>=1} B(gamma, delta+n+k)/B2 / (1+d)^k
**     = ... B(gamma, delta+n+1)/B2 / (1+d)
**           2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d))
**
** sBG: a subscriber renews at the end of each period with probability
** 1-theta, theta ~ Beta(alpha, beta).  S(t) = B(alpha, beta+t)/B(alpha,
** beta), P(T = t) = B(alpha+1, beta+t-1)/B(alpha, beta) (t >= 1).  A row
** (tenure t, churned 1) is a subscription that ended after t periods
** (P(T = t)), (t, 0) one still active after t (S(t)).
**   sbg_survival(m, t) = S(t)          t whole >= 0
**   sbg_retention(m, t) = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1), t >= 1
**   derl(m, d, t [, churned]) = sum_{k>=t+1} S(k)/S(t) / (1+d)^(k-t-1)
**     = (beta+t)/(alpha+beta+t) 2F1(1, beta+t+1; alpha+beta+t+1; 1/(1+d))
**     the discounted expected number of payments still to come of a
**     subscriber active after t periods, the next one (due now, at the
**     renewal decision) undiscounted: Fader & Hardie (2010)'s DERL(d |
**     alpha, beta, n-1 renewals) with n-1 = t; 0 when churned is 1.
**
** Requirements:
**   D1. bgbb_fit(x, t_x, n [, weight]) and sbg_fit(tenure, churned [,
**       weight]): rows with a NULL argument are skipped; no rows: NULL.
**       x, t_x, n, tenure whole numbers >= 0, x <= t_x <= n, t_x = 0
**       when x = 0 and t_x >= 1 when x > 0, n <= 1,000,000; churned 0 or
**       1, a churned tenure >= 1; weight > 0 (default 1).  Else an error
**       naming the argument.
**   D2. Identical rows are merged (weights summed) by one sort; each
**       -LL evaluation is one pass over the distinct rows (BG/BB: plus
**       n - t_x terms each) in log space.  The optimiser is clv.c's
**       (F3-F5 there): from alpha = beta (= gamma = delta) = 1; JSON as
**       the other models, n the sum of the weights, no unit.
**   D3. Scalars: a NULL argument gives NULL; the model of the right kind
**       (P1 of clv.c); x, t_x, n as in D1, n_star and t whole numbers >=
**       0 (t >= 1 for sbg_retention), discount >= 0.001 (the 2F1's
**       continued fraction needs 1 - 1/(1+d) >= 1e-4), churned 0 or 1.
**   D4. The sums over k: up to 1,000 terms summed, beyond in closed
**       form: sum_{k=1}^{N} B(gamma, delta+u+k)/B2 telescopes
**       (discLogBetaSum), evaluated without the division by gamma-1 that
**       makes it 0/0 at gamma = 1, continuous there; alpha = beta and the
**       other boundaries are no special case.  Huge n_star costs no more
**       than 1,000.
**   D5. Fits and scalars honour interrupts (segCheck) in their loops.
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>

#define DISC_BGBB 0
#define DISC_SBG  1
#define DISC_MAX_N 1000000.0

static const char *const azDiscBgbbParam[] = { "alpha", "beta", "gamma",
                                               "delta" };
static const char *const azDiscSbgParam[] = { "alpha", "beta" };

/**************************************************************************
** Numerics
*/

/* log1p(x)/x and expm1(x)/x, 1 at x = 0 */
static double discLog1pOver(double x){
  return x==0.0 ? 1.0 : log1p(x)/x;
}
static double discExpm1Over(double x){
  return x==0.0 ? 1.0 : expm1(x)/x;
}

/* Q(u, e) = (log Gamma(u+e) - log Gamma(u)) / e for u > 0, e > -1
** (digamma(u) at e = 0), accurate relative to e: the recurrence
** Gamma(u+1) = u Gamma(u) up to u >= 10, then Stirling's series, whose
** differences are written as functions of e/u. */
static double discLgammaQ(double u, double e){
  static const double c[5] = { 1.0/12, -1.0/360, 1.0/1260, -1.0/1680,
                               1.0/1188 };
  double q = 0.0, lr, v, w, up;
  int k;
  while( u<10.0 || u+e<10.0 ){
    /* Q(u) = Q(u+1) - log1p(e/u)/e */
    q -= discLog1pOver(e/u)/u;
    u += 1.0;
  }
  v = u+e;
  lr = log1p(e/u);                  /* log(v/u) */
  /* ((u-1/2) log(v/u) + e log v - e) / e */
  q += (u-0.5)*discLog1pOver(e/u)/u + log(v) - 1.0;
  w = discLog1pOver(e/u)/u;         /* lr / e */
  up = 1.0/u;                       /* u^(1-2k) */
  for(k=1; k<=5; k++){
    /* c_k (v^(1-2k) - u^(1-2k)) / e */
    double y = (1.0-2.0*k)*lr;
    q += c[k-1]*up*discExpm1Over(y)*(1.0-2.0*k)*w;
    up /= u*u;
  }
  return q;
}

/* log(B(a+i, b+j)/B(a, b)) for a, b > 0, i, j >= 0, as
**   i Q(a, i) - (a+i) Q(b+j, a+i) + a Q(b, a)
** (the log-gammas grouped in pairs whose difference is small when j is
** large): no cancellation of log-gammas of the order of n log n, so that
** the probabilities of a long history keep their relative precision. */
static double discLogBetaRatio(double a, double b, double i, double j){
  double r = (a+i)*discLgammaQ(b+j, a+i) - a*discLgammaQ(b, a);
  return (i==0.0 ? 0.0 : i*discLgammaQ(a, i)) - r;
}

/* log of sum_{k=1}^{N} B(g, d+u+k)/B(g, d), N >= 1, u >= 0 (D4).  The
** terms are G Gamma(w_k)/Gamma(w_k+g), w_k = d+u+k, G = Gamma(g+d)/Gamma(d).
** Up to 1,000 terms they are summed, from the first as exp(log G - g
** Q(w_1, g)) (no cancellation of large log-gammas when w_1 is large),
** each the last times w_k/(w_k+g).  Beyond, with e = g-1 and h(w) =
** Gamma(w)/Gamma(w+e) = exp(-e Q(w, e)), Gamma(w)/Gamma(w+g) = (h(w) -
** h(w+1))/e, so that the sum telescopes to G (h(w_1) - h(w_(N+1)))/e
**   = G exp(-e Q1) (Q2-Q1) (1 - exp(-e (Q2-Q1)))/(e (Q2-Q1)),
** which has no division by e: at e = 0 the last factor is 1 and Q is the
** digamma function. */
#define DISC_DIRECT_TERMS 1000.0
static double discLogBetaSum(double g, double d, double u, double N){
  double e = g-1.0, w1 = d+u+1.0, w2 = d+u+N+1.0, q1, q2, dq;
  double lG;
  if( N<=DISC_DIRECT_TERMS ){
    double s = 0.0, t = 1.0, k;
    for(k=0.0; k<N; k+=1.0){
      s += t;
      t *= (w1+k)/(w1+k+g);
    }
    return discLogBetaRatio(g, d, 0.0, u+1.0) + log(s);
  }
  lG = segLgamma(g+d) - segLgamma(d);
  q1 = discLgammaQ(w1, e);
  q2 = discLgammaQ(w2, e);
  dq = q2-q1;
  return lG - e*q1 + log(dq) + log(discExpm1Over(-e*dq));
}

/**************************************************************************
** BG/BB
*/

/* log L of one customer (x, t_x, n) under a = (alpha, beta, gamma,
** delta); NaN if interrupted. */
static double discBgbbLogL(const double *a, double x, double tx, double n,
                           SegCheck *pCheck){
  double al = a[0], be = a[1], ga = a[2], de = a[3];
  double l1 = discLogBetaRatio(al, be, x, n-x)
            + discLogBetaRatio(ga, de, 0.0, n);
  double m = n - tx, i, s = 1.0, t = 1.0, l0;
  if( m<=0.0 ) return l1;
  /* the terms i = 0..m-1, relative to the first; each term ratio < 1 */
  l0 = discLogBetaRatio(al, be, x, tx-x) + discLogBetaRatio(ga, de, 1.0, tx);
  for(i=0.0; i+1.0<m; i+=1.0){
    t *= (be+tx-x+i)/(al+be+tx+i) * (de+tx+i)/(ga+1.0+de+tx+i);
    s += t;
    if( t*(m-i-1.0)<=1e-17*s ) break;   /* the rest cannot count */
    if( ((i64)i & 4095)==4095 && segCheck(pCheck, 4096*10) ) return NAN;
  }
  l0 += log(s);
  return l1>l0 ? l1 + log1p(exp(l0-l1)) : l0 + log1p(exp(l1-l0));
}

/* P(alive at opportunity n+1 | x, t_x, n) */
static double discBgbbPAlive(const double *a, double x, double tx, double n,
                             SegCheck *pCheck){
  double ll = discBgbbLogL(a, x, tx, n, pCheck);
  return exp(discLogBetaRatio(a[0], a[1], x, n-x)
             + discLogBetaRatio(a[2], a[3], 0.0, n+1.0) - ll);
}

/* The factor of E[...] and DERT common to every future opportunity:
** log(B(alpha+x+1, beta+n-x)/B1 / L) */
static double discBgbbLogNum(const double *a, double x, double tx, double n,
                             SegCheck *pCheck){
  return discLogBetaRatio(a[0], a[1], x+1.0, n-x)
       - discBgbbLogL(a, x, tx, n, pCheck);
}

/**************************************************************************
** The fits
*/
typedef struct DiscRow DiscRow;
struct DiscRow {
  double a[3];                    /* BG/BB x, t_x, n; sBG tenure, churned */
  double w;
};

typedef struct DiscAgg DiscAgg;
struct DiscAgg {
  DiscRow *aRow;
  i64 n, nAlloc;
  int bError;
};

typedef struct DiscData DiscData;
struct DiscData {
  const DiscRow *aRow;
  int n;
  SegCheck *pCheck;
};

static int discRowCmp(const void *pA, const void *pB){
  const DiscRow *a = (const DiscRow*)pA, *b = (const DiscRow*)pB;
  int i;
  for(i=0; i<3; i++){
    if( a->a[i]<b->a[i] ) return -1;
    if( a->a[i]>b->a[i] ) return 1;
  }
  return 0;
}

static double discBgbbNll(void *pArg, const double *aTheta){
  const DiscData *d = (const DiscData*)pArg;
  double a[4], ll = 0.0;
  int i;
  for(i=0; i<4; i++) a[i] = exp(aTheta[i]);
  for(i=0; i<d->n; i++){
    const DiscRow *p = &d->aRow[i];
    ll += p->w*discBgbbLogL(a, p->a[0], p->a[1], p->a[2], d->pCheck);
    if( (i&255)==255 && segCheck(d->pCheck, 256*200) ) return INFINITY;
  }
  return isfinite(ll) ? -ll : INFINITY;
}

static double discSbgNll(void *pArg, const double *aTheta){
  const DiscData *d = (const DiscData*)pArg;
  double al = exp(aTheta[0]), be = exp(aTheta[1]), ll = 0.0;
  int i;
  for(i=0; i<d->n; i++){
    const DiscRow *p = &d->aRow[i];
    double t = p->a[0];
    if( p->a[1]!=0.0 ){
      ll += p->w*discLogBetaRatio(al, be, 1.0, t-1.0);
    }else{
      ll += p->w*discLogBetaRatio(al, be, 0.0, t);
    }
    if( (i&255)==255 && segCheck(d->pCheck, 256*100) ) return INFINITY;
  }
  return isfinite(ll) ? -ll : INFINITY;
}

static void discError(sqlite3_context *ctx, DiscAgg *p, const char *zFmt,
                      int iArg, const char *zFunc){
  char *z = sqlite3_mprintf(zFmt, segOrdinal(iArg), zFunc);
  if( p ) p->bError = 1;
  if( z ) sqlite3_result_error(ctx, z, -1);
  else sqlite3_result_error_nomem(ctx);
  sqlite3_free(z);
}

static int discWhole(double v){
  return v>=0.0 && v==floor(v);
}

/* Check BG/BB's x, t_x, n (a[0..2]), arguments iArg.. of zFunc: 1 OK. */
static int discBgbbCheck(sqlite3_context *ctx, DiscAgg *p, const double *a,
                         int iArg, const char *zFunc){
  const char *zFmt = 0;
  int i = iArg;
  if( !discWhole(a[0]) ){
    zFmt = "%s argument to %s() (x) is not a whole number >= 0";
  }else if( !discWhole(a[1]) ){
    zFmt = "%s argument to %s() (t_x) is not a whole number >= 0"; i++;
  }else if( !discWhole(a[2]) ){
    zFmt = "%s argument to %s() (n) is not a whole number >= 0"; i += 2;
  }else if( a[1]<a[0] ){
    zFmt = "%s argument to %s() (t_x) is less than x"; i++;
  }else if( a[0]==0.0 && a[1]!=0.0 ){
    zFmt = "%s argument to %s() (t_x) is not 0 when x is 0"; i++;
  }else if( a[2]<a[1] ){
    zFmt = "%s argument to %s() (n) is less than t_x"; i += 2;
  }else if( a[2]>DISC_MAX_N ){
    zFmt = "%s argument to %s() (n) is greater than 1000000"; i += 2;
  }
  if( zFmt ){ discError(ctx, p, zFmt, i, zFunc); return 0; }
  return 1;
}

static void discFitStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int eModel = (int)(intptr_t)sqlite3_user_data(ctx);
  const char *zFunc = eModel==DISC_BGBB ? "bgbb_fit" : "sbg_fit";
  int nData = eModel==DISC_BGBB ? 3 : 2;
  DiscAgg *p = (DiscAgg*)sqlite3_aggregate_context(ctx, sizeof(DiscAgg));
  DiscRow row;
  int i;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( p->bError ) return;
  for(i=0; i<argc; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  memset(&row, 0, sizeof(row));
  row.w = 1.0;
  for(i=0; i<argc; i++){
    int e = sqlite3_value_numeric_type(argv[i]);
    double v = sqlite3_value_double(argv[i]);
    if( (e!=SQLITE_INTEGER && e!=SQLITE_FLOAT) || !isfinite(v) ){
      discError(ctx, p, "%s argument to %s() is not a number", i+1, zFunc);
      return;
    }
    if( i<nData ) row.a[i] = v + 0.0; else row.w = v;
  }
  if( !(row.w>0.0) ){
    discError(ctx, p, "%s argument to %s() (weight) is not greater than 0",
              argc, zFunc);
    return;
  }
  if( eModel==DISC_BGBB ){
    if( !discBgbbCheck(ctx, p, row.a, 1, zFunc) ) return;
  }else if( !discWhole(row.a[0]) ){
    discError(ctx, p, "%s argument to %s() (tenure) is not a whole number "
              ">= 0", 1, zFunc);
    return;
  }else if( row.a[1]!=0.0 && row.a[1]!=1.0 ){
    discError(ctx, p, "%s argument to %s() (churned) is not 0 or 1", 2,
              zFunc);
    return;
  }else if( row.a[1]==1.0 && row.a[0]==0.0 ){
    discError(ctx, p, "%s argument to %s() (tenure) is 0 with churned 1",
              1, zFunc);
    return;
  }
  if( segArrayGrow((void**)&p->aRow, &p->nAlloc, p->n, sizeof(DiscRow), 64,
                   0x3fffffff) ){
    p->bError = 1;
    sqlite3_result_error_nomem(ctx);
    return;
  }
  p->aRow[p->n++] = row;
}

static void discFitFinal(sqlite3_context *ctx){
  int eModel = (int)(intptr_t)sqlite3_user_data(ctx);
  DiscAgg *p = (DiscAgg*)sqlite3_aggregate_context(ctx, 0);
  DiscData d;
  SegFit fit;
  SegCheck chk;
  sqlite3_str *pStr;
  double nTotal = 0.0;
  char *z;
  i64 i, k;
  if( p==0 ) return;
  if( p->bError || p->n==0 ){ sqlite3_free(p->aRow); return; }
  /* D2: merge identical rows */
  qsort(p->aRow, (size_t)p->n, sizeof(DiscRow), discRowCmp);
  for(i=1, k=0; i<p->n; i++){
    if( discRowCmp(&p->aRow[i], &p->aRow[k])==0 ){
      p->aRow[k].w += p->aRow[i].w;
    }else{
      p->aRow[++k] = p->aRow[i];
    }
  }
  for(i=0; i<=k; i++) nTotal += p->aRow[i].w;
  d.aRow = p->aRow;
  d.n = (int)(k+1);
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  d.pCheck = &chk;
  memset(&fit, 0, sizeof(fit));
  fit.nParam = eModel==DISC_BGBB ? 4 : 2;
  segFitOptimize(&fit, eModel==DISC_BGBB ? discBgbbNll : discSbgNll, &d,
                 &chk);
  segCheckFree(&chk);
  sqlite3_free(p->aRow);
  if( chk.rc ){
    if( chk.rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_error_code(ctx, chk.rc);
    return;
  }
  pStr = sqlite3_str_new(0);
  segFitJson(pStr, eModel==DISC_BGBB ? "bgbb" : "sbg", 0,
             eModel==DISC_BGBB ? azDiscBgbbParam : azDiscSbgParam, &fit,
             nTotal);
  sqlite3_str_appendall(pStr, "}");
  z = sqlite3_str_finish(pStr);
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/**************************************************************************
** Scalars
*/

/* Reads the BG/BB history x, t_x, n at argv[i0..i0+2] into a: 1 OK, 0
** NULL or an error set. */
static int discBgbbHistory(sqlite3_context *ctx, sqlite3_value **argv,
                           int i0, const char *zFunc, double *a){
  if( segModelNumArgs(ctx, argv, i0, 3, zFunc, a)<=0 ) return 0;
  return discBgbbCheck(ctx, 0, a, i0+1, zFunc);
}

/* A result that may have needed an interrupted loop */
static void discResult(sqlite3_context *ctx, SegCheck *pCheck,
                       const char *zFunc, double r){
  int rc = pCheck->rc;
  segCheckFree(pCheck);
  if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
  else if( rc ) sqlite3_result_error_code(ctx, rc);
  else segModelResult(ctx, zFunc, r);
}

void segBgbbPAliveFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                       const SegModel *m){
  double a[3];
  SegCheck chk;
  (void)argc;
  if( !discBgbbHistory(ctx, argv, 1, "p_alive", a) ) return;
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  discResult(ctx, &chk, "p_alive", discBgbbPAlive(m->a, a[0], a[1], a[2],
                                                  &chk));
}

void segBgbbExpectedFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv, const SegModel *m){
  double a[4], r;
  SegCheck chk;
  if( segModelNumArgs(ctx, argv, 1, argc-1, "expected_purchases", a)<=0 ){
    return;
  }
  if( !discWhole(a[0]) ){
    sqlite3_result_error(ctx, "2nd argument to expected_purchases() "
                         "(n_star) is not a whole number >= 0", -1);
    return;
  }
  if( argc==5 && !discBgbbCheck(ctx, 0, &a[1], 3, "expected_purchases") ){
    return;
  }
  if( a[0]==0.0 ){ sqlite3_result_double(ctx, 0.0); return; }
  if( argc==2 ){
    r = m->a[0]/(m->a[0]+m->a[1])
      * exp(discLogBetaSum(m->a[2], m->a[3], 0.0, a[0]));
    segModelResult(ctx, "expected_purchases", r);
    return;
  }
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  r = exp(discBgbbLogNum(m->a, a[1], a[2], a[3], &chk)
          + discLogBetaSum(m->a[2], m->a[3], a[3], a[0]));
  discResult(ctx, &chk, "expected_purchases", r);
}

/* The discount argument (D3): 1 OK. */
static int discDiscount(sqlite3_context *ctx, const char *zFunc, double d){
  if( d>=1e-3 ) return 1;
  discError(ctx, 0, "%s argument to %s() (discount) is less than 0.001",
            2, zFunc);
  return 0;
}

static void discDertFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv){
  const SegModel *m;
  double a[4], n, lr;
  int bNull;
  SegCheck chk;
  (void)argc;
  m = segModelOfArg(ctx, argv, 0, "dert", 1<<SEG_MODEL_BGBB, &bNull);
  if( m==0 ) return;
  if( segModelNumArgs(ctx, argv, 1, 4, "dert", a)<=0 ) return;
  if( !discDiscount(ctx, "dert", a[0]) ) return;
  if( !discBgbbCheck(ctx, 0, &a[1], 3, "dert") ) return;
  n = a[3];
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  lr = discBgbbLogNum(m->a, a[1], a[2], n, &chk)
     + discLogBetaRatio(m->a[2], m->a[3], 0.0, n+1.0) - log1p(a[0]);
  discResult(ctx, &chk, "dert", exp(lr)*segHyp2f1One(m->a[3]+n+1.0,
                              m->a[2]+m->a[3]+n+1.0, 1.0/(1.0+a[0])));
}

/* t (argv[iArg]) a whole number >= tMin: 1 OK */
static int discPeriod(sqlite3_context *ctx, double t, double tMin,
                      int iArg, const char *zFunc, const char *zName){
  char *z;
  if( discWhole(t) && t>=tMin ) return 1;
  z = sqlite3_mprintf("%s argument to %s() (%s) is not a whole number >= "
                      "%d", segOrdinal(iArg), zFunc, zName, (int)tMin);
  if( z ) sqlite3_result_error(ctx, z, -1);
  else sqlite3_result_error_nomem(ctx);
  sqlite3_free(z);
  return 0;
}

static void discSbgFunc(sqlite3_context *ctx, int argc,
                        sqlite3_value **argv){
  int bRet = sqlite3_user_data(ctx)!=0;
  const char *zFunc = bRet ? "sbg_retention" : "sbg_survival";
  const SegModel *m;
  double t, al, be;
  int bNull;
  (void)argc;
  m = segModelOfArg(ctx, argv, 0, zFunc, 1<<SEG_MODEL_SBG, &bNull);
  if( m==0 ) return;
  if( segModelNumArgs(ctx, argv, 1, 1, zFunc, &t)<=0 ) return;
  if( !discPeriod(ctx, t, bRet ? 1.0 : 0.0, 2, zFunc, "t") ) return;
  al = m->a[0];
  be = m->a[1];
  if( bRet ){
    segModelResult(ctx, zFunc, (be+t-1.0)/(al+be+t-1.0));
  }else{
    segModelResult(ctx, zFunc, exp(discLogBetaRatio(al, be, 0.0, t)));
  }
}

static void discDerlFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv){
  const SegModel *m;
  double a[3] = { 0, 0, 0 }, al, be, t;
  int bNull;
  m = segModelOfArg(ctx, argv, 0, "derl", 1<<SEG_MODEL_SBG, &bNull);
  if( m==0 ) return;
  if( segModelNumArgs(ctx, argv, 1, argc-1, "derl", a)<=0 ) return;
  if( !discDiscount(ctx, "derl", a[0]) ) return;
  if( !discPeriod(ctx, a[1], 0.0, 3, "derl", "tenure") ) return;
  if( a[2]!=0.0 && a[2]!=1.0 ){
    sqlite3_result_error(ctx, "4th argument to derl() (churned) is not 0 "
                         "or 1", -1);
    return;
  }
  if( a[2]==1.0 ){ sqlite3_result_double(ctx, 0.0); return; }
  al = m->a[0];
  be = m->a[1];
  t = a[1];
  segModelResult(ctx, "derl", (be+t)/(al+be+t)
                 * segHyp2f1One(be+t+1.0, al+be+t+1.0, 1.0/(1.0+a[0])));
}

int segmentRegisterDiscrete(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "bgbb_fit",      3, SEG_AGG_FLAGS, DISC_BGBB, 0, discFitStep, discFitFinal },
    { "bgbb_fit",      4, SEG_AGG_FLAGS, DISC_BGBB, 0, discFitStep, discFitFinal },
    { "sbg_fit",       2, SEG_AGG_FLAGS, DISC_SBG,  0, discFitStep, discFitFinal },
    { "sbg_fit",       3, SEG_AGG_FLAGS, DISC_SBG,  0, discFitStep, discFitFinal },
    { "dert",          5, SEG_SCALAR_FLAGS, 0, discDertFunc, 0, 0 },
    { "sbg_survival",  2, SEG_SCALAR_FLAGS, 0, discSbgFunc, 0, 0 },
    { "sbg_retention", 2, SEG_SCALAR_FLAGS, 1, discSbgFunc, 0, 0 },
    { "derl",          3, SEG_SCALAR_FLAGS, 0, discDerlFunc, 0, 0 },
    { "derl",          4, SEG_SCALAR_FLAGS, 0, discDerlFunc, 0, 0 },
  };
  return segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
}
