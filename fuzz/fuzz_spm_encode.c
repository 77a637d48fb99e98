/* Fuzzes encoding: arbitrary bytes (invalid UTF-8, NUL, sentinels...) through trained
 * models from tests/fixtures/spm (run from the repository root). The first byte picks
 * the model. Checks: ids in range, no <unk> with byte fallback, decode accepts the ids,
 * and the plain encoding equals the T5 one when the text has no '<'. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "spm/spm.h"

static const char *names[] = {"t5-1k", "bytes-1k", "user-1k", "raw-1k", "identity-1k", "custom-1k"};
enum { N_MODELS = sizeof names / sizeof names[0] };
static t0_spm *models[N_MODELS];

static t0_spm *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/spm/%s.model.zst", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_spm_encode: run from the repository root (%s)\n", path);
        abort();
    }
    static uint8_t packed[1 << 20];
    size_t n = fread(packed, 1, sizeof packed, f);
    fclose(f);
    unsigned long long size = ZSTD_getFrameContentSize(packed, n);
    uint8_t *raw = malloc(size);
    size_t got = ZSTD_decompress(raw, size, packed, n);
    t0_error err = {0};
    t0_spm *m = ZSTD_isError(got) ? NULL : t0_spm_from_proto(raw, got, &err);
    free(raw);
    if (!m)
        abort();
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int k = data[0] % N_MODELS;
    if (!models[k])
        models[k] = load(names[k]);
    const t0_spm *m = models[k];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    t0_spm_work w = {0}, plain = {0};
    t0_error err = {0};
    w.want_pieces = 1;
    if (t0_spm_encode(m, text, n, &w, &err) != 0)
        abort();
    for (size_t i = 0; i < w.n_ids; i++) {
        if (w.ids[i] < 0 || w.ids[i] >= m->vocab_size)
            abort();
        if (m->byte_fallback && w.ids[i] == m->unk_id)
            abort();
    }
    if (!memchr(text, '<', n)) {
        if (t0_spm_encode_plain(m, text, n, &plain, &err) != 0 || plain.n_ids != w.n_ids ||
            (w.n_ids && memcmp(plain.ids, w.ids, w.n_ids * sizeof *w.ids) != 0))
            abort();
    }
    if (t0_spm_decode(m, w.ids, w.n_ids, &plain, &err) != 0)
        abort();
    t0_spm_work_free(&w);
    t0_spm_work_free(&plain);
    return 0;
}
