/* spm_proto.c: sentencepiece.ModelProto read straight from the protobuf wire format
 * (sentencepiece.md §1). Only the fields that change encoding or decoding are kept;
 * unknown fields are skipped by wire type, as protobuf readers must. */
#include <stdlib.h>
#include <string.h>

#include "spm/spm.h"

typedef struct {
    const uint8_t *p, *end;
} wire;

typedef struct {
    uint32_t number;
    int type; /* 0 varint, 1 fixed64, 2 bytes, 5 fixed32 */
    uint64_t varint;
    const uint8_t *bytes; /* type 2: the bytes; types 1, 5: the raw little-endian value */
    size_t len;
} wire_field;

static int read_varint(wire *w, uint64_t *v)
{
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (w->p >= w->end)
            return -1;
        uint8_t b = *w->p++;
        if (shift < 64)
            value |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = value;
            return 0;
        }
    }
    return -1; /* more than 10 bytes */
}

/* 1: a field was read; 0: end of message; -1: malformed. */
static int next_field(wire *w, wire_field *f)
{
    if (w->p == w->end)
        return 0;
    uint64_t key;
    if (read_varint(w, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF)
        return -1;
    f->number = (uint32_t)(key >> 3);
    f->type = (int)(key & 7);
    size_t left = (size_t)(w->end - w->p);
    switch (f->type) {
    case 0:
        return read_varint(w, &f->varint) < 0 ? -1 : 1;
    case 1:
    case 5:
        f->len = f->type == 1 ? 8 : 4;
        break;
    case 2:
        if (read_varint(w, &f->varint) < 0 || f->varint > left)
            return -1;
        f->len = (size_t)f->varint;
        break;
    default:
        return -1; /* groups (3, 4) are not in this schema; 6, 7 do not exist */
    }
    if (f->len > (size_t)(w->end - w->p))
        return -1;
    f->bytes = w->p;
    w->p += f->len;
    return 1;
}

static float read_float(const uint8_t *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The fields of a message that must have a given wire type to be used at all. */
static int want(const wire_field *f, int type)
{
    return f->type == type;
}

static int read_piece(t0_spm *m, const uint8_t *buf, size_t n, t0_error *err)
{
    wire w = {buf, buf + n};
    wire_field f;
    const uint8_t *text = NULL;
    size_t len = 0;
    float score = 0.0f;
    int type = T0_SPM_NORMAL, rc;
    while ((rc = next_field(&w, &f)) > 0) {
        if (f.number == 1 && want(&f, 2)) {
            text = f.bytes;
            len = f.len;
        } else if (f.number == 2 && want(&f, 5)) {
            score = read_float(f.bytes);
        } else if (f.number == 3 && want(&f, 0)) {
            type = (int)(int32_t)f.varint;
        }
    }
    if (rc < 0)
        return t0_fail(err, T0_EINPUT, "not a SentencePiece model (piece %d is malformed)",
                       m->n_pieces);
    return t0_spm_add_piece(m, text ? (const char *)text : "", len, score, type, err);
}

typedef struct {
    int model_type;
    char *eos_piece, *pad_piece, *bos_piece;
} trainer_fields;

static char *dup_bytes(const uint8_t *b, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, b, n);
        s[n] = '\0';
    }
    return s;
}

/* Replaces *slot by a copy of the bytes; strings with NUL bytes are refused as piece names. */
static int set_string(char **slot, const wire_field *f, t0_error *err)
{
    free(*slot);
    if (!(*slot = dup_bytes(f->bytes, f->len)))
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    return 0;
}

static int read_trainer(t0_spm *m, trainer_fields *t, const uint8_t *buf, size_t n,
                        t0_error *err)
{
    wire w = {buf, buf + n};
    wire_field f;
    int rc;
    while ((rc = next_field(&w, &f)) > 0) {
        int r = 0;
        if (f.number == 3 && want(&f, 0))
            t->model_type = (int)(int32_t)f.varint;
        else if (f.number == 24 && want(&f, 0))
            m->whitespace_as_suffix = f.varint != 0;
        else if (f.number == 35 && want(&f, 0))
            m->byte_fallback = f.varint != 0;
        else if (f.number == 44 && want(&f, 2))
            r = set_string(&m->unk_surface, &f, err);
        else if (f.number == 47 && want(&f, 2))
            r = set_string(&t->eos_piece, &f, err);
        else if (f.number == 48 && want(&f, 2))
            r = set_string(&t->pad_piece, &f, err);
        else if (f.number == 46 && want(&f, 2))
            r = set_string(&t->bos_piece, &f, err);
        if (r < 0)
            return -1;
    }
    return rc < 0 ? t0_fail(err, T0_EINPUT, "not a SentencePiece model (trainer_spec is malformed)")
                  : 0;
}

static int read_normalizer(t0_spm *m, const uint8_t *buf, size_t n, t0_error *err)
{
    wire w = {buf, buf + n};
    wire_field f;
    const uint8_t *blob = NULL;
    size_t blob_len = 0;
    int rc;
    while ((rc = next_field(&w, &f)) > 0) {
        if (f.number == 2 && want(&f, 2)) {
            blob = f.bytes;
            blob_len = f.len;
        } else if (f.number == 3 && want(&f, 0)) {
            m->add_dummy_prefix = f.varint != 0;
        } else if (f.number == 4 && want(&f, 0)) {
            m->remove_extra_whitespaces = f.varint != 0;
        } else if (f.number == 5 && want(&f, 0)) {
            m->escape_whitespaces = f.varint != 0;
        }
    }
    if (rc < 0)
        return t0_fail(err, T0_EINPUT, "not a SentencePiece model (normalizer_spec is malformed)");
    return t0_spm_set_charsmap(m, blob, blob_len, err);
}

/* spm builds a denormalizer only when the spec has rules; without the trainer spec, so
 * no suffix mode and no user-defined pieces. */
static int read_denormalizer(t0_spm *m, const uint8_t *buf, size_t n, t0_error *err)
{
    t0_spm_free(m->denormalizer);
    if (!(m->denormalizer = t0_spm_new(err)))
        return -1;
    if (read_normalizer(m->denormalizer, buf, n, err) < 0)
        return -1;
    if (!m->denormalizer->charsmap_units) {
        t0_spm_free(m->denormalizer);
        m->denormalizer = NULL;
    }
    return 0;
}

static int read_model(t0_spm *m, trainer_fields *t, const uint8_t *buf, size_t n,
                      t0_error *err)
{
    wire w = {buf, buf + n};
    wire_field f;
    int rc;
    while ((rc = next_field(&w, &f)) > 0) {
        int r = 0;
        if (f.number == 1 && want(&f, 2))
            r = read_piece(m, f.bytes, f.len, err);
        else if (f.number == 2 && want(&f, 2))
            r = read_trainer(m, t, f.bytes, f.len, err);
        else if (f.number == 3 && want(&f, 2))
            r = read_normalizer(m, f.bytes, f.len, err);
        else if (f.number == 5 && want(&f, 2))
            r = read_denormalizer(m, f.bytes, f.len, err);
        else if (f.number <= 5 && !want(&f, 2))
            r = t0_fail(err, T0_EINPUT, "not a SentencePiece model (field %u has wire type %d)",
                        f.number, f.type);
        if (r < 0)
            return -1;
    }
    if (rc < 0)
        return t0_fail(err, T0_EINPUT, "not a SentencePiece model (truncated or not protobuf)");
    if (t->model_type != 1)
        return t0_fail(err, T0_EINPUT, "model type %d is not unigram (only unigram models are supported)",
                       t->model_type);
    return t0_spm_finish(m, t->eos_piece, t->pad_piece, t->bos_piece, err);
}

t0_spm *t0_spm_from_proto(const uint8_t *buf, size_t n, t0_error *err)
{
    if (n == 0) {
        t0_fail(err, T0_EINPUT, "not a SentencePiece model (empty file)");
        return NULL;
    }
    t0_spm *m = t0_spm_new(err);
    if (!m)
        return NULL;
    trainer_fields t = {.model_type = 1};
    int rc = read_model(m, &t, buf, n, err);
    free(t.eos_piece);
    free(t.pad_piece);
    free(t.bos_piece);
    if (rc < 0) {
        t0_spm_free(m);
        return NULL;
    }
    return m;
}
