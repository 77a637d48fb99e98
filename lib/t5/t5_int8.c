/* t5_int8.c: see t5_int8.h. */
#include "t5/t5_int8.h"

#include <math.h>
#include <stdlib.h>

#include "t5/t5_linear_kernels.h"
#include "t5/t5_ops.h"
#include "t5/t5_row_kernels.h"

/* one row: scale = max|x| / 127, q = x / scale rounded half away from zero, in [-127, 127];
 * the row loops are the dispatched row kernels (t5_row_kernels.h: absmax, round_i8) */
static float row_absmax(const float *x, int C)
{
    return t5_row_dispatch()->absmax(x, C);
}

static void row_round(int8_t *q, const float *x, float inv, int C)
{
    t5_row_dispatch()->round_i8(q, x, inv, C);
}

static float quantize_row(int8_t *q, const float *x, int C)
{
    float m = row_absmax(x, C);
    if (!(m > 0.0f) || !isfinite(m)) { /* zeros (or a broken row: its outputs NaN, not garbage) */
        for (int c = 0; c < C; c++)
            q[c] = 0;
        return m > 0.0f || m != m ? NAN : 0.0f;
    }
    row_round(q, x, 127.0f / m, C);
    return m / 127.0f;
}

void t5_quantize_rows(int8_t *q, float *scale, const float *x, int N, int C)
{
    for (int n = 0; n < N; n++)
        scale[n] = quantize_row(q + (size_t)n * C, x + (size_t)n * C, C);
}

t5_weight t5_weight_quantize(const t5_weight *w, int8_t *q, float *scale)
{
    size_t C = (size_t)w->cols;
    float *row = w->dtype == T5_BF16 ? malloc(sizeof(float) * C) : NULL;
    for (int r = 0; r < w->rows; r++) {
        const float *src = (const float *)w->data + r * C;
        if (w->dtype == T5_BF16) {
            t5_widen_all(row, (const uint16_t *)w->data + r * C, C);
            src = row;
        }
        scale[r] = quantize_row(q + r * C, src, w->cols);
    }
    free(row);
    t5_weight h = {T5_I8, q, scale, w->rows, w->cols, 0};
    return h;
}

/* The quantized input rows: one buffer per calling thread, grown as needed. */
static _Thread_local int8_t *qbuf;
static _Thread_local float *sbuf;
static _Thread_local size_t qcap, scap;

/* No memory for the quantized rows: each input value quantized again for every output, the
 * same int32 sums and so the same bits, slowly (t5_linear has no way to report an error). */
void t5_linear_i8_unbuffered(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate)
{
    size_t C = (size_t)w->cols;
    const int8_t *wq = w->data;
    for (int n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float m = row_absmax(x, (int)C), inv = m > 0.0f ? 127.0f / m : 0.0f, xs = m / 127.0f;
        for (int o = 0; o < w->rows; o++) {
            int32_t s = 0;
            for (size_t c = 0; c < C; c++) {
                int8_t q;
                row_round(&q, x + c, inv, 1);
                s += (int32_t)q * wq[o * C + c];
            }
            float *p = out + (size_t)n * w->rows + o, v = (float)s * (xs * w->scale[o]);
            *p = accumulate ? *p + alpha * v : alpha * v;
        }
    }
}

static void rows_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const t5_lin_job *j = ctx;
    t5_linear_dispatch()->i8_rows(j, begin, end);
}

void t5_linear_i8(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate)
{
    size_t n = (size_t)N * w->cols;
    if (n > qcap) {
        int8_t *p = realloc(qbuf, n);
        if (!p) {
            t5_linear_i8_unbuffered(out, inp, w, N, alpha, accumulate);
            return;
        }
        qbuf = p, qcap = n;
    }
    if ((size_t)N > scap) {
        float *p = realloc(sbuf, sizeof(float) * N);
        if (!p) {
            t5_linear_i8_unbuffered(out, inp, w, N, alpha, accumulate);
            return;
        }
        sbuf = p, scap = (size_t)N;
    }
    t5_quantize_rows(qbuf, sbuf, inp, N, w->cols);
    t5_lin_job j = {out, qbuf, NULL, NULL, N, w->cols, w->rows, accumulate, alpha, w->data, w->scale, sbuf};
    /* at least 64 weight rows a part: below that, threads cost more than they save */
    t5_parallel_for(w->rows, 64, rows_task, &j);
}

double t5_int8_bound(const float *x, const float *w, int C)
{
    double mx = 0, mw = 0, l1x = 0, l1w = 0;
    for (int c = 0; c < C; c++) {
        mx = fmax(mx, fabs(x[c])), mw = fmax(mw, fabs(w[c]));
        l1x += fabs(x[c]), l1w += fabs(w[c]);
    }
    return (l1x * mw + l1w * mx) / 254.0 + C * mx * mw / 64516.0;
}
