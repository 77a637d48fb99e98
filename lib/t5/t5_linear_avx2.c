/* t5_linear_avx2.c: the few-row product loops with AVX2 + FMA intrinsics
 * (t5_linear_kernels.h). */
#include "t5/t5_linear_kernels.h"

#if T5_X86_KERNELS
#include <immintrin.h>

#include "t5/t5_cpu.h"

/* AVX2 + FMA: the plain loops' scheme (t5_linear_plain.c) with fused multiply-adds (and
 * the lanes added as a tree),
 * four input rows against three weight rows (twelve sums in registers, with the three
 * weight vectors and one input vector: all sixteen), or one row against six. BF16 weights
 * are widened in registers as they are loaded. */
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
AVX2_TARGET static inline __attribute__((always_inline)) void dots_avx2(float s[T5_KR][T5_KW], const float *x, int nr,
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
                t += x[r * sC + cc] * (bf16 ? t5_widen(wb[k * sC + cc]) : w[k * sC + cc]);
            s[r][k] = t;
        }
}

/* nr of 4 or 1 rows against nk of 3 or 1 weight rows, F32 (w) or BF16 (wb); or 1 row
 * against 6 F32 weight rows */
AVX2_TARGET static void block_avx2(float s[T5_KR][T5_KW], const float *x, int nr, const float *w, const uint16_t *wb,
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

/* How far ahead the weights are prefetched. Measured on a small model's output layer
 * (32128 x 512 F32, from memory), 1 thread: 1 row at 4-8 KB ahead 14 GB/s, at 32 KB 16
 * (a plain stream reads 15-17 here); 8 rows at 24 KB 6.9, at 48 KB 7.5. */
void t5_rows_avx2(const t5_lin_job *j, long begin, long end)
{
    const float *x = j->x;
    size_t C = (size_t)j->C, esize = j->wb ? 2 : 4;
    const char *wbase = j->wb ? (const void *)j->wb : (const void *)j->w;
    long ahead = t5_cpu_probe()->prefetch_ahead / (long)(C * esize); /* in weight rows */
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
            float s[T5_KR][T5_KW];
            /* every block of rows prefetches (the later ones find the lines in flight
             * or in cache): a fifth faster at batch 8 than the first alone */
            block_avx2(s, x + n * C, nr, j->w ? j->w + o * C : NULL, j->wb ? j->wb + o * C : NULL, nk, j->C,
                       next);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < nk; k++)
                    t5_lin_put(j, n + r, (int)o + k, s[r][k]);
            n += nr;
        }
        o += nk;
    }
}

/* ---------------------------------------------------------------- int8 */

/* vpmaddubsw multiplies unsigned by signed bytes and adds pairs into int16 with
 * saturation. Sign transfer: |x| (unsigned) times w with x's sign (vpsignb) is x * w, and
 * a pair is at most 2 * 127 * 127 = 32258 < 32767: exact, no saturation and no correction
 * term. (The other trick, u8 = x + 128, reaches 2 * 255 * 127 and saturates, unless the
 * weights are cut to 7 bits.) vpmaddwd against ones then widens pairs into int32 lanes. */
AVX2_TARGET static inline int32_t lanes_sum_i32(__m256i v)
{
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* s[r][k] = x row r . w row k (int8, exact) for nr input rows and nk weight rows; pf as in
 * dots_avx2. Inlined where nr and nk are constants. Registers: nr * nk sums, nk weight
 * vectors, x, |x|, a product and the ones: 14 at 4 x 2, 12 at 1 x 4. */
AVX2_TARGET static inline __attribute__((always_inline)) void idots_avx2(int32_t s[T5_KR][T5_KW], const int8_t *x,
                                                                         int nr, const int8_t *w, int nk, int C,
                                                                         const void *pf)
{
    __m256i a[4][4];
    const __m256i ones = _mm256_set1_epi16(1);
    const size_t sC = (size_t)C;
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int k = 0; k < nk; k++)
            a[r][k] = _mm256_setzero_si256();
    int c = 0;
    for (; c + 32 <= C; c += 32) {
        __m256i wv[4];
        int line = pf && c % 64 == 0;
#pragma GCC unroll 4
        for (int k = 0; k < nk; k++) {
            wv[k] = _mm256_loadu_si256((const __m256i *)(const void *)(w + k * sC + c));
            if (line)
                _mm_prefetch((const char *)pf + k * sC + c, _MM_HINT_T0);
        }
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(x + r * sC + c));
            __m256i ax = _mm256_abs_epi8(xv);
#pragma GCC unroll 4
            for (int k = 0; k < nk; k++) {
                __m256i p = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv[k], xv));
                a[r][k] = _mm256_add_epi32(a[r][k], _mm256_madd_epi16(p, ones));
            }
        }
    }
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < nk; k++) {
            int32_t t = lanes_sum_i32(a[r][k]);
            for (int cc = c; cc < C; cc++)
                t += (int32_t)x[r * sC + cc] * w[k * sC + cc];
            s[r][k] = t;
        }
}

AVX2_TARGET static void iblock_avx2(int32_t s[T5_KR][T5_KW], const int8_t *x, int nr, const int8_t *w, int nk, int C,
                                    const void *pf)
{
    if (nr == 4 && nk == 2)
        idots_avx2(s, x, 4, w, 2, C, pf);
    else if (nr == 4)
        idots_avx2(s, x, 4, w, 1, C, pf);
    else if (nk == 4)
        idots_avx2(s, x, 1, w, 4, C, pf);
    else if (nk == 2)
        idots_avx2(s, x, 1, w, 2, C, pf);
    else
        idots_avx2(s, x, 1, w, 1, C, pf);
}

/* 4 input rows against 2 weight rows, or 1 row against 4 (a decoding step at batch 1).
 * Many rows (an encoder pass) go in tiles: 64 weight rows (32 KB at 512 columns, in L2)
 * against 32 input rows (16 KB, in L1) at a time; row after row over all the inputs read
 * them from memory again for every 2 weight rows (12 GMAC/s at 512 x 512 x 1024, against
 * sgemm's 16-19). */
enum { I8_TILE_W = 64, I8_TILE_X = 32 };

static void i8_tile_avx2(const t5_lin_job *j, long begin, long end, int n0, int n1, long ahead)
{
    size_t C = (size_t)j->C;
    const int8_t *x = j->x;
    int kw = j->N >= 4 ? 2 : 4;
    for (long o = begin; o < end;) {
        int nk = end - o >= kw ? kw : 1;
        long d = ahead > nk ? ahead : nk;
        const int8_t *next = ahead > 0 && o + d + nk <= end ? j->wq + (o + d) * C : NULL;
        for (int n = n0; n < n1;) {
            int nr = n1 - n >= 4 ? 4 : 1;
            int32_t s[T5_KR][T5_KW];
            iblock_avx2(s, x + n * C, nr, j->wq + o * C, nk, j->C, next);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < nk; k++)
                    t5_lin_put_i8(j, n + r, (int)o + k, s[r][k]);
            n += nr;
        }
        o += nk;
    }
}

void t5_rows_i8_avx2(const t5_lin_job *j, long begin, long end)
{
    long ahead = t5_cpu_probe()->prefetch_ahead / (long)j->C; /* in weight rows */
    if (j->N <= I8_TILE_X) {
        i8_tile_avx2(j, begin, end, 0, j->N, ahead);
        return;
    }
    for (long o = begin; o < end; o += I8_TILE_W) {
        long oe = end - o > I8_TILE_W ? o + I8_TILE_W : end;
        for (int n = 0; n < j->N; n += I8_TILE_X)
            i8_tile_avx2(j, o, oe, n, j->N - n > I8_TILE_X ? n + I8_TILE_X : j->N, 0);
    }
}

#endif
