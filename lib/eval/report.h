/* report.h: accuracy from score records, as T0's evaluation reports it: per (task,
 * template) the share of labelled examples whose pred is the label, in percent (as the
 * paper and every t0 report give it), and per task the median over its templates (the
 * paper's figure), the mean, min and max.
 *
 * Rows come out sorted by task, then template (byte order), so the report of a stream
 * does not depend on the order of its records: shards concatenated in any order give the
 * same report, byte for byte. Examples without a label (-1) are counted apart. */
#ifndef T0_EVAL_REPORT_H
#define T0_EVAL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "stream/record.h"

typedef enum { T0_REPORT_TABLE, T0_REPORT_JSON, T0_REPORT_CSV } t0_report_format;

typedef struct t0_report t0_report;

t0_report *t0_report_new(t0_error *err);
void t0_report_free(t0_report *r);
/* Counts one score record. */
int t0_report_add(t0_report *r, const t0_record *score, t0_error *err);
/* The report as text: an aligned table, one JSON object (with a newline), or CSV with a
 * header line (task,template,examples,correct,accuracy). */
int t0_report_write(t0_report *r, t0_report_format format, FILE *out, t0_error *err);

#endif
