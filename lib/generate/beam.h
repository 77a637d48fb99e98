/* beam.h: beam search (num_beams > 1), as transformers 4.44's _beam_search. */
#ifndef T0_GEN_BEAM_H
#define T0_GEN_BEAM_H

#include "generate/gen_state.h"

/* t0_gen_run with num_beams > 1: out[rows * num_return] */
int gen_beam(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, t0_gen_seq *out, t0_error *err);

#endif
