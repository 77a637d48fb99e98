/* t5_bf16.c: see t5_bf16.h. Work is split over output columns (weight rows), so each
 * weight row is read from memory once per call and used for every input row. */
#include "t5/t5_bf16.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/half.h"
#include "t5/t5_ops.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86_KERNELS 1
#else
#define HAVE_X86_KERNELS 0
#endif

static float widen(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* dst[i] = src[i] widened, vectorized by the compiler */
T5_ROW_KERNEL static void widen_all(float *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

/* Which kernels run and the measuring knobs, decided once for the process: t0-score's
 * threads enter these loops together, and a thread that saw a half-made decision took
 * the plain loops (other bits) for its examples. */
static struct {
    int native, avx2, few_rows_forced; /* few_rows_forced: T0_FEW_ROWS, or -1 */
    long ahead;                         /* T0_PREFETCH, or 48 KB */
} cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static void cfg_decide(void)
{
    const char *plain = getenv("T0_BF16_PLAIN"), *rows = getenv("T0_FEW_ROWS"), *ahead = getenv("T0_PREFETCH");
    int allowed = !(plain && *plain == '1');
#if HAVE_X86_KERNELS
    __builtin_cpu_init();
    cfg.native = allowed && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
    cfg.avx2 = allowed && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    (void)allowed;
#endif
    cfg.few_rows_forced = rows ? atoi(rows) : -1; /* for measuring */
    cfg.ahead = ahead ? atol(ahead) : 49152;      /* for measuring */
}

int t5_bf16_native(void)
{
    pthread_once(&cfg_once, cfg_decide);
    return cfg.native;
}

/* ---------------------------------------------------------------- AVX-512 BF16 */
#if HAVE_X86_KERNELS
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

/* ---------------------------------------------------------------- few rows
 * A decoding step multiplies a few rows by every weight. sgemm would first copy the whole
 * weight matrix into its packed layout (over half of a small model's step at batch 8, by
 * perf), so these loops read each weight row where it lies, once a call, and use it for
 * every input row while it sits in L1. Every output is summed the same way whichever block
 * it falls in (8 F32 lanes over the columns up to a multiple of 8, the lanes added in one
 * fixed order, then the rest), so a row gets the same bits alone or in a batch of any
 * size. */
typedef struct {
    float *out;
    const void *x;      /* float rows, rounded to BF16 first for BF16 weights; BF16 rows (native) */
    const float *w;     /* F32 weight rows, or NULL */
    const uint16_t *wb; /* else BF16 weight rows */
    int N, C, OC, accumulate;
    float alpha;
} lin_job;

enum { KR = 4, KW = 6 }; /* the most input rows and weight rows in a block */

static void put(const lin_job *j, int n, int o, float s)
{
    float *p = j->out + (size_t)n * j->OC + o;
    *p = j->accumulate ? *p + j->alpha * s : j->alpha * s;
}

/* Plain C, vectorized by the compiler: two input rows against four weight rows (each
 * weight used twice), and one against one; the lanes added in order. BF16 weight rows are
 * widened a block at a time first (rows_task_plain). */
T5_ROW_KERNEL static void dot2x4_plain(float s[KR][KW], const float *x0, const float *x1, const float *w, int C)
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
        s[0][k] = t0, s[1][k] = t1;
    }
}

T5_ROW_KERNEL static float dot1_plain(const float *x, const float *w, int C)
{
    float a[8] = {0}, t = 0.0f;
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int j = 0; j < 8; j++)
            a[j] += x[c + j] * w[c + j];
    for (int j = 0; j < 8; j++)
        t += a[j];
    for (; c < C; c++)
        t += x[c] * w[c];
    return t;
}

/* s[r][k] = x row r . w row k for nr <= 2 rows (stride C) and nk <= 4 weight rows */
static void block_plain(float s[KR][KW], const float *x, int nr, const float *w, int nk, int C)
{
    if (nk == 4) {
        dot2x4_plain(s, x, nr == 2 ? x + C : x, w, C);
        return;
    }
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < nk; k++)
            s[r][k] = dot1_plain(x + (size_t)r * C, w + (size_t)k * C, C);
}

/* AVX2 + FMA: the same scheme with fused multiply-adds (and the lanes added as a tree),
 * four input rows against three weight rows (twelve sums in registers, with the three
 * weight vectors and one input vector: all sixteen), or one row against six. BF16 weights
 * are widened in registers as they are loaded. */
#if HAVE_X86_KERNELS
#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256 widen8(const uint16_t *p)
{
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* the eight lanes as a tree: ((0+4) + (2+6)) + ((1+5) + (3+7)) */
AVX2_TARGET static inline float lanes_sum(__m256 a)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

/* s[r][k] = x row r . weight row k (w, or wb when bf16) for nr rows and nk weight rows.
 * pf: the next block's weights, fetched into cache while this one computes (or NULL).
 * Inlined only where nr, nk and bf16 are constants, its loops unrolled, so that the sums
 * stay in registers. */
AVX2_TARGET static inline __attribute__((always_inline)) void dots_avx2(float s[KR][KW], const float *x, int nr,
                                                                        const float *w, const uint16_t *wb, int bf16,
                                                                        int nk, int C, const void *pf)
{
    __m256 a[4][6];
    const size_t sC = (size_t)C, esize = bf16 ? 2 : 4;
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 6
        for (int k = 0; k < nk; k++)
            a[r][k] = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= C; c += 8) {
        __m256 wv[6];
        int line = pf && (c * esize) % 64 == 0; /* one prefetch a cache line */
#pragma GCC unroll 6
        for (int k = 0; k < nk; k++) {
            wv[k] = bf16 ? widen8(wb + k * sC + c) : _mm256_loadu_ps(w + k * sC + c);
            if (line)
                _mm_prefetch((const char *)pf + (k * sC + c) * esize, _MM_HINT_T0);
        }
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256 xv = _mm256_loadu_ps(x + r * sC + c);
#pragma GCC unroll 6
            for (int k = 0; k < nk; k++)
                a[r][k] = _mm256_fmadd_ps(xv, wv[k], a[r][k]);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < nk; k++) {
            float t = lanes_sum(a[r][k]);
            for (int cc = c; cc < C; cc++)
                t += x[r * sC + cc] * (bf16 ? widen(wb[k * sC + cc]) : w[k * sC + cc]);
            s[r][k] = t;
        }
}

/* nr of 4 or 1 rows against nk of 3 or 1 weight rows, F32 (w) or BF16 (wb); or 1 row
 * against 6 F32 weight rows */
AVX2_TARGET static void block_avx2(float s[KR][KW], const float *x, int nr, const float *w, const uint16_t *wb,
                                   int nk, int C, const void *pf)
{
    if (wb) {
        if (nr == 4 && nk == 3)
            dots_avx2(s, x, 4, NULL, wb, 1, 3, C, pf);
        else if (nr == 4)
            dots_avx2(s, x, 4, NULL, wb, 1, 1, C, pf);
        else if (nk == 3)
            dots_avx2(s, x, 1, NULL, wb, 1, 3, C, pf);
        else
            dots_avx2(s, x, 1, NULL, wb, 1, 1, C, pf);
    } else {
        if (nr == 4 && nk == 3)
            dots_avx2(s, x, 4, w, NULL, 0, 3, C, pf);
        else if (nr == 4)
            dots_avx2(s, x, 4, w, NULL, 0, 1, C, pf);
        else if (nk == 3)
            dots_avx2(s, x, 1, w, NULL, 0, 3, C, pf);
        else if (nk == 6)
            dots_avx2(s, x, 1, w, NULL, 0, 6, C, pf);
        else
            dots_avx2(s, x, 1, w, NULL, 0, 1, C, pf);
    }
}
#endif

static int use_avx2(void)
{
    pthread_once(&cfg_once, cfg_decide);
    return cfg.avx2;
}

const char *t5_bf16_kernel(void)
{
    return t5_bf16_native() ? "avx512bf16" : use_avx2() ? "avx2" : "plain";
}

/* One output at a time, widening as it goes: for when there is no memory for a block. */
static void rows_unbuffered(const lin_job *j, long begin, long end)
{
    const float *x = j->x;
    size_t C = (size_t)j->C;
    for (int n = 0; n < j->N; n++)
        for (long o = begin; o < end; o++) {
            float s = 0.0f;
            for (size_t c = 0; c < C; c++)
                s += x[n * C + c] * (j->w ? j->w[o * C + c] : widen(j->wb[o * C + c]));
            put(j, n, (int)o, s);
        }
}

/* The plain loops' widened block of BF16 weight rows: one per thread, grown as needed. */
static _Thread_local float *wbuf;
static _Thread_local size_t wcap;

static void rows_task_plain(const lin_job *j, long begin, long end)
{
    const float *x = j->x;
    size_t C = (size_t)j->C;
    if (j->wb && KW * C > wcap) {
        float *p = realloc(wbuf, sizeof(float) * KW * C);
        if (!p) {
            rows_unbuffered(j, begin, end);
            return;
        }
        wbuf = p, wcap = KW * C;
    }
    for (long o = begin; o < end;) {
        int nk = end - o >= 4 ? 4 : 1; /* the range's last rows one at a time */
        const float *w = j->w ? j->w + o * C : wbuf;
        if (j->wb)
            widen_all(wbuf, j->wb + o * C, nk * C);
        for (int n = 0; n < j->N;) {
            int nr = j->N - n >= 2 ? 2 : 1;
            float s[KR][KW];
            block_plain(s, x + n * C, nr, w, nk, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < nk; k++)
                    put(j, n + r, (int)o + k, s[r][k]);
            n += nr;
        }
        o += nk;
    }
}

/* How far ahead the weights are prefetched. Measured on a small model's output layer
 * (32128 x 512 F32, from memory), 1 thread: 1 row at 4-8 KB ahead 14 GB/s, at 32 KB 16
 * (a plain stream reads 15-17 here); 8 rows at 24 KB 6.9, at 48 KB 7.5. */
static long ahead_bytes(void)
{
    pthread_once(&cfg_once, cfg_decide);
    return cfg.ahead;
}

static void rows_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const lin_job *j = ctx;
#if HAVE_X86_KERNELS
    if (use_avx2()) {
        const float *x = j->x;
        size_t C = (size_t)j->C, esize = j->wb ? 2 : 4;
        const char *wbase = j->wb ? (const void *)j->wb : (const void *)j->w;
        long ahead = ahead_bytes() / (long)(C * esize); /* in weight rows */
        /* 3 weight rows at once, each weight vector used for 4 input rows. One to three
         * F32 input rows stream their weights faster through other blocks (measured on a
         * noisy shared machine, best of 2 x 2 runs in the same minutes: at 512 columns 1
         * weight row at a time 10-12 ms a small model's step, 3 or 6 rows 12-14; at 2048
         * columns 6 rows 316-318 ms a T0_3B-shaped step, 3 rows 377-395; a plain GEMV
         * there reads 9.5 GB/s with 1 stream, 20 with 6). BF16 rows keep 3 (6 measured
         * slower, 197-202 ms against 184-185). */
        int kw = j->N >= 4 || j->wb ? 3 : C >= 1024 ? 6 : 1;
        for (long o = begin; o < end;) {
            int nk = end - o >= kw ? kw : 1; /* the range's last rows one at a time */
            long d = ahead > nk ? ahead : nk;
            const char *next = ahead > 0 && o + d + nk <= end ? wbase + (o + d) * C * esize : NULL;
            for (int n = 0; n < j->N;) {
                int nr = j->N - n >= 4 ? 4 : 1;
                float s[KR][KW];
                /* every block of rows prefetches (the later ones find the lines in flight
                 * or in cache): a fifth faster at batch 8 than the first alone */
                block_avx2(s, x + n * C, nr, j->w ? j->w + o * C : NULL, j->wb ? j->wb + o * C : NULL, nk, j->C,
                           next);
                for (int r = 0; r < nr; r++)
                    for (int k = 0; k < nk; k++)
                        put(j, n + r, (int)o + k, s[r][k]);
                n += nr;
            }
            o += nk;
        }
        return;
    }
#endif
    rows_task_plain(j, begin, end);
}

/* Below this many input rows the loops above beat sgemm. Measured here with AVX2 at 2048
 * x 5120 (T0_3B's feed-forward), GFLOPS loops / sgemm: F32 at 16 rows 42 / 37, 32 rows 43 /
 * 44, 64 rows 44 / 67; BF16 (sgemm on widened blocks) at 32 rows 64 / 46, 64 rows 51 / 53.
 * The plain loops lose to sgemm from about 4 rows. */
static int few_rows(int bf16)
{
    pthread_once(&cfg_once, cfg_decide);
    if (cfg.few_rows_forced >= 0)
        return cfg.few_rows_forced;
    return !cfg.avx2 ? 3 : bf16 ? 48 : 16;
}

/* Many rows (an encoder pass): widen a block of weight rows once and let sgemm use it
 * for every row; the rows are the rounded ones, so only the order of the sums differs
 * from the loops above. */
enum { GEMM_BLOCK = 64 };

static void plain_gemm_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const lin_job *j = ctx;
    size_t C = (size_t)j->C;
    float *wt = malloc(sizeof(float) * GEMM_BLOCK * C);
    if (!wt) { /* no room for the block */
        rows_unbuffered(j, begin, end);
        return;
    }
    for (long o = begin; o < end; o += GEMM_BLOCK) {
        int nb = end - o < GEMM_BLOCK ? (int)(end - o) : GEMM_BLOCK;
        widen_all(wt, j->wb + o * C, (size_t)nb * C);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->N, nb, j->C, j->alpha, j->x, j->C, wt, j->C,
                    j->accumulate ? 1.0f : 0.0f, j->out + o, j->OC);
    }
    free(wt);
}

#if HAVE_X86_KERNELS
static void native_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const lin_job *j = ctx;
    const uint16_t *x = j->x;
    size_t C = (size_t)j->C;
    long o = begin;
    for (; o + 4 <= end; o += 4)
        for (int n = 0; n < j->N; n += 4) {
            int nr = j->N - n < 4 ? j->N - n : 4;
            float s[4][4];
            dot_4x4(s, x + n * C, nr, j->wb + o * C, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < 4; k++)
                    put(j, n + r, (int)o + k, s[r][k]);
        }
    for (; o < end; o++)
        for (int n = 0; n < j->N; n++)
            put(j, n, (int)o, dot_1x1(x + n * C, j->wb + o * C, j->C));
}
#endif

/* The rounded input rows: one buffer per calling thread, grown as needed. */
static _Thread_local void *xbuf;
static _Thread_local size_t xcap;

void t5_matmul_forward_bf16(float *out, const float *inp, const uint16_t *w, int N, int C, int OC, float alpha,
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
                        s += widen(t0_f32_to_bf16(inp[(size_t)r * C + c])) * widen(w[(size_t)o * C + c]);
                    out[(size_t)r * OC + o] = accumulate ? out[(size_t)r * OC + o] + alpha * s : alpha * s;
                }
            return;
        }
        xbuf = p, xcap = n * sizeof(float);
    }
    lin_job j = {out, xbuf, NULL, w, N, C, OC, accumulate, alpha};
    /* at least 64 weight rows a part: below that, threads cost more than they save */
#if HAVE_X86_KERNELS
    if (t5_bf16_native()) {
        uint16_t *xb = xbuf;
        for (size_t i = 0; i < n; i++)
            xb[i] = t0_f32_to_bf16(inp[i]);
        t5_parallel_for(OC, 64, native_task, &j);
        return;
    }
#endif
    float *xr = xbuf;
    for (size_t i = 0; i < n; i++)
        xr[i] = widen(t0_f32_to_bf16(inp[i]));
    t5_parallel_for(OC, 64, N < few_rows(1) ? rows_task : plain_gemm_task, &j);
}

void t5_embedding_forward_bf16(float *out, const int32_t *ids, const uint16_t *emb, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const uint16_t *e = emb + (size_t)ids[n] * C;
        for (int c = 0; c < C; c++)
            out[(size_t)n * C + c] = widen(e[c]);
    }
}

void t5_linear(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate)
{
    int C = w->cols, OC = w->rows;
    if (w->dtype == T5_BF16) {
        t5_matmul_forward_bf16(out, inp, w->data, N, C, OC, alpha, accumulate);
    } else if (N < few_rows(0)) {
        lin_job j = {out, inp, w->data, NULL, N, C, OC, accumulate, alpha};
        t5_parallel_for(OC, 64, rows_task, &j);
    } else {
        t5_matmul_forward(out, inp, w->data, N, C, OC, alpha, accumulate);
    }
}

void t5_embed(float *out, const int32_t *ids, const t5_weight *emb, int N)
{
    if (emb->dtype == T5_BF16)
        t5_embedding_forward_bf16(out, ids, emb->data, N, emb->cols);
    else
        t5_embedding_forward(out, ids, emb->data, N, emb->cols);
}

void t5_linear_backward(float *dinp, const t5_weight *dw, const float *dout, const float *inp, const t5_weight *w,
                        int N, float alpha)
{
    t5_matmul_backward(dinp, dw ? t5_weight_floats(dw) : NULL, dout, inp, t5_weight_floats(w), N, w->cols, w->rows,
                    alpha);
}

void t5_embed_backward(const t5_weight *demb, const float *dout, const int32_t *ids, int N)
{
    t5_embedding_backward(t5_weight_floats(demb), dout, ids, N, demb->cols);
}
