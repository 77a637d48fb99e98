/* t5_ops.c: see t5_ops.h. */
#include "t5_ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#include <xmmintrin.h>

void t5_set_ftz(void)
{
    /* FTZ (bit 15) and DAZ (bit 6) */
    _mm_setcsr(_mm_getcsr() | 0x8040);
}

/* ---------------------------------------------------------------- matmul */

void matmul_forward(float *out, const float *inp, const float *w, int N, int C, int OC, float alpha, int accumulate)
{
    /* out[N,OC] = alpha * inp[N,C] @ w[OC,C]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, alpha, inp, C, w, C, accumulate ? 1.0f : 0.0f,
                out, OC);
}

void matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                     int OC, float alpha)
{
    /* forward: out = alpha * inp @ w^T */
    if (dinp) /* dinp[N,C] += alpha * dout[N,OC] @ w[OC,C] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, alpha, dout, OC, w, C, 1.0f, dinp, C);
    if (dw) /* dw[OC,C] += alpha * dout^T[OC,N] @ inp[N,C] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, alpha, dout, OC, inp, C, 1.0f, dw, C);
}

/* ---------------------------------------------------------------- RMSNorm */

void rmsnorm_forward(float *out, float *rstd, const float *x, const float *w, int N, int C, float eps)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C;
        float *o = out + (long)n * C;
        float ss = 0.0f;
        for (int i = 0; i < C; i++)
            ss += xr[i] * xr[i];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int i = 0; i < C; i++)
            o[i] = w[i] * (xr[i] * r); /* HF: weight * (x * rsqrt(var + eps)) */
        rstd[n] = r;
    }
}

void rmsnorm_backward(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                      int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C, *dy = dout + (long)n * C;
        float *dxr = dx + (long)n * C;
        float r = rstd[n];
        /* y_i = w_i x_i r, r = (mean(x^2)+eps)^-1/2, dr/dx_j = -r^3 x_j / C */
        float dot = 0.0f;
        for (int i = 0; i < C; i++) {
            dot += w[i] * dy[i] * xr[i];
            dw[i] += dy[i] * xr[i] * r;
        }
        float k = dot * r * r * r / C;
        for (int i = 0; i < C; i++)
            dxr[i] += w[i] * dy[i] * r - k * xr[i];
    }
}

/* ---------------------------------------------------------------- embedding */

void embedding_forward(float *out, const int32_t *ids, const float *emb, int N, int C)
{
    for (int n = 0; n < N; n++)
        memcpy(out + (long)n * C, emb + (long)ids[n] * C, sizeof(float) * C);
}

void embedding_backward(float *demb, const float *dout, const int32_t *ids, int N, int C)
{
    for (int n = 0; n < N; n++) {
        float *d = demb + (long)ids[n] * C;
        const float *g = dout + (long)n * C;
        for (int i = 0; i < C; i++)
            d[i] += g[i];
    }
}

/* ---------------------------------------------------------------- activations */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

static inline float gelu_new(float x)
{
    return 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
}

static inline float gelu_new_grad(float x)
{
    float u = GELU_K * (x + 0.044715f * x * x * x);
    float t = tanhf(u);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
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
    return kind == FF_GELU_NEW ? gelu_new(x) : kind == FF_GELU ? gelu_erf(x) : (x > 0.0f ? x : 0.0f);
}

static inline float act_grad(float x, int kind)
{
    return kind == FF_GELU_NEW ? gelu_new_grad(x) : kind == FF_GELU ? gelu_erf_grad(x) : (x > 0.0f ? 1.0f : 0.0f);
}

void ff_act_forward(float *h, const float *a, const float *b, long n, int kind)
{
    for (long i = 0; i < n; i++) {
        float y = act(a[i], kind);
        h[i] = b ? y * b[i] : y;
    }
}

void ff_act_backward(float *da, float *db, const float *dh, const float *a, const float *b, long n, int kind)
{
    for (long i = 0; i < n; i++) {
        float g = dh[i];
        float y = act(a[i], kind);
        float dy = act_grad(a[i], kind);
        if (b) { /* h = y * b */
            da[i] += g * b[i] * dy;
            db[i] += g * y;
        } else {
            da[i] += g * dy;
        }
    }
}

/* ---------------------------------------------------------------- relative position */

int t5_relative_bucket(int rel, int bidirectional, int num_buckets, int max_distance)
{
    int bucket = 0;
    if (bidirectional) {
        num_buckets /= 2;
        if (rel > 0)
            bucket += num_buckets;
        rel = rel < 0 ? -rel : rel;
    } else {
        rel = rel < 0 ? -rel : 0; /* only the past */
    }
    int max_exact = num_buckets / 2;
    if (rel < max_exact)
        return bucket + rel;
    /* the same float32 arithmetic as HF: log(rel/max_exact)/log(max_distance/max_exact)*(nb-max_exact) */
    float f = logf((float)rel / (float)max_exact) / (float)log((double)max_distance / max_exact) *
              (float)(num_buckets - max_exact);
    int large = max_exact + (int)f;
    if (large > num_buckets - 1)
        large = num_buckets - 1;
    return bucket + large;
}

/* ---------------------------------------------------------------- dropout */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int dropout_keep(uint64_t seed, uint64_t site, uint64_t i, float rate)
{
    uint64_t h = mix64(mix64(seed ^ (site * 0x9e3779b97f4a7c15ULL)) + i);
    return (float)(h >> 40) * (1.0f / 16777216.0f) >= rate;
}

static void dropout_apply(float *x, long n, float rate, uint64_t seed, uint64_t site, uint64_t offset)
{
    if (rate <= 0.0f)
        return;
    float scale = 1.0f / (1.0f - rate);
    for (long i = 0; i < n; i++)
        x[i] = dropout_keep(seed, site, offset + (uint64_t)i, rate) ? x[i] * scale : 0.0f;
}

void dropout_forward(float *x, long n, float rate, uint64_t seed, uint64_t site)
{
    dropout_apply(x, n, rate, seed, site, 0);
}

void dropout_backward(float *dx, long n, float rate, uint64_t seed, uint64_t site)
{
    dropout_apply(dx, n, rate, seed, site, 0); /* y = x * m / keep  ->  dx = dy * m / keep */
}

/* ---------------------------------------------------------------- attention */

/* one row of scores -> probabilities, over the allowed keys only */
static void masked_softmax_row(float *row, const uint8_t *allow, const float *bias, const int32_t *bucket, int H,
                               int h, int Tk)
{
    float mx = -INFINITY;
    for (int j = 0; j < Tk; j++) {
        if (!allow[j])
            continue;
        if (bias)
            row[j] += bias[bucket[j] * H + h];
        if (row[j] > mx)
            mx = row[j];
    }
    if (mx == -INFINITY) { /* nothing to attend to: zeros */
        memset(row, 0, sizeof(float) * Tk);
        return;
    }
    float sum = 0.0f;
    for (int j = 0; j < Tk; j++) {
        float e = allow[j] ? expf(row[j] - mx) : 0.0f;
        row[j] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < Tk; j++)
        row[j] *= inv;
}

void attention_forward(float *out, float *P, const float *q, const float *k, const float *v, const attn_shape *s,
                       float *scratch)
{
    int B = s->B, Tq = s->Tq, Tk = s->Tk, H = s->H, dk = s->dk, HD = H * dk;
    long kvs = s->kv_stride > 0 ? s->kv_stride : Tk;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *qb = q + (long)b * Tq * HD + h * dk;
            const float *kb = k + (long)b * kvs * HD + h * dk;
            const float *vb = v + (long)b * kvs * HD + h * dk;
            float *Pb = P + ((long)b * H + h) * Tq * Tk;
            /* S[Tq,Tk] = q_bh @ k_bh^T (no 1/sqrt(dk)) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dk, 1.0f, qb, HD, kb, HD, 0.0f, Pb, Tk);
            for (int i = 0; i < Tq; i++) {
                long r = ((long)b * Tq + i) * Tk;
                masked_softmax_row(Pb + (long)i * Tk, s->allow + r, s->bias, s->bucket ? s->bucket + r : NULL, H, h,
                                   Tk);
            }
            const float *Pd = Pb;
            if (s->drop_rate > 0.0f) {
                memcpy(scratch, Pb, sizeof(float) * Tq * Tk);
                dropout_apply(scratch, (long)Tq * Tk, s->drop_rate, s->seed, s->site, ((uint64_t)b * H + h) * Tq * Tk);
                Pd = scratch;
            }
            /* out_bh[Tq,dk] = P @ v_bh */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dk, Tk, 1.0f, Pd, Tk, vb, HD, 0.0f,
                        out + (long)b * Tq * HD + h * dk, HD);
        }
}

void attention_backward(float *dq, float *dk, float *dv, float *dbias, const float *dout, const float *P,
                        const float *q, const float *k, const float *v, const attn_shape *s, float *scratch)
{
    int B = s->B, Tq = s->Tq, Tk = s->Tk, H = s->H, dkk = s->dk, HD = H * dkk;
    float *dP = scratch, *Pd = scratch + (long)Tq * Tk;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            long o_q = (long)b * Tq * HD + h * dkk, o_k = (long)b * Tk * HD + h * dkk;
            const float *Pb = P + ((long)b * H + h) * Tq * Tk;
            const float *doutb = dout + o_q;
            uint64_t drop_off = ((uint64_t)b * H + h) * Tq * Tk;
            const float *Pused = Pb;
            if (s->drop_rate > 0.0f) {
                memcpy(Pd, Pb, sizeof(float) * Tq * Tk);
                dropout_apply(Pd, (long)Tq * Tk, s->drop_rate, s->seed, s->site, drop_off);
                Pused = Pd;
            }
            /* out = Pd @ v:  dPd = dout @ v^T ;  dv += Pd^T @ dout */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dkk, 1.0f, doutb, HD, v + o_k, HD, 0.0f, dP,
                        Tk);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dkk, Tq, 1.0f, Pused, Tk, doutb, HD, 1.0f,
                        dv + o_k, HD);
            if (s->drop_rate > 0.0f)
                dropout_apply(dP, (long)Tq * Tk, s->drop_rate, s->seed, s->site, drop_off);
            /* softmax: dS_ij = P_ij (dP_ij - sum_l P_il dP_il); masked entries have P = 0 */
            for (int i = 0; i < Tq; i++) {
                const float *pr = Pb + (long)i * Tk;
                float *dr = dP + (long)i * Tk;
                float dot = 0.0f;
                for (int j = 0; j < Tk; j++)
                    dot += pr[j] * dr[j];
                for (int j = 0; j < Tk; j++)
                    dr[j] = pr[j] * (dr[j] - dot);
                if (s->bias && dbias) { /* S += bias[bucket] */
                    long r = ((long)b * Tq + i) * Tk;
                    const uint8_t *al = s->allow + r;
                    const int32_t *bk = s->bucket + r;
                    for (int j = 0; j < Tk; j++)
                        if (al[j])
                            dbias[bk[j] * H + h] += dr[j];
                }
            }
            /* S = q @ k^T:  dq += dS @ k ;  dk += dS^T @ q */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dkk, Tk, 1.0f, dP, Tk, k + o_k, HD, 1.0f,
                        dq + o_q, HD);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dkk, Tq, 1.0f, dP, Tk, q + o_q, HD, 1.0f,
                        dk + o_k, HD);
        }
}

/* ---------------------------------------------------------------- loss */

double crossentropy_forward(float *lse, const float *logits, const int32_t *targets, const float *weights, int N,
                            int V, float z, float denom, double *ce, double *zl)
{
    double ce_sum = 0.0, z_sum = 0.0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (long)n * V;
        float mx = l[0];
        for (int v = 1; v < V; v++)
            if (l[v] > mx)
                mx = l[v];
        double sum = 0.0;
        for (int v = 0; v < V; v++)
            sum += exp((double)(l[v] - mx));
        float s = mx + (float)log(sum);
        lse[n] = s;
        if (weights[n] != 0.0f) {
            ce_sum += (double)weights[n] * ((double)s - l[targets[n]]);
            z_sum += (double)weights[n] * z * (double)s * s;
        }
    }
    if (ce)
        *ce = ce_sum / denom;
    if (zl)
        *zl = z_sum / denom;
    return (ce_sum + z_sum) / denom;
}

void crossentropy_backward_inplace(float *logits, const float *lse, const int32_t *targets, const float *weights,
                                   int N, int V, float z, float denom)
{
    for (int n = 0; n < N; n++) {
        float *l = logits + (long)n * V;
        float w = weights[n] / denom;
        if (w == 0.0f) {
            memset(l, 0, sizeof(float) * V);
            continue;
        }
        /* loss = w (lse - l_t + z lse^2): d/dl_v = w (p_v (1 + 2 z lse) - [v == t]) */
        float k = w * (1.0f + 2.0f * z * lse[n]);
        for (int v = 0; v < V; v++)
            l[v] = k * expf(l[v] - lse[n]);
        l[targets[n]] -= w;
    }
}
