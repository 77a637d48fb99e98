/* t5_model.c: see t5_model.h. The forward follows Hugging Face's modeling_t5.py
 * (pre-norm blocks: x + Attention(RMSNorm(x)), x + FF(RMSNorm(x)); the bias table of
 * block 0 shared by every block; no score scaling), the backward reverses it op by op. */
#include "t5/t5_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"
#include "t5/t5_bf16.h"
#include "t5/t5_block.h"
#include "t5/t5_int8.h"
#include "t5/t5_mixed.h"
#include "t5/t5_ops.h"

struct t5_acts {
    int rows, enc_len, dec_len, training;
    int slots; /* threads the attention scratch was sized for */
    float *mem;
    size_t nfloats;
    uint8_t *bytes; /* masks and buckets */
    size_t nbytes;
    float **enc_res, **dec_res; /* residual stream before each layer and after the last [L+1] */
    t5_block_acts *enc, *dec;
    float *enc_out, *enc_rstd, *dec_out, *dec_rstd, *logits, *lse, *weights;
    uint8_t *enc_allow, *dec_allow, *cross_allow;
    int32_t *enc_bucket, *dec_bucket;
    /* backward */
    float *d_enc_res, *d_dec_res, *d_enc_out, *d_ln, *dq, *dk, *dv, *datt, *dffa, *dffb, *dffh, *tmp, *scratch;
};

size_t t5_numel(const t5_tensor_spec *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->shape[i];
    return n;
}

static int spec_index(const t5_model *m, const char *name)
{
    for (int i = 0; i < m->nspecs; i++)
        if (strcmp(m->specs[i].name, name) == 0)
            return i;
    return -1;
}

/* The tensor named `name` as a handle: in base (the parameter or gradient arena, F32), or
 * with base NULL where a mapped model has it. Absent (data NULL) when there is none. */
static t5_weight weight_at(const t5_model *m, float *base, const char *name)
{
    t5_weight w = {0};
    int i = spec_index(m, name);
    if (i < 0)
        return w;
    const t5_tensor_spec *s = &m->specs[i];
    if (!base)
        return m->mapped ? m->mapped[i] : w;
    return t5_weight_f32(base + m->offset[i], s->shape[0], s->ndim > 1 ? s->shape[1] : 1);
}

void t5_model_views(const t5_model *m, float *arena, t5_weight *views)
{
    for (int i = 0; i < m->nspecs; i++) {
        const t5_tensor_spec *s = &m->specs[i];
        views[i] = t5_weight_f32(arena + m->offset[i], (int)s->shape[0], s->ndim > 1 ? (int)s->shape[1] : 1);
    }
}

/* an F32 vector (norm weights, bias tables), or NULL */
static float *at(const t5_model *m, float *base, const char *name)
{
    t5_weight w = weight_at(m, base, name);
    return t5_weight_floats(&w);
}

float *t5_param(const t5_model *m, const char *name)
{
    return at(m, m->params, name);
}

float *t5_grad(const t5_model *m, const char *name)
{
    return m->grads ? at(m, m->grads, name) : NULL;
}

static float *atf(const t5_model *m, float *base, const char *fmt, const char *stack, int i, const char *what)
{
    char name[128];
    snprintf(name, sizeof name, fmt, stack, i, what);
    return at(m, base, name);
}

static t5_weight wtf(const t5_model *m, float *base, const char *fmt, const char *stack, int i, const char *what)
{
    char name[128];
    snprintf(name, sizeof name, fmt, stack, i, what);
    return weight_at(m, base, name);
}

static void bind_attn(const t5_model *m, float *base, t5_attn_w *a, const char *stack, int i, const char *kind)
{
    char fmt[96];
    snprintf(fmt, sizeof fmt, "%%s.block.%%d.layer.%s.%%s.weight", kind);
    a->q = wtf(m, base, fmt, stack, i, "q");
    a->k = wtf(m, base, fmt, stack, i, "k");
    a->v = wtf(m, base, fmt, stack, i, "v");
    a->o = wtf(m, base, fmt, stack, i, "o");
}

static void bind_layer(const t5_model *m, float *base, t5_layer_w *l, const char *stack, int i, int dec)
{
    const char *ff = dec ? "2" : "1";
    char fmt[96];
    bind_attn(m, base, &l->sa, stack, i, "0.SelfAttention");
    l->ln_sa = atf(m, base, "%s.block.%d.layer.0.%s.weight", stack, i, "layer_norm");
    if (dec) {
        bind_attn(m, base, &l->ca, stack, i, "1.EncDecAttention");
        l->ln_ca = atf(m, base, "%s.block.%d.layer.1.%s.weight", stack, i, "layer_norm");
    }
    snprintf(fmt, sizeof fmt, "%%s.block.%%d.layer.%s.%%s.weight", ff);
    l->ln_ff = atf(m, base, fmt, stack, i, "layer_norm");
    if (m->cfg.gated) {
        l->wi0 = wtf(m, base, fmt, stack, i, "DenseReluDense.wi_0");
        l->wi1 = wtf(m, base, fmt, stack, i, "DenseReluDense.wi_1");
    } else {
        l->wi0 = wtf(m, base, fmt, stack, i, "DenseReluDense.wi");
    }
    l->wo = wtf(m, base, fmt, stack, i, "DenseReluDense.wo");
}

static int bind(t5_model *m, float *base, t5_weights *w, t0_error *err)
{
    const t5_config *c = &m->cfg;
    w->enc = calloc((size_t)c->num_layers, sizeof *w->enc);
    w->dec = calloc((size_t)c->num_decoder_layers, sizeof *w->dec);
    if (!w->enc || !w->dec)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    w->shared = weight_at(m, base, "shared.weight");
    w->lm_head = c->tie_word_embeddings ? w->shared : weight_at(m, base, "lm_head.weight");
    w->enc_rel_bias = at(m, base, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    w->dec_rel_bias = at(m, base, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    w->enc_final_ln = at(m, base, "encoder.final_layer_norm.weight");
    w->dec_final_ln = at(m, base, "decoder.final_layer_norm.weight");
    for (int i = 0; i < c->num_layers; i++)
        bind_layer(m, base, &w->enc[i], "encoder", i, 0);
    for (int i = 0; i < c->num_decoder_layers; i++)
        bind_layer(m, base, &w->dec[i], "decoder", i, 1);
    if (!t5_weight_present(&w->shared) || !t5_weight_present(&w->lm_head) || !w->enc_rel_bias ||
        !w->dec_rel_bias || !w->enc_final_ln || !w->dec_final_ln)
        return t0_fail(err, T0_EINTERNAL, "tensor list lacks a T5 parameter");
    return 0;
}

static void mix_layer(t5_layer_w *l, int on)
{
    t5_weight *w[] = {&l->sa.q, &l->sa.k, &l->sa.v, &l->sa.o, &l->ca.q, &l->ca.k,
                      &l->ca.v, &l->ca.o, &l->wi0, &l->wi1, &l->wo};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        w[i]->mixed = on && w[i]->dtype == T5_F32;
}

void t5_model_set_mixed(t5_model *m, int on)
{
    for (int i = 0; i < m->cfg.num_layers; i++)
        mix_layer(&m->w.enc[i], on);
    for (int i = 0; i < m->cfg.num_decoder_layers; i++)
        mix_layer(&m->w.dec[i], on);
    m->w.lm_head.mixed = on && m->w.lm_head.dtype == T5_F32;
}

const char *t5_model_mixed_kernel(void)
{
    t5_mixed_mode mode = t5_mixed_available();
    return mode == T5_MIXED_NONE ? NULL : t5_mixed_name(mode);
}

/* A model with its tensor list and no parameters yet. */
static t5_model *model_new(const t5_config *c, t0_error *err)
{
    t5_model *m = calloc(1, sizeof *m);
    if (!m) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    m->cfg = *c;
    if (t5_tensor_specs(c, &m->specs, &m->nspecs, err) != 0)
        goto fail;
    m->offset = malloc(sizeof(size_t) * (size_t)m->nspecs);
    if (!m->offset) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < m->nspecs; i++) {
        m->offset[i] = m->nfloats;
        m->nfloats += t5_numel(&m->specs[i]);
    }
    return m;
fail:
    t5_model_free(m);
    return NULL;
}

t5_model *t5_model_create(const t5_config *c, t0_error *err)
{
    t5_model *m = model_new(c, err);
    if (!m)
        return NULL;
    m->params = calloc(m->nfloats, sizeof(float));
    if (!m->params)
        goto oom;
    if (bind(m, m->params, &m->w, err) != 0)
        goto fail;
    return m;
oom:
    t0_fail(err, T0_EINTERNAL, "out of memory for %zu parameters", m->nfloats);
fail:
    t5_model_free(m);
    return NULL;
}

int t5_model_load(t5_model *m, const char *path, t0_error *err)
{
    if (!m->params)
        return t0_fail(err, T0_EINTERNAL, "t5_model_load: the model is memory-mapped");
    st_model *st = st_open(path, err);
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < m->nspecs && rc == 0; i++) {
        const t5_tensor_spec *s = &m->specs[i];
        float *dst = m->params + m->offset[i];
        if (strcmp(s->name, "shared.weight") == 0)
            rc = st_read_f32_any(st, T5_SHARED_NAMES, s->ndim, s->shape, dst, err);
        else
            rc = st_read_f32(st, s->name, s->ndim, s->shape, dst, err);
    }
    st_close(st);
    return rc;
}

/* DIR/config.json into c */
static int load_dir_config(const char *dir, t5_config *c, t0_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    return t5_config_load(path, c, err);
}

t5_model *t5_model_open(const char *dir, t0_error *err)
{
    t5_config c;
    if (load_dir_config(dir, &c, err) != 0)
        return NULL;
    t5_model *m = t5_model_create(&c, err);
    if (m && t5_model_load(m, dir, err) != 0) {
        t5_model_free(m);
        return NULL;
    }
    return m;
}

/* BF16 tensors kept as BF16: the matrices the products read (not the bias tables) */
static int keep_bf16(const t5_tensor_spec *s, const st_tensor *t)
{
    return t->dtype == ST_BF16 && s->ndim == 2 && !strstr(s->name, "relative_attention_bias") &&
           ((uintptr_t)t->data & 1) == 0;
}

t5_model *t5_model_open_mapped(const char *dir, t0_error *err)
{
    t5_config c;
    if (load_dir_config(dir, &c, err) != 0)
        return NULL;
    t5_model *m = model_new(&c, err);
    if (!m)
        return NULL;
    const st_tensor **t = calloc((size_t)m->nspecs, sizeof *t);
    m->mapped = calloc((size_t)m->nspecs, sizeof *m->mapped);
    if (!t || !m->mapped) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        goto fail;
    }
    if (!(m->map = st_open(dir, err)))
        goto fail;
    size_t nwide = 0;
    for (int i = 0; i < m->nspecs; i++) { /* validate everything before widening anything */
        const t5_tensor_spec *s = &m->specs[i];
        const char *one[] = {s->name, NULL};
        const char *const *names = strcmp(s->name, "shared.weight") == 0 ? T5_SHARED_NAMES : one;
        if (!(t[i] = st_expect(m->map, names, s->ndim, s->shape, err)))
            goto fail;
        int rows = s->shape[0], cols = s->ndim > 1 ? s->shape[1] : 1;
        if (t[i]->dtype == ST_F32 && st_f32_data(t[i])) /* read only: the mapping is PROT_READ */
            m->mapped[i] = t5_weight_f32((float *)st_f32_data(t[i]), rows, cols);
        else if (keep_bf16(s, t[i]))
            m->mapped[i] = (t5_weight){T5_BF16, (void *)t[i]->data, NULL, rows, cols, 0};
        else
            nwide += t5_numel(s);
    }
    if (nwide && !(m->widened = malloc(nwide * sizeof(float)))) {
        t0_fail(err, T0_EINTERNAL, "out of memory widening %zu parameters", nwide);
        goto fail;
    }
    float *p = m->widened;
    for (int i = 0; i < m->nspecs; i++) {
        const t5_tensor_spec *s = &m->specs[i];
        if (t5_weight_present(&m->mapped[i]))
            continue;
        if (st_read_f32(m->map, t[i]->name, s->ndim, s->shape, p, err) != 0)
            goto fail;
        m->mapped[i] = t5_weight_f32(p, s->shape[0], s->ndim > 1 ? s->shape[1] : 1);
        p += t5_numel(s);
    }
    if (bind(m, NULL, &m->w, err) != 0)
        goto fail;
    free(t);
    return m;
fail:
    free(t);
    t5_model_free(m);
    return NULL;
}

/* The matrices int8 inference quantizes: every linear weight of the blocks, and lm_head
 * when asked and not tied (an embedding is looked up, not multiplied) */
static int quantizable(const t5_model *m, const t5_tensor_spec *s, int lm_head)
{
    if (s->ndim != 2 || strstr(s->name, "relative_attention_bias") || strcmp(s->name, "shared.weight") == 0 ||
        strstr(s->name, "embed_tokens"))
        return 0;
    return strcmp(s->name, "lm_head.weight") != 0 || (lm_head && !m->cfg.tie_word_embeddings);
}

int t5_model_quantize_i8(t5_model *m, int lm_head, t0_error *err)
{
    if (!m->mapped)
        return t0_fail(err, T0_EINTERNAL, "t5_model_quantize_i8: the model is not memory-mapped");
    size_t nq = 0, nrows = 0;
    for (int i = 0; i < m->nspecs; i++)
        if (quantizable(m, &m->specs[i], lm_head) && m->mapped[i].dtype != T5_I8)
            nq += t5_numel(&m->specs[i]), nrows += (size_t)m->specs[i].shape[0];
    int8_t *q = malloc(nq ? nq : 1);
    float *scale = malloc(sizeof(float) * (nrows ? nrows : 1));
    if (!q || !scale) {
        free(q), free(scale);
        return t0_fail(err, T0_EINTERNAL, "out of memory quantizing %zu parameters", nq);
    }
    m->quantized = q, m->qscales = scale;
    for (int i = 0; i < m->nspecs; i++) {
        if (!quantizable(m, &m->specs[i], lm_head) || m->mapped[i].dtype == T5_I8)
            continue;
        m->mapped[i] = t5_weight_quantize(&m->mapped[i], q, scale);
        q += t5_numel(&m->specs[i]), scale += m->specs[i].shape[0];
    }
    free(m->w.enc), free(m->w.dec); /* bind the quantized handles */
    memset(&m->w, 0, sizeof m->w);
    return bind(m, NULL, &m->w, err);
}

int t5_model_use_dtype(t5_model *m, const char *dtype, t0_error *err)
{
    if (strcmp(dtype, "stored") == 0)
        return 0;
    if (strcmp(dtype, "int8") != 0)
        return t0_fail(err, T0_EINPUT, "--dtype: '%s' is neither stored nor int8", dtype);
    const char *lm = getenv("T0_INT8_LM_HEAD"); /* measurements */
    return t5_model_quantize_i8(m, lm ? *lm == '1' : T5_INT8_LM_HEAD, err);
}

size_t t5_model_mapped_bytes(const t5_model *m, size_t *widened)
{
    size_t in_place = 0, wide = 0;
    for (int i = 0; m->mapped && i < m->nspecs; i++) {
        size_t n = t5_numel(&m->specs[i]);
        uintptr_t p = (uintptr_t)m->mapped[i].data;
        if (m->mapped[i].dtype == T5_BF16)
            in_place += 2 * n;
        else if (m->mapped[i].dtype == T5_I8)
            wide += n + 4 * (size_t)m->mapped[i].rows;
        else if (m->widened && p >= (uintptr_t)m->widened && p < (uintptr_t)(m->widened + m->nfloats))
            wide += 4 * n;
        else
            in_place += 4 * n;
    }
    if (widened)
        *widened = wide;
    return in_place;
}

int t5_model_save(const t5_model *m, const char *path, int bf16, t0_error *err)
{
    if (!m->params)
        return t0_fail(err, T0_EINTERNAL, "t5_model_save: the model is memory-mapped");
    st_write_tensor *t = calloc((size_t)m->nspecs, sizeof *t);
    if (!t)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (int i = 0; i < m->nspecs; i++) {
        t[i].name = m->specs[i].name;
        t[i].ndim = m->specs[i].ndim;
        for (int d = 0; d < t[i].ndim; d++)
            t[i].shape[d] = m->specs[i].shape[d];
        t[i].data = m->params + m->offset[i];
    }
    const char *meta[] = {"format", "pt", NULL};
    int rc = st_write(path, t, m->nspecs, bf16 ? ST_BF16 : ST_F32, meta, err);
    free(t);
    return rc;
}

static void free_acts(t5_acts *a)
{
    if (!a)
        return;
    free(a->mem);
    free(a->bytes);
    free(a->enc_res);
    free(a->dec_res);
    free(a->enc);
    free(a->dec);
    free(a);
}

void t5_model_free(t5_model *m)
{
    if (!m)
        return;
    free(m->specs);
    free(m->offset);
    free(m->params);
    free(m->grads);
    free(m->w.enc);
    free(m->w.dec);
    free(m->g.enc);
    free(m->g.dec);
    free_acts(m->acts);
    free(m->widened);
    free(m->quantized);
    free(m->qscales);
    free(m->mapped);
    st_close(m->map);
    free(m);
}

int t5_model_alloc_grads(t5_model *m, t0_error *err)
{
    if (m->grads)
        return 0;
    if (!m->params)
        return t0_fail(err, T0_EINTERNAL, "a memory-mapped model has no gradients");
    m->grads = calloc(m->nfloats, sizeof(float));
    if (!m->grads)
        return t0_fail(err, T0_EINTERNAL, "out of memory for gradients");
    return bind(m, m->grads, &m->g, err);
}

void t5_model_zero_grads(t5_model *m)
{
    if (m->grads)
        memset(m->grads, 0, m->nfloats * sizeof(float));
}

/* ---------------------------------------------------------------- activation arena */

/* Carves arrays out of one block; with base NULL it only counts. */
typedef struct {
    float *base;
    size_t used;
} carver;

static float *take(carver *cv, size_t n)
{
    float *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += (n + 15) & ~(size_t)15; /* 64-byte steps */
    return p;
}

static void carve_layer(carver *cv, t5_block_acts *l, size_t N, size_t Nk, const t5_config *c, int dec, int rows,
                        size_t Tq, size_t Tk)
{
    size_t D = c->d_model, HD = (size_t)c->num_heads * c->d_kv, F = c->d_ff, H = c->num_heads;
    l->ln1 = take(cv, N * D);
    l->rstd1 = take(cv, N);
    l->q = take(cv, N * HD);
    l->k = take(cv, N * HD);
    l->v = take(cv, N * HD);
    l->P = take(cv, rows * H * Tq * Tq);
    l->att = take(cv, N * HD);
    l->mid1 = take(cv, N * D);
    if (dec) {
        l->lnc = take(cv, N * D);
        l->rstdc = take(cv, N);
        l->qc = take(cv, N * HD);
        l->kc = take(cv, Nk * HD);
        l->vc = take(cv, Nk * HD);
        l->Pc = take(cv, rows * H * Tq * Tk);
        l->attc = take(cv, N * HD);
        l->mid2 = take(cv, N * D);
    }
    l->ln2 = take(cv, N * D);
    l->rstd2 = take(cv, N);
    l->ffa = take(cv, N * F);
    l->ffb = c->gated ? take(cv, N * F) : NULL;
    l->ffh = take(cv, N * F);
}

/* Without training nothing reads a layer's activations after the next layer ran, so
 * every layer gets the same ones and the residual stream alternates between two buffers
 * (a T0_3B-shaped encoder at 8 x 64 tokens: 1.6 GB less). */
static void carve_stack(carver *cv, float **res, t5_block_acts *l, int layers, size_t N, size_t Nk, const t5_config *c,
                        int dec, int rows, size_t Tq, size_t Tk, int training)
{
    size_t D = c->d_model;
    for (int i = 0; i <= layers; i++)
        res[i] = training || i < 2 ? take(cv, N * D) : res[i - 2];
    for (int i = 0; i < layers; i++) {
        if (training || i == 0)
            carve_layer(cv, &l[i], N, Nk, c, dec, rows, Tq, Tk);
        else
            l[i] = l[0];
    }
}

static void carve(carver *cv, t5_acts *a, const t5_config *c)
{
    size_t B = a->rows, Te = a->enc_len, Td = a->dec_len, D = c->d_model;
    size_t Ne = B * Te, Nd = B * Td, HD = (size_t)c->num_heads * c->d_kv, F = c->d_ff;
    carve_stack(cv, a->enc_res, a->enc, c->num_layers, Ne, Ne, c, 0, (int)B, Te, Te, a->training);
    a->enc_out = take(cv, Ne * D);
    a->enc_rstd = take(cv, Ne);
    carve_stack(cv, a->dec_res, a->dec, c->num_decoder_layers, Nd, Ne, c, 1, (int)B, Td, Te, a->training);
    a->dec_out = take(cv, Nd * D);
    a->dec_rstd = take(cv, Nd);
    a->logits = take(cv, Nd * (size_t)c->vocab_size);
    a->lse = take(cv, Nd);
    a->weights = take(cv, Nd);
    size_t Nm = Ne > Nd ? Ne : Nd, T2 = Te * Te;
    if (Td * Td > T2)
        T2 = Td * Td;
    if (Td * Te > T2)
        T2 = Td * Te;
    a->slots = t5_threads();
    a->scratch = take(cv, t5_attention_scratch_floats(1, (int)T2, c->relative_attention_num_buckets, c->num_heads,
                                                   a->slots));
    a->tmp = take(cv, Nm * D);
    if (!a->training)
        return;
    a->d_enc_res = take(cv, Ne * D);
    a->d_dec_res = take(cv, Nd * D);
    a->d_enc_out = take(cv, Ne * D);
    a->d_ln = take(cv, Nm * D);
    a->dq = take(cv, Nm * HD);
    a->dk = take(cv, Nm * HD);
    a->dv = take(cv, Nm * HD);
    a->datt = take(cv, Nm * HD);
    a->dffa = take(cv, Nm * F);
    a->dffb = take(cv, Nm * F);
    a->dffh = take(cv, Nm * F);
}

int t5_model_reserve(t5_model *m, int rows, int enc_len, int dec_len, int training, t0_error *err)
{
    t5_acts *a = m->acts;
    if (a && a->rows == rows && a->enc_len == enc_len && a->dec_len == dec_len && a->training >= training)
        return 0;
    free_acts(a);
    m->acts = a = calloc(1, sizeof *a);
    if (!a)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    const t5_config *c = &m->cfg;
    a->rows = rows, a->enc_len = enc_len, a->dec_len = dec_len, a->training = training;
    a->enc_res = calloc((size_t)c->num_layers + 1, sizeof(float *));
    a->dec_res = calloc((size_t)c->num_decoder_layers + 1, sizeof(float *));
    a->enc = calloc((size_t)c->num_layers, sizeof *a->enc);
    a->dec = calloc((size_t)c->num_decoder_layers, sizeof *a->dec);
    if (!a->enc_res || !a->dec_res || !a->enc || !a->dec)
        goto oom;
    carver cv = {NULL, 0};
    carve(&cv, a, c);
    a->nfloats = cv.used;
    a->mem = malloc(a->nfloats * sizeof(float));
    size_t Ne = (size_t)rows * enc_len, Nd = (size_t)rows * dec_len;
    a->nbytes = Ne * enc_len + Nd * dec_len + Nd * enc_len + sizeof(int32_t) * (Ne * enc_len + Nd * dec_len);
    a->bytes = malloc(a->nbytes);
    if (!a->mem || !a->bytes)
        goto oom;
    cv = (carver){a->mem, 0};
    carve(&cv, a, c);
    a->enc_bucket = (int32_t *)a->bytes;
    a->dec_bucket = a->enc_bucket + Ne * enc_len;
    a->enc_allow = (uint8_t *)(a->dec_bucket + Nd * dec_len);
    a->dec_allow = a->enc_allow + Ne * enc_len;
    a->cross_allow = a->dec_allow + Nd * dec_len;
    return 0;
oom:
    free_acts(a);
    m->acts = NULL;
    return t0_fail(err, T0_EINTERNAL, "out of memory for activations of %d x %d/%d tokens", rows, enc_len, dec_len);
}

size_t t5_model_bytes(const t5_model *m)
{
    size_t n = m->nfloats * sizeof(float) * (m->grads ? 2 : 1);
    if (m->acts)
        n += m->acts->nfloats * sizeof(float) + m->acts->nbytes;
    return n;
}

const float *t5_logits(const t5_model *m)
{
    return m->acts ? m->acts->logits : NULL;
}

const float *t5_encoder_output(const t5_model *m)
{
    return m->acts ? m->acts->enc_out : NULL;
}

/* ---------------------------------------------------------------- masks and buckets */

/* allow[b,i,j]: same non-zero segment (and j <= i when causal) */
static void make_allow(uint8_t *allow, const int32_t *seg_q, const int32_t *seg_k, int B, int Tq, int Tk, int causal)
{
    for (int b = 0; b < B; b++)
        for (int i = 0; i < Tq; i++) {
            int32_t s = seg_q[(long)b * Tq + i];
            uint8_t *row = allow + ((long)b * Tq + i) * Tk;
            for (int j = 0; j < Tk; j++) {
                int32_t t = seg_k[(long)b * Tk + j];
                row[j] = t != 0 && t == s && (!causal || j <= i);
            }
        }
}

static void make_buckets(int32_t *bucket, const int32_t *pos, int B, int T, int bidirectional, const t5_config *c)
{
    int nb = c->relative_attention_num_buckets, md = c->relative_attention_max_distance;
    /* beyond max_distance every relative position falls in the last bucket of its side, so
     * a table over -max_distance..max_distance answers every pair */
    int32_t table[2 * 4096 + 1];
    int L = md < 4096 ? md : 4096;
    for (int r = -L; r <= L; r++)
        table[r + L] = t5_relative_bucket(r, bidirectional, nb, md);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < T; i++) {
            int pi = pos[(long)b * T + i];
            int32_t *row = bucket + ((long)b * T + i) * T;
            for (int j = 0; j < T; j++) {
                int r = pos[(long)b * T + j] - pi;
                if (r < -L || r > L) {
                    if (L < md) { /* a huge max_distance: no table */
                        row[j] = t5_relative_bucket(r, bidirectional, nb, md);
                        continue;
                    }
                    r = r < 0 ? -L : L;
                }
                row[j] = table[r + L];
            }
        }
}

/* ---------------------------------------------------------------- forward and backward
 * Each stack is the embedding, the blocks (t5_block.h) and the final norm; the decoder's
 * output goes through the language-model head. */

static float rate_of(const t5_model *m, const t5_run *run)
{
    return run && run->training ? m->cfg.dropout_rate : 0.0f;
}

static void drop(const t5_model *m, const t5_run *run, float *p, long n, int dec, int what)
{
    float rate = rate_of(m, run);
    if (rate > 0.0f)
        t5_dropout_forward(p, n, rate, run->seed, t5_site(dec, 0, what));
}

static void undrop(const t5_model *m, const t5_run *run, float *p, long n, int dec, int what)
{
    float rate = rate_of(m, run);
    if (rate > 0.0f)
        t5_dropout_backward(p, n, rate, run->seed, t5_site(dec, 0, what));
}

/* How block i of a stack runs over the reserved batch: whole sequences, training's
 * dropout, the batch's masks. */
static t5_block_run block_run(const t5_model *m, const t5_run *run, int dec, int i)
{
    const t5_acts *a = m->acts;
    t5_block_run r = {.c = &m->cfg, .dec = dec, .layer = i, .rows = a->rows, .rate = rate_of(m, run),
                      .seed = run ? run->seed : 0, .tmp = a->tmp, .scratch = a->scratch, .slots = a->slots};
    if (dec) {
        r.Tq = a->dec_len, r.allow = a->dec_allow, r.bucket = a->dec_bucket, r.rel_bias = m->w.dec_rel_bias;
        r.enc = a->enc_out, r.enc_len = a->enc_len, r.cross_allow = a->cross_allow;
    } else {
        r.Tq = a->enc_len, r.allow = a->enc_allow, r.bucket = a->enc_bucket, r.rel_bias = m->w.enc_rel_bias;
    }
    return r;
}

int t5_encode(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err)
{
    t5_acts *a = m->acts;
    if (!a || b->rows != a->rows || b->enc_len != a->enc_len)
        return t0_fail(err, T0_EINTERNAL, "t5_encode: activations not reserved for this batch shape");
    t5_set_ftz();
    const t5_config *c = &m->cfg;
    int B = a->rows, T = a->enc_len, N = B * T, D = c->d_model;
    make_allow(a->enc_allow, b->enc_seg, b->enc_seg, B, T, T, 0);
    make_buckets(a->enc_bucket, b->enc_pos, B, T, 1, c);
    t5_embed(a->enc_res[0], b->enc_tokens, &m->w.shared, N);
    drop(m, run, a->enc_res[0], (long)N * D, 0, T5_SITE_EMB);
    for (int i = 0; i < c->num_layers; i++) {
        t5_block_run r = block_run(m, run, 0, i);
        t5_block_forward(&m->w.enc[i], &a->enc[i], a->enc_res[i + 1], a->enc_res[i], &r);
    }
    t5_rmsnorm_forward(a->enc_out, a->enc_rstd, a->enc_res[c->num_layers], m->w.enc_final_ln, N, D,
                    c->layer_norm_epsilon);
    drop(m, run, a->enc_out, (long)N * D, 0, T5_SITE_FINAL);
    return 0;
}

static void decode_forward(t5_model *m, const t5_batch *b, const t5_run *run)
{
    t5_acts *a = m->acts;
    const t5_config *c = &m->cfg;
    int B = a->rows, Te = a->enc_len, T = a->dec_len, N = B * T, D = c->d_model;
    make_allow(a->dec_allow, b->dec_seg, b->dec_seg, B, T, T, 1);
    make_allow(a->cross_allow, b->dec_seg, b->enc_seg, B, T, Te, 0);
    make_buckets(a->dec_bucket, b->dec_pos, B, T, 0, c);
    t5_embed(a->dec_res[0], b->dec_input, &m->w.shared, N);
    drop(m, run, a->dec_res[0], (long)N * D, 1, T5_SITE_EMB);
    for (int i = 0; i < c->num_decoder_layers; i++) {
        t5_block_run r = block_run(m, run, 1, i);
        t5_block_forward(&m->w.dec[i], &a->dec[i], a->dec_res[i + 1], a->dec_res[i], &r);
    }
    t5_rmsnorm_forward(a->dec_out, a->dec_rstd, a->dec_res[c->num_decoder_layers], m->w.dec_final_ln, N, D,
                    c->layer_norm_epsilon);
    drop(m, run, a->dec_out, (long)N * D, 1, T5_SITE_FINAL);
    t5_linear(a->logits, a->dec_out, &m->w.lm_head, N, t5_output_scale(c), 0);
}

static int check_batch(const t5_model *m, const t5_batch *b, t0_error *err)
{
    const t5_acts *a = m->acts;
    if (!a || b->rows != a->rows || b->enc_len != a->enc_len || b->dec_len != a->dec_len)
        return t0_fail(err, T0_EINTERNAL, "batch %dx%d/%d does not match the reserved activations", b->rows,
                       b->enc_len, b->dec_len);
    int V = m->cfg.vocab_size;
    long ne = (long)b->rows * b->enc_len, nd = (long)b->rows * b->dec_len;
    for (long i = 0; i < ne; i++)
        if (b->enc_tokens[i] < 0 || b->enc_tokens[i] >= V)
            return t0_fail(err, T0_EINPUT, "encoder token %d out of vocabulary (%d)", b->enc_tokens[i], V);
    for (long i = 0; i < nd; i++) {
        if (b->dec_input[i] < 0 || b->dec_input[i] >= V)
            return t0_fail(err, T0_EINPUT, "decoder input token %d out of vocabulary (%d)", b->dec_input[i], V);
        if (b->dec_target && (b->dec_target[i] < 0 || b->dec_target[i] >= V))
            return t0_fail(err, T0_EINPUT, "target token %d out of vocabulary (%d)", b->dec_target[i], V);
    }
    return 0;
}

int t5_forward(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err)
{
    if (check_batch(m, b, err) != 0)
        return -1;
    if (t5_encode(m, b, run, err) != 0)
        return -1;
    const t5_config *c = &m->cfg;
    decode_forward(m, b, run);
    m->loss = m->ce_loss = m->z_loss = 0.0;
    if (b->dec_target && b->dec_weights && run) {
        t5_acts *a = m->acts;
        int N = a->rows * a->dec_len;
        for (int i = 0; i < N; i++)
            a->weights[i] = (float)b->dec_weights[i];
        m->loss = t5_crossentropy_forward(a->lse, a->logits, b->dec_target, a->weights, N, c->vocab_size, run->z_loss,
                                       run->denominator, &m->ce_loss, &m->z_loss);
    }
    return 0;
}

/* ---------------------------------------------------------------- backward */

static void zero(float *p, size_t n)
{
    memset(p, 0, n * sizeof(float));
}

int t5_backward(t5_model *m, const t5_batch *b, const t5_run *run, t0_error *err)
{
    t5_acts *a = m->acts;
    if (!a || !a->training || !m->grads || !run)
        return t0_fail(err, T0_EINTERNAL, "t5_backward: needs gradients and training activations");
    t5_set_ftz();
    const t5_config *c = &m->cfg;
    int B = a->rows, Td = a->dec_len, Te = a->enc_len, Nd = B * Td, Ne = B * Te, D = c->d_model, V = c->vocab_size;
    const t5_weights *w = &m->w, *g = &m->g;
    t5_block_grads gs = {a->d_ln, a->dq, a->dk, a->dv, a->datt, a->dffa, a->dffb, a->dffh, a->d_enc_out, NULL};

    /* loss -> logits -> decoder output */
    t5_crossentropy_backward_inplace(a->logits, a->lse, b->dec_target, a->weights, Nd, V, run->z_loss,
                                  run->denominator);
    zero(a->d_ln, (size_t)Nd * D);
    t5_linear_backward(a->d_ln, &g->lm_head, a->logits, a->dec_out, &w->lm_head, Nd, t5_output_scale(c));
    undrop(m, run, a->d_ln, (long)Nd * D, 1, T5_SITE_FINAL);
    zero(a->d_dec_res, (size_t)Nd * D);
    /* d_ln is reused inside the layers: move the final norm's input gradient first */
    t5_rmsnorm_backward(a->d_dec_res, g->dec_final_ln, a->d_ln, a->dec_res[c->num_decoder_layers], w->dec_final_ln,
                     a->dec_rstd, Nd, D);
    zero(a->d_enc_out, (size_t)Ne * D);
    gs.d_rel_bias = g->dec_rel_bias;
    for (int i = c->num_decoder_layers - 1; i >= 0; i--) {
        t5_block_run r = block_run(m, run, 1, i);
        t5_block_backward(&w->dec[i], &g->dec[i], &a->dec[i], a->dec_res[i], a->d_dec_res, &gs, &r);
    }
    undrop(m, run, a->d_dec_res, (long)Nd * D, 1, T5_SITE_EMB);
    t5_embed_backward(&g->shared, a->d_dec_res, b->dec_input, Nd);

    /* encoder, from the gradient every cross-attention left on its output */
    undrop(m, run, a->d_enc_out, (long)Ne * D, 0, T5_SITE_FINAL);
    zero(a->d_enc_res, (size_t)Ne * D);
    t5_rmsnorm_backward(a->d_enc_res, g->enc_final_ln, a->d_enc_out, a->enc_res[c->num_layers], w->enc_final_ln,
                     a->enc_rstd, Ne, D);
    gs.d_rel_bias = g->enc_rel_bias;
    for (int i = c->num_layers - 1; i >= 0; i--) {
        t5_block_run r = block_run(m, run, 0, i);
        t5_block_backward(&w->enc[i], &g->enc[i], &a->enc[i], a->enc_res[i], a->d_enc_res, &gs, &r);
    }
    undrop(m, run, a->d_enc_res, (long)Ne * D, 0, T5_SITE_EMB);
    t5_embed_backward(&g->shared, a->d_enc_res, b->enc_tokens, Ne);
    return 0;
}

/* ---------------------------------------------------------------- shared parameters */

t5_model *t5_model_share(const t5_model *m, t0_error *err)
{
    t5_model *v = malloc(sizeof *v);
    if (!v) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    *v = *m; /* the same parameters, specs and weight views */
    v->grads = NULL;
    memset(&v->g, 0, sizeof v->g);
    v->acts = NULL;
    return v;
}

void t5_model_unshare(t5_model *view)
{
    if (!view)
        return;
    free_acts(view->acts);
    free(view);
}
