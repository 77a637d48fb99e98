/* t5_linear_kernels.h: the kernels behind t5_linear (t5_bf16.c), one file an instruction
 * set, and the dispatch table that the CPU probe (t5_cpu.c) fills once:
 *   t5_linear_plain.c      C loops the compiler vectorizes (any CPU), int8 in plain C;
 *   t5_linear_avx2.c       AVX2 + FMA intrinsics, int8 with vpmaddubsw/vpmaddwd;
 *   t5_linear_avx512bf16.c vdpbf16ps, BF16 x BF16 pairs into F32 lanes;
 *   t5_linear_avx512vnni.c vpdpbusd, int8 x int8 quads into int32 lanes;
 * and the tiles of the BF16 training products (t5_mixed.h): plain C here (the reference)
 * and vdpbf16ps in t5_linear_avx512bf16.c.
 * Internal to lib/t5 (and the kernel tests, tests/unit/test_backend_ops.c). */
#ifndef T0_T5_LINEAR_KERNELS_H
#define T0_T5_LINEAR_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/half.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define T5_X86_KERNELS 1
#else
#define T5_X86_KERNELS 0
#endif

/* One product out[N,OC] (=, or += when accumulate) alpha * x[N,C] @ w[OC,C]^T, split by
 * the caller over ranges of output columns (weight rows). */
typedef struct {
    float *out;
    const void *x;      /* float rows, rounded to BF16 first for BF16 weights; BF16 rows (bf16_rows) */
    const float *w;     /* F32 weight rows, or NULL */
    const uint16_t *wb; /* else BF16 weight rows */
    int N, C, OC, accumulate;
    float alpha;
    /* int8 products (t5_int8.h): x holds int8 rows, w and wb are NULL. Values in
     * [-127, 127] only (never -128: the sign transfer of the AVX2 kernel needs it). */
    const int8_t *wq;                 /* int8 weight rows */
    const float *wscale, *xscale;     /* per weight row, per input row: value = q * scale */
} t5_lin_job;

enum { T5_KR = 4, T5_KW = 6 }; /* the most input rows and weight rows in a block */

static inline float t5_widen(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* x rounded to BF16 (round to nearest even) and back: what a BF16 operand holds */
static inline float t5_bf16_round(float x)
{
    return t5_widen(t0_f32_to_bf16(x));
}

static inline void t5_lin_put(const t5_lin_job *j, int n, int o, float s)
{
    float *p = j->out + (size_t)n * j->OC + o;
    *p = j->accumulate ? *p + j->alpha * s : j->alpha * s;
}

/* Output columns [begin, end) of a job */
typedef void (*t5_rows_fn)(const t5_lin_job *j, long begin, long end);

void t5_rows_plain(const t5_lin_job *j, long begin, long end);
void t5_rows_unbuffered(const t5_lin_job *j, long begin, long end); /* no scratch at all */
void t5_widen_all(float *dst, const uint16_t *src, size_t n);
#if T5_X86_KERNELS
void t5_rows_avx2(const t5_lin_job *j, long begin, long end);
void t5_rows_avx512bf16(const t5_lin_job *j, long begin, long end); /* x: BF16 rows */
void t5_rows_i8_avx2(const t5_lin_job *j, long begin, long end);
void t5_rows_i8_avx512vnni(const t5_lin_job *j, long begin, long end);
#endif
/* int8 rows: out = alpha * (exact int32 sum) * xscale[n] * wscale[o], the same expression
 * in every kernel, so every int8 kernel gives the same bits */
void t5_rows_i8_plain(const t5_lin_job *j, long begin, long end);

static inline void t5_lin_put_i8(const t5_lin_job *j, int n, int o, int32_t s)
{
    t5_lin_put(j, n, o, (float)s * (j->xscale[n] * j->wscale[o]));
}

/* A tile of a BF16 product (t5_mixed.c packs the operands): t[MR][NR] = sum over kp
 * pairs p of A's rows i and B's columns j, where ap[p * MR + i] holds A(i, 2p) in its low
 * half and A(i, 2p + 1) in its high half (BF16 each), and bp[p * NR + j] holds B(2p, j)
 * and B(2p + 1, j) the same way: the layout vdpbf16ps multiplies (a broadcast pair of A
 * against 16 columns' pairs of B). Each output lane adds the odd product, then the even
 * one, in F32 (Intel's description of vdpbf16ps); the products of BF16 values are exact in
 * F32, so only the rounding of those sums, and denormals, can differ between kernels:
 * vdpbf16ps treats denormal inputs as zero and flushes denormal results whatever MXCSR
 * says (and a CPU may round its pair sum once rather than twice), where the plain loop
 * follows the thread's FTZ/DAZ (t5_pool.h: on). The tests compare with a tolerance. */
enum { T5_BF16_MR = 8, T5_BF16_NR = 32 };
typedef void (*t5_bf16_tile_fn)(float *t, const uint32_t *ap, const uint32_t *bp, int kp);
void t5_bf16_tile_plain(float *t, const uint32_t *ap, const uint32_t *bp, int kp);
#if T5_X86_KERNELS
void t5_bf16_tile_avx512bf16(float *t, const uint32_t *ap, const uint32_t *bp, int kp);
#endif

/* A kernel set. Every set sums each output the same way whichever block it falls in, so
 * a row gets the same bits alone, in a batch or over threads (within one set). */
typedef struct {
    const char *name;      /* "plain", "avx2", "avx512bf16", "avx512vnni" (names the F32/BF16 part) */
    t5_rows_fn rows;       /* few input rows (F32 inputs; F32 or BF16 weights) */
    t5_rows_fn bf16_rows;  /* BF16 inputs and weights, any number of rows; NULL: none */
    int few_rows_f32;      /* below this many input rows `rows` beats sgemm (F32 weights) */
    int few_rows_bf16;     /* the same for BF16 weights */
    t5_rows_fn i8_rows;    /* int8 inputs and weights, any number of rows */
    const char *i8_name;   /* "plain", "avx2", "avx512vnni" */
    t5_bf16_tile_fn bf16_tile; /* BF16 training products in hardware (t5_mixed.h); NULL: none */
} t5_linear_kernels;

/* The set in use: the CPU probe's choice (t5_cpu.h), made once a process. */
const t5_linear_kernels *t5_linear_dispatch(void);

/* Every set this CPU runs, the plain one first; returns how many (at most max). */
int t5_linear_variants(const t5_linear_kernels **sets, int max);

#endif
