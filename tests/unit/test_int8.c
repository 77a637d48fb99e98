/* test_int8.c: int8 inference (t5_int8.h, --dtype int8) on the transformers fixtures
 * (tests/fixtures/model, F32 weights): the logits of the quantized model against
 * transformers' F32 logits, per logit, within the bound stated at INT8_LOGIT_BOUND. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model_fixture.h"
#include "t5/t5_int8.h"
#include "t5/t5_model.h"
#include "unit.h"

/* The bound. One product x.w with both operands rounded to 127 steps of their row's
 * largest magnitude is off by at most (||x||_1 max|w| + ||w||_1 max|x|) / 254 + C max|x|
 * max|w| / 64516 (t5_int8.h), i.e. relative to |x| |w| at most about 2 / 254 ~ 0.8% when
 * one value dominates each row, and ~ 2 sqrt(C) / 254 / sqrt(C) (independent roundings,
 * half a step each) typically. A logit is reached through the decoder's residual stream:
 * each sublayer's product errors add into the stream (RMSNorm rescales but does not
 * amplify them relative to the stream), and the final lm_head product adds its own. With
 * L decoder layers of 3 sublayers (2 products each on the way to the stream) plus the
 * encoder's contribution through cross-attention, the worst case sums to about
 * (6 L + 2) x 0.8% of the logits' scale: 2 layers -> 11%. The measured error is a few
 * times smaller (printed); the bound asserted is that sum, per logit, relative to the
 * largest |logit| of its row (logits of one position share one scale). */
static double int8_logit_bound(const t5_config *c)
{
    return (6.0 * c->num_decoder_layers + 2.0) * 2.0 / 254.0;
}

static void test_fixture(const char *cfg)
{
    char dir[512];
    snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfg);
    t0_error err = {0};
    t5_model *m = t5_model_open_mapped(dir, &err);
    if (!CHECK(m != NULL) || !CHECK(t5_model_use_dtype(m, "int8", &err) == 0)) {
        fprintf(stderr, "  %s\n", err.msg);
        t5_model_free(m);
        return;
    }
    CHECK(m->w.dec[0].sa.q.dtype == T5_I8 && m->w.enc[0].wo.dtype == T5_I8);
    fixture_batch fb;
    CHECK(fixture_batch_load(dir, &fb) == 0);
    const t5_batch *b = &fb.b;
    t5_run run = {0, 0, fb.z_loss, fb.denominator};
    CHECK(t5_model_reserve(m, b->rows, b->enc_len, b->dec_len, 0, &err) == 0);
    CHECK(t5_forward(m, b, &run, &err) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/expect.safetensors", dir);
    size_t n = 0;
    float *want = fixture_tensor(path, "logits", &n);
    int V = m->cfg.vocab_size;
    size_t rows = (size_t)b->rows * b->dec_len;
    if (!CHECK(want && n == rows * V))
        goto done;
    const float *got = t5_logits(m);
    double bound = int8_logit_bound(&m->cfg), worst = 0;
    for (size_t r = 0; r < rows; r++) {
        double scale = 0;
        for (int v = 0; v < V; v++)
            scale = fmax(scale, fabs(want[r * V + v]));
        for (int v = 0; v < V; v++)
            worst = fmax(worst, fabs(got[r * V + v] - want[r * V + v]) / fmax(scale, 1e-30));
    }
    fprintf(stderr, "%s int8: logits' error per logit up to %.2f%% of its row's largest |logit| (bound %.1f%%)\n",
            cfg, 100 * worst, 100 * bound);
    CHECK(worst <= bound);
done:
    free(want);
    fixture_batch_free(&fb);
    t5_model_free(m);
}

int main(void)
{
    test_fixture("a_gated_untied");
    test_fixture("b_relu_tied");
    test_fixture("c_packed");
    return unit_summary("test_int8");
}
