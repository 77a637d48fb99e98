/* test_dist: the data-parallel layer (lib/train/dist.h). Alone it checks the single-process
 * no-ops and the reference sum; under mpirun (tests/mpi.bats: -np 2 and 3) every rank builds
 * every rank's values, and the sums across ranks must equal, bit for bit, the rank-order
 * sum computed in this one process, for lengths that do and do not divide by N, in one round
 * and in many. */
#include <stdint.h>
#include <stdlib.h>

#include "train/dist.h"
#include "unit.h"

/* rank r's value i: a spread of magnitudes, so the order of a sum shows in the last bits */
static float value(int r, size_t i, unsigned salt)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * (i + 1) ^ (uint64_t)(r + 1) << 40 ^ (uint64_t)salt << 20;
    s ^= s >> 31, s *= 0xbf58476d1ce4e5b9ull, s ^= s >> 27, s *= 0x94d049bb133111ebull, s ^= s >> 31;
    float u = (float)((s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
    static const float scale[] = {1e-3f, 1.0f, 1e3f, 1e-1f, 1e2f};
    return u * scale[(s >> 8) % 5];
}

static void fill(float *x, int r, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        x[i] = value(r, i, salt);
}

static void test_reference_order(void)
{
    /* ((a + b) + c) differs from (a + (b + c)) here: the reference must take the first */
    float a[] = {1e8f, 0.5f}, b[] = {-1e8f, 1e-8f}, c[] = {1.0f, 1e-8f};
    const float *parts[] = {a, b, c};
    float out[2];
    dist_sum_in_order(out, parts, 3, 2);
    CHECK(out[0] == (a[0] + b[0]) + c[0]);
    CHECK(out[0] != a[0] + (b[0] + c[0]));
    CHECK(out[1] == (a[1] + b[1]) + c[1]);
}

static void test_floats(t0_dist *d, size_t n, size_t seg, unsigned salt)
{
    int N = d->size;
    float *x = malloc((n + 1) * sizeof *x), *want = malloc((n + 1) * sizeof *want);
    float *rev = malloc((n + 1) * sizeof *rev);
    float **all = malloc(N * sizeof *all);
    for (int r = 0; r < N; r++) {
        all[r] = malloc((n + 1) * sizeof *all[r]);
        fill(all[r], r, n, salt);
    }
    dist_sum_in_order(want, (const float *const *)all, N, n);
    fill(x, d->rank, n, salt);
    d->seg_floats = seg;
    t0_error err = {0};
    CHECK(dist_sum_floats(d, x, n, &err) == 0);
    int same = n == 0 || memcmp(x, want, n * sizeof *x) == 0;
    if (!CHECK(same))
        fprintf(stderr, "rank %d: n %zu seg %zu: sum differs from the rank-order sum\n", d->rank, n, seg);
    /* the values are order-sensitive: summed in reverse rank order they differ somewhere
     * (with 3 or more ranks; two operands commute exactly) */
    if (N >= 3 && n >= 1000) {
        float **back = malloc(N * sizeof *back);
        for (int r = 0; r < N; r++)
            back[r] = all[N - 1 - r];
        dist_sum_in_order(rev, (const float *const *)back, N, n);
        CHECK(memcmp(rev, want, n * sizeof *rev) != 0);
        free(back);
    }
    for (int r = 0; r < N; r++)
        free(all[r]);
    free(all);
    free(x);
    free(want);
    free(rev);
}

static void test_small_sums(t0_dist *d)
{
    double x[3], want[3] = {0, 0, 0};
    int64_t k[2] = {d->rank + 1, (int64_t)1 << 40}, N = d->size;
    for (int i = 0; i < 3; i++)
        x[i] = (double)value(d->rank, i, 7) * 1e10 + value(d->rank, i, 8);
    for (int r = 0; r < d->size; r++)
        for (int i = 0; i < 3; i++)
            want[i] = r == 0 ? (double)value(r, i, 7) * 1e10 + value(r, i, 8)
                             : want[i] + ((double)value(r, i, 7) * 1e10 + value(r, i, 8));
    t0_error err = {0};
    CHECK(dist_sum_doubles(d, x, 3, &err) == 0);
    CHECK(memcmp(x, want, sizeof x) == 0);
    CHECK(dist_sum_i64(d, k, 2, &err) == 0);
    CHECK(k[0] == N * (N + 1) / 2);
    CHECK(k[1] == N << 40);
}

static void test_check_same(t0_dist *d)
{
    float w[100];
    fill(w, 0, 100, 3);
    t0_error err = {0};
    CHECK(dist_check_same(d, w, sizeof w, "weights", &err) == 0);
    if (d->size == 1)
        return;
    if (d->rank == 1)
        w[99] += 1.0f;
    CHECK(dist_check_same(d, w, sizeof w, "weights", &err) != 0);
    CHECK(err.status == T0_EINPUT);
    CHECK(strcmp(err.msg, "rank 1's weights differs from rank 0's (do all ranks read the same files?)") == 0);
}

static void test_bcast(t0_dist *d)
{
    char path[64];
    snprintf(path, sizeof path, "out/checkpoint-%d", 10 + d->rank);
    t0_error err = {0};
    CHECK(dist_bcast(d, path, sizeof path, &err) == 0);
    CHECK(strcmp(path, "out/checkpoint-10") == 0);
}

int main(int argc, char **argv)
{
    t0_dist d;
    t0_error err = {0};
    if (dist_init(&d, &argc, &argv, &err) != 0) {
        fprintf(stderr, "test_dist: %s\n", err.msg);
        return 1;
    }
    int size;
    CHECK(dist_launched(&size) == d.mpi);
    CHECK(d.rank >= 0 && d.rank < d.size);
    CHECK(dist_owns(&d, d.rank) && dist_owns(&d, d.rank + 2 * (int64_t)d.size));
    CHECK(d.size == 1 || !dist_owns(&d, d.rank + 1));
    test_reference_order();
    static const size_t lens[] = {0, 1, 2, 5, 1000, 100003};
    static const size_t segs[] = {(size_t)8 << 20, 1, 7, 64, 4099};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
        for (size_t j = 0; j < sizeof segs / sizeof *segs; j++)
            test_floats(&d, lens[i], segs[j], (unsigned)(10 * i + j));
    test_small_sums(&d);
    test_check_same(&d);
    test_bcast(&d);
    CHECK(dist_barrier(&d, &err) == 0);
    char name[64];
    snprintf(name, sizeof name, "test_dist (rank %d of %d)", d.rank, d.size);
    int rc = unit_summary(name);
    dist_finish(&d, 0);
    return rc;
}
