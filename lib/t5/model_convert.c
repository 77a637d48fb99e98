/* model_convert.c: see model_convert.h. */
#include "t5/model_convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const st_model *m;
    const st_tensor **src; /* per tensor written */
    const st_write_tensor *out;
} fill_ctx;

static int fill(void *ctx, int i, float *dst, t0_error *err)
{
    const fill_ctx *c = ctx;
    return st_read_f32(c->m, c->src[i]->name, c->out[i].ndim, c->out[i].shape, dst, err);
}

/* Has an earlier tensor the same bytes (a tied view)? */
static int is_alias(const st_tensor *const *src, int n, const st_tensor *t)
{
    for (int i = 0; i < n; i++)
        if (src[i]->data == t->data && src[i]->nbytes == t->nbytes && src[i]->dtype == t->dtype && t->nbytes)
            return 1;
    return 0;
}

static int plan(const st_model *m, const st_tensor **src, st_write_tensor *out, model_convert_summary *sum,
                t0_error *err)
{
    for (int i = 0; i < st_count(m); i++) {
        const st_tensor *t = st_at(m, i);
        if (t->dtype == ST_OTHER)
            return t0_fail(err, T0_EINPUT, "tensor %s: dtype %s: only F32, F16 and BF16 tensors are converted",
                           t->name, st_dtype_name(t));
        if (is_alias(src, sum->written, t)) {
            sum->tied++;
            continue;
        }
        if (sum->written && t->dtype != sum->dtype)
            sum->dtype = ST_F32; /* mixed: widen all */
        else if (!sum->written)
            sum->dtype = t->dtype;
        src[sum->written] = t;
        out[sum->written] = (st_write_tensor){.name = t->name, .ndim = t->ndim};
        memcpy(out[sum->written].shape, t->shape, sizeof t->shape);
        sum->written++;
    }
    return 0;
}

int model_convert_dir(const char *dir, model_convert_summary *sum, t0_error *err)
{
    char path[4096], index[4096];
    memset(sum, 0, sizeof *sum);
    if ((size_t)snprintf(path, sizeof path, "%s/model.safetensors", dir) >= sizeof path ||
        (size_t)snprintf(index, sizeof index, "%s/model.safetensors.index.json", dir) >= sizeof index)
        return t0_fail(err, T0_EINPUT, "%.64s...: path too long", dir);
    if (!access(path, F_OK) || !access(index, F_OK))
        return t0_fail(err, T0_EINPUT, "%s: already has %s, nothing to convert", dir,
                       access(path, F_OK) ? "model.safetensors.index.json" : "model.safetensors");
    st_model *m = st_open(dir, err);
    if (!m)
        return -1;
    int n = st_count(m);
    const st_tensor **src = calloc((size_t)n + 1, sizeof *src);
    st_write_tensor *out = calloc((size_t)n + 1, sizeof *out);
    int rc = !src || !out ? t0_fail(err, T0_EINTERNAL, "out of memory") : plan(m, src, out, sum, err);
    if (!rc) {
        static const char *const meta[] = {"format", "pt", NULL};
        fill_ctx c = {m, src, out};
        rc = st_write_stream(path, out, sum->written, sum->dtype, meta, fill, &c, err);
    }
    free(src);
    free(out);
    st_close(m);
    return rc;
}
