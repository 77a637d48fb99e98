/* t5_linear_avx512bf16.c: BF16 weights through vdpbf16ps (pairs of BF16 products added
 * into 16 F32 lanes), for any number of rows (t5_linear_kernels.h); and the tile of the
 * BF16 training products (t5_mixed.h). */
#include "t5/t5_linear_kernels.h"

#if T5_X86_KERNELS
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

BF16_TARGET static inline __m512bh load_bh(const uint16_t *p, int left)
{
    if (left >= 32)
        return (__m512bh)_mm512_loadu_si512((const void *)p);
    return (__m512bh)_mm512_maskz_loadu_epi16((__mmask32)((1ull << left) - 1), (const void *)p);
}

/* s[r][k] = x row r . w row k, for nr <= 4 input rows (stride C) and 4 weight rows.
 * Inlined only where nr is a constant (dot_rows), its loops unrolled, so that the 16 sums
 * stay in registers: with nr a variable GCC kept them on the stack, a load and a store
 * around every vdpbf16ps (seen in objdump; the sums and their order are the same either
 * way). */
BF16_TARGET static inline __attribute__((always_inline)) void dot_4x4(float s[4][4], const uint16_t *x, int nr,
                                                                      const uint16_t *w, int C)
{
    __m512 a[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            a[r][k] = _mm512_setzero_ps();
    const size_t sC = (size_t)C;
    for (int c = 0; c < C; c += 32) {
        int left = C - c;
        __m512bh w0 = load_bh(w + c, left), w1 = load_bh(w + sC + c, left), w2 = load_bh(w + 2 * sC + c, left),
                 w3 = load_bh(w + 3 * sC + c, left);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m512bh xv = load_bh(x + r * sC + c, left);
            a[r][0] = _mm512_dpbf16_ps(a[r][0], xv, w0);
            a[r][1] = _mm512_dpbf16_ps(a[r][1], xv, w1);
            a[r][2] = _mm512_dpbf16_ps(a[r][2], xv, w2);
            a[r][3] = _mm512_dpbf16_ps(a[r][3], xv, w3);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            s[r][k] = _mm512_reduce_add_ps(a[r][k]);
}

BF16_TARGET static void dot_rows(float s[4][4], const uint16_t *x, int nr, const uint16_t *w, int C)
{
    if (nr == 4)
        dot_4x4(s, x, 4, w, C);
    else if (nr == 3)
        dot_4x4(s, x, 3, w, C);
    else if (nr == 2)
        dot_4x4(s, x, 2, w, C);
    else
        dot_4x4(s, x, 1, w, C);
}

BF16_TARGET static float dot_1x1(const uint16_t *x, const uint16_t *w, int C)
{
    __m512 a = _mm512_setzero_ps();
    for (int c = 0; c < C; c += 32)
        a = _mm512_dpbf16_ps(a, load_bh(x + c, C - c), load_bh(w + c, C - c));
    return _mm512_reduce_add_ps(a);
}
void t5_rows_avx512bf16(const t5_lin_job *j, long begin, long end)
{
    const uint16_t *x = j->x;
    size_t C = (size_t)j->C;
    long o = begin;
    for (; o + 4 <= end; o += 4)
        for (int n = 0; n < j->N; n += 4) {
            int nr = j->N - n < 4 ? j->N - n : 4;
            float s[4][4];
            dot_rows(s, x + n * C, nr, j->wb + o * C, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < 4; k++)
                    t5_lin_put(j, n + r, (int)o + k, s[r][k]);
        }
    for (; o < end; o++)
        for (int n = 0; n < j->N; n++)
            t5_lin_put(j, n, (int)o, dot_1x1(x + n * C, j->wb + o * C, j->C));
}

/* The training products' tile (t5_linear_kernels.h): 8 rows of A x 32 columns of B, 16
 * sums in registers (the loops over rows unrolled, or the sums would live on the stack);
 * per pair of k, two vectors of B's pairs and one broadcast pair of A a row. Not yet
 * measured against sgemm on an AVX-512 BF16 CPU (none where it was written): checked
 * against the plain tile by tests/unit/test_backend_ops.c there. */
BF16_TARGET void t5_bf16_tile_avx512bf16(float *t, const uint32_t *ap, const uint32_t *bp, int kp)
{
    __m512 acc[T5_BF16_MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < T5_BF16_MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++) {
        const uint32_t *b = bp + (size_t)p * T5_BF16_NR;
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)b);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + 16));
#pragma GCC unroll 8
        for (int i = 0; i < T5_BF16_MR; i++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)ap[(size_t)p * T5_BF16_MR + i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], a, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], a, b1);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < T5_BF16_MR; i++) {
        _mm512_storeu_ps(t + i * T5_BF16_NR, acc[i][0]);
        _mm512_storeu_ps(t + i * T5_BF16_NR + 16, acc[i][1]);
    }
}
#endif
