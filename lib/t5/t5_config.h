/* t5_config.h: a T5 model's shape (Hugging Face's config.json) and the names and
 * shapes of its parameter tensors.
 *
 * t5_config_load reads config.json as transformers' T5Config does: absent keys take
 * T5Config's defaults, unknown keys are ignored. t5_config_preset gives the published
 * google/t5-v1_1-* configurations (T0_3B is xl, T0/T0pp are xxl) and "tiny" for tests.
 * t5_tensor_specs lists every parameter with its Hugging Face name in one canonical
 * order, which is the order model.safetensors files are written in.
 */
#ifndef T0_T5_CONFIG_H
#define T0_T5_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The feed-forward activation. T5_ACT_GELU (exact, erf) is what transformers gives for a
 * plain "gelu" feed_forward_proj or dense_act_fn; "gated-gelu" means gelu_new (tanh). */
typedef enum { T5_ACT_RELU, T5_ACT_GELU_NEW, T5_ACT_GELU } t5_activation;

typedef struct {
    int vocab_size, d_model, d_kv, d_ff, num_heads, num_layers, num_decoder_layers;
    int relative_attention_num_buckets, relative_attention_max_distance;
    int gated;                /* feed_forward_proj "gated-gelu"/"gated-relu" -> 1 (wi_0, wi_1), "relu"/"gelu" -> 0 (wi) */
    t5_activation act;
    int tie_word_embeddings;  /* HF default true when absent (original T5); t5-v1_1 has false */
    float layer_norm_epsilon; /* default 1e-6 */
    float dropout_rate;       /* default 0.1 */
    float initializer_factor; /* default 1.0 */
    int pad_token_id, eos_token_id, decoder_start_token_id; /* 0, 1, 0 */
    /* Multiply the decoder output by d_model^-0.5 before lm_head. transformers 4.x does it iff
     * tie_word_embeddings; transformers 5.x forces tie_word_embeddings true in T5Config and keeps
     * the old meaning in this key, so a 5.x config may say tied (no lm_head.weight in the file)
     * and scale_decoder_outputs false. The forward pass must use THIS field, not tie_word_embeddings.
     * Default when the key is absent: tie_word_embeddings. */
    int scale_decoder_outputs;
} t5_config;

/* Reads config.json. Absent keys take T5Config's defaults; num_decoder_layers defaults to
 * num_layers; unknown keys are ignored. Fails (T0_EINPUT, message naming the key) on
 * malformed JSON, a non-positive dimension or an unknown feed_forward_proj. */
int t5_config_load(const char *path, t5_config *c, t0_error *err);

/* The same from a JSON text in memory (len bytes, need not be NUL-terminated);
 * `what` names the source in messages. */
int t5_config_parse(const char *json, size_t len, const char *what, t5_config *c, t0_error *err);

/* T5Config's defaults (t5-small's shape, relu, tied), the base of load and parse. */
void t5_config_defaults(t5_config *c);

/* Checks dimensions are positive and the shapes are consistent; message names the key. */
int t5_config_validate(const t5_config *c, t0_error *err);

/* tiny|small|base|large|xl|xxl: google/t5-v1_1-* as published (gated-gelu, untied, vocab
 * 32128); tiny: d_model 64, d_kv 16, d_ff 128, 4 heads, 2+2 layers, vocab 512, 32 buckets,
 * max_distance 128, gated-gelu, untied. */
int t5_config_preset(const char *name, t5_config *c, t0_error *err);

/* Writes a Hugging Face config.json (architectures, model_type "t5", feed_forward_proj,
 * dense_act_fn, is_gated_act, ...) through a temporary file and rename. */
int t5_config_write(const char *path, const t5_config *c, t0_error *err);

/* The feed_forward_proj string for c: "gated-gelu", "gated-relu", "relu" or "gelu". */
const char *t5_config_ff_proj(const t5_config *c);

/* Every parameter tensor of the model, with Hugging Face's names, in a canonical order. */
typedef struct {
    char name[96];
    int ndim;
    int64_t shape[2];
} t5_tensor_spec;

/* Fills *specs with a malloc'd array (caller frees) of *n specs:
 *   shared.weight [vocab, d_model]
 *   per encoder block i:
 *     encoder.block.i.layer.0.SelfAttention.{q,k,v}.weight [heads*d_kv, d_model]
 *     encoder.block.i.layer.0.SelfAttention.o.weight       [d_model, heads*d_kv]
 *     block 0 only: encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight [buckets, heads]
 *     encoder.block.i.layer.0.layer_norm.weight            [d_model]
 *     encoder.block.i.layer.1.DenseReluDense.wi_0, wi_1 (gated) or wi [d_ff, d_model]
 *     encoder.block.i.layer.1.DenseReluDense.wo.weight     [d_model, d_ff]
 *     encoder.block.i.layer.1.layer_norm.weight            [d_model]
 *   encoder.final_layer_norm.weight [d_model]
 *   per decoder block i: layer.0 SelfAttention (+ relative_attention_bias in block 0) and
 *     layer.0.layer_norm, layer.1.EncDecAttention.{q,k,v,o} and layer.1.layer_norm,
 *     layer.2.DenseReluDense and layer.2.layer_norm
 *   decoder.final_layer_norm.weight [d_model]
 *   lm_head.weight [vocab, d_model] only when untied */
int t5_tensor_specs(const t5_config *c, t5_tensor_spec **specs, int *n, t0_error *err);

#endif
