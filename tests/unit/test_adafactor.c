/* test_adafactor.c: Adafactor and AdamW against Hugging Face's Adafactor and torch's AdamW
 * (fixtures: parameters after k steps over the fixture gradient, for min_dim_to_factor
 * 128 (Mesh TF), 0 (every matrix factored = HF) and 32 (both paths in one model), and a
 * resume from global step 1,100,001), and exact resume from a saved state file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/adafactor.h"
#include "train/adamw.h"
#include "model_fixture.h"
#include "t5/t5_ops.h"
#include "unit.h"

#define TOL 1e-6 /* on the parameters after the steps */
/* On the change the steps made: float32 parameters hold it only to their own rounding
 * (an update of 1e-4 on a weight of 0.5 keeps ~3 digits), so the change may differ by
 * DTOL of the largest change plus 2 ulp of the largest parameter. */
#define DTOL 1e-5
#define ULP2 2.4e-7

static float *load_arena(const t5_model *m, const char *file)
{
    float *a = malloc(m->nfloats * sizeof(float));
    for (int i = 0; i < m->nspecs; i++) {
        size_t n = 0;
        float *t = fixture_tensor(file, m->specs[i].name, &n);
        if (!t || n != t5_numel(&m->specs[i])) {
            free(t);
            free(a);
            return NULL;
        }
        memcpy(a + m->offset[i], t, n * sizeof(float));
        free(t);
    }
    return a;
}

/* got/want: parameters after; base: before. Checks both the parameters and the change. */
/* The optimizers take each tensor as a handle: views of a params and a grads arena laid
 * out as m's (t5_model_views) */
static void af_step(adafactor *a, const t5_model *m, float *params, float *grads)
{
    t5_weight *p = malloc(sizeof *p * m->nspecs), *g = malloc(sizeof *g * m->nspecs);
    t5_model_views(m, params, p);
    t5_model_views(m, grads, g);
    adafactor_step(a, p, g);
    free(p), free(g);
}

static void aw_step(adamw *a, const t5_model *m, float *params, float *grads)
{
    t5_weight *p = malloc(sizeof *p * m->nspecs), *g = malloc(sizeof *g * m->nspecs);
    t5_model_views(m, params, p);
    t5_model_views(m, grads, g);
    adamw_step(a, p, g);
    free(p), free(g);
}

static int compare_arenas(const char *what, const t5_model *m, const float *got, const float *want, const float *base)
{
    int bad = 0;
    double worst = 0, worst_d = 0;
    float *dg = malloc(m->nfloats * sizeof(float)), *dw = malloc(m->nfloats * sizeof(float));
    for (size_t k = 0; k < m->nfloats; k++)
        dg[k] = got[k] - base[k], dw[k] = want[k] - base[k];
    for (int i = 0; i < m->nspecs; i++) {
        size_t o = m->offset[i], n = t5_numel(&m->specs[i]);
        double e = rel_err(got + o, want + o, n), dmax = 0, dwmax = 0, pmax = 0;
        for (size_t k = o; k < o + n; k++) {
            dmax = fmax(dmax, fabs((double)dg[k] - dw[k]));
            dwmax = fmax(dwmax, fabs((double)dw[k]));
            pmax = fmax(pmax, fabs((double)want[k]));
        }
        double d = dmax / (DTOL * dwmax + ULP2 * pmax + 1e-30); /* <= 1 passes */
        if (e > worst)
            worst = e;
        if (d > worst_d)
            worst_d = d;
        if (e > TOL || d > 1.0) {
            if (bad++ < 5)
                fprintf(stderr, "  %s %s: params rel err %.3g, update error %.3g of its bound\n", what, m->specs[i].name, e, d);
        }
    }
    fprintf(stderr, "%s: %d tensors, params max rel err %.2e, update error %.2f of its bound\n", what, m->nspecs,
            worst, worst_d);
    free(dg);
    free(dw);
    return bad == 0;
}

static void test_adafactor_file(const char *cfg, const char *file, int md, int steps, long from)
{
    char dir[512], path[700], what[256];
    snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfg);
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    if (!CHECK(m != NULL))
        return;
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    float *g = load_arena(m, path);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    float *want = load_arena(m, path);
    float *base = malloc(m->nfloats * sizeof(float));
    if (!CHECK(g && want && base))
        return;
    memcpy(base, m->params, m->nfloats * sizeof(float));
    adafactor_opts o;
    adafactor_defaults(&o);
    o.min_dim_to_factor = md;
    adafactor *a = adafactor_create(m->specs, m->nspecs, &o, &err);
    adafactor_set_step(a, from);
    int nf = 0;
    for (int i = 0; i < m->nspecs; i++)
        nf += adafactor_factored(a, i);
    for (int s = 0; s < steps; s++)
        af_step(a, m, m->params, g);
    CHECK(adafactor_get_step(a) == from + steps);
    snprintf(what, sizeof what, "%s %s (%d of %d factored)", cfg, file, nf, m->nspecs);
    CHECK(compare_arenas(what, m, m->params, want, base));
    adafactor_free(a);
    free(g);
    free(want);
    free(base);
    t5_model_free(m);
}

static void test_adafactor_fixtures(void)
{
    static const char *cfgs[] = {"a_gated_untied", "b_relu_tied", "c_packed"};
    int files = 0;
    for (int c = 0; c < 3; c++) {
        char dir[512];
        snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfgs[c]);
        static const int mds[] = {128, 0, 32};
        for (int i = 0; i < 3; i++)
            for (int steps = 1; steps <= 3; steps++) {
                char file[128], path[700];
                snprintf(file, sizeof file, "adafactor_md%d_s%d.safetensors", mds[i], steps);
                snprintf(path, sizeof path, "%s/%s", dir, file);
                if (access(path, R_OK) == 0) {
                    test_adafactor_file(cfgs[c], file, mds[i], steps, 0);
                    files++;
                }
            }
    }
    /* T0 continued Mesh TF's global step: decay 1 - (t+1)^-0.8 at t = 1,100,001 */
    test_adafactor_file("a_gated_untied", "adafactor_md32_s1_from1100001.safetensors", 32, 1, 1100001);
    files++;
    CHECK(files == 10);
}

/* saving after one step and loading into a fresh optimizer continues exactly */
static void test_adafactor_resume(void)
{
    char dir[] = FIXTURE_DIR "/a_gated_untied";
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err), *m2 = t5_model_open(dir, &err);
    float *g = load_arena(m, FIXTURE_DIR "/a_gated_untied/grads.safetensors");
    if (!CHECK(m && m2 && g))
        return;
    adafactor_opts o;
    adafactor_defaults(&o);
    o.min_dim_to_factor = 32;
    adafactor *a = adafactor_create(m->specs, m->nspecs, &o, &err);
    adafactor *b = adafactor_create(m->specs, m->nspecs, &o, &err);
    af_step(a, m, m->params, g);
    memcpy(m2->params, m->params, m->nfloats * sizeof(float));
    char tmp[] = "/tmp/t0-af-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
    CHECK(adafactor_save(a, path, &err) == 0);
    CHECK(adafactor_load(b, path, &err) == 0);
    CHECK(adafactor_get_step(b) == 1);
    for (int s = 0; s < 2; s++) {
        af_step(a, m, m->params, g);
        af_step(b, m, m2->params, g);
    }
    CHECK(memcmp(m->params, m2->params, m->nfloats * sizeof(float)) == 0);
    /* a state file for other shapes is refused with the tensor's name */
    o.min_dim_to_factor = 0;
    adafactor *c = adafactor_create(m->specs, m->nspecs, &o, &err);
    CHECK(adafactor_load(c, path, &err) != 0);
    CHECK(strstr(err.msg, "adafactor_") != NULL);
    unlink(path);
    rmdir(tmp);
    adafactor_free(a);
    adafactor_free(b);
    adafactor_free(c);
    free(g);
    t5_model_free(m);
    t5_model_free(m2);
}

static void test_adamw(void)
{
    static const char *cfgs[] = {"a_gated_untied", "b_relu_tied", "c_packed"};
    for (int c = 0; c < 3; c++) {
        char dir[512], path[700], what[128];
        snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfgs[c]);
        t0_error err = {0};
        t5_model *m = t5_model_open(dir, &err);
        if (!CHECK(m != NULL))
            continue;
        snprintf(path, sizeof path, "%s/grads.safetensors", dir);
        float *g = load_arena(m, path);
        snprintf(path, sizeof path, "%s/adamw_s1.safetensors", dir);
        float *want = load_arena(m, path);
        float *base = malloc(m->nfloats * sizeof(float));
        memcpy(base, m->params, m->nfloats * sizeof(float));
        adamw_opts o;
        adamw_defaults(&o);
        adamw *a = adamw_create(m->specs, m->nspecs, &o, &err);
        aw_step(a, m, m->params, g);
        snprintf(what, sizeof what, "%s adamw_s1", cfgs[c]);
        CHECK(compare_arenas(what, m, m->params, want, base));
        if (c == 0) { /* resume: save, load, one more step each */
            char tmp[] = "/tmp/t0-aw-XXXXXX";
            CHECK(mkdtemp(tmp) != NULL);
            snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
            CHECK(adamw_save(a, path, &err) == 0);
            adamw *b = adamw_create(m->specs, m->nspecs, &o, &err);
            CHECK(adamw_load(b, path, &err) == 0 && adamw_get_step(b) == 1);
            memcpy(base, m->params, m->nfloats * sizeof(float));
            aw_step(a, m, m->params, g);
            aw_step(b, m, base, g);
            CHECK(memcmp(m->params, base, m->nfloats * sizeof(float)) == 0);
            unlink(path);
            rmdir(tmp);
            adamw_free(b);
        }
        adamw_free(a);
        free(g);
        free(want);
        free(base);
        t5_model_free(m);
    }
}

/* t-zero's exclusion list ("bias", "LayerNorm.weight") matches only the relative attention
 * bias: with zero gradients a step is the decay alone, and it skips that tensor */
static void test_adamw_no_decay(void)
{
    t0_error err = {0};
    t5_model *m = t5_model_open(FIXTURE_DIR "/c_packed", &err);
    if (!CHECK(m != NULL))
        return;
    float *p0 = malloc(m->nfloats * sizeof(float)), *g = calloc(m->nfloats, sizeof(float));
    memcpy(p0, m->params, m->nfloats * sizeof(float));
    adamw_opts o;
    adamw_defaults(&o);
    o.decay_rel_bias = 0;
    adamw *a = adamw_create(m->specs, m->nspecs, &o, &err);
    aw_step(a, m, m->params, g);
    int ok = 1;
    for (int i = 0; i < m->nspecs; i++) {
        int bias = strstr(m->specs[i].name, "relative_attention_bias") != NULL;
        for (size_t k = m->offset[i]; k < m->offset[i] + t5_numel(&m->specs[i]); k++) {
            float want = bias ? p0[k] : p0[k] * (1.0f - o.lr * o.weight_decay);
            ok &= m->params[k] == want;
        }
    }
    CHECK(ok);
    adamw_free(a);
    free(p0);
    free(g);
    t5_model_free(m);
}

int main(void)
{
    if (access(FIXTURE_DIR "/buckets.safetensors", R_OK) != 0) {
        fprintf(stderr, "test_adafactor: run from the repository root (fixtures in %s)\n", FIXTURE_DIR);
        return 1;
    }
    test_adafactor_fixtures();
    t5_set_threads(2); /* the same on the pool (rows, columns and sums split) */
    test_adafactor_fixtures();
    t5_set_threads(1);
    test_adafactor_resume();
    test_adamw();
    test_adamw_no_decay();
    return unit_summary("test_adafactor");
}
