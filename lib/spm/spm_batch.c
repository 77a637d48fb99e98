#include "spm/spm_batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_THREADS = 256 };

typedef struct {
    t0_spm_range_fn fn;
    void *ctx;
    size_t begin, end;
    int thread, rc;
    t0_error err;
} range_job;

/* Where range t of `threads` begins: equal counts, or equal work by cum. */
static size_t range_bound(size_t n, const size_t *cum, int t, int threads)
{
    if (t >= threads)
        return n;
    if (!cum)
        return n * (size_t)t / (size_t)threads;
    size_t target = cum[0] + (cum[n] - cum[0]) / (size_t)threads * (size_t)t;
    size_t lo = 0, hi = n; /* the first i with cum[i] >= target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *run_range(void *arg)
{
    range_job *j = arg;
    t0_error_clear(&j->err);
    j->rc = j->fn(j->ctx, j->begin, j->end, j->thread, &j->err);
    return NULL;
}

int t0_spm_parallel(size_t n, const size_t *cum, int threads, t0_spm_range_fn fn, void *ctx,
                    t0_error *err)
{
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = n ? (int)n : 1;
    range_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        jobs[t] = (range_job){fn, ctx, range_bound(n, cum, t, threads),
                              range_bound(n, cum, t + 1, threads), t, 0, {0}};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, run_range, &jobs[t]) == 0;
    run_range(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_range(&jobs[t]); /* no thread to be had: do it here */
    }
    for (int t = 0; t < threads; t++) {
        if (jobs[t].rc < 0) {
            if (err)
                *err = jobs[t].err;
            return -1;
        }
    }
    return 0;
}

struct t0_spm_run {
    int threads;
    range_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS];
};

t0_spm_run *t0_spm_parallel_start(size_t n, const size_t *cum, int threads,
                                  t0_spm_range_fn fn, void *ctx, t0_error *err)
{
    t0_spm_run *run = calloc(1, sizeof *run);
    if (!run) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = n ? (int)n : 1;
    run->threads = threads;
    for (int t = 0; t < threads; t++) {
        run->jobs[t] = (range_job){fn, ctx, range_bound(n, cum, t, threads),
                                   range_bound(n, cum, t + 1, threads), t, 0, {0}};
        run->started[t] = pthread_create(&run->tid[t], NULL, run_range, &run->jobs[t]) == 0;
        if (!run->started[t])
            run_range(&run->jobs[t]); /* no thread to be had: do it here */
    }
    return run;
}

int t0_spm_parallel_wait(t0_spm_run *run, t0_error *err)
{
    int rc = 0;
    for (int t = 0; t < run->threads; t++)
        if (run->started[t])
            pthread_join(run->tid[t], NULL);
    for (int t = 0; t < run->threads; t++) {
        if (run->jobs[t].rc < 0) {
            if (err)
                *err = run->jobs[t].err;
            rc = -1;
            break;
        }
    }
    free(run);
    return rc;
}
