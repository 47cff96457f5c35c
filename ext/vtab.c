/*
** vtab.c: the framework behind every table-valued function of libsegment.
**
** A module (SegModuleSpec) gives its visible columns, its option names and
** a compute function.  segRegisterModule() registers it so that it works
** in both forms of DESIGN.md section 2:
**
**   SELECT * FROM rfm_score('orders', 'bins=4');
**   CREATE VIRTUAL TABLE r USING rfm_score(source=orders, bins=4);
**
** Requirements:
**   1. The module is eponymous (usable without CREATE) and creatable
**      (xCreate == xConnect).  It is SQLITE_VTAB_INNOCUOUS only when its
**      spec says it reads nothing but its arguments (bInnocuous); a module
**      that reads a table is not (DESIGN.md section 8): with PRAGMA
**      trusted_schema=OFF SQLite keeps it out of views and triggers, so
**      one stored in an attached file cannot read main through it.  It is
**      not SQLITE_VTAB_DIRECTONLY: with trusted_schema=ON views may use it.
**   2. Arguments of a table-valued call are the hidden columns arg1..argN
**      (N = number of options).  Each is passed as text to the one option
**      parser; a NULL argument is an error.  The CREATE VIRTUAL TABLE
**      arguments are parsed first (with dequoting), at CREATE time too, so
**      a bad option fails the CREATE.
**   3. xCompute runs once per scan (xFilter); its rows are handed out in
**      order with rowid 1, 2, ...  Errors reach the user as the message
**      the module gave, unchanged.
**   4. A plan that cannot supply an argument is refused (SQLITE_CONSTRAINT)
**      so SQLite picks one that can.
**   5. A cursor filtered again with the same arguments (the inner loop of
**      a join) hands out the rows it computed instead of computing them
**      again: within one statement they are the same.
**   6. Reads nest at most SEG_NEST_MAX (16) deep, counting every
**      table-valued function and every rules table being read in this
**      thread (segNestEnter): a view that reads itself through the
**      extension fails with `rfm_score(): sources nested more than 16 deep
**      (does a view read itself?)` (named after the innermost function)
**      instead of overflowing the stack.
*/
#include "segmentInt.h"
#include <string.h>
#include <assert.h>

typedef struct SegVtab SegVtab;
struct SegVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  const SegModuleSpec *pSpec;
  int nVisible;                   /* visible columns */
  int nHidden;                    /* hidden argument columns */
  int nCreateArg;                 /* CREATE VIRTUAL TABLE arguments */
  char **azCreateArg;
};

typedef struct SegCursor SegCursor;
struct SegCursor {
  sqlite3_vtab_cursor base;
  SegResult res;
  i64 iRow;
  sqlite3_value **apArg;          /* apArg[j]: value of hidden column j */
  int bValid;                     /* res holds the rows of apArg */
};

static int segCountColumns(const char *z){
  int n = 1;
  for(; *z; z++) if( *z==',' ) n++;
  return n;
}

/* Parse the options of the CREATE form and of a call into *pOpts. */
static int segVtabOptions(SegVtab *pTab, sqlite3_value **apArg, int nArg,
                          SegOpts *pOpts, char **pzErr){
  const SegModuleSpec *pSpec = pTab->pSpec;
  int rc, i;
  rc = segOptsInit(pOpts, pSpec->zName, pSpec->azOpt, pSpec->bPositional);
  for(i=0; rc==SQLITE_OK && i<pTab->nCreateArg; i++){
    rc = segOptsAdd(pOpts, pTab->azCreateArg[i], 1, pzErr);
  }
  for(i=0; rc==SQLITE_OK && i<nArg; i++){
    const char *z;
    if( apArg[i]==0 ) continue;
    if( sqlite3_value_type(apArg[i])==SQLITE_NULL ){
      *pzErr = sqlite3_mprintf("%s(): argument %d is NULL", pSpec->zName, i+1);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      break;
    }
    z = (const char*)sqlite3_value_text(apArg[i]);
    if( z==0 ){ rc = SQLITE_NOMEM; break; }
    rc = segOptsAdd(pOpts, z, 0, pzErr);
  }
  return rc;
}

static int segVtabConnect(sqlite3 *db, void *pAux, int argc,
                          const char *const *argv, sqlite3_vtab **ppVtab,
                          char **pzErr){
  const SegModuleSpec *pSpec = (const SegModuleSpec*)pAux;
  SegVtab *pTab;
  sqlite3_str *pStr;
  char *zSql;
  int rc, i, nHidden = 0;
  const char *z;

  while( pSpec->azOpt[nHidden] ) nHidden++;
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  pTab->pSpec = pSpec;
  pTab->nVisible = segCountColumns(pSpec->zColumns);
  pTab->nHidden = nHidden;
  if( argc>3 ){
    pTab->azCreateArg = sqlite3_malloc64(sizeof(char*)*(argc-3));
    if( pTab->azCreateArg==0 ){ sqlite3_free(pTab); return SQLITE_NOMEM; }
    for(i=3; i<argc; i++){
      pTab->azCreateArg[i-3] = sqlite3_mprintf("%s", argv[i]);
      if( pTab->azCreateArg[i-3]==0 ){
        pTab->nCreateArg = i-3;
        rc = SQLITE_NOMEM;
        goto connect_error;
      }
    }
    pTab->nCreateArg = argc-3;
    {
      SegOpts opts;
      char *zErr = 0;
      rc = segVtabOptions(pTab, 0, 0, &opts, &zErr);
      segOptsFree(&opts);
      if( rc!=SQLITE_OK ){
        *pzErr = zErr;
        goto connect_error;
      }
    }
  }

  pStr = sqlite3_str_new(db);
  sqlite3_str_appendall(pStr, "CREATE TABLE x(");
  z = pSpec->zColumns;
  while( *z ){
    const char *zEnd = strchr(z, ',');
    int n = zEnd ? (int)(zEnd - z) : (int)strlen(z);
    sqlite3_str_appendf(pStr, "\"%.*s\", ", n, z);
    z += n;
    if( *z==',' ) z++;
  }
  for(i=0; i<nHidden; i++){
    sqlite3_str_appendf(pStr, "arg%d HIDDEN%s", i+1, i+1<nHidden ? ", " : "");
  }
  sqlite3_str_appendall(pStr, ")");
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ){ rc = SQLITE_NOMEM; goto connect_error; }
  rc = sqlite3_declare_vtab(db, zSql);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) goto connect_error;
  if( pSpec->bInnocuous ) sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *ppVtab = &pTab->base;
  return SQLITE_OK;

connect_error:
  for(i=0; i<pTab->nCreateArg; i++) sqlite3_free(pTab->azCreateArg[i]);
  sqlite3_free(pTab->azCreateArg);
  sqlite3_free(pTab);
  return rc;
}

static int segVtabDisconnect(sqlite3_vtab *pVtab){
  SegVtab *pTab = (SegVtab*)pVtab;
  int i;
  for(i=0; i<pTab->nCreateArg; i++) sqlite3_free(pTab->azCreateArg[i]);
  sqlite3_free(pTab->azCreateArg);
  sqlite3_free(pTab);
  return SQLITE_OK;
}

static int segVtabBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  SegVtab *pTab = (SegVtab*)pVtab;
  unsigned int mUsable = 0, mUnusable = 0;
  int aiCons[32];
  int i, j, nArg = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn<pTab->nVisible ) continue;
    j = pC->iColumn - pTab->nVisible;
    if( j>=32 ) continue;
    if( pC->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !pC->usable ){
      mUnusable |= 1u<<j;
    }else if( (mUsable & (1u<<j))==0 ){
      mUsable |= 1u<<j;
      aiCons[j] = i;
    }
  }
  if( mUnusable & ~mUsable ) return SQLITE_CONSTRAINT;
  for(j=0; j<pTab->nHidden && j<32; j++){
    if( mUsable & (1u<<j) ){
      pInfo->aConstraintUsage[aiCons[j]].argvIndex = ++nArg;
      pInfo->aConstraintUsage[aiCons[j]].omit = 1;
    }
  }
  pInfo->idxNum = (int)mUsable;
  pInfo->estimatedCost = (mUsable || pTab->nCreateArg) ? 1000.0 : 1e12;
  pInfo->estimatedRows = 1000;
  return SQLITE_OK;
}

static int segVtabOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  SegVtab *pTab = (SegVtab*)pVtab;
  SegCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->apArg = sqlite3_malloc64(sizeof(sqlite3_value*)*(pTab->nHidden+1));
  if( pCur->apArg==0 ){ sqlite3_free(pCur); return SQLITE_NOMEM; }
  memset(pCur->apArg, 0, sizeof(sqlite3_value*)*(pTab->nHidden+1));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

/* Free the cursor's rows, if it has some (pSpec its module). */
static void segCursorFreeRows(SegCursor *pCur, const SegModuleSpec *pSpec){
  if( pCur->res.pData ) pSpec->xFree(pCur->res.pData);
  memset(&pCur->res, 0, sizeof(pCur->res));
}

static void segCursorReset(SegCursor *pCur, const SegVtab *pTab){
  int j;
  segCursorFreeRows(pCur, pTab->pSpec);
  pCur->iRow = 0;
  for(j=0; j<pTab->nHidden; j++){
    sqlite3_value_free(pCur->apArg[j]);
    pCur->apArg[j] = 0;
  }
}

static int segVtabClose(sqlite3_vtab_cursor *cur){
  SegCursor *pCur = (SegCursor*)cur;
  SegVtab *pTab = (SegVtab*)cur->pVtab;
  segCursorReset(pCur, pTab);
  sqlite3_free(pCur->apArg);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Are the arguments of this xFilter those of the rows in pCur->res? */
static int segSameArgs(SegCursor *pCur, int nHidden, int idxNum, int argc,
                       sqlite3_value **argv){
  int j, k = 0;
  for(j=0; j<nHidden && j<32; j++){
    sqlite3_value *pOld = pCur->apArg[j];
    if( (idxNum & (1<<j)) && k<argc ){
      sqlite3_value *pNew = argv[k++];
      int eOld, eNew;
      if( pOld==0 ) return 0;
      eOld = sqlite3_value_type(pOld);
      eNew = sqlite3_value_type(pNew);
      if( eOld!=eNew ) return 0;
      if( eNew==SQLITE_NULL ) continue;
      if( eNew==SQLITE_INTEGER ){
        if( sqlite3_value_int64(pOld)!=sqlite3_value_int64(pNew) ) return 0;
      }else if( eNew==SQLITE_FLOAT ){
        if( sqlite3_value_double(pOld)!=sqlite3_value_double(pNew) ) return 0;
      }else{
        int n = sqlite3_value_bytes(pNew);
        const void *zNew = eNew==SQLITE_BLOB ? sqlite3_value_blob(pNew)
                                             : (const void*)sqlite3_value_text(pNew);
        const void *zOld = eNew==SQLITE_BLOB ? sqlite3_value_blob(pOld)
                                             : (const void*)sqlite3_value_text(pOld);
        if( n!=sqlite3_value_bytes(pOld) ) return 0;
        if( n>0 && (zNew==0 || zOld==0 || memcmp(zNew, zOld, n)!=0) ) return 0;
      }
    }else if( pOld ){
      return 0;
    }
  }
  return 1;
}

/*
** The nesting guard (requirement 6).  Every read of the user's database
** that can run the user's SQL (a source that is a view, a rules table that
** is a view calling segment_of) runs between segNestEnter() and
** segNestLeave(), counted per thread: the reads nest on the stack of the
** thread that steps the outer statement (a worker thread never steps one).
*/
#define SEG_NEST_MAX 16
#if defined(_MSC_VER)
static __declspec(thread) int segNestDepth = 0;
static __declspec(thread) int segNestHit = 0;
#else
static _Thread_local int segNestDepth = 0;
static _Thread_local int segNestHit = 0;
#endif

int segNestEnter(const char *zFunc, char **pzErr){
  if( segNestDepth>=SEG_NEST_MAX ){
    /* A view that reads itself through the extension would otherwise
    ** recurse until the stack overflows. */
    segNestHit = 1;
    *pzErr = sqlite3_mprintf("%s(): sources nested more than %d deep (does "
                             "a view read itself?)", zFunc, SEG_NEST_MAX);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  segNestDepth++;
  return SQLITE_OK;
}

void segNestLeave(void){
  assert( segNestDepth>0 );
  if( --segNestDepth==0 ) segNestHit = 0;
}

int segNestTooDeep(void){
  return segNestHit;
}

static int segVtabFilter(sqlite3_vtab_cursor *cur, int idxNum,
                         const char *idxStr, int argc, sqlite3_value **argv){
  SegCursor *pCur = (SegCursor*)cur;
  SegVtab *pTab = (SegVtab*)cur->pVtab;
  sqlite3_value **apOrdered = 0;
  SegOpts opts;
  char *zErr = 0;
  int rc = SQLITE_OK, j, k = 0, nMax = 0;
  (void)idxStr;
  if( pCur->bValid && segSameArgs(pCur, pTab->nHidden, idxNum, argc, argv) ){
    /* The same arguments again (the inner loop of a join): within one
    ** statement the rows are the same, so hand them out again. */
    pCur->iRow = 0;
    return SQLITE_OK;
  }
  pCur->bValid = 0;
  segCursorReset(pCur, pTab);
  for(j=0; j<pTab->nHidden && j<32; j++){
    if( (idxNum & (1<<j)) && k<argc ){
      pCur->apArg[j] = sqlite3_value_dup(argv[k++]);
      if( pCur->apArg[j]==0 ) return SQLITE_NOMEM;
      nMax = j+1;
    }
  }
  apOrdered = pCur->apArg;
  memset(&opts, 0, sizeof(opts));
  rc = segVtabOptions(pTab, apOrdered, nMax, &opts, &zErr);
  if( rc==SQLITE_OK ){
    if( pTab->pSpec->bPositional==0 && segOptsGet(&opts, "source")==0
     && opts.nName>0 && strcmp(opts.azName[0], "source")==0 ){
      zErr = sqlite3_mprintf("%s(): no source: give a table or view name as "
                             "1st argument or source=", pTab->pSpec->zName);
      rc = zErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else if( (rc = segNestEnter(pTab->pSpec->zName, &zErr))==SQLITE_OK ){
      rc = pTab->pSpec->xCompute(pTab->db, &opts, &pCur->res, &zErr);
      segNestLeave();
    }
  }
  segOptsFree(&opts);
  if( rc!=SQLITE_OK ){
    segCursorFreeRows(pCur, pTab->pSpec);
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = zErr;
    return rc;
  }
  sqlite3_free(zErr);
  pCur->bValid = 1;
  return SQLITE_OK;
}

static int segVtabNext(sqlite3_vtab_cursor *cur){
  ((SegCursor*)cur)->iRow++;
  return SQLITE_OK;
}

static int segVtabEof(sqlite3_vtab_cursor *cur){
  SegCursor *pCur = (SegCursor*)cur;
  return pCur->iRow>=pCur->res.nRow;
}

static int segVtabColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                         int iCol){
  SegCursor *pCur = (SegCursor*)cur;
  SegVtab *pTab = (SegVtab*)cur->pVtab;
  if( iCol<pTab->nVisible ){
    return pTab->pSpec->xColumn(pCur->res.pData, pCur->iRow, iCol, ctx);
  }
  iCol -= pTab->nVisible;
  if( iCol<pTab->nHidden && pCur->apArg[iCol] ){
    sqlite3_result_value(ctx, pCur->apArg[iCol]);
  }
  return SQLITE_OK;
}

static int segVtabRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = ((SegCursor*)cur)->iRow + 1;
  return SQLITE_OK;
}

static const sqlite3_module segModule = {
  0,                      /* iVersion */
  segVtabConnect,         /* xCreate: same as xConnect, so eponymous too */
  segVtabConnect,         /* xConnect */
  segVtabBestIndex,
  segVtabDisconnect,      /* xDisconnect */
  segVtabDisconnect,      /* xDestroy */
  segVtabOpen,
  segVtabClose,
  segVtabFilter,
  segVtabNext,
  segVtabEof,
  segVtabColumn,
  segVtabRowid,
  0, 0, 0, 0, 0, 0, 0,    /* xUpdate .. xRename */
  0, 0, 0, 0              /* xSavepoint, xRelease, xRollbackTo, xShadowName */
};

int segRegisterModule(sqlite3 *db, const SegModuleSpec *pSpec, char **pzErr){
  int rc = sqlite3_create_module(db, pSpec->zName, &segModule, (void*)pSpec);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("libsegment: cannot register %s(): %s",
                             pSpec->zName, sqlite3_errmsg(db));
  }
  return rc;
}
