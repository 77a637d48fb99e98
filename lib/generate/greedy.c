/* greedy.c: greedy search and sampling (greedy.h), one token per sequence a step. */
#include "generate/greedy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double t0_gen_uniform(uint64_t seed, uint64_t input, uint64_t j, uint64_t step)
{
    uint64_t h = mix(mix(mix(mix(seed) ^ input) ^ j) ^ step);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------------------------------------------------------------- choosing a token */

static int argmax(const float *l, int V)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (l[v] > l[best])
            best = v;
    return best;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper in that order, then a draw
 * u from the softmax; l[V] is overwritten, tmp[V] scratch. */
static int sample(const t0_gen_opts *o, float *l, float *tmp, int V, double u)
{
    if (o->temperature != 1.0f)
        for (int v = 0; v < V; v++)
            l[v] /= o->temperature;
    if (o->top_k > 0 && o->top_k < V) {
        memcpy(tmp, l, sizeof(float) * V);
        qsort(tmp, (size_t)V, sizeof(float), cmp_desc);
        float kth = tmp[o->top_k - 1];
        for (int v = 0; v < V; v++)
            if (l[v] < kth)
                l[v] = -INFINITY;
    }
    float mx = l[argmax(l, V)];
    double total = 0;
    for (int v = 0; v < V; v++)
        total += exp((double)l[v] - mx);
    if (o->top_p < 1.0f) {
        /* remove the smallest tokens whose cumulative probability stays <= 1 - top_p,
         * keeping at least the largest: find that threshold value over the sorted list */
        memcpy(tmp, l, sizeof(float) * V);
        qsort(tmp, (size_t)V, sizeof(float), cmp_desc);
        double cum = 0, limit = 1.0 - o->top_p;
        int keep = V; /* tokens kept, from the top */
        for (int i = V - 1; i > 0; i--) {
            cum += exp((double)tmp[i] - mx) / total;
            if (cum > limit)
                break;
            keep = i;
        }
        float cut = tmp[keep - 1];
        int ties_removed = 0; /* equal values below the cut position are removed too, by count */
        for (int i = keep; i < V; i++)
            ties_removed += tmp[i] == cut;
        total = 0;
        for (int v = V - 1; v >= 0; v--) {
            if (l[v] < cut || (l[v] == cut && ties_removed-- > 0))
                l[v] = -INFINITY;
            total += exp((double)l[v] - mx);
        }
    }
    double target = u * total, cum = 0;
    int last = 0;
    for (int v = 0; v < V; v++) {
        if (l[v] == -INFINITY)
            continue;
        cum += exp((double)l[v] - mx);
        last = v;
        if (cum > target)
            return v;
    }
    return last;
}

/* ---------------------------------------------------------------- greedy and sampling */

int gen_greedy(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, const uint64_t *index,
                      t0_gen_seq *out, t0_gen_token_fn on_token, void *ctx, t0_error *err)
{
    const t5_config *c = &g->m->cfg;
    const t0_gen_opts *o = &g->o;
    int J = o->num_return, R = rows * J, V = c->vocab_size, W = o->max_new_tokens + 1;
    if (gen_reserve_ids(g, (size_t)R * W, err) != 0)
        return -1;
    int *active = malloc(sizeof(int) * R), *keep = malloc(sizeof(int) * R);
    int32_t *tok = malloc(sizeof(int32_t) * R);
    float *l = malloc(sizeof(float) * 2 * V);
    t5_decoder *d = active && keep && tok && l ? gen_start(g, enc_tokens, rows, enc_len, J, err) : NULL;
    int rc = -1;
    if (!d) {
        if (!(active && keep && tok && l))
            t0_fail(err, T0_EINTERNAL, "out of memory");
        goto done;
    }
    for (int r = 0; r < R; r++) {
        active[r] = r, tok[r] = c->decoder_start_token_id;
        g->ids[(size_t)r * W] = c->decoder_start_token_id;
        out[r] = (t0_gen_seq){g->ids + (size_t)r * W + 1, 0, 0, 0.0};
    }
    int n = R;
    for (int step = 0; step < o->max_new_tokens && n > 0; step++) {
        const float *logits;
        if (t5_decoder_step(d, tok, &logits, err) != 0)
            goto done;
        int kept = 0;
        for (int a = 0; a < n; a++) {
            int r = active[a];
            memcpy(l, logits + (size_t)a * V, sizeof(float) * V);
            gen_ban_ngrams(g->ids + (size_t)r * W, step + 1, o->no_repeat_ngram, l);
            int t = argmax(l, V);
            if (o->sample) {
                uint64_t in = index ? index[r / J] : (uint64_t)(r / J);
                t = sample(o, l, l + V, V, t0_gen_uniform(o->seed, in, (uint64_t)(r % J), (uint64_t)step));
            }
            g->ids[(size_t)r * W + step + 1] = t;
            out[r].n++;
            if (on_token && (rc = on_token(ctx, r, t)) != 0) {
                if (err && !err->msg[0])
                    t0_fail(err, T0_EINTERNAL, "generation stopped by its token callback");
                goto done;
            }
            if (t == c->eos_token_id)
                out[r].finished = 1;
            else
                keep[kept] = a, active[kept] = r, tok[kept] = t, kept++;
        }
        if (kept < n && kept > 0 && t5_decoder_keep(d, keep, kept, err) != 0)
            goto done;
        n = kept;
    }
    rc = 0;
done:
    t5_decoder_free(d);
    free(active);
    free(keep);
    free(tok);
    free(l);
    return rc;
}

