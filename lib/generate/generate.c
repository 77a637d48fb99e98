/* generate.c: see generate.h. The front door: beam search (beam.c) or greedy search and
 * sampling (greedy.c), over the state and helpers both share (gen_state.c). */
#include "generate/generate.h"

#include "generate/beam.h"
#include "generate/gen_state.h"
#include "generate/greedy.h"

int t0_gen_run(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, const uint64_t *index, t0_gen_seq *out,
               t0_gen_token_fn on_token, void *ctx, t0_error *err)
{
    if (rows <= 0)
        return 0;
    if (g->o.num_beams > 1)
        return gen_beam(g, enc_tokens, rows, enc_len, out, err);
    return gen_greedy(g, enc_tokens, rows, enc_len, index, out, on_token, ctx, err);
}
