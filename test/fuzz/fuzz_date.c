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
**
** date_format= layouts (util.c 1.5), when the input's first byte says so:
**   - a byte 0x01..0x0f picks one of azLayout[]; the rest is the value;
**   - '%' starts a layout of its own, up to the first NUL byte (the rest is
**     the value): it compiles or is refused with a message, never more.
** Then: segDateParseFormat() reads only the value's bytes (exact-size
** copy), an accepted date satisfies 2., the SQL TEXT value gives the same
** answer through segDateFromValueFmt() and through a memo holding the
** layout, and where the layout is one of ISO's forms, a value that both
** accept is the same moment.
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

static const char *const azLayout[] = {
  /* ISO forms first: their answers are checked against the ISO parser */
  "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f%z", "%F %T %z",
  "%m/%d/%Y %H:%M", "%d.%m.%Y", "%m/%d/%y", "%b %e, %Y %I:%M %p",
  "%B %d %Y", "%Y-%j", "%Y%m%d%H%M%S", "%D %R", "%Y\xe5\xb9\xb4%m\xe6\x9c\x88%d",
  "%e/%m/%Y %I:%M:%S.%f %p %z", "%%%y%%%m%%%d"
};
#define N_ISO_LAYOUT 4

static void fuzzLayout(const uint8_t *aData, size_t nData){
  SegDateFormat *pFmt = 0;
  char *zWhy = 0, *zFmt, *z;
  const uint8_t *aVal;
  size_t nVal;
  int rc, rc2, iLayout = -1;
  i64 iMs = 0, iMs2 = 0;
  if( aData[0]!='%' ){
    iLayout = (aData[0]-1) % (int)(sizeof(azLayout)/sizeof(azLayout[0]));
    zFmt = malloc(strlen(azLayout[iLayout])+1);
    if( zFmt==0 ) return;
    strcpy(zFmt, azLayout[iLayout]);
    aVal = aData+1;
    nVal = nData-1;
  }else{
    const uint8_t *pNul = memchr(aData, 0, nData);
    size_t nFmt = pNul ? (size_t)(pNul-aData) : nData;
    zFmt = malloc(nFmt+1);
    if( zFmt==0 ) return;
    memcpy(zFmt, aData, nFmt);
    zFmt[nFmt] = 0;
    aVal = pNul ? pNul+1 : aData+nData;
    nVal = pNul ? nData-nFmt-1 : 0;
  }
  rc = segDateFormatCompile(zFmt, &pFmt, &zWhy);
  if( rc==SQLITE_ERROR ){
    if( pFmt || zWhy==0 ) abort();
    sqlite3_free(zWhy);
    free(zFmt);
    return;
  }
  if( rc!=SQLITE_OK || pFmt==0 || zWhy ) abort();
  if( strcmp(segDateFormatText(pFmt), zFmt) ) abort();
  z = malloc(nVal ? nVal : 1);
  if( z==0 ){ sqlite3_free(pFmt); free(zFmt); return; }
  memcpy(z, aVal, nVal);
  rc = segDateParseFormat(pFmt, z, (int)nVal, &iMs);
  if( rc==SEG_DATE_OK ) checkMs(iMs);
  else if( rc!=SEG_DATE_BAD ) abort();
  if( iLayout>=0 && iLayout<N_ISO_LAYOUT && rc==SEG_DATE_OK ){
    if( segDateFromText(z, (int)nVal, &iMs2)==SEG_DATE_OK && iMs2!=iMs ){
      abort();
    }
  }
  if( memchr(z, 0, nVal)==0 ){
    sqlite3_bind_text(pText, 1, z, (int)nVal, SQLITE_STATIC);
    if( sqlite3_step(pText)==SQLITE_ROW ){
      SegDateMemo m;
      memset(&m, 0, sizeof(m));
      m.pFmt = pFmt;
      rc2 = segDateFromValueFmt(sqlite3_column_value(pText, 0), &iMs2, pFmt);
      if( rc2!=rc || (rc==SEG_DATE_OK && iMs2!=iMs) ) abort();
      rc2 = segDateFromValueMemo(sqlite3_column_value(pText, 0), &iMs2, &m);
      if( rc2!=rc || (rc==SEG_DATE_OK && iMs2!=iMs) ) abort();
    }
    sqlite3_reset(pText);
  }
  free(z);
  sqlite3_free(pFmt);
  free(zFmt);
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
  if( nData>0 && (aData[0]=='%' || (aData[0]>=0x01 && aData[0]<=0x0f)) ){
    fuzzLayout(aData, nData);
    return 0;
  }
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
