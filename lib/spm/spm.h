/* spm.h: SentencePiece unigram tokenization (T5's tokenizer), written from the spec in
 * shared/notes/sentencepiece.md; spm_encode and spm_decode are the judges.
 *
 * A model comes from a spiece.model (ModelProto, read straight from the protobuf wire
 * format by spm_proto.c) or from a Hugging Face tokenizer.json (tokenizer_json.c); both
 * fill the same t0_spm. Encoding is: normalize (precompiled charsmap, spm_norm.c), then
 * Viterbi over a trie of the pieces (spm_trie.c, spm_encode.c). On top sit T5's
 * conventions: sentinels <extra_id_0>..<extra_id_99> (ids vocab_size-1-N, appended after
 * the pieces when the model has none) recognised in text, and EOS. Decoding (spm_decode.c)
 * ends with the model's denormalizer, when it has one.
 *
 * A loaded model is read-only, so any number of threads may encode with it at once,
 * each with its own t0_spm_work.
 */
#ifndef T0_SPM_H
#define T0_SPM_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum {
    T0_SPM_NORMAL = 1,
    T0_SPM_UNKNOWN = 2,
    T0_SPM_CONTROL = 3,
    T0_SPM_USER_DEFINED = 4,
    T0_SPM_UNUSED = 5,
    T0_SPM_BYTE = 6,
} t0_spm_type;

enum { T0_SPM_SENTINELS = 100 };

typedef struct {
    const char *text; /* UTF-8, not NUL-terminated inside the arena: use len */
    uint32_t len;
    float score;
    uint8_t type; /* t0_spm_type */
} t0_spm_piece;

typedef struct t0_spm_trie t0_spm_trie;

/* The model; fields are read-only once loaded. */
typedef struct t0_spm_model {
    t0_spm_piece *pieces;
    int32_t n_pieces;   /* pieces of the model proper (spm's GetPieceSize) */
    int32_t vocab_size; /* n_pieces plus sentinels appended after them, if any */
    int32_t unk_id, eos_id, pad_id, bos_id; /* -1 when the model has none */
    int32_t sentinel_id[T0_SPM_SENTINELS]; /* id of <extra_id_N> */
    char sentinel_name[T0_SPM_SENTINELS][16]; /* "<extra_id_N>" */
    int32_t byte_id[256];                  /* id of <0xXX> with byte fallback, else -1 */
    int byte_fallback;
    float min_score, max_score; /* over NORMAL pieces, as spm computes them */
    uint32_t max_piece_len;     /* bytes of the longest piece in the trie */
    /* normalizer */
    int add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces;
    int whitespace_as_suffix;
    const uint32_t *charsmap_units; /* darts-clone double array, NULL when no rules */
    uint32_t charsmap_n_units;
    const char *charsmap_pool;
    uint32_t charsmap_pool_len;
    char *unk_surface;
    /* denormalizer_spec: a normalizer run over decoded text; NULL unless it has rules.
     * Only its normalizer fields are used. */
    struct t0_spm_model *denormalizer;
    /* tries over the pieces matched in text, and over the user-defined ones */
    t0_spm_trie *trie;
    t0_spm_trie *user_trie; /* NULL when the model has no USER_DEFINED piece */
    /* storage */
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *piece_off; /* arena offsets while building */
    int32_t cap_pieces;
    uint8_t *charsmap_blob;
} t0_spm;

/* Loads a spiece.model, a tokenizer.json, or a directory holding either
 * (spiece.model preferred). NULL on failure, err says why in one line. */
t0_spm *t0_spm_load(const char *path, t0_error *err);
/* Parses a serialized ModelProto. */
t0_spm *t0_spm_from_proto(const uint8_t *buf, size_t n, t0_error *err);
void t0_spm_free(t0_spm *m);

/* Per-thread scratch space and outputs; zero-initialise, free with t0_spm_work_free. */
typedef struct {
    int32_t *ids;     /* output of the encode functions */
    size_t n_ids, cap_ids;
    char *text;       /* output of normalize / decode / pieces; NUL-terminated */
    size_t len, cap_text;
    int want_pieces;  /* set: encoding also appends the pieces, space-separated, to text */
    /* scratch */
    char *norm;
    size_t norm_len, cap_norm;
    float *best_score;
    int32_t *best_start, *best_id, *path;
    size_t cap_best;
    int32_t *match_id;
    uint32_t *match_len;
    size_t cap_match;
} t0_spm_work;

void t0_spm_work_free(t0_spm_work *w);

/* Normalizes text[0..n) into w->text (spm's Normalize). 0, or -1 out of memory. */
int t0_spm_normalize(const t0_spm *m, const char *text, size_t n, t0_spm_work *w,
                     t0_error *err);
/* Appends spm_encode's ids of text to w->ids (sentinels not recognised). */
int t0_spm_encode_plain(const t0_spm *m, const char *text, size_t n, t0_spm_work *w,
                        t0_error *err);
/* Appends the ids T5's tokenizer gives: <extra_id_N> split out of the text (whitespace
 * around it stripped), the rest encoded chunk by chunk. */
int t0_spm_encode(const t0_spm *m, const char *text, size_t n, t0_spm_work *w, t0_error *err);
/* Sets w->ids to exactly the ids (w->n_ids = 0 first). */
static inline void t0_spm_work_reset(t0_spm_work *w) { w->n_ids = 0; w->len = 0; }
/* Appends one id to w->ids. */
int t0_spm_push_id(t0_spm_work *w, int32_t id, t0_error *err);
/* Appends bytes to w->text (kept NUL-terminated); -1 out of memory. */
int t0_spm_append_text(t0_spm_work *w, const char *s, size_t n);

/* Decodes ids into w->text as spm_decode does; sentinels become "<extra_id_N>".
 * -1 with T0_EINPUT for an id outside [0, vocab_size). */
int t0_spm_decode(const t0_spm *m, const int32_t *ids, size_t n, t0_spm_work *w,
                  t0_error *err);
/* The piece of an id ("<extra_id_N>" for a sentinel); NULL when out of range. */
const char *t0_spm_id_to_piece(const t0_spm *m, int32_t id, size_t *len);

/* ---- model construction, shared by the two loaders (spm_model.c) ---- */

/* Starts a model with spm's defaults; pieces are added with t0_spm_add_piece. */
t0_spm *t0_spm_new(t0_error *err);
int t0_spm_add_piece(t0_spm *m, const char *text, size_t len, float score, int type,
                     t0_error *err);
/* Copies a precompiled charsmap blob and checks its header. */
int t0_spm_set_charsmap(t0_spm *m, const uint8_t *blob, size_t n, t0_error *err);
/* Validates pieces (non-empty, unique, one unknown, bytes complete), computes the
 * scores and builds the tries; eos_piece etc. name the special pieces. */
int t0_spm_finish(t0_spm *m, const char *eos_piece, const char *pad_piece,
                  const char *bos_piece, t0_error *err);

/* ---- normalizer internals, exposed for tests ---- */

/* Longest-match lookup of the charsmap at text[0..n): the number of bytes matched (0 when
 * no rule applies) and the replacement (*rep, *rep_len). */
size_t t0_spm_charsmap_match(const t0_spm *m, const char *text, size_t n, const char **rep,
                             size_t *rep_len);
/* Normalizes into w->norm (the encoder's scratch); -1 out of memory. */
int t0_spm_normalize_scratch(const t0_spm *m, const char *text, size_t n, t0_spm_work *w);

#endif
