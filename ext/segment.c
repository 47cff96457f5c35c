/*
** segment.c: the entry point of libsegment.
**
** sqlite3_segment_init() registers every SQL function and module of the
** extension, file by file; the first failure stops the loop and is
** reported as "libsegment: cannot register name(): reason".  It also
** defines segment_version() and the helpers shared by every registration
** table.
*/
#define SEGMENT_ENTRY_FILE
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include "segmentInt.h"
#include <stdint.h>

/*
** segment_version(): the version of libsegment, as text.
*/
static void segmentVersionFunc(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv){
  (void)argc; (void)argv;
  sqlite3_result_text(ctx, SEGMENT_VERSION, -1, SQLITE_STATIC);
}

const char *segOrdinal(int i){
  static const char *const az[] = {
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th",
    "11th", "12th"
  };
  if( i>=1 && i<=12 ) return az[i-1];
  return "nth";
}

int segRegisterFunction(sqlite3 *db, const SegFunc *p, void *pData,
                        void (*xDestroy)(void*), char **pzErr){
  int rc = sqlite3_create_function_v2(db, p->zName, p->nArg, p->eFlags,
                                      pData, p->xFunc, p->xStep, p->xFinal,
                                      xDestroy);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("libsegment: cannot register %s(): %s",
                             p->zName, sqlite3_errmsg(db));
  }
  return rc;
}

int segRegisterFunctions(sqlite3 *db, const SegFunc *aFunc, int nFunc,
                         char **pzErr){
  int i;
  int rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<nFunc; i++){
    rc = segRegisterFunction(db, &aFunc[i], (void*)(intptr_t)aFunc[i].iData,
                             0, pzErr);
  }
  return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_segment_init(sqlite3 *db, char **pzErrMsg,
                         const sqlite3_api_routines *pApi){
  static const SegFunc aFunc[] = {
    { "segment_version", 0, SEG_SCALAR_FLAGS, 0, segmentVersionFunc, 0, 0 },
  };
  static int (*const axRegister[])(sqlite3*, char**) = {
    segmentRegisterSource,
    segmentRegisterScore,
    segmentRegisterSchemes,
    segmentRegisterRfm,
    segmentRegisterClv,
    segmentRegisterDiscrete,
    segmentRegisterCalendar,
    segmentRegisterUsage,
    segmentRegisterLifecycle,
    segmentRegisterBenefits,
    segmentRegisterEngagement,
    segmentRegisterCohort,
    segmentRegisterCluster,
    segmentRegisterPrivacy,
    segmentRegisterSegtools,
    segmentRegisterHoldout,
    segmentRegisterChart,
    segmentRegisterReport,
  };
  char *zErr = 0;
  int rc;
  size_t i;
  SQLITE_EXTENSION_INIT2(pApi);
  rc = segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), &zErr);
  for(i=0; rc==SQLITE_OK && i<SEG_COUNT(axRegister); i++){
    rc = axRegister[i](db, &zErr);
  }
  if( rc!=SQLITE_OK ){
    if( pzErrMsg ){
      *pzErrMsg = zErr;
    }else{
      sqlite3_free(zErr);
    }
  }
  return rc;
}
