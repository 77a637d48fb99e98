/* dist_bench: time the gradient sum across ranks (dist_sum_floats, train/dist.h) of a model's
 * size, under mpirun.
 *   mpirun -np N dist_bench [--floats N] [--reps 5]
 * Rank 0 prints one line: the seconds of one sum (best of reps, and the mean) and the bytes
 * each rank sent, 2 (N - 1) / N of the vector's, as GB/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/dist.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    t0_dist d;
    t0_error err = {0};
    if (dist_init(&d, &argc, &argv, &err) != 0) {
        fprintf(stderr, "dist_bench: %s\n", err.msg);
        return 1;
    }
    size_t n = (size_t)76961152; /* t5-v1_1-small */
    int reps = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--floats"))
            n = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
    }
    float *x = malloc(n * sizeof *x);
    if (!x || reps < 1) {
        fprintf(stderr, "dist_bench: out of memory or --reps < 1\n");
        dist_finish(&d, 2);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u + (size_t)d.rank) % 1000) * 1e-3f;
    double best = 1e30, sum = 0;
    for (int r = 0; r <= reps; r++) { /* rep 0 warms up (pages, connections) */
        if (dist_barrier(&d, &err) != 0)
            break;
        double t = now();
        if (dist_sum_floats(&d, x, n, &err) != 0)
            break;
        t = now() - t;
        if (r > 0)
            best = t < best ? t : best, sum += t;
    }
    int rc = err.msg[0] ? 2 : 0;
    if (rc)
        fprintf(stderr, "dist_bench: rank %d: %s\n", d.rank, err.msg);
    else if (d.rank == 0) {
        double sent = 2.0 * (d.size - 1) / d.size * 4.0 * (double)n;
        printf("impl=dist_sum_floats ranks=%d floats=%zu allreduce_s=%.4f mean_s=%.4f sent_per_rank_mb=%.1f "
               "gb_per_s=%.2f\n",
               d.size, n, best, sum / reps, sent / 1e6, sent / best / 1e9);
    }
    free(x);
    dist_finish(&d, rc);
    return rc;
}
