/* trainlog.h: the training log (TSV, one line a step) and its loss-curve plot.
 *
 * Columns, after a header line:
 *   step  loss  cross_entropy  z_loss  tokens  tokens_per_s  lr  grad_norm  seconds  ce_per_target_token
 * step is the global step after the update; loss = cross_entropy + z_loss, T0's loss of
 * the step (denominator: the step's target positions, its constant slots filled or not);
 * ce_per_target_token the step's cross-entropy per real target token (loss weight 1), what
 * transformers' loss reads (a log of the previous 9 columns is continued under the new
 * header when a run resumes); tokens the step's non-padding input
 * and target tokens; seconds the step's wall time; grad_norm the L2 norm of the step's
 * whole gradient before the update. Everything but tokens_per_s and seconds is the same
 * bits run after run. */
#ifndef T0_TRAINLOG_H
#define T0_TRAINLOG_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

typedef struct {
    FILE *f;
    char *path;
    char *tmp; /* a new log's temporary name until its first line */
} trainlog;

typedef struct {
    int64_t step;
    double loss, ce, zl, tokens, tokens_per_s, lr, grad_norm, seconds, ce_per_target;
} trainlog_row;

/* Starts path afresh (header; the file replaces an existing one with the first step), or with resume_step >= 0 continues it: lines of steps
 * after resume_step (logged after the checkpoint resumed from) are dropped first, through
 * a temporary file and rename; a missing file is started afresh. */
int trainlog_open(trainlog *l, const char *path, int64_t resume_step, t0_error *err);
/* Appends one line and flushes it. */
int trainlog_write(trainlog *l, const trainlog_row *r, t0_error *err);
int trainlog_close(trainlog *l, t0_error *err);

/* Draws loss (and cross-entropy) against step from a log into a PNG with gnuplot
 * (Debian's gnuplot-nox), through a temporary file and rename; logx: log-scale steps. */
int trainlog_plot(const char *tsv, const char *png, int logx, t0_error *err);
/* Whether gnuplot runs at all (so a run can refuse --plot before it trains). */
int trainlog_plot_available(void);

#endif
