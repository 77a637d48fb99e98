/* decode_bench: greedy decoding speed of a model directory, as bench/bench-decode.sh
 * measures it: load time (memory-mapped open), then for a batch of B random prompts of
 * T tokens, the encoder once and N decoder steps; prints one line
 *   load_s=... encode_ms=... ms_per_token=... (a step of all rows; the best of RUNS)
 * Usage: decode_bench MODEL_DIR BATCH PROMPT_TOKENS NEW_TOKENS [THREADS [RUNS [DTYPE]]]
 * (3 runs; DTYPE as t0-decode's --dtype: stored or int8, quantizing counted in load_s) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "t5/t5_bf16.h"
#include "t5/t5_decode.h"
#include "t5/t5_ops.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 5 || atoi(argv[4]) < 2) {
        fprintf(stderr, "usage: decode_bench MODEL_DIR BATCH PROMPT_TOKENS NEW_TOKENS(>=2) [THREADS [RUNS [DTYPE]]]\n");
        return 1;
    }
    int B = atoi(argv[2]), T = atoi(argv[3]), N = atoi(argv[4]), runs = argc > 6 ? atoi(argv[6]) : 3;
    t5_set_threads(argc > 5 ? atoi(argv[5]) : 1);
    t0_error err = {0};
    double t0 = now();
    t5_model *m = t5_model_open_mapped(argv[1], &err);
    if (m && t5_model_use_dtype(m, argc > 7 ? argv[7] : "stored", &err) != 0)
        t5_model_free(m), m = NULL;
    if (!m) {
        fprintf(stderr, "decode_bench: %s\n", err.msg);
        return 1;
    }
    double load = now() - t0;
    int32_t *in = malloc(sizeof(int32_t) * B * T), *tok = malloc(sizeof(int32_t) * B);
    uint64_t s = 12345;
    for (int i = 0; i < B * T; i++) /* ids in [3, vocab): no padding, no EOS */
        in[i] = 3 + (int32_t)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (m->cfg.vocab_size - 3);
    t5_decoder *d = t5_decoder_create(m, B, T, N, &err);
    if (!d) {
        fprintf(stderr, "decode_bench: %s\n", err.msg);
        return 1;
    }
    /* as bench/decode_peer.py times the peers: the steps after the first, the best of the runs */
    double encode = 1e30, step = 1e30;
    for (int rep = 0; rep < runs; rep++) {
        double t1 = now();
        if (t5_decoder_start(d, in, &err) != 0)
            return 1;
        double t2 = now(), t3 = t2;
        for (int b = 0; b < B; b++)
            tok[b] = m->cfg.decoder_start_token_id;
        for (int i = 0; i < N; i++) { /* greedy, without stopping at EOS: every step is timed */
            const float *l;
            if (t5_decoder_step(d, tok, &l, &err) != 0)
                return 1;
            for (int b = 0; b < B; b++) {
                const float *r = l + (size_t)b * m->cfg.vocab_size;
                int best = 0;
                for (int v = 1; v < m->cfg.vocab_size; v++)
                    best = r[v] > r[best] ? v : best;
                tok[b] = best;
            }
            if (i == 0)
                t3 = now();
        }
        double t4 = now();
        encode = t2 - t1 < encode ? t2 - t1 : encode;
        step = (t4 - t3) / (N - 1) < step ? (t4 - t3) / (N - 1) : step;
    }
    size_t wide = 0, in_place = t5_model_mapped_bytes(m, &wide);
    printf("load_s=%.3f encode_ms=%.1f ms_per_token=%.2f weights_mapped_MB=%.0f widened_MB=%.1f kernel=%s\n", load,
           encode * 1e3, step * 1e3, in_place / 1e6, wide / 1e6,
           t5_bf16_kernel());
    t5_decoder_free(d);
    t5_model_free(m);
    free(in);
    free(tok);
    return 0;
}
