/*
** fuzz_opts.c: libFuzzer harness for libsegment's one option parser
** (segOptsInit/Add/Get/Int/Double/Enum/NumberList/Day; DESIGN.md section 2,
** detail 6).
**
** The input is split at newlines into arguments.  The first byte selects
** the form (bit 0: CREATE VIRTUAL TABLE form with dequoting, bit 1:
** positional).  Every argument is added until the first error; then every
** typed getter runs on every option.  Requirements:
**   1. No crash, overread or leak (AddressSanitizer, LeakSanitizer).
**   2. An error always comes with a message naming the function
**      ("fuzz(): ..."), or is SQLITE_NOMEM.
**   3. segOptsNumberList() returns non-decreasing numbers (a repeated
**      threshold is an empty bin; README, rfm_score breaks).
*/
#include "segmentInt.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_segment_init(sqlite3*, char**, const sqlite3_api_routines*);

static const char *const azName[] = {
  SEG_SOURCE_OPTIONS, "bins", "method", "r_breaks", "k", "period", 0
};
static const char *const azEnum[] = { "rank", "ntile", "quantile", 0 };

static void checkErr(int rc, char *zErr){
  if( rc==SQLITE_OK ){
    if( zErr ) abort();
    return;
  }
  if( rc==SQLITE_NOMEM ){ sqlite3_free(zErr); return; }
  if( zErr==0 || strncmp(zErr, "fuzz(): ", 8)!=0 ) abort();
  sqlite3_free(zErr);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  SegOpts opts;
  char *zIn, *z, *zEnd;
  int rc = SQLITE_OK, i, eForm;
  if( nData<1 || nData>4096 ) return 0;
  eForm = aData[0];
  zIn = malloc(nData);
  if( zIn==0 ) return 0;
  memcpy(zIn, aData+1, nData-1);
  zIn[nData-1] = 0;
  if( segOptsInit(&opts, "fuzz", azName, (eForm & 2)!=0)!=SQLITE_OK ){
    free(zIn);
    return 0;
  }
  zEnd = zIn + strlen(zIn);
  for(z=zIn; rc==SQLITE_OK && z<=zEnd; ){
    char *zNl = strchr(z, '\n');
    char *zErr = 0;
    if( zNl ) *zNl = 0;
    rc = segOptsAdd(&opts, z, eForm & 1, &zErr);
    checkErr(rc, zErr);
    if( zNl==0 ) break;
    z = zNl+1;
  }
  for(i=0; azName[i]; i++){
    char *zErr = 0;
    int iVal, bSet;
    double rVal, *aList = 0;
    int nList = 0, j;
    (void)segOptsGet(&opts, azName[i]);
    rc = segOptsInt(&opts, azName[i], 5, 1, 9, &iVal, &zErr);
    checkErr(rc, zErr); zErr = 0;
    rc = segOptsDouble(&opts, azName[i], 0.5, 0.0, 1e300, &rVal, &zErr);
    checkErr(rc, zErr); zErr = 0;
    rc = segOptsEnum(&opts, azName[i], azEnum, 0, &iVal, &zErr);
    checkErr(rc, zErr); zErr = 0;
    rc = segOptsDay(&opts, azName[i], &iVal, &bSet, &zErr);
    checkErr(rc, zErr); zErr = 0;
    rc = segOptsNumberList(&opts, azName[i], &aList, &nList, &zErr);
    checkErr(rc, zErr); zErr = 0;
    for(j=1; j<nList; j++){
      if( !(aList[j-1]<=aList[j]) ) abort();
    }
    sqlite3_free(aList);
  }
  segOptsFree(&opts);
  free(zIn);
  return 0;
}
