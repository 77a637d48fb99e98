/* t5_pool.h: the one thread pool every op splits its work over, and the per-thread
 * floating-point mode the ops assume. */
#ifndef T0_T5_POOL_H
#define T0_T5_POOL_H

/* Flush-to-zero and denormals-are-zero in the calling thread (MXCSR on x86, FPCR's FZ on
 * ARM; nothing elsewhere): denormal softmax probabilities otherwise make sgemm crawl. Every computing thread calls it (the pool's
 * workers do on start). */
void t5_set_ftz(void);

/* Threads. One pool does all the work: OpenBLAS is set to one thread and the ops split
 * their products and loops over the pool's n threads (caller included), whose workers
 * sleep between jobs instead of spinning; n = 1 is one thread in all. A process that never
 * calls it leaves OpenBLAS's own threading as configured. Not to be changed while another
 * thread runs ops. */
#define T5_MAX_THREADS 64
int t5_set_threads(int n); /* returns the number in effect */

/* A caller that runs whole forward passes on several threads at once (t0-score: one
 * example a thread) instead makes n workers with t5_set_worker_threads: OpenBLAS at one
 * thread whatever n, and ops called by a worker never split, so a row's result does not
 * depend on the thread count. t5_run_workers runs fn(ctx, worker) on workers 0..n-1 at
 * once (n <= the number in effect; worker 0 is the calling thread) and returns when all
 * have. */
int t5_set_worker_threads(int n); /* returns the number in effect */
typedef void (*t5_worker_fn)(void *ctx, int worker);
void t5_run_workers(int n, t5_worker_fn fn, void *ctx);
int t5_threads(void);

/* Runs fn over [0, total) split into at most t5_threads() (or max_parts) contiguous parts
 * of at least min_part items; tid is the part's index (0 = the calling thread). Called
 * from inside a task it runs serially. */
typedef void (*t5_task)(void *ctx, int tid, long begin, long end);
void t5_parallel_for(long total, long min_part, t5_task fn, void *ctx);
void t5_parallel_for_n(long total, long min_part, int max_parts, t5_task fn, void *ctx);

#endif
