/* score.c: see score.h. */
#include "eval/score.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t5/t5_decode.h"
#include "t5/t5_pool.h"

/* One example of the window, copied out of the reader's memory. */
typedef struct {
    char *task, *tmpl;
    uint64_t id;
    int32_t label;
    int32_t *input; /* n_input ids, cut to max_input_len */
    int n_input, n_choices, max_choice;
    int32_t **choice;
    int *choice_len;
    double *scores;
    int32_t pred;
} item;

/* What one thread needs: a view of the model with its own activations, a decoder sized
 * for the largest example seen so far, and per-row buffers. */
typedef struct {
    t5_model *view;
    t5_decoder *dec;
    int rows_cap, enc_cap, len_cap;
    int32_t *tok, *target;
    int *row_example;
    double *logprob;
} worker;

struct t0_scorer {
    t5_model *m;
    t0_score_opts o;
    int nw;
    worker *w;
    item *items;
    int *order;
};

static void item_clear(item *it)
{
    free(it->task);
    free(it->tmpl);
    free(it->input);
    for (int k = 0; k < it->n_choices; k++)
        free(it->choice[k]);
    free(it->choice);
    free(it->choice_len);
    free(it->scores);
    memset(it, 0, sizeof *it);
}

static void worker_free(worker *w)
{
    t5_decoder_free(w->dec);
    t5_model_unshare(w->view);
    free(w->tok);
    free(w->target);
    free(w->row_example);
    free(w->logprob);
}

void t0_scorer_free(t0_scorer *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nw; i++)
        worker_free(&s->w[i]);
    free(s->w);
    if (s->items)
        for (int i = 0; i < s->o.window; i++)
            item_clear(&s->items[i]);
    free(s->items);
    free(s->order);
    free(s);
}

t0_scorer *t0_scorer_create(t5_model *m, const t0_score_opts *o, t0_error *err)
{
    t0_scorer *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->m = m, s->o = *o;
    if (s->o.window < 1)
        s->o.window = 1;
    /* Our threads take whole examples and call a one-thread BLAS: OpenBLAS's own threads
     * would split products in ways that change a row's result. */
    s->nw = t5_set_worker_threads(o->threads);
    s->w = calloc((size_t)s->nw, sizeof *s->w);
    s->items = calloc((size_t)s->o.window, sizeof *s->items);
    s->order = calloc((size_t)s->o.window, sizeof *s->order);
    if (!s->w || !s->items || !s->order)
        goto oom;
    for (int i = 0; i < s->nw; i++)
        if (!(s->w[i].view = t5_model_share(m, err)))
            goto fail;
    return s;
oom:
    t0_fail(err, T0_EINTERNAL, "out of memory");
fail:
    t0_scorer_free(s);
    return NULL;
}

int32_t t0_score_argmax(const double *scores, uint32_t n)
{
    int32_t best = n ? 0 : -1;
    for (uint32_t k = 1; k < n; k++)
        if (scores[k] > scores[best])
            best = (int32_t)k;
    return best;
}

/* Grows w's decoder and buffers to hold it; sizes round up so that they rarely change.
 * The sizes do not affect results (t5_decoder_start_rows computes exactly the rows). */
static int worker_fit(worker *w, const item *it, t0_error *err)
{
    if (w->dec && it->n_choices <= w->rows_cap && it->n_input <= w->enc_cap && it->max_choice <= w->len_cap)
        return 0;
    int rows = it->n_choices > w->rows_cap ? it->n_choices : w->rows_cap;
    int enc = it->n_input > w->enc_cap ? (it->n_input + 63) / 64 * 64 : w->enc_cap;
    int len = it->max_choice > w->len_cap ? (it->max_choice + 15) / 16 * 16 : w->len_cap;
    t5_decoder_free(w->dec);
    free(w->tok), free(w->target), free(w->row_example), free(w->logprob);
    size_t n = (size_t)rows * len; /* a token, target and log-probability per row and position */
    w->tok = malloc(sizeof(int32_t) * n);
    w->target = malloc(sizeof(int32_t) * n);
    w->row_example = calloc((size_t)rows, sizeof(int));
    w->logprob = malloc(sizeof(double) * n);
    w->dec = t5_decoder_create(w->view, rows, enc, len, err);
    w->rows_cap = rows, w->enc_cap = enc, w->len_cap = len;
    if (!w->dec)
        return -1;
    if (!w->tok || !w->target || !w->row_example || !w->logprob)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    return 0;
}

/* The choices of one example, teacher-forced in one pass: decoder inputs decoder_start,
 * c1, c2, ...; targets c1, ..., EOS; each row sums log_softmax at its targets over its own
 * length (rows shorter than the longest are padded; their padding is not counted). */
static int score_item(worker *w, item *it, t0_error *err)
{
    if (worker_fit(w, it, err) != 0)
        return -1;
    const t5_config *c = &w->view->cfg;
    int C = it->n_choices, L = it->max_choice;
    if (t5_decoder_start_rows(w->dec, it->input, 1, it->n_input, C, w->row_example, err) != 0)
        return -1;
    for (int r = 0; r < C; r++)
        for (int t = 0; t < L; t++) {
            int live = t < it->choice_len[r];
            size_t i = (size_t)r * L + t;
            w->tok[i] = t == 0                     ? c->decoder_start_token_id
                        : t <= it->choice_len[r] ? it->choice[r][t - 1]
                                                 : c->pad_token_id;
            w->target[i] = live ? it->choice[r][t] : 0;
        }
    if (t5_decoder_feed_logprobs(w->dec, w->tok, w->target, L, w->logprob, err) != 0)
        return -1;
    for (int r = 0; r < C; r++) {
        double sum = 0.0;
        for (int t = 0; t < it->choice_len[r]; t++)
            sum += w->logprob[(size_t)r * L + t];
        it->scores[r] = sum;
    }
    it->pred = t0_score_argmax(it->scores, (uint32_t)C);
    return 0;
}

typedef struct {
    t0_scorer *s;
    int n;
    atomic_int next, failed;
    t0_error *errs;
} window_job;

static void window_task(void *ctx, int tid)
{
    window_job *j = ctx;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(&j->failed))
            return;
        if (score_item(&j->s->w[tid], &j->s->items[j->s->order[i]], &j->errs[tid]) != 0) {
            atomic_store(&j->failed, tid + 1);
            return;
        }
    }
}

static int longer_first(const void *a, const void *b, void *items)
{
    const item *x = (const item *)items + *(const int *)a, *y = (const item *)items + *(const int *)b;
    long cx = (long)x->n_input + 4L * x->n_choices * x->max_choice, cy = (long)y->n_input + 4L * y->n_choices * y->max_choice;
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* Scores items[0..n) on the workers, the costliest first (each thread takes the next one
 * when it is done, so a window's long examples do not all land on one thread). */
static int score_window(t0_scorer *s, int n, t0_error *err)
{
    for (int i = 0; i < n; i++)
        s->order[i] = i;
    qsort_r(s->order, (size_t)n, sizeof(int), longer_first, s->items);
    t0_error errs[T5_MAX_THREADS];
    window_job j = {.s = s, .n = n, .errs = errs};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    t5_run_workers(s->nw, window_task, &j);
    int f = atomic_load(&j.failed);
    if (f) {
        *err = errs[f - 1];
        return -1;
    }
    return 0;
}

static char *dup_str(const char *p)
{
    size_t n = strlen(p) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, p, n);
    return d;
}

static int32_t *dup_ids(const int32_t *v, int n)
{
    int32_t *d = malloc(sizeof(int32_t) * (n ? n : 1));
    if (d && n)
        memcpy(d, v, sizeof(int32_t) * n);
    return d;
}

/* 1 when an id lies outside [0, V), *bad being the first such */
static int bad_id(const t0_ids *ids, int V, int32_t *bad)
{
    for (uint32_t i = 0; i < ids->n; i++)
        if (ids->v[i] < 0 || ids->v[i] >= V) {
            *bad = ids->v[i];
            return 1;
        }
    return 0;
}

/* Copies a token record into it. 1: taken; 0: unscorable and skipped; -1: error. */
static int take(t0_scorer *s, const t0_reader *r, const t0_record *rec, item *it, t0_error *err)
{
    const t5_config *c = &s->m->cfg;
    char where[512];
    snprintf(where, sizeof where, "%s: record %llu (%s/%s id %llu)", t0_reader_name(r),
             (unsigned long long)t0_reader_count(r), rec->task, rec->template_name, (unsigned long long)rec->id);
    const char *why = rec->n_choices == 0 ? "no answer choices" : rec->input_ids.n == 0 ? "an empty input" : NULL;
    if (why) {
        if (s->o.skip_unscorable)
            return 0;
        return t0_fail(err, T0_EINPUT, "%s: %s, nothing to score (--skip-unscorable leaves such examples out)",
                       where, why);
    }
    int n_input = (int)rec->input_ids.n;
    if (s->o.max_input_len > 0 && n_input > s->o.max_input_len)
        n_input = s->o.max_input_len;
    int32_t bad;
    if (bad_id(&rec->input_ids, c->vocab_size, &bad))
        return t0_fail(err, T0_EINPUT, "%s: input id %d is beyond the model's vocabulary (%d)", where, bad,
                       c->vocab_size);
    for (uint32_t k = 0; k < rec->n_choices; k++) {
        if (rec->choice_ids[k].n == 0)
            return t0_fail(err, T0_EINPUT, "%s: choice %u has no tokens", where, k);
        if (bad_id(&rec->choice_ids[k], c->vocab_size, &bad))
            return t0_fail(err, T0_EINPUT, "%s: choice %u: id %d is beyond the model's vocabulary (%d)", where, k,
                           bad, c->vocab_size);
    }
    item_clear(it);
    it->id = rec->id, it->label = rec->label, it->n_input = n_input;
    it->task = dup_str(rec->task);
    it->tmpl = dup_str(rec->template_name);
    it->input = dup_ids(rec->input_ids.v, n_input);
    it->choice = calloc(rec->n_choices, sizeof *it->choice);
    it->choice_len = calloc(rec->n_choices, sizeof(int));
    it->scores = calloc(rec->n_choices, sizeof(double));
    if (!it->task || !it->tmpl || !it->input || !it->choice || !it->choice_len || !it->scores)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (uint32_t k = 0; k < rec->n_choices; k++) {
        int len = (int)rec->choice_ids[k].n;
        it->n_choices = (int)k + 1;
        if (!(it->choice[k] = dup_ids(rec->choice_ids[k].v, len)))
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        it->choice_len[k] = len;
        if (len > it->max_choice)
            it->max_choice = len;
    }
    return 1;
}

static int write_window(t0_scorer *s, int n, t0_writer *w, t0_error *err)
{
    for (int i = 0; i < n; i++) {
        const item *it = &s->items[i];
        t0_record rec = {.kind = T0_KIND_SCORE, .task = it->task, .template_name = it->tmpl, .id = it->id,
                         .label = it->label, .n_choices = (uint32_t)it->n_choices, .scores = it->scores,
                         .pred = it->pred};
        if (t0_writer_write(w, &rec, err) != 0)
            return -1;
    }
    return 0;
}

int t0_score_stream(t0_scorer *s, t0_reader *r, t0_writer *w, t0_score_stats *st, t0_error *err)
{
    memset(st, 0, sizeof *st);
    t0_record rec;
    int n = 0, rc;
    while ((rc = t0_reader_next(r, &rec, err)) > 0) {
        st->read++;
        if (t0_reader_expect(r, &rec, T0_KIND_TOKENS, err) != 0)
            return -1;
        int took = take(s, r, &rec, &s->items[n], err);
        if (took < 0)
            return -1;
        st->skipped += took == 0;
        n += took;
        if (n == s->o.window) {
            if (score_window(s, n, err) != 0 || write_window(s, n, w, err) != 0)
                return -1;
            st->scored += n, n = 0;
            if (s->o.progress)
                s->o.progress(s->o.progress_ctx, st);
        }
    }
    if (rc < 0)
        return -1;
    if (n && (score_window(s, n, err) != 0 || write_window(s, n, w, err) != 0))
        return -1;
    st->scored += n;
    return 0;
}
