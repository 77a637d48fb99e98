/* t5_bf16.h: matrix products with weights used where they lie (memory-mapped), for
 * inference: F32, or BF16 as stored. Decoding a row reads every weight once a token, so it
 * is bound by memory bandwidth; BF16 halves the bytes.
 *
 * out[N,OC] = alpha * inp[N,C] @ w[OC,C]^T, w [OC,C] as Hugging Face stores it. With BF16
 * weights the input rows are rounded to BF16 (nearest even) once per call and every
 * product bf16 x bf16 is exact in F32; sums are F32. So the result is the F32 product of
 * the rounded operands up to the order of the sums:
 *   - few rows (a decoding step: under 16 F32 rows, under 48 BF16): loops that read each
 *     weight row once and use it for a block of input rows (AVX2 + FMA: 4 rows x 3 weight
 *     rows, or 1 x 6 for one F32 row of 1024 columns and more; BF16 widened in registers;
 *     the next blocks prefetched). Each output is summed the same way in any
 *     block, so a row gets the same bits alone, in a batch or over threads. sgemm would
 *     first copy the whole weight matrix into its packed layout;
 *   - on CPUs with AVX-512 BF16, BF16 weights go through vdpbf16ps (pairs of products
 *     added into 16 F32 lanes) for any number of rows;
 *   - many rows (an encoder pass): sgemm, on a block of BF16 weights widened at a time;
 *   - without AVX2, plain C loops (vectorized by the compiler at -O3, mk/t5.mk) for up
 *     to 2 rows.
 * Which of these run is the dispatch table's choice (t5_linear_kernels.h), made once from
 * the CPU probe (t5_cpu.h); the kernels are in a file per instruction set.
 * t5_bf16_native() says whether AVX-512 BF16 runs (T0_BF16_PLAIN=1 in the environment
 * forces the plain loops, for tests and measurements); t5_bf16_kernel() names the set.
 */
#ifndef T0_T5_BF16_H
#define T0_T5_BF16_H

#include <stdint.h>

#include "t5/t5_weight.h"

/* out[N,OC] = alpha * bf16(inp[N,C]) @ w[OC,C]^T (+ out when accumulate) */
void t5_matmul_forward_bf16(float *out, const float *inp, const uint16_t *w, int N, int C, int OC, float alpha,
                         int accumulate);

/* out[n] = emb[ids[n]] widened: out[N,C], emb BF16 [V,C] */
void t5_embedding_forward_bf16(float *out, const int32_t *ids, const uint16_t *emb, int N, int C);

/* The products and embeddings over a weight handle (t5_weight.h), F32 or BF16, whichever
 * it is: out[N, w->rows] = alpha * inp[N, w->cols] @ w^T (+ out when accumulate); out[n] =
 * emb[ids[n]] (out[N, emb->cols]). Training models have only F32 weights. */
void t5_linear(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate);
void t5_embed(float *out, const int32_t *ids, const t5_weight *emb, int N);

/* F32 weights with `mixed` set (training under --precision bf16) multiply BF16-rounded
 * operands with F32 sums, forward and backward (t5_mixed.h). */
/* Their backward, F32 weights only (training): dinp[N, w->cols] += alpha * dout @ w and
 * dw += alpha * dout^T @ inp (dinp or dw may be NULL); demb[ids[n]] += dout[n]. */
void t5_linear_backward(float *dinp, const t5_weight *dw, const float *dout, const float *inp, const t5_weight *w,
                        int N, float alpha);
void t5_embed_backward(const t5_weight *demb, const float *dout, const int32_t *ids, int N);

/* 1 when the AVX-512 BF16 kernel is in use */
int t5_bf16_native(void);
/* the kernel in use: "avx512bf16", "avx2" (AVX2 + FMA intrinsics) or "plain" */
const char *t5_bf16_kernel(void);

#endif
