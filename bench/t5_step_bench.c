/* t5_step_bench: time one training step (forward + backward + Adafactor) of a T5 preset
 * on random tokens, and the cblas_sgemm peak on the same threads.
 *   t5_step_bench [--preset small] [--rows 8] [--enc 512] [--dec 128] [--threads 1] [--steps 3] [--pool 1]
 *                 [--mixed 0|1]
 * --mixed 1: the linear products in BF16 mixed precision (t5_mixed.h: AVX-512 BF16, or the
 * emulation with T0_BF16_EMULATE=1; elsewhere F32 and a line says so).
 * Prints one line of key=value pairs: tokens/s (input + target tokens), GFLOP/s of the
 * step, the sgemm peak and their ratio, peak RSS. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "train/adafactor.h"
#include "t5/t5_model.h"
#include "t5/t5_ops.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

static float normal(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

/* Hugging Face's T5 initialization (_init_weights, factor 1): shared N(0,1); q N(0,(D dk)^-1/2);
 * k, v, wi N(0, D^-1/2); o N(0, (H dk)^-1/2); wo N(0, F^-1/2); bias table N(0, D^-1/2); norms 1.
 * lm_head: D^-1/2 (HF draws it N(0,1), which starts the loss near 70). */
static void init_params(t5_model *m)
{
    const t5_config *c = &m->cfg;
    float D = (float)c->d_model, HD = (float)(c->num_heads * c->d_kv), F = (float)c->d_ff;
    for (int i = 0; i < m->nspecs; i++) {
        const char *name = m->specs[i].name;
        float *p = m->params + m->offset[i];
        size_t n = t5_numel(&m->specs[i]);
        float std = 1.0f / sqrtf(D);
        if (strstr(name, "layer_norm")) {
            for (size_t k = 0; k < n; k++)
                p[k] = 1.0f;
            continue;
        }
        if (strstr(name, "shared"))
            std = 1.0f;
        else if (strstr(name, ".q.weight"))
            std = 1.0f / sqrtf(D * c->d_kv);
        else if (strstr(name, ".o.weight"))
            std = 1.0f / sqrtf(HD);
        else if (strstr(name, ".wo.weight"))
            std = 1.0f / sqrtf(F);
        for (size_t k = 0; k < n; k++)
            p[k] = std * normal();
    }
}

/* multiply-adds x2 of one training step: every matmul and both attention products, the
 * backward counted as twice the forward */
static double step_flops(const t5_config *c, double B, double Te, double Td)
{
    double D = c->d_model, HD = (double)c->num_heads * c->d_kv, F = c->d_ff, V = c->vocab_size;
    double ff = (c->gated ? 3 : 2) * D * F;
    double enc = B * Te * (4 * D * HD + ff) + 2 * B * Te * Te * HD;
    double dec = B * Td * (4 * D * HD + 2 * D * HD + ff) + B * Te * 2 * D * HD + 2 * B * Td * Td * HD +
                 2 * B * Td * Te * HD;
    double fwd = 2 * (c->num_layers * enc + c->num_decoder_layers * dec + B * Td * D * V);
    return 3 * fwd;
}

static double sgemm_peak(int n)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = normal(), b[i] = normal();
    /* through t5_matmul_forward, so on the same threads as the model's products */
    t5_matmul_forward(c, a, b, n, n, n, 1.0f, 0);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t = now();
        t5_matmul_forward(c, a, b, n, n, n, 1.0f, 0);
        t = now() - t;
        best = t < best ? t : best;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

int main(int argc, char **argv)
{
    const char *preset = "small";
    int rows = 8, enc = 512, dec = 128, threads = 1, steps = 3, pool = 1, mixed = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--preset"))
            preset = argv[i + 1];
        else if (!strcmp(argv[i], "--rows"))
            rows = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--enc"))
            enc = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dec"))
            dec = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pool"))
            pool = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mixed"))
            mixed = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "t5_step_bench: unknown option %s\n", argv[i]);
            return 1;
        }
    }
    /* --pool 1 (default): the model's own pool splits the work, OpenBLAS runs one thread;
     * --pool 0: OpenBLAS's threads inside each product, the model's loops on one thread */
    if (pool) {
        t5_set_threads(threads);
        openblas_set_num_threads(1);
    } else
        openblas_set_num_threads(threads);
    t5_set_ftz();
    t0_error err = {0};
    t5_config c;
    if (t5_config_preset(preset, &c, &err) != 0) {
        fprintf(stderr, "t5_step_bench: %s\n", err.msg);
        return 1;
    }
    c.dropout_rate = 0.0f;
    t5_model *m = t5_model_create(&c, &err);
    if (!m || t5_model_alloc_grads(m, &err) != 0 || t5_model_reserve(m, rows, enc, dec, 1, &err) != 0) {
        fprintf(stderr, "t5_step_bench: %s\n", err.msg);
        return 2;
    }
    init_params(m);
    const char *mixed_kernel = t5_model_mixed_kernel();
    if (mixed && !mixed_kernel)
        fprintf(stderr, "t5_step_bench: no AVX-512 BF16 here and T0_BF16_EMULATE unset: --mixed 1 runs F32\n");
    t5_model_set_mixed(m, mixed && mixed_kernel);
    size_t ne = (size_t)rows * enc, nd = (size_t)rows * dec;
    int32_t *f = malloc(sizeof(int32_t) * (3 * ne + 5 * nd));
    int32_t *et = f, *es = et + ne, *ep = es + ne, *dt = ep + ne, *di = dt + nd, *ds = di + nd, *dp = ds + nd,
            *dw = dp + nd;
    for (size_t i = 0; i < ne; i++)
        et[i] = 2 + (int32_t)(uniform() * (c.vocab_size - 2)), es[i] = 1, ep[i] = (int32_t)(i % enc);
    for (size_t i = 0; i < nd; i++) {
        dt[i] = 2 + (int32_t)(uniform() * (c.vocab_size - 2));
        di[i] = i % dec ? dt[i - 1] : 0;
        ds[i] = 1, dp[i] = (int32_t)(i % dec), dw[i] = 1;
    }
    t5_batch b = {rows, enc, dec, et, es, ep, dt, di, ds, dp, dw};
    adafactor_opts o;
    adafactor_defaults(&o);
    adafactor *opt = adafactor_create(m->specs, m->nspecs, &o, &err);
    t5_weight *pv = malloc(sizeof *pv * m->nspecs), *gv = malloc(sizeof *gv * m->nspecs);
    t5_model_views(m, m->params, pv); /* the optimizer takes each tensor as a handle */
    t5_model_views(m, m->grads, gv);
    t5_run run = {1, 1, 1e-4f, (float)nd};
    double best = 1e30, loss = 0;
    for (int s = 0; s <= steps; s++) { /* step 0 warms up */
        double t = now();
        run.seed = (uint64_t)s + 1;
        t5_model_zero_grads(m);
        if (t5_forward(m, &b, &run, &err) != 0 || t5_backward(m, &b, &run, &err) != 0) {
            fprintf(stderr, "t5_step_bench: %s\n", err.msg);
            return 2;
        }
        adafactor_step(opt, pv, gv);
        t = now() - t;
        loss = m->loss;
        if (s > 0 && t < best)
            best = t;
    }
    double flops = step_flops(&c, rows, enc, dec), peak = sgemm_peak(2048);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("impl=C blas_core=%s products=%s threads=%d pool=%d step_s=%.3f tokens_per_s=%.0f gflops=%.1f sgemm_peak_gflops=%.1f utilisation=%.2f "
           "peak_rss_mib=%.0f loss=%.4f\n",
           openblas_get_corename(), mixed && mixed_kernel ? mixed_kernel : "f32", threads, pool, best, (double)(ne + nd) / best, flops / best / 1e9, peak, flops / best / 1e9 / peak,
           ru.ru_maxrss / 1024.0, loss);
    adafactor_free(opt);
    free(pv), free(gv);
    t5_model_free(m);
    free(f);
    return 0;
}
