/*
** score.c: the one scoring routine, and the SQL pieces built on it.
**
** segScore() turns one measure of N customers into scores 1..bins
** (DESIGN.md section 3 and details 10-12).  Higher is better: with
** bLowBetter (recency) the order is reversed.
**
**   1. rank (default): score = 1 + floor(bins * W / N), W = the number of
**      customers strictly worse.  Equal values share a score; the worst
**      score 1.
**   2. ntile: SQL NTILE(bins) over ORDER BY the measure (DESC for
**      recency) then the customer key: the first N % bins tiles hold one
**      row more.  Ties are split by customer key, as the plain-SQL recipe
**      does.
**   3. quantile: the rfm R package's rule, R's double arithmetic included:
**      probs k * (1/bins), breaks = type-7 quantiles + 1, bins are
**      [lower, upper) with lower = (min, breaks), upper = (breaks, max+1);
**      a value in no bin (max + 1 == max in doubles) scores the top bin.
**      Recency is reversed (bins + 1 - bin).
**   4. breaks t1 < ... < tk: the index of [-inf,t1), [t1,t2) ... [tk,+inf),
**      1..k+1; recency reversed.
**   5. NULL (NaN here) is worse than any value, under every method: it
**      scores 1 (recency too), so that all NULL scores everyone 1.  NULLs
**      count among the N customers, worse than every value: in W for
**      rank, in the first positions for ntile (the others' tiles are
**      NTILE's over ORDER BY measure NULLS FIRST).  quantile breaks are
**      the quantiles of the non-NULL values (R's na.rm = TRUE).
**
** SQL functions:
**   rfm_score(r, f, m)              100*r + 10*f + m, each an integer 1..9
**   score_breaks(x, bins [,method]) aggregate: JSON array of the bins-1
**                                   thresholds that score_of() applies to
**                                   reproduce method (rank or quantile)
**   score_of(x, breaks [, 'desc'])  1 + number of thresholds <= x, or
**                                   reversed with 'desc'; thresholds are
**                                   ascending, equal ones making an empty
**                                   bin (as score_breaks gives them when
**                                   ties skip a score)
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

const char *const segMethodNames[] = { "rank", "ntile", "quantile", 0 };

static int scoreSame(double x, double y){
  return (isnan(x) && isnan(y)) || x==y;
}

void segQuantileBreaks(const double *aSorted, int n, int nBin, double *aOut){
  int k;
  for(k=1; k<nBin; k++){
    double prob = (double)k * (1.0/(double)nBin);
    double index = 1.0 + (double)(n>1 ? n-1 : 0) * prob;
    double lo = floor(index), hi = ceil(index);
    double qs = aSorted[(int)lo - 1];
    double xhi = aSorted[(int)hi - 1];
    if( index>lo && xhi!=qs ){
      double h = index - lo;
      qs = (1.0 - h)*qs + h*xhi;
    }
    aOut[k-1] = qs + 1.0;
  }
}

/* Requirement 5: a NULL (NaN) measure scores 1, the worst score, whatever
** the method and the direction. */
static void scoreNullWorst(const double *aVal, int n, unsigned char *aScore){
  int i;
  for(i=0; i<n; i++){
    if( isnan(aVal[i]) ) aScore[i] = 1;
  }
}

/* The ntile (1..nBin) of the row at position i (0-based) of n rows. */
static unsigned char scoreTile(i64 i, int n, int nBin){
  i64 nSize = n/nBin, nExtra = n%nBin;
  if( i < nExtra*(nSize+1) ) return (unsigned char)(i/(nSize+1) + 1);
  return (unsigned char)(nExtra + (i - nExtra*(nSize+1))/nSize + 1);
}

/*
** rank and ntile of whole numbers over a range no wider than 4n + 1024
** (days, order counts): counting, no sort.  The same scores as the sorted
** path: W counted from the histogram; ntile positions handed out in
** customer order within each value.  Returns 0 (nothing done) when the
** values do not qualify.
*/
static int scoreCounting(const double *aVal, int n, int nBin, int eMethod,
                         int bLowBetter, unsigned char *aScore, int *pRc){
  double rMin = 0.0, rMax = 0.0;
  i64 nRange, i, nSum;
  int *aCount;
  for(i=0; i<n; i++){
    double x = aVal[i];
    if( !(x>=-1e15 && x<=1e15) || x!=floor(x) ) return 0;   /* NaN too */
    if( i==0 || x<rMin ) rMin = x;
    if( i==0 || x>rMax ) rMax = x;
  }
  nRange = (i64)(rMax - rMin) + 1;
  if( nRange > 4*(i64)n + 1024 ) return 0;
  aCount = sqlite3_malloc64(sizeof(int)*(u64)(nRange+1));
  if( aCount==0 ){ *pRc = SQLITE_NOMEM; return 1; }
  memset(aCount, 0, sizeof(int)*(u64)(nRange+1));
  for(i=0; i<n; i++) aCount[(i64)(aVal[i]-rMin)]++;
  /* aCount[v] becomes the number of values worse than v: below it, or
  ** above it when lower is better */
  nSum = 0;
  if( bLowBetter ){
    for(i=nRange-1; i>=0; i--){ int c = aCount[i]; aCount[i] = (int)nSum; nSum += c; }
  }else{
    for(i=0; i<nRange; i++){ int c = aCount[i]; aCount[i] = (int)nSum; nSum += c; }
  }
  if( eMethod==SEG_METHOD_RANK ){
    for(i=0; i<n; i++){
      i64 w = aCount[(i64)(aVal[i]-rMin)];
      aScore[i] = (unsigned char)(1 + (nBin*w)/n);
    }
  }else{
    /* ntile: ascending (descending when lower is better) by value, then
    ** by customer; with bLowBetter the worst come first, so the position
    ** is the count of worse values too */
    for(i=0; i<n; i++){
      i64 pos = aCount[(i64)(aVal[i]-rMin)]++;
      aScore[i] = scoreTile(pos, n, nBin);
    }
  }
  sqlite3_free(aCount);
  *pRc = SQLITE_OK;
  return 1;
}

/* Scores by rank, aIdx the customers in ascending order of aVal with the
** nNull NaNs first: for higher-is-better, the position of the first equal
** value; for lower-is-better, n less the position after the last, plus
** the NaNs (worse than every value). */
static void scoreRankSorted(const double *aVal, const int *aIdx, int n,
                            int nNull, int nBin, int bLowBetter,
                            unsigned char *aScore){
  int i, j = nNull;
  while( j<n ){
    int e = j;
    i64 w;
    while( e+1<n && scoreSame(aVal[aIdx[e+1]], aVal[aIdx[j]]) ) e++;
    w = bLowBetter ? (i64)(n-1-e) + nNull : (i64)j;
    for(i=j; i<=e; i++){
      aScore[aIdx[i]] = (unsigned char)(1 + (nBin*w)/n);
    }
    j = e+1;
  }
}

/* Scores by quantile breaks of the values that are not NULL, aIdx as for
** scoreRankSorted(); the NaNs are left to the caller.  SQLITE_OK or
** SQLITE_NOMEM. */
static int scoreQuantileSorted(const double *aVal, const int *aIdx, int n,
                               int nNull, int nBin, int bLowBetter,
                               unsigned char *aScore){
  int nVal = n - nNull, i, k;
  double *aSorted = sqlite3_malloc64(sizeof(double)*((u64)nVal + 10));
  double *aB;
  double rMin, rMax1;
  if( aSorted==0 ) return SQLITE_NOMEM;
  aB = aSorted + nVal;
  for(i=0; i<nVal; i++) aSorted[i] = aVal[aIdx[nNull+i]];
  if( nVal>0 ){
    segQuantileBreaks(aSorted, nVal, nBin, aB);
    rMin = aSorted[0];
    rMax1 = aSorted[nVal-1] + 1.0;
  }else{
    rMin = rMax1 = 0.0;
  }
  for(i=0; i<n; i++){
    double x = aVal[i];
    int s = 0;
    if( isnan(x) ) continue;             /* scored 1 by the caller */
    for(k=1; k<=nBin; k++){
      double lower = k==1 ? rMin : aB[k-2];
      double upper = k==nBin ? rMax1 : aB[k-1];
      if( x>=lower && x<upper ) s = k;
    }
    if( s==0 ) s = x>=rMin ? nBin : 1;
    aScore[i] = (unsigned char)(bLowBetter ? nBin+1-s : s);
  }
  sqlite3_free(aSorted);
  return SQLITE_OK;
}

int segScore(const double *aVal, int n, const int *aTie, int nBin,
             int eMethod, int bLowBetter, const double *aBreak, int nBreak,
             unsigned char *aScore, SegScratch *pBuf){
  int *aIdx = 0, *aIdxOwn = 0;
  u64 *aKey, *aKeyOwn = 0;
  u64 nIdx = (sizeof(int)*(u64)n + 7) & ~(u64)7;   /* 8-byte aligned */
  SegScratch rest = {0, 0};
  int i, rc, bDesc, nNull;
  (void)aTie;
  if( n==0 ) return SQLITE_OK;
  if( eMethod==SEG_METHOD_BREAKS ){
    for(i=0; i<n; i++){
      int s = 1, k;
      for(k=0; k<nBreak && aBreak[k]<=aVal[i]; k++) s++;
      aScore[i] = (unsigned char)(bLowBetter ? nBreak+2-s : s);
    }
    scoreNullWorst(aVal, n, aScore);
    return SQLITE_OK;
  }
  if( (eMethod==SEG_METHOD_RANK || eMethod==SEG_METHOD_NTILE)
   && scoreCounting(aVal, n, nBin, eMethod, bLowBetter, aScore, &rc) ){
    return rc;
  }
  /* index and keys (12 bytes a value), then the sort's temporaries (12),
  ** from the caller's scratch memory when it holds them all */
  if( pBuf && pBuf->n >= nIdx + (2*sizeof(u64)+sizeof(int))*(u64)n ){
    aIdx = (int*)pBuf->a;
    aKey = (u64*)(pBuf->a + nIdx);
    rest.a = pBuf->a + nIdx + sizeof(u64)*(u64)n;
    rest.n = pBuf->n - (nIdx + sizeof(u64)*(u64)n);
  }else{
    aIdx = aIdxOwn = sqlite3_malloc64(sizeof(int)*(u64)n);
    aKey = aKeyOwn = sqlite3_malloc64(sizeof(u64)*(u64)n);
    if( aIdx==0 || aKey==0 ){
      sqlite3_free(aIdxOwn);
      sqlite3_free(aKeyOwn);
      return SQLITE_NOMEM;
    }
  }
  /* ascending, NaN first; ntile of recency descending, NaN first too
  ** (key 0 stays below every complemented key); the sort is stable, so
  ** equal values keep the customer order */
  bDesc = eMethod==SEG_METHOD_NTILE && bLowBetter;
  for(i=0; i<n; i++){
    aIdx[i] = i;
    aKey[i] = segDoubleKey(aVal[i]);
    if( bDesc && aKey[i] ) aKey[i] = ~aKey[i];
  }
  rc = segRadixSort(aKey, aIdx, n, rest.n ? &rest : 0);
  sqlite3_free(aKeyOwn);
  if( rc ){ sqlite3_free(aIdxOwn); return rc; }
  for(nNull=0; nNull<n && isnan(aVal[aIdx[nNull]]); nNull++){}

  rc = SQLITE_OK;
  if( eMethod==SEG_METHOD_RANK ){
    scoreRankSorted(aVal, aIdx, n, nNull, nBin, bLowBetter, aScore);
  }else if( eMethod==SEG_METHOD_NTILE ){
    for(i=0; i<n; i++) aScore[aIdx[i]] = scoreTile(i, n, nBin);
  }else{
    rc = scoreQuantileSorted(aVal, aIdx, n, nNull, nBin, bLowBetter, aScore);
  }
  sqlite3_free(aIdxOwn);
  if( rc ) return rc;
  if( nNull ) scoreNullWorst(aVal, n, aScore);
  return SQLITE_OK;
}

/**************************************************************************
** rfm_score(r, f, m)
*/
static int scoreArgInt(sqlite3_context *ctx, sqlite3_value *pVal, int iArg,
                       const char *zFunc, int *piOut){
  int e = sqlite3_value_numeric_type(pVal);
  double r;
  if( e==SQLITE_INTEGER ){
    i64 v = sqlite3_value_int64(pVal);
    if( v>=1 && v<=9 ){ *piOut = (int)v; return 1; }
  }else if( e==SQLITE_FLOAT ){
    r = sqlite3_value_double(pVal);
    if( r>=1.0 && r<=9.0 && r==floor(r) ){ *piOut = (int)r; return 1; }
  }
  {
    char *z = sqlite3_mprintf("%s argument to %s() must be an integer 1..9",
                              segOrdinal(iArg), zFunc);
    if( z ){ sqlite3_result_error(ctx, z, -1); sqlite3_free(z); }
    else sqlite3_result_error_nomem(ctx);
  }
  return 0;
}

static void rfmCellFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int a[3], i;
  (void)argc;
  for(i=0; i<3; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  for(i=0; i<3; i++){
    if( !scoreArgInt(ctx, argv[i], i+1, "rfm_score", &a[i]) ) return;
  }
  sqlite3_result_int(ctx, 100*a[0] + 10*a[1] + a[2]);
}

/**************************************************************************
** score_breaks(x, bins [, method])
*/
typedef struct BreaksAgg BreaksAgg;
struct BreaksAgg {
  double *aVal;
  i64 n, nAlloc;
  int nBin;
  int eMethod;
  int bErr;
};

static void breaksStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  BreaksAgg *p = sqlite3_aggregate_context(ctx, sizeof(*p));
  int e;
  if( p==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( p->bErr ) return;
  if( p->nBin==0 ){
    int nBin = 0;
    if( sqlite3_value_numeric_type(argv[1])==SQLITE_INTEGER ){
      i64 v = sqlite3_value_int64(argv[1]);
      if( v>=1 && v<=9 ) nBin = (int)v;
    }
    if( nBin==0 ){
      p->bErr = 1;
      sqlite3_result_error(ctx,
          "2nd argument to score_breaks() must be an integer 1..9", -1);
      return;
    }
    p->nBin = nBin;
    p->eMethod = SEG_METHOD_RANK;
    if( argc>2 ){
      const char *z = (const char*)sqlite3_value_text(argv[2]);
      if( z && sqlite3_stricmp(z, "rank")==0 ){
        p->eMethod = SEG_METHOD_RANK;
      }else if( z && sqlite3_stricmp(z, "quantile")==0 ){
        p->eMethod = SEG_METHOD_QUANTILE;
      }else{
        p->bErr = 1;
        sqlite3_result_error(ctx, "3rd argument to score_breaks() must be "
            "'rank' or 'quantile' (ntile splits ties by key: it has no "
            "breaks)", -1);
        return;
      }
    }
  }
  e = sqlite3_value_numeric_type(argv[0]);
  if( e==SQLITE_NULL ) return;
  if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ){
    p->bErr = 1;
    sqlite3_result_error(ctx, "1st argument to score_breaks() is not a number",
                         -1);
    return;
  }
  if( !isfinite(sqlite3_value_double(argv[0])) ){
    p->bErr = 1;
    sqlite3_result_error(ctx,
        "1st argument to score_breaks() is not a finite number", -1);
    return;
  }
  if( segArrayGrow((void**)&p->aVal, &p->nAlloc, p->n, sizeof(double), 256,
                   SEG_ARRAY_MAX) ){
    sqlite3_result_error_nomem(ctx);
    p->bErr = 1;
    return;
  }
  p->aVal[p->n++] = sqlite3_value_double(argv[0]);
}

static int breaksCmp(void *pCtx, int a, int b){
  const double *aVal = (const double*)pCtx;
  return aVal[a]<aVal[b] ? -1 : (aVal[a]>aVal[b]);
}

static void breaksFinal(sqlite3_context *ctx){
  BreaksAgg *p = sqlite3_aggregate_context(ctx, 0);
  double *aSorted = 0;
  double aB[10];
  int *aIdx = 0;
  int n, i, k;
  sqlite3_str *pStr;
  char *z;
  if( p==0 ) return;
  if( p->bErr || p->n==0 ) goto breaks_done;
  if( p->n>2147483000 ){ sqlite3_result_error_toobig(ctx); goto breaks_done; }
  n = (int)p->n;
  aIdx = sqlite3_malloc64(sizeof(int)*(u64)n);
  aSorted = sqlite3_malloc64(sizeof(double)*(u64)n);
  if( aIdx==0 || aSorted==0 ){ sqlite3_result_error_nomem(ctx); goto breaks_done; }
  for(i=0; i<n; i++) aIdx[i] = i;
  if( segSortIdx(aIdx, n, breaksCmp, p->aVal) ){
    sqlite3_result_error_nomem(ctx);
    goto breaks_done;
  }
  for(i=0; i<n; i++) aSorted[i] = p->aVal[aIdx[i]];
  if( p->eMethod==SEG_METHOD_QUANTILE ){
    segQuantileBreaks(aSorted, n, p->nBin, aB);
  }else{
    /* threshold s (2..bins): the smallest value whose rank score >= s */
    int s = 2;
    i = 0;
    while( i<n && s<=p->nBin ){
      i64 w = i;   /* values strictly below aSorted[i] */
      int score = (int)(1 + (p->nBin*w)/n);
      while( s<=score && s<=p->nBin ){ aB[s-2] = aSorted[i]; s++; }
      while( i+1<n && aSorted[i+1]==aSorted[i] ) i++;
      i++;
    }
    while( s<=p->nBin ){
      aB[s-2] = nextafter(aSorted[n-1], HUGE_VAL);
      s++;
    }
  }
  pStr = sqlite3_str_new(0);
  sqlite3_str_appendchar(pStr, 1, '[');
  for(k=0; k<p->nBin-1; k++){
    if( k ) sqlite3_str_appendchar(pStr, 1, ',');
    segJsonAppendNumber(pStr, aB[k]);
  }
  sqlite3_str_appendchar(pStr, 1, ']');
  z = sqlite3_str_finish(pStr);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_text(ctx, z, -1, sqlite3_free);
  }
breaks_done:
  sqlite3_free(aIdx);
  sqlite3_free(aSorted);
  sqlite3_free(p->aVal);
  p->aVal = 0;
}

/**************************************************************************
** score_of(x, breaks [, 'desc'])
*/
typedef struct BreakList BreakList;
struct BreakList { int n; double a[1]; };

static void scoreOfFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  BreakList *pList;
  int e, s = 1, k, bDesc = 0, bNew = 0;
  double x;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL
   || sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  if( argc>2 ){
    const char *z = (const char*)sqlite3_value_text(argv[2]);
    if( z==0 ) return;
    if( sqlite3_stricmp(z, "desc")==0 ) bDesc = 1;
    else if( sqlite3_stricmp(z, "asc")!=0 ){
      sqlite3_result_error(ctx,
          "3rd argument to score_of() must be 'asc' or 'desc'", -1);
      return;
    }
  }
  pList = (BreakList*)sqlite3_get_auxdata(ctx, 1);
  if( pList==0 ){
    double *a = 0;
    int n = 0, rc;
    const char *z = (const char*)sqlite3_value_text(argv[1]);
    if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
    rc = segJsonNumberArray(z, sqlite3_value_bytes(argv[1]), &a, &n);
    if( rc==SQLITE_NOMEM ){ sqlite3_result_error_nomem(ctx); return; }
    if( rc!=SQLITE_OK ){
      sqlite3_result_error(ctx,
          "2nd argument to score_of() is not a JSON array of numbers", -1);
      return;
    }
    for(k=1; k<n; k++){
      if( !(a[k]>=a[k-1]) ) break;   /* equal thresholds: an empty bin */
    }
    if( k<n || n>8 ){
      sqlite3_free(a);
      sqlite3_result_error(ctx, n>8 ?
          "2nd argument to score_of() has more than 8 thresholds" :
          "2nd argument to score_of() is not in ascending order", -1);
      return;
    }
    pList = sqlite3_malloc64(sizeof(BreakList) + sizeof(double)*(n>0?n:1));
    if( pList==0 ){ sqlite3_free(a); sqlite3_result_error_nomem(ctx); return; }
    pList->n = n;
    if( n ) memcpy(pList->a, a, sizeof(double)*n);
    sqlite3_free(a);
    bNew = 1;
  }
  e = sqlite3_value_numeric_type(argv[0]);
  if( e!=SQLITE_INTEGER && e!=SQLITE_FLOAT ){
    sqlite3_result_error(ctx, "1st argument to score_of() is not a number", -1);
  }else{
    x = sqlite3_value_double(argv[0]);
    for(k=0; k<pList->n && pList->a[k]<=x; k++) s++;
    sqlite3_result_int(ctx, bDesc ? pList->n+2-s : s);
  }
  if( bNew ) sqlite3_set_auxdata(ctx, 1, pList, sqlite3_free);
}

int segmentRegisterScore(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "rfm_score",    3, SEG_SCALAR_FLAGS, 0, rfmCellFunc, 0, 0 },
    { "score_breaks", 2, SEG_AGG_FLAGS, 0, 0, breaksStep, breaksFinal },
    { "score_breaks", 3, SEG_AGG_FLAGS, 0, 0, breaksStep, breaksFinal },
    { "score_of",     2, SEG_SCALAR_FLAGS, 0, scoreOfFunc, 0, 0 },
    { "score_of",     3, SEG_SCALAR_FLAGS, 0, scoreOfFunc, 0, 0 },
  };
  return segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
}
