/* t5_bf16.c: see t5_bf16.h. Work is split over output columns (weight rows), so each
 * weight row is read from memory once per call and used for every input row. */
#include "t5/t5_bf16.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"
#include "t5/t5_ops.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512BF16_KERNEL 1
#else
#define HAVE_AVX512BF16_KERNEL 0
#endif

static float widen(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int native = -1; /* -1: not decided yet */

int t5_bf16_native(void)
{
    if (native < 0) {
        const char *e = getenv("T0_BF16_PLAIN");
        native = 0;
#if HAVE_AVX512BF16_KERNEL
        __builtin_cpu_init();
        native = !(e && *e == '1') && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
#else
        (void)e;
#endif
    }
    return native;
}

/* ---------------------------------------------------------------- plain C
 * x holds the input rows already rounded to BF16 and widened back to F32. Eight lane
 * sums a weight row, so the compiler vectorizes without reassociating. */
T5_ROW_KERNEL static void dot4_plain(float *s, const float *x, const uint16_t *w, int C, int nw)
{
    float a[4][8] = {{0}};
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int k = 0; k < nw; k++) {
            const uint16_t *wk = w + (size_t)k * C + c;
            for (int j = 0; j < 8; j++) { /* widen inline: a call would stop the vectorizer */
                uint32_t u = (uint32_t)wk[j] << 16;
                float f;
                memcpy(&f, &u, sizeof f);
                a[k][j] += x[c + j] * f;
            }
        }
    for (int k = 0; k < nw; k++) {
        float t = 0.0f;
        for (int j = 0; j < 8; j++)
            t += a[k][j];
        for (int cc = c; cc < C; cc++) {
            uint32_t u = (uint32_t)w[(size_t)k * C + cc] << 16;
            float f;
            memcpy(&f, &u, sizeof f);
            t += x[cc] * f;
        }
        s[k] = t;
    }
}

/* Two input rows against four weight rows: each widened weight is used twice. The sums
 * run in the same order as dot4_plain's, so a row gets the same bits either way. */
T5_ROW_KERNEL static void dot4x2_plain(float *s0, float *s1, const float *x0, const float *x1, const uint16_t *w,
                                       int C)
{
    float a0[4][8] = {{0}}, a1[4][8] = {{0}};
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int k = 0; k < 4; k++) {
            const uint16_t *wk = w + (size_t)k * C + c;
            for (int j = 0; j < 8; j++) {
                uint32_t u = (uint32_t)wk[j] << 16;
                float f;
                memcpy(&f, &u, sizeof f);
                a0[k][j] += x0[c + j] * f;
                a1[k][j] += x1[c + j] * f;
            }
        }
    for (int k = 0; k < 4; k++) {
        float t0 = 0.0f, t1 = 0.0f;
        for (int j = 0; j < 8; j++)
            t0 += a0[k][j], t1 += a1[k][j];
        for (int cc = c; cc < C; cc++) {
            uint32_t u = (uint32_t)w[(size_t)k * C + cc] << 16;
            float f;
            memcpy(&f, &u, sizeof f);
            t0 += x0[cc] * f;
            t1 += x1[cc] * f;
        }
        s0[k] = t0, s1[k] = t1;
    }
}

/* ---------------------------------------------------------------- AVX-512 BF16 */
#if HAVE_AVX512BF16_KERNEL
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

BF16_TARGET static inline __m512bh load_bh(const uint16_t *p, int left)
{
    if (left >= 32)
        return (__m512bh)_mm512_loadu_si512((const void *)p);
    return (__m512bh)_mm512_maskz_loadu_epi16((__mmask32)((1ull << left) - 1), (const void *)p);
}

/* s[r][k] = x row r . w row k, for nr <= 4 input rows (stride C) and 4 weight rows */
BF16_TARGET static void dot_4x4(float s[4][4], const uint16_t *x, int nr, const uint16_t *w, int C)
{
    __m512 a[4][4];
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 4; k++)
            a[r][k] = _mm512_setzero_ps();
    const size_t sC = (size_t)C;
    for (int c = 0; c < C; c += 32) {
        int left = C - c;
        __m512bh w0 = load_bh(w + c, left), w1 = load_bh(w + sC + c, left), w2 = load_bh(w + 2 * sC + c, left),
                 w3 = load_bh(w + 3 * sC + c, left);
        for (int r = 0; r < nr; r++) {
            __m512bh xv = load_bh(x + r * sC + c, left);
            a[r][0] = _mm512_dpbf16_ps(a[r][0], xv, w0);
            a[r][1] = _mm512_dpbf16_ps(a[r][1], xv, w1);
            a[r][2] = _mm512_dpbf16_ps(a[r][2], xv, w2);
            a[r][3] = _mm512_dpbf16_ps(a[r][3], xv, w3);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < 4; k++)
            s[r][k] = _mm512_reduce_add_ps(a[r][k]);
}

BF16_TARGET static float dot_1x1(const uint16_t *x, const uint16_t *w, int C)
{
    __m512 a = _mm512_setzero_ps();
    for (int c = 0; c < C; c += 32)
        a = _mm512_dpbf16_ps(a, load_bh(x + c, C - c), load_bh(w + c, C - c));
    return _mm512_reduce_add_ps(a);
}
#endif

/* ---------------------------------------------------------------- the product */
typedef struct {
    float *out;
    const void *x; /* uint16_t BF16 rows (native) or float rows rounded to BF16 (plain) */
    const uint16_t *w;
    int N, C, OC, accumulate;
    float alpha;
} bf16_job;

static void put(const bf16_job *j, int n, int o, float s)
{
    float *p = j->out + (size_t)n * j->OC + o;
    *p = j->accumulate ? *p + j->alpha * s : j->alpha * s;
}

/* ---------------------------------------------------------------- AVX2 + FMA
 * The plain loops with the widening as a shift and the sums as FMAs (the compiler may
 * not contract them under -std=c11): the same lane order, so one row still gets the same
 * bits alone or in a pair. */
#if HAVE_AVX512BF16_KERNEL
#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256 widen8(const uint16_t *p)
{
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

AVX2_TARGET static float lanes_sum(__m256 a)
{
    float l[8], t = 0.0f;
    _mm256_storeu_ps(l, a);
    for (int j = 0; j < 8; j++)
        t += l[j];
    return t;
}

/* s0 (and s1 when x1) = rows x0 (x1) . 4 weight rows */
AVX2_TARGET static void dot4x2_avx2(float *s0, float *s1, const float *x0, const float *x1, const uint16_t *w, int C)
{
    __m256 a0[4], a1[4];
    for (int k = 0; k < 4; k++)
        a0[k] = a1[k] = _mm256_setzero_ps();
    const size_t sC = (size_t)C;
    int c = 0;
    if (x1) {
        for (; c + 8 <= C; c += 8) {
            __m256 v0 = _mm256_loadu_ps(x0 + c), v1 = _mm256_loadu_ps(x1 + c);
            for (int k = 0; k < 4; k++) {
                __m256 wk = widen8(w + k * sC + c);
                a0[k] = _mm256_fmadd_ps(v0, wk, a0[k]);
                a1[k] = _mm256_fmadd_ps(v1, wk, a1[k]);
            }
        }
    } else {
        for (; c + 8 <= C; c += 8) {
            __m256 v0 = _mm256_loadu_ps(x0 + c);
            for (int k = 0; k < 4; k++)
                a0[k] = _mm256_fmadd_ps(v0, widen8(w + k * sC + c), a0[k]);
        }
    }
    for (int k = 0; k < 4; k++) {
        float t0 = lanes_sum(a0[k]), t1 = lanes_sum(a1[k]);
        for (int cc = c; cc < C; cc++) {
            float f = widen(w[k * sC + cc]);
            t0 += x0[cc] * f;
            if (x1)
                t1 += x1[cc] * f;
        }
        s0[k] = t0;
        if (x1)
            s1[k] = t1;
    }
}
#endif

static int avx2 = -1; /* -1: not decided yet */

static int use_avx2(void)
{
    if (avx2 < 0) {
        const char *e = getenv("T0_BF16_PLAIN");
        avx2 = 0;
#if HAVE_AVX512BF16_KERNEL
        __builtin_cpu_init();
        avx2 = !(e && *e == '1') && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        (void)e;
#endif
    }
    return avx2;
}

const char *t5_bf16_kernel(void)
{
    return t5_bf16_native() ? "avx512bf16" : use_avx2() ? "avx2" : "plain";
}

static void plain_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const bf16_job *j = ctx;
    const float *x = j->x;
#if HAVE_AVX512BF16_KERNEL
    if (use_avx2()) {
        for (long o = begin; o < end; o += 4) {
            int nw = end - o < 4 ? (int)(end - o) : 4, n = 0;
            for (; nw == 4 && n < j->N; n += 2) {
                float s0[4], s1[4];
                int two = n + 1 < j->N;
                dot4x2_avx2(s0, s1, x + (size_t)n * j->C, two ? x + (size_t)(n + 1) * j->C : NULL,
                            j->w + (size_t)o * j->C, j->C);
                for (int k = 0; k < 4; k++) {
                    put(j, n, (int)o + k, s0[k]);
                    if (two)
                        put(j, n + 1, (int)o + k, s1[k]);
                }
            }
            for (; n < j->N; n++) { /* the last weight rows of the range */
                float s[4];
                dot4_plain(s, x + (size_t)n * j->C, j->w + (size_t)o * j->C, j->C, nw);
                for (int k = 0; k < nw; k++)
                    put(j, n, (int)o + k, s[k]);
            }
        }
        return;
    }
#endif
    for (long o = begin; o < end; o += 4) {
        int nw = end - o < 4 ? (int)(end - o) : 4, n = 0;
        for (; nw == 4 && n + 2 <= j->N; n += 2) {
            float s0[4], s1[4];
            dot4x2_plain(s0, s1, x + (size_t)n * j->C, x + (size_t)(n + 1) * j->C, j->w + (size_t)o * j->C, j->C);
            for (int k = 0; k < 4; k++)
                put(j, n, (int)o + k, s0[k]), put(j, n + 1, (int)o + k, s1[k]);
        }
        for (; n < j->N; n++) {
            float s[4];
            dot4_plain(s, x + (size_t)n * j->C, j->w + (size_t)o * j->C, j->C, nw);
            for (int k = 0; k < nw; k++)
                put(j, n, (int)o + k, s[k]);
        }
    }
}

/* Many rows (an encoder pass): widen a block of weight rows once and let sgemm use it
 * for every row; the rows are the rounded ones, so only the order of the sums differs
 * from the loop above. Decoding steps (fewer than GEMM_ROWS rows) never come here. */
enum { GEMM_ROWS = 16, GEMM_BLOCK = 64 };

static void plain_gemm_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const bf16_job *j = ctx;
    size_t C = (size_t)j->C;
    float *wt = malloc(sizeof(float) * GEMM_BLOCK * C);
    if (!wt) { /* no room for the block: the row loop needs none */
        plain_task(ctx, tid, begin, end);
        return;
    }
    for (long o = begin; o < end; o += GEMM_BLOCK) {
        int nb = end - o < GEMM_BLOCK ? (int)(end - o) : GEMM_BLOCK;
        for (size_t i = 0; i < (size_t)nb * C; i++)
            wt[i] = widen(j->w[o * C + i]);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->N, nb, j->C, j->alpha, j->x, j->C, wt, j->C,
                    j->accumulate ? 1.0f : 0.0f, j->out + o, j->OC);
    }
    free(wt);
}

#if HAVE_AVX512BF16_KERNEL
static void native_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const bf16_job *j = ctx;
    const uint16_t *x = j->x;
    size_t C = (size_t)j->C;
    long o = begin;
    for (; o + 4 <= end; o += 4)
        for (int n = 0; n < j->N; n += 4) {
            int nr = j->N - n < 4 ? j->N - n : 4;
            float s[4][4];
            dot_4x4(s, x + n * C, nr, j->w + o * C, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < 4; k++)
                    put(j, n + r, (int)o + k, s[r][k]);
        }
    for (; o < end; o++)
        for (int n = 0; n < j->N; n++)
            put(j, n, (int)o, dot_1x1(x + n * C, j->w + o * C, j->C));
}
#endif

/* The rounded input rows: one buffer per calling thread, grown as needed. */
static _Thread_local void *xbuf;
static _Thread_local size_t xcap;

void matmul_forward_bf16(float *out, const float *inp, const uint16_t *w, int N, int C, int OC, float alpha,
                         int accumulate)
{
    size_t n = (size_t)N * C;
    if (n * sizeof(float) > xcap) {
        void *p = realloc(xbuf, n * sizeof(float));
        if (!p) { /* no scratch: widen nothing, round row by row through the plain loop */
            for (int r = 0; r < N; r++)
                for (int o = 0; o < OC; o++) {
                    float s = 0.0f;
                    for (int c = 0; c < C; c++)
                        s += widen(st_f32_to_bf16(inp[(size_t)r * C + c])) * widen(w[(size_t)o * C + c]);
                    out[(size_t)r * OC + o] = accumulate ? out[(size_t)r * OC + o] + alpha * s : alpha * s;
                }
            return;
        }
        xbuf = p, xcap = n * sizeof(float);
    }
    bf16_job j = {out, xbuf, w, N, C, OC, accumulate, alpha};
    /* at least 64 weight rows a part: below that, threads cost more than they save */
#if HAVE_AVX512BF16_KERNEL
    if (t5_bf16_native()) {
        uint16_t *xb = xbuf;
        for (size_t i = 0; i < n; i++)
            xb[i] = st_f32_to_bf16(inp[i]);
        t5_parallel_for(OC, 64, native_task, &j);
        return;
    }
#endif
    float *xr = xbuf;
    for (size_t i = 0; i < n; i++)
        xr[i] = widen(st_f32_to_bf16(inp[i]));
    t5_parallel_for(OC, 64, N >= GEMM_ROWS ? plain_gemm_task : plain_task, &j);
}

void embedding_forward_bf16(float *out, const int32_t *ids, const uint16_t *emb, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const uint16_t *e = emb + (size_t)ids[n] * C;
        for (int c = 0; c < C; c++)
            out[(size_t)n * C + c] = widen(e[c]);
    }
}

/* ---------------------------------------------------------------- F32, few rows
 * A decoding step multiplies a few rows by every weight: sgemm would first pack the
 * whole weight matrix (another read and write of it), so these loops read each weight
 * row once and use it for every input row, as the BF16 ones do. */
T5_ROW_KERNEL static void dot4x2_f32(float *s0, float *s1, const float *x0, const float *x1, const float *w, int C,
                                     int two)
{
    float a0[4][8] = {{0}}, a1[4][8] = {{0}};
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int k = 0; k < 4; k++) {
            const float *wk = w + (size_t)k * C + c;
            for (int j = 0; j < 8; j++) {
                a0[k][j] += x0[c + j] * wk[j];
                a1[k][j] += x1[c + j] * wk[j];
            }
        }
    for (int k = 0; k < 4; k++) {
        float t0 = 0.0f, t1 = 0.0f;
        for (int j = 0; j < 8; j++)
            t0 += a0[k][j], t1 += a1[k][j];
        for (int cc = c; cc < C; cc++) {
            t0 += x0[cc] * w[(size_t)k * C + cc];
            t1 += x1[cc] * w[(size_t)k * C + cc];
        }
        s0[k] = t0;
        if (two)
            s1[k] = t1;
    }
}

/* at most this many rows take the loop; more (measured here at small shapes: from about
 * 4) go faster through sgemm */
enum { F32_ROWS = 2 };

/* one row: the same sums as dot4x2_f32's first row */
T5_ROW_KERNEL static void dot4_f32(float *s0, const float *x0, const float *w, int C)
{
    float a0[4][8] = {{0}};
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int k = 0; k < 4; k++) {
            const float *wk = w + (size_t)k * C + c;
            for (int j = 0; j < 8; j++)
                a0[k][j] += x0[c + j] * wk[j];
        }
    for (int k = 0; k < 4; k++) {
        float t0 = 0.0f;
        for (int j = 0; j < 8; j++)
            t0 += a0[k][j];
        for (int cc = c; cc < C; cc++)
            t0 += x0[cc] * w[(size_t)k * C + cc];
        s0[k] = t0;
    }
}

typedef struct {
    float *out;
    const float *x, *w;
    int N, C, OC, accumulate;
    float alpha;
} f32_job;

static void f32_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const f32_job *j = ctx;
    size_t C = (size_t)j->C;
    for (long o = begin; o < end; o += 4) {
        int nw = end - o < 4 ? (int)(end - o) : 4;
        for (int n = 0; n < j->N; n += 2) {
            int two = n + 1 < j->N;
            float s[2][4];
            if (nw == 4 && !two) {
                dot4_f32(s[0], j->x + n * C, j->w + o * C, j->C);
            } else if (nw == 4) {
                dot4x2_f32(s[0], s[1], j->x + n * C, j->x + (n + 1) * C, j->w + o * C, j->C, 1);
            } else { /* the last weight rows: one at a time */
                for (int k = 0; k < nw; k++) {
                    float a = 0.0f, b = 0.0f;
                    for (size_t c = 0; c < C; c++) {
                        a += j->x[n * C + c] * j->w[(o + k) * C + c];
                        b += j->x[(n + two) * C + c] * j->w[(o + k) * C + c];
                    }
                    s[0][k] = a, s[1][k] = b;
                }
            }
            for (int r = 0; r <= two; r++)
                for (int k = 0; k < nw; k++) {
                    float *p = j->out + (size_t)(n + r) * j->OC + o + k;
                    *p = j->accumulate ? *p + j->alpha * s[r][k] : j->alpha * s[r][k];
                }
        }
    }
}

void t5_linear(float *out, const float *inp, const float *w, const uint16_t *wb, int N, int C, int OC, float alpha,
               int accumulate)
{
    if (wb) {
        matmul_forward_bf16(out, inp, wb, N, C, OC, alpha, accumulate);
    } else if (N <= F32_ROWS) {
        f32_job j = {out, inp, w, N, C, OC, accumulate, alpha};
        t5_parallel_for(OC, 64, f32_task, &j);
    } else {
        matmul_forward(out, inp, w, N, C, OC, alpha, accumulate);
    }
}

void t5_embed(float *out, const int32_t *ids, const float *emb, const uint16_t *embb, int N, int C)
{
    if (embb)
        embedding_forward_bf16(out, ids, embb, N, C);
    else
        embedding_forward(out, ids, emb, N, C);
}
