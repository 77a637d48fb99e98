/* spm_batch.h: tokenizing many independent items on a few threads, order kept.
 *
 * The caller fills a batch (lines or records), t0_spm_parallel splits [0, n) into one
 * contiguous range a thread, each thread works with its own t0_spm_work, and the caller
 * writes the results in order. Threads are started per batch: with batches of a few MB,
 * that costs microseconds against the milliseconds of work. */
#ifndef T0_SPM_BATCH_H
#define T0_SPM_BATCH_H

#include <stddef.h>

#include "common/error.h"

/* fn(ctx, begin, end, thread) handles items [begin, end); returns 0 or -1 with err set. */
typedef int (*t0_spm_range_fn)(void *ctx, size_t begin, size_t end, int thread,
                               t0_error *err);

/* Runs fn over [0, n) on up to `threads` threads (the calling thread is one of them).
 * With weights (cum[i] = the work of items 0..i-1, n + 1 entries, e.g. byte offsets) the
 * ranges get equal work; with cum NULL, equal counts. Returns 0, or -1 with the error of
 * the first range (in order) that failed. */
int t0_spm_parallel(size_t n, const size_t *cum, int threads, t0_spm_range_fn fn, void *ctx,
                    t0_error *err);

/* The same in two halves, so the caller can read the next batch meanwhile: start runs
 * every range on threads of its own (ranges: min(threads, n)); wait joins them, frees the
 * run and reports as t0_spm_parallel does. NULL from start: out of memory. */
typedef struct t0_spm_run t0_spm_run;
t0_spm_run *t0_spm_parallel_start(size_t n, const size_t *cum, int threads,
                                  t0_spm_range_fn fn, void *ctx, t0_error *err);
int t0_spm_parallel_wait(t0_spm_run *run, t0_error *err);

#endif
