/* test_generate.c: generation against transformers 4.44's generate() (fixtures written by
 * tests/reference/decode_reference.py): greedy and beam search ids identical, as padded
 * sequence matrices, on two F32 models opened memory-mapped; BF16 greedy against
 * transformers in bfloat16, differences only where its top two logits are close; the
 * BF16 product against a double reference; mapped and loaded F32 models giving the same
 * logits; sampling identical across runs and batch sizes, and top-k 1 equal to greedy. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/half.h"
#include "generate/generate.h"
#include "model_fixture.h"
#include "t5/t5_bf16.h"
#include "t5/t5_decode.h"
#include "t5/t5_ops.h"
#include "unit.h"

#define DECODE_DIR "tests/fixtures/decode"

typedef struct {
    int rows, len;
    int32_t *input;
} fixture_in;

static int load_input(const char *dir, fixture_in *in)
{
    char path[600];
    snprintf(path, sizeof path, "%s/expect.safetensors", dir);
    size_t n = 0;
    float *f = fixture_tensor(path, "input", &n);
    if (!f)
        return -1;
    in->rows = 4, in->len = (int)(n / 4);
    in->input = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++)
        in->input[i] = (int32_t)f[i];
    free(f);
    return 0;
}

/* transformers' padded matrix of the sequences: start token, ids, padding; beam search's
 * width rule from BeamSearchScorer.finalize, greedy's from the steps run */
static int32_t *as_matrix(const t0_gen_seq *s, int n, int beam, int max_length, int pad, int start, int *width)
{
    int w = 0;
    for (int i = 0; i < n; i++) {
        int len = 1 + s[i].n - (beam ? s[i].finished : 0);
        w = len > w ? len : w;
    }
    if (beam)
        w = w + 1 < max_length ? w + 1 : max_length;
    int32_t *m = malloc(sizeof(int32_t) * (size_t)n * w);
    for (int i = 0; i < n; i++) {
        m[(size_t)i * w] = start;
        for (int t = 1; t < w; t++)
            m[(size_t)i * w + t] = t - 1 < s[i].n ? s[i].ids[t - 1] : pad;
    }
    *width = w;
    return m;
}

static void opts_from_json(const cJSON *j, t0_gen_opts *o)
{
    t0_gen_defaults(o);
    o->max_new_tokens = 10;
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(j, "num_beams")))
        o->num_beams = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "length_penalty")))
        o->length_penalty = v->valuedouble;
    if ((v = cJSON_GetObjectItem(j, "num_return_sequences")))
        o->num_return = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "no_repeat_ngram_size")))
        o->no_repeat_ngram = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "early_stopping")))
        o->early_stopping = cJSON_IsTrue(v);
}

static int run(t5_model *m, const t0_gen_opts *o, const fixture_in *in, int rows_from, int rows, t0_gen_seq *out)
{
    t0_error err = {0};
    t0_gen *g = t0_gen_create(m, o, &err);
    uint64_t index[8];
    for (int r = 0; r < rows; r++)
        index[r] = (uint64_t)(rows_from + r);
    int rc = g ? t0_gen_run(g, in->input + (size_t)rows_from * in->len, rows, in->len, index, out, NULL, NULL, &err)
               : -1;
    if (rc != 0)
        fprintf(stderr, "  generate: %s\n", err.msg);
    /* the ids live in g: copy them out before freeing it */
    for (int i = 0; rc == 0 && i < rows * o->num_return; i++) {
        int32_t *p = malloc(sizeof(int32_t) * (out[i].n + 1));
        memcpy(p, out[i].ids, sizeof(int32_t) * out[i].n);
        out[i].ids = p;
    }
    t0_gen_free(g);
    return rc;
}

static void free_seqs(t0_gen_seq *s, int n)
{
    for (int i = 0; i < n; i++)
        free(s[i].ids);
}

static void test_cases(const char *name)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, DECODE_DIR "/%s", name);
    snprintf(path, sizeof path, "%s/expect.safetensors", dir);
    t0_error err = {0};
    t5_model *m = t5_model_open_mapped(dir, &err);
    fixture_in in;
    st_model *st = st_open(path, &err);
    if (!CHECK(m && st && load_input(dir, &in) == 0))
        return;
    cJSON *cases = cJSON_Parse(st_metadata(st, "cases"));
    const cJSON *c;
    int ncases = 0, nsame = 0;
    cJSON_ArrayForEach(c, cases)
    {
        t0_gen_opts o;
        opts_from_json(c, &o);
        t0_gen_seq out[32];
        int n = in.rows * o.num_return;
        if (!CHECK(run(m, &o, &in, 0, in.rows, out) == 0))
            continue;
        int w;
        int32_t *got = as_matrix(out, n, o.num_beams > 1, o.max_new_tokens + 1, m->cfg.pad_token_id,
                                 m->cfg.decoder_start_token_id, &w);
        size_t k = 0;
        float *want = fixture_tensor(path, c->string, &k);
        int same = want && k == (size_t)n * w;
        for (size_t i = 0; same && i < k; i++)
            same = got[i] == (int32_t)want[i];
        if (!CHECK(same)) {
            fprintf(stderr, "  %s %s: ids differ from generate()\n", name, c->string);
            for (int i = 0; i < n; i++) {
                fprintf(stderr, "   got:");
                for (int t = 0; t < w; t++)
                    fprintf(stderr, " %d", got[i * w + t]);
                fprintf(stderr, "\n");
            }
        }
        ncases++, nsame += same;
        free(want);
        free(got);
        free_seqs(out, n);
    }
    fprintf(stderr, "%s: %d of %d generate() cases identical\n", name, nsame, ncases);
    cJSON_Delete(cases);
    st_close(st);
    free(in.input);
    t5_model_free(m);
}

/* Our BF16 kernels against transformers in bfloat16, which rounds every activation too:
 * where the ids part, the two best logits of its run must be close. */
static void test_bf16_greedy(void)
{
    const char *dir = DECODE_DIR "/bf16", *path = DECODE_DIR "/bf16/expect.safetensors";
    t0_error err = {0};
    t5_model *m = t5_model_open_mapped(dir, &err);
    fixture_in in;
    if (!CHECK(m && load_input(dir, &in) == 0))
        return;
    CHECK(m->w.lm_head.dtype == T5_BF16 && m->w.dec[0].sa.q.dtype == T5_BF16 && m->w.dec[0].ln_sa != NULL);
    t0_gen_opts o;
    t0_gen_defaults(&o);
    o.max_new_tokens = 10;
    t0_gen_seq out[4];
    if (!CHECK(run(m, &o, &in, 0, 4, out) == 0))
        return;
    size_t k = 0, kg = 0;
    float *want = fixture_tensor(path, "greedy_bf16", &k), *gap = fixture_tensor(path, "gap_bf16", &kg);
    int W = (int)(k / 4), same = 0, total = 0, parted = 0;
    double worst_gap = 0;
    for (int r = 0; r < 4; r++) {
        for (int t = 1; t < W; t++) {
            int g = t - 1 < out[r].n ? out[r].ids[t - 1] : 0, w = (int)want[r * W + t];
            total++;
            if (g == w) {
                same++;
                continue;
            }
            double gp = gap[r * 10 + t - 1];
            fprintf(stderr, "  bf16 row %d parts at step %d: %d here, %d in transformers (its top-2 gap %.4f)\n", r,
                    t, g, w, gp);
            worst_gap = gp > worst_gap ? gp : worst_gap;
            parted++;
            break; /* after the first difference the prefixes differ */
        }
    }
    fprintf(stderr, "bf16 greedy: %d of %d ids as transformers in bfloat16; %d rows part, where its top-2 gap <= %.4f\n",
            same, total, parted, worst_gap);
    CHECK(worst_gap < 0.125); /* a few BF16 ulps of logits of this size */
    free(want);
    free(gap);
    free_seqs(out, 4);
    free(in.input);
    t5_model_free(m);
}

/* a number in [-0.5, 0.5) from an LCG */
static float uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*s >> 40) / (1 << 24) - 0.5f;
}

/* t5_matmul_forward_bf16 against double sums of the rounded operands (N rows: with AVX2, 5
 * take the few-row loops and 64 the widened blocks and sgemm) */
static void test_bf16_product(int N)
{
    int C = 77, OC = 13;
    float *x = malloc(sizeof(float) * N * C), *wf = malloc(sizeof(float) * OC * C), *out = malloc(sizeof(float) * N * OC);
    uint16_t *w = malloc(sizeof(uint16_t) * OC * C);
    uint64_t s = 1;
    for (int i = 0; i < N * C; i++)
        x[i] = uniform(&s);
    for (int i = 0; i < OC * C; i++) {
        wf[i] = uniform(&s);
        w[i] = t0_f32_to_bf16(wf[i]);
    }
    for (int i = 0; i < N * OC; i++)
        out[i] = 1.0f;
    t5_matmul_forward_bf16(out, x, w, N, C, OC, 0.5f, 1);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double ref = 0;
            for (int c = 0; c < C; c++)
                ref += (double)t0_bf16_to_f32(t0_f32_to_bf16(x[n * C + c])) * t0_bf16_to_f32(w[o * C + c]);
            double e = fabs(out[n * OC + o] - (1.0 + 0.5 * ref));
            worst = e > worst ? e : worst;
        }
    fprintf(stderr, "bf16 product (%s kernel, %d rows): worst error %.3g against double\n", t5_bf16_kernel(), N,
            worst);
    CHECK(worst < 1e-5);
    free(x), free(wf), free(out), free(w);
}

/* t5_linear's few-row loops (decoding steps): F32 and BF16 weights against double sums,
 * and every row the same bits whether it is computed alone, in a batch of 13 or split over
 * two threads, so a prompt's output does not depend on its batch (AVX2; the plain loops
 * hand 3 rows and more to sgemm). C = 77 leaves a tail
 * after the 8-lane sums, OC = 29 leaves weight rows after the blocks. */
static void test_linear_rows(int C)
{
    enum { N = 13, OC = 29 };
    float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * OC * C);
    float *batch = malloc(sizeof(float) * N * OC), *alone = malloc(sizeof(float) * N * OC);
    uint16_t *wb = malloc(sizeof(uint16_t) * OC * C);
    uint64_t s = 7;
    for (int i = 0; i < N * C; i++)
        x[i] = uniform(&s);
    for (int i = 0; i < OC * C; i++) {
        w[i] = uniform(&s);
        wb[i] = t0_f32_to_bf16(w[i]);
    }
    for (int bf16 = 0; bf16 <= 1; bf16++) {
        t5_weight wt = bf16 ? (t5_weight){T5_BF16, wb, NULL, OC, C, 0} : t5_weight_f32(w, OC, C);
        t5_linear(batch, x, &wt, N, 1.0f, 0);
        double worst = 0;
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) {
                double ref = 0;
                for (int c = 0; c < C; c++) {
                    float xv = bf16 ? t0_bf16_to_f32(t0_f32_to_bf16(x[n * C + c])) : x[n * C + c];
                    ref += (double)xv * (bf16 ? t0_bf16_to_f32(wb[o * C + c]) : w[o * C + c]);
                }
                double e = fabs(batch[n * OC + o] - ref);
                worst = e > worst ? e : worst;
            }
        for (int n = 0; n < N; n++)
            t5_linear(alone + n * OC, x + n * C, &wt, 1, 1.0f, 0);
        int same_alone = memcmp(batch, alone, sizeof(float) * N * OC) == 0;
        t5_set_threads(2);
        t5_linear(alone, x, &wt, N, 1.0f, 0);
        t5_set_threads(1);
        int same_threads = memcmp(batch, alone, sizeof(float) * N * OC) == 0;
        fprintf(stderr, "%s few-row product (%s kernel, C %d): worst error %.3g against double; rows alone %s, two threads %s\n",
                bf16 ? "bf16" : "f32", t5_bf16_kernel(), C, worst, same_alone ? "same bits" : "DIFFER",
                same_threads ? "same bits" : "DIFFER");
        CHECK(worst < 2e-5);
        if (strcmp(t5_bf16_kernel(), "avx2") == 0) /* the plain loops hand 3 rows and more to sgemm */
            CHECK(same_alone);
        CHECK(same_threads);
    }
    free(x), free(w), free(batch), free(alone), free(wb);
}

/* the mapped F32 model uses the file's data in place and computes the same logits */
static void test_mapped_same(void)
{
    const char *dir = DECODE_DIR "/gated";
    t0_error err = {0};
    t5_model *a = t5_model_open(dir, &err), *b = t5_model_open_mapped(dir, &err);
    fixture_in in;
    if (!CHECK(a && b && load_input(dir, &in) == 0))
        return;
    size_t wide = 1, in_place = t5_model_mapped_bytes(b, &wide);
    CHECK(b->params == NULL && wide == 0 && in_place == a->nfloats * sizeof(float));
    t5_decoder *da = t5_decoder_create(a, 4, in.len, 4, &err), *db = t5_decoder_create(b, 4, in.len, 4, &err);
    int32_t tok[4] = {0, 0, 0, 0};
    const float *la, *lb;
    CHECK(da && db && t5_decoder_start(da, in.input, &err) == 0 && t5_decoder_start(db, in.input, &err) == 0);
    CHECK(t5_decoder_step(da, tok, &la, &err) == 0 && t5_decoder_step(db, tok, &lb, &err) == 0);
    CHECK(memcmp(la, lb, sizeof(float) * 4 * a->cfg.vocab_size) == 0);
    CHECK(t5_model_save(b, "/nonexistent", 0, &err) != 0 && t5_model_alloc_grads(b, &err) != 0);
    t5_decoder_free(da);
    t5_decoder_free(db);
    free(in.input);
    t5_model_free(a);
    t5_model_free(b);
}

/* F16 weights load widened: the same model written as F16 gives logits within F16 rounding */
static void test_f16(void)
{
    const char *dir = DECODE_DIR "/gated";
    t0_error err = {0};
    t5_model *a = t5_model_open(dir, &err);
    fixture_in in;
    char tmp[] = "/tmp/t0-f16-XXXXXX", path[600], cfg[600];
    if (!CHECK(a && load_input(dir, &in) == 0 && mkdtemp(tmp)))
        return;
    st_write_tensor *t = calloc((size_t)a->nspecs, sizeof *t);
    for (int i = 0; i < a->nspecs; i++) {
        t[i].name = a->specs[i].name, t[i].ndim = a->specs[i].ndim, t[i].data = a->params + a->offset[i];
        for (int k = 0; k < t[i].ndim; k++)
            t[i].shape[k] = a->specs[i].shape[k];
    }
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    CHECK(st_write(path, t, a->nspecs, ST_F16, NULL, &err) == 0);
    snprintf(cfg, sizeof cfg, "%s/config.json", tmp);
    FILE *src = fopen(DECODE_DIR "/gated/config.json", "rb"), *dst = fopen(cfg, "wb");
    char buf[4096];
    size_t n;
    while (src && dst && (n = fread(buf, 1, sizeof buf, src)) > 0)
        fwrite(buf, 1, n, dst);
    if (src)
        fclose(src);
    if (dst)
        fclose(dst);
    t5_model *b = t5_model_open_mapped(tmp, &err);
    if (CHECK(b != NULL)) {
        size_t wide = 0;
        t5_model_mapped_bytes(b, &wide);
        CHECK(wide == a->nfloats * sizeof(float)); /* every tensor widened */
        t5_decoder *da = t5_decoder_create(a, 4, in.len, 2, &err), *db = t5_decoder_create(b, 4, in.len, 2, &err);
        int32_t tok[4] = {0, 0, 0, 0};
        const float *la, *lb;
        CHECK(da && db && t5_decoder_start(da, in.input, &err) == 0 && t5_decoder_start(db, in.input, &err) == 0);
        CHECK(t5_decoder_step(da, tok, &la, &err) == 0 && t5_decoder_step(db, tok, &lb, &err) == 0);
        double e = rel_err(lb, la, (size_t)4 * a->cfg.vocab_size);
        fprintf(stderr, "f16 weights: logits within %.2e of f32\n", e);
        CHECK(e < 1e-2);
        t5_decoder_free(da);
        t5_decoder_free(db);
    }
    remove(path);
    remove(cfg);
    rmdir(tmp);
    free(t);
    free(in.input);
    t5_model_free(a);
    t5_model_free(b);
}

static int same_seqs(const t0_gen_seq *a, const t0_gen_seq *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].n != b[i].n || memcmp(a[i].ids, b[i].ids, sizeof(int32_t) * a[i].n) != 0)
            return 0;
    return 1;
}

static void test_sampling(void)
{
    const char *dir = DECODE_DIR "/gated";
    t0_error err = {0};
    t5_model *m = t5_model_open_mapped(dir, &err);
    fixture_in in;
    if (!CHECK(m && load_input(dir, &in) == 0))
        return;
    t0_gen_opts o;
    t0_gen_defaults(&o);
    o.max_new_tokens = 10, o.sample = 1, o.seed = 42, o.num_return = 2, o.temperature = 1.5f, o.top_p = 0.9f;
    t0_gen_seq all[8], again[8], one[8], other[8];
    CHECK(run(m, &o, &in, 0, 4, all) == 0 && run(m, &o, &in, 0, 4, again) == 0);
    CHECK(same_seqs(all, again, 8));
    for (int r = 0; r < 4; r++) /* each input alone, by its index */
        CHECK(run(m, &o, &in, r, 1, one + 2 * r) == 0);
    CHECK(same_seqs(all, one, 8));
    o.seed = 43;
    CHECK(run(m, &o, &in, 0, 4, other) == 0);
    CHECK(!same_seqs(all, other, 8));
    /* top-k 1 is greedy */
    t0_gen_seq greedy[4], k1[4];
    t0_gen_opts og;
    t0_gen_defaults(&og);
    og.max_new_tokens = 10;
    o.num_return = 1, o.top_k = 1, o.top_p = 1.0f;
    CHECK(run(m, &og, &in, 0, 4, greedy) == 0 && run(m, &o, &in, 0, 4, k1) == 0);
    CHECK(same_seqs(greedy, k1, 4));
    fprintf(stderr, "sampling: same per seed across runs and batch sizes; top-k 1 is greedy\n");
    free_seqs(all, 8), free_seqs(again, 8), free_seqs(one, 8), free_seqs(other, 8);
    free_seqs(greedy, 4), free_seqs(k1, 4);
    free(in.input);
    t5_model_free(m);
}

int main(void)
{
    test_cases("gated");
    test_cases("relu_tied");
    test_bf16_greedy();
    test_bf16_product(5);
    test_bf16_product(64);
    test_linear_rows(77);
    test_linear_rows(512);
    test_linear_rows(1100); /* one F32 row takes 6 weight rows at a time from 1024 columns */
    test_mapped_same();
    test_f16();
    test_sampling();
    return unit_summary("test_generate");
}
