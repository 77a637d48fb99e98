/* test_score.c: the argmax rule of rank classification, and t5_decoder_start_rows with
 * several inputs (choice rows of two examples in one decoder batch, in mixed order) against
 * each input decoded on its own with t5_decoder_start. */
#include <math.h>
#include <stdlib.h>

#include "eval/score.h"
#include "t5/t5_decode.h"
#include "unit.h"

static void test_argmax(void)
{
    double a[] = {-3.0, -1.5, -1.5, -7.0};
    CHECK(t0_score_argmax(a, 4) == 1); /* the first on ties */
    double b[] = {-INFINITY, -INFINITY};
    CHECK(t0_score_argmax(b, 2) == 0);
    double c[] = {-9.0, -8.0, -1e-300};
    CHECK(t0_score_argmax(c, 3) == 2);
    CHECK(t0_score_argmax(c, 1) == 0);
    CHECK(t0_score_argmax(c, 0) == -1);
}

/* Logits of rows fed `steps` tokens, rows of input e attending to it. */
static void test_rows(const char *dir)
{
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    int V = m->cfg.vocab_size, T = 5, R = 4;
    int32_t enc[2 * 5] = {5, 17, 30, 2, 0, /* padded */ 40, 41, 8, 9, 12};
    int rowex[4] = {1, 0, 0, 1};
    int32_t feed[3][4] = {{0, 0, 0, 0}, {7, 3, 9, 7}, {4, 4, 22, 6}};
    t5_decoder *d = t5_decoder_create(m, R, T, 3, &err);
    CHECK(d && t5_decoder_start_rows(d, enc, 2, T, R, rowex, &err) == 0);
    float *got = malloc(sizeof(float) * 3 * R * V);
    for (int t = 0; t < 3; t++) {
        const float *l;
        CHECK(t5_decoder_step(d, feed[t], &l, &err) == 0);
        memcpy(got + (size_t)t * R * V, l, sizeof(float) * R * V);
    }
    /* each row alone: its input as a one-row batch */
    t5_decoder *one = t5_decoder_create(m, 1, T, 3, &err);
    double dmax = 0.0, wmax = 0.0; /* relative error per tensor, as the model tests measure it */
    for (int r = 0; r < R; r++) {
        CHECK(t5_decoder_start(one, enc + rowex[r] * T, &err) == 0);
        for (int t = 0; t < 3; t++) {
            const float *l;
            CHECK(t5_decoder_step(one, &feed[t][r], &l, &err) == 0);
            for (int v = 0; v < V; v++) {
                double e = fabs(got[((size_t)t * R + r) * V + v] - l[v]);
                dmax = e > dmax ? e : dmax;
                wmax = fabs(l[v]) > wmax ? fabs(l[v]) : wmax;
            }
        }
    }
    double worst = dmax / wmax;
    fprintf(stderr, "  %s: start_rows vs one row at a time: max relative difference %.2g\n", dir, worst);
    CHECK(worst < 1e-5);
    /* t5_decoder_feed: all three positions at once, then one and two, equal the steps */
    int32_t tok[4 * 3];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < 3; t++)
            tok[r * 3 + t] = feed[t][r];
    for (int split = 3; split >= 1; split -= 2) {
        CHECK(t5_decoder_start_rows(d, enc, 2, T, R, rowex, &err) == 0);
        double fmax = 0.0, fw = 0.0;
        for (int t0 = 0; t0 < 3;) {
            int n = t0 == 0 ? split : 3 - t0;
            int32_t part[4 * 3];
            for (int r = 0; r < R; r++)
                for (int i = 0; i < n; i++)
                    part[r * n + i] = tok[r * 3 + t0 + i];
            const float *l;
            CHECK(t5_decoder_feed(d, part, n, &l, &err) == 0);
            for (int r = 0; r < R; r++)
                for (int i = 0; i < n; i++)
                    for (int v = 0; v < V; v++) {
                        float want = got[((size_t)(t0 + i) * R + r) * V + v];
                        double e = fabs(l[((size_t)r * n + i) * V + v] - want);
                        fmax = e > fmax ? e : fmax;
                        fw = fabs(want) > fw ? fabs(want) : fw;
                    }
            t0 += n;
        }
        fprintf(stderr, "  %s: feed (first %d) vs steps: max relative difference %.2g\n", dir, split, fmax / fw);
        CHECK(fmax / fw < 1e-5);
    }
    const float *l;
    CHECK(t5_decoder_feed(d, tok, 1, &l, &err) == -1); /* past max_len */
    /* fewer rows and a shorter input than the decoder holds */
    int rowex2[2] = {0, 0};
    CHECK(t5_decoder_start_rows(d, enc + T, 1, 3, 2, rowex2, &err) == 0);
    CHECK(t5_decoder_start_rows(d, enc, 1, T + 1, 2, rowex2, &err) == -1);
    free(got);
    t5_decoder_free(d);
    t5_decoder_free(one);
    t5_model_free(m);
}

int main(void)
{
    test_argmax();
    test_rows("tests/fixtures/model/a_gated_untied");
    test_rows("tests/fixtures/model/b_relu_tied");
    return unit_summary("test_score");
}
