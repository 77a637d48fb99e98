/* t5_linear_avx512vnni.c: int8 products through vpdpbusd (four unsigned x signed byte
 * products added into each of 16 int32 lanes, no saturation), for any number of rows
 * (t5_linear_kernels.h). Compiled with target attributes, dispatched only on CPUs with
 * AVX-512 VNNI (t5_cpu.c). The operands follow the AVX2 kernel's sign transfer: |x| as the
 * unsigned operand, w with x's sign (a masked 0 - w where x < 0) as the signed one, so the
 * sum is exactly that of x * w with no per-row correction; the last columns are read with
 * a byte mask (zeros add nothing). */
#include "t5/t5_linear_kernels.h"

#if T5_X86_KERNELS
#include <immintrin.h>

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

/* s[r][k] = x row r . w row k (int8, exact), nr <= 4 input rows, 4 weight rows. Inlined
 * only where nr is a constant (idot_rows), its loops unrolled, so that the 16 sums stay in
 * registers (with nr a variable GCC kept them on the stack, a load and a store around every
 * vpdpbusd). */
VNNI_TARGET static inline __attribute__((always_inline)) void idot_4x4(int32_t s[4][4], const int8_t *x, int nr,
                                                                       const int8_t *w, int C)
{
    __m512i a[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            a[r][k] = _mm512_setzero_si512();
    const size_t sC = (size_t)C;
    const __m512i zero = _mm512_setzero_si512();
    for (int c = 0; c < C; c += 64) {
        int left = C - c;
        __mmask64 m = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i wv[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            wv[k] = _mm512_maskz_loadu_epi8(m, (const void *)(w + k * sC + c));
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m512i xv = _mm512_maskz_loadu_epi8(m, (const void *)(x + r * sC + c));
            __m512i ax = _mm512_abs_epi8(xv);
            __mmask64 neg = _mm512_movepi8_mask(xv);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                a[r][k] = _mm512_dpbusd_epi32(a[r][k], ax, _mm512_mask_sub_epi8(wv[k], neg, zero, wv[k]));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            s[r][k] = _mm512_reduce_add_epi32(a[r][k]);
}

VNNI_TARGET static void idot_rows(int32_t s[4][4], const int8_t *x, int nr, const int8_t *w, int C)
{
    if (nr == 4)
        idot_4x4(s, x, 4, w, C);
    else if (nr == 3)
        idot_4x4(s, x, 3, w, C);
    else if (nr == 2)
        idot_4x4(s, x, 2, w, C);
    else
        idot_4x4(s, x, 1, w, C);
}

VNNI_TARGET static int32_t idot_1(const int8_t *x, const int8_t *w, int C)
{
    __m512i a = _mm512_setzero_si512();
    const __m512i zero = _mm512_setzero_si512();
    for (int c = 0; c < C; c += 64) {
        int left = C - c;
        __mmask64 m = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i wv = _mm512_maskz_loadu_epi8(m, (const void *)(w + c));
        __m512i xv = _mm512_maskz_loadu_epi8(m, (const void *)(x + c));
        a = _mm512_dpbusd_epi32(a, _mm512_abs_epi8(xv), _mm512_mask_sub_epi8(wv, _mm512_movepi8_mask(xv), zero, wv));
    }
    return _mm512_reduce_add_epi32(a);
}

void t5_rows_i8_avx512vnni(const t5_lin_job *j, long begin, long end)
{
    const int8_t *x = j->x;
    size_t C = (size_t)j->C;
    long o = begin;
    for (; o + 4 <= end; o += 4)
        for (int n = 0; n < j->N; n += 4) {
            int nr = j->N - n < 4 ? j->N - n : 4;
            int32_t s[4][4];
            idot_rows(s, x + n * C, nr, j->wq + o * C, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < 4; k++)
                    t5_lin_put_i8(j, n + r, (int)o + k, s[r][k]);
        }
    for (; o < end; o++)
        for (int n = 0; n < j->N; n++)
            t5_lin_put_i8(j, n, (int)o, idot_1(x + n * C, j->wq + o * C, j->C));
}

#endif
