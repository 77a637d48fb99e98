/* adamw.h: AdamW with torch.optim.AdamW's semantics (the t-zero fine-tuning example:
 * lr 1e-4, weight decay 0.01). Per element, t counting from 1:
 *   p -= lr * wd * p                       (decoupled decay first)
 *   m  = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * State file: "<name>.adamw_m", "<name>.adamw_v"; metadata "step". */
#ifndef T0_ADAMW_H
#define T0_ADAMW_H

#include <stdint.h>

#include "common/error.h"
#include "t5/t5_config.h"
#include "t5/t5_weight.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int decay_rel_bias; /* 0: no decay on relative_attention_bias (t-zero's exclusion list matches only it) */
} adamw_opts;

/* torch's defaults with t-zero's lr 1e-4, weight decay 0.01 on every tensor */
void adamw_defaults(adamw_opts *o);

typedef struct adamw adamw;

adamw *adamw_create(const t5_tensor_spec *specs, int n, const adamw_opts *o, t0_error *err);
void adamw_free(adamw *a);
/* One update of params[i] from grads[i] for every spec i: F32 handles with the specs'
 * shapes (t5_model_views); the moments are the optimizer's own arena. */
void adamw_step(adamw *a, const t5_weight *params, const t5_weight *grads);
/* The lr of the next steps (a schedule's). */
void adamw_set_lr(adamw *a, float lr);
int64_t adamw_get_step(const adamw *a);
int adamw_save(const adamw *a, const char *path, t0_error *err);
int adamw_load(adamw *a, const char *path, t0_error *err);

#endif
