/*
** winhost.c: a minimal SQLite host for testing libsegment.dll on Windows
** (test/windows.sh builds it with mingw-w64 and SQLite's amalgamation and
** runs it under wine).
**
**   winhost DATABASE EXTENSION SQLFILE
**
** Opens DATABASE, loads EXTENSION (sqlite3_load_extension, default entry
** point), then runs every statement of SQLFILE in order and prints each
** result row as the sqlite3 shell does in its default list mode: the
** columns' text joined by '|', NULL as the empty string, one row a line.
** The first error is printed as "Error: ..." on stderr and ends the run
** with status 1 (as the shell's -bail).
*/
#include "sqlite3.h"
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
# include <fcntl.h>
# include <io.h>
#endif

static char *readFile(const char *zPath){
  FILE *f = fopen(zPath, "rb");
  char *z;
  long n;
  if( f==0 ) return 0;
  if( fseek(f, 0, SEEK_END)!=0 || (n = ftell(f))<0 || fseek(f, 0, SEEK_SET)!=0 ){
    fclose(f);
    return 0;
  }
  z = malloc((size_t)n + 1);
  if( z && fread(z, 1, (size_t)n, f)!=(size_t)n ){
    free(z);
    z = 0;
  }
  if( z ) z[n] = 0;
  fclose(f);
  return z;
}

int main(int argc, char **argv){
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  char *zSql, *zErr = 0;
  const char *zTail;
  int rc = 0;
  if( argc!=4 ){
    fprintf(stderr, "usage: %s DATABASE EXTENSION SQLFILE\n", argv[0]);
    return 2;
  }
#ifdef _WIN32
  _setmode(_fileno(stdout), _O_BINARY);   /* "\n", not "\r\n" */
#endif
  zSql = readFile(argv[3]);
  if( zSql==0 ){
    fprintf(stderr, "Error: cannot read %s\n", argv[3]);
    return 1;
  }
  if( sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, 0)!=SQLITE_OK ){
    fprintf(stderr, "Error: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, (int*)0);
  if( sqlite3_load_extension(db, argv[2], 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "Error: %s\n", zErr ? zErr : sqlite3_errmsg(db));
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 1;
  }
  zTail = zSql;
  while( rc==0 && *zTail ){
    if( sqlite3_prepare_v2(db, zTail, -1, &pStmt, &zTail)!=SQLITE_OK ){
      fprintf(stderr, "Error: %s\n", sqlite3_errmsg(db));
      rc = 1;
      break;
    }
    if( pStmt==0 ) continue;     /* whitespace or a comment */
    for(;;){
      int i, n, s = sqlite3_step(pStmt);
      if( s==SQLITE_DONE ) break;
      if( s!=SQLITE_ROW ){
        fprintf(stderr, "Error: %s\n", sqlite3_errmsg(db));
        rc = 1;
        break;
      }
      n = sqlite3_column_count(pStmt);
      for(i=0; i<n; i++){
        const unsigned char *z = sqlite3_column_text(pStmt, i);
        printf("%s%s", i ? "|" : "", z ? (const char*)z : "");
      }
      printf("\n");
    }
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  free(zSql);
  sqlite3_close(db);
  return rc;
}
