/* greedy.h: greedy search and sampling (num_beams 1), as transformers' _sample. */
#ifndef T0_GEN_GREEDY_H
#define T0_GEN_GREEDY_H

#include "generate/gen_state.h"

/* t0_gen_run with num_beams 1: out[rows * num_return] */
int gen_greedy(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, const uint64_t *index, t0_gen_seq *out,
               t0_gen_token_fn on_token, void *ctx, t0_error *err);

#endif
