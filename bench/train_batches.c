/* train_batches: random batch records for bench/bench-train.sh (until t0-pack feeds it):
 *   train_batches ROWS ENC_LEN DEC_LEN BATCHES VOCAB > batches.t0
 * Each row is one example filling the row (segment 1, positions 0..n-1), ids uniform in
 * [2, VOCAB); decoder inputs are the targets shifted right; every target position weighs 1. */
#include <stdio.h>
#include <stdlib.h>

#include "stream/stream.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int32_t draw(int vocab)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return 2 + (int32_t)(rng % (uint64_t)(vocab - 2));
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: train_batches ROWS ENC_LEN DEC_LEN BATCHES VOCAB\n");
        return 1;
    }
    int rows = atoi(argv[1]), enc = atoi(argv[2]), dec = atoi(argv[3]), n = atoi(argv[4]), vocab = atoi(argv[5]);
    if (rows < 1 || enc < 1 || dec < 1 || n < 1 || vocab < 3) {
        fprintf(stderr, "train_batches: bad sizes\n");
        return 1;
    }
    size_t ne = (size_t)rows * enc, nd = (size_t)rows * dec;
    int32_t *f = malloc(sizeof(int32_t) * (3 * ne + 5 * nd));
    if (!f)
        return 2;
    t0_record rec = {.kind = T0_KIND_BATCH, .rows = (uint32_t)rows, .enc_len = (uint32_t)enc, .dec_len = (uint32_t)dec};
    int32_t *p = f;
    for (int k = 0; k < T0_BATCH_FEATURES; k++) {
        rec.feature[k] = p;
        p += k < T0_DEC_TARGET_TOKENS ? ne : nd;
    }
    t0_error err = {0};
    t0_writer *w = t0_writer_open("-", &err);
    for (int b = 0; w && b < n; b++) {
        for (size_t i = 0; i < ne; i++) {
            rec.feature[T0_ENC_INPUT_TOKENS][i] = draw(vocab);
            rec.feature[T0_ENC_SEGMENT_IDS][i] = 1;
            rec.feature[T0_ENC_POSITIONS][i] = (int32_t)(i % enc);
        }
        for (size_t i = 0; i < nd; i++) {
            rec.feature[T0_DEC_TARGET_TOKENS][i] = draw(vocab);
            rec.feature[T0_DEC_INPUT_TOKENS][i] = i % dec ? rec.feature[T0_DEC_TARGET_TOKENS][i - 1] : 0;
            rec.feature[T0_DEC_SEGMENT_IDS][i] = 1;
            rec.feature[T0_DEC_POSITIONS][i] = (int32_t)(i % dec);
            rec.feature[T0_DEC_LOSS_WEIGHTS][i] = 1;
        }
        if (t0_writer_write(w, &rec, &err) != 0) {
            t0_writer_abort(w);
            w = NULL;
        }
    }
    if (!w || t0_writer_close(w, &err) != 0) {
        fprintf(stderr, "train_batches: %s\n", err.msg);
        return 2;
    }
    free(f);
    return 0;
}
