/* half.h: 16-bit floats, BF16 and IEEE F16, to and from F32: what the file formats store
 * and what the BF16 kernels round their inputs with (one rounding for both, so a product
 * of rounded inputs is the product of what a BF16 file would hold). */
#ifndef T0_COMMON_HALF_H
#define T0_COMMON_HALF_H

#include <stdint.h>

float t0_bf16_to_f32(uint16_t h);
uint16_t t0_f32_to_bf16(float f); /* round to nearest even; NaN stays NaN */
float t0_f16_to_f32(uint16_t h);
uint16_t t0_f32_to_f16(float f); /* round to nearest even */

#endif
