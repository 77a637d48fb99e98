/* t5_mixed.c: see t5_mixed.h. */
#include "t5/t5_mixed.h"

#include <stdlib.h>

#include "common/half.h"
#include "t5/t5_cpu.h"
#include "t5/t5_ops.h"
#include "t5/t5_pool.h"

t5_mixed_mode t5_mixed_available(void)
{
    if (t5_linear_dispatch()->bf16_tile)
        return T5_MIXED_NATIVE;
    return t5_cpu_probe()->bf16_emulate ? T5_MIXED_EMULATED : T5_MIXED_NONE;
}

const char *t5_mixed_name(t5_mixed_mode mode)
{
    return mode == T5_MIXED_NATIVE ? "avx512bf16" : mode == T5_MIXED_EMULATED ? "emulated" : "none";
}

static inline float view_at(const t5_mat_view *m, long r, long c)
{
    return m->p[r * m->rs + c * m->cs];
}

static inline uint32_t bf16_pair(float lo, float hi)
{
    return (uint32_t)t0_f32_to_bf16(lo) | (uint32_t)t0_f32_to_bf16(hi) << 16;
}

/* ---------------------------------------------------------------- the packed product */

typedef struct {
    float *c;
    long ldc;
    int M, Ncols, K, k0, kc, accumulate;
    t5_mat_view a, b;
    float alpha;
    t5_bf16_tile_fn tile;
    uint32_t *bp; /* B's panel: NR-column tiles, each kp pairs x NR */
} gemm_job;

static int pairs_of(int kc)
{
    return (kc + 1) / 2;
}

/* Rows [i0, i1) of c over k in [k0, k0 + kc), rounding as it goes: for when there is no
 * memory for the packed operands */
static void unpacked_rows(const gemm_job *j, int i0, int i1)
{
    for (int i = i0; i < i1; i++)
        for (int col = 0; col < j->Ncols; col++) {
            float s = 0.0f;
            for (int k = j->k0; k < j->k0 + j->kc; k++)
                s += t5_bf16_round(view_at(&j->a, i, k)) * t5_bf16_round(view_at(&j->b, k, col));
            float *p = j->c + i * j->ldc + col;
            *p = (j->k0 > 0 || j->accumulate ? *p : 0.0f) + j->alpha * s;
        }
}

/* B's tiles [t0, t1) of the panel: bp[(t * kp + p) * NR + j] = B(k0 + 2p, t NR + j) and
 * B(k0 + 2p + 1, t NR + j), zero past B's edges */
static void pack_b_task(void *ctx, int tid, long t0, long t1)
{
    (void)tid;
    const gemm_job *j = ctx;
    int kp = pairs_of(j->kc);
    for (long t = t0; t < t1; t++)
        for (int p = 0; p < kp; p++) {
            uint32_t *dst = j->bp + ((size_t)t * kp + p) * T5_BF16_NR;
            int k = j->k0 + 2 * p, odd = 2 * p + 1 < j->kc;
            for (int jj = 0; jj < T5_BF16_NR; jj++) {
                long col = t * T5_BF16_NR + jj;
                int in = col < j->Ncols;
                dst[jj] = bf16_pair(in ? view_at(&j->b, k, col) : 0.0f, in && odd ? view_at(&j->b, k + 1, col) : 0.0f);
            }
        }
}

/* A's rows [i0, i0 + MR) of the panel: ap[p * MR + i], zero past A's edges */
static void pack_a_tile(uint32_t *ap, const gemm_job *j, int i0)
{
    int kp = pairs_of(j->kc);
    for (int p = 0; p < kp; p++) {
        int k = j->k0 + 2 * p, odd = 2 * p + 1 < j->kc;
        for (int i = 0; i < T5_BF16_MR; i++) {
            int in = i0 + i < j->M;
            ap[p * T5_BF16_MR + i] =
                bf16_pair(in ? view_at(&j->a, i0 + i, k) : 0.0f, in && odd ? view_at(&j->a, i0 + i, k + 1) : 0.0f);
        }
    }
}

/* c's tile at (i0, col0) from t[MR][NR]: the first K panel sets (unless accumulating), the
 * others add */
static void put_tile(const gemm_job *j, const float *t, int i0, int col0)
{
    int rows = j->M - i0 < T5_BF16_MR ? j->M - i0 : T5_BF16_MR;
    int cols = j->Ncols - col0 < T5_BF16_NR ? j->Ncols - col0 : T5_BF16_NR;
    int add = j->k0 > 0 || j->accumulate;
    for (int i = 0; i < rows; i++) {
        float *p = j->c + (i0 + i) * j->ldc + col0;
        for (int jj = 0; jj < cols; jj++)
            p[jj] = (add ? p[jj] : 0.0f) + j->alpha * t[i * T5_BF16_NR + jj];
    }
}

/* This thread's A rows, packed once a panel, grown as needed */
static _Thread_local uint32_t *abuf;
static _Thread_local size_t acap;

/* Columns of B a pass over the thread's A tiles, so that the part of B's panel in use stays
 * in L2 (256 pairs x 256 columns: 256 KB); a multiple of NR */
enum { NC = 256 };

/* A's row tiles [s, e) against every column of B */
static void gemm_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const gemm_job *j = ctx;
    int kp = pairs_of(j->kc);
    size_t tile_a = (size_t)kp * T5_BF16_MR, need = (size_t)(e - s) * tile_a;
    if (need > acap) {
        uint32_t *p = realloc(abuf, need * sizeof *p);
        if (!p) {
            unpacked_rows(j, (int)s * T5_BF16_MR, (int)(e * T5_BF16_MR < j->M ? e * T5_BF16_MR : j->M));
            return;
        }
        abuf = p, acap = need;
    }
    for (long t = s; t < e; t++)
        pack_a_tile(abuf + (t - s) * tile_a, j, (int)t * T5_BF16_MR);
    float out[T5_BF16_MR * T5_BF16_NR];
    for (int n0 = 0; n0 < j->Ncols; n0 += NC)
        for (long t = s; t < e; t++)
            for (int col = n0; col < j->Ncols && col < n0 + NC; col += T5_BF16_NR) {
                j->tile(out, abuf + (t - s) * tile_a, j->bp + (size_t)(col / T5_BF16_NR) * kp * T5_BF16_NR, kp);
                put_tile(j, out, (int)t * T5_BF16_MR, col);
            }
}

static _Thread_local uint32_t *bbuf;
static _Thread_local size_t bcap;

void t5_gemm_bf16(float *c, long ldc, int M, int Ncols, int K, t5_mat_view a, t5_mat_view b, float alpha,
                  int accumulate, t5_bf16_tile_fn tile)
{
    long mt = (M + T5_BF16_MR - 1) / T5_BF16_MR, nt = (Ncols + T5_BF16_NR - 1) / T5_BF16_NR;
    if (K == 0 && !accumulate) { /* an empty sum */
        for (int i = 0; i < M; i++)
            for (int col = 0; col < Ncols; col++)
                c[i * ldc + col] = 0.0f;
        return;
    }
    for (int k0 = 0; k0 < K; k0 += T5_MIXED_KC) {
        gemm_job j = {c, ldc, M, Ncols, K, k0, K - k0 < T5_MIXED_KC ? K - k0 : T5_MIXED_KC, accumulate, a, b,
                      alpha, tile, NULL};
        size_t need = (size_t)nt * pairs_of(j.kc) * T5_BF16_NR;
        if (need > bcap) {
            uint32_t *p = realloc(bbuf, need * sizeof *p);
            if (!p) {
                unpacked_rows(&j, 0, M);
                continue;
            }
            bbuf = p, bcap = need;
        }
        j.bp = bbuf;
        t5_parallel_for(nt, 4, pack_b_task, &j);
        t5_parallel_for(mt, 4, gemm_task, &j);
    }
}

/* ---------------------------------------------------------------- the emulated product */

typedef struct {
    float *dst;
    const float *src;
} round_job;

static void round_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const round_job *r = ctx;
    for (long i = s; i < e; i++)
        r->dst[i] = t5_bf16_round(r->src[i]);
}

/* dst[n] = src rounded to BF16 (as F32) */
static void round_into(float *dst, const float *src, long n)
{
    round_job r = {dst, src};
    t5_parallel_for(n, 1 << 14, round_task, &r);
}

/* The rounded copies, one set per calling thread, grown as needed */
enum { COPY_W, COPY_X, COPY_D, COPIES };
static _Thread_local float *copy[COPIES];
static _Thread_local size_t copy_cap[COPIES];

static float *copy_buffer(int which, size_t n)
{
    if (n > copy_cap[which]) {
        float *p = realloc(copy[which], n * sizeof *p);
        if (!p)
            return NULL;
        copy[which] = p, copy_cap[which] = n;
    }
    return copy[which];
}

/* Output gradients are rounded this many floats at a time (a block of rows): a step's
 * logits gradient whole would be a second copy of the largest activation */
enum { DOUT_BLOCK = 1 << 22 };

void t5_mixed_forward(float *out, const float *inp, const float *w, int N, int C, int OC, float alpha, int accumulate)
{
    t5_mat_view a = {inp, C, 1}, b = {w, 1, C};
    t5_bf16_tile_fn tile = t5_linear_dispatch()->bf16_tile;
    float *xr = tile ? NULL : copy_buffer(COPY_X, (size_t)N * C), *wr = xr ? copy_buffer(COPY_W, (size_t)OC * C) : NULL;
    if (tile || !wr) { /* native; or no memory for the copies: the packed loops */
        t5_gemm_bf16(out, OC, N, OC, C, a, b, alpha, accumulate, tile ? tile : t5_bf16_tile_plain);
        return;
    }
    round_into(xr, inp, (long)N * C);
    round_into(wr, w, (long)OC * C);
    t5_matmul_forward(out, xr, wr, N, C, OC, alpha, accumulate);
}

/* dinp[N,C] += alpha dout @ w and dw[OC,C] += alpha dout^T @ inp through the packed loops */
static void packed_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                            int OC, float alpha, t5_bf16_tile_fn tile)
{
    if (dinp) {
        t5_mat_view a = {dout, OC, 1}, b = {w, C, 1};
        t5_gemm_bf16(dinp, C, N, C, OC, a, b, alpha, 1, tile);
    }
    if (dw) {
        t5_mat_view a = {dout, 1, OC}, b = {inp, C, 1};
        t5_gemm_bf16(dw, C, OC, C, N, a, b, alpha, 1, tile);
    }
}

void t5_mixed_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                       int OC, float alpha)
{
    t5_bf16_tile_fn tile = t5_linear_dispatch()->bf16_tile;
    int rows = DOUT_BLOCK / OC > 0 ? DOUT_BLOCK / OC : 1;
    rows = rows < N ? rows : N;
    float *wr = tile || !dinp ? NULL : copy_buffer(COPY_W, (size_t)OC * C);
    float *xr = tile || !dw ? NULL : copy_buffer(COPY_X, (size_t)N * C);
    float *dr = tile ? NULL : copy_buffer(COPY_D, (size_t)rows * OC);
    if (tile || !dr || (dinp && !wr) || (dw && !xr)) {
        packed_backward(dinp, dw, dout, inp, w, N, C, OC, alpha, tile ? tile : t5_bf16_tile_plain);
        return;
    }
    if (wr)
        round_into(wr, w, (long)OC * C);
    if (xr)
        round_into(xr, inp, (long)N * C);
    for (int r0 = 0; r0 < N; r0 += rows) {
        int n = N - r0 < rows ? N - r0 : rows;
        round_into(dr, dout + (size_t)r0 * OC, (long)n * OC);
        t5_matmul_backward(dinp ? dinp + (size_t)r0 * C : NULL, dw, dr, xr ? xr + (size_t)r0 * C : NULL, wr, n, C,
                           OC, alpha);
    }
}
