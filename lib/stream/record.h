/* record.h: the records that streams carry (byte layout: stream.h), in memory. */
#ifndef T0_RECORD_H
#define T0_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define T0_RECORD_MAX (1u << 30) /* bounded memory: a record payload is at most 1 GiB */

typedef enum {
    T0_KIND_NONE = 0,
    T0_KIND_EXAMPLE = 1,
    T0_KIND_TOKENS = 2,
    T0_KIND_BATCH = 3,
    T0_KIND_SCORE = 4,
} t0_kind;

enum { T0_KIND_COUNT = 5, T0_RECORD_VERSION = 1 };

/* The eight packed features of a batch, in stream order. */
enum {
    T0_ENC_INPUT_TOKENS,
    T0_ENC_SEGMENT_IDS,
    T0_ENC_POSITIONS,
    T0_DEC_TARGET_TOKENS,
    T0_DEC_INPUT_TOKENS,
    T0_DEC_SEGMENT_IDS,
    T0_DEC_POSITIONS,
    T0_DEC_LOSS_WEIGHTS,
    T0_BATCH_FEATURES
};

typedef struct {
    int32_t *v;
    uint32_t n;
} t0_ids;

/* One record of any kind; only the fields of its kind are meaningful.
 * Strings are NUL-terminated. Records returned by a reader point into the
 * reader's memory and stay valid until the next t0_reader_next or close. */
typedef struct {
    t0_kind kind;
    /* example, tokens, score */
    const char *task;
    const char *template_name;
    uint64_t id;
    int32_t label;
    /* example */
    const char *input;
    const char *target;
    const char **choices;
    uint32_t n_choices; /* also the count of choice_ids and scores */
    /* tokens */
    t0_ids input_ids;
    t0_ids target_ids;
    t0_ids *choice_ids;
    /* score */
    double *scores;
    int32_t pred;
    /* batch: feature[f] is [rows][enc_len] for the encoder features, [rows][dec_len] else */
    uint32_t rows, enc_len, dec_len;
    int32_t *feature[T0_BATCH_FEATURES];
} t0_record;

const char *t0_kind_name(t0_kind kind);              /* "example", ..., or "unknown" */
const char *t0_kind_maker(t0_kind kind);             /* the tool that makes the kind: "t0-render", ... */
t0_kind t0_kind_from_name(const char *name);         /* T0_KIND_NONE when unknown */
const char *t0_batch_feature_name(int feature);      /* seqio's feature names */
uint32_t t0_batch_feature_len(const t0_record *rec, int feature); /* enc_len or dec_len */

#define T0_RECORD_HEADER 8 /* magic "T0", kind, version, u32 size */

/* Validates rec and encodes it, header included, into a malloc'd buffer. */
int t0_record_encode(const t0_record *rec, uint8_t **out, size_t *out_len, t0_error *err);
/* The same into *bytes (capacity *cap), grown with realloc as needed: for reuse across records.
 * The caller frees *bytes, also after an error. */
int t0_record_encode_into(const t0_record *rec, uint8_t **bytes, size_t *cap, size_t *out_len, t0_error *err);

/* Memory a decoded record points into; reused from record to record. */
typedef struct {
    uint8_t *p;
    size_t cap;
} t0_arena;

/* Decodes a payload (header already read) into rec, whose pointers go into arena.
 * Validates every length, the text and the label; leftover bytes are an error. */
int t0_record_decode(t0_kind kind, const uint8_t *payload, size_t size, t0_arena *arena,
                     t0_record *rec, t0_error *err);

#endif
