/* record.c: the payload of each record kind, encoded and decoded (layout in stream.h). */
#include "stream/record.h"

#include "common/utf8.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[T0_KIND_COUNT] = {"none", "example", "tokens", "batch", "score"};
static const char *const kind_makers[T0_KIND_COUNT] = {"", "t0-render", "t0-tokenize", "t0-pack",
                                                       "t0-score"};
static const char *const feature_names[T0_BATCH_FEATURES] = {
    "encoder_input_tokens",  "encoder_segment_ids",  "encoder_positions",
    "decoder_target_tokens", "decoder_input_tokens", "decoder_segment_ids",
    "decoder_positions",     "decoder_loss_weights",
};

const char *t0_kind_name(t0_kind kind)
{
    return (int)kind > T0_KIND_NONE && (int)kind < T0_KIND_COUNT ? kind_names[kind] : "unknown";
}

const char *t0_kind_maker(t0_kind kind)
{
    return (int)kind > T0_KIND_NONE && (int)kind < T0_KIND_COUNT ? kind_makers[kind] : "";
}

t0_kind t0_kind_from_name(const char *name)
{
    for (int k = 1; k < T0_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (t0_kind)k;
    return T0_KIND_NONE;
}

const char *t0_batch_feature_name(int feature)
{
    return feature >= 0 && feature < T0_BATCH_FEATURES ? feature_names[feature] : "unknown";
}

uint32_t t0_batch_feature_len(const t0_record *rec, int feature)
{
    return feature <= T0_ENC_POSITIONS ? rec->enc_len : rec->dec_len;
}

/* ---- text validation ---- */

/* ---- encoding ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t extra, t0_error *err)
{
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return t0_fail(err, T0_EINTERNAL, "out of memory encoding a record of %zu bytes", cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put_le(buf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static int put_u32(buf *b, uint32_t v, t0_error *err)
{
    if (buf_reserve(b, 4, err))
        return -1;
    put_le(b, v, 4);
    return 0;
}

static int put_u64(buf *b, uint64_t v, t0_error *err)
{
    if (buf_reserve(b, 8, err))
        return -1;
    put_le(b, v, 8);
    return 0;
}

static int put_f64(buf *b, double v, t0_error *err)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return put_u64(b, bits, err);
}

static int put_str(buf *b, const char *s, const char *what, t0_error *err)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    if (n > T0_RECORD_MAX)
        return t0_fail(err, T0_EINPUT, "%s: string of %zu bytes is too long", what, n);
    if (t0_check_text(s, n, what, err) || put_u32(b, (uint32_t)n, err) || buf_reserve(b, n, err))
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static int put_i32s(buf *b, const int32_t *v, size_t n, t0_error *err)
{
    if (buf_reserve(b, 4 * n, err))
        return -1;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n)
        memcpy(b->p + b->len, v, 4 * n);
    b->len += 4 * n;
#else
    for (size_t i = 0; i < n; i++)
        put_le(b, (uint32_t)v[i], 4);
#endif
    return 0;
}

static int put_ids(buf *b, const t0_ids *ids, t0_error *err)
{
    if (put_u32(b, ids->n, err))
        return -1;
    return put_i32s(b, ids->v, ids->n, err);
}

static int put_meta(buf *b, const t0_record *rec, t0_error *err)
{
    if (put_str(b, rec->task, "task", err) || put_str(b, rec->template_name, "template", err))
        return -1;
    return put_u64(b, rec->id, err);
}

static int check_index(int32_t v, uint32_t n, const char *what, t0_error *err)
{
    if (v < -1 || (v >= 0 && (uint32_t)v >= n))
        return t0_fail(err, T0_EINPUT, "%s %d is not -1 or an index into %u choices", what, v, n);
    return 0;
}

static int encode_example(buf *b, const t0_record *rec, t0_error *err)
{
    if (check_index(rec->label, rec->n_choices, "label", err) || put_meta(b, rec, err) ||
        put_str(b, rec->input, "input", err) || put_str(b, rec->target, "target", err) ||
        put_u32(b, rec->n_choices, err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if (put_str(b, rec->choices[i], "choice", err))
            return -1;
    return put_u32(b, (uint32_t)rec->label, err);
}

static int encode_tokens(buf *b, const t0_record *rec, t0_error *err)
{
    if (check_index(rec->label, rec->n_choices, "label", err) || put_meta(b, rec, err) ||
        put_ids(b, &rec->input_ids, err) || put_ids(b, &rec->target_ids, err) ||
        put_u32(b, rec->n_choices, err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if (put_ids(b, &rec->choice_ids[i], err))
            return -1;
    return put_u32(b, (uint32_t)rec->label, err);
}

static int encode_batch(buf *b, const t0_record *rec, t0_error *err)
{
    uint64_t cells = (uint64_t)rec->rows * (3ull * rec->enc_len + 5ull * rec->dec_len);
    if (cells * 4 + 12 > T0_RECORD_MAX)
        return t0_fail(err, T0_EINPUT, "batch of %u rows x %u+%u tokens is larger than a record may be",
                       rec->rows, rec->enc_len, rec->dec_len);
    if (put_u32(b, rec->rows, err) || put_u32(b, rec->enc_len, err) || put_u32(b, rec->dec_len, err))
        return -1;
    for (int f = 0; f < T0_BATCH_FEATURES; f++)
        if (put_i32s(b, rec->feature[f], (size_t)rec->rows * t0_batch_feature_len(rec, f), err))
            return -1;
    return 0;
}

static int encode_score(buf *b, const t0_record *rec, t0_error *err)
{
    if (check_index(rec->label, rec->n_choices, "label", err) ||
        check_index(rec->pred, rec->n_choices, "pred", err) || put_meta(b, rec, err) ||
        put_u32(b, rec->n_choices, err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if (put_f64(b, rec->scores[i], err))
            return -1;
    if (put_u32(b, (uint32_t)rec->pred, err))
        return -1;
    return put_u32(b, (uint32_t)rec->label, err);
}

int t0_record_encode(const t0_record *rec, uint8_t **out, size_t *out_len, t0_error *err)
{
    size_t cap = 0;
    *out = NULL;
    if (t0_record_encode_into(rec, out, &cap, out_len, err) == 0)
        return 0;
    free(*out);
    *out = NULL;
    return -1;
}

int t0_record_encode_into(const t0_record *rec, uint8_t **bytes, size_t *cap, size_t *out_len, t0_error *err)
{
    buf b = {.p = *bytes, .cap = *cap};
    int rc;
    if (buf_reserve(&b, T0_RECORD_HEADER, err))
        return -1;
    b.len = T0_RECORD_HEADER;
    switch (rec->kind) {
    case T0_KIND_EXAMPLE: rc = encode_example(&b, rec, err); break;
    case T0_KIND_TOKENS: rc = encode_tokens(&b, rec, err); break;
    case T0_KIND_BATCH: rc = encode_batch(&b, rec, err); break;
    case T0_KIND_SCORE: rc = encode_score(&b, rec, err); break;
    default: rc = t0_fail(err, T0_EINTERNAL, "cannot encode a record of kind %d", (int)rec->kind);
    }
    size_t payload = b.len - T0_RECORD_HEADER;
    if (rc == 0 && payload > T0_RECORD_MAX)
        rc = t0_fail(err, T0_EINPUT, "%s record of %zu bytes is larger than a record may be",
                     t0_kind_name(rec->kind), payload);
    *bytes = b.p;
    *cap = b.cap;
    if (rc)
        return -1;
    b.p[0] = 'T';
    b.p[1] = '0';
    b.p[2] = (uint8_t)rec->kind;
    b.p[3] = T0_RECORD_VERSION;
    size_t end = b.len;
    b.len = 4;
    put_le(&b, payload, 4);
    *out_len = end;
    return 0;
}

/* ---- decoding ----
 * Two passes over the payload with the same code: the first validates and measures the
 * arena the record needs, the second copies into it. So a record costs one allocation
 * of exactly its size, and a lying length can never make us allocate beyond the payload. */

typedef struct {
    const uint8_t *p, *end;
    uint8_t *arena; /* NULL in the measuring pass */
    size_t used;
} cursor;

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int take(cursor *c, size_t n, const char *what, t0_error *err)
{
    if ((size_t)(c->end - c->p) < n)
        return t0_fail(err, T0_EINPUT, "%s runs past the end of the record", what);
    return 0;
}

static int take_u32(cursor *c, uint32_t *v, const char *what, t0_error *err)
{
    if (take(c, 4, what, err))
        return -1;
    *v = (uint32_t)get_le(c->p, 4);
    c->p += 4;
    return 0;
}

static int take_u64(cursor *c, uint64_t *v, const char *what, t0_error *err)
{
    if (take(c, 8, what, err))
        return -1;
    *v = get_le(c->p, 8);
    c->p += 8;
    return 0;
}

static void *arena_alloc(cursor *c, size_t n)
{
    size_t at = (c->used + 7) & ~(size_t)7;
    c->used = at + n;
    return c->arena ? c->arena + at : NULL;
}

static int take_str(cursor *c, const char **s, const char *what, t0_error *err)
{
    uint32_t n;
    if (take_u32(c, &n, what, err) || take(c, n, what, err))
        return -1;
    if (!c->arena && t0_check_text((const char *)c->p, n, what, err))
        return -1;
    char *dst = arena_alloc(c, (size_t)n + 1);
    if (dst) {
        memcpy(dst, c->p, n);
        dst[n] = '\0';
    }
    *s = dst;
    c->p += n;
    return 0;
}

static int take_i32s(cursor *c, int32_t **v, size_t n, const char *what, t0_error *err)
{
    if (n > (size_t)(c->end - c->p) / 4)
        return t0_fail(err, T0_EINPUT, "%s runs past the end of the record", what);
    int32_t *dst = arena_alloc(c, 4 * n);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (dst && n)
        memcpy(dst, c->p, 4 * n); /* the stream's order is the machine's */
#else
    if (dst)
        for (size_t i = 0; i < n; i++)
            dst[i] = (int32_t)(uint32_t)get_le(c->p + 4 * i, 4);
#endif
    *v = dst;
    c->p += 4 * n;
    return 0;
}

static int take_ids(cursor *c, t0_ids *ids, const char *what, t0_error *err)
{
    if (take_u32(c, &ids->n, what, err))
        return -1;
    return take_i32s(c, &ids->v, ids->n, what, err);
}

static int take_count(cursor *c, uint32_t *n, size_t min_each, const char *what, t0_error *err)
{
    if (take_u32(c, n, what, err))
        return -1;
    if (*n > (size_t)(c->end - c->p) / min_each)
        return t0_fail(err, T0_EINPUT, "%s count %u runs past the end of the record", what, *n);
    return 0;
}

static int take_index(cursor *c, int32_t *v, uint32_t n, const char *what, t0_error *err)
{
    uint32_t u;
    if (take_u32(c, &u, what, err))
        return -1;
    *v = (int32_t)u;
    return check_index(*v, n, what, err);
}

static int take_meta(cursor *c, t0_record *rec, t0_error *err)
{
    if (take_str(c, &rec->task, "task", err) || take_str(c, &rec->template_name, "template", err))
        return -1;
    return take_u64(c, &rec->id, "id", err);
}

static int decode_example(cursor *c, t0_record *rec, t0_error *err)
{
    if (take_meta(c, rec, err) || take_str(c, &rec->input, "input", err) ||
        take_str(c, &rec->target, "target", err) ||
        take_count(c, &rec->n_choices, 4, "choices", err))
        return -1;
    rec->choices = arena_alloc(c, sizeof(char *) * rec->n_choices);
    for (uint32_t i = 0; i < rec->n_choices; i++) {
        const char *s;
        if (take_str(c, &s, "choice", err))
            return -1;
        if (rec->choices)
            rec->choices[i] = s;
    }
    return take_index(c, &rec->label, rec->n_choices, "label", err);
}

static int decode_tokens(cursor *c, t0_record *rec, t0_error *err)
{
    if (take_meta(c, rec, err) || take_ids(c, &rec->input_ids, "input_ids", err) ||
        take_ids(c, &rec->target_ids, "target_ids", err) ||
        take_count(c, &rec->n_choices, 4, "choice_ids", err))
        return -1;
    rec->choice_ids = arena_alloc(c, sizeof(t0_ids) * rec->n_choices);
    for (uint32_t i = 0; i < rec->n_choices; i++) {
        t0_ids ids;
        if (take_ids(c, &ids, "choice_ids", err))
            return -1;
        if (rec->choice_ids)
            rec->choice_ids[i] = ids;
    }
    return take_index(c, &rec->label, rec->n_choices, "label", err);
}

static int decode_batch(cursor *c, t0_record *rec, t0_error *err)
{
    if (take_u32(c, &rec->rows, "rows", err) || take_u32(c, &rec->enc_len, "enc_len", err) ||
        take_u32(c, &rec->dec_len, "dec_len", err))
        return -1;
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        uint64_t n = (uint64_t)rec->rows * t0_batch_feature_len(rec, f);
        if (n > T0_RECORD_MAX)
            return t0_fail(err, T0_EINPUT, "%s runs past the end of the record", t0_batch_feature_name(f));
        if (take_i32s(c, &rec->feature[f], (size_t)n, t0_batch_feature_name(f), err))
            return -1;
    }
    return 0;
}

static int decode_score(cursor *c, t0_record *rec, t0_error *err)
{
    if (take_meta(c, rec, err) || take_count(c, &rec->n_choices, 8, "scores", err))
        return -1;
    rec->scores = arena_alloc(c, sizeof(double) * rec->n_choices);
    for (uint32_t i = 0; i < rec->n_choices; i++) {
        uint64_t bits;
        if (take_u64(c, &bits, "scores", err))
            return -1;
        if (rec->scores)
            memcpy(&rec->scores[i], &bits, 8);
    }
    if (take_index(c, &rec->pred, rec->n_choices, "pred", err))
        return -1;
    return take_index(c, &rec->label, rec->n_choices, "label", err);
}

static int decode_pass(cursor *c, t0_kind kind, t0_record *rec, t0_error *err)
{
    int rc;
    switch (kind) {
    case T0_KIND_EXAMPLE: rc = decode_example(c, rec, err); break;
    case T0_KIND_TOKENS: rc = decode_tokens(c, rec, err); break;
    case T0_KIND_BATCH: rc = decode_batch(c, rec, err); break;
    case T0_KIND_SCORE: rc = decode_score(c, rec, err); break;
    default: return t0_fail(err, T0_EINPUT, "unknown record kind %d", (int)kind);
    }
    if (rc == 0 && c->p != c->end)
        rc = t0_fail(err, T0_EINPUT, "%zu bytes left over after the %s payload",
                     (size_t)(c->end - c->p), t0_kind_name(kind));
    return rc;
}

int t0_record_decode(t0_kind kind, const uint8_t *payload, size_t size, t0_arena *arena,
                     t0_record *rec, t0_error *err)
{
    t0_record r = {.kind = kind, .label = -1, .pred = -1};
    cursor c = {.p = payload, .end = payload + size};
    if (decode_pass(&c, kind, &r, err))
        return -1;
    if (c.used > arena->cap) {
        size_t cap = c.used + c.used / 2;
        void *p = malloc(cap);
        if (!p)
            return t0_fail(err, T0_EINTERNAL, "out of memory decoding a record (%zu bytes)", cap);
        free(arena->p);
        arena->p = p;
        arena->cap = cap;
    }
    r = (t0_record){.kind = kind, .label = -1, .pred = -1};
    c = (cursor){.p = payload, .end = payload + size, .arena = arena->p};
    if (decode_pass(&c, kind, &r, err))
        return -1;
    *rec = r;
    return 0;
}
