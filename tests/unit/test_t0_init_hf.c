/* test_t0_init_hf.c: a model directory that t0-init makes loads in Hugging Face
 * transformers and gives the same logits there as here. tests/reference/fixtures-t0init.sh
 * made the same directories (same configs and seeds), loaded them with from_pretrained and
 * wrote their logits on a fixed batch; this test makes them again with the library, runs
 * the C model on that batch and compares. (A change to t0-init's random draws fails here
 * until the fixtures are re-made: the seeds are part of what is checked.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"
#include "t5/t5_init.h"
#include "unit.h"

#define T0INIT_DIR "tests/fixtures/t0init"

/* Builds the batch from the fixture's inputs: padding (mask 0) is segment 0. */
static int load_batch(const char *file, t5_batch *b, int32_t *buf[5])
{
    size_t ne, nd;
    float *enc = fixture_tensor(file, "encoder_input_tokens", &ne);
    float *dec = fixture_tensor(file, "decoder_input_tokens", &nd);
    float *mask = fixture_tensor(file, "encoder_mask", NULL);
    if (!enc || !dec || !mask)
        return -1;
    int rows = 2;
    for (int k = 0; k < 5; k++)
        buf[k] = calloc(ne > nd ? ne : nd, sizeof(int32_t));
    for (size_t i = 0; i < ne; i++) {
        buf[0][i] = (int32_t)enc[i];
        buf[1][i] = mask[i] != 0.0f;                    /* segment 1, or 0 for padding */
        buf[2][i] = (int32_t)(i % (ne / (size_t)rows)); /* positions */
    }
    for (size_t i = 0; i < nd; i++) {
        buf[3][i] = (int32_t)dec[i];
        buf[4][i] = (int32_t)(i % (nd / (size_t)rows));
    }
    int32_t *dec_seg = calloc(nd, sizeof(int32_t)), *weights = calloc(nd, sizeof(int32_t));
    for (size_t i = 0; i < nd; i++)
        dec_seg[i] = weights[i] = 1;
    *b = (t5_batch){.rows = rows, .enc_len = (int)(ne / (size_t)rows), .dec_len = (int)(nd / (size_t)rows),
                    .enc_tokens = buf[0], .enc_seg = buf[1], .enc_pos = buf[2],
                    .dec_input = buf[3], .dec_target = buf[3], .dec_seg = dec_seg, .dec_pos = buf[4],
                    .dec_weights = weights};
    free(enc);
    free(dec);
    free(mask);
    return 0;
}

static void check_model(const char *name, const t5_config *cfg, uint64_t seed, st_dtype dtype)
{
    char tmpl[] = "/tmp/t0init-hf-XXXXXX", dir[600], fixture[300];
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    snprintf(dir, sizeof dir, "%s/%s", tmpl, name);
    snprintf(fixture, sizeof fixture, T0INIT_DIR "/%s.safetensors", name);
    t0_error err = {0};
    CHECK(t5_init_model_dir(dir, cfg, seed, dtype, NULL, NULL, NULL, &err) == 0);
    t5_model *m = t5_model_open(dir, &err);
    t5_batch b;
    int32_t *buf[5] = {0};
    if (CHECK(m != NULL) && CHECK(load_batch(fixture, &b, buf) == 0)) {
        t5_run run = {.training = 0, .denominator = 1.0f};
        CHECK(t5_model_reserve(m, b.rows, b.enc_len, b.dec_len, 0, &err) == 0);
        CHECK(t5_forward(m, &b, &run, &err) == 0);
        size_t n;
        float *want = fixture_tensor(fixture, "logits", &n);
        if (CHECK(want != NULL) && CHECK(n == (size_t)b.rows * b.dec_len * m->cfg.vocab_size)) {
            CHECK(close_enough(name, t5_logits(m), want, n, 1e-4));
            fprintf(stderr, "%s: t0-init dir, logits vs transformers from_pretrained: max rel err %.2e\n", name,
                    rel_err(t5_logits(m), want, n));
        }
        free(want);
        free((void *)b.dec_seg);
        free((void *)b.dec_weights);
    } else {
        fprintf(stderr, "  %s: %s\n", name, err.msg);
    }
    for (int k = 0; k < 5; k++)
        free(buf[k]);
    t5_model_free(m);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    t0_error err = {0};
    t5_config tiny, relu;
    CHECK(t5_config_preset("tiny", &tiny, &err) == 0);
    CHECK(t5_config_load(T0INIT_DIR "/relu.json", &relu, &err) == 0);
    check_model("tiny-f32", &tiny, 7, ST_F32);
    check_model("tiny-bf16", &tiny, 7, ST_BF16);
    check_model("relu-tied", &relu, 11, ST_F32);
    return unit_summary("test_t0_init_hf");
}
