/* dist.h: data parallelism over MPI, and the same calls as no-ops for one process.
 *
 * A program calls dist_init first thing. Under a launcher (mpirun, srun, mpiexec; seen in
 * the environment: OMPI_COMM_WORLD_SIZE from Open MPI, PMIX_RANK from PMIx launchers,
 * PMI_SIZE from MPICH's Hydra and Slurm's PMI) it initialises MPI and learns its rank;
 * otherwise it is rank 0 of 1 and never calls MPI, so a plain run behaves exactly as a
 * program without this layer. dist_finish ends it: MPI_Finalize on success, MPI_Abort on
 * failure so that one failing rank ends the whole job instead of leaving the others waiting
 * in a collective.
 *
 * Data parallel training: every rank holds the whole model and optimizer state, computes the
 * gradient of its own micro-batches, and dist_sum_floats sums the gradients of all ranks;
 * every rank then applies the same update, so the weights never diverge.
 *
 * The order of the sum, and why. Floating-point addition is not associative, and
 * MPI_Allreduce(MPI_SUM) leaves the order to the implementation: Open MPI picks a ring,
 * a recursive-doubling or a tree algorithm by message size and process count, so for
 * N > 2 the same gradients can sum to results that differ in the last bits from one run,
 * machine layout or MPI version to the next. dist_sum_floats instead computes, for every
 * element i and on every rank,
 *     out[i] = ((x_0[i] + x_1[i]) + x_2[i]) + ... + x_{N-1}[i]     (x_r: rank r's values)
 * exactly what dist_sum_in_order computes in one process. It is a reduce-scatter and an
 * allgather built from data movement only: the vector is cut into N chunks, rank c receives
 * chunk c of every rank (MPI_Alltoallv), adds those N copies in rank order, and the summed
 * chunks are gathered back to every rank (MPI_Allgatherv). MPI only moves bytes, so the
 * result is bit-reproducible for a given N whatever algorithm MPI chooses, and identical on
 * every rank. Each rank sends and receives 2(N-1)/N of the vector's bytes, as a ring
 * all-reduce does. Long vectors go in rounds of at most seg_floats elements, so the extra
 * memory is one round (seg_floats floats), not the whole vector.
 *
 * MPI calls are made from the calling thread only (MPI_THREAD_FUNNELED).
 */
#ifndef T0_DIST_H
#define T0_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct {
    int rank, size;    /* this process's rank in [0, size) */
    int mpi;           /* 1 when MPI was initialised (a launcher started us) */
    size_t seg_floats; /* elements a round of dist_sum_floats; dist_init sets 8 Mi (32 MiB) */
    float *seg;        /* the round's receive buffer, allocated on first use */
    size_t seg_cap;    /* its length in floats */
} t0_dist;

/* Whether this process was started by an MPI launcher, and the size it was given
 * (0 when none was found). Reads the environment only. */
int dist_launched(int *size);

/* Ranks the launcher started on this machine (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS,
 * SLURM_NTASKS_PER_NODE; 1 when none is set): the cores are shared among them. */
int dist_local_size(void);

/* Initialises d: MPI under a launcher, a singleton otherwise. A launch seen in the
 * environment in a build without MPI is an input error that says how to build with it. */
int dist_init(t0_dist *d, int *argc, char ***argv, t0_error *err);

/* Ends d. status 0: MPI_Finalize (after every rank got here); non-zero under MPI: MPI_Abort
 * with that exit code, which makes the launcher end every rank. Frees d's buffer. */
void dist_finish(t0_dist *d, int status);

/* x[0..n) on every rank becomes the sum over ranks, added in rank order (see above). The
 * same n on every rank. A no-op for one process. */
int dist_sum_floats(t0_dist *d, float *x, size_t n, t0_error *err);

/* The same for a few doubles (loss sums, counts of tokens as doubles): gathered whole and
 * added in rank order on every rank. */
int dist_sum_doubles(t0_dist *d, double *x, size_t n, t0_error *err);

/* Exact sum of int64 values over ranks (integers: any order gives the same result). */
int dist_sum_i64(t0_dist *d, int64_t *x, size_t n, t0_error *err);

/* Input error unless every rank passed the same bytes (compares a 64-bit hash with rank 0's):
 * catches ranks that loaded different weights or state. what names the data in the message. */
int dist_check_same(t0_dist *d, const void *data, size_t bytes, const char *what, t0_error *err);

/* bytes of buf on every rank become rank 0's. */
int dist_bcast(t0_dist *d, void *buf, size_t bytes, t0_error *err);

/* Waits for every rank. */
int dist_barrier(t0_dist *d, t0_error *err);

/* The reference sum in one process: out[i] = ((parts[0][i] + parts[1][i]) + ...) over nparts. */
void dist_sum_in_order(float *out, const float *const *parts, int nparts, size_t n);

/* Whether micro-batch index (0, 1, 2, ... in stream order) is this rank's: rank r of N takes
 * r, r + N, r + 2N, ..., so one t0-pack stream feeds any N. */
static inline int dist_owns(const t0_dist *d, int64_t index)
{
    return index % d->size == d->rank;
}

#endif
