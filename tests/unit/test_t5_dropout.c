/* test_t5_dropout.c: dropout from the seeded counter-based generator. transformers' masks
 * come from torch's generator, so instead of fixtures: the mask keeps 1 - rate of the
 * elements scaled by 1/(1 - rate); a seed gives the same loss twice and another seed a
 * different one; inference ignores dropout; and with dropout on, the hand-written
 * backward agrees with central finite differences of the loss (gated-gelu and packed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"
#include "t5/t5_ops.h"
#include "unit.h"

static void test_mask(void)
{
    enum { N = 200000 };
    float *x = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++)
        x[i] = 1.0f;
    t5_dropout_forward(x, N, 0.1f, 42, 7);
    int zeros = 0, scaled = 0;
    for (int i = 0; i < N; i++) {
        zeros += x[i] == 0.0f;
        scaled += x[i] == 1.0f / 0.9f;
    }
    CHECK(zeros + scaled == N);
    CHECK(zeros > N * 0.095 && zeros < N * 0.105);
    float *y = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++)
        y[i] = 1.0f;
    t5_dropout_backward(y, N, 0.1f, 42, 7); /* backward regenerates the same mask */
    CHECK(memcmp(x, y, sizeof(float) * N) == 0);
    for (int i = 0; i < N; i++)
        y[i] = 1.0f;
    t5_dropout_forward(y, N, 0.1f, 42, 8); /* another site: another mask */
    CHECK(memcmp(x, y, sizeof(float) * N) != 0);
    fprintf(stderr, "dropout mask: %d of %d dropped at rate 0.1\n", zeros, N);
    free(x);
    free(y);
}

static double loss_at(t5_model *m, const t5_batch *b, const t5_run *run)
{
    t0_error err = {0};
    if (t5_forward(m, b, run, &err) != 0)
        return NAN;
    return m->loss;
}

/* d loss along a random direction u: backward's g.u against (L(p+eu) - L(p-eu)) / 2e;
 * returns the relative difference */
static double fd_check(t5_model *m, const t5_batch *b, const t5_run *run, double *g_dot_u, double *fd_out)
{
    t0_error err = {0};
    t5_model_zero_grads(m);
    loss_at(m, b, run);
    if (t5_backward(m, b, run, &err) != 0)
        return INFINITY;
    float *p0 = malloc(sizeof(float) * m->nfloats), *u = malloc(sizeof(float) * m->nfloats);
    memcpy(p0, m->params, sizeof(float) * m->nfloats);
    uint64_t s = 12345;
    double gu = 0;
    for (size_t i = 0; i < m->nfloats; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        u[i] = (s >> 63) ? 1.0f : -1.0f;
        gu += (double)m->grads[i] * u[i];
    }
    const float eps = 1e-3f;
    for (size_t i = 0; i < m->nfloats; i++)
        m->params[i] = p0[i] + eps * u[i];
    double lp = loss_at(m, b, run);
    for (size_t i = 0; i < m->nfloats; i++)
        m->params[i] = p0[i] - eps * u[i];
    double lm = loss_at(m, b, run);
    memcpy(m->params, p0, sizeof(float) * m->nfloats);
    free(p0);
    free(u);
    *g_dot_u = gu;
    *fd_out = (lp - lm) / (2.0 * eps);
    return fabs(*fd_out - gu) / fabs(gu);
}

static void test_gradcheck(const char *cfg)
{
    char dir[512];
    snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfg);
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    fixture_batch fb;
    if (!CHECK(m != NULL) || !CHECK(fixture_batch_load(dir, &fb) == 0))
        return;
    const t5_batch *b = &fb.b;
    m->cfg.dropout_rate = 0.2f;
    CHECK(t5_model_reserve(m, b->rows, b->enc_len, b->dec_len, 1, &err) == 0);
    CHECK(t5_model_alloc_grads(m, &err) == 0);
    t5_run off = {0, 5, fb.z_loss, fb.denominator}, on = {1, 5, fb.z_loss, fb.denominator};
    t5_run other = on;
    other.seed = 6;
    /* inference ignores the rate; a seed is a mask */
    m->cfg.dropout_rate = 0.0f;
    double l0 = loss_at(m, b, &off);
    m->cfg.dropout_rate = 0.2f;
    CHECK(loss_at(m, b, &off) == l0);
    double l1 = loss_at(m, b, &on);
    CHECK(loss_at(m, b, &on) == l1);
    CHECK(l1 != l0 && loss_at(m, b, &other) != l1);

    /* finite differences with dropout on, and off for the scale of their own error */
    double gu, fd, gu0, fd0;
    double rel = fd_check(m, b, &on, &gu, &fd);
    m->cfg.dropout_rate = 0.0f;
    double rel0 = fd_check(m, b, &off, &gu0, &fd0);
    CHECK(rel < 2e-2);
    CHECK(rel0 < 2e-2);
    fprintf(stderr, "%s dropout 0.2: loss %.5f (no dropout %.5f); directional derivative: backward %.6g, finite "
                    "difference %.6g, rel diff %.2e (without dropout %.2e)\n",
            cfg, l1, l0, gu, fd, rel, rel0);
    fixture_batch_free(&fb);
    t5_model_free(m);
}

int main(void)
{
    if (access(FIXTURE_DIR "/buckets.safetensors", R_OK) != 0) {
        fprintf(stderr, "test_t5_dropout: run from the repository root (fixtures in %s)\n", FIXTURE_DIR);
        return 1;
    }
    test_mask();
    test_gradcheck("a_gated_untied");
    test_gradcheck("c_packed");
    t5_set_threads(2);
    test_gradcheck("c_packed");
    t5_set_threads(1);
    return unit_summary("test_t5_dropout");
}
