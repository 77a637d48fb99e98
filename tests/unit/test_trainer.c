/* test_trainer.c: the trainer's steps against transformers (tests/fixtures/step, written by
 * tests/reference/step_reference.py): three Adafactor and three AdamW steps on an unpacked
 * and a packed batch, each tensor's update (after - before) within 1e-3 relative; the same for
 * Adafactor's relative_step and scale_parameter=False and AdamW under transformers' linear
 * schedule with warmup; --accum 2
 * on two halves of a batch against one step on the whole; dropout reproducible from its
 * seed; a saved checkpoint loading back to the same logits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"
#include "t5/t5_ops.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "unit.h"

#define STEP_DIR "tests/fixtures/step"
#define UPDATE_TOL 1e-3 /* the bound on each tensor's update */
#define ACCUM_TOL 1e-5  /* two halves against the whole: only the order of sums differs */
#define ACCUM_WEIGHT_TOL 1e-6

/* a variant of the reference's optimizer (step_reference.py's make_optimizer) */
static void variant_opts(const char *variant, trainer_opts *o)
{
    if (!strcmp(variant, "relstep"))
        o->relative_step = 1;
    if (!strcmp(variant, "noscale"))
        o->scale_parameter = 0;
    if (!strcmp(variant, "linear_w1_t4"))
        o->schedule = (lr_schedule){.kind = LR_LINEAR, .warmup = 1, .decay_steps = 4, .rsqrt_steps = 10000};
}

static trainer *make_variant(t5_model *m, train_optimizer opt, float dropout, uint64_t seed, const char *variant)
{
    trainer_opts o;
    trainer_defaults(&o);
    o.optimizer = opt;
    o.lr = opt == TRAIN_ADAFACTOR ? 1e-3f : 1e-4f;
    o.factor_min_dim = 32;
    o.dropout = dropout;
    o.seed = seed;
    variant_opts(variant, &o);
    t0_error err = {0};
    trainer *t = trainer_create(m, &o, &err);
    if (!t)
        fprintf(stderr, "  %s\n", err.msg);
    return t;
}

static trainer *make(t5_model *m, train_optimizer opt, float dropout, uint64_t seed)
{
    return make_variant(m, opt, dropout, seed, "");
}

/* three steps on the fixture batch, each tensor's update against the reference's */
static void against_variant(const char *config, train_optimizer opt, const char *file, const char *variant)
{
    char dir[256], ref[512];
    snprintf(dir, sizeof dir, "%s/%s", FIXTURE_DIR, config);
    snprintf(ref, sizeof ref, "%s/%s/%s", STEP_DIR, config, file);
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    fixture_batch fb;
    if (!CHECK(m != NULL) || !CHECK(fixture_batch_load(dir, &fb) == 0))
        return;
    float *before = malloc(m->nfloats * sizeof(float));
    memcpy(before, m->params, m->nfloats * sizeof(float));
    trainer *t = make_variant(m, opt, 0.0f, 0, variant);
    /* the reference's loss of each step, from the fixture's metadata */
    double want_loss[3] = {0};
    st_model *st = st_open(ref, &err);
    const char *losses = st ? st_metadata(st, "losses") : NULL;
    CHECK(losses && sscanf(losses, "%lf %lf %lf", &want_loss[0], &want_loss[1], &want_loss[2]) == 3);
    st_close(st);
    int ok = 1;
    for (int s = 0; s < 3 && ok; s++) {
        ok = CHECK(trainer_step(t, &fb.b, 1, &err) == 0);
        CHECK(fabs(t->last.loss - want_loss[s]) <= 1e-6 * fabs(want_loss[s]));
    }
    CHECK(t->steps == 3 && t->batches == 3);
    double worst = 0;
    for (int i = 0; ok && i < m->nspecs; i++) {
        size_t n = 0, o = m->offset[i];
        float *want = fixture_tensor(ref, m->specs[i].name, &n);
        if (!CHECK(want && n == t5_numel(&m->specs[i]))) {
            free(want);
            break;
        }
        float *got = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++)
            got[k] = m->params[o + k] - before[o + k];
        char what[200];
        snprintf(what, sizeof what, "%s %s update of %s", config, file, m->specs[i].name);
        double e = rel_err(got, want, n);
        worst = e > worst ? e : worst;
        CHECK(close_enough(what, got, want, n, UPDATE_TOL));
        free(got);
        free(want);
    }
    fprintf(stderr, "  %s %s: worst tensor update relative error %.2e\n", config, file, worst);
    trainer_free(t);
    t5_model_free(m);
    fixture_batch_free(&fb);
    free(before);
}

static void against_reference(const char *config, train_optimizer opt, const char *file)
{
    against_variant(config, opt, file, "");
}

/* row r of a batch as a batch of one row */
static t5_batch one_row(const t5_batch *b, int r)
{
    size_t e = (size_t)r * b->enc_len, d = (size_t)r * b->dec_len;
    return (t5_batch){1, b->enc_len, b->dec_len, b->enc_tokens + e, b->enc_seg + e, b->enc_pos + e,
                      b->dec_target + d, b->dec_input + d, b->dec_seg + d, b->dec_pos + d, b->dec_weights + d};
}

static void accum_halves(train_optimizer opt)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a_gated_untied", FIXTURE_DIR);
    t0_error err = {0};
    t5_model *whole = t5_model_open(dir, &err), *halves = t5_model_open(dir, &err);
    fixture_batch fb;
    if (!CHECK(whole && halves) || !CHECK(fixture_batch_load(dir, &fb) == 0))
        return;
    trainer *tw = make(whole, opt, 0.0f, 0), *th = make(halves, opt, 0.0f, 0);
    t5_batch mb[2] = {one_row(&fb.b, 0), one_row(&fb.b, 1)};
    CHECK(fb.b.rows == 2);
    const char *name = opt == TRAIN_ADAFACTOR ? "adafactor" : "adamw";
    for (int s = 0; s < 2; s++) {
        CHECK(trainer_step(tw, &fb.b, 1, &err) == 0);
        CHECK(trainer_step(th, mb, 2, &err) == 0);
        CHECK(fabs(tw->last.loss - th->last.loss) <= 1e-6 * fabs(tw->last.loss));
        CHECK(tw->last.tokens == th->last.tokens);
        /* the step's summed gradient is the whole batch's (up to the order of sums) */
        for (int i = 0; i < whole->nspecs; i++) {
            char what[200];
            snprintf(what, sizeof what, "accum 2 (%s) step %d gradient of %s", name, s + 1, whole->specs[i].name);
            size_t o = whole->offset[i], n = t5_numel(&whole->specs[i]);
            CHECK(close_enough(what, halves->grads + o, whole->grads + o, n, ACCUM_TOL));
        }
    }
    CHECK(th->batches == 4 && tw->batches == 2);
    /* and the weights after two steps: float32 weights hold an update of ~1e-4 only to their
     * own rounding, so they are compared, not their change */
    for (int i = 0; i < whole->nspecs; i++) {
        char what[200];
        snprintf(what, sizeof what, "accum 2 (%s) weights %s", name, whole->specs[i].name);
        size_t o = whole->offset[i], n = t5_numel(&whole->specs[i]);
        CHECK(close_enough(what, halves->params + o, whole->params + o, n, ACCUM_WEIGHT_TOL));
    }
    trainer_free(tw), trainer_free(th);
    t5_model_free(whole), t5_model_free(halves);
    fixture_batch_free(&fb);
}

/* dropout: the same seed gives the same bits, another seed other weights */
static void dropout_seeded(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/c_packed", FIXTURE_DIR);
    t0_error err = {0};
    t5_model *m[3];
    trainer *t[3];
    fixture_batch fb;
    if (!CHECK(fixture_batch_load(dir, &fb) == 0))
        return;
    static const uint64_t seeds[3] = {5, 5, 6};
    for (int i = 0; i < 3; i++) {
        m[i] = t5_model_open(dir, &err);
        t[i] = make(m[i], TRAIN_ADAFACTOR, 0.1f, seeds[i]);
        for (int s = 0; s < 2; s++)
            CHECK(trainer_step(t[i], &fb.b, 1, &err) == 0);
    }
    CHECK(memcmp(m[0]->params, m[1]->params, m[0]->nfloats * sizeof(float)) == 0);
    CHECK(memcmp(m[0]->params, m[2]->params, m[0]->nfloats * sizeof(float)) != 0);
    CHECK(t[0]->last.loss == t[1]->last.loss && t[0]->last.loss != t[2]->last.loss);
    CHECK(trainer_dropout_seed(5, 1, 0) != trainer_dropout_seed(5, 1, 1));
    CHECK(trainer_dropout_seed(5, 1, 0) != trainer_dropout_seed(5, 2, 0));
    for (int i = 0; i < 3; i++)
        trainer_free(t[i]), t5_model_free(m[i]);
    fixture_batch_free(&fb);
}

/* a checkpoint loads back to the same weights and the same logits, bit for bit */
static void checkpoint_round_trip(void)
{
    char dir[256], out[] = "/tmp/t0-test-trainer-XXXXXX", saved[4096];
    snprintf(dir, sizeof dir, "%s/c_packed", FIXTURE_DIR);
    if (!CHECK(mkdtemp(out) != NULL))
        return;
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    fixture_batch fb;
    ckpt_assets a;
    if (!CHECK(m && fixture_batch_load(dir, &fb) == 0) || !CHECK(ckpt_assets_read(dir, &a, &err) == 0))
        return;
    trainer *t = make(m, TRAIN_ADAFACTOR, 0.0f, 0);
    CHECK(trainer_step(t, &fb.b, 1, &err) == 0);
    ckpt_opts co = {.bf16 = 0};
    CHECK(ckpt_save(out, t, &a, &co, saved, sizeof saved, &err) == 0);
    t5_model *back = t5_model_open(saved, &err);
    if (CHECK(back != NULL)) {
        CHECK(memcmp(back->params, m->params, m->nfloats * sizeof(float)) == 0);
        t5_run run = {0, 0, 1e-4f, (float)(fb.b.rows * fb.b.dec_len)};
        CHECK(t5_model_reserve(back, fb.b.rows, fb.b.enc_len, fb.b.dec_len, 0, &err) == 0);
        CHECK(t5_forward(m, &fb.b, &run, &err) == 0);
        size_t n = (size_t)fb.b.rows * fb.b.dec_len * m->cfg.vocab_size;
        float *want = malloc(n * sizeof(float));
        memcpy(want, t5_logits(m), n * sizeof(float));
        CHECK(t5_forward(back, &fb.b, &run, &err) == 0);
        CHECK(memcmp(want, t5_logits(back), n * sizeof(float)) == 0);
        free(want);
        ckpt_state st;
        CHECK(ckpt_read_state(saved, &st, &err) == 0);
        CHECK(st.steps == 1 && st.batches == 1 && st.rows == fb.b.rows && st.o.factor_min_dim == 32);
        t5_model_free(back);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", out);
    CHECK(system(cmd) == 0);
    trainer_free(t);
    t5_model_free(m);
    ckpt_assets_free(&a);
    fixture_batch_free(&fb);
}

int main(void)
{
    t5_set_threads(1);
    against_reference("a_gated_untied", TRAIN_ADAFACTOR, "adafactor_md32_s3_delta.safetensors");
    against_reference("a_gated_untied", TRAIN_ADAMW, "adamw_s3_delta.safetensors");
    against_reference("c_packed", TRAIN_ADAFACTOR, "adafactor_md32_s3_delta.safetensors");
    against_reference("c_packed", TRAIN_ADAMW, "adamw_s3_delta.safetensors");
    against_variant("a_gated_untied", TRAIN_ADAFACTOR, "adafactor_md32_relstep_s3_delta.safetensors", "relstep");
    against_variant("a_gated_untied", TRAIN_ADAFACTOR, "adafactor_md32_noscale_s3_delta.safetensors", "noscale");
    against_variant("a_gated_untied", TRAIN_ADAMW, "adamw_linear_w1_t4_s3_delta.safetensors", "linear_w1_t4");
    accum_halves(TRAIN_ADAFACTOR);
    accum_halves(TRAIN_ADAMW);
    dropout_seeded();
    checkpoint_round_trip();
    fprintf(stderr, "  worst relative error %.2e\n", worst_rel_err);
    return unit_summary("test_trainer");
}
