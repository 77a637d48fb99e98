/* adamw.c: see adamw.h. float32 arithmetic in torch's order. */
#include "train/adamw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"

struct adamw {
    adamw_opts o;
    int64_t t;
    int n;
    const t5_tensor_spec *specs;
    size_t *off, total; /* the moments' arena, tensors in spec order */
    float *m, *v;
};

void adamw_defaults(adamw_opts *o)
{
    *o = (adamw_opts){1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, 1};
}

adamw *adamw_create(const t5_tensor_spec *specs, int n, const adamw_opts *o, t0_error *err)
{
    adamw *a = calloc(1, sizeof *a);
    if (!a || !(a->off = malloc(sizeof(size_t) * ((size_t)n + 1))))
        goto oom;
    a->o = *o, a->n = n, a->specs = specs;
    for (int i = 0; i < n; i++) {
        size_t k = 1;
        for (int d = 0; d < specs[i].ndim; d++)
            k *= (size_t)specs[i].shape[d];
        a->off[i] = a->total;
        a->total += k;
    }
    a->off[n] = a->total;
    a->m = calloc(a->total, sizeof(float));
    a->v = calloc(a->total, sizeof(float));
    if (!a->m || !a->v)
        goto oom;
    return a;
oom:
    adamw_free(a);
    t0_fail(err, T0_EINTERNAL, "out of memory for AdamW state");
    return NULL;
}

void adamw_free(adamw *a)
{
    if (!a)
        return;
    free(a->off);
    free(a->m);
    free(a->v);
    free(a);
}

void adamw_set_lr(adamw *a, float lr)
{
    a->o.lr = lr;
}

int64_t adamw_get_step(const adamw *a)
{
    return a->t;
}

void adamw_step(adamw *a, const t5_weight *params, const t5_weight *grads)
{
    a->t++;
    const adamw_opts *o = &a->o;
    float bc1 = 1.0f - (float)pow(o->beta1, (double)a->t);
    double bc2 = 1.0 - pow(o->beta2, (double)a->t);
    float step_size = o->lr / bc1, bc2_sqrt = (float)sqrt(bc2);
    for (int i = 0; i < a->n; i++) {
        int decay = o->decay_rel_bias || !strstr(a->specs[i].name, "relative_attention_bias");
        float keep = decay ? 1.0f - o->lr * o->weight_decay : 1.0f;
        float *p = t5_weight_floats(&params[i]), *m = a->m + a->off[i], *v = a->v + a->off[i];
        const float *gi = t5_weight_floats(&grads[i]);
        for (size_t k = 0; k < a->off[i + 1] - a->off[i]; k++) {
            float g = gi[k];
            p[k] *= keep;
            m[k] = m[k] * o->beta1 + g * (1.0f - o->beta1);
            v[k] = v[k] * o->beta2 + g * g * (1.0f - o->beta2);
            float denom = sqrtf(v[k]) / bc2_sqrt + o->eps;
            p[k] += -step_size * (m[k] / denom);
        }
    }
}

static int moments_io(adamw *a, const char *path, int save, t0_error *err)
{
    st_write_tensor *w = calloc((size_t)a->n * 2, sizeof *w);
    char (*names)[112] = calloc((size_t)a->n * 2, sizeof *names);
    int rc = 0;
    st_model *st = NULL;
    if (!w || !names) {
        rc = t0_fail(err, T0_EINTERNAL, "out of memory");
        goto done;
    }
    if (!save && !(st = st_open(path, err))) {
        rc = -1;
        goto done;
    }
    for (int i = 0; i < a->n && rc == 0; i++) {
        const t5_tensor_spec *s = &a->specs[i];
        for (int k = 0; k < 2 && rc == 0; k++) {
            int j = 2 * i + k;
            snprintf(names[j], sizeof names[j], "%s.adamw_%s", s->name, k ? "v" : "m");
            float *data = (k ? a->v : a->m) + a->off[i];
            if (save)
                w[j] = (st_write_tensor){names[j], s->ndim, {s->shape[0], s->ndim > 1 ? s->shape[1] : 0}, data};
            else
                rc = st_read_f32(st, names[j], s->ndim, s->shape, data, err);
        }
    }
    if (save) {
        char step[32];
        snprintf(step, sizeof step, "%lld", (long long)a->t);
        const char *meta[] = {"optimizer", "adamw", "step", step, NULL};
        rc = st_write(path, w, 2 * a->n, ST_F32, meta, err);
    } else if (rc == 0) {
        const char *step = st_metadata(st, "step");
        if (!step)
            rc = t0_fail(err, T0_EINPUT, "%s: no step in the metadata (not an AdamW state file)", path);
        else
            a->t = strtoll(step, NULL, 10);
    }
done:
    st_close(st);
    free(w);
    free(names);
    return rc;
}

int adamw_save(const adamw *a, const char *path, t0_error *err)
{
    return moments_io((adamw *)a, path, 1, err);
}

int adamw_load(adamw *a, const char *path, t0_error *err)
{
    return moments_io(a, path, 0, err);
}
