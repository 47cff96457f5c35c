/*
** oom.c: the out-of-memory loop of libsegment (`make check`).
**
**   oom [-v] [-q] DATABASE STATEMENTS
**
** The driver links the extension statically (the ext sources compiled with
** -DSQLITE_CORE) against the system libsqlite3 and installs, through
** sqlite3_config(SQLITE_CONFIG_MALLOC), an allocator that wraps SQLite's
** default one and can be told to fail.
**
** Requirements:
**
**  1. STATEMENTS is a text file of entries.  An entry is a line (plus any
**     continuation lines until sqlite3_complete() says the SQL is whole);
**     lines that are empty or start with "--" are skipped.  An entry may
**     hold several statements; they run in order.  Every function and
**     table-valued function of the extension should appear in at least one
**     entry: test/oom.sql is the list, extended with every new function.
**  2. Every run of an entry starts from a fresh connection to DATABASE
**     (sqlite3_deserialize of an image read once, read-only: entries write
**     only to the temp schema), with the extension registered and the
**     schema loaded while no allocation fails.
**  3. First a reference run with no failure records the outcome of the
**     entry: its rows rendered as text with their types, or its error code
**     and message.
**  4. Then, for each mode (transient: only the Nth allocation fails;
**     persistent: the Nth and every later one fail), N = 1, 2, 3, ... until
**     a run in which no allocation failed.  Each run must end either with
**     the reference outcome or with SQLITE_NOMEM; anything else (another
**     error, a different result, a truncated message) is a finding.  One
**     exception: the reference error code with SQLite's generic message
**     for it, because SQLite copies error messages under "benign malloc".  A crash is a finding too
**     (run it under the sanitizers or valgrind to locate it).
**  5. After each run the connection is closed and the count of outstanding
**     allocations must be back where it was before the connection opened:
**     otherwise the run leaked, a finding.
**  6. Registration itself (sqlite3_segment_init) is looped the same way.
**  7. The exit status is 0 when there is no finding; the last line printed
**     is "oom: E entries, R runs, F failed allocations, K findings".
**  8. Every function and module the extension registers must appear in
**     STATEMENTS (as "name("): a missing one is a finding, so each new
**     function joins the loop.
**
** Example: oom examples.db test/oom.sql
*/
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_segment_init(sqlite3*, char**, const sqlite3_api_routines*);

/* ---------------------------------------------------------------------
** The failing allocator.
*/
static sqlite3_mem_methods memDefault;
static struct {
  int bArmed;           /* count and fail allocations */
  long long nCall;      /* allocations seen while armed */
  long long iFail;      /* fail the iFail-th (1-based) */
  int bPersist;         /* ... and every one after it */
  long long nFailed;    /* allocations made to fail in this run */
  long long nOut;       /* outstanding allocations (always counted) */
  long long nFailTotal;
} g;

static int oomShouldFail(void){
  if( !g.bArmed ) return 0;
  g.nCall++;
  if( g.nCall==g.iFail || (g.bPersist && g.nCall>g.iFail) ){
    g.nFailed++;
    g.nFailTotal++;
    return 1;
  }
  return 0;
}
static void *oomMalloc(int n){
  void *p;
  if( oomShouldFail() ) return 0;
  p = memDefault.xMalloc(n);
  if( p ) g.nOut++;
  return p;
}
static void oomFree(void *p){
  if( p ) g.nOut--;
  memDefault.xFree(p);
}
static void *oomRealloc(void *p, int n){
  if( oomShouldFail() ) return 0;
  return memDefault.xRealloc(p, n);
}
static int oomSize(void *p){ return memDefault.xSize(p); }
static int oomRoundup(int n){ return memDefault.xRoundup(n); }
static int oomInit(void *p){ return memDefault.xInit(p); }
static void oomShutdown(void *p){ memDefault.xShutdown(p); }

static void oomArm(long long iFail, int bPersist){
  g.nCall = 0;
  g.iFail = iFail;
  g.bPersist = bPersist;
  g.nFailed = 0;
  g.bArmed = iFail>0;
}
static void oomDisarm(void){ g.bArmed = 0; }

/* ---------------------------------------------------------------------
** A growing text buffer (plain malloc: not counted, never failed).
*/
typedef struct Buf Buf;
struct Buf { char *z; size_t n, nAlloc; };
static void bufAppend(Buf *p, const char *z, size_t n){
  if( p->n+n+1>p->nAlloc ){
    p->nAlloc = (p->n+n+1)*2 + 64;
    p->z = realloc(p->z, p->nAlloc);
    if( p->z==0 ){ fprintf(stderr, "oom: out of real memory\n"); exit(2); }
  }
  memcpy(p->z+p->n, z, n);
  p->n += n;
  p->z[p->n] = 0;
}
static void bufPrintf(Buf *p, const char *zFmt, ...){
  char zTmp[400];
  va_list ap;
  int n;
  va_start(ap, zFmt);
  n = vsnprintf(zTmp, sizeof(zTmp), zFmt, ap);
  va_end(ap);
  if( n>=(int)sizeof(zTmp) ) n = sizeof(zTmp)-1;
  bufAppend(p, zTmp, (size_t)n);
}
static void bufReset(Buf *p){ p->n = 0; if( p->z ) p->z[0] = 0; }

/* ---------------------------------------------------------------------
** One run of an entry.
*/
static unsigned char *aImage = 0;   /* the database image */
static sqlite3_int64 nImage = 0;
static int bVerbose = 0;

/* Open a fresh read-only in-memory image of the database, with the
** extension.  Never
** under fault injection.  Returns 0 on success. */
static sqlite3 *openCopy(void){
  sqlite3 *db = 0;
  char *zErr = 0;
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ){
    fprintf(stderr, "oom: cannot open :memory:\n");
    exit(2);
  }
  if( nImage>0 ){
    if( sqlite3_deserialize(db, "main", aImage, nImage, nImage,
                            SQLITE_DESERIALIZE_READONLY)!=SQLITE_OK ){
      fprintf(stderr, "oom: deserialize: %s\n", sqlite3_errmsg(db));
      exit(2);
    }
  }
  if( sqlite3_segment_init(db, &zErr, 0)!=SQLITE_OK ){
    fprintf(stderr, "oom: cannot register the extension: %s\n",
            zErr ? zErr : "?");
    exit(2);
  }
  /* Load the schema now, outside the loop. */
  sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", 0, 0, 0);
  return db;
}

/* Run every statement of zSql on db, rendering rows into pOut.  Returns
** the SQLite result code of the first failure, or SQLITE_OK. */
static int runSql(sqlite3 *db, const char *zSql, Buf *pOut){
  const char *zTail = zSql;
  int rc = SQLITE_OK;
  while( rc==SQLITE_OK && zTail && zTail[0] ){
    sqlite3_stmt *pStmt = 0;
    int i, nCol;
    rc = sqlite3_prepare_v2(db, zTail, -1, &pStmt, &zTail);
    if( rc!=SQLITE_OK ) break;
    if( pStmt==0 ) break;                  /* trailing space or comment */
    nCol = sqlite3_column_count(pStmt);
    while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
      for(i=0; i<nCol; i++){
        switch( sqlite3_column_type(pStmt, i) ){
          case SQLITE_INTEGER:
            bufPrintf(pOut, "i%lld", sqlite3_column_int64(pStmt, i));
            break;
          case SQLITE_FLOAT:
            bufPrintf(pOut, "r%.17g", sqlite3_column_double(pStmt, i));
            break;
          case SQLITE_TEXT: {
            const unsigned char *z = sqlite3_column_text(pStmt, i);
            if( z==0 ){ rc = SQLITE_NOMEM; break; }
            bufAppend(pOut, "t", 1);
            bufAppend(pOut, (const char*)z,
                      (size_t)sqlite3_column_bytes(pStmt, i));
            break;
          }
          case SQLITE_BLOB: {
            const unsigned char *a = sqlite3_column_blob(pStmt, i);
            int j, n = sqlite3_column_bytes(pStmt, i);
            if( a==0 && n>0 ){ rc = SQLITE_NOMEM; break; }
            bufAppend(pOut, "x", 1);
            for(j=0; j<n; j++) bufPrintf(pOut, "%02x", a[j]);
            break;
          }
          default:
            bufAppend(pOut, "n", 1);
            break;
        }
        if( rc==SQLITE_NOMEM ) break;
        bufAppend(pOut, i+1<nCol ? "|" : "\n", 1);
      }
      if( rc==SQLITE_NOMEM ) break;
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    if( rc!=SQLITE_OK ){
      int rc2 = sqlite3_finalize(pStmt);
      if( rc!=SQLITE_NOMEM ) rc = rc2 ? rc2 : rc;
    }else{
      rc = sqlite3_finalize(pStmt);
    }
  }
  if( rc!=SQLITE_OK ){
    bufPrintf(pOut, "error %d: ", rc & 0xff);
    bufAppend(pOut, sqlite3_errmsg(db), strlen(sqlite3_errmsg(db)));
  }
  return rc & 0xff;
}

/* One run: fresh copy, arm, run, disarm, close.  Returns the result code;
** *pbLeak is set when allocations are outstanding afterwards. */
static int runOnce(const char *zSql, long long iFail, int bPersist,
                   Buf *pOut, int *pbLeak){
  long long nBefore = g.nOut;
  sqlite3 *db;
  int rc;
  bufReset(pOut);
  db = openCopy();
  oomArm(iFail, bPersist);
  rc = runSql(db, zSql, pOut);
  oomDisarm();
  sqlite3_close(db);
  *pbLeak = g.nOut!=nBefore;
  return rc;
}

static int nFinding = 0;
static long long nRun = 0;

static void finding(const char *zSql, const char *zMode, long long iFail,
                    const char *zWhat, const char *zRef, const char *zGot){
  nFinding++;
  printf("FINDING: %s (%s, allocation %lld): %s\n", zWhat, zMode, iFail,
         zSql);
  if( zRef ) printf("  expected: %.600s\n", zRef);
  if( zGot ) printf("  got:      %.600s\n", zGot);
  fflush(stdout);
}

/* SQLite copies an error message into the connection under "benign
** malloc": when that copy fails, the code survives and the message is the
** generic one for the code.  Not a finding of the extension. */
static int lostMessage(int rc, const char *zGot){
  char zGeneric[200];
  snprintf(zGeneric, sizeof(zGeneric), "error %d: %s", rc, sqlite3_errstr(rc));
  return zGot && strcmp(zGot, zGeneric)==0;
}

/* The loop of requirement 4 for one entry. */
static void loopEntry(const char *zSql){
  Buf ref = {0,0,0}, got = {0,0,0};
  int rcRef, rc, bLeak, bPersist;
  rcRef = runOnce(zSql, 0, 0, &ref, &bLeak);
  nRun++;
  if( bLeak ) finding(zSql, "reference", 0, "leak", 0, 0);
  if( rcRef==SQLITE_NOMEM ){
    finding(zSql, "reference", 0, "SQLITE_NOMEM without a failure",
            0, ref.z);
  }
  for(bPersist=0; bPersist<2; bPersist++){
    const char *zMode = bPersist ? "persistent" : "transient";
    long long i;
    for(i=1; i<10000000; i++){
      rc = runOnce(zSql, i, bPersist, &got, &bLeak);
      nRun++;
      if( bLeak ){
        finding(zSql, zMode, i, "leak", 0, got.z);
        break;
      }
      if( g.nFailed==0 ){
        if( rc!=rcRef || strcmp(ref.z ? ref.z : "", got.z ? got.z : "") ){
          finding(zSql, zMode, i, "result differs without a failure",
                  ref.z, got.z);
        }
        break;
      }
      if( rc==SQLITE_NOMEM ) continue;
      if( rc==rcRef && rc!=SQLITE_OK && lostMessage(rc, got.z) ) continue;
      if( rc!=rcRef || strcmp(ref.z ? ref.z : "", got.z ? got.z : "") ){
        finding(zSql, zMode, i, "wrong outcome after a failed allocation",
                ref.z, got.z);
        break;
      }
    }
    if( bVerbose ){
      printf("  %s: %lld runs\n", zMode, i);
    }
  }
  free(ref.z);
  free(got.z);
}

/* Requirement 6: registration under fault injection. */
static void loopInit(void){
  long long i;
  int bPersist;
  for(bPersist=0; bPersist<2; bPersist++){
    for(i=1; i<1000000; i++){
      sqlite3 *db = 0;
      char *zErr = 0;
      long long nBefore = g.nOut;
      int rc;
      sqlite3_open(":memory:", &db);
      oomArm(i, bPersist);
      rc = sqlite3_segment_init(db, &zErr, 0);
      oomDisarm();
      nRun++;
      if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM
       && !(zErr && strstr(zErr, "out of memory")) ){
        finding("sqlite3_segment_init()", bPersist ? "persistent" :
                "transient", i, "registration failed otherwise than NOMEM",
                0, zErr);
      }
      sqlite3_free(zErr);
      sqlite3_close(db);
      if( g.nOut!=nBefore ){
        finding("sqlite3_segment_init()", bPersist ? "persistent" :
                "transient", i, "leak", 0, 0);
        break;
      }
      if( g.nFailed==0 ) break;
    }
  }
}

/* Requirement 8: every function and module that the extension registers
** appears in the statements (as "name(").  Returns the number missing. */
static int checkInventory(const char *zText){
  static const char zQuery[] =
    "SELECT name FROM pragma_function_list UNION "
    "SELECT name FROM pragma_module_list";
  sqlite3 *dbPlain = 0, *db = 0;
  sqlite3_stmt *pStmt = 0, *pPlain = 0;
  char *zLower, *zErr = 0;
  size_t i, n = strlen(zText);
  int nMissing = 0;
  zLower = malloc(n+1);
  if( zLower==0 ) exit(2);
  for(i=0; i<=n; i++){
    zLower[i] = (zText[i]>='A' && zText[i]<='Z') ? zText[i]+32 : zText[i];
  }
  sqlite3_open(":memory:", &dbPlain);
  sqlite3_open(":memory:", &db);
  sqlite3_segment_init(db, &zErr, 0);
  sqlite3_prepare_v2(db, zQuery, -1, &pStmt, 0);
  sqlite3_prepare_v2(dbPlain, "SELECT 1 FROM pragma_function_list WHERE "
      "name=?1 UNION SELECT 1 FROM pragma_module_list WHERE name=?1",
      -1, &pPlain, 0);
  while( pStmt && pPlain && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
    char zPat[200];
    int bBuiltin;
    sqlite3_bind_text(pPlain, 1, zName, -1, SQLITE_TRANSIENT);
    bBuiltin = sqlite3_step(pPlain)==SQLITE_ROW;
    sqlite3_reset(pPlain);
    if( bBuiltin ) continue;
    snprintf(zPat, sizeof(zPat), "%s(", zName);
    if( strstr(zLower, zPat)==0 ){
      printf("FINDING: %s() is registered but not in the OOM loop: add a "
             "statement for it to the statements file\n", zName);
      nMissing++;
    }
  }
  sqlite3_finalize(pStmt);
  sqlite3_finalize(pPlain);
  sqlite3_close(db);
  sqlite3_close(dbPlain);
  sqlite3_free(zErr);
  free(zLower);
  return nMissing;
}

static char *readFile(const char *zPath, long *pn){
  FILE *f = fopen(zPath, "rb");
  char *z;
  long n;
  if( f==0 ){ fprintf(stderr, "oom: cannot open %s\n", zPath); exit(2); }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  z = malloc((size_t)n+1);
  if( z==0 || fread(z, 1, (size_t)n, f)!=(size_t)n ){
    fprintf(stderr, "oom: cannot read %s\n", zPath);
    exit(2);
  }
  z[n] = 0;
  fclose(f);
  *pn = n;
  return z;
}

int main(int argc, char **argv){
  static sqlite3_mem_methods mem;
  const char *zDb = 0, *zList = 0;
  char *zText, *zLine, *zNext;
  Buf entry = {0,0,0};
  long nText;
  int nEntry = 0, i, bQuiet = 0;

  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "-v")==0 ) bVerbose = 1;
    else if( strcmp(argv[i], "-q")==0 ) bQuiet = 1;
    else if( zDb==0 ) zDb = argv[i];
    else if( zList==0 ) zList = argv[i];
  }
  if( zList==0 ){
    fprintf(stderr, "usage: %s [-v] [-q] DATABASE STATEMENTS\n", argv[0]);
    return 2;
  }
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &memDefault);
  mem = memDefault;
  mem.xMalloc = oomMalloc;
  mem.xFree = oomFree;
  mem.xRealloc = oomRealloc;
  mem.xSize = oomSize;
  mem.xRoundup = oomRoundup;
  mem.xInit = oomInit;
  mem.xShutdown = oomShutdown;
  sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
  sqlite3_initialize();

  if( strcmp(zDb, ":memory:")!=0 ){
    long n;
    aImage = (unsigned char*)readFile(zDb, &n);
    nImage = n;
  }

  loopInit();
  zText = readFile(zList, &nText);
  nFinding += checkInventory(zText);
  for(zLine=zText; zLine && *zLine; zLine=zNext){
    size_t n;
    zNext = strchr(zLine, '\n');
    n = zNext ? (size_t)(zNext-zLine) : strlen(zLine);
    if( zNext ) zNext++;
    if( entry.n==0 ){
      size_t j = 0;
      while( j<n && (zLine[j]==' ' || zLine[j]=='\t' || zLine[j]=='\r') ) j++;
      if( j==n || (n-j>=2 && zLine[j]=='-' && zLine[j+1]=='-') ) continue;
    }
    bufAppend(&entry, zLine, n);
    bufAppend(&entry, "\n", 1);
    if( sqlite3_complete(entry.z) ){
      long long nRun0 = nRun, nFail0 = g.nFailTotal;
      int nFind0 = nFinding;
      nEntry++;
      loopEntry(entry.z);
      if( !bQuiet || nFinding>nFind0 ){
        printf("%5lld runs %7lld failures %s  %.*s\n", nRun-nRun0,
               g.nFailTotal-nFail0, nFinding>nFind0 ? "FAIL" : "ok  ",
               (int)(strchr(entry.z, '\n')-entry.z), entry.z);
        fflush(stdout);
      }
      bufReset(&entry);
    }
  }
  if( entry.n>0 ){
    fprintf(stderr, "oom: incomplete statement at the end of %s\n", zList);
    nFinding++;
  }
  printf("oom: %d entries, %lld runs, %lld failed allocations, "
         "%d findings\n", nEntry, nRun, g.nFailTotal, nFinding);
  free(zText);
  free(entry.z);
  free(aImage);
  return nFinding>0;
}
