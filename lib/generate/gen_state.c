/* gen_state.c: see gen_state.h. */
#include "generate/gen_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void t0_gen_defaults(t0_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_new_tokens = 64;
    o->num_beams = 1;
    o->length_penalty = 1.0;
    o->num_return = 1;
    o->temperature = 1.0f;
    o->top_k = 50;
    o->top_p = 1.0f;
}

t0_gen *t0_gen_create(t5_model *m, const t0_gen_opts *o, t0_error *err)
{
    if (o->max_new_tokens < 1 || o->num_beams < 1 || o->num_return < 1 || o->no_repeat_ngram < 0 ||
        (o->num_beams > 1 && o->num_return > o->num_beams) || (o->num_beams > 1 && o->sample) ||
        (o->num_beams == 1 && !o->sample && o->num_return > 1) || o->temperature <= 0.0f || o->top_k < 0 ||
        !(o->top_p > 0.0f && o->top_p <= 1.0f)) {
        t0_fail(err, T0_EINPUT, "invalid generation options");
        return NULL;
    }
    t0_gen *g = calloc(1, sizeof *g);
    if (!g) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    g->m = m, g->o = *o;
    return g;
}

void t0_gen_free(t0_gen *g)
{
    if (!g)
        return;
    free(g->ids);
    free(g);
}

int gen_reserve_ids(t0_gen *g, size_t n, t0_error *err)
{
    if (n <= g->ids_cap)
        return 0;
    int32_t *p = realloc(g->ids, n * sizeof *p);
    if (!p)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    g->ids = p, g->ids_cap = n;
    return 0;
}

t5_decoder *gen_start(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, int repeat, t0_error *err)
{
    int R = rows * repeat;
    int *row_input = malloc(sizeof(int) * (size_t)R);
    t5_decoder *d = row_input ? t5_decoder_create(g->m, R, enc_len, g->o.max_new_tokens, err) : NULL;
    if (!row_input)
        t0_fail(err, T0_EINTERNAL, "out of memory");
    if (d) { /* the encoder runs once per input; its repeats (beams, samples) share it */
        for (int r = 0; r < R; r++)
            row_input[r] = r / repeat;
        if (t5_decoder_start_rows(d, enc_tokens, rows, enc_len, R, row_input, err) != 0) {
            t5_decoder_free(d);
            d = NULL;
        }
    }
    free(row_input);
    return d;
}

void gen_ban_ngrams(const int32_t *seq, int len, int n, float *scores)
{
    if (n <= 0 || len + 1 < n)
        return;
    const int32_t *key = seq + len - (n - 1); /* the last n-1 tokens */
    for (int i = 0; i + n <= len; i++)
        if (memcmp(seq + i, key, sizeof(int32_t) * (size_t)(n - 1)) == 0)
            scores[seq[i + n - 1]] = -INFINITY;
}

