/* test_t5_init: every tensor of a new tiny and small model has the mean and standard
 * deviation transformers' _init_weights gives it (within sampling tolerance), the stds are
 * the formulas of modeling_t5.py, values depend only on (seed, name), and model directories
 * are written whole, read back, and never over something that exists. */
#include "common/half.h"
#include "t5/t5_init.h"
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t count(const t5_tensor_spec *s)
{
    return (size_t)s->shape[0] * (size_t)(s->ndim == 2 ? s->shape[1] : 1);
}

/* mean within 6 standard errors; std within 6 of its standard errors (sqrt(1/2n)) */
static int stats_ok(const float *v, size_t n, double want_std, const char *name)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (v[i] - mean) * (v[i] - mean);
    double std = sqrt(sq / (double)(n - 1));
    int ok = fabs(mean) < 6 * want_std / sqrt((double)n) && fabs(std / want_std - 1) < 6 / sqrt(2.0 * (double)n);
    if (!ok)
        fprintf(stderr, "  %s: n %zu mean %g std %g, want std %g\n", name, n, mean, std, want_std);
    return ok;
}

static void check_model_stats(const char *preset, uint64_t seed)
{
    t5_config c;
    t0_error e = {0};
    t5_tensor_spec *s;
    int n;
    CHECK(t5_config_preset(preset, &c, &e) == 0 && t5_tensor_specs(&c, &s, &n, &e) == 0);
    int all = 1, norms = 1;
    for (int i = 0; i < n; i++) {
        size_t k = count(&s[i]);
        float *v = malloc(k * sizeof *v);
        t5_init_tensor(&c, &s[i], seed, v);
        double std = t5_init_std(&c, s[i].name);
        if (std == 0) {
            for (size_t j = 0; j < k; j++)
                norms &= v[j] == 1.0f;
        } else if (!stats_ok(v, k, std, s[i].name))
            all = 0;
        free(v);
    }
    CHECK(all);
    CHECK(norms);
    free(s);
}

/* The formulas of modeling_t5.py's _init_weights, spelled out for the tiny preset
 * (d_model 64, d_kv 16, 4 heads, d_ff 128) and a factor of 2. */
static void test_formulas(void)
{
    t5_config c;
    t0_error e = {0};
    CHECK(t5_config_preset("tiny", &c, &e) == 0);
    c.initializer_factor = 2.0f;
    struct { const char *name; double std; } want[] = {
        {"shared.weight", 2.0},
        {"lm_head.weight", 2.0},
        {"encoder.block.0.layer.0.SelfAttention.q.weight", 2.0 / 32}, /* (64*16)^-0.5 */
        {"encoder.block.1.layer.0.SelfAttention.k.weight", 2.0 / 8},  /* 64^-0.5 */
        {"decoder.block.0.layer.1.EncDecAttention.v.weight", 2.0 / 8},
        {"decoder.block.1.layer.1.EncDecAttention.o.weight", 2.0 / 8}, /* (4*16)^-0.5 */
        {"decoder.block.0.layer.1.EncDecAttention.q.weight", 2.0 / 32},
        {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 2.0 / 8},
        {"encoder.block.0.layer.1.DenseReluDense.wi_0.weight", 2.0 / 8},
        {"encoder.block.0.layer.1.DenseReluDense.wi_1.weight", 2.0 / 8},
        {"decoder.block.1.layer.2.DenseReluDense.wi.weight", 2.0 / 8},
        {"decoder.block.1.layer.2.DenseReluDense.wo.weight", 2.0 / sqrt(128.0)},
        {"encoder.final_layer_norm.weight", 0},
        {"decoder.block.1.layer.2.layer_norm.weight", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!CHECK(fabs(t5_init_std(&c, want[i].name) - want[i].std) < 1e-12))
            fprintf(stderr, "  %s: %g, want %g\n", want[i].name, t5_init_std(&c, want[i].name), want[i].std);
    /* layer norms are factor * 1.0 */
    t5_tensor_spec ln = {"decoder.final_layer_norm.weight", 1, {64, 0}};
    float v[64];
    t5_init_tensor(&c, &ln, 1, v);
    CHECK(v[0] == 2.0f && v[63] == 2.0f);
}

static void test_determinism(void)
{
    t5_config c;
    t0_error e = {0};
    CHECK(t5_config_preset("tiny", &c, &e) == 0);
    t5_tensor_spec q = {"encoder.block.0.layer.0.SelfAttention.q.weight", 2, {64, 64}};
    t5_tensor_spec k = {"encoder.block.0.layer.0.SelfAttention.k.weight", 2, {64, 64}};
    float a[4096], b[4096], d[4096];
    t5_init_tensor(&c, &q, 42, a);
    t5_init_tensor(&c, &q, 42, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    t5_init_tensor(&c, &q, 43, d);
    CHECK(memcmp(a, d, sizeof a) != 0);
    t5_init_tensor(&c, &k, 42, d); /* another name, another stream (k's std is 4x q's) */
    int differ = 0;
    for (int i = 0; i < 4096; i++)
        differ += fabsf(d[i] - 4 * a[i]) > 1e-6f;
    CHECK(differ > 4000);
    uint64_t st = 0;
    CHECK(t5_splitmix64(&st) == 0xe220a8397b1dcdafull); /* splitmix64's first output from 0 */
}

static void test_model_dir(void)
{
    char base[] = "/tmp/t0-test-init-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/m", base);
    t5_config c, back;
    t0_error e = {0};
    CHECK(t5_config_preset("tiny", &c, &e) == 0);
    CHECK(t5_init_model_dir(dir, &c, 7, ST_BF16, NULL, NULL, NULL, &e) == 0);
    t5_model_summary sum;
    CHECK(t5_check_model_dir(dir, &back, &sum, &e) == 0);
    CHECK(sum.tensors == 52 && sum.params == 263168 && sum.dtype_counts[ST_BF16] == 52);
    CHECK(back.d_model == 64 && back.gated && !back.tie_word_embeddings);
    /* the file holds t5_init_tensor's values, rounded to bf16 */
    st_model *m = st_open(dir, &e);
    CHECK(m != NULL);
    t5_tensor_spec wo = {"decoder.block.1.layer.2.DenseReluDense.wo.weight", 2, {64, 128}};
    float want[64 * 128], got[64 * 128];
    t5_init_tensor(&c, &wo, 7, want);
    CHECK(m && st_read_f32(m, wo.name, 2, wo.shape, got, &e) == 0);
    int same = 1;
    for (int i = 0; i < 64 * 128; i++)
        same &= got[i] == t0_bf16_to_f32(t0_f32_to_bf16(want[i]));
    CHECK(same);
    st_close(m);
    /* never over a non-empty directory; nothing left behind */
    CHECK(t5_init_model_dir(dir, &c, 8, ST_F32, NULL, NULL, NULL, &e) == -1 && strstr(e.msg, "exists and is not empty"));
    CHECK(t5_init_model_dir(base, &c, 8, ST_F32, "/nonexistent/spiece.model", NULL, NULL, &e) == -1);
    snprintf(dir, sizeof dir, "%s/n", base);
    CHECK(t5_init_model_dir(dir, &c, 8, ST_F32, "/nonexistent/spiece.model", NULL, NULL, &e) == -1 &&
          strstr(e.msg, "/nonexistent/spiece.model: No such file"));
    struct stat st;
    CHECK(stat(dir, &st) == -1);
    snprintf(path, sizeof path, "rm -rf %s", base);
    CHECK(system(path) == 0);
}

int main(void)
{
    test_formulas();
    test_determinism();
    check_model_stats("tiny", 1);
    check_model_stats("tiny", 2);
    check_model_stats("small", 3);
    test_model_dir();
    return unit_summary("test_t5_init");
}
