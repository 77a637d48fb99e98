/* t5_weight.h: a weight matrix as one typed handle: what the products (t5_linear), the
 * embedding and the backward take, whatever the weight's type.
 *
 * F32 weights are a training model's parameters and gradients (in their arenas) or F32
 * tensors used where a file is mapped; BF16 weights are matrices of a mapped BF16 file
 * used as stored. I8 (one F32 scale per row) are a model's linear weights quantized for
 * int8 inference (t5_model_quantize_i8, t5_int8.h). */
#ifndef T0_T5_WEIGHT_H
#define T0_T5_WEIGHT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { T5_F32 = 0, T5_BF16, T5_I8 } t5_dtype;

typedef struct {
    t5_dtype dtype;
    void *data;         /* float, uint16_t (BF16) or int8_t [rows, cols]; NULL: no such weight */
    const float *scale; /* I8: [rows]; NULL otherwise */
    int rows, cols;     /* a linear weight as Hugging Face stores it: [out, in] */
    int mixed;          /* F32 only: multiplied with both operands rounded to BF16 (t5_mixed.h):
                         * a training model's weights under --precision bf16 */
} t5_weight;

/* An F32 handle over p [rows, cols] */
static inline t5_weight t5_weight_f32(float *p, int rows, int cols)
{
    t5_weight w = {T5_F32, p, NULL, rows, cols, 0};
    return w;
}

/* The F32 data, or NULL when the weight is absent or of another type */
static inline float *t5_weight_floats(const t5_weight *w)
{
    return w->dtype == T5_F32 ? (float *)w->data : NULL;
}

static inline int t5_weight_present(const t5_weight *w)
{
    return w->data != NULL;
}

#endif
