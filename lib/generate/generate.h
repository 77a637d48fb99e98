/* generate.h: text generation with a T5 model as Hugging Face transformers 4.44's
 * generate() does it: greedy, beam search, sampling; over the KV-cache decoder of
 * t5/t5_decode.h.
 *
 * - Greedy (num_beams 1, sample 0): the arg max of the processed logits (first index
 *   on ties, as torch.argmax).
 * - Beam search (num_beams K > 1): _beam_search with BeamSearchScorer and
 *   BeamHypotheses: log-softmax scores plus the beam's score, the best 2K candidates
 *   over K x vocab, EOS among the first K of them closes a hypothesis scored
 *   sum / generated_len^length_penalty, an example is done when K hypotheses exist and
 *   (early_stopping) or no open beam can beat the worst of them; at max length the
 *   open beams join the hypotheses; the num_return best are returned.
 * - Sampling (sample 1): temperature, then top-k, then top-p (TopK/TopP warpers:
 *   ties at the k-th value kept, at least one token kept), softmax, and one draw. The
 *   draws come from t0_gen_uniform, not torch's generator: a sequence is identical for a
 *   seed across runs, batch sizes and threads (up to the last bits of the logits that the
 *   matrix library's summation order may change with the batch shape).
 * - no_repeat_ngram_size: tokens that would repeat an n-gram of the sequence (decoder
 *   start token included) get -inf, before the choice.
 * Rows that finish (EOS, or a beam example that is done) leave the decoder's batch, so
 * they stop costing work.
 */
#ifndef T0_GENERATE_H
#define T0_GENERATE_H

#include <stdint.h>

#include "common/error.h"
#include "t5/t5_model.h"

typedef struct {
    int max_new_tokens;    /* tokens after the decoder start token (max_length - 1) */
    int num_beams;         /* 1: greedy or sampling */
    double length_penalty; /* beam search */
    int early_stopping;    /* beam search: stop an example at num_beams hypotheses */
    int num_return;        /* sequences per input: <= num_beams in beam search, any when sampling */
    int no_repeat_ngram;   /* 0: off */
    int sample;
    float temperature; /* 1: off */
    int top_k;         /* 0: off */
    float top_p;       /* 1: off */
    uint64_t seed;
} t0_gen_opts;

/* transformers' generate() defaults: greedy, length_penalty 1, top_k 50 (when sampling) */
void t0_gen_defaults(t0_gen_opts *o);

/* One generated sequence: the ids after the decoder start token, ending with EOS when it
 * finished; score: beam search's length-penalized score, else 0. */
typedef struct {
    int32_t *ids;
    int n;
    int finished;
    double score;
} t0_gen_seq;

/* Called with each new token of a greedy or sampled sequence as it is chosen (for
 * streaming); a non-zero return stops the run with that value. */
typedef int (*t0_gen_token_fn)(void *ctx, int seq, int32_t id);

typedef struct t0_gen t0_gen;

t0_gen *t0_gen_create(t5_model *m, const t0_gen_opts *o, t0_error *err);
void t0_gen_free(t0_gen *g);

/* Generates for `rows` inputs, enc_tokens [rows][enc_len] (pad_token_id pads, either
 * side). index[rows]: each input's number in the whole run, which with the seed keys its
 * draws (NULL: 0..rows-1). out[rows * num_return] gets the sequences, input by input;
 * their ids stay valid until the next run. on_token (may be NULL; not for beam search)
 * gets seq = input * num_return + j. */
int t0_gen_run(t0_gen *g, const int32_t *enc_tokens, int rows, int enc_len, const uint64_t *index, t0_gen_seq *out,
               t0_gen_token_fn on_token, void *ctx, t0_error *err);

/* The sampling generator: a uniform double in [0, 1) that depends only on (seed, input
 * index, sequence j of that input, step): splitmix64's finalizer over the four mixed
 * together, top 53 bits. */
double t0_gen_uniform(uint64_t seed, uint64_t input, uint64_t j, uint64_t step);

#endif
