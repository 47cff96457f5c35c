/*
** clv.c: prediction (DESIGN.md section 5): the clv_summary and clv
** table-valued functions, the BG/NBD, Pareto/NBD and Gamma-Gamma fits, and
** the scalars that apply a fitted model.
**
**   SELECT * FROM clv_summary('orders', 'as_of=1997-09-30' [, 'unit=week']);
**   SELECT bgnbd_fit(x, t_x, T, unit) FROM clv_summary('orders');
**   SELECT customer, p_alive(:m, x, t_x, T) FROM clv_summary('orders');
**   SELECT * FROM clv('orders', 'horizon=12');
**
** clv_summary: one row per customer with an order (ORDER BY customer):
**   customer, x, t_x, T, monetary, unit
** Options: the source reader's and unit=day|week|month (default week;
** a month is 365.25/12 days; weeks are days / 7, not calendar weeks).
**
** Requirements (summary):
**   S1. Orders (amount >= 0 or NULL) on the same UTC day are one purchase
**       day; the day's total is the sum of its known amounts.
**   S2. x = purchase days - 1; t_x = last - first purchase day;
**       T = as_of - first purchase day (in unit).
**   S3. monetary = mean of the day totals of the purchase days after the
**       first (lifetimes' summary_data_from_transaction_data(freq='D')),
**       0.0 when x = 0.  Days whose orders all have a NULL amount are left
**       out of the mean; when every repeat day is such a day, monetary is
**       NULL.
**   S4. Refunds (amount < 0) are not orders: they never make a purchase
**       day or move t_x and T.  A refund dated after the first purchase
**       day lowers the repeat spend (the numerator of monetary); one dated
**       on or before it nets against the first day, which monetary
**       excludes.  A customer with refunds but no order is not output.
**   S5. The order= option has no effect: days, not orders, are counted.
**   S6. unit is the unit= option's name ('day', 'week', 'month') on every
**       row, for the fits' 4th argument.
**
** Fits (aggregates), returning a JSON model:
**   bgnbd_fit(x, t_x, T [, unit])       BG/NBD (Fader, Hardie & Lee 2005)
**   pareto_nbd_fit(x, t_x, T [, unit])  Pareto/NBD (Schmittlein et al.
**                                       1987, Fader & Hardie's 2005 note)
**   gamma_gamma_fit(x, m)               Gamma-Gamma (Fader & Hardie note
**                                       025), on rows with x > 0 and m > 0
**   mbgnbd_fit(x, t_x, T [, unit])      MBG/NBD (Batislam, Denizel &
**                                       Filiztekin 2007): the BG/NBD with a
**                                       dropout right after purchase 0 too
**   {"model":"bgnbd","unit":"week","params":{"r":..,"alpha":..,"a":..,
**    "b":..},"log_likelihood":..,"std_errors":{..},"iterations":..,
**    "converged":true,"n":2357,"k":4,"aic":..,"bic":..}
**   (k parameters; aic = 2k - 2 LL, bic = k ln(n) - 2 LL, n as "n")
**
** Requirements (fits):
**   F1. Rows with any NULL argument are skipped.  x must be a whole
**       number >= 0, t_x >= 0, T >= t_x (m > 0 for Gamma-Gamma; rows with
**       x = 0 or m <= 0 are skipped there); else an error naming the
**       argument.  No rows: NULL.
**   F2. Log-likelihoods in log space throughout.  Pareto/NBD uses the
**       Fader-Hardie form (case split on alpha >= beta, so 0 <= z < 1)
**       with 2F1(a,b;a+1;z) rewritten by Euler's transformation as
**       2F1(1,b';c;z), evaluated by its series for z <= 0.5 and by Gauss's
**       continued fraction beyond; where alpha and beta are far apart
**       (|alpha-beta| >= 4 max(r+x or s+1, 1) (min(alpha,beta)+T): the
**       way to the no-churn boundary) its integral from t_x to T by a
**       binomial series instead (clvParetoLogJ).  Points where the
**       continued fraction would be needed with 1-z < 1e-4 are
**       infeasible.  Identical rows are weighted; per-evaluation work is
**       done once per distinct time, (x, time) pair and x.
**   F3. Optimisation over log-parameters: Nelder-Mead from a fixed start,
**       then Newton steps with a finite-difference Hessian; when these do
**       not converge (F4), Nelder-Mead restarted from the best point
**       until a restart gains no more than its own tolerance, 1e-7
**       (|LL|+1) (at most 20 runs), then Newton again.  Deterministic.
**       Above 40,000 customers this runs on a systematic subsample of
**       20,000 (itself fitted from one of 2,000 of it), then
**       quasi-Newton steps on all rows (from the subsample's Hessian
**       scaled, BFGS-updated) and the F4 test with the full Hessian; a
**       subsample of 20,000 without an optimum gives its best point, not
**       converged.
**   F4. Convergence test: the Hessian of -LL in log-parameters is positive
**       definite and the Newton decrement g'H^-1 g / 2 (the log-likelihood
**       still to gain in the quadratic model) is below 1e-6.  iterations
**       counts Nelder-Mead iterations plus Newton steps.
**   F5. std_errors: delta-method standard errors from the inverse of that
**       Hessian; null when it is not positive definite.  A parameter that
**       is not finite makes "converged":false and null values, never NaN.
**   F6. unit (4th argument, default 'week') is the unit of t_x and T, as
**       clv_summary's unit column gives it; it labels the model.  Rows
**       whose units differ are an error: "4th argument to bgnbd_fit()
**       (unit) is not the same on every row: 'day' and 'week'".
**   F7. The result does not depend on the unit beyond the change of scale:
**       the fit runs on time divided by the mean T (clvFitScaled), then
**       alpha, beta and their standard errors are scaled back and the
**       log-likelihood is that of the data in their unit.
**   F8. A fit (and the clv table) stops within milliseconds of
**       sqlite3_interrupt() or a progress handler asking to stop: the
**       likelihoods and the optimiser's loops call segCheck() (util.c 6),
**       and the call fails with "interrupted".
**
** Scalars (a NULL argument gives NULL):
**   p_alive(model, x, t_x, T)
**   expected_purchases(model, t)               E[X(t)], a new customer
**   expected_purchases(model, t, x, t_x, T)    E[Y(t) | x, t_x, T]
**   purchase_probability(model, k, t)          P(X(t) = k), a new customer
**   purchase_probability(model, k, t, x, t_x, T)  P(k in (T, T+t] | x, t_x, T)
**   expected_spend(gg_model, x, m)             (gamma + m x) p / (p x + q - 1);
**                                              x = 0: p gamma / (q - 1)
**   clv(model, gg_model, x, t_x, T, m, months [, monthly_discount])
**       sum over i = 1..months of expected_spend *
**       (E[Y(i months)] - E[Y((i-1) months)]) / (1 + d)^i, a month being
**       30 days in the model's unit, d default 0.01.
** Requirements (scalars):
**   P1. A model argument that is not a model made by these fits (or
**       discrete.c's bgbb_fit, sbg_fit) is an error: "1st argument to
**       p_alive() is not a libsegment model"; a model of the wrong kind:
**       "... is not a bgnbd, pareto_nbd, mbgnbd or bgbb model" (the kinds
**       the function takes).  p_alive() and expected_purchases() hand a
**       bgbb model to discrete.c (segBgbbPAliveFunc, segBgbbExpectedFunc).
**   P2. A model is parsed once per statement and distinct text, however
**       it is passed (literal, parameter, column, CTE): segModelArg().
**   P3. Numeric arguments: numbers (text that looks like one is taken);
**       x a whole number >= 0, 0 <= t_x <= T, t >= 0, months a whole
**       number 0..1200, discount > -1.
**   P4. Every parameter value > 0 is in the domain: the closed forms'
**       removable singularities are not divisions by zero (BG/NBD a = 1
**       and a + b = 1, clvBgnbdExpected; Pareto/NBD s = 1, clvParetoK;
**       alpha = beta; r + x or s + 1 whole; t = 0, T = t_x) and the
**       values are continuous across them.  Where the Gamma-Gamma mean
**       does not exist (p x + q <= 1, q <= 1 for x = 0), expected_spend
**       and clv are errors.  E[X(t)] of the BG/NBD needs about
**       40 (1 + t/alpha) terms (alpha + T for E[Y(t) | ...]): beyond
**       200,000 it is a numerical failure.
**   P5. Gamma-Gamma is a model of positive spend: expected_spend and clv
**       of a repeat buyer (x > 0) whose m <= 0 (refunds outweigh the
**       repeat orders) are NULL, as in the clv table; gamma_gamma_fit
**       leaves such rows out and counts them: "excluded":{"one_time":..,
**       "non_positive_spend":..}.
**
** clv table-valued function, one row per customer (ORDER BY customer):
**   customer, x, t_x, T, monetary, p_alive, expected_purchases,
**   expected_spend, clv
** Options: those of clv_summary and model=bgnbd|pareto_nbd|mbgnbd (default
** bgnbd), horizon= months (default 12; expected_purchases and clv cover
** the next horizon months of 30 days), discount= (monthly, default 0.01).
** The purchase model is fitted on every customer, Gamma-Gamma on those
** with x > 0 and monetary > 0 (when none, expected_spend and clv are NULL).
**
** Example (CDNOW sample, as_of 1997-09-30):
**   SELECT json_extract(bgnbd_fit(x, t_x, T), '$.params.r')
**     FROM clv_summary('cdnow', 'as_of=1997-09-30');      -- 0.2425...
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>

#define CLV_BGNBD   SEG_MODEL_BGNBD
#define CLV_PARETO  SEG_MODEL_PARETO
#define CLV_GG      SEG_MODEL_GG
#define CLV_MBGNBD  SEG_MODEL_MBGNBD
#define CLV_BGBB    SEG_MODEL_BGBB
#define CLV_SBG     SEG_MODEL_SBG
/* the purchase models: what p_alive, expected_purchases and clv take */
#define CLV_PURCHASE_MASK ((1<<CLV_BGNBD)|(1<<CLV_PARETO)|(1<<CLV_MBGNBD))

/* the models the scalars read; bgbb and sbg are fitted in discrete.c */
static const char *const azClvModel[] = { "bgnbd", "pareto_nbd",
                                          "gamma_gamma", "mbgnbd", "bgbb",
                                          "sbg", 0 };
static const char *const azClvUnit[] = { "day", "week", "month", 0 };
static const double aClvUnitDays[] = { 1.0, 7.0, 365.25/12.0 };
static const char *const azClvParam[6][4] = {
  { "r", "alpha", "a", "b" },
  { "r", "alpha", "s", "beta" },
  { "p", "q", "gamma", 0 },
  { "r", "alpha", "a", "b" },
  { "alpha", "beta", "gamma", "delta" },
  { "alpha", "beta", 0, 0 },
};
static const int aClvNParam[6] = { 4, 4, 3, 4, 4, 2 };

/**************************************************************************
** Numerics
*/

/* log Gamma(x) for x > 0: Lanczos (g=7, n=9), reflection-free. */
static double clvLgamma(double x){
  static const double c[9] = {
    0.99999999999980993, 676.5203681218851, -1259.1392167224028,
    771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
  };
  double a, t;
  int i;
  if( x<0.5 ) return clvLgamma(x+1.0) - log(x);
  x -= 1.0;
  a = c[0];
  t = x + 7.5;
  for(i=1; i<9; i++) a += c[i]/(x+i);
  return 0.91893853320467274 + (x+0.5)*log(t) - t + log(a);
}

/* log(exp(a) + exp(b)) */
static double clvLogAdd(double a, double b){
  if( a<b ){ double t = a; a = b; b = t; }
  if( b==-INFINITY ) return a;
  return a + log1p(exp(b-a));
}

/* 2F1(a, b; c; z) for 0 <= z < 1 by its series, for the forms used here
** (after Euler's transformation the terms shrink).  NaN if it does not
** converge in 200,000 terms. */
static double clvHyp2f1(double a, double b, double c, double z){
  double s = 1.0, t = 1.0;
  int j;
  if( z==0.0 ) return 1.0;
  for(j=0; j<200000; j++){
    t *= (a+j)*(b+j)/((c+j)*(j+1.0))*z;
    s += t;
    if( fabs(t)<=1e-17*fabs(s) && j>2 ) return s;
    if( !isfinite(s) ) break;
  }
  return NAN;
}

/**************************************************************************
** Data for the fits: unique rows with weights, sorted by (x, t_x, T).
** The likelihoods are computed once per distinct value where they can be:
** logs of alpha+t and beta+t once per distinct time (t_x or T), the
** Pareto/NBD's hypergeometric term once per distinct (x, time) pair, the
** terms that depend on x alone once per run of rows with that x.
*/
typedef struct ClvData ClvData;
struct ClvData {
  int n;                          /* unique rows */
  double *aX, *aTx, *aT, *aW;     /* Gamma-Gamma: aTx holds m, aT unused */
  double nTotal;                  /* sum of weights */
  int nTime;                      /* distinct values of t_x and T */
  double *aTime;                  /* ascending */
  int *aiTx, *aiT;                /* per row: index of t_x and T in aTime */
  int nPair;                      /* Pareto/NBD: distinct (x, time) pairs */
  double *aPairX;                 /* x of each pair, ascending */
  int *aPairTime;                 /* time index of each pair */
  int *aPairTMax;                 /* greatest T index of the rows (t_x < T)
                                  ** using it, or -1 */
  int *aiPx, *aiPT;               /* per row: pair of (x, t_x), (x, T) */
  double *aScratch;               /* 2*nTime + nPair doubles */
  double *aLogM;                  /* Gamma-Gamma: log m per row */
  SegCheck *pCheck;               /* F8: the interrupt check, or NULL */
  double (*xNll)(void*, const double*);  /* segFitOptimize: -LL, or NULL */
  void *pArg;                     /* its first argument */
  int nParam;                     /* its number of parameters */
};

/* F8: in the likelihoods' loops, every 1,024 rows (or pairs) costing
** about nNs nanoseconds each, the interrupt check (clvCheck); once it has
** fired, the partial sum is NaN and the likelihood infinite (and the
** optimiser loops stop). */
#define CLV_CHECK(pStop, i, nNs) \
  if( ((i)&1023)==1023 && clvCheck((pStop), 1024*(nNs)) ) return NAN
static int clvStopped(const ClvData *d){
  return d->pCheck && d->pCheck->rc;
}

/* Who checks: on the caller's thread pCheck (the connection's SegCheck,
** or NULL), which also raises *pbStop when it fires; on the others the
** flag *pbStop alone, so that a stop request ends every thread's chunk
** within a check's distance. */
typedef struct ClvStop ClvStop;
struct ClvStop {
  SegCheck *pCheck;
  int *pbStop;                    /* shared by the chunks of a sum, or 0 */
};
static int clvCheck(const ClvStop *p, i64 nWork){
  if( p->pCheck ){
    if( segCheck(p->pCheck, nWork)==SQLITE_OK ) return 0;
    if( p->pbStop ) SEG_FLAG_SET(p->pbStop);
    return 1;
  }
  return p->pbStop && SEG_FLAG_GET(p->pbStop);
}

/* A likelihood's sum over items [i0, i1) (rows, or the Pareto/NBD's
** pairs) at the constants pPar of one evaluation. */
typedef double (*ClvRange)(const ClvData *d, const void *pPar, int i0,
                           int i1, const ClvStop *pStop);

/* Sums over more than CLV_CHUNK items are made in about n / CLV_CHUNK
** chunks (at most CLV_MAX_CHUNKS) of one size (the last may be shorter),
** each from its first item as if it were the first, added in order: the same
** sum whether the chunks run on one thread or several (segParallel, where
** PRAGMA threads allows). */
#define CLV_CHUNK 8192
#define CLV_MAX_CHUNKS 64
typedef struct ClvSplit ClvSplit;
struct ClvSplit {
  const ClvData *d;
  const void *pPar;
  ClvRange xRange;
  int nItem, szChunk;
  int bStop;                      /* a check fired (SEG_FLAG_*) */
  double aPart[CLV_MAX_CHUNKS];
};

static void clvSplitJob(void *pCtx, int iJob, int bCaller){
  ClvSplit *p = (ClvSplit*)pCtx;
  int i0 = iJob*p->szChunk;
  int i1 = p->nItem-i0 > p->szChunk ? i0+p->szChunk : p->nItem;
  ClvStop stop;
  stop.pCheck = bCaller ? p->d->pCheck : 0;
  stop.pbStop = &p->bStop;
  p->aPart[iJob] = p->xRange(p->d, p->pPar, i0, i1, &stop);
}

static double clvSum(const ClvData *d, const void *pPar, ClvRange xRange,
                     int nItem){
  ClvSplit sp;
  int i, nChunk;
  double sum = 0.0;
  if( nItem<=CLV_CHUNK ){
    ClvStop stop;
    stop.pCheck = d->pCheck;
    stop.pbStop = 0;
    return xRange(d, pPar, 0, nItem, &stop);
  }
  sp.d = d;
  sp.bStop = 0;
  sp.pPar = pPar;
  sp.xRange = xRange;
  sp.nItem = nItem;
  nChunk = (nItem-1)/CLV_CHUNK+1;
  if( nChunk>CLV_MAX_CHUNKS ) nChunk = CLV_MAX_CHUNKS;
  sp.szChunk = (nItem-1)/nChunk+1;
  nChunk = (nItem-1)/sp.szChunk+1;
  segParallel(d->pCheck && d->pCheck->db
                ? segThreadsAllowed(d->pCheck->db) : 0,
              nChunk, clvSplitJob, &sp);
  for(i=0; i<nChunk; i++) sum += sp.aPart[i];
  return sum;
}

/* -LL of BG/NBD (bM = 0) or MBG/NBD (bM = 1) at log-parameters aTheta.
** BG/NBD:
**   L = B(a, b+x)/B(a, b) G(x) [(alpha+T)^-(r+x)
**                               + (x>0) a/(b+x-1) (alpha+t_x)^-(r+x)],
** MBG/NBD: the customer may drop out right after each purchase, the first
** one included (x+1 chances, where the BG/NBD has x), so that
**   L = B(a, b+x+1)/B(a, b) G(x) [(alpha+T)^-(r+x)
**                                 + a/(b+x) (alpha+t_x)^-(r+x)],
** the second term (dropped after the last purchase, at t_x) present for
** x = 0 too.  G(x) = Gamma(r+x) alpha^r / Gamma(r). */
typedef struct ClvBgPar ClvBgPar;
struct ClvBgPar {
  double r, a, b, lAlpha, lA, s, lgR, lgB, lgAB;
  int bM;
  const double *lAt;              /* log(alpha + t) per distinct time */
};

static double clvBgRows(const ClvData *d, const void *pPar, int i0, int i1,
                        const ClvStop *pStop){
  const ClvBgPar *q = (const ClvBgPar*)pPar;
  double r = q->r, a = q->a, b = q->b, s = q->s, ll = 0.0;
  double xPrev = -1.0, A12 = 0.0, lB = 0.0, rx = 0.0;
  int i;
  for(i=i0; i<i1; i++){
    double x = d->aX[i], l;
    CLV_CHECK(pStop, i, 100);
    if( x!=xPrev ){
      A12 = clvLgamma(r+x) - q->lgR + r*q->lAlpha
          + q->lgAB + clvLgamma(b+x+s) - q->lgB - clvLgamma(a+b+x+s);
      lB = q->bM ? q->lA - log(b+x) : x>0 ? q->lA - log(b+x-1.0) : 0.0;
      rx = r+x;
      xPrev = x;
    }
    l = -rx*q->lAt[d->aiT[i]];
    if( x>0 || q->bM ) l = clvLogAdd(l, lB - rx*q->lAt[d->aiTx[i]]);
    ll += d->aW[i]*(A12 + l);
  }
  return ll;
}

static double clvBgFamilyNll(const ClvData *d, const double *aTheta, int bM){
  ClvBgPar q;
  double al = exp(aTheta[1]), ll, *lAt = d->aScratch;
  int k;
  q.r = exp(aTheta[0]);
  q.a = exp(aTheta[2]);
  q.b = exp(aTheta[3]);
  q.lAlpha = aTheta[1];
  q.lA = aTheta[2];
  q.s = bM ? 1.0 : 0.0;
  q.bM = bM;
  q.lgR = clvLgamma(q.r);
  q.lgB = clvLgamma(q.b);
  q.lgAB = clvLgamma(q.a+q.b);
  for(k=0; k<d->nTime; k++) lAt[k] = log(al + d->aTime[k]);
  q.lAt = lAt;
  ll = clvSum(d, &q, clvBgRows, d->n);
  return isfinite(ll) ? -ll : INFINITY;
}

/* 2F1(1, b; c; z) for 0 <= z < 1 and 0 < b < c, c > 1.  For z <= 0.5 by
** its series, whose terms fall by at least z (remainder after a term t
** below t z/(1-z)).  Beyond, by Gauss's continued fraction for
** 2F1(b, 1; c; z) / 2F1(b, 0; c-1; z), evaluated by the modified Lentz
** method: all its partial numerators are negative, and it converges
** geometrically at a rate of about ((1-sqrt(1-z))/(1+sqrt(1-z)))^n,
** i.e. in about 20/sqrt(1-z) steps where the series needs 40/(1-z)
** terms.  NaN when 1-z < CLV_MIN_1MZ (a ratio of alpha+t to beta+t
** beyond 1e4; it would take over 2,000 steps) or beyond CLV_MAX_TERMS
** steps, which the fits treat as outside the feasible region. */
#define CLV_MAX_TERMS 5000
#define CLV_MIN_1MZ 1e-4

/* The coefficients of clvHyp2f1One for one b and c, kept from call to
** call (the Pareto/NBD's pairs of one x share them): the series'
** (b+j)/(c+j) and the continued fraction's k_j, the first CLV_HYP_KEEP
** of each, computed when first needed. */
#define CLV_HYP_KEEP 128
typedef struct ClvHyp ClvHyp;
struct ClvHyp {
  double b, c;
  int nSer, nCf;                  /* coefficients kept so far */
  double aSer[CLV_HYP_KEEP];
  double aCf[CLV_HYP_KEEP];
};

static void clvHypInit(ClvHyp *p, double b, double c){
  p->b = b;
  p->c = c;
  p->nSer = p->nCf = 0;
}

static double clvHyp2f1One(ClvHyp *p, double z){
  double b = p->b, c = p->c, s = 1.0, t = 1.0;
  int j;
  if( z==0.0 ) return 1.0;
  if( !(1.0-z>=CLV_MIN_1MZ) ) return NAN;
  if( z<=0.5 ){
    for(j=0; j<200; j++){
      double g;
      if( j<p->nSer ){
        g = p->aSer[j];
      }else{
        g = (b+j)/(c+j);
        if( j<CLV_HYP_KEEP ){ p->aSer[j] = g; p->nSer = j+1; }
      }
      t *= g*z;
      s += t;
      if( t<=1e-17*s ) return s;
    }
    return s;
  }else{
    double cp = c-1.0, f = 1.0, C = 1.0, D = 0.0;
    for(j=1; j<CLV_MAX_TERMS; j++){
      double k, an, dl;
      if( j-1<p->nCf ){
        k = p->aCf[j-1];
      }else{
        double m = (double)(j/2);
        if( j&1 ){
          k = (b+m)*(cp+m)/((cp+2*m)*(cp+2*m+1.0));
        }else{
          k = m*(cp-b+m)/((cp+2*m-1.0)*(cp+2*m));
        }
        if( j-1<CLV_HYP_KEEP ){ p->aCf[j-1] = k; p->nCf = j; }
      }
      an = -k*z;
      D = 1.0 + an*D;
      if( D==0.0 ) D = 1e-300;
      D = 1.0/D;
      C = 1.0 + an/C;
      if( C==0.0 ) C = 1e-300;
      dl = C*D;
      f *= dl;
      if( fabs(dl-1.0)<=2e-16 ) return 1.0/f;
    }
    return NAN;
  }
}

/* log F(t) of the Pareto/NBD, where F(t) = 2F1(r+s+x, b1; r+s+x+1; z) /
** (m+t)^(r+s+x), z = |alpha-beta|/(m+t), m = max(alpha, beta), b1 = s+1
** (alpha >= beta) or r+x (alpha < beta): the Fader-Hardie case split,
** which keeps 0 <= z < 1.  Euler's transformation
**   2F1(A, B; A+1; z) = (1-z)^(1-B) 2F1(1, A+1-B; A+1; z)
** leaves a function with a = 1 (clvHyp2f1One).  F(t)/(r+s+x) is the
** integral from t to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1). */
static double clvParetoLogF(double r, double al, double s, double be,
                            double x, double t){
  double m = al>=be ? al : be;
  double mn = al>=be ? be : al;
  double rsx = r+s+x;
  double lm = log(m+t);
  double l1z = log(mn+t) - lm;              /* log(1-z) */
  double z = (m-mn)/(m+t);
  double bEuler, pw, h;
  ClvHyp hyp;
  if( al>=be ){
    bEuler = r+x;                 /* A+1-B with B = s+1 */
    pw = -s;                      /* 1-B */
  }else{
    bEuler = s+1.0;               /* B = r+x */
    pw = 1.0-(r+x);
  }
  clvHypInit(&hyp, bEuler, rsx+1.0);
  h = clvHyp2f1One(&hyp, z);
  return pw*l1z + log(h) - rsx*lm;
}

/* The Pareto/NBD's other evaluation, for parameters far from each other
** (one of the two scales much above the other and T; the no-churn
** boundary, beta -> infinity, is such a place), where 1-z is small and the
** continued fraction slow.  With v = min(alpha, beta) + u, the integral
** from t_x to T of (alpha+u)^-(r+x) (beta+u)^-(s+1) du is
**   J = integral from a1 to a2 of v^-k (v+d)^-q dv,
**   d = |alpha-beta|, a1 = min + t_x, a2 = min + T,
**   (k, q) = (r+x, s+1) when alpha < beta, (s+1, r+x) otherwise,
** and the binomial series of (v+d)^-q in v/d, integrated term by term,
** gives
**   J = d^-q a1^(1-k) sum_j (-1)^j (q)_j/j! (a1/d)^j expm1(p_j L)/p_j,
**   p_j = j+1-k, L = log(a2/a1).
** The j-th term is at most (q)_j/j! (a2/d)^j times the first, a bound
** that falls by (q+j)/(j+1) a2/d a term.  The series is used where
** a2 max(q, 1) <= d/4 (CLV_SERIES_RHO): that is at most 1/4 there, and
** the sum of the terms' absolute values is within a factor 2 of the sum,
** so that the alternating sum keeps its relative precision.  It stops
** when the bound of the next term is below 1e-17 of the sum.  The j-th
** term is (q)_j/j! times, without overflow: (a1/d)^j (1-e^(p_j L))/(-p_j)
** for p_j < 0, (a2/d)^j (a2/a1)^(1-k) (1-e^(-p_j L))/p_j for p_j > 0,
** and as above, by expm1, where |p_j| L < 1/2.  Returns log J. */
#define CLV_SERIES_RHO 0.25
#define CLV_SERIES_TERMS 64
static int clvParetoSeriesOk(double q, double a2, double dd){
  return a2*(q>1.0 ? q : 1.0) <= CLV_SERIES_RHO*dd;
}
static double clvParetoLogJ(double k, double q, double a1, double a2,
                            double dd, double lA1, double lA2, double lD){
  double L = lA2 - lA1, rLow = a1/dd, rHigh = a2/dd;
  double S = 0.0, t0 = 0.0;
  double c = 1.0;                 /* (q)_j/j! (a1/d)^j */
  double env = 1.0;               /* (q)_j/j! (a2/d)^j */
  double e = 0.0;                 /* e^(p_j L), while p_j < 0 */
  double P = 0.0, f = 0.0;        /* c e^(p_j L) and e^(-p_j L), p_j > 0 */
  int j, bP = 0;
  for(j=0; j<CLV_SERIES_TERMS; j++){
    double p = j + 1.0 - k, t, g;
    if( fabs(p)*L<0.5 ){
      t = c*(p==0.0 ? L : expm1(p*L)/p);
    }else if( p<0.0 ){
      if( e<1e-300 ) e = exp(p*L);
      t = c*(1.0-e)/(-p);
    }else{
      if( !bP ){ P = c*exp(p*L); f = exp(-p*L); bP = 1; }
      t = P*(1.0-f)/p;
    }
    if( j==0 ) t0 = t;
    S += (j&1) ? -t : t;
    g = (q+j)/(j+1.0);
    c *= g*rLow;
    env *= g*rHigh;
    e *= a2/a1;
    P *= g*rHigh;
    f *= a1/a2;
    if( env*t0<1e-17*S ) break;
  }
  return -q*lD + (1.0-k)*lA1 + log(S);
}

/* log L of one Pareto/NBD customer (without the constant part). */
static double clvParetoLogL(double r, double al, double s, double be,
                            double x, double tx, double T, double *pL1){
  double l1 = -(r+x)*log(al+T) - s*log(be+T);
  double l = l1;
  if( T>tx ){
    double mn = al>=be ? be : al, dd = fabs(al-be);
    double q = al>=be ? r+x : s+1.0;
    if( clvParetoSeriesOk(q, mn+T, dd) ){
      double lJ = clvParetoLogJ(al>=be ? s+1.0 : r+x, q, mn+tx, mn+T, dd,
                                log(mn+tx), log(mn+T), log(dd));
      l = clvLogAdd(l1, log(s) + lJ);
    }else{
      double lf1 = clvParetoLogF(r, al, s, be, x, tx);
      double lf2 = clvParetoLogF(r, al, s, be, x, T);
      if( lf1>lf2 ){
        double lA0 = lf1 + log(-expm1(lf2-lf1));
        l = clvLogAdd(l1, log(s/(r+s+x)) + lA0);
      }
    }
  }
  if( pL1 ) *pL1 = l1;
  return l;
}

/* -LL of the Pareto/NBD.  Per row, with L1 = (alpha+T)^-(r+x)
** (beta+T)^-s and A0 = F(t_x) - F(T) (clvParetoLogF), the likelihood
** without its constant part is L1 + s/(r+s+x) A0 = L1 + s J, summed in
** logs.  J by clvParetoLogJ where its series applies (rows of an x with T
** below a bound); otherwise from the F of the row's two (x, time) pairs,
** as A0 = F(t_x) (1 - F(T)/F(t_x)), which keeps its relative precision.
** F is computed once per pair, for the pairs that such a row uses (those
** whose greatest T is beyond the bound).  A pair whose F cannot be
** evaluated (1-z below CLV_MIN_1MZ) makes the point infeasible. */
typedef struct ClvParPar ClvParPar;
struct ClvParPar {
  double r, s, mn, m, dd, lD, lgS, lgR, lConst;
  int bAlpha;
  const double *lAt, *lBt;        /* log(alpha + t), log(beta + t) */
  const double *lMn, *lM;         /* those of min(alpha, beta), max(..) */
  double *lF;                     /* per pair: log F, where needed */
};

/* The pairs [i0, i1): their log F where a row needs it; 0, or NaN when
** one cannot be evaluated (or interrupted). */
static double clvParetoPairs(const ClvData *d, const void *pPar, int i0,
                             int i1, const ClvStop *pStop){
  const ClvParPar *p = (const ClvParPar*)pPar;
  double r = p->r, s = p->s, xPrev = -1.0, q = 0.0, pw = 0.0, rsx = 0.0;
  ClvHyp hyp;
  int i, j;
  for(i=i0; i<i1; i++){
    double x = d->aPairX[i], h;
    CLV_CHECK(pStop, i, 1000);
    if( x!=xPrev ){
      rsx = r+s+x;
      clvHypInit(&hyp, p->bAlpha ? r+x : s+1.0, rsx+1.0);
      pw = p->bAlpha ? -s : 1.0-(r+x);
      q = p->bAlpha ? r+x : s+1.0;
      xPrev = x;
    }
    j = d->aPairTMax[i];
    if( j<0 || clvParetoSeriesOk(q, p->mn + d->aTime[j], p->dd) ) continue;
    j = d->aPairTime[i];
    h = clvHyp2f1One(&hyp, p->dd/(p->m + d->aTime[j]));
    p->lF[i] = pw*(p->lMn[j]-p->lM[j]) - rsx*p->lM[j] + log(h);
    if( isnan(p->lF[i]) ) return NAN;
  }
  return 0.0;
}

/* The log-likelihood of rows [i0, i1), from the pairs' log F. */
static double clvParetoRows(const ClvData *d, const void *pPar, int i0,
                            int i1, const ClvStop *pStop){
  const ClvParPar *p = (const ClvParPar*)pPar;
  double r = p->r, s = p->s, ll = 0.0;
  double xPrev = -1.0, A = 0.0, lS = 0.0, k = 0.0, q = 0.0;
  int i;
  for(i=i0; i<i1; i++){
    double x = d->aX[i], l;
    int iT = d->aiT[i], iTx = d->aiTx[i];
    CLV_CHECK(pStop, i, 1000);
    if( x!=xPrev ){
      A = clvLgamma(r+x) - p->lgR + p->lConst;
      lS = log(s/(r+s+x));
      k = p->bAlpha ? s+1.0 : r+x;
      q = p->bAlpha ? r+x : s+1.0;
      xPrev = x;
    }
    l = -(r+x)*p->lAt[iT] - s*p->lBt[iT];
    if( iTx!=iT ){
      if( clvParetoSeriesOk(q, p->mn + d->aTime[iT], p->dd) ){
        double lJ = clvParetoLogJ(k, q, p->mn + d->aTime[iTx],
                                  p->mn + d->aTime[iT], p->dd, p->lMn[iTx],
                                  p->lMn[iT], p->lD);
        l = clvLogAdd(l, p->lgS + lJ);
      }else{
        double lf1 = p->lF[d->aiPx[i]], dl = p->lF[d->aiPT[i]] - lf1;
        if( dl<0.0 ) l = clvLogAdd(l, lS + lf1 + log(-expm1(dl)));
      }
    }
    ll += d->aW[i]*(A + l);
  }
  return ll;
}

static double clvParetoNll(const ClvData *d, const double *aTheta){
  double al = exp(aTheta[1]), be = exp(aTheta[3]), ll;
  double *lAt = d->aScratch, *lBt = lAt + d->nTime;
  ClvParPar p;
  int j;
  p.r = exp(aTheta[0]);
  p.s = exp(aTheta[2]);
  p.lgR = clvLgamma(p.r);
  p.lgS = aTheta[2];
  p.lConst = p.r*aTheta[1] + p.s*aTheta[3];
  p.bAlpha = al>=be;
  p.m = p.bAlpha ? al : be;
  p.mn = p.bAlpha ? be : al;
  p.dd = fabs(al-be);
  p.lD = p.dd>0.0 ? log(p.dd) : -INFINITY;
  p.lF = lBt + d->nTime;
  p.lAt = lAt;
  p.lBt = lBt;
  p.lMn = p.bAlpha ? lBt : lAt;
  p.lM = p.bAlpha ? lAt : lBt;
  for(j=0; j<d->nTime; j++){
    lAt[j] = log(al + d->aTime[j]);
    lBt[j] = log(be + d->aTime[j]);
  }
  if( isnan(clvSum(d, &p, clvParetoPairs, d->nPair)) ) return INFINITY;
  ll = clvSum(d, &p, clvParetoRows, d->n);
  return isfinite(ll) ? -ll : INFINITY;
}

/* Gamma-Gamma: rows (x, m) in aX, aTx; log m in aLogM. */
typedef struct ClvGgPar ClvGgPar;
struct ClvGgPar { double p, q, g, C; };

static double clvGgRows(const ClvData *d, const void *pPar, int i0, int i1,
                        const ClvStop *pStop){
  const ClvGgPar *c = (const ClvGgPar*)pPar;
  double ll = 0.0, xPrev = -1.0, A = 0.0, px = 0.0;
  int i;
  for(i=i0; i<i1; i++){
    double x = d->aX[i];
    CLV_CHECK(pStop, i, 100);
    if( x!=xPrev ){
      px = c->p*x;
      A = clvLgamma(px+c->q) - clvLgamma(px) + px*log(x) + c->C;
      xPrev = x;
    }
    ll += d->aW[i]*(A + (px-1.0)*d->aLogM[i]
                    - (px+c->q)*log(x*d->aTx[i] + c->g));
  }
  return ll;
}

static double clvGgNll(const ClvData *d, const double *aTheta){
  ClvGgPar c;
  double ll;
  c.p = exp(aTheta[0]);
  c.q = exp(aTheta[1]);
  c.g = exp(aTheta[2]);
  c.C = c.q*aTheta[2] - clvLgamma(c.q);
  ll = clvSum(d, &c, clvGgRows, d->n);
  return isfinite(ll) ? -ll : INFINITY;
}

static double clvNll(int eModel, const ClvData *d, const double *aTheta){
  int i, n = d->xNll ? d->nParam : aClvNParam[eModel];
  if( segCheck(d->pCheck, 200 + (d->n & 1023)*(i64)100) ) return INFINITY;
  for(i=0; i<n; i++){
    if( !(aTheta[i]>-40.0 && aTheta[i]<40.0) ) return INFINITY;
  }
  if( d->xNll ) return d->xNll(d->pArg, aTheta);
  switch( eModel ){
    case CLV_BGNBD:  return clvBgFamilyNll(d, aTheta, 0);
    case CLV_PARETO: return clvParetoNll(d, aTheta);
    case CLV_MBGNBD: return clvBgFamilyNll(d, aTheta, 1);
    default:         return clvGgNll(d, aTheta);
  }
}

/**************************************************************************
** Optimiser: Nelder-Mead with restarts, then Newton (requirements F3-F5)
*/
typedef struct ClvFit ClvFit;
struct ClvFit {
  int eModel;
  int nParam;
  double aTheta[4];               /* log-parameters */
  double rNll;                    /* -LL at aTheta */
  double aSe[4];                  /* std errors of the parameters, or NaN */
  int nIter;
  int bConverged;
  int bHessPd;                    /* aH positive definite */
  double aH[4][4];                /* last Hessian of -LL (log-parameters) */
};

/* One Nelder-Mead run from aTheta with initial step rStep. */
static int clvNelderMead(int eModel, const ClvData *d, int n, double *aTheta,
                         double *pF, double rStep, int nMaxIter){
  double aS[5][4], aF[5], aC[4], aR[4], aE[4];
  int i, j, it;
  memset(aS, 0, sizeof(aS));
  for(i=0; i<=n; i++){
    for(j=0; j<n; j++) aS[i][j] = aTheta[j] + (i==j+1 ? rStep : 0.0);
    aF[i] = clvNll(eModel, d, aS[i]);
  }
  for(it=0; it<nMaxIter && !clvStopped(d); it++){
    int iLo = 0, iHi = 0, iNext;
    double fR;
    for(i=1; i<=n; i++){
      if( aF[i]<aF[iLo] ) iLo = i;
      if( aF[i]>aF[iHi] ) iHi = i;
    }
    iNext = iLo;
    for(i=0; i<=n; i++){
      if( i!=iHi && aF[i]>=aF[iNext] ) iNext = i;
    }
    if( !(aF[iHi]-aF[iLo] > 1e-7*(fabs(aF[iLo])+1.0)) ) break;
    for(j=0; j<n; j++){
      aC[j] = 0.0;
      for(i=0; i<=n; i++) if( i!=iHi ) aC[j] += aS[i][j];
      aC[j] /= n;
      aR[j] = aC[j] + (aC[j]-aS[iHi][j]);
    }
    fR = clvNll(eModel, d, aR);
    if( fR<aF[iLo] ){
      double fE;
      for(j=0; j<n; j++) aE[j] = aC[j] + 2.0*(aC[j]-aS[iHi][j]);
      fE = clvNll(eModel, d, aE);
      if( fE<fR ){ memcpy(aS[iHi], aE, sizeof(aE)); aF[iHi] = fE; }
      else{ memcpy(aS[iHi], aR, sizeof(aR)); aF[iHi] = fR; }
    }else if( fR<aF[iNext] ){
      memcpy(aS[iHi], aR, sizeof(aR)); aF[iHi] = fR;
    }else{
      double fK;
      int bOutside = fR<aF[iHi];
      for(j=0; j<n; j++){
        aE[j] = bOutside ? aC[j] + 0.5*(aR[j]-aC[j])
                         : aC[j] + 0.5*(aS[iHi][j]-aC[j]);
      }
      fK = clvNll(eModel, d, aE);
      if( fK<(bOutside ? fR : aF[iHi]) ){
        memcpy(aS[iHi], aE, sizeof(aE)); aF[iHi] = fK;
      }else{
        for(i=0; i<=n; i++){
          if( i==iLo ) continue;
          for(j=0; j<n; j++) aS[i][j] = aS[iLo][j] + 0.5*(aS[i][j]-aS[iLo][j]);
          aF[i] = clvNll(eModel, d, aS[i]);
        }
      }
    }
  }
  j = 0;
  for(i=1; i<=n; i++) if( aF[i]<aF[j] ) j = i;
  memcpy(aTheta, aS[j], sizeof(double)*n);
  *pF = aF[j];
  return it;
}

/* Gradient and Hessian of -LL at aTheta by central differences: with
** f(+i) = f(theta + h e_i) etc., the mixed terms as
**   (f(+i+j) - f(+i) - f(+j) + 2 f0 - f(-i) - f(-j) + f(-i-j)) / (2 h^2),
** which reuses the 2n points of the gradient: 2n + n(n-1) evaluations,
** or n(n-1) when the caller has the f(+i) and then the f(-i) already
** (aF: clvRefine's last gradient).  The step h on the log-parameters:
** the truncation error is of order h^2, the rounding of a sum over many
** rows, divided by h^2, grows as h shrinks; 5e-4 keeps both near 1e-5 of
** the standard errors on CDNOW and at 94,280 customers (clv-9.4), where
** 1e-4 was 1e-4 and 2e-4 off. */
#define CLV_H 5e-4
static void clvDerivs(int eModel, const ClvData *d, int n,
                      const double *aTheta, double f0, const double *aF,
                      double *aG, double aH[4][4]){
  const double h = CLV_H;
  double aP[4], fp[4], fm[4];
  int i, j;
  for(i=0; i<n; i++){
    if( aF ){
      fp[i] = aF[i];
      fm[i] = aF[n+i];
    }else{
      memcpy(aP, aTheta, sizeof(double)*n);
      aP[i] = aTheta[i] + h; fp[i] = clvNll(eModel, d, aP);
      aP[i] = aTheta[i] - h; fm[i] = clvNll(eModel, d, aP);
    }
    aG[i] = (fp[i]-fm[i])/(2*h);
    aH[i][i] = (fp[i] - 2*f0 + fm[i])/(h*h);
  }
  for(i=0; i<n; i++){
    for(j=i+1; j<n; j++){
      double fpp, fmm;
      memcpy(aP, aTheta, sizeof(double)*n);
      aP[i] = aTheta[i]+h; aP[j] = aTheta[j]+h; fpp = clvNll(eModel, d, aP);
      aP[i] = aTheta[i]-h; aP[j] = aTheta[j]-h; fmm = clvNll(eModel, d, aP);
      aH[i][j] = aH[j][i] = (fpp - fp[i] - fp[j] + 2*f0 - fm[i] - fm[j]
                             + fmm)/(2*h*h);
    }
  }
}

/* Cholesky of aH (n x n) into aL; 0 if not positive definite. */
static int clvCholesky(int n, double aH[4][4], double aL[4][4]){
  int i, j, k;
  memset(aL, 0, sizeof(double)*16);
  for(j=0; j<n; j++){
    double s = aH[j][j];
    for(k=0; k<j; k++) s -= aL[j][k]*aL[j][k];
    if( !(s>0.0) || !isfinite(s) ) return 0;
    aL[j][j] = sqrt(s);
    for(i=j+1; i<n; i++){
      double t = aH[i][j];
      for(k=0; k<j; k++) t -= aL[i][k]*aL[j][k];
      aL[i][j] = t/aL[j][j];
    }
  }
  return 1;
}

/* Solve L L' x = b. */
static void clvCholSolve(int n, double aL[4][4], const double *b, double *x){
  double y[4];
  int i, k;
  for(i=0; i<n; i++){
    double s = b[i];
    for(k=0; k<i; k++) s -= aL[i][k]*y[k];
    y[i] = s/aL[i][i];
  }
  for(i=n-1; i>=0; i--){
    double s = y[i];
    for(k=i+1; k<n; k++) s -= aL[k][i]*x[k];
    x[i] = s/aL[i][i];
  }
}

/* Cholesky of aH + mu I into aL, mu the smallest of 0, 1e-8, 1e-7, ...
** times the mean absolute diagonal that makes it positive definite; 0
** when none up to 1e6 times does. */
static int clvDampedCholesky(int n, double aH[4][4], double aL[4][4]){
  double aM[4][4], mu = 0.0, rDiag = 0.0;
  int i;
  for(i=0; i<n; i++) rDiag += fabs(aH[i][i]);
  rDiag = rDiag/n + 1e-12;
  if( !isfinite(rDiag) ) return 0;
  for(;;){
    memcpy(aM, aH, sizeof(aM));
    for(i=0; i<n; i++) aM[i][i] += mu;
    if( clvCholesky(n, aM, aL) ) return 1;
    mu = mu==0.0 ? 1e-8*rDiag : mu*10.0;
    if( mu>1e6*rDiag ) return 0;
  }
}

/* Newton steps with a finite-difference Hessian from p->aTheta (at -LL
** f), at most nMax; sets bConverged (requirement F4), the standard
** errors (F5) and keeps the last Hessian in p->aH.  aF: the 2n values of
** the central differences at p->aTheta when the caller has them (see
** clvDerivs), or NULL. */
static void clvNewton(ClvFit *p, const ClvData *d, double f, int nMax,
                      const double *aF){
  int n = p->nParam, i, k;
  double aG[4], aL[4][4], aStep[4], aTry[4];
  int bPd = 0, bFresh = 0;
  p->bConverged = 0;
  for(i=0; i<4; i++) p->aSe[i] = NAN;
  for(k=0; k<nMax && isfinite(f) && !clvStopped(d); k++){
    double rDec = 0.0, t = 1.0;
    clvDerivs(p->eModel, d, n, p->aTheta, f, k==0 ? aF : 0, aG, p->aH);
    bPd = clvCholesky(n, p->aH, aL);
    bFresh = 1;
    if( !bPd ) break;
    clvCholSolve(n, aL, aG, aStep);
    for(i=0; i<n; i++) rDec += aG[i]*aStep[i];
    if( rDec/2.0<1e-6 ){
      /* Converged: one last full step, kept if it does not lose */
      double fTry;
      for(i=0; i<n; i++) aTry[i] = p->aTheta[i] - aStep[i];
      fTry = clvNll(p->eModel, d, aTry);
      if( fTry<=f ){
        memcpy(p->aTheta, aTry, sizeof(double)*n);
        f = fTry;
      }
      p->bConverged = 1;
      break;
    }
    p->nIter++;
    while( t>1e-4 ){
      double fTry;
      for(i=0; i<n; i++) aTry[i] = p->aTheta[i] - t*aStep[i];
      fTry = clvNll(p->eModel, d, aTry);
      if( fTry<f ){
        memcpy(p->aTheta, aTry, sizeof(double)*n);
        f = fTry;
        bFresh = 0;
        break;
      }
      t *= 0.5;
    }
    if( t<=1e-4 ) break;
  }
  p->rNll = f;
  if( !isfinite(f) ){ p->bConverged = 0; return; }
  if( !p->bConverged && !bFresh ){
    clvDerivs(p->eModel, d, n, p->aTheta, f, 0, aG, p->aH);
    bPd = clvCholesky(n, p->aH, aL);
  }
  p->bHessPd = bPd;
  if( !bPd ) return;
  /* Standard errors: Cov(theta) = H^-1; se(exp theta) = exp(theta) se. */
  for(i=0; i<n; i++){
    double e[4] = {0, 0, 0, 0}, col[4];
    e[i] = 1.0;
    clvCholSolve(n, aL, e, col);
    if( col[i]>0.0 ) p->aSe[i] = exp(p->aTheta[i])*sqrt(col[i]);
  }
}

/* The whole search (requirement F3): Nelder-Mead, then Newton; when that
** does not converge, Nelder-Mead restarted from the best point until a
** restart gains no more than its own tolerance, then Newton again. */
static void clvOptimize(ClvFit *p, const ClvData *d){
  int n = p->nParam, i, run;
  double f;
  p->nIter = clvNelderMead(p->eModel, d, n, p->aTheta, &f, 1.0, 2000);
  clvNewton(p, d, f, 30, 0);
  if( !p->bConverged ){
    f = p->rNll;
    for(run=1; run<20 && !clvStopped(d); run++){
      double fNew;
      p->nIter += clvNelderMead(p->eModel, d, n, p->aTheta, &fNew, 0.25,
                                2000);
      if( !(f-fNew > 1e-7*(fabs(fNew)+1.0)) ){ f = fNew; break; }
      f = fNew;
    }
    clvNewton(p, d, f, 30, 0);
  }
  for(i=0; i<n; i++){
    if( !isfinite(exp(p->aTheta[i])) || exp(p->aTheta[i])==0.0 ){
      p->bConverged = 0;
    }
  }
}

/* The same search for another model's -LL (segmentInt.h). */
void segFitOptimize(SegFit *pOut, double (*xNll)(void*, const double*),
                    void *pArg, SegCheck *pCheck){
  ClvData d;
  ClvFit fit;
  memset(&d, 0, sizeof(d));
  memset(&fit, 0, sizeof(fit));
  d.xNll = xNll;
  d.pArg = pArg;
  d.nParam = fit.nParam = pOut->nParam;
  d.pCheck = pCheck;
  memcpy(fit.aTheta, pOut->aTheta, sizeof(fit.aTheta));
  clvOptimize(&fit, &d);
  memcpy(pOut->aTheta, fit.aTheta, sizeof(fit.aTheta));
  memcpy(pOut->aSe, fit.aSe, sizeof(fit.aSe));
  pOut->rNll = fit.rNll;
  pOut->nIter = fit.nIter;
  pOut->bConverged = fit.bConverged;
}

/* The BFGS update of aB (n x n) by the step aS and the change of gradient
** aY it made: aB + y y'/(y's) - B s s' B/(s'B s), skipped unless both
** denominators are positive (the update then keeps aB positive
** definite). */
static void clvBfgsUpdate(int n, double aB[4][4], const double *aS,
                          const double *aY){
  double aBs[4], ys = 0.0, sBs = 0.0;
  int i, j;
  for(i=0; i<n; i++){
    aBs[i] = 0.0;
    for(j=0; j<n; j++) aBs[i] += aB[i][j]*aS[j];
    ys += aY[i]*aS[i];
    sBs += aS[i]*aBs[i];
  }
  if( !(ys>0.0) || !(sBs>0.0) ) return;
  for(i=0; i<n; i++){
    for(j=0; j<n; j++) aB[i][j] += aY[i]*aY[j]/ys - aBs[i]*aBs[j]/sBs;
  }
}

/* From the optimum of a subsample (p->aTheta, with its Hessian aHs scaled
** to the full data), quasi-Newton steps on the full data: central
** difference gradients, a matrix that starts as aHs (damped until
** positive definite) and learns from each step (clvBfgsUpdate), a halving
** line search.  When the approximate Newton decrement falls below 1e-6,
** the bound of convergence, clvNewton verifies with the full Hessian,
** whose last step then gains what is left.  Otherwise the result is
** reported as not converged. */
static void clvRefine(ClvFit *p, const ClvData *d, double aHs[4][4]){
  int n = p->nParam, i, j, k;
  double f = clvNll(p->eModel, d, p->aTheta);
  double aB[4][4], aL[4][4], aGOld[4], aS[4], aF[8];
  int bNear = 0;
  p->bConverged = 0;
  for(i=0; i<4; i++) p->aSe[i] = NAN;
  if( !clvDampedCholesky(n, aHs, aL) ) return;
  /* aB = L L', the damped matrix */
  for(i=0; i<n; i++){
    for(j=0; j<n; j++){
      int m;
      aB[i][j] = 0.0;
      for(m=0; m<n; m++) aB[i][j] += aL[i][m]*aL[j][m];
    }
  }
  for(k=0; k<25 && isfinite(f) && !clvStopped(d); k++){
    const double h = CLV_H;
    double aG[4] = {0, 0, 0, 0}, aStep[4], aTry[4], rDec = 0.0, t = 1.0;
    for(i=0; i<n; i++){
      memcpy(aTry, p->aTheta, sizeof(double)*n);
      aTry[i] = p->aTheta[i] + h; aF[i] = clvNll(p->eModel, d, aTry);
      aTry[i] = p->aTheta[i] - h; aF[n+i] = clvNll(p->eModel, d, aTry);
      aG[i] = (aF[i]-aF[n+i])/(2*h);
    }
    if( k>0 ){
      double aY[4], aL2[4][4];
      for(i=0; i<n; i++) aY[i] = aG[i] - aGOld[i];
      clvBfgsUpdate(n, aB, aS, aY);
      if( clvCholesky(n, aB, aL2) ) memcpy(aL, aL2, sizeof(aL));
    }
    clvCholSolve(n, aL, aG, aStep);
    for(i=0; i<n; i++) rDec += aG[i]*aStep[i];
    if( !isfinite(rDec) ) break;
    if( rDec/2.0<1e-6 ){ bNear = 1; break; }
    p->nIter++;
    for(j=0; j<12; j++, t*=0.5){
      double fTry;
      for(i=0; i<n; i++) aTry[i] = p->aTheta[i] - t*aStep[i];
      fTry = clvNll(p->eModel, d, aTry);
      if( fTry<f ){
        for(i=0; i<n; i++) aS[i] = aTry[i] - p->aTheta[i];
        memcpy(aGOld, aG, sizeof(aG));
        memcpy(p->aTheta, aTry, sizeof(double)*n);
        f = fTry;
        break;
      }
    }
    if( j==12 ) break;
  }
  p->rNll = f;
  if( bNear ) clvNewton(p, d, f, 10, aF);   /* aF: at p->aTheta */
  for(i=0; i<n; i++){
    if( !isfinite(exp(p->aTheta[i])) || exp(p->aTheta[i])==0.0 ){
      p->bConverged = 0;
    }
  }
}

/**************************************************************************
** The fit aggregates
*/
typedef struct ClvAgg ClvAgg;
struct ClvAgg {
  double *a;                      /* 3 doubles per row */
  i64 n, nAlloc;
  int eUnit;
  int bUnit;                      /* eUnit came from a 4th argument */
  i64 nOneTime, nNonPos;          /* Gamma-Gamma: rows left out, by reason */
  int bError;
};

static int clvNumArg(sqlite3_value *pVal, double *pr){
  int e = sqlite3_value_numeric_type(pVal);
  if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ) return 0;
  *pr = sqlite3_value_double(pVal);
  return isfinite(*pr);
}

static int clvUnitArg(sqlite3_value *pVal, int *peUnit){
  const char *z = (const char*)sqlite3_value_text(pVal);
  int i;
  if( z==0 ) return 0;
  for(i=0; azClvUnit[i]; i++){
    if( sqlite3_stricmp(z, azClvUnit[i])==0 ){ *peUnit = i; return 1; }
  }
  return 0;
}

static void clvFitStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int eModel = (int)(intptr_t)sqlite3_user_data(ctx);
  const char *zFunc = eModel==CLV_BGNBD ? "bgnbd_fit" :
                      eModel==CLV_PARETO ? "pareto_nbd_fit" :
                      eModel==CLV_MBGNBD ? "mbgnbd_fit" : "gamma_gamma_fit";
  ClvAgg *p = (ClvAgg*)sqlite3_aggregate_context(ctx, sizeof(ClvAgg));
  double v[3];
  int i, eUnit = 1;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( p->bError ) return;
  if( p->n==0 && p->a==0 ) p->eUnit = 1;
  for(i=0; i<argc; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  for(i=0; i<argc && i<3; i++){
    if( !clvNumArg(argv[i], &v[i]) ){
      char *z = sqlite3_mprintf("%s argument to %s() is not a number",
                                segOrdinal(i+1), zFunc);
      p->bError = 1;
      if( z ) sqlite3_result_error(ctx, z, -1);
      else sqlite3_result_error_nomem(ctx);
      sqlite3_free(z);
      return;
    }
  }
  if( v[0]<0.0 || v[0]!=floor(v[0]) ){
    char *z = sqlite3_mprintf("1st argument to %s() is not a whole number "
                              ">= 0", zFunc);
    p->bError = 1;
    if( z ) sqlite3_result_error(ctx, z, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(z);
    return;
  }
  if( eModel==CLV_GG ){
    /* outside Gamma-Gamma's domain: counted, not fitted */
    if( v[0]==0.0 ){ p->nOneTime++; return; }
    if( v[1]<=0.0 ){ p->nNonPos++; return; }
    v[2] = 0.0;
  }else{
    const char *zErr = 0;
    if( v[1]<0.0 ) zErr = "2nd argument to %s() is negative";
    else if( v[2]<v[1] ) zErr = "3rd argument to %s() (T) is less than "
                                "the 2nd (t_x)";
    else if( argc==4 && !clvUnitArg(argv[3], &eUnit) ){
      zErr = "4th argument to %s() is not 'day', 'week' or 'month'";
    }else if( argc==4 && p->bUnit && eUnit!=p->eUnit ){
      zErr = "4th argument to %s() (unit) is not the same on every row: "
             "'%s' and '%s'";
    }else if( argc==4 ){
      p->eUnit = eUnit;
      p->bUnit = 1;
    }
    if( zErr ){
      char *z = sqlite3_mprintf(zErr, zFunc, azClvUnit[p->eUnit],
                                azClvUnit[eUnit]);
      p->bError = 1;
      if( z ) sqlite3_result_error(ctx, z, -1);
      else sqlite3_result_error_nomem(ctx);
      sqlite3_free(z);
      return;
    }
  }
  if( segArrayGrow((void**)&p->a, &p->nAlloc, p->n, 3*sizeof(double), 256,
                   SEG_ARRAY_MAX) ){
    p->bError = 1;
    sqlite3_result_error_nomem(ctx);
    return;
  }
  for(i=0; i<3; i++) v[i] += 0.0;  /* -0.0 becomes 0.0: rows compare bytewise */
  memcpy(&p->a[3*p->n], v, sizeof(v));
  p->n++;
}

static void clvDataFree(ClvData *d){
  sqlite3_free(d->aX);
  sqlite3_free(d->aTime);
  sqlite3_free(d->aiTx);
  sqlite3_free(d->aPairX);
  sqlite3_free(d->aPairTime);
  sqlite3_free(d->aScratch);
  sqlite3_free(d->aLogM);
  memset(d, 0, sizeof(*d));
}

/* Allocate the row arrays of d for n rows. */
static int clvDataAlloc(ClvData *d, i64 n){
  memset(d, 0, sizeof(*d));
  d->aX = sqlite3_malloc64(sizeof(double)*4*(u64)(n+1));
  if( d->aX==0 ) return SQLITE_NOMEM;
  d->aTx = d->aX + n;
  d->aT = d->aTx + n;
  d->aW = d->aT + n;
  return SQLITE_OK;
}

/* Index the unique rows d->aX.. (in (x, t_x, T) order) for eModel: the
** distinct times, the Pareto/NBD pairs, the logs of m.  The first two by
** sorting (segRadixSort) the 2n times t_x and T, then the 2n keys (rank of
** x, time index), the rank of x being the number of the run of rows with
** that x.  Frees d on OOM. */
static int clvDataIndex(ClvData *d, int eModel){
  int i, k, n = d->n;
  u64 *aKey = 0;
  int *aIdx = 0;
  d->nTotal = 0.0;
  for(i=0; i<n; i++) d->nTotal += d->aW[i];
  if( eModel==CLV_GG ){
    d->aLogM = sqlite3_malloc64(sizeof(double)*(u64)(n+1));
    if( d->aLogM==0 ) goto index_nomem;
    for(i=0; i<n; i++) d->aLogM[i] = log(d->aTx[i]);
    return SQLITE_OK;
  }
  aKey = sqlite3_malloc64(sizeof(u64)*2*(u64)(n+1));
  aIdx = sqlite3_malloc64(sizeof(int)*2*(u64)(n+1));
  d->aTime = sqlite3_malloc64(sizeof(double)*2*(u64)(n+1));
  d->aiTx = sqlite3_malloc64(sizeof(int)*4*(u64)(n+1));
  if( aKey==0 || aIdx==0 || d->aTime==0 || d->aiTx==0 ) goto index_nomem;
  d->aiT = d->aiTx + n;
  d->aiPx = d->aiT + n;
  d->aiPT = d->aiPx + n;
  for(i=0; i<2*n; i++){
    aKey[i] = segDoubleKey(i<n ? d->aTx[i] : d->aT[i-n]);
    aIdx[i] = i;
  }
  if( segRadixSort(aKey, aIdx, 2*n, 0) ) goto index_nomem;
  for(i=0, k=0; i<2*n; i++){
    if( i==0 || aKey[i]!=aKey[i-1] ){
      d->aTime[k++] = aIdx[i]<n ? d->aTx[aIdx[i]] : d->aT[aIdx[i]-n];
    }
    d->aiTx[aIdx[i]] = k-1;         /* aiT follows aiTx */
  }
  d->nTime = k;
  if( eModel==CLV_PARETO ){
    u64 iRank = 0;
    for(i=0; i<n; i++){
      if( i>0 && d->aX[i]!=d->aX[i-1] ) iRank++;
      aKey[i] = iRank<<32 | (u64)d->aiTx[i];
      aKey[i+n] = iRank<<32 | (u64)d->aiT[i];
      aIdx[i] = i;
      aIdx[i+n] = i+n;
    }
    if( segRadixSort(aKey, aIdx, 2*n, 0) ) goto index_nomem;
    d->aPairX = sqlite3_malloc64(sizeof(double)*2*(u64)(n+1));
    d->aPairTime = sqlite3_malloc64(sizeof(int)*4*(u64)(n+1));
    if( d->aPairX==0 || d->aPairTime==0 ) goto index_nomem;
    d->aPairTMax = d->aPairTime + 2*(n+1);
    for(i=0, k=0; i<2*n; i++){
      if( i==0 || aKey[i]!=aKey[i-1] ){
        d->aPairX[k] = d->aX[aIdx[i]<n ? aIdx[i] : aIdx[i]-n];
        d->aPairTime[k] = (int)(aKey[i] & 0xffffffff);
        k++;
      }
      d->aiPx[aIdx[i]] = k-1;       /* aiPT follows aiPx */
    }
    d->nPair = k;
    for(k=0; k<d->nPair; k++) d->aPairTMax[k] = -1;
    for(i=0; i<n; i++){
      int *pMax = &d->aPairTMax[d->aiPx[i]];
      if( d->aiTx[i]==d->aiT[i] ) continue;     /* no A0 term */
      if( *pMax<d->aiT[i] ) *pMax = d->aiT[i];
      pMax = &d->aPairTMax[d->aiPT[i]];
      if( *pMax<d->aiT[i] ) *pMax = d->aiT[i];
    }
  }
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  aKey = 0;
  aIdx = 0;
  d->aScratch = sqlite3_malloc64(sizeof(double)*(2*(u64)d->nTime
                                                 + (u64)d->nPair + 1));
  if( d->aScratch==0 ) goto index_nomem;
  return SQLITE_OK;

index_nomem:
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  clvDataFree(d);
  return SQLITE_NOMEM;
}

/* Build ClvData for eModel from n rows of 3 doubles, each >= 0 (and not
** -0.0): the unique rows in (x, t_x, T) order, weighted by their counts,
** ordered by three stable radix sorts of an index (by T, then t_x, then
** x). */
static int clvDataInit(ClvData *d, double *a, i64 n, int eModel){
  u64 *aKey = 0;
  int *aIdx;
  int i, j, k = -1;
  memset(d, 0, sizeof(*d));
  if( n>0x3fffffff ) return SQLITE_NOMEM;
  aIdx = sqlite3_malloc64(sizeof(int)*(u64)(n+1));
  if( aIdx==0 ) goto init_nomem;
  for(i=0; i<n; i++) aIdx[i] = i;
  aKey = sqlite3_malloc64(sizeof(u64)*(u64)(n+1));
  if( aKey==0 ) goto init_nomem;
  for(j=2; j>=0; j--){
    for(i=0; i<n; i++) aKey[i] = segDoubleKey(a[3*(i64)aIdx[i]+j]);
    if( segRadixSort(aKey, aIdx, (int)n, 0) ) goto init_nomem;
  }
  /* count the unique rows, then copy them */
  for(i=0; i<n; i++){
    const double *pRow = &a[3*(i64)aIdx[i]];
    const double *pPrev = i ? &a[3*(i64)aIdx[i-1]] : 0;
    if( pPrev==0 || memcmp(pRow, pPrev, 3*sizeof(double)) ) k++;
  }
  if( clvDataAlloc(d, k+1) ) goto init_nomem;
  for(i=0, k=-1; i<n; i++){
    const double *pRow = &a[3*(i64)aIdx[i]];
    const double *pPrev = i ? &a[3*(i64)aIdx[i-1]] : 0;
    if( pPrev==0 || memcmp(pRow, pPrev, 3*sizeof(double)) ){
      k++;
      d->aX[k] = pRow[0];
      d->aTx[k] = pRow[1];
      d->aT[k] = pRow[2];
      d->aW[k] = 1.0;
    }else{
      d->aW[k] += 1.0;
    }
  }
  d->n = k+1;
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  return clvDataIndex(d, eModel);

init_nomem:
  sqlite3_free(aKey);
  sqlite3_free(aIdx);
  clvDataFree(d);
  return SQLITE_NOMEM;
}

/* A systematic subsample of about nWant customers of d: walking the
** sorted rows, row i keeps floor(f S_i) - floor(f S_(i-1)) of its weight,
** S_i the running total of weights, f = nWant / total.  Deterministic and
** stratified by x, t_x, T. */
static int clvDataSub(ClvData *pSub, const ClvData *d, double nWant,
                      int eModel){
  double f = nWant/d->nTotal, S = 0.0, prev = 0.0;
  int i, k = 0;
  if( clvDataAlloc(pSub, d->n) ) return SQLITE_NOMEM;
  pSub->pCheck = d->pCheck;
  for(i=0; i<d->n; i++){
    double cur, w;
    S += d->aW[i];
    cur = floor(f*S);
    w = cur - prev;
    prev = cur;
    if( w<=0.0 ) continue;
    pSub->aX[k] = d->aX[i];
    pSub->aTx[k] = d->aTx[i];
    pSub->aT[k] = d->aT[i];
    pSub->aW[k] = w;
    k++;
  }
  /* compact: aTx, aT, aW were laid out for d->n rows; fine as they are */
  pSub->n = k;
  return clvDataIndex(pSub, eModel);
}

/* Above twice this many customers a fit starts from the optimum of a
** subsample of CLV_SUBSAMPLE customers (then clvRefine on all of them),
** and that subsample's fit from one of a tenth of its size, down to
** CLV_SUBSAMPLE_MIN: the search that explores (Nelder-Mead, Newton, the
** restarts) runs on the smallest sample, each larger one only refines. */
#define CLV_SUBSAMPLE 20000.0
#define CLV_SUBSAMPLE_MIN 2000.0

/* Fit eModel to d from pFit->aTheta, through subsamples of nSub, nSub/10,
** ... customers where d is large enough (above).  At the top level (bTop),
** a subsample without an optimum (e.g. on the boundary) gives its best
** point, not converged, with its log-likelihood on all the data; below
** it, a level whose refinement does not converge is searched whole
** (clvOptimize) from where it stopped. */
static void clvFitFrom(int eModel, const ClvData *d, ClvFit *pFit,
                       double nSub, int bTop){
  ClvData sub;
  double aHs[4][4], rScale;
  int i, j, nIter;
  if( nSub<CLV_SUBSAMPLE_MIN || d->nTotal<=2*nSub
   || clvDataSub(&sub, d, nSub, eModel)!=SQLITE_OK ){
    clvOptimize(pFit, d);
    return;
  }
  rScale = d->nTotal/sub.nTotal;
  clvFitFrom(eModel, &sub, pFit, nSub/10.0, 0);
  clvDataFree(&sub);
  for(i=0; i<pFit->nParam; i++){
    for(j=0; j<pFit->nParam; j++) aHs[i][j] = pFit->aH[i][j]*rScale;
  }
  nIter = pFit->nIter;
  if( clvStopped(d) ) return;     /* interrupted: the caller reports it */
  if( pFit->bConverged ){
    clvRefine(pFit, d, aHs);
    pFit->nIter += nIter;
    if( pFit->bConverged || bTop || clvStopped(d) ) return;
  }else if( bTop ){
    pFit->rNll = clvNll(eModel, d, pFit->aTheta);
    for(i=0; i<4; i++) pFit->aSe[i] = NAN;
    return;
  }
  nIter = pFit->nIter;
  clvOptimize(pFit, d);
  pFit->nIter += nIter;
}

/* Fit eModel to the data: starting point by model. */
static void clvFitData(int eModel, const ClvData *d, ClvFit *pFit){
  memset(pFit, 0, sizeof(*pFit));
  pFit->eModel = eModel;
  pFit->nParam = aClvNParam[eModel];
  if( eModel==CLV_GG ){
    /* p = 1, q = 2, gamma = mean m */
    double s = 0.0;
    int i;
    for(i=0; i<d->n; i++) s += d->aW[i]*d->aTx[i];
    pFit->aTheta[0] = 0.0;
    pFit->aTheta[1] = log(2.0);
    pFit->aTheta[2] = log(s/d->nTotal > 0 ? s/d->nTotal : 1.0);
  }else{
    /* r = 1, alpha = mean T, a (s) = 1, b (beta) = 1 or mean T */
    double s = 0.0;
    int i;
    for(i=0; i<d->n; i++) s += d->aW[i]*d->aT[i];
    s = s/d->nTotal;
    if( !(s>0.0) ) s = 1.0;
    pFit->aTheta[0] = 0.0;
    pFit->aTheta[1] = log(s);
    pFit->aTheta[2] = 0.0;
    pFit->aTheta[3] = eModel==CLV_PARETO ? log(s) : 0.0;
  }
  clvFitFrom(eModel, d, pFit, CLV_SUBSAMPLE, 1);
}

/* Fit eModel to d with time in units of the mean T (requirement F7): d's
** times are divided by it, in place, and rounded to multiples of 2^-30 (so
** that the last-bit differences between t/7/(c/7) and t/c vanish), so
** that the fit runs on the same numbers whatever the unit; alpha and
** beta, their standard errors and the log-likelihood are then expressed
** in d's unit again.  A rescaling
** of time by c multiplies each customer's likelihood by c^-x (the density
** of x purchase times), so LL = LL' - log(c) sum x. */
#define CLV_TIME_GRID(t) (rint(ldexp((t), 30))/1073741824.0)
static void clvFitScaled(int eModel, ClvData *d, ClvFit *pFit){
  double c = 0.0, sx = 0.0, lc;
  int i;
  if( eModel==CLV_GG ){ clvFitData(eModel, d, pFit); return; }
  for(i=0; i<d->n; i++){
    c += d->aW[i]*d->aT[i];
    sx += d->aW[i]*d->aX[i];
  }
  c = c/d->nTotal;
  if( !(c>0.0) || !isfinite(c) ) c = 1.0;
  for(i=0; i<d->n; i++){
    d->aTx[i] = CLV_TIME_GRID(d->aTx[i]/c);
    d->aT[i] = CLV_TIME_GRID(d->aT[i]/c);
  }
  for(i=0; i<d->nTime; i++) d->aTime[i] = CLV_TIME_GRID(d->aTime[i]/c);
  clvFitData(eModel, d, pFit);
  lc = log(c);
  pFit->aTheta[1] += lc;
  pFit->aSe[1] *= c;
  if( eModel==CLV_PARETO ){
    pFit->aTheta[3] += lc;
    pFit->aSe[3] *= c;
  }
  pFit->rNll += lc*sx;
}

/* Fit eModel to aRow[0..n-1] (3 doubles a row: x, t_x, T, or x, m, 0 for
** the Gamma-Gamma), checking pCheck: *pFit, or an error code. */
static int clvFitRows(int eModel, double *aRow, i64 n, SegCheck *pCheck,
                      ClvFit *pFit){
  ClvData d;
  int rc = clvDataInit(&d, aRow, n, eModel);
  if( rc ) return rc;
  d.pCheck = pCheck;
  clvFitScaled(eModel, &d, pFit);
  clvDataFree(&d);
  return pCheck && pCheck->rc ? pCheck->rc : SQLITE_OK;
}

/* A model's JSON, without its closing brace (segmentInt.h). */
void segFitJson(sqlite3_str *pStr, const char *zModel, const char *zUnit,
                const char *const *azParam, const SegFit *p, double n){
  int i;
  int bFinite = 1;
  for(i=0; i<p->nParam; i++){
    if( !isfinite(exp(p->aTheta[i])) ) bFinite = 0;
  }
  sqlite3_str_appendf(pStr, "{\"model\":\"%s\",", zModel);
  if( zUnit ) sqlite3_str_appendf(pStr, "\"unit\":\"%s\",", zUnit);
  sqlite3_str_appendall(pStr, "\"params\":{");
  for(i=0; i<p->nParam; i++){
    sqlite3_str_appendf(pStr, "%s\"%s\":", i ? "," : "", azParam[i]);
    segJsonAppendNumber(pStr, bFinite ? exp(p->aTheta[i]) : NAN);
  }
  sqlite3_str_appendall(pStr, "},\"log_likelihood\":");
  segJsonAppendNumber(pStr, -p->rNll);
  sqlite3_str_appendall(pStr, ",\"std_errors\":{");
  for(i=0; i<p->nParam; i++){
    sqlite3_str_appendf(pStr, "%s\"%s\":", i ? "," : "", azParam[i]);
    segJsonAppendNumber(pStr, p->aSe[i]);
  }
  sqlite3_str_appendf(pStr, "},\"iterations\":%d,\"converged\":%s,\"n\":",
                      p->nIter, p->bConverged && bFinite ? "true" : "false");
  if( n==floor(n) && n<9e15 ){
    sqlite3_str_appendf(pStr, "%lld", (i64)n);
  }else{
    segJsonAppendNumber(pStr, n);
  }
  sqlite3_str_appendf(pStr, ",\"k\":%d,\"aic\":", p->nParam);
  segJsonAppendNumber(pStr, 2.0*p->nParam + 2.0*p->rNll);
  sqlite3_str_appendall(pStr, ",\"bic\":");
  segJsonAppendNumber(pStr, p->nParam*log(n) + 2.0*p->rNll);
}

/* The JSON model text; sqlite3_malloc'd or NULL on OOM. */
static char *clvModelJson(const ClvFit *p, int eUnit, i64 n,
                          const ClvAgg *pAgg){
  sqlite3_str *pStr = sqlite3_str_new(0);
  SegFit f;
  f.nParam = p->nParam;
  memcpy(f.aTheta, p->aTheta, sizeof(f.aTheta));
  memcpy(f.aSe, p->aSe, sizeof(f.aSe));
  f.rNll = p->rNll;
  f.nIter = p->nIter;
  f.bConverged = p->bConverged;
  segFitJson(pStr, azClvModel[p->eModel], azClvUnit[eUnit],
             azClvParam[p->eModel], &f, (double)n);
  if( p->eModel==CLV_GG && pAgg ){
    sqlite3_str_appendf(pStr, ",\"excluded\":{\"one_time\":%lld,"
                        "\"non_positive_spend\":%lld}",
                        pAgg->nOneTime, pAgg->nNonPos);
  }
  sqlite3_str_appendall(pStr, "}");
  return sqlite3_str_finish(pStr);
}

static void clvFitFinal(sqlite3_context *ctx){
  int eModel = (int)(intptr_t)sqlite3_user_data(ctx);
  ClvAgg *p = (ClvAgg*)sqlite3_aggregate_context(ctx, 0);
  ClvFit fit;
  SegCheck chk;
  char *z;
  int rc;
  if( p==0 ) return;               /* no rows */
  if( p->bError || p->n==0 ){ sqlite3_free(p->a); return; }
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  rc = clvFitRows(eModel, p->a, p->n, &chk, &fit);
  segCheckFree(&chk);
  sqlite3_free(p->a);
  if( rc ){
    /* no memory, or F8: interrupted */
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_error_code(ctx, rc);
    return;
  }
  z = clvModelJson(&fit, eModel==CLV_GG ? 1 : p->eUnit, p->n, p);
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/**************************************************************************
** Models applied (scalars)
*/
typedef SegModel ClvModel;        /* segmentInt.h */

/* Parse a model; 0 OK, 1 not a model, SQLITE_NOMEM. */
static int clvModelParse(const char *z, int n, ClvModel *m){
  SegJson *pJson = 0;
  const char *zName;
  int rc, i;
  rc = segJsonParse(z, n, &pJson);
  if( rc==SQLITE_NOMEM ) return SQLITE_NOMEM;
  if( rc ) return 1;
  memset(m, 0, sizeof(*m));
  zName = segJsonGetText(pJson, "model");
  m->eModel = -1;
  for(i=0; zName && azClvModel[i]; i++){
    if( strcmp(zName, azClvModel[i])==0 ) m->eModel = i;
  }
  zName = segJsonGetText(pJson, "unit");
  m->eUnit = 1;
  if( zName ){
    m->eUnit = -1;
    for(i=0; azClvUnit[i]; i++){
      if( strcmp(zName, azClvUnit[i])==0 ) m->eUnit = i;
    }
  }
  rc = (m->eModel<0 || m->eUnit<0);
  for(i=0; rc==0 && i<aClvNParam[m->eModel]; i++){
    char zPath[32];
    sqlite3_snprintf(sizeof(zPath), zPath, "params.%s",
                     azClvParam[m->eModel][i]);
    if( !segJsonGetNumber(pJson, zPath, &m->a[i])
     || !(m->a[i]>0.0) || !isfinite(m->a[i]) ){
      rc = 1;
    }
  }
  segJsonFree(pJson);
  return rc;
}

static int clvModelParseKind(const char *z, int n, void **ppModel){
  ClvModel *m = sqlite3_malloc64(sizeof(*m));
  int rc;
  *ppModel = 0;
  if( m==0 ) return SQLITE_NOMEM;
  rc = clvModelParse(z, n, m);
  if( rc ){
    sqlite3_free(m);
    return rc==SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  *ppModel = m;
  return SQLITE_OK;
}

/* P2: the scalars' models, parsed once per statement (json.c) */
static const SegModelKind clvModelKind = { clvModelParseKind, segFree };

/* The model of argument iArg, cached.  NULL (after setting an error, or
** for a NULL argument with *pbNull) when there is none. */
static const ClvModel *clvModelArg(sqlite3_context *ctx, sqlite3_value **argv,
                                   int iArg, const char *zFunc, int mask,
                                   int *pbNull){
  const ClvModel *m;
  void *pModel;
  int rc;
  *pbNull = 0;
  if( sqlite3_value_type(argv[iArg])==SQLITE_NULL ){ *pbNull = 1; return 0; }
  rc = segModelArg(ctx, argv, iArg, &clvModelKind, &pModel);
  if( rc ){
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
    }else{
      char *zErr = sqlite3_mprintf("%s argument to %s() is not a "
                                   "libsegment model", segOrdinal(iArg+1),
                                   zFunc);
      if( zErr ) sqlite3_result_error(ctx, zErr, -1);
      else sqlite3_result_error_nomem(ctx);
      sqlite3_free(zErr);
    }
    return 0;
  }
  m = (const ClvModel*)pModel;
  if( (mask & (1<<m->eModel))==0 ){
    /* "is not a bgnbd, pareto_nbd or mbgnbd model": the kinds of mask */
    sqlite3_str *pStr = sqlite3_str_new(0);
    int i, nLeft = 0;
    char *zErr;
    for(i=0; azClvModel[i]; i++) nLeft += (mask>>i)&1;
    sqlite3_str_appendf(pStr, "%s argument to %s() is not a ",
                        segOrdinal(iArg+1), zFunc);
    for(i=0; azClvModel[i]; i++){
      if( ((mask>>i)&1)==0 ) continue;
      nLeft--;
      sqlite3_str_appendf(pStr, "%s%s", azClvModel[i],
                          nLeft>1 ? ", " : nLeft==1 ? " or " : " model");
    }
    zErr = sqlite3_str_finish(pStr);
    if( zErr ) sqlite3_result_error(ctx, zErr, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
    return 0;
  }
  return m;
}

/* The same for discrete.c (segmentInt.h) */
const SegModel *segModelOfArg(sqlite3_context *ctx, sqlite3_value **argv,
                              int iArg, const char *zFunc, int mask,
                              int *pbNull){
  return clvModelArg(ctx, argv, iArg, zFunc, mask, pbNull);
}

/* Read numeric arguments argv[i0..i0+n-1] into a.  Returns 1 OK, 0 NULL
** (result left NULL), -1 error set. */
static int clvArgs(sqlite3_context *ctx, sqlite3_value **argv, int i0, int n,
                   const char *zFunc, double *a){
  int i;
  for(i=0; i<n; i++){
    if( sqlite3_value_type(argv[i0+i])==SQLITE_NULL ) return 0;
  }
  for(i=0; i<n; i++){
    if( !clvNumArg(argv[i0+i], &a[i]) ){
      char *z = sqlite3_mprintf("%s argument to %s() is not a number",
                                segOrdinal(i0+i+1), zFunc);
      if( z ) sqlite3_result_error(ctx, z, -1);
      else sqlite3_result_error_nomem(ctx);
      sqlite3_free(z);
      return -1;
    }
  }
  return 1;
}

/* Check x, t_x, T at argv index i0 (values in a[0..2]). */
static int clvCheckHistory(sqlite3_context *ctx, int i0, const char *zFunc,
                           const double *a){
  const char *zFmt = 0;
  int iArg = i0;
  if( a[0]<0.0 || a[0]!=floor(a[0]) ){
    zFmt = "%s argument to %s() (x) is not a whole number >= 0";
  }else if( a[1]<0.0 ){
    zFmt = "%s argument to %s() (t_x) is negative"; iArg = i0+1;
  }else if( a[2]<a[1] ){
    zFmt = "%s argument to %s() (T) is less than t_x"; iArg = i0+2;
  }
  if( zFmt ){
    char *z = sqlite3_mprintf(zFmt, segOrdinal(iArg+1), zFunc);
    if( z ) sqlite3_result_error(ctx, z, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(z);
    return 0;
  }
  return 1;
}

static double clvPAlive(const ClvModel *m, double x, double tx, double T){
  if( m->eModel==CLV_BGNBD ){
    double r = m->a[0], al = m->a[1], a = m->a[2], b = m->a[3];
    double l;
    if( x==0.0 ) return 1.0;
    l = log(a) - log(b+x-1.0) + (r+x)*(log(al+T) - log(al+tx));
    return exp(-clvLogAdd(0.0, l));
  }else if( m->eModel==CLV_MBGNBD ){
    /* dropped at t_x (x = 0 too) against alive at T */
    double r = m->a[0], al = m->a[1], a = m->a[2], b = m->a[3];
    double l = log(a) - log(b+x) + (r+x)*(log(al+T) - log(al+tx));
    return exp(-clvLogAdd(0.0, l));
  }else{
    double r = m->a[0], al = m->a[1], s = m->a[2], be = m->a[3], l1, l;
    l = clvParetoLogL(r, al, s, be, x, tx, T, &l1);
    return exp(l1 - l);
  }
}

/* The BG/NBD's E[X(t)] of a new customer with parameters (r, alpha, a,
** b); with (r+x, alpha+T, a, b+x) it is the numerator of E[Y(t) | x,
** t_x, T].  The closed form
**   E = c/e (1 - (1-z)^r 2F1(r, b; c; z)),
**   c = a+b-1, e = a-1, z = t/(alpha+t), log(1-z) = L = -log1p(t/alpha)
** is 0/0 at a = 1 (and has a 2F1 with c = 0 at a+b = 1), yet E is
** smooth in a and b there (it is E_p[(1 - (1+p t/alpha)^-r)/p] with p
** ~ Beta(a, b)).  Euler's transformation gives (1-z)^r 2F1(r, b; c; z) =
** (1-z)^e 2F1(A, e; c; z), A = c-r, and with e and c divided out of that
** series' terms, 2F1(A, e; c; z) = 1 + e K/c,
**   K = sum_{j>=1} (A)_j (e+1)_{j-1} / ((c+1)_{j-1} j!) z^j,
** so that
**   E = c Q - (1-z)^e K,   Q = -expm1(e L)/e  (-L at e = 0),
** with no division by e or c (c > -1, so c+j > 0 for j >= 1).  K's terms
** shrink fast for heavy buyers; where the series does not converge (very
** large a) the direct series of 2F1(r, b; c; z), whose e is then far
** from 0. */
static double clvBgnbdExpected(double r, double al, double a, double b,
                               double t){
  double c = a+b-1.0, e = a-1.0, A = c-r;
  double z = t/(al+t), L = -log1p(t/al), Q, s = 0.0, u;
  int j;
  if( t<=0.0 ) return 0.0;
  Q = e==0.0 ? -L : -expm1(e*L)/e;
  u = A*z;
  for(j=1; j<200000; j++){
    s += u;
    if( !isfinite(s) ) break;
    if( fabs(u)<=1e-17*fabs(s) && j>3 ) return c*Q - exp(e*L)*s;
    u *= (A+j)*(e+j)/((c+j)*(j+1.0))*z;
  }
  u = clvHyp2f1(r, b, c, z);
  return c/e*(1.0-exp(r*L)*u);
}

/* The Pareto/NBD's integral from 0 to t of (bt/(bt+u))^s du / bt, i.e.
** (1 - (bt/(bt+t))^(s-1))/(s-1), log(1 + t/bt) at s = 1. */
static double clvParetoK(double s, double bt, double t){
  double lu = -log1p(t/bt);                 /* log(bt/(bt+t)) */
  return s==1.0 ? -lu : -expm1((s-1.0)*lu)/(s-1.0);
}

/* E[X(t)] for a new customer. */
static double clvExpected(const ClvModel *m, double t){
  if( t<=0.0 ) return 0.0;
  if( m->eModel==CLV_BGNBD ){
    return clvBgnbdExpected(m->a[0], m->a[1], m->a[2], m->a[3], t);
  }else if( m->eModel==CLV_MBGNBD ){
    /* (1-p) times the BG/NBD's (1 - e^(-lambda p t))/p: Beta(a, b)
    ** weighted by 1-p is b/(a+b) Beta(a, b+1) */
    double a = m->a[2], b = m->a[3];
    return b/(a+b)*clvBgnbdExpected(m->a[0], m->a[1], a, b+1.0, t);
  }else{
    double r = m->a[0], al = m->a[1], s = m->a[2], be = m->a[3];
    return r*be/al*clvParetoK(s, be, t);
  }
}

/* E[Y(t) | x, t_x, T]. */
static double clvCondExpected(const ClvModel *m, double t, double x,
                              double tx, double T){
  if( t<=0.0 ) return 0.0;
  if( m->eModel==CLV_BGNBD ){
    double r = m->a[0], al = m->a[1], a = m->a[2], b = m->a[3];
    double num = clvBgnbdExpected(r+x, al+T, a, b+x, t);
    double den = 1.0;
    if( x>0 ){
      den += exp(log(a) - log(b+x-1.0) + (r+x)*(log(al+T) - log(al+tx)));
    }
    return num/den;
  }else if( m->eModel==CLV_MBGNBD ){
    /* alive at T: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+1),
    ** then the BG/NBD's (1 - e^(-lambda p t))/p */
    double r = m->a[0], al = m->a[1], a = m->a[2], b = m->a[3];
    return clvBgnbdExpected(r+x, al+T, a, b+x+1.0, t)
         * clvPAlive(m, x, tx, T);
  }else{
    double r = m->a[0], al = m->a[1], s = m->a[2], be = m->a[3];
    return (r+x)*(be+T)/(al+T)*clvParetoK(s, be+T, t)
         * clvPAlive(m, x, tx, T);
  }
}

/* Gamma-Gamma expected mean spend, the mean of p/nu with nu ~ Gamma(p x
** + q, gamma + m x) (the posterior of the spend rate): it exists only
** when p x + q > 1 (clvSpendFinite); NaN otherwise. */
static int clvSpendFinite(const ClvModel *g, double x){
  return g->a[0]*x + g->a[1] > 1.0;
}
static double clvSpend(const ClvModel *g, double x, double mVal){
  double p = g->a[0], q = g->a[1], gam = g->a[2];
  if( !clvSpendFinite(g, x) ) return NAN;
  if( x==0.0 ) return p*gam/(q-1.0);
  return (gam + mVal*x)*p/(p*x + q - 1.0);
}

/* CLV over nMonth months of 30 days in the model's unit. */
static double clvValue(const ClvModel *m, double rSpend, double x, double tx,
                       double T, int nMonth, double rDisc){
  double rMonth = 30.0/aClvUnitDays[m->eUnit];
  double s = 0.0, ePrev = 0.0;
  int i;
  for(i=1; i<=nMonth; i++){
    double e = clvCondExpected(m, rMonth*i, x, tx, T);
    s += rSpend*(e - ePrev)/pow(1.0+rDisc, (double)i);
    ePrev = e;
  }
  return s;
}

static void clvResult(sqlite3_context *ctx, const char *zFunc, double r){
  if( isfinite(r) ){
    sqlite3_result_double(ctx, r);
  }else{
    char *z = sqlite3_mprintf("%s(): numerical failure for these arguments",
                              zFunc);
    if( z ) sqlite3_result_error(ctx, z, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(z);
  }
}

/* What discrete.c uses of the above (segmentInt.h) */
double segLgamma(double x){ return clvLgamma(x); }
double segHyp2f1One(double b, double c, double z){
  ClvHyp h;
  clvHypInit(&h, b, c);
  return clvHyp2f1One(&h, z);
}
int segModelNumArgs(sqlite3_context *ctx, sqlite3_value **argv, int i0,
                    int n, const char *zFunc, double *a){
  return clvArgs(ctx, argv, i0, n, zFunc, a);
}
void segModelResult(sqlite3_context *ctx, const char *zFunc, double r){
  clvResult(ctx, zFunc, r);
}

static void clvPAliveFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  const ClvModel *m;
  double a[3];
  int bNull, rc;
  m = clvModelArg(ctx, argv, 0, "p_alive",
                  CLV_PURCHASE_MASK|(1<<CLV_BGBB), &bNull);
  if( m==0 ) return;
  if( m->eModel==CLV_BGBB ){ segBgbbPAliveFunc(ctx, argc, argv, m); return; }
  rc = clvArgs(ctx, argv, 1, 3, "p_alive", a);
  if( rc<=0 ) return;
  if( !clvCheckHistory(ctx, 1, "p_alive", a) ) return;
  clvResult(ctx, "p_alive", clvPAlive(m, a[0], a[1], a[2]));
}

static void clvExpectedFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  const ClvModel *m;
  double a[4];
  int bNull, rc;
  m = clvModelArg(ctx, argv, 0, "expected_purchases",
                  CLV_PURCHASE_MASK|(1<<CLV_BGBB), &bNull);
  if( m==0 ) return;
  if( m->eModel==CLV_BGBB ){
    segBgbbExpectedFunc(ctx, argc, argv, m);
    return;
  }
  rc = clvArgs(ctx, argv, 1, argc-1, "expected_purchases", a);
  if( rc<=0 ) return;
  if( a[0]<0.0 ){
    sqlite3_result_error(ctx,
        "2nd argument to expected_purchases() (t) is negative", -1);
    return;
  }
  if( argc==2 ){
    clvResult(ctx, "expected_purchases", clvExpected(m, a[0]));
  }else{
    if( !clvCheckHistory(ctx, 2, "expected_purchases", &a[1]) ) return;
    clvResult(ctx, "expected_purchases",
              clvCondExpected(m, a[0], a[1], a[2], a[3]));
  }
}

/* P(X(t) = k) (purchase_probability).
**
** BG/NBD, a new customer (Fader, Hardie & Lee 2005, eq. 8): given lambda
** and p, k purchases in t happen either alive throughout (k Poisson
** events, none a dropout) or with the dropout right after the k-th, the
** Poisson count having reached k by t.  Over lambda ~ Gamma(r, alpha)
** each Poisson probability becomes the NBD's, with q = alpha/(alpha+t),
** z = t/(alpha+t), nb(j) = Gamma(r+j)/(Gamma(r) j!) q^r z^j; over p ~
** Beta(a, b):
**   P = B(a, b+k)/B(a, b) nb(k)
**     + [k > 0] B(a+1, b+k-1)/B(a, b) sum_{j>=k} nb(j).
** The tail is summed from j = k while that is short (no 1 - head
** cancellation when it is small), else 1 - the head. */
static double clvBgnbdLogTail(double r, double lq, double lz, double k){
  double lt = clvLgamma(r+k) - clvLgamma(r) - clvLgamma(k+1.0)
            + r*lq + k*lz;
  double z = exp(lz), s = 1.0, u = 1.0, h = 0.0, v;
  double j;
  for(j=k; j<k+200000.0; j+=1.0){
    u *= (r+j)/(j+1.0)*z;
    s += u;
    if( u<=1e-17*s && (r+j)*z<(j+1.0) ) return lt + log(s);
  }
  if( k>=200000.0 ) return NAN;
  v = exp(r*lq);                   /* nb(0) */
  for(j=0.0; j<k; j+=1.0){
    h += v;
    v *= (r+j)/(j+1.0)*z;
  }
  return log1p(-h);
}

static double clvBgnbdPmf(double r, double al, double a, double b,
                          double k, double t){
  double lq = -log1p(t/al), lz = log(t/(al+t));
  double lbab = clvLgamma(a) + clvLgamma(b) - clvLgamma(a+b);
  double l1 = clvLgamma(a) + clvLgamma(b+k) - clvLgamma(a+b+k) - lbab
            + clvLgamma(r+k) - clvLgamma(r) - clvLgamma(k+1.0)
            + r*lq + k*lz;
  if( k>0.0 ){
    double l2 = clvLgamma(a+1.0) + clvLgamma(b+k-1.0) - clvLgamma(a+b+k)
              - lbab + clvBgnbdLogTail(r, lq, lz, k);
    l1 = clvLogAdd(l1, l2);
  }
  return exp(l1);
}

/* Pareto/NBD, a new customer: alive at t (e^{-mu t}) with k Poisson
** events by t, or dead at tau < t with k events by tau.  Over the gammas
**   P = C [ q^r z^k (beta/(beta+t))^s
**         + s alpha^r beta^s int_0^t tau^k (alpha+tau)^-(r+k)
**                                     (beta+tau)^-(s+1) dtau ],
** C = Gamma(r+k)/(Gamma(r) k!); with u = tau/(alpha+tau) the integral is
**   alpha^-r beta^-s (alpha/beta) int_0^z u^k (1-u)^(r+s-1)
**                                     (1 - (1-alpha/beta) u)^-(s+1) du,
** a smooth integrand (1 - c u > 0 on [0, z], z < 1), integrated by
** tanh-sinh quadrature in log space, halving the step until two levels
** agree to 1e-12. */
static double clvParetoLogI(double r, double s, double c, double k,
                            double z){
  double lPrev = NAN, lSum = -INFINITY, h = 1.0;
  int lev, j;
  for(lev=0; lev<=12; lev++){
    int n = (int)(3.5/h);
    double lI;
    for(j=-n; j<=n; j++){
      double tau = j*h, v, av, e, u, lw, lf;
      if( lev>0 && (j%2)==0 ) continue;
      v = 1.5707963267948966*sinh(tau);
      av = fabs(v);
      e = exp(-2.0*av);
      u = v>=0.0 ? z/(1.0+e) : z*e/(1.0+e);
      if( !(u>0.0) ) continue;
      lw = log(0.5*z) + log(1.5707963267948966*cosh(tau))
         - 2.0*(av + log1p(e) - 0.6931471805599453);
      lf = k*log(u) + (r+s-1.0)*log1p(-u) - (s+1.0)*log1p(-c*u);
      lSum = clvLogAdd(lSum, lw+lf);
    }
    lI = lSum + log(h);
    if( lev>=3 && fabs(expm1(lI-lPrev))<1e-12 ) return lI;
    lPrev = lI;
    h *= 0.5;
  }
  return lPrev;
}

static double clvParetoPmf(double r, double al, double s, double be,
                           double k, double t){
  double lc = clvLgamma(r+k) - clvLgamma(r) - clvLgamma(k+1.0);
  double l1 = -r*log1p(t/al) + k*log(t/(al+t)) - s*log1p(t/be);
  double l2 = log(s) + log(al) - log(be)
            + clvParetoLogI(r, s, 1.0-al/be, k, t/(al+t));
  return exp(lc + clvLogAdd(l1, l2));
}

/* P(X(t) = k) of a new customer. */
static double clvPmf(const ClvModel *m, double k, double t){
  if( t<=0.0 ) return k==0.0 ? 1.0 : 0.0;
  switch( m->eModel ){
    case CLV_BGNBD:
      return clvBgnbdPmf(m->a[0], m->a[1], m->a[2], m->a[3], k, t);
    case CLV_PARETO:
      return clvParetoPmf(m->a[0], m->a[1], m->a[2], m->a[3], k, t);
    case CLV_MBGNBD: {
      /* MBG/NBD: the first dropout chance is at time 0, so with
      ** E[p] = a/(a+b) the customer is gone at once; otherwise p given
      ** survival is Beta(a, b+1) and the rest is a BG/NBD. */
      double a = m->a[2], b = m->a[3], w = b/(a+b);
      double v = w*clvBgnbdPmf(m->a[0], m->a[1], a, b+1.0, k, t);
      return k==0.0 ? a/(a+b) + v : v;
    }
  }
  return NAN;
}

/* P(k purchases in (T, T+t] | x, t_x, T).  Both models are memoryless:
** a customer alive at T goes on as a new customer whose parameters are
** the posterior of the alive part of the likelihood, (r+x, alpha+T, a,
** b+x) for the BG/NBD, (r+x, alpha+T, s, beta+T) for the Pareto/NBD; a
** dead one makes none.  An MBG/NBD customer alive at T survived x+1
** chances (time 0 included) and has no time-0 chance left: a BG/NBD with
** (r+x, alpha+T, a, b+x+1).  So P = p_alive P_post(X(t) = k) + [k = 0] (1 -
** p_alive), whose mean is expected_purchases(model, t, x, t_x, T). */
static double clvCondPmf(const ClvModel *m, double k, double t, double x,
                         double tx, double T){
  ClvModel post = *m;
  double pa = clvPAlive(m, x, tx, T);
  post.a[0] += x;
  post.a[1] += T;
  switch( m->eModel ){
    case CLV_BGNBD:  post.a[3] += x; break;
    case CLV_PARETO: post.a[3] += T; break;
    case CLV_MBGNBD: post.a[3] += x+1.0; post.eModel = CLV_BGNBD; break;
    default:         return NAN;
  }
  return pa*clvPmf(&post, k, t) + (k==0.0 ? 1.0-pa : 0.0);
}

static void clvPmfFunc(sqlite3_context *ctx, int argc,
                       sqlite3_value **argv){
  const ClvModel *m;
  double a[5];
  int bNull, rc;
  m = clvModelArg(ctx, argv, 0, "purchase_probability", CLV_PURCHASE_MASK,
                  &bNull);
  if( m==0 ) return;
  rc = clvArgs(ctx, argv, 1, argc-1, "purchase_probability", a);
  if( rc<=0 ) return;
  if( a[0]<0.0 || a[0]!=floor(a[0]) ){
    sqlite3_result_error(ctx, "2nd argument to purchase_probability() must "
                         "be a whole number >= 0", -1);
    return;
  }
  if( a[1]<0.0 ){
    sqlite3_result_error(ctx,
        "3rd argument to purchase_probability() (t) is negative", -1);
    return;
  }
  if( argc==3 ){
    clvResult(ctx, "purchase_probability", clvPmf(m, a[0], a[1]));
  }else{
    if( !clvCheckHistory(ctx, 3, "purchase_probability", &a[2]) ) return;
    clvResult(ctx, "purchase_probability",
              clvCondPmf(m, a[0], a[1], a[2], a[3], a[4]));
  }
}

/* The Gamma-Gamma spend of x repeat purchases of mean m into *pOut, for
** zFunc(): 1 done; 0 with the result left NULL (x > 0, m <= 0: P5) or an
** error set (an infinite expectation, named after the zModel argument). */
static int clvSpendOf(sqlite3_context *ctx, const char *zFunc,
                      const char *zModel, const ClvModel *g, double x,
                      double m, double *pOut){
  const char *zWhy = 0;
  if( x>0.0 && !(m>0.0) ) return 0;
  if( x==0.0 && g->a[1]<=1.0 ){
    zWhy = "q <= 1, so the population mean spend is infinite";
  }else if( !clvSpendFinite(g, x) ){
    zWhy = "p x + q <= 1 for this x, so the expected spend is infinite";
  }
  if( zWhy ){
    char *zErr = sqlite3_mprintf("%s(): the %s's %s", zFunc, zModel, zWhy);
    if( zErr ) sqlite3_result_error(ctx, zErr, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
    return 0;
  }
  *pOut = clvSpend(g, x, m);
  return 1;
}

static void clvSpendFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv){
  const ClvModel *g;
  double a[2], rSpend;
  int bNull, rc;
  (void)argc;
  g = clvModelArg(ctx, argv, 0, "expected_spend", 1<<CLV_GG, &bNull);
  if( g==0 ) return;
  rc = clvArgs(ctx, argv, 1, 2, "expected_spend", a);
  if( rc<=0 ) return;
  if( a[0]<0.0 || a[0]!=floor(a[0]) ){
    sqlite3_result_error(ctx, "2nd argument to expected_spend() (x) is not "
                         "a whole number >= 0", -1);
    return;
  }
  if( clvSpendOf(ctx, "expected_spend", "model", g, a[0], a[1], &rSpend) ){
    clvResult(ctx, "expected_spend", rSpend);
  }
}

static void clvValueFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv){
  const ClvModel *m, *g;
  double a[6], rDisc = 0.01, rSpend;
  int bNull, rc;
  m = clvModelArg(ctx, argv, 0, "clv", CLV_PURCHASE_MASK, &bNull);
  if( m==0 ) return;
  g = clvModelArg(ctx, argv, 1, "clv", 1<<CLV_GG, &bNull);
  if( g==0 ) return;
  rc = clvArgs(ctx, argv, 2, argc-2, "clv", a);
  if( rc<=0 ) return;
  if( !clvCheckHistory(ctx, 2, "clv", a) ) return;
  if( a[4]<0.0 || a[4]>1200.0 || a[4]!=floor(a[4]) ){
    sqlite3_result_error(ctx, "7th argument to clv() (months) is not a whole "
                         "number between 0 and 1200", -1);
    return;
  }
  if( argc==8 ){
    rDisc = a[5];
    if( !(rDisc>-1.0) ){
      sqlite3_result_error(ctx, "8th argument to clv() (monthly discount) "
                           "is not greater than -1", -1);
      return;
    }
  }
  if( !clvSpendOf(ctx, "clv", "spend model", g, a[0], a[3], &rSpend) ){
    return;
  }
  clvResult(ctx, "clv", clvValue(m, rSpend, a[0], a[1], a[2], (int)a[4],
                                 rDisc));
}

/**************************************************************************
** The summary (shared by clv_summary and clv)
*/
typedef struct ClvTxn ClvTxn;
struct ClvTxn {
  double r;                       /* amount; NaN = NULL; < 0 a refund */
  int iCust;                      /* index in the reader's customer map */
  int iDay;
};

/* a customer's summary (segmentInt.h: shared with holdout.c) */
typedef SegClvCust ClvCust;

/* The clv table's predictions of a customer (NaN = NULL) */
typedef struct ClvPred ClvPred;
struct ClvPred {
  double pAlive, eY, eSpend, clv;
};

typedef struct ClvResult ClvResult;
struct ClvResult {
  SegSource src;
  ClvCust *aCust;
  ClvPred *aPred;                 /* the clv table only */
  int nCust;
  int eUnit;                      /* unit= option */
};

static void clvResultFree(void *pData){
  ClvResult *p = (ClvResult*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aPred);
  sqlite3_free(p);
}

static void clvDoubleOrNull(sqlite3_context *ctx, double r){
  if( !isnan(r) ) sqlite3_result_double(ctx, r);
}

static int clvColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  ClvResult *p = (ClvResult*)pData;
  ClvCust *c = &p->aCust[iRow];
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[c->iCust]); break;
    case 1: sqlite3_result_int(ctx, c->x); break;
    case 2: sqlite3_result_double(ctx, c->tx); break;
    case 3: sqlite3_result_double(ctx, c->T); break;
    case 4: clvDoubleOrNull(ctx, c->m); break;
    case 5: clvDoubleOrNull(ctx, p->aPred[iRow].pAlive); break;
    case 6: clvDoubleOrNull(ctx, p->aPred[iRow].eY); break;
    case 7: clvDoubleOrNull(ctx, p->aPred[iRow].eSpend); break;
    case 8: clvDoubleOrNull(ctx, p->aPred[iRow].clv); break;
  }
  return SQLITE_OK;
}

/* clv_summary's columns: clv's first five, then unit. */
static int clvSummaryColumn(void *pData, i64 iRow, int iCol,
                            sqlite3_context *ctx){
  ClvResult *p = (ClvResult*)pData;
  if( iCol==5 ){
    sqlite3_result_text(ctx, azClvUnit[p->eUnit], -1, SQLITE_STATIC);
    return SQLITE_OK;
  }
  return clvColumn(pData, iRow, iCol, ctx);
}

/* Order of a customer's rows: day, orders before refunds, then amount
** (NULL first).  It fixes the order in which a day's amounts are summed.
** (A refund is an amount < 0, so r < 0 is the refund flag.) */
static int clvTxnOrder(const ClvTxn *a, const ClvTxn *b){
  int bRefundA = a->r<0.0, bRefundB = b->r<0.0;
  if( a->iDay!=b->iDay ) return a->iDay<b->iDay ? -1 : 1;
  if( bRefundA!=bRefundB ) return bRefundA<bRefundB ? -1 : 1;
  if( isnan(a->r) || isnan(b->r) ){
    return isnan(a->r) ? (isnan(b->r) ? 0 : -1) : 1;
  }
  if( a->r!=b->r ) return a->r<b->r ? -1 : 1;
  return 0;
}
static int clvTxnCmp(const void *pA, const void *pB){
  return clvTxnOrder((const ClvTxn*)pA, (const ClvTxn*)pB);
}

/* Insertion sort when few, else qsort. */
static void clvTxnSortRun(ClvTxn *a, i64 n){
  i64 i, j;
  if( n>32 ){
    qsort(a, (size_t)n, sizeof(ClvTxn), clvTxnCmp);
    return;
  }
  for(i=1; i<n; i++){
    ClvTxn t = a[i];
    for(j=i; j>0 && clvTxnOrder(&a[j-1], &t)>0; j--) a[j] = a[j-1];
    a[j] = t;
  }
}

/* Sort one customer's rows: nothing to do when they are in order (sources
** are usually stored by date); when only their days are in order, each
** day's rows on their own; else all of them. */
static void clvTxnSort(ClvTxn *a, i64 n){
  i64 i, j;
  for(i=1; i<n && clvTxnOrder(&a[i-1], &a[i])<=0; i++){}
  if( i>=n ) return;
  for(j=i; j<n && a[j-1].iDay<=a[j].iDay; j++){}
  if( j<n ){
    clvTxnSortRun(a, n);
    return;
  }
  for(i=0; i<n; i=j){
    for(j=i+1; j<n && a[j].iDay==a[i].iDay; j++){}
    if( j-i>1 ) clvTxnSortRun(&a[i], j-i);
  }
}

/* The scan of clv_summary(): the rows kept, counted per customer. */
typedef struct ClvScan ClvScan;
struct ClvScan {
  ClvTxn *aTxn;
  i64 nTxn, nAlloc;
  int iMaxDay;                    /* rows after this day are not kept */
};

/* A row of the scan; pCust is its customer's count of rows kept. */
static int clvRow(void *pCtx, void *pCust, const SegRow *r){
  ClvScan *q = (ClvScan*)pCtx;
  if( r->iDay>q->iMaxDay ) return SQLITE_OK;   /* after a split's holdout */
  if( segArrayGrow((void**)&q->aTxn, &q->nAlloc, q->nTxn, sizeof(ClvTxn),
                   1024, SEG_ARRAY_MAX) ){
    return SQLITE_NOMEM;
  }
  q->aTxn[q->nTxn].r = r->eAmount==SEG_AMT_KNOWN ? r->rAmount : NAN;
  q->aTxn[q->nTxn].iCust = r->iCust;
  q->aTxn[q->nTxn].iDay = r->iDay;
  q->nTxn++;
  (*(i64*)pCust)++;
  return SQLITE_OK;
}

/* The rows aTxn[0..nTxn-1] grouped by customer, in key order, by one
** scatter (a counting sort: linear in the rows) into a new array
** *paOut; aPos[] holds each customer's count of rows on entry, the end of
** its rows in *paOut on return.  The customer of rank k in key order is
** (*paSorted)[k]. */
static int clvTxnGroup(SegMap *pMap, const ClvTxn *aTxn, i64 nTxn,
                       i64 *aPos, int **paSorted, ClvTxn **paOut){
  ClvTxn *aOut;
  int *aSorted, k, rc;
  i64 i;
  rc = segMapSorted(pMap, paSorted);
  if( rc ) return rc;
  aSorted = *paSorted;
  aOut = *paOut = sqlite3_malloc64(sizeof(ClvTxn)*(u64)(nTxn+1));
  if( aOut==0 ) return SQLITE_NOMEM;
  for(k=0, i=0; k<pMap->nKey; k++){
    i64 n = aPos[aSorted[k]];
    aPos[aSorted[k]] = i;
    i += n;
  }
  for(i=0; i<nTxn; i++){
    /* a scatter at random: load the places, then the targets, ahead */
    if( i+32<nTxn ) SEG_PREFETCH(&aPos[aTxn[i+32].iCust]);
    if( i+8<nTxn ) SEG_PREFETCH(&aOut[aPos[aTxn[i+8].iCust]]);
    aOut[aPos[aTxn[i].iCust]++] = aTxn[i];
  }
  return SQLITE_OK;
}

/* What a customer's summary is measured against. */
typedef struct ClvPeriod ClvPeriod;
struct ClvPeriod {
  int iAsOf;                      /* T runs to this day */
  int iCalEnd;                    /* a split's calibration end, or INT_MAX */
  double rUnit;                   /* days per unit */
  int *aRepeat;                   /* a split's repeat purchase days, or 0 */
  i64 nRepeat;
};

/* The summary *c of one customer from its rows a[0..n-1] (sorted here by
** clvTxnOrder); 0 when it has none (refunds only, or new in a split's
** holdout). */
static int clvCustOf(ClvTxn *a, i64 n, ClvPeriod *pPer, ClvCust *c){
  int iFirstDay = -1, iLastDay = 0, nDay = 0, nKnown = 0;
  int nHold = 0, nHoldKnown = 0;
  SegSum spend = {0.0, 0.0}, hold = {0.0, 0.0};
  i64 i, j;
  clvTxnSort(a, n);
  for(i=0; i<n; i++){
    if( !(a[i].r<0.0) ){ iFirstDay = a[i].iDay; break; }
  }
  if( iFirstDay<0 || iFirstDay>pPer->iCalEnd ) return 0;
  for(i=0; i<n; i=j){
    int iDay = a[i].iDay, bOrder = 0, bKnown = 0;
    SegSum day = {0.0, 0.0};
    for(j=i; j<n && a[j].iDay==iDay; j++){
      if( !(a[j].r<0.0) ){
        bOrder = 1;
        if( !isnan(a[j].r) ) bKnown = 1;
      }
      if( !isnan(a[j].r) ) segSumAdd(&day, a[j].r);
    }
    if( iDay<iFirstDay ) continue;
    if( pPer->aRepeat && bOrder && iDay>iFirstDay ){
      pPer->aRepeat[pPer->nRepeat++] = iDay;
    }
    if( iDay>pPer->iCalEnd ){
      /* the holdout: its purchase days and net spend */
      segSumAdd(&hold, segSumValue(&day));
      if( bOrder ){ nHold++; if( bKnown ) nHoldKnown++; }
      continue;
    }
    if( bOrder ){ nDay++; iLastDay = iDay; }
    if( iDay==iFirstDay ) continue;
    segSumAdd(&spend, segSumValue(&day));
    if( bOrder && bKnown ) nKnown++;
  }
  memset(c, 0, sizeof(*c));
  c->x = nDay-1;
  c->tx = (iLastDay - iFirstDay)/pPer->rUnit;
  c->T = (pPer->iAsOf - iFirstDay)/pPer->rUnit;
  c->iFirstDay = iFirstDay;
  if( c->x==0 ) c->m = 0.0;
  else if( nKnown==0 ) c->m = NAN;
  else c->m = segSumValue(&spend)/nKnown;
  c->xHold = nHold;
  c->mHold = nHold>0 && nHoldKnown==0 ? NAN : segSumValue(&hold);
  return 1;
}

/* Read the source and fill *paCust in customer order (segmentInt.h).
** The rows are kept as (customer, day, amount) and counted per customer,
** grouped by customer in key order (clvTxnGroup), and each customer's
** summarized (clvCustOf).  With a split, T runs to the calibration end
** and the days after it are the holdout's. */
int segClvSummarize(sqlite3 *db, const SegOpts *pOpts, SegClvSplit *pSplit,
                    SegSource *pSrc, SegClvCust **paCust, int *pnCust,
                    int *peUnit, char **pzErr){
  ClvTxn *aTxn = 0, *aOut = 0;
  i64 *aPos = 0;                  /* rows of each customer, then ends */
  ClvScan q;
  SegEach e = { sizeof(i64), 1, clvRow, 0, 0, 0, 0 };
  ClvCust *aCust;
  ClvPeriod per;
  i64 iEnd;
  int *aSorted = 0;
  int eUnit, nKey, k, rc, nCust = 0;

  *paCust = 0;
  *pnCust = 0;
  rc = segOptsEnum(pOpts, "unit", azClvUnit, 1, &eUnit, pzErr);
  if( rc ) return rc;
  memset(&per, 0, sizeof(per));
  per.rUnit = aClvUnitDays[eUnit];
  per.iCalEnd = pSplit ? pSplit->iCalEnd : 0x7fffffff;
  *peUnit = eUnit;
  memset(&q, 0, sizeof(q));
  q.iMaxDay = pSplit ? pSplit->iHoldEnd : 0x7fffffff;
  e.pCtx = &q;
  rc = segSourceOpen(pSrc, db, pOpts, segStdColumns, 3, pzErr);
  if( rc==SQLITE_OK ) rc = segSourceEach(pSrc, &e, pzErr);
  aPos = (i64*)e.aCust;
  aTxn = q.aTxn;
  if( rc ) goto summary_done;
  if( pSplit ) per.iAsOf = per.iCalEnd;
  else segSourceAsOf(pSrc, &per.iAsOf);
  nKey = pSrc->cust.nKey;
  rc = clvTxnGroup(&pSrc->cust, aTxn, q.nTxn, aPos, &aSorted, &aOut);
  if( rc ) goto summary_done;
  if( pSplit ){
    per.aRepeat = sqlite3_malloc64(sizeof(int)*(u64)(q.nTxn+1));
    if( per.aRepeat==0 ){ rc = SQLITE_NOMEM; goto summary_done; }
  }
  /* The rows as read are no longer needed: their memory, already mapped
  ** and usually larger than the summary, is reused for it. */
  aCust = sqlite3_realloc64(aTxn, sizeof(ClvCust)*(u64)(nKey+1));
  if( aCust==0 ){ rc = SQLITE_NOMEM; goto summary_done; }
  *paCust = aCust;
  aTxn = aOut;
  aOut = 0;
  for(k=0, iEnd=0; k<nKey; k++){
    i64 iBegin = iEnd;
    iEnd = aPos[aSorted[k]];
    if( iBegin<iEnd && clvCustOf(&aTxn[iBegin], iEnd-iBegin, &per,
                                 &aCust[nCust]) ){
      aCust[nCust++].iCust = k;     /* the key's place after the reorder */
    }
  }
  /* keys in customer order, so that the rows read them in sequence */
  rc = segMapReorder(&pSrc->cust, aSorted);
  if( rc ) goto summary_done;
  *pnCust = nCust;
  if( pSplit ){
    pSplit->aRepeat = per.aRepeat;
    pSplit->nRepeat = per.nRepeat;
    per.aRepeat = 0;
  }

summary_done:
  sqlite3_free(aTxn);
  sqlite3_free(aOut);
  sqlite3_free(aSorted);
  sqlite3_free(per.aRepeat);
  sqlite3_free(aPos);
  return rc;
}

static int clvSummarize(sqlite3 *db, const SegOpts *pOpts, ClvResult *p,
                        char **pzErr){
  return segClvSummarize(db, pOpts, 0, &p->src, &p->aCust, &p->nCust,
                         &p->eUnit, pzErr);
}

static int clvSummaryCompute(sqlite3 *db, const SegOpts *pOpts,
                             SegResult *pRes, char **pzErr){
  ClvResult *p = sqlite3_malloc64(sizeof(*p));
  int rc;
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  rc = clvSummarize(db, pOpts, p, pzErr);
  if( rc ){
    clvResultFree(p);
    return rc;
  }
  pRes->nRow = p->nCust;
  pRes->pData = p;
  return SQLITE_OK;
}

/* The clv table: summary, fits, predictions. */
/* The (x, t_x, T) rows of n customers, 3 doubles each (sqlite3_malloc'd),
** or NULL. */
static double *clvCustRows(const ClvCust *aCust, int n){
  double *aRow = sqlite3_malloc64(sizeof(double)*3*(u64)(n>0 ? n : 1));
  int i;
  if( aRow==0 ) return 0;
  for(i=0; i<n; i++){
    aRow[3*i] = aCust[i].x;
    aRow[3*i+1] = aCust[i].tx;
    aRow[3*i+2] = aCust[i].T;
  }
  return aRow;
}

/* The options of the table-valued clv(): model=, horizon=, discount=,
** unit=. */
static int clvTableOptions(const SegOpts *pOpts, int *peModel,
                           int *pnHorizon, double *prDisc, int *peUnit,
                           char **pzErr){
  static const char *const azModel[] = { "bgnbd", "pareto_nbd", "mbgnbd", 0 };
  int rc = segOptsEnum(pOpts, "model", azModel, 0, peModel, pzErr);
  if( rc==SQLITE_OK && *peModel==2 ) *peModel = CLV_MBGNBD;
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "horizon", 12, 0, 1200, pnHorizon, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "discount", 0.01, 0.0, 1e6, prDisc, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsEnum(pOpts, "unit", azClvUnit, 1, peUnit, pzErr);
  }
  return rc;
}

/* The Gamma-Gamma of p's repeat buyers with a positive monetary value
** into *g (aRow: room for 3 doubles a customer); *pbSpend = 1 when its
** parameters allow expected spends (q > 1). */
static int clvTableSpend(ClvResult *p, double *aRow, SegCheck *pCheck,
                         ClvModel *g, int *pbSpend){
  ClvFit ggFit;
  int i, n, rc;
  *pbSpend = 0;
  for(i=0, n=0; i<p->nCust; i++){
    ClvCust *c = &p->aCust[i];
    if( c->x>0 && c->m>0.0 ){
      aRow[3*n] = c->x;
      aRow[3*n+1] = c->m;
      aRow[3*n+2] = 0.0;
      n++;
    }
  }
  if( n==0 ) return SQLITE_OK;
  rc = clvFitRows(CLV_GG, aRow, n, pCheck, &ggFit);
  if( rc ) return rc;
  g->eModel = CLV_GG;
  g->eUnit = p->eUnit;
  for(i=0; i<3; i++) g->a[i] = exp(ggFit.aTheta[i]);
  *pbSpend = isfinite(g->a[0]) && isfinite(g->a[1]) && isfinite(g->a[2])
          && g->a[1]>1.0;
  return SQLITE_OK;
}

static int clvTableCompute(sqlite3 *db, const SegOpts *pOpts,
                           SegResult *pRes, char **pzErr){
  ClvResult *p;
  double *aRow = 0, rDisc, rMonth;
  ClvFit fit;
  ClvModel m, g;
  SegCheck chk;
  int eModel, nHorizon, eUnit, rc, i, bSpend = 0;

  rc = clvTableOptions(pOpts, &eModel, &nHorizon, &rDisc, &eUnit, pzErr);
  if( rc ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  segCheckInit(&chk, db);
  rc = clvSummarize(db, pOpts, p, pzErr);
  if( rc || p->nCust==0 ) goto table_done;
  aRow = clvCustRows(p->aCust, p->nCust);
  p->aPred = sqlite3_malloc64(sizeof(ClvPred)*(u64)p->nCust);
  if( aRow==0 || p->aPred==0 ){ rc = SQLITE_NOMEM; goto table_done; }
  rc = clvFitRows(eModel, aRow, p->nCust, &chk, &fit);
  if( rc ) goto table_done;
  m.eModel = eModel;
  m.eUnit = eUnit;
  for(i=0; i<4; i++) m.a[i] = exp(fit.aTheta[i]);
  for(i=0; i<4; i++){
    if( !isfinite(m.a[i]) || m.a[i]<=0.0 ){
      *pzErr = segOptsError(pOpts, "the %s model could not be fitted",
                            azClvModel[eModel]);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      goto table_done;
    }
  }
  rc = clvTableSpend(p, aRow, &chk, &g, &bSpend);
  if( rc ) goto table_done;
  rMonth = 30.0/aClvUnitDays[eUnit];
  for(i=0; i<p->nCust; i++){
    ClvCust *c = &p->aCust[i];
    ClvPred *e = &p->aPred[i];
    e->pAlive = clvPAlive(&m, c->x, c->tx, c->T);
    e->eY = clvCondExpected(&m, rMonth*nHorizon, c->x, c->tx, c->T);
    e->eSpend = e->clv = NAN;
    if( bSpend && !isnan(c->m) && (c->x==0 || c->m>0.0) ){
      e->eSpend = clvSpend(&g, c->x, c->m);
      e->clv = clvValue(&m, e->eSpend, c->x, c->tx, c->T, nHorizon, rDisc);
    }
  }

table_done:
  sqlite3_free(aRow);
  segCheckFree(&chk);
  if( rc ){
    clvResultFree(p);
    return rc;
  }
  pRes->nRow = p->nCust;
  pRes->pData = p;
  return SQLITE_OK;
}

/**************************************************************************
** Shared with holdout.c (segmentInt.h)
*/
double segClvUnitDays(int eUnit){ return aClvUnitDays[eUnit]; }
const char *segClvUnitName(int eUnit){ return azClvUnit[eUnit]; }

int segClvFit(int eModel, int eUnit, const SegClvCust *aCust, int n,
              SegCheck *pCheck, double *aParam, char **pzJson){
  ClvFit fit;
  double *aRow = clvCustRows(aCust, n);
  int i, rc;
  *pzJson = 0;
  if( aRow==0 ) return SQLITE_NOMEM;
  rc = clvFitRows(eModel, aRow, n, pCheck, &fit);
  sqlite3_free(aRow);
  if( rc ) return rc;
  for(i=0; i<aClvNParam[eModel]; i++) aParam[i] = exp(fit.aTheta[i]);
  *pzJson = clvModelJson(&fit, eUnit, n, 0);
  return *pzJson ? SQLITE_OK : SQLITE_NOMEM;
}

static void clvModelOf(ClvModel *m, int eModel, const double *aParam){
  m->eModel = eModel;
  m->eUnit = 1;
  memcpy(m->a, aParam, sizeof(m->a));
}
double segClvExpected(int eModel, const double *aParam, double t){
  ClvModel m;
  clvModelOf(&m, eModel, aParam);
  return clvExpected(&m, t);
}
double segClvCondExpected(int eModel, const double *aParam, double t,
                          double x, double tx, double T){
  ClvModel m;
  clvModelOf(&m, eModel, aParam);
  return clvCondExpected(&m, t, x, tx, T);
}

static const char *const azClvSummaryOpt[] = {
  SEG_SOURCE_OPTIONS, "unit", 0
};
static const char *const azClvTableOpt[] = {
  SEG_SOURCE_OPTIONS, "unit", "model", "horizon", "discount", 0
};

static const SegModuleSpec clvSummaryModule = {
  "clv_summary", "customer,x,t_x,T,monetary,unit", azClvSummaryOpt, 0,
  clvSummaryCompute, SEG_READS_TABLE,
  clvSummaryColumn, clvResultFree
};
static const SegModuleSpec clvTableModule = {
  "clv", "customer,x,t_x,T,monetary,p_alive,expected_purchases,"
  "expected_spend,clv", azClvTableOpt, 0, clvTableCompute, SEG_READS_TABLE,
  clvColumn, clvResultFree
};

int segmentRegisterClv(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "bgnbd_fit",      3, SEG_AGG_FLAGS, CLV_BGNBD,  0, clvFitStep, clvFitFinal },
    { "bgnbd_fit",      4, SEG_AGG_FLAGS, CLV_BGNBD,  0, clvFitStep, clvFitFinal },
    { "pareto_nbd_fit", 3, SEG_AGG_FLAGS, CLV_PARETO, 0, clvFitStep, clvFitFinal },
    { "pareto_nbd_fit", 4, SEG_AGG_FLAGS, CLV_PARETO, 0, clvFitStep, clvFitFinal },
    { "gamma_gamma_fit",2, SEG_AGG_FLAGS, CLV_GG,     0, clvFitStep, clvFitFinal },
    { "p_alive",        4, SEG_SCALAR_FLAGS, 0, clvPAliveFunc, 0, 0 },
    { "expected_purchases", 2, SEG_SCALAR_FLAGS, 0, clvExpectedFunc, 0, 0 },
    { "expected_purchases", 5, SEG_SCALAR_FLAGS, 0, clvExpectedFunc, 0, 0 },
    { "expected_spend", 3, SEG_SCALAR_FLAGS, 0, clvSpendFunc, 0, 0 },
    { "clv",            7, SEG_SCALAR_FLAGS, 0, clvValueFunc, 0, 0 },
    { "clv",            8, SEG_SCALAR_FLAGS, 0, clvValueFunc, 0, 0 },
    { "mbgnbd_fit",     3, SEG_AGG_FLAGS, CLV_MBGNBD, 0, clvFitStep, clvFitFinal },
    { "mbgnbd_fit",     4, SEG_AGG_FLAGS, CLV_MBGNBD, 0, clvFitStep, clvFitFinal },
    { "purchase_probability", 3, SEG_SCALAR_FLAGS, 0, clvPmfFunc, 0, 0 },
    { "purchase_probability", 6, SEG_SCALAR_FLAGS, 0, clvPmfFunc, 0, 0 },
  };
  int rc = segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &clvSummaryModule, pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &clvTableModule, pzErr);
  return rc;
}
