/* t5_model.h: the T5 encoder-decoder (Hugging Face's T5ForConditionalGeneration) in fp32:
 * parameters, gradients and activations, forward, loss and backward.
 *
 * Memory: three arenas, each one allocation. Parameters are packed in the order of
 * t5_tensor_specs() (so a tensor's place follows from its Hugging Face name); gradients
 * mirror them; activations are sized once for (rows, encoder length, decoder length) by
 * t5_model_reserve and reused by every step, nothing is allocated per step.
 *
 * Input is seqio's packed batch: per row, segment ids (0 = padding) keep examples apart
 * (no attention across segments, cross-attention only to the same segment) and positions
 * restart at 0 in each segment (relative position = key position - query position).
 * An unpacked batch is segment 1 on tokens, 0 on padding, positions 0..n-1.
 *
 * Loss (T0 / Mesh TF): sum over target positions of weight * (cross-entropy +
 * z_loss * logsumexp^2), divided by a denominator the caller gives (T0: the number of
 * target positions in the batch, rows * target length). This is Mesh TF's
 * layers.softmax_cross_entropy_with_logits(z_loss): loss_n = -log_softmax[t_n] +
 * z_loss * square(logsumexp_n), times weights_nonzero(targets) (seqio's
 * decoder_loss_weights), reduce_sum / loss_denominator; z_loss 1e-4 in training.
 *
 * Dropout (training, config's dropout_rate) where Hugging Face's T5 has it: embeddings,
 * attention probabilities, each sublayer's output before the residual add, the
 * feed-forward hidden layer, after each stack's final norm. Masks come from a
 * counter-based generator keyed by (t5_run.seed, site, element), so backward regenerates
 * them and a seed reproduces a step; they are not torch's masks.
 *
 * Threads: see t5_set_threads (t5_ops.h). t5_model_reserve sizes the attention scratch
 * for the thread count in effect then.
 */
#ifndef T0_T5_MODEL_H
#define T0_T5_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "t5/t5_config.h"
#include "t5/t5_weight.h"

/* Every matrix is a typed handle (t5_weight.h): F32 in a training model's arenas, F32 or
 * BF16 as stored in a model from t5_model_open_mapped. Norm weights and the bias tables
 * are F32 vectors in every model. */
typedef struct {
    t5_weight q, k, v, o; /* q,k,v [H*dk, D], o [D, H*dk] */
} t5_attn_w;

typedef struct {
    float *ln_sa; /* [D] */
    t5_attn_w sa;
    float *ln_ca; /* decoder only */
    t5_attn_w ca; /* decoder only */
    float *ln_ff;
    t5_weight wi0, wi1, wo; /* wi0 is "wi" when not gated; wi1 absent then */
} t5_layer_w;

/* Views into one arena (parameters, or gradients with the same layout), or the mapping. */
typedef struct {
    t5_weight shared, lm_head; /* lm_head is shared when tied */
    float *enc_rel_bias, *dec_rel_bias; /* [num_buckets, H] */
    float *enc_final_ln, *dec_final_ln;
    t5_layer_w *enc, *dec;
} t5_weights;

typedef struct {
    int rows, enc_len, dec_len;
    const int32_t *enc_tokens, *enc_seg, *enc_pos;                  /* [rows][enc_len] */
    const int32_t *dec_target, *dec_input, *dec_seg, *dec_pos, *dec_weights; /* [rows][dec_len] */
} t5_batch;

typedef struct {
    int training;   /* dropout on (config's dropout_rate) */
    uint64_t seed;  /* dropout masks; use a new one each step */
    float z_loss;   /* T0: 1e-4 */
    float denominator;
} t5_run;

typedef struct t5_acts t5_acts;

typedef struct {
    t5_config cfg;
    t5_tensor_spec *specs;
    int nspecs;
    size_t *offset; /* per spec, in floats */
    size_t nfloats;
    float *params, *grads; /* grads NULL until t5_model_alloc_grads */
    t5_weights w, g;
    t5_acts *acts;
    /* t5_model_open_mapped: params is NULL; each tensor is in the mapping (F32 in place,
     * BF16 linear weights as BF16) or, widened, in `widened` */
    struct st_model *map;
    float *widened;
    t5_weight *mapped; /* per spec: F32 or BF16 in the mapping, or F32 in `widened`, or I8 */
    int8_t *quantized; /* t5_model_quantize_i8: the int8 weights and their row scales */
    float *qscales;
    /* after t5_forward: */
    double loss, ce_loss, z_loss;
} t5_model;

/* A model with zeroed parameters for config c. */
t5_model *t5_model_create(const t5_config *c, t0_error *err);
/* Reads every parameter from a safetensors file or model directory (F32/BF16/F16);
 * shared.weight may be stored as encoder/decoder.embed_tokens.weight. */
int t5_model_load(t5_model *m, const char *path, t0_error *err);
/* config.json + model.safetensors of a Hugging Face model directory. */
t5_model *t5_model_open(const char *dir, t0_error *err);
/* Writes the parameters (Hugging Face names) as F32 or BF16. */
int t5_model_save(const t5_model *m, const char *path, int bf16, t0_error *err);
void t5_model_free(t5_model *m);

/* For inference: config.json + model.safetensors memory-mapped and never copied whole.
 * F32 tensors are used in place, BF16 matrices (linear weights, embeddings) stay BF16
 * and are multiplied as such (t5_bf16.h), everything else (F16, the small BF16 norms and
 * bias tables, misaligned F32) is widened into one small arena. Forward, encode and the
 * decoder work on it; gradients, t5_model_save and t5_model_load do not (they fail). */
t5_model *t5_model_open_mapped(const char *dir, t0_error *err);
/* Int8 inference (t5_int8.h): quantizes a mapped model's linear weights (F32 or BF16) to
 * int8 with one scale per output row, in memory of its own; embeddings, norms and bias
 * tables stay as they are, lm_head too unless lm_head is 1 (and it is not tied). */
int t5_model_quantize_i8(t5_model *m, int lm_head, t0_error *err);
/* A tool's --dtype: "stored" (the weights as the file has them) or "int8" (quantized, with
 * lm_head when T5_INT8_LM_HEAD; T0_INT8_LM_HEAD=0/1 overrides it, for measurements). */
enum { T5_INT8_LM_HEAD = 1 };
int t5_model_use_dtype(t5_model *m, const char *dtype, t0_error *err);
/* Bytes of weights the model reads in place from the mapping, and bytes it widened (or
 * quantized). */
size_t t5_model_mapped_bytes(const t5_model *m, size_t *widened);

/* Training in BF16 mixed precision (t5_mixed.h): on, every linear product of the model (the
 * blocks' and lm_head's, forward and backward) rounds its operands to BF16 and sums in F32;
 * the parameters, the gradients and everything else stay F32. Off: F32 products. */
void t5_model_set_mixed(t5_model *m, int on);
/* What runs those products in this process: "avx512bf16" (vdpbf16ps), "emulated" (rounded
 * operands through sgemm, T0_BF16_EMULATE=1 on a CPU without AVX-512 BF16), or NULL: none,
 * and callers train in F32. */
const char *t5_model_mixed_kernel(void);

/* The parameter / gradient of a tensor by Hugging Face name, or NULL. */
float *t5_param(const t5_model *m, const char *name);
float *t5_grad(const t5_model *m, const char *name);
size_t t5_numel(const t5_tensor_spec *s);

/* Fills views[nspecs] with F32 handles of every tensor in arena, laid out as the model's
 * (m->params, m->grads, or a copy of either), in spec order: what the optimizers take. A
 * vector is one column, as in the model's own handles. */
void t5_model_views(const t5_model *m, float *arena, t5_weight *views);

int t5_model_alloc_grads(t5_model *m, t0_error *err);
void t5_model_zero_grads(t5_model *m);

/* Sizes the activation arena for batches of up to rows x enc_len x dec_len (training
 * adds what backward needs). Called again with other sizes, it reallocates. */
int t5_model_reserve(t5_model *m, int rows, int enc_len, int dec_len, int training, t0_error *err);

/* Encoder and decoder over a batch; logits [rows*dec_len, vocab] (t5_logits). When the
 * batch has dec_target and dec_weights, also the loss into m->loss, ce_loss, z_loss. */
int t5_forward(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err);
/* Accumulates d loss / d parameter into m->grads (after t5_forward with a loss). */
int t5_backward(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err);

/* Views of the last forward. */
const float *t5_logits(const t5_model *m);
const float *t5_encoder_output(const t5_model *m); /* [rows*enc_len, d_model] */

/* Encoder alone (for decoding): out [rows*enc_len, d_model] inside the arena. */
int t5_encode(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err);

/* Bytes held by the parameter, gradient and activation arenas. */
size_t t5_model_bytes(const t5_model *m);

#endif

/* A second model over m's parameters (not copied; m must outlive it) with an activation
 * arena of its own, so that several threads can run forward passes of one model at once.
 * Free it with t5_model_unshare, never t5_model_free. */
t5_model *t5_model_share(const t5_model *m, t0_error *err);
void t5_model_unshare(t5_model *view);
