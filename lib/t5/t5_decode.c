/* t5_decode.c: see t5_decode.h. One decoder position per step, or n positions at once
 * (t5_decoder_feed), through the blocks the training forward runs (t5_block.h), over the
 * cache. */
#include "t5/t5_decode.h"

#include <stdlib.h>
#include <string.h>

#include "t5/t5_bf16.h"
#include "t5/t5_block.h"
#include "t5/t5_ops.h"

struct t5_decoder {
    t5_model *m;
    int rows, enc_len, max_len, pos;
    int cap; /* rows it was made for; t5_decoder_keep lowers rows, t5_decoder_start restores it */
    float *tmp; /* [cap][max_len][HD]: t5_decoder_reorder's gather */
    float *mem;
    float **sk, **sv, **ck, **cv; /* per layer: self cache [rows][max_len][HD], cross [rows][enc_len][HD] */
    float *x, *ln, *rstd, *q, *k, *v, *att, *ffa, *ffb, *ffh, *P, *logits;
    uint8_t *allow, *cross_allow; /* [rows][max_len], [rows][enc_len] */
    int32_t *bucket, *enc_seg, *enc_pos;
    int rows_cap, enc_cap; /* set by t5_decoder_start_rows (0 until then) */
    float *wide;           /* t5_decoder_feed's activations, grown as needed */
    float *feed_lse;       /* the last feed's log-sum-exp rows, in wide */
    size_t wide_floats;
};

/* Activations for n positions of every row: t5_decoder_step's (n = 1) are the decoder's own
 * buffers, t5_decoder_feed's are carved out of d->wide. allow [rows*n][pos+n], bucket the
 * same, cross_allow [rows*n][enc_len]. */
typedef struct {
    float *x, *ln, *rstd, *q, *k, *v, *att, *ffa, *ffb, *ffh, *P, *logits;
    uint8_t *allow, *cross_allow;
    int32_t *bucket;
    float *lse; /* t5_decoder_feed's: [rows*n] for t5_decoder_feed_logprobs */
} feed_acts;

void t5_decoder_free(t5_decoder *d)
{
    if (!d)
        return;
    free(d->mem);
    free(d->sk);
    free(d->allow);
    free(d->bucket);
    free(d->wide);
    free(d);
}

t5_decoder *t5_decoder_create(t5_model *m, int rows, int enc_len, int max_len, t0_error *err)
{
    const t5_config *c = &m->cfg;
    int L = c->num_decoder_layers;
    size_t R = rows, D = c->d_model, HD = (size_t)c->num_heads * c->d_kv, F = c->d_ff, H = c->num_heads;
    size_t Tk = (size_t)(max_len > enc_len ? max_len : enc_len);
    t5_decoder *d = calloc(1, sizeof *d);
    if (!d)
        goto oom;
    d->m = m, d->rows = d->cap = rows, d->enc_len = enc_len, d->max_len = max_len;
    size_t per_layer = 2 * R * max_len * HD + 2 * R * enc_len * HD;
    size_t n = L * per_layer + 2 * R * D + R + 4 * R * HD + 3 * R * F + R * H * Tk + R * c->vocab_size +
               R * max_len * HD;
    d->mem = malloc(n * sizeof(float));
    d->sk = malloc(4 * (size_t)L * sizeof(float *));
    d->allow = malloc(R * max_len + R * enc_len);
    d->bucket = malloc(sizeof(int32_t) * (R * max_len + 2 * R * enc_len));
    if (!d->mem || !d->sk || !d->allow || !d->bucket)
        goto oom;
    d->sv = d->sk + L, d->ck = d->sv + L, d->cv = d->ck + L;
    float *p = d->mem;
    for (int l = 0; l < L; l++) {
        d->sk[l] = p, p += R * max_len * HD;
        d->sv[l] = p, p += R * max_len * HD;
        d->ck[l] = p, p += R * enc_len * HD;
        d->cv[l] = p, p += R * enc_len * HD;
    }
    d->x = p, p += R * D;
    d->ln = p, p += R * D;
    d->rstd = p, p += R;
    d->q = p, p += R * HD;
    d->k = p, p += R * HD;
    d->v = p, p += R * HD;
    d->att = p, p += R * HD;
    d->ffa = p, p += R * F;
    d->ffb = p, p += R * F;
    d->ffh = p, p += R * F;
    d->P = p, p += R * H * Tk;
    d->logits = p, p += R * c->vocab_size;
    d->tmp = p;
    d->cross_allow = d->allow + R * max_len;
    d->enc_seg = d->bucket + R * max_len;
    d->enc_pos = d->enc_seg + R * enc_len;
    return d; /* the encoder's activations are reserved by the start that runs it, for its rows */
oom:
    t0_fail(err, T0_EINTERNAL, "out of memory for the decoder of %d x %d/%d tokens", rows, enc_len, max_len);
    t5_decoder_free(d);
    return NULL;
}

int t5_decoder_start(t5_decoder *d, const int32_t *enc_tokens, t0_error *err)
{
    t5_model *m = d->m;
    const t5_config *c = &m->cfg;
    d->rows = d->cap;
    int R = d->rows, T = d->enc_len;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < T; j++) {
            int i = r * T + j;
            d->enc_seg[i] = enc_tokens[i] != c->pad_token_id;
            d->enc_pos[i] = j;
            d->cross_allow[i] = (uint8_t)d->enc_seg[i];
        }
    t5_batch b = {R, T, 1, enc_tokens, d->enc_seg, d->enc_pos, NULL, NULL, NULL, NULL, NULL};
    if (t5_model_reserve(m, R, T, 1, 0, err) != 0 || t5_encode(m, &b, NULL, err) != 0)
        return -1;
    const float *enc = t5_encoder_output(m);
    for (int l = 0; l < c->num_decoder_layers; l++) {
        const t5_attn_w *ca = &m->w.dec[l].ca;
        t5_linear(d->ck[l], enc, &ca->k, R * T, 1.0f, 0);
        t5_linear(d->cv[l], enc, &ca->v, R * T, 1.0f, 0);
    }
    d->pos = 0;
    return 0;
}

/* The decoder stack over n new positions of every row, whose embeddings are in a->x and
 * whose masks the caller filled: each block (t5_block.h) appends its self-attention keys and
 * values to the cache at d->pos and updates a->x in place; leaves the logits
 * [rows*n][vocab] in a->logits. */
static void decoder_layers(t5_decoder *d, const feed_acts *a, int n)
{
    t5_model *m = d->m;
    const t5_config *c = &m->cfg;
    int N = d->rows * n, D = c->d_model;
    for (int l = 0; l < c->num_decoder_layers; l++) {
        t5_block_acts ba = {.ln1 = a->ln, .rstd1 = a->rstd, .q = a->q, .k = a->k, .v = a->v, .P = a->P,
                            .att = a->att, .mid1 = a->x, .lnc = a->ln, .rstdc = a->rstd, .qc = a->q,
                            .kc = d->ck[l], .vc = d->cv[l], .Pc = a->P, .attc = a->att, .mid2 = a->x,
                            .ln2 = a->ln, .rstd2 = a->rstd, .ffa = a->ffa, .ffb = a->ffb, .ffh = a->ffh};
        t5_block_run r = {.c = c, .dec = 1, .layer = l, .rows = d->rows, .Tq = n, .allow = a->allow,
                          .bucket = a->bucket, .rel_bias = m->w.dec_rel_bias, .cache_k = d->sk[l],
                          .cache_v = d->sv[l], .cache_at = d->pos, .cache_stride = d->max_len,
                          .enc_len = d->enc_len, .cross_allow = a->cross_allow, .slots = 1};
        t5_block_forward(&m->w.dec[l], &ba, a->x, a->x, &r);
    }
    t5_rmsnorm_forward(a->ln, a->rstd, a->x, m->w.dec_final_ln, N, D, c->layer_norm_epsilon);
    t5_linear(a->logits, a->ln, &m->w.lm_head, N, t5_output_scale(c), 0);
}

int t5_decoder_step(t5_decoder *d, const int32_t *tokens, const float **logits, t0_error *err)
{
    t5_model *m = d->m;
    const t5_config *c = &m->cfg;
    if (d->pos >= d->max_len)
        return t0_fail(err, T0_EINTERNAL, "decoder cache full (%d positions)", d->max_len);
    t5_set_ftz();
    int R = d->rows, t = d->pos, Tk = t + 1;
    for (int r = 0; r < R; r++)
        if (tokens[r] < 0 || tokens[r] >= c->vocab_size)
            return t0_fail(err, T0_EINPUT, "token %d out of vocabulary (%d)", tokens[r], c->vocab_size);
    t5_embed(d->x, tokens, &m->w.shared, R);
    /* position t attends to 0..t; relative position j - t, causal buckets */
    for (int r = 0; r < R; r++)
        for (int j = 0; j < Tk; j++) {
            d->allow[r * Tk + j] = 1;
            d->bucket[r * Tk + j] = t5_relative_bucket(j - t, 0, c->relative_attention_num_buckets,
                                                       c->relative_attention_max_distance);
        }
    feed_acts a = {d->x, d->ln, d->rstd, d->q, d->k, d->v, d->att, d->ffa, d->ffb, d->ffh, d->P, d->logits,
                   d->allow, d->cross_allow, d->bucket, NULL};
    decoder_layers(d, &a, 1);
    d->pos++;
    *logits = d->logits;
    return 0;
}

/* ---------------------------------------------------------------- reordering rows
 * Beam search moves hypotheses between rows, and finished rows leave the batch. */

int t5_decoder_rows(const t5_decoder *d)
{
    return d->rows;
}

int t5_decoder_reorder(t5_decoder *d, const int *src_rows, t0_error *err)
{
    const t5_config *c = &d->m->cfg;
    size_t HD = (size_t)c->num_heads * c->d_kv, row = (size_t)d->max_len * HD, used = (size_t)d->pos * HD;
    for (int r = 0; r < d->rows; r++)
        if (src_rows[r] < 0 || src_rows[r] >= d->rows)
            return t0_fail(err, T0_EINTERNAL, "t5_decoder_reorder: row %d of %d", src_rows[r], d->rows);
    for (int l = 0; l < c->num_decoder_layers; l++) {
        float *cache[2] = {d->sk[l], d->sv[l]};
        for (int kv = 0; kv < 2; kv++) {
            for (int r = 0; r < d->rows; r++) /* rows that keep their own cache move nothing */
                if (src_rows[r] != r)
                    memcpy(d->tmp + r * row, cache[kv] + (size_t)src_rows[r] * row, sizeof(float) * used);
            for (int r = 0; r < d->rows; r++)
                if (src_rows[r] != r)
                    memcpy(cache[kv] + r * row, d->tmp + r * row, sizeof(float) * used);
        }
    }
    return 0;
}

int t5_decoder_keep(t5_decoder *d, const int *rows, int n, t0_error *err)
{
    const t5_config *c = &d->m->cfg;
    size_t HD = (size_t)c->num_heads * c->d_kv, row = (size_t)d->max_len * HD, used = (size_t)d->pos * HD;
    size_t crow = (size_t)d->enc_len * HD;
    for (int i = 0; i < n; i++)
        if (rows[i] < i || rows[i] >= d->rows || (i > 0 && rows[i] <= rows[i - 1]))
            return t0_fail(err, T0_EINTERNAL, "t5_decoder_keep: rows not ascending within %d", d->rows);
    for (int i = 0; i < n; i++) {
        size_t src = (size_t)rows[i];
        if (src == (size_t)i)
            continue;
        for (int l = 0; l < c->num_decoder_layers; l++) {
            memmove(d->sk[l] + i * row, d->sk[l] + src * row, sizeof(float) * used);
            memmove(d->sv[l] + i * row, d->sv[l] + src * row, sizeof(float) * used);
            memmove(d->ck[l] + i * crow, d->ck[l] + src * crow, sizeof(float) * crow);
            memmove(d->cv[l] + i * crow, d->cv[l] + src * crow, sizeof(float) * crow);
        }
        memmove(d->cross_allow + (size_t)i * d->enc_len, d->cross_allow + src * d->enc_len, (size_t)d->enc_len);
    }
    d->rows = n;
    return 0;
}

/* ---------------------------------------------------------------- scoring rows */

int t5_decoder_start_rows(t5_decoder *d, const int32_t *enc_tokens, int n_examples, int enc_len, int n_rows,
                          const int *row_example, t0_error *err)
{
    if (!d->rows_cap) /* the first call records the sizes the decoder was made for */
        d->rows_cap = d->rows, d->enc_cap = d->enc_len;
    if (n_rows < 1 || n_rows > d->rows_cap || enc_len < 1 || enc_len > d->enc_cap || n_examples < 1 ||
        n_examples > n_rows)
        return t0_fail(err, T0_EINTERNAL, "%d rows of %d inputs x %d tokens exceed the decoder's %d x %d", n_rows,
                       n_examples, enc_len, d->rows_cap, d->enc_cap);
    for (int r = 0; r < n_rows; r++)
        if (row_example[r] < 0 || row_example[r] >= n_examples)
            return t0_fail(err, T0_EINTERNAL, "row %d: no input %d", r, row_example[r]);
    t5_model *m = d->m;
    const t5_config *c = &m->cfg;
    int T = enc_len, D = c->d_model, HD = c->num_heads * c->d_kv;
    for (int i = 0; i < n_examples * T; i++) {
        d->enc_seg[i] = enc_tokens[i] != c->pad_token_id;
        d->enc_pos[i] = i % T;
    }
    t5_batch b = {n_examples, T, 1, enc_tokens, d->enc_seg, d->enc_pos, NULL, NULL, NULL, NULL, NULL};
    if (t5_model_reserve(m, n_examples, T, 1, 0, err) != 0 || t5_encode(m, &b, NULL, err) != 0)
        return -1;
    d->rows = n_rows, d->enc_len = T;
    const float *enc = t5_encoder_output(m);
    size_t row = (size_t)T * HD;
    for (int r = 0; r < n_rows; r++) {
        int e = row_example[r], first = 0;
        while (row_example[first] != e)
            first++;
        for (int j = 0; j < T; j++)
            d->cross_allow[(size_t)r * T + j] = (uint8_t)d->enc_seg[e * T + j];
        for (int l = 0; l < c->num_decoder_layers; l++) {
            float *ck = d->ck[l] + r * row, *cv = d->cv[l] + r * row;
            if (first == r) { /* the input's first row computes, the others copy */
                t5_linear(ck, enc + (size_t)e * T * D, &m->w.dec[l].ca.k, T, 1.0f, 0);
                t5_linear(cv, enc + (size_t)e * T * D, &m->w.dec[l].ca.v, T, 1.0f, 0);
            } else {
                memcpy(ck, d->ck[l] + first * row, sizeof(float) * row);
                memcpy(cv, d->cv[l] + first * row, sizeof(float) * row);
            }
        }
    }
    d->pos = 0;
    return 0;
}

static int feed_reserve(t5_decoder *d, int n, feed_acts *a, t0_error *err)
{
    const t5_config *c = &d->m->cfg;
    size_t N = (size_t)d->rows * n, D = c->d_model, HD = (size_t)c->num_heads * c->d_kv, F = c->d_ff;
    size_t Tk = (size_t)(d->pos + n > d->enc_len ? d->pos + n : d->enc_len);
    size_t P = N * c->num_heads * Tk, nmask = N * (size_t)(d->pos + n) + N * d->enc_len;
    /* masks and buckets live after the floats (an int32 per element is plenty for both) */
    size_t need = 2 * N * D + 2 * N + 4 * N * HD + 3 * N * F + P + N * c->vocab_size + nmask + N * (d->pos + n);
    if (need > d->wide_floats) {
        free(d->wide);
        d->wide = malloc(need * sizeof(float));
        d->wide_floats = d->wide ? need : 0;
        if (!d->wide)
            return t0_fail(err, T0_EINTERNAL, "out of memory for %zu decoder positions", N);
    }
    float *p = d->wide;
    a->x = p, p += N * D;
    a->ln = p, p += N * D;
    a->rstd = p, p += N;
    a->q = p, p += N * HD;
    a->k = p, p += N * HD;
    a->v = p, p += N * HD;
    a->att = p, p += N * HD;
    a->ffa = p, p += N * F;
    a->ffb = p, p += N * F;
    a->ffh = p, p += N * F;
    a->P = p, p += P;
    a->logits = p, p += N * c->vocab_size;
    a->lse = p, p += N;
    a->bucket = (int32_t *)p, p += N * (d->pos + n);
    a->allow = (uint8_t *)p;
    a->cross_allow = a->allow + N * (size_t)(d->pos + n);
    return 0;
}

int t5_decoder_feed(t5_decoder *d, const int32_t *tokens, int n, const float **logits, t0_error *err)
{
    t5_model *m = d->m;
    const t5_config *c = &m->cfg;
    if (n < 1 || d->pos + n > d->max_len)
        return t0_fail(err, T0_EINTERNAL, "%d positions after %d exceed the decoder's %d", n, d->pos, d->max_len);
    int R = d->rows, N = R * n, t = d->pos, Tk = t + n, T = d->enc_len;
    for (int i = 0; i < N; i++)
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return t0_fail(err, T0_EINPUT, "token %d out of vocabulary (%d)", tokens[i], c->vocab_size);
    feed_acts a = {0};
    if (feed_reserve(d, n, &a, err) != 0)
        return -1;
    t5_set_ftz();
    t5_embed(a.x, tokens, &m->w.shared, N);
    /* position t+i attends to 0..t+i (relative position j - (t+i), causal buckets) and to
     * its row's input */
    for (int r = 0; r < R; r++)
        for (int i = 0; i < n; i++) {
            size_t q = (size_t)r * n + i;
            for (int j = 0; j < Tk; j++) {
                a.allow[q * Tk + j] = j <= t + i;
                a.bucket[q * Tk + j] = t5_relative_bucket(j - (t + i), 0, c->relative_attention_num_buckets,
                                                          c->relative_attention_max_distance);
            }
            memcpy(a.cross_allow + q * T, d->cross_allow + (size_t)r * T, T);
        }
    decoder_layers(d, &a, n);
    d->pos += n;
    *logits = a.logits;
    d->feed_lse = a.lse;
    return 0;
}

int t5_decoder_feed_logprobs(t5_decoder *d, const int32_t *tokens, const int32_t *targets, int n, double *logprob,
                             t0_error *err)
{
    int N = d->rows * n, V = d->m->cfg.vocab_size;
    for (int i = 0; i < N; i++)
        if (targets[i] < 0 || targets[i] >= V)
            return t0_fail(err, T0_EINPUT, "target %d out of vocabulary (%d)", targets[i], V);
    const float *logits;
    if (t5_decoder_feed(d, tokens, n, &logits, err) != 0)
        return -1;
    t5_logsumexp_rows(d->feed_lse, logits, N, V);
    for (int i = 0; i < N; i++)
        logprob[i] = (double)logits[(size_t)i * V + targets[i]] - (double)d->feed_lse[i];
    return 0;
}
