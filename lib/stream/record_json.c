/* record_json.c: records to and from JSON lines (see record_json.h). */
#include "common/utf8.h"
#include "stream/record_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- printing ---- */

static int put_key(t0_buf *b, const char *key, t0_error *err)
{
    return t0_buf_printf(b, err, ",\"%s\":", key);
}

static int put_str_field(t0_buf *b, const char *key, const char *s, t0_error *err)
{
    if (put_key(b, key, err))
        return -1;
    return json_put_string(b, s ? s : "", s ? strlen(s) : 0, err);
}

static int put_int_array(t0_buf *b, const int32_t *v, size_t n, t0_error *err)
{
    /* 12 bytes bound each: '-', 10 digits, ',' */
    if (t0_buf_reserve(b, 2 + 12 * n, err))
        return -1;
    b->p[b->len++] = '[';
    for (size_t i = 0; i < n; i++)
        b->len += (size_t)sprintf(b->p + b->len, i ? ",%d" : "%d", v[i]);
    b->p[b->len++] = ']';
    b->p[b->len] = '\0';
    return 0;
}

static int put_meta(t0_buf *b, const t0_record *rec, t0_error *err)
{
    if (put_str_field(b, "task", rec->task, err) || put_str_field(b, "template", rec->template_name, err))
        return -1;
    return t0_buf_printf(b, err, ",\"id\":%llu", (unsigned long long)rec->id);
}

static int example_to_json(const t0_record *rec, t0_buf *b, t0_error *err)
{
    if (put_meta(b, rec, err) || put_str_field(b, "input", rec->input, err) ||
        put_str_field(b, "target", rec->target, err) || put_key(b, "choices", err) ||
        t0_buf_puts(b, "[", err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if ((i && t0_buf_puts(b, ",", err)) ||
            json_put_string(b, rec->choices[i], strlen(rec->choices[i]), err))
            return -1;
    return t0_buf_printf(b, err, "],\"label\":%d", rec->label);
}

static int tokens_to_json(const t0_record *rec, t0_buf *b, t0_error *err)
{
    if (put_meta(b, rec, err) || put_key(b, "input_ids", err) ||
        put_int_array(b, rec->input_ids.v, rec->input_ids.n, err) || put_key(b, "target_ids", err) ||
        put_int_array(b, rec->target_ids.v, rec->target_ids.n, err) ||
        put_key(b, "choice_ids", err) || t0_buf_puts(b, "[", err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if ((i && t0_buf_puts(b, ",", err)) ||
            put_int_array(b, rec->choice_ids[i].v, rec->choice_ids[i].n, err))
            return -1;
    return t0_buf_printf(b, err, "],\"label\":%d", rec->label);
}

static int batch_to_json(const t0_record *rec, t0_buf *b, t0_error *err)
{
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        uint32_t len = t0_batch_feature_len(rec, f);
        if (put_key(b, t0_batch_feature_name(f), err) || t0_buf_puts(b, "[", err))
            return -1;
        for (uint32_t r = 0; r < rec->rows; r++)
            if ((r && t0_buf_puts(b, ",", err)) ||
                put_int_array(b, rec->feature[f] + (size_t)r * len, len, err))
                return -1;
        if (t0_buf_puts(b, "]", err))
            return -1;
    }
    return 0;
}

static int score_to_json(const t0_record *rec, t0_buf *b, t0_error *err)
{
    if (put_meta(b, rec, err) || put_key(b, "scores", err) || t0_buf_puts(b, "[", err))
        return -1;
    for (uint32_t i = 0; i < rec->n_choices; i++)
        if ((i && t0_buf_puts(b, ",", err)) || json_put_double(b, rec->scores[i], err))
            return -1;
    return t0_buf_printf(b, err, "],\"pred\":%d,\"label\":%d", rec->pred, rec->label);
}

int t0_record_to_json(const t0_record *rec, t0_buf *out, t0_error *err)
{
    if (t0_buf_printf(out, err, "{\"kind\":\"%s\"", t0_kind_name(rec->kind)))
        return -1;
    int rc;
    switch (rec->kind) {
    case T0_KIND_EXAMPLE: rc = example_to_json(rec, out, err); break;
    case T0_KIND_TOKENS: rc = tokens_to_json(rec, out, err); break;
    case T0_KIND_BATCH: rc = batch_to_json(rec, out, err); break;
    case T0_KIND_SCORE: rc = score_to_json(rec, out, err); break;
    default: rc = t0_fail(err, T0_EINTERNAL, "cannot print a record of kind %d", (int)rec->kind);
    }
    return rc ? -1 : t0_buf_puts(out, "}", err);
}

/* ---- parsing ---- */

/* A list of int32 rows (one row for a flat list). */
typedef struct {
    int32_t *v;
    size_t n, cap;
    uint32_t *row_len;
    size_t rows, rows_cap;
} int_rows;

/* The fields of every kind, in one table: which kinds each belongs to (bit per kind). */
enum { F_KIND, F_TASK, F_TEMPLATE, F_ID, F_INPUT, F_TARGET, F_CHOICES, F_LABEL, F_INPUT_IDS,
       F_TARGET_IDS, F_CHOICE_IDS, F_SCORES, F_PRED, F_FEATURE0, F_COUNT = F_FEATURE0 + T0_BATCH_FEATURES };

#define K(kind) (1u << (kind))
static const unsigned meta_kinds = K(T0_KIND_EXAMPLE) | K(T0_KIND_TOKENS) | K(T0_KIND_SCORE);
static unsigned field_kinds(int f)
{
    switch (f) {
    case F_KIND: return ~0u;
    case F_TASK: case F_TEMPLATE: case F_ID: case F_LABEL: return meta_kinds;
    case F_INPUT: case F_TARGET: case F_CHOICES: return K(T0_KIND_EXAMPLE);
    case F_INPUT_IDS: case F_TARGET_IDS: case F_CHOICE_IDS: return K(T0_KIND_TOKENS);
    case F_SCORES: case F_PRED: return K(T0_KIND_SCORE);
    default: return K(T0_KIND_BATCH);
    }
}
#undef K

static const char *field_name(int f)
{
    static const char *const names[F_FEATURE0] = {
        "kind", "task", "template", "id", "input", "target", "choices", "label",
        "input_ids", "target_ids", "choice_ids", "scores", "pred"};
    return f < F_FEATURE0 ? names[f] : t0_batch_feature_name(f - F_FEATURE0);
}

struct t0_record_parser {
    json_lexer lx;
    char *str[F_COUNT]; /* string fields; for F_CHOICES the strings are in choices */
    char **choices;
    size_t n_choices, choices_cap;
    int_rows ints[F_COUNT];
    double *scores;
    size_t n_scores, scores_cap;
    t0_ids *choice_ids;
    uint64_t id;
    int64_t label, pred;
    int seen[F_COUNT];
};

t0_record_parser *t0_record_parser_new(t0_error *err)
{
    t0_record_parser *p = calloc(1, sizeof *p);
    if (!p)
        t0_fail(err, T0_EINTERNAL, "out of memory");
    return p;
}

static void parser_reset(t0_record_parser *p)
{
    for (int f = 0; f < F_COUNT; f++) {
        free(p->str[f]);
        p->str[f] = NULL;
        p->ints[f].n = p->ints[f].rows = 0;
        p->seen[f] = 0;
    }
    for (size_t i = 0; i < p->n_choices; i++)
        free(p->choices[i]);
    p->n_choices = p->n_scores = 0;
}

void t0_record_parser_free(t0_record_parser *p)
{
    if (!p)
        return;
    parser_reset(p);
    for (int f = 0; f < F_COUNT; f++) {
        free(p->ints[f].v);
        free(p->ints[f].row_len);
    }
    free(p->choices);
    free(p->scores);
    free(p->choice_ids);
    json_lexer_free(&p->lx);
    free(p);
}

static int grow(void **v, size_t *cap, size_t need, size_t size, t0_error *err)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*v, c * size);
    if (!q)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    *v = q;
    *cap = c;
    return 0;
}

static int parse_string(t0_record_parser *p, char **dst, const char *what, t0_error *err)
{
    if (json_next(&p->lx, err))
        return -1;
    if (p->lx.tok != JSON_STRING)
        return json_expected(&p->lx, what, err);
    if (t0_check_text(p->lx.str.p, p->lx.str.len, what, err))
        return -1;
    *dst = strdup(p->lx.str.p);
    return *dst ? 0 : t0_fail(err, T0_EINTERNAL, "out of memory");
}

/* Reads the elements of a JSON array whose '[' was just read, calling each() on each
 * element's first token. */
typedef int (*element_fn)(t0_record_parser *p, void *ctx, t0_error *err);
static int parse_array(t0_record_parser *p, element_fn each, void *ctx, const char *what, t0_error *err)
{
    if (json_next(&p->lx, err))
        return -1;
    if (p->lx.tok == JSON_RBRACKET)
        return 0;
    for (;;) {
        if (each(p, ctx, err) || json_next(&p->lx, err))
            return -1;
        if (p->lx.tok == JSON_RBRACKET)
            return 0;
        if (p->lx.tok != JSON_COMMA)
            return json_expected(&p->lx, what, err);
        if (json_next(&p->lx, err))
            return -1;
    }
}

static int int_element(t0_record_parser *p, void *ctx, t0_error *err)
{
    int_rows *r = ctx;
    int64_t v;
    if (json_int(&p->lx, INT32_MIN, INT32_MAX, &v, "a 32-bit integer", err) ||
        grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v, err))
        return -1;
    r->v[r->n++] = (int32_t)v;
    r->row_len[r->rows - 1]++;
    return 0;
}

static int int_row(t0_record_parser *p, void *ctx, t0_error *err)
{
    int_rows *r = ctx;
    if (p->lx.tok != JSON_LBRACKET)
        return json_expected(&p->lx, "'[' (a list of token ids)", err);
    if (grow((void **)&r->row_len, &r->rows_cap, r->rows + 1, sizeof *r->row_len, err))
        return -1;
    r->row_len[r->rows++] = 0;
    return parse_array(p, int_element, r, "',' or ']'", err);
}

static int string_element(t0_record_parser *p, void *ctx, t0_error *err)
{
    (void)ctx;
    if (p->lx.tok != JSON_STRING)
        return json_expected(&p->lx, "a string", err);
    if (t0_check_text(p->lx.str.p, p->lx.str.len, "choice", err) ||
        grow((void **)&p->choices, &p->choices_cap, p->n_choices + 1, sizeof *p->choices, err))
        return -1;
    p->choices[p->n_choices] = strdup(p->lx.str.p);
    if (!p->choices[p->n_choices])
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    p->n_choices++;
    return 0;
}

static int score_element(t0_record_parser *p, void *ctx, t0_error *err)
{
    (void)ctx;
    if (grow((void **)&p->scores, &p->scores_cap, p->n_scores + 1, sizeof *p->scores, err))
        return -1;
    return json_double(&p->lx, &p->scores[p->n_scores++], "a number", err);
}

static int parse_field(t0_record_parser *p, int f, t0_error *err)
{
    switch (f) {
    case F_KIND: case F_TASK: case F_TEMPLATE: case F_INPUT: case F_TARGET:
        return parse_string(p, &p->str[f], "a string", err);
    case F_ID:
        if (json_next(&p->lx, err))
            return -1;
        return json_u64(&p->lx, &p->id, "id", err);
    case F_LABEL: case F_PRED:
        if (json_next(&p->lx, err))
            return -1;
        return json_int(&p->lx, -1, INT32_MAX, f == F_LABEL ? &p->label : &p->pred, field_name(f), err);
    }
    if (json_expect(&p->lx, JSON_LBRACKET, "'['", err))
        return -1;
    if (f == F_CHOICES)
        return parse_array(p, string_element, NULL, "',' or ']'", err);
    if (f == F_SCORES)
        return parse_array(p, score_element, NULL, "',' or ']'", err);
    int_rows *r = &p->ints[f];
    if (f == F_INPUT_IDS || f == F_TARGET_IDS) {
        if (grow((void **)&r->row_len, &r->rows_cap, 1, sizeof *r->row_len, err))
            return -1;
        r->rows = 1;
        r->row_len[0] = 0;
        return parse_array(p, int_element, r, "',' or ']'", err);
    }
    return parse_array(p, int_row, r, "',' or ']'", err);
}

static int find_field(const char *name)
{
    for (int f = 0; f < F_COUNT; f++)
        if (strcmp(name, field_name(f)) == 0)
            return f;
    return -1;
}

static int parse_object(t0_record_parser *p, t0_error *err)
{
    if (json_expect(&p->lx, JSON_LBRACE, "'{' (a JSON object)", err) || json_next(&p->lx, err))
        return -1;
    if (p->lx.tok == JSON_RBRACE)
        return 0;
    for (;;) {
        if (p->lx.tok != JSON_STRING)
            return json_expected(&p->lx, "a field name", err);
        int f = find_field(p->lx.str.p);
        if (f < 0)
            return t0_fail(err, T0_EINPUT, "column %zu: unknown field \"%s\"", p->lx.tok_col, p->lx.str.p);
        if (p->seen[f])
            return t0_fail(err, T0_EINPUT, "column %zu: field \"%s\" given twice", p->lx.tok_col,
                           field_name(f));
        p->seen[f] = 1;
        if (json_expect(&p->lx, JSON_COLON, "':'", err) || parse_field(p, f, err) ||
            json_next(&p->lx, err))
            return -1;
        if (p->lx.tok == JSON_RBRACE)
            break;
        if (p->lx.tok != JSON_COMMA || json_next(&p->lx, err))
            return p->lx.tok != JSON_COMMA ? json_expected(&p->lx, "',' or '}'", err) : -1;
    }
    if (json_next(&p->lx, err))
        return -1;
    return p->lx.tok == JSON_END ? 0 : json_expected(&p->lx, "the end of the line", err);
}

static t0_ids ids_of(int_rows *r)
{
    return (t0_ids){.v = r->v, .n = (uint32_t)r->n};
}

static int fill_choice_ids(t0_record_parser *p, t0_record *rec, t0_error *err)
{
    int_rows *r = &p->ints[F_CHOICE_IDS];
    free(p->choice_ids);
    p->choice_ids = calloc(r->rows ? r->rows : 1, sizeof *p->choice_ids);
    if (!p->choice_ids)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < r->rows; i++) {
        p->choice_ids[i] = (t0_ids){.v = r->v + at, .n = r->row_len[i]};
        at += r->row_len[i];
    }
    rec->choice_ids = p->choice_ids;
    rec->n_choices = (uint32_t)r->rows;
    return 0;
}

/* Checks a feature is [rows][len] with the rows and len the batch already has (or sets them). */
static int fill_feature(t0_record_parser *p, t0_record *rec, int feature, t0_error *err)
{
    int_rows *r = &p->ints[F_FEATURE0 + feature];
    uint32_t *len = feature <= T0_ENC_POSITIONS ? &rec->enc_len : &rec->dec_len;
    const char *name = t0_batch_feature_name(feature);
    if (!p->seen[F_FEATURE0 + feature])
        return t0_fail(err, T0_EINPUT, "batch record lacks %s", name);
    if (r->rows != rec->rows)
        return t0_fail(err, T0_EINPUT, "%s has %zu rows, %s has %u", name, r->rows,
                       t0_batch_feature_name(T0_ENC_INPUT_TOKENS), rec->rows);
    for (size_t i = 0; i < r->rows; i++) {
        if (i == 0 && *len == UINT32_MAX)
            *len = r->row_len[0];
        if (r->row_len[i] != *len)
            return t0_fail(err, T0_EINPUT, "%s row %zu has %u tokens, expected %u", name, i,
                           r->row_len[i], *len);
    }
    rec->feature[feature] = r->v;
    return 0;
}

static int fill_batch(t0_record_parser *p, t0_record *rec, t0_error *err)
{
    rec->rows = (uint32_t)p->ints[F_FEATURE0].rows;
    rec->enc_len = rec->dec_len = UINT32_MAX; /* taken from the first row seen */
    for (int f = 0; f < T0_BATCH_FEATURES; f++)
        if (fill_feature(p, rec, f, err))
            return -1;
    if (rec->rows == 0)
        rec->enc_len = rec->dec_len = 0;
    return 0;
}

int t0_record_from_json(t0_record_parser *p, const char *line, size_t len, t0_record *rec, t0_error *err)
{
    parser_reset(p);
    json_lexer_free(&p->lx);
    json_lexer_init(&p->lx, line, len);
    if (parse_object(p, err))
        return -1;
    if (!p->str[F_KIND])
        return t0_fail(err, T0_EINPUT, "no \"kind\" field");
    t0_kind kind = t0_kind_from_name(p->str[F_KIND]);
    if (kind == T0_KIND_NONE)
        return t0_fail(err, T0_EINPUT, "unknown kind \"%s\" (example, tokens, batch or score)", p->str[F_KIND]);
    for (int f = 0; f < F_COUNT; f++)
        if (p->seen[f] && !(field_kinds(f) & (1u << kind)))
            return t0_fail(err, T0_EINPUT, "field \"%s\" does not belong to a %s record", field_name(f),
                           t0_kind_name(kind));
    *rec = (t0_record){.kind = kind, .label = -1, .pred = -1};
    rec->task = p->str[F_TASK] ? p->str[F_TASK] : "";
    rec->template_name = p->str[F_TEMPLATE] ? p->str[F_TEMPLATE] : "";
    rec->input = p->str[F_INPUT] ? p->str[F_INPUT] : "";
    rec->target = p->str[F_TARGET] ? p->str[F_TARGET] : "";
    rec->id = p->seen[F_ID] ? p->id : 0;
    rec->label = p->seen[F_LABEL] ? (int32_t)p->label : -1;
    rec->pred = p->seen[F_PRED] ? (int32_t)p->pred : -1;
    switch (kind) {
    case T0_KIND_EXAMPLE:
        rec->choices = (const char **)p->choices;
        rec->n_choices = (uint32_t)p->n_choices;
        return 0;
    case T0_KIND_TOKENS:
        rec->input_ids = ids_of(&p->ints[F_INPUT_IDS]);
        rec->target_ids = ids_of(&p->ints[F_TARGET_IDS]);
        return fill_choice_ids(p, rec, err);
    case T0_KIND_SCORE:
        rec->scores = p->scores;
        rec->n_choices = (uint32_t)p->n_scores;
        return 0;
    default:
        return fill_batch(p, rec, err);
    }
}
