/* t5_row_kernels.h: the elementwise and row loops under the ops (t5_ops.c) and Adafactor
 * (lib/train/adafactor.c): RMSNorm, the activations, softmax and its gradient, exp with a
 * sum, a row's max, Adafactor's statistics and update. One C source
 * (t5_row_kernels_body.h) built once a file an instruction set, each file a table:
 *   t5_row_kernels_plain.c   the build's baseline (SSE2 on x86-64): the plain reference;
 *   t5_row_kernels_avx2.c    -mavx2 -mfma (mk/t5.mk), x86-64 only;
 *   t5_row_kernels_avx512.c  -mavx512f as well, x86-64 only.
 * All at -O3 -fno-trapping-math -ffp-contract=off (mk/t5.mk): without FP-trap semantics
 * clamps become blends; without contraction no build fuses a multiply-add, and reductions
 * run in eight explicit lanes, so every build computes the same bits (GCC and clang alike).
 * The CPU probe (t5_cpu.c) picks one table once a process. Internal to lib/t5, lib/train
 * and the kernel tests (tests/unit/test_backend_ops.c). */
#ifndef T0_T5_ROW_KERNELS_H
#define T0_T5_ROW_KERNELS_H

#include <stdint.h>

#if defined(__x86_64__)
#define T5_ROW_KERNELS_X86 1
#else
#define T5_ROW_KERNELS_X86 0
#endif

typedef struct {
    const char *name; /* "plain", "avx2", "avx512" */

    /* RMSNorm rows [s, e) of x[., C]: out = w * x * r, rstd[n] = r = 1/sqrt(mean(x^2) + eps) */
    void (*rms_forward)(float *out, float *rstd, const float *x, const float *w, int C, float eps, long s, long e);
    /* dx rows [s, e) += the gradient through x (w, r fixed per row) */
    void (*rms_backward_dx)(float *dx, const float *dout, const float *x, const float *w, const float *rstd, int C,
                            long s, long e);
    /* dw columns [s, e) += sum over N rows of dout x r */
    void (*rms_backward_dw)(float *dw, const float *dout, const float *x, const float *rstd, int N, int C, long s,
                            long e);

    /* elements [s, e): h = act(a) * b (b NULL: h = act(a)); kind as t5_ops.h's T5_FF_* */
    void (*act_forward)(float *h, const float *a, const float *b, int kind, long s, long e);
    /* da += dh * b * act'(a), db += dh * act(a) (db, b NULL when not gated) */
    void (*act_backward)(float *da, float *db, const float *dh, const float *a, const float *b, int kind, long s,
                         long e);

    float (*row_max)(const float *x, int n);
    /* out[i] = exp(x[i] - shift), returns the sum; out may be x, or NULL */
    float (*exp_sum)(float *out, const float *x, float shift, int n);
    /* one row of attention scores -> probabilities over the allowed keys (bias NULL: none) */
    void (*masked_softmax_row)(float *row, const uint8_t *allow, const float *bias, const int32_t *bucket, int H,
                               int h, int Tk);
    /* dp = p (dp - sum p dp), in place */
    void (*softmax_grad_row)(float *dp, const float *p, int n);

    /* Adafactor (lib/train/adafactor.c), its notation: g the gradient, keep/add the decay */
    double (*af_sumsq)(const float *x, long s, long e); /* sum x^2, F32 lanes per 1024 added in double */
    void (*af_row_stats)(float *row, const float *g, int C, float keep, float add, float eps1, long s, long e);
    void (*af_col_stats)(float *col, float *cinv, double *colsum, const float *g, int R, int C, float keep, float add,
                         float eps1, long s, long e);
    void (*af_factored_u)(float *u, const float *g, const float *row, const float *cinv, float mean, int C, long s,
                          long e);
    void (*af_unfactored_u)(float *u, float *v, const float *g, float keep, float add, float eps1, long s, long e);
    void (*af_apply)(float *p, const float *u, float c, float scale, long s, long e); /* p -= u / c * scale */

    /* int8 quantizing (t5_int8.c): max |x| of a row; q = x * inv rounded half away from zero
     * (as CTranslate2's std::round), clamped to [-127, 127] */
    float (*absmax)(const float *x, int n);
    void (*round_i8)(int8_t *q, const float *x, float inv, int n);
} t5_row_kernels;

extern const t5_row_kernels *const t5_row_kernels_plain;
#if T5_ROW_KERNELS_X86
extern const t5_row_kernels *const t5_row_kernels_avx2;
extern const t5_row_kernels *const t5_row_kernels_avx512;
#endif

/* The table in use: the CPU probe's choice (t5_cpu.c; T0_BF16_PLAIN=1 picks the plain one). */
const t5_row_kernels *t5_row_dispatch(void);

/* Every table this CPU runs, the plain one first; returns how many (at most max). */
int t5_row_variants(const t5_row_kernels **sets, int max);

#endif
