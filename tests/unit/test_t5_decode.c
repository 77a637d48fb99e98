/* test_t5_decode.c: greedy decoding with the KV cache against transformers' generate()
 * (ids identical, including a row that stops at EOS and padded inputs), and each cached
 * step's logits against the full forward pass over the same prefix. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"
#include "t5/t5_decode.h"
#include "t5/t5_ops.h"
#include "unit.h"

static int32_t *as_ids(const float *f, size_t n)
{
    int32_t *p = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++)
        p[i] = (int32_t)f[i];
    return p;
}

/* Greedy decoding as generate(do_sample=False, num_beams=1, max_length=max_len) over the
 * decoder's steps alone: out[rows][max_len] starts with decoder_start_token_id; a row that
 * produced eos_token_id is padded with pad_token_id from then on. Returns the positions
 * produced. (t0-decode's greedy search is lib/generate's; this checks the cache itself.) */
static int greedy(const t5_model *m, t5_decoder *d, const int32_t *enc_tokens, int max_len, int32_t *out, t0_error *err)
{
    const t5_config *c = &m->cfg;
    int R = t5_decoder_rows(d), V = c->vocab_size;
    if (t5_decoder_start(d, enc_tokens, err) != 0)
        return -1;
    int32_t *tok = malloc(sizeof(int32_t) * R);
    uint8_t *done = calloc((size_t)R, 1);
    if (!tok || !done) {
        free(tok);
        free(done);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    for (int r = 0; r < R; r++) {
        for (int t = 0; t < max_len; t++)
            out[r * max_len + t] = c->pad_token_id;
        out[r * max_len] = tok[r] = c->decoder_start_token_id;
    }
    int len = 1, rc = 0;
    while (len < max_len) {
        const float *logits;
        if ((rc = t5_decoder_step(d, tok, &logits, err)) != 0)
            break;
        int left = 0;
        for (int r = 0; r < R; r++) {
            const float *l = logits + (size_t)r * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (l[v] > l[best])
                    best = v;
            if (done[r])
                best = c->pad_token_id;
            else if (best == c->eos_token_id)
                done[r] = 1;
            out[r * max_len + len] = tok[r] = best;
            left += !done[r];
        }
        len++;
        if (!left)
            break;
    }
    free(tok);
    free(done);
    return rc ? -1 : len;
}

static void test_greedy(const char *cfg)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, FIXTURE_DIR "/%s", cfg);
    snprintf(path, sizeof path, "%s/expect.safetensors", dir);
    t0_error err = {0};
    t5_model *m = t5_model_open(dir, &err);
    size_t nin = 0, nout = 0;
    float *fin = fixture_tensor(path, "gen_input", &nin), *fout = fixture_tensor(path, "gen_ids", &nout);
    if (!CHECK(m && fin && fout))
        return;
    const int R = 3, T = (int)(nin / R), W = (int)(nout / R), V = m->cfg.vocab_size;
    int32_t *in = as_ids(fin, nin), *want = as_ids(fout, nout), *got = malloc(sizeof(int32_t) * R * W);
    t5_decoder *d = t5_decoder_create(m, R, T, W, &err);
    if (!CHECK(d != NULL))
        return;
    int len = greedy(m, d, in, W, got, &err);
    CHECK(len == W);
    int same = 0;
    for (int i = 0; i < R * W; i++)
        same += got[i] == want[i];
    CHECK(same == R * W);
    int eos_rows = 0;
    for (int r = 0; r < R; r++)
        for (int t = 1; t < W; t++)
            eos_rows += got[r * W + t] == m->cfg.eos_token_id;
    fprintf(stderr, "%s greedy: %d of %d ids identical to generate() (%d rows stop at EOS)\n", cfg, same, R * W,
            eos_rows);

    /* the cached steps against the full forward over the generated prefix */
    int Td = W - 1;
    int32_t *seg = malloc(sizeof(int32_t) * R * T), *pos = malloc(sizeof(int32_t) * R * T);
    int32_t *dseg = malloc(sizeof(int32_t) * R * Td), *dpos = malloc(sizeof(int32_t) * R * Td);
    int32_t *dec_in = malloc(sizeof(int32_t) * R * Td);
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < T; j++)
            seg[r * T + j] = in[r * T + j] != 0, pos[r * T + j] = j;
        for (int t = 0; t < Td; t++)
            dseg[r * Td + t] = 1, dpos[r * Td + t] = t, dec_in[r * Td + t] = got[r * W + t];
    }
    t5_batch b = {R, T, Td, in, seg, pos, NULL, dec_in, dseg, dpos, NULL};
    CHECK(t5_model_reserve(m, R, T, Td, 0, &err) == 0);
    CHECK(t5_forward(m, &b, NULL, &err) == 0);
    float *full = malloc(sizeof(float) * R * Td * V);
    memcpy(full, t5_logits(m), sizeof(float) * R * Td * V);
    CHECK(t5_decoder_start(d, in, &err) == 0);
    double worst = 0;
    int32_t tok[3];
    for (int t = 0; t < Td; t++) {
        const float *lg;
        for (int r = 0; r < R; r++)
            tok[r] = got[r * W + t];
        CHECK(t5_decoder_step(d, tok, &lg, &err) == 0);
        for (int r = 0; r < R; r++) {
            double e = rel_err(lg + (size_t)r * V, full + ((size_t)r * Td + t) * V, (size_t)V);
            worst = e > worst ? e : worst;
        }
    }
    CHECK(worst < 1e-5);
    fprintf(stderr, "%s: cached steps vs full forward, logits max rel err %.2e\n", cfg, worst);
    /* one step too many is refused */
    const float *lg;
    CHECK(t5_decoder_step(d, tok, &lg, &err) == 0); /* position W-1 still fits (max_len W) */
    CHECK(t5_decoder_step(d, tok, &lg, &err) != 0);
    free(seg), free(pos), free(dseg), free(dpos), free(dec_in), free(full);
    t5_decoder_free(d);
    free(in), free(want), free(got), free(fin), free(fout);
    t5_model_free(m);
}

int main(void)
{
    if (access(FIXTURE_DIR "/buckets.safetensors", R_OK) != 0) {
        fprintf(stderr, "test_t5_decode: run from the repository root (fixtures in %s)\n", FIXTURE_DIR);
        return 1;
    }
    test_greedy("a_gated_untied");
    test_greedy("b_relu_tied");
    t5_set_threads(2);
    test_greedy("a_gated_untied");
    t5_set_threads(1);
    return unit_summary("test_t5_decode");
}
