/* t5_mixed.h: the linear products of training in BF16 mixed precision (t0-step --precision
 * bf16): both operands of every product, forward and backward (inputs and weights; output
 * gradients and weights; output gradients and inputs), rounded to BF16 (nearest even), the
 * products summed in F32. The weights themselves (the master copy), the gradients and the
 * optimizer stay F32. An F32 weight handle with `mixed` set (t5_weight.h) goes through here
 * from t5_linear and t5_linear_backward (t5_bf16.h).
 *
 * Two ways, one arithmetic (a product of two BF16 values is exact in F32, so they differ
 * only in the order and rounding of the F32 sums):
 *   - native, on CPUs with AVX-512 BF16: the operands packed as BF16 pairs and multiplied
 *     by vdpbf16ps tiles (t5_linear_kernels.h, the dispatch table's bf16_tile);
 *   - emulated, elsewhere when T0_BF16_EMULATE=1 (t5_cpu.h): the operands rounded into F32
 *     copies and multiplied by sgemm as in F32 training. It does the F32 work plus the
 *     rounding, so it is never faster than F32: it is there to test and measure the
 *     numerics on any CPU.
 * Otherwise t5_mixed_available() is T5_MIXED_NONE and callers train in F32. */
#ifndef T0_T5_MIXED_H
#define T0_T5_MIXED_H

#include "t5/t5_linear_kernels.h"

typedef enum { T5_MIXED_NONE, T5_MIXED_EMULATED, T5_MIXED_NATIVE } t5_mixed_mode;

/* What this process would run (the CPU probe and T0_BF16_EMULATE) */
t5_mixed_mode t5_mixed_available(void);
/* "none", "emulated", "avx512bf16" */
const char *t5_mixed_name(t5_mixed_mode mode);

/* t5_matmul_forward / t5_matmul_backward (t5_ops.h) with BF16-rounded operands */
void t5_mixed_forward(float *out, const float *inp, const float *w, int N, int C, int OC, float alpha, int accumulate);
void t5_mixed_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                       int OC, float alpha);

/* A strided view of a matrix: element (r, c) at p[r * rs + c * cs] */
typedef struct {
    const float *p;
    long rs, cs;
} t5_mat_view;

/* The native path's product, any tile kernel (the tests run each the CPU has):
 * c[M, Ncols] (=, or += when accumulate) alpha * bf16(A[M, K]) @ bf16(B[K, Ncols]), c's rows
 * ldc apart. Operands packed in BF16 pairs, K in panels of T5_MIXED_KC, split over threads
 * by tiles of A's rows. */
enum { T5_MIXED_KC = 256 };
void t5_gemm_bf16(float *c, long ldc, int M, int Ncols, int K, t5_mat_view a, t5_mat_view b, float alpha,
                  int accumulate, t5_bf16_tile_fn tile);

#endif
