/*
** cluster.c: clustering (DESIGN.md section 6): kmeans_fit, kmeans_select,
** kmeans_cluster.
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

/**************************************************************************
** kmeans_fit(k, x1, ..., xd) and kmeans_cluster(model, x1, ..., xd)
**
**   SELECT kmeans_fit(4, recency_days, frequency, monetary) FROM rfm_score('orders');
**   SELECT kmeans_cluster(:model, recency_days, frequency, monetary) FROM ...;
**
** Requirements:
**   K1. k is an integer 1..1000, or text of options 'k=4, seed=7,
**       max_iter=300, n_init=10, transform=log1p' (seed default 1,
**       max_iter default 300, n_init 1..1000 default 10, transform
**       default none).  transform is none or log1p, one for every
**       dimension or a comma list of one per dimension.
**   K2. A row with a NULL x is skipped (counted in "skipped"); a value
**       that is not a number is an error naming the argument, and so is
**       a value <= -1 in a log1p dimension.
**   K3. Each dimension is transformed (log1p: x -> ln(1 + x)), then
**       standardized, z = (x - mean) / sd (population sd); a constant
**       column has sd 0 and is taken with sd 1 (z = 0).
**   K4. n_init starts, each seeded by greedy k-means++: the first
**       centroid uniformly at random, then at each step 2 + floor(ln k)
**       candidates drawn with probability proportional to D^2, keeping
**       the one that most lowers the sum of D^2.  One pseudo-random
**       sequence (splitmix64 from seed) runs through the starts: the same
**       data and options give the same model.  The start of least inertia
**       is kept (ties: the earlier one).  When there are fewer distinct
**       points than k, the model has as many clusters as distinct points.
**   K4b. After its Lloyd run (K5), each start makes one round of swaps:
**       each centroid in turn is moved to a point drawn with probability
**       proportional to D^2 and K5 runs again; a lower inertia is kept.
**   K5. Lloyd iterations until no point changes cluster, then a pass of
**       Hartigan's single-point moves (a point moves to the cluster where
**       it lowers the inertia, counting the centroids' shift), and Lloyd
**       again, until neither changes anything (converged: true) or
**       max_iter iterations, each Lloyd iteration and each pass counting
**       one (converged: false).  Ties go to the lower cluster; an empty
**       cluster keeps its centroid.
**   K6. Clusters are numbered 1..k by decreasing size (ties: seeding
**       order).  The model is JSON: model, k, k_requested, dims, n,
**       skipped, seed, n_init, iterations, converged, inertia (sum of
**       squared standardized distances), silhouette, silhouette_sample,
**       transform, mean, sd (of the transformed values), sizes,
**       centroids (standardized space, one array per cluster).
**   K10. silhouette is the mean silhouette coefficient of the kept
**       clustering, Euclidean in the standardized space (a point alone in
**       its cluster scores 0; null when k < 2).  It is exact up to
**       KMEANS_SIL_MAX points; beyond, it is that of a sample of
**       KMEANS_SIL_MAX points drawn from seed (clusters as fitted).
**       silhouette_sample is the number of points it was computed on.
**   K7. kmeans_cluster() transforms and standardizes its arguments with
**       the model's transform (absent: none), mean and sd and returns the
**       number of the nearest centroid; NULL if any argument is NULL.
**       The model is parsed once per statement and distinct text,
**       however it is passed (segModelArg()).
**   K8. Any finite values give a valid model: each column is scaled by a
**       power of two near its largest |x| before its mean and sd are
**       computed (exact, so ordinary data gives the same model), and
**       kmeans_cluster() orders centroids without overflow for points far
**       outside the data (|z| beyond 1e150).  kmeans_cluster() rejects
**       infinite values, as kmeans_fit() does.
**   K9. The fit (every start, and the silhouette) calls segCheck() every
**       few thousand distances: sqlite3_interrupt() and a progress
**       handler stop it within milliseconds with SQLITE_INTERRUPT
**       ("interrupted").
**   K11. The model profiles each cluster in the units of the input (before
**       transform and standardization): cluster_means and cluster_medians,
**       one array per cluster in cluster order (the median of an even
**       count is the mean of the two middle values).
**
** kmeans_select(options, x1, ..., xd): choosing k.
**
**   SELECT kmeans_select('kmin=2, kmax=8', recency_days, frequency, monetary)
**     FROM rfm_score('orders');
**
**   S1. Options as K1's text without k, plus kmin (2..1000, default 2) and
**       kmax (kmin..1000, default 8).  Rows, NULLs and errors as K2.
**   S2. For each k from kmin to kmax, the fit kmeans_fit() makes with the
**       same options and that k (each from seed, so that each equals
**       kmeans_fit's model): its k (clusters found), inertia, silhouette,
**       iterations and converged, as the array "by_k".
**   S3. The pick is the k of the highest silhouette (ties: the smaller
**       k; no silhouette at all: kmin), as "k"; "best" is that fit's
**       whole model, for kmeans_cluster().
*/

typedef struct KmeansAgg KmeansAgg;
struct KmeansAgg {
  int nDim;
  int bSelect;                    /* kmeans_select() */
  int k;                          /* kmeans_fit(): k; kmeans_select(): kmin */
  int kMax;                       /* kmeans_select(): kmax */
  u64 iSeed;
  int nMaxIter;
  int nInit;                      /* k-means++ starts */
  unsigned char *aLog;            /* nDim flags: transform log1p */
  double *aX;                     /* n * nDim values, as given */
  i64 n, nAlloc;
  i64 nSkipped;
  int bErr;
};

static u64 kmeansRand(u64 *pState){
  u64 z = (*pState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const char *kmeansFunc(const KmeansAgg *p){
  return p->bSelect ? "kmeans_select" : "kmeans_fit";
}

/* An error of the aggregate: zFmt has the ordinal of argument iArg, then
** the function's name. */
static void kmeansError(sqlite3_context *ctx, KmeansAgg *p, const char *zFmt,
                        int iArg){
  char *z = sqlite3_mprintf(zFmt, segOrdinal(iArg), kmeansFunc(p));
  p->bErr = 1;
  if( z ){ sqlite3_result_error(ctx, z, -1); sqlite3_free(z); }
  else sqlite3_result_error_nomem(ctx);
}

/* The transform= option into p->aLog (K1). */
static int kmeansParseTransform(const SegOpts *pOpts, KmeansAgg *p,
                                char **pzErr){
  SegTextList list;
  int i, rc;
  if( segOptsGet(pOpts, "transform")==0 ) return SQLITE_OK;
  rc = segOptsTextList(pOpts, "transform", "none", &list, pzErr);
  if( rc ) return rc;
  if( list.n!=1 && list.n!=p->nDim ){
    *pzErr = segOptsError(pOpts, "option 'transform' has %d values but "
                          "there are %d dimensions", list.n, p->nDim);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<list.n; i++){
    if( sqlite3_stricmp(list.az[i], "log1p")==0 ){
      p->aLog[i] = 1;
    }else if( sqlite3_stricmp(list.az[i], "none")!=0 ){
      *pzErr = segOptsError(pOpts, "transform '%s' is not none or log1p",
                            list.az[i]);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK && list.n==1 ) memset(p->aLog, p->aLog[0], p->nDim);
  segTextListFree(&list);
  return rc;
}

/* Add the pieces of the options text zCopy to pOpts: a piece ends at a
** comma that a key=value piece follows, so that a piece without '=' goes
** on the list value before it ('transform=log1p,none').  zCopy is cut in
** place.  SQLITE_OK, or an error with *pzErr (or SQLITE_NOMEM). */
static int kmeansOptsAdd(SegOpts *pOpts, char *zCopy, char **pzErr){
  int i, iStart = 0, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK; i++){
    if( zCopy[i]==',' ){
      int j = i+1;
      while( zCopy[j] && zCopy[j]!=',' && zCopy[j]!='=' ) j++;
      if( zCopy[j]!='=' ) continue;
    }
    if( zCopy[i]==',' || zCopy[i]==0 ){
      int bEnd = zCopy[i]==0;
      zCopy[i] = 0;
      rc = segOptsAdd(pOpts, zCopy+iStart, 0, pzErr);
      iStart = i+1;
      if( bEnd ) break;
    }
  }
  return rc;
}

/* The text 1st argument z (NULL: out of memory) of kmeans_fit (K1) or
** kmeans_select (S1) into p.  SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR
** with *pzErr (sqlite3_malloc'd). */
static int kmeansParseText(KmeansAgg *p, const char *z, char **pzErr){
  static const char *const azFitOpt[] = {
    "k", "seed", "max_iter", "n_init", "transform", 0
  };
  static const char *const azSelectOpt[] = {
    "kmin", "kmax", "seed", "max_iter", "n_init", "transform", 0
  };
  SegOpts opts;
  char *zCopy;
  int rc, iSeed = 1;
  if( z==0 || (zCopy = sqlite3_mprintf("%s", z))==0 ) return SQLITE_NOMEM;
  rc = segOptsInit(&opts, kmeansFunc(p),
                   p->bSelect ? azSelectOpt : azFitOpt, 0);
  opts.nArg = 1;               /* no bare first argument here */
  if( rc==SQLITE_OK ) rc = kmeansOptsAdd(&opts, zCopy, pzErr);
  if( rc==SQLITE_OK && p->bSelect ){
    rc = segOptsInt(&opts, "kmin", 2, 2, 1000, &p->k, pzErr);
    if( rc==SQLITE_OK ){
      rc = segOptsInt(&opts, "kmax", p->k<8 ? 8 : p->k, p->k, 1000,
                      &p->kMax, pzErr);
    }
  }else if( rc==SQLITE_OK ){
    rc = segOptsInt(&opts, "k", 0, 1, 1000, &p->k, pzErr);
  }
  if( rc==SQLITE_OK && !p->bSelect && segOptsGet(&opts, "k")==0 ){
    *pzErr = sqlite3_mprintf("kmeans_fit(): option 'k' is required");
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = segOptsInt(&opts, "seed", 1, 0, 2147483647, &iSeed, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsInt(&opts, "max_iter", 300, 1, 100000, &p->nMaxIter, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsInt(&opts, "n_init", 10, 1, 1000, &p->nInit, pzErr);
  }
  if( rc==SQLITE_OK ) rc = kmeansParseTransform(&opts, p, pzErr);
  p->iSeed = (u64)iSeed;
  segOptsFree(&opts);
  sqlite3_free(zCopy);
  return rc;
}

/* Parse the 1st argument of kmeans_fit (K1) or kmeans_select (S1) into
** p. */
static int kmeansParseK(sqlite3_context *ctx, KmeansAgg *p, sqlite3_value *pK){
  int e = sqlite3_value_numeric_type(pK);
  p->iSeed = 1;
  p->nMaxIter = 300;
  p->nInit = 10;
  p->aLog = sqlite3_malloc64(p->nDim);
  if( p->aLog==0 ){
    sqlite3_result_error_nomem(ctx);
    p->bErr = 1;
    return 0;
  }
  memset(p->aLog, 0, p->nDim);
  if( e==SQLITE_INTEGER && !p->bSelect ){
    i64 v = sqlite3_value_int64(pK);
    if( v<1 || v>1000 ){
      kmeansError(ctx, p, "%s argument to kmeans_fit() must be an integer "
                  "1..1000 or 'k=N, seed=N, max_iter=N'", 1);
      return 0;
    }
    p->k = (int)v;
    return 1;
  }
  if( sqlite3_value_type(pK)==SQLITE_TEXT ){
    char *zErr = 0;
    int rc = kmeansParseText(p, (const char*)sqlite3_value_text(pK), &zErr);
    if( rc!=SQLITE_OK ){
      p->bErr = 1;
      if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
      else sqlite3_result_error(ctx, zErr, -1);
      sqlite3_free(zErr);
      return 0;
    }
    return 1;
  }
  if( p->bSelect ){
    kmeansError(ctx, p, "%s argument to %s() must be text of options "
                "'kmin=N, kmax=N, seed=N, ...'", 1);
  }else{
    kmeansError(ctx, p, "%s argument to kmeans_fit() must be an integer "
                "1..1000 or 'k=N, seed=N, max_iter=N'", 1);
  }
  return 0;
}

static void kmeansStepAny(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                          int bSelect){
  KmeansAgg *p = sqlite3_aggregate_context(ctx, sizeof(*p));
  int i;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( p->bErr ) return;
  p->bSelect = bSelect;
  if( argc<2 ){
    kmeansError(ctx, p, bSelect ? "%.0s%s() needs options and at least one "
                "value" : "%.0s%s() needs k and at least one value", 1);
    return;
  }
  if( p->nDim==0 ){
    p->nDim = argc-1;
    if( !kmeansParseK(ctx, p, argv[0]) ) return;
  }
  for(i=1; i<argc; i++){
    int e = sqlite3_value_numeric_type(argv[i]);
    if( e==SQLITE_NULL ){ p->nSkipped++; return; }
    if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ){
      kmeansError(ctx, p, "%s argument to %s() is not a number", i+1);
      return;
    }
    if( e==SQLITE_FLOAT && !isfinite(sqlite3_value_double(argv[i])) ){
      kmeansError(ctx, p, "%s argument to %s() is not finite", i+1);
      return;
    }
    if( p->aLog[i-1] && !(sqlite3_value_double(argv[i])>-1.0) ){
      kmeansError(ctx, p, "%s argument to %s() must be greater "
                  "than -1 for transform log1p", i+1);
      return;
    }
  }
  if( segArrayGrow((void**)&p->aX, &p->nAlloc, p->n, sizeof(double)*p->nDim,
                   256, SEG_ARRAY_MAX) ){
    p->bErr = 1;
    sqlite3_result_error_nomem(ctx);
    return;
  }
  for(i=1; i<argc; i++){
    p->aX[p->n*p->nDim + i-1] = sqlite3_value_double(argv[i]);
  }
  p->n++;
}

static void kmeansFitStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  kmeansStepAny(ctx, argc, argv, 0);
}
static void kmeansSelectStep(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  kmeansStepAny(ctx, argc, argv, 1);
}

static double kmeansDist2(const double *a, const double *b, int d){
  double s = 0.0;
  int i;
  for(i=0; i<d; i++){ double t = a[i]-b[i]; s += t*t; }
  return s;
}

/* A uniform double in [0, 1). */
static double kmeansUniform(u64 *pRng){
  return (double)(kmeansRand(pRng) >> 11) * (1.0/9007199254740992.0);
}

/* A point drawn with probability proportional to aD2[] (total rTot > 0). */
static i64 kmeansDraw(const double *aD2, i64 n, double rTot, u64 *pRng){
  double r = kmeansUniform(pRng) * rTot, acc = 0.0;
  i64 t, iPick = -1;
  for(t=0; t<n; t++){
    if( aD2[t]>0.0 ){
      acc += aD2[t];
      iPick = t;
      if( acc>r ) break;
    }
  }
  return iPick;
}

/* One pass of Hartigan's single-point moves (K5) over a clustering where
** aC[] are the means of the clusters of aAssign[] and aCount[] their
** sizes: a point leaves its cluster a for cluster b when that lowers the
** inertia, i.e. when n_b/(n_b+1) |x - c_b|^2 < n_a/(n_a-1) |x - c_a|^2,
** and both centroids follow the move.  *pnMoved: the points moved. */
static int kmeansHartigan(const double *aX, i64 n, int d, int k, double *aC,
                          int *aAssign, int *aCount, SegCheck *pChk,
                          i64 *pnMoved){
  i64 t, nMoved = 0;
  int i, j, rc;
  for(t=0; t<n; t++){
    const double *x = &aX[t*d];
    int a = aAssign[t], b = -1;
    double na = (double)aCount[a], rOut, rBest;
    if( aCount[a]<=1 ) continue;
    rOut = na/(na-1.0)*kmeansDist2(x, &aC[a*d], d);
    rBest = rOut*(1.0 - 1e-12);       /* a real gain, not rounding */
    for(i=0; i<k; i++){
      double nb = (double)aCount[i], rIn;
      if( i==a ) continue;
      rIn = nb>0.0 ? nb/(nb+1.0)*kmeansDist2(x, &aC[i*d], d) : 0.0;
      if( rIn<rBest ){ rBest = rIn; b = i; }
    }
    if( (rc = segCheck(pChk, (i64)(k+1)*d+2))!=0 ) return rc;
    if( b<0 ) continue;
    for(j=0; j<d; j++){
      aC[a*d+j] += (aC[a*d+j] - x[j])/(na-1.0);
      aC[b*d+j] += (x[j] - aC[b*d+j])/((double)aCount[b]+1.0);
    }
    aCount[a]--;
    aCount[b]++;
    aAssign[t] = b;
    nMoved++;
  }
  *pnMoved = nMoved;
  return SQLITE_OK;
}

/* Lloyd iterations, then Hartigan's moves, then Lloyd again, until
** neither changes the clustering (*pbConverged) or nMaxIter iterations
** (K5), from the k centroids aC[].  Writes the centroids to aC, the
** assignment to aAssign and each point's squared distance to aD2; aSum,
** aCount, aLow (n) and aMove (k) are scratch.
**
** The assignment step skips the other centroids of a point whose own
** centroid is nearer than a lower bound of their distances (Hamerly's
** bound: aLow[t], the distance to its second-nearest centroid when last
** computed, less the largest move of another centroid since), with a
** margin far above rounding, so that it assigns exactly as the full
** computation does (ties included: a tie is never skipped). */
static int kmeansLloyd(const double *aX, i64 n, int d, int k, int nMaxIter,
                       SegCheck *pChk, double *aC, double *aD2, int *aAssign,
                       double *aSum, int *aCount, double *aLow, double *aMove,
                       int *pnIter, int *pbConverged, double *prInertia){
  int i, j, nIter = 0, bConverged = 0, bBound = 0, rc, iMove1 = 0;
  double rMove1 = 0.0, rMove2 = 0.0;
  i64 t;
  SegSum in = {0, 0};
  for(t=0; t<n; t++) aAssign[t] = -1;
  while( nIter<nMaxIter ){
    int nChanged = 0;
    nIter++;
    for(t=0; t<n; t++){
      const double *x = &aX[t*d];
      int best = 0, a = aAssign[t];
      double bd, b2 = INFINITY;
      if( bBound ){
        double rOwn = kmeansDist2(x, &aC[a*d], d);
        double rLow = aLow[t] - (a==iMove1 ? rMove2 : rMove1);
        if( sqrt(rOwn)*(1.0 + 1e-9) < rLow ){
          aLow[t] = rLow;
          aD2[t] = rOwn;
          if( (rc = segCheck(pChk, 2*d+2))!=0 ) return rc;
          continue;
        }
      }
      bd = kmeansDist2(x, aC, d);
      for(i=1; i<k; i++){
        double v = kmeansDist2(x, &aC[i*d], d);
        if( v<bd ){ b2 = bd; bd = v; best = i; }
        else if( v<b2 ){ b2 = v; }
      }
      aLow[t] = sqrt(b2);
      if( a!=best ){ aAssign[t] = best; nChanged++; }
      aD2[t] = bd;
      if( (rc = segCheck(pChk, (i64)(k+1)*d+2))!=0 ) return rc;
    }
    if( nChanged==0 ){
      /* Lloyd-stable: aC are the means of aAssign, aCount the sizes */
      i64 nMoved = 0;
      if( nIter>=nMaxIter ) break;
      nIter++;
      rc = kmeansHartigan(aX, n, d, k, aC, aAssign, aCount, pChk, &nMoved);
      if( rc ) return rc;
      if( nMoved==0 ){ bConverged = 1; break; }
      bBound = 0;                 /* moved points: recompute them all */
    }else{
      bBound = 1;
    }
    memset(aSum, 0, sizeof(double)*k*d);
    memset(aCount, 0, sizeof(int)*k);
    for(t=0; t<n; t++){
      aCount[aAssign[t]]++;
      for(j=0; j<d; j++) aSum[aAssign[t]*d+j] += aX[t*d+j];
    }
    rMove1 = rMove2 = 0.0;
    iMove1 = 0;
    for(i=0; i<k; i++){
      aMove[i] = 0.0;
      if( aCount[i]==0 ) continue;
      for(j=0; j<d; j++) aSum[i*d+j] /= (double)aCount[i];
      aMove[i] = sqrt(kmeansDist2(&aSum[i*d], &aC[i*d], d));
      memcpy(&aC[i*d], &aSum[i*d], sizeof(double)*d);
      if( aMove[i]>rMove1 ){ rMove2 = rMove1; rMove1 = aMove[i]; iMove1 = i; }
      else if( aMove[i]>rMove2 ){ rMove2 = aMove[i]; }
    }
  }
  for(t=0; t<n; t++) segSumAdd(&in, aD2[t]);
  *pnIter = nIter;
  *pbConverged = bConverged;
  *prInertia = segSumValue(&in);
  return SQLITE_OK;
}

/* Greedy k-means++ seeding (K4) of up to kReq centroids in aC[] from the
** standardized points aX[n*d]; *pk: the centroids seeded (fewer when
** there are fewer distinct points); aD2 is scratch. */
static int kmeansSeed(const double *aX, i64 n, int d, int kReq, u64 *pRng,
                      SegCheck *pChk, double *aC, double *aD2, int *pk){
  int nLocal = 2 + (int)floor(log((double)kReq));
  int k, rc;
  i64 t;
  t = (i64)(kmeansRand(pRng) % (u64)n);
  memcpy(aC, &aX[t*d], sizeof(double)*d);
  k = 1;
  for(t=0; t<n; t++) aD2[t] = kmeansDist2(&aX[t*d], aC, d);
  while( k<kReq ){
    SegSum tot = {0, 0};
    double rTot, rBest = 0.0;
    i64 iBest = -1;
    int c;
    for(t=0; t<n; t++) segSumAdd(&tot, aD2[t]);
    rTot = segSumValue(&tot);
    if( !(rTot>0.0) ) break;           /* fewer distinct points than k */
    for(c=0; c<nLocal; c++){
      i64 iPick = kmeansDraw(aD2, n, rTot, pRng);
      const double *pCand = &aX[iPick*d];
      double rPot = 0.0;
      for(t=0; t<n; t++){
        double x = kmeansDist2(&aX[t*d], pCand, d);
        rPot += x<aD2[t] ? x : aD2[t];
        if( (rc = segCheck(pChk, 2*d+4))!=0 ) return rc;
      }
      if( iBest<0 || rPot<rBest ){ rBest = rPot; iBest = iPick; }
    }
    memcpy(&aC[k*d], &aX[iBest*d], sizeof(double)*d);
    for(t=0; t<n; t++){
      double x = kmeansDist2(&aX[t*d], &aC[k*d], d);
      if( x<aD2[t] ) aD2[t] = x;
      if( (rc = segCheck(pChk, 2*d+4))!=0 ) return rc;
    }
    k++;
  }
  *pk = k;
  return SQLITE_OK;
}

/* Points on which the silhouette is exact (K10). */
#define KMEANS_SIL_MAX 10000

/* The mean silhouette of the clustering aAssign[] (k clusters) of the
** points aX[n*d], on all of them up to KMEANS_SIL_MAX, else on a sample of
** that many drawn from iSeed (K10).  *pnUsed: points it was computed on. */
static int kmeansSilhouette(const double *aX, i64 n, int d, int k,
                            const int *aAssign, u64 iSeed, SegCheck *pChk,
                            double *prSil, i64 *pnUsed){
  i64 m = n<=KMEANS_SIL_MAX ? n : KMEANS_SIL_MAX;
  i64 *aIdx = sqlite3_malloc64(sizeof(i64)*(u64)(m<n ? n : m));
  double *aSum = sqlite3_malloc64(sizeof(double)*(u64)k);
  i64 *aCnt = sqlite3_malloc64(sizeof(i64)*(u64)k);
  SegSum tot = {0, 0};
  i64 s, u;
  int c, rc = SQLITE_OK;
  if( aIdx==0 || aSum==0 || aCnt==0 ){ rc = SQLITE_NOMEM; goto sil_done; }
  for(s=0; s<(m<n ? n : m); s++) aIdx[s] = s;
  if( m<n ){
    /* the first m of a partial Fisher-Yates shuffle */
    u64 rng = iSeed ^ 0x5ca1ab1e5eedULL;
    for(s=0; s<m; s++){
      i64 r = s + (i64)(kmeansRand(&rng) % (u64)(n-s));
      i64 x = aIdx[s]; aIdx[s] = aIdx[r]; aIdx[r] = x;
    }
  }
  memset(aCnt, 0, sizeof(i64)*k);
  for(s=0; s<m; s++) aCnt[aAssign[aIdx[s]]]++;
  for(s=0; s<m; s++){
    const double *pI = &aX[aIdx[s]*d];
    int own = aAssign[aIdx[s]];
    double a, b = 0.0, v = 0.0;
    int bB = 0;
    memset(aSum, 0, sizeof(double)*k);
    for(u=0; u<m; u++){
      if( u!=s ) aSum[aAssign[aIdx[u]]] += sqrt(kmeansDist2(pI, &aX[aIdx[u]*d], d));
    }
    if( (rc = segCheck(pChk, m*(d+4)))!=0 ) goto sil_done;
    if( aCnt[own]>1 ){
      a = aSum[own]/(double)(aCnt[own]-1);
      for(c=0; c<k; c++){
        double x;
        if( c==own || aCnt[c]==0 ) continue;
        x = aSum[c]/(double)aCnt[c];
        if( !bB || x<b ){ b = x; bB = 1; }
      }
      if( bB && fmax(a, b)>0.0 ) v = (b - a)/fmax(a, b);
    }
    segSumAdd(&tot, v);
  }
  *prSil = segSumValue(&tot)/(double)m;
  *pnUsed = m;
sil_done:
  sqlite3_free(aIdx);
  sqlite3_free(aSum);
  sqlite3_free(aCnt);
  return rc;
}

/* One fit (K4-K6, K10) for kReq clusters on the standardized points
** aZ[n*d]: its clusters, their centroids in aC (seeding order), the
** assignment, sizes and numbering (aOrder: seeding index of cluster
** 1, 2, ...). */
typedef struct KmeansFit KmeansFit;
struct KmeansFit {
  int k;                          /* clusters found (<= kReq) */
  int nIter, bConverged;
  double rInertia, rSil;          /* rSil: when k >= 2 */
  i64 nSil;
  double *aC;                     /* kReq*d */
  int *aAssign;                   /* n */
  int *aCount;                    /* kReq sizes, then kReq numbering */
  int *aOrder;
};

static void kmeansFitFree(KmeansFit *f){
  sqlite3_free(f->aC);
  sqlite3_free(f->aAssign);
  sqlite3_free(f->aCount);
  memset(f, 0, sizeof(*f));
}

/* Scratch of a fit's runs. */
typedef struct KmeansWork KmeansWork;
struct KmeansWork {
  double *aC, *aSum, *aD2;        /* kReq*d, kReq*d, n */
  double *aLow, *aMove;           /* n, kReq */
  int *aAssign, *aCnt;            /* n, kReq */
};

/* Swaps (K4b): from the clustering (aC, aAssign) of k clusters and inertia
** *prInertia, each centroid in turn is replaced by a point drawn with
** probability proportional to its squared distance to its centroid, and
** Lloyd runs again (kmeansLloyd); a clustering of lower inertia replaces
** the current one.  One round of k swaps per start: on the tests' data
** sets it takes every k from 2 to 8 to within 0.04% of the best inertia
** known, where more rounds cost up to three times as much. */
static int kmeansSwaps(const double *aZ, i64 n, int d, int k, int nMaxIter,
                       u64 *pRng, SegCheck *pChk, KmeansWork *w,
                       double **paC, int **paAssign, int *pnIter,
                       int *pbConverged, double *prInertia){
  int c, rc;
  i64 t;
  for(c=0; c<k && k>=2; c++){
    int nIterS, bConvS;
    double rInS;
    SegSum tot = {0, 0};
    for(t=0; t<n; t++){
      w->aD2[t] = kmeansDist2(&aZ[t*d], &(*paC)[(*paAssign)[t]*d], d);
      segSumAdd(&tot, w->aD2[t]);
    }
    if( !(segSumValue(&tot)>0.0) ) break;
    t = kmeansDraw(w->aD2, n, segSumValue(&tot), pRng);
    memcpy(w->aC, *paC, sizeof(double)*k*d);
    memcpy(&w->aC[c*d], &aZ[t*d], sizeof(double)*d);
    rc = kmeansLloyd(aZ, n, d, k, nMaxIter, pChk, w->aC, w->aD2, w->aAssign,
                     w->aSum, w->aCnt, w->aLow, w->aMove, &nIterS, &bConvS,
                     &rInS);
    if( rc ) return rc;
    if( rInS<*prInertia*(1.0 - 1e-9) ){
      double *aSwapC = w->aC;
      int *aSwapA = w->aAssign;
      w->aC = *paC; *paC = aSwapC;
      w->aAssign = *paAssign; *paAssign = aSwapA;
      *pnIter = nIterS; *pbConverged = bConvS; *prInertia = rInS;
    }
  }
  return SQLITE_OK;
}

static int kmeansFitRun(const KmeansAgg *p, const double *aZ, int kReq,
                        SegCheck *pChk, KmeansFit *f){
  i64 n = p->n, t;
  int d = p->nDim, i, iStart, rc = SQLITE_OK;
  KmeansWork w;
  double *aC = sqlite3_malloc64(sizeof(double)*(u64)kReq*d);
  int *aAssign = sqlite3_malloc64(sizeof(int)*(u64)n);
  u64 rng = p->iSeed;
  memset(f, 0, sizeof(*f));
  w.aC = sqlite3_malloc64(sizeof(double)*(u64)kReq*d);
  w.aSum = sqlite3_malloc64(sizeof(double)*(u64)kReq*d);
  w.aD2 = sqlite3_malloc64(sizeof(double)*(u64)n);
  w.aAssign = sqlite3_malloc64(sizeof(int)*(u64)n);
  w.aCnt = sqlite3_malloc64(sizeof(int)*(u64)kReq);
  w.aLow = sqlite3_malloc64(sizeof(double)*(u64)n);
  w.aMove = sqlite3_malloc64(sizeof(double)*(u64)kReq);
  f->aC = sqlite3_malloc64(sizeof(double)*(u64)kReq*d);
  f->aAssign = sqlite3_malloc64(sizeof(int)*(u64)n);
  f->aCount = sqlite3_malloc64(sizeof(int)*(u64)kReq*2);
  if( !aC || !aAssign || !w.aC || !w.aSum || !w.aD2 || !w.aAssign || !w.aCnt
   || !w.aLow || !w.aMove || !f->aC || !f->aAssign || !f->aCount ){
    rc = SQLITE_NOMEM;
    goto fit_done;
  }
  f->aOrder = f->aCount + kReq;
  /* K4: n_init starts, each with its swaps (K4b), the one of least
  ** inertia kept */
  for(iStart=0; iStart<p->nInit; iStart++){
    int kS = 0, nIterS, bConvS;
    double rInS;
    rc = kmeansSeed(aZ, n, d, kReq, &rng, pChk, aC, w.aD2, &kS);
    if( rc ) goto fit_done;
    rc = kmeansLloyd(aZ, n, d, kS, p->nMaxIter, pChk, aC, w.aD2, aAssign,
                     w.aSum, w.aCnt, w.aLow, w.aMove, &nIterS, &bConvS,
                     &rInS);
    if( rc ) goto fit_done;
    rc = kmeansSwaps(aZ, n, d, kS, p->nMaxIter, &rng, pChk, &w, &aC,
                     &aAssign, &nIterS, &bConvS, &rInS);
    if( rc ) goto fit_done;
    if( iStart==0 || rInS<f->rInertia ){
      double *aSwapC = aC;
      int *aSwapA = aAssign;
      aC = f->aC; f->aC = aSwapC;
      aAssign = f->aAssign; f->aAssign = aSwapA;
      f->k = kS; f->nIter = nIterS; f->bConverged = bConvS;
      f->rInertia = rInS;
    }
  }
  memset(f->aCount, 0, sizeof(int)*f->k);
  for(t=0; t<n; t++) f->aCount[f->aAssign[t]]++;
  /* K10: silhouette */
  if( f->k>=2 ){
    rc = kmeansSilhouette(aZ, n, d, f->k, f->aAssign, p->iSeed, pChk,
                          &f->rSil, &f->nSil);
    if( rc ) goto fit_done;
  }
  /* K6: number clusters by decreasing size */
  for(i=0; i<f->k; i++) f->aOrder[i] = i;
  for(i=1; i<f->k; i++){
    int v = f->aOrder[i], m = i;
    while( m>0 && f->aCount[f->aOrder[m-1]]<f->aCount[v] ){
      f->aOrder[m] = f->aOrder[m-1];
      m--;
    }
    f->aOrder[m] = v;
  }
fit_done:
  sqlite3_free(aC);
  sqlite3_free(aAssign);
  sqlite3_free(w.aC);
  sqlite3_free(w.aSum);
  sqlite3_free(w.aD2);
  sqlite3_free(w.aAssign);
  sqlite3_free(w.aCnt);
  sqlite3_free(w.aLow);
  sqlite3_free(w.aMove);
  if( rc ) kmeansFitFree(f);
  return rc;
}

/* K1, K3, K8: the transformed and standardized copy aZ[n*d] of the rows,
** with each dimension's mean and sd (of the transformed values) in
** aMean[] and aSd[]. */
static int kmeansStandardize(const KmeansAgg *p, SegCheck *pChk, double *aZ,
                             double *aMean, double *aSd){
  i64 n = p->n, t;
  int d = p->nDim, j, rc;
  for(t=0; t<n*d; t++){
    aZ[t] = p->aLog[t%d] ? log1p(p->aX[t]) : p->aX[t];
  }
  /* in units of a power of two near the column's largest |x|, so that no
  ** sum or square overflows (K8) */
  for(j=0; j<d; j++){
    SegSum s = {0, 0}, q = {0, 0};
    double m, v, rMax = 0.0, rScale = 1.0, rSd;
    for(t=0; t<n; t++) rMax = fmax(rMax, fabs(aZ[t*d+j]));
    if( rMax>0.0 ){
      int e;
      (void)frexp(rMax, &e);
      rScale = ldexp(1.0, e-1);         /* |x| / rScale < 2 */
      if( rScale==0.0 ) rScale = 1.0;
    }
    for(t=0; t<n; t++){
      aZ[t*d+j] /= rScale;
      segSumAdd(&s, aZ[t*d+j]);
    }
    m = segSumValue(&s)/(double)n;
    for(t=0; t<n; t++){ double x = aZ[t*d+j]-m; segSumAdd(&q, x*x); }
    v = segSumValue(&q)/(double)n;
    rSd = v>0.0 ? sqrt(v) : 0.0;
    aMean[j] = m*rScale;
    aSd[j] = fmin(rSd*rScale, rMax);    /* sd <= max |x|: never Inf */
    for(t=0; t<n; t++){
      aZ[t*d+j] = rSd>0.0 ? (aZ[t*d+j]-m)/rSd : 0.0;
    }
    rc = segCheck(pChk, 4*n);
    if( rc ) return rc;
  }
  return SQLITE_OK;
}

static void kmeansAppendArray(sqlite3_str *pStr, const double *a, int n){
  int j;
  sqlite3_str_appendchar(pStr, 1, '[');
  for(j=0; j<n; j++){
    if( j ) sqlite3_str_appendchar(pStr, 1, ',');
    segJsonAppendNumber(pStr, a[j]);
  }
  sqlite3_str_appendchar(pStr, 1, ']');
}

/* The model of fit f as JSON (K6, K10, K11); aBuf is scratch of n+d
** doubles. */
static void kmeansAppendModel(sqlite3_str *pStr, const KmeansAgg *p,
                              const KmeansFit *f, int kReq,
                              const double *aMean, const double *aSd,
                              double *aBuf){
  int d = p->nDim, k = f->k, i, j, pass;
  i64 t;
  sqlite3_str_appendf(pStr, "{\"model\":\"kmeans\",\"k\":%d,\"k_requested\":%d,"
      "\"dims\":%d,\"n\":%lld,\"skipped\":%lld,\"seed\":%llu,"
      "\"n_init\":%d,\"iterations\":%d,\"converged\":%s,\"inertia\":",
      k, kReq, d, p->n, p->nSkipped, p->iSeed, p->nInit, f->nIter,
      f->bConverged ? "true" : "false");
  segJsonAppendNumber(pStr, f->rInertia);
  sqlite3_str_appendall(pStr, ",\"silhouette\":");
  if( k>=2 ) segJsonAppendNumber(pStr, f->rSil);
  else sqlite3_str_appendall(pStr, "null");
  sqlite3_str_appendf(pStr, ",\"silhouette_sample\":%lld,\"transform\":[",
                      f->nSil);
  for(j=0; j<d; j++){
    sqlite3_str_appendf(pStr, "%s\"%s\"", j ? "," : "",
                        p->aLog[j] ? "log1p" : "none");
  }
  sqlite3_str_appendall(pStr, "],\"mean\":");
  kmeansAppendArray(pStr, aMean, d);
  sqlite3_str_appendall(pStr, ",\"sd\":");
  kmeansAppendArray(pStr, aSd, d);
  sqlite3_str_appendall(pStr, ",\"sizes\":[");
  for(i=0; i<k; i++){
    sqlite3_str_appendf(pStr, "%s%d", i ? "," : "", f->aCount[f->aOrder[i]]);
  }
  sqlite3_str_appendall(pStr, "],\"centroids\":[");
  for(i=0; i<k; i++){
    if( i ) sqlite3_str_appendchar(pStr, 1, ',');
    kmeansAppendArray(pStr, &f->aC[f->aOrder[i]*d], d);
  }
  /* K11: each cluster's means, then medians, of the values as given */
  for(pass=0; pass<2; pass++){
    sqlite3_str_appendall(pStr, pass ? "],\"cluster_medians\":["
                                     : "],\"cluster_means\":[");
    for(i=0; i<k; i++){
      int c = f->aOrder[i];
      double *aRow = aBuf + p->n;
      for(j=0; j<d; j++){
        i64 m = 0;
        SegSum s = {0, 0};
        for(t=0; t<p->n; t++){
          if( f->aAssign[t]!=c ) continue;
          if( pass ) aBuf[m] = p->aX[t*d+j];
          else segSumAdd(&s, p->aX[t*d+j]);
          m++;
        }
        aRow[j] = pass ? segMedian(aBuf, m) : segSumValue(&s)/(double)m;
      }
      if( i ) sqlite3_str_appendchar(pStr, 1, ',');
      kmeansAppendArray(pStr, aRow, d);
    }
  }
  sqlite3_str_appendall(pStr, "]}");
}

/* kmeans_select()'s fits (S2, S3) of the standardized points aZ,
** appended to pStr as its model: by_k, then the picked fit's whole model
** (aMean, the means then the sds, and aBuf as kmeansAppendModel() takes
** them).  SQLITE_OK, SQLITE_NOMEM or pChk's code (interrupted). */
static int kmeansSelect(const KmeansAgg *p, const double *aZ, SegCheck *pChk,
                        const double *aMean, double *aBuf, sqlite3_str *pStr){
  KmeansFit best, cur;
  int kReq, kBest = 0, bPicked = 0, rc = SQLITE_OK;
  sqlite3_str *pByK = sqlite3_str_new(0);
  char *zOut;
  memset(&best, 0, sizeof(best));
  memset(&cur, 0, sizeof(cur));
  for(kReq=p->k; kReq<=p->kMax; kReq++){
    rc = kmeansFitRun(p, aZ, kReq, pChk, &cur);
    if( rc ) goto select_done;
    sqlite3_str_appendf(pByK, "%s{\"k_requested\":%d,\"k\":%d,"
                        "\"inertia\":", kReq>p->k ? "," : "", kReq, cur.k);
    segJsonAppendNumber(pByK, cur.rInertia);
    sqlite3_str_appendall(pByK, ",\"silhouette\":");
    if( cur.k>=2 ) segJsonAppendNumber(pByK, cur.rSil);
    else sqlite3_str_appendall(pByK, "null");
    sqlite3_str_appendf(pByK, ",\"iterations\":%d,\"converged\":%s}",
                        cur.nIter, cur.bConverged ? "true" : "false");
    /* S3: the highest silhouette, the smaller k on ties */
    if( kReq==p->k
     || (cur.k>=2 && (!bPicked || cur.rSil>best.rSil)) ){
      bPicked = cur.k>=2;
      kBest = kReq;
      kmeansFitFree(&best);
      best = cur;
      memset(&cur, 0, sizeof(cur));
    }else{
      kmeansFitFree(&cur);
    }
  }
  sqlite3_str_appendf(pStr, "{\"model\":\"kmeans_select\","
      "\"criterion\":\"silhouette\",\"k\":%d,\"kmin\":%d,\"kmax\":%d,"
      "\"dims\":%d,\"n\":%lld,\"skipped\":%lld,\"by_k\":[",
      kBest, p->k, p->kMax, p->nDim, p->n, p->nSkipped);
  zOut = sqlite3_str_finish(pByK);
  pByK = 0;
  if( zOut==0 ){ rc = SQLITE_NOMEM; goto select_done; }
  sqlite3_str_appendall(pStr, zOut);
  sqlite3_free(zOut);
  sqlite3_str_appendall(pStr, "],\"best\":");
  kmeansAppendModel(pStr, p, &best, kBest, aMean, aMean+p->nDim, aBuf);
  sqlite3_str_appendchar(pStr, 1, '}');
select_done:
  sqlite3_free(sqlite3_str_finish(pByK));
  kmeansFitFree(&best);
  kmeansFitFree(&cur);
  return rc;
}

/* kmeans_fit() (K3-K11) and kmeans_select() (S2, S3). */
static void kmeansFinal(sqlite3_context *ctx){
  KmeansAgg *p = sqlite3_aggregate_context(ctx, 0);
  double *aZ = 0, *aMean = 0, *aBuf = 0;
  KmeansFit best;
  int rc;
  sqlite3_str *pStr = 0;
  char *zOut;
  SegCheck chk;
  memset(&best, 0, sizeof(best));
  if( p==0 ) return;
  segCheckInit(&chk, sqlite3_context_db_handle(ctx));
  if( p->bErr || p->n==0 ) goto kmeans_done;
  aZ = sqlite3_malloc64(sizeof(double)*(u64)p->n*p->nDim);
  aMean = sqlite3_malloc64(sizeof(double)*(u64)p->nDim*2);
  aBuf = sqlite3_malloc64(sizeof(double)*(u64)(p->n + p->nDim));
  if( !aZ || !aMean || !aBuf ){ rc = SQLITE_NOMEM; goto kmeans_error; }
  rc = kmeansStandardize(p, &chk, aZ, aMean, aMean+p->nDim);
  if( rc ) goto kmeans_error;
  pStr = sqlite3_str_new(0);
  if( !p->bSelect ){
    rc = kmeansFitRun(p, aZ, p->k, &chk, &best);
    if( rc ) goto kmeans_error;
    kmeansAppendModel(pStr, p, &best, p->k, aMean, aMean+p->nDim, aBuf);
  }else{
    rc = kmeansSelect(p, aZ, &chk, aMean, aBuf, pStr);
    if( rc ) goto kmeans_error;
  }
  zOut = sqlite3_str_finish(pStr);
  pStr = 0;
  if( zOut==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_text(ctx, zOut, -1, sqlite3_free);
  }
  goto kmeans_done;
kmeans_error:
  /* K9: interrupted, or out of memory */
  if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_error_code(ctx, rc);
kmeans_done:
  sqlite3_free(sqlite3_str_finish(pStr));
  kmeansFitFree(&best);
  segCheckFree(&chk);
  sqlite3_free(aZ);
  sqlite3_free(aMean);
  sqlite3_free(aBuf);
  sqlite3_free(p->aX);
  sqlite3_free(p->aLog);
  p->aX = 0;
  p->aLog = 0;
}

/* The parsed model of kmeans_cluster(), kept per statement (K7). */
typedef struct KmeansModel KmeansModel;
struct KmeansModel {
  int k, d;
  double *aMean, *aSd, *aC;
  unsigned char *aLog;            /* d flags: transform log1p (K7) */
};

static KmeansModel *kmeansModelParse(const char *z, int n, int *pbNomem){
  SegJson *pJson = 0;
  KmeansModel *m = 0;
  const char *zModel;
  double v;
  int i, j, rc;
  char zPath[64];
  *pbNomem = 0;
  rc = segJsonParse(z, n, &pJson);
  if( rc==SQLITE_NOMEM ){ *pbNomem = 1; return 0; }
  if( rc!=SQLITE_OK ) return 0;
  zModel = segJsonGetText(pJson, "model");
  if( zModel==0 || strcmp(zModel, "kmeans")!=0 ) goto parse_fail;
  m = sqlite3_malloc64(sizeof(*m));
  if( m==0 ){ *pbNomem = 1; goto parse_fail; }
  memset(m, 0, sizeof(*m));
  if( !segJsonGetNumber(pJson, "k", &v) || v<1 || v>1000 ) goto parse_fail;
  m->k = (int)v;
  if( !segJsonGetNumber(pJson, "dims", &v) || v<1 || v>1000 ) goto parse_fail;
  m->d = (int)v;
  m->aMean = sqlite3_malloc64(sizeof(double)*(u64)m->d*(2 + m->k));
  if( m->aMean==0 ){ *pbNomem = 1; goto parse_fail; }
  m->aSd = m->aMean + m->d;
  m->aC = m->aSd + m->d;
  m->aLog = sqlite3_malloc64(m->d);
  if( m->aLog==0 ){ *pbNomem = 1; goto parse_fail; }
  memset(m->aLog, 0, m->d);
  for(j=0; j<m->d; j++){
    const char *zT;
    sqlite3_snprintf(sizeof(zPath), zPath, "transform.%d", j);
    zT = segJsonGetText(pJson, zPath);
    if( zT && strcmp(zT, "log1p")==0 ) m->aLog[j] = 1;
    else if( zT && strcmp(zT, "none")!=0 ) goto parse_fail;
    else if( zT==0 && segJsonGetText(pJson, "transform.0") ) goto parse_fail;
    sqlite3_snprintf(sizeof(zPath), zPath, "mean.%d", j);
    if( !segJsonGetNumber(pJson, zPath, &m->aMean[j]) ) goto parse_fail;
    sqlite3_snprintf(sizeof(zPath), zPath, "sd.%d", j);
    if( !segJsonGetNumber(pJson, zPath, &m->aSd[j]) ) goto parse_fail;
    for(i=0; i<m->k; i++){
      sqlite3_snprintf(sizeof(zPath), zPath, "centroids.%d.%d", i, j);
      if( !segJsonGetNumber(pJson, zPath, &m->aC[i*m->d+j]) ) goto parse_fail;
    }
  }
  segJsonFree(pJson);
  return m;
parse_fail:
  if( m ){ sqlite3_free(m->aMean); sqlite3_free(m->aLog); sqlite3_free(m); }
  segJsonFree(pJson);
  return 0;
}

/* The cluster (0-based) of the model's centroid nearest to the point
** whose values are aX[0..d-1] (finite; overwritten with the standardized
** values).  K8: where a standardized value is huge or not finite (a point
** far outside the data of the fit), the point is scaled by a power of two
** and the centroids are ordered by the terms of the squared distance
** that then dominate, which orders them as the exact distances do,
** without overflow. */
static int kmeansNearest(const KmeansModel *m, double *aX){
  int i, j, pass, best = 0, bBig = 0, eMax = 0;
  double bd = 0.0, bd2 = 0.0;
  for(j=0; j<m->d; j++){
    double z = m->aSd[j]>0.0 ? (aX[j] - m->aMean[j])/m->aSd[j] : 0.0;
    if( !(fabs(z)<=1e150) ) bBig = 1;
  }
  for(pass=bBig ? 0 : 2; pass<3; pass++){
    for(j=0; j<m->d; j++){
      if( pass==2 ){
        /* the usual standardization */
        aX[j] = m->aSd[j]>0.0 ? (aX[j] - m->aMean[j])/m->aSd[j] : 0.0;
      }else if( !(m->aSd[j]>0.0) || aX[j]==m->aMean[j] ){
        if( pass==1 ) aX[j] = 0.0;
      }else{
        /* z = u / sd with u = (x - mean)/2, which cannot overflow:
        ** z = r 2^e with r = frac(u) / frac(sd); pass 0 finds the
        ** largest e, pass 1 keeps z 2^-eMax */
        int eU, eS;
        double r = frexp(aX[j]*0.5 - m->aMean[j]*0.5, &eU)
                 / frexp(m->aSd[j], &eS);
        if( pass==0 ){
          if( eU-eS+1>eMax ) eMax = eU-eS+1;
        }else{
          aX[j] = ldexp(r, eU-eS+1-eMax);
        }
      }
    }
    if( pass==1 ) break;
  }
  for(i=0; i<m->k; i++){
    const double *c = &m->aC[i*m->d];
    if( bBig ){
      /* |z - c|^2 = |z|^2 + 2^eMax (-2 z' . c) + |c|^2 with z' = z 2^-eMax
      ** and 2^eMax > 1e150: ordered by -2 z' . c, then by |c|^2 */
      double a = 0.0, b = 0.0;
      for(j=0; j<m->d; j++){ a -= 2.0*aX[j]*c[j]; b += c[j]*c[j]; }
      if( i==0 || a<bd || (a==bd && b<bd2) ){ bd = a; bd2 = b; best = i; }
    }else{
      double x = kmeansDist2(aX, c, m->d);
      if( i==0 || x<bd ){ bd = x; best = i; }
    }
  }
  return best;
}

static void kmeansModelFree(void *p){
  KmeansModel *m = (KmeansModel*)p;
  if( m ){ sqlite3_free(m->aMean); sqlite3_free(m->aLog); sqlite3_free(m); }
}

static int kmeansModelParseKind(const char *z, int n, void **ppModel){
  int bNomem = 0;
  *ppModel = kmeansModelParse(z, n, &bNomem);
  return *ppModel ? SQLITE_OK : bNomem ? SQLITE_NOMEM : SQLITE_ERROR;
}

/* K7: kmeans_cluster()'s model, parsed once per statement (json.c) */
static const SegModelKind kmeansModelKind = {
  kmeansModelParseKind, kmeansModelFree
};

static void kmeansClusterFunc(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv){
  const KmeansModel *m;
  void *pModel;
  double aZ[64];
  double *aX = aZ;
  int i, j, rc;
  if( argc<2 ){
    sqlite3_result_error(ctx, "kmeans_cluster() needs a model and values", -1);
    return;
  }
  for(i=0; i<argc; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  rc = segModelArg(ctx, argv, 0, &kmeansModelKind, &pModel);
  if( rc ){
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_error(ctx,
        "1st argument to kmeans_cluster() is not a kmeans_fit() model", -1);
    return;
  }
  m = (const KmeansModel*)pModel;
  if( argc-1!=m->d ){
    char *zErr = sqlite3_mprintf("kmeans_cluster() has %d values but the "
                                 "model has %d dimensions", argc-1, m->d);
    if( zErr ){ sqlite3_result_error(ctx, zErr, -1); sqlite3_free(zErr); }
    else sqlite3_result_error_nomem(ctx);
    goto cluster_done;
  }
  if( m->d>64 ){
    aX = sqlite3_malloc64(sizeof(double)*m->d);
    if( aX==0 ){ sqlite3_result_error_nomem(ctx); goto cluster_done; }
  }
  for(j=0; j<m->d; j++){
    int e = sqlite3_value_numeric_type(argv[j+1]);
    double x;
    if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ){
      char *zErr = sqlite3_mprintf("%s argument to kmeans_cluster() is not "
                                   "a number", segOrdinal(j+2));
      if( zErr ){ sqlite3_result_error(ctx, zErr, -1); sqlite3_free(zErr); }
      else sqlite3_result_error_nomem(ctx);
      goto cluster_done;
    }
    x = sqlite3_value_double(argv[j+1]);
    if( !isfinite(x) ){
      char *zErr = sqlite3_mprintf("%s argument to kmeans_cluster() is not "
                                   "finite", segOrdinal(j+2));
      if( zErr ){ sqlite3_result_error(ctx, zErr, -1); sqlite3_free(zErr); }
      else sqlite3_result_error_nomem(ctx);
      goto cluster_done;
    }
    if( m->aLog[j] ){
      if( !(x>-1.0) ){
        char *zErr = sqlite3_mprintf("%s argument to kmeans_cluster() must "
            "be greater than -1 for transform log1p", segOrdinal(j+2));
        if( zErr ){ sqlite3_result_error(ctx, zErr, -1); sqlite3_free(zErr); }
        else sqlite3_result_error_nomem(ctx);
        goto cluster_done;
      }
      x = log1p(x);
    }
    aX[j] = x;
  }
  sqlite3_result_int(ctx, kmeansNearest(m, aX)+1);
cluster_done:
  if( aX!=aZ ) sqlite3_free(aX);
}

int segmentRegisterCluster(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "kmeans_fit",     -1, SEG_AGG_FLAGS, 0, 0, kmeansFitStep, kmeansFinal },
    { "kmeans_select",  -1, SEG_AGG_FLAGS, 0, 0, kmeansSelectStep, kmeansFinal },
    { "kmeans_cluster", -1, SEG_SCALAR_FLAGS, 0, kmeansClusterFunc, 0, 0 },
  };
  return segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
}
