/* gen_state.h: what greedy search, sampling (greedy.c) and beam search (beam.c) share: the
 * generator's state and the helpers both use. Includes nothing of either. */
#ifndef T0_GEN_STATE_H
#define T0_GEN_STATE_H

#include "generate/generate.h"
#include "t5/t5_decode.h"

struct t0_gen {
    t5_model *m;
    t0_gen_opts o;
    int32_t *ids;  /* the sequences' ids: [seqs][max_new_tokens + 1], start token first */
    size_t ids_cap;
};

/* Grows g->ids to n ids; -1 out of memory */
int gen_reserve_ids(t0_gen *g, size_t n, t0_error *err);

/* A decoder for rows x enc_len holding max_new_tokens positions, started on enc_tokens
 * with each input repeated `repeat` times. */
t5_decoder *gen_start(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, int repeat, t0_error *err);

/* NoRepeatNGramLogitsProcessor: seq[0..len) (start token first); every token that would
 * complete an n-gram already in seq gets -inf in scores. */
void gen_ban_ngrams(const int32_t *seq, int len, int n, float *scores);

#endif
