/* calendar.c: (to be written) */
#include "segmentInt.h"

int segmentRegisterCalendar(sqlite3 *db, char **pzErr){
  (void)db; (void)pzErr;
  return SQLITE_OK;
}
