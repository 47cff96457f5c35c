/*
** locale.c: a host that sets a locale before it loads libsegment, as DB
** Browser for SQLite and other Qt applications do (test/locale.test).
** tclsh never sets LC_NUMERIC, so only such a host sees what a decimal-
** comma locale does to strtod and printf.
**
**   locale LIBRARY LOCALE THREADS DATABASE < STATEMENTS
**
** 1. setlocale(LC_ALL, LOCALE); when that fails, prints "locale: LOCALE
**    unavailable" and exits with status 3.  The first line printed is the
**    C library's own rendering of 0.5 ("%.1f"): "0,5" under a decimal-comma
**    locale, so that the caller can see the locale took effect.
** 2. Opens DATABASE read-only (temp tables can still be made), loads
**    LIBRARY, sets PRAGMA threads=THREADS.
** 3. Runs the SQL of stdin statement by statement.  Each row is printed
**    as its column values in SQLite's text form, separated by '|' (NULL
**    prints as "NULL"); an error prints "error: MESSAGE" and the run goes
**    on with the next statement.
** 4. The exit status is 0 unless the setup of 1 or 2 failed.
*/
#include <sqlite3.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *readAll(FILE *in){
  size_t n = 0, nAlloc = 4096;
  char *z = malloc(nAlloc);
  size_t got;
  if( z==0 ) return 0;
  while( (got = fread(z+n, 1, nAlloc-n-1, in))>0 ){
    n += got;
    if( nAlloc-n-1==0 ){
      char *zNew = realloc(z, nAlloc*2);
      if( zNew==0 ){ free(z); return 0; }
      z = zNew;
      nAlloc *= 2;
    }
  }
  z[n] = 0;
  return z;
}

int main(int argc, char **argv){
  sqlite3 *db = 0;
  char *zSql, *zErr = 0, *zPragma;
  const char *zTail;
  int rc;
  if( argc!=5 ){
    fprintf(stderr, "usage: %s LIBRARY LOCALE THREADS DATABASE < SQL\n", argv[0]);
    return 2;
  }
  if( setlocale(LC_ALL, argv[2])==0 ){
    printf("locale: %s unavailable\n", argv[2]);
    return 3;
  }
  printf("%.1f\n", 0.5);
  rc = sqlite3_open_v2(argv[4], &db, SQLITE_OPEN_READONLY, 0);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "cannot open %s: %s\n", argv[4], sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, argv[1], 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "cannot load %s: %s\n", argv[1], zErr ? zErr : "?");
    return 1;
  }
  zPragma = sqlite3_mprintf("PRAGMA threads=%d", atoi(argv[3]));
  sqlite3_exec(db, zPragma, 0, 0, 0);
  sqlite3_free(zPragma);
  zSql = readAll(stdin);
  if( zSql==0 ){ fprintf(stderr, "out of memory\n"); return 1; }
  zTail = zSql;
  while( *zTail ){
    sqlite3_stmt *pStmt = 0;
    const char *zNext = 0;
    rc = sqlite3_prepare_v2(db, zTail, -1, &pStmt, &zNext);
    if( rc!=SQLITE_OK ){
      printf("error: %s\n", sqlite3_errmsg(db));
      break;   /* the rest cannot be split reliably */
    }
    zTail = zNext;
    if( pStmt==0 ) continue;   /* only spaces or comments */
    while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
      int i, n = sqlite3_column_count(pStmt);
      for(i=0; i<n; i++){
        const char *z = (const char*)sqlite3_column_text(pStmt, i);
        printf("%s%s", i ? "|" : "", z ? z : "NULL");
      }
      printf("\n");
    }
    if( rc!=SQLITE_DONE ) printf("error: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(pStmt);
  }
  free(zSql);
  sqlite3_close(db);
  return 0;
}
