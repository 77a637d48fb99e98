/* t5_init.h: a new T5 model with random weights, initialised as Hugging Face
 * transformers' T5PreTrainedModel._init_weights does (modeling_t5.py), with
 * factor = initializer_factor:
 *   shared.weight, lm_head.weight               normal(0, factor)
 *   SelfAttention/EncDecAttention q             normal(0, factor * (d_model * d_kv)^-0.5)
 *                                  k, v         normal(0, factor * d_model^-0.5)
 *                                  o            normal(0, factor * (num_heads * d_kv)^-0.5)
 *   relative_attention_bias                     normal(0, factor * d_model^-0.5)
 *   DenseReluDense wi, wi_0, wi_1               normal(0, factor * d_model^-0.5)
 *                  wo                           normal(0, factor * d_ff^-0.5)
 *   every layer_norm weight                     factor * 1.0
 * The same distributions, not the same numbers as torch.
 *
 * Random numbers: splitmix64 (Steele, Lea, Flood 2014), normals by Box-Muller from pairs
 * of 53-bit uniforms (cos and sin both used). Each tensor's values come in blocks of
 * T5_INIT_BLOCK; with base = splitmix64(seed ^ fnv1a64(NAME)), block b draws from the
 * splitmix64 stream whose state starts at splitmix64(base ^ b * 0xd1b54a32d192ed03), so a
 * tensor's values depend only on (seed, name, config), not on the order tensors are made.
 */
#ifndef T0_T5_INIT_H
#define T0_T5_INIT_H

#include <stdint.h>

#include "common/error.h"
#include "t5/safetensors.h"
#include "t5/t5_config.h"

#define T5_INIT_BLOCK 65536

/* splitmix64: returns the next 64-bit value and advances *state. */
uint64_t t5_splitmix64(uint64_t *state);

/* The standard deviation _init_weights gives tensor `name`; 0 for layer norms (constant). */
double t5_init_std(const t5_config *c, const char *name);

/* Fills dst (spec's element count) with tensor spec's initial values. */
void t5_init_tensor(const t5_config *c, const t5_tensor_spec *spec, uint64_t seed, float *dst);

/* Called after each tensor with the parameters written so far and in all. */
typedef void (*t5_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Writes model.safetensors (F32 or BF16) of a new model to path, one tensor at a time. */
int t5_init_write_weights(const char *path, const t5_config *c, uint64_t seed, st_dtype dtype,
                          t5_progress_fn progress, void *ctx, t0_error *err);

/* Makes the model directory dir: config.json, model.safetensors and, when tokenizer is not
 * NULL, a copy of it (tokenizer.json when its name ends in .json, spiece.model otherwise).
 * Refuses a dir that exists and is not empty; builds everything in a temporary directory
 * beside it and renames it into place, so a failure leaves nothing behind. */
int t5_init_model_dir(const char *dir, const t5_config *c, uint64_t seed, st_dtype dtype, const char *tokenizer,
                      t5_progress_fn progress, void *ctx, t0_error *err);

/* What t5_check_model_dir found. */
typedef struct {
    int tensors;       /* parameter tensors checked */
    int64_t params;    /* their element count */
    int dtype_counts[3]; /* tensors stored as F32, F16, BF16 */
} t5_model_summary;

/* Checks that dir is a usable model: config.json loads (into *c), and every tensor of
 * t5_tensor_specs is in the weights (shared.weight also under T5_SHARED_NAMES) with its
 * shape and a float dtype. Fails with one message naming the file and tensor. */
int t5_check_model_dir(const char *dir, t5_config *c, t5_model_summary *sum, t0_error *err);

#endif
