/* model_fixture.h: reading the committed model fixtures (tests/fixtures/model, written by
 * tests/reference/t5_reference.py) and comparing tensors the way every model test does:
 * relative error = max|got - want| / max(max|want|, 1e-30), per tensor. */
#ifndef T0_MODEL_FIXTURE_H
#define T0_MODEL_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "t5/safetensors.h"
#include "t5/t5_model.h"

#define FIXTURE_DIR "tests/fixtures/model"

static double worst_rel_err; /* the largest error reported so far, for the summary */

static inline double rel_err(const float *got, const float *want, size_t n)
{
    double dmax = 0.0, wmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), w = fabs((double)want[i]);
        if (d > dmax || d != d)
            dmax = d != d ? INFINITY : d;
        if (w > wmax)
            wmax = w;
    }
    return dmax / (wmax > 1e-30 ? wmax : 1e-30);
}

/* compares and, when over tol, says which tensor */
static inline int close_enough(const char *what, const float *got, const float *want, size_t n, double tol)
{
    double e = rel_err(got, want, n);
    if (e > worst_rel_err)
        worst_rel_err = e;
    if (e > tol)
        fprintf(stderr, "  %s: relative error %.3g > %.3g\n", what, e, tol);
    return e <= tol;
}

/* a fixture tensor as float32 (malloc'd), its element count in *n */
static inline float *fixture_tensor(const char *file, const char *name, size_t *n)
{
    t0_error err = {0};
    st_model *st = st_open(file, &err);
    if (!st) {
        fprintf(stderr, "  %s\n", err.msg);
        return NULL;
    }
    const st_tensor *t = st_find(st, name);
    float *p = NULL;
    if (t) {
        size_t k = 1;
        for (int i = 0; i < t->ndim; i++)
            k *= (size_t)t->shape[i];
        p = malloc(sizeof(float) * (k ? k : 1));
        if (p && st_read_f32(st, name, t->ndim, t->shape, p, &err) != 0) {
            fprintf(stderr, "  %s\n", err.msg);
            free(p);
            p = NULL;
        }
        if (n)
            *n = k;
    } else {
        fprintf(stderr, "  %s: no tensor %s\n", file, name);
    }
    st_close(st);
    return p;
}

/* one fixture batch (the seqio features) as int32 arrays */
typedef struct {
    t5_batch b;
    int32_t *f[8];
    float denominator, z_loss;
} fixture_batch;

static inline int fixture_batch_load(const char *dir, fixture_batch *fb)
{
    static const char *names[8] = {"encoder_input_tokens", "encoder_segment_ids", "encoder_positions",
                                   "decoder_target_tokens", "decoder_input_tokens", "decoder_segment_ids",
                                   "decoder_positions", "decoder_loss_weights"};
    char path[1100];
    snprintf(path, sizeof path, "%.1000s/batch.safetensors", dir);
    t0_error err = {0};
    st_model *st = st_open(path, &err);
    if (!st)
        return -1;
    fb->denominator = (float)atof(st_metadata(st, "denominator"));
    fb->z_loss = (float)atof(st_metadata(st, "z_loss"));
    for (int k = 0; k < 8; k++) {
        const st_tensor *t = st_find(st, names[k]);
        size_t n = (size_t)(t->shape[0] * t->shape[1]);
        float *tmp = malloc(sizeof(float) * n);
        fb->f[k] = malloc(sizeof(int32_t) * n);
        st_read_f32(st, names[k], 2, t->shape, tmp, &err);
        for (size_t i = 0; i < n; i++)
            fb->f[k][i] = (int32_t)tmp[i];
        free(tmp);
        fb->b.rows = (int)t->shape[0];
        if (k == 0)
            fb->b.enc_len = (int)t->shape[1];
        else
            fb->b.dec_len = (int)t->shape[1];
    }
    st_close(st);
    fb->b.enc_tokens = fb->f[0], fb->b.enc_seg = fb->f[1], fb->b.enc_pos = fb->f[2];
    fb->b.dec_target = fb->f[3], fb->b.dec_input = fb->f[4], fb->b.dec_seg = fb->f[5], fb->b.dec_pos = fb->f[6];
    fb->b.dec_weights = fb->f[7];
    return 0;
}

static inline void fixture_batch_free(fixture_batch *fb)
{
    for (int k = 0; k < 8; k++)
        free(fb->f[k]);
}

#endif
