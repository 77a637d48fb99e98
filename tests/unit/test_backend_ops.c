/* test_backend_ops.c: every kernel against a plain reference, in the spirit of llama.cpp's
 * test-backend-ops. The references below are written the obvious way in double; the ops
 * and kernels sum in other orders, in F32, with a ~1 ulp exp, so each comparison allows a
 * relative error (|got - want| / max(|want|, 1), bound stated at each check) and never
 * asserts bits, except the kernels' own promise that a row gets the same bits alone or in a
 * batch.
 *   - the product kernel sets (t5_linear_kernels.h): every set this CPU runs (plain, AVX2,
 *     AVX-512 BF16; a line says which it lacks), F32 and BF16 weights, on shapes that find
 *     edge bugs: 1 row, the block sizes +-1 (4 input rows, 3 and 6 weight rows, the 8-lane
 *     tails), odd, prime and large column counts (1, 7, 9, 31, 1023, 1024, 1100);
 *   - the BF16 training products (t5_mixed.h): the tile kernels (plain, AVX-512 BF16; a line
 *     says which this CPU lacks) through the packed product in the three layouts training
 *     uses, across the tile's and the K panel's edges, and t5_mixed_forward/backward as this
 *     CPU runs them, all against double on BF16-rounded operands;
 *   - the int8 kernel of every set (plain, AVX2, AVX-512 VNNI; a line says which it lacks)
 *     against the plain one, the same bits (exact int32 sums), on the same kind of edge
 *     shapes (32- and 64-byte blocks +-1); and t5_linear_i8 against double within the
 *     bound t5_int8.h derives;
 *   - the ops (t5_ops.h), forward and backward, on 1 and 2 threads: product, RMSNorm,
 *     embedding, the three activations gated and not, attention with masks and the
 *     relative bias, cross-entropy with z-loss.
 *   - the row kernel builds (t5_row_kernels.h): every build this CPU runs (AVX2, AVX-512F)
 *     against the plain build, forward and backward (RMSNorm, activations, max, exp and its
 *     sum, masked softmax and its gradient, Adafactor's statistics and update), rows of 1 and
 *     3, lengths around the 8 and 16 lanes and large ones; the plain build is what the ops
 *     above run with T0_BF16_PLAIN=1, this CPU's best build otherwise. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/half.h"
#include "t5/t5_cpu.h"
#include "t5/t5_int8.h"
#include "t5/t5_linear_kernels.h"
#include "t5/t5_mixed.h"
#include "t5/t5_ops.h"
#include "t5/t5_row_kernels.h"
#include "unit.h"

static uint64_t rng = 12345;

static float uni(void) /* [-1, 1) */
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rand_floats(size_t n, float scale)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = scale * uni();
    return p;
}

/* the worst relative error of got against want over n values */
static double worst_err(const float *got, const double *want, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / fmax(fabs(want[i]), 1.0);
        if (!(d <= w)) /* NaN counts as worst */
            w = isnan(d) ? INFINITY : d;
    }
    return w;
}

/* ---------------------------------------------------------------- product kernels */

/* One kernel set, one shape: out = alpha * x @ w^T + (accumulate: 0.5) against double, and
 * each row alone against the batch (the same bits). */
static void check_kernel(const t5_linear_kernels *k, int bf16, int native, int N, int C, int OC)
{
    float *x = rand_floats((size_t)N * C, 1.0f), *w = rand_floats((size_t)OC * C, 1.0f);
    uint16_t *wb = malloc(sizeof(uint16_t) * OC * C), *xb = malloc(sizeof(uint16_t) * N * C);
    float *out = malloc(sizeof(float) * N * OC), *alone = malloc(sizeof(float) * N * OC);
    double *want = malloc(sizeof(double) * N * OC);
    for (int i = 0; i < OC * C; i++)
        wb[i] = t0_f32_to_bf16(w[i]);
    for (int i = 0; i < N * C; i++) { /* BF16 weights: the inputs rounded first, as t5_linear does */
        xb[i] = t0_f32_to_bf16(x[i]);
        if (bf16 && !native)
            x[i] = t0_bf16_to_f32(xb[i]);
    }
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int c = 0; c < C; c++)
                s += (bf16 ? (double)t0_bf16_to_f32(xb[n * C + c]) * t0_bf16_to_f32(wb[o * C + c])
                           : (double)x[n * C + c] * w[o * C + c]);
            want[n * OC + o] = 0.5 + 0.75 * s;
        }
    for (int i = 0; i < N * OC; i++)
        out[i] = alone[i] = 0.5f;
    t5_lin_job j = {out, native ? (const void *)xb : (const void *)x, bf16 ? NULL : w, bf16 ? wb : NULL, N, C, OC, 1,
                    0.75f, NULL, NULL, NULL};
    t5_rows_fn fn = native ? k->bf16_rows : k->rows;
    fn(&j, 0, OC);
    int same = 1;
    for (int n = 0; n < N; n++) {
        t5_lin_job one = j;
        one.out = alone + (size_t)n * OC, one.N = 1;
        one.x = native ? (const void *)(xb + (size_t)n * C) : (const void *)(x + (size_t)n * C);
        fn(&one, 0, OC);
    }
    same = memcmp(out, alone, sizeof(float) * N * OC) == 0;
    double e = worst_err(out, want, (size_t)N * OC);
    /* F32 sums of C products of values in [-1, 1): a few ulp of the sum's scale */
    int ok = e < 2e-5 * sqrt((double)C + 1) && same;
    if (!ok)
        fprintf(stderr, "  %s %s%s N %d C %d OC %d: worst error %.3g, rows alone %s\n", k->name,
                bf16 ? "bf16" : "f32", native ? " native" : "", N, C, OC, e, same ? "same bits" : "DIFFER");
    CHECK(ok);
    free(x), free(w), free(wb), free(xb), free(out), free(alone), free(want);
}

static void test_kernels(void)
{
    const t5_linear_kernels *sets[8];
    int n = t5_linear_variants(sets, 8);
    const t5_cpu *cpu = t5_cpu_probe();
    if (!cpu->avx2_fma)
        fprintf(stderr, "product kernels: avx2 skipped (this CPU lacks AVX2 + FMA)\n");
    if (!(cpu->avx512bf16 && cpu->avx512bw))
        fprintf(stderr, "product kernels: avx512bf16 skipped (this CPU lacks AVX-512 BF16)\n");
    static const int rows[] = {1, 2, 3, 4, 5, 8, 13};
    static const int cols[] = {1, 7, 8, 9, 31, 64, 1023, 1024, 1100};
    static const int outs[] = {1, 2, 3, 4, 5, 6, 7, 29, 65};
    for (int s = 0; s < n; s++) {
        int before = unit_failures, cases = 0;
        for (int native = 0; native <= (sets[s]->bf16_rows != NULL); native++)
            for (int bf16 = native; bf16 <= 1; bf16++)
                for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
                    for (size_t b = 0; b < sizeof cols / sizeof *cols; b++)
                        for (size_t c = 0; c < sizeof outs / sizeof *outs; c++, cases++)
                            check_kernel(sets[s], bf16, native, rows[a], cols[b], outs[c]);
        fprintf(stderr, "product kernels: %s: %d shapes x types against double, %s\n", sets[s]->name, cases,
                unit_failures == before ? "all within bounds, rows alone = batch" : "FAILED");
    }
}

/* ---------------------------------------------------------------- BF16 training products */

/* want = 0.5 (accumulate) + alpha * bf16(A) @ bf16(B) in double, A(i,k) and B(k,j) read
 * through the views */
static void mixed_reference(double *want, int M, int Ncols, int K, t5_mat_view a, t5_mat_view b, float alpha,
                            int accumulate)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < Ncols; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)t0_bf16_to_f32(t0_f32_to_bf16(a.p[i * a.rs + k * a.cs])) *
                     t0_bf16_to_f32(t0_f32_to_bf16(b.p[k * b.rs + j * b.cs]));
            want[(size_t)i * Ncols + j] = (accumulate ? 0.5 : 0.0) + alpha * s;
        }
}

/* F32 sums of K exact products of values in [-1, 1): as the product kernels' bound. Without
 * the rounding of the operands the error would be ~2^-9 of each product, far above it. */
static int mixed_within(const float *got, const double *want, size_t n, int K, const char *what)
{
    double e = worst_err(got, want, n);
    int ok = e < 2e-5 * sqrt((double)K + 1);
    if (!ok)
        fprintf(stderr, "  %s: worst error %.3g\n", what, e);
    return ok;
}

/* One tile kernel through the packed product, one shape, each of the three layouts the
 * training products use (x w^T; dout w; dout^T x), set and accumulated */
static void check_mixed_tile(t5_bf16_tile_fn tile, const char *name, int M, int Ncols, int K)
{
    float *a = rand_floats((size_t)M * K, 1.0f), *b = rand_floats((size_t)K * Ncols, 1.0f);
    float *got = malloc(sizeof(float) * M * Ncols);
    double *want = malloc(sizeof(double) * M * Ncols);
    /* A row-major or transposed; B row-major or transposed */
    t5_mat_view as[2] = {{a, K, 1}, {a, 1, M}}, bs[2] = {{b, Ncols, 1}, {b, 1, K}};
    for (int layout = 0; layout < 3; layout++)
        for (int accumulate = 0; accumulate <= 1; accumulate++) {
            t5_mat_view av = as[layout == 2], bv = bs[layout == 0];
            for (int i = 0; i < M * Ncols; i++)
                got[i] = accumulate ? 0.5f : 1e30f; /* set: whatever was there goes */
            mixed_reference(want, M, Ncols, K, av, bv, 0.75f, accumulate);
            t5_gemm_bf16(got, Ncols, M, Ncols, K, av, bv, 0.75f, accumulate, tile);
            char what[96];
            snprintf(what, sizeof what, "bf16 tile %s M %d N %d K %d layout %d%s", name, M, Ncols, K, layout,
                     accumulate ? " +=" : "");
            CHECK(mixed_within(got, want, (size_t)M * Ncols, K, what));
        }
    free(a), free(b), free(got), free(want);
}

static void test_mixed_tiles(void)
{
    const t5_linear_kernels *sets[8];
    int n = t5_linear_variants(sets, 8);
    const t5_cpu *cpu = t5_cpu_probe();
    if (!(cpu->avx512bf16 && cpu->avx512bw))
        fprintf(stderr, "bf16 training tiles: avx512bf16 skipped (this CPU lacks AVX-512 BF16)\n");
    /* the tile's 8 rows and 32 columns +-1, the K panel (256) +-1 and odd K (a half pair),
     * more than one pass of 256 columns */
    static const int ms[] = {1, 7, 8, 9, 33};
    static const int ns[] = {1, 31, 32, 33, 290};
    static const int ks[] = {1, 2, 7, 255, 256, 257, 600};
    for (int s = -1; s < n; s++) {
        t5_bf16_tile_fn tile = s < 0 ? t5_bf16_tile_plain : sets[s]->bf16_tile;
        if (!tile)
            continue;
        int before = unit_failures, cases = 0;
        for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
            for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
                for (size_t c = 0; c < sizeof ks / sizeof *ks; c++, cases++)
                    check_mixed_tile(tile, s < 0 ? "plain" : sets[s]->name, ms[a], ns[b], ks[c]);
        fprintf(stderr, "bf16 training tiles: %s: %d shapes x 3 layouts x set/add against double, %s\n",
                s < 0 ? "plain" : sets[s]->name, cases, unit_failures == before ? "all within bounds" : "FAILED");
    }
}

/* t5_mixed_forward / backward (whichever way this CPU runs them: vdpbf16ps, or the
 * emulation's rounded copies through sgemm) against double */
static void test_mixed_products(int N, int C, int OC)
{
    float *x = rand_floats((size_t)N * C, 1.0f), *w = rand_floats((size_t)OC * C, 1.0f);
    float *d = rand_floats((size_t)N * OC, 1.0f);
    float *out = malloc(sizeof(float) * N * OC), *dx = malloc(sizeof(float) * N * C);
    float *dw = malloc(sizeof(float) * OC * C);
    size_t most = (size_t)N * OC;
    most = most > (size_t)N * C ? most : (size_t)N * C;
    most = most > (size_t)OC * C ? most : (size_t)OC * C;
    double *want = malloc(sizeof(double) * most);
    t5_mat_view xv = {x, C, 1}, wt = {w, 1, C}, wv = {w, C, 1}, dv = {d, OC, 1}, dt = {d, 1, OC};
    for (int i = 0; i < N * OC; i++)
        out[i] = 0.5f;
    t5_mixed_forward(out, x, w, N, C, OC, 0.75f, 1);
    mixed_reference(want, N, OC, C, xv, wt, 0.75f, 1);
    CHECK(mixed_within(out, want, (size_t)N * OC, C, "t5_mixed_forward"));
    for (int i = 0; i < N * C; i++)
        dx[i] = 0.5f;
    for (int i = 0; i < OC * C; i++)
        dw[i] = 0.5f;
    t5_mixed_backward(dx, dw, d, x, w, N, C, OC, 0.75f);
    mixed_reference(want, N, C, OC, dv, wv, 0.75f, 1);
    CHECK(mixed_within(dx, want, (size_t)N * C, OC, "t5_mixed_backward dinp"));
    mixed_reference(want, OC, C, N, dt, xv, 0.75f, 1);
    CHECK(mixed_within(dw, want, (size_t)OC * C, N, "t5_mixed_backward dw"));
    free(x), free(w), free(d), free(out), free(dx), free(dw), free(want);
}

/* ---------------------------------------------------------------- int8 kernels */

/* One int8 kernel, one shape: int8 values in [-127, 127] (the quantizer's range; the
 * extremes +-127 placed on purpose, where vpmaddubsw would saturate with another operand
 * convention) against the plain kernel: the int32 sums are exact, and every kernel puts
 * them through the same F32 expression, so the outputs must be the same bits. */
static void check_i8_kernel(t5_rows_fn fn, const char *name, int N, int C, int OC)
{
    int8_t *x = malloc((size_t)N * C + 1), *w = malloc((size_t)OC * C + 1);
    float *xs = malloc(sizeof(float) * N), *ws = malloc(sizeof(float) * OC);
    float *want = malloc(sizeof(float) * N * OC), *got = malloc(sizeof(float) * N * OC);
    for (int i = 0; i < N * C; i++)
        x[i] = (int8_t)(i % 5 == 0 ? (i % 2 ? 127 : -127) : (int)(uni() * 127.5f));
    for (int i = 0; i < OC * C; i++)
        w[i] = (int8_t)(i % 3 == 0 ? (i % 2 ? -127 : 127) : (int)(uni() * 127.5f));
    for (int n = 0; n < N; n++)
        xs[n] = 0.01f + 0.001f * n;
    for (int o = 0; o < OC; o++)
        ws[o] = 0.02f - 0.0001f * o;
    for (int i = 0; i < N * OC; i++)
        want[i] = got[i] = 0.5f;
    t5_lin_job j = {want, x, NULL, NULL, N, C, OC, 1, 0.75f, w, ws, xs};
    t5_rows_i8_plain(&j, 0, OC);
    /* the plain kernel itself against an int64 sum */
    int exact = 1;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            int64_t s = 0;
            for (int c = 0; c < C; c++)
                s += (int64_t)x[n * C + c] * w[o * C + c];
            float v = 0.5f + 0.75f * ((float)s * (xs[n] * ws[o]));
            exact &= v == want[n * OC + o];
        }
    j.out = got;
    fn(&j, 0, OC);
    int ok = exact && memcmp(got, want, sizeof(float) * N * OC) == 0;
    if (!ok)
        fprintf(stderr, "  int8 %s N %d C %d OC %d: %s\n", name, N, C, OC, exact ? "differs from plain" : "plain inexact");
    CHECK(ok);
    free(x), free(w), free(xs), free(ws), free(want), free(got);
}

static void test_i8_kernels(void)
{
    const t5_linear_kernels *sets[8];
    int n = t5_linear_variants(sets, 8);
    const t5_cpu *cpu = t5_cpu_probe();
    if (!(cpu->avx512vnni && cpu->avx512bw))
        fprintf(stderr, "int8 kernels: avx512vnni skipped (this CPU lacks AVX-512 VNNI)\n");
    static const int rows[] = {1, 2, 3, 4, 5, 8, 13};
    static const int cols[] = {1, 7, 31, 32, 33, 63, 64, 65, 512, 1023, 1100};
    static const int outs[] = {1, 2, 3, 4, 5, 7, 29, 65};
    for (int s = 0; s < n; s++) {
        if (s > 0 && sets[s]->i8_rows == sets[s - 1]->i8_rows)
            continue;
        int before = unit_failures, cases = 0;
        for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
            for (size_t b = 0; b < sizeof cols / sizeof *cols; b++)
                for (size_t c = 0; c < sizeof outs / sizeof *outs; c++, cases++)
                    check_i8_kernel(sets[s]->i8_rows, sets[s]->i8_name, rows[a], cols[b], outs[c]);
        fprintf(stderr, "int8 kernels: %s: %d shapes, %s\n", sets[s]->i8_name, cases,
                unit_failures == before ? "the same bits as the plain kernel (exact int32 sums)" : "FAILED");
    }
}

/* t5_linear_i8 on F32 rows and weights (quantized as a model is) against the double
 * product, within the bound t5_int8.h derives, per output */
static void test_i8_bound(int N, int C, int OC)
{
    float *x = rand_floats((size_t)N * C, 3.0f), *w = rand_floats((size_t)OC * C, 0.2f);
    float *out = malloc(sizeof(float) * N * OC), *ws = malloc(sizeof(float) * OC);
    int8_t *wq = malloc((size_t)OC * C);
    for (int i = 0; i < C; i++) /* an outlier, as activations have */
        x[i] *= i == C / 2 ? 20.0f : 1.0f;
    t5_weight h = t5_weight_f32(w, OC, C);
    t5_weight q = t5_weight_quantize(&h, wq, ws);
    t5_linear_i8(out, x, &q, N, 1.0f, 0);
    float *slow = malloc(sizeof(float) * N * OC);
    t5_linear_i8_unbuffered(slow, x, &q, N, 1.0f, 0);
    CHECK(memcmp(slow, out, sizeof(float) * N * OC) == 0); /* the fallback without scratch: the same bits */
    free(slow);
    int ok = 1;
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int c = 0; c < C; c++)
                s += (double)x[n * C + c] * w[o * C + c];
            /* the bound, plus F32 rounding of the scales and of the result */
            double b = t5_int8_bound(x + (size_t)n * C, w + (size_t)o * C, C) * (1 + 1e-5) + 1e-6 * fabs(s);
            double e = fabs(out[n * OC + o] - s);
            worst = fmax(worst, e / b);
            ok &= e <= b;
        }
    if (!ok)
        fprintf(stderr, "  int8 bound N %d C %d OC %d: error / bound %.3g\n", N, C, OC, worst);
    CHECK(ok);
    free(x), free(w), free(out), free(ws), free(wq);
}

/* ---------------------------------------------------------------- row kernel builds */

/* The builds are one C source with FP contraction off and reductions in explicit lanes, so
 * with GCC they agree to the bit; a compiler free to reorder a reduction could move a few
 * ulp, so each value may differ from the plain build's by 4e-6 relative (about 32 ulp,
 * |a - b| / max(|b|, 1)). How many values differ in bits is printed, not asserted. */
static const double row_bound = 4e-6;
static long row_values, row_moved;

static void same_as_plain(const float *got, const float *plain, size_t n, const char *what, const char *isa, int len)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - plain[i]) / fmax(fabs((double)plain[i]), 1.0);
        if (!(d <= worst))
            worst = isnan(d) ? INFINITY : d;
        row_values++;
        row_moved += memcmp(got + i, plain + i, sizeof(float)) != 0;
    }
    if (!(worst < row_bound))
        fprintf(stderr, "row kernels: %s %s length %d: %.3g from plain\n", isa, what, len, worst);
    CHECK(worst < row_bound);
}

static float *copy_floats(const float *x, size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    memcpy(p, x, sizeof(float) * n);
    return p;
}

/* RMSNorm forward and both halves of its backward, N rows of C */
static void rows_rmsnorm(const t5_row_kernels *k, const t5_row_kernels *p, int N, int C)
{
    size_t nc = (size_t)N * C;
    float *x = rand_floats(nc, 2), *w = rand_floats(C, 1), *dy = rand_floats(nc, 1), *dx0 = rand_floats(nc, 1);
    float *dw0 = rand_floats(C, 1), *y[2], *r[2], *dx[2], *dw[2];
    const t5_row_kernels *ks[2] = {k, p};
    for (int v = 1; v >= 0; v--) { /* plain first: its rstd feeds both backwards */
        y[v] = malloc(sizeof(float) * nc), r[v] = malloc(sizeof(float) * N);
        dx[v] = copy_floats(dx0, nc), dw[v] = copy_floats(dw0, C);
        ks[v]->rms_forward(y[v], r[v], x, w, C, 1e-6f, 0, N);
        ks[v]->rms_backward_dx(dx[v], dy, x, w, r[1], C, 0, N); /* the same rstd for both */
        ks[v]->rms_backward_dw(dw[v], dy, x, r[1], N, C, 0, C);
    }
    same_as_plain(y[0], y[1], nc, "rmsnorm forward", k->name, C);
    same_as_plain(r[0], r[1], N, "rmsnorm rstd", k->name, C);
    same_as_plain(dx[0], dx[1], nc, "rmsnorm dx", k->name, C);
    same_as_plain(dw[0], dw[1], C, "rmsnorm dw", k->name, C);
    free(x), free(w), free(dy), free(dx0), free(dw0);
    for (int v = 0; v < 2; v++)
        free(y[v]), free(r[v]), free(dx[v]), free(dw[v]);
}

static void rows_activation(const t5_row_kernels *k, const t5_row_kernels *p, int n, int kind, int gated)
{
    float *a = rand_floats(n, 4), *b = gated ? rand_floats(n, 1) : NULL, *dh = rand_floats(n, 1);
    float *da0 = rand_floats(n, 1), *db0 = rand_floats(n, 1), *h[2], *da[2], *db[2];
    const t5_row_kernels *ks[2] = {k, p};
    for (int v = 0; v < 2; v++) {
        h[v] = malloc(sizeof(float) * n), da[v] = copy_floats(da0, n), db[v] = copy_floats(db0, n);
        ks[v]->act_forward(h[v], a, b, kind, 0, n);
        ks[v]->act_backward(da[v], gated ? db[v] : NULL, dh, a, b, kind, 0, n);
    }
    same_as_plain(h[0], h[1], n, "activation forward", k->name, n);
    same_as_plain(da[0], da[1], n, "activation da", k->name, n);
    same_as_plain(db[0], db[1], n, "activation db", k->name, n);
    free(a), free(b), free(dh), free(da0), free(db0);
    for (int v = 0; v < 2; v++)
        free(h[v]), free(da[v]), free(db[v]);
}

/* max, exp with its sum (into a row and through the buffer), masked softmax with the bias
 * (some keys masked, then all), and its gradient */
static void rows_softmax(const t5_row_kernels *k, const t5_row_kernels *p, int n)
{
    enum { H = 3, NB = 5 };
    float *x = rand_floats(n, 30), *bias = rand_floats(NB * H, 2), *dp0 = rand_floats(n, 1), *e[2], *row[2], *dp[2];
    float got[2][4];
    uint8_t *allow = malloc(n), *none = calloc(n, 1);
    int32_t *bucket = malloc(sizeof(int32_t) * n);
    for (int j = 0; j < n; j++)
        allow[j] = j % 3 != 1, bucket[j] = j % NB;
    const t5_row_kernels *ks[2] = {k, p};
    for (int v = 0; v < 2; v++) {
        e[v] = malloc(sizeof(float) * n), row[v] = copy_floats(x, n), dp[v] = copy_floats(dp0, n);
        got[v][0] = ks[v]->row_max(x, n);
        got[v][1] = ks[v]->exp_sum(e[v], x, got[v][0], n);
        got[v][2] = ks[v]->exp_sum(NULL, x, got[v][0], n);
        ks[v]->masked_softmax_row(row[v], allow, bias, bucket, H, 1, n);
        ks[v]->softmax_grad_row(dp[v], row[v], n);
        float *blank = copy_floats(x, n);
        ks[v]->masked_softmax_row(blank, none, NULL, bucket, H, 0, n);
        got[v][3] = ks[v]->row_max(blank, n); /* all keys masked: a row of zeros */
        CHECK(got[v][3] == 0.0f && blank[0] == 0.0f);
        free(blank);
    }
    same_as_plain(got[0], got[1], 4, "max, exp sums", k->name, n);
    same_as_plain(e[0], e[1], n, "exp", k->name, n);
    same_as_plain(row[0], row[1], n, "masked softmax", k->name, n);
    same_as_plain(dp[0], dp[1], n, "softmax gradient", k->name, n);
    free(x), free(bias), free(dp0), free(allow), free(none), free(bucket);
    for (int v = 0; v < 2; v++)
        free(e[v]), free(row[v]), free(dp[v]);
}

/* Adafactor's kernels on an R x C gradient, factored and not, then the update */
static void rows_adafactor(const t5_row_kernels *k, const t5_row_kernels *p, int R, int C)
{
    size_t rc = (size_t)R * C;
    float *g = rand_floats(rc, 0.01f), *row0 = rand_floats(R, 1), *col0 = rand_floats(C, 1), *v0 = rand_floats(rc, 1);
    float *p0 = rand_floats(rc, 1), *row[2], *col[2], *cinv[2], *u[2], *uu[2], *v[2], *prm[2], sums[2][1];
    double *colsum = malloc(sizeof(double) * C);
    for (int i = 0; i < R; i++)
        row0[i] = fabsf(row0[i]) + 0.1f; /* statistics are positive */
    for (int i = 0; i < C; i++)
        col0[i] = fabsf(col0[i]) + 0.1f;
    for (size_t i = 0; i < rc; i++)
        v0[i] = fabsf(v0[i]) + 0.1f;
    const t5_row_kernels *ks[2] = {k, p};
    for (int q = 1; q >= 0; q--) { /* plain first: its statistics feed both updates */
        row[q] = copy_floats(row0, R), col[q] = copy_floats(col0, C), v[q] = copy_floats(v0, rc);
        prm[q] = copy_floats(p0, rc), cinv[q] = malloc(sizeof(float) * C);
        u[q] = malloc(sizeof(float) * rc), uu[q] = malloc(sizeof(float) * rc);
        sums[q][0] = (float)ks[q]->af_sumsq(p0, 0, (long)rc);
        ks[q]->af_row_stats(row[q], g, C, 0.8f, 0.2f, 1e-30f, 0, R);
        ks[q]->af_col_stats(col[q], cinv[q], colsum, g, R, C, 0.8f, 0.2f, 1e-30f, 0, C);
        ks[q]->af_factored_u(u[q], g, row[1], cinv[1], 0.5f, C, 0, R); /* the plain statistics for both */
        ks[q]->af_unfactored_u(uu[q], v[q], g, 0.8f, 0.2f, 1e-30f, 0, (long)rc);
        ks[q]->af_apply(prm[q], u[1], 1.5f, 1e-3f, 0, (long)rc);
    }
    same_as_plain(sums[0], sums[1], 1, "adafactor sum of squares", k->name, C);
    same_as_plain(row[0], row[1], R, "adafactor row statistics", k->name, C);
    same_as_plain(col[0], col[1], C, "adafactor column statistics", k->name, C);
    same_as_plain(cinv[0], cinv[1], C, "adafactor 1/sqrt(column)", k->name, C);
    same_as_plain(u[0], u[1], rc, "adafactor factored update", k->name, C);
    same_as_plain(v[0], v[1], rc, "adafactor second moment", k->name, C);
    same_as_plain(uu[0], uu[1], rc, "adafactor unfactored update", k->name, C);
    same_as_plain(prm[0], prm[1], rc, "adafactor parameters", k->name, C);
    free(g), free(row0), free(col0), free(v0), free(p0), free(colsum);
    for (int q = 0; q < 2; q++)
        free(row[q]), free(col[q]), free(cinv[q]), free(u[q]), free(uu[q]), free(v[q]), free(prm[q]);
}

/* the int8 quantizer's loops: a max and an elementwise rounding, so every build must give
 * the same bits as the plain one (values at +-127 and half-way points on purpose) */
static void rows_quantize(const t5_row_kernels *k, const t5_row_kernels *p, int n)
{
    float *x = rand_floats(n, 3.0f);
    x[n / 2] = -7.5f;
    int8_t *qk = malloc(n), *qp = malloc(n);
    float mk = k->absmax(x, n), mp = p->absmax(x, n), inv = mp > 0 ? 127.0f / mp : 0.0f;
    k->round_i8(qk, x, inv, n);
    p->round_i8(qp, x, inv, n);
    int ok = mk == mp && memcmp(qk, qp, (size_t)n) == 0;
    if (!ok)
        fprintf(stderr, "row kernels: %s int8 quantizing length %d differs from plain\n", k->name, n);
    CHECK(ok);
    free(x), free(qk), free(qp);
}

static void test_row_kernels(void)
{
    const t5_row_kernels *sets[4];
    int n = t5_row_variants(sets, 4);
    const t5_cpu *cpu = t5_cpu_probe();
    if (!cpu->avx2_fma)
        fprintf(stderr, "row kernels: avx2 skipped (this CPU lacks AVX2 + FMA)\n");
    if (!(cpu->avx2_fma && cpu->avx512f))
        fprintf(stderr, "row kernels: avx512 skipped (this CPU lacks AVX-512F)\n");
    static const int lens[] = {1, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1024, 1100, 2053};
    for (int s = 1; s < n; s++) {
        int before = unit_failures;
        row_values = row_moved = 0;
        for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
            for (int N = 1; N <= 3; N += 2)
                rows_rmsnorm(sets[s], sets[0], N, lens[l]);
            for (int kind = T5_FF_RELU; kind <= T5_FF_GELU; kind++)
                for (int gated = 0; gated <= 1; gated++)
                    rows_activation(sets[s], sets[0], lens[l], kind, gated);
            rows_softmax(sets[s], sets[0], lens[l]);
            rows_adafactor(sets[s], sets[0], 3, lens[l]);
            rows_quantize(sets[s], sets[0], lens[l]);
        }
        fprintf(stderr, "row kernels: %s against plain, forward and backward: %s (%ld of %ld values differ in bits)\n",
                sets[s]->name, unit_failures == before ? "all within bounds" : "FAILED", row_moved, row_values);
    }
}

/* ---------------------------------------------------------------- ops: forward and backward */

static void test_matmul(int N, int C, int OC)
{
    float *x = rand_floats((size_t)N * C, 1), *w = rand_floats((size_t)OC * C, 1), *dy = rand_floats((size_t)N * OC, 1);
    float *y = calloc((size_t)N * OC, sizeof(float)), *dx = calloc((size_t)N * C, sizeof(float));
    float *dw = calloc((size_t)OC * C, sizeof(float));
    double *wy = calloc((size_t)N * OC, sizeof(double)), *wdx = calloc((size_t)N * C, sizeof(double));
    double *wdw = calloc((size_t)OC * C, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++) {
                wy[n * OC + o] += 0.5 * x[n * C + c] * w[o * C + c];
                wdx[n * C + c] += 0.5 * dy[n * OC + o] * w[o * C + c];
                wdw[o * C + c] += 0.5 * dy[n * OC + o] * x[n * C + c];
            }
    t5_matmul_forward(y, x, w, N, C, OC, 0.5f, 0);
    t5_matmul_backward(dx, dw, dy, x, w, N, C, OC, 0.5f);
    double b = 2e-5 * sqrt((double)(C > N ? C : N) + OC); /* sgemm sums in blocks */
    CHECK(worst_err(y, wy, (size_t)N * OC) < b);
    CHECK(worst_err(dx, wdx, (size_t)N * C) < b);
    CHECK(worst_err(dw, wdw, (size_t)OC * C) < b);
    free(x), free(w), free(dy), free(y), free(dx), free(dw), free(wy), free(wdx), free(wdw);
}

static void test_rmsnorm(int N, int C)
{
    const float eps = 1e-6f;
    float *x = rand_floats((size_t)N * C, 2), *w = rand_floats(C, 1), *dy = rand_floats((size_t)N * C, 1);
    float *y = malloc(sizeof(float) * N * C), *rstd = malloc(sizeof(float) * N);
    float *dx = calloc((size_t)N * C, sizeof(float)), *dw = calloc(C, sizeof(float));
    double *wy = malloc(sizeof(double) * N * C), *wdx = malloc(sizeof(double) * N * C), *wdw = calloc(C, sizeof(double));
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C, *g = dy + (size_t)n * C;
        double ss = 0, dot = 0;
        for (int c = 0; c < C; c++)
            ss += (double)xr[c] * xr[c];
        double r = 1.0 / sqrt(ss / C + eps);
        for (int c = 0; c < C; c++) {
            wy[n * C + c] = w[c] * xr[c] * r;
            dot += (double)g[c] * w[c] * xr[c];
            wdw[c] += (double)g[c] * xr[c] * r;
        }
        for (int c = 0; c < C; c++) /* y = w x r(x): dx = r w g - r^3 / C x (g . w x) */
            wdx[n * C + c] = r * w[c] * g[c] - r * r * r / C * xr[c] * dot;
    }
    t5_rmsnorm_forward(y, rstd, x, w, N, C, eps);
    t5_rmsnorm_backward(dx, dw, dy, x, w, rstd, N, C);
    CHECK(worst_err(y, wy, (size_t)N * C) < 1e-5);
    CHECK(worst_err(dx, wdx, (size_t)N * C) < 1e-4);
    CHECK(worst_err(dw, wdw, C) < 1e-5 * sqrt((double)N + 1));
    free(x), free(w), free(dy), free(y), free(rstd), free(dx), free(dw), free(wy), free(wdx), free(wdw);
}

static void test_embedding(int N, int C)
{
    enum { V = 11 };
    float *emb = rand_floats((size_t)V * C, 1), *dy = rand_floats((size_t)N * C, 1);
    float *y = malloc(sizeof(float) * N * C), *demb = calloc((size_t)V * C, sizeof(float));
    double *wy = malloc(sizeof(double) * N * C), *wd = calloc((size_t)V * C, sizeof(double));
    int32_t *ids = malloc(sizeof(int32_t) * N);
    for (int n = 0; n < N; n++) {
        ids[n] = (n * 7) % V; /* repeats from 12 rows on: gradients add up */
        for (int c = 0; c < C; c++) {
            wy[n * C + c] = emb[ids[n] * C + c];
            wd[ids[n] * C + c] += dy[n * C + c];
        }
    }
    t5_embedding_forward(y, ids, emb, N, C);
    t5_embedding_backward(demb, dy, ids, N, C);
    CHECK(worst_err(y, wy, (size_t)N * C) == 0);
    CHECK(worst_err(demb, wd, (size_t)V * C) < 1e-6);
    free(emb), free(dy), free(y), free(demb), free(wy), free(wd), free(ids);
}

static double act_ref(double x, int kind, double *grad)
{
    if (kind == T5_FF_RELU) {
        *grad = x > 0;
        return x > 0 ? x : 0;
    }
    if (kind == T5_FF_GELU) {
        *grad = 0.5 * (1 + erf(x / sqrt(2))) + x * exp(-x * x / 2) / sqrt(2 * M_PI);
        return 0.5 * x * (1 + erf(x / sqrt(2)));
    }
    double k = sqrt(2 / M_PI), u = k * (x + 0.044715 * x * x * x), t = tanh(u);
    *grad = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    return 0.5 * x * (1 + t);
}

static void test_activation(long n, int kind, int gated)
{
    float *a = rand_floats(n, 4), *b = gated ? rand_floats(n, 1) : NULL, *dh = rand_floats(n, 1);
    float *h = malloc(sizeof(float) * n), *da = calloc(n, sizeof(float)), *db = gated ? calloc(n, sizeof(float)) : NULL;
    double *wh = malloc(sizeof(double) * n), *wda = malloc(sizeof(double) * n), *wdb = malloc(sizeof(double) * n);
    for (long i = 0; i < n; i++) {
        double g, f = act_ref(a[i], kind, &g), m = gated ? b[i] : 1.0;
        wh[i] = f * m;
        wda[i] = dh[i] * m * g;
        wdb[i] = dh[i] * f;
    }
    t5_ff_act_forward(h, a, b, n, kind);
    t5_ff_act_backward(da, db, dh, a, b, n, kind);
    CHECK(worst_err(h, wh, n) < 1e-5);
    CHECK(worst_err(da, wda, n) < 1e-5);
    if (gated)
        CHECK(worst_err(db, wdb, n) < 1e-5);
    free(a), free(b), free(dh), free(h), free(da), free(db), free(wh), free(wda), free(wdb);
}

/* Attention over B rows, H heads: the reference in double, forward and backward. */
static void test_attention(int B, int Tq, int Tk, int H, int dk, int with_bias)
{
    int HD = H * dk, NB = 8;
    size_t nq = (size_t)B * Tq * HD, nk = (size_t)B * Tk * HD, np = (size_t)B * H * Tq * Tk;
    float *q = rand_floats(nq, 1), *k = rand_floats(nk, 1), *v = rand_floats(nk, 1), *dout = rand_floats(nq, 1);
    float *bias = with_bias ? rand_floats((size_t)NB * H, 1) : NULL;
    uint8_t *allow = malloc((size_t)B * Tq * Tk);
    int32_t *bucket = malloc(sizeof(int32_t) * B * Tq * Tk);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < Tq; i++)
            for (int j = 0; j < Tk; j++) { /* causal-like, and row (b=1, i=0) allows nothing */
                size_t r = ((size_t)b * Tq + i) * Tk + j;
                allow[r] = j <= i + Tk - Tq && !(b == 1 && i == 0);
                bucket[r] = t5_relative_bucket(j - i, 1, NB, 16);
            }
    float *out = malloc(sizeof(float) * nq), *P = malloc(sizeof(float) * np);
    float *dq = calloc(nq, sizeof(float)), *dkk = calloc(nk, sizeof(float)), *dv = calloc(nk, sizeof(float));
    float *dbias = with_bias ? calloc((size_t)NB * H, sizeof(float)) : NULL;
    double *wo = calloc(nq, sizeof(double)), *wdq = calloc(nq, sizeof(double)), *wdk = calloc(nk, sizeof(double));
    double *wdv = calloc(nk, sizeof(double)), *wdb = calloc((size_t)NB * H, sizeof(double));
    double *p = malloc(sizeof(double) * Tk), *dp = malloc(sizeof(double) * Tk);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++) {
                const float *qi = q + ((size_t)b * Tq + i) * HD + h * dk;
                size_t r = ((size_t)b * Tq + i) * Tk;
                double mx = -INFINITY, sum = 0, pdp = 0;
                for (int j = 0; j < Tk; j++) {
                    const float *kj = k + ((size_t)b * Tk + j) * HD + h * dk;
                    double s = with_bias ? bias[bucket[r + j] * H + h] : 0;
                    for (int d = 0; d < dk; d++)
                        s += (double)qi[d] * kj[d];
                    p[j] = allow[r + j] ? s : -INFINITY;
                    mx = fmax(mx, p[j]);
                }
                for (int j = 0; j < Tk; j++)
                    sum += p[j] = allow[r + j] ? exp(p[j] - mx) : 0;
                for (int j = 0; j < Tk; j++) {
                    p[j] = sum > 0 ? p[j] / sum : 0;
                    const float *vj = v + ((size_t)b * Tk + j) * HD + h * dk;
                    const float *go = dout + ((size_t)b * Tq + i) * HD + h * dk;
                    dp[j] = 0;
                    for (int d = 0; d < dk; d++) {
                        wo[((size_t)b * Tq + i) * HD + h * dk + d] += p[j] * vj[d];
                        wdv[((size_t)b * Tk + j) * HD + h * dk + d] += p[j] * go[d];
                        dp[j] += (double)go[d] * vj[d];
                    }
                    pdp += p[j] * dp[j];
                }
                for (int j = 0; j < Tk; j++) {
                    double ds = p[j] * (dp[j] - pdp);
                    const float *kj = k + ((size_t)b * Tk + j) * HD + h * dk;
                    for (int d = 0; d < dk; d++) {
                        wdq[((size_t)b * Tq + i) * HD + h * dk + d] += ds * kj[d];
                        wdk[((size_t)b * Tk + j) * HD + h * dk + d] += ds * qi[d];
                    }
                    if (with_bias && allow[r + j])
                        wdb[bucket[r + j] * H + h] += ds;
                }
            }
    t5_attn_shape s = {.B = B, .Tq = Tq, .Tk = Tk, .H = H, .dk = dk, .allow = allow, .bias = bias,
                       .bucket = with_bias ? bucket : NULL, .num_buckets = NB, .slots = t5_threads()};
    float *scratch = malloc(sizeof(float) * t5_attention_scratch_floats(Tq, Tk, NB, H, s.slots));
    t5_attention_forward(out, P, q, k, v, &s, scratch);
    t5_attention_backward(dq, dkk, dv, dbias, dout, P, q, k, v, &s, scratch);
    double bound = 2e-5 * sqrt((double)Tk * dk);
    CHECK(worst_err(out, wo, nq) < bound);
    CHECK(worst_err(dq, wdq, nq) < bound);
    CHECK(worst_err(dkk, wdk, nk) < bound);
    CHECK(worst_err(dv, wdv, nk) < bound);
    if (with_bias)
        CHECK(worst_err(dbias, wdb, (size_t)NB * H) < bound * sqrt((double)B * Tq));
    free(q), free(k), free(v), free(dout), free(bias), free(allow), free(bucket), free(out), free(P), free(dq);
    free(dkk), free(dv), free(dbias), free(wo), free(wdq), free(wdk), free(wdv), free(wdb), free(p), free(dp);
    free(scratch);
}

static void test_crossentropy(int N, int V)
{
    const float z = 1e-4f, denom = 3.0f;
    float *logits = rand_floats((size_t)N * V, 8), *lse = malloc(sizeof(float) * N), *wt = malloc(sizeof(float) * N);
    int32_t *t = malloc(sizeof(int32_t) * N);
    double *wl = malloc(sizeof(double) * N), *wd = malloc(sizeof(double) * N * V), loss = 0;
    for (int n = 0; n < N; n++) {
        t[n] = (n * 13) % V;
        wt[n] = n % 3 == 2 ? 0.0f : 1.0f; /* a weight 0 row: no loss, no gradient */
        const float *l = logits + (size_t)n * V;
        double mx = -INFINITY, s = 0;
        for (int v = 0; v < V; v++)
            mx = fmax(mx, l[v]);
        for (int v = 0; v < V; v++)
            s += exp(l[v] - mx);
        wl[n] = mx + log(s);
        loss += wt[n] * (wl[n] - l[t[n]] + z * wl[n] * wl[n]);
        for (int v = 0; v < V; v++)
            wd[(size_t)n * V + v] = wt[n] / denom * (exp(l[v] - wl[n]) * (1 + 2 * z * wl[n]) - (v == t[n]));
    }
    loss /= denom;
    double got = t5_crossentropy_forward(lse, logits, t, wt, N, V, z, denom, NULL, NULL);
    CHECK(worst_err(lse, wl, N) < 1e-6);
    CHECK(fabs(got - loss) / fmax(fabs(loss), 1) < 1e-6);
    t5_crossentropy_backward_inplace(logits, lse, t, wt, N, V, z, denom);
    CHECK(worst_err(logits, wd, (size_t)N * V) < 1e-6);
    free(logits), free(lse), free(wt), free(t), free(wl), free(wd);
}

static void test_ops(void)
{
    static const int rows[] = {1, 3, 17};
    static const int cols[] = {1, 7, 8, 9, 31, 1100};
    int before = unit_failures;
    for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
        for (size_t b = 0; b < sizeof cols / sizeof *cols; b++) {
            test_matmul(rows[a], cols[b], 5);
            test_matmul(rows[a], 9, cols[b]);
            test_rmsnorm(rows[a], cols[b]);
            test_embedding(rows[a], cols[b]);
            test_crossentropy(rows[a], cols[b] + 1);
        }
    for (int kind = T5_FF_RELU; kind <= T5_FF_GELU; kind++)
        for (long n = 1; n <= 1100; n = n * 7 + 2)
            for (int gated = 0; gated <= 1; gated++)
                test_activation(n, kind, gated);
    test_attention(2, 1, 1, 1, 1, 1);  /* one query, one key */
    test_attention(2, 5, 5, 3, 7, 1);  /* self-attention shape, odd head size */
    test_attention(3, 4, 9, 2, 8, 0);  /* cross-attention shape, no bias */
    test_attention(2, 17, 31, 2, 16, 1);
    fprintf(stderr, "ops on %d thread(s): product, RMSNorm, embedding, 3 activations, attention, cross-entropy, "
                    "forward and backward against double: %s\n",
            t5_threads(), unit_failures == before ? "all within bounds" : "FAILED");
}

int main(void)
{
    t5_set_ftz();
    test_kernels();
    test_mixed_tiles();
    for (int t = 1; t <= 2; t++) { /* split over the pool by rows of A */
        t5_set_threads(t);
        test_mixed_products(1, 1, 1);
        test_mixed_products(13, 100, 70);
        test_mixed_products(70, 513, 37);
    }
    fprintf(stderr, "bf16 training products (%s): forward, dinp, dw against double, 1 and 2 threads\n",
            t5_linear_dispatch()->bf16_tile ? "avx512bf16" : "rounded operands through sgemm");
    t5_set_threads(1);
    test_i8_kernels();
    static const int shapes[][3] = {{1, 1, 1}, {1, 512, 384}, {4, 33, 7}, {13, 1100, 65}};
    for (int t = 1; t <= 2; t++) { /* t5_linear_i8 splits weight rows over the pool */
        t5_set_threads(t);
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
            test_i8_bound(shapes[i][0], shapes[i][1], shapes[i][2]);
    }
    t5_set_threads(1);
    test_row_kernels();
    test_ops();
    t5_set_threads(2); /* the same ops split over the pool */
    test_ops();
    t5_set_threads(1);
    return unit_summary("test_backend_ops");
}
