/*
** schemes.c: segment schemes, segment_of() and segment_rules().
**
** A scheme names the segment of each cell (r, f, m) of scores.  Four kinds
** (DESIGN.md section 3, appendices A, B, C):
**
**   standard  the 11-segment map of Appendix A, defined cell by cell; each
**             of the 125 cells (scores 1..5) is in exactly one segment.
**   rfm_r     the rfm R package's default (Appendix B): ten range rules,
**             first match wins, no match gives 'Others'.
**   rf_grid   the R x F grid of Appendix C; m is ignored.
**   TABLE     a user rules table with columns segment, r_lo, r_hi, f_lo,
**             f_hi, m_lo, m_hi and optionally priority.
**
** Requirements:
**   1. Built-in names are matched case-insensitively and win over a table
**      of the same name (write main.standard to read such a table).
**   2. Any other scheme name is a table or view: `schema.table` when
**      `schema` is an attached database, otherwise the whole text is the
**      table name.  It is always quoted as an identifier.  Neither a scheme
**      nor a table: `segment_of(): no such scheme or table 'xyz' (schemes:
**      standard, rfm_r, rf_grid)`.
**   3. A rules table must have the columns segment, r_lo, r_hi, f_lo, f_hi,
**      m_lo, m_hi (matched as SQLite matches names); missing ones are
**      named in the error.  Bounds are inclusive and must be integers
**      (INTEGER, or REAL with an integral value); priority, when present,
**      too; segment must not be NULL.  A bad value is an error naming the
**      column, the value and the row (rowid, or `row N` for views and
**      WITHOUT ROWID tables).  A rule with lo > hi never matches.
**   4. Rules are tried by priority (lower first, ties by rowid) when there
**      is a priority column, else in rowid order.  The first match wins;
**      no match gives NULL (rfm_r: 'Others').
**   5. Built-in schemes see scores 1..5: with bins other than 5 they are
**      rescaled first, s -> 1 + floor(5*(s-1)/bins).  User tables see the
**      raw scores 1..9.
**   6. A rules table is read under the one nesting guard of every read
**      of the user's database (vtab.c): a rules view whose rows call
**      segment_of() on itself (or, through rfm_score's scheme=, any loop)
**      fails with `segment_of(): sources nested more than 16 deep (does a
**      view read itself?)`, named after the innermost caller, instead of
**      overflowing the stack.
**   7. Flags (DESIGN.md section 8): segment_of(r, f, m) and
**      segment_of(rfm), the standard map, read nothing but their
**      arguments: deterministic and innocuous, usable in an index, a CHECK
**      constraint or a generated column.  The forms with a scheme argument
**      may read a table (the argument decides at run time, flags are per
**      number of arguments), so they are neither: SQLite refuses them
**      there, and with PRAGMA trusted_schema=OFF in views and triggers.
**      segment_rules() is not SQLITE_VTAB_INNOCUOUS either.
**
** SQL functions:
**
**   segment_of(r, f, m [, scheme])
**   segment_of(rfm [, scheme])
**     The segment of a cell; scheme defaults to 'standard'.  Scores are
**     integers 1..9 (INTEGER, or REAL with an integral value; anything
**     else is an error); rfm is 100*r + 10*f + m with digits 1..9.  As
**     the number of bins is unknown here, built-in schemes take scores
**     1..5 and a score of 6..9 is an error (rescale first, or use a user
**     table).  A NULL argument gives NULL; a cell no rule matches gives
**     NULL.  The scheme is loaded once per statement when the scheme
**     argument is a constant (sqlite3_set_auxdata).
**
**   segment_rules([scheme])   table-valued, scheme defaults to 'standard'
**     The rules of a scheme, in the order they are tried, and a check of
**     them.  Columns: segment, priority, r_lo, r_hi, f_lo, f_hi, m_lo,
**     m_hi, cells, problem.
**       - one row per rule: cells = the number of cells of the grid that
**         the rule wins; problem is NULL, 'never matches' (cells = 0), or
**         'overlaps: A, B' naming the segments of earlier rules that take
**         some of its cells (rules of the same segment are not counted).
**       - rfm_r ends with its fallback row 'Others' (1..5 each) that wins
**         the cells no rule matches.
**       - then one row per cell no rule matches: segment NULL, priority
**         NULL, r_lo = r_hi = r (likewise f, m), cells 1, problem
**         'not covered'.
**     The grid is 1..5 for built-in schemes; for a user table it is 1..N
**     with N the largest bound of the table clamped to 5..9.  The standard
**     map is shown as boxes: for each segment of Appendix A, its cells
**     merged greedily into maximal boxes (m first, then f, then r),
**     scanning cells from 555 down.  priority is the rule's place (1, 2,
**     ...) for built-in schemes and for tables without a priority column.
**
** Errors (SQLite style, see the tests in test/schemes.test):
**   1st argument to segment_of() must be an integer score 1..9
**   2nd argument to segment_of() is 6: built-in scheme 'standard' takes
**     scores 1..5
**   1st argument to segment_of() must be an rfm code 111..999 whose digits
**     are 1..9
**   FUNC(): no such scheme or table 'xyz' (schemes: standard, rfm_r, rf_grid)
**   FUNC(): rules table 't' has no column m_lo (needs segment, r_lo, ...)
**   FUNC(): r_lo 'abc' in rules table 't' is not an integer (rowid 3)
**   FUNC(): segment is NULL in rules table 't' (row 2)
** where FUNC is segment_of, segment_rules or rfm_score (the caller of
** segSchemeLoad).
**
** Example:
**   SELECT segment_of(5, 5, 4), segment_of(345, 'rfm_r'),
**          segment_of(2, 5, 1, 'rf_grid');
**   -> Champions | Potential Loyalist | Can't Lose
*/
#include "segmentInt.h"
#include <string.h>
#include <math.h>

#define SCHEME_STANDARD 0
#define SCHEME_RFM_R    1
#define SCHEME_RF_GRID  2
#define SCHEME_TABLE    3

#define SCHEME_NCELL    729         /* 9 x 9 x 9 raw cells */
#define SCHEME_CELL(r,f,m) (((r)-1)*81 + ((f)-1)*9 + ((m)-1))

static const char *const azSchemeName[] = { "standard", "rfm_r", "rf_grid", 0 };

typedef struct SchemeRule SchemeRule;
struct SchemeRule {
  const char *zSeg;               /* segment name */
  i64 iPrio;                      /* priority (or place) */
  i64 iKey;                       /* rowid, or position in the scan */
  i64 aLo[3], aHi[3];             /* inclusive bounds of r, f, m */
};

struct SegScheme {
  int eKind;                      /* SCHEME_xxx */
  char *zName;                    /* the name as given (canonical if built-in) */
  int nRule;
  SchemeRule *aRule;
  char **azOwned;                 /* segment names of a user table */
  const char *zDefault;           /* 'Others' for rfm_r, else NULL */
  int nGrid;                      /* 5, or 5..9 for user tables */
  int aCell[SCHEME_NCELL];        /* 1 + index of the winning rule, or 0 */
};

/* Appendix A, verbatim. */
static const struct { const char *zSeg; const char *zCells; } aStandard[] = {
  { "Champions",          "555 554 544 545 454 455 445" },
  { "Loyal",              "543 444 435 355 354 345 344 335" },
  { "Potential Loyalist", "553 551 552 541 542 533 532 531 452 451 442 441 "
                          "431 453 433 432 423 353 352 351 342 341 333 323" },
  { "New Customers",      "512 511 422 421 412 411 311" },
  { "Promising",          "525 524 523 522 521 515 514 513 425 424 413 414 "
                          "415 315 314 313" },
  { "Need Attention",     "535 534 443 434 343 334 325 324" },
  { "About To Sleep",     "331 321 312 221 213 231 241 251" },
  { "At Risk",            "255 254 245 244 253 252 243 242 235 234 225 224 "
                          "153 152 145 143 142 135 134 133 125 124" },
  { "Cannot Lose Them",   "155 154 144 214 215 115 114 113" },
  { "Hibernating",        "332 322 233 232 223 222 132 123 122 212 211" },
  { "Lost",               "111 112 121 131 141 151" },
};

/* Appendix B and C: segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi. */
typedef struct SchemeRange SchemeRange;
struct SchemeRange { const char *zSeg; signed char a[6]; };
static const SchemeRange aRfmR[] = {
  { "Champions",          { 5, 5, 5, 5, 5, 5 } },
  { "Potential Loyalist", { 3, 5, 3, 5, 2, 5 } },
  { "Loyal Customers",    { 2, 4, 2, 4, 2, 4 } },
  { "Promising",          { 3, 4, 1, 3, 3, 5 } },
  { "New Customers",      { 4, 5, 1, 3, 1, 5 } },
  { "Can't Lose Them",    { 1, 2, 3, 4, 4, 5 } },
  { "At Risk",            { 1, 2, 2, 5, 4, 5 } },
  { "Need Attention",     { 1, 3, 3, 5, 3, 5 } },
  { "About To Sleep",     { 2, 3, 1, 3, 1, 4 } },
  { "Lost",               { 1, 1, 1, 5, 1, 5 } },
};
static const SchemeRange aRfGrid[] = {
  { "Hibernating",        { 1, 2, 1, 2, 1, 5 } },
  { "At Risk",            { 1, 2, 3, 4, 1, 5 } },
  { "Can't Lose",         { 1, 2, 5, 5, 1, 5 } },
  { "About To Sleep",     { 3, 3, 1, 2, 1, 5 } },
  { "Need Attention",     { 3, 3, 3, 3, 1, 5 } },
  { "Loyal",              { 3, 4, 4, 5, 1, 5 } },
  { "Promising",          { 4, 4, 1, 1, 1, 5 } },
  { "New",                { 5, 5, 1, 1, 1, 5 } },
  { "Potential Loyalist", { 4, 5, 2, 3, 1, 5 } },
  { "Champions",          { 5, 5, 4, 5, 1, 5 } },
};

void segSchemeFree(SegScheme *p){
  int i;
  if( p==0 ) return;
  if( p->azOwned ){
    for(i=0; i<p->nRule; i++) sqlite3_free(p->azOwned[i]);
    sqlite3_free(p->azOwned);
  }
  sqlite3_free(p->aRule);
  sqlite3_free(p->zName);
  sqlite3_free(p);
}

static void schemesFreeVoid(void *p){
  segSchemeFree((SegScheme*)p);
}

/* Fill aCell: the first rule (in order) that matches each raw cell. */
static void schemesBuildCells(SegScheme *p){
  int i, r, f, m;
  memset(p->aCell, 0, sizeof(p->aCell));
  for(i=p->nRule-1; i>=0; i--){
    const SchemeRule *pR = &p->aRule[i];
    i64 lo[3], hi[3];
    int k;
    for(k=0; k<3; k++){
      lo[k] = pR->aLo[k]<1 ? 1 : pR->aLo[k]>10 ? 10 : pR->aLo[k];
      hi[k] = pR->aHi[k]>9 ? 9 : pR->aHi[k]<0 ? 0 : pR->aHi[k];
    }
    for(r=(int)lo[0]; r<=hi[0]; r++){
      for(f=(int)lo[1]; f<=hi[1]; f++){
        for(m=(int)lo[2]; m<=hi[2]; m++){
          p->aCell[SCHEME_CELL(r,f,m)] = i+1;
        }
      }
    }
  }
}

/* The standard map: Appendix A's cells merged into boxes. */
static int schemesLoadStandard(SegScheme *p){
  signed char aOwner[125];        /* segment index of each cell 1..5 */
  unsigned char aDone[125];
  int nSeg = SEG_COUNT(aStandard);
  int iSeg, r, f, m;
#define STD(r,f,m) (((r)-1)*25 + ((f)-1)*5 + ((m)-1))
  memset(aOwner, -1, sizeof(aOwner));
  memset(aDone, 0, sizeof(aDone));
  for(iSeg=0; iSeg<nSeg; iSeg++){
    const char *z = aStandard[iSeg].zCells;
    while( *z ){
      if( *z==' ' ){ z++; continue; }
      aOwner[STD(z[0]-'0', z[1]-'0', z[2]-'0')] = (signed char)iSeg;
      z += 3;
    }
  }
  p->aRule = sqlite3_malloc64(sizeof(SchemeRule)*125);
  if( p->aRule==0 ) return SQLITE_NOMEM;
  for(iSeg=0; iSeg<nSeg; iSeg++){
    for(r=5; r>=1; r--){
      for(f=5; f>=1; f--){
        for(m=5; m>=1; m--){
          int rlo = r, flo = f, mlo = m, x, y, z, bOk;
          SchemeRule *pR;
          if( aOwner[STD(r,f,m)]!=iSeg || aDone[STD(r,f,m)] ) continue;
          while( mlo>1 && aOwner[STD(r,f,mlo-1)]==iSeg
              && !aDone[STD(r,f,mlo-1)] ) mlo--;
          for(bOk=1; bOk && flo>1; ){
            for(z=mlo; bOk && z<=m; z++){
              bOk = aOwner[STD(r,flo-1,z)]==iSeg && !aDone[STD(r,flo-1,z)];
            }
            if( bOk ) flo--;
          }
          for(bOk=1; bOk && rlo>1; ){
            for(y=flo; bOk && y<=f; y++){
              for(z=mlo; bOk && z<=m; z++){
                bOk = aOwner[STD(rlo-1,y,z)]==iSeg && !aDone[STD(rlo-1,y,z)];
              }
            }
            if( bOk ) rlo--;
          }
          for(x=rlo; x<=r; x++){
            for(y=flo; y<=f; y++){
              for(z=mlo; z<=m; z++) aDone[STD(x,y,z)] = 1;
            }
          }
          pR = &p->aRule[p->nRule++];
          pR->zSeg = aStandard[iSeg].zSeg;
          pR->iPrio = pR->iKey = p->nRule;
          pR->aLo[0] = rlo; pR->aHi[0] = r;
          pR->aLo[1] = flo; pR->aHi[1] = f;
          pR->aLo[2] = mlo; pR->aHi[2] = m;
        }
      }
    }
  }
#undef STD
  return SQLITE_OK;
}

static int schemesLoadRanges(SegScheme *p, const SchemeRange *a, int n){
  int i, k;
  p->aRule = sqlite3_malloc64(sizeof(SchemeRule)*n);
  if( p->aRule==0 ) return SQLITE_NOMEM;
  for(i=0; i<n; i++){
    SchemeRule *pR = &p->aRule[i];
    pR->zSeg = a[i].zSeg;
    pR->iPrio = pR->iKey = i+1;
    for(k=0; k<3; k++){
      pR->aLo[k] = a[i].a[2*k];
      pR->aHi[k] = a[i].a[2*k+1];
    }
  }
  p->nRule = n;
  return SQLITE_OK;
}

/* An integral value of a rules table: 1 if OK. */
static int schemesIntValue(sqlite3_value *pVal, i64 *piOut){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
      *piOut = sqlite3_value_int64(pVal);
      return 1;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      if( r==floor(r) && r>=-9007199254740992.0 && r<=9007199254740992.0 ){
        *piOut = (i64)r;
        return 1;
      }
      return 0;
    }
  }
  return 0;
}

/* A value for a message: 'text', 2.5, NULL, a blob. */
static char *schemesShowValue(sqlite3_value *pVal){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:  return sqlite3_mprintf("NULL");
    case SQLITE_FLOAT: return sqlite3_mprintf("%.15g", sqlite3_value_double(pVal));
    case SQLITE_BLOB:  return sqlite3_mprintf("a blob");
    default: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      return sqlite3_mprintf("'%.60s'", z ? z : "");
    }
  }
}

typedef struct SchemeSort SchemeSort;
struct SchemeSort { const SchemeRule *aRule; int bPrio; };

static int schemesRuleCmp(void *pCtx, int a, int b){
  SchemeSort *pS = (SchemeSort*)pCtx;
  const SchemeRule *pA = &pS->aRule[a], *pB = &pS->aRule[b];
  if( pS->bPrio && pA->iPrio!=pB->iPrio ) return pA->iPrio<pB->iPrio ? -1 : 1;
  if( pA->iKey!=pB->iKey ) return pA->iKey<pB->iKey ? -1 : 1;
  return 0;
}

#define SCHEME_ERR(pzErr, ...) \
  (*(pzErr) = sqlite3_mprintf(__VA_ARGS__), *(pzErr) ? SQLITE_ERROR : SQLITE_NOMEM)

/* The state of one read of a rules table (schemesReadTable). */
typedef struct SchemeScan SchemeScan;
struct SchemeScan {
  sqlite3 *db;
  const char *zName;              /* the table, as the scheme names it */
  const char *zFunc;              /* the caller, for messages */
  char **pzErr;
  const char *const *azCol;       /* segment, r_lo, ..., m_hi, priority */
  sqlite3_stmt *pStmt;            /* the rowid (or NULL), then every column */
  int aiCol[8];                   /* place of each of azCol, or -1 */
  int bRowid;                     /* keys are rowids, not scan positions */
  int nAlloc;                     /* slots in p->aRule and p->azOwned */
  int nGrid;                      /* the largest bound, clamped to 5..9 */
  i64 iPos;                       /* rows read so far */
};

/* Prepare the scan of the rules table.  The real rowid comes first, under
** a name no column shadows; views and WITHOUT ROWID tables count rows
** instead (NULL in its place, bRowid clear). */
static int schemesScanPrepare(SchemeScan *pScan){
  sqlite3 *db = pScan->db;
  const char *zName = pScan->zName;
  const char *zDot = strchr(zName, '.');
  char *zTable = 0, *zSql = 0, *zSchema = 0;
  const char *zRowid = 0;         /* the rowid's name in the scan */
  int rc;

  if( zDot && segIsSchema(db, zName, (int)(zDot-zName)) ){
    zSchema = sqlite3_mprintf("%.*s", (int)(zDot-zName), zName);
    if( zSchema==0 ) return SQLITE_NOMEM;
    zTable = sqlite3_mprintf("\"%w\".\"%w\"", zSchema, zDot+1);
  }else{
    zTable = sqlite3_mprintf("\"%w\"", zName);
  }
  if( zTable==0 ){ rc = SQLITE_NOMEM; goto prepare_done; }
  rc = segRowidAlias(db, zSchema, zSchema ? zDot+1 : zName, &zRowid);
  if( rc ) goto prepare_done;
  pScan->bRowid = zRowid!=0;
  zSql = sqlite3_mprintf("SELECT %s, * FROM %s", zRowid ? zRowid : "NULL",
                         zTable);
  if( zSql==0 ){ rc = SQLITE_NOMEM; goto prepare_done; }
  rc = sqlite3_prepare_v2(db, zSql, -1, &pScan->pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
    if( strncmp(sqlite3_errmsg(db), "no such table", 13)==0 ){
      rc = SCHEME_ERR(pScan->pzErr, "%s(): no such scheme or table '%s' "
                      "(schemes: standard, rfm_r, rf_grid)", pScan->zFunc,
                      zName);
    }else{
      rc = SCHEME_ERR(pScan->pzErr, "%s(): cannot read rules table '%s': %s",
                      pScan->zFunc, zName, sqlite3_errmsg(db));
    }
  }
prepare_done:
  sqlite3_free(zTable);
  sqlite3_free(zSchema);
  return rc;
}

/* Find each of azCol among the scan's columns (from 1: column 0 is the
** rowid).  Every one but priority must be there; the missing ones are
** named in the error. */
static int schemesScanColumns(SchemeScan *pScan){
  int nCol = sqlite3_column_count(pScan->pStmt);
  sqlite3_str *pMiss = 0;
  char *zMiss;
  int i, k, rc;
  for(i=0; i<8; i++){
    pScan->aiCol[i] = -1;
    for(k=1; k<nCol && pScan->aiCol[i]<0; k++){
      const char *zCol = sqlite3_column_name(pScan->pStmt, k);
      if( zCol && sqlite3_stricmp(zCol, pScan->azCol[i])==0 ){
        pScan->aiCol[i] = k;
      }
    }
    if( pScan->aiCol[i]<0 && i<7 ){
      if( pMiss==0 ) pMiss = sqlite3_str_new(0);
      sqlite3_str_appendf(pMiss, "%s%s", sqlite3_str_length(pMiss) ? ", " : "",
                          pScan->azCol[i]);
    }
  }
  if( pMiss==0 ) return SQLITE_OK;
  zMiss = sqlite3_str_finish(pMiss);
  if( zMiss==0 ) return SQLITE_NOMEM;
  rc = SCHEME_ERR(pScan->pzErr, "%s(): rules table '%s' has no column %s "
                  "(needs segment, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi "
                  "[, priority])", pScan->zFunc, pScan->zName, zMiss);
  sqlite3_free(zMiss);
  return rc;
}

/* Room for one more rule in p->aRule and p->azOwned. */
static int schemesScanGrow(SegScheme *p, SchemeScan *pScan){
  int nNew = pScan->nAlloc ? pScan->nAlloc*2 : 16;
  SchemeRule *aNew = sqlite3_realloc64(p->aRule, sizeof(SchemeRule)*nNew);
  char **azNew;
  if( aNew==0 ) return SQLITE_NOMEM;
  p->aRule = aNew;
  azNew = sqlite3_realloc64(p->azOwned, sizeof(char*)*nNew);
  if( azNew==0 ) return SQLITE_NOMEM;
  p->azOwned = azNew;
  pScan->nAlloc = nNew;
  return SQLITE_OK;
}

/* The bounds and the priority of the current row into pR: integers, or
** an error naming the column, the value and the row. */
static int schemesScanBounds(SchemeScan *pScan, SchemeRule *pR){
  int i;
  for(i=1; i<8; i++){
    i64 v = 0;
    sqlite3_value *pV;
    if( pScan->aiCol[i]<0 ) continue;
    pV = sqlite3_column_value(pScan->pStmt, pScan->aiCol[i]);
    if( !schemesIntValue(pV, &v) ){
      char *zVal = schemesShowValue(pV);
      int rc;
      if( zVal==0 ) return SQLITE_NOMEM;
      rc = SCHEME_ERR(pScan->pzErr, "%s(): %s %s in rules table '%s' is not "
                      "an integer (%s %lld)", pScan->zFunc, pScan->azCol[i],
                      zVal, pScan->zName, pScan->bRowid ? "rowid" : "row",
                      pR->iKey);
      sqlite3_free(zVal);
      return rc;
    }
    if( i<7 ){
      if( i & 1 ) pR->aLo[(i-1)/2] = v;
      else pR->aHi[(i-1)/2] = v;
      if( v>pScan->nGrid ) pScan->nGrid = v>9 ? 9 : (int)v;
    }else{
      pR->iPrio = v;
    }
  }
  return SQLITE_OK;
}

/* The current row of the scan as the next rule of p. */
static int schemesScanRule(SegScheme *p, SchemeScan *pScan){
  sqlite3_stmt *pStmt = pScan->pStmt;
  SchemeRule *pR;
  sqlite3_value *pSeg;
  const char *zSeg;
  int rc;
  pScan->iPos++;
  if( p->nRule>=pScan->nAlloc ){
    rc = schemesScanGrow(p, pScan);
    if( rc ) return rc;
  }
  pR = &p->aRule[p->nRule];
  memset(pR, 0, sizeof(*pR));
  /* A view reports a NULL rowid: count rows instead */
  if( pScan->bRowid && sqlite3_column_type(pStmt, 0)==SQLITE_NULL ){
    pScan->bRowid = 0;
  }
  pR->iKey = pScan->bRowid ? sqlite3_column_int64(pStmt, 0) : pScan->iPos;
  pSeg = sqlite3_column_value(pStmt, pScan->aiCol[0]);
  if( sqlite3_value_type(pSeg)==SQLITE_NULL ){
    return SCHEME_ERR(pScan->pzErr, "%s(): segment is NULL in rules table "
                      "'%s' (%s %lld)", pScan->zFunc, pScan->zName,
                      pScan->bRowid ? "rowid" : "row", pR->iKey);
  }
  rc = schemesScanBounds(pScan, pR);
  if( rc ) return rc;
  zSeg = (const char*)sqlite3_value_text(pSeg);
  p->azOwned[p->nRule] = sqlite3_mprintf("%s", zSeg ? zSeg : "");
  if( p->azOwned[p->nRule]==0 || zSeg==0 ){
    sqlite3_free(p->azOwned[p->nRule]);
    return SQLITE_NOMEM;
  }
  pR->zSeg = p->azOwned[p->nRule];
  p->nRule++;
  return SQLITE_OK;
}

/* Every row of the scan as a rule of p. */
static int schemesScanRows(SegScheme *p, SchemeScan *pScan){
  int rc;
  while( (rc = sqlite3_step(pScan->pStmt))==SQLITE_ROW ){
    rc = schemesScanRule(p, pScan);
    if( rc ) return rc;
  }
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( rc!=SQLITE_NOMEM && segNestTooDeep() ){
    /* a rules view reading itself: the guard's message, as it is */
    rc = SCHEME_ERR(pScan->pzErr, "%s", sqlite3_errmsg(pScan->db));
  }else if( rc!=SQLITE_NOMEM ){
    rc = SCHEME_ERR(pScan->pzErr, "%s(): cannot read rules table '%s': %s",
                    pScan->zFunc, pScan->zName, sqlite3_errmsg(pScan->db));
  }
  return rc;
}

/* Order the rules: by priority when there is a priority column (bPrio),
** then by rowid (or scan position).  Without one, the priority is the
** rule's place. */
static int schemesSortRules(SegScheme *p, int bPrio){
  int *aIdx = 0;
  SchemeRule *aSorted = 0;
  int rc = SQLITE_OK, i;
  if( p->nRule>1 ){
    SchemeSort sort;
    aIdx = sqlite3_malloc64(sizeof(int)*p->nRule);
    aSorted = sqlite3_malloc64(sizeof(SchemeRule)*p->nRule);
    if( aIdx==0 || aSorted==0 ){ rc = SQLITE_NOMEM; goto sort_done; }
    for(i=0; i<p->nRule; i++) aIdx[i] = i;
    sort.aRule = p->aRule;
    sort.bPrio = bPrio;
    rc = segSortIdx(aIdx, p->nRule, schemesRuleCmp, &sort);
    if( rc ) goto sort_done;
    for(i=0; i<p->nRule; i++) aSorted[i] = p->aRule[aIdx[i]];
    sqlite3_free(p->aRule);
    p->aRule = aSorted;
    aSorted = 0;
  }
  if( !bPrio ){
    for(i=0; i<p->nRule; i++) p->aRule[i].iPrio = i+1;
  }
sort_done:
  sqlite3_free(aIdx);
  sqlite3_free(aSorted);
  return rc;
}

/* Read the rules table zName into p (schemesLoadTable, within the guard). */
static int schemesReadTable(SegScheme *p, sqlite3 *db, const char *zName,
                            const char *zFunc, char **pzErr){
  static const char *const azCol[] = {
    "segment", "r_lo", "r_hi", "f_lo", "f_hi", "m_lo", "m_hi", "priority"
  };
  SchemeScan sc;
  int rc;
  memset(&sc, 0, sizeof(sc));
  sc.db = db;
  sc.zName = zName;
  sc.zFunc = zFunc;
  sc.pzErr = pzErr;
  sc.azCol = azCol;
  sc.bRowid = 1;
  sc.nGrid = 5;
  rc = schemesScanPrepare(&sc);
  if( rc==SQLITE_OK ) rc = schemesScanColumns(&sc);
  if( rc==SQLITE_OK ) rc = schemesScanRows(p, &sc);
  if( rc==SQLITE_OK ){
    p->nGrid = sc.nGrid;
    rc = schemesSortRules(p, sc.aiCol[7]>=0);
  }
  sqlite3_finalize(sc.pStmt);
  return rc;
}

/* A rules table is read under the nesting guard (requirement 6): its rows
** may call segment_of() on itself. */
static int schemesLoadTable(SegScheme *p, sqlite3 *db, const char *zName,
                            const char *zFunc, char **pzErr){
  int rc = segNestEnter(zFunc, pzErr);
  if( rc==SQLITE_OK ){
    rc = schemesReadTable(p, db, zName, zFunc, pzErr);
    segNestLeave();
  }
  return rc;
}

int segSchemeLoad(sqlite3 *db, const char *zName, const char *zFunc,
                  SegScheme **pp, char **pzErr){
  SegScheme *p;
  int rc, eKind;
  *pp = 0;
  for(eKind=0; azSchemeName[eKind]; eKind++){
    if( sqlite3_stricmp(zName, azSchemeName[eKind])==0 ) break;
  }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->eKind = eKind;
  p->nGrid = 5;
  p->zName = sqlite3_mprintf("%s", eKind<SCHEME_TABLE ? azSchemeName[eKind]
                                                      : zName);
  if( p->zName==0 ){ segSchemeFree(p); return SQLITE_NOMEM; }
  switch( eKind ){
    case SCHEME_STANDARD:
      rc = schemesLoadStandard(p);
      break;
    case SCHEME_RFM_R:
      rc = schemesLoadRanges(p, aRfmR, SEG_COUNT(aRfmR));
      p->zDefault = "Others";
      break;
    case SCHEME_RF_GRID:
      rc = schemesLoadRanges(p, aRfGrid,
                             SEG_COUNT(aRfGrid));
      break;
    default:
      rc = schemesLoadTable(p, db, zName, zFunc, pzErr);
      break;
  }
  if( rc!=SQLITE_OK ){
    segSchemeFree(p);
    return rc;
  }
  schemesBuildCells(p);
  *pp = p;
  return SQLITE_OK;
}

const char *segSchemeSegment(const SegScheme *p, int r, int f, int m,
                             int nBin){
  int iRule;
  if( p->eKind!=SCHEME_TABLE ){
    if( nBin<1 || nBin>9 ) return 0;
    if( nBin!=5 ){
      if( r<1 || r>nBin || f<1 || f>nBin || m<1 || m>nBin ) return 0;
      r = 1 + (5*(r-1))/nBin;
      f = 1 + (5*(f-1))/nBin;
      m = 1 + (5*(m-1))/nBin;
    }
    if( r<1 || r>5 || f<1 || f>5 || m<1 || m>5 ) return 0;
  }else if( r<1 || r>9 || f<1 || f>9 || m<1 || m>9 ){
    return 0;
  }
  iRule = p->aCell[SCHEME_CELL(r,f,m)];
  return iRule ? p->aRule[iRule-1].zSeg : p->zDefault;
}

/**************************************************************************
** segment_of()
*/

/* The scheme of a segment_of() call into *pp: the standard map of the
** forms without one (user data), else the scheme argument's, loaded once
** per statement when it is a constant (auxdata).  *pbAux is set when *pp
** is owned there; else the caller hands it to auxdata.  On an error the
** result is set. */
static int schemesArgScheme(sqlite3_context *ctx, sqlite3_value **argv,
                            int iScheme, SegScheme **pp, int *pbAux){
  const char *zName;
  char *zErr = 0;
  int rc;
  *pbAux = 1;
  if( iScheme<0 ){
    *pp = (SegScheme*)sqlite3_user_data(ctx);
    return SQLITE_OK;
  }
  *pp = (SegScheme*)sqlite3_get_auxdata(ctx, iScheme);
  if( *pp ) return SQLITE_OK;
  *pbAux = 0;
  zName = (const char*)sqlite3_value_text(argv[iScheme]);
  if( zName==0 ){ sqlite3_result_error_nomem(ctx); return SQLITE_NOMEM; }
  rc = segSchemeLoad(sqlite3_context_db_handle(ctx), zName, "segment_of",
                     pp, &zErr);
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_error(ctx, zErr, -1);
    }
    sqlite3_free(zErr);
  }
  return rc;
}

/* The rfm code of segment_of(rfm) (a[0]) split into its digits a[0..2]:
** 111..999 without a 0 digit, digits 1..5 for a built-in scheme.  1 on
** an error, with *pzErr its message (NULL if it could not be had). */
static int schemesArgCode(const SegScheme *p, i64 *a, char **pzErr){
  i64 v = a[0];
  if( v<111 || v>999 || (v/10)%10==0 || v%10==0 ){
    *pzErr = sqlite3_mprintf("1st argument to segment_of() must be an rfm "
                             "code 111..999 whose digits are 1..9");
    return 1;
  }
  a[0] = v/100;
  a[1] = (v/10)%10;
  a[2] = v%10;
  if( p->eKind!=SCHEME_TABLE && (a[0]>5 || a[1]>5 || a[2]>5) ){
    *pzErr = sqlite3_mprintf("1st argument to segment_of() is %lld: "
                             "built-in scheme '%s' takes digits 1..5",
                             v, p->zName);
    return 1;
  }
  return 0;
}

/* The scores of segment_of(r, f, m) (a[0..2]): 1..9, 1..5 for a built-in
** scheme.  1 on an error, as schemesArgCode. */
static int schemesArgCell(const SegScheme *p, const i64 *a, char **pzErr){
  int i;
  for(i=0; i<3; i++){
    if( a[i]<1 || a[i]>9 ){
      *pzErr = sqlite3_mprintf("%s argument to segment_of() must be an "
                               "integer score 1..9", segOrdinal(i+1));
      return 1;
    }else if( p->eKind!=SCHEME_TABLE && a[i]>5 ){
      *pzErr = sqlite3_mprintf("%s argument to segment_of() is %lld: "
                               "built-in scheme '%s' takes scores 1..5",
                               segOrdinal(i+1), a[i], p->zName);
      return 1;
    }
  }
  return 0;
}

/* The scores of a segment_of() call into a[0..2]: nScore integers (3, or
** 1, the rfm code, split into its digits).  1 on an error, as
** schemesArgCode. */
static int schemesArgScores(const SegScheme *p, sqlite3_value **argv,
                            int nScore, i64 *a, char **pzErr){
  int i;
  for(i=0; i<nScore; i++){
    if( !schemesIntValue(argv[i], &a[i]) ) break;
  }
  if( i<nScore ){
    *pzErr = sqlite3_mprintf(nScore==3
        ? "%s argument to segment_of() must be an integer score 1..9"
        : "%s argument to segment_of() must be an rfm code 111..999 "
          "whose digits are 1..9", segOrdinal(i+1));
    return 1;
  }
  return nScore==3 ? schemesArgCell(p, a, pzErr) : schemesArgCode(p, a, pzErr);
}

static void schemesSegmentOfFunc(sqlite3_context *ctx, int argc,
                                 sqlite3_value **argv){
  SegScheme *p = 0;
  int bAux = 0;                   /* p is owned by auxdata or user data */
  int iScheme = (argc==2 || argc==4) ? argc-1 : -1;
  int nScore = argc>=3 ? 3 : 1;
  i64 a[3];
  int i;
  char *zErr = 0;

  for(i=0; i<argc; i++){
    if( sqlite3_value_type(argv[i])==SQLITE_NULL ) return;
  }
  /* The scheme first: an unknown one is the error, whatever the scores */
  if( schemesArgScheme(ctx, argv, iScheme, &p, &bAux) ) return;
  if( schemesArgScores(p, argv, nScore, a, &zErr) ){
    if( zErr ){
      sqlite3_result_error(ctx, zErr, -1);
    }else{
      sqlite3_result_error_nomem(ctx);
    }
    sqlite3_free(zErr);
  }else{
    const char *zSeg = segSchemeSegment(p, (int)a[0], (int)a[1], (int)a[2],
                                        p->eKind==SCHEME_TABLE ? 9 : 5);
    if( zSeg ) sqlite3_result_text(ctx, zSeg, -1, SQLITE_TRANSIENT);
  }
  if( !bAux ){
    /* May free p at once: p is not used after this. */
    sqlite3_set_auxdata(ctx, iScheme, p, schemesFreeVoid);
  }
}

/**************************************************************************
** segment_rules()
*/
typedef struct RulesRow RulesRow;
struct RulesRow {
  const char *zSeg;               /* NULL for 'not covered' */
  i64 iPrio;                      /* valid when zSeg */
  i64 a[6];                       /* r_lo, r_hi, f_lo, f_hi, m_lo, m_hi */
  i64 nCell;
  char *zProblem;                 /* owned, or NULL */
};

typedef struct RulesResult RulesResult;
struct RulesResult {
  SegScheme *pScheme;
  int nRow;
  RulesRow *aRow;
};

static void rulesFree(void *pData){
  RulesResult *p = (RulesResult*)pData;
  int i;
  if( p==0 ) return;
  for(i=0; i<p->nRow; i++) sqlite3_free(p->aRow[i].zProblem);
  sqlite3_free(p->aRow);
  segSchemeFree(p->pScheme);
  sqlite3_free(p);
}

static int rulesColumn(void *pData, i64 iRow, int iCol, sqlite3_context *ctx){
  RulesResult *p = (RulesResult*)pData;
  const RulesRow *pRow = &p->aRow[iRow];
  switch( iCol ){
    case 0:
      if( pRow->zSeg ) sqlite3_result_text(ctx, pRow->zSeg, -1, SQLITE_STATIC);
      break;
    case 1:
      if( pRow->zSeg ) sqlite3_result_int64(ctx, pRow->iPrio);
      break;
    case 2: case 3: case 4: case 5: case 6: case 7:
      sqlite3_result_int64(ctx, pRow->a[iCol-2]);
      break;
    case 8:
      sqlite3_result_int64(ctx, pRow->nCell);
      break;
    case 9:
      if( pRow->zProblem ){
        sqlite3_result_text(ctx, pRow->zProblem, -1, SQLITE_STATIC);
      }
      break;
  }
  return SQLITE_OK;
}

/* The check of rule iRule: cells it wins, and the earlier segments that
** take some of its cells. */
static int rulesCheck(const SegScheme *p, int iRule, RulesRow *pRow){
  const SchemeRule *pR = &p->aRule[iRule];
  int nGrid = p->nGrid;
  i64 lo[3], hi[3];
  int aSeen[16];                  /* first few distinct earlier rules */
  int nSeen = 0, r, f, m, k;
  sqlite3_str *pStr = 0;
  for(k=0; k<3; k++){
    lo[k] = pR->aLo[k]<1 ? 1 : pR->aLo[k]>10 ? 10 : pR->aLo[k];
    hi[k] = pR->aHi[k]>nGrid ? nGrid : pR->aHi[k]<0 ? 0 : pR->aHi[k];
  }
  for(r=(int)lo[0]; r<=hi[0]; r++){
    for(f=(int)lo[1]; f<=hi[1]; f++){
      for(m=(int)lo[2]; m<=hi[2]; m++){
        int iWin = p->aCell[SCHEME_CELL(r,f,m)] - 1;
        const char *zWin;
        if( iWin==iRule ){ pRow->nCell++; continue; }
        zWin = p->aRule[iWin].zSeg;
        if( strcmp(zWin, pR->zSeg)==0 ) continue;
        for(k=0; k<nSeen; k++){
          if( strcmp(p->aRule[aSeen[k]].zSeg, zWin)==0 ) break;
        }
        if( k==nSeen && nSeen<SEG_COUNT(aSeen) ){
          /* keep them in rule order */
          int j = nSeen++;
          while( j>0 && aSeen[j-1]>iWin ){ aSeen[j] = aSeen[j-1]; j--; }
          aSeen[j] = iWin;
        }
      }
    }
  }
  if( pRow->nCell==0 ){
    pRow->zProblem = sqlite3_mprintf("never matches");
    return pRow->zProblem ? SQLITE_OK : SQLITE_NOMEM;
  }
  if( nSeen>0 ){
    pStr = sqlite3_str_new(0);
    sqlite3_str_appendall(pStr, "overlaps: ");
    for(k=0; k<nSeen; k++){
      sqlite3_str_appendf(pStr, "%s%s", k ? ", " : "", p->aRule[aSeen[k]].zSeg);
    }
    pRow->zProblem = sqlite3_str_finish(pStr);
    if( pRow->zProblem==0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

static int rulesCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                        char **pzErr){
  const char *zName = segOptsGet(pOpts, "scheme");
  RulesResult *pOut;
  SegScheme *p = 0;
  int rc, i, k, r, f, m, nGrid, nRow, nFree = 0;

  rc = segSchemeLoad(db, zName ? zName : "standard", "segment_rules", &p,
                     pzErr);
  if( rc ) return rc;
  pOut = sqlite3_malloc64(sizeof(*pOut));
  if( pOut==0 ){ segSchemeFree(p); return SQLITE_NOMEM; }
  memset(pOut, 0, sizeof(*pOut));
  pOut->pScheme = p;
  nGrid = p->nGrid;
  for(r=1; r<=nGrid; r++){
    for(f=1; f<=nGrid; f++){
      for(m=1; m<=nGrid; m++){
        if( p->aCell[SCHEME_CELL(r,f,m)]==0 ) nFree++;
      }
    }
  }
  nRow = p->nRule + (p->zDefault ? 1 : nFree);
  pOut->aRow = sqlite3_malloc64(sizeof(RulesRow)*(nRow+1));
  if( pOut->aRow==0 ){ rulesFree(pOut); return SQLITE_NOMEM; }
  memset(pOut->aRow, 0, sizeof(RulesRow)*(nRow+1));
  for(i=0; i<p->nRule; i++){
    RulesRow *pRow = &pOut->aRow[pOut->nRow++];
    const SchemeRule *pR = &p->aRule[i];
    pRow->zSeg = pR->zSeg;
    pRow->iPrio = pR->iPrio;
    for(k=0; k<3; k++){
      pRow->a[2*k] = pR->aLo[k];
      pRow->a[2*k+1] = pR->aHi[k];
    }
    rc = rulesCheck(p, i, pRow);
    if( rc ){ rulesFree(pOut); return rc; }
  }
  if( p->zDefault ){
    RulesRow *pRow = &pOut->aRow[pOut->nRow++];
    pRow->zSeg = p->zDefault;
    pRow->iPrio = p->nRule+1;
    for(k=0; k<3; k++){ pRow->a[2*k] = 1; pRow->a[2*k+1] = nGrid; }
    pRow->nCell = nFree;
  }else{
    for(r=1; r<=nGrid; r++){
      for(f=1; f<=nGrid; f++){
        for(m=1; m<=nGrid; m++){
          RulesRow *pRow;
          if( p->aCell[SCHEME_CELL(r,f,m)] ) continue;
          pRow = &pOut->aRow[pOut->nRow++];
          pRow->a[0] = pRow->a[1] = r;
          pRow->a[2] = pRow->a[3] = f;
          pRow->a[4] = pRow->a[5] = m;
          pRow->nCell = 1;
          pRow->zProblem = sqlite3_mprintf("not covered");
          if( pRow->zProblem==0 ){ rulesFree(pOut); return SQLITE_NOMEM; }
        }
      }
    }
  }
  pRes->nRow = pOut->nRow;
  pRes->pData = pOut;
  return SQLITE_OK;
}

static const char *const azRulesOpt[] = { "scheme", 0 };

static const SegModuleSpec rulesModule = {
  "segment_rules",
  "segment,priority,r_lo,r_hi,f_lo,f_hi,m_lo,m_hi,cells,problem",
  azRulesOpt, 1, rulesCompute, SEG_READS_TABLE,
  rulesColumn, rulesFree
};

int segmentRegisterSchemes(sqlite3 *db, char **pzErr){
  /* iData: the form takes no scheme argument and uses the standard one,
  ** its user data.  The forms with a scheme argument may read a table
  ** (requirement 7). */
  static const SegFunc aFunc[] = {
    { "segment_of", 1, SEG_SCALAR_FLAGS, 1, schemesSegmentOfFunc, 0, 0 },
    { "segment_of", 2, SEG_READER_FLAGS, 0, schemesSegmentOfFunc, 0, 0 },
    { "segment_of", 3, SEG_SCALAR_FLAGS, 1, schemesSegmentOfFunc, 0, 0 },
    { "segment_of", 4, SEG_READER_FLAGS, 0, schemesSegmentOfFunc, 0, 0 },
  };
  int rc = SQLITE_OK;
  int i;
  for(i=0; rc==SQLITE_OK && i<SEG_COUNT(aFunc); i++){
    SegScheme *pDefault = 0;
    if( aFunc[i].iData ){
      rc = segSchemeLoad(db, "standard", "segment_of", &pDefault, pzErr);
      if( rc ) return rc;
    }
    rc = segRegisterFunction(db, &aFunc[i], pDefault,
                             pDefault ? schemesFreeVoid : 0, pzErr);
  }
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &rulesModule, pzErr);
  return rc;
}
