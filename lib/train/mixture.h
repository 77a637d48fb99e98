/* mixture.h: T0's task mixture: examples-proportional rates with a cap, seeded sampling,
 * tasks that restart when they run dry, shuffle buffers that bound memory.
 *
 * A task is one token stream (a file). Its records carry `task` (the dataset, as
 * t0-render names it: "dataset" or "dataset/subset") and `template` (the prompt's
 * name); T0's tasks are the (dataset, template) pairs, and a file may hold one pair or
 * several (all templates of a dataset, as t0-render writes them).
 *
 * Mixture file (TSV): one task a line, `name<TAB>path<TAB>rate`; lines starting with
 * '#' and blank lines are skipped; a relative path is relative to the TSV's folder;
 * rate is a positive number. name is a label (unique, no tab).
 *
 * Rates (T0's rule, t-zero's tasks.py): a dataset's size is the most records any of
 * its templates has; a template of a dataset of at most `cap` examples counts its own
 * records, one of a larger dataset counts cap / (the dataset's number of templates),
 * rounded down. A file's rate is the sum over the pairs it holds; a pair spread over
 * several files (shards) counts once, each file getting its share. cap 0: no cap.
 *
 * Sampling (seqio's Mixture, tf.data sample_from_datasets): each draw picks task t with
 * probability rate_t / sum of rates, then takes an example from t's shuffle buffer: the
 * buffer holds the next N records of t's stream (fewer at its end), the draw removes a
 * uniformly chosen one. When t's stream ends the buffer is drawn empty, then the stream
 * restarts from its first record (seqio: shuffle, then repeat), so each pass over a task
 * yields every one of its examples exactly once. All choices come from --seed.
 * Memory: N examples per task, plus one stream reader per task (about 1 MB: zstd's
 * window and buffers), never the size of the data.
 */
#ifndef T0_MIXTURE_H
#define T0_MIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

typedef struct {
    char *name;
    char *path;  /* as opened: relative paths of a TSV already joined with its folder */
    double rate;
    uint64_t records; /* records counted (t0_mixture_rates), 0 when from a TSV */
} t0_mix_task;

/* Reads a mixture file. Messages name file:line. Every path must exist and be readable. */
int t0_mixture_read_tsv(const char *path, t0_mix_task **tasks, size_t *n, t0_error *err);
/* Counts the records of each file and gives each its T0 rate with the cap (above);
 * a task is named by its records' dataset, ":template" when it holds one template. */
int t0_mixture_rates(const char *const *paths, size_t n, uint64_t cap, t0_mix_task **tasks,
                     t0_error *err);
/* Writes tasks as a mixture file for tsv_path (paths relative to its folder when the
 * files lie under it, else absolute), or with the paths as they are for NULL. */
int t0_mixture_write_tsv(FILE *f, const t0_mix_task *tasks, size_t n, const char *tsv_path,
                         uint64_t cap, t0_error *err);
void t0_mix_tasks_free(t0_mix_task *tasks, size_t n);
/* Draws for `epochs` passes over the mixture: epochs times the sum of the rates, rounded up
 * (a product a hair over an integer, from rounding, stays that integer). */
uint64_t t0_mixture_draws(const t0_mix_task *tasks, size_t n, double epochs);

/* One example drawn: pointers stay valid until the next draw. */
typedef struct {
    size_t task;
    const int32_t *input, *target;
    uint32_t n_input, n_target;
} t0_mix_example;

typedef struct t0_mixture t0_mixture;

/* Opens every task's stream (checks it holds token records). buffer >= 1. */
t0_mixture *t0_mixture_open(const t0_mix_task *tasks, size_t n, uint64_t seed, uint32_t buffer,
                            t0_error *err);
/* Draws one example. 0 or -1. */
int t0_mixture_next(t0_mixture *m, t0_mix_example *ex, t0_error *err);
/* Examples drawn from task t so far, and the passes over its stream begun (0 before
 * its first draw). */
uint64_t t0_mixture_drawn(const t0_mixture *m, size_t t);
uint64_t t0_mixture_passes(const t0_mixture *m, size_t t);
void t0_mixture_close(t0_mixture *m);

#endif
