/* test_t5_model.c: the C T5 against Hugging Face transformers (fixtures written by
 * tests/reference/t5_reference.py): the relative-position bucket tables, encoder output,
 * logits, loss and the gradient of every parameter, for three small models (gated-gelu
 * untied; relu tied with padding; packed rows). Also a BF16 copy of a model. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"
#include "t5/t5_ops.h"
#include "unit.h"

static const char *configs[] = {"a_gated_untied", "b_relu_tied", "c_packed"};
#define TOL 1e-4

static void test_buckets(void)
{
    t0_error err = {0};
    st_model *st = st_open(FIXTURE_DIR "/buckets.safetensors", &err);
    if (!CHECK(st != NULL))
        return;
    int tables = 0, bad = 0;
    for (int i = 0; i < st_count(st); i++) {
        const st_tensor *t = st_at(st, i);
        int nb, md;
        char dir[8];
        if (sscanf(t->name, "nb%d_md%d_%7s", &nb, &md, dir) != 3)
            continue;
        float v[601];
        int64_t shape[1] = {601};
        CHECK(st_read_f32(st, t->name, 1, shape, v, &err) == 0);
        int bidir = strcmp(dir, "bi") == 0;
        for (int r = -300; r <= 300; r++)
            if (t5_relative_bucket(r, bidir, nb, md) != (int)v[r + 300]) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s: rel %d: %d, HF %d\n", t->name, r, t5_relative_bucket(r, bidir, nb, md),
                            (int)v[r + 300]);
            }
        tables++;
    }
    st_close(st);
    CHECK(tables == 12);
    CHECK(bad == 0);
    fprintf(stderr, "buckets: %d tables x 601 relative positions, %d differ\n", tables, bad);
}

/* the row kernels' exp against libm's, over the whole clamped range */
static void test_exp(void)
{
    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.00731f) {
        double e = fabs((double)t5_exp(x) - exp((double)x)) / exp((double)x);
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 4e-7);
    CHECK(t5_exp(-1000.0f) > 0.0f && t5_exp(-1000.0f) < 2e-38f); /* clamped: a normal float, not a denormal */
    fprintf(stderr, "exp: max rel err %.2e over [-87, 88]\n", worst);
}

static int compare_expect(const char *dir, const char *name, const float *got, size_t n_got)
{
    char path[512];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/expect.safetensors", dir);
    float *want = fixture_tensor(path, name, &n);
    int ok = want && n == n_got;
    char what[256];
    snprintf(what, sizeof what, "%s %s", dir, name);
    if (ok)
        ok = close_enough(what, got, want, n, TOL);
    free(want);
    return ok;
}

/* forward, loss and every gradient of one fixture model */
static void test_config(const char *cfg)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfg);
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    if (!CHECK(m != NULL)) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    fixture_batch fb;
    CHECK(fixture_batch_load(dir, &fb) == 0);
    const t5_batch *b = &fb.b;
    CHECK(t5_model_reserve(m, b->rows, b->enc_len, b->dec_len, 1, &err) == 0);
    CHECK(t5_model_alloc_grads(m, &err) == 0);
    t5_run run = {0, 0, fb.z_loss, fb.denominator};
    CHECK(t5_forward(m, b, &run, &err) == 0);
    size_t Ne = (size_t)b->rows * b->enc_len, Nd = (size_t)b->rows * b->dec_len;
    CHECK(compare_expect(dir, "enc_out", t5_encoder_output(m), Ne * m->cfg.d_model));
    CHECK(compare_expect(dir, "logits", t5_logits(m), Nd * m->cfg.vocab_size));
    float loss[3] = {(float)m->loss, (float)m->ce_loss, (float)m->z_loss};
    CHECK(compare_expect(dir, "loss", &loss[0], 1));
    CHECK(compare_expect(dir, "ce_loss", &loss[1], 1));
    CHECK(compare_expect(dir, "z_loss", &loss[2], 1));
    double fwd_err = worst_rel_err;

    t5_model_zero_grads(m);
    CHECK(t5_backward(m, b, &run, &err) == 0);
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    worst_rel_err = 0;
    int bad = 0;
    for (int i = 0; i < m->nspecs; i++) {
        size_t n = 0;
        float *want = fixture_tensor(path, m->specs[i].name, &n);
        char what[256];
        snprintf(what, sizeof what, "%s grad %s", cfg, m->specs[i].name);
        if (!want || n != t5_numel(&m->specs[i]) || !close_enough(what, m->grads + m->offset[i], want, n, TOL))
            bad++;
        free(want);
    }
    CHECK(bad == 0);
    fprintf(stderr, "%s: loss %.6f; forward max rel err %.2e; %d gradients, max rel err %.2e, %d over %.0e\n", cfg,
            m->loss, fwd_err, m->nspecs, worst_rel_err, bad, TOL);
    worst_rel_err = 0;

    /* the backward pass leaves the parameters alone: a second forward gives the same loss */
    double loss0 = m->loss;
    CHECK(t5_forward(m, b, &run, &err) == 0);
    CHECK(m->loss == loss0);
    fixture_batch_free(&fb);
    t5_model_free(m);
}

/* a BF16 copy of model (a) gives logits within bf16's precision of the F32 ones */
static void test_bf16(void)
{
    char dir[] = FIXTURE_DIR "/a_gated_untied";
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    if (!CHECK(m != NULL))
        return;
    char tmp[] = "/tmp/t0-bf16-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    CHECK(t5_model_save(m, path, 1, &err) == 0);
    t5_model *h = t5_model_create(&m->cfg, &err);
    CHECK(h && t5_model_load(h, path, &err) == 0);
    fixture_batch fb;
    CHECK(fixture_batch_load(dir, &fb) == 0);
    const t5_batch *b = &fb.b;
    t5_run run = {0, 0, fb.z_loss, fb.denominator};
    CHECK(t5_model_reserve(m, b->rows, b->enc_len, b->dec_len, 0, &err) == 0);
    CHECK(t5_model_reserve(h, b->rows, b->enc_len, b->dec_len, 0, &err) == 0);
    CHECK(t5_forward(m, b, &run, &err) == 0);
    CHECK(t5_forward(h, b, &run, &err) == 0);
    size_t n = (size_t)b->rows * b->dec_len * m->cfg.vocab_size;
    double e = rel_err(t5_logits(h), t5_logits(m), n);
    /* bf16 keeps 8 significant bits (relative rounding 2^-9 per weight); through a few layers
     * the logits move by a few times that */
    CHECK(e < 3e-2);
    CHECK(e > 0.0); /* the copy really was rounded */
    fprintf(stderr, "bf16: logits max rel err %.2e vs F32 (bound 3e-2)\n", e);
    unlink(path);
    rmdir(tmp);
    fixture_batch_free(&fb);
    t5_model_free(m);
    t5_model_free(h);
}

int main(void)
{
    if (access(FIXTURE_DIR "/buckets.safetensors", R_OK) != 0) {
        fprintf(stderr, "test_t5_model: run from the repository root (fixtures in %s)\n", FIXTURE_DIR);
        return 1;
    }
    test_exp();
    test_buckets();
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        test_config(configs[i]);
    test_bf16();
    /* again on the thread pool: products split by rows or columns, attention by (row, head) */
    CHECK(t5_set_threads(3) == 3);
    fprintf(stderr, "-- 3 threads\n");
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        test_config(configs[i]);
    t5_set_threads(1);
    return unit_summary("test_t5_model");
}
