/*
** calendar.c: occasions and seasons (DESIGN.md section 4, "Occasions").
**
**   SELECT * FROM occasions(2025, 'UK');
**   SELECT occasion_of('2024-12-10'), season_of('2024-12-10'),
**          days_to_birthday('1990-02-28', '2025-03-01');
**   SELECT * FROM occasion_profile('orders', 'region=DE');
**
** occasions(year [, region]) is a table-valued calendar of the retail
** occasions of one year, one row per occasion, ordered by start (then by
** the catalog order below):
**
**   name, start, end, window_start, region, days, window_days
**
** start and end are the first and last day of the occasion ('YYYY-MM-DD';
** most occasions are one day), window_start = start - window_days is the
** first day people buy for it, days = end - start + 1.
**
** The catalog (catalog order; US, UK, DE columns give the rule per region,
** "-" where the region does not have the occasion; the last column is
** window_days):
**
**   New Year          Jan 1                (all)                        6
**   Valentine's Day   Feb 14               (all)                       14
**   Mother's Day      US, DE: 2nd Sunday of May; UK: Mothering Sunday =
**                     Easter Sunday - 21 days                          14
**   Good Friday       UK, DE: Easter Sunday - 2; US: -                  0
**   Easter            Easter Sunday (Gregorian computus)  (all)        14
**   Easter Monday     UK, DE: Easter Sunday + 1; US: -                  0
**   Father's Day      US, UK: 3rd Sunday of June; DE: Vatertag =
**                     Ascension Day = Easter Sunday + 39               14
**   Independence Day  US: Jul 4; UK, DE: -                              7
**   Back to School    US: Aug 1 .. Labor Day (1st Monday of September);
**                     UK: Sep 1 .. Sep 7 (schools in England and Wales
**                     return in the first week of September);
**                     DE: Aug 1 .. Sep 15 (the states start between
**                     early August and mid September)     US 14, UK 28, DE 14
**   Halloween         Oct 31               (all)                       30
**   Thanksgiving      US: 4th Thursday of November; UK, DE: -           7
**   Black Friday      the day after the 4th Thursday of November (all)  7
**   Cyber Monday      Black Friday + 3     (all)                        2
**   Advent            DE: 1st Sunday of Advent (the Sunday Nov 27 ..
**                     Dec 3); US, UK: -                                 7
**   St Nicholas' Day  DE: Dec 6; US, UK: -                              5
**   Christmas         US, UK: Dec 25; DE: Dec 24 .. Dec 26              30
**   Boxing Day        UK: Dec 26; US, DE: -                             0
**
** Requirements:
**   1. year is an integer 1583..9999 (the Gregorian calendar's Easter is
**      defined from 1583); region is US (default), UK or DE, matched
**      case-insensitively.  Errors come from the shared option parser:
**      `occasions(): option 'year' must be an integer 1583..9999, not
**      '1582'`, `occasions(): unknown region 'fr' (regions: US, UK, DE)`.
**   2. Easter Sunday is computed with the anonymous Gregorian algorithm
**      (Meeus/Jones/Butcher); the tests check it against Gauss's method as
**      corrected by Lichtenberg for every year 1583..9999 and against
**      published dates.
**   3. Windows may reach into the previous year (New Year's window starts
**      on Dec 26).
**
** occasion_of(date [, region]) -> the name of the occasion whose
** window_start..end contains the UTC day of date, or NULL.
**   4. When several contain it, the nearest wins: the one with the
**      smallest max(0, start - day) (an occasion in progress is at 0),
**      then the shorter one (fewer days), then catalog order.  So
**      Black Friday wins over Christmas on Black Friday, and Christmas wins
**      on Dec 10.  The occasions of the date's year and of the next year
**      are considered (a date after Dec 25 can be in next New Year's
**      window).
**   5. date in any form the shared parser accepts (DESIGN.md section 2,
**      detail 1; offsets are converted to UTC first).  NULL date or region
**      gives NULL; a bad date or an unknown region is an error.  Dates
**      whose year and next year are both outside 1583..9999 give NULL.
**
** season_of(date [, hemisphere]) -> 'winter', 'spring', 'summer' or
** 'autumn' by meteorological season of the date's UTC month: in the north
** (default) Dec-Feb winter, Mar-May spring, Jun-Aug summer, Sep-Nov autumn;
** in the south the opposite.  hemisphere is 'north' or 'south'
** (case-insensitive).
**
** days_to_birthday(birth, as_of) -> whole days from the day of as_of to
** the next anniversary of birth's month and day (0 on the birthday).
**   6. A 29 February birthday falls on 28 February in common years.
**   7. Only month and day of birth are used, so a birth after as_of gives
**      the days to its next anniversary all the same.
**
** occasion_profile(source [, options]) -> one row per customer with an
** order (source reader options, DESIGN.md section 2, plus region=,
** birth=, min_orders=, min_lift=):
**
**   customer, orders, occasion_orders, occasion_share, calendar_share,
**   lift, top_occasion, top_occasion_orders, shopper, birth_month,
**   birthday_orders, birthday_buyer
**
**   8. An order is counted once, on its day (the first row of an order
**      with order=); occasion_orders are orders whose day occasion_of()
**      places in an occasion window of the region (default US).
**      occasion_share = occasion_orders / orders.
**   9. calendar_share: the share of the days from the first order in the
**      source to as_of that lie in some occasion window: the share a
**      shopper who buys on random days would show.  lift =
**      occasion_share / calendar_share (NULL if calendar_share is 0).
**  10. top_occasion: the occasion with most orders (ties: catalog order),
**      NULL when there is none; top_occasion_orders its count (0 then).
**  11. shopper is 'seasonal' when orders >= min_orders (default 2) and
**      lift >= min_lift (default 1.5), otherwise 'regular' (also when lift
**      is NULL).
**  12. birth= names a date column of the source (auto-detected:
**      birth_date, birthday, date_of_birth; none is fine).  A customer's
**      birth date is the earliest non-NULL one of its rows; birth_month
**      is its month 1..12; birthday_orders counts orders in that calendar
**      month; birthday_buyer is 1 when birthday_orders >= 1 and
**      birthday_orders / orders > 1/12 (more than an even spread over the
**      months), else 0.  The three are NULL without a birth date.
**  13. Rows come out in ORDER BY customer order.
*/
#include "segmentInt.h"
#include <string.h>

/**************************************************************************
** The calendar
*/
#define CAL_US 0
#define CAL_UK 1
#define CAL_DE 2
static const char *const azCalRegion[] = { "US", "UK", "DE", 0 };

/* The catalog: the kinds of occasion, in catalog order. */
enum {
  CAL_NEW_YEAR, CAL_VALENTINE, CAL_MOTHER, CAL_GOOD_FRIDAY, CAL_EASTER,
  CAL_EASTER_MONDAY, CAL_FATHER, CAL_INDEPENDENCE, CAL_SCHOOL,
  CAL_HALLOWEEN, CAL_THANKSGIVING, CAL_BLACK_FRIDAY, CAL_CYBER_MONDAY,
  CAL_ADVENT, CAL_NICHOLAS, CAL_CHRISTMAS, CAL_BOXING,
  CAL_NKIND
};
static const char *const azCalName[CAL_NKIND] = {
  "New Year", "Valentine's Day", "Mother's Day", "Good Friday", "Easter",
  "Easter Monday", "Father's Day", "Independence Day", "Back to School",
  "Halloween", "Thanksgiving", "Black Friday", "Cyber Monday", "Advent",
  "St Nicholas' Day", "Christmas", "Boxing Day"
};

#define CAL_YEAR_MIN 1583
#define CAL_YEAR_MAX 9999

typedef struct CalOcc CalOcc;
struct CalOcc {
  int eKind;                      /* CAL_xxx */
  int iStart, iEnd;               /* days (julian day numbers) */
  int nWindow;                    /* days of buying before iStart */
};

/* Easter Sunday of Gregorian year y, as a day: the anonymous Gregorian
** algorithm (Meeus, Astronomical Algorithms, ch. 8; Jones 1876; Butcher
** 1876). */
static int calEaster(int y){
  int a = y % 19, b = y / 100, c = y % 100;
  int d = b / 4, e = b % 4;
  int f = (b + 8) / 25;
  int g = (b - f + 1) / 3;
  int h = (19*a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2*e + 2*i - h - k) % 7;
  int m = (a + 11*h + 22*l) / 451;
  int month = (h + l - 7*m + 114) / 31;
  int day = (h + l - 7*m + 114) % 31 + 1;
  return segDayFromYmd(y, month, day);
}

/* The n-th (1-based) weekday w (0 = Monday .. 6 = Sunday) of month m. */
static int calNthWeekday(int y, int m, int w, int n){
  int iFirst = segDayFromYmd(y, m, 1);
  int iDelta = (w - segWeekday(iFirst) + 7) % 7;
  return iFirst + iDelta + 7*(n-1);
}

static void calAdd(CalOcc *a, int *pn, int eKind, int iStart, int iEnd,
                   int nWindow){
  a[*pn].eKind = eKind;
  a[*pn].iStart = iStart;
  a[*pn].iEnd = iEnd;
  a[*pn].nWindow = nWindow;
  (*pn)++;
}

/* The occasions of year y (CAL_YEAR_MIN..CAL_YEAR_MAX) in region eRegion
** into a[] (room for CAL_NKIND), sorted by start then catalog order.
** Returns the count. */
static int calYear(int y, int eRegion, CalOcc *a){
  int n = 0, i, j;
  int iEaster = calEaster(y);
  int iThanks = calNthWeekday(y, 11, 3, 4);      /* 4th Thursday of Nov */
  int iDec25 = segDayFromYmd(y, 12, 25);

  calAdd(a, &n, CAL_NEW_YEAR, segDayFromYmd(y, 1, 1),
         segDayFromYmd(y, 1, 1), 6);
  calAdd(a, &n, CAL_VALENTINE, segDayFromYmd(y, 2, 14),
         segDayFromYmd(y, 2, 14), 14);
  if( eRegion==CAL_UK ){
    calAdd(a, &n, CAL_MOTHER, iEaster-21, iEaster-21, 14);
  }else{
    int d = calNthWeekday(y, 5, 6, 2);
    calAdd(a, &n, CAL_MOTHER, d, d, 14);
  }
  if( eRegion!=CAL_US ){
    calAdd(a, &n, CAL_GOOD_FRIDAY, iEaster-2, iEaster-2, 0);
  }
  calAdd(a, &n, CAL_EASTER, iEaster, iEaster, 14);
  if( eRegion!=CAL_US ){
    calAdd(a, &n, CAL_EASTER_MONDAY, iEaster+1, iEaster+1, 0);
  }
  if( eRegion==CAL_DE ){
    calAdd(a, &n, CAL_FATHER, iEaster+39, iEaster+39, 14);
  }else{
    int d = calNthWeekday(y, 6, 6, 3);
    calAdd(a, &n, CAL_FATHER, d, d, 14);
  }
  if( eRegion==CAL_US ){
    calAdd(a, &n, CAL_INDEPENDENCE, segDayFromYmd(y, 7, 4),
           segDayFromYmd(y, 7, 4), 7);
    calAdd(a, &n, CAL_SCHOOL, segDayFromYmd(y, 8, 1),
           calNthWeekday(y, 9, 0, 1), 14);
  }else if( eRegion==CAL_UK ){
    calAdd(a, &n, CAL_SCHOOL, segDayFromYmd(y, 9, 1),
           segDayFromYmd(y, 9, 7), 28);
  }else{
    calAdd(a, &n, CAL_SCHOOL, segDayFromYmd(y, 8, 1),
           segDayFromYmd(y, 9, 15), 14);
  }
  calAdd(a, &n, CAL_HALLOWEEN, segDayFromYmd(y, 10, 31),
         segDayFromYmd(y, 10, 31), 30);
  if( eRegion==CAL_US ){
    calAdd(a, &n, CAL_THANKSGIVING, iThanks, iThanks, 7);
  }
  calAdd(a, &n, CAL_BLACK_FRIDAY, iThanks+1, iThanks+1, 7);
  calAdd(a, &n, CAL_CYBER_MONDAY, iThanks+4, iThanks+4, 2);
  if( eRegion==CAL_DE ){
    /* 4th Sunday before Christmas Day: the Sunday Nov 27 .. Dec 3 */
    int d = iDec25 - 1 - (segWeekday(iDec25-1) + 1)%7 - 21;
    calAdd(a, &n, CAL_ADVENT, d, d, 7);
    calAdd(a, &n, CAL_NICHOLAS, segDayFromYmd(y, 12, 6),
           segDayFromYmd(y, 12, 6), 5);
    calAdd(a, &n, CAL_CHRISTMAS, iDec25-1, iDec25+1, 30);
  }else{
    calAdd(a, &n, CAL_CHRISTMAS, iDec25, iDec25, 30);
  }
  if( eRegion==CAL_UK ){
    calAdd(a, &n, CAL_BOXING, iDec25+1, iDec25+1, 0);
  }

  /* Insertion sort by start, then catalog order */
  for(i=1; i<n; i++){
    CalOcc x = a[i];
    for(j=i; j>0 && (a[j-1].iStart>x.iStart
          || (a[j-1].iStart==x.iStart && a[j-1].eKind>x.eKind)); j--){
      a[j] = a[j-1];
    }
    a[j] = x;
  }
  return n;
}

/* The calendars of two consecutive years, so that consecutive lookups of
** nearby days do not recompute them. */
typedef struct CalCache CalCache;
struct CalCache {
  int eRegion;
  int y;                          /* a[0] is year y, a[1] year y+1 */
  int n[2];
  CalOcc a[2][CAL_NKIND];
};

static void calCacheInit(CalCache *p, int eRegion){
  memset(p, 0, sizeof(*p));
  p->eRegion = eRegion;
  p->y = -1;
}

/* The occasion kind of day iDay (CAL_xxx) or -1 (requirement 4). */
static int calOccasionOf(CalCache *p, int iDay){
  int y, m, d, k, i;
  int iBestDist = 0, iBestLen = 0, eBest = -1;
  segYmdFromDay(iDay, &y, &m, &d);
  if( p->y!=y ){
    for(k=0; k<2; k++){
      int yy = y + k;
      p->n[k] = (yy>=CAL_YEAR_MIN && yy<=CAL_YEAR_MAX)
                ? calYear(yy, p->eRegion, p->a[k]) : 0;
    }
    p->y = y;
  }
  for(k=0; k<2; k++){
    for(i=0; i<p->n[k]; i++){
      const CalOcc *o = &p->a[k][i];
      int iDist, iLen;
      if( iDay<o->iStart-o->nWindow || iDay>o->iEnd ) continue;
      iDist = iDay<o->iStart ? o->iStart-iDay : 0;
      iLen = o->iEnd - o->iStart;
      if( eBest<0 || iDist<iBestDist
       || (iDist==iBestDist && (iLen<iBestLen
            || (iLen==iBestLen && o->eKind<eBest))) ){
        iBestDist = iDist;
        iBestLen = iLen;
        eBest = o->eKind;
      }
    }
  }
  return eBest;
}

/* Region of a scalar argument: CAL_xxx, or -1 (with an error set). */
static int calRegionArg(sqlite3_context *ctx, sqlite3_value *pVal,
                        const char *zFunc, int iArg){
  const char *z = (const char*)sqlite3_value_text(pVal);
  int i;
  char *zErr;
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return -1; }
  for(i=0; azCalRegion[i]; i++){
    if( sqlite3_stricmp(z, azCalRegion[i])==0 ) return i;
  }
  zErr = sqlite3_mprintf("%s argument to %s() is an unknown region '%.40s' "
                         "(regions: US, UK, DE)", segOrdinal(iArg), zFunc, z);
  if( zErr==0 ){ sqlite3_result_error_nomem(ctx); return -1; }
  sqlite3_result_error(ctx, zErr, -1);
  sqlite3_free(zErr);
  return -1;
}

/* Day of a scalar's date argument.  Returns 1 with *piDay set, 0 for NULL
** (result left NULL), -1 after setting an error. */
static int calDateArg(sqlite3_context *ctx, sqlite3_value *pVal,
                      const char *zFunc, int iArg, int *piDay){
  i64 iMs;
  int e = segDateFromValue(pVal, &iMs);
  char *zErr;
  if( e==SEG_DATE_NULL ) return 0;
  if( e==SEG_DATE_OK ){
    *piDay = segDayOfMs(iMs);
    return 1;
  }
  if( sqlite3_value_type(pVal)==SQLITE_BLOB ){
    zErr = sqlite3_mprintf("%s argument to %s() is not a valid date: a blob",
                           segOrdinal(iArg), zFunc);
  }else{
    const char *z = (const char*)sqlite3_value_text(pVal);
    if( z==0 ){ sqlite3_result_error_nomem(ctx); return -1; }
    zErr = sqlite3_mprintf("%s argument to %s() is not a valid date: '%.60s'",
                           segOrdinal(iArg), zFunc, z);
  }
  if( zErr==0 ){ sqlite3_result_error_nomem(ctx); return -1; }
  sqlite3_result_error(ctx, zErr, -1);
  sqlite3_free(zErr);
  return -1;
}

/**************************************************************************
** Scalars
*/

/* occasion_of(date [, region]) */
static void calOccasionOfFunc(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv){
  CalCache cache;
  int iDay, eRegion = CAL_US, eKind;
  if( argc>1 ){
    if( sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  }
  if( calDateArg(ctx, argv[0], "occasion_of", 1, &iDay)<=0 ) return;
  if( argc>1 ){
    eRegion = calRegionArg(ctx, argv[1], "occasion_of", 2);
    if( eRegion<0 ) return;
  }
  calCacheInit(&cache, eRegion);
  eKind = calOccasionOf(&cache, iDay);
  if( eKind>=0 ){
    sqlite3_result_text(ctx, azCalName[eKind], -1, SQLITE_STATIC);
  }
}

/* season_of(date [, hemisphere]) */
static void calSeasonOfFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  static const char *const azSeason[] = {
    "winter", "spring", "summer", "autumn"
  };
  int iDay, y, m, d, iSeason, bSouth = 0;
  if( argc>1 && sqlite3_value_type(argv[1])==SQLITE_NULL ) return;
  if( calDateArg(ctx, argv[0], "season_of", 1, &iDay)<=0 ) return;
  if( argc>1 ){
    const char *z = (const char*)sqlite3_value_text(argv[1]);
    if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
    if( sqlite3_stricmp(z, "south")==0 ){
      bSouth = 1;
    }else if( sqlite3_stricmp(z, "north")!=0 ){
      sqlite3_result_error(ctx, "2nd argument to season_of() must be "
                           "'north' or 'south'", -1);
      return;
    }
  }
  segYmdFromDay(iDay, &y, &m, &d);
  iSeason = (m % 12) / 3;          /* Dec, Jan, Feb -> 0 */
  if( bSouth ) iSeason = (iSeason + 2) % 4;
  sqlite3_result_text(ctx, azSeason[iSeason], -1, SQLITE_STATIC);
}

/* The day of the anniversary of (month bm, day bd) in year y. */
static int calAnniversary(int y, int bm, int bd){
  if( bm==2 && bd==29 && segDaysInMonth(y, 2)==28 ) bd = 28;
  return segDayFromYmd(y, bm, bd);
}

/* days_to_birthday(birth, as_of) */
static void calDaysToBirthdayFunc(sqlite3_context *ctx, int argc,
                                  sqlite3_value **argv){
  int iBirth, iAsOf, by, bm, bd, y, m, d, iNext, rc;
  (void)argc;
  rc = calDateArg(ctx, argv[0], "days_to_birthday", 1, &iBirth);
  if( rc<=0 ) return;
  rc = calDateArg(ctx, argv[1], "days_to_birthday", 2, &iAsOf);
  if( rc<=0 ) return;
  segYmdFromDay(iBirth, &by, &bm, &bd);
  segYmdFromDay(iAsOf, &y, &m, &d);
  iNext = calAnniversary(y, bm, bd);
  if( iNext<iAsOf ) iNext = calAnniversary(y+1, bm, bd);
  sqlite3_result_int(ctx, iNext - iAsOf);
}

/**************************************************************************
** occasions(year [, region])
*/
typedef struct CalYearResult CalYearResult;
struct CalYearResult {
  int eRegion;
  int n;
  CalOcc a[CAL_NKIND];
};

static int calOccasionsColumn(void *pData, i64 iRow, int iCol,
                              sqlite3_context *ctx){
  CalYearResult *p = (CalYearResult*)pData;
  const CalOcc *o = &p->a[iRow];
  char zDay[16];
  switch( iCol ){
    case 0:
      sqlite3_result_text(ctx, azCalName[o->eKind], -1, SQLITE_STATIC);
      break;
    case 1: case 2: case 3:
      segFormatDay(iCol==1 ? o->iStart : iCol==2 ? o->iEnd
                   : o->iStart - o->nWindow, zDay);
      sqlite3_result_text(ctx, zDay, -1, SQLITE_TRANSIENT);
      break;
    case 4:
      sqlite3_result_text(ctx, azCalRegion[p->eRegion], -1, SQLITE_STATIC);
      break;
    case 5: sqlite3_result_int(ctx, o->iEnd - o->iStart + 1); break;
    case 6: sqlite3_result_int(ctx, o->nWindow); break;
  }
  return SQLITE_OK;
}

static int calOccasionsCompute(sqlite3 *db, const SegOpts *pOpts,
                               SegResult *pRes, char **pzErr){
  CalYearResult *p;
  int rc, y, eRegion;
  (void)db;
  if( segOptsGet(pOpts, "year")==0 ){
    *pzErr = segOptsError(pOpts, "no year: give a year as 1st argument");
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  rc = segOptsInt(pOpts, "year", 0, CAL_YEAR_MIN, CAL_YEAR_MAX, &y, pzErr);
  if( rc ) return rc;
  rc = segOptsEnum(pOpts, "region", azCalRegion, CAL_US, &eRegion, pzErr);
  if( rc ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  p->eRegion = eRegion;
  p->n = calYear(y, eRegion, p->a);
  pRes->nRow = p->n;
  pRes->pData = p;
  return SQLITE_OK;
}

static const char *const azCalOccasionsOpt[] = { "year", "region", 0 };

static const SegModuleSpec calOccasionsModule = {
  "occasions",
  "name,start,end,window_start,region,days,window_days",
  azCalOccasionsOpt, 1, calOccasionsCompute, SEG_ARGS_ONLY,
  calOccasionsColumn, segFree
};

/**************************************************************************
** occasion_profile
*/
typedef struct CalCust CalCust;
struct CalCust {
  unsigned int nOrder;            /* orders */
  unsigned int nOccasion;         /* orders in an occasion window */
  unsigned int nBirthday;         /* orders in the birth month */
  int iBirth;                     /* earliest birth day, if bBirth */
  int bBirth;
  unsigned int aKind[CAL_NKIND];  /* orders per occasion */
};

typedef struct CalProfile CalProfile;
struct CalProfile {
  SegSource src;                  /* keeps the customer map alive */
  CalCust *aCust;
  int *aOut;                      /* output rows: customer indexes */
  int nOut;
  double rCalShare;               /* calendar_share */
  int nMinOrder;
  double rMinLift;
};

static void calOccasionProfileFree(void *pData){
  CalProfile *p = (CalProfile*)pData;
  if( p==0 ) return;
  segSourceClose(&p->src);
  sqlite3_free(p->aCust);
  sqlite3_free(p->aOut);
  sqlite3_free(p);
}

/* Top occasion of a customer (requirement 10), or -1. */
static int calTop(const CalCust *c){
  int k, eTop = -1;
  for(k=0; k<CAL_NKIND; k++){
    if( c->aKind[k]>0 && (eTop<0 || c->aKind[k]>c->aKind[eTop]) ) eTop = k;
  }
  return eTop;
}

static int calOccasionProfileColumn(void *pData, i64 iRow, int iCol,
                                    sqlite3_context *ctx){
  CalProfile *p = (CalProfile*)pData;
  int iCust = p->aOut[iRow];
  const CalCust *c = &p->aCust[iCust];
  double rShare = (double)c->nOccasion / (double)c->nOrder;
  int eTop;
  switch( iCol ){
    case 0: segValueResult(ctx, &p->src.cust.aKey[iCust]); break;
    case 1: sqlite3_result_int64(ctx, (i64)c->nOrder); break;
    case 2: sqlite3_result_int64(ctx, (i64)c->nOccasion); break;
    case 3: sqlite3_result_double(ctx, rShare); break;
    case 4: sqlite3_result_double(ctx, p->rCalShare); break;
    case 5:
      if( p->rCalShare>0.0 ) sqlite3_result_double(ctx, rShare/p->rCalShare);
      break;
    case 6:
      eTop = calTop(c);
      if( eTop>=0 ){
        sqlite3_result_text(ctx, azCalName[eTop], -1, SQLITE_STATIC);
      }
      break;
    case 7:
      eTop = calTop(c);
      sqlite3_result_int64(ctx, eTop>=0 ? (i64)c->aKind[eTop] : 0);
      break;
    case 8: {
      int bSeasonal = (int)c->nOrder>=p->nMinOrder && p->rCalShare>0.0
                      && rShare/p->rCalShare>=p->rMinLift;
      sqlite3_result_text(ctx, bSeasonal ? "seasonal" : "regular", -1,
                          SQLITE_STATIC);
      break;
    }
    case 9:
      if( c->bBirth ){
        int y, m, d;
        segYmdFromDay(c->iBirth, &y, &m, &d);
        sqlite3_result_int(ctx, m);
      }
      break;
    case 10:
      if( c->bBirth ) sqlite3_result_int64(ctx, (i64)c->nBirthday);
      break;
    case 11:
      if( c->bBirth ){
        sqlite3_result_int(ctx, c->nBirthday>=1
                                && 12.0*c->nBirthday>(double)c->nOrder);
      }
      break;
  }
  return SQLITE_OK;
}

/* Orders are counted by month of order; the birth month is only known once
** every row of the customer has been read, so orders are also kept per
** month in a side array: aMonth[iCust*12 + m-1]. */
/* The scan of occasion_profile(): orders per customer, month and
** occasion, and the earliest birth day. */
typedef struct CalScan CalScan;
struct CalScan {
  CalProfile *p;
  CalCache cache;
  int bBirth;                     /* a birth column: months are counted */
  unsigned int *aMonth; int nMonthAlloc;   /* 12 per customer */
};

/* A row of the one pass. */
static int calOccasionProfileRow(void *pCtx, void *pCust, const SegRow *r){
  CalScan *q = (CalScan*)pCtx;
  CalCust *c = (CalCust*)pCust;
  int y, m, d, eKind;
  if( q->bBirth ){
    if( segArrayEnsure((void**)&q->aMonth, &q->nMonthAlloc, r->iCust,
                       12*sizeof(unsigned int)) ){
      return SQLITE_NOMEM;
    }
    if( r->bNewCust ){
      memset(&q->aMonth[r->iCust*12], 0, sizeof(unsigned int)*12);
    }
    if( r->aMsKnown[3] ){
      int iBirth = segDayOfMs(r->aMs[3]);
      if( !c->bBirth || iBirth<c->iBirth ) c->iBirth = iBirth;
      c->bBirth = 1;
    }
  }
  if( !r->bOrder || !r->bNewOrder ) return SQLITE_OK;
  c->nOrder++;
  if( q->bBirth ){
    segYmdFromDay(r->iDay, &y, &m, &d);
    q->aMonth[r->iCust*12 + m-1]++;
  }
  eKind = calOccasionOf(&q->cache, r->iDay);
  if( eKind>=0 ){
    c->nOccasion++;
    c->aKind[eKind]++;
  }
  return SQLITE_OK;
}

/* calendar_share (requirement 9) into p->rCalShare: the share of the
** days from the first order day to as_of that an occasion of pCache
** holds (left 0.0 when there is no such day). */
static void calOccasionProfileShare(CalProfile *p, CalCache *pCache){
  int iAsOf = 0;
  if( segSourceAsOf(&p->src, &iAsOf) && p->src.st.nOrderRows>0
   && p->src.st.iFirstOrderDay<=iAsOf ){
    i64 nIn = 0, nAll = 0;
    int iDay;
    for(iDay=p->src.st.iFirstOrderDay; iDay<=iAsOf; iDay++){
      nAll++;
      if( calOccasionOf(pCache, iDay)>=0 ) nIn++;
    }
    p->rCalShare = (double)nIn / (double)nAll;
  }
}

/* segSourceCustomers()'s filter for the output (pCtx the CalScan): a
** customer with an order, whose birthday orders it counts from the
** months of the scan.  Returns 1 to keep customer iCust, 0 not. */
static int calOccasionProfileKeep(void *pCtx, int iCust){
  CalScan *q = (CalScan*)pCtx;
  CalCust *c = &q->p->aCust[iCust];
  if( c->nOrder==0 ) return 0;
  if( c->bBirth ){
    int y, m, d;
    segYmdFromDay(c->iBirth, &y, &m, &d);
    c->nBirthday = q->aMonth[iCust*12 + m-1];
  }
  return 1;
}

static int calOccasionProfileCompute(sqlite3 *db, const SegOpts *pOpts,
                                     SegResult *pRes, char **pzErr){
  static const char *const azAutoBirth[] = {
    "birth_date", "birthday", "date_of_birth", 0
  };
  SegColumn aCol[4];
  CalProfile *p;
  CalScan q;
  int eRegion = CAL_US, rc;

  memset(&q, 0, sizeof(q));
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  q.p = p;
  rc = segOptsEnum(pOpts, "region", azCalRegion, CAL_US, &eRegion, pzErr);
  if( rc==SQLITE_OK ){
    rc = segOptsInt(pOpts, "min_orders", 2, 1, 1000000000, &p->nMinOrder,
                    pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsDouble(pOpts, "min_lift", 1.5, 0.0, 1000.0, &p->rMinLift, pzErr);
  }
  if( rc==SQLITE_OK ){
    memcpy(aCol, segStdColumns, sizeof(SegColumn)*3);
    aCol[2].bRequired = 0;          /* amounts only tell refunds apart */
    aCol[3].zOpt = "birth";
    aCol[3].azAuto = azAutoBirth;
    aCol[3].eKind = SEG_COL_DATE;
    aCol[3].bRequired = 0;
    rc = segSourceOpen(&p->src, db, pOpts, aCol, 4, pzErr);
  }
  calCacheInit(&q.cache, eRegion);
  if( rc==SQLITE_OK ){
    /* without a birth column, the row's scalar fields only */
    SegEach e = { sizeof(CalCust), 0, calOccasionProfileRow, 0, 0, 0, 0 };
    q.bBirth = p->src.aiCol[3]>=0;
    e.bScalar = !q.bBirth;
    e.pCtx = &q;
    rc = segSourceEach(&p->src, &e, pzErr);
    p->aCust = (CalCust*)e.aCust;
  }
  if( rc ) goto profile_error;

  calOccasionProfileShare(p, &q.cache);

  /* Output customers with an order, in customer order */
  rc = segSourceCustomers(&p->src, calOccasionProfileKeep, &q, &p->aOut,
                          &p->nOut);
  if( rc ) goto profile_error;
  sqlite3_free(q.aMonth);
  pRes->nRow = p->nOut;
  pRes->pData = p;
  return SQLITE_OK;

profile_error:
  sqlite3_free(q.aMonth);
  calOccasionProfileFree(p);
  return rc;
}

static const char *const azCalOccasionProfileOpt[] = {
  SEG_SOURCE_OPTIONS,
  "region", "birth", "min_orders", "min_lift",
  0
};

static const SegModuleSpec calOccasionProfileModule = {
  "occasion_profile",
  "customer,orders,occasion_orders,occasion_share,calendar_share,lift,"
  "top_occasion,top_occasion_orders,shopper,birth_month,birthday_orders,"
  "birthday_buyer",
  azCalOccasionProfileOpt, 0, calOccasionProfileCompute, SEG_READS_TABLE,
  calOccasionProfileColumn, calOccasionProfileFree
};

/**************************************************************************
** Registration
*/
int segmentRegisterCalendar(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "occasion_of",      1, SEG_SCALAR_FLAGS, 0, calOccasionOfFunc, 0, 0 },
    { "occasion_of",      2, SEG_SCALAR_FLAGS, 0, calOccasionOfFunc, 0, 0 },
    { "season_of",        1, SEG_SCALAR_FLAGS, 0, calSeasonOfFunc, 0, 0 },
    { "season_of",        2, SEG_SCALAR_FLAGS, 0, calSeasonOfFunc, 0, 0 },
    { "days_to_birthday", 2, SEG_SCALAR_FLAGS, 0, calDaysToBirthdayFunc, 0, 0 },
  };
  int rc = segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc),
                                pzErr);
  if( rc==SQLITE_OK ) rc = segRegisterModule(db, &calOccasionsModule, pzErr);
  if( rc==SQLITE_OK ){
    rc = segRegisterModule(db, &calOccasionProfileModule, pzErr);
  }
  return rc;
}
