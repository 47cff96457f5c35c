/*
** util.c: the pieces every other file shares, each written once.
**
** 1. Dates.  segDateFromValue() is the only date parser of libsegment
**    (DESIGN.md section 2, detail 1):
**      1.1 TEXT: YYYY-MM-DD, optionally followed by 'T' or one space and
**          HH:MM, HH:MM:SS or HH:MM:SS.f (one or more fraction digits; the
**          first three are kept), then optionally 'Z' or an offset +HH:MM,
**          -HH:MM, +HHMM or -HHMM (only after a time; converted to UTC; an
**          offset, not Z, may follow the time after one space, as in
**          `2024-01-15 10:23:45 -0500`).  Month 1-12, day valid for its
**          month and year, hour 0-23, minute and second 0-59.  Nothing
**          else: no surrounding spaces, no numeric text, no other forms.
**      1.2 REAL: a julian day in [0, 5373484.5).
**      1.3 INTEGER: unix seconds that map into that range.
**      1.4 NULL is SEG_DATE_NULL; every other value is SEG_DATE_BAD.
**      1.5 date_format=: TEXT of another layout (SegDateFormat), written
**          with strftime's letters, compiled once at open time and read
**          just as strictly: the value must be exactly the layout.
**    A day is the UTC calendar day as a julian day number.
**
** 2. Options.  segOptsAdd() is the only parser of table-valued-function
**    arguments (detail 6): keys and method names case-insensitive, spaces
**    around keys, '=' and values ignored, only the first argument may be a
**    bare source, unknown and repeated options are errors, quoted values of
**    the CREATE VIRTUAL TABLE form are dequoted.
**
** 3. Values.  SegValue and SegMap group and order values exactly as
**    SQLite's GROUP BY and ORDER BY do (detail 5): 1 and 1.0 are one key,
**    1 and '1' are two; NULL < numbers < text < blob; integers and reals
**    compared exactly; text under the map's collation (BINARY, NOCASE,
**    RTRIM) and, for BINARY, in the database's encoding (keys are kept in
**    UTF-8 and compared as their UTF-16 bytes in a UTF-16 database).  The
**    hash is keyed by a random seed per map.  The map has three modes,
**    invisible to callers: hash slots whose tag is the key itself while
**    every key is a 32-bit integer; a direct table indexed by key - base
**    once such keys prove dense (range at most 4 per key, checked when the
**    slots grow; it gives way to slots again when a key falls too far
**    out); hash slots tagged by a hash for any other key.
**
** 4. Amounts (detail 4) and compensated sums.
**
** 5. Numbers as text.  segNumberParse() is the only reader of decimal
**    text and segNumberFormat() the writer of round-trip numbers: both
**    the same under every C locale (DESIGN.md section 8).
**
** 6. Interrupts.  segCheck() is what every long computation calls every
**    so often (kmeans_fit's passes, the CLV likelihoods): after about
**    SEG_CHECK_WORK units of work it steps a small statement on the
**    caller's connection, which sqlite3_interrupt() and a progress handler
**    stop as they stop any statement (SQLite 3.40 has no
**    sqlite3_is_interrupted(), and a progress handler cannot be queried).
**    The statement runs about 1,000 VM instructions (a few microseconds),
**    so a handler set for N instructions is called at every check when
**    N <= 1,000, at every N/1,000th check otherwise.  Checks are a few
**    milliseconds apart.  The result is sticky: once interrupted, every
**    later call returns SQLITE_INTERRUPT at once.
*/
#include "segmentInt.h"
#include <string.h>
#include <stdarg.h>
#include <stdlib.h>
#include <math.h>
#include <assert.h>
#include <stdio.h>
#include <float.h>

/**************************************************************************
** 1. Dates
*/
#define SEG_MS_MAX ((i64)537348450*(i64)864000)   /* 5373484.5 days in ms */
#define SEG_UNIX_EPOCH_MS ((i64)210866760000000)  /* 1970-01-01 as iJD */

int segDayFromYmd(int y, int m, int d){
  int a = (14 - m)/12;
  int yy = y + 4800 - a;
  int mm = m + 12*a - 3;
  return d + (153*mm + 2)/5 + 365*yy + yy/4 - yy/100 + yy/400 - 32045;
}

void segYmdFromDay(int iDay, int *pY, int *pM, int *pD){
  int a = iDay + 32044;
  int b = (4*a + 3)/146097;
  int c = a - 146097*b/4;
  int d = (4*c + 3)/1461;
  int e = c - 1461*d/4;
  int m = (5*e + 2)/153;
  *pD = e - (153*m + 2)/5 + 1;
  *pM = m + 3 - 12*(m/10);
  *pY = 100*b + d - 4800 + m/10;
}

int segDaysInMonth(int y, int m){
  static const unsigned char aDays[] = {31,28,31,30,31,30,31,31,30,31,30,31};
  if( m==2 ){
    int bLeap = (y%4==0 && y%100!=0) || y%400==0;
    return 28 + bLeap;
  }
  return aDays[m-1];
}

int segWeekday(int iDay){
  return iDay % 7;     /* julian day number 0 was a Monday */
}

int segFormatDay(int iDay, char *zBuf){
  int y, m, d;
  segYmdFromDay(iDay, &y, &m, &d);
  if( y>=0 && y<=9999 ){
    /* the common case, digit by digit (a day is formatted per output row) */
    zBuf[0] = (char)('0' + y/1000);
    zBuf[1] = (char)('0' + y/100%10);
    zBuf[2] = (char)('0' + y/10%10);
    zBuf[3] = (char)('0' + y%10);
    zBuf[4] = '-';
    zBuf[5] = (char)('0' + m/10);
    zBuf[6] = (char)('0' + m%10);
    zBuf[7] = '-';
    zBuf[8] = (char)('0' + d/10);
    zBuf[9] = (char)('0' + d%10);
    zBuf[10] = 0;
    return 10;
  }else if( y<0 ){
    /* as SQLite's date() writes years before 0000: -4713-11-24 */
    sqlite3_snprintf(12, zBuf, "-%04d-%02d-%02d", -y, m, d);
  }else{
    sqlite3_snprintf(11, zBuf, "%04d-%02d-%02d", y, m, d);
  }
  return (int)strlen(zBuf);
}

int segDayOfMs(i64 iMs){
  return (int)((iMs + SEG_MS_PER_DAY/2) / SEG_MS_PER_DAY);
}

/* Read exactly n digits at z; -1 if any is not a digit. */
static int segDigits(const char *z, int n){
  int v = 0, i;
  for(i=0; i<n; i++){
    if( z[i]<'0' || z[i]>'9' ) return -1;
    v = v*10 + (z[i]-'0');
  }
  return v;
}

/*
** The text parser.  pMemo, when not NULL, remembers the last valid
** YYYY-MM-DD part: rows in date order repeat it, and then only the time
** part is parsed.
*/
static int segDateParse(const char *z, int n, i64 *piMs, SegDateMemo *pMemo){
  int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, i;
  i64 iMs;
  if( n<10 ) return SEG_DATE_BAD;
  if( pMemo && pMemo->bValid && memcmp(z, pMemo->zDay, 10)==0 ){
    iMs = pMemo->iDayMs;
  }else{
    if( z[4]!='-' || z[7]!='-' ) return SEG_DATE_BAD;
    y = segDigits(z, 4);
    mo = segDigits(z+5, 2);
    d = segDigits(z+8, 2);
    if( y<0 || mo<1 || mo>12 || d<1 ) return SEG_DATE_BAD;
    if( d>segDaysInMonth(y, mo) ) return SEG_DATE_BAD;
    iMs = ((i64)segDayFromYmd(y, mo, d))*SEG_MS_PER_DAY - SEG_MS_PER_DAY/2;
    if( pMemo ){
      memcpy(pMemo->zDay, z, 10);
      pMemo->iDayMs = iMs;
      pMemo->bValid = 1;
    }
  }
  i = 10;
  if( i<n ){
    if( z[i]!='T' && z[i]!=' ' ) return SEG_DATE_BAD;
    i++;
    if( n-i<5 || z[i+2]!=':' ) return SEG_DATE_BAD;
    h = segDigits(z+i, 2);
    mi = segDigits(z+i+3, 2);
    if( h<0 || h>23 || mi<0 || mi>59 ) return SEG_DATE_BAD;
    i += 5;
    if( i<n && z[i]==':' ){
      if( n-i<3 ) return SEG_DATE_BAD;
      s = segDigits(z+i+1, 2);
      if( s<0 || s>59 ) return SEG_DATE_BAD;
      i += 3;
      if( i<n && z[i]=='.' ){
        int nDigit = 0, scale = 100;
        i++;
        while( i<n && z[i]>='0' && z[i]<='9' ){
          if( nDigit<3 ){ ms += (z[i]-'0')*scale; scale /= 10; }
          nDigit++;
          i++;
        }
        if( nDigit==0 ) return SEG_DATE_BAD;
      }
    }
    iMs += (i64)h*3600000 + (i64)mi*60000 + (i64)s*1000 + ms;
    if( i<n ){
      /* one space may come before a +/- offset (not before Z) */
      if( z[i]==' ' && n-i>1 && (z[i+1]=='+' || z[i+1]=='-') ) i++;
      if( z[i]=='Z' ){
        i++;
      }else if( z[i]=='+' || z[i]=='-' ){
        int oh, om, k;
        if( n-i<5 ) return SEG_DATE_BAD;
        k = z[i+3]==':' ? 4 : 3;           /* +HH:MM or +HHMM */
        if( n-i<k+2 ) return SEG_DATE_BAD;
        oh = segDigits(z+i+1, 2);
        om = segDigits(z+i+k, 2);
        if( oh<0 || oh>23 || om<0 || om>59 ) return SEG_DATE_BAD;
        if( z[i]=='+' ){
          iMs -= (i64)oh*3600000 + (i64)om*60000;
        }else{
          iMs += (i64)oh*3600000 + (i64)om*60000;
        }
        i += k+2;
      }
    }
  }
  if( i!=n ) return SEG_DATE_BAD;
  if( iMs<0 || iMs>=SEG_MS_MAX ) return SEG_DATE_BAD;
  *piMs = iMs;
  return SEG_DATE_OK;
}

int segDateFromText(const char *z, int n, i64 *piMs){
  return segDateParse(z, n, piMs, 0);
}

/*
** 1.5 date_format=.  The layout is compiled into aOp[]: a value below 256
** is a literal byte, which must be there exactly (a space is one space);
** SEG_FMT_OP + c is the field of letter c:
**
**   %Y  year, exactly 4 digits        %y  year 00-99, 1-2 digits: 69-99
**                                          are 19xx, 00-68 are 20xx
**   %m  month 1-12, 1-2 digits        %b  month as Jan..Dec, %B as
**   %d  day 1-31, 1-2 digits               January..December (English,
**   %e  the same, or a space and one       any case)
**       digit (as strftime writes it) %j  day of the year 1-366, 1-3 digits
**   %H  hour 0-23, 1-2 digits         %I  hour 1-12, 1-2 digits, with
**   %M  minute 0-59, 1-2 digits       %p  AM or PM (any case)
**   %S  second 0-59, 1-2 digits       %f  fraction: one or more digits
**   %z  Z, +HHMM or +HH:MM (or -)          (the first three are kept)
**   %F = %Y-%m-%d   %T = %H:%M:%S   %R = %H:%M   %D = %m/%d/%y   %% = %
**
** Each field at most once; a year, and a month and a day or %j, are
** required; %M needs an hour, %S %M, %f %S, %z an hour; %I and %p go
** together.  The day must be valid for its month (or year, with %j).
*/
#define SEG_FMT_OP 256
struct SegDateFormat {
  const char *zFmt;               /* the option's text, for messages */
  int nOp;
  int b12;                        /* %I with %p */
  unsigned short aOp[1];          /* nOp operations (allocated larger) */
};

static const char *const azSegMonth[] = {
  "January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December"
};

/* The classes of field: each may be given once. */
#define SEG_FC_YEAR   0x001
#define SEG_FC_MONTH  0x002
#define SEG_FC_DAY    0x004
#define SEG_FC_YDAY   0x008
#define SEG_FC_HOUR   0x010
#define SEG_FC_AMPM   0x020
#define SEG_FC_MIN    0x040
#define SEG_FC_SEC    0x080
#define SEG_FC_FRAC   0x100
#define SEG_FC_OFF    0x200

static int segFmtClass(int c, const char **pzName){
  switch( c ){
    case 'Y': case 'y':           *pzName = "year";      return SEG_FC_YEAR;
    case 'm': case 'b': case 'B': *pzName = "month";     return SEG_FC_MONTH;
    case 'd': case 'e':           *pzName = "day";       return SEG_FC_DAY;
    case 'j':                     *pzName = "day of the year";
                                  return SEG_FC_YDAY;
    case 'H': case 'I':           *pzName = "hour";      return SEG_FC_HOUR;
    case 'p':                     *pzName = "AM/PM";     return SEG_FC_AMPM;
    case 'M':                     *pzName = "minute";    return SEG_FC_MIN;
    case 'S':                     *pzName = "second";    return SEG_FC_SEC;
    case 'f':                     *pzName = "fraction";  return SEG_FC_FRAC;
    case 'z':                     *pzName = "offset";    return SEG_FC_OFF;
  }
  return 0;
}

/*
** What a format whose fields are mSeen (SEG_FC_ bits; bI and bP: it has
** %I, %p) lacks to name a day, or a field without the one it needs, as
** a printf format of one "%s"; 0 if it is complete.
*/
static const char *segFmtMissing(int mSeen, int bI, int bP){
  if( (mSeen & SEG_FC_YEAR)==0 ){
    return "has no year (%%Y or %%y)%s";
  }else if( (mSeen & SEG_FC_YDAY) && (mSeen & (SEG_FC_MONTH|SEG_FC_DAY)) ){
    return "has %%j and a month or day%s";
  }else if( (mSeen & SEG_FC_YDAY)==0 && (mSeen & SEG_FC_MONTH)==0 ){
    return "has no month (%%m, %%b or %%B)%s";
  }else if( (mSeen & SEG_FC_YDAY)==0 && (mSeen & SEG_FC_DAY)==0 ){
    return "has no day (%%d or %%e)%s";
  }else if( bI && !bP ){
    return "has %%I without %%p%s";
  }else if( bP && !bI ){
    return "has %%p without %%I%s";
  }else if( (mSeen & SEG_FC_MIN) && !(mSeen & SEG_FC_HOUR) ){
    return "has %%M without an hour (%%H or %%I)%s";
  }else if( (mSeen & SEG_FC_SEC) && !(mSeen & SEG_FC_MIN) ){
    return "has %%S without %%M%s";
  }else if( (mSeen & SEG_FC_FRAC) && !(mSeen & SEG_FC_SEC) ){
    return "has %%f without %%S%s";
  }else if( (mSeen & SEG_FC_OFF) && !(mSeen & SEG_FC_HOUR) ){
    return "has %%z without an hour (%%H or %%I)%s";
  }
  return 0;
}

/*
** Compile zFmt.  SQLITE_OK with *ppFmt (one sqlite3_malloc'd block: free
** it with sqlite3_free), SQLITE_NOMEM, or SQLITE_ERROR with *pzWhy, what
** is wrong with it (sqlite3_malloc'd, or NULL after an OOM).
*/
int segDateFormatCompile(const char *zFmt, SegDateFormat **ppFmt,
                         char **pzWhy){
  static const char *const azExpand[] = {
    "F", "Y-m-d",  "T", "H:M:S",  "R", "H:M",  "D", "m/d/y",  0
  };
  int n = (int)strlen(zFmt), i, k, nOp = 0, mSeen = 0, bI = 0, bP = 0;
  const char *zWhy = 0;           /* what is wrong: a printf format ... */
  const char *zArg = "";          /* ... of this one argument */
  char c1[2] = {0, 0};
  SegDateFormat *p;
  *ppFmt = 0;
  *pzWhy = 0;
  p = sqlite3_malloc64(sizeof(SegDateFormat) + sizeof(unsigned short)*3*(i64)n
                       + n + 1);
  if( p==0 ) return SQLITE_NOMEM;
  memcpy((char*)&p->aOp[3*n+1], zFmt, n+1);
  p->zFmt = (const char*)&p->aOp[3*n+1];
  for(i=0; i<n && zWhy==0; i++){
    const char *zField;
    if( zFmt[i]!='%' ){
      p->aOp[nOp++] = (unsigned char)zFmt[i];
      continue;
    }
    i++;
    if( i>=n ){
      zWhy = "ends in a lone %%%s";
      zArg = "";
      break;
    }
    if( zFmt[i]=='%' ){
      p->aOp[nOp++] = '%';
      continue;
    }
    c1[0] = zFmt[i];
    zField = c1;
    for(k=0; azExpand[k]; k+=2){
      if( azExpand[k][0]==zFmt[i] ){ zField = azExpand[k+1]; break; }
    }
    for(k=0; zField[k] && zWhy==0; k++){
      int c = zField[k], m;
      if( k%2 ){ p->aOp[nOp++] = (unsigned char)c; continue; }
      m = segFmtClass(c, &zArg);
      if( m==0 ){
        zWhy = (unsigned char)c>=0x20 && (unsigned char)c<0x7f
             ? "has an unknown letter %%%s (letters: %%Y %%y %%m %%d %%e %%b "
               "%%B %%j %%H %%I %%p %%M %%S %%f %%z %%F %%T %%R %%D %%%%)"
             : "has %% before a byte that is not a letter%s";
        zArg = (unsigned char)c>=0x20 && (unsigned char)c<0x7f ? c1 : "";
      }else if( mSeen & m ){
        zWhy = "gives the %s twice";
      }else{
        mSeen |= m;
        if( c=='I' ) bI = 1;
        if( c=='p' ) bP = 1;
        p->aOp[nOp++] = (unsigned short)(SEG_FMT_OP + c);
      }
    }
  }
  if( zWhy==0 ){
    zArg = "";
    zWhy = segFmtMissing(mSeen, bI, bP);
  }
  if( zWhy==0 ){
    p->nOp = nOp;
    p->b12 = bI;
    *ppFmt = p;
    return SQLITE_OK;
  }
  sqlite3_free(p);
  *pzWhy = sqlite3_mprintf(zWhy, zArg);
  return *pzWhy ? SQLITE_ERROR : SQLITE_NOMEM;
}

const char *segDateFormatText(const SegDateFormat *p){
  return p->zFmt;
}

/* At least 1 and at most nMax digits at z[*pi..n-1]; -1 if none. */
static int segDigitsUpTo(const char *z, int n, int *pi, int nMax){
  int i = *pi, v = 0;
  while( i<n && i-*pi<nMax && z[i]>='0' && z[i]<='9' ){
    v = v*10 + (z[i]-'0');
    i++;
  }
  if( i==*pi ) return -1;
  *pi = i;
  return v;
}

/* At most nMax digits at z[*pi..n-1], their value in lo..hi; -1 if not. */
static int segDigitsIn(const char *z, int n, int *pi, int nMax, int lo,
                       int hi){
  int v = segDigitsUpTo(z, n, pi, nMax);
  return v<lo || v>hi ? -1 : v;
}

/* %f: digits at z[*pi..n-1], the first three of them milliseconds into
** *pMs.  Returns 0, or -1 when there is no digit. */
static int segParseFraction(const char *z, int n, int *pi, int *pMs){
  int i = *pi, nDigit = 0, scale = 100, ms = 0;
  while( i<n && z[i]>='0' && z[i]<='9' ){
    if( nDigit<3 ){ ms += (z[i]-'0')*scale; scale /= 10; }
    nDigit++;
    i++;
  }
  if( nDigit==0 ) return -1;
  *pi = i;
  *pMs = ms;
  return 0;
}

/* %p at z[*pi..n-1]: AM or PM, any case; 1 for PM, 0 for AM, -1 if
** neither. */
static int segParseAmPm(const char *z, int n, int *pi){
  int i = *pi;
  if( n-i<2 || (z[i+1]!='m' && z[i+1]!='M') ) return -1;
  if( z[i]!='p' && z[i]!='P' && z[i]!='a' && z[i]!='A' ) return -1;
  *pi = i+2;
  return z[i]=='p' || z[i]=='P';
}

/* %b (bLong 0: three letters) or %B (the whole English name) at
** z[*pi..n-1], any case: the month, 1 to 12, or -1. */
static int segParseMonthName(const char *z, int n, int *pi, int bLong){
  int m, nName = 3;
  for(m=0; m<12; m++){
    if( bLong ) nName = (int)strlen(azSegMonth[m]);
    if( n-*pi>=nName && sqlite3_strnicmp(z+*pi, azSegMonth[m], nName)==0 ){
      *pi += nName;
      return m+1;
    }
  }
  return -1;
}

/* %z at z[*pi..n-1]: Z, or +hhmm, -hhmm, +hh:mm or -hh:mm, as
** milliseconds east of UTC into *piOff.  Returns 0, or -1 if malformed. */
static int segParseOffset(const char *z, int n, int *pi, i64 *piOff){
  int i = *pi, oh, om, sign;
  if( i<n && z[i]=='Z' ){ *pi = i+1; return 0; }
  if( n-i<5 || (z[i]!='+' && z[i]!='-') ) return -1;
  sign = z[i]=='+' ? 1 : -1;
  oh = segDigits(z+i+1, 2);
  i += 3;
  if( z[i]==':' ){
    i++;
    if( n-i<2 ) return -1;
  }
  om = segDigits(z+i, 2);
  if( oh<0 || oh>23 || om<0 || om>59 ) return -1;
  *pi = i+2;
  *piOff = sign*((i64)oh*3600000 + (i64)om*60000);
  return 0;
}

int segDateParseFormat(const SegDateFormat *pF, const char *z, int n,
                       i64 *piMs){
  int y = 0, mo = 1, d = 1, yd = 0, h = 0, mi = 0, s = 0, ms = 0, pm = 0;
  int i = 0, k, iDay;
  i64 iOff = 0, iMs;
  for(k=0; k<pF->nOp; k++){
    int op = pF->aOp[k];
    if( op<SEG_FMT_OP ){
      if( i>=n || (unsigned char)z[i]!=op ) return SEG_DATE_BAD;
      i++;
      continue;
    }
    switch( op - SEG_FMT_OP ){
      case 'Y':
        if( n-i<4 || (y = segDigits(z+i, 4))<0 ) return SEG_DATE_BAD;
        i += 4;
        break;
      case 'y':
        if( (y = segDigitsUpTo(z, n, &i, 2))<0 ) return SEG_DATE_BAD;
        y += y<69 ? 2000 : 1900;
        break;
      case 'm':
        if( (mo = segDigitsIn(z, n, &i, 2, 1, 12))<0 ) return SEG_DATE_BAD;
        break;
      case 'e':
        if( i<n && z[i]==' ' ){
          i++;
          d = segDigitsUpTo(z, n, &i, 1);
          if( d<1 ) return SEG_DATE_BAD;
          break;
        }
        /* fall through */
      case 'd':
        if( (d = segDigitsIn(z, n, &i, 2, 1, 31))<0 ) return SEG_DATE_BAD;
        break;
      case 'j':
        if( (yd = segDigitsIn(z, n, &i, 3, 1, 366))<0 ) return SEG_DATE_BAD;
        break;
      case 'H':
        if( (h = segDigitsIn(z, n, &i, 2, 0, 23))<0 ) return SEG_DATE_BAD;
        break;
      case 'I':
        if( (h = segDigitsIn(z, n, &i, 2, 1, 12))<0 ) return SEG_DATE_BAD;
        break;
      case 'M':
        if( (mi = segDigitsIn(z, n, &i, 2, 0, 59))<0 ) return SEG_DATE_BAD;
        break;
      case 'S':
        if( (s = segDigitsIn(z, n, &i, 2, 0, 59))<0 ) return SEG_DATE_BAD;
        break;
      case 'f':
        if( segParseFraction(z, n, &i, &ms) ) return SEG_DATE_BAD;
        break;
      case 'p':
        if( (pm = segParseAmPm(z, n, &i))<0 ) return SEG_DATE_BAD;
        break;
      case 'b': case 'B':
        mo = segParseMonthName(z, n, &i, op-SEG_FMT_OP=='B');
        if( mo<0 ) return SEG_DATE_BAD;
        break;
      case 'z':
        if( segParseOffset(z, n, &i, &iOff) ) return SEG_DATE_BAD;
        break;
    }
  }
  if( i!=n ) return SEG_DATE_BAD;
  if( yd ){
    if( yd>337+segDaysInMonth(y, 2) ) return SEG_DATE_BAD;
    iDay = segDayFromYmd(y, 1, 1) + yd - 1;
  }else{
    if( d>segDaysInMonth(y, mo) ) return SEG_DATE_BAD;
    iDay = segDayFromYmd(y, mo, d);
  }
  if( pF->b12 ) h = h%12 + 12*pm;
  iMs = (i64)iDay*SEG_MS_PER_DAY - SEG_MS_PER_DAY/2
      + (i64)h*3600000 + (i64)mi*60000 + (i64)s*1000 + ms - iOff;
  if( iMs<0 || iMs>=SEG_MS_MAX ) return SEG_DATE_BAD;
  *piMs = iMs;
  return SEG_DATE_OK;
}

int segDateFromValue(sqlite3_value *pVal, i64 *piMs){
  return segDateFromValueMemo(pVal, piMs, 0);
}

int segDateFromValueMemo(sqlite3_value *pVal, i64 *piMs, SegDateMemo *pMemo){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:
      return SEG_DATE_NULL;
    case SQLITE_INTEGER: {
      i64 v = sqlite3_value_int64(pVal);
      /* unix seconds: -210866760000 .. 253402300799 */
      if( v < -(SEG_UNIX_EPOCH_MS/1000) ) return SEG_DATE_BAD;
      if( v >= (SEG_MS_MAX - SEG_UNIX_EPOCH_MS)/1000 ) return SEG_DATE_BAD;
      *piMs = v*1000 + SEG_UNIX_EPOCH_MS;
      return SEG_DATE_OK;
    }
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      if( !(r>=0.0 && r<5373484.5) ) return SEG_DATE_BAD;
      *piMs = (i64)(r*86400000.0 + 0.5);
      if( *piMs>=SEG_MS_MAX ) *piMs = SEG_MS_MAX-1;
      return SEG_DATE_OK;
    }
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      if( z==0 ) return SEG_DATE_BAD;   /* OOM: reported by caller as bad */
      if( pMemo && pMemo->pFmt ){
        return segDateParseFormat(pMemo->pFmt, z, sqlite3_value_bytes(pVal),
                                  piMs);
      }
      return segDateParse(z, sqlite3_value_bytes(pVal), piMs, pMemo);
    }
    default:
      return SEG_DATE_BAD;
  }
}

int segDateFromValueFmt(sqlite3_value *pVal, i64 *piMs,
                        const SegDateFormat *pFmt){
  SegDateMemo m;
  if( pFmt==0 || sqlite3_value_type(pVal)!=SQLITE_TEXT ){
    return segDateFromValueMemo(pVal, piMs, 0);
  }
  memset(&m, 0, sizeof(m));
  m.pFmt = pFmt;
  return segDateFromValueMemo(pVal, piMs, &m);
}

/**************************************************************************
** 5. Numbers as text
**
** strtod() and printf() follow LC_NUMERIC, which a host may have set (Qt
** applications such as DB Browser for SQLite set a decimal-comma locale):
** strtod() then stops at '.', and printf() writes ','.  So libsegment reads
** decimal text only through segNumberParse() and writes it only through
** SQLite's printf (sqlite3_mprintf, sqlite3_str_appendf, ...: its own
** float conversion, which always writes '.'), the shortest round-trip form
** through segNumberFormat().
**
** segNumberParse() computes the common case itself: at most 19 significant
** digits whose value is below 2^53, with a decimal exponent of at most 22
** either way (every amount with cents).  Both operands of the one
** multiplication or division are then exact doubles, so its result is the
** correctly rounded value, the same as strtod's (Clinger's fast path; it
** needs arithmetic without excess precision, FLT_EVAL_METHOD 0).  Any other
** number goes to strtod() with '.' replaced by the current locale's decimal
** point, found by formatting 0.5 with the C library's snprintf().
*/
static const double aSegPow10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* strtod() of z[0..n-1], a number in segNumberParse's syntax with '.' as
** the decimal point, whatever the locale's is. */
static int segNumberStrtod(const char *z, int n, double *pr){
  char zBuf[128];
  char zRadix[8];
  char *zNum = zBuf;
  char *zEnd = 0;
  const char *zDot = memchr(z, '.', n);
  int nRadix = 1, nNum, iDot = 0, ok;
  double r;
  zRadix[0] = '.';
  if( zDot ){
    char zHalf[24];
    int k = snprintf(zHalf, sizeof(zHalf), "%.1f", 0.5);   /* "0.5", "0,5" */
    if( k>=3 && k-2<=(int)sizeof(zRadix) && k<(int)sizeof(zHalf)
     && zHalf[0]=='0' && zHalf[k-1]=='5' ){
      nRadix = k-2;
      memcpy(zRadix, zHalf+1, nRadix);
    }
    iDot = (int)(zDot - z);
  }
  nNum = zDot ? n-1+nRadix : n;
  if( nNum>=(int)sizeof(zBuf) ){
    zNum = sqlite3_malloc64(nNum+1);
    if( zNum==0 ) return -1;
  }
  if( zDot ){
    memcpy(zNum, z, iDot);
    memcpy(zNum+iDot, zRadix, nRadix);
    memcpy(zNum+iDot+nRadix, z+iDot+1, n-iDot-1);
  }else{
    memcpy(zNum, z, n);
  }
  zNum[nNum] = 0;
  r = strtod(zNum, &zEnd);
  ok = (zEnd==zNum+nNum);
  if( zNum!=zBuf ) sqlite3_free(zNum);
  if( !ok ) return 0;
  *pr = r;
  return 1;
}

int segNumberParse(const char *z, int n, double *pr){
  u64 m = 0;                 /* significant digits, at most 19 */
  int i = 0, nDigit = 0, bNeg = 0, bDot = 0, bDropped = 0;
  int e10 = 0;               /* exponent of m's last digit, before e... */
  int eExp = 0, bExpNeg = 0;
  if( i<n && (z[i]=='+' || z[i]=='-') ){ bNeg = (z[i]=='-'); i++; }
  for(; i<n; i++){
    if( z[i]>='0' && z[i]<='9' ){
      nDigit++;
      if( m<(u64)1000000000000000000 ){
        m = m*10 + (u64)(z[i]-'0');
        if( bDot ) e10--;
      }else{
        if( z[i]!='0' ) bDropped = 1;
        if( !bDot ) e10++;
      }
    }else if( z[i]=='.' && !bDot ){
      bDot = 1;
    }else{
      break;
    }
  }
  if( nDigit==0 ) return 0;
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    int nExp = 0;
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ){ bExpNeg = (z[i]=='-'); i++; }
    for(; i<n && z[i]>='0' && z[i]<='9'; i++){
      if( eExp<100000 ) eExp = eExp*10 + (z[i]-'0');
      nExp++;
    }
    if( nExp==0 ) return 0;
  }
  if( i!=n ) return 0;
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD==0
  if( !bDropped && m<=((u64)1<<53) ){
    int k = e10 + (bExpNeg ? -eExp : eExp);
    double r;
    if( m==0 ){
      r = 0.0;
    }else if( k>=0 && k<=22 ){
      r = (double)m * aSegPow10[k];
    }else if( k<0 && k>=-22 ){
      r = (double)m / aSegPow10[-k];
    }else{
      return segNumberStrtod(z, n, pr);
    }
    *pr = bNeg ? -r : r;
    return 1;
  }
#endif
  return segNumberStrtod(z, n, pr);
}

void segNumberFormat(char *zBuf, double r){
  int nDigit;
  for(nDigit=15; nDigit<=17; nDigit++){
    double rBack;
    sqlite3_snprintf(SEG_NUMBER_SIZE, zBuf, "%!.*g", nDigit, r);
    if( segNumberParse(zBuf, (int)strlen(zBuf), &rBack)==1 && rBack==r ) break;
  }
}

/**************************************************************************
** 4. Amounts and sums
*/

/* Is z[0..n-1] a decimal number (after trimming spaces)?  Sets *pr.
** At most 63 characters once trimmed. */
static int segParseNumber(const char *z, int n, double *pr){
  int i = 0;
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t') ) n--;
  while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
  z += i; n -= i;
  if( n==0 || n>=64 ) return 0;
  return segNumberParse(z, n, pr)==1;
}

int segAmountFromValue(sqlite3_value *pVal, double *prOut){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:
      return SEG_AMT_NULL;
    case SQLITE_INTEGER:
      *prOut = (double)sqlite3_value_int64(pVal);
      return SEG_AMT_KNOWN;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      if( isinf(r) || isnan(r) ) return -1;
      *prOut = r;
      return SEG_AMT_KNOWN;
    }
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      int n = sqlite3_value_bytes(pVal);
      double r;
      if( z==0 ) return -1;
      if( n==0 ) return SEG_AMT_NULL;
      if( !segParseNumber(z, n, &r) || isinf(r) || isnan(r) ) return -1;
      *prOut = r;
      return SEG_AMT_KNOWN;
    }
    default:
      return -1;
  }
}

/**************************************************************************
** 2. Options
*/
int segOptsInit(SegOpts *p, const char *zFunc, const char *const *azName,
                int bPositional){
  int n = 0;
  memset(p, 0, sizeof(*p));
  while( azName[n] ) n++;
  p->zFunc = zFunc;
  p->azName = azName;
  p->nName = n;
  p->bPositional = bPositional;
  p->azVal = sqlite3_malloc64(sizeof(char*)*(n+1));
  if( p->azVal==0 ) return SQLITE_NOMEM;
  memset(p->azVal, 0, sizeof(char*)*(n+1));
  return SQLITE_OK;
}

void segOptsFree(SegOpts *p){
  int i;
  if( p->azVal ){
    for(i=0; i<p->nName; i++) sqlite3_free(p->azVal[i]);
    sqlite3_free(p->azVal);
  }
  p->azVal = 0;
}

char *segOptsError(const SegOpts *p, const char *zFmt, ...){
  va_list ap;
  char *zMsg, *zOut;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zMsg==0 ) return 0;
  zOut = sqlite3_mprintf("%s(): %s", p->zFunc, zMsg);
  sqlite3_free(zMsg);
  return zOut;
}

static int segIsSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f' || c=='\v';
}

/* Copy z[0..n-1] trimmed; dequote if bDequote and quoted. */
static char *segTrimCopy(const char *z, int n, int bDequote){
  char *zOut;
  while( n>0 && segIsSpace(z[0]) ){ z++; n--; }
  while( n>0 && segIsSpace(z[n-1]) ) n--;
  if( bDequote && n>=2
   && ((z[0]=='\'' && z[n-1]=='\'') || (z[0]=='"' && z[n-1]=='"')
       || (z[0]=='`' && z[n-1]=='`') || (z[0]=='[' && z[n-1]==']')) ){
    char q = z[0]=='[' ? ']' : z[0];
    int i, j = 0;
    zOut = sqlite3_malloc64(n);
    if( zOut==0 ) return 0;
    for(i=1; i<n-1; i++){
      zOut[j++] = z[i];
      if( z[i]==q && q!=']' && i+1<n-1 && z[i+1]==q ) i++;
    }
    zOut[j] = 0;
    return zOut;
  }
  zOut = sqlite3_malloc64(n+1);
  if( zOut==0 ) return 0;
  memcpy(zOut, z, n);
  zOut[n] = 0;
  return zOut;
}

static int segOptsIndex(const SegOpts *p, const char *zKey, int nKey){
  int i;
  for(i=0; i<p->nName; i++){
    if( (int)strlen(p->azName[i])==nKey
     && sqlite3_strnicmp(p->azName[i], zKey, nKey)==0 ){
      return i;
    }
  }
  return -1;
}

static char *segOptsList(const SegOpts *p){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i;
  for(i=0; i<p->nName; i++){
    sqlite3_str_appendf(pStr, "%s%s", i ? ", " : "", p->azName[i]);
  }
  return sqlite3_str_finish(pStr);
}

int segOptsAdd(SegOpts *p, const char *zArg, int bDequote, char **pzErr){
  int iOpt = -1;
  const char *zVal = zArg;
  int nVal = (int)strlen(zArg);
  char *zCopy;
  if( p->bPositional ){
    if( p->nArg>=p->nName ){
      *pzErr = segOptsError(p, "too many arguments (at most %d)", p->nName);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    iOpt = p->nArg;
  }else{
    const char *zEq = strchr(zArg, '=');
    if( zEq ){
      const char *zKey = zArg;
      int nKey = (int)(zEq - zArg);
      while( nKey>0 && segIsSpace(zKey[0]) ){ zKey++; nKey--; }
      while( nKey>0 && segIsSpace(zKey[nKey-1]) ) nKey--;
      iOpt = segOptsIndex(p, zKey, nKey);
      if( iOpt<0 && p->nArg>0 ){
        char *zList = segOptsList(p);
        if( zList==0 ) return SQLITE_NOMEM;
        *pzErr = segOptsError(p, "unknown option '%.*s' (options: %s)",
                              nKey, zKey, zList);
        sqlite3_free(zList);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      if( iOpt>=0 ){
        zVal = zEq+1;
        nVal = (int)strlen(zVal);
      }
    }
    if( iOpt<0 ){
      if( p->nArg>0 ){
        char *zList = segOptsList(p);
        if( zList==0 ) return SQLITE_NOMEM;
        *pzErr = segOptsError(p, "argument '%s' is not key=value (options: %s)",
                              zArg, zList);
        sqlite3_free(zList);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      iOpt = segOptsIndex(p, "source", 6);
      if( iOpt<0 ){
        *pzErr = segOptsError(p, "argument '%s' is not key=value", zArg);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
    }
  }
  p->nArg++;
  if( p->azVal[iOpt] ){
    *pzErr = segOptsError(p, "more than one '%s' option", p->azName[iOpt]);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  zCopy = segTrimCopy(zVal, nVal, bDequote);
  if( zCopy==0 ) return SQLITE_NOMEM;
  if( zCopy[0]==0 ){
    sqlite3_free(zCopy);
    *pzErr = segOptsError(p, "empty value for option '%s'", p->azName[iOpt]);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  p->azVal[iOpt] = zCopy;
  return SQLITE_OK;
}

const char *segOptsGet(const SegOpts *p, const char *zName){
  int i = segOptsIndex(p, zName, (int)strlen(zName));
  return i>=0 ? p->azVal[i] : 0;
}

#define SEG_OPT_ERROR(p, pzErr, ...) \
  (*(pzErr) = segOptsError((p), __VA_ARGS__), *(pzErr) ? SQLITE_ERROR : SQLITE_NOMEM)

int segOptsInt(const SegOpts *p, const char *zName, int iDefault,
               int iMin, int iMax, int *piOut, char **pzErr){
  const char *z = segOptsGet(p, zName);
  i64 v = 0;
  int i = 0;
  if( z==0 ){ *piOut = iDefault; return SQLITE_OK; }
  if( z[0]=='+' || z[0]=='-' ) i++;
  if( z[i]==0 ) i = -1;
  while( i>=0 && z[i] ){
    if( z[i]<'0' || z[i]>'9' || v>1000000000 ){ i = -1; break; }
    v = v*10 + (z[i]-'0');
    i++;
  }
  if( i>=0 && z[0]=='-' ) v = -v;
  if( i<0 || v<iMin || v>iMax ){
    return SEG_OPT_ERROR(p, pzErr, "option '%s' must be an integer %d..%d, not '%s'",
                         zName, iMin, iMax, z);
  }
  *piOut = (int)v;
  return SQLITE_OK;
}

int segOptsDouble(const SegOpts *p, const char *zName, double rDefault,
                  double rMin, double rMax, double *prOut, char **pzErr){
  const char *z = segOptsGet(p, zName);
  double r;
  if( z==0 ){ *prOut = rDefault; return SQLITE_OK; }
  if( !segParseNumber(z, (int)strlen(z), &r) || !(r>=rMin && r<=rMax) ){
    return SEG_OPT_ERROR(p, pzErr, "option '%s' must be a number %!g..%!g, not '%s'",
                         zName, rMin, rMax, z);
  }
  *prOut = r;
  return SQLITE_OK;
}

int segOptsEnum(const SegOpts *p, const char *zName,
                const char *const *azValue, int iDefault, int *piOut,
                char **pzErr){
  const char *z = segOptsGet(p, zName);
  int i;
  sqlite3_str *pStr;
  char *zList;
  if( z==0 ){ *piOut = iDefault; return SQLITE_OK; }
  for(i=0; azValue[i]; i++){
    if( sqlite3_stricmp(z, azValue[i])==0 ){ *piOut = i; return SQLITE_OK; }
  }
  pStr = sqlite3_str_new(0);
  for(i=0; azValue[i]; i++){
    sqlite3_str_appendf(pStr, "%s%s", i ? ", " : "", azValue[i]);
  }
  zList = sqlite3_str_finish(pStr);
  if( zList==0 ) return SQLITE_NOMEM;
  *pzErr = segOptsError(p, "unknown %s '%s' (%ss: %s)", zName, z, zName, zList);
  sqlite3_free(zList);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int segOptsNumberList(const SegOpts *p, const char *zName, double **paOut,
                      int *pnOut, char **pzErr){
  const char *z = segOptsGet(p, zName);
  double *a;
  int n = 1, i, iStart;
  *paOut = 0;
  *pnOut = 0;
  if( z==0 ) return SQLITE_OK;
  for(i=0; z[i]; i++) if( z[i]==',' ) n++;
  a = sqlite3_malloc64(sizeof(double)*n);
  if( a==0 ) return SQLITE_NOMEM;
  n = 0;
  iStart = 0;
  for(i=0; ; i++){
    if( z[i]==',' || z[i]==0 ){
      /* non-decreasing: equal thresholds make an empty bin, as in
      ** score_of(), so that score_breaks()'s output is always accepted */
      if( !segParseNumber(z+iStart, i-iStart, &a[n]) || isinf(a[n])
       || isnan(a[n]) || (n>0 && a[n]<a[n-1]) ){
        sqlite3_free(a);
        return SEG_OPT_ERROR(p, pzErr,
            "option '%s' must be ascending numbers separated by commas, not '%s'",
            zName, z);
      }
      n++;
      iStart = i+1;
      if( z[i]==0 ) break;
    }
  }
  *paOut = a;
  *pnOut = n;
  return SQLITE_OK;
}

/**************************************************************************
** Text lists: an option whose value is a comma separated list of texts,
** matched case-insensitively (engagement.c, benefits.c).
*/
int segOptsTextList(const SegOpts *p, const char *zName, const char *zDefault,
                    SegTextList *pList, char **pzErr){
  const char *z = segOptsGet(p, zName);
  char *zCopy;
  char **az;
  int n = 1, i, nByte;
  memset(pList, 0, sizeof(*pList));
  if( z==0 ) z = zDefault;
  nByte = (int)strlen(z);
  for(i=0; z[i]; i++) if( z[i]==',' ) n++;
  az = sqlite3_malloc64(sizeof(char*)*(u64)n + (u64)nByte + 1);
  if( az==0 ) return SQLITE_NOMEM;
  zCopy = (char*)&az[n];
  memcpy(zCopy, z, nByte+1);
  n = 0;
  for(i=0; ; i++){
    char *zItem = zCopy;
    int bEnd = zCopy[i]==0;
    if( zCopy[i]!=',' && !bEnd ) continue;
    zCopy[i] = 0;
    while( *zItem==' ' || *zItem=='\t' ) zItem++;
    {
      char *zEnd = zItem + strlen(zItem);
      while( zEnd>zItem && (zEnd[-1]==' ' || zEnd[-1]=='\t') ) *--zEnd = 0;
    }
    if( zItem[0]==0 ){
      sqlite3_free(az);
      *pzErr = segOptsError(p, "option '%s' must be values separated by "
                            "commas, not '%s'", zName, z);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    az[n++] = zItem;
    if( bEnd ) break;
    zCopy += i+1;
    i = -1;
  }
  pList->az = az;
  pList->n = n;
  return SQLITE_OK;
}

int segTextListHas(const SegTextList *pList, sqlite3_value *pVal){
  const char *z;
  int i;
  if( pList->n==0 || sqlite3_value_type(pVal)==SQLITE_NULL ) return 0;
  z = (const char*)sqlite3_value_text(pVal);
  if( z==0 ) return 0;
  for(i=0; i<pList->n; i++){
    if( sqlite3_stricmp(z, pList->az[i])==0 ) return 1;
  }
  return 0;
}

void segTextListFree(SegTextList *pList){
  sqlite3_free(pList->az);
  memset(pList, 0, sizeof(*pList));
}

int segDateFormatOpen(const SegOpts *p, SegDateFormat **ppFmt,
                      char **pzErr){
  const char *z = segOptsGet(p, "date_format");
  char *zWhy = 0;
  int rc;
  *ppFmt = 0;
  if( z==0 ) return SQLITE_OK;
  rc = segDateFormatCompile(z, ppFmt, &zWhy);
  if( rc==SQLITE_ERROR ){
    rc = SEG_OPT_ERROR(p, pzErr, "date_format '%s' %s", z, zWhy);
    sqlite3_free(zWhy);
  }
  return rc;
}

int segOptsDay(const SegOpts *p, const char *zName, int *piDay, int *pbSet,
               char **pzErr){
  const char *z = segOptsGet(p, zName);
  i64 iMs;
  *pbSet = 0;
  if( z==0 ) return SQLITE_OK;
  if( segDateFromText(z, (int)strlen(z), &iMs)!=SEG_DATE_OK ){
    return SEG_OPT_ERROR(p, pzErr, "cannot parse date '%s' in option %s", z, zName);
  }
  *piDay = segDayOfMs(iMs);
  *pbSet = 1;
  return SQLITE_OK;
}

/**************************************************************************
** 3. Values and the value map
*/

/* Compare integer i with double r exactly: -1, 0, +1. */
static int segIntFloatCompare(i64 i, double r){
  i64 y;
  double s;
  if( r < -9223372036854775808.0 ) return +1;
  if( r >= 9223372036854775808.0 ) return -1;
  y = (i64)r;
  if( i<y ) return -1;
  if( i>y ) return +1;
  s = (double)i;
  if( s<r ) return -1;
  if( s>r ) return +1;
  return 0;
}

static int segTypeClass(int eType){
  switch( eType ){
    case SQLITE_NULL:    return 0;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:   return 1;
    case SQLITE_TEXT:    return 2;
    default:             return 3;
  }
}

int segValueCompare(const SegValue *a, const SegValue *b){
  int ca = segTypeClass(a->eType), cb = segTypeClass(b->eType);
  if( ca!=cb ) return ca<cb ? -1 : +1;
  if( ca==0 ) return 0;
  if( ca==1 ){
    if( a->eType==SQLITE_INTEGER && b->eType==SQLITE_INTEGER ){
      return a->u.i<b->u.i ? -1 : (a->u.i>b->u.i);
    }
    if( a->eType==SQLITE_FLOAT && b->eType==SQLITE_FLOAT ){
      return a->u.r<b->u.r ? -1 : (a->u.r>b->u.r);
    }
    if( a->eType==SQLITE_INTEGER ) return segIntFloatCompare(a->u.i, b->u.r);
    return -segIntFloatCompare(b->u.i, a->u.r);
  }else{
    int n = a->n<b->n ? a->n : b->n;
    int c = n>0 ? memcmp(a->u.z, b->u.z, n) : 0;
    if( c ) return c<0 ? -1 : +1;
    return a->n<b->n ? -1 : (a->n>b->n);
  }
}

void segValueResult(sqlite3_context *ctx, const SegValue *p){
  switch( p->eType ){
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, p->u.i); break;
    case SQLITE_FLOAT:   sqlite3_result_double(ctx, p->u.r); break;
    case SQLITE_TEXT:
      sqlite3_result_text(ctx, p->u.z ? p->u.z : "", p->n, SQLITE_TRANSIENT);
      break;
    case SQLITE_BLOB:
      sqlite3_result_blob(ctx, p->u.z ? p->u.z : "", p->n, SQLITE_TRANSIENT);
      break;
    default: sqlite3_result_null(ctx); break;
  }
}

void segMapInit(SegMap *p){
  memset(p, 0, sizeof(*p));
  p->eEnc = SQLITE_UTF8;
  sqlite3_randomness(sizeof(p->aSeed), p->aSeed);
  /* the multipliers: odd, with their top bit set */
  p->aSeed[1] |= ((u64)1<<63) | 1;
  p->aSeed[3] |= ((u64)1<<63) | 1;
}

void segMapCollate(SegMap *p, int eColl, int eEnc){
  assert( p->nKey==0 );
  p->eColl = eColl;
  p->eEnc = eEnc;
}

void segMapFree(SegMap *p){
  int i;
  for(i=0; i<p->nKey; i++){
    if( p->aKey[i].eType==SQLITE_TEXT || p->aKey[i].eType==SQLITE_BLOB ){
      sqlite3_free(p->aKey[i].u.z);
    }
  }
  sqlite3_free(p->aKey);
  sqlite3_free(p->aSalt);
  sqlite3_free(p->aSlot);
  sqlite3_free(p->aDirect);
  memset(p, 0, sizeof(*p));
}

/*
** The hash.  A public hash whose collisions can be computed (its inverse
** is) lets a table of crafted ids make every find probe every key; this
** one is keyed by the map's random seed, so that nobody who does not know
** the seed can choose keys that collide.  Its step is the 64x64 -> 128 bit
** multiply folded to 64 bits, as in the wyhash family.
*/
static u64 segMum(u64 a, u64 b){
#if defined(__SIZEOF_INT128__)
  unsigned __int128 r = (unsigned __int128)a * b;
  return (u64)r ^ (u64)(r>>64);
#else
  u64 aHi = a>>32, aLo = a & 0xffffffff, bHi = b>>32, bLo = b & 0xffffffff;
  u64 ll = aLo*bLo, lh = aLo*bHi, hl = aHi*bLo, hh = aHi*bHi;
  u64 mid = (ll>>32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  u64 lo = (ll & 0xffffffff) | (mid<<32);
  u64 hi = hh + (lh>>32) + (hl>>32) + (mid>>32);
  return lo ^ hi;
#endif
}

/* Hash of a 64-bit word with a salt. */
static unsigned int segHashWord(const SegMap *p, u64 v, int iSalt){
  u64 h = segMum(v ^ p->aSeed[0], p->aSeed[1]);
  h = segMum(h ^ p->aSeed[2] ^ (u64)(unsigned)iSalt, p->aSeed[3]);
  return (unsigned int)(h ^ (h>>32));
}

/* Fold the ASCII capitals of the 8 bytes of w to lower case (NOCASE). */
static u64 segFoldWord(u64 w){
  const u64 k7f = 0x7f7f7f7f7f7f7f7fULL, k80 = 0x8080808080808080ULL;
  u64 x = w & k7f;
  u64 geA = x + 0x3f3f3f3f3f3f3f3fULL;      /* bit 7 set where >= 'A' */
  u64 gtZ = x + 0x2525252525252525ULL;      /* bit 7 set where > 'Z' */
  u64 bUp = geA & ~gtZ & ~w & k80;
  return w | (bUp>>2);
}

/* Hash of n bytes of text or blob (with NOCASE folding if bFold). */
static unsigned int segHashBytes(const SegMap *p, const unsigned char *z,
                                 int n, int bFold, u64 uExtra){
  u64 h = p->aSeed[0] ^ segMum((u64)(unsigned)n ^ uExtra, p->aSeed[3]);
  int i = 0;
  u64 w;
  for(i=0; i+8<=n; i+=8){
    memcpy(&w, z+i, 8);
    if( bFold ) w = segFoldWord(w);
    h = segMum(h ^ w ^ p->aSeed[2], p->aSeed[1]);
  }
  if( i<n ){
    w = 0;
    memcpy(&w, z+i, n-i);
    if( bFold ) w = segFoldWord(w);
    h = segMum(h ^ w ^ p->aSeed[2], p->aSeed[1]);
  }
  h = segMum(h ^ p->aSeed[0], p->aSeed[3]);
  return (unsigned int)(h ^ (h>>32));
}

/* Hash of a value consistent with SQLite's `=` under the map's collation
** (1 and 1.0 hash alike; 'A' and 'a' under NOCASE; 'a' and 'a ' under
** RTRIM). */
static unsigned int segValueHash(const SegMap *p, int eType, i64 iVal,
                                 double rVal, const unsigned char *z, int n,
                                 int iSalt){
  u64 uExtra = (u64)eType<<32 ^ (u64)(unsigned)iSalt;
  if( eType==SQLITE_FLOAT ){
    if( rVal>=-9223372036854775808.0 && rVal<9223372036854775808.0
     && (double)(i64)rVal==rVal ){
      iVal = (i64)rVal;
      eType = SQLITE_INTEGER;
    }else{
      u64 h;
      memcpy(&h, &rVal, sizeof(h));
      return segHashWord(p, h ^ 0x9e3779b97f4a7c15ULL, iSalt);
    }
  }
  if( eType==SQLITE_INTEGER ){
    return segHashWord(p, (u64)iVal, iSalt);
  }
  if( eType==SQLITE_TEXT && p->eColl==SEG_COLL_RTRIM ){
    while( n>0 && z[n-1]==' ' ) n--;
  }else if( eType==SQLITE_TEXT && p->eColl==SEG_COLL_NOCASE ){
    /* NOCASE stops at a NUL that both sides have at the same place: the
    ** bytes after it do not count, the length does */
    const unsigned char *zNul = n>0 ? memchr(z, 0, n) : 0;
    uExtra ^= (u64)(unsigned)n<<40;
    if( zNul ) n = (int)(zNul - z);
    return segHashBytes(p, z, n, 1, uExtra);
  }
  return segHashBytes(p, z, n, 0, uExtra);
}

/* The probe position hash of a slot's tag. */
static unsigned int segMapSlotHash(const SegMap *p, u64 v){
  unsigned int tag = (unsigned int)(v>>32);
  if( p->bHashTags ) return tag;
  return segHashWord(p, (u64)(i64)(int)tag, 0);  /* = segValueHash(key) */
}

/*
** Text under the map's collation, as SQLite's built-in collating
** functions compare it.  NOCASE and RTRIM exist in UTF-8 only: SQLite
** compares UTF-16 text under them in UTF-8, as the keys are.  BINARY is
** memcmp() in the database's encoding: in UTF-16 the keys are compared
** as their UTF-16 bytes would be.
*/
static int segNocaseCompare(const SegValue *a, const SegValue *b){
  int n = a->n<b->n ? a->n : b->n;
  int c = n>0 ? sqlite3_strnicmp(a->u.z, b->u.z, n) : 0;
  if( c ) return c<0 ? -1 : +1;
  return a->n<b->n ? -1 : (a->n>b->n);
}

static int segRtrimCompare(const SegValue *a, const SegValue *b){
  SegValue x = *a, y = *b;
  while( x.n>0 && x.u.z[x.n-1]==' ' ) x.n--;
  while( y.n>0 && y.u.z[y.n-1]==' ' ) y.n--;
  return segValueCompare(&x, &y);
}

/* The next UTF-16 code unit of UTF-8 text z[*pi..n-1], decoded as SQLite
** decodes it; *pLow holds the low surrogate still to come (0 if none). */
static unsigned int segUtf16Unit(const unsigned char *z, int n, int *pi,
                                 unsigned int *pLow){
  unsigned int c;
  if( *pLow ){ c = *pLow; *pLow = 0; return c; }
  c = z[(*pi)++];
  if( c>=0xc0 ){
    c &= c>=0xfc ? 0x01 : c>=0xf8 ? 0x03 : c>=0xf0 ? 0x07
       : c>=0xe0 ? 0x0f : 0x1f;
    if( z[*pi-1]>=0xfe ) c = 0;
    while( *pi<n && (z[*pi] & 0xc0)==0x80 ) c = (c<<6) + (z[(*pi)++] & 0x3f);
    if( c<0x80 || (c & 0xfffff800)==0xd800 || (c & 0xfffffffe)==0xfffe ){
      c = 0xfffd;
    }
  }
  if( c>0xffff ){
    *pLow = 0xdc00 + (c & 0x3ff);
    c = 0xd800 + (((c - 0x10000)>>10) & 0x3ff);
  }
  return c;
}

static int segUtf16Compare(const SegValue *a, const SegValue *b, int bLE){
  const unsigned char *x = (const unsigned char*)a->u.z;
  const unsigned char *y = (const unsigned char*)b->u.z;
  int i = 0, j = 0;
  unsigned int lx = 0, ly = 0;
  while( (i<a->n || lx) && (j<b->n || ly) ){
    unsigned int u = segUtf16Unit(x, a->n, &i, &lx);
    unsigned int v = segUtf16Unit(y, b->n, &j, &ly);
    if( bLE ){                      /* memcmp sees the low byte first */
      u = ((u & 0xff)<<8) | (u>>8);
      v = ((v & 0xff)<<8) | (v>>8);
    }
    if( u!=v ) return u<v ? -1 : +1;
  }
  if( i<a->n || lx ) return +1;
  if( j<b->n || ly ) return -1;
  return 0;
}

int segMapCompare(const SegMap *p, const SegValue *a, const SegValue *b){
  if( a->eType==SQLITE_TEXT && b->eType==SQLITE_TEXT ){
    switch( p->eColl ){
      case SEG_COLL_NOCASE: return segNocaseCompare(a, b);
      case SEG_COLL_RTRIM:  return segRtrimCompare(a, b);
    }
    if( p->eEnc!=SQLITE_UTF8 ){
      return segUtf16Compare(a, b, p->eEnc==SQLITE_UTF16LE);
    }
  }
  return segValueCompare(a, b);
}

/* Are two keys one under the map's collation?  (BINARY text is equal in
** UTF-16 exactly when it is in UTF-8.) */
static int segMapEqual(const SegMap *p, const SegValue *a, const SegValue *b){
  if( p->eColl!=SEG_COLL_BINARY ) return segMapCompare(p, a, b)==0;
  return segValueCompare(a, b)==0;
}

/* Rebuild the slots with nNew entries (a power of two). */
static int segMapRebuild(SegMap *p, unsigned int nNew, int bHashTags){
  u64 *aNew = sqlite3_malloc64(sizeof(u64)*(u64)nNew);
  int i;
  if( aNew==0 ) return SQLITE_NOMEM;
  memset(aNew, 0, sizeof(u64)*(u64)nNew);
  for(i=0; i<p->nKey; i++){
    const SegValue *k = &p->aKey[i];
    int iSalt = p->aSalt ? p->aSalt[i] : 0;
    unsigned int h = segValueHash(p, k->eType, k->u.i, k->u.r,
                                  (const unsigned char*)k->u.z, k->n, iSalt);
    unsigned int tag = bHashTags ? h : (unsigned int)k->u.i;
    unsigned int j = h & (nNew-1);
    while( aNew[j] ) j = (j+1) & (nNew-1);
    aNew[j] = ((u64)tag<<32) | (u64)(unsigned int)(i+1);
  }
  sqlite3_free(p->aSlot);
  p->aSlot = aNew;
  p->nSlot = nNew;
  p->bHashTags = bHashTags;
  return SQLITE_OK;
}

static int segMapGrowSlots(SegMap *p){
  unsigned int nNew = p->nSlot ? p->nSlot*2 : 1024;
  u64 *aNew = sqlite3_malloc64(sizeof(u64)*(u64)nNew);
  unsigned int i;
  if( aNew==0 ) return SQLITE_NOMEM;
  memset(aNew, 0, sizeof(u64)*(u64)nNew);
  for(i=0; i<p->nSlot; i++){
    u64 v = p->aSlot[i];
    if( v ){
      unsigned int j = segMapSlotHash(p, v) & (nNew-1);
      while( aNew[j] ) j = (j+1) & (nNew-1);
      aNew[j] = v;
    }
  }
  sqlite3_free(p->aSlot);
  p->aSlot = aNew;
  p->nSlot = nNew;
  return SQLITE_OK;
}

/* The key of a value, borrowing its text or blob (valid while pVal is). */
int segValueBorrow(sqlite3_value *pVal, SegValue *pKey){
  int eType = sqlite3_value_type(pVal);
  memset(pKey, 0, sizeof(*pKey));
  pKey->eType = eType;
  if( eType==SQLITE_INTEGER ){
    pKey->u.i = sqlite3_value_int64(pVal);
  }else if( eType==SQLITE_FLOAT ){
    pKey->u.r = sqlite3_value_double(pVal);
  }else if( eType==SQLITE_TEXT ){
    pKey->u.z = (char*)sqlite3_value_text(pVal);
    pKey->n = sqlite3_value_bytes(pVal);
    if( pKey->u.z==0 ) return SQLITE_NOMEM;
  }else if( eType==SQLITE_BLOB ){
    pKey->u.z = (char*)sqlite3_value_blob(pVal);
    pKey->n = sqlite3_value_bytes(pVal);
    if( pKey->u.z==0 && pKey->n>0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

unsigned int segMapHash(const SegMap *p, const SegValue *pKey, int iSalt){
  return segValueHash(p, pKey->eType, pKey->u.i, pKey->u.r,
                      (const unsigned char*)pKey->u.z, pKey->n, iSalt);
}

void segMapPrefetch(const SegMap *p, const SegValue *pKey, unsigned int h){
  if( p->aDirect ){
    if( pKey->eType==SQLITE_INTEGER ){
      u64 v = (u64)pKey->u.i - (u64)p->iBase;
      if( v<p->nDirect ) SEG_PREFETCH(&p->aDirect[v]);
    }
  }else if( p->nSlot ){
    SEG_PREFETCH(&p->aSlot[h & (p->nSlot-1)]);
  }
}

void segMapFreeSlots(SegMap *p){
  sqlite3_free(p->aSlot);
  sqlite3_free(p->aDirect);
  p->aSlot = 0;
  p->nSlot = 0;
  p->aDirect = 0;
  p->nDirect = 0;
}

/* Leave direct mode: the keys go to hash slots (tags = the keys). */
static int segMapLeaveDirect(SegMap *p){
  unsigned int nNew = 1024;
  while( (u64)(p->nKey+1)*2 > nNew ) nNew *= 2;
  if( segMapRebuild(p, nNew, 0) ) return SQLITE_NOMEM;
  sqlite3_free(p->aDirect);
  p->aDirect = 0;
  p->nDirect = 0;
  return SQLITE_OK;
}

/* The widest range direct mode may cover for n keys. */
#define SEG_DIRECT_MAX(n) (4*(i64)(n) + 65536)

/*
** Make aDirect cover [iLo, iHi) (a superset of what it covers), and fill
** it from the keys when it is new.  Leaves direct mode (or never enters
** it) when the range is wider than SEG_DIRECT_MAX(keys + 1).
*/
static int segMapDirectRange(SegMap *p, i64 iLo, i64 iHi){
  int *aNew;
  if( iHi-iLo > SEG_DIRECT_MAX(p->nKey+1) || iHi-iLo > 0x7fffffff ){
    return p->aDirect ? segMapLeaveDirect(p) : SQLITE_OK;
  }
  aNew = sqlite3_malloc64(sizeof(int)*(u64)(iHi-iLo));
  if( aNew==0 ) return SQLITE_NOMEM;
  memset(aNew, 0, sizeof(int)*(u64)(iHi-iLo));
  if( p->aDirect ){
    memcpy(&aNew[p->iBase - iLo], p->aDirect, sizeof(int)*(u64)p->nDirect);
    sqlite3_free(p->aDirect);
  }else{
    int i;
    for(i=0; i<p->nKey; i++) aNew[p->aKey[i].u.i - iLo] = i+1;
    sqlite3_free(p->aSlot);
    p->aSlot = 0;
    p->nSlot = 0;
  }
  p->aDirect = aNew;
  p->iBase = iLo;
  p->nDirect = (unsigned int)(iHi-iLo);
  return SQLITE_OK;
}

/* Direct mode: cover the 32-bit integer iVal, growing by half (up to
** SEG_DIRECT_MAX; a key that needs more leaves direct mode). */
static int segMapDirectCover(SegMap *p, i64 iVal){
  i64 iLo = p->iBase, iHi = p->iBase + p->nDirect;
  i64 nNeed = iVal<iLo ? iHi - iVal : iVal + 1 - iLo;
  i64 nNew = (i64)p->nDirect + p->nDirect/2;
  if( nNew>SEG_DIRECT_MAX(p->nKey+1) ) nNew = SEG_DIRECT_MAX(p->nKey+1);
  if( nNew<nNeed ) nNew = nNeed;
  if( iVal<iLo ){
    iLo = iHi - nNew;
  }else{
    iHi = iLo + nNew;
  }
  return segMapDirectRange(p, iLo, iHi);
}

/* Room in p->aKey (and p->aSalt) for one more key; the first salted key
** (iSalt not 0) starts the salts, 0 for the keys before it. */
static int segMapGrowKeys(SegMap *p, int iSalt){
  if( p->nKey>=p->nKeyAlloc ){
    int nNew = p->nKeyAlloc ? p->nKeyAlloc*2 : 256;
    SegValue *aKey;
    int *aSalt;
    aKey = sqlite3_realloc64(p->aKey, sizeof(SegValue)*(u64)nNew);
    if( aKey==0 ) return SQLITE_NOMEM;
    p->aKey = aKey;
    if( p->aSalt ){
      aSalt = sqlite3_realloc64(p->aSalt, sizeof(int)*(u64)nNew);
      if( aSalt==0 ) return SQLITE_NOMEM;
      p->aSalt = aSalt;
    }
    p->nKeyAlloc = nNew;
  }
  if( iSalt!=0 && p->aSalt==0 ){
    p->aSalt = sqlite3_malloc64(sizeof(int)*(u64)p->nKeyAlloc);
    if( p->aSalt==0 ) return SQLITE_NOMEM;
    memset(p->aSalt, 0, sizeof(int)*(u64)p->nKeyAlloc);
  }
  return SQLITE_OK;
}

/*
** The second half of segMapFindKey: *pKey (hash h, tag tag, bSmall when a
** 32-bit integer without salt), not in the map, added as key *piIdx with
** its own copy of a text or blob.  The slots grow to stay at most half
** full; 32-bit integer keys, when dense, move to a direct table.
*/
static int segMapInsert(SegMap *p, const SegValue *pKey, unsigned int h,
                        int iSalt, int bSmall, unsigned int tag, int *piIdx){
  int eType = pKey->eType;
  i64 iVal = eType==SQLITE_INTEGER ? pKey->u.i : 0;
  SegValue probe = *pKey;
  unsigned int j;
  if( segMapGrowKeys(p, iSalt) ) return SQLITE_NOMEM;
  if( p->aDirect==0 && (u64)(p->nKey+1)*2 > p->nSlot ){
    if( segMapGrowSlots(p) ) return SQLITE_NOMEM;
    if( !p->bHashTags && p->nKey>=512 ){
      /* 32-bit integer keys only: when dense, a direct table serves */
      i64 iLo = bSmall && iVal<p->iMin ? iVal : p->iMin;
      i64 iHi = (bSmall && iVal>p->iMax ? iVal : p->iMax) + 1;
      if( segMapDirectRange(p, iLo, iHi) ) return SQLITE_NOMEM;
    }
  }
  if( !p->bHashTags ){
    if( p->nKey==0 || iVal<p->iMin ) p->iMin = iVal;
    if( p->nKey==0 || iVal>p->iMax ) p->iMax = iVal;
  }
  if( eType==SQLITE_TEXT || eType==SQLITE_BLOB ){
    char *zCopy = sqlite3_malloc64(probe.n+1);
    if( zCopy==0 ) return SQLITE_NOMEM;
    if( probe.n ) memcpy(zCopy, pKey->u.z, probe.n);
    zCopy[probe.n] = 0;
    probe.u.z = zCopy;
  }
  p->aKey[p->nKey] = probe;
  if( p->aSalt ) p->aSalt[p->nKey] = iSalt;
  if( eType!=SQLITE_INTEGER ) p->nNonInt++;
  if( p->aDirect ){
    p->aDirect[iVal - p->iBase] = p->nKey+1;   /* covered by the caller */
  }else{
    j = h & (p->nSlot-1);
    while( p->aSlot[j] ) j = (j+1) & (p->nSlot-1);
    p->aSlot[j] = ((u64)tag<<32) | (u64)(unsigned int)(p->nKey+1);
  }
  *piIdx = p->nKey;
  p->nKey++;
  return SQLITE_OK;
}

int segMapFindKey(SegMap *p, const SegValue *pKey, unsigned int h, int iSalt,
                  int *piIdx, int *pbNew){
  int eType = pKey->eType;
  i64 iVal = eType==SQLITE_INTEGER ? pKey->u.i : 0;
  unsigned int j, tag;
  int bSmall;
  SegValue probe = *pKey;
  bSmall = eType==SQLITE_INTEGER && iSalt==0
        && iVal>=-2147483647-1 && iVal<=2147483647;
  if( p->aDirect ){
    if( bSmall ){
      u64 v = (u64)iVal - (u64)p->iBase;
      if( v<p->nDirect && p->aDirect[v] ){
        *piIdx = p->aDirect[v] - 1;
        *pbNew = 0;
        return SQLITE_OK;
      }
      if( v>=p->nDirect && segMapDirectCover(p, iVal) ) return SQLITE_NOMEM;
    }else{
      if( segMapLeaveDirect(p) ) return SQLITE_NOMEM;
    }
  }
  if( p->aDirect==0 && p->nSlot==0 && p->nKey>0 ){
    /* the slots were freed by segMapFreeSlots(): build them again */
    unsigned int nNew = 1024;
    while( (u64)(p->nKey+1)*2 > nNew ) nNew *= 2;
    if( segMapRebuild(p, nNew, p->bHashTags) ) return SQLITE_NOMEM;
  }
  if( !bSmall && !p->bHashTags && p->nKey>0 ){
    /* The first key that is not a 32-bit integer: tags become hashes */
    if( segMapRebuild(p, p->nSlot, 1) ) return SQLITE_NOMEM;
  }
  if( !bSmall ) p->bHashTags = 1;
  tag = p->bHashTags ? h : (unsigned int)iVal;
  if( p->nSlot && p->aDirect==0 ){
    j = h & (p->nSlot-1);
    while( p->aSlot[j] ){
      u64 v = p->aSlot[j];
      if( (unsigned int)(v>>32)==tag && !p->bHashTags ){
        *piIdx = (int)(v & 0xffffffff) - 1;   /* the tag is the key */
        *pbNew = 0;
        return SQLITE_OK;
      }
      if( (unsigned int)(v>>32)==tag ){
        int k = (int)(v & 0xffffffff) - 1;
        const SegValue *pOld = &p->aKey[k];
        int bEq;
        if( eType==SQLITE_INTEGER && pOld->eType==SQLITE_INTEGER ){
          bEq = pOld->u.i==iVal;          /* the common case, inline */
        }else{
          bEq = segMapEqual(p, pOld, &probe);
        }
        if( bEq && (p->aSalt ? p->aSalt[k] : 0)==iSalt ){
          *piIdx = k;
          *pbNew = 0;
          return SQLITE_OK;
        }
      }
      j = (j+1) & (p->nSlot-1);
    }
  }
  if( segMapInsert(p, pKey, h, iSalt, bSmall, tag, piIdx) ){
    return SQLITE_NOMEM;
  }
  *pbNew = 1;
  return SQLITE_OK;
}

int segMapFind(SegMap *p, sqlite3_value *pVal, int iSalt, int *piIdx,
               int *pbNew){
  SegValue key;
  if( segValueBorrow(pVal, &key) ) return SQLITE_NOMEM;
  return segMapFindKey(p, &key, segMapHash(p, &key, iSalt), iSalt, piIdx, pbNew);
}

/*
** Merge sort of an index array with a comparison callback: stable,
** O(n log n), no recursion on the data.
*/
int segSortIdx(int *a, int n, int (*xCmp)(void*, int, int), void *pCtx){
  int *aTmp;
  int w, i;
  if( n<2 ) return SQLITE_OK;
  aTmp = sqlite3_malloc64(sizeof(int)*(u64)n);
  if( aTmp==0 ) return SQLITE_NOMEM;
  /* insertion sort runs of 16 */
  for(i=0; i<n; i+=16){
    int lo = i, hi = i+16<n ? i+16 : n, k;
    for(k=lo+1; k<hi; k++){
      int v = a[k], m = k;
      while( m>lo && xCmp(pCtx, a[m-1], v)>0 ){ a[m] = a[m-1]; m--; }
      a[m] = v;
    }
  }
  for(w=16; w<n; w*=2){
    int *src = a, *dst = aTmp;
    for(i=0; i<n; i+=2*w){
      int lo = i, mid = i+w<n ? i+w : n, hi = i+2*w<n ? i+2*w : n;
      int x = lo, y = mid, k = lo;
      if( mid>=hi || xCmp(pCtx, src[mid-1], src[mid])<=0 ){
        memcpy(&dst[lo], &src[lo], sizeof(int)*(hi-lo));
        continue;
      }
      while( x<mid && y<hi ){
        if( xCmp(pCtx, src[x], src[y])<=0 ) dst[k++] = src[x++];
        else dst[k++] = src[y++];
      }
      while( x<mid ) dst[k++] = src[x++];
      while( y<hi ) dst[k++] = src[y++];
    }
    memcpy(a, aTmp, sizeof(int)*(u64)n);
  }
  sqlite3_free(aTmp);
  return SQLITE_OK;
}

static int segMapCmp(void *pCtx, int a, int b){
  const SegMap *p = (const SegMap*)pCtx;
  return segMapCompare(p, &p->aKey[a], &p->aKey[b]);
}

/*
** Stable LSD radix sort of aIdx[0..n-1] by aKey[] (u64, ascending), 8 bits
** a pass below 65,536 keys and 16 above (so the counters never outweigh
** the keys), passes where every key has the same digit skipped.  aKey and
** aIdx are permuted together; with aIdx 0 the keys alone are sorted.  The
** temporary arrays (12 bytes a key, 8 without aIdx) come from *pBuf when
** it is given and large enough.
*/
int segRadixSort(u64 *aKey, int *aIdx, int n, SegScratch *pBuf){
  u64 *aKeyTmp, *aKeyOwn = 0;
  int *aIdxTmp, *aIdxOwn = 0, *aCount;
  int nBit = n<65536 ? 8 : 16;
  int nDigit = 1<<nBit, mask = nDigit-1;
  int iShift, i;
  if( n<2 ) return SQLITE_OK;
  if( pBuf && pBuf->n >= (sizeof(u64)+(aIdx ? sizeof(int) : 0))*(u64)n ){
    aKeyTmp = (u64*)pBuf->a;
    aIdxTmp = (int*)(pBuf->a + sizeof(u64)*(u64)n);
  }else{
    aKeyTmp = aKeyOwn = sqlite3_malloc64(sizeof(u64)*(u64)n);
    aIdxTmp = aIdxOwn = aIdx ? sqlite3_malloc64(sizeof(int)*(u64)n) : 0;
  }
  aCount = sqlite3_malloc64(sizeof(int)*(u64)nDigit);
  if( aKeyTmp==0 || (aIdx && aIdxTmp==0) || aCount==0 ){
    sqlite3_free(aKeyOwn);
    sqlite3_free(aIdxOwn);
    sqlite3_free(aCount);
    return SQLITE_NOMEM;
  }
  for(iShift=0; iShift<64; iShift+=nBit){
    int nSum = 0;
    memset(aCount, 0, sizeof(int)*(u64)nDigit);
    for(i=0; i<n; i++) aCount[(aKey[i]>>iShift) & mask]++;
    if( aCount[(aKey[0]>>iShift) & mask]==n ) continue;
    for(i=0; i<nDigit; i++){ int c = aCount[i]; aCount[i] = nSum; nSum += c; }
    for(i=0; i<n; i++){
      int d = (int)((aKey[i]>>iShift) & mask);
      if( aIdx ) aIdxTmp[aCount[d]] = aIdx[i];
      aKeyTmp[aCount[d]++] = aKey[i];
    }
    memcpy(aKey, aKeyTmp, sizeof(u64)*(u64)n);
    if( aIdx ) memcpy(aIdx, aIdxTmp, sizeof(int)*(u64)n);
  }
  sqlite3_free(aKeyOwn);
  sqlite3_free(aIdxOwn);
  sqlite3_free(aCount);
  return SQLITE_OK;
}

/* A radix key that orders as the double does: NaN lowest, -0.0 = 0.0. */
u64 segDoubleKey(double x){
  u64 k;
  if( isnan(x) ) return 0;
  if( x==0.0 ) x = 0.0;
  memcpy(&k, &x, sizeof(k));
  return (k>>63) ? ~k : (k | ((u64)1<<63));
}

int segMapSorted(const SegMap *p, int **paIdx){
  int *a;
  int i, rc;
  *paIdx = 0;
  a = sqlite3_malloc64(sizeof(int)*(u64)(p->nKey+1));
  if( a==0 ) return SQLITE_NOMEM;
  if( p->aDirect ){
    /* Direct mode: the table is in key order already */
    unsigned int v;
    int n = 0;
    for(v=0; v<p->nDirect; v++){
      if( p->aDirect[v] ) a[n++] = p->aDirect[v] - 1;
    }
    *paIdx = a;
    return SQLITE_OK;
  }
  for(i=0; i<p->nKey; i++) a[i] = i;
  if( p->nNonInt==0 && p->nKey>64 ){
    /* Every key is an INTEGER (the usual customer id): radix sort on the
    ** key with its sign bit flipped, which orders as the integers do. */
    u64 *aKey = sqlite3_malloc64(sizeof(u64)*(u64)p->nKey);
    if( aKey==0 ){ sqlite3_free(a); return SQLITE_NOMEM; }
    for(i=0; i<p->nKey; i++){
      aKey[i] = (u64)p->aKey[i].u.i ^ ((u64)1<<63);
    }
    rc = segRadixSort(aKey, a, p->nKey, 0);
    sqlite3_free(aKey);
    if( rc ){ sqlite3_free(a); return rc; }
    *paIdx = a;
    return SQLITE_OK;
  }
  rc = segSortIdx(a, p->nKey, segMapCmp, (void*)p);
  if( rc ){ sqlite3_free(a); return rc; }
  *paIdx = a;
  return SQLITE_OK;
}

int segMapReorder(SegMap *p, const int *aIdx){
  SegValue *aNew;
  int *aSaltNew = 0;
  int i;
  aNew = sqlite3_malloc64(sizeof(SegValue)*(u64)(p->nKey+1));
  if( aNew==0 ) return SQLITE_NOMEM;
  if( p->aSalt ){
    aSaltNew = sqlite3_malloc64(sizeof(int)*(u64)(p->nKey+1));
    if( aSaltNew==0 ){ sqlite3_free(aNew); return SQLITE_NOMEM; }
  }
  for(i=0; i<p->nKey; i++){
    /* the old keys are read at random: load them a little ahead */
    if( i+16<p->nKey ) SEG_PREFETCH(&p->aKey[aIdx[i+16]]);
    aNew[i] = p->aKey[aIdx[i]];
    if( aSaltNew ) aSaltNew[i] = p->aSalt[aIdx[i]];
  }
  sqlite3_free(p->aKey);
  p->aKey = aNew;
  p->nKeyAlloc = p->nKey+1;
  if( aSaltNew ){
    sqlite3_free(p->aSalt);
    p->aSalt = aSaltNew;
  }
  /* the slots and the direct table name the old indexes */
  sqlite3_free(p->aSlot);
  p->aSlot = 0;
  p->nSlot = 0;
  sqlite3_free(p->aDirect);
  p->aDirect = 0;
  p->nDirect = 0;
  return SQLITE_OK;
}

/*
** Make the array *pa of *pnAlloc elements of sz bytes hold index i,
** doubling (from nMin) as needed, to nMax elements at the most (else
** SQLITE_NOMEM, the array unchanged).  New elements are not initialized.
*/
int segArrayGrow(void **pa, i64 *pnAlloc, i64 i, size_t sz, i64 nMin,
                 i64 nMax){
  if( i>=*pnAlloc ){
    i64 nNew = *pnAlloc ? *pnAlloc*2 : nMin;
    void *aNew;
    while( nNew<=i ) nNew *= 2;
    if( nNew>nMax ) return SQLITE_NOMEM;
    aNew = sqlite3_realloc64(*pa, sz*(u64)nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    *pa = aNew;
    *pnAlloc = nNew;
  }
  return SQLITE_OK;
}

void segFree(void *p){
  sqlite3_free(p);
}

/* segArrayGrow for an int count, from 1024 elements. */
int segArrayEnsure(void **pa, int *pnAlloc, int i, size_t sz){
  i64 n = *pnAlloc;
  int rc = segArrayGrow(pa, &n, i, sz, 1024, 0x7fffffff);
  *pnAlloc = (int)n;
  return rc;
}

/* segArrayEnsure, the new elements set to zero bytes. */
int segArrayEnsureZero(void **pa, int *pnAlloc, int i, size_t sz){
  int nOld = *pnAlloc, rc = segArrayEnsure(pa, pnAlloc, i, sz);
  if( rc==SQLITE_OK && *pnAlloc>nOld ){
    memset((char*)*pa + sz*(size_t)nOld, 0, sz*(size_t)(*pnAlloc-nOld));
  }
  return rc;
}

/*
** Interrupt checks for long computations (segmentInt.h, "Interrupts").
**
** The probe is 0+0+...+0 (500 terms: about 1,000 VM instructions, 5 us,
** 60 KB), prepared at the first check; where the connection's limits
** refuse it (a small SQLITE_LIMIT_EXPR_DEPTH), "SELECT 0", which still
** sees sqlite3_interrupt() and reaches a progress handler more rarely.
*/
#define SEG_PROBE_TERMS 500

void segCheckInit(SegCheck *p, sqlite3 *db){
  memset(p, 0, sizeof(*p));
  p->db = db;
}

int segCheckProbe(SegCheck *p){
  p->nWork = 0;
  if( p->rc ) return p->rc;
  if( p->pProbe==0 ){
    sqlite3_str *pStr = sqlite3_str_new(p->db);
    char *zSql;
    int i, rc;
    sqlite3_str_appendall(pStr, "SELECT 0");
    for(i=1; i<SEG_PROBE_TERMS; i++) sqlite3_str_appendall(pStr, "+0");
    zSql = sqlite3_str_finish(pStr);
    if( zSql==0 ) return (p->rc = SQLITE_NOMEM);
    rc = sqlite3_prepare_v2(p->db, zSql, -1, &p->pProbe, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_ERROR ){
      rc = sqlite3_prepare_v2(p->db, "SELECT 0", -1, &p->pProbe, 0);
    }
    if( rc ){
      sqlite3_finalize(p->pProbe);
      p->pProbe = 0;
      return (p->rc = rc);
    }
  }
  if( sqlite3_step(p->pProbe)!=SQLITE_ROW ){
    int rc = sqlite3_reset(p->pProbe);
    p->rc = rc ? rc : SQLITE_INTERRUPT;
  }else{
    sqlite3_reset(p->pProbe);
  }
  return p->rc;
}

void segCheckFree(SegCheck *p){
  sqlite3_finalize(p->pProbe);
  p->pProbe = 0;
}

SEG_HEAP_SORT(segHeapSortDouble, double)

/* The median of a[0..n-1] (n >= 1, no NaN), the mean of the two middle
** values when n is even; a[] is left sorted ascending. */
double segMedian(double *a, i64 n){
  segHeapSortDouble(a, n);
  return (n&1) ? a[n/2] : (a[n/2-1] + a[n/2])/2.0;
}
