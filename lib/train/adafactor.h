/* adafactor.h: Adafactor as T0 trained with it (Mesh TF's AdafactorOptimizer defaults),
 * equal to Hugging Face's Adafactor(scale_parameter=True, relative_step=False,
 * warmup_init=False, clip_threshold=1.0, decay_rate=-0.8, beta1=None, weight_decay=0)
 * when every matrix is factored (min_dim_to_factor 0).
 *
 * For each tensor, with t the number of steps already taken (the global step; T0
 * continued from 1,100,000) and g its gradient:
 *   decay  = 1 - (t + 1)^-0.8                      (HF: step is incremented first, so
 *                                                   HF's state["step"] == our t before a step)
 *   G      = g^2 + eps1                            (eps1 = 1e-30)
 *   factored (a matrix whose smaller side >= min_dim_to_factor; Mesh TF: 128; 0: every matrix):
 *     R_i  = decay R_i + (1 - decay) mean_j G_ij   (row means)
 *     C_j  = decay C_j + (1 - decay) mean_i G_ij   (column means)
 *     u    = g / sqrt(R_i / mean(R) * C_j)
 *   otherwise (vectors, small matrices):
 *     V    = decay V + (1 - decay) G;   u = g / sqrt(V)
 *   u     /= max(1, RMS(u) / clip_threshold)       (clip 1.0)
 *   param -= lr * max(eps2, RMS(param)) * u        (eps2 = 1e-3, RMS before the update)
 * No momentum, no weight decay, constant learning rate (T0: 1e-3).
 *
 * Mesh TF factors over the two largest dimensions of a variable when the second largest
 * is >= 128; its attention weights combine heads and d_kv (combine_dims=True), so its
 * shapes are Hugging Face's 2-D ones and the rule reads: smaller side >= 128.
 *
 * A step takes each tensor's parameter and gradient as F32 handles, in the order of the
 * specs (t5_model_views: views into the model's arenas, which stay packed for the gradient
 * sum across ranks, see lib/README.md).
 * State file (safetensors beside the weights): "<name>.adafactor_row" [rows],
 * "<name>.adafactor_col" [cols] or "<name>.adafactor_v" [shape]; metadata "step",
 * "min_dim_to_factor".
 */
#ifndef T0_ADAFACTOR_H
#define T0_ADAFACTOR_H

#include <stdint.h>

#include "common/error.h"
#include "t5/t5_config.h"
#include "t5/t5_weight.h"

typedef struct {
    float lr, eps1, eps2, clip_threshold, decay_pow;
    int min_dim_to_factor;
    int scale_parameter; /* multiply by max(eps2, RMS(param)) (Mesh TF's multiply_by_parameter_scale) */
    int relative_step;   /* lr = min(1e-2, 1/sqrt(t + 1)) in place of lr: Mesh TF's default, HF's
                            relative_step=True (warmup_init=False), with t as above. Unscaled,
                            Mesh TF also multiplies it by 0.05; HF and this do not */
} adafactor_opts;

/* T0's: lr 1e-3, eps1 1e-30, eps2 1e-3, clip 1, decay_pow 0.8, min_dim 128, scaled, lr given */
void adafactor_defaults(adafactor_opts *o);

typedef struct adafactor adafactor;

adafactor *adafactor_create(const t5_tensor_spec *specs, int n, const adafactor_opts *o, t0_error *err);
void adafactor_free(adafactor *a);

/* One update of params[i] from grads[i] for every spec i (F32 handles, the specs' shapes). */
void adafactor_step(adafactor *a, const t5_weight *params, const t5_weight *grads);
/* The lr of the next steps (a schedule's); ignored with relative_step. */
void adafactor_set_lr(adafactor *a, float lr);
/* The lr the last step used, before the parameter scale (relative_step's or the one set). */
float adafactor_last_lr(const adafactor *a);

int64_t adafactor_get_step(const adafactor *a);
void adafactor_set_step(adafactor *a, int64_t t);
/* whether spec i is factored */
int adafactor_factored(const adafactor *a, int i);

int adafactor_save(const adafactor *a, const char *path, t0_error *err);
/* Loads a state saved for the same tensors; names the missing or misshapen tensor. */
int adafactor_load(adafactor *a, const char *path, t0_error *err);

#endif
