/* t5_bf16.c: see t5_bf16.h. Work is split over output columns (weight rows), so each
 * weight row is read from memory once per call and used for every input row; the kernels
 * are the dispatch table's (t5_linear_kernels.h). */
#include "t5/t5_bf16.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "common/half.h"
#include "t5/t5_int8.h"
#include "t5/t5_linear_kernels.h"
#include "t5/t5_mixed.h"
#include "t5/t5_ops.h"

const char *t5_bf16_kernel(void)
{
    return t5_linear_dispatch()->name;
}

int t5_bf16_native(void)
{
    return t5_linear_dispatch()->bf16_rows != NULL;
}

typedef struct {
    const t5_lin_job *j;
    t5_rows_fn fn;
} rows_job;

static void rows_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const rows_job *r = ctx;
    r->fn(r->j, begin, end);
}

/* at least 64 weight rows a part: below that, threads cost more than they save */
static void run_rows(const t5_lin_job *j, t5_rows_fn fn)
{
    rows_job r = {j, fn};
    t5_parallel_for(j->OC, 64, rows_task, &r);
}

/* Many rows (an encoder pass): widen a block of weight rows once and let sgemm use it
 * for every row; the rows are the rounded ones, so only the order of the sums differs
 * from the loops above. */
enum { GEMM_BLOCK = 64 };

static void gemm_task(void *ctx, int tid, long begin, long end)
{
    (void)tid;
    const t5_lin_job *j = ctx;
    size_t C = (size_t)j->C;
    float *wt = malloc(sizeof(float) * GEMM_BLOCK * C);
    if (!wt) { /* no room for the block */
        t5_rows_unbuffered(j, begin, end);
        return;
    }
    for (long o = begin; o < end; o += GEMM_BLOCK) {
        int nb = end - o < GEMM_BLOCK ? (int)(end - o) : GEMM_BLOCK;
        t5_widen_all(wt, j->wb + o * C, (size_t)nb * C);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->N, nb, j->C, j->alpha, j->x, j->C, wt, j->C,
                    j->accumulate ? 1.0f : 0.0f, j->out + o, j->OC);
    }
    free(wt);
}

/* The rounded input rows: one buffer per calling thread, grown as needed. */
static _Thread_local void *xbuf;
static _Thread_local size_t xcap;

void t5_matmul_forward_bf16(float *out, const float *inp, const uint16_t *w, int N, int C, int OC, float alpha,
                         int accumulate)
{
    size_t n = (size_t)N * C;
    if (n * sizeof(float) > xcap) {
        void *p = realloc(xbuf, n * sizeof(float));
        if (!p) { /* no scratch: widen nothing, round row by row through the plain loop */
            for (int r = 0; r < N; r++)
                for (int o = 0; o < OC; o++) {
                    float s = 0.0f;
                    for (int c = 0; c < C; c++)
                        s += t5_bf16_round(inp[(size_t)r * C + c]) * t5_widen(w[(size_t)o * C + c]);
                    out[(size_t)r * OC + o] = accumulate ? out[(size_t)r * OC + o] + alpha * s : alpha * s;
                }
            return;
        }
        xbuf = p, xcap = n * sizeof(float);
    }
    t5_lin_job j = {out, xbuf, NULL, w, N, C, OC, accumulate, alpha, NULL, NULL, NULL};
    /* at least 64 weight rows a part: below that, threads cost more than they save */
    const t5_linear_kernels *k = t5_linear_dispatch();
    if (k->bf16_rows) {
        uint16_t *xb = xbuf;
        for (size_t i = 0; i < n; i++)
            xb[i] = t0_f32_to_bf16(inp[i]);
        run_rows(&j, k->bf16_rows);
        return;
    }
    float *xr = xbuf;
    for (size_t i = 0; i < n; i++)
        xr[i] = t5_bf16_round(inp[i]);
    if (N < k->few_rows_bf16)
        run_rows(&j, k->rows);
    else
        t5_parallel_for(OC, 64, gemm_task, &j);
}

void t5_embedding_forward_bf16(float *out, const int32_t *ids, const uint16_t *emb, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const uint16_t *e = emb + (size_t)ids[n] * C;
        for (int c = 0; c < C; c++)
            out[(size_t)n * C + c] = t5_widen(e[c]);
    }
}

void t5_linear(float *out, const float *inp, const t5_weight *w, int N, float alpha, int accumulate)
{
    int C = w->cols, OC = w->rows;
    if (w->dtype == T5_I8) {
        t5_linear_i8(out, inp, w, N, alpha, accumulate);
    } else if (w->dtype == T5_BF16) {
        t5_matmul_forward_bf16(out, inp, w->data, N, C, OC, alpha, accumulate);
    } else if (w->mixed) {
        t5_mixed_forward(out, inp, w->data, N, C, OC, alpha, accumulate);
    } else if (N < t5_linear_dispatch()->few_rows_f32) {
        t5_lin_job j = {out, inp, w->data, NULL, N, C, OC, accumulate, alpha, NULL, NULL, NULL};
        run_rows(&j, t5_linear_dispatch()->rows);
    } else {
        t5_matmul_forward(out, inp, w->data, N, C, OC, alpha, accumulate);
    }
}

void t5_embed(float *out, const int32_t *ids, const t5_weight *emb, int N)
{
    if (emb->dtype == T5_BF16)
        t5_embedding_forward_bf16(out, ids, emb->data, N, emb->cols);
    else
        t5_embedding_forward(out, ids, emb->data, N, emb->cols);
}

void t5_linear_backward(float *dinp, const t5_weight *dw, const float *dout, const float *inp, const t5_weight *w,
                        int N, float alpha)
{
    if (w->mixed) {
        t5_mixed_backward(dinp, dw ? t5_weight_floats(dw) : NULL, dout, inp, t5_weight_floats(w), N, w->cols,
                          w->rows, alpha);
        return;
    }
    t5_matmul_backward(dinp, dw ? t5_weight_floats(dw) : NULL, dout, inp, t5_weight_floats(w), N, w->cols, w->rows,
                    alpha);
}

void t5_embed_backward(const t5_weight *demb, const float *dout, const int32_t *ids, int N)
{
    t5_embedding_backward(t5_weight_floats(demb), dout, ids, N, demb->cols);
}
