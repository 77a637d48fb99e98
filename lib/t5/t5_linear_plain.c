/* t5_linear_plain.c: the few-row product loops in plain C (t5_linear_kernels.h), for any
 * CPU; the compiler vectorizes them. */
#include "t5/t5_linear_kernels.h"

#include <stdlib.h>


/* dst[i] = src[i] widened, vectorized by the compiler */
void t5_widen_all(float *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

/* Plain C, vectorized by the compiler: two input rows against four weight rows (each
 * weight used twice), and one against one; the lanes added in order. BF16 weight rows are
 * widened a block at a time first (t5_rows_plain). */
static void dot2x4_plain(float s[T5_KR][T5_KW], const float *x0, const float *x1, const float *w, int C)
{
    float a0[4][8] = {{0}}, a1[4][8] = {{0}};
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int k = 0; k < 4; k++) {
            const float *wk = w + (size_t)k * C + c;
            for (int j = 0; j < 8; j++) {
                a0[k][j] += x0[c + j] * wk[j];
                a1[k][j] += x1[c + j] * wk[j];
            }
        }
    for (int k = 0; k < 4; k++) {
        float t0 = 0.0f, t1 = 0.0f;
        for (int j = 0; j < 8; j++)
            t0 += a0[k][j], t1 += a1[k][j];
        for (int cc = c; cc < C; cc++) {
            t0 += x0[cc] * w[(size_t)k * C + cc];
            t1 += x1[cc] * w[(size_t)k * C + cc];
        }
        s[0][k] = t0, s[1][k] = t1;
    }
}

static float dot1_plain(const float *x, const float *w, int C)
{
    float a[8] = {0}, t = 0.0f;
    int c = 0;
    for (; c + 8 <= C; c += 8)
        for (int j = 0; j < 8; j++)
            a[j] += x[c + j] * w[c + j];
    for (int j = 0; j < 8; j++)
        t += a[j];
    for (; c < C; c++)
        t += x[c] * w[c];
    return t;
}

/* s[r][k] = x row r . w row k for nr <= 2 rows (stride C) and nk <= 4 weight rows */
static void block_plain(float s[T5_KR][T5_KW], const float *x, int nr, const float *w, int nk, int C)
{
    if (nk == 4) {
        dot2x4_plain(s, x, nr == 2 ? x + C : x, w, C);
        return;
    }
    for (int r = 0; r < nr; r++)
        for (int k = 0; k < nk; k++)
            s[r][k] = dot1_plain(x + (size_t)r * C, w + (size_t)k * C, C);
}

/* One output at a time, widening as it goes: for when there is no memory for a block. */
void t5_rows_unbuffered(const t5_lin_job *j, long begin, long end)
{
    const float *x = j->x;
    size_t C = (size_t)j->C;
    for (int n = 0; n < j->N; n++)
        for (long o = begin; o < end; o++) {
            float s = 0.0f;
            for (size_t c = 0; c < C; c++)
                s += x[n * C + c] * (j->w ? j->w[o * C + c] : t5_widen(j->wb[o * C + c]));
            t5_lin_put(j, n, (int)o, s);
        }
}

/* The plain loops' widened block of BF16 weight rows: one per thread, grown as needed. */
static _Thread_local float *wbuf;
static _Thread_local size_t wcap;

void t5_rows_plain(const t5_lin_job *j, long begin, long end)
{
    const float *x = j->x;
    size_t C = (size_t)j->C;
    if (j->wb && T5_KW * C > wcap) {
        float *p = realloc(wbuf, sizeof(float) * T5_KW * C);
        if (!p) {
            t5_rows_unbuffered(j, begin, end);
            return;
        }
        wbuf = p, wcap = T5_KW * C;
    }
    for (long o = begin; o < end;) {
        int nk = end - o >= 4 ? 4 : 1; /* the range's last rows one at a time */
        const float *w = j->w ? j->w + o * C : wbuf;
        if (j->wb)
            t5_widen_all(wbuf, j->wb + o * C, nk * C);
        for (int n = 0; n < j->N;) {
            int nr = j->N - n >= 2 ? 2 : 1;
            float s[T5_KR][T5_KW];
            block_plain(s, x + n * C, nr, w, nk, j->C);
            for (int r = 0; r < nr; r++)
                for (int k = 0; k < nk; k++)
                    t5_lin_put(j, n + r, (int)o + k, s[r][k]);
            n += nr;
        }
        o += nk;
    }
}


/* int8: one weight row against every input row, the int32 sum exact (|sum| <= C * 127^2,
 * below 2^31 up to 133,000 columns) */
void t5_rows_i8_plain(const t5_lin_job *j, long begin, long end)
{
    const int8_t *x = j->x;
    size_t C = (size_t)j->C;
    for (long o = begin; o < end; o++) {
        const int8_t *w = j->wq + o * C;
        for (int n = 0; n < j->N; n++) {
            const int8_t *xr = x + n * C;
            int32_t s = 0;
            for (size_t c = 0; c < C; c++)
                s += (int32_t)xr[c] * w[c];
            t5_lin_put_i8(j, n, (int)o, s);
        }
    }
}

/* ---------------------------------------------------------------- BF16 training tiles */

static inline float bf16_low(uint32_t pair)
{
    return t5_widen((uint16_t)(pair & 0xffff));
}

static inline float bf16_high(uint32_t pair)
{
    return t5_widen((uint16_t)(pair >> 16));
}

/* The reference tile (t5_linear_kernels.h): vdpbf16ps's arithmetic in C, the odd product
 * added before the even one; the compiler vectorizes over the columns. */
void t5_bf16_tile_plain(float *t, const uint32_t *ap, const uint32_t *bp, int kp)
{
    float acc[T5_BF16_MR][T5_BF16_NR] = {{0}};
    for (int p = 0; p < kp; p++) {
        const uint32_t *b = bp + (size_t)p * T5_BF16_NR;
        for (int i = 0; i < T5_BF16_MR; i++) {
            uint32_t a = ap[(size_t)p * T5_BF16_MR + i];
            float a0 = bf16_low(a), a1 = bf16_high(a);
            for (int j = 0; j < T5_BF16_NR; j++) {
                acc[i][j] += a1 * bf16_high(b[j]);
                acc[i][j] += a0 * bf16_low(b[j]);
            }
        }
    }
    memcpy(t, acc, sizeof acc);
}
