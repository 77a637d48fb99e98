/* dist.c: data parallelism over MPI (see dist.h). Built with T0_MPI (mk/mpi.mk defines it,
 * with MPI's include flags, for this one file) it calls MPI; built without (no MPI installed,
 * the fuzzers that compile lib/ whole) every call is the single-process no-op and a launch
 * under mpirun is refused with a message. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef T0_MPI
#include <mpi.h>
#endif

#include "train/dist.h"

int dist_launched(int *size)
{
    /* Open MPI's mpirun, MPICH's Hydra and Slurm's PMI give the size; PMIx launchers
     * (srun --mpi=pmix, Open MPI 5) always give PMIX_RANK */
    static const char *const sized[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    *size = 0;
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(sized[i]);
        if (v && *v) {
            *size = atoi(v);
            return 1;
        }
    }
    return getenv("PMIX_RANK") != NULL;
}

int dist_local_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0)
            return atoi(v);
    }
    return 1;
}

void dist_sum_in_order(float *out, const float *const *parts, int nparts, size_t n)
{
    memmove(out, parts[0], n * sizeof *out);
    for (int p = 1; p < nparts; p++)
        for (size_t i = 0; i < n; i++)
            out[i] += parts[p][i];
}

#ifdef T0_MPI

/* 64-bit hash of a byte range, eight bytes at a time (FNV-1a's constants on words) */
static uint64_t hash_bytes(const void *data, size_t bytes)
{
    const unsigned char *b = data;
    uint64_t h = 1469598103934665603ull, w;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < bytes; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int mpi_fail(t0_error *err, const char *call, int rc)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", rc);
    return t0_fail(err, T0_EINTERNAL, "%s: %s", call, text);
}

int dist_init(t0_dist *d, int *argc, char ***argv, t0_error *err)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->seg_floats = (size_t)8 << 20;
    int size;
    if (!dist_launched(&size))
        return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return t0_fail(err, T0_EINTERNAL, "MPI_Init_thread failed");
    d->mpi = 1;
    /* errors come back to us as codes, so they reach the tool's one-line message */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return 0;
}

void dist_finish(t0_dist *d, int status)
{
    free(d->seg);
    d->seg = NULL, d->seg_cap = 0;
    if (!d->mpi)
        return;
    d->mpi = 0;
    if (status != 0 && d->size > 1)
        MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
}

/* One round: x[0..m) of every rank summed in rank order, on every rank. Chunk c (of length
 * count[c] at displ[c]) is summed by rank c: MPI_Alltoallv brings it the N copies, it adds
 * them in rank order, MPI_Allgatherv returns every summed chunk to every rank. */
static int sum_round(t0_dist *d, float *x, size_t m, int *count, int *displ, int *rcount, int *rdispl,
                     const float **parts, t0_error *err)
{
    int N = d->size;
    size_t B = (m + N - 1) / N;
    for (int c = 0; c < N; c++) {
        size_t lo = (size_t)c * B < m ? (size_t)c * B : m;
        size_t hi = lo + B < m ? lo + B : m;
        count[c] = (int)(hi - lo), displ[c] = (int)lo;
    }
    int k = count[d->rank];
    for (int p = 0; p < N; p++) {
        rcount[p] = k, rdispl[p] = p * k;
        parts[p] = d->seg + (size_t)p * k;
    }
    int rc = MPI_Alltoallv(x, count, displ, MPI_FLOAT, d->seg, rcount, rdispl, MPI_FLOAT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Alltoallv", rc);
    dist_sum_in_order(x + displ[d->rank], parts, N, (size_t)k);
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, count, displ, MPI_FLOAT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Allgatherv", rc);
    return 0;
}

int dist_sum_floats(t0_dist *d, float *x, size_t n, t0_error *err)
{
    if (!d->mpi || d->size == 1 || n == 0)
        return 0;
    int N = d->size;
    /* a round: a multiple of N elements, every count and displacement within an int */
    size_t seg = d->seg_floats < (size_t)N ? (size_t)N : d->seg_floats / N * N;
    if (seg > INT_MAX)
        seg = (size_t)INT_MAX / N * N;
    if (d->seg_cap < seg) {
        free(d->seg);
        d->seg = malloc(seg * sizeof *d->seg);
        d->seg_cap = d->seg ? seg : 0;
    }
    int *ints = malloc(4 * (size_t)N * sizeof *ints);
    const float **parts = malloc((size_t)N * sizeof *parts);
    int rc = 0;
    if (!d->seg || !ints || !parts)
        rc = t0_fail(err, T0_EINTERNAL, "out of memory");
    for (size_t off = 0; rc == 0 && off < n; off += seg) {
        size_t m = n - off < seg ? n - off : seg;
        rc = sum_round(d, x + off, m, ints, ints + N, ints + 2 * N, ints + 3 * N, parts, err);
    }
    free(ints);
    free(parts);
    return rc;
}

int dist_sum_doubles(t0_dist *d, double *x, size_t n, t0_error *err)
{
    if (!d->mpi || d->size == 1 || n == 0)
        return 0;
    if (n > INT_MAX)
        return t0_fail(err, T0_EINTERNAL, "dist_sum_doubles: %zu values (at most INT_MAX)", n);
    double *all = malloc(n * d->size * sizeof *all);
    if (!all)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    int rc = MPI_Allgather(x, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        free(all);
        return mpi_fail(err, "MPI_Allgather", rc);
    }
    for (size_t i = 0; i < n; i++) {
        double s = all[i];
        for (int p = 1; p < d->size; p++)
            s += all[(size_t)p * n + i];
        x[i] = s;
    }
    free(all);
    return 0;
}

int dist_sum_i64(t0_dist *d, int64_t *x, size_t n, t0_error *err)
{
    if (!d->mpi || d->size == 1 || n == 0)
        return 0;
    if (n > INT_MAX)
        return t0_fail(err, T0_EINTERNAL, "dist_sum_i64: %zu values (at most INT_MAX)", n);
    int rc = MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Allreduce", rc);
}

int dist_check_same(t0_dist *d, const void *data, size_t bytes, const char *what, t0_error *err)
{
    if (!d->mpi || d->size == 1)
        return 0;
    uint64_t mine = hash_bytes(data, bytes), first = mine;
    int rc = MPI_Bcast(&first, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Bcast", rc);
    /* every rank learns the lowest rank that differs, so every rank fails alike */
    int bad = mine == first ? INT_MAX : d->rank;
    rc = MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Allreduce", rc);
    if (bad != INT_MAX)
        return t0_fail(err, T0_EINPUT, "rank %d's %s differs from rank 0's (do all ranks read the same files?)",
                       bad, what);
    return 0;
}

int dist_bcast(t0_dist *d, void *buf, size_t bytes, t0_error *err)
{
    if (!d->mpi || d->size == 1 || bytes == 0)
        return 0;
    if (bytes > INT_MAX)
        return t0_fail(err, T0_EINTERNAL, "dist_bcast: %zu bytes (at most INT_MAX)", bytes);
    int rc = MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Bcast", rc);
}

int dist_barrier(t0_dist *d, t0_error *err)
{
    if (!d->mpi || d->size == 1)
        return 0;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Barrier", rc);
}

#else /* built without MPI: one process */

int dist_init(t0_dist *d, int *argc, char ***argv, t0_error *err)
{
    (void)argc, (void)argv;
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->seg_floats = (size_t)8 << 20;
    int size;
    if (dist_launched(&size) && size != 1)
        return t0_fail(err, T0_EINPUT,
                       "started by an MPI launcher, but built without MPI: install libopenmpi-dev "
                       "(Debian) and rebuild (make clean all)");
    return 0;
}

void dist_finish(t0_dist *d, int status)
{
    (void)status;
    free(d->seg);
    d->seg = NULL, d->seg_cap = 0;
}

int dist_sum_floats(t0_dist *d, float *x, size_t n, t0_error *err)
{
    (void)d, (void)x, (void)n, (void)err;
    return 0;
}

int dist_sum_doubles(t0_dist *d, double *x, size_t n, t0_error *err)
{
    (void)d, (void)x, (void)n, (void)err;
    return 0;
}

int dist_sum_i64(t0_dist *d, int64_t *x, size_t n, t0_error *err)
{
    (void)d, (void)x, (void)n, (void)err;
    return 0;
}

int dist_check_same(t0_dist *d, const void *data, size_t bytes, const char *what, t0_error *err)
{
    (void)d, (void)data, (void)bytes, (void)what, (void)err;
    return 0;
}

int dist_bcast(t0_dist *d, void *buf, size_t bytes, t0_error *err)
{
    (void)d, (void)buf, (void)bytes, (void)err;
    return 0;
}

int dist_barrier(t0_dist *d, t0_error *err)
{
    (void)d, (void)err;
    return 0;
}

#endif
