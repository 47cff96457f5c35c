/*
** threads.c: the threads of libsegment.
**
** Two users: source.c's reader thread (a scan's rows read on one thread,
** aggregated on another) and the likelihoods of clv.c, whose sums over
** many rows are split in fixed chunks shared out among threads
** (segParallel).  Both run only where PRAGMA threads allows auxiliary
** threads (SQLITE_LIMIT_WORKER_THREADS, as for SQLite's own sorter), and
** whatever the number of threads, the results are those of one: a
** chunk's work does not depend on which thread does it.
**
** POSIX threads; on Windows those of mingw-w64's winpthreads (linked
** statically by the Makefile).  -DSEG_THREADS=0 builds without threads:
** everything then runs on the caller's thread.
*/
#include "segmentInt.h"
#include <string.h>
#if SEG_THREADS && !defined(_WIN32)
# include <signal.h>
#endif

int segThreadStart(SegThread *pT, void *(*xMain)(void*), void *pArg){
#if SEG_THREADS
  int rc;
#if !defined(_WIN32)
  /* the thread takes no signals: they stay with the application's own
  ** threads (a shell's Ctrl-C handler, say) */
  sigset_t sigAll, sigOld;
  sigfillset(&sigAll);
  pthread_sigmask(SIG_SETMASK, &sigAll, &sigOld);
  rc = pthread_create(pT, 0, xMain, pArg);
  pthread_sigmask(SIG_SETMASK, &sigOld, 0);
#else
  /* Windows has no POSIX signals to keep from the thread (a console's
  ** Ctrl-C handler runs on a thread of its own) */
  rc = pthread_create(pT, 0, xMain, pArg);
#endif
  return rc ? SQLITE_ERROR : SQLITE_OK;
#else
  (void)pT; (void)xMain; (void)pArg;
  return SQLITE_ERROR;
#endif
}

void segThreadJoin(SegThread t){
#if SEG_THREADS
  pthread_join(t, 0);
#else
  (void)t;
#endif
}

int segThreadsAllowed(sqlite3 *db){
  int n = sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, -1);
  return SEG_THREADS && n>0 ? n : 0;
}

/* One thread's share of segParallel's jobs: iJob = iFirst, iFirst+nStep.. */
typedef struct SegShare SegShare;
struct SegShare {
  void (*xJob)(void*, int, int);
  void *pCtx;
  int iFirst, nStep, nJob;
};

static void *segShareRun(void *pArg){
  SegShare *p = (SegShare*)pArg;
  int i;
  for(i=p->iFirst; i<p->nJob; i+=p->nStep) p->xJob(p->pCtx, i, 0);
  return 0;
}

#define SEG_PARALLEL_MAX 8        /* threads segParallel uses at most */

void segParallel(int nExtra, int nJob, void (*xJob)(void*, int, int),
                 void *pCtx){
  SegShare aShare[SEG_PARALLEL_MAX];
  SegThread aT[SEG_PARALLEL_MAX];
  int i, nThread = 1 + nExtra, nRun;
  if( nThread>SEG_PARALLEL_MAX ) nThread = SEG_PARALLEL_MAX;
  if( nThread>nJob ) nThread = nJob;
  if( nThread<1 ) nThread = 1;
  for(i=0; i<nThread; i++){
    aShare[i].xJob = xJob;
    aShare[i].pCtx = pCtx;
    aShare[i].iFirst = i;
    aShare[i].nStep = nThread;
    aShare[i].nJob = nJob;
  }
  /* shares 1.. on threads of their own while they can be had; share 0,
  ** and those of threads not had, here */
  for(nRun=1; nRun<nThread; nRun++){
    if( segThreadStart(&aT[nRun], segShareRun, &aShare[nRun]) ) break;
  }
  for(i=0; i<nJob; i++){
    int iShare = i % nThread;
    if( iShare==0 || iShare>=nRun ) xJob(pCtx, i, 1);
  }
  for(i=1; i<nRun; i++) segThreadJoin(aT[i]);
}
