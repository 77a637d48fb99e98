/* t5_pool.c: see t5_pool.h. */
#include "t5/t5_pool.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

void t5_set_ftz(void)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ (bit 15) and DAZ (bit 6) of MXCSR */
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1ull << 24))); /* FZ: flush denormals to zero */
#endif
}

/* ---------------------------------------------------------------- thread pool
 * Workers sleep on a condition variable between jobs (no spinning: on 2 cores a spinning
 * pool starves the thread that has work). A job is split into one contiguous part per
 * thread; the calling thread runs part 0. A task started from inside a task runs serially. */

static struct {
    int n; /* threads including the caller */
    pthread_t th[T5_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen, base_gen; /* base_gen: gen when the workers were made */
    int pending, quit;
    t5_task fn;
    void *ctx;
    long total;
    int parts;
} pool = {1, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static _Thread_local int in_task;

static void run_part(int k)
{
    long b = pool.total * k / pool.parts, e = pool.total * (k + 1) / pool.parts;
    if (b < e) {
        in_task = 1;
        pool.fn(pool.ctx, k, b, e);
        in_task = 0;
    }
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    t5_set_ftz();
    pthread_mutex_lock(&pool.mu);
    unsigned seen = pool.base_gen; /* a job may have been posted before this thread ran */
    for (;;) {
        while (pool.gen == seen && !pool.quit)
            pthread_cond_wait(&pool.go, &pool.mu);
        if (pool.quit)
            break;
        seen = pool.gen;
        int parts = pool.parts;
        pthread_mutex_unlock(&pool.mu);
        if (id < parts)
            run_part(id);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0)
            pthread_cond_signal(&pool.done);
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

static void stop_pool(void)
{
    if (pool.n <= 1)
        return;
    pthread_mutex_lock(&pool.mu);
    pool.quit = 1;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 1; i < pool.n; i++)
        pthread_join(pool.th[i], NULL);
    pool.quit = 0;
    pool.n = 1;
}

static int start_pool(int n)
{
    if (n < 1)
        n = 1;
    if (n > T5_MAX_THREADS)
        n = T5_MAX_THREADS;
    stop_pool();
    /* one pool: our threads split the products, sgemm runs on the calling thread. Also at
     * n = 1: OpenBLAS otherwise starts a thread a core inside each product, so "1 thread"
     * trained on every core and 2 threads added only the loops outside sgemm (README.md) */
    openblas_set_num_threads(1);
    pool.base_gen = pool.gen;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&pool.th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            n = i;
            break;
        }
    }
    pool.n = n;
    return n;
}

int t5_set_threads(int n)
{
    return start_pool(n);
}

int t5_set_worker_threads(int n)
{
    return start_pool(n);
}

typedef struct {
    t5_worker_fn fn;
    void *ctx;
} workers_job;

static void worker_task(void *ctx, int tid, long b, long e)
{
    (void)b, (void)e;
    const workers_job *j = ctx;
    j->fn(j->ctx, tid);
}

void t5_run_workers(int n, t5_worker_fn fn, void *ctx)
{
    workers_job j = {fn, ctx};
    t5_parallel_for_n(n, 1, n, worker_task, &j);
}

int t5_threads(void)
{
    return pool.n;
}

void t5_parallel_for(long total, long min_part, t5_task fn, void *ctx)
{
    t5_parallel_for_n(total, min_part, T5_MAX_THREADS, fn, ctx);
}

void t5_parallel_for_n(long total, long min_part, int max_parts, t5_task fn, void *ctx)
{
    long parts = pool.n < max_parts ? pool.n : max_parts;
    if (min_part > 1 && total / min_part < parts)
        parts = total / min_part;
    if (parts <= 1 || in_task || total <= 1) {
        if (total > 0)
            fn(ctx, 0, 0, total);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn, pool.ctx = ctx, pool.total = total, pool.parts = (int)parts;
    pool.pending = pool.n - 1;
    pool.gen++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    run_part(0);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}

