#include "spm_batch.h"

#include <pthread.h>
#include <string.h>

enum { MAX_THREADS = 256 };

typedef struct {
    t0_spm_range_fn fn;
    void *ctx;
    size_t begin, end;
    int thread, rc;
    t0_error err;
} range_job;

static void *run_range(void *arg)
{
    range_job *j = arg;
    t0_error_clear(&j->err);
    j->rc = j->fn(j->ctx, j->begin, j->end, j->thread, &j->err);
    return NULL;
}

int t0_spm_parallel(size_t n, int threads, t0_spm_range_fn fn, void *ctx, t0_error *err)
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
        jobs[t] = (range_job){fn, ctx, n * (size_t)t / (size_t)threads,
                              n * (size_t)(t + 1) / (size_t)threads, t, 0, {0}};
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
