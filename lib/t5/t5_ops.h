/* t5_ops.h: the T5 building blocks as forward/backward pairs over flat fp32 arrays.
 *
 * Conventions (after llm.c): row-major arrays with explicit dims, the shape contract in
 * each comment; N is a number of token rows (batch rows x sequence length). Linear
 * weights are stored as Hugging Face stores them, [out, in], so y = x W^T. Forward
 * functions overwrite their outputs; backward functions ACCUMULATE (dx += ...), which
 * is what lets shared tensors (embeddings, the relative position bias, the encoder
 * output) collect gradient from every use. Every matrix product is a cblas_sgemm.
 */
#ifndef T0_T5_OPS_H
#define T0_T5_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "t5/t5_pool.h"

/* exp as the row kernels compute it (Cephes polynomial, ~1 ulp; arguments clamped to
 * [-87, 88], so tiny results stay normal floats) */
float t5_exp(float x);

/* out[N,OC] = alpha * inp[N,C] @ w[OC,C]^T (+ out when accumulate) */
void t5_matmul_forward(float *out, const float *inp, const float *w, int N, int C, int OC, float alpha, int accumulate);
/* dinp[N,C] += alpha * dout[N,OC] @ w[OC,C];  dw[OC,C] += alpha * dout^T @ inp. Either may be NULL. */
void t5_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                     int OC, float alpha);

/* T5LayerNorm: out[N,C] = w[C] * x / sqrt(mean(x^2) + eps); rstd[N] kept for backward */
void t5_rmsnorm_forward(float *out, float *rstd, const float *x, const float *w, int N, int C, float eps);
/* dx[N,C] += ..., dw[C] += ... given dout[N,C] */
void t5_rmsnorm_backward(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                      int N, int C);

/* out[n] = emb[ids[n]]: out[N,C], emb[V,C] */
void t5_embedding_forward(float *out, const int32_t *ids, const float *emb, int N, int C);
/* demb[ids[n]] += dout[n] */
void t5_embedding_backward(float *demb, const float *dout, const int32_t *ids, int N, int C);

/* Feed-forward activation, gated or not, over [n] elements:
 *   gated:     h = act(a) * b      (b may be NULL for the non-gated h = act(a))
 * act: T5_FF_RELU, T5_FF_GELU_NEW (tanh approximation, T5 v1.1) or T5_FF_GELU (erf). */
enum { T5_FF_RELU, T5_FF_GELU_NEW, T5_FF_GELU };
void t5_ff_act_forward(float *h, const float *a, const float *b, long n, int kind);
/* da[n] += dh * b * act'(a);  db[n] += dh * act(a)  (db, b NULL when not gated) */
void t5_ff_act_backward(float *da, float *db, const float *dh, const float *a, const float *b, long n, int kind);

/* Hugging Face's T5Attention._relative_position_bucket for one relative position
 * (key position - query position). */
int t5_relative_bucket(int rel, int bidirectional, int num_buckets, int max_distance);

/* Attention over B rows, H heads of size dk; q[B,Tq,H*dk], k/v[B,Tk,H*dk] (head h at
 * columns h*dk..). allow[B,Tq,Tk] (1 = may attend) comes from segment ids and, in the
 * decoder's self-attention, causality; a row with nothing allowed gives zeros.
 * bias: the relative-position table [num_buckets, H] indexed by bucket[B,Tq,Tk], or NULL.
 * No 1/sqrt(dk) scaling (T5). P[B,H,Tq,Tk] keeps the probabilities for backward.
 * out[B,Tq,H*dk]. */
typedef struct {
    int B, Tq, Tk, H, dk;
    const uint8_t *allow;
    const float *bias;      /* [num_buckets, H] or NULL */
    const int32_t *bucket;  /* [B,Tq,Tk] or NULL */
    int num_buckets;        /* rows of the bias table */
    int slots;              /* scratch slots (threads that may use scratch at once) */
    int kv_stride;          /* k/v rows per batch row when they live in a longer cache (forward only); 0 = Tk */
    float drop_rate;        /* dropout on the probabilities (training); 0 = none */
    uint64_t seed, site;    /* the dropout mask's generator, see t5_dropout_forward */
} t5_attn_shape;

void t5_attention_forward(float *out, float *P, const float *q, const float *k, const float *v, const t5_attn_shape *s,
                       float *scratch);
/* dq, dk, dv += ...; dbias[num_buckets,H] += ... (when bias and dbias are non-NULL).
 * scratch: t5_attention_scratch_floats(...) for s->slots slots (the forward needs it only
 * when drop_rate > 0). */
size_t t5_attention_scratch_floats(int Tq, int Tk, int num_buckets, int H, int slots);
void t5_attention_backward(float *dq, float *dk, float *dv, float *dbias, const float *dout, const float *P,
                        const float *q, const float *k, const float *v, const t5_attn_shape *s, float *scratch);

/* lse[n] = logsumexp(logits[n]) over V, for n < N (as t5_crossentropy_forward computes it) */
void t5_logsumexp_rows(float *lse, const float *logits, int N, int V);

/* Cross-entropy with z-loss as Mesh TF computes it, per token n of N over V logits:
 *   lse = logsumexp(logits[n]); loss_n = lse - logits[n][t_n] + z * lse^2
 * summed under weights[n] and divided by denom. Returns the total; *ce and *zl get
 * the two parts (may be NULL). lse[N] kept for backward. */
double t5_crossentropy_forward(float *lse, const float *logits, const int32_t *targets, const float *weights, int N,
                            int V, float z, float denom, double *ce, double *zl);
/* Turns logits[N,V] into d loss / d logits in place:
 *   d = w/denom * (softmax * (1 + 2 z lse) - onehot(t)) */
void t5_crossentropy_backward_inplace(float *logits, const float *lse, const int32_t *targets, const float *weights,
                                   int N, int V, float z, float denom);

/* Dropout with a counter-based generator, so backward regenerates the mask instead of
 * storing it: element i of site `site` is kept when hash(seed, site, i) >= rate; kept
 * elements are scaled by 1/(1-rate). x[n] in place; rate 0 does nothing. */
void t5_dropout_forward(float *x, long n, float rate, uint64_t seed, uint64_t site);
/* dx[n] in place: the same mask and scale */
void t5_dropout_backward(float *dx, long n, float rate, uint64_t seed, uint64_t site);

#endif
