/*
** privacy.c: pseudonymize(value, key), a keyed hash of customer ids.
**
**   SELECT pseudonymize(customer_id, 'secret key') FROM customers;
**
** Requirements:
**   1. The result is HMAC-SHA-256(key, value) (RFC 2104, FIPS 180-4) as 64
**      lower-case hex digits, so exports made with the same key join on
**      it without exposing the ids.
**   2. value: TEXT and BLOB hash their bytes; INTEGER and REAL hash their
**      text as CAST(value AS TEXT) gives it (so 42 and '42' hash alike).
**      A NULL value gives NULL.
**   3. key: TEXT or BLOB, at least one byte.  No key, no result: a NULL or
**      empty key, or pseudonymize(value) with no key, is an error.
**   4. Deterministic and innocuous: it reads nothing but its arguments.
*/
#include "segmentInt.h"
#include <string.h>

typedef struct Sha256 Sha256;
struct Sha256 {
  unsigned int h[8];
  unsigned char buf[64];
  u64 nByte;
  int nBuf;
};

static const unsigned int sha256K[64] = {
  0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,
  0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,
  0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,
  0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
  0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,
  0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,
  0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,
  0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
  0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,
  0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,
  0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2
};

#define ROTR(x,n) (((x)>>(n)) | ((x)<<(32-(n))))

static void sha256Block(Sha256 *p, const unsigned char *b){
  unsigned int w[64], a, bb, c, d, e, f, g, h;
  int i;
  for(i=0; i<16; i++){
    w[i] = ((unsigned int)b[4*i]<<24) | ((unsigned int)b[4*i+1]<<16)
         | ((unsigned int)b[4*i+2]<<8) | b[4*i+3];
  }
  for(i=16; i<64; i++){
    unsigned int s0 = ROTR(w[i-15],7) ^ ROTR(w[i-15],18) ^ (w[i-15]>>3);
    unsigned int s1 = ROTR(w[i-2],17) ^ ROTR(w[i-2],19) ^ (w[i-2]>>10);
    w[i] = w[i-16] + s0 + w[i-7] + s1;
  }
  a = p->h[0]; bb = p->h[1]; c = p->h[2]; d = p->h[3];
  e = p->h[4]; f = p->h[5]; g = p->h[6]; h = p->h[7];
  for(i=0; i<64; i++){
    unsigned int S1 = ROTR(e,6) ^ ROTR(e,11) ^ ROTR(e,25);
    unsigned int ch = (e & f) ^ (~e & g);
    unsigned int t1 = h + S1 + ch + sha256K[i] + w[i];
    unsigned int S0 = ROTR(a,2) ^ ROTR(a,13) ^ ROTR(a,22);
    unsigned int mj = (a & bb) ^ (a & c) ^ (bb & c);
    unsigned int t2 = S0 + mj;
    h = g; g = f; f = e; e = d + t1;
    d = c; c = bb; bb = a; a = t1 + t2;
  }
  p->h[0] += a; p->h[1] += bb; p->h[2] += c; p->h[3] += d;
  p->h[4] += e; p->h[5] += f; p->h[6] += g; p->h[7] += h;
}

static void sha256Init(Sha256 *p){
  static const unsigned int h0[8] = {
    0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,
    0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19
  };
  memcpy(p->h, h0, sizeof(h0));
  p->nByte = 0;
  p->nBuf = 0;
}

static void sha256Update(Sha256 *p, const unsigned char *z, u64 n){
  p->nByte += n;
  while( n>0 ){
    int k = 64 - p->nBuf;
    if( (u64)k>n ) k = (int)n;
    memcpy(p->buf + p->nBuf, z, k);
    p->nBuf += k;
    z += k;
    n -= k;
    if( p->nBuf==64 ){
      sha256Block(p, p->buf);
      p->nBuf = 0;
    }
  }
}

static void sha256Final(Sha256 *p, unsigned char *aOut){
  u64 nBit = p->nByte*8;
  unsigned char pad = 0x80, zero = 0, len[8];
  int i;
  sha256Update(p, &pad, 1);
  while( p->nBuf!=56 ) sha256Update(p, &zero, 1);
  for(i=0; i<8; i++) len[i] = (unsigned char)(nBit >> (56-8*i));
  sha256Update(p, len, 8);
  for(i=0; i<8; i++){
    aOut[4*i]   = (unsigned char)(p->h[i]>>24);
    aOut[4*i+1] = (unsigned char)(p->h[i]>>16);
    aOut[4*i+2] = (unsigned char)(p->h[i]>>8);
    aOut[4*i+3] = (unsigned char)(p->h[i]);
  }
}

/* HMAC-SHA-256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || m)) */
static void hmacSha256(const unsigned char *zKey, u64 nKey,
                       const unsigned char *zMsg, u64 nMsg,
                       unsigned char *aOut){
  unsigned char k[64], ipad[64], opad[64], inner[32];
  Sha256 s;
  int i;
  memset(k, 0, sizeof(k));
  if( nKey>64 ){
    sha256Init(&s);
    sha256Update(&s, zKey, nKey);
    sha256Final(&s, k);
  }else{
    memcpy(k, zKey, nKey);
  }
  for(i=0; i<64; i++){
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  sha256Init(&s);
  sha256Update(&s, ipad, 64);
  sha256Update(&s, zMsg, nMsg);
  sha256Final(&s, inner);
  sha256Init(&s);
  sha256Update(&s, opad, 64);
  sha256Update(&s, inner, 32);
  sha256Final(&s, aOut);
}

static void pseudonymizeFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  const unsigned char *zKey, *zMsg;
  int nKey, nMsg, i;
  unsigned char aMac[32];
  char zHex[65];
  if( argc<2 ){
    sqlite3_result_error(ctx,
        "pseudonymize() needs a key: pseudonymize(value, key)", -1);
    return;
  }
  if( sqlite3_value_type(argv[1])==SQLITE_NULL
   || sqlite3_value_bytes(argv[1])==0 ){
    sqlite3_result_error(ctx, "2nd argument to pseudonymize() must be a "
                              "non-empty key", -1);
    return;
  }
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ) return;
  if( sqlite3_value_type(argv[1])==SQLITE_BLOB ){
    zKey = sqlite3_value_blob(argv[1]);
  }else{
    zKey = sqlite3_value_text(argv[1]);
  }
  nKey = sqlite3_value_bytes(argv[1]);
  if( zKey==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( sqlite3_value_type(argv[0])==SQLITE_BLOB ){
    zMsg = sqlite3_value_blob(argv[0]);
  }else{
    zMsg = sqlite3_value_text(argv[0]);
  }
  nMsg = sqlite3_value_bytes(argv[0]);
  if( zMsg==0 && nMsg>0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( zMsg==0 ) zMsg = (const unsigned char*)"";
  hmacSha256(zKey, (u64)nKey, zMsg, (u64)nMsg, aMac);
  for(i=0; i<32; i++){
    zHex[2*i]   = "0123456789abcdef"[aMac[i]>>4];
    zHex[2*i+1] = "0123456789abcdef"[aMac[i]&15];
  }
  zHex[64] = 0;
  sqlite3_result_text(ctx, zHex, 64, SQLITE_TRANSIENT);
}

int segmentRegisterPrivacy(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "pseudonymize", 1, SEG_SCALAR_FLAGS, 0, pseudonymizeFunc, 0, 0 },
    { "pseudonymize", 2, SEG_SCALAR_FLAGS, 0, pseudonymizeFunc, 0, 0 },
  };
  return segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc), pzErr);
}
