/*
** segmentInt.h: the internal interfaces shared by the files of libsegment.
**
** segment.c is the entry point; every other file includes this header and
** nothing else of SQLite's (the loadable-extension API pointer is shared
** through SQLITE_EXTENSION_INIT3).  One concern per file:
**
**   segment.c   sqlite3_segment_init(), registration loop, segment_version()
**   util.c      dates (one parser), option parsing (one parser), the
**               customer / value hash map, value ordering
**   vtab.c      the table-valued-function framework every module uses
**   source.c    the one source reader, source_stats()
**   threads.c   threads: the reader thread's start, segParallel
**   daycells.c  the (group, day) cells that usage_tier, lifecycle_stage
**               and engagement_score share
**   score.c     the one scoring routine (rank, ntile, quantile, breaks),
**               score_breaks(), score_of(), rfm_score(r,f,m)
**   schemes.c   segment schemes: segment_of(), segment_rules()
**   rfm.c       rfm_score table-valued function, the RFM scoring it
**               shares (segRfmOptions, segRfmScore)
**   segtools.c  segment_migration, segment_profile, the small-segment
**               guard (min_share=, min_customers=, other=, k=)
**   json.c      a small JSON reader/writer for models and break lists
**   clv.c       clv_summary, BG/NBD, Pareto/NBD, Gamma-Gamma, clv
**   holdout.c   clv_holdout, clv_validation, lr_test
**   discrete.c  BG/BB and sBG (discrete time, contractual), dert, derl
**   calendar.c  occasions, occasion_of, season_of, days_to_birthday,
**               occasion_profile
**   usage.c     usage_tier (scalar and table-valued)
**   lifecycle.c lifecycle_stage
**   benefits.c  benefits_sought
**   engagement.c engagement_score, cart_abandonment
**   cohort.c    cohort_retention
**   cluster.c   kmeans_fit, kmeans_select, kmeans_cluster
**   privacy.c   pseudonymize (HMAC-SHA-256)
**   chart.c     chart_bar, chart_histogram, chart_heatmap, chart_treemap,
**               chart_line: SVG charts (ChartBuilder below)
**   report.c    segment_report: one HTML page of the whole segmentation
*/
#ifndef SEGMENTINT_H
#define SEGMENTINT_H

#include "sqlite3ext.h"
#ifndef SEGMENT_ENTRY_FILE
SQLITE_EXTENSION_INIT3
#endif

#include <stddef.h>
#include <math.h>

#define SEGMENT_VERSION "0.1.0"

typedef sqlite3_int64 i64;
typedef sqlite3_uint64 u64;

/* Flags for scalar functions and aggregates (DESIGN.md section 8). */
#define SEG_SCALAR_FLAGS (SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS)
#define SEG_AGG_FLAGS    (SQLITE_UTF8|SQLITE_INNOCUOUS)
/* ... and for a function that may read a table (segment_of with a scheme
** argument): neither deterministic nor innocuous. */
#define SEG_READER_FLAGS (SQLITE_UTF8)

/*
** A registration table entry for scalars and aggregates.  Each file that
** defines functions exports one segmentRegisterXxx(db) that loops over its
** table with segRegisterFunctions().
*/
typedef struct SegFunc SegFunc;
struct SegFunc {
  const char *zName;
  int nArg;
  int eFlags;
  int iData;                      /* sqlite3_user_data(), as an integer */
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);   /* scalar */
  void (*xStep)(sqlite3_context*, int, sqlite3_value**);   /* aggregate */
  void (*xFinal)(sqlite3_context*);                        /* aggregate */
};
int segRegisterFunctions(sqlite3 *db, const SegFunc *aFunc, int nFunc,
                         char **pzErr);
/* One function of p (its iData unused) with pData as its user data and
** xDestroy as pData's destructor, which runs even when registration fails.
** On error *pzErr is "libsegment: cannot register NAME(): ...". */
int segRegisterFunction(sqlite3 *db, const SegFunc *p, void *pData,
                        void (*xDestroy)(void*), char **pzErr);
/* The number of elements of an array. */
#define SEG_COUNT(a) ((int)(sizeof(a)/sizeof((a)[0])))

/* Per-file registration functions, called by sqlite3_segment_init(). */
int segmentRegisterSource(sqlite3 *db, char **pzErr);
int segmentRegisterScore(sqlite3 *db, char **pzErr);
int segmentRegisterSchemes(sqlite3 *db, char **pzErr);
int segmentRegisterRfm(sqlite3 *db, char **pzErr);
int segmentRegisterClv(sqlite3 *db, char **pzErr);
int segmentRegisterDiscrete(sqlite3 *db, char **pzErr);
int segmentRegisterCalendar(sqlite3 *db, char **pzErr);
int segmentRegisterUsage(sqlite3 *db, char **pzErr);
int segmentRegisterLifecycle(sqlite3 *db, char **pzErr);
int segmentRegisterBenefits(sqlite3 *db, char **pzErr);
int segmentRegisterEngagement(sqlite3 *db, char **pzErr);
int segmentRegisterCohort(sqlite3 *db, char **pzErr);
int segmentRegisterCluster(sqlite3 *db, char **pzErr);
int segmentRegisterPrivacy(sqlite3 *db, char **pzErr);
int segmentRegisterSegtools(sqlite3 *db, char **pzErr);
int segmentRegisterHoldout(sqlite3 *db, char **pzErr);
int segmentRegisterChart(sqlite3 *db, char **pzErr);
int segmentRegisterReport(sqlite3 *db, char **pzErr);

/* "1st", "2nd", "3rd", "4th" ... for argument-error messages. */
const char *segOrdinal(int i);

/************************************************************************
** Dates (util.c).  One parser for every date that libsegment reads.
**
** A moment is held as milliseconds since the julian epoch (SQLite's iJD):
** julianday * 86400000.  A day is an integer julian day number: the UTC
** calendar day, 2000-01-01 is 2451545.
**
**   TEXT    strict ISO-8601 (DESIGN.md section 2, detail 1)
**   REAL    julian day in [0, 5373484.5)
**   INTEGER unix seconds mapping into that range
*/
#define SEG_DATE_OK    0
#define SEG_DATE_NULL  1     /* NULL (or empty after nothing: never) */
#define SEG_DATE_BAD   2     /* not a date in any accepted form */

int segDateFromValue(sqlite3_value *pVal, i64 *piMs);
/* A date_format= layout, compiled (util.c, 1.5). */
typedef struct SegDateFormat SegDateFormat;
/* The same, remembering the last day read in *pMemo (zeroed at first):
** faster on rows in date order, same results.  When pMemo->pFmt is set,
** TEXT is read with that layout instead (and nothing is remembered). */
typedef struct SegDateMemo SegDateMemo;
struct SegDateMemo {
  char zDay[10];                  /* the YYYY-MM-DD text ... */
  int bValid;
  i64 iDayMs;                     /* ... and its midnight */
  const SegDateFormat *pFmt;      /* date_format=, or NULL for ISO */
};
int segDateFromValueMemo(sqlite3_value *pVal, i64 *piMs, SegDateMemo *pMemo);
int segDateFromText(const char *z, int n, i64 *piMs);
/* segDateFromValue with TEXT read with pFmt (ISO when pFmt is NULL). */
int segDateFromValueFmt(sqlite3_value *pVal, i64 *piMs,
                        const SegDateFormat *pFmt);
/* TEXT z[0..n-1] read with layout pFmt: SEG_DATE_OK or SEG_DATE_BAD. */
int segDateParseFormat(const SegDateFormat *pFmt, const char *z, int n,
                       i64 *piMs);
/* Compile a layout: SQLITE_OK with *ppFmt (free with sqlite3_free),
** SQLITE_NOMEM, or SQLITE_ERROR with *pzWhy (what is wrong with it). */
int segDateFormatCompile(const char *zFmt, SegDateFormat **ppFmt,
                         char **pzWhy);
const char *segDateFormatText(const SegDateFormat *pFmt);
int segDayOfMs(i64 iMs);                     /* UTC calendar day */
int segDayFromYmd(int y, int m, int d);      /* proleptic Gregorian */
void segYmdFromDay(int iDay, int *pY, int *pM, int *pD);
int segFormatDay(int iDay, char *zBuf);      /* zBuf >= 12 bytes; length */
int segDaysInMonth(int y, int m);
int segWeekday(int iDay);                    /* 0 = Monday .. 6 = Sunday */
#define SEG_MS_PER_DAY 86400000

/************************************************************************
** Options (util.c).  One parser for the key=value arguments of every
** table-valued function, in both forms (table-valued call and CREATE
** VIRTUAL TABLE).
*/
typedef struct SegOpts SegOpts;
struct SegOpts {
  const char *zFunc;              /* "rfm_score", for messages */
  const char *const *azName;      /* option names, NULL terminated */
  int nName;
  char **azVal;                   /* azVal[i]: value of option i or NULL */
  int nArg;                       /* arguments seen so far */
  int bPositional;                /* arguments are values, in order */
};
/* The options of the source reader: the first names of every source
** function's option list, in this order. */
#define SEG_SOURCE_OPTIONS \
  "source", "customer", "date", "amount", "order", "as_of", "since", \
  "on_error", "date_format"

int segOptsInit(SegOpts *p, const char *zFunc, const char *const *azName,
                int bPositional);
/* Add one argument.  zArg is the raw text; bDequote: CREATE VIRTUAL TABLE
** form, where values may be quoted.  On error returns SQLITE_ERROR and sets
** *pzErr (sqlite3_malloc'd) or returns SQLITE_NOMEM. */
int segOptsAdd(SegOpts *p, const char *zArg, int bDequote, char **pzErr);
void segOptsFree(SegOpts *p);
const char *segOptsGet(const SegOpts *p, const char *zName);
int segOptsInt(const SegOpts *p, const char *zName, int iDefault,
               int iMin, int iMax, int *piOut, char **pzErr);
int segOptsDouble(const SegOpts *p, const char *zName, double rDefault,
                  double rMin, double rMax, double *prOut, char **pzErr);
/* azValue NULL terminated, matched case-insensitively; *piOut = index. */
int segOptsEnum(const SegOpts *p, const char *zName,
                const char *const *azValue, int iDefault, int *piOut,
                char **pzErr);
/* Comma separated ascending numbers: "30,90,180".  *paOut sqlite3_malloc'd
** (NULL and *pnOut = 0 when the option is absent). */
int segOptsNumberList(const SegOpts *p, const char *zName, double **paOut,
                      int *pnOut, char **pzErr);
/* The date_format= option, compiled: *ppFmt NULL when absent; an error
** naming the function and the layout when it is not a valid layout. */
int segDateFormatOpen(const SegOpts *p, SegDateFormat **ppFmt,
                      char **pzErr);
/* A date option (always ISO text): *pbSet = 0 when absent. */
int segOptsDay(const SegOpts *p, const char *zName, int *piDay, int *pbSet,
               char **pzErr);
/* Like sqlite3_mprintf, prefixed with "zFunc(): ". */
char *segOptsError(const SegOpts *p, const char *zFmt, ...);
/* A comma separated list of texts ("express, next_day"), or zDefault when
** the option is absent; matched case-insensitively against the text of a
** value (engagement.c: event types; benefits.c: fast shipping). */
typedef struct SegTextList SegTextList;
struct SegTextList { char **az; int n; };
int segOptsTextList(const SegOpts *p, const char *zName, const char *zDefault,
                    SegTextList *pList, char **pzErr);
int segTextListHas(const SegTextList *pList, sqlite3_value *pVal);
void segTextListFree(SegTextList *pList);

/************************************************************************
** Values ordered and grouped as SQLite does (util.c).
**
** SegValue is an owned copy of an sqlite3_value.  segValueCompare() is
** SQLite's ORDER BY under BINARY collation (NULL < numbers < text < blob;
** integers and reals compared exactly).  segValueEqual() is SQLite's `=`.
*/
typedef struct SegValue SegValue;
struct SegValue {
  int eType;                      /* SQLITE_INTEGER, _FLOAT, _TEXT, ... */
  int n;                          /* bytes of z for TEXT and BLOB */
  union { i64 i; double r; char *z; } u;
};
int segValueCompare(const SegValue *a, const SegValue *b);
void segValueResult(sqlite3_context *ctx, const SegValue *p);

/*
** SegMap: a hash map from (value, salt) to a dense index 0, 1, 2 ...
** Used for customers (salt 0) and for order ids within a customer
** (salt = customer index).  Keys equal under SQLite's `=` map to one index,
** which keeps the first value seen.  Text compares under the map's
** collation (segMapCollate(); BINARY in UTF-8 unless set).  The hash is
** keyed by a random seed taken when the map is initialised, so that keys
** chosen to collide in one process do not collide in another.
*/
#define SEG_COLL_BINARY 0
#define SEG_COLL_NOCASE 1
#define SEG_COLL_RTRIM  2
typedef struct SegMap SegMap;
struct SegMap {
  SegValue *aKey;                 /* aKey[i]: key of index i */
  int *aSalt;                     /* aSalt[i]; NULL while every salt is 0 */
  int nKey, nKeyAlloc;
  int nNonInt;                    /* keys that are not INTEGER */
  u64 *aSlot;                     /* open addressing: tag<<32 | index+1,
                                  ** 0 = empty */
  int bHashTags;                  /* 0: every key so far is a 32-bit
                                  ** INTEGER with salt 0 and a slot's tag
                                  ** is the key itself (no key to compare);
                                  ** 1: the tag is the key's hash */
  unsigned int nSlot;             /* power of two */
  i64 iMin, iMax;                 /* key range while !bHashTags */
  int *aDirect;                   /* direct mode (while every key is a
                                  ** 32-bit INTEGER with salt 0 and their
                                  ** range is at most 4 per key): entered
                                  ** when the slots grow, aDirect[key -
                                  ** iBase] = index+1, 0 = absent; no slots */
  i64 iBase;
  unsigned int nDirect;
  u64 aSeed[4];                   /* the hash's key (segMapInit) */
  int eColl;                      /* SEG_COLL_xxx, for TEXT keys */
  int eEnc;                       /* SQLITE_UTF8 or _UTF16LE/BE: the
                                  ** order of BINARY text (keys are UTF-8) */
};
void segMapInit(SegMap *p);
/* Group and order text keys under collation eColl (SEG_COLL_xxx) in a
** database of encoding eEnc.  Call before the first key is added. */
void segMapCollate(SegMap *p, int eColl, int eEnc);
/* Compare two keys of the map as ORDER BY does under its collation. */
int segMapCompare(const SegMap *p, const SegValue *a, const SegValue *b);
void segMapFree(SegMap *p);
/* Find or insert.  *piIdx = index; *pbNew = 1 if inserted.  A NULL value
** is never passed.  Returns SQLITE_OK or SQLITE_NOMEM. */
int segMapFind(SegMap *p, sqlite3_value *pVal, int iSalt, int *piIdx,
               int *pbNew);
/* The same with the key given: pKey as segValueBorrow() makes it, h its
** segMapHash().  A text or blob key is copied when inserted. */
int segMapFindKey(SegMap *p, const SegValue *pKey, unsigned int h, int iSalt,
                  int *piIdx, int *pbNew);
unsigned int segMapHash(const SegMap *p, const SegValue *pKey, int iSalt);
/* Hint that segMapFindKey() with hash h comes soon (loads its slot). */
void segMapPrefetch(const SegMap *p, const SegValue *pKey, unsigned int h);
/* Free the hash slots once no more keys are added (keys stay); a later
** find builds them again. */
void segMapFreeSlots(SegMap *p);
/* The key of a non-NULL value; TEXT and BLOB point into pVal.  SQLITE_OK
** or SQLITE_NOMEM. */
int segValueBorrow(sqlite3_value *pVal, SegValue *pKey);
/* Indexes 0..nKey-1 sorted by key as ORDER BY sorts; sqlite3_malloc'd. */
int segMapSorted(const SegMap *p, int **paIdx);
/* Once no more keys are found: put the keys in the order of aIdx, a
** permutation of 0..nKey-1 (segMapSorted()), so that key i is the old key
** aIdx[i] and keys read in that order are read in sequence.  Indexes taken
** before name the old order; the slots are freed (no find may follow).
** SQLITE_OK or SQLITE_NOMEM (the map unchanged). */
int segMapReorder(SegMap *p, const int *aIdx);
/* Grow an array (doubling from nMin, to nMax elements at the most) so
** that index i fits: SQLITE_OK or NOMEM.  SEG_ARRAY_MAX, the usual nMax,
** is far past any memory and keeps sz * n within 64 bits for sz < 2^23. */
#define SEG_ARRAY_MAX (((i64)1)<<40)
int segArrayGrow(void **pa, i64 *pnAlloc, i64 i, size_t sz, i64 nMin,
                 i64 nMax);
/* The same for an int count, from 1024 elements. */
int segArrayEnsure(void **pa, int *pnAlloc, int i, size_t sz);
/* sqlite3_free() as a function: a destructor in a static initializer (in
** a loadable extension sqlite3_free is a call through the API table, not
** a constant). */
void segFree(void *p);
/* The same, the new elements set to zero bytes. */
int segArrayEnsureZero(void **pa, int *pnAlloc, int i, size_t sz);
/* Stable LSD radix sort of aIdx[0..n-1] by aKey[] ascending (both are
** permuted; aIdx may be 0 to sort the keys alone).  SQLITE_OK or
** SQLITE_NOMEM. */
/* Memory a caller lends a routine for its temporaries: n bytes at a
** (8-byte aligned); the routine allocates what does not fit. */
typedef struct SegScratch SegScratch;
struct SegScratch { char *a; u64 n; };
int segRadixSort(u64 *aKey, int *aIdx, int n, SegScratch *pBuf);
/* The key under which segRadixSort() orders doubles as < does, NaN
** lowest and -0.0 equal to 0.0. */
u64 segDoubleKey(double x);
/* Stable merge sort of an index array with a comparison callback. */
int segSortIdx(int *a, int n, int (*xCmp)(void*, int, int), void *pCtx);
/* The median of n >= 1 doubles (no NaN), sorting them in place. */
double segMedian(double *a, i64 n);
/* SEG_HEAP_SORT(NAME, T) defines static void NAME(T *a, i64 n), an
** in-place heap sort of n values of type T, ascending by <: O(n log n)
** whatever the values, no memory (util.c's doubles, daycells.c's keys). */
#define SEG_HEAP_SORT(NAME, T) \
static void NAME##Sift(T *a, i64 i, i64 n){ \
  for(;;){ \
    i64 l = 2*i+1, m = i; \
    T t; \
    if( l<n && a[m]<a[l] ) m = l; \
    if( l+1<n && a[m]<a[l+1] ) m = l+1; \
    if( m==i ) return; \
    t = a[i]; a[i] = a[m]; a[m] = t; \
    i = m; \
  } \
} \
static void NAME(T *a, i64 n){ \
  i64 i; \
  for(i=n/2-1; i>=0; i--) NAME##Sift(a, i, n); \
  for(i=n-1; i>0; i--){ \
    T t = a[0]; a[0] = a[i]; a[i] = t; \
    NAME##Sift(a, 0, i); \
  } \
}

/************************************************************************
** Numbers and amounts (util.c).
*/
/* Parse an amount value (detail 4): returns SEG_AMT_NULL, SEG_AMT_KNOWN,
** or -1 when it is a bad amount. */
int segAmountFromValue(sqlite3_value *pVal, double *prOut);

/* Numbers as text, the same under every C locale: '.' is the decimal point
** whatever LC_NUMERIC says (util.c, section 5).
** segNumberParse: is z[0..n-1] exactly a decimal number (optional sign,
** digits with at most one '.', at least one digit, optional exponent
** e[+-]digits)?  1 and *pr set (+-Inf when it overflows), 0 if not, -1 out
** of memory (only for numbers of 128 characters or more).
** segNumberFormat: r (finite) as the shortest of 15..17 significant digits
** that reads back to r, always with a '.': 1.0, 0.1, 1.0e+20. */
#define SEG_NUMBER_SIZE 40      /* bytes of segNumberFormat's buffer */
int segNumberParse(const char *z, int n, double *pr);
void segNumberFormat(char *zBuf, double r);

/* Neumaier compensated sum. */
typedef struct SegSum SegSum;
struct SegSum { double s, c; };
static inline void segSumAdd(SegSum *p, double x){
  double t = p->s + x;
  if( fabs(p->s)>=fabs(x) ){
    p->c += (p->s - t) + x;
  }else{
    p->c += (x - t) + p->s;
  }
  p->s = t;
}
static inline double segSumValue(const SegSum *p){
  return p->s + p->c;
}

/************************************************************************
** Interrupts (util.c).  A long computation calls segCheck(p, nWork)
** every so often, with nWork its work since the last call in units of
** about a nanosecond (a few floating-point operations); after about
** SEG_CHECK_WORK units, segCheckProbe() runs a trivial statement on the
** connection, which sqlite3_interrupt() and the progress handler stop.
** Returns SQLITE_OK, or SQLITE_INTERRUPT (or SQLITE_NOMEM) from then on:
** the caller stops and reports it with sqlite3_result_error_code().
*/
typedef struct SegCheck SegCheck;
struct SegCheck {
  sqlite3 *db;
  sqlite3_stmt *pProbe;           /* prepared at the first probe */
  i64 nWork;                      /* work since the last probe */
  int rc;                         /* sticky result */
};
#define SEG_CHECK_WORK 2000000    /* about 2 ms between probes */
void segCheckInit(SegCheck *p, sqlite3 *db);
int segCheckProbe(SegCheck *p);
void segCheckFree(SegCheck *p);
static inline int segCheck(SegCheck *p, i64 nWork){
  if( p==0 ) return SQLITE_OK;
  p->nWork += nWork;
  return p->nWork>=SEG_CHECK_WORK || p->rc ? segCheckProbe(p) : SQLITE_OK;
}

/************************************************************************
** Table-valued functions (vtab.c).
**
** A module gives its visible columns, its option names and a compute
** function.  The framework registers an eponymous virtual table that can
** also be created with CREATE VIRTUAL TABLE, maps the arguments of a
** table-valued call onto hidden columns arg1..argN, parses them with the
** one option parser, calls xCompute once per scan and hands out the rows
** through the module's xColumn.  xCompute sets the result's rows (pData)
** only when it succeeds; the framework frees them with the module's xFree.
*/
typedef struct SegResult SegResult;
struct SegResult {
  i64 nRow;
  void *pData;                    /* the rows, for xColumn and xFree */
};
typedef struct SegModuleSpec SegModuleSpec;
struct SegModuleSpec {
  const char *zName;              /* SQL name: "rfm_score" */
  const char *zColumns;           /* "customer,first_date,...", visible */
  const char *const *azOpt;       /* option names, NULL terminated */
  int bPositional;                /* arguments are positional values */
  /* Compute every row.  On error return an SQLite code and set *pzErr. */
  int (*xCompute)(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                  char **pzErr);
  int bInnocuous;                 /* SEG_ARGS_ONLY or SEG_READS_TABLE */
  /* Set the result of column iCol (0-based, visible columns) of row iRow */
  int (*xColumn)(void *pData, i64 iRow, int iCol, sqlite3_context *ctx);
  void (*xFree)(void *pData);     /* free a result's pData */
};
/* bInnocuous (DESIGN.md section 8): a module that reads nothing but its
** arguments is SQLITE_VTAB_INNOCUOUS; one that reads a table is not. */
#define SEG_READS_TABLE 0
#define SEG_ARGS_ONLY   1
int segRegisterModule(sqlite3 *db, const SegModuleSpec *pSpec, char **pzErr);
/* The one nesting guard of every read of the user's database (table-valued
** functions, rules tables): segNestEnter() fails with "zFunc(): sources
** nested more than 16 deep (does a view read itself?)" (SQLITE_ERROR, or
** SQLITE_NOMEM) or enters one level, which segNestLeave() leaves.
** segNestTooDeep(): the guard failed and is being unwound (pass errors of
** the inner statements on unchanged, so that the message names the loop). */
int segNestEnter(const char *zFunc, char **pzErr);
void segNestLeave(void);
int segNestTooDeep(void);

/************************************************************************
** The source reader (source.c).  Every table-valued function over a
** transaction or event source reads it through this API.
**
** Column roles: role 0 is the customer, role 1 the date, role 2 the amount
** (SEG_COL_AMOUNT) and then any roles the function adds.  The order id
** (option order=) is handled by the reader itself.
*/
#define SEG_COL_VALUE   0         /* handed out as sqlite3_value */
#define SEG_COL_AMOUNT  1         /* parsed like amounts (detail 4) */
#define SEG_COL_DATE    2         /* parsed like dates (detail 1) */

typedef struct SegColumn SegColumn;
struct SegColumn {
  const char *zOpt;               /* option that names it: "amount" */
  const char *const *azAuto;      /* names tried when absent, or NULL */
  int eKind;                      /* SEG_COL_xxx */
  int bRequired;                  /* error if absent and not detected */
};

typedef struct SegStats SegStats;
struct SegStats {
  i64 nRows, nUsed, nNullCustomer, nNullDate, nBadDate, nBadAmount;
  i64 nAfterAsOf, nRefunds;
  int bAnyDay;                    /* some usable row was seen */
  int iMinDay, iMaxDay;           /* span of usable rows */
  int iFirstOrderDay, iLastOrderDay; /* span of used orders; valid if nOrderRows */
  i64 nOrderRows;
  /* the first bad date and bad amount skipped, for the error when
  ** on_error=skip leaves no row (source.c) */
  int iBadDateCol, iBadAmountCol;  /* their columns in the statement */
  const char *zBadAmountWhat;      /* "amount", "number" or "date" */
  char zBadDate[68], zBadAmount[68];  /* 'quoted' value or "a blob" */
};

#define SEG_AMT_NULL   0
#define SEG_AMT_KNOWN  1

typedef struct SegRow SegRow;
struct SegRow {
  int iCust;                      /* customer index in the reader's map */
  int bNewCust;                   /* first used row of this customer */
  i64 iMs;                        /* the moment (ms since julian epoch) */
  int iDay;                       /* its UTC day */
  int eAmount;                    /* SEG_AMT_NULL / SEG_AMT_KNOWN */
  double rAmount;
  int bRefund;                    /* amount < 0 */
  int bOrder;                     /* an order row (amount >= 0 or NULL) */
  int bNewOrder;                  /* first row of a new order */
  int iOrder;                     /* order index with order=, else -1 */
  sqlite3_value **apVal;          /* apVal[iRole]: raw value of each role */
  double *aNum;                   /* aNum[iRole]: SEG_COL_AMOUNT roles */
  int *aNumKnown;                 /* 1 if aNum[iRole] holds a number */
  i64 *aMs;                       /* aMs[iRole]: SEG_COL_DATE roles */
  int *aMsKnown;
};

/* A row read ahead (segSourceBatch): what the reader read, kept small
** (32 bytes) because it may pass from one thread to another.  The amount
** is NaN when NULL (a known amount is never NaN: SQLite stores none).  A
** text or blob key copied to the batch's arena holds its offset there in
** u.i until the batch is complete and the pointer is set.  With order=,
** the order keys are kept beside the rows (SQLITE_NULL if none). */
typedef struct SegPending SegPending;
struct SegPending {
  SegValue cust;                  /* the customer key */
  i64 iMs;                        /* the moment */
  double rAmount;                 /* the amount; NaN when NULL */
};
/* ... and what finding its keys in the maps gave */
typedef struct SegFound SegFound;
struct SegFound {
  int iCust, iOrder;              /* iOrder -1 without an order id */
  unsigned int h;                 /* hash of the key being found */
  unsigned char bNewCust, bNewOrder;
};
#define SEG_BATCH 128             /* rows read ahead in batch mode */
#define SEG_LOOKAHEAD 64          /* rows kept ahead of the caller */

/* Text and blob keys of a batch, copied out of the statement */
typedef struct SegArena SegArena;
struct SegArena { char *a; i64 n, nAlloc; };

typedef struct SegRing SegRing;   /* source.c: the reader thread's buffers */

typedef struct SegSource SegSource;
struct SegSource {
  sqlite3 *db;
  const SegOpts *pOpts;
  sqlite3_stmt *pStmt;
  const SegColumn *aCol; int nCol;   /* roles */
  int *aiCol;                     /* aiCol[role]: column in pStmt, or -1 */
  int iOrderCol;                  /* column of order=, or -1 */
  char *zOrderCol;                /* the order column's name, or NULL; it
                                  ** is not read (iOrderCol -1) when it is
                                  ** its table's whole PRIMARY KEY */
  int bCountOnly;                 /* source_stats: no error when
                                  ** on_error=skip leaves no row */
  int bSkipErrors;                /* on_error=skip */
  int bHasRowid;
  int bAsOf; int iAsOfDay;        /* as_of= given */
  int bSince; int iSinceDay;      /* since= given */
  SegMap cust;                    /* customers of used rows */
  SegMap orders;                  /* order ids (salt = customer) */
  SegStats st;
  SegRow row;
  sqlite3_value **apVal;
  double *aNum; int *aNumKnown; i64 *aMs; int *aMsKnown;
  i64 iPos;
  char *zTable;                   /* "schema"."table" as quoted in SQL */
  SegPending *aPend;              /* rows read, not yet delivered */
  SegValue *aOrd;                 /* their order keys, with order= */
  SegFound *aFound;               /* their keys found */
  int nPend, iPend;               /* aPend[iPend..nPend-1] are pending */
  int nBatch, nLook;              /* rows read at once; kept ahead */
  int bEof;                       /* the scan has ended ... */
  int rcEnd; char *zErrEnd;       /* ... with this code and message */
  SegArena arena;                 /* text keys of a batch */
  SegRing *pRing;                 /* segSourceScan() with a worker thread */
  SegDateMemo dateMemo;           /* the date column's last day */
  SegDateFormat *pDateFmt;        /* date_format=, or NULL */
  void (*xPrefetch)(void*, int);  /* see segSourceBatch() */
  void *pPrefetchCtx;
};
/* Open: resolve the table, the columns (options and auto-detection), the
** as_of / since / on_error / date_format options, and prepare the scan.  aCol[0] must be
** the customer role, aCol[1] the date role.  aCol is read, not copied,
** until the scan ends: it must outlive segSourceEach(). */
int segSourceOpen(SegSource *p, sqlite3 *db, const SegOpts *pOpts,
                  const SegColumn *aCol, int nCol, char **pzErr);
/* The scan that every table-valued function runs: each used row, in
** order, to xRow(pCtx, pCust, pRow).  With szCust > 0 the scan keeps a
** state of szCust bytes per customer, by customer index, grown as
** customers come and zeroed at a customer's first row; pCust is the
** row's.  With bScalar (xRow reads only the row's scalar fields, never
** apVal, aNum, aMs), the rows are read in batch mode with each state
** loaded ahead, and on the worker thread where the connection allows one
** (segSourceScan: xRow touches nothing but the row and its own memory).
** A non-zero return from xRow ends the scan with it.  After the scan,
** aCust/nCustAlloc are the caller's to keep (sqlite3_free) or grow. */
typedef struct SegEach SegEach;
struct SegEach {
  size_t szCust;                  /* bytes of a customer's state, or 0 */
  int bScalar;                    /* batch mode and the worker allowed */
  int (*xRow)(void *pCtx, void *pCust, const SegRow *pRow);
  void *pCtx;
  void *aCust; int nCustAlloc;    /* the states (out) */
  SegSource *pSrc;                /* set by segSourceEach */
};
int segSourceEach(SegSource *p, SegEach *pEach, char **pzErr);
/* The as_of day once the scan is done: the as_of= option or the latest
** usable day.  Returns 0 when there is none (empty source). */
int segSourceAsOf(SegSource *p, int *piDay);
/* The customers of the source's map in the order of ORDER BY customer,
** those for which xKeep(pCtx, iCust) is non-zero (all when xKeep is NULL):
** *paOut (sqlite3_malloc'd, NULL on error), *pnOut of them.  SQLITE_OK or
** SQLITE_NOMEM. */
int segSourceCustomers(SegSource *p, int (*xKeep)(void*, int), void *pCtx,
                       int **paOut, int *pnOut);
void segSourceClose(SegSource *p);
/* Is pVal a NULL customer (DESIGN.md detail 5)?  NULL, or TEXT that is
** empty or all spaces (U+0020 only, as RTRIM trims). */
int segCustomerIsNull(sqlite3_value *pVal);
/* Is zName[0..nName-1] the name of an attached schema (main, temp, ...)? */
int segIsSchema(sqlite3 *db, const char *zName, int nName);
/* The name under which a scan of table zTab (schema zSchema, or NULL)
** reads its real rowid: the first of rowid, oid and _rowid_ that no column
** shadows; *pzAlias is NULL when rows must be named by position (a view,
** a WITHOUT ROWID table, all three names taken).  SQLITE_OK or NOMEM. */
int segRowidAlias(sqlite3 *db, const char *zSchema, const char *zTab,
                  const char **pzAlias);
/* Standard roles: customer, date, amount (used by most functions). */
extern const SegColumn segStdColumns[3];

/************************************************************************
** Threads (threads.c).  segThreadsAllowed(db): how many auxiliary
** threads PRAGMA threads allows the connection (0: none).
** segThreadStart() starts xMain(pArg) on a thread that takes no signals
** (SQLITE_OK, or SQLITE_ERROR when there is none to be had);
** segThreadJoin() waits for it.  segParallel() runs xJob(pCtx, iJob,
** bCaller) for iJob = 0..nJob-1, on the caller's thread and up to nExtra
** others, each thread a fixed share (iJob modulo their number); bCaller
** is 1 for the jobs of the caller's thread, the only ones that may call
** SQLite (e.g. segCheck).  The jobs may call nothing else of SQLite's.
*/
#ifndef SEG_THREADS
# define SEG_THREADS 1
#endif
#if SEG_THREADS
# include <pthread.h>
typedef pthread_t SegThread;
#else
typedef int SegThread;
#endif
int segThreadsAllowed(sqlite3 *db);
int segThreadStart(SegThread *pT, void *(*xMain)(void*), void *pArg);
void segThreadJoin(SegThread t);
void segParallel(int nExtra, int nJob, void (*xJob)(void*, int, int),
                 void *pCtx);
/* A flag that one thread sets and others poll (the jobs' stop flag). */
#if defined(__GNUC__) || defined(__clang__)
# define SEG_FLAG_SET(p)  __atomic_store_n((p), 1, __ATOMIC_RELAXED)
# define SEG_FLAG_GET(p)  __atomic_load_n((p), __ATOMIC_RELAXED)
#else
# define SEG_FLAG_SET(p)  (*(volatile int*)(p) = 1)
# define SEG_FLAG_GET(p)  (*(volatile int*)(p))
#endif

/* A hint to load the cache line of an address soon to be used. */
#if defined(__GNUC__) || defined(__clang__)
# define SEG_PREFETCH(x) __builtin_prefetch(x)
#else
# define SEG_PREFETCH(x) ((void)(x))
#endif

/************************************************************************
** Day cells (daycells.c): the distinct (group, day) pairs of a source,
** with the events and net amount of each, for functions that need active
** days or gaps between days (usage_tier, lifecycle_stage,
** engagement_score).  Rows are added during the scan (8 bytes each, 16
** with amounts); segDayEach then hands out each group's cells.
*/
typedef struct SegDayCell SegDayCell;
struct SegDayCell {
  int iDay;                       /* UTC day */
  i64 nEvent;                     /* its rows added with bEvent */
  SegSum sum;                     /* its known amounts, net, in row order */
};
typedef struct SegDayBlock SegDayBlock;
typedef struct SegDayPart SegDayPart;
struct SegDayPart {               /* the rows of 1,024 consecutive groups */
  SegDayBlock *pFirst, *pLast;
  i64 nRec;
};
typedef struct SegDaySet SegDaySet;
struct SegDaySet {
  SegDayPart *aPart; int nPart, nPartAlloc;
  int bAmount;                    /* rows carry amounts */
};
/* bAmount: rows may carry amounts (segDayAdd's pAmount). */
void segDaySetInit(SegDaySet *p, int bAmount);
void segDaySetFree(SegDaySet *p);
/* Add a row of group iGroup (>= 0) on iDay: an event or not, with a known
** amount (*pAmount; only when bAmount) or none (pAmount NULL).
** SQLITE_OK or SQLITE_NOMEM. */
int segDayAdd(SegDaySet *p, int iGroup, int iDay, int bEvent,
              const double *pAmount);
/* Called once per group that has rows, in increasing group order, with
** its cells in increasing day order; a non-zero return stops the walk. */
typedef int (*SegDayGroupFn)(void *pCtx, int iGroup, const SegDayCell *aCell,
                             int nCell);
/* Walk the groups, freeing the rows as it goes: once per set, after the
** last segDayAdd.  SQLITE_OK, SQLITE_NOMEM or xGroup's return. */
int segDayEach(SegDaySet *p, SegDayGroupFn xGroup, void *pCtx);

/************************************************************************
** Scoring (score.c).  The one routine that turns a measure into scores
** 1..nBin, used by rfm_score, score_breaks and engagement_score.
*/
#define SEG_METHOD_RANK      0
#define SEG_METHOD_NTILE     1
#define SEG_METHOD_QUANTILE  2
#define SEG_METHOD_BREAKS    3
extern const char *const segMethodNames[];   /* "rank","ntile","quantile" */

/*
** aVal[0..n-1]: the measure (NaN = NULL, sorts lowest).  aTie: the
** customer order (rank of each item's key) used to break ties in ntile, or
** NULL.  bLowBetter: recency (lower is better, so scores are reversed).
** aBreak/nBreak: thresholds for SEG_METHOD_BREAKS.  aScore[i] = 1..nBin.
*/
int segScore(const double *aVal, int n, const int *aTie, int nBin,
             int eMethod, int bLowBetter, const double *aBreak, int nBreak,
             unsigned char *aScore, SegScratch *pBuf);
/* R's type 7 quantile breaks + 1 (rfm package): aOut[0..nBin-2]. aSorted is
** ascending. */
void segQuantileBreaks(const double *aSorted, int n, int nBin, double *aOut);

/************************************************************************
** Segment schemes (schemes.c).
*/
typedef struct SegScheme SegScheme;
/* Load a scheme by name: built-in (standard, rfm_r, rf_grid) or a user
** rules table.  Returns SQLITE_OK, an error (with *pzErr) or NOMEM. */
int segSchemeLoad(sqlite3 *db, const char *zName, const char *zFunc,
                  SegScheme **pp, char **pzErr);
/* The segment of a cell with scores 1..nBin, or NULL when no rule
** matches.  Built-in schemes rescale to 1..5 when nBin != 5. */
const char *segSchemeSegment(const SegScheme *p, int r, int f, int m,
                             int nBin);
void segSchemeFree(SegScheme *p);

/************************************************************************
** RFM scoring shared by rfm_score and the segment tools (rfm.c).
*/
/* The scoring options every function that outputs RFM segments takes,
** after the source's in its option list. */
#define SEG_RFM_OPTIONS \
  "bins", "method", "monetary", "r_breaks", "f_breaks", "m_breaks", "scheme"
typedef struct SegRfmSpec SegRfmSpec;
struct SegRfmSpec {
  int nBin;                       /* 1..9 */
  int eMethod;                    /* SEG_METHOD_xxx (breaks aside) */
  int bAverage;                   /* monetary=average */
  double *apBreak[3]; int anBreak[3];  /* r_breaks, f_breaks, m_breaks */
  SegScheme *pScheme;
};
/* A customer's measures as of a day, the input of segRfmScore(). */
typedef struct SegRfmRow SegRfmRow;
struct SegRfmRow {
  int iCust;                      /* customer index: its key */
  int iFirst, iLast;              /* order days */
  unsigned int nOrder, nKnown;    /* orders; those with a known amount */
  double rMonetary;               /* the net sum */
};
/* Parse bins, method, monetary, r/f/m_breaks and load scheme= into *p
** (zeroed first; free with segRfmSpecFree() whatever it returns). */
int segRfmOptions(sqlite3 *db, const SegOpts *pOpts, SegRfmSpec *p,
                  char **pzErr);
void segRfmSpecFree(SegRfmSpec *p);
/* Scores of aRow[0..n-1] (in customer order) as of day iAsOf, exactly as
** rfm_score gives them, into aR, aF, aM.  aVal: n doubles of scratch. */
int segRfmScore(const SegRfmSpec *p, const SegRfmRow *aRow, int n, int iAsOf,
                unsigned char *aR, unsigned char *aF, unsigned char *aM,
                double *aVal, SegScratch *pBuf);
/* "zFunc(): monetary overflows for customer K": SQLITE_ERROR or NOMEM. */
int segRfmMonetaryError(const SegOpts *pOpts, const SegValue *pKey,
                        char **pzErr);

/************************************************************************
** The small-segment guard and segments by score cell (segtools.c).
*/
#define SEG_GUARD_OPTIONS "min_share", "min_customers", "other"
typedef struct SegGuard SegGuard;
struct SegGuard {
  int bOn;                        /* min_share= or min_customers= given */
  double rMinShare;               /* 0..1 */
  int nMinCust;
  char *zOther;                   /* the folded row's name (owned) */
};
/* Parse min_share=, min_customers= and other= into *p (zeroed first). */
int segGuardOptions(const SegOpts *pOpts, SegGuard *p, char **pzErr);
void segGuardFree(SegGuard *p);
/* The segments of customers scored in cells (r, f, m), 9 x 9 x 9 of them:
** a segment is a cell's scheme name; the guard folds the segments under
** its bar into one, named other=.  Segments are numbered in output order:
** by name (BINARY; no rule matched first), the folded one last. */
#define SEG_NCELL 729
typedef struct SegCells SegCells;
struct SegCells {
  const SegRfmSpec *pSpec;
  short aSeg[SEG_NCELL];          /* cell -> segment, -1: no customer */
  int nSeg;
  const char *azName[SEG_NCELL+1];     /* NULL: no rule matched */
  i64 anCust[SEG_NCELL+1];        /* customers of each segment */
  unsigned char abSmall[SEG_NCELL+1];  /* 1: the folded segment */
  i64 nTotal;                     /* customers counted */
};
#define SEG_CELL(r, f, m) ((((r)-1)*9 + (f)-1)*9 + (m)-1)
/* Count rows 0..n-1 (but those with abSkip[i] set, when abSkip is not
** NULL) and fold.  Names point into the scheme and pGuard: both must
** outlive *p.  SQLITE_OK or SQLITE_NOMEM. */
int segCellsBuild(SegCells *p, const SegRfmSpec *pSpec, const SegGuard *pGuard,
                  const unsigned char *aR, const unsigned char *aF,
                  const unsigned char *aM, const unsigned char *abSkip, int n);
/* The segment of a cell (its scheme name when no counted row is in it). */
const char *segCellsName(const SegCells *p, int r, int f, int m);
int segCellsSegment(const SegCells *p, int r, int f, int m);

/************************************************************************
** JSON (json.c): just what models and break lists need.
*/
typedef struct SegJson SegJson;     /* a parsed JSON document */
int segJsonParse(const char *z, int n, SegJson **pp);  /* OK, ERROR, NOMEM */
void segJsonFree(SegJson *p);
/* Numbers of a top-level array: *paOut sqlite3_malloc'd. SQLITE_ERROR if
** the document is not an array of numbers. */
int segJsonNumberArray(const char *z, int n, double **paOut, int *pnOut);
/* Look up a path of object keys and array indexes separated by '.'
** ("params.r", "centroids.2.0"): 1 found, 0 not. */
int segJsonGetNumber(const SegJson *p, const char *zPath, double *prOut);
const char *segJsonGetText(const SegJson *p, const char *zPath);
/* true or false at zPath: 1 found (*pbOut 1 or 0), 0 not a boolean */
int segJsonGetBool(const SegJson *p, const char *zPath, int *pbOut);
/* Append a double as JSON (17 significant digits, NaN/Inf as null). */
void segJsonAppendNumber(sqlite3_str *pStr, double r);
/* The parsed model of a scalar's argument argv[iArg] (not NULL), parsed
** once per statement and distinct text however it is passed: xParse(z,
** n, &p) gives SQLITE_OK, SQLITE_ERROR (not such a model) or
** SQLITE_NOMEM; xFree frees what it made.  Returns what xParse returned
** (or SQLITE_NOMEM); *ppModel belongs to the cache and stays valid until
** the function returns. */
typedef struct SegModelKind SegModelKind;
struct SegModelKind {
  int (*xParse)(const char *z, int n, void **ppModel);
  void (*xFree)(void *pModel);
};
int segModelArg(sqlite3_context *ctx, sqlite3_value **argv, int iArg,
                const SegModelKind *pKind, void **ppModel);

/************************************************************************
** The purchase models and the customer summary of clv.c, shared with
** holdout.c.
*/
#define SEG_CLV_BGNBD   0         /* clv.c's model numbers (CLV_xxx) */
#define SEG_CLV_PARETO  1
#define SEG_CLV_MBGNBD  3
/* One customer of the summary (clv_summary's row).  With a split
** (SegClvSplit), the calibration summary plus the holdout. */
typedef struct SegClvCust SegClvCust;
struct SegClvCust {
  int iCust;                      /* index in the reader's customer map
                                  ** (its keys reordered: segMapReorder) */
  int x;
  double tx, T;                   /* in the unit */
  double m;                       /* NaN = NULL */
  int iFirstDay;                  /* the first purchase day */
  int xHold;                      /* split: purchase days in the holdout */
  double mHold;                   /* ... their net spend (NaN = NULL) */
};
/* A calibration / holdout split: calibration rows are those up to day
** iCalEnd, holdout rows those after it up to iHoldEnd; only customers
** whose first purchase is in the calibration are summarized.  The repeat
** purchase days of those customers, calibration and holdout, are
** appended to aRepeat (sqlite3_malloc'd, nRepeat of them, in customer
** order), for the tracking of cumulative repeat purchases. */
typedef struct SegClvSplit SegClvSplit;
struct SegClvSplit {
  int iCalEnd, iHoldEnd;
  int *aRepeat; i64 nRepeat;
};
/* Read the source (the reader's options and unit=) into *paCust (in
** customer order, sqlite3_malloc'd) as clv_summary does; pSplit NULL for
** no split (T up to as_of).  *peUnit is the unit= option (0 day, 1 week,
** 2 month).  pSrc is opened here and closed by the caller, also on
** error. */
int segClvSummarize(sqlite3 *db, const SegOpts *pOpts, SegClvSplit *pSplit,
                    SegSource *pSrc, SegClvCust **paCust, int *pnCust,
                    int *peUnit, char **pzErr);
/* The days in a unit (0 day, 1 week, 2 month) and its name */
double segClvUnitDays(int eUnit);
const char *segClvUnitName(int eUnit);
/* Fit purchase model eModel (SEG_CLV_xxx) to the (x, t_x, T) of n
** customers' summaries (in unit eUnit), as the fits do: the parameters in
** paper order into aParam, the model's JSON into *pzJson
** (sqlite3_malloc'd).  SQLITE_OK, SQLITE_NOMEM or pCheck's code
** (interrupted). */
int segClvFit(int eModel, int eUnit, const SegClvCust *aCust, int n,
              SegCheck *pCheck, double *aParam, char **pzJson);
/* E[X(t)] of a new customer and E[Y(t) | x, t_x, T] under eModel with
** parameters aParam (expected_purchases()). */
double segClvExpected(int eModel, const double *aParam, double t);
double segClvCondExpected(int eModel, const double *aParam, double t,
                          double x, double tx, double T);

/************************************************************************
** Model fits and fitted models (clv.c), shared with discrete.c.
**
** segFitOptimize: clv.c's optimiser (its requirements F3-F5: Nelder-Mead
** from p->aTheta, Newton steps with a finite-difference Hessian,
** restarts, the Newton-decrement convergence test, delta-method standard
** errors) over p->nParam (1..4) log-parameters of the -LL xNll(pArg,
** aTheta), INFINITY outside its domain; pCheck the interrupt check or
** NULL.  segFitJson: the model's JSON (model, unit when zUnit is not
** NULL, params named azParam, log_likelihood, std_errors, iterations,
** converged, n, k, aic, bic) without its closing brace.
*/
typedef struct SegFit SegFit;
struct SegFit {
  int nParam;
  double aTheta[4];               /* in: start; out: optimum (logs) */
  double rNll;                    /* -LL there */
  double aSe[4];                  /* std errors of exp(aTheta), or NaN */
  int nIter;
  int bConverged;
};
void segFitOptimize(SegFit *p, double (*xNll)(void*, const double*),
                    void *pArg, SegCheck *pCheck);
void segFitJson(sqlite3_str *pStr, const char *zModel, const char *zUnit,
                const char *const *azParam, const SegFit *p, double n);

/* A fitted model as the scalars read it: its kind and parameters in the
** papers' order.  segModelOfArg: the model of argv[iArg] (cached, as
** segModelArg), NULL after an error, or for a NULL argument with
** *pbNull; mask: the kinds (1<<SEG_MODEL_x) the function takes.
** segModelNumArgs: argv[i0..i0+n-1] as numbers, 1, 0 for a NULL (result
** NULL), -1 after an error.  segModelResult: r, or a "numerical failure"
** error when it is not finite. */
#define SEG_MODEL_BGNBD  0
#define SEG_MODEL_PARETO 1
#define SEG_MODEL_GG     2
#define SEG_MODEL_MBGNBD 3
#define SEG_MODEL_BGBB   4
#define SEG_MODEL_SBG    5
typedef struct SegModel SegModel;
struct SegModel {
  int eModel;
  int eUnit;
  double a[4];
};
const SegModel *segModelOfArg(sqlite3_context *ctx, sqlite3_value **argv,
                              int iArg, const char *zFunc, int mask,
                              int *pbNull);
int segModelNumArgs(sqlite3_context *ctx, sqlite3_value **argv, int i0,
                    int n, const char *zFunc, double *a);
void segModelResult(sqlite3_context *ctx, const char *zFunc, double r);
/* log Gamma(x), x > 0; 2F1(1, b; c; z) for 0 <= z < 1 - 1e-4 (NaN
** beyond) */
double segLgamma(double x);
double segHyp2f1One(double b, double c, double z);
/* discrete.c: p_alive() and expected_purchases() of a bgbb model */
void segBgbbPAliveFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                       const SegModel *m);
void segBgbbExpectedFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv, const SegModel *m);

/************************************************************************
** Charts (chart.c).  A builder takes rows as the chart_xxx() aggregates
** do (the data arguments, no options) and draws one SVG; report.c draws
** the charts of its page with it.
*/
#define SEG_CHART_BAR       0
#define SEG_CHART_HISTOGRAM 1
#define SEG_CHART_HEATMAP   2
#define SEG_CHART_TREEMAP   3
#define SEG_CHART_LINE      4
typedef struct ChartBuilder ChartBuilder;
int chartBuilderNew(int eKind, sqlite3 *db, ChartBuilder **pp);
/* The options text ('title=...; width=...'), before the first row. */
int chartBuilderOptions(ChartBuilder *p, const char *zOpts, char **pzErr);
int chartBuilderStep(ChartBuilder *p, int argc, sqlite3_value **argv,
                     char **pzErr);
/* *pzOut: the SVG (sqlite3_malloc'd), NULL when no row was drawn;
** bStandalone adds the XML declaration. */
int chartBuilderRender(ChartBuilder *p, int bStandalone, char **pzOut,
                       char **pzErr);
void chartBuilderFree(ChartBuilder *p);
/* z[0..n-1] (n<0: strlen) XML/HTML-escaped, bad UTF-8 and control
** characters replaced. */
void chartAppendEscaped(sqlite3_str *p, const char *z, int n);
/* v as the charts label it (zBuf: 64 bytes): eFormat 0..6 digits after
** the point, -1 automatic, -2 integer, -3 percent; thousands grouped. */
void chartFormatNumber(char *zBuf, double v, int eFormat);

#endif /* SEGMENTINT_H */
