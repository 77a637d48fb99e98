/* beam.c: beam search as transformers 4.44's _beam_search, BeamSearchScorer.process /
 * finalize and BeamHypotheses (generate.h). Scores are float32 where torch keeps them in
 * tensors (log-softmax, beam scores) and double where Python holds them (hypothesis
 * scores, the length penalty). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate/beam.h"

typedef struct {
    double score;
    int len; /* ids: start token first, without the closing EOS */
    int finished;
    int32_t *ids;
} hyp;

/* BeamHypotheses of one example: up to K kept, in insertion order */
typedef struct {
    hyp *h; /* K + 1 slots */
    int n, done;
    double worst;
} hyps;

/* BeamHypotheses.add */
static void hyps_add(hyps *s, int K, double lp, const int32_t *ids, int len, int finished, float sum_logprobs,
                     int generated_len)
{
    double score = (double)sum_logprobs / pow((double)generated_len, lp);
    if (!(s->n < K || score > s->worst))
        return;
    hyp *h = &s->h[s->n++];
    int32_t *keep = h->ids; /* slots own their id buffers */
    memcpy(keep, ids, sizeof(int32_t) * len);
    h->score = score, h->len = len, h->finished = finished;
    if (s->n > K) {
        /* drop the lowest (first index among equal scores), worst = the second lowest */
        int lo = 0;
        for (int i = 1; i < s->n; i++)
            if (s->h[i].score < s->h[lo].score)
                lo = i;
        int lo2 = -1;
        for (int i = 0; i < s->n; i++)
            if (i != lo && (lo2 < 0 || s->h[i].score < s->h[lo2].score))
                lo2 = i;
        s->worst = s->h[lo2].score;
        hyp gone = s->h[lo];
        memmove(&s->h[lo], &s->h[lo + 1], sizeof(hyp) * (size_t)(s->n - lo - 1));
        s->h[--s->n] = gone; /* its id buffer goes back to the free slot */
    } else if (score < s->worst) {
        s->worst = score;
    }
}

/* BeamHypotheses.is_done (early_stopping True or False; decoder prompt length 1) */
static int hyps_is_done(const hyps *s, int K, const t0_gen_opts *o, float best_sum_logprobs, int cur_len)
{
    if (s->n < K)
        return 0;
    if (o->early_stopping)
        return 1;
    double highest = (double)best_sum_logprobs / pow((double)(cur_len - 1), o->length_penalty);
    return s->worst >= highest;
}

/* log_softmax of l[V] into out, in float as torch does */
static void log_softmax(float *out, const float *l, int V)
{
    float mx = l[0];
    for (int v = 1; v < V; v++)
        mx = l[v] > mx ? l[v] : mx;
    double sum = 0;
    for (int v = 0; v < V; v++)
        sum += exp((double)(l[v] - mx));
    float lse = (float)log(sum);
    for (int v = 0; v < V; v++)
        out[v] = (l[v] - mx) - lse;
}

/* The best n of s[N] by value (larger first; the lower index first among equals): idx[n] */
static void top_n(const float *s, int N, int n, int *idx)
{
    int have = 0;
    for (int i = 0; i < N; i++) {
        if (have == n && !(s[i] > s[idx[n - 1]]))
            continue;
        int j = have < n ? have++ : n - 1;
        while (j > 0 && s[i] > s[idx[j - 1]]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

typedef struct {
    int B, K, V, W; /* examples, beams, vocabulary, max length (start token included) */
    hyps *hy;       /* [B] */
    int32_t *seq, *seq2; /* [B*K][W]: each beam's ids (the two halves of seq_mem, swapped each step) */
    int32_t *seq_mem;
    float *score, *cand; /* beam scores [B*K]; candidates [K*V] */
    int *top, *src, *keep, *ex; /* [2K], [B*K], [B*K], active examples [B] */
    int32_t *tok;        /* [B*K] */
    hyp *slots;
    int32_t *hyp_ids;
} beam_state;

static void state_free(beam_state *s)
{
    free(s->hy);
    free(s->seq_mem);
    free(s->score);
    free(s->top);
    free(s->tok);
    free(s->slots);
    free(s->hyp_ids);
}

static int state_init(beam_state *s, int B, int K, int V, int W)
{
    size_t R = (size_t)B * K;
    *s = (beam_state){.B = B, .K = K, .V = V, .W = W};
    s->hy = calloc((size_t)B, sizeof *s->hy);
    s->seq = s->seq_mem = malloc(sizeof(int32_t) * 2 * R * W);
    s->score = malloc(sizeof(float) * (R + (size_t)K * V));
    s->top = malloc(sizeof(int) * (2 * (size_t)K + 3 * R + B));
    s->tok = malloc(sizeof(int32_t) * R);
    s->slots = malloc(sizeof(hyp) * (size_t)B * (K + 1));
    s->hyp_ids = malloc(sizeof(int32_t) * (size_t)B * (K + 1) * W);
    if (!s->hy || !s->seq || !s->score || !s->top || !s->tok || !s->slots || !s->hyp_ids)
        return -1;
    s->seq2 = s->seq + R * W;
    s->cand = s->score + R;
    s->src = s->top + 2 * K, s->keep = s->src + R, s->ex = s->keep + R;
    for (int b = 0; b < B; b++) {
        s->hy[b] = (hyps){s->slots + (size_t)b * (K + 1), 0, 0, 1e9};
        for (int i = 0; i <= K; i++)
            s->hy[b].h[i].ids = s->hyp_ids + ((size_t)b * (K + 1) + i) * W;
    }
    return 0;
}

/* BeamSearchScorer.process for active example position a (rows a*K..), cur_len as
 * there (input length + 1). Fills score, tok, src for its rows. */
static void process(beam_state *s, const t0_gen_opts *o, int eos, int a, int b, int cur_len)
{
    int K = s->K, V = s->V, W = s->W;
    top_n(s->cand, K * V, 2 * K, s->top);
    int beam = 0;
    for (int rank = 0; rank < 2 * K && beam < K; rank++) {
        int i = s->top[rank], from = a * K + i / V, t = i % V;
        float sc = s->cand[i];
        if (t == eos) {
            if (rank >= K)
                continue;
            hyps_add(&s->hy[b], K, o->length_penalty, s->seq + (size_t)from * W, cur_len - 1, 1, sc, cur_len - 1);
        } else {
            int r = a * K + beam++;
            s->score[r] = sc, s->tok[r] = t, s->src[r] = from;
        }
    }
    s->hy[b].done = hyps_is_done(&s->hy[b], K, o, s->cand[s->top[0]], cur_len);
}

/* finalize: the open beams of examples not done join their hypotheses, then the
 * num_return best of each (sorted ascending, stable, taken from the end) */
static void finalize(beam_state *s, const t0_gen_opts *o, int n_active, int len, t0_gen_seq *out, int32_t *ids)
{
    int K = s->K, W = s->W, J = o->num_return;
    for (int a = 0; a < n_active; a++) {
        int b = s->ex[a];
        if (s->hy[b].done)
            continue;
        for (int k = 0; k < K; k++)
            hyps_add(&s->hy[b], K, o->length_penalty, s->seq + ((size_t)a * K + k) * W, len, 0,
                     s->score[a * K + k], len - 1);
    }
    for (int b = 0; b < s->B; b++) {
        hyps *h = &s->hy[b];
        int used[64] = {0}; /* K <= 64 */
        for (int j = 0; j < J; j++) {
            int best = -1; /* the last of the highest: what pop() after a stable sort gives */
            for (int i = 0; i < h->n; i++)
                if (!used[i] && (best < 0 || h->h[i].score >= h->h[best].score))
                    best = i;
            used[best] = 1;
            const hyp *p = &h->h[best];
            int32_t *dst = ids + ((size_t)b * J + j) * W;
            memcpy(dst, p->ids + 1, sizeof(int32_t) * (size_t)(p->len - 1));
            int n = p->len - 1;
            if (p->finished)
                dst[n++] = -1; /* the EOS, set by the caller */
            out[b * J + j] = (t0_gen_seq){dst, n, p->finished, p->score};
        }
    }
}

int gen_beam(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, t0_gen_seq *out, t0_error *err)
{
    const t5_config *c = &g->m->cfg;
    const t0_gen_opts *o = &g->o;
    int B = rows, K = o->num_beams, V = c->vocab_size, W = o->max_new_tokens + 1, J = o->num_return;
    if (K > 64)
        return t0_fail(err, T0_EINPUT, "at most 64 beams");
    if (gen_reserve_ids(g, (size_t)B * J * W, err) != 0)
        return -1;
    beam_state s;
    t5_decoder *d = NULL;
    int rc = -1;
    if (state_init(&s, B, K, V, W) != 0) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        goto done;
    }
    if (!(d = gen_start(g, enc_tokens, B, enc_len, K, err)))
        goto done;
    for (int r = 0; r < B * K; r++) {
        s.seq[(size_t)r * W] = s.tok[r] = c->decoder_start_token_id;
        s.score[r] = r % K ? -1e9f : 0.0f;
    }
    for (int b = 0; b < B; b++)
        s.ex[b] = b;
    int n = B, len = 1; /* active examples, input length */
    for (;;) {
        const float *logits;
        if (t5_decoder_step(d, s.tok, &logits, err) != 0)
            goto done;
        for (int a = 0; a < n; a++) {
            for (int k = 0; k < K; k++) {
                int r = a * K + k;
                float *cand = s.cand + (size_t)k * V;
                log_softmax(cand, logits + (size_t)r * V, V);
                gen_ban_ngrams(s.seq + (size_t)r * W, len, o->no_repeat_ngram, cand);
                for (int v = 0; v < V; v++)
                    cand[v] += s.score[r];
            }
            process(&s, o, c->eos_token_id, a, s.ex[a], len + 1);
        }
        for (int r = 0; r < n * K; r++) { /* input_ids = cat(input_ids[beam_idx], tokens) */
            memcpy(s.seq2 + (size_t)r * W, s.seq + (size_t)s.src[r] * W, sizeof(int32_t) * len);
            s.seq2[(size_t)r * W + len] = s.tok[r];
        }
        int32_t *t = s.seq;
        s.seq = s.seq2, s.seq2 = t;
        len++;
        if (t5_decoder_reorder(d, s.src, err) != 0)
            goto done;
        int kept = 0, still = 0;
        for (int a = 0; a < n; a++)
            still += !s.hy[s.ex[a]].done;
        if (!still || len >= W)
            break;
        for (int a = 0; a < n; a++) { /* done examples leave the batch */
            if (s.hy[s.ex[a]].done)
                continue;
            for (int k = 0; k < K; k++) {
                int from = a * K + k, to = kept * K + k;
                s.keep[to] = from;
                s.score[to] = s.score[from], s.tok[to] = s.tok[from];
                memmove(s.seq + (size_t)to * W, s.seq + (size_t)from * W, sizeof(int32_t) * len);
            }
            s.ex[kept++] = s.ex[a];
        }
        if (kept < n && t5_decoder_keep(d, s.keep, kept * K, err) != 0)
            goto done;
        n = kept;
    }
    finalize(&s, o, n, len, out, g->ids);
    for (int i = 0; i < B * J; i++)
        if (out[i].finished)
            out[i].ids[out[i].n - 1] = c->eos_token_id;
    rc = 0;
done:
    t5_decoder_free(d);
    state_free(&s);
    return rc;
}
