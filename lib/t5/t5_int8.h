/* t5_int8.h: int8 inference products. A weight matrix is quantized once (at load) to int8
 * with one symmetric scale per output row, as CTranslate2 does: q = round(w * 127 / max|w|),
 * w ~ q * scale with scale = max|w| / 127. Each call quantizes its input rows the same way
 * (one scale per row), multiplies in int8 with exact int32 sums, and gives F32 outputs:
 *   out[n, o] = alpha * sum_c qx[n, c] qw[o, c] * xscale[n] * wscale[o].
 * Every int8 kernel (plain C, AVX2, AVX-512 VNNI: t5_linear_kernels.h) gives the same bits.
 *
 * Error: rounding moves each value by at most half a step, |x - qx sx| <= sx / 2 with sx =
 * max|x| / 127 (and the same for w), so |x.w - (qx sx).(qw sw)| <= sum_c (|x_c| sw/2 +
 * |w_c| sx/2 + sx sw/4) <= (||x||_1 max|w| + ||w||_1 max|x|) / 254 + C max|x| max|w| / 64516
 * (t5_int8_bound gives it). */
#ifndef T0_T5_INT8_H
#define T0_T5_INT8_H

#include <stddef.h>
#include <stdint.h>

#include "t5/t5_weight.h"

/* q[N, C] and scale[N] from x[N, C]: per row, symmetric; a row of zeros gets scale 0 */
void t5_quantize_rows(int8_t *q, float *scale, const float *x, int N, int C);

/* An I8 handle over q [rows, cols] and scale [rows] holding w (F32 or BF16, any rows) */
t5_weight t5_weight_quantize(const t5_weight *w, int8_t *q, float *scale);

/* out[N, w->rows] = alpha * inp @ w^T (+ out when accumulate), w an I8 handle */
void t5_linear_i8(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate);

/* The same without scratch memory (what t5_linear_i8 falls back to), slowly: the same bits */
void t5_linear_i8_unbuffered(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate);

/* The bound above on |x.w - int8 product| for one row x [C] and one weight row w [C] */
double t5_int8_bound(const float *x, const float *w, int C);

#endif
