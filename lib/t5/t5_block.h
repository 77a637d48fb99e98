/* t5_block.h: one T5 block, the only place a layer's computation is written. Pre-norm, as
 * Hugging Face's modeling_t5.py: x + SelfAttention(RMSNorm(x)), then in the decoder
 * x + CrossAttention(RMSNorm(x), encoder output), then x + FF(RMSNorm(x)); no score
 * scaling; the relative-position bias table of block 0 shared by every block.
 *
 * Three callers run it: the training forward and backward over whole sequences
 * (t5_model.c, every layer its own activations, kept for backward), the encoder of scoring
 * and decoding (t5_encode), and the decoder over the next positions of every row with a
 * key/value cache (t5_decode.c: one position a step when decoding, a whole answer at once
 * when scoring), where the activations are shared by every layer and the residual stream
 * is updated in place.
 */
#ifndef T0_T5_BLOCK_H
#define T0_T5_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "t5/t5_config.h"
#include "t5/t5_model.h"

/* A block's activations; the training forward keeps one set a layer for backward, the
 * others may point several at one buffer (ln1 = lnc = ln2, mid1 = mid2 = residual). The
 * cross-attention ones (lnc..mid2) only in the decoder. */
typedef struct {
    float *ln1, *rstd1, *q, *k, *v, *P, *att, *mid1;      /* self-attention */
    float *lnc, *rstdc, *qc, *kc, *vc, *Pc, *attc, *mid2; /* cross-attention */
    float *ln2, *rstd2, *ffa, *ffb, *ffh;                 /* feed-forward */
} t5_block_acts;

/* Dropout sites: with a step's seed, (stack, layer, site) names a mask */
enum { T5_SITE_EMB = 1, T5_SITE_FINAL, T5_SITE_SA_P, T5_SITE_SA_OUT, T5_SITE_CA_P, T5_SITE_CA_OUT, T5_SITE_FF_H,
       T5_SITE_FF_OUT };
uint64_t t5_site(int dec, int layer, int what);

/* How one block runs over rows x Tq query positions. */
typedef struct {
    const t5_config *c;
    int dec, layer; /* the stack (0 encoder, 1 decoder) and layer: dropout sites */
    int rows, Tq;
    /* self-attention: allow and bucket [rows][Tq][Tk]. With cache_k NULL the keys and values
     * are acts->k, v themselves (Tk = Tq); otherwise they are appended to the cache (rows of
     * cache_stride positions) at position cache_at, and the queries attend to the
     * cache_at + Tq positions there. */
    const uint8_t *allow;
    const int32_t *bucket;
    const float *rel_bias;
    float *cache_k, *cache_v;
    int cache_at, cache_stride;
    /* cross-attention (decoder): over enc_len keys per row, allowed by cross_allow
     * [rows][Tq][enc_len]; keys and values acts->kc, vc are first computed from enc
     * [rows*enc_len, D] when enc is not NULL, else they are there already (a cache). */
    const float *enc;
    int enc_len;
    const uint8_t *cross_allow;
    /* training: dropout rate and seed; tmp [rows*Tq, max(D, F)] for a dropped sublayer
     * output; attention scratch for `slots` threads (only used with dropout) */
    float rate;
    uint64_t seed;
    float *tmp, *scratch;
    int slots;
} t5_block_run;

/* res_out = the block over res_in [rows*Tq, D] (res_out may be res_in). */
void t5_block_forward(const t5_layer_w *w, const t5_block_acts *a, float *res_out, const float *res_in,
                      const t5_block_run *r);

/* The backward's scratch, for up to N = max(rows*Tq, rows*enc_len) rows. */
typedef struct {
    float *d_ln, *dq, *dk, *dv, *datt, *dffa, *dffb, *dffh; /* [N, D], [N, HD] x4, [N, F] x3 */
    float *d_enc;                                          /* d(encoder output): += from cross-attention */
    float *d_rel_bias;                                     /* d(rel_bias) += ..., or NULL */
} t5_block_grads;

/* Given dres = d(res_out) (training activations, cache_k NULL), leaves d(res_in) in dres
 * and accumulates the weight gradients into g. */
void t5_block_backward(const t5_layer_w *w, const t5_layer_w *g, const t5_block_acts *a, const float *res_in,
                       float *dres, const t5_block_grads *gs, const t5_block_run *r);

/* The language-model head's scale: d_model^-0.5 with tied embeddings (scale_decoder_outputs) */
float t5_output_scale(const t5_config *c);

#endif
