/* t5_ops.c: see t5_ops.h. */
#include "t5/t5_ops.h"
#include "t5/t5_row_kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------- matmul
 * With several threads each takes a slice of the larger free dimension and calls a
 * one-thread sgemm on it. */

typedef struct {
    int mode; /* 0: out = inp w^T by rows, 1: by output columns; 2/3: dinp by rows/columns; 4/5: dw by rows/cols */
    float *out;
    const float *a, *b;
    int N, C, OC;
    float alpha, beta;
} mm_job;

static void mm_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const mm_job *j = ctx;
    int n = (int)(e - s), N = j->N, C = j->C, OC = j->OC;
    switch (j->mode) {
    case 0: /* out[s:e, :] = inp[s:e] @ w^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, OC, C, j->alpha, j->a + s * C, C, j->b, C, j->beta,
                    j->out + s * OC, OC);
        break;
    case 1: /* out[:, s:e] = inp @ w[s:e]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, n, C, j->alpha, j->a, C, j->b + s * C, C, j->beta,
                    j->out + s, OC);
        break;
    case 2: /* dinp[s:e] += dout[s:e] @ w */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, C, OC, j->alpha, j->a + s * OC, OC, j->b, C, 1.0f,
                    j->out + s * C, C);
        break;
    case 3: /* dinp[:, s:e] += dout @ w[:, s:e] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, n, OC, j->alpha, j->a, OC, j->b + s, C, 1.0f,
                    j->out + s, C);
        break;
    case 4: /* dw[s:e] += dout[:, s:e]^T @ inp */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, C, N, j->alpha, j->a + s, OC, j->b, C, 1.0f,
                    j->out + s * C, C);
        break;
    default: /* dw[:, s:e] += dout^T @ inp[:, s:e] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, n, N, j->alpha, j->a, OC, j->b + s, C, 1.0f,
                    j->out + s, C);
        break;
    }
}

#define MM_MIN 32 /* rows or columns per slice */

void t5_matmul_forward(float *out, const float *inp, const float *w, int N, int C, int OC, float alpha, int accumulate)
{
    /* out[N,OC] = alpha * inp[N,C] @ w[OC,C]^T */
    mm_job j = {N >= OC ? 0 : 1, out, inp, w, N, C, OC, alpha, accumulate ? 1.0f : 0.0f};
    t5_parallel_for(N >= OC ? N : OC, MM_MIN, mm_task, &j);
}

void t5_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                     int OC, float alpha)
{
    /* forward: out = alpha * inp @ w^T */
    if (dinp) { /* dinp[N,C] += alpha * dout[N,OC] @ w[OC,C] */
        mm_job j = {N >= C ? 2 : 3, dinp, dout, w, N, C, OC, alpha, 1.0f};
        t5_parallel_for(N >= C ? N : C, MM_MIN, mm_task, &j);
    }
    if (dw) { /* dw[OC,C] += alpha * dout^T[OC,N] @ inp[N,C] */
        mm_job j = {OC >= C ? 4 : 5, dw, dout, inp, N, C, OC, alpha, 1.0f};
        t5_parallel_for(OC >= C ? OC : C, MM_MIN, mm_task, &j);
    }
}

/* ---------------------------------------------------------------- RMSNorm */

typedef struct {
    float *out, *rstd, *dx, *dw;
    const float *x, *w, *dout, *rstd_in;
    int N, C;
    float eps;
} rms_job;

static void rms_fwd_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const rms_job *j = ctx;
    t5_row_dispatch()->rms_forward(j->out, j->rstd, j->x, j->w, j->C, j->eps, s, e);
}

void t5_rmsnorm_forward(float *out, float *rstd, const float *x, const float *w, int N, int C, float eps)
{
    rms_job j = {.out = out, .rstd = rstd, .x = x, .w = w, .N = N, .C = C, .eps = eps};
    t5_parallel_for(N, 16, rms_fwd_task, &j);
}

/* rows: dx */
static void rms_bwd_rows(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const rms_job *j = ctx;
    t5_row_dispatch()->rms_backward_dx(j->dx, j->dout, j->x, j->w, j->rstd_in, j->C, s, e);
}

/* columns: dw_i += sum_n dy_ni x_ni r_n */
static void rms_bwd_cols(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const rms_job *j = ctx;
    t5_row_dispatch()->rms_backward_dw(j->dw, j->dout, j->x, j->rstd_in, j->N, j->C, s, e);
}

void t5_rmsnorm_backward(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                      int N, int C)
{
    rms_job j = {.dx = dx, .dw = dw, .x = x, .w = w, .dout = dout, .rstd_in = rstd, .N = N, .C = C};
    t5_parallel_for(N, 16, rms_bwd_rows, &j);
    t5_parallel_for(C, 64, rms_bwd_cols, &j);
}

/* ---------------------------------------------------------------- embedding */

void t5_embedding_forward(float *out, const int32_t *ids, const float *emb, int N, int C)
{
    for (int n = 0; n < N; n++)
        memcpy(out + (long)n * C, emb + (long)ids[n] * C, sizeof(float) * C);
}

void t5_embedding_backward(float *demb, const float *dout, const int32_t *ids, int N, int C)
{
    /* serial: rows with the same id add into the same place */
    for (int n = 0; n < N; n++) {
        float *d = demb + (long)ids[n] * C;
        const float *g = dout + (long)n * C;
        for (int i = 0; i < C; i++)
            d[i] += g[i];
    }
}

/* ---------------------------------------------------------------- activations */

/* The loops themselves are row kernels (t5_row_kernels.h): one source, a build an
 * instruction set, picked by the CPU probe. */

float t5_exp(float x)
{
    float y;
    t5_row_kernels_plain->exp_sum(&y, &x, 0.0f, 1);
    return y;
}

typedef struct {
    float *h, *da, *db;
    const float *a, *b, *dh;
    int kind;
} act_job;

static void act_fwd_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const act_job *j = ctx;
    t5_row_dispatch()->act_forward(j->h, j->a, j->b, j->kind, s, e);
}

void t5_ff_act_forward(float *h, const float *a, const float *b, long n, int kind)
{
    act_job j = {.h = h, .a = a, .b = b, .kind = kind};
    t5_parallel_for(n, 4096, act_fwd_task, &j);
}

static void act_bwd_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const act_job *j = ctx;
    t5_row_dispatch()->act_backward(j->da, j->db, j->dh, j->a, j->b, j->kind, s, e);
}

void t5_ff_act_backward(float *da, float *db, const float *dh, const float *a, const float *b, long n, int kind)
{
    act_job j = {.da = da, .db = db, .a = a, .b = b, .dh = dh, .kind = kind};
    t5_parallel_for(n, 4096, act_bwd_task, &j);
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

/* The mask is a pure function of (seed, site, element index), so backward regenerates it
 * instead of storing it. One hash gives four elements 16 bits each: the hash, not the
 * multiply, was the cost (dropout 0.1 made a small model's training step ~30% slower).
 * The rate is kept to 1/65536 (0.1 drops 6554/65536 = 0.100006). */
static inline uint32_t dropout_threshold(float rate)
{
    return (uint32_t)(rate * 65536.0f + 0.5f);
}

static inline float dropout_one(float v, uint64_t h, uint64_t j, uint32_t thr, float scale)
{
    uint32_t r = (uint32_t)(h >> (16 * (j & 3))) & 0xffffu;
    return r >= thr ? v * scale : 0.0f;
}

static void dropout_range(float *x, long s, long e, float rate, uint64_t seed, uint64_t site, uint64_t offset)
{
    float scale = 1.0f / (1.0f - rate);
    uint32_t thr = dropout_threshold(rate);
    uint64_t key = mix64(seed ^ (site * 0x9e3779b97f4a7c15ULL)), h = 0;
    for (long i = s; i < e; i++) {
        uint64_t j = offset + (uint64_t)i;
        if (i == s || (j & 3) == 0) /* a new group of four, or a range starting inside one */
            h = mix64(key + (j >> 2));
        x[i] = dropout_one(x[i], h, j, thr, scale);
    }
}

typedef struct {
    float *x, rate;
    uint64_t seed, site, offset;
} drop_job;

static void drop_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const drop_job *j = ctx;
    dropout_range(j->x, s, e, j->rate, j->seed, j->site, j->offset);
}

static void dropout_apply(float *x, long n, float rate, uint64_t seed, uint64_t site, uint64_t offset)
{
    if (rate <= 0.0f)
        return;
    drop_job j = {x, rate, seed, site, offset};
    t5_parallel_for(n, 8192, drop_task, &j);
}

void t5_dropout_forward(float *x, long n, float rate, uint64_t seed, uint64_t site)
{
    dropout_apply(x, n, rate, seed, site, 0);
}

void t5_dropout_backward(float *dx, long n, float rate, uint64_t seed, uint64_t site)
{
    dropout_apply(dx, n, rate, seed, site, 0); /* y = x * m / keep  ->  dx = dy * m / keep */
}

/* ---------------------------------------------------------------- attention */

/* dbias[bucket[j] * H + h] += dS_j over the allowed keys. Neighbouring keys mostly share
 * a bucket, so a run is summed in a register and added once: adding each key into the
 * table would chain every add through memory. */
static void bias_grad_row(float *dbias, const float *ds, const uint8_t *allow, const int32_t *bucket, int H, int h,
                          int Tk)
{
    int cur = bucket[0];
    float run = 0.0f;
    for (int j = 0; j < Tk; j++) {
        if (bucket[j] != cur) {
            dbias[cur * H + h] += run;
            cur = bucket[j], run = 0.0f;
        }
        run += allow[j] ? ds[j] : 0.0f;
    }
    dbias[cur * H + h] += run;
}

size_t t5_attention_scratch_floats(int Tq, int Tk, int num_buckets, int H, int slots)
{
    return (size_t)slots * (2 * (size_t)Tq * Tk + (size_t)num_buckets * H);
}

static int attn_slots(const t5_attn_shape *s)
{
    return s->slots > 0 ? s->slots : 1;
}

typedef struct {
    float *out, *P, *dq, *dk, *dv, *scratch;
    const float *q, *k, *v, *dout, *Pin;
    const t5_attn_shape *s;
    size_t slot; /* scratch floats per thread */
} attn_job;

/* pairs (b, h) s..e: scores, masked softmax, probabilities @ v */
static void attn_fwd_task(void *ctx, int tid, long s0, long e0)
{
    const attn_job *j = ctx;
    const t5_attn_shape *s = j->s;
    int Tq = s->Tq, Tk = s->Tk, H = s->H, dk = s->dk, HD = H * dk;
    long kvs = s->kv_stride > 0 ? s->kv_stride : Tk;
    float *scratch = j->scratch ? j->scratch + tid * j->slot : NULL;
    for (long pair = s0; pair < e0; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        const float *qb = j->q + (long)b * Tq * HD + h * dk;
        const float *kb = j->k + (long)b * kvs * HD + h * dk;
        const float *vb = j->v + (long)b * kvs * HD + h * dk;
        float *Pb = j->P + pair * Tq * Tk;
        /* S[Tq,Tk] = q_bh @ k_bh^T (no 1/sqrt(dk)) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dk, 1.0f, qb, HD, kb, HD, 0.0f, Pb, Tk);
        for (int i = 0; i < Tq; i++) {
            long r = ((long)b * Tq + i) * Tk;
            t5_row_dispatch()->masked_softmax_row(Pb + (long)i * Tk, s->allow + r, s->bias, s->bucket ? s->bucket + r : NULL, H, h, Tk);
        }
        const float *Pd = Pb;
        if (s->drop_rate > 0.0f) {
            memcpy(scratch, Pb, sizeof(float) * Tq * Tk);
            dropout_range(scratch, 0, (long)Tq * Tk, s->drop_rate, s->seed, s->site, (uint64_t)pair * Tq * Tk);
            Pd = scratch;
        }
        /* out_bh[Tq,dk] = P @ v_bh */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dk, Tk, 1.0f, Pd, Tk, vb, HD, 0.0f,
                    j->out + (long)b * Tq * HD + h * dk, HD);
    }
}

void t5_attention_forward(float *out, float *P, const float *q, const float *k, const float *v, const t5_attn_shape *s,
                       float *scratch)
{
    attn_job j = {.out = out, .P = P, .scratch = scratch, .q = q, .k = k, .v = v, .s = s,
                  .slot = 2 * (size_t)s->Tq * s->Tk + (size_t)s->num_buckets * s->H};
    /* without dropout no scratch is used, so every thread may take part */
    t5_parallel_for_n((long)s->B * s->H, 1, s->drop_rate > 0.0f ? attn_slots(s) : T5_MAX_THREADS, attn_fwd_task, &j);
}

static void attn_bwd_task(void *ctx, int tid, long s0, long e0)
{
    const attn_job *j = ctx;
    const t5_attn_shape *s = j->s;
    int Tq = s->Tq, Tk = s->Tk, H = s->H, dkk = s->dk, HD = H * dkk;
    float *dP = j->scratch + tid * j->slot, *Pd = dP + (long)Tq * Tk, *dbias = Pd + (long)Tq * Tk;
    for (long pair = s0; pair < e0; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        long o_q = (long)b * Tq * HD + h * dkk, o_k = (long)b * Tk * HD + h * dkk;
        const float *Pb = j->Pin + pair * Tq * Tk;
        const float *doutb = j->dout + o_q;
        uint64_t drop_off = (uint64_t)pair * Tq * Tk;
        const float *Pused = Pb;
        if (s->drop_rate > 0.0f) {
            memcpy(Pd, Pb, sizeof(float) * Tq * Tk);
            dropout_range(Pd, 0, (long)Tq * Tk, s->drop_rate, s->seed, s->site, drop_off);
            Pused = Pd;
        }
        /* out = Pd @ v:  dPd = dout @ v^T ;  dv += Pd^T @ dout */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dkk, 1.0f, doutb, HD, j->v + o_k, HD, 0.0f, dP,
                    Tk);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dkk, Tq, 1.0f, Pused, Tk, doutb, HD, 1.0f,
                    j->dv + o_k, HD);
        if (s->drop_rate > 0.0f)
            dropout_range(dP, 0, (long)Tq * Tk, s->drop_rate, s->seed, s->site, drop_off);
        /* softmax: dS_ij = P_ij (dP_ij - sum_l P_il dP_il); masked entries have P = 0 */
        for (int i = 0; i < Tq; i++) {
            const float *pr = Pb + (long)i * Tk;
            float *dr = dP + (long)i * Tk;
            t5_row_dispatch()->softmax_grad_row(dr, pr, Tk);
            if (s->bias) { /* S += bias[bucket]: into this thread's table, summed after */
                long r = ((long)b * Tq + i) * Tk;
                const uint8_t *al = s->allow + r;
                const int32_t *bk = s->bucket + r;
                bias_grad_row(dbias, dr, al, bk, H, h, Tk);
            }
        }
        /* S = q @ k^T:  dq += dS @ k ;  dk += dS^T @ q */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dkk, Tk, 1.0f, dP, Tk, j->k + o_k, HD, 1.0f,
                    j->dq + o_q, HD);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dkk, Tq, 1.0f, dP, Tk, j->q + o_q, HD, 1.0f,
                    j->dk + o_k, HD);
    }
}

void t5_attention_backward(float *dq, float *dk, float *dv, float *dbias, const float *dout, const float *P,
                        const float *q, const float *k, const float *v, const t5_attn_shape *s, float *scratch)
{
    attn_job j = {.dq = dq, .dk = dk, .dv = dv, .scratch = scratch, .q = q, .k = k, .v = v, .dout = dout, .Pin = P,
                  .s = s, .slot = 2 * (size_t)s->Tq * s->Tk + (size_t)s->num_buckets * s->H};
    long pairs = (long)s->B * s->H;
    int slots = attn_slots(s);
    t5_attn_shape s2 = *s;
    if (!dbias)
        s2.bias = NULL;
    j.s = &s2;
    size_t nb = (size_t)s->num_buckets * s->H;
    if (s2.bias) /* each thread sums the bias gradient in its own slot */
        for (int t = 0; t < slots; t++)
            memset(scratch + t * j.slot + 2 * (size_t)s->Tq * s->Tk, 0, sizeof(float) * nb);
    t5_parallel_for_n(pairs, 1, slots, attn_bwd_task, &j);
    if (s2.bias) /* the threads' bias gradients, in slot order */
        for (int t = 0; t < slots; t++) {
            const float *part = scratch + t * j.slot + 2 * (size_t)s->Tq * s->Tk;
            for (size_t i = 0; i < nb; i++)
                dbias[i] += part[i];
        }
}

/* ---------------------------------------------------------------- loss */

typedef struct {
    float *logits, *lse;
    const float *cl, *weights;
    const int32_t *targets;
    int V;
    float z, denom;
} ce_job;

static void lse_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const ce_job *j = ctx;
    const t5_row_kernels *rk = t5_row_dispatch();
    for (long n = s; n < e; n++) {
        const float *l = j->cl + n * j->V;
        float mx = rk->row_max(l, j->V);
        j->lse[n] = mx + logf(rk->exp_sum(NULL, l, mx, j->V));
    }
}

void t5_logsumexp_rows(float *lse, const float *logits, int N, int V)
{
    ce_job j = {.lse = lse, .cl = logits, .V = V};
    t5_parallel_for(N, 4, lse_task, &j);
}

double t5_crossentropy_forward(float *lse, const float *logits, const int32_t *targets, const float *weights, int N,
                            int V, float z, float denom, double *ce, double *zl)
{
    t5_logsumexp_rows(lse, logits, N, V);
    double ce_sum = 0.0, z_sum = 0.0;
    for (int n = 0; n < N; n++)
        if (weights[n] != 0.0f) {
            double s = lse[n];
            ce_sum += (double)weights[n] * (s - logits[(long)n * V + targets[n]]);
            z_sum += (double)weights[n] * z * s * s;
        }
    if (ce)
        *ce = ce_sum / denom;
    if (zl)
        *zl = z_sum / denom;
    return (ce_sum + z_sum) / denom;
}

static void ce_bwd_task(void *ctx, int tid, long s, long e)
{
    (void)tid;
    const ce_job *j = ctx;
    int V = j->V;
    for (long n = s; n < e; n++) {
        float *l = j->logits + n * V;
        float w = j->weights[n] / j->denom;
        if (w == 0.0f) {
            memset(l, 0, sizeof(float) * V);
            continue;
        }
        /* loss = w (lse - l_t + z lse^2): d/dl_v = w (p_v (1 + 2 z lse) - [v == t]) */
        float k = w * (1.0f + 2.0f * j->z * j->lse[n]), m = j->lse[n];
        t5_row_dispatch()->exp_sum(l, l, m, V);
        for (int v = 0; v < V; v++)
            l[v] *= k;
        l[j->targets[n]] -= w;
    }
}

void t5_crossentropy_backward_inplace(float *logits, const float *lse, const int32_t *targets, const float *weights,
                                   int N, int V, float z, float denom)
{
    ce_job j = {.logits = logits, .lse = (float *)lse, .weights = weights, .targets = targets, .V = V, .z = z,
                .denom = denom};
    t5_parallel_for(N, 4, ce_bwd_task, &j);
}
