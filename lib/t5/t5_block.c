/* t5_block.c: see t5_block.h. The backward reverses the forward op by op. */
#include "t5/t5_block.h"

#include <math.h>
#include <string.h>

#include "t5/t5_bf16.h"
#include "t5/t5_ops.h"

uint64_t t5_site(int dec, int layer, int what)
{
    return ((uint64_t)dec << 32) | ((uint64_t)layer << 8) | (uint64_t)what;
}

float t5_output_scale(const t5_config *c)
{
    return c->scale_decoder_outputs ? 1.0f / sqrtf((float)c->d_model) : 1.0f;
}

static int act_kind(const t5_config *c)
{
    return c->act == T5_ACT_GELU_NEW ? T5_FF_GELU_NEW : c->act == T5_ACT_GELU ? T5_FF_GELU : T5_FF_RELU;
}

static uint64_t site_of(const t5_block_run *r, int what)
{
    return t5_site(r->dec, r->layer, what);
}

static void drop(const t5_block_run *r, float *p, long n, int what)
{
    if (r->rate > 0.0f)
        t5_dropout_forward(p, n, r->rate, r->seed, site_of(r, what));
}

/* res_out = res_in + dropout(inp @ w^T) */
static void residual_proj(const t5_block_run *r, float *res_out, const float *res_in, const float *inp,
                          const t5_weight *w, int N, int what)
{
    int OC = w->rows;
    if (r->rate > 0.0f) {
        float *t = r->tmp;
        t5_linear(t, inp, w, N, 1.0f, 0);
        t5_dropout_forward(t, (long)N * OC, r->rate, r->seed, site_of(r, what));
        for (long i = 0; i < (long)N * OC; i++)
            res_out[i] = res_in[i] + t[i];
    } else {
        if (res_out != res_in)
            memcpy(res_out, res_in, sizeof(float) * (size_t)N * OC);
        t5_linear(res_out, inp, w, N, 1.0f, 1);
    }
}

static t5_attn_shape shape_of(const t5_block_run *r, int Tk, const uint8_t *allow, const float *bias,
                           const int32_t *bucket, int what)
{
    const t5_config *c = r->c;
    t5_attn_shape s = {.B = r->rows, .Tq = r->Tq, .Tk = Tk, .H = c->num_heads, .dk = c->d_kv, .allow = allow,
                    .bias = bias, .bucket = bucket, .num_buckets = c->relative_attention_num_buckets,
                    .slots = r->slots > 0 ? r->slots : 1, .drop_rate = r->rate, .seed = r->seed,
                    .site = site_of(r, what)};
    return s;
}

/* k, v [rows][Tq][HD] into the cache rows at cache_at */
static void cache_append(const t5_block_run *r, const float *k, const float *v, int HD)
{
    for (int b = 0; b < r->rows; b++) {
        size_t at = ((size_t)b * r->cache_stride + r->cache_at) * HD, from = (size_t)b * r->Tq * HD;
        memcpy(r->cache_k + at, k + from, sizeof(float) * r->Tq * HD);
        memcpy(r->cache_v + at, v + from, sizeof(float) * r->Tq * HD);
    }
}

static void self_attention(const t5_layer_w *w, const t5_block_acts *a, const float *res_in, const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, D = c->d_model, HD = c->num_heads * c->d_kv;
    t5_rmsnorm_forward(a->ln1, a->rstd1, res_in, w->ln_sa, N, D, c->layer_norm_epsilon);
    t5_linear(a->q, a->ln1, &w->sa.q, N, 1.0f, 0);
    t5_linear(a->k, a->ln1, &w->sa.k, N, 1.0f, 0);
    t5_linear(a->v, a->ln1, &w->sa.v, N, 1.0f, 0);
    const float *k = a->k, *v = a->v;
    int Tk = r->Tq;
    if (r->cache_k) {
        cache_append(r, a->k, a->v, HD);
        k = r->cache_k, v = r->cache_v, Tk = r->cache_at + r->Tq;
    }
    t5_attn_shape s = shape_of(r, Tk, r->allow, r->rel_bias, r->bucket, T5_SITE_SA_P);
    s.kv_stride = r->cache_k ? r->cache_stride : 0;
    t5_attention_forward(a->att, a->P, a->q, k, v, &s, r->scratch);
}

static void cross_attention(const t5_layer_w *w, const t5_block_acts *a, const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, Ne = r->rows * r->enc_len, D = c->d_model;
    t5_rmsnorm_forward(a->lnc, a->rstdc, a->mid1, w->ln_ca, N, D, c->layer_norm_epsilon);
    t5_linear(a->qc, a->lnc, &w->ca.q, N, 1.0f, 0);
    if (r->enc) {
        t5_linear(a->kc, r->enc, &w->ca.k, Ne, 1.0f, 0);
        t5_linear(a->vc, r->enc, &w->ca.v, Ne, 1.0f, 0);
    }
    t5_attn_shape s = shape_of(r, r->enc_len, r->cross_allow, NULL, NULL, T5_SITE_CA_P);
    t5_attention_forward(a->attc, a->Pc, a->qc, a->kc, a->vc, &s, r->scratch);
}

static void feed_forward(const t5_layer_w *w, const t5_block_acts *a, float *res_out, const float *res_in,
                         const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, D = c->d_model, F = c->d_ff;
    int gated = t5_weight_present(&w->wi1);
    t5_rmsnorm_forward(a->ln2, a->rstd2, res_in, w->ln_ff, N, D, c->layer_norm_epsilon);
    t5_linear(a->ffa, a->ln2, &w->wi0, N, 1.0f, 0);
    if (gated)
        t5_linear(a->ffb, a->ln2, &w->wi1, N, 1.0f, 0);
    t5_ff_act_forward(a->ffh, a->ffa, gated ? a->ffb : NULL, (long)N * F, act_kind(c));
    drop(r, a->ffh, (long)N * F, T5_SITE_FF_H);
    residual_proj(r, res_out, res_in, a->ffh, &w->wo, N, T5_SITE_FF_OUT);
}

void t5_block_forward(const t5_layer_w *w, const t5_block_acts *a, float *res_out, const float *res_in,
                      const t5_block_run *r)
{
    int N = r->rows * r->Tq;
    self_attention(w, a, res_in, r);
    residual_proj(r, a->mid1, res_in, a->att, &w->sa.o, N, T5_SITE_SA_OUT);
    const float *ff_in = a->mid1;
    if (r->cross_allow) {
        cross_attention(w, a, r);
        residual_proj(r, a->mid2, a->mid1, a->attc, &w->ca.o, N, T5_SITE_CA_OUT);
        ff_in = a->mid2;
    }
    feed_forward(w, a, res_out, ff_in, r);
}

/* ---------------------------------------------------------------- backward */

static void zero(float *p, size_t n)
{
    memset(p, 0, n * sizeof(float));
}

/* dres is d(res_out) and stays so: the residual passes it to res_in unchanged;
 * d(inp) += dropout(dres) @ w  (res_out = res_in + dropout(inp @ w^T)) */
static void residual_proj_backward(const t5_block_run *r, float *dinp, const t5_weight *dw, const float *dres,
                                   const float *inp, const t5_weight *w, int N, int what)
{
    int OC = w->rows;
    const float *d = dres;
    if (r->rate > 0.0f) {
        memcpy(r->tmp, dres, sizeof(float) * (size_t)N * OC);
        t5_dropout_backward(r->tmp, (long)N * OC, r->rate, r->seed, site_of(r, what));
        d = r->tmp;
    }
    t5_linear_backward(dinp, dw, d, inp, w, N, 1.0f);
}

/* dres: d(res_out) in, d(ff_in) out */
static void ff_backward(const t5_layer_w *w, const t5_layer_w *g, const t5_block_acts *a, const float *ff_in,
                        float *dres, const t5_block_grads *gs, const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, D = c->d_model, F = c->d_ff;
    zero(gs->dffh, (size_t)N * F);
    residual_proj_backward(r, gs->dffh, &g->wo, dres, a->ffh, &w->wo, N, T5_SITE_FF_OUT);
    if (r->rate > 0.0f)
        t5_dropout_backward(gs->dffh, (long)N * F, r->rate, r->seed, site_of(r, T5_SITE_FF_H));
    zero(gs->dffa, (size_t)N * F);
    int gated = t5_weight_present(&w->wi1);
    if (gated)
        zero(gs->dffb, (size_t)N * F);
    t5_ff_act_backward(gs->dffa, gated ? gs->dffb : NULL, gs->dffh, a->ffa, gated ? a->ffb : NULL, (long)N * F,
                    act_kind(c));
    zero(gs->d_ln, (size_t)N * D);
    t5_linear_backward(gs->d_ln, &g->wi0, gs->dffa, a->ln2, &w->wi0, N, 1.0f);
    if (gated)
        t5_linear_backward(gs->d_ln, &g->wi1, gs->dffb, a->ln2, &w->wi1, N, 1.0f);
    t5_rmsnorm_backward(dres, g->ln_ff, gs->d_ln, ff_in, w->ln_ff, a->rstd2, N, D);
}

/* dres: d(mid2) in, d(mid1) out; d(encoder output) accumulates */
static void ca_backward(const t5_layer_w *w, const t5_layer_w *g, const t5_block_acts *a, float *dres,
                        const t5_block_grads *gs, const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, Ne = r->rows * r->enc_len, D = c->d_model, HD = c->num_heads * c->d_kv;
    zero(gs->datt, (size_t)N * HD);
    residual_proj_backward(r, gs->datt, &g->ca.o, dres, a->attc, &w->ca.o, N, T5_SITE_CA_OUT);
    zero(gs->dq, (size_t)N * HD);
    zero(gs->dk, (size_t)Ne * HD);
    zero(gs->dv, (size_t)Ne * HD);
    t5_attn_shape s = shape_of(r, r->enc_len, r->cross_allow, NULL, NULL, T5_SITE_CA_P);
    t5_attention_backward(gs->dq, gs->dk, gs->dv, NULL, gs->datt, a->Pc, a->qc, a->kc, a->vc, &s, r->scratch);
    t5_linear_backward(gs->d_enc, &g->ca.k, gs->dk, r->enc, &w->ca.k, Ne, 1.0f);
    t5_linear_backward(gs->d_enc, &g->ca.v, gs->dv, r->enc, &w->ca.v, Ne, 1.0f);
    zero(gs->d_ln, (size_t)N * D);
    t5_linear_backward(gs->d_ln, &g->ca.q, gs->dq, a->lnc, &w->ca.q, N, 1.0f);
    t5_rmsnorm_backward(dres, g->ln_ca, gs->d_ln, a->mid1, w->ln_ca, a->rstdc, N, D);
}

/* dres: d(mid1) in, d(res_in) out */
static void sa_backward(const t5_layer_w *w, const t5_layer_w *g, const t5_block_acts *a, const float *res_in,
                        float *dres, const t5_block_grads *gs, const t5_block_run *r)
{
    const t5_config *c = r->c;
    int N = r->rows * r->Tq, D = c->d_model, HD = c->num_heads * c->d_kv;
    zero(gs->datt, (size_t)N * HD);
    residual_proj_backward(r, gs->datt, &g->sa.o, dres, a->att, &w->sa.o, N, T5_SITE_SA_OUT);
    zero(gs->dq, (size_t)N * HD);
    zero(gs->dk, (size_t)N * HD);
    zero(gs->dv, (size_t)N * HD);
    t5_attn_shape s = shape_of(r, r->Tq, r->allow, r->rel_bias, r->bucket, T5_SITE_SA_P);
    t5_attention_backward(gs->dq, gs->dk, gs->dv, gs->d_rel_bias, gs->datt, a->P, a->q, a->k, a->v, &s, r->scratch);
    zero(gs->d_ln, (size_t)N * D);
    t5_linear_backward(gs->d_ln, &g->sa.q, gs->dq, a->ln1, &w->sa.q, N, 1.0f);
    t5_linear_backward(gs->d_ln, &g->sa.k, gs->dk, a->ln1, &w->sa.k, N, 1.0f);
    t5_linear_backward(gs->d_ln, &g->sa.v, gs->dv, a->ln1, &w->sa.v, N, 1.0f);
    t5_rmsnorm_backward(dres, g->ln_sa, gs->d_ln, res_in, w->ln_sa, a->rstd1, N, D);
}

void t5_block_backward(const t5_layer_w *w, const t5_layer_w *g, const t5_block_acts *a, const float *res_in,
                       float *dres, const t5_block_grads *gs, const t5_block_run *r)
{
    if (r->cross_allow) {
        ff_backward(w, g, a, a->mid2, dres, gs, r);
        ca_backward(w, g, a, dres, gs, r);
    } else {
        ff_backward(w, g, a, a->mid1, dres, gs, r);
    }
    sa_backward(w, g, a, res_in, dres, gs, r);
}
