/*
** report.c: segment_report(source, options...), one HTML page of the
** whole segmentation.
**
**   SELECT writefile('report.html', html) FROM segment_report('orders');
**
** Requirements:
**   P1. One row, one column html: a self-contained HTML document (inline
**       CSS and SVG; no script, no network, no external file) that also
**       parses as XML.
**   P2. Options: the source reader's (source, customer, date, amount,
**       order, as_of, since, on_error, date_format), rfm_score's (bins,
**       method, monetary, scheme), cohort_retention's period, clv's unit,
**       model and horizon, events (a table of site events, for the
**       engagement section), clv_validation's calibration_end and
**       holdout_end, and title.  Each is passed on to the
**       functions that take it.
**   P3. Sections: headline figures; the segments (treemap and table:
**       customers, share, revenue, revenue share, average order, median
**       recency); the RFM heatmap (r by f, colour = customers); histograms
**       of recency, frequency and monetary value; lifecycle stages; the
**       cohort retention triangle; the P(alive) matrix (repeat purchases
**       by recency) and the expected value by segment from the CLV model;
**       with events=, customers of each segment by engagement level;
**       with calibration_end= (and holdout_end=), the model fitted up to
**       calibration_end against the holdout (clv_validation): mean
**       holdout purchases by calibration frequency, actual and predicted,
**       and the cumulative repeat purchases, actual and predicted.
**   P4. The data of each section comes from the extension's table-valued
**       functions (rfm_score, lifecycle_stage, cohort_retention, clv), run
**       on the caller's connection as SQL statements over them, and each
**       chart is drawn by chart.c's ChartBuilder.  A section whose data
**       cannot be had (its function fails: too few customers for a model,
**       no amounts, ...) is left out with a note saying why; an error of
**       the source itself (no such table) is the error of the call.
**   P5. All text is HTML-escaped (chartAppendEscaped).
*/
#include "segmentInt.h"
#include <string.h>

static const char *const azReportOpt[] = {
  SEG_SOURCE_OPTIONS,
  "bins", "method", "monetary", "scheme", "period", "unit", "model",
  "horizon", "events", "title", "calibration_end", "holdout_end", 0
};
/* the options each function takes (besides the source reader's) */
static const char *const azRfmPass[] = { "bins", "method", "monetary",
                                         "scheme", 0 };
static const char *const azCohortPass[] = { "period", 0 };
static const char *const azClvPass[] = { "unit", "model", "horizon", 0 };
static const char *const azValidationPass[] = { "unit", "model",
  "calibration_end", "holdout_end", 0 };
static const char *const azSrcPass[] = { SEG_SOURCE_OPTIONS, 0 };
static const char *const azNoPass[] = { 0 };

typedef struct Report Report;
struct Report {
  sqlite3 *db;
  const SegOpts *pOpts;
  sqlite3_str *s;
  char *zRfm;                     /* "rfm_score('source=x', ...)" */
  char *zLife, *zCohort, *zClv;
  int rc;                         /* first hard error */
  char *zErr;
};

/* "zFunc('k=v', ...)" with the source options and those of azPass. */
static char *reportCall(const SegOpts *p, const char *zFunc,
                        const char *const *azPass){
  sqlite3_str *s = sqlite3_str_new(0);
  int i, n = 0;
  sqlite3_str_appendf(s, "%s(", zFunc);
  for(i=0; i<2; i++){
    const char *const *az = i==0 ? azSrcPass : azPass;
    for(; *az; az++){
      const char *z = segOptsGet(p, *az);
      if( z==0 ) continue;
      sqlite3_str_appendf(s, "%s'%q=%q'", n++ ? ", " : "", *az, z);
    }
  }
  sqlite3_str_appendall(s, ")");
  return sqlite3_str_finish(s);
}

static void reportEsc(Report *r, const char *z){
  chartAppendEscaped(r->s, z ? z : "", -1);
}

/* A note in place of a section that could not be drawn. */
static void reportNote(Report *r, const char *zWhat, const char *zWhy){
  sqlite3_str_appendall(r->s, "<p class=\"note\">");
  reportEsc(r, zWhat);
  sqlite3_str_appendall(r->s, " left out: ");
  reportEsc(r, zWhy);
  sqlite3_str_appendall(r->s, "</p>\n");
}

/* Prepare zSql (sqlite3_free'd here).  On failure, a note (bNote) or the
** hard error of the call. */
static sqlite3_stmt *reportPrepare(Report *r, char *zSql, const char *zWhat){
  sqlite3_stmt *pStmt = 0;
  int rc;
  if( zSql==0 ){ r->rc = SQLITE_NOMEM; return 0; }
  rc = sqlite3_prepare_v2(r->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    reportNote(r, zWhat, sqlite3_errmsg(r->db));
    if( rc==SQLITE_NOMEM ) r->rc = rc;
    return 0;
  }
  return pStmt;
}

/* The error of a step: out of memory and interrupts end the report,
** anything else leaves the section out with a note. */
static void reportStepError(Report *r, int rc, const char *zWhat){
  if( rc==SQLITE_NOMEM || rc==SQLITE_INTERRUPT ){
    r->rc = rc;
    return;
  }
  reportNote(r, zWhat, sqlite3_errmsg(r->db));
}

/* One chart: the rows of zSql (its first nData columns) into a builder of
** kind eKind with options zOpts, drawn in a <figure>. */
static void reportChart(Report *r, int eKind, const char *zOpts, int nData,
                        const char *zWhat, char *zSql, const char *zClass){
  sqlite3_stmt *pStmt;
  ChartBuilder *pB = 0;
  sqlite3_value *apVal[4];
  char *zErr = 0, *zSvg = 0;
  int rc, i, nRow = 0;
  if( r->rc ){ sqlite3_free(zSql); return; }
  pStmt = reportPrepare(r, zSql, zWhat);
  if( pStmt==0 ) return;
  rc = chartBuilderNew(eKind, r->db, &pB);
  if( rc==SQLITE_OK ) rc = chartBuilderOptions(pB, zOpts, &zErr);
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    for(i=0; i<nData; i++) apVal[i] = sqlite3_column_value(pStmt, i);
    rc = chartBuilderStep(pB, nData, apVal, &zErr);
    nRow++;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc==SQLITE_OK ) rc = chartBuilderRender(pB, 0, &zSvg, &zErr);
  if( rc==SQLITE_OK ){
    if( zSvg ){
      sqlite3_str_appendf(r->s, "<figure class=\"%s\">\n%s</figure>\n",
                          zClass, zSvg);
    }else{
      reportNote(r, zWhat, "no data");
    }
  }else if( zErr ){
    reportNote(r, zWhat, zErr);
  }else{
    reportStepError(r, rc, zWhat);
  }
  sqlite3_free(zErr);
  sqlite3_free(zSvg);
  chartBuilderFree(pB);
  sqlite3_finalize(pStmt);
}

static void reportNumber(Report *r, sqlite3_value *pVal, int eFmt){
  char zBuf[64];
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    sqlite3_str_appendall(r->s, "&#8211;");
    return;
  }
  chartFormatNumber(zBuf, sqlite3_value_double(pVal), eFmt);
  sqlite3_str_appendall(r->s, zBuf);
}

/* Headline figures: customers, orders, revenue, average order, repeat
** customers, the period.  Its failure is the source's: a hard error. */
static void reportHeadline(Report *r){
  sqlite3_stmt *pStmt;
  int rc;
  static const char *const azLabel[] = {
    "customers", "orders", "revenue", "average order", "buy again",
    "first order", "last order"
  };
  static const int aFmt[] = { 0, 0, 0, 2, -3, 99, 99 };
  char *zSql = sqlite3_mprintf(
    "SELECT count(*), sum(frequency), sum(monetary),"
    " sum(monetary)/nullif(sum(frequency), 0), avg(frequency>1),"
    " min(first_date), max(last_date) FROM %s", r->zRfm);
  if( zSql==0 ){ r->rc = SQLITE_NOMEM; return; }
  rc = sqlite3_prepare_v2(r->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    int i;
    sqlite3_str_appendall(r->s, "<section class=\"headline\">\n");
    for(i=0; i<7; i++){
      sqlite3_value *v = sqlite3_column_value(pStmt, i);
      sqlite3_str_appendall(r->s, "<div class=\"figure\"><div class=\"n\">");
      if( aFmt[i]==99 ){
        reportEsc(r, (const char*)sqlite3_value_text(v));
      }else{
        reportNumber(r, v, aFmt[i]);
      }
      sqlite3_str_appendf(r->s, "</div><div class=\"what\">%s</div></div>\n",
                          azLabel[i]);
    }
    sqlite3_str_appendall(r->s, "</section>\n");
    rc = SQLITE_OK;
  }
  if( rc!=SQLITE_OK ){
    r->rc = rc;
    r->zErr = sqlite3_mprintf("%s", sqlite3_errmsg(r->db));
  }
  sqlite3_finalize(pStmt);
}

/* The segment table */
static void reportSegmentTable(Report *r){
  static const char *const azHead[] = {
    "segment", "customers", "share", "revenue", "revenue share",
    "average order", "median recency (days)"
  };
  static const int aFmt[] = { 99, 0, -3, 0, -3, 2, -1 };
  sqlite3_stmt *pStmt;
  int rc, i;
  char *zSql = sqlite3_mprintf(
    "WITH s AS (SELECT segment, frequency, monetary, recency_days,"
    "   row_number() OVER (PARTITION BY segment ORDER BY recency_days) AS k,"
    "   count(*) OVER (PARTITION BY segment) AS n FROM %s),"
    " t AS (SELECT count(*) AS nAll, sum(monetary) AS m FROM s)"
    " SELECT segment, count(*), count(*)*1.0/t.nAll, sum(monetary),"
    "  sum(monetary)/nullif(t.m, 0), sum(monetary)/nullif(sum(frequency), 0),"
    "  avg(CASE WHEN k IN ((n+1)/2, (n+2)/2) THEN recency_days END)"
    " FROM s, t GROUP BY segment ORDER BY count(*) DESC, segment", r->zRfm);
  if( r->rc ){ sqlite3_free(zSql); return; }
  pStmt = reportPrepare(r, zSql, "The segment table");
  if( pStmt==0 ) return;
  sqlite3_str_appendall(r->s, "<table class=\"segments\">\n<thead><tr>");
  for(i=0; i<7; i++){
    sqlite3_str_appendf(r->s, "<th>%s</th>", azHead[i]);
  }
  sqlite3_str_appendall(r->s, "</tr></thead>\n<tbody>\n");
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_str_appendall(r->s, "<tr>");
    for(i=0; i<7; i++){
      sqlite3_value *v = sqlite3_column_value(pStmt, i);
      if( aFmt[i]==99 ){
        sqlite3_str_appendall(r->s, "<td>");
        reportEsc(r, sqlite3_value_type(v)==SQLITE_NULL ? "(null)"
                     : (const char*)sqlite3_value_text(v));
      }else{
        sqlite3_str_appendall(r->s, "<td class=\"num\">");
        reportNumber(r, v, aFmt[i]);
      }
      sqlite3_str_appendall(r->s, "</td>");
    }
    sqlite3_str_appendall(r->s, "</tr>\n");
  }
  sqlite3_str_appendall(r->s, "</tbody>\n</table>\n");
  if( rc!=SQLITE_DONE ) reportStepError(r, rc, "The segment table");
  sqlite3_finalize(pStmt);
}

static void reportSection(Report *r, const char *zTitle, const char *zLead){
  sqlite3_str_appendall(r->s, "<h2>");
  reportEsc(r, zTitle);
  sqlite3_str_appendall(r->s, "</h2>\n");
  if( zLead ){
    sqlite3_str_appendall(r->s, "<p class=\"lead\">");
    reportEsc(r, zLead);
    sqlite3_str_appendall(r->s, "</p>\n");
  }
}

static const char reportCss[] =
  "body{font-family:'DejaVu Sans',Verdana,sans-serif;color:#222;"
  "margin:0;background:#fafafa}"
  "main{max-width:1200px;margin:0 auto;padding:16px 20px;"
  "box-sizing:border-box}"
  "h1{font-size:24px;margin:8px 0 4px}"
  "h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;"
  "padding-bottom:4px}"
  "p.lead{margin:4px 0 10px;color:#555;font-size:13px}"
  "p.note{color:#8a5a00;background:#fff6e0;padding:6px 10px;"
  "border-left:3px solid #E69F00;font-size:13px}"
  ".headline{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}"
  ".figure{background:#fff;border:1px solid #e2e2e2;border-radius:6px;"
  "padding:8px 12px;min-width:110px}"
  ".figure .n{font-size:19px;font-weight:bold;color:#0072B2}"
  ".figure .what{font-size:12px;color:#555}"
  ".grid{display:flex;flex-wrap:wrap;gap:20px}"
  "figure{margin:0;background:#fff;border:1px solid #e2e2e2;"
  "border-radius:6px;overflow:hidden}"
  "figure svg{display:block}figure.half{display:inline-block;vertical-align:top}"
  "table.segments{border-collapse:collapse;background:#fff;font-size:13px;"
  "margin:12px 0}"
  "table.segments th,table.segments td{border:1px solid #e2e2e2;"
  "padding:4px 10px;text-align:left}"
  "table.segments td.num{text-align:right}"
  "table.segments th{background:#f0f4f8}"
  "footer{margin:30px 0 10px;font-size:12px;color:#777}";

static int reportCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                         char **pzErr);

typedef struct ReportResult ReportResult;
struct ReportResult { char *zHtml; };

static int reportColumn(void *pData, i64 iRow, int iCol,
                        sqlite3_context *ctx){
  ReportResult *p = (ReportResult*)pData;
  (void)iRow; (void)iCol;
  sqlite3_result_text(ctx, p->zHtml, -1, SQLITE_STATIC);
  return SQLITE_OK;
}
static void reportFree(void *pData){
  ReportResult *p = (ReportResult*)pData;
  if( p ){ sqlite3_free(p->zHtml); sqlite3_free(p); }
}

/* The page's head (title and style) and its opening lines: the title and
** what the page shows of which source. */
static void reportPageStart(Report *r, const char *zSource){
  const char *zTitle = segOptsGet(r->pOpts, "title");
  sqlite3_str_appendall(r->s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
    "<meta charset=\"utf-8\"/>\n"
    "<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>");
  reportEsc(r, zTitle ? zTitle : "Customer segments");
  sqlite3_str_appendf(r->s, "</title>\n<style>%s</style>\n</head>\n<body>\n"
                      "<main>\n<h1>", reportCss);
  reportEsc(r, zTitle ? zTitle : "Customer segments");
  sqlite3_str_appendall(r->s, "</h1>\n<p class=\"lead\">Customers of ");
  reportEsc(r, zSource);
  sqlite3_str_appendall(r->s, ", scored on how recently (R), how often (F) "
    "and how much (M) they buy, 1 (lowest) to 5 (best). Hover over a "
    "chart to see its numbers.</p>\n");
}

/* The segments: the treemap and the segment table. */
static void reportSegments(Report *r){
  reportSection(r, "Segments", "Each rectangle is a segment, its area "
    "the number of customers, its colour their average spend.");
  reportChart(r, SEG_CHART_TREEMAP, "width=1150; height=380; "
    "title=Customers by segment (colour: average spend)", 3, "The treemap",
    sqlite3_mprintf("SELECT segment, count(*), avg(monetary) FROM %s "
                    "GROUP BY segment", r->zRfm), "wide");
  reportSegmentTable(r);
}

/* The RFM heatmap: customers by R and F score. */
static void reportRfmHeatmap(Report *r){
  reportSection(r, "Recency and frequency", "How many customers have each "
    "pair of scores: top right are recent, frequent buyers; bottom left "
    "are those who bought little, long ago.");
  reportChart(r, SEG_CHART_HEATMAP, "width=568; title=Customers by R and F "
    "score; x_label=F: how often (5 = most); y_label=R: how recently "
    "(5 = most)", 3, "The RFM heatmap",
    sqlite3_mprintf("SELECT f, r, count(*) FROM %s GROUP BY r, f", r->zRfm),
    "half");
}

/* The histograms of recency, frequency and monetary value. */
static void reportHistograms(Report *r){
  reportSection(r, "Recency, frequency and money spent",
    "How customers spread over each measure.");
  sqlite3_str_appendall(r->s, "<div class=\"grid\">\n");
  reportChart(r, SEG_CHART_HISTOGRAM, "width=568; height=300; "
    "title=Days since the last order; x_label=days; y_label=customers", 1,
    "The recency histogram",
    sqlite3_mprintf("SELECT recency_days FROM %s", r->zRfm), "half");
  /* orders and money spent are skewed: the top 5% share the last bar,
  ** so that the bulk of customers is not one bar */
  reportChart(r, SEG_CHART_HISTOGRAM, "width=568; height=300; "
    "title=Number of orders (the top 5% in the last bar); x_label=orders; "
    "y_label=customers", 1, "The frequency histogram",
    sqlite3_mprintf("WITH v AS (SELECT frequency AS x FROM %s),"
      " q AS (SELECT x AS top FROM v ORDER BY x"
      "  LIMIT 1 OFFSET (SELECT count(*)*95/100 FROM v))"
      " SELECT min(x, top) FROM v, q", r->zRfm), "half");
  reportChart(r, SEG_CHART_HISTOGRAM, "width=568; height=300; "
    "title=Money spent (the top 5% in the last bar); x_label=total spend; "
    "y_label=customers", 1, "The monetary histogram",
    sqlite3_mprintf("WITH v AS (SELECT monetary AS x FROM %s),"
      " q AS (SELECT x AS top FROM v ORDER BY x"
      "  LIMIT 1 OFFSET (SELECT count(*)*95/100 FROM v))"
      " SELECT min(x, top) FROM v, q", r->zRfm), "half");
  sqlite3_str_appendall(r->s, "</div>\n");
}

/* Lifecycle stages (lifecycle_stage) and cohort retention
** (cohort_retention). */
static void reportLifecycleCohort(Report *r){
  reportSection(r, "Lifecycle stages", "Where customers are in their life "
    "with the shop, from each one's own buying rhythm.");
  reportChart(r, SEG_CHART_BAR, "width=568; title=Customers by lifecycle "
    "stage; x_label=customers", 2, "Lifecycle stages",
    /* "at_risk" as "At risk" */
    sqlite3_mprintf("SELECT upper(substr(stage, 1, 1)) ||"
                    " replace(substr(stage, 2), '_', ' '), count(*) FROM %s"
                    " GROUP BY stage ORDER BY count(*) DESC", r->zLife),
    "half");

  reportSection(r, "Cohort retention", "Customers grouped by the period of "
    "their first order (rows); each cell is the share of them who ordered "
    "again that many periods later.");
  reportChart(r, SEG_CHART_HEATMAP, "width=1150; format=percent; "
    "sort=label_desc; title=Share of each cohort still buying; "
    "x_label=periods since the first order; y_label=cohort", 3,
    "The cohort triangle",
    sqlite3_mprintf("SELECT period, cohort, retention FROM %s",
                    r->zCohort), "wide");
}

/* The time unit of the CLV models (unit=, by default week), for the axis
** labels. */
static const char *reportUnit(Report *r){
  const char *zUnit = segOptsGet(r->pOpts, "unit");
  return zUnit ? zUnit : "week";
}

/* Customer lifetime value (clv): the P(alive) matrix and the expected
** value by segment. */
static void reportClv(Report *r){
  char *zOpt;
  reportSection(r, "Customer lifetime value", "From the purchase model "
    "(BG/NBD by default) fitted to this history: the chance that a "
    "customer is still active, and the value expected of each segment.");
  sqlite3_str_appendall(r->s, "<div class=\"grid\">\n");
  zOpt = sqlite3_mprintf("width=568; format=2; "
    "title=Chance a customer is still active; x_label=repeat purchases "
    "(10 = 10 or more); y_label=%ss from first to last purchase",
    reportUnit(r));
  if( zOpt==0 ){ r->rc = SQLITE_NOMEM; return; }
  reportChart(r, SEG_CHART_HEATMAP, zOpt, 3, "The P(alive) matrix",
    sqlite3_mprintf("WITH c AS (SELECT x, t_x, T, p_alive FROM %s),"
      " w AS (SELECT max(ceil(max(T)/10.0), 1) AS step FROM c)"
      " SELECT min(CAST(x AS INTEGER), 10),"
      "  CAST(t_x/step AS INTEGER)*step, avg(p_alive)"
      " FROM c, w GROUP BY 1, 2", r->zClv), "half");
  sqlite3_free(zOpt);
  reportChart(r, SEG_CHART_BAR, "width=568; sort=value_desc; "
    "title=Expected value per customer, by segment; x_label=expected value",
    2, "Expected value by segment",
    /* MATERIALIZED: each function runs once, the join uses an automatic
    ** index (a join of two table-valued calls would rerun the inner one
    ** for every outer row) */
    sqlite3_mprintf("WITH s AS MATERIALIZED (SELECT customer, segment FROM %s),"
      " c AS MATERIALIZED (SELECT customer, clv FROM %s)"
      " SELECT s.segment, avg(c.clv) FROM s JOIN c"
      " ON c.customer = s.customer GROUP BY s.segment", r->zRfm, r->zClv),
    "half");
  sqlite3_str_appendall(r->s, "</div>\n");
}

/* With events=, customers of each segment by engagement level
** (engagement_score over that table); without it, a note. */
static void reportEngagement(Report *r){
  const char *zEvents = segOptsGet(r->pOpts, "events");
  char *zEng;
  reportSection(r, "Engagement", "How engaged each segment's customers "
    "are on the site (engagement_score over the events table: recency, "
    "visits, clicks and time).");
  if( zEvents==0 ){
    reportNote(r, "The engagement section", "no events table (give "
               "events=TABLE, a table of site events per customer)");
    return;
  }
  zEng = sqlite3_mprintf("engagement_score('source=%q')", zEvents);
  if( zEng==0 ){ r->rc = SQLITE_NOMEM; return; }
  reportChart(r, SEG_CHART_BAR, "width=1150; layout=stacked; "
    "sort=value_desc; title=Customers of each segment by engagement "
    "level; x_label=customers", 3, "The engagement chart",
    sqlite3_mprintf("WITH s AS MATERIALIZED (SELECT customer, segment "
      "FROM %s), e AS MATERIALIZED (SELECT customer, level FROM %s)"
      " SELECT s.segment, count(*), coalesce(e.level, 'no events')"
      " FROM s LEFT JOIN e ON e.customer = s.customer GROUP BY 1, 3"
      " ORDER BY CASE e.level WHEN 'high' THEN 1 WHEN 'medium' THEN 2"
      " WHEN 'low' THEN 3 ELSE 4 END", r->zRfm, zEng),
    "wide");
  sqlite3_free(zEng);
}

/* With calibration_end=, the model fitted up to it against the holdout
** (clv_validation): the calibration-versus-holdout and tracking charts;
** without it, a note. */
static void reportValidation(Report *r){
  const char *zCalEnd = segOptsGet(r->pOpts, "calibration_end");
  char *zVal, *zOpt;
  reportSection(r, "How good are the predictions?", "The purchase model "
    "fitted only to the orders up to the calibration end, against what the "
    "customers then did (clv_validation).");
  if( zCalEnd==0 ){
    reportNote(r, "The calibration-versus-holdout charts", "no "
               "calibration_end= (give the last day the model may see; "
               "the orders after it are the holdout)");
    return;
  }
  zVal = reportCall(r->pOpts, "clv_validation", azValidationPass);
  zOpt = sqlite3_mprintf("width=1150; title=Cumulative repeat "
    "purchases: actual and predicted (calibration to %s, then the "
    "holdout); x_label=%ss since the first order in the data; y_label=repeat "
    "purchases", zCalEnd, reportUnit(r));
  if( zVal==0 || zOpt==0 ){
    sqlite3_free(zVal); sqlite3_free(zOpt);
    r->rc = SQLITE_NOMEM;
    return;
  }
  sqlite3_str_appendall(r->s, "<div class=\"grid\">\n");
  reportChart(r, SEG_CHART_BAR, "width=1150; format=2; title=Purchases "
    "in the holdout per customer, by purchases in the calibration; "
    "x_label=mean purchases in the holdout", 3,
    "The calibration-versus-holdout chart",
    sqlite3_mprintf("WITH v AS MATERIALIZED (SELECT period, label, actual,"
      " predicted FROM %s WHERE view = 'frequency')"
      " SELECT label || ' in calibration', actual, 'actual' FROM v"
      " UNION ALL SELECT label || ' in calibration', predicted,"
      " 'predicted' FROM v", zVal), "wide");
  reportChart(r, SEG_CHART_LINE, zOpt, 3, "The tracking chart",
    sqlite3_mprintf("WITH v AS MATERIALIZED (SELECT period, actual,"
      " predicted FROM %s WHERE view = 'tracking')"
      " SELECT 'actual', period, actual FROM v"
      " UNION ALL SELECT 'predicted', period, predicted FROM v", zVal),
    "wide");
  sqlite3_str_appendall(r->s, "</div>\n");
  sqlite3_free(zVal);
  sqlite3_free(zOpt);
}

/* The page's sections, in order.  The headline's failure is the source's
** (a hard error); after any hard error (out of memory, an interrupt) the
** page is thrown away, so the sections after it are not built. */
static void (*const reportSections[])(Report*) = {
  reportHeadline, reportSegments, reportRfmHeatmap, reportHistograms,
  reportLifecycleCohort, reportClv, reportEngagement, reportValidation, 0
};

static int reportCompute(sqlite3 *db, const SegOpts *pOpts, SegResult *pRes,
                         char **pzErr){
  Report r;
  ReportResult *pOut;
  const char *zSource = segOptsGet(pOpts, "source");
  char *zHtml;
  int rc, i;
  memset(&r, 0, sizeof(r));
  if( zSource==0 ){
    *pzErr = sqlite3_mprintf("segment_report(): no source (the first "
                             "argument names the table or view of orders)");
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  r.db = db;
  r.pOpts = pOpts;
  r.zRfm = reportCall(pOpts, "rfm_score", azRfmPass);
  r.zLife = reportCall(pOpts, "lifecycle_stage", azNoPass);
  r.zCohort = reportCall(pOpts, "cohort_retention", azCohortPass);
  r.zClv = reportCall(pOpts, "clv", azClvPass);
  r.s = sqlite3_str_new(db);
  if( !r.zRfm || !r.zLife || !r.zCohort || !r.zClv ){
    r.rc = SQLITE_NOMEM;
  }else{
    reportPageStart(&r, zSource);
    for(i=0; reportSections[i] && r.rc==SQLITE_OK; i++){
      reportSections[i](&r);
    }
    if( r.rc==SQLITE_OK ){
      sqlite3_str_appendf(r.s, "<footer>libsegment %s</footer>\n"
                          "</main>\n</body>\n</html>\n", SEGMENT_VERSION);
    }
  }
  rc = r.rc;
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(r.s);
  zHtml = sqlite3_str_finish(r.s);
  sqlite3_free(r.zRfm); sqlite3_free(r.zLife);
  sqlite3_free(r.zCohort); sqlite3_free(r.zClv);
  if( rc==SQLITE_OK && zHtml==0 ) rc = SQLITE_NOMEM;
  if( rc!=SQLITE_OK ){
    sqlite3_free(zHtml);
    if( r.zErr ){ *pzErr = r.zErr; r.zErr = 0; }
    return rc;
  }
  pOut = sqlite3_malloc64(sizeof(*pOut));
  if( pOut==0 ){ sqlite3_free(zHtml); return SQLITE_NOMEM; }
  pOut->zHtml = zHtml;
  pRes->nRow = 1;
  pRes->pData = pOut;
  return SQLITE_OK;
}

static const SegModuleSpec reportModule = {
  "segment_report", "html", azReportOpt, 0, reportCompute, SEG_READS_TABLE,
  reportColumn, reportFree
};

int segmentRegisterReport(sqlite3 *db, char **pzErr){
  return segRegisterModule(db, &reportModule, pzErr);
}
