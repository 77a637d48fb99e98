/* objectives.h: T5's self-supervised pretraining objectives over documents of token ids
 * (t5.data.preprocessors: span_corruption, prefix_lm), as a stream of examples to pack.
 *
 * A document is one token record: its input_ids, then its target_ids without a final EOS
 * (t0-tokenize --lines writes one record a text line, with no target). Documents are
 * drawn from a mixture (mixture.h: shuffle buffers, rates, passes) and turned into
 * (input, target) examples:
 *
 * Span corruption (T5's final objective, noise density 0.15, mean noise span 3):
 *   - a document over 65,536 ids keeps one of its 65,536-id chunks, chosen at random
 *     (select_random_chunk);
 *   - 128 documents in a row are concatenated, no separator between them
 *     (reduce_concat_tokens), and cut into segments of tokens_length ids, the last one
 *     shorter (split_tokens); tokens_length is random_spans_helper's for the packed input
 *     length (t0_span_lengths), so a full segment's input fits it exactly;
 *   - each segment gets random_spans_noise_mask: round(n x density) noise ids in
 *     round(noise / mean span) spans, noise and non-noise spans alternating, beginning
 *     with non-noise and ending with noise, every split into non-empty spans equally
 *     likely (counts as TF computes them: float32, round half to even; n < 2 counts as 2
 *     and the mask is cut back to n);
 *   - input: the segment with each noise span replaced by one sentinel, the first
 *     vocab_size-1 (<extra_id_0>), then vocab_size-2, ...; then EOS
 *     (noise_span_to_unique_sentinel);
 *   - target: each noise span after its sentinel, sentinel first; then EOS
 *     (nonnoise_span_to_unique_sentinel).
 *   So the non-noise spans of the input and the noise spans of the target, put back at
 *   their sentinels, give the segment again: no id is lost or repeated.
 *
 * Prefix LM (the LM adaptation of T5-LM-adapt, prefix_lm with density 0.5):
 *   - each document (chunked as above, never concatenated) is cut into segments of
 *     min(input_len, target_len) - 1 ids (T5: input_len - 1, split_tokens_to_inputs_length;
 *     the min keeps every id when the target is the shorter side);
 *   - a segment of n ids is split after k ids, k uniform in [1, n - 1] (0 when n = 1)
 *     (random_prefix_noise_mask): input = the first k ids, then EOS; target = the
 *     rest, then EOS.
 *
 * The random choices come from one splitmix64 stream seeded by `seed` (not TF's stateless
 * generators, so the same statistics, not the same masks as t5): same seed and input,
 * same examples. Memory: one group of 128 documents at most.
 */
#ifndef T0_OBJECTIVES_H
#define T0_OBJECTIVES_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "train/mixture.h"

enum {
    T0_OBJECTIVE_CHUNK = 65536,  /* select_random_chunk's max_length */
    T0_OBJECTIVE_CONCAT = 128,   /* reduce_concat_tokens' batch_size */
    T0_OBJECTIVE_SENTINELS = 100 /* T5's extra ids */
};

typedef enum { T0_OBJECTIVE_SPAN_CORRUPTION = 1, T0_OBJECTIVE_PREFIX_LM } t0_objective_kind;

/* random_spans_helper: the longest segment (*tokens_length ids) whose span-corrupted input,
 * EOS included, has at most inputs_length ids, and the length of its target, EOS included.
 * Python's arithmetic (double, round half to even), with noise_density 0.5's tweak (the
 * target one shorter when it would exceed the input). -1 when no segment fits. */
int t0_span_lengths(uint32_t inputs_length, double noise_density, double mean_span, uint32_t *tokens_length,
                    uint32_t *targets_length, t0_error *err);

/* random_spans_noise_mask's counts for a segment of `length` ids (>= 2): noise ids and
 * noise spans, in float32 as TF computes them. */
void t0_span_counts(uint32_t length, double noise_density, double mean_span, uint32_t *noise, uint32_t *spans);

/* Splits n_items into n_segments non-empty lengths (n_segments in [1, n_items]), each split
 * equally likely (random_spans_noise_mask's _random_segmentation); draws from *rng. */
void t0_random_segmentation(uint32_t n_items, uint32_t n_segments, uint64_t *rng, uint32_t *lengths);

/* A growing id array. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} t0_id_buf;

/* Span corruption of one segment of n >= 1 ids into *input and *target (cleared first),
 * each ending with EOS; sentinel N is first_sentinel - N. */
int t0_span_corrupt(const int32_t *ids, uint32_t n, double noise_density, double mean_span, int32_t first_sentinel,
                    uint64_t *rng, t0_id_buf *input, t0_id_buf *target, t0_error *err);

/* Prefix LM of one segment of n >= 1 ids, as above. */
int t0_prefix_lm(const int32_t *ids, uint32_t n, uint64_t *rng, t0_id_buf *input, t0_id_buf *target,
                 t0_error *err);

typedef struct {
    t0_objective_kind kind;
    uint32_t input_len, target_len; /* the packed row's lengths */
    double noise_density, mean_span; /* span corruption: 0.15, 3 */
    int32_t vocab_size;              /* the tokenizer's, sentinels included: <extra_id_N> is vocab_size-1-N */
    uint64_t seed;
    uint64_t documents; /* documents to draw, then the stream ends; 0: no end */
} t0_objective_opts;

typedef struct t0_objective t0_objective;

/* Checks the lengths (span corruption: the target of a full segment must fit target_len,
 * its spans the 100 sentinels) and wraps the mixture m (not owned). */
t0_objective *t0_objective_open(const t0_objective_opts *o, t0_mixture *m, t0_error *err);
/* The segment length the objective cuts (tokens_length, or the prefix LM's). */
uint32_t t0_objective_segment_len(const t0_objective *ob);
/* The target length of a full segment (span corruption), or of the longest (prefix LM). */
uint32_t t0_objective_target_len(const t0_objective *ob);
/* Next example: 1 (ex->task is the task of the segment's first document; pointers valid
 * until the next call), 0 at the end (after `documents` documents), -1 on error. */
int t0_objective_next(t0_objective *ob, t0_mix_example *ex, t0_error *err);
/* Documents drawn and segments made so far. */
uint64_t t0_objective_documents(const t0_objective *ob);
uint64_t t0_objective_segments(const t0_objective *ob);
void t0_objective_close(t0_objective *ob);

#endif
