/* score.h: rank classification as T0 was evaluated (t-zero's run_eval.py, Mesh TF's
 * rank_classification): every answer choice of an example is scored by the model, the
 * score being the sum of the log-probabilities of its tokens (EOS included, no length
 * normalisation), and the prediction is the highest score, the first on ties.
 *
 * Each example is computed on its own: its input is encoded once, at its own length (no
 * padding), and its choices are the rows of one teacher-forced decoder pass (every
 * position at once, padded to its longest choice) over that one encoder output
 * (t5_decoder_start_rows, t5_decoder_feed). Nothing an example computes depends on the
 * other examples, the window or the thread count, so scores are bit-identical however
 * the input is batched, threaded or sharded. This is deliberate: OpenBLAS's sgemm gives
 * a row a result that depends on the row's place in the call (0.3.21's Zen/Haswell kernel
 * computes rows 0-5 and 6-11 of each 12-row block, and 8- and 4-row tails, in different
 * orders), so rows of different examples never share a product. Threads take whole
 * examples, each with a one-thread BLAS. Two equal choices of one example may still
 * differ in the last bits (their rows' places differ), as in transformers.
 */
#ifndef T0_EVAL_SCORE_H
#define T0_EVAL_SCORE_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "stream/stream.h"
#include "t5/t5_model.h"

typedef struct {
    uint64_t read, scored, skipped;
} t0_score_stats;

typedef struct {
    int window;          /* examples read and scored together (--batch) */
    int threads;         /* worker threads, each scoring whole examples */
    int max_input_len;   /* inputs are cut to their first max_input_len tokens; 0: no cut */
    int skip_unscorable; /* examples without choices or input: counted and left out, not an error */
    /* called after each window scored with the counts so far (the tool shows progress), or NULL */
    void (*progress)(void *ctx, const t0_score_stats *st);
    void *progress_ctx;
} t0_score_opts;

typedef struct t0_scorer t0_scorer;

t0_scorer *t0_scorer_create(t5_model *m, const t0_score_opts *o, t0_error *err);
void t0_scorer_free(t0_scorer *s);

/* Reads token records from r (other kinds are an error), writes one score record per
 * scorable example to w, in input order. */
int t0_score_stream(t0_scorer *s, t0_reader *r, t0_writer *w, t0_score_stats *st, t0_error *err);

/* The argmax of scores[n], the first on ties; -1 when n is 0. */
int32_t t0_score_argmax(const double *scores, uint32_t n);

#endif
