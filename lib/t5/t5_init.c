/* t5_init.c: new models with Hugging Face's T5 initialisation (see t5_init.h). */
#include "t5/t5_init.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t t5_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

double t5_init_std(const t5_config *c, const char *name)
{
    double f = c->initializer_factor, d_model = c->d_model;
    if (ends_with(name, "layer_norm.weight"))
        return 0;
    if (!strcmp(name, "shared.weight") || !strcmp(name, "lm_head.weight"))
        return f * 1.0;
    if (ends_with(name, ".relative_attention_bias.weight"))
        return f / sqrt(d_model);
    if (ends_with(name, "Attention.q.weight"))
        return f / sqrt(d_model * c->d_kv);
    if (ends_with(name, "Attention.k.weight") || ends_with(name, "Attention.v.weight"))
        return f / sqrt(d_model);
    if (ends_with(name, "Attention.o.weight"))
        return f / sqrt((double)c->num_heads * c->d_kv);
    if (ends_with(name, "DenseReluDense.wo.weight"))
        return f / sqrt((double)c->d_ff);
    return f / sqrt(d_model); /* DenseReluDense.wi, wi_0, wi_1 */
}

/* A uniform in (0, 1] from the top 53 bits, so log() never sees 0. */
static double uniform_open0(uint64_t x)
{
    return (double)((x >> 11) + 1) * 0x1p-53;
}

static void fill_block(float *dst, size_t n, uint64_t state, double std)
{
    const double two_pi = 6.283185307179586476925;
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform_open0(t5_splitmix64(&state))));
        double a = two_pi * (double)(t5_splitmix64(&state) >> 11) * 0x1p-53;
        dst[i] = (float)(std * r * cos(a));
        if (i + 1 < n)
            dst[i + 1] = (float)(std * r * sin(a));
    }
}

static size_t spec_count(const t5_tensor_spec *s)
{
    size_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= (size_t)s->shape[d];
    return n;
}

void t5_init_tensor(const t5_config *c, const t5_tensor_spec *spec, uint64_t seed, float *dst)
{
    size_t n = spec_count(spec);
    double std = t5_init_std(c, spec->name);
    if (std == 0) {
        for (size_t i = 0; i < n; i++)
            dst[i] = c->initializer_factor;
        return;
    }
    uint64_t base = seed ^ fnv1a64(spec->name);
    base = t5_splitmix64(&base);
    for (size_t b = 0; b * T5_INIT_BLOCK < n; b++) {
        size_t off = b * T5_INIT_BLOCK, len = n - off < T5_INIT_BLOCK ? n - off : T5_INIT_BLOCK;
        /* Each block starts at a hashed state. (Starting at base + b*gamma would replay block
         * 0's sequence shifted by b steps: splitmix64 advances its state by gamma.) */
        uint64_t start = base ^ ((uint64_t)b * 0xd1b54a32d192ed03ull);
        fill_block(dst + off, len, t5_splitmix64(&start), std);
    }
}

typedef struct {
    const t5_config *c;
    const t5_tensor_spec *specs;
    uint64_t seed;
    int64_t done, total;
    t5_progress_fn progress;
    void *ctx;
} init_job;

static int fill_spec(void *ctx, int i, float *dst, t0_error *err)
{
    (void)err;
    init_job *job = ctx;
    t5_init_tensor(job->c, &job->specs[i], job->seed, dst);
    job->done += (int64_t)spec_count(&job->specs[i]);
    if (job->progress)
        job->progress(job->ctx, job->done, job->total);
    return 0;
}

int t5_init_write_weights(const char *path, const t5_config *c, uint64_t seed, st_dtype dtype,
                          t5_progress_fn progress, void *ctx, t0_error *err)
{
    t5_tensor_spec *specs;
    int n;
    if (t5_tensor_specs(c, &specs, &n, err))
        return -1;
    st_write_tensor *t = calloc((size_t)n, sizeof *t);
    if (!t) {
        free(specs);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    init_job job = {.c = c, .specs = specs, .seed = seed, .progress = progress, .ctx = ctx};
    for (int i = 0; i < n; i++) {
        t[i] = (st_write_tensor){.name = specs[i].name, .ndim = specs[i].ndim};
        memcpy(t[i].shape, specs[i].shape, sizeof specs[i].shape);
        job.total += (int64_t)spec_count(&specs[i]);
    }
    const char *meta[] = {"format", "pt", NULL};
    int rc = st_write_stream(path, t, n, dtype, meta, fill_spec, &job, err);
    free(t);
    free(specs);
    return rc;
}

static int copy_file(const char *from, const char *to, t0_error *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return t0_fail(err, T0_EINPUT, "%s: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return t0_fail(err, T0_EINTERNAL, "%s: %s", to, strerror(errno));
    }
    char buf[1 << 16];
    size_t k;
    int bad = 0;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, out) != k)
            bad = 1;
    int rerr = ferror(in);
    fclose(in);
    if (fclose(out))
        bad = 1;
    if (rerr)
        return t0_fail(err, T0_EINPUT, "%s: read error", from);
    if (bad)
        return t0_fail(err, T0_EINTERNAL, "%s: write failed", to);
    return 0;
}

/* 1: dir exists and holds something; 0: absent or empty; -1: exists but is not a directory. */
static int dir_in_use(const char *dir)
{
    struct stat st;
    if (stat(dir, &st))
        return 0;
    if (!S_ISDIR(st.st_mode))
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    struct dirent *e;
    int used = 0;
    while (!used && (e = readdir(d)))
        used = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return used;
}

/* dir/name into out; -1 when it does not fit. */
static int path_in(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            if (!path_in(path, sizeof path, dir, e->d_name))
                unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

static int fill_dir(const char *tmp, const t5_config *c, uint64_t seed, st_dtype dtype, const char *tokenizer,
                    t5_progress_fn progress, void *ctx, t0_error *err)
{
    char path[4096];
    if (path_in(path, sizeof path, tmp, "config.json") || t5_config_write(path, c, err))
        return -1;
    if (tokenizer) {
        const char *name = ends_with(tokenizer, ".json") ? "tokenizer.json" : "spiece.model";
        if (path_in(path, sizeof path, tmp, name) || copy_file(tokenizer, path, err))
            return -1;
    }
    if (path_in(path, sizeof path, tmp, "model.safetensors"))
        return -1;
    return t5_init_write_weights(path, c, seed, dtype, progress, ctx, err);
}

int t5_init_model_dir(const char *dir, const t5_config *c, uint64_t seed, st_dtype dtype, const char *tokenizer,
                      t5_progress_fn progress, void *ctx, t0_error *err)
{
    if (dtype != ST_F32 && dtype != ST_BF16)
        return t0_fail(err, T0_EINPUT, "dtype must be f32 or bf16");
    if (strlen(dir) > 3000)
        return t0_fail(err, T0_EINPUT, "%.64s...: path too long", dir);
    int used = dir_in_use(dir);
    if (used)
        return t0_fail(err, T0_EINPUT, "%s: %s, will not overwrite", dir,
                       used < 0 ? "exists and is not a directory" : "exists and is not empty");
    if (t5_config_validate(c, err))
        return -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", dir);
    if (!mkdtemp(tmp))
        return t0_fail(err, T0_EINPUT, "%s: %s", tmp, strerror(errno));
    chmod(tmp, 0755);
    if (fill_dir(tmp, c, seed, dtype, tokenizer, progress, ctx, err)) {
        remove_tree(tmp);
        return -1;
    }
    /* rename replaces an empty directory; check again in case one appeared meanwhile */
    if (dir_in_use(dir) || rename(tmp, dir)) {
        int e = errno;
        remove_tree(tmp);
        return t0_fail(err, T0_EINPUT, "%s: %s, will not overwrite", dir, e ? strerror(e) : "exists and is not empty");
    }
    return 0;
}

int t5_check_model_dir(const char *dir, t5_config *c, t5_model_summary *sum, t0_error *err)
{
    char path[4096];
    memset(sum, 0, sizeof *sum);
    if (path_in(path, sizeof path, dir, "config.json"))
        return t0_fail(err, T0_EINPUT, "%.64s...: path too long", dir);
    if (t5_config_load(path, c, err))
        return -1;
    st_model *m = st_open(dir, err);
    if (!m)
        return -1;
    t5_tensor_spec *specs = NULL;
    int n = 0, rc = t5_tensor_specs(c, &specs, &n, err);
    for (int i = 0; !rc && i < n; i++) {
        /* the shared embedding may be stored under an alias */
        const char *const one[] = {specs[i].name, NULL};
        const char *const *names = !strcmp(specs[i].name, "shared.weight") ? T5_SHARED_NAMES : one;
        const st_tensor *t = st_expect(m, names, specs[i].ndim, specs[i].shape, err);
        if (!t) {
            rc = -1;
            break;
        }
        sum->tensors++;
        sum->params += (int64_t)spec_count(&specs[i]);
        sum->dtype_counts[t->dtype]++;
    }
    free(specs);
    st_close(m);
    return rc;
}
