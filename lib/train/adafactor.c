/* adafactor.c: see adafactor.h. Arithmetic in float32 in HF's order; sums in double. */
#include "train/adafactor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"
#include "t5/t5_ops.h"
#include "t5/t5_row_kernels.h"

typedef struct {
    size_t n;
    int rows, cols, factored;
    float *row, *col, *v; /* into state */
} af_tensor;

struct adafactor {
    adafactor_opts o;
    int64_t t;
    float last_lr;
    int n;
    const t5_tensor_spec *specs;
    af_tensor *ts;
    float *state, *u; /* u: one tensor's update */
    double *colsum;   /* one matrix's column sums */
    float *cinv;      /* and 1/sqrt of its column factors */
    size_t nstate;
};

void adafactor_defaults(adafactor_opts *o)
{
    *o = (adafactor_opts){1e-3f, 1e-30f, 1e-3f, 1.0f, 0.8f, 128, 1, 0};
}

adafactor *adafactor_create(const t5_tensor_spec *specs, int n, const adafactor_opts *o, t0_error *err)
{
    adafactor *a = calloc(1, sizeof *a);
    if (!a || !(a->ts = calloc((size_t)n, sizeof *a->ts)))
        goto oom;
    a->o = *o;
    a->n = n;
    a->specs = specs;
    size_t maxn = 1, maxc = 1;
    for (int i = 0; i < n; i++) {
        af_tensor *t = &a->ts[i];
        const t5_tensor_spec *s = &specs[i];
        t->n = 1;
        for (int d = 0; d < s->ndim; d++)
            t->n *= (size_t)s->shape[d];
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
    a->cinv = malloc(maxc * sizeof(float));
    if (!a->state || !a->u || !a->colsum || !a->cinv)
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
    free(a->cinv);
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

void adafactor_set_lr(adafactor *a, float lr)
{
    a->o.lr = lr;
}

float adafactor_last_lr(const adafactor *a)
{
    return a->last_lr;
}

int adafactor_factored(const adafactor *a, int i)
{
    return a->ts[i].factored;
}

/* The work is split over the model's thread pool (t5_parallel_for); sums are taken per
 * part and added in part order. */
typedef struct {
    af_tensor *t;
    float *p, *u, *cinv;
    const float *g, *x;
    double *colsum;
    float keep, add, eps1, mean, c, scale;
    double part[T5_MAX_THREADS];
} af_job;

static void sumsq_task(void *ctx, int tid, long s, long e)
{
    af_job *j = ctx;
    j->part[tid] = t5_row_dispatch()->af_sumsq(j->x, s, e);
}

static float rms(af_job *j, const float *x, size_t n)
{
    memset(j->part, 0, sizeof j->part);
    j->x = x;
    t5_parallel_for((long)n, 16384, sumsq_task, j);
    double s = 0.0;
    for (int k = 0; k < T5_MAX_THREADS; k++)
        s += j->part[k];
    return (float)sqrt(s / (double)n);
}

/* rows s..e: R_i = keep R_i + add mean_j G_ij */
static void row_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    af_job *j = ctx;
    t5_row_dispatch()->af_row_stats(j->t->row, j->g, j->t->cols, j->keep, j->add, j->eps1, s, e);
}

/* columns s..e: C_k = keep C_k + add mean_i G_ik; cinv_k = 1/sqrt(C_k) */
static void col_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    af_job *j = ctx;
    t5_row_dispatch()->af_col_stats(j->t->col, j->cinv, j->colsum, j->g, j->t->rows, j->t->cols, j->keep, j->add,
                                    j->eps1, s, e);
}

/* u = g / sqrt(R_i / mean(R) * C_j), rows s..e */
static void factored_u_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    af_job *j = ctx;
    t5_row_dispatch()->af_factored_u(j->u, j->g, j->t->row, j->cinv, j->mean, j->t->cols, s, e);
}

/* V = keep V + add G;  u = g / sqrt(V) */
static void unfactored_u_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    af_job *j = ctx;
    t5_row_dispatch()->af_unfactored_u(j->u, j->t->v, j->g, j->keep, j->add, j->eps1, s, e);
}

static void apply_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    af_job *j = ctx;
    t5_row_dispatch()->af_apply(j->p, j->u, j->c, j->scale, s, e);
}

void adafactor_step(adafactor *a, const t5_weight *params, const t5_weight *grads)
{
    a->t++;
    double decay = 1.0 - pow((double)a->t, -(double)a->o.decay_pow);
    af_job j = {.keep = (float)decay, .add = (float)(1.0 - decay), .eps1 = a->o.eps1, .u = a->u,
                .cinv = a->cinv, .colsum = a->colsum}; /* keep/add as HF passes them to torch */
    /* HF's _get_lr: its step is our t after the increment */
    a->last_lr = a->o.relative_step ? (float)fmin(1e-2, 1.0 / sqrt((double)a->t)) : a->o.lr;
    for (int i = 0; i < a->n; i++) {
        af_tensor *t = &a->ts[i];
        j.t = t, j.p = t5_weight_floats(&params[i]), j.g = t5_weight_floats(&grads[i]);
        j.scale = a->last_lr;
        if (a->o.scale_parameter) {
            float r = rms(&j, j.p, t->n);
            j.scale *= r > a->o.eps2 ? r : a->o.eps2;
        }
        if (t->factored) {
            t5_parallel_for(t->rows, 16, row_task, &j);
            t5_parallel_for(t->cols, 64, col_task, &j);
            double rmean = 0.0;
            for (int r = 0; r < t->rows; r++)
                rmean += t->row[r];
            j.mean = (float)(rmean / t->rows);
            t5_parallel_for(t->rows, 16, factored_u_task, &j);
        } else {
            t5_parallel_for((long)t->n, 16384, unfactored_u_task, &j);
        }
        float c = rms(&j, j.u, t->n) / a->o.clip_threshold;
        j.c = c < 1.0f ? 1.0f : c;
        t5_parallel_for((long)t->n, 16384, apply_task, &j);
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
