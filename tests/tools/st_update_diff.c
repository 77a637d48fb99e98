/* st_update_diff: how far two training runs' updates differ, tensor by tensor.
 *   st_update_diff BEFORE A B [TOL]
 * BEFORE, A and B are safetensors files (or model folders) with the same F32/BF16/F16 tensors:
 * the weights before and after two runs. For each tensor, with dA = A - BEFORE and
 * dB = B - BEFORE, rel = ||dA - dB|| / ||dB|| (0 when both are zero). Prints the largest rel,
 * its tensor, and whether A and B are bit-identical; exits 0 when the largest rel <= TOL
 * (default 1e-6), 1 when not, 2 on a file it cannot read. Comparing updates, not weights:
 * the weights barely move in a few steps, so weights would agree whatever the updates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"

static float *read_all(const st_model *m, const st_tensor *like, size_t n, t0_error *err)
{
    float *x = malloc(n * sizeof *x);
    if (!x) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    if (st_read_f32(m, like->name, like->ndim, like->shape, x, err) != 0) {
        free(x);
        return NULL;
    }
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: st_update_diff BEFORE A B [TOL]\n");
        return 2;
    }
    double tol = argc == 5 ? atof(argv[4]) : 1e-6;
    t0_error err = {0};
    st_model *m0 = st_open(argv[1], &err), *ma = m0 ? st_open(argv[2], &err) : NULL;
    st_model *mb = ma ? st_open(argv[3], &err) : NULL;
    if (!mb) {
        fprintf(stderr, "st_update_diff: %s\n", err.msg);
        st_close(m0), st_close(ma);
        return 2;
    }
    double worst = 0;
    const char *worst_name = "";
    int identical = 1, rc = 0;
    for (int i = 0; i < st_count(mb) && rc == 0; i++) {
        const st_tensor *t = st_at(mb, i);
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++)
            n *= (size_t)t->shape[d];
        float *x0 = read_all(m0, t, n, &err), *xa = x0 ? read_all(ma, t, n, &err) : NULL;
        float *xb = xa ? read_all(mb, t, n, &err) : NULL;
        if (!xb) {
            fprintf(stderr, "st_update_diff: %s\n", err.msg);
            rc = 2;
        } else {
            double diff = 0, norm = 0;
            for (size_t k = 0; k < n; k++) {
                double da = (double)xa[k] - x0[k], db = (double)xb[k] - x0[k];
                diff += (da - db) * (da - db), norm += db * db;
            }
            double rel = norm > 0 ? sqrt(diff / norm) : (diff > 0 ? INFINITY : 0);
            if (rel > worst || !worst_name[0])
                worst = rel, worst_name = t->name;
            identical &= memcmp(xa, xb, n * sizeof *xa) == 0;
        }
        free(x0), free(xa), free(xb);
    }
    if (rc == 0) {
        printf("max_rel=%.3g tensor=%s tensors=%d identical=%s\n", worst, worst_name, st_count(mb),
               identical ? "yes" : "no");
        rc = worst <= tol ? 0 : 1;
    }
    st_close(m0), st_close(ma), st_close(mb);
    return rc;
}
