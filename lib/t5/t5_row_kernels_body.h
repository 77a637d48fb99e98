/* t5_row_kernels_body.h: the one C source of the row kernels (t5_row_kernels.h), included
 * by each t5_row_kernels_<isa>.c, which the build compiles with that instruction set's
 * flags (mk/t5.mk), after naming it (isa_name); the file exports this build's table. Everything here is static: each file gets
 * its own copy. Loops are written for the vectorizer: reductions in eight lanes (one
 * register) instead of one chain it may not reorder, and an exp of our own (Cephes' expf
 * polynomial, ~1 ulp) with no call in it. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "t5/t5_ops.h"
#include "t5/t5_row_kernels.h"

/* ---------------------------------------------------------------- RMSNorm */

static void rms_forward(float *out, float *rstd, const float *x, const float *w, int C, float eps, long s, long e)
{
    for (long n = s; n < e; n++) {
        const float *xr = x + n * C;
        float *o = out + n * C;
        float lane[8] = {0}, ss = 0.0f;
        int i = 0;
        for (; i + 8 <= C; i += 8)
            for (int k = 0; k < 8; k++)
                lane[k] += xr[i + k] * xr[i + k];
        for (; i < C; i++)
            ss += xr[i] * xr[i];
        for (int k = 0; k < 8; k++)
            ss += lane[k];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (i = 0; i < C; i++)
            o[i] = w[i] * (xr[i] * r); /* HF: weight * (x * rsqrt(var + eps)) */
        rstd[n] = r;
    }
}

static void rms_backward_dx(float *dx, const float *dout, const float *x, const float *w, const float *rstd, int C,
                            long s, long e)
{
    for (long n = s; n < e; n++) {
        const float *xr = x + n * C, *dy = dout + n * C;
        float *dxr = dx + n * C;
        float r = rstd[n];
        /* y_i = w_i x_i r, r = (mean(x^2)+eps)^-1/2, dr/dx_j = -r^3 x_j / C */
        float lane[8] = {0}, dot = 0.0f;
        int i = 0;
        for (; i + 8 <= C; i += 8)
            for (int l = 0; l < 8; l++)
                lane[l] += w[i + l] * dy[i + l] * xr[i + l];
        for (; i < C; i++)
            dot += w[i] * dy[i] * xr[i];
        for (int l = 0; l < 8; l++)
            dot += lane[l];
        float k = dot * r * r * r / C;
        for (i = 0; i < C; i++)
            dxr[i] += w[i] * dy[i] * r - k * xr[i];
    }
}

static void rms_backward_dw(float *dw, const float *dout, const float *x, const float *rstd, int N, int C, long s,
                            long e)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C, *dy = dout + (long)n * C;
        float r = rstd[n];
        for (long i = s; i < e; i++)
            dw[i] += dy[i] * xr[i] * r;
    }
}

/* ---------------------------------------------------------------- exp, softmax */

static inline __attribute__((always_inline)) float exp_poly(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x; /* stays a normal float: no denormals */
    float t = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: round to nearest integer */
    int32_t ti;
    memcpy(&ti, &t, 4);
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f; /* x - n ln2, in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = (ti - 0x4B400000 + 127) << 23; /* 2^n */
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale;
}

static float row_max(const float *x, int n)
{
    float lane[8];
    for (int k = 0; k < 8; k++)
        lane[k] = -INFINITY;
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] = x[i + k] > lane[k] ? x[i + k] : lane[k];
    float m = -INFINITY;
    for (int k = 0; k < 8; k++)
        m = lane[k] > m ? lane[k] : m;
    for (; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

/* out[i] = exp(x[i] - shift) (out may be x) */
static void exp_map(float *out, const float *x, float shift, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = exp_poly(x[i] - shift);
}

static float lane_sum(const float *x, int n)
{
    float lane[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += x[i + k];
    float sum = 0.0f;
    for (; i < n; i++)
        sum += x[i];
    for (int k = 0; k < 8; k++)
        sum += lane[k];
    return sum;
}

/* out NULL: the values go through a small buffer */
static float exp_sum(float *out, const float *x, float shift, int n)
{
    if (!out) {
        float buf[512], sum = 0.0f;
        for (int i = 0; i < n; i += 512) {
            int m = n - i < 512 ? n - i : 512;
            exp_map(buf, x + i, shift, m);
            sum += lane_sum(buf, m);
        }
        return sum;
    }
    exp_map(out, x, shift, n);
    return lane_sum(out, n);
}

/* Branch-free so it vectorizes: every bucket is valid, so the bias goes onto masked keys
 * too, and the mask drops them from the max and the sum. */
static void masked_softmax_row(float *restrict row, const uint8_t *restrict allow, const float *bias,
                               const int32_t *bucket, int H, int h, int Tk)
{
    if (bias)
        for (int j = 0; j < Tk; j++)
            row[j] += bias[bucket[j] * H + h];
    for (int j = 0; j < Tk; j++) /* masked keys out of the max */
        row[j] = allow[j] ? row[j] : -INFINITY;
    float mx = row_max(row, Tk);
    if (mx == -INFINITY) { /* nothing to attend to: zeros */
        memset(row, 0, sizeof(float) * Tk);
        return;
    }
    exp_map(row, row, mx, Tk);
    for (int j = 0; j < Tk; j++) /* masked keys: exactly 0 */
        row[j] = allow[j] ? row[j] : 0.0f;
    float inv = 1.0f / lane_sum(row, Tk);
    for (int j = 0; j < Tk; j++)
        row[j] *= inv;
}

static void softmax_grad_row(float *dp, const float *p, int n)
{
    float lane[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += p[j + k] * dp[j + k];
    float dot = 0.0f;
    for (; j < n; j++)
        dot += p[j] * dp[j];
    for (int k = 0; k < 8; k++)
        dot += lane[k];
    for (j = 0; j < n; j++)
        dp[j] = p[j] * (dp[j] - dot);
}

/* ---------------------------------------------------------------- activations */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

/* gelu_new(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as
 * x * sigmoid(2u) (the same function; exp is several times cheaper than tanhf) */
static inline __attribute__((always_inline)) float gelu_new(float x)
{
    float u = GELU_K * (x + 0.044715f * x * x * x);
    return x / (1.0f + exp_poly(-2.0f * u));
}

static inline __attribute__((always_inline)) float gelu_new_grad(float x)
{
    float u = GELU_K * (x + 0.044715f * x * x * x);
    float sg = 1.0f / (1.0f + exp_poly(-2.0f * u)); /* (1 + tanh u) / 2 */
    return sg + x * 2.0f * sg * (1.0f - sg) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
}

static inline float gelu_erf(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
}

static inline float gelu_erf_grad(float x)
{
    return 0.5f * (1.0f + erff(x * 0.7071067811865476f)) + x * expf(-0.5f * x * x) * 0.3989422804014327f;
}

static inline float act(float x, int kind)
{
    return kind == T5_FF_GELU_NEW ? gelu_new(x) : kind == T5_FF_GELU ? gelu_erf(x) : (x > 0.0f ? x : 0.0f);
}

static inline float act_grad(float x, int kind)
{
    return kind == T5_FF_GELU_NEW ? gelu_new_grad(x) : kind == T5_FF_GELU ? gelu_erf_grad(x) : (x > 0.0f ? 1.0f : 0.0f);
}

static void act_forward(float *h, const float *a, const float *b, int kind, long s, long e)
{
    if (kind == T5_FF_GELU_NEW && b) { /* T5 v1.1: a loop without branches, vectorized */
        for (long i = s; i < e; i++)
            h[i] = gelu_new(a[i]) * b[i];
        return;
    }
    for (long i = s; i < e; i++) {
        float y = act(a[i], kind);
        h[i] = b ? y * b[i] : y;
    }
}

static void act_backward(float *da, float *db, const float *dh, const float *a, const float *b, int kind, long s,
                         long e)
{
    if (kind == T5_FF_GELU_NEW && b) { /* T5 v1.1: a loop without branches, vectorized */
        for (long i = s; i < e; i++) {
            da[i] += dh[i] * b[i] * gelu_new_grad(a[i]);
            db[i] += dh[i] * gelu_new(a[i]);
        }
        return;
    }
    for (long i = s; i < e; i++) {
        float g = dh[i], x = a[i];
        float dy = act_grad(x, kind);
        if (b) { /* h = y * b */
            da[i] += g * b[i] * dy;
            db[i] += g * act(x, kind);
        } else {
            da[i] += g * dy;
        }
    }
}

/* ---------------------------------------------------------------- Adafactor */

static double af_sumsq(const float *x, long s, long e)
{
    double acc = 0.0;
    /* eight float lanes over blocks of 1024, each block added in double */
    for (long b = s; b < e; b += 1024) {
        long end = b + 1024 < e ? b + 1024 : e, i = b;
        float lane[8] = {0};
        for (; i + 8 <= end; i += 8)
            for (int k = 0; k < 8; k++)
                lane[k] += x[i + k] * x[i + k];
        for (; i < end; i++)
            lane[0] += x[i] * x[i];
        for (int k = 0; k < 8; k++)
            acc += lane[k];
    }
    return acc;
}

/* rows s..e: R_i = keep R_i + add mean_j (G_ij^2 + eps1) */
static void af_row_stats(float *row, const float *g, int C, float keep, float add, float eps1, long s, long e)
{
    for (long i = s; i < e; i++) {
        const float *gr = g + i * C;
        /* eight float lanes, added in double: one double chain ran at the add's latency */
        float lane[8] = {0};
        int k = 0;
        for (; k + 8 <= C; k += 8)
            for (int l = 0; l < 8; l++)
                lane[l] += gr[k + l] * gr[k + l] + eps1;
        double rs = 0.0;
        for (; k < C; k++)
            rs += gr[k] * gr[k] + eps1;
        for (int l = 0; l < 8; l++)
            rs += lane[l];
        row[i] = row[i] * keep + (float)(rs / C) * add;
    }
}

/* columns s..e: C_k = keep C_k + add mean_i (G_ik^2 + eps1); cinv_k = 1/sqrt(C_k) */
static void af_col_stats(float *col, float *cinv, double *colsum, const float *g, int R, int C, float keep, float add,
                         float eps1, long s, long e)
{
    for (long k = s; k < e; k++)
        colsum[k] = 0.0;
    for (int i = 0; i < R; i++) {
        const float *gr = g + (size_t)i * C;
        for (long k = s; k < e; k++)
            colsum[k] += gr[k] * gr[k] + eps1;
    }
    for (long k = s; k < e; k++) {
        col[k] = col[k] * keep + (float)(colsum[k] / R) * add;
        cinv[k] = 1.0f / sqrtf(col[k]);
    }
}

/* u = g / sqrt(R_i / mean(R) * C_j), rows s..e */
static void af_factored_u(float *u, const float *g, const float *row, const float *cinv, float mean, int C, long s,
                          long e)
{
    for (long i = s; i < e; i++) {
        float rf = 1.0f / sqrtf(row[i] / mean);
        const float *gr = g + i * C;
        float *ur = u + i * C;
        for (int k = 0; k < C; k++)
            ur[k] = rf * cinv[k] * gr[k];
    }
}

/* V = keep V + add (G^2 + eps1);  u = g / sqrt(V) */
static void af_unfactored_u(float *u, float *v, const float *g, float keep, float add, float eps1, long s, long e)
{
    for (long k = s; k < e; k++) {
        v[k] = v[k] * keep + (g[k] * g[k] + eps1) * add;
        u[k] = (1.0f / sqrtf(v[k])) * g[k];
    }
}

static void af_apply(float *p, const float *u, float c, float scale, long s, long e)
{
    for (long k = s; k < e; k++)
        p[k] -= (u[k] / c) * scale;
}

/* This build's table; the including file defines isa_name first and exports a pointer to it. */
/* ---------------------------------------------------------------- int8 quantizing */

/* eight partial maxima, no libm call, no branch on the sign: the vectorizer's shape (a
 * scalar loop with nearbyintf was a tenth of an int8 t0-score's time); a max is exact in
 * any order, so every build gives the same bits */
static float absmax(const float *x, int n)
{
    float m8[8] = {0};
    int c = 0;
    for (; c + 8 <= n; c += 8)
        for (int j = 0; j < 8; j++) {
            float a = fabsf(x[c + j]);
            m8[j] = a > m8[j] ? a : m8[j];
        }
    float m = 0.0f;
    for (int j = 0; j < 8; j++)
        m = m8[j] > m ? m8[j] : m;
    for (; c < n; c++)
        m = fabsf(x[c]) > m ? fabsf(x[c]) : m;
    return m;
}

static void round_i8(int8_t *q, const float *x, float inv, int n)
{
    for (int c = 0; c < n; c++) {
        float v = x[c] * inv; /* |v| <= 127 up to rounding */
        v = v + copysignf(0.5f, v);
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        q[c] = (int8_t)(int)v; /* truncation: half away from zero */
    }
}

static const t5_row_kernels this_isa = {
    .name = isa_name,
    .rms_forward = rms_forward,
    .rms_backward_dx = rms_backward_dx,
    .rms_backward_dw = rms_backward_dw,
    .act_forward = act_forward,
    .act_backward = act_backward,
    .row_max = row_max,
    .exp_sum = exp_sum,
    .masked_softmax_row = masked_softmax_row,
    .softmax_grad_row = softmax_grad_row,
    .af_sumsq = af_sumsq,
    .af_row_stats = af_row_stats,
    .af_col_stats = af_col_stats,
    .af_factored_u = af_factored_u,
    .af_unfactored_u = af_unfactored_u,
    .af_apply = af_apply,
    .absmax = absmax,
    .round_i8 = round_i8,
};
