/*
** json.c: the small JSON reader and writer that models and break lists
** need (segmentInt.h, "JSON").
**
** Readers:
**   segJsonParse(z, n, &p)          parse a whole document into a tree
**   segJsonGetNumber(p, path, &r)   a number at a path
**   segJsonGetText(p, path)         a string at a path (NUL-terminated,
**                                   valid until segJsonFree)
**   segJsonNumberArray(z, n, &a, &n) a top-level array of numbers
** Writer:
**   segJsonAppendNumber(pStr, r)    a double, shortest text that reads
**                                   back to the same double (at most 17
**                                   significant digits, always with a
**                                   decimal point: 1.0, 0.1, 1.0e+20);
**                                   NaN and +-Inf as null
** Models of scalars:
**   segModelArg(ctx, argv, i, pKind, &p) the parsed model of argument i,
**                                   cached for the statement by its text
**
** Requirements:
**   1. Strict RFC 8259: one value, surrounded only by JSON whitespace
**      (space, tab, LF, CR); no trailing commas, comments, single quotes,
**      NaN, Infinity, leading '+', leading zeros, or bare '.5'; control
**      characters in strings must be escaped; \u escapes must be valid
**      (a high surrogate followed by a low one; a lone surrogate is an
**      error).  Anything else: SQLITE_ERROR.
**   2. Nesting deeper than SEG_JSON_MAX_DEPTH (64) arrays/objects is an
**      error, so no input can exhaust the C stack.
**   3. A number whose value overflows a double (1e999) is an error; one
**      that underflows reads as 0 (or the nearest subnormal).
**   4. Paths are object keys and array indexes separated by '.':
**      "params.r", "centroids.2.0".  With duplicate keys the first wins.
**      A key that holds '.' cannot be addressed.
**   5. Memory: sqlite3_malloc64 only; out of memory returns SQLITE_NOMEM
**      with nothing allocated.
**   6. A model argument is parsed once per statement and distinct text,
**      however it is passed (literal, parameter, column, subquery, CTE):
**      the parsed models hang on the statement (sqlite3_set_auxdata()
**      with a negative index, which outlives each call), keyed by kind
**      and text (length, then memcmp), the SEG_MODEL_CACHE_N most
**      recently used kept.  Where the statement cannot hold them, on the
**      argument (SQLite keeps that only while the argument is constant).
**
** Example:
**   segJsonParse("{\"params\":{\"r\":0.24}}", -1, &p);
**   segJsonGetNumber(p, "params.r", &r);      r == 0.24, returns 1
*/
#include "segmentInt.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

#define SEG_JSON_MAX_DEPTH 64

#define JSON_NULL   0
#define JSON_FALSE  1
#define JSON_TRUE   2
#define JSON_NUMBER 3
#define JSON_STRING 4
#define JSON_ARRAY  5
#define JSON_OBJECT 6

typedef struct SegJsonNode SegJsonNode;
struct SegJsonNode {
  int eType;                      /* JSON_xxx */
  int nSub;                       /* nodes in this subtree, itself included */
  double r;                       /* JSON_NUMBER */
  int iStr;                       /* JSON_STRING: offset in zStr */
};

struct SegJson {
  SegJsonNode *aNode;
  int nNode, nAlloc;
  char *zStr;                     /* unescaped strings, each NUL-terminated */
  int nStr;
};

typedef struct JsonParse JsonParse;
struct JsonParse {
  const char *z;
  int n;                          /* bytes of z */
  int i;                          /* next byte */
  SegJson *pOut;
  int rc;                         /* SQLITE_ERROR or SQLITE_NOMEM on failure */
};

static void jsonSkipSpace(JsonParse *p){
  while( p->i<p->n ){
    char c = p->z[p->i];
    if( c!=' ' && c!='\t' && c!='\n' && c!='\r' ) break;
    p->i++;
  }
}

/* Append a node; returns its index or -1 (p->rc set). */
static int jsonNewNode(JsonParse *p, int eType){
  SegJson *o = p->pOut;
  if( o->nNode>=o->nAlloc ){
    int nNew = o->nAlloc ? o->nAlloc*2 : 16;
    SegJsonNode *a = sqlite3_realloc64(o->aNode, sizeof(SegJsonNode)*(u64)nNew);
    if( a==0 ){ p->rc = SQLITE_NOMEM; return -1; }
    o->aNode = a;
    o->nAlloc = nNew;
  }
  memset(&o->aNode[o->nNode], 0, sizeof(SegJsonNode));
  o->aNode[o->nNode].eType = eType;
  o->aNode[o->nNode].nSub = 1;
  return o->nNode++;
}

static int jsonHex4(const char *z){
  int i, v = 0;
  for(i=0; i<4; i++){
    char c = z[i];
    v <<= 4;
    if( c>='0' && c<='9' ) v += c-'0';
    else if( c>='a' && c<='f' ) v += c-'a'+10;
    else if( c>='A' && c<='F' ) v += c-'A'+10;
    else return -1;
  }
  return v;
}

/* Parse a string at p->z[p->i]=='"'; its unescaped text is appended to
** zStr.  Returns the node index or -1. */
static int jsonParseString(JsonParse *p){
  SegJson *o = p->pOut;
  int iNode, iStart = o->nStr;
  p->i++;
  while( 1 ){
    unsigned char c;
    if( p->i>=p->n ){ p->rc = SQLITE_ERROR; return -1; }
    c = (unsigned char)p->z[p->i];
    if( c=='"' ){ p->i++; break; }
    if( c<0x20 ){ p->rc = SQLITE_ERROR; return -1; }
    if( c!='\\' ){
      o->zStr[o->nStr++] = (char)c;
      p->i++;
      continue;
    }
    if( p->i+1>=p->n ){ p->rc = SQLITE_ERROR; return -1; }
    c = (unsigned char)p->z[p->i+1];
    p->i += 2;
    switch( c ){
      case '"':  o->zStr[o->nStr++] = '"'; break;
      case '\\': o->zStr[o->nStr++] = '\\'; break;
      case '/':  o->zStr[o->nStr++] = '/'; break;
      case 'b':  o->zStr[o->nStr++] = '\b'; break;
      case 'f':  o->zStr[o->nStr++] = '\f'; break;
      case 'n':  o->zStr[o->nStr++] = '\n'; break;
      case 'r':  o->zStr[o->nStr++] = '\r'; break;
      case 't':  o->zStr[o->nStr++] = '\t'; break;
      case 'u': {
        int v;
        if( p->i+4>p->n || (v = jsonHex4(&p->z[p->i]))<0 ){
          p->rc = SQLITE_ERROR; return -1;
        }
        p->i += 4;
        if( v>=0xDC00 && v<=0xDFFF ){ p->rc = SQLITE_ERROR; return -1; }
        if( v>=0xD800 && v<=0xDBFF ){
          int lo;
          if( p->i+6>p->n || p->z[p->i]!='\\' || p->z[p->i+1]!='u'
           || (lo = jsonHex4(&p->z[p->i+2]))<0xDC00 || lo>0xDFFF ){
            p->rc = SQLITE_ERROR; return -1;
          }
          p->i += 6;
          v = 0x10000 + ((v-0xD800)<<10) + (lo-0xDC00);
        }
        if( v==0 ){ p->rc = SQLITE_ERROR; return -1; }  /* no NUL in text */
        if( v<0x80 ){
          o->zStr[o->nStr++] = (char)v;
        }else if( v<0x800 ){
          o->zStr[o->nStr++] = (char)(0xC0 | (v>>6));
          o->zStr[o->nStr++] = (char)(0x80 | (v&0x3F));
        }else if( v<0x10000 ){
          o->zStr[o->nStr++] = (char)(0xE0 | (v>>12));
          o->zStr[o->nStr++] = (char)(0x80 | ((v>>6)&0x3F));
          o->zStr[o->nStr++] = (char)(0x80 | (v&0x3F));
        }else{
          o->zStr[o->nStr++] = (char)(0xF0 | (v>>18));
          o->zStr[o->nStr++] = (char)(0x80 | ((v>>12)&0x3F));
          o->zStr[o->nStr++] = (char)(0x80 | ((v>>6)&0x3F));
          o->zStr[o->nStr++] = (char)(0x80 | (v&0x3F));
        }
        break;
      }
      default:
        p->rc = SQLITE_ERROR; return -1;
    }
  }
  o->zStr[o->nStr++] = 0;
  iNode = jsonNewNode(p, JSON_STRING);
  if( iNode>=0 ) o->aNode[iNode].iStr = iStart;
  return iNode;
}

/* Parse a number (RFC 8259 grammar). */
static int jsonParseNumber(JsonParse *p){
  const char *z = p->z;
  int i = p->i, iStart = p->i, iNode, rc;
  double r;
  if( i<p->n && z[i]=='-' ) i++;
  if( i>=p->n ){ p->rc = SQLITE_ERROR; return -1; }
  if( z[i]=='0' ){
    i++;
  }else if( z[i]>='1' && z[i]<='9' ){
    while( i<p->n && z[i]>='0' && z[i]<='9' ) i++;
  }else{
    p->rc = SQLITE_ERROR; return -1;
  }
  if( i<p->n && z[i]=='.' ){
    i++;
    if( i>=p->n || z[i]<'0' || z[i]>'9' ){ p->rc = SQLITE_ERROR; return -1; }
    while( i<p->n && z[i]>='0' && z[i]<='9' ) i++;
  }
  if( i<p->n && (z[i]=='e' || z[i]=='E') ){
    i++;
    if( i<p->n && (z[i]=='+' || z[i]=='-') ) i++;
    if( i>=p->n || z[i]<'0' || z[i]>'9' ){ p->rc = SQLITE_ERROR; return -1; }
    while( i<p->n && z[i]>='0' && z[i]<='9' ) i++;
  }
  rc = segNumberParse(&z[iStart], i-iStart, &r);
  if( rc!=1 || isinf(r) ){
    p->rc = rc<0 ? SQLITE_NOMEM : SQLITE_ERROR;
    return -1;
  }
  p->i = i;
  iNode = jsonNewNode(p, JSON_NUMBER);
  if( iNode>=0 ) p->pOut->aNode[iNode].r = r;
  return iNode;
}

static int jsonParseValue(JsonParse *p, int iDepth){
  char c;
  jsonSkipSpace(p);
  if( p->i>=p->n ){ p->rc = SQLITE_ERROR; return -1; }
  c = p->z[p->i];
  if( c=='{' || c=='[' ){
    SegJson *o = p->pOut;
    int bObj = (c=='{');
    int iNode;
    if( iDepth>=SEG_JSON_MAX_DEPTH ){ p->rc = SQLITE_ERROR; return -1; }
    iNode = jsonNewNode(p, bObj ? JSON_OBJECT : JSON_ARRAY);
    if( iNode<0 ) return -1;
    p->i++;
    jsonSkipSpace(p);
    if( p->i<p->n && p->z[p->i]==(bObj ? '}' : ']') ){
      p->i++;
      return iNode;
    }
    while( 1 ){
      if( bObj ){
        jsonSkipSpace(p);
        if( p->i>=p->n || p->z[p->i]!='"' ){ p->rc = SQLITE_ERROR; return -1; }
        if( jsonParseString(p)<0 ) return -1;
        jsonSkipSpace(p);
        if( p->i>=p->n || p->z[p->i]!=':' ){ p->rc = SQLITE_ERROR; return -1; }
        p->i++;
      }
      if( jsonParseValue(p, iDepth+1)<0 ) return -1;
      jsonSkipSpace(p);
      if( p->i>=p->n ){ p->rc = SQLITE_ERROR; return -1; }
      c = p->z[p->i++];
      if( c==',' ) continue;
      if( c==(bObj ? '}' : ']') ) break;
      p->rc = SQLITE_ERROR;
      return -1;
    }
    o->aNode[iNode].nSub = o->nNode - iNode;
    return iNode;
  }
  if( c=='"' ) return jsonParseString(p);
  if( c=='-' || (c>='0' && c<='9') ) return jsonParseNumber(p);
  if( p->n-p->i>=4 && memcmp(&p->z[p->i], "null", 4)==0 ){
    p->i += 4;
    return jsonNewNode(p, JSON_NULL);
  }
  if( p->n-p->i>=4 && memcmp(&p->z[p->i], "true", 4)==0 ){
    p->i += 4;
    return jsonNewNode(p, JSON_TRUE);
  }
  if( p->n-p->i>=5 && memcmp(&p->z[p->i], "false", 5)==0 ){
    p->i += 5;
    return jsonNewNode(p, JSON_FALSE);
  }
  p->rc = SQLITE_ERROR;
  return -1;
}

void segJsonFree(SegJson *p){
  if( p==0 ) return;
  sqlite3_free(p->aNode);
  sqlite3_free(p->zStr);
  sqlite3_free(p);
}

int segJsonParse(const char *z, int n, SegJson **pp){
  JsonParse x;
  SegJson *o;
  *pp = 0;
  if( z==0 ) return SQLITE_ERROR;
  if( n<0 ) n = (int)strlen(z);
  o = sqlite3_malloc64(sizeof(*o));
  if( o==0 ) return SQLITE_NOMEM;
  memset(o, 0, sizeof(*o));
  /* Unescaped strings plus their NULs never outgrow the input: every
  ** string spends two quote bytes, and no escape expands. */
  o->zStr = sqlite3_malloc64((u64)n+1);
  if( o->zStr==0 ){ sqlite3_free(o); return SQLITE_NOMEM; }
  memset(&x, 0, sizeof(x));
  x.z = z;
  x.n = n;
  x.pOut = o;
  if( jsonParseValue(&x, 0)>=0 ){
    jsonSkipSpace(&x);
    if( x.i<x.n ) x.rc = SQLITE_ERROR;
  }else if( x.rc==SQLITE_OK ){
    x.rc = SQLITE_ERROR;
  }
  if( x.rc!=SQLITE_OK ){
    segJsonFree(o);
    return x.rc;
  }
  *pp = o;
  return SQLITE_OK;
}

/* The node at zPath, or -1. */
static int jsonLookup(const SegJson *p, const char *zPath){
  int iNode = 0;
  const char *z = zPath;
  if( p==0 || p->nNode==0 ) return -1;
  while( *z ){
    int n = 0, i, iEnd;
    const SegJsonNode *pNode = &p->aNode[iNode];
    while( z[n] && z[n]!='.' ) n++;
    iEnd = iNode + pNode->nSub;
    if( pNode->eType==JSON_OBJECT ){
      int iFound = -1;
      for(i=iNode+1; i<iEnd; ){
        const char *zKey = &p->zStr[p->aNode[i].iStr];
        if( (int)strlen(zKey)==n && memcmp(zKey, z, n)==0 ){
          iFound = i+1;
          break;
        }
        i = i+1 + p->aNode[i+1].nSub;
      }
      if( iFound<0 ) return -1;
      iNode = iFound;
    }else if( pNode->eType==JSON_ARRAY ){
      int iIdx = 0, k;
      if( n==0 || n>9 ) return -1;
      for(k=0; k<n; k++){
        if( z[k]<'0' || z[k]>'9' ) return -1;
        iIdx = iIdx*10 + (z[k]-'0');
      }
      for(i=iNode+1; i<iEnd && iIdx>0; iIdx--){
        i += p->aNode[i].nSub;
      }
      if( i>=iEnd ) return -1;
      iNode = i;
    }else{
      return -1;
    }
    z += n;
    if( *z=='.' ) z++;
  }
  return iNode;
}

int segJsonGetNumber(const SegJson *p, const char *zPath, double *prOut){
  int i = jsonLookup(p, zPath);
  if( i<0 || p->aNode[i].eType!=JSON_NUMBER ) return 0;
  *prOut = p->aNode[i].r;
  return 1;
}

int segJsonGetBool(const SegJson *p, const char *zPath, int *pbOut){
  int i = jsonLookup(p, zPath);
  if( i<0 || (p->aNode[i].eType!=JSON_TRUE && p->aNode[i].eType!=JSON_FALSE) ){
    return 0;
  }
  *pbOut = p->aNode[i].eType==JSON_TRUE;
  return 1;
}

const char *segJsonGetText(const SegJson *p, const char *zPath){
  int i = jsonLookup(p, zPath);
  if( i<0 || p->aNode[i].eType!=JSON_STRING ) return 0;
  return &p->zStr[p->aNode[i].iStr];
}

int segJsonNumberArray(const char *z, int n, double **paOut, int *pnOut){
  SegJson *p = 0;
  double *a;
  int rc, i, k;
  *paOut = 0;
  *pnOut = 0;
  rc = segJsonParse(z, n, &p);
  if( rc ) return rc;
  if( p->aNode[0].eType!=JSON_ARRAY ){
    segJsonFree(p);
    return SQLITE_ERROR;
  }
  for(i=1; i<p->nNode; i++){
    if( p->aNode[i].eType!=JSON_NUMBER ){
      segJsonFree(p);
      return SQLITE_ERROR;
    }
  }
  a = sqlite3_malloc64(sizeof(double)*(u64)(p->nNode));
  if( a==0 ){
    segJsonFree(p);
    return SQLITE_NOMEM;
  }
  for(i=1, k=0; i<p->nNode; i++) a[k++] = p->aNode[i].r;
  segJsonFree(p);
  if( k==0 ){
    sqlite3_free(a);
    a = 0;
  }
  *paOut = a;
  *pnOut = k;
  return SQLITE_OK;
}

void segJsonAppendNumber(sqlite3_str *pStr, double r){
  char zBuf[SEG_NUMBER_SIZE];
  if( isnan(r) || isinf(r) ){
    sqlite3_str_appendall(pStr, "null");
    return;
  }
  if( r==0.0 ){
    sqlite3_str_appendall(pStr, "0.0");
    return;
  }
  segNumberFormat(zBuf, r);
  sqlite3_str_appendall(pStr, zBuf);
}

/*
** Models of scalars (requirement 6).
*/
#define SEG_MODEL_CACHE_ID (-0x5e6d01)  /* statement auxdata index */
#define SEG_MODEL_CACHE_N 8

typedef struct SegModelEntry SegModelEntry;
struct SegModelEntry {
  const SegModelKind *pKind;
  char *zKey; int nKey;           /* the model's text */
  void *pModel;                   /* parsed by pKind->xParse */
  u64 iUse;                       /* last use, for eviction */
};
typedef struct SegModelCache SegModelCache;
struct SegModelCache {
  SegModelEntry a[SEG_MODEL_CACHE_N];
  int n;
  u64 iUse;
};

static void segModelCacheFree(void *p){
  SegModelCache *pCache = (SegModelCache*)p;
  int i;
  for(i=0; i<pCache->n; i++){
    pCache->a[i].pKind->xFree(pCache->a[i].pModel);
    sqlite3_free(pCache->a[i].zKey);
  }
  sqlite3_free(pCache);
}

int segModelArg(sqlite3_context *ctx, sqlite3_value **argv, int iArg,
                const SegModelKind *pKind, void **ppModel){
  SegModelCache *pCache;
  SegModelEntry *e;
  const char *z;
  void *pModel = 0;
  char *zKey;
  int n, i, rc;
  *ppModel = 0;
  pModel = sqlite3_get_auxdata(ctx, iArg);      /* the fallback's */
  if( pModel ){ *ppModel = pModel; return SQLITE_OK; }
  z = (const char*)sqlite3_value_text(argv[iArg]);
  if( z==0 ) return SQLITE_NOMEM;
  n = sqlite3_value_bytes(argv[iArg]);
  pCache = (SegModelCache*)sqlite3_get_auxdata(ctx, SEG_MODEL_CACHE_ID);
  for(i=0; pCache && i<pCache->n; i++){
    e = &pCache->a[i];
    if( e->pKind==pKind && e->nKey==n && memcmp(e->zKey, z, n)==0 ){
      e->iUse = ++pCache->iUse;
      *ppModel = e->pModel;
      return SQLITE_OK;
    }
  }
  rc = pKind->xParse(z, n, &pModel);
  if( rc ) return rc;
  if( pCache==0 ){
    pCache = sqlite3_malloc64(sizeof(*pCache));
    if( pCache==0 ){ pKind->xFree(pModel); return SQLITE_NOMEM; }
    memset(pCache, 0, sizeof(*pCache));
    sqlite3_set_auxdata(ctx, SEG_MODEL_CACHE_ID, pCache, segModelCacheFree);
    pCache = (SegModelCache*)sqlite3_get_auxdata(ctx, SEG_MODEL_CACHE_ID);
    if( pCache==0 ){
      /* not kept (out of memory, or a SQLite without statement auxdata):
      ** on the argument */
      sqlite3_set_auxdata(ctx, iArg, pModel, pKind->xFree);
      *ppModel = sqlite3_get_auxdata(ctx, iArg);
      return *ppModel ? SQLITE_OK : SQLITE_NOMEM;
    }
  }
  zKey = sqlite3_malloc64((u64)n+1);
  if( zKey==0 ){ pKind->xFree(pModel); return SQLITE_NOMEM; }
  memcpy(zKey, z, n);
  zKey[n] = 0;
  if( pCache->n<SEG_MODEL_CACHE_N ){
    e = &pCache->a[pCache->n++];
  }else{
    /* evict the least recently used (never the one just used) */
    e = &pCache->a[0];
    for(i=1; i<SEG_MODEL_CACHE_N; i++){
      if( pCache->a[i].iUse<e->iUse ) e = &pCache->a[i];
    }
    e->pKind->xFree(e->pModel);
    sqlite3_free(e->zKey);
  }
  e->pKind = pKind;
  e->zKey = zKey;
  e->nKey = n;
  e->pModel = pModel;
  e->iUse = ++pCache->iUse;
  *ppModel = pModel;
  return SQLITE_OK;
}
