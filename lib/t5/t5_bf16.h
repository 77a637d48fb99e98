/* t5_bf16.h: matrix products with BF16 weights used as stored (memory-mapped), for
 * inference. Decoding a row reads every weight once a token, so it is bound by memory
 * bandwidth; BF16 halves the bytes.
 *
 * out[N,OC] = alpha * inp[N,C] @ w[OC,C]^T, w BF16 [OC,C] as Hugging Face stores it. The
 * input rows are rounded to BF16 (nearest even) once per call and every product
 * bf16 x bf16 is exact in F32; sums are F32. So the result is the F32 product of the
 * rounded operands up to the order of the sums:
 *   - on CPUs with AVX-512 BF16, vdpbf16ps (pairs of products added into 16 F32 lanes);
 *   - elsewhere the same sums over 8 F32 lanes: with AVX2 and FMA as intrinsics, else a
 *     plain C loop (vectorized by the compiler, target_clones like T5_ROW_KERNEL);
 *   - many rows at once (an encoder pass, >= 16 rows) without AVX-512 BF16: a block of
 *     weights widened once and sgemm.
 * t5_bf16_native() says which one runs (T0_BF16_PLAIN=1 in the environment forces the
 * plain loop, for tests and measurements); t5_bf16_kernel() names it.
 */
#ifndef T0_T5_BF16_H
#define T0_T5_BF16_H

#include <stdint.h>

/* out[N,OC] = alpha * bf16(inp[N,C]) @ w[OC,C]^T (+ out when accumulate) */
void matmul_forward_bf16(float *out, const float *inp, const uint16_t *w, int N, int C, int OC, float alpha,
                         int accumulate);

/* out[n] = emb[ids[n]] widened: out[N,C], emb BF16 [V,C] */
void embedding_forward_bf16(float *out, const int32_t *ids, const uint16_t *emb, int N, int C);

/* A weight that is either F32 (w) or BF16 (wb, then w is NULL): the product or the
 * embedding with whichever is there. Training models have only F32 weights. */
void t5_linear(float *out, const float *inp, const float *w, const uint16_t *wb, int N, int C, int OC, float alpha,
               int accumulate);
void t5_embed(float *out, const int32_t *ids, const float *emb, const uint16_t *embb, int N, int C);

/* 1 when the AVX-512 BF16 kernel is in use */
int t5_bf16_native(void);
/* the kernel in use: "avx512bf16", "avx2" (the plain loops as AVX2 + FMA intrinsics) or "plain" */
const char *t5_bf16_kernel(void);

#endif
