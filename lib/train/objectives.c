/* objectives.c: T5's span corruption and prefix LM over documents drawn from a mixture
 * (objectives.h). */
#include "train/objectives.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t5/t5_init.h"
#include "train/pack.h"

static double next_unit(uint64_t *rng) /* [0, 1) */
{
    return (double)(t5_splitmix64(rng) >> 11) * 0x1.0p-53;
}

/* ---------------- lengths ---------------- */

/* random_spans_helper's arithmetic for a segment of `tokens` ids: Python floats (double),
 * round() half to even, as nearbyint does in the default rounding mode. */
static void helper_lengths(uint32_t tokens, double density, double mean_span, uint32_t *in, uint32_t *tg)
{
    double noise = nearbyint((double)tokens * density);
    double spans = nearbyint(noise / mean_span);
    *in = (uint32_t)((double)tokens - noise + spans + 1);
    *tg = (uint32_t)(noise + spans + 1);
}

int t0_span_lengths(uint32_t inputs_length, double noise_density, double mean_span, uint32_t *tokens_length,
                    uint32_t *targets_length, t0_error *err)
{
    uint32_t tokens = inputs_length - 1, in, tg;
    for (;;) {
        helper_lengths(tokens + 1, noise_density, mean_span, &in, &tg);
        if (in > inputs_length)
            break;
        tokens++;
    }
    if (tokens == 0)
        return t0_fail(err, T0_EINPUT, "an input of %u ids holds no span-corrupted segment", inputs_length);
    helper_lengths(tokens, noise_density, mean_span, &in, &tg);
    if (noise_density == 0.5 && tg > in) { /* t5's tweak: a target as long as the input */
        tokens--;
        tg--;
    }
    *tokens_length = tokens, *targets_length = tg;
    return 0;
}

void t0_span_counts(uint32_t length, double noise_density, double mean_span, uint32_t *noise, uint32_t *spans)
{
    /* TF: to_int(round(to_float(length) * density)), all float32 */
    float n = nearbyintf((float)length * (float)noise_density);
    uint32_t k = (uint32_t)n;
    k = k < 1 ? 1 : k > length - 1 ? length - 1 : k;
    uint32_t s = (uint32_t)nearbyintf((float)k / (float)mean_span);
    s = s < 1 ? 1 : s;
    /* t5 never reaches this with its densities; it keeps every span non-empty otherwise */
    if (s > length - k)
        s = length - k;
    *noise = k, *spans = s;
}

void t0_random_segmentation(uint32_t n_items, uint32_t n_segments, uint64_t *rng, uint32_t *lengths)
{
    /* Selection sampling (Knuth's algorithm S): n_segments - 1 of the n_items - 1 gaps
     * between items start a new segment, every choice of gaps equally likely, as
     * t5's shuffled indicator vector makes them. */
    uint32_t cuts = n_segments - 1, gaps = n_items - 1, seg = 0, len = 1;
    for (uint32_t i = 0; i + 1 < n_items; i++, gaps--) {
        if (cuts && next_unit(rng) * gaps < cuts) {
            lengths[seg++] = len;
            len = 1;
            cuts--;
        } else {
            len++;
        }
    }
    lengths[seg] = len;
}

/* ---------------- one segment ---------------- */

static int push(t0_id_buf *b, const int32_t *ids, size_t n, t0_error *err)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        b->v = v, b->cap = cap;
    }
    if (n)
        memcpy(b->v + b->n, ids, n * sizeof *ids);
    b->n += n;
    return 0;
}

static int push1(t0_id_buf *b, int32_t id, t0_error *err)
{
    return push(b, &id, 1, err);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

int t0_span_corrupt(const int32_t *ids, uint32_t n, double noise_density, double mean_span, int32_t first_sentinel,
                    uint64_t *rng, t0_id_buf *input, t0_id_buf *target, t0_error *err)
{
    input->n = target->n = 0;
    uint32_t len = n < 2 ? 2 : n, noise, spans; /* t5: a mask of max(n, 2), cut back to n */
    t0_span_counts(len, noise_density, mean_span, &noise, &spans);
    uint32_t *lengths = malloc(2 * (size_t)spans * sizeof *lengths);
    if (!lengths)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    uint32_t *noise_len = lengths, *keep_len = lengths + spans;
    t0_random_segmentation(noise, spans, rng, noise_len);
    t0_random_segmentation(len - noise, spans, rng, keep_len);
    int rc = 0;
    uint32_t at = 0;
    for (uint32_t s = 0; rc == 0 && s < spans && at < n; s++) {
        int32_t sentinel = first_sentinel - (int32_t)s;
        uint32_t keep = min_u32(keep_len[s], n - at); /* non-noise span s, then noise span s */
        rc = push(input, ids + at, keep, err) || push1(target, sentinel, err);
        at += keep;
        if (rc == 0 && at < n) {
            uint32_t drop = min_u32(noise_len[s], n - at);
            rc = push1(input, sentinel, err) || push(target, ids + at, drop, err);
            at += drop;
        }
    }
    free(lengths);
    if (rc == 0)
        rc = push1(input, T0_EOS_ID, err) || push1(target, T0_EOS_ID, err);
    return rc ? -1 : 0;
}

int t0_prefix_lm(const int32_t *ids, uint32_t n, uint64_t *rng, t0_id_buf *input, t0_id_buf *target,
                 t0_error *err)
{
    input->n = target->n = 0;
    /* random_prefix_noise_mask at density 0.5: k uniform in [min(1, n - 1), n - 1] */
    uint32_t hi = n - 1, lo = hi < 1 ? hi : 1;
    uint32_t k = lo + (uint32_t)(next_unit(rng) * (double)(hi - lo + 1));
    if (push(input, ids, k, err) || push1(input, T0_EOS_ID, err) || push(target, ids + k, n - k, err) ||
        push1(target, T0_EOS_ID, err))
        return -1;
    return 0;
}

/* ---------------- the stream ---------------- */

struct t0_objective {
    t0_objective_opts o;
    t0_mixture *m;
    uint32_t segment_len, target_len;
    uint64_t rng;
    t0_id_buf group;    /* the documents concatenated */
    size_t *doc_start;  /* [T0_OBJECTIVE_CONCAT + 1] where each document of the group starts */
    size_t *doc_task;
    size_t n_docs, doc; /* documents in the group; the one holding `at` */
    size_t at;          /* the next segment's start in group */
    uint64_t documents, segments;
    t0_id_buf input, target;
};

/* The longest input and target any segment of 1..segment_len ids gives (span corruption),
 * and the most spans, for the checks against the row and the sentinels. */
static void span_extremes(const t0_objective *ob, uint32_t *in, uint32_t *tg, uint32_t *spans)
{
    *in = *tg = 2, *spans = 1; /* a segment of 1 id: [id, EOS], [sentinel, EOS] */
    for (uint32_t n = 2; n <= ob->segment_len; n++) {
        uint32_t k, s;
        t0_span_counts(n, ob->o.noise_density, ob->o.mean_span, &k, &s);
        uint32_t i = n - k + s + 1, t = k + s + 1;
        *in = i > *in ? i : *in, *tg = t > *tg ? t : *tg, *spans = s > *spans ? s : *spans;
    }
}

static int check_span_corruption(t0_objective *ob, t0_error *err)
{
    const t0_objective_opts *o = &ob->o;
    if (!(o->noise_density > 0 && o->noise_density < 1) || !(o->mean_span >= 1))
        return t0_fail(err, T0_EINPUT, "span corruption needs a noise density in (0, 1) and a mean span >= 1");
    uint32_t helper_target;
    if (t0_span_lengths(o->input_len, o->noise_density, o->mean_span, &ob->segment_len, &helper_target, err))
        return -1;
    uint32_t in, tg, spans;
    span_extremes(ob, &in, &tg, &spans);
    ob->target_len = tg;
    if (in > o->input_len || tg > o->target_len)
        return t0_fail(err, T0_EINPUT,
                       "span corruption of %u-id segments (random_spans_helper for an input of %u) makes targets "
                       "of up to %u ids: give a target length of at least %u",
                       ob->segment_len, o->input_len, tg, tg);
    if (spans > T0_OBJECTIVE_SENTINELS)
        return t0_fail(err, T0_EINPUT, "an input of %u ids makes up to %u noise spans, more than T5's %d sentinels",
                       o->input_len, spans, T0_OBJECTIVE_SENTINELS);
    if (o->vocab_size < T0_OBJECTIVE_SENTINELS + 3)
        return t0_fail(err, T0_EINPUT, "a vocabulary of %d ids has no room for T5's sentinels", o->vocab_size);
    return 0;
}

static int check(t0_objective *ob, t0_error *err)
{
    const t0_objective_opts *o = &ob->o;
    if (o->input_len < 2 || o->target_len < 2)
        return t0_fail(err, T0_EINPUT, "the objectives need input and target lengths of at least 2");
    if (o->kind == T0_OBJECTIVE_SPAN_CORRUPTION)
        return check_span_corruption(ob, err);
    if (o->kind != T0_OBJECTIVE_PREFIX_LM)
        return t0_fail(err, T0_EINPUT, "unknown objective");
    ob->segment_len = min_u32(o->input_len, o->target_len) - 1;
    ob->target_len = ob->segment_len + 1;
    return 0;
}

t0_objective *t0_objective_open(const t0_objective_opts *o, t0_mixture *m, t0_error *err)
{
    t0_objective *ob = calloc(1, sizeof *ob);
    if (!ob) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    ob->o = *o, ob->m = m;
    ob->rng = o->seed ^ 0x5eed0b1ec71fe5ull; /* a stream of its own beside the mixture's */
    ob->doc_start = calloc(T0_OBJECTIVE_CONCAT + 1, sizeof *ob->doc_start);
    ob->doc_task = calloc(T0_OBJECTIVE_CONCAT, sizeof *ob->doc_task);
    if (!ob->doc_start || !ob->doc_task) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        t0_objective_close(ob);
        return NULL;
    }
    if (check(ob, err)) {
        t0_objective_close(ob);
        return NULL;
    }
    return ob;
}

uint32_t t0_objective_segment_len(const t0_objective *ob)
{
    return ob->segment_len;
}

uint32_t t0_objective_target_len(const t0_objective *ob)
{
    return ob->target_len;
}

/* Appends one drawn document to the group: input then target ids, without the target's
 * final EOS; over T0_OBJECTIVE_CHUNK ids, one of its chunks at random. */
static int add_document(t0_objective *ob, const t0_mix_example *ex, t0_error *err)
{
    uint32_t n_tg = ex->n_target;
    if (n_tg && ex->target[n_tg - 1] == T0_EOS_ID)
        n_tg--;
    size_t n = (size_t)ex->n_input + n_tg, from = 0;
    if (n == 0)
        return 0; /* t5 filters empty documents */
    if (n > T0_OBJECTIVE_CHUNK) {
        size_t chunks = (n + T0_OBJECTIVE_CHUNK - 1) / T0_OBJECTIVE_CHUNK;
        from = T0_OBJECTIVE_CHUNK * (size_t)(next_unit(&ob->rng) * (double)chunks);
        n = n - from < T0_OBJECTIVE_CHUNK ? n - from : T0_OBJECTIVE_CHUNK;
    }
    ob->doc_start[ob->n_docs] = ob->group.n;
    ob->doc_task[ob->n_docs] = ex->task;
    ob->n_docs++;
    /* the ids from..from+n of input ++ target */
    size_t in_from = from < ex->n_input ? from : ex->n_input;
    size_t in_n = ex->n_input - in_from < n ? ex->n_input - in_from : n;
    size_t tg_from = from > ex->n_input ? from - ex->n_input : 0;
    return push(&ob->group, ex->input + in_from, in_n, err) || push(&ob->group, ex->target + tg_from, n - in_n, err)
               ? -1
               : 0;
}

/* Draws the next group: 128 documents (span corruption) or one (prefix LM); 0 with an
 * empty group when the documents are all drawn. */
static int next_group(t0_objective *ob, t0_error *err)
{
    size_t want = ob->o.kind == T0_OBJECTIVE_SPAN_CORRUPTION ? T0_OBJECTIVE_CONCAT : 1;
    ob->group.n = 0, ob->n_docs = 0, ob->doc = 0, ob->at = 0;
    uint64_t empty = 0;
    while (ob->n_docs < want && !(ob->o.documents && ob->documents >= ob->o.documents)) {
        t0_mix_example ex;
        if (t0_mixture_next(ob->m, &ex, err))
            return -1;
        ob->documents++;
        if (add_document(ob, &ex, err))
            return -1;
        if (ob->group.n == 0 && ++empty > 1000000)
            return t0_fail(err, T0_EINPUT, "a million documents in a row without an id: is the input text empty?");
    }
    ob->doc_start[ob->n_docs] = ob->group.n;
    return 0;
}

int t0_objective_next(t0_objective *ob, t0_mix_example *ex, t0_error *err)
{
    if (ob->at >= ob->group.n) {
        if (next_group(ob, err))
            return -1;
        if (ob->group.n == 0)
            return 0;
    }
    while (ob->doc + 1 < ob->n_docs && ob->doc_start[ob->doc + 1] <= ob->at)
        ob->doc++;
    size_t left = ob->group.n - ob->at;
    uint32_t n = left < ob->segment_len ? (uint32_t)left : ob->segment_len;
    const int32_t *ids = ob->group.v + ob->at;
    int rc = ob->o.kind == T0_OBJECTIVE_SPAN_CORRUPTION
                 ? t0_span_corrupt(ids, n, ob->o.noise_density, ob->o.mean_span, ob->o.vocab_size - 1, &ob->rng,
                                   &ob->input, &ob->target, err)
                 : t0_prefix_lm(ids, n, &ob->rng, &ob->input, &ob->target, err);
    if (rc)
        return -1;
    ob->at += n;
    ob->segments++;
    *ex = (t0_mix_example){.task = ob->doc_task[ob->doc],
                           .input = ob->input.v,
                           .n_input = (uint32_t)ob->input.n,
                           .target = ob->target.v,
                           .n_target = (uint32_t)ob->target.n};
    return 1;
}

uint64_t t0_objective_documents(const t0_objective *ob)
{
    return ob->documents;
}

uint64_t t0_objective_segments(const t0_objective *ob)
{
    return ob->segments;
}

void t0_objective_close(t0_objective *ob)
{
    if (!ob)
        return;
    free(ob->group.v);
    free(ob->input.v);
    free(ob->target.v);
    free(ob->doc_start);
    free(ob->doc_task);
    free(ob);
}
