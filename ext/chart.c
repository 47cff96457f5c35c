/*
** chart.c: charts as SVG text, drawn by aggregates over any query.
**
**   SELECT chart_bar(segment, n, 'title=Customers by segment')
**   FROM (SELECT segment, count(*) AS n FROM rfm_score('orders')
**         GROUP BY segment);
**
**   chart_bar(label, value [, options])        horizontal bars
**   chart_bar(label, value, series, options)   grouped or stacked bars
**   chart_histogram(value [, options])         counts of values in bins
**   chart_heatmap(x, y, value [, options])     a grid of coloured cells
**   chart_treemap(label, size [, colour [, options]])
**   chart_line(series, x, y [, options])       one line per series
**
** Requirements:
**   C1. The result is one standalone SVG document (TEXT) that parses as
**       XML; no script, no external reference.  No row (or only rows
**       skipped) gives NULL.
**   C2. Options are one text, 'key=value; key=value' (separated by ';'),
**       read by the one option parser: title, x_label, y_label, width
**       (200..4000, default 720), height (100..20000; by default from
**       the number of bars or cells), format (auto, integer, 0 .. 6 digits
**       after the point, percent), sort (input, label, label_desc, value,
**       value_desc), for chart_histogram bins (1..200), for chart_bar
**       layout (grouped, stacked: with a series argument).  The options
**       argument is read from the first row.
**   C3. Every mark (bar, cell, rectangle, point) carries its number in a
**       data-value attribute, written so that it reads back to the double
**       drawn, and a <title> (hover text) with its label and value.
**   C4. Text is XML-escaped; bytes that are not UTF-8, control characters
**       and bidirectional overrides are replaced by U+FFFD, and labels are
**       drawn isolated (unicode-bidi) so that right-to-left text stays in
**       its box.  Labels longer than their space are cut with an ellipsis
**       (the whole text, up to 300 characters, in the <title>); the layout
**       is computed from conservative glyph widths, so that no two texts
**       overlap at the default size.
**   C5. NULL labels, x, y or series are drawn as the category "(null)",
**       ordered first (as ORDER BY orders NULL); rows whose value, size or
**       y is NULL are skipped.  A value that is not a number, or is
**       infinite, is an error naming the argument.  Rows with the same
**       label (bar, treemap) or the same cell (heatmap) are summed.
**       Numbers beyond 1e300 in absolute value are an error (sums and
**       ticks need room above them); a sum or range that still overflows
**       is an error, never a chart of NaN.  A treemap whose sizes are all
**       0 is NULL.
**   C6. Limits, each an error when passed (so that a statement stops
**       early): 1000 bars, 5000 treemap rectangles, 200 heatmap columns
**       and 200 rows, 8 line series and 20000 points, 10,000,000
**       histogram values.
**   C7. Colours: the Okabe-Ito palette (bars, series, categories) and
**       viridis (continuous values), both readable with colour-blindness.
**
** The C interface (ChartBuilder in segmentInt.h) lets report.c draw the
** same charts from the rows of its own statements.
*/
#include "segmentInt.h"
#include <string.h>
#include <stdlib.h>

#define CHART_BAR       SEG_CHART_BAR
#define CHART_HISTOGRAM SEG_CHART_HISTOGRAM
#define CHART_HEATMAP   SEG_CHART_HEATMAP
#define CHART_TREEMAP   SEG_CHART_TREEMAP
#define CHART_LINE      SEG_CHART_LINE

#define CHART_MAX_BARS     1000
#define CHART_MAX_RECTS    5000
#define CHART_MAX_CELLS_1  200
#define CHART_MAX_SERIES   8
#define CHART_MAX_POINTS   20000
#define CHART_MAX_VALUES   10000000
#define CHART_TITLE_CHARS  300

#define CHART_FONT 12              /* px, labels */
#define CHART_FONT_TITLE 16

#define CHART_SORT_INPUT      0
#define CHART_SORT_LABEL      1
#define CHART_SORT_LABEL_DESC 2
#define CHART_SORT_VALUE      3
#define CHART_SORT_VALUE_DESC 4

#define CHART_FMT_AUTO    -1
#define CHART_FMT_INTEGER -2
#define CHART_FMT_PERCENT -3

static const char *const chartKindName[] = {
  "chart_bar", "chart_histogram", "chart_heatmap", "chart_treemap",
  "chart_line"
};

/* Okabe & Ito (2008), ordered for contrast on white */
static const char *const chartPalette[8] = {
  "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
  "#000000", "#F0E442"
};

/* A category axis: distinct values in a SegMap; id 0 is NULL, key index
** k has id k+1. */
typedef struct ChartAxis ChartAxis;
struct ChartAxis {
  SegMap map;
  int bNull;                      /* the NULL category was seen */
  int *aFirst;                    /* aFirst[id]: order of first appearance */
  int nFirstAlloc, nSeen;
};

typedef struct ChartPt ChartPt;
struct ChartPt { int i, j; double x, y; };

struct ChartBuilder {
  int eKind;
  const char *zFunc;
  int bOpts;                      /* options read */
  int nArgVal;                    /* arguments that are data */
  /* options */
  char *zTitle, *zXLabel, *zYLabel;
  int w, h, bHeight;
  int eFormat;
  int eSort;
  int nBins;
  int bSeries;                    /* chart_bar with a series argument */
  int bStacked;                   /* layout=stacked */
  /* data */
  ChartAxis a1, a2;               /* bar/treemap: labels; heatmap: x, y;
                                  ** line: series (a1) */
  ChartAxis acol;                 /* treemap: text colours */
  SegSum *aSum; int nSumAlloc;    /* per id of a1 (bar, treemap) */
  double *aColour; signed char *aColKind; /* treemap: per id of a1 */
  int nColAlloc, nColKindAlloc;
  int bColNum, bColText;
  ChartPt *aPt; i64 nPt, nPtAlloc;/* heatmap cells, line points */
  double *aVal; i64 nVal, nValAlloc; /* histogram */
  int eXKind;                     /* line: 0 unknown, 1 number, 2 date */
  SegCheck check;
};

/**************************************************************************
** Text: widths, escaping
*/

/* Decode one UTF-8 character at z[0..n-1]; *pnLen its bytes.  Returns
** 0xFFFD for a byte that does not start a valid sequence. */
static unsigned int chartUtf8(const unsigned char *z, int n, int *pnLen){
  unsigned int c = z[0];
  int k, i;
  if( c<0x80 ){ *pnLen = 1; return c; }
  if( c>=0xC2 && c<=0xDF ){ k = 1; c &= 0x1F; }
  else if( c>=0xE0 && c<=0xEF ){ k = 2; c &= 0x0F; }
  else if( c>=0xF0 && c<=0xF4 ){ k = 3; c &= 0x07; }
  else { *pnLen = 1; return 0xFFFD; }
  if( k>=n ){ *pnLen = 1; return 0xFFFD; }
  for(i=1; i<=k; i++){
    if( (z[i]&0xC0)!=0x80 ){ *pnLen = 1; return 0xFFFD; }
    c = (c<<6) | (z[i]&0x3F);
  }
  if( (k==2 && c<0x800) || (k==3 && (c<0x10000 || c>0x10FFFF))
   || (c>=0xD800 && c<=0xDFFF) ){
    *pnLen = 1; return 0xFFFD;
  }
  *pnLen = k+1;
  return c;
}

/* Characters never written: controls, bidi overrides and isolates,
** non-characters. */
static int chartBadChar(unsigned int c){
  if( c<0x20 ) return c!='\t';
  if( c>=0x7F && c<0xA0 ) return 1;
  if( (c>=0x202A && c<=0x202E) || (c>=0x2066 && c<=0x2069) ) return 1;
  if( c==0xFFFE || c==0xFFFF ) return 1;
  return 0;
}

/* Width of one character in px at font size 1, an upper bound of DejaVu
** Sans (the widest common sans-serif face) and near it for others. */
static double chartCharWidth(unsigned int c){
  if( c==' ' ) return 0.33;
  if( c>='0' && c<='9' ) return 0.64;
  if( c=='i' || c=='l' || c=='j' || c=='\'' || c=='|' || c=='.' || c==','
   || c==':' || c==';' || c=='!' ) return 0.34;
  if( c=='f' || c=='t' || c=='r' || c=='I' || c=='(' || c==')' || c=='['
   || c==']' || c=='-' ) return 0.45;
  if( c=='m' || c=='w' ) return 0.99;
  if( c=='M' || c=='W' ) return 1.0;
  if( c>='A' && c<='Z' ) return 0.78;
  if( c>='a' && c<='z' ) return 0.64;
  if( c<0x80 ) return 0.84;
  if( c>=0x1100 && (c<=0x115F || (c>=0x2E80 && c<=0xA4CF)
       || (c>=0xAC00 && c<=0xD7A3) || (c>=0xF900 && c<=0xFAFF)
       || (c>=0xFE30 && c<=0xFE4F) || (c>=0xFF00 && c<=0xFF60)
       || (c>=0xFFE0 && c<=0xFFE6) || c>=0x1F300) ) return 1.05;
  return 0.85;
}

/* Estimated width in px of z[0..n-1] at font size px. */
static double chartTextWidth(const char *z, int n, double px){
  const unsigned char *u = (const unsigned char*)z;
  double w = 0.0;
  int i = 0, k;
  while( i<n ){
    unsigned int c = chartUtf8(u+i, n-i, &k);
    w += chartCharWidth(c);
    i += k;
  }
  return w*px;
}

/* Bytes of z[0..n-1] that fit in rMax px with an ellipsis after them, or
** n when the whole text fits. */
static int chartFit(const char *z, int n, double px, double rMax){
  const unsigned char *u = (const unsigned char*)z;
  double w = 0.0, rEll = chartCharWidth(0x2026)*px;
  int i = 0, k, iLast = 0;
  if( chartTextWidth(z, n, px)<=rMax ) return n;
  while( i<n ){
    unsigned int c = chartUtf8(u+i, n-i, &k);
    w += chartCharWidth(c)*px;
    if( w + rEll > rMax ) break;
    i += k;
    iLast = i;
  }
  return iLast;
}

/* Append z[0..n-1] XML-escaped; at most nMaxChar characters (then an
** ellipsis); nMaxChar<0: no limit. */
static void chartEscape(sqlite3_str *p, const char *z, int n, int nMaxChar){
  const unsigned char *u = (const unsigned char*)z;
  int i = 0, k, nChar = 0, iRun = 0;
  while( i<n ){
    unsigned int c;
    if( nMaxChar>=0 && nChar>=nMaxChar ){
      sqlite3_str_append(p, z+iRun, i-iRun);
      sqlite3_str_appendall(p, "\xe2\x80\xa6");
      return;
    }
    c = chartUtf8(u+i, n-i, &k);
    nChar++;
    if( c=='&' || c=='<' || c=='>' || c=='"' || c=='\'' || c==0xFFFD
     || chartBadChar(c) ){
      sqlite3_str_append(p, z+iRun, i-iRun);
      switch( c ){
        case '&':  sqlite3_str_appendall(p, "&amp;"); break;
        case '<':  sqlite3_str_appendall(p, "&lt;"); break;
        case '>':  sqlite3_str_appendall(p, "&gt;"); break;
        case '"':  sqlite3_str_appendall(p, "&quot;"); break;
        case '\'': sqlite3_str_appendall(p, "&#39;"); break;
        default:   sqlite3_str_appendall(p, "\xef\xbf\xbd"); break;
      }
      iRun = i+k;
    }
    i += k;
  }
  sqlite3_str_append(p, z+iRun, i-iRun);
}

void chartAppendEscaped(sqlite3_str *p, const char *z, int n){
  chartEscape(p, z, n<0 ? (int)strlen(z) : n, -1);
}

/* A text element: zAttr are extra attributes (already safe), the text cut
** to rMax px (rMax<=0: not cut) with the whole text in a <title> when cut. */
static void chartText(sqlite3_str *p, double x, double y, const char *zAttr,
                      const char *z, int n, double px, double rMax){
  int nFit = rMax>0 ? chartFit(z, n, px, rMax) : n;
  sqlite3_str_appendf(p, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y,
                      zAttr ? " " : "", zAttr ? zAttr : "");
  if( nFit<n ){
    sqlite3_str_appendall(p, "<title>");
    chartEscape(p, z, n, CHART_TITLE_CHARS);
    sqlite3_str_appendall(p, "</title>");
    chartEscape(p, z, nFit, -1);
    sqlite3_str_appendall(p, "\xe2\x80\xa6");
  }else{
    chartEscape(p, z, n, -1);
  }
  sqlite3_str_appendall(p, "</text>\n");
}

/* A label on at most two lines of rMax px (zAttr: its anchor and
** colour): broken at the last space that lets the first line fit, the
** second line cut.  Returns the lines drawn. */
static int chartText2(sqlite3_str *p, double x, double y, const char *zAttr,
                      const char *z, int n, double rMax){
  int i, iBreak = -1, nFit;
  if( chartTextWidth(z, n, CHART_FONT)<=rMax ){
    chartText(p, x, y, zAttr, z, n, CHART_FONT, rMax);
    return 1;
  }
  for(i=0; i<n; i++){
    if( z[i]==' ' && chartTextWidth(z, i, CHART_FONT)<=rMax ) iBreak = i;
  }
  if( iBreak<=0 ){
    chartText(p, x, y, zAttr, z, n, CHART_FONT, rMax);
    return 1;
  }
  chartText(p, x, y, zAttr, z, iBreak, CHART_FONT, rMax);
  nFit = chartFit(z+iBreak+1, n-iBreak-1, CHART_FONT, rMax);
  if( nFit<n-iBreak-1 ){
    /* cut: the whole label in the hover text of the second line */
    sqlite3_str_appendf(p, "<text x=\"%.1f\" y=\"%.1f\" %s><title>", x,
                        y+14, zAttr);
    chartEscape(p, z, n, CHART_TITLE_CHARS);
    sqlite3_str_appendall(p, "</title>");
    chartEscape(p, z+iBreak+1, nFit, -1);
    sqlite3_str_appendall(p, "\xe2\x80\xa6</text>\n");
  }else{
    chartText(p, x, y+14, zAttr, z+iBreak+1, n-iBreak-1, CHART_FONT, 0);
  }
  return 2;
}

/**************************************************************************
** Numbers: nice ticks, formats
*/

/* Heckbert's nice number: 1, 2, 5 times a power of ten. */
static double chartNice(double x, int bRound){
  double e, f, nf;
  if( !(x>0) ) return 1.0;
  e = floor(log10(x));
  f = x/pow(10.0, e);
  if( bRound ){
    nf = f<1.5 ? 1 : f<3 ? 2 : f<7 ? 5 : 10;
  }else{
    nf = f<=1 ? 1 : f<=2 ? 2 : f<=5 ? 5 : 10;
  }
  return nf*pow(10.0, e);
}

/* k*step computed without the drift of repeated addition: step is
** m*10^e with m in 1, 2, 2.5, 5, 10, so k*step = k*(10m)*10^(e-1), one
** exact product and one correctly rounded scaling. */
static double chartTick(double step, double k){
  double e = floor(log10(step)+1e-9);
  double m10 = floor(step/pow(10.0, e)*10 + 0.5);
  if( e-1<0 ) return k*m10/pow(10.0, 1-e);
  return k*m10*pow(10.0, e-1);
}

/* Digits after the point that show every multiple of step exactly. */
static int chartStepDecimals(double step){
  double e = floor(log10(step)+1e-9);
  int m10 = (int)floor(step/pow(10.0, e)*10 + 0.5);
  int d = m10%10 ? (int)(1-e) : (int)(-e);
  return d<0 ? 0 : d>12 ? 12 : d;
}

typedef struct ChartScale ChartScale;
struct ChartScale {
  double lo, hi, step;            /* ticks lo, lo+step, ... hi */
  double kLo;                     /* lo = chartTick(step, kLo) */
  int nTick;
  int nDec;                       /* digits after the point of tick labels */
};

/* Nice ticks covering [a, b], at most nMax of them (>= 2). */
static void chartScale(ChartScale *s, double a, double b, int nMax){
  double step, kHi;
  if( nMax<2 ) nMax = 2;
  if( !(b>a) ){
    double d = a==0.0 ? 1.0 : fabs(a)*0.1;
    a -= d; b += d;
    if( a<0 && b-d>=0 ) a = 0;
  }
  step = chartNice(chartNice(b-a, 0)/(nMax-1), 1);
  for(;;){
    s->kLo = floor(a/step + 1e-9);
    kHi = ceil(b/step - 1e-9);
    if( kHi-s->kLo+1<=nMax || step>=1e300 ) break;
    step = chartNice(step*1.5, 0);
  }
  s->step = step;
  s->lo = chartTick(step, s->kLo);
  s->hi = chartTick(step, kHi);
  s->nTick = (int)(kHi - s->kLo) + 1;
  s->nDec = chartStepDecimals(step);
}

/* Digits grouped by thousands: "12,345,678" from "12345678". */
static void chartGroup(char *z, int nBuf){
  char zTmp[64];
  int n, nInt, i, j = 0, iStart = 0;
  const char *zDot;
  n = (int)strlen(z);
  if( n>=40 || nBuf<64 ) return;
  if( z[0]=='-' ) iStart = 1;
  zDot = strchr(z, '.');
  nInt = (zDot ? (int)(zDot-z) : n) - iStart;
  for(i=0; i<iStart; i++) zTmp[j++] = z[i];
  for(i=0; i<nInt; i++){
    if( i>0 && (nInt-i)%3==0 ) zTmp[j++] = ',';
    zTmp[j++] = z[iStart+i];
  }
  for(i=iStart+nInt; i<n; i++) zTmp[j++] = z[i];
  zTmp[j] = 0;
  memcpy(z, zTmp, j+1);
}

/* v as a label under format eFormat; nDec: digits for tick labels (-1 for
** a data value).  zBuf has 64 bytes.  Locale-independent (SQLite's
** printf). */
static void chartFormat(char *zBuf, double v, int eFormat, int nDec){
  if( v==0.0 ) v = 0.0;           /* no "-0" */
  if( eFormat==CHART_FMT_PERCENT ){
    int d = nDec>=0 ? (nDec>2 ? nDec-2 : 0) : 1;
    sqlite3_snprintf(64, zBuf, "%.*f", d, v*100.0);
    chartGroup(zBuf, 64);
    strcat(zBuf, "%");
    return;
  }
  if( eFormat==CHART_FMT_INTEGER ){
    sqlite3_snprintf(64, zBuf, "%.0f", v);
  }else if( eFormat>=0 ){
    sqlite3_snprintf(64, zBuf, "%.*f", eFormat, v);
  }else if( fabs(v)>=1e15 ){
    sqlite3_snprintf(64, zBuf, "%.3g", v);
    return;
  }else if( nDec>=0 ){
    sqlite3_snprintf(64, zBuf, "%.*f", nDec, v);
  }else if( v==floor(v) ){
    sqlite3_snprintf(64, zBuf, "%.0f", v);
  }else{
    /* two digits after the point, or three significant ones */
    int d = fabs(v)>=1.0 ? 2 : (int)ceil(-log10(fabs(v))) + 2;
    int n;
    if( d>10 ) d = 10;
    sqlite3_snprintf(64, zBuf, "%.*f", d, v);
    n = (int)strlen(zBuf);
    while( n>1 && zBuf[n-1]=='0' ) zBuf[--n] = 0;
    if( n>1 && zBuf[n-1]=='.' ) zBuf[--n] = 0;
  }
  if( strcmp(zBuf, "-0")==0 ) strcpy(zBuf, "0");
  chartGroup(zBuf, 64);
}

void chartFormatNumber(char *zBuf, double v, int eFormat){
  chartFormat(zBuf, v, eFormat, -1);
}

/* A data value for data-value="": reads back to v. */
static void chartAppendValue(sqlite3_str *p, double v){
  char zBuf[SEG_NUMBER_SIZE];
  if( v==floor(v) && fabs(v)<9.0e15 ){
    sqlite3_str_appendf(p, "%lld", (sqlite3_int64)v);
  }else{
    segNumberFormat(zBuf, v);
    sqlite3_str_appendall(p, zBuf);
  }
}

/**************************************************************************
** Colours
*/
static void chartViridis(double t, char *zBuf){
  static const unsigned char a[9][3] = {
    {68,1,84}, {71,44,122}, {59,81,139}, {44,113,142}, {33,144,141},
    {39,173,129}, {92,200,99}, {170,220,50}, {253,231,37}
  };
  int i, c[3], k;
  double f;
  if( !(t>=0) ) t = 0;
  if( t>1 ) t = 1;
  f = t*8;
  i = (int)f;
  if( i>=8 ) i = 7;
  f -= i;
  for(k=0; k<3; k++) c[k] = (int)(a[i][k] + (a[i+1][k]-a[i][k])*f + 0.5);
  sqlite3_snprintf(8, zBuf, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* Text on colour zHex: dark or light? */
static const char *chartInk(const char *zHex){
  int r, g, b;
  unsigned int v = (unsigned int)strtoul(zHex+1, 0, 16);
  r = (v>>16)&255; g = (v>>8)&255; b = v&255;
  return (0.299*r + 0.587*g + 0.114*b) > 140 ? "#000000" : "#ffffff";
}

/**************************************************************************
** Categories
*/
static void chartAxisInit(ChartAxis *a){
  memset(a, 0, sizeof(*a));
  segMapInit(&a->map);
}
static void chartAxisFree(ChartAxis *a){
  segMapFree(&a->map);
  sqlite3_free(a->aFirst);
}
static int chartAxisCount(const ChartAxis *a){ return a->map.nKey + 1; }

/* The id of pVal (0 for NULL); *pbNew when first seen. */
static int chartAxisFind(ChartAxis *a, sqlite3_value *pVal, int *piId,
                         int *pbNew){
  int rc = SQLITE_OK, iIdx = 0, bNew = 0;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    bNew = !a->bNull;
    a->bNull = 1;
    *piId = 0;
  }else{
    rc = segMapFind(&a->map, pVal, 0, &iIdx, &bNew);
    if( rc ) return rc;
    *piId = iIdx+1;
  }
  if( bNew ){
    rc = segArrayEnsure((void**)&a->aFirst, &a->nFirstAlloc, *piId,
                        sizeof(int));
    if( rc ) return rc;
    a->aFirst[*piId] = a->nSeen++;
  }
  *pbNew = bNew;
  return SQLITE_OK;
}

/* Categories in use (a->nSeen), ids in ORDER BY order (NULL first) or
** in order of appearance: *paId sqlite3_malloc'd. */
static int chartAxisOrder(const ChartAxis *a, int bInput, int **paId){
  int *aId, *aIdx = 0, i, n = 0, rc;
  aId = sqlite3_malloc64(sizeof(int)*(a->nSeen+1));
  if( aId==0 ) return SQLITE_NOMEM;
  if( bInput ){
    if( a->bNull ) aId[a->aFirst[0]] = 0;
    for(i=0; i<a->map.nKey; i++) aId[a->aFirst[i+1]] = i+1;
  }else{
    if( a->bNull ) aId[n++] = 0;
    rc = segMapSorted(&a->map, &aIdx);
    if( rc ){ sqlite3_free(aId); return rc; }
    for(i=0; i<a->map.nKey; i++) aId[n++] = aIdx[i]+1;
    sqlite3_free(aIdx);
  }
  *paId = aId;
  return SQLITE_OK;
}

/* The label of category id: its text, pointer into the map or zBuf (64
** bytes). */
static const char *chartAxisLabel(const ChartAxis *a, int iId, char *zBuf,
                                  int *pn){
  const SegValue *v;
  if( iId==0 ){ *pn = 6; return "(null)"; }
  v = &a->map.aKey[iId-1];
  switch( v->eType ){
    case SQLITE_INTEGER:
      sqlite3_snprintf(64, zBuf, "%lld", v->u.i);
      break;
    case SQLITE_FLOAT:
      if( v->u.r==floor(v->u.r) && fabs(v->u.r)<1e15 ){
        sqlite3_snprintf(64, zBuf, "%lld", (sqlite3_int64)v->u.r);
      }else{
        sqlite3_snprintf(64, zBuf, "%!.15g", v->u.r);
      }
      break;
    case SQLITE_TEXT:
      *pn = v->n;
      return v->u.z;
    default:
      sqlite3_snprintf(64, zBuf, "(blob of %d bytes)", v->n);
      break;
  }
  *pn = (int)strlen(zBuf);
  return zBuf;
}

/**************************************************************************
** Options
*/
static const char *const chartOptNames[] = {
  "title", "x_label", "y_label", "width", "height", "format", "sort", 0
};
static const char *const chartOptNamesBar[] = {
  "title", "x_label", "y_label", "width", "height", "format", "sort",
  "layout", 0
};
static const char *const chartOptNamesHist[] = {
  "title", "x_label", "y_label", "width", "height", "format", "sort",
  "bins", 0
};

static int chartOptsParse(ChartBuilder *p, const char *z, char **pzErr){
  static const char *const azSort[] = {
    "input", "label", "label_desc", "value", "value_desc", 0
  };
  SegOpts opts;
  char *zCopy;
  int rc, i, iStart = 0;
  const char *zFmt;
  rc = segOptsInit(&opts, p->zFunc, p->eKind==CHART_HISTOGRAM
                   ? chartOptNamesHist : p->eKind==CHART_BAR
                   ? chartOptNamesBar : chartOptNames, 0);
  if( rc ) return rc;
  opts.nArg = 1;                  /* every piece is key=value */
  zCopy = sqlite3_mprintf("%s", z ? z : "");
  if( zCopy==0 ){ segOptsFree(&opts); return SQLITE_NOMEM; }
  for(i=0; rc==SQLITE_OK; i++){
    if( zCopy[i]==';' || zCopy[i]==0 ){
      int bEnd = zCopy[i]==0, j;
      zCopy[i] = 0;
      for(j=iStart; zCopy[j]==' ' || zCopy[j]=='\t' || zCopy[j]=='\n'; j++){}
      if( zCopy[j] ) rc = segOptsAdd(&opts, zCopy+iStart, 0, pzErr);
      iStart = i+1;
      if( bEnd ) break;
    }
  }
  sqlite3_free(zCopy);
  if( rc==SQLITE_OK ) rc = segOptsInt(&opts, "width", 720, 200, 4000, &p->w,
                                      pzErr);
  if( rc==SQLITE_OK ){
    p->bHeight = segOptsGet(&opts, "height")!=0;
    rc = segOptsInt(&opts, "height", 420, 100, 20000, &p->h, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = segOptsEnum(&opts, "sort", azSort,
                     p->eKind==CHART_BAR ? CHART_SORT_INPUT : CHART_SORT_LABEL,
                     &p->eSort, pzErr);
  }
  if( rc==SQLITE_OK && p->eKind==CHART_HISTOGRAM ){
    rc = segOptsInt(&opts, "bins", 0, 1, 200, &p->nBins, pzErr);
  }
  if( rc==SQLITE_OK && p->eKind==CHART_BAR ){
    static const char *const azLayout[] = { "grouped", "stacked", 0 };
    rc = segOptsEnum(&opts, "layout", azLayout, 0, &p->bStacked, pzErr);
  }
  if( rc==SQLITE_OK ){
    zFmt = segOptsGet(&opts, "format");
    p->eFormat = CHART_FMT_AUTO;
    if( zFmt==0 || sqlite3_stricmp(zFmt, "auto")==0 ){
      /* the default */
    }else if( sqlite3_stricmp(zFmt, "integer")==0 ){
      p->eFormat = CHART_FMT_INTEGER;
    }else if( sqlite3_stricmp(zFmt, "percent")==0 ){
      p->eFormat = CHART_FMT_PERCENT;
    }else if( zFmt[0]>='0' && zFmt[0]<='6' && zFmt[1]==0 ){
      p->eFormat = zFmt[0]-'0';
    }else{
      *pzErr = segOptsError(&opts, "format must be auto, integer, percent or "
                            "a number of digits 0..6, not '%s'", zFmt);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ){
    const char *zT;
    if( (zT = segOptsGet(&opts, "title"))!=0
     && (p->zTitle = sqlite3_mprintf("%s", zT))==0 ) rc = SQLITE_NOMEM;
    if( (zT = segOptsGet(&opts, "x_label"))!=0
     && (p->zXLabel = sqlite3_mprintf("%s", zT))==0 ) rc = SQLITE_NOMEM;
    if( (zT = segOptsGet(&opts, "y_label"))!=0
     && (p->zYLabel = sqlite3_mprintf("%s", zT))==0 ) rc = SQLITE_NOMEM;
  }
  segOptsFree(&opts);
  return rc;
}

/**************************************************************************
** The builder
*/
int chartBuilderNew(int eKind, sqlite3 *db, ChartBuilder **pp){
  ChartBuilder *p = sqlite3_malloc64(sizeof(*p));
  *pp = 0;
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->eKind = eKind;
  p->zFunc = chartKindName[eKind];
  p->w = 720; p->h = 420;
  p->eFormat = CHART_FMT_AUTO;
  p->eSort = eKind==CHART_BAR ? CHART_SORT_INPUT : CHART_SORT_LABEL;
  chartAxisInit(&p->a1);
  chartAxisInit(&p->a2);
  chartAxisInit(&p->acol);
  segCheckInit(&p->check, db);
  *pp = p;
  return SQLITE_OK;
}

void chartBuilderFree(ChartBuilder *p){
  if( p==0 ) return;
  sqlite3_free(p->zTitle);
  sqlite3_free(p->zXLabel);
  sqlite3_free(p->zYLabel);
  chartAxisFree(&p->a1);
  chartAxisFree(&p->a2);
  chartAxisFree(&p->acol);
  sqlite3_free(p->aSum);
  sqlite3_free(p->aColour);
  sqlite3_free(p->aColKind);
  sqlite3_free(p->aPt);
  sqlite3_free(p->aVal);
  segCheckFree(&p->check);
  sqlite3_free(p);
}

int chartBuilderOptions(ChartBuilder *p, const char *zOpts, char **pzErr){
  p->bOpts = 1;
  return chartOptsParse(p, zOpts, pzErr);
}

#define CHART_ERR(...) \
  (*pzErr = sqlite3_mprintf(__VA_ARGS__), *pzErr ? SQLITE_ERROR : SQLITE_NOMEM)

/* The number of argument iArg (1-based, for messages): 0 and *pr set,
** 1 when NULL, or an error. */
static int chartNumber(ChartBuilder *p, sqlite3_value *pVal, int iArg,
                       double *pr, int *pbNull, char **pzErr){
  int e = sqlite3_value_type(pVal);
  *pbNull = 0;
  if( e==SQLITE_NULL ){ *pbNull = 1; return SQLITE_OK; }
  if( e==SQLITE_INTEGER || e==SQLITE_FLOAT ){
    *pr = sqlite3_value_double(pVal);
  }else if( e==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(pVal);
    int n = sqlite3_value_bytes(pVal);
    int r;
    if( z==0 ) return SQLITE_NOMEM;
    while( n>0 && (z[0]==' ' || z[0]=='\t') ){ z++; n--; }
    while( n>0 && (z[n-1]==' ' || z[n-1]=='\t') ) n--;
    r = segNumberParse(z, n, pr);
    if( r<0 ) return SQLITE_NOMEM;
    if( r==0 ){
      return CHART_ERR("%s argument to %s() is not a number: '%.40s'",
                       segOrdinal(iArg), p->zFunc, z);
    }
  }else{
    return CHART_ERR("%s argument to %s() is not a number (a blob)",
                     segOrdinal(iArg), p->zFunc);
  }
  if( isnan(*pr) || isinf(*pr) ){
    return CHART_ERR("%s argument to %s() is not a finite number",
                     segOrdinal(iArg), p->zFunc);
  }
  if( fabs(*pr)>1e300 ){
    /* room for sums and round ticks above the data */
    return CHART_ERR("%s argument to %s() is too large to draw (more than "
                     "1e300 in absolute value)", segOrdinal(iArg), p->zFunc);
  }
  return SQLITE_OK;
}

/* Add to the per-label sum of id (bar, treemap). */
static int chartSumAdd(ChartBuilder *p, int iId, double v, int bNew){
  if( bNew ){
    int rc = segArrayEnsure((void**)&p->aSum, &p->nSumAlloc, iId,
                            sizeof(SegSum));
    if( rc ) return rc;
    p->aSum[iId].s = 0; p->aSum[iId].c = 0;
  }
  segSumAdd(&p->aSum[iId], v);
  return SQLITE_OK;
}

static int chartAddPt(ChartBuilder *p, int i, int j, double x, double y){
  if( segArrayGrow((void**)&p->aPt, &p->nPtAlloc, p->nPt, sizeof(ChartPt), 64,
                   SEG_ARRAY_MAX) ){
    return SQLITE_NOMEM;
  }
  p->aPt[p->nPt].i = i; p->aPt[p->nPt].j = j;
  p->aPt[p->nPt].x = x; p->aPt[p->nPt].y = y;
  p->nPt++;
  return SQLITE_OK;
}

/* The label of a row (bar, treemap) found or added, and v added to its
** sum; a new label beyond nMax is an error naming zWhat. */
static int chartStepLabel(ChartBuilder *p, sqlite3_value *pLabel, double v,
                          int nMax, const char *zWhat, int *piId,
                          int *pbNew, char **pzErr){
  int rc = chartAxisFind(&p->a1, pLabel, piId, pbNew);
  if( rc ) return rc;
  if( *pbNew && p->a1.nSeen>nMax ){
    return CHART_ERR("%s(): more than %d %s (group or filter the rows "
                     "first)", p->zFunc, nMax, zWhat);
  }
  return chartSumAdd(p, *piId, v, *pbNew);
}

/* More series in a than a chart colours apart: an error (C6) */
static int chartSeriesLimit(ChartBuilder *p, const ChartAxis *a,
                            char **pzErr){
  if( a->nSeen>CHART_MAX_SERIES ){
    return CHART_ERR("%s(): more than %d series", p->zFunc,
                     CHART_MAX_SERIES);
  }
  return SQLITE_OK;
}

/* A row of a grid (bar with series, heatmap): ids i and j, value v,
** summed when drawn */
static int chartStepCell(ChartBuilder *p, int i, int j, double v,
                         char **pzErr){
  if( p->nPt>=(i64)CHART_MAX_VALUES ){
    return CHART_ERR("%s(): more than %d rows", p->zFunc, CHART_MAX_VALUES);
  }
  return chartAddPt(p, i, j, 0, v);
}

/* chart_bar(label, value [, series]) */
static int chartStepBar(ChartBuilder *p, int argc, sqlite3_value **argv,
                        char **pzErr){
  int rc, bNull, iId, bNew, iId2, bNew2;
  double v = 0;
  rc = chartNumber(p, argv[1], 2, &v, &bNull, pzErr);
  if( rc || bNull ) return rc;
  rc = chartStepLabel(p, argv[0], v, CHART_MAX_BARS, "bars", &iId, &bNew,
                      pzErr);
  if( rc || argc<3 ) return rc;
  p->bSeries = 1;
  rc = chartAxisFind(&p->a2, argv[2], &iId2, &bNew2);
  if( rc==SQLITE_OK ) rc = chartSeriesLimit(p, &p->a2, pzErr);
  if( rc ) return rc;
  return chartStepCell(p, iId, iId2, v, pzErr);
}

/* The colour argument of a treemap row of label iId, bNew when the
** label is new (the first non-NULL colour of a label counts): a number,
** on the viridis scale, or text, one of 8 categories; not both kinds in
** one chart. */
static int chartStepColour(ChartBuilder *p, int iId, int bNew,
                           sqlite3_value *pCol, char **pzErr){
  int rc, e, bNull, iId2, bNew2;
  if( bNew ){
    rc = segArrayEnsure((void**)&p->aColour, &p->nColAlloc, iId,
                        sizeof(double));
    if( rc==SQLITE_OK ){
      rc = segArrayEnsure((void**)&p->aColKind, &p->nColKindAlloc, iId, 1);
    }
    if( rc ) return rc;
    p->aColKind[iId] = 0;
    p->aColour[iId] = 0;
  }
  if( pCol==0 || p->aColKind[iId]!=0 ) return SQLITE_OK;
  e = sqlite3_value_type(pCol);
  if( e==SQLITE_NULL ) return SQLITE_OK;
  if( e==SQLITE_INTEGER || e==SQLITE_FLOAT ){
    double c;
    rc = chartNumber(p, pCol, 3, &c, &bNull, pzErr);
    if( rc ) return rc;
    p->aColour[iId] = c;
    p->aColKind[iId] = 1;
    p->bColNum = 1;
  }else{
    rc = chartAxisFind(&p->acol, pCol, &iId2, &bNew2);
    if( rc ) return rc;
    if( p->acol.nSeen>8 ){
      return CHART_ERR("3rd argument to %s(): more than 8 colour "
                       "categories (use a number for a colour scale)",
                       p->zFunc);
    }
    p->aColour[iId] = p->acol.aFirst[iId2];
    p->aColKind[iId] = 2;
    p->bColText = 1;
  }
  if( p->bColNum && p->bColText ){
    return CHART_ERR("3rd argument to %s() mixes numbers and text",
                     p->zFunc);
  }
  return SQLITE_OK;
}

/* chart_treemap(label, size [, colour]) */
static int chartStepTreemap(ChartBuilder *p, int argc, sqlite3_value **argv,
                            char **pzErr){
  int rc, bNull, iId, bNew;
  double v = 0;
  rc = chartNumber(p, argv[1], 2, &v, &bNull, pzErr);
  if( rc || bNull ) return rc;
  if( v<0 ){
    return CHART_ERR("2nd argument to %s() is negative: a size is 0 or "
                     "more", p->zFunc);
  }
  rc = chartStepLabel(p, argv[0], v, CHART_MAX_RECTS, "rectangles", &iId,
                      &bNew, pzErr);
  if( rc ) return rc;
  return chartStepColour(p, iId, bNew, argc>2 ? argv[2] : 0, pzErr);
}

/* chart_histogram(value): the values kept, up to CHART_MAX_VALUES */
static int chartStepHistogram(ChartBuilder *p, sqlite3_value **argv,
                              char **pzErr){
  int rc, bNull;
  double v = 0;
  rc = chartNumber(p, argv[0], 1, &v, &bNull, pzErr);
  if( rc || bNull ) return rc;
  if( p->nVal>=p->nValAlloc ){
    i64 n = p->nValAlloc ? p->nValAlloc*2 : 256;
    double *a;
    if( p->nVal>=CHART_MAX_VALUES ){
      return CHART_ERR("%s(): more than %d values", p->zFunc,
                       CHART_MAX_VALUES);
    }
    if( n>CHART_MAX_VALUES ) n = CHART_MAX_VALUES;
    a = sqlite3_realloc64(p->aVal, sizeof(double)*n);
    if( a==0 ) return SQLITE_NOMEM;
    p->aVal = a; p->nValAlloc = n;
  }
  p->aVal[p->nVal++] = v;
  return SQLITE_OK;
}

/* chart_heatmap(x, y, value) */
static int chartStepHeatmap(ChartBuilder *p, sqlite3_value **argv,
                            char **pzErr){
  int rc, bNull, iId, bNew, iId2, bNew2;
  double v = 0;
  rc = chartNumber(p, argv[2], 3, &v, &bNull, pzErr);
  if( rc || bNull ) return rc;
  rc = chartAxisFind(&p->a1, argv[0], &iId, &bNew);
  if( rc==SQLITE_OK ) rc = chartAxisFind(&p->a2, argv[1], &iId2, &bNew2);
  if( rc ) return rc;
  if( p->a1.nSeen>CHART_MAX_CELLS_1 || p->a2.nSeen>CHART_MAX_CELLS_1 ){
    return CHART_ERR("%s(): more than %d distinct %s values", p->zFunc,
                     CHART_MAX_CELLS_1,
                     p->a1.nSeen>CHART_MAX_CELLS_1 ? "x" : "y");
  }
  return chartStepCell(p, iId, iId2, v, pzErr);
}

/* The x of a line chart's row into *px: a number, or a date (its day
** number and time of day), not both in one chart; NULL sets *pbNull. */
static int chartLineX(ChartBuilder *p, sqlite3_value *pVal, double *px,
                      int *pbNull, char **pzErr){
  int rc, e = sqlite3_value_type(pVal);
  *pbNull = e==SQLITE_NULL;
  if( e==SQLITE_NULL ) return SQLITE_OK;
  if( e==SQLITE_TEXT ){
    i64 iMs;
    const char *z = (const char*)sqlite3_value_text(pVal);
    if( z==0 ) return SQLITE_NOMEM;
    if( p->eXKind!=1 && segDateFromText(z, sqlite3_value_bytes(pVal),
                                        &iMs)==SEG_DATE_OK ){
      p->eXKind = 2;
      *px = (double)iMs/SEG_MS_PER_DAY + 0.5;  /* day number + time */
      return SQLITE_OK;
    }
    if( p->eXKind!=1 ){
      return CHART_ERR("2nd argument to %s() is neither a number nor "
                       "a date: '%.40s'", p->zFunc, z);
    }
  }else if( p->eXKind!=2 ){
    rc = chartNumber(p, pVal, 2, px, pbNull, pzErr);
    if( rc ) return rc;
    p->eXKind = 1;
    return SQLITE_OK;
  }
  return CHART_ERR("2nd argument to %s() mixes numbers and dates",
                   p->zFunc);
}

/* chart_line(series, x, y) */
static int chartStepLine(ChartBuilder *p, sqlite3_value **argv,
                         char **pzErr){
  int rc, bNull, iId, bNew;
  double v = 0, x = 0;
  rc = chartNumber(p, argv[2], 3, &v, &bNull, pzErr);
  if( rc || bNull ) return rc;
  rc = chartLineX(p, argv[1], &x, &bNull, pzErr);
  if( rc || bNull ) return rc;
  rc = chartAxisFind(&p->a1, argv[0], &iId, &bNew);
  if( rc==SQLITE_OK ) rc = chartSeriesLimit(p, &p->a1, pzErr);
  if( rc ) return rc;
  if( p->nPt>=CHART_MAX_POINTS ){
    return CHART_ERR("%s(): more than %d points", p->zFunc,
                     CHART_MAX_POINTS);
  }
  return chartAddPt(p, iId, 0, x, v);
}

/* One row: the data arguments only (no options). */
int chartBuilderStep(ChartBuilder *p, int argc, sqlite3_value **argv,
                     char **pzErr){
  int rc = segCheck(&p->check, 100);
  if( rc ) return rc;
  switch( p->eKind ){
    case CHART_BAR:       return chartStepBar(p, argc, argv, pzErr);
    case CHART_TREEMAP:   return chartStepTreemap(p, argc, argv, pzErr);
    case CHART_HISTOGRAM: return chartStepHistogram(p, argv, pzErr);
    case CHART_HEATMAP:   return chartStepHeatmap(p, argv, pzErr);
    case CHART_LINE:      return chartStepLine(p, argv, pzErr);
  }
  return SQLITE_OK;
}

/**************************************************************************
** Drawing
*/
typedef struct ChartFrame ChartFrame;
struct ChartFrame {
  sqlite3_str *s;
  ChartBuilder *p;
  double top;                     /* first y below the title */
};

static void chartBegin(ChartFrame *f, ChartBuilder *p, sqlite3_str *s,
                       int bStandalone, int h){
  f->s = s;
  f->p = p;
  if( bStandalone ){
    sqlite3_str_appendall(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  }
  sqlite3_str_appendf(s,
    "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart %s\" "
    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
    "font-family=\"'DejaVu Sans', Verdana, sans-serif\" font-size=\"%d\">\n",
    p->zFunc, p->w, h, p->w, h, CHART_FONT);
  sqlite3_str_appendall(s, "<title>");
  if( p->zTitle ){
    chartEscape(s, p->zTitle, (int)strlen(p->zTitle), CHART_TITLE_CHARS);
  }else{
    sqlite3_str_appendall(s, p->zFunc);
  }
  sqlite3_str_appendall(s, "</title>\n");
  sqlite3_str_appendf(s, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                      p->w, h);
  if( p->zTitle ){
    chartText(s, 10, 24, "font-size=\"16\" font-weight=\"bold\" "
              "style=\"unicode-bidi:plaintext\"", p->zTitle,
              (int)strlen(p->zTitle), CHART_FONT_TITLE, p->w-20);
    f->top = 40;
  }else{
    f->top = 14;
  }
}

static void chartEnd(ChartFrame *f){
  sqlite3_str_appendall(f->s, "</svg>\n");
}

/* x axis label centred under the plot, y axis label rotated at the left */
static void chartAxisTitles(ChartFrame *f, double xMid, double yX,
                            double yMid, double rMaxX, double rMaxY){
  ChartBuilder *p = f->p;
  if( p->zXLabel ){
    chartText(f->s, xMid, yX, "text-anchor=\"middle\" "
              "style=\"unicode-bidi:plaintext\"", p->zXLabel,
              (int)strlen(p->zXLabel), CHART_FONT, rMaxX);
  }
  if( p->zYLabel ){
    char zAttr[120];
    sqlite3_snprintf(sizeof(zAttr), zAttr, "text-anchor=\"middle\" "
                     "transform=\"rotate(-90 16 %.1f)\"", yMid);
    chartText(f->s, 16, yMid+4, zAttr, p->zYLabel, (int)strlen(p->zYLabel),
              CHART_FONT, rMaxY);
  }
}

/* the widest tick label of a scale */
static double chartScaleWidth(const ChartScale *sc, int eFormat){
  char zBuf[64];
  double w = 0;
  int i;
  for(i=0; i<sc->nTick; i++){
    double t;
    chartFormat(zBuf, chartTick(sc->step, sc->kLo+i), eFormat, sc->nDec);
    t = chartTextWidth(zBuf, (int)strlen(zBuf), CHART_FONT);
    if( t>w ) w = t;
  }
  return w;
}

/* A horizontal value axis over [a, b] drawn along [x0, x1] at y (ticks,
** grid lines up to yTop, labels below): the scale chosen so that tick
** labels do not overlap. */
static void chartXScaleFit(ChartScale *sc, double a, double b, double rLen,
                           int eFormat){
  int nMax = 10;
  for(;;){
    double w;
    chartScale(sc, a, b, nMax);
    w = chartScaleWidth(sc, eFormat);
    if( nMax<=2 || (sc->nTick-1)*(w+12) <= rLen ) break;
    nMax--;
  }
}

static double chartMap(const ChartScale *sc, double v, double a, double b){
  if( sc->hi==sc->lo ) return a;
  return a + (v - sc->lo)/(sc->hi - sc->lo)*(b - a);
}

/* A tick label centred under x, the axis at y */
static void chartTickLabel(sqlite3_str *s, double x, double y,
                           const char *z){
  chartText(s, x, y+16, "text-anchor=\"middle\" fill=\"#444444\"", z,
            (int)strlen(z), CHART_FONT, 0);
}

/* The ticks, grid lines and labels of a value axis: along x from x0 to x1
** (bVertical 0; the labels under y, the grid lines up to yTop), or along
** y from y0 to y1 (bVertical 1; the labels left of x, the lines to
** xRight).  The line at 0 is darker. */
static void chartAxis(ChartFrame *f, const ChartScale *sc, int bVertical,
                      double a0, double a1, double at, double to){
  char zBuf[64];
  int i;
  for(i=0; i<sc->nTick; i++){
    double t = chartTick(sc->step, sc->kLo+i);
    double v = chartMap(sc, t, a0, a1);
    const char *zStroke = t==0.0 ? "#888888" : "#e4e4e4";
    chartFormat(zBuf, t, f->p->eFormat, sc->nDec);
    if( bVertical ){
      sqlite3_str_appendf(f->s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
        "y2=\"%.1f\" stroke=\"%s\"/>\n", at, v, to, v, zStroke);
      chartText(f->s, at-6, v+4, "text-anchor=\"end\" fill=\"#444444\"",
                zBuf, (int)strlen(zBuf), CHART_FONT, 0);
    }else{
      sqlite3_str_appendf(f->s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
        "y2=\"%.1f\" stroke=\"%s\"/>\n", v, to, v, at, zStroke);
      chartTickLabel(f->s, v, at, zBuf);
    }
  }
}

/* A vertical value scale with ticks at least 24 px apart */
static void chartYScaleFit(ChartScale *sc, double a, double b, double rLen){
  int nMax = (int)(rLen/28) + 1;
  if( nMax>8 ) nMax = 8;
  chartScale(sc, a, b, nMax);
}

/* <title>zLabel: value</title> and the closing tag */
static void chartMarkTitle(sqlite3_str *s, const char *zLab, int nLab,
                           const char *zVal, const char *zEnd){
  sqlite3_str_appendall(s, "<title>");
  if( zLab ){
    chartEscape(s, zLab, nLab, CHART_TITLE_CHARS);
    sqlite3_str_appendall(s, ": ");
  }
  sqlite3_str_appendall(s, zVal);
  sqlite3_str_appendf(s, "</title></%s>\n", zEnd);
}

/* Sort ids by their sums, for sort=value */
typedef struct ChartSortCtx ChartSortCtx;
struct ChartSortCtx { const double *a; int bDesc; };
static int chartCmpVal(void *pCtx, int i, int j){
  ChartSortCtx *c = (ChartSortCtx*)pCtx;
  double x = c->a[i], y = c->a[j];
  if( x==y ) return 0;
  return ((x<y) ^ c->bDesc) ? -1 : 1;
}

/* The category order of axis a under p->eSort: ids in *paId, values per
** id in aVal (for value sorts) or NULL. */
static int chartOrder(ChartBuilder *p, const ChartAxis *a, const double *aVal,
                      int **paId){
  int rc, n = a->nSeen, i;
  int eSort = p->eSort;
  if( aVal==0 && eSort>=CHART_SORT_VALUE ) eSort = CHART_SORT_LABEL;
  rc = chartAxisOrder(a, eSort==CHART_SORT_INPUT, paId);
  if( rc ) return rc;
  if( eSort==CHART_SORT_LABEL_DESC ){
    for(i=0; i<n/2; i++){
      int t = (*paId)[i]; (*paId)[i] = (*paId)[n-1-i]; (*paId)[n-1-i] = t;
    }
  }else if( eSort>=CHART_SORT_VALUE ){
    ChartSortCtx c;
    int *aPos = sqlite3_malloc64(sizeof(int)*(n+1));
    double *aV = sqlite3_malloc64(sizeof(double)*(n+1));
    if( aPos==0 || aV==0 ){
      sqlite3_free(aPos); sqlite3_free(aV);
      return SQLITE_NOMEM;
    }
    for(i=0; i<n; i++){ aPos[i] = i; aV[i] = aVal[(*paId)[i]]; }
    c.a = aV; c.bDesc = eSort==CHART_SORT_VALUE_DESC;
    rc = segSortIdx(aPos, n, chartCmpVal, &c);
    if( rc==SQLITE_OK ){
      for(i=0; i<n; i++) aPos[i] = (*paId)[aPos[i]];
      memcpy(*paId, aPos, sizeof(int)*n);
    }
    sqlite3_free(aPos); sqlite3_free(aV);
  }
  return rc;
}

static int chartError(ChartBuilder *p, char **pzErr, const char *zWhy){
  *pzErr = sqlite3_mprintf("%s(): %s", p->zFunc, zWhy);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* Sums and ranges of finite values can still overflow: an error, not a
** chart of NaN. */
static int chartOverflow(ChartBuilder *p, char **pzErr){
  return chartError(p, pzErr, "the values are too large to draw (a sum or "
                    "their range is beyond the largest number)");
}
#define CHART_FINITE(x) (!isnan(x) && !isinf(x))

/* The key of a legend entry: a swatch (bars) or a stroke (lines) */
#define CHART_KEY_RECT 0
#define CHART_KEY_LINE 1

/* A legend row (or rows) of series names with their keys (eKey), from
** y; returns its height.  bDraw 0: measure only.  A line chart's legend
** wraps before its first entry too when that does not fit (at widths
** near 200), leaving the first row empty: as it always has. */
static double chartLegend(sqlite3_str *s, const ChartAxis *a, const int *aId,
                          int n, double x0, double xMax, double y, int eKey,
                          int bDraw){
  double x = x0, rowY = y;
  char zBuf[64];
  int i, nLab;
  for(i=0; i<n; i++){
    const char *z = chartAxisLabel(a, aId[i], zBuf, &nLab);
    double w = chartTextWidth(z, nLab, CHART_FONT);
    if( w>160 ) w = 160;
    if( (x>x0 || eKey==CHART_KEY_LINE) && x + 22 + w > xMax ){
      x = x0; rowY += 18;
    }
    if( bDraw && eKey==CHART_KEY_LINE ){
      sqlite3_str_appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
        "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n", x, rowY+6, x+16,
        rowY+6, chartPalette[i]);
      chartText(s, x+22, rowY+10, "style=\"unicode-bidi:plaintext\"", z,
                nLab, CHART_FONT, 160);
    }else if( bDraw ){
      sqlite3_str_appendf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" "
        "height=\"10\" fill=\"%s\"/>\n", x, rowY+1, chartPalette[i]);
      chartText(s, x+20, rowY+10, "style=\"unicode-bidi:plaintext\"", z,
                nLab, CHART_FONT, 160);
    }
    x += 22 + w + 18;
  }
  return rowY - y + 22;
}

/* The top of the plot: below the title when there is one (as chartBegin
** places it) */
static double chartTop(const ChartBuilder *p){
  return p->zTitle ? 40 : 14;
}

/* The left edge of the plot: room for the y axis title, then for labels
** rLabW wide */
static double chartPlotLeft(const ChartBuilder *p, double rLabW){
  return 10 + (p->zYLabel ? 24 : 0) + rLabW + 8;
}

static int chartTooNarrow(ChartBuilder *p, char **pzErr){
  return chartError(p, pzErr, "the chart is too narrow for its labels "
                    "(raise width)");
}

/* The widest of the labels of categories aId[0..n-1] */
static double chartLabelsWidth(const ChartAxis *a, const int *aId, int n){
  char zBuf[64];
  double rMax = 0;
  int i, nLab;
  for(i=0; i<n; i++){
    const char *z = chartAxisLabel(a, aId[i], zBuf, &nLab);
    double w = chartTextWidth(z, nLab, CHART_FONT);
    if( w>rMax ) rMax = w;
  }
  return rMax;
}

/* The width of v written as a data label */
static double chartValueWidth(double v, int eFormat){
  char zNum[64];
  chartFormat(zNum, v, eFormat, -1);
  return chartTextWidth(zNum, (int)strlen(zNum), CHART_FONT);
}

/* A category label at the left of its row, ending at x, cut to rMax */
static void chartRowLabel(sqlite3_str *s, double x, double y, const char *z,
                          int n, double rMax){
  chartText(s, x, y, "text-anchor=\"end\" style=\"unicode-bidi:plaintext\"",
            z, n, CHART_FONT, rMax);
}

/* The <rect> of a mark up to its data-value (C3), the tag left open for
** more attributes; zExtra: attributes after the fill, already safe. */
static void chartMarkRect(sqlite3_str *s, double x, double y, double w,
                          double h, const char *zFill, const char *zExtra,
                          double v){
  sqlite3_str_appendf(s, "<rect class=\"mark\" x=\"%.2f\" y=\"%.2f\" "
    "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"%s data-value=\"", x, y, w, h,
    zFill, zExtra);
  chartAppendValue(s, v);
  sqlite3_str_appendall(s, "\"");
}

/* <title>a, b: value</title></rect> for a mark in two categories (a bar
** of a series, a heatmap cell); zNameA and zNameB, when not NULL, name
** the axes (cut shorter: the categories are what the reader looks for). */
static void chartMarkTitle2(sqlite3_str *s, const char *zNameA,
                            const char *zA, int nA, const char *zNameB,
                            const char *zB, int nB, const char *zVal){
  sqlite3_str_appendall(s, "<title>");
  if( zNameA ){
    chartEscape(s, zNameA, (int)strlen(zNameA), 60);
    sqlite3_str_appendall(s, " ");
  }
  chartEscape(s, zA, nA, CHART_TITLE_CHARS);
  sqlite3_str_appendall(s, ", ");
  if( zNameB ){
    chartEscape(s, zNameB, (int)strlen(zNameB), 60);
    sqlite3_str_appendall(s, " ");
  }
  chartEscape(s, zB, nB, CHART_TITLE_CHARS);
  sqlite3_str_appendf(s, ": %s</title></rect>\n", zVal);
}

/* The sum of each label of a1 (bar, treemap) by id: *paV
** sqlite3_malloc'd, 0 for the NULL id when no label was NULL. */
static int chartSums(ChartBuilder *p, double **paV){
  int i, nId = chartAxisCount(&p->a1);
  double *aV = sqlite3_malloc64(sizeof(double)*nId);
  *paV = aV;
  if( aV==0 ) return SQLITE_NOMEM;
  for(i=0; i<nId; i++){
    aV[i] = (i>0 || p->a1.bNull) ? segSumValue(&p->aSum[i]) : 0;
  }
  return SQLITE_OK;
}

/* Sums in the cells of a grid (bar: label id x series position; heatmap:
** column x row), and whether any row fell in each. */
typedef struct ChartGrid ChartGrid;
struct ChartGrid {
  SegSum *aCell;
  unsigned char *aHas;
  int nCell;
};

static int chartGridNew(ChartGrid *g, int nCell){
  g->nCell = nCell;
  g->aCell = sqlite3_malloc64(sizeof(SegSum)*nCell);
  g->aHas = sqlite3_malloc64(nCell);
  if( g->aCell==0 || g->aHas==0 ) return SQLITE_NOMEM;
  memset(g->aCell, 0, sizeof(SegSum)*nCell);
  memset(g->aHas, 0, nCell);
  return SQLITE_OK;
}

static void chartGridFree(ChartGrid *g){
  sqlite3_free(g->aCell);
  sqlite3_free(g->aHas);
}

/* The points summed into cells (i, j): i the point's first id through
** aPosI (the id itself when aPosI is NULL), j its second through aPosJ,
** nJ cells a row. */
static void chartGridAddPts(ChartGrid *g, const ChartBuilder *p,
                            const int *aPosI, const int *aPosJ, int nJ){
  i64 k;
  for(k=0; k<p->nPt; k++){
    int iPos = aPosI ? aPosI[p->aPt[k].i] : p->aPt[k].i;
    int c = iPos*nJ + aPosJ[p->aPt[k].j];
    segSumAdd(&g->aCell[c], p->aPt[k].y);
    g->aHas[c] = 1;
  }
}

/* 1 when the sum of every cell in use is finite (C5) */
static int chartGridFinite(const ChartGrid *g){
  int i;
  for(i=0; i<g->nCell; i++){
    if( g->aHas[i] && !CHART_FINITE(segSumValue(&g->aCell[i])) ) return 0;
  }
  return 1;
}

/* chart_bar: horizontal bars, labels at the left, values at the ends;
** with a series argument, grouped (one bar per series in each label's
** band) or stacked (layout=stacked: one bar of segments, the total at
** its end).  The state of one drawing: */
typedef struct ChartBar ChartBar;
struct ChartBar {
  ChartBuilder *p;
  int *aId;                       /* label ids in drawing order */
  int *aSer;                      /* series ids in order of appearance */
  int n, nS, bStack;              /* labels, series (1 without), stacked */
  double *aV;                     /* per label id: its total */
  ChartGrid g;                    /* label id x series position */
  ChartScale sc;
  double vMin, vMax;              /* range of the bars, or of the stacks */
  double rLabW, rValW, rNegW;     /* widest label, value right, value left */
  double left, x0, x1;            /* labels end at left; 0..max in x0..x1 */
  double top, band, plotH, h;     /* first band, band height, plot, svg */
  double legH, sub;               /* legend height; grouped: a bar's band */
};

/* The totals, the label order and the cells of the bars */
static int chartBarData(ChartBar *b, ChartBuilder *p){
  int i, rc, *aSPos;
  memset(b, 0, sizeof(*b));
  b->p = p;
  b->n = p->a1.nSeen;
  b->nS = p->bSeries ? p->a2.nSeen : 1;
  b->bStack = p->bStacked && p->bSeries;
  rc = chartSums(p, &b->aV);
  if( rc==SQLITE_OK ) rc = chartOrder(p, &p->a1, b->aV, &b->aId);
  if( rc==SQLITE_OK ) rc = chartGridNew(&b->g, chartAxisCount(&p->a1)*b->nS);
  if( rc ) return rc;
  if( !p->bSeries ){
    for(i=0; i<b->n; i++){
      b->g.aCell[b->aId[i]] = p->aSum[b->aId[i]];
      b->g.aHas[b->aId[i]] = 1;
    }
    return SQLITE_OK;
  }
  /* series in the order they first appear (the query says it) */
  rc = chartAxisOrder(&p->a2, 1, &b->aSer);
  if( rc ) return rc;
  aSPos = sqlite3_malloc64(sizeof(int)*chartAxisCount(&p->a2));
  if( aSPos==0 ) return SQLITE_NOMEM;
  for(i=0; i<b->nS; i++) aSPos[b->aSer[i]] = i;
  chartGridAddPts(&b->g, p, 0, aSPos, b->nS);
  sqlite3_free(aSPos);
  return SQLITE_OK;
}

/* The range of the bars (of the stacks, when stacked) and the widest
** value labels, of values at or above 0 and of those below */
static void chartBarExtent(ChartBar *b){
  int i, j, nS = b->nS, eFormat = b->p->eFormat;
  for(i=0; i<b->n; i++){
    int iId = b->aId[i];
    double rPos = 0, rNeg = 0, w;
    for(j=0; j<nS; j++){
      double v;
      if( !b->g.aHas[iId*nS+j] ) continue;
      v = segSumValue(&b->g.aCell[iId*nS+j]);
      if( b->bStack ){
        if( v>=0 ) rPos += v; else rNeg += v;
        continue;
      }
      if( v<b->vMin ) b->vMin = v;
      if( v>b->vMax ) b->vMax = v;
      w = chartValueWidth(v, eFormat);
      if( v>=0 && w>b->rValW ) b->rValW = w;
      if( v<0 && w>b->rNegW ) b->rNegW = w;
    }
    if( b->bStack ){
      if( rPos>b->vMax ) b->vMax = rPos;
      if( rNeg<b->vMin ) b->vMin = rNeg;
      w = chartValueWidth(b->aV[iId], eFormat);
      if( rPos>0 || rNeg==0 ){ if( w>b->rValW ) b->rValW = w; }
      else if( w>b->rNegW ) b->rNegW = w;
    }
  }
}

/* The band of each label: from height= (an error when too small), or
** the chart's height from the bands */
static int chartBarHeight(ChartBar *b, char **pzErr){
  ChartBuilder *p = b->p;
  int n = b->n;
  if( p->bHeight ){
    double rMin = b->sub>0 ? b->nS*b->sub + 8 : 16;
    b->plotH = p->h - b->top - 28 - (p->zXLabel ? 20 : 0) - 6;
    b->band = b->plotH/n;
    if( b->band<rMin ){
      return CHART_ERR("%s(): height=%d is too small for %d bars "
                       "(at least %d)", p->zFunc, p->h, n,
                       (int)ceil(n*rMin + b->top + 34
                                 + (p->zXLabel?20:0)));
    }
    b->h = p->h;
  }else{
    b->band = b->sub>0 ? b->nS*b->sub + 10 : 24;
    b->plotH = b->band*n;
    b->h = b->top + b->plotH + 28 + (p->zXLabel ? 20 : 0) + 6;
  }
  return SQLITE_OK;
}

/* Where everything goes, after the checks that the sums are finite and
** that the labels leave room for the bars */
static int chartBarLayout(ChartBar *b, sqlite3_str *s, char **pzErr){
  ChartBuilder *p = b->p;
  int i, rc;
  if( !chartGridFinite(&b->g) || !CHART_FINITE(b->vMax-b->vMin) ){
    return chartOverflow(p, pzErr);
  }
  for(i=0; i<b->n; i++){
    if( !CHART_FINITE(b->aV[b->aId[i]]) ) return chartOverflow(p, pzErr);
  }
  if( b->rLabW>p->w*0.3 ) b->rLabW = p->w*0.3;
  b->left = chartPlotLeft(p, b->rLabW);
  b->x0 = b->left + (b->rNegW>0 ? b->rNegW + 6 : 0);
  b->x1 = p->w - 10 - b->rValW - 6;
  if( b->x1 - b->x0 < 60 ) return chartTooNarrow(p, pzErr);
  b->top = chartTop(p);
  if( p->bSeries ){
    b->legH = chartLegend(s, &p->a2, b->aSer, b->nS, 10, p->w-10, b->top,
                          CHART_KEY_RECT, 0);
    b->top += b->legH;
  }
  b->sub = (p->bSeries && !b->bStack) ? 16 : 0;
  rc = chartBarHeight(b, pzErr);
  if( rc ) return rc;
  chartXScaleFit(&b->sc, b->vMin, b->vMax, b->x1-b->x0, p->eFormat);
  if( b->vMin<0 && b->sc.lo<b->vMin && -b->vMin<0.5*b->sc.step ){
    /* a small negative value: the axis starts at it, not a whole tick
    ** further, so that the positive bars keep the width */
    b->sc.lo = b->vMin;
    b->sc.kLo += 1;
    b->sc.nTick -= 1;
  }
  return SQLITE_OK;
}

/* The bar of series position j in label row i (band at y): stacked, it
** starts where the stack's last bar on its side of 0 ended (*pPos,
** *pNeg); else at 0, its value at its end. */
static void chartBarMark(ChartBar *b, sqlite3_str *s, const char *z,
                         int nLab, int i, int j, double y, double *pPos,
                         double *pNeg){
  ChartBuilder *p = b->p;
  const ChartScale *sc = &b->sc;
  double v = segSumValue(&b->g.aCell[b->aId[i]*b->nS + j]);
  double xa = chartMap(sc, 0.0, b->x0, b->x1), yb, bh, xl, xr, xb;
  char zNum[64], zSer[64];
  int nSer;
  if( b->sub>0 ){
    yb = y + 5 + b->sub*j; bh = b->sub - 3;
  }else{
    bh = b->band*0.72; yb = y + (b->band-bh)/2;
  }
  if( b->bStack ){
    if( v>=0 ){
      xl = chartMap(sc, *pPos, b->x0, b->x1);
      *pPos += v;
      xr = chartMap(sc, *pPos, b->x0, b->x1);
    }else{
      xr = chartMap(sc, *pNeg, b->x0, b->x1);
      *pNeg += v;
      xl = chartMap(sc, *pNeg, b->x0, b->x1);
    }
    xb = v<0 ? xl : xr;
  }else{
    xb = chartMap(sc, v, b->x0, b->x1);
    xl = xa<xb ? xa : xb; xr = xa<xb ? xb : xa;
  }
  chartMarkRect(s, xl, yb, xr-xl, bh,
    p->bSeries ? chartPalette[j] : v<0 ? chartPalette[3] : chartPalette[0],
    b->bStack ? " stroke=\"#ffffff\" stroke-width=\"0.5\"" : "", v);
  sqlite3_str_appendall(s, ">");
  chartFormat(zNum, v, p->eFormat, -1);
  if( p->bSeries ){
    const char *zS = chartAxisLabel(&p->a2, b->aSer[j], zSer, &nSer);
    chartMarkTitle2(s, 0, z, nLab, 0, zS, nSer, zNum);
  }else{
    chartMarkTitle(s, z, nLab, zNum, "rect");
  }
  if( !b->bStack ){
    chartText(s, v<0 ? xb-4 : xb+4, yb+bh/2+4,
              v<0 ? "text-anchor=\"end\" fill=\"#222222\"" : "fill=\"#222222\"",
              zNum, (int)strlen(zNum), CHART_FONT, 0);
  }
}

/* A stack's total, in bold beyond its end on the side it reaches */
static void chartBarTotal(ChartBar *b, sqlite3_str *s, int i, double y,
                          double rPos, double rNeg){
  double tot = b->aV[b->aId[i]];
  int bRight = rPos>0 || rNeg==0;
  double xt = chartMap(&b->sc, bRight ? rPos : rNeg, b->x0, b->x1);
  char zNum[64], zT[200];
  chartFormat(zNum, tot, b->p->eFormat, -1);
  sqlite3_snprintf(sizeof(zT), zT, "%s fill=\"#222222\" font-weight=\"bold\"",
                   bRight ? "" : "text-anchor=\"end\"");
  chartText(s, bRight ? xt+4 : xt-4, y+b->band/2+4, zT, zNum,
            (int)strlen(zNum), CHART_FONT, 0);
}

/* Label row i: its label, its bars, and when stacked the total */
static void chartBarRow(ChartBar *b, sqlite3_str *s, int i){
  char zBuf[64];
  int j, nLab;
  const char *z = chartAxisLabel(&b->p->a1, b->aId[i], zBuf, &nLab);
  double y = b->top + b->band*i, rPos = 0, rNeg = 0;
  chartRowLabel(s, b->left-8, y+b->band/2+4, z, nLab, b->rLabW);
  for(j=0; j<b->nS; j++){
    if( !b->g.aHas[b->aId[i]*b->nS + j] ) continue;
    chartBarMark(b, s, z, nLab, i, j, y, &rPos, &rNeg);
  }
  if( b->bStack ) chartBarTotal(b, s, i, y, rPos, rNeg);
}

static int chartDrawBar(ChartBuilder *p, sqlite3_str *s, int bStandalone,
                        char **pzErr){
  ChartBar b;
  ChartFrame f;
  int i, rc = chartBarData(&b, p);
  if( rc==SQLITE_OK ){
    b.rLabW = chartLabelsWidth(&p->a1, b.aId, b.n);
    chartBarExtent(&b);
    rc = chartBarLayout(&b, s, pzErr);
  }
  if( rc==SQLITE_OK ){
    chartBegin(&f, p, s, bStandalone, (int)ceil(b.h));
    if( p->bSeries ){
      chartLegend(s, &p->a2, b.aSer, b.nS, 10, p->w-10, b.top-b.legH,
                  CHART_KEY_RECT, 1);
    }
    chartAxis(&f, &b.sc, 0, b.x0, b.x1, b.top+b.plotH, b.top);
    for(i=0; i<b.n; i++) chartBarRow(&b, s, i);
    chartAxisTitles(&f, (b.x0+b.x1)/2, b.top+b.plotH+44, b.top+b.plotH/2,
                    b.x1-b.x0, b.plotH);
    chartEnd(&f);
  }
  sqlite3_free(b.aV);
  sqlite3_free(b.aId);
  sqlite3_free(b.aSer);
  chartGridFree(&b.g);
  return rc;
}

/* chart_histogram: counts in bins with edges on nice numbers.  The state
** of one drawing: */
typedef struct ChartHist ChartHist;
struct ChartHist {
  ChartBuilder *p;
  double vMin, vMax;              /* range of the values */
  double step, kLo;               /* bin edge i is chartTick(step, kLo+i) */
  int nBin;
  double *aEdge;                  /* nBin+1 edges */
  i64 *aCount;                    /* nBin counts */
  ChartScale sx, sy;              /* x: the edges; y: the counts */
  double left, right, top, bottom, plotH;
};

/* The bin width: for a range, the round step (1, 2, 2.5 or 5 times a
** power of ten) whose number of bins is nearest the target (bins=, or
** Sturges' rule) */
static double chartHistBinWidth(const ChartHist *h){
  static const double aM[] = { 1.0, 2.0, 2.5, 5.0, 10.0 };
  double vMin = h->vMin, vMax = h->vMax, e, rBest = 1e300, step = 1;
  int d, m, nTarget = h->p->nBins;
  if( nTarget==0 ){
    nTarget = (int)ceil(log2((double)h->p->nVal)) + 1;   /* Sturges */
    if( nTarget<5 ) nTarget = 5;
    if( nTarget>30 ) nTarget = 30;
  }
  if( !(vMax>vMin) ) return vMin==0 ? 1.0 : chartNice(fabs(vMin)*0.1, 1);
  e = floor(log10((vMax-vMin)/nTarget));
  for(d=-1; d<=1; d++){
    for(m=0; m<5; m++){
      double st = aM[m]*pow(10.0, e+d), kA, kB, diff;
      kA = floor(vMin/st + 1e-9);
      kB = ceil(vMax/st - 1e-9);
      if( kB<=kA ) kB = kA+1;
      diff = fabs((kB-kA) - nTarget);
      if( diff<rBest ){ rBest = diff; step = st; }
    }
  }
  return step;
}

/* The bins and the count of values in each */
static int chartHistBins(ChartHist *h){
  ChartBuilder *p = h->p;
  double step = h->step, kLo;
  int i, nBin;
  i64 k;
  kLo = floor(h->vMin/step + 1e-9);
  if( chartTick(step, kLo)>h->vMin ) kLo -= 1;
  if( chartTick(step, kLo+1)<=h->vMin ) kLo += 1;
  /* bins [e_i, e_i+1), the last one closed: the maximum on an edge
  ** belongs to the bin below it */
  nBin = (int)ceil((h->vMax - chartTick(step, kLo))/step - 1e-9);
  if( nBin<1 ) nBin = 1;
  while( chartTick(step, kLo+nBin)<h->vMax ) nBin++;
  if( nBin>400 ) nBin = 400;
  h->kLo = kLo;
  h->nBin = nBin;
  h->aEdge = sqlite3_malloc64(sizeof(double)*(nBin+1));
  h->aCount = sqlite3_malloc64(sizeof(i64)*(nBin));
  if( h->aEdge==0 || h->aCount==0 ) return SQLITE_NOMEM;
  for(i=0; i<=nBin; i++) h->aEdge[i] = chartTick(step, kLo+i);
  memset(h->aCount, 0, sizeof(i64)*nBin);
  for(k=0; k<p->nVal; k++){
    double v = p->aVal[k];
    int b = (int)floor((v - h->aEdge[0])/step);
    if( b<0 ) b = 0;
    if( b>nBin-1 ) b = nBin-1;
    while( b>0 && v<h->aEdge[b] ) b--;
    while( b<nBin-1 && v>=h->aEdge[b+1] ) b++;
    h->aCount[b]++;
    if( (k & 0xffff)==0 && segCheck(&p->check, 70000) ) return p->check.rc;
  }
  return SQLITE_OK;
}

/* The plot and its scales: whole-number counts up, the edges across */
static void chartHistLayout(ChartHist *h){
  ChartBuilder *p = h->p;
  ChartScale *sy = &h->sy, *sx = &h->sx;
  double maxCount = 0;
  int i;
  for(i=0; i<h->nBin; i++){
    if( h->aCount[i]>maxCount ) maxCount = (double)h->aCount[i];
  }
  h->top = chartTop(p);
  h->bottom = p->h - 28 - (p->zXLabel ? 20 : 0);
  h->plotH = h->bottom - h->top;
  chartYScaleFit(sy, 0, maxCount, h->plotH);
  if( sy->step<1 ){                /* counts: whole-number ticks */
    sy->step = 1; sy->nDec = 0; sy->kLo = 0; sy->lo = 0;
    sy->hi = ceil(maxCount<1 ? 1 : maxCount); sy->nTick = (int)sy->hi+1;
  }
  /* room for the count labels, whole numbers whatever format= says */
  h->left = chartPlotLeft(p, chartScaleWidth(sy, CHART_FMT_AUTO));
  h->right = p->w - 20;
  sx->step = h->step; sx->kLo = h->kLo;
  sx->lo = h->aEdge[0]; sx->hi = h->aEdge[h->nBin];
  sx->nTick = h->nBin+1;
  sx->nDec = chartStepDecimals(h->step);
}

/* x ticks on the bin edges, every k-th so that labels fit, k 1, 2, 5 or
** a multiple of 10 so that the ticks labelled are round multiples */
static void chartHistXTicks(ChartHist *h, sqlite3_str *s){
  double left = h->left, right = h->right, bottom = h->bottom;
  double w = chartScaleWidth(&h->sx, h->p->eFormat) + 12;
  double per = (right-left)/h->nBin;
  int every = (int)ceil(w/per), j;
  char zA[64];
  if( every<1 ) every = 1;
  while( every!=1 && every!=2 && every!=5 && every%10!=0 ) every++;
  for(j=0; j<=h->nBin; j++){
    double x = left + (right-left)*j/h->nBin;
    if( (i64)(h->kLo+j) % every != 0 ) continue;
    chartFormat(zA, h->aEdge[j], h->p->eFormat, h->sx.nDec);
    sqlite3_str_appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
      "y2=\"%.1f\" stroke=\"#888888\"/>\n", x, bottom, x, bottom+4);
    chartTickLabel(s, x, bottom, zA);
  }
}

/* The bar of bin i, its edges in data-from and data-to */
static void chartHistBar(ChartHist *h, sqlite3_str *s, int i){
  int eF = h->p->eFormat, nBin = h->nBin;
  double left = h->left, right = h->right, bottom = h->bottom;
  double x = left + (right-left)*i/nBin;
  double bw = (right-left)/nBin;
  double y = chartMap(&h->sy, (double)h->aCount[i], bottom, h->top);
  char zA[64], zB[64], zN[64], zTitle[200];
  if( h->aCount[i]>0 && bottom-y<1.5 ) y = bottom-1.5;  /* visible */
  chartFormat(zA, h->aEdge[i], eF, h->sx.nDec);
  chartFormat(zB, h->aEdge[i+1], eF, h->sx.nDec);
  chartFormat(zN, (double)h->aCount[i], CHART_FMT_AUTO, -1);
  chartMarkRect(s, x, y, bw, bottom-y, chartPalette[0], bw>4
                ? " stroke=\"#ffffff\" stroke-width=\"1\""
                : " stroke=\"#ffffff\" stroke-width=\"0\"",
                (double)h->aCount[i]);
  sqlite3_str_appendall(s, " data-from=\"");
  chartAppendValue(s, h->aEdge[i]);
  sqlite3_str_appendall(s, "\" data-to=\"");
  chartAppendValue(s, h->aEdge[i+1]);
  sqlite3_str_appendall(s, "\">");
  sqlite3_snprintf(sizeof(zTitle), zTitle, "%s to %s%s: %s", zA, zB,
                   i==nBin-1 ? " (inclusive)" : "", zN);
  chartMarkTitle(s, 0, 0, zTitle, "rect");
}

static int chartDrawHistogram(ChartBuilder *p, sqlite3_str *s,
                              int bStandalone, char **pzErr){
  ChartHist h;
  ChartFrame f;
  int i, rc, eSave;
  i64 k;
  memset(&h, 0, sizeof(h));
  h.p = p;
  h.vMin = h.vMax = p->aVal[0];
  for(k=1; k<p->nVal; k++){
    if( p->aVal[k]<h.vMin ) h.vMin = p->aVal[k];
    if( p->aVal[k]>h.vMax ) h.vMax = p->aVal[k];
  }
  if( !CHART_FINITE(h.vMax-h.vMin) ) return chartOverflow(p, pzErr);
  h.step = chartHistBinWidth(&h);
  rc = chartHistBins(&h);
  if( rc==SQLITE_OK ){
    chartHistLayout(&h);
    chartBegin(&f, p, s, bStandalone, p->h);
    eSave = p->eFormat;
    p->eFormat = CHART_FMT_AUTO;  /* counts are integers */
    chartAxis(&f, &h.sy, 1, h.bottom, h.top, h.left, h.right);
    p->eFormat = eSave;
    chartHistXTicks(&h, s);
    for(i=0; i<h.nBin; i++) chartHistBar(&h, s, i);
    chartAxisTitles(&f, (h.left+h.right)/2, h.bottom+40,
                    (h.top+h.bottom)/2, h.right-h.left, h.plotH);
    chartEnd(&f);
  }
  sqlite3_free(h.aEdge);
  sqlite3_free(h.aCount);
  return rc;
}

/* A colour legend at lx: a viridis bar from vMin (at the bottom) to vMax
** (at the top), as high as the plot from top to bottom but at most 200
** px, its ends labelled under eFormat (the lower end only when the bar
** leaves room for both), labels cut to rMax (0: not cut) */
static void chartViridisLegend(sqlite3_str *s, double lx, double top,
                               double bottom, double vMin, double vMax,
                               int eFormat, double rMax){
  double lh = bottom-top > 200 ? 200 : bottom-top;
  int i, nStep = 16;
  char zCol[8], zNum[64];
  for(i=0; i<nStep; i++){
    chartViridis((double)(nStep-1-i)/(nStep-1), zCol);
    sqlite3_str_appendf(s, "<rect x=\"%.1f\" y=\"%.2f\" width=\"14\" "
      "height=\"%.2f\" fill=\"%s\"/>\n", lx, top + lh*i/nStep, lh/nStep+0.5,
      zCol);
  }
  chartFormat(zNum, vMax, eFormat, -1);
  chartText(s, lx+20, top+10, "fill=\"#444444\"", zNum, (int)strlen(zNum),
            CHART_FONT, rMax);
  chartFormat(zNum, vMin, eFormat, -1);
  if( lh>=30 ){
    chartText(s, lx+20, top+lh, "fill=\"#444444\"", zNum,
              (int)strlen(zNum), CHART_FONT, rMax);
  }
}

/* chart_heatmap: x categories across, y categories up, viridis cells.
** The state of one drawing: */
typedef struct ChartHeat ChartHeat;
struct ChartHeat {
  ChartBuilder *p;
  int *aX, *aY;                   /* column ids, row ids, in order */
  int nx, ny;
  ChartGrid g;                    /* column position x row position */
  double vMin, vMax;              /* range of the cells in use */
  double rYLabW, rXLabW;          /* widest row label, column label */
  double left, right, top, bottom;/* the plot */
  double cw, ch, xLabH;           /* a cell; the column labels' height */
  int bRot;                       /* column labels: 0 level, 1 on two
                                  ** lines, 2 upright */
  int everyX, everyY;             /* labels of every k-th column, row */
};

/* The orders of the columns and rows, the cells and their range */
static int chartHeatData(ChartHeat *h, ChartBuilder *p){
  int *aPosX = 0, *aPosY = 0, i, rc, bAny = 0;
  memset(h, 0, sizeof(*h));
  h->p = p;
  h->nx = p->a1.nSeen;
  h->ny = p->a2.nSeen;
  h->everyX = h->everyY = 1;
  /* sort= orders the rows (y); columns are in label order, or input */
  rc = chartAxisOrder(&p->a1, p->eSort==CHART_SORT_INPUT, &h->aX);
  if( rc==SQLITE_OK ) rc = chartOrder(p, &p->a2, 0, &h->aY);
  if( rc ) return rc;
  aPosX = sqlite3_malloc64(sizeof(int)*chartAxisCount(&p->a1));
  aPosY = sqlite3_malloc64(sizeof(int)*chartAxisCount(&p->a2));
  rc = chartGridNew(&h->g, h->nx*h->ny);
  if( rc==SQLITE_OK && (!aPosX || !aPosY) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    for(i=0; i<h->nx; i++) aPosX[h->aX[i]] = i;
    for(i=0; i<h->ny; i++) aPosY[h->aY[i]] = i;
    chartGridAddPts(&h->g, p, aPosX, aPosY, h->ny);
    for(i=0; i<h->g.nCell; i++){
      double v = segSumValue(&h->g.aCell[i]);
      if( !h->g.aHas[i] ) continue;
      if( !bAny || v<h->vMin ) h->vMin = v;
      if( !bAny || v>h->vMax ) h->vMax = v;
      bAny = 1;
    }
  }
  sqlite3_free(aPosX);
  sqlite3_free(aPosY);
  return rc;
}

/* Where everything goes, after the checks that the sums are finite and
** that the labels and the legend leave room for the cells */
static int chartHeatLayout(ChartHeat *h, char **pzErr){
  ChartBuilder *p = h->p;
  double rLegW;
  if( !chartGridFinite(&h->g) || !CHART_FINITE(h->vMax-h->vMin) ){
    return chartOverflow(p, pzErr);
  }
  h->rYLabW = chartLabelsWidth(&p->a2, h->aY, h->ny);
  h->rXLabW = chartLabelsWidth(&p->a1, h->aX, h->nx);
  if( h->rYLabW>p->w*0.25 ) h->rYLabW = p->w*0.25;
  rLegW = 14 + 6 + fmax(chartValueWidth(h->vMax, p->eFormat),
                        chartValueWidth(h->vMin, p->eFormat));
  h->left = chartPlotLeft(p, h->rYLabW);
  h->right = p->w - 10 - rLegW - 12;
  if( h->right-h->left < 60 ) return chartTooNarrow(p, pzErr);
  h->cw = (h->right-h->left)/h->nx;
  /* x labels: level when they fit the cell; else on two lines when the
  ** cell is wide enough for a word or two; else turned upright and cut
  ** (every k-th when even that does not fit) */
  if( h->rXLabW > h->cw-6 ){
    if( h->cw>=48 ){
      h->bRot = 1;
      h->xLabH = 36;
    }else{
      h->bRot = 2;
      if( h->rXLabW>110 ) h->rXLabW = 110;
      h->everyX = (int)ceil(18.0/h->cw);
      h->xLabH = h->rXLabW + 14;
    }
  }else{
    h->xLabH = 20;
  }
  h->top = chartTop(p);
  if( p->bHeight ){
    h->bottom = p->h - h->xLabH - (p->zXLabel ? 20 : 0) - 6;
    h->ch = (h->bottom-h->top)/h->ny;
    if( h->ch<2 ){
      return chartError(p, pzErr, "the height is too small for the rows");
    }
  }else{
    h->ch = h->cw<28 ? 28 : h->cw>44 ? 44 : h->cw;
    if( h->ny*h->ch>600 ) h->ch = 600.0/h->ny;
    h->bottom = h->top + h->ch*h->ny;
  }
  if( h->ch<16 ) h->everyY = (int)ceil(16.0/h->ch);
  return SQLITE_OK;
}

/* The cell of column i and row j, its value in it when it fits */
static void chartHeatCell(ChartHeat *h, sqlite3_str *s, int i, int j){
  ChartBuilder *p = h->p;
  int c = i*h->ny + j, nx2, ny2;
  double v = segSumValue(&h->g.aCell[c]), cw = h->cw, ch = h->ch;
  double x = h->left + cw*i, y = h->bottom - ch*(j+1);
  const char *zx, *zy;
  char zBuf[64], zBuf2[64], zNum[64], zCol[8], zT[64];
  chartViridis(h->vMax>h->vMin ? (v-h->vMin)/(h->vMax-h->vMin) : 0.5, zCol);
  chartMarkRect(s, x, y, cw, ch, zCol, cw>6 && ch>6
                ? " stroke=\"#ffffff\" stroke-width=\"1\""
                : " stroke=\"#ffffff\" stroke-width=\"0\"", v);
  sqlite3_str_appendall(s, ">");
  zx = chartAxisLabel(&p->a1, h->aX[i], zBuf, &nx2);
  zy = chartAxisLabel(&p->a2, h->aY[j], zBuf2, &ny2);
  chartFormat(zNum, v, p->eFormat, -1);
  chartMarkTitle2(s, p->zXLabel, zx, nx2, p->zYLabel, zy, ny2, zNum);
  if( ch>=16 && chartTextWidth(zNum, (int)strlen(zNum), CHART_FONT)
                <= cw-6 ){
    sqlite3_snprintf(sizeof(zT), zT, "text-anchor=\"middle\" fill=\"%s\"",
                     chartInk(zCol));
    chartText(s, x+cw/2, y+ch/2+4, zT, zNum, (int)strlen(zNum),
              CHART_FONT, 0);
  }
}

/* The label of column i: level, on two lines or upright (h->bRot) */
static void chartHeatXLabel(ChartHeat *h, sqlite3_str *s, int i){
  char zBuf[64], zAttr[160];
  int nLab;
  const char *z = chartAxisLabel(&h->p->a1, h->aX[i], zBuf, &nLab);
  double x = h->left + h->cw*(i+0.5), bottom = h->bottom;
  if( h->bRot==1 ){
    chartText2(s, x, bottom+16, "text-anchor=\"middle\" "
               "style=\"unicode-bidi:plaintext\"", z, nLab, h->cw-6);
  }else if( h->bRot==2 ){
    sqlite3_snprintf(sizeof(zAttr), zAttr, "text-anchor=\"end\" "
      "style=\"unicode-bidi:plaintext\" "
      "transform=\"rotate(-90 %.1f %.1f)\"", x+4, bottom+8);
    chartText(s, x+4, bottom+8, zAttr, z, nLab, CHART_FONT, 110);
  }else{
    chartText(s, x, bottom+16, "text-anchor=\"middle\" "
              "style=\"unicode-bidi:plaintext\"", z, nLab, CHART_FONT, 0);
  }
}

static int chartDrawHeatmap(ChartBuilder *p, sqlite3_str *s, int bStandalone,
                            char **pzErr){
  ChartHeat h;
  ChartFrame f;
  int i, j, rc, nLab;
  char zBuf[64];
  rc = chartHeatData(&h, p);
  if( rc==SQLITE_OK ) rc = chartHeatLayout(&h, pzErr);
  if( rc==SQLITE_OK ){
    chartBegin(&f, p, s, bStandalone,
               (int)ceil(h.bottom + h.xLabH + (p->zXLabel ? 20 : 0) + 6));
    sqlite3_str_appendf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
      "height=\"%.1f\" fill=\"#f2f2f2\"/>\n", h.left, h.top, h.right-h.left,
      h.bottom-h.top);
    for(i=0; i<h.nx; i++){
      for(j=0; j<h.ny; j++){
        if( h.g.aHas[i*h.ny + j] ) chartHeatCell(&h, s, i, j);
      }
    }
    for(j=0; j<h.ny; j+=h.everyY){
      const char *z = chartAxisLabel(&p->a2, h.aY[j], zBuf, &nLab);
      chartRowLabel(s, h.left-6, h.bottom - h.ch*(j+0.5) + 4, z, nLab,
                    h.rYLabW);
    }
    for(i=0; i<h.nx; i+=h.everyX) chartHeatXLabel(&h, s, i);
    chartViridisLegend(s, h.right + 12, h.top, h.bottom, h.vMin, h.vMax,
                       p->eFormat, 0);
    chartAxisTitles(&f, (h.left+h.right)/2, h.bottom+h.xLabH+14,
                    (h.top+h.bottom)/2, h.right-h.left, h.bottom-h.top);
    chartEnd(&f);
  }
  sqlite3_free(h.aX);
  sqlite3_free(h.aY);
  chartGridFree(&h.g);
  return rc;
}

/* Squarified treemap (Bruls, Huizing, van Wijk 2000): items sorted by
** size descending, laid out in rows along the shorter side. */
typedef struct ChartRect ChartRect;
struct ChartRect { double x, y, w, h; };

static double chartWorst(const double *a, int i0, int i1, double rSide,
                         double rScale){
  double sum = 0, mx = 0, mn = 1e300, s2;
  int i;
  for(i=i0; i<i1; i++){
    double v = a[i]*rScale;
    sum += v;
    if( v>mx ) mx = v;
    if( v<mn ) mn = v;
  }
  if( sum<=0 || mn<=0 ) return 1e300;
  s2 = sum*sum;
  return fmax(rSide*rSide*mx/s2, s2/(rSide*rSide*mn));
}

static void chartSquarify(const double *a, int n, double x, double y,
                          double w, double h, ChartRect *aOut){
  double total = 0, rScale;
  int i = 0, k;
  for(k=0; k<n; k++) total += a[k];
  if( total<=0 ) return;
  rScale = w*h/total;
  while( i<n ){
    double side = w<h ? w : h, sum = 0, off = 0, thick;
    int j = i+1;
    while( j<n && chartWorst(a, i, j+1, side, rScale)
                  <= chartWorst(a, i, j, side, rScale) ) j++;
    for(k=i; k<j; k++) sum += a[k]*rScale;
    thick = sum/side;
    for(k=i; k<j; k++){
      double len = a[k]*rScale/thick;
      if( w<h ){            /* row along the top */
        aOut[k].x = x+off; aOut[k].y = y; aOut[k].w = len; aOut[k].h = thick;
      }else{                /* column at the left */
        aOut[k].x = x; aOut[k].y = y+off; aOut[k].w = thick; aOut[k].h = len;
      }
      off += len;
    }
    if( w<h ){ y += thick; h -= thick; }else{ x += thick; w -= thick; }
    if( w<0 ) w = 0;
    if( h<0 ) h = 0;
    i = j;
  }
}

/* chart_treemap: the state of one drawing */
typedef struct ChartTree ChartTree;
struct ChartTree {
  ChartBuilder *p;
  int *aId;                       /* label ids of sizes above 0 */
  int *aPos;                      /* aPos[i]: the id of rectangle i */
  int n;                          /* rectangles */
  double *aV;                     /* per label id: its size */
  double *aSize;                  /* aSize[i]: the size of rectangle i */
  ChartRect *aR;
  double cMin, cMax;              /* range of the numeric colours */
  int bAnyC;                      /* a numeric colour was seen */
  double top, left, right, bottom;
};

/* The rectangles in order: sizes above 0, the largest first (ties in
** label order); their total finite; the range of the colours */
static int chartTreeData(ChartTree *t, ChartBuilder *p, char **pzErr){
  int i, rc, nAll = p->a1.nSeen, n = 0;
  ChartSortCtx c;
  double tot = 0;
  memset(t, 0, sizeof(*t));
  t->p = p;
  rc = chartSums(p, &t->aV);
  if( rc==SQLITE_OK ) rc = chartAxisOrder(&p->a1, 0, &t->aId);
  if( rc ) return rc;
  t->aPos = sqlite3_malloc64(sizeof(int)*(nAll+1));
  t->aSize = sqlite3_malloc64(sizeof(double)*(nAll+1));
  t->aR = sqlite3_malloc64(sizeof(ChartRect)*(nAll+1));
  if( !t->aPos || !t->aSize || !t->aR ) return SQLITE_NOMEM;
  for(i=0; i<nAll; i++){
    if( t->aV[t->aId[i]]>0 ) t->aId[n++] = t->aId[i];
  }
  for(i=0; i<n; i++){ t->aPos[i] = i; t->aSize[i] = t->aV[t->aId[i]]; }
  c.a = t->aSize; c.bDesc = 1;
  rc = segSortIdx(t->aPos, n, chartCmpVal, &c);
  if( rc ) return rc;
  for(i=0; i<n; i++) t->aSize[i] = t->aV[t->aId[t->aPos[i]]];
  for(i=0; i<n; i++) t->aPos[i] = t->aId[t->aPos[i]];
  t->n = n;
  for(i=0; i<n; i++) tot += t->aSize[i];
  if( !CHART_FINITE(tot) ) return chartOverflow(p, pzErr);
  if( p->bColNum ){
    for(i=0; i<n; i++){
      double v = p->aColour[t->aPos[i]];
      if( p->aColKind[t->aPos[i]]!=1 ) continue;
      if( !t->bAnyC || v<t->cMin ) t->cMin = v;
      if( !t->bAnyC || v>t->cMax ) t->cMax = v;
      t->bAnyC = 1;
    }
  }
  return SQLITE_OK;
}

/* The fill of rectangle i (label iId): its colour on the scale or of its
** category, grey without one when others have one, else the palette */
static void chartTreeColour(ChartTree *t, int i, int iId, char *zCol){
  ChartBuilder *p = t->p;
  if( p->aColKind && p->aColKind[iId]==1 ){
    chartViridis(t->cMax>t->cMin
                 ? (p->aColour[iId]-t->cMin)/(t->cMax-t->cMin) : 0.5, zCol);
  }else if( p->aColKind && p->aColKind[iId]==2 ){
    sqlite3_snprintf(8, zCol, "%s", chartPalette[(int)p->aColour[iId]]);
  }else if( p->bColNum || p->bColText ){
    sqlite3_snprintf(8, zCol, "#bbbbbb");
  }else{
    sqlite3_snprintf(8, zCol, "%s", chartPalette[i%7]);
  }
}

/* The label of rectangle i, and its size beneath it, when the rectangle
** has room (a label on two lines when it is high enough) */
static void chartTreeLabel(ChartTree *t, sqlite3_str *s, int i,
                           const char *z, int nLab, const char *zCol){
  ChartRect *r = &t->aR[i];
  char zAttr[120], zNum[64];
  int nFit, nLine = 1;
  if( r->w<40 || r->h<20 ) return;
  nFit = chartFit(z, nLab, CHART_FONT, r->w-8);
  if( nFit<2 && nFit!=nLab ) return;
  sqlite3_snprintf(sizeof(zAttr), zAttr, "fill=\"%s\" "
    "style=\"unicode-bidi:plaintext\"", chartInk(zCol));
  if( r->h>=52 ){     /* room for a label on two lines and the size */
    nLine = chartText2(s, r->x+4, r->y+15, zAttr, z, nLab, r->w-8);
  }else{
    chartText(s, r->x+4, r->y+15, zAttr, z, nLab, CHART_FONT, r->w-8);
  }
  if( r->h>=38 + 14*(nLine-1) ){
    chartFormat(zNum, t->aSize[i], t->p->eFormat, -1);
    if( chartTextWidth(zNum, (int)strlen(zNum), CHART_FONT)<=r->w-8 ){
      sqlite3_snprintf(sizeof(zAttr), zAttr, "fill=\"%s\"", chartInk(zCol));
      chartText(s, r->x+4, r->y+31+14*(nLine-1), zAttr, zNum,
                (int)strlen(zNum), CHART_FONT, 0);
    }
  }
}

/* Rectangle i: the mark (with its numeric colour in data-colour), its
** hover text, its label */
static void chartTreeRect(ChartTree *t, sqlite3_str *s, int i){
  ChartBuilder *p = t->p;
  int iId = t->aPos[i], nLab;
  int bNum = p->aColKind && p->aColKind[iId]==1;
  char zBuf[64], zNum[64], zCol[8], zC[64];
  const char *z = chartAxisLabel(&p->a1, iId, zBuf, &nLab);
  ChartRect *r = &t->aR[i];
  chartTreeColour(t, i, iId, zCol);
  chartMarkRect(s, r->x, r->y, r->w, r->h, zCol,
                " stroke=\"#ffffff\" stroke-width=\"1\"", t->aSize[i]);
  if( bNum ){
    sqlite3_str_appendall(s, " data-colour=\"");
    chartAppendValue(s, p->aColour[iId]);
    sqlite3_str_appendall(s, "\"");
  }
  sqlite3_str_appendall(s, ">");
  chartFormat(zNum, t->aSize[i], p->eFormat, -1);
  if( bNum ){
    int m = (int)strlen(zNum);
    chartFormat(zC, p->aColour[iId], CHART_FMT_AUTO, -1);
    sqlite3_snprintf(64-m, zNum+m, " (colour %s)", zC);
  }
  chartMarkTitle(s, z, nLab, zNum, "rect");
  chartTreeLabel(t, s, i, z, nLab, zCol);
}

/* A legend row under the rectangles: a swatch and the name of each
** colour category, as many as fit */
static int chartTreeKey(ChartTree *t, sqlite3_str *s){
  ChartBuilder *p = t->p;
  double x = t->left;
  int *aC = 0, i, nLab, rc;
  char zBuf[64];
  rc = chartAxisOrder(&p->acol, 1, &aC);
  if( rc ) return rc;
  for(i=0; i<p->acol.nSeen; i++){
    const char *z = chartAxisLabel(&p->acol, aC[i], zBuf, &nLab);
    double w = chartTextWidth(z, nLab, CHART_FONT);
    if( w>150 ) w = 150;
    if( x + 18 + w > p->w - 10 ) break;
    sqlite3_str_appendf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" "
      "height=\"12\" fill=\"%s\"/>\n", x, t->bottom+8, chartPalette[i]);
    chartText(s, x+16, t->bottom+18, "style=\"unicode-bidi:plaintext\"", z,
              nLab, CHART_FONT, 150);
    x += 16 + w + 16;
  }
  sqlite3_free(aC);
  return SQLITE_OK;
}

static int chartDrawTreemap(ChartBuilder *p, sqlite3_str *s, int bStandalone,
                            char **pzErr){
  ChartFrame f;
  ChartTree t;
  int i, rc = chartTreeData(&t, p, pzErr);
  if( rc==SQLITE_OK ){
    double lx;
    t.top = chartTop(p);
    t.left = 10; t.right = p->w - 10 - (p->bColNum ? 90 : 0);
    t.bottom = p->h - 10 - (p->zXLabel ? 20 : 0);
    if( p->bColText ) t.bottom -= 24;
    chartBegin(&f, p, s, bStandalone, p->h);
    if( t.n>0 ){
      chartSquarify(t.aSize, t.n, t.left, t.top, t.right-t.left,
                    t.bottom-t.top, t.aR);
    }
    for(i=0; i<t.n; i++) chartTreeRect(&t, s, i);
    lx = t.right + 12;
    if( p->bColNum && t.bAnyC ){
      chartViridisLegend(s, lx, t.top, t.bottom, t.cMin, t.cMax,
                         CHART_FMT_AUTO, p->w - lx - 24);
    }
    if( p->bColText ) rc = chartTreeKey(&t, s);
  }
  if( rc==SQLITE_OK ){
    if( p->zXLabel ){
      chartText(s, (t.left+t.right)/2, p->h - 10, "text-anchor=\"middle\"",
                p->zXLabel, (int)strlen(p->zXLabel), CHART_FONT,
                t.right-t.left);
    }
    chartEnd(&f);
  }
  sqlite3_free(t.aV); sqlite3_free(t.aId); sqlite3_free(t.aPos);
  sqlite3_free(t.aSize); sqlite3_free(t.aR);
  return rc;
}

/* Date ticks for a line chart: days, or the first days of months. */
static int chartDateTicks(double d0, double d1, double rLen, double *aT,
                          int nMax, int *pbMonth){
  static const int aDay[] = { 1, 2, 7, 14, 28 };
  static const int aMon[] = { 1, 2, 3, 6, 12, 24, 60, 120, 600 };
  int i, n = 0, iMax = (int)(rLen/84) + 1;
  if( iMax>nMax ) iMax = nMax;
  if( iMax<2 ) iMax = 2;
  *pbMonth = 0;
  for(i=0; i<5; i++){
    int st = aDay[i];
    if( (d1-d0)/st + 1 <= iMax ){
      double t = ceil(d0/st)*st;
      for(; t<=d1 && n<nMax; t+=st) aT[n++] = t;
      return n;
    }
  }
  *pbMonth = 1;
  for(i=0; i<9; i++){
    int st = aMon[i], y, m, d, mm, yy, k;
    segYmdFromDay((int)floor(d0), &y, &m, &d);
    k = (y*12 + m-1);
    k = ((k + st - 1)/st)*st;
    if( (d1-d0)/(st*30.4) + 1 > iMax && i<8 ) continue;
    for(;; k+=st){
      double t;
      yy = k/12; mm = k%12 + 1;
      t = segDayFromYmd(yy, mm, 1);
      if( t<d0 ) continue;
      if( t>d1 || n>=nMax ) break;
      aT[n++] = t;
    }
    *pbMonth = st>=12 ? 2 : 1;
    return n;
  }
  return n;
}

static void chartDateLabel(double t, int eMode, char *zBuf){
  int y, m, d;
  segYmdFromDay((int)floor(t), &y, &m, &d);
  if( eMode==2 ) sqlite3_snprintf(64, zBuf, "%04d", y);
  else if( eMode==1 ) sqlite3_snprintf(64, zBuf, "%04d-%02d", y, m);
  else sqlite3_snprintf(64, zBuf, "%04d-%02d-%02d", y, m, d);
}

static int chartCmpPt(const void *a, const void *b){
  const ChartPt *x = (const ChartPt*)a, *y = (const ChartPt*)b;
  if( x->i!=y->i ) return x->i<y->i ? -1 : 1;
  if( x->x!=y->x ) return x->x<y->x ? -1 : 1;
  return x->j<y->j ? -1 : x->j>y->j;
}

/* chart_line: the state of one drawing */
typedef struct ChartLine ChartLine;
struct ChartLine {
  ChartBuilder *p;
  int *aId;                       /* series ids in order */
  int *aColOf;                    /* per series id: its colour */
  int nS, bDate;                  /* series; x are dates */
  double xMin, xMax, yMin, yMax;
  ChartScale sx, sy;
  double top, left, right, bottom, legH;
};

/* The points by series and x (ties in input order), their ranges, the
** series order and colours */
static int chartLineData(ChartLine *l, ChartBuilder *p, char **pzErr){
  int i, rc;
  i64 k;
  memset(l, 0, sizeof(*l));
  l->p = p;
  l->nS = p->a1.nSeen;
  for(k=0; k<p->nPt; k++) p->aPt[k].j = (int)k;   /* keep input order */
  qsort(p->aPt, (size_t)p->nPt, sizeof(ChartPt), chartCmpPt);
  l->xMin = l->xMax = p->aPt[0].x; l->yMin = l->yMax = p->aPt[0].y;
  for(k=1; k<p->nPt; k++){
    if( p->aPt[k].x<l->xMin ) l->xMin = p->aPt[k].x;
    if( p->aPt[k].x>l->xMax ) l->xMax = p->aPt[k].x;
    if( p->aPt[k].y<l->yMin ) l->yMin = p->aPt[k].y;
    if( p->aPt[k].y>l->yMax ) l->yMax = p->aPt[k].y;
  }
  if( !CHART_FINITE(l->xMax-l->xMin) || !CHART_FINITE(l->yMax-l->yMin) ){
    return chartOverflow(p, pzErr);
  }
  l->bDate = p->eXKind==2;
  rc = chartOrder(p, &p->a1, 0, &l->aId);
  if( rc ) return rc;
  l->aColOf = sqlite3_malloc64(sizeof(int)*chartAxisCount(&p->a1));
  if( l->aColOf==0 ) return SQLITE_NOMEM;
  for(i=0; i<l->nS; i++) l->aColOf[l->aId[i]] = i;
  return SQLITE_OK;
}

/* The plot and its scales, below the legend (when there is more than one
** series) */
static void chartLineLayout(ChartLine *l, sqlite3_str *s){
  ChartBuilder *p = l->p;
  l->top = chartTop(p);
  l->right = p->w - 20;
  if( l->nS>1 ){
    l->legH = chartLegend(s, &p->a1, l->aId, l->nS, 10, l->right, l->top,
                          CHART_KEY_LINE, 0);
  }
  l->bottom = p->h - 28 - (p->zXLabel ? 20 : 0);
  chartYScaleFit(&l->sy, l->yMin, l->yMax, l->bottom - l->top - l->legH);
  l->left = chartPlotLeft(p, chartScaleWidth(&l->sy, p->eFormat));
  if( !l->bDate ){
    chartXScaleFit(&l->sx, l->xMin, l->xMax, l->right-l->left - 40,
                   p->eFormat);
  }
}

/* A date x axis: grid lines on days or first days of months, labelled
** where the label stays in the chart */
static void chartLineDateAxis(ChartLine *l, sqlite3_str *s){
  double aT[64], d0 = l->xMin, d1 = l->xMax, left = l->left;
  int i, eMode, nT;
  char zBuf[64];
  if( d1<=d0 ){ d0 -= 1; d1 += 1; }
  nT = chartDateTicks(d0, d1, l->right-left, aT, 64, &eMode);
  l->sx.lo = d0; l->sx.hi = d1;
  for(i=0; i<nT; i++){
    double x = chartMap(&l->sx, aT[i], left, l->right), w;
    chartDateLabel(aT[i], eMode, zBuf);
    sqlite3_str_appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
      "y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", x, l->top, x, l->bottom);
    w = chartTextWidth(zBuf, (int)strlen(zBuf), CHART_FONT);
    if( x - w/2 < left-8 || x + w/2 > l->p->w ) continue;
    chartTickLabel(s, x, l->bottom, zBuf);
  }
}

/* A point of series z, radius r, colour zCol: its x in data-x (a date
** as text), its y in data-value */
static void chartLinePoint(ChartLine *l, sqlite3_str *s, const ChartPt *pt,
                           const char *z, int nLab, const char *zCol,
                           double r){
  ChartBuilder *p = l->p;
  char zX[64], zNum[64], zT[256];
  sqlite3_str_appendf(s, "<circle class=\"mark\" cx=\"%.2f\" cy=\"%.2f\" "
    "r=\"%.1f\" fill=\"%s\" data-x=\"",
    chartMap(&l->sx, pt->x, l->left, l->right),
    chartMap(&l->sy, pt->y, l->bottom, l->top), r, zCol);
  if( l->bDate ){
    chartDateLabel(pt->x, 0, zX);
    sqlite3_str_appendall(s, zX);
  }else{
    chartAppendValue(s, pt->x);
    chartFormat(zX, pt->x, p->eFormat, -1);
  }
  sqlite3_str_appendall(s, "\" data-value=\"");
  chartAppendValue(s, pt->y);
  sqlite3_str_appendall(s, "\"><title>");
  chartEscape(s, z, nLab, CHART_TITLE_CHARS);
  chartFormat(zNum, pt->y, p->eFormat, -1);
  sqlite3_snprintf(sizeof(zT), zT, ", %s: %s", zX, zNum);
  sqlite3_str_appendf(s, "%s</title></circle>\n", zT);
}

/* The series of points k0..k1-1: its line, then its points (smaller
** when there are many) */
static void chartLineSeries(ChartLine *l, sqlite3_str *s, i64 k0, i64 k1){
  ChartBuilder *p = l->p;
  int iS = p->aPt[k0].i, nLab;
  const char *zCol = chartPalette[l->aColOf[iS]];
  char zBuf[64];
  const char *z = chartAxisLabel(&p->a1, iS, zBuf, &nLab);
  double r = k1-k0>60 ? 1.8 : 3.0;
  i64 k;
  sqlite3_str_appendf(s, "<path fill=\"none\" stroke=\"%s\" "
    "stroke-width=\"2\" d=\"", zCol);
  for(k=k0; k<k1; k++){
    sqlite3_str_appendf(s, "%s%.2f %.2f", k==k0 ? "M" : " L",
      chartMap(&l->sx, p->aPt[k].x, l->left, l->right),
      chartMap(&l->sy, p->aPt[k].y, l->bottom, l->top));
  }
  sqlite3_str_appendall(s, "\"/>\n");
  for(k=k0; k<k1; k++) chartLinePoint(l, s, &p->aPt[k], z, nLab, zCol, r);
}

static int chartDrawLine(ChartBuilder *p, sqlite3_str *s, int bStandalone,
                         char **pzErr){
  ChartLine l;
  ChartFrame f;
  i64 k = 0, k0;
  int rc = chartLineData(&l, p, pzErr);
  if( rc==SQLITE_OK ){
    chartLineLayout(&l, s);
    chartBegin(&f, p, s, bStandalone, p->h);
    if( l.nS>1 ){
      chartLegend(s, &p->a1, l.aId, l.nS, 10, l.right, l.top,
                  CHART_KEY_LINE, 1);
    }
    l.top += l.legH;
    chartAxis(&f, &l.sy, 1, l.bottom, l.top, l.left, l.right);
    if( l.bDate ){
      chartLineDateAxis(&l, s);
    }else{
      chartAxis(&f, &l.sx, 0, l.left, l.right, l.bottom, l.top);
    }
    while( k<p->nPt ){
      k0 = k;
      while( k<p->nPt && p->aPt[k].i==p->aPt[k0].i ) k++;
      chartLineSeries(&l, s, k0, k);
    }
    chartAxisTitles(&f, (l.left+l.right)/2, l.bottom+40, (l.top+l.bottom)/2,
                    l.right-l.left, l.bottom-l.top);
    chartEnd(&f);
  }
  sqlite3_free(l.aId);
  sqlite3_free(l.aColOf);
  return rc;
}

/* The chart as SVG: *pzOut (sqlite3_malloc'd), or NULL when there is no
** data.  bStandalone: with the XML declaration (a document of its own);
** without, for inlining in HTML. */
int chartBuilderRender(ChartBuilder *p, int bStandalone, char **pzOut,
                       char **pzErr){
  sqlite3_str *s;
  int rc;
  *pzOut = 0;
  switch( p->eKind ){
    case CHART_TREEMAP: {
      int i, bAny = 0;
      for(i=0; i<chartAxisCount(&p->a1) && !bAny; i++){
        if( (i>0 || p->a1.bNull) && segSumValue(&p->aSum[i])>0 ) bAny = 1;
      }
      if( !bAny ) return SQLITE_OK;      /* every size 0: nothing drawn */
      break;
    }
    case CHART_BAR: case CHART_HEATMAP:
      if( p->a1.nSeen==0 ) return SQLITE_OK;
      break;
    case CHART_HISTOGRAM:
      if( p->nVal==0 ) return SQLITE_OK;
      break;
    default:
      if( p->nPt==0 ) return SQLITE_OK;
      break;
  }
  s = sqlite3_str_new(p->check.db);
  switch( p->eKind ){
    case CHART_BAR:       rc = chartDrawBar(p, s, bStandalone, pzErr); break;
    case CHART_HISTOGRAM: rc = chartDrawHistogram(p, s, bStandalone, pzErr);
                          break;
    case CHART_HEATMAP:   rc = chartDrawHeatmap(p, s, bStandalone, pzErr);
                          break;
    case CHART_TREEMAP:   rc = chartDrawTreemap(p, s, bStandalone, pzErr);
                          break;
    default:              rc = chartDrawLine(p, s, bStandalone, pzErr); break;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(s);
  if( rc==SQLITE_OK ){
    *pzOut = sqlite3_str_finish(s);
    if( *pzOut==0 ) rc = SQLITE_NOMEM;
  }else{
    sqlite3_free(sqlite3_str_finish(s));
    if( rc==SQLITE_TOOBIG && *pzErr==0 ){
      *pzErr = sqlite3_mprintf("%s(): the chart is larger than the longest "
                               "string allowed", p->zFunc);
    }
  }
  return rc;
}

/**************************************************************************
** The SQL aggregates
*/
typedef struct ChartAgg ChartAgg;
struct ChartAgg { ChartBuilder *p; int bErr; };

/* The error rc of a step or of the final call: its message zErr (freed)
** when there is one, else its code */
static void chartResultError(sqlite3_context *ctx, int rc, char *zErr){
  if( zErr ){
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error_code(ctx, rc);
  }
}

static void chartStep(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                      int eKind, int nData){
  ChartAgg *a = sqlite3_aggregate_context(ctx, sizeof(ChartAgg));
  char *zErr = 0;
  int rc = SQLITE_OK;
  if( a==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( a->bErr ) return;
  if( a->p==0 ){
    rc = chartBuilderNew(eKind, sqlite3_context_db_handle(ctx), &a->p);
    if( rc==SQLITE_OK && argc>nData ){
      const char *z = 0;
      if( sqlite3_value_type(argv[nData])!=SQLITE_NULL ){
        z = (const char*)sqlite3_value_text(argv[nData]);
        if( z==0 ) rc = SQLITE_NOMEM;
      }
      if( rc==SQLITE_OK ) rc = chartBuilderOptions(a->p, z, &zErr);
    }
  }
  if( rc==SQLITE_OK ) rc = chartBuilderStep(a->p, nData, argv, &zErr);
  if( rc!=SQLITE_OK ){
    a->bErr = 1;
    chartResultError(ctx, rc, zErr);
  }
}

static void chartFinal(sqlite3_context *ctx){
  ChartAgg *a = sqlite3_aggregate_context(ctx, 0);
  char *zOut = 0, *zErr = 0;
  int rc;
  if( a==0 || a->p==0 ) return;
  if( a->bErr ){
    chartBuilderFree(a->p);
    a->p = 0;
    return;
  }
  rc = chartBuilderRender(a->p, 1, &zOut, &zErr);
  if( rc==SQLITE_OK ){
    if( zOut ) sqlite3_result_text(ctx, zOut, -1, sqlite3_free);
  }else{
    chartResultError(ctx, rc, zErr);
  }
  chartBuilderFree(a->p);
  a->p = 0;
}

static void chartBarStep(sqlite3_context *c, int n, sqlite3_value **v){
  chartStep(c, n, v, CHART_BAR, n>=4 ? 3 : 2);
}
static void chartHistStep(sqlite3_context *c, int n, sqlite3_value **v){
  chartStep(c, n, v, CHART_HISTOGRAM, 1);
}
static void chartHeatStep(sqlite3_context *c, int n, sqlite3_value **v){
  chartStep(c, n, v, CHART_HEATMAP, 3);
}
static void chartTreeStep(sqlite3_context *c, int n, sqlite3_value **v){
  chartStep(c, n, v, CHART_TREEMAP, n>=3 ? 3 : 2);
}
static void chartLineStep(sqlite3_context *c, int n, sqlite3_value **v){
  chartStep(c, n, v, CHART_LINE, 3);
}

int segmentRegisterChart(sqlite3 *db, char **pzErr){
  static const SegFunc aFunc[] = {
    { "chart_bar",       2, SEG_AGG_FLAGS, 0, 0, chartBarStep, chartFinal },
    { "chart_bar",       3, SEG_AGG_FLAGS, 0, 0, chartBarStep, chartFinal },
    { "chart_bar",       4, SEG_AGG_FLAGS, 0, 0, chartBarStep, chartFinal },
    { "chart_histogram", 1, SEG_AGG_FLAGS, 0, 0, chartHistStep, chartFinal },
    { "chart_histogram", 2, SEG_AGG_FLAGS, 0, 0, chartHistStep, chartFinal },
    { "chart_heatmap",   3, SEG_AGG_FLAGS, 0, 0, chartHeatStep, chartFinal },
    { "chart_heatmap",   4, SEG_AGG_FLAGS, 0, 0, chartHeatStep, chartFinal },
    { "chart_treemap",   2, SEG_AGG_FLAGS, 0, 0, chartTreeStep, chartFinal },
    { "chart_treemap",   3, SEG_AGG_FLAGS, 0, 0, chartTreeStep, chartFinal },
    { "chart_treemap",   4, SEG_AGG_FLAGS, 0, 0, chartTreeStep, chartFinal },
    { "chart_line",      3, SEG_AGG_FLAGS, 0, 0, chartLineStep, chartFinal },
    { "chart_line",      4, SEG_AGG_FLAGS, 0, 0, chartLineStep, chartFinal },
  };
  return segRegisterFunctions(db, aFunc, SEG_COUNT(aFunc),
                              pzErr);
}
