/* adafactor.c: see adafactor.h. Arithmetic in float32 in HF's order; sums in double. */
#include "adafactor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

typedef struct {
    size_t off, n; /* in the parameter arena */
    int rows, cols, factored;
    float *row, *col, *v; /* into state */
} af_tensor;

struct adafactor {
    adafactor_opts o;
    int64_t t;
    int n;
    const t5_tensor_spec *specs;
    af_tensor *ts;
    float *state, *u; /* u: one tensor's update */
    double *colsum;   /* one matrix's column sums */
    size_t nstate;
};

void adafactor_defaults(adafactor_opts *o)
{
    *o = (adafactor_opts){1e-3f, 1e-30f, 1e-3f, 1.0f, 0.8f, 128, 1};
}

adafactor *adafactor_create(const t5_tensor_spec *specs, int n, const adafactor_opts *o, t0_error *err)
{
    adafactor *a = calloc(1, sizeof *a);
    if (!a || !(a->ts = calloc((size_t)n, sizeof *a->ts)))
        goto oom;
    a->o = *o;
    a->n = n;
    a->specs = specs;
    size_t off = 0, maxn = 1, maxc = 1;
    for (int i = 0; i < n; i++) {
        af_tensor *t = &a->ts[i];
        const t5_tensor_spec *s = &specs[i];
        t->n = 1;
        for (int d = 0; d < s->ndim; d++)
            t->n *= (size_t)s->shape[d];
        t->off = off;
        off += t->n;
        if (t->n > maxn)
            maxn = t->n;
        if (s->ndim == 2) {
            t->rows = (int)s->shape[0], t->cols = (int)s->shape[1];
            int small = t->rows < t->cols ? t->rows : t->cols;
            t->factored = small >= o->min_dim_to_factor;
            if ((size_t)t->cols > maxc)
                maxc = (size_t)t->cols;
        }
        a->nstate += t->factored ? (size_t)t->rows + t->cols : t->n;
    }
    a->state = calloc(a->nstate, sizeof(float));
    a->u = malloc(maxn * sizeof(float));
    a->colsum = malloc(maxc * sizeof(double));
    if (!a->state || !a->u || !a->colsum)
        goto oom;
    float *p = a->state;
    for (int i = 0; i < n; i++) {
        af_tensor *t = &a->ts[i];
        if (t->factored) {
            t->row = p, p += t->rows;
            t->col = p, p += t->cols;
        } else {
            t->v = p, p += t->n;
        }
    }
    return a;
oom:
    adafactor_free(a);
    t0_fail(err, T0_EINTERNAL, "out of memory for Adafactor state");
    return NULL;
}

void adafactor_free(adafactor *a)
{
    if (!a)
        return;
    free(a->ts);
    free(a->state);
    free(a->u);
    free(a->colsum);
    free(a);
}

int64_t adafactor_get_step(const adafactor *a)
{
    return a->t;
}

void adafactor_set_step(adafactor *a, int64_t t)
{
    a->t = t;
}

int adafactor_factored(const adafactor *a, int i)
{
    return a->ts[i].factored;
}

static float rms(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return (float)sqrt(s / (double)n);
}

/* u = g / sqrt(R_i / mean(R) * C_j), after folding G = g^2 + eps1 into the row/column means */
static void factored_update(const af_tensor *t, float *u, const float *g, float keep, float add, float eps1,
                            double *colsum)
{
    int R = t->rows, C = t->cols;
    memset(colsum, 0, sizeof(double) * (size_t)C);
    for (int i = 0; i < R; i++) {
        const float *gr = g + (size_t)i * C;
        double rs = 0.0;
        for (int j = 0; j < C; j++) {
            float G = gr[j] * gr[j] + eps1;
            rs += G;
            colsum[j] += G;
        }
        t->row[i] = t->row[i] * keep + (float)(rs / C) * add;
    }
    for (int j = 0; j < C; j++)
        t->col[j] = t->col[j] * keep + (float)(colsum[j] / R) * add;
    double rmean = 0.0;
    for (int i = 0; i < R; i++)
        rmean += t->row[i];
    float mean = (float)(rmean / R);
    for (int i = 0; i < R; i++) {
        float rf = 1.0f / sqrtf(t->row[i] / mean);
        const float *gr = g + (size_t)i * C;
        float *ur = u + (size_t)i * C;
        for (int j = 0; j < C; j++)
            ur[j] = rf * (1.0f / sqrtf(t->col[j])) * gr[j];
    }
}

void adafactor_step(adafactor *a, float *params, const float *grads)
{
    a->t++;
    double decay = 1.0 - pow((double)a->t, -(double)a->o.decay_pow);
    float keep = (float)decay, add = (float)(1.0 - decay); /* as HF passes them to torch */
    for (int i = 0; i < a->n; i++) {
        af_tensor *t = &a->ts[i];
        float *p = params + t->off, *u = a->u;
        const float *g = grads + t->off;
        float scale = a->o.lr;
        if (a->o.scale_parameter) {
            float r = rms(p, t->n);
            scale *= r > a->o.eps2 ? r : a->o.eps2;
        }
        if (t->factored) {
            factored_update(t, u, g, keep, add, a->o.eps1, a->colsum);
        } else {
            for (size_t k = 0; k < t->n; k++) {
                t->v[k] = t->v[k] * keep + (g[k] * g[k] + a->o.eps1) * add;
                u[k] = (1.0f / sqrtf(t->v[k])) * g[k];
            }
        }
        float c = rms(u, t->n) / a->o.clip_threshold;
        if (c < 1.0f)
            c = 1.0f;
        for (size_t k = 0; k < t->n; k++)
            p[k] -= (u[k] / c) * scale;
    }
}

int adafactor_save(const adafactor *a, const char *path, t0_error *err)
{
    int nt = 0;
    st_write_tensor *w = calloc((size_t)a->n * 2, sizeof *w);
    char (*names)[112] = calloc((size_t)a->n * 2, sizeof *names);
    if (!w || !names) {
        free(w);
        free(names);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    for (int i = 0; i < a->n; i++) {
        const af_tensor *t = &a->ts[i];
        const t5_tensor_spec *s = &a->specs[i];
        if (t->factored) {
            snprintf(names[nt], sizeof names[nt], "%s.adafactor_row", s->name);
            w[nt] = (st_write_tensor){names[nt], 1, {t->rows}, t->row};
            nt++;
            snprintf(names[nt], sizeof names[nt], "%s.adafactor_col", s->name);
            w[nt] = (st_write_tensor){names[nt], 1, {t->cols}, t->col};
            nt++;
        } else {
            snprintf(names[nt], sizeof names[nt], "%s.adafactor_v", s->name);
            w[nt] = (st_write_tensor){names[nt], s->ndim, {s->shape[0], s->ndim > 1 ? s->shape[1] : 0}, t->v};
            nt++;
        }
    }
    char step[32], md[32];
    snprintf(step, sizeof step, "%lld", (long long)a->t);
    snprintf(md, sizeof md, "%d", a->o.min_dim_to_factor);
    const char *meta[] = {"optimizer", "adafactor", "step", step, "min_dim_to_factor", md, NULL};
    int rc = st_write(path, w, nt, ST_F32, meta, err);
    free(w);
    free(names);
    return rc;
}

int adafactor_load(adafactor *a, const char *path, t0_error *err)
{
    st_model *st = st_open(path, err);
    if (!st)
        return -1;
    int rc = 0;
    const char *step = st_metadata(st, "step");
    if (!step) {
        rc = t0_fail(err, T0_EINPUT, "%s: no step in the metadata (not an Adafactor state file)", path);
        goto done;
    }
    for (int i = 0; i < a->n && rc == 0; i++) {
        const af_tensor *t = &a->ts[i];
        const t5_tensor_spec *s = &a->specs[i];
        char name[112];
        if (t->factored) {
            int64_t r[1] = {t->rows}, c[1] = {t->cols};
            snprintf(name, sizeof name, "%s.adafactor_row", s->name);
            rc = st_read_f32(st, name, 1, r, t->row, err);
            snprintf(name, sizeof name, "%s.adafactor_col", s->name);
            if (rc == 0)
                rc = st_read_f32(st, name, 1, c, t->col, err);
        } else {
            snprintf(name, sizeof name, "%s.adafactor_v", s->name);
            rc = st_read_f32(st, name, s->ndim, s->shape, t->v, err);
        }
    }
    if (rc == 0)
        a->t = strtoll(step, NULL, 10);
done:
    st_close(st);
    return rc;
}
