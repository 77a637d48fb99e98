/* pack.h: token examples into batch records with seqio's packed features.
 *
 * Each example (input ids, target ids) goes whole into one row of the batch:
 *   encoder_input_tokens   the inputs of the row's examples one after another, 0 after
 *   encoder_segment_ids    1, 2, ... for the row's 1st, 2nd, ... example, 0 on padding
 *   encoder_positions      0, 1, ... restarting at each example, 0 on padding
 *   decoder_target_tokens  the targets, likewise
 *   decoder_input_tokens   the targets shifted right by one inside each example, 0 first
 *   decoder_segment_ids, decoder_positions   as for the encoder
 *   decoder_loss_weights   1 on every target token, 0 on padding
 * The i-th input segment and the i-th target segment are the same example, also when
 * one of them is empty.
 *
 * Greedy next-fit, as seqio's trim_and_pack_dataset without custom ops (T0's setting):
 * an example goes into the row being filled when both its input and its target still
 * fit there; otherwise that row is closed and the example starts the next one. Closed
 * rows are never reopened (first-fit would pack denser, but seqio as T0 ran it does not,
 * and next-fit keeps the examples in stream order along the rows). Two differences from
 * seqio, both deliberate: seqio closes its row every max(lengths) examples (an artefact
 * of how it batches before packing; we carry the row on), and it numbers segments by
 * counting position-0 tokens, so an example with an empty input or target shifts the
 * numbering of the rest of the row (we number examples, so the segments stay paired).
 *
 * Too long examples are truncated, never split: the input to enc_len ids, the target to
 * dec_len ids keeping its last id when that is EOS (seqio's append_eos_after_trim).
 * With no_pack every example is a row of its own (seqio's trim_and_pad).
 */
#ifndef T0_PACK_H
#define T0_PACK_H

#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"
#include "train/mixture.h"

#define T0_EOS_ID 1

typedef struct {
    uint32_t rows, enc_len, dec_len;
    int no_pack;
    int32_t *feature[T0_BATCH_FEATURES]; /* the batch being filled, [rows][len] each */
    uint32_t row;           /* the row being filled; rows when the batch is full */
    uint32_t enc_used, dec_used; /* ids in that row */
    int32_t segments;       /* examples in that row */
    uint32_t rows_used;     /* rows holding at least one example */
    /* totals since init */
    uint64_t batches, rows_out, examples, truncated;
    uint64_t enc_tokens, dec_tokens; /* real (non-padding) ids written */
} t0_packer;

int t0_packer_init(t0_packer *p, uint32_t rows, uint32_t enc_len, uint32_t dec_len, int no_pack,
                   t0_error *err);
void t0_packer_free(t0_packer *p);

/* 1 when the example (lengths before truncation) goes into the batch being filled, 0
 * when the batch must be written and cleared first. */
int t0_packer_fits(const t0_packer *p, uint32_t n_in, uint32_t n_tg);
/* Places an example; the caller has checked t0_packer_fits. */
void t0_packer_add(t0_packer *p, const int32_t *in, uint32_t n_in, const int32_t *tg, uint32_t n_tg);
/* 1 when no example has been placed since the last clear. */
int t0_packer_empty(const t0_packer *p);
/* Views the batch as a record (pointers into p; rows not filled are all padding) and
 * counts it in the totals. */
void t0_packer_batch(t0_packer *p, t0_record *rec);
/* Empties the batch for the next one. */
void t0_packer_clear(t0_packer *p);

/* ---- the whole job: draws from a mixture, packs, writes ---- */

struct t0_mixture;
struct t0_writer;

typedef struct {
    uint64_t batches; /* stop after this many batches; 0: after `draws` examples */
    uint64_t draws;   /* examples to draw (an --epochs job); the last batch is padded */
    /* called after each batch written (progress), may be NULL */
    void (*on_batch)(void *arg, const t0_packer *p);
    void *arg;
} t0_pack_job;

/* A stream of examples (a mixture, an objective): next gives 1 with an example in *ex,
 * 0 when there are no more, -1 on error. */
typedef struct {
    int (*next)(void *arg, t0_mix_example *ex, t0_error *err);
    void *arg;
} t0_example_source;

/* Packs the source's examples into batches written to w until job->batches are written
 * (0: until the source ends; the last batch is then padded); packed[ex.task] (when not
 * NULL) counts the examples placed. */
int t0_pack_source(t0_packer *p, const t0_example_source *src, struct t0_writer *w, const t0_pack_job *job,
                   uint64_t *packed, t0_error *err);

/* Packs examples drawn from m into batches written to w until the job is done; packed[t]
 * (zeroed by the caller, one per task) counts the examples of task t in the batches. */
int t0_pack_run(t0_packer *p, struct t0_mixture *m, struct t0_writer *w, const t0_pack_job *job,
                uint64_t *packed, t0_error *err);

#endif
