/*
** fuzz_date.c: libFuzzer harness for libsegment's one date parser
** (segDateFromText, segDateFromValue; DESIGN.md section 2, detail 1).
**
** Requirements checked on every input:
**   1. segDateFromText() never reads past n bytes (the input is copied to
**      an exact-size buffer, so AddressSanitizer sees any overread).
**   2. An accepted date lies in the julian range [0, 5373484.5) days, and
**      its day formats in at most 11 characters (a year before 0000
**      is written -YYYY, as SQLite's date() does), and, for years 0000 to
**      9999, as YYYY-MM-DD text that parses back to the same day.
**   3. The same text given as an SQL TEXT value through segDateFromValue()
**      gives the same answer; an INTEGER or REAL made of the first 8 bytes
**      is either accepted inside the range or refused, never a crash.
**   4. segDateFromValueMemo() gives the same answer as segDateFromValue()
**      whatever day its memo holds: primed by the previous input, and by
**      this input's own first 10 bytes (which take its day from the memo).
*/
#include "segmentInt.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_segment_init(sqlite3*, char**, const sqlite3_api_routines*);

static sqlite3 *db = 0;
static sqlite3_stmt *pText = 0, *pInt = 0, *pReal = 0;
static SegDateMemo memo;          /* kept from one input to the next */

static int checkMs(i64 iMs){
  char zBuf[16];
  i64 iMs2;
  int iDay;
  if( iMs<0 || iMs>=(i64)5373484*SEG_MS_PER_DAY + SEG_MS_PER_DAY/2 ) abort();
  iDay = segDayOfMs(iMs);
  segFormatDay(iDay, zBuf);
  if( strlen(zBuf)>=12 ) abort();
  if( zBuf[0]>='0' && zBuf[0]<='9' ){    /* years 0000..9999 are text */
    if( segDateFromText(zBuf, (int)strlen(zBuf), &iMs2)!=SEG_DATE_OK ) abort();
    if( segDayOfMs(iMs2)!=iDay ) abort();
  }
  return iDay;
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  char *z;
  i64 iMs = 0, iMs2 = 0;
  int rc, rc2;
  if( db==0 ){
    if( sqlite3_open(":memory:", &db) ) abort();
    if( sqlite3_prepare_v2(db, "SELECT ?1", -1, &pText, 0) ) abort();
    if( sqlite3_prepare_v2(db, "SELECT CAST(?1 AS INTEGER)", -1, &pInt, 0) ){
      abort();
    }
    if( sqlite3_prepare_v2(db, "SELECT CAST(?1 AS REAL)", -1, &pReal, 0) ){
      abort();
    }
  }
  if( nData>256 ) return 0;
  z = malloc(nData ? nData : 1);
  if( z==0 ) return 0;
  memcpy(z, aData, nData);
  rc = segDateFromText(z, (int)nData, &iMs);
  if( rc==SEG_DATE_OK ) checkMs(iMs);
  else if( rc!=SEG_DATE_BAD && rc!=SEG_DATE_NULL ) abort();

  sqlite3_bind_text(pText, 1, z, (int)nData, SQLITE_STATIC);
  if( sqlite3_step(pText)==SQLITE_ROW ){
    rc2 = segDateFromValue(sqlite3_column_value(pText, 0), &iMs2);
    if( memchr(z, 0, nData)==0 ){
      int k;
      if( rc2!=rc || (rc==SEG_DATE_OK && iMs2!=iMs) ) abort();
      for(k=0; k<2; k++){
        /* first with the previous input's memo, then with this one's */
        rc2 = segDateFromValueMemo(sqlite3_column_value(pText, 0), &iMs2,
                                   &memo);
        if( rc2!=rc || (rc==SEG_DATE_OK && iMs2!=iMs) ) abort();
      }
    }
  }
  sqlite3_reset(pText);
  if( nData>=8 ){
    i64 iVal;
    double rVal;
    memcpy(&iVal, aData, 8);
    memcpy(&rVal, aData, 8);
    sqlite3_bind_int64(pInt, 1, iVal);
    if( sqlite3_step(pInt)==SQLITE_ROW ){
      if( segDateFromValue(sqlite3_column_value(pInt, 0), &iMs2)==SEG_DATE_OK ){
        checkMs(iMs2);
      }
    }
    sqlite3_reset(pInt);
    sqlite3_bind_double(pReal, 1, rVal);
    if( sqlite3_step(pReal)==SQLITE_ROW ){
      sqlite3_value *pV = sqlite3_column_value(pReal, 0);
      if( sqlite3_value_type(pV)==SQLITE_FLOAT
       && segDateFromValue(pV, &iMs2)==SEG_DATE_OK ){
        checkMs(iMs2);
      }
    }
    sqlite3_reset(pReal);
  }
  free(z);
  return 0;
}
