/* test_torch_bin: PyTorch checkpoints (lib/t5/torch_bin.h) against what torch wrote
 * (tests/fixtures/torchbin, tests/reference/torchbin_fixtures.py): views (transposed,
 * narrowed, strided, empty) equal torch's values; storages at odd offsets are read; each
 * model's .bin holds the bytes of its safetensors twin, tied tensors share them, and the
 * logits of both are bit-identical; the unpickler's bounds on pickles built here. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t5/safetensors.h"
#include "t5/t5_model.h"
#include "t5/torch_bin.h"
#include "t5/torch_pickle.h"
#include "t5/torch_zip.h"
#include "unit.h"

#define FIX "tests/fixtures/torchbin"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    *n = buf ? fread(buf, 1, (size_t)len, f) : 0;
    if (buf)
        buf[*n] = '\0';
    fclose(f);
    return buf;
}

static const tb_tensor *tb_find(const tb_file *f, const char *name)
{
    for (int i = 0; i < tb_count(f); i++)
        if (!strcmp(tb_at(f, i)->name, name))
            return tb_at(f, i);
    return NULL;
}

/* Every tensor of views.json: shape and float values equal; returns how many were copies. */
static int check_views(const char *bin, const cJSON *ref)
{
    t0_error err = {0};
    tb_file *f = tb_open(bin, &err);
    st_model *m = st_open(bin, &err);
    if (!CHECK(f && m)) {
        fprintf(stderr, "  %s\n", err.msg);
        return -1;
    }
    int copies = 0;
    CHECK(tb_count(f) == cJSON_GetArraySize(ref));
    for (const cJSON *it = ref->child; it; it = it->next) {
        const tb_tensor *t = tb_find(f, it->string);
        const cJSON *shape = cJSON_GetObjectItem(it, "shape"), *vals = cJSON_GetObjectItem(it, "values");
        if (!CHECK(t != NULL))
            continue;
        int64_t sh[8];
        int nd = cJSON_GetArraySize(shape), same = nd == t->ndim;
        for (int d = 0; d < nd; d++)
            same &= (sh[d] = (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble) == t->shape[d];
        int n = cJSON_GetArraySize(vals);
        float *got = malloc((size_t)(n ? n : 1) * sizeof *got);
        same &= st_read_f32(m, it->string, nd, sh, got, &err) == 0;
        for (int i = 0; same && i < n; i++)
            same = got[i] == (float)cJSON_GetArrayItem(vals, i)->valuedouble;
        if (!unit_check(same, __FILE__, __LINE__, it->string))
            fprintf(stderr, "  %s %s\n", bin, err.msg);
        copies += t->copied;
        free(got);
    }
    const tb_tensor *x = tb_find(f, "x"), *rows = tb_find(f, "x_rows");
    if (x && rows && !x->copied) /* a narrowed view is in place: 1 row (6 floats) past its storage's start */
        CHECK((const float *)rows->data == (const float *)x->data + 6);
    const tb_tensor *xt = tb_find(f, "x_t"), *perm = tb_find(f, "perm3");
    CHECK(xt && xt->copied && perm && perm->copied);
    st_close(m);
    tb_close(f);
    return copies;
}

static void test_views(void)
{
    size_t n;
    char *json = slurp(FIX "/views.json", &n);
    cJSON *ref = json ? cJSON_Parse(json) : NULL;
    if (!CHECK(ref != NULL))
        return;
    /* torch's own archive: aligned storages, so only the non-contiguous views are copies */
    CHECK(check_views(FIX "/views.bin", ref) == 5); /* x_t, x_col, x_block, h_t, perm3 */
    /* re-zipped by Python: storages at odd offsets are read into memory */
    CHECK(check_views(FIX "/views_unaligned.bin", ref) > 5);
    cJSON_Delete(ref);
    free(json);
}

/* ---- each model: .bin against its safetensors twin ---- */

static const char *const MODELS[] = {"f32_untied", "f32_tied_sharded", "f16_tied", "bf16_untied_sharded",
                                     "bf16_tied", NULL};

static void test_same_bytes(const char *name)
{
    char dir[256], st[256];
    snprintf(dir, sizeof dir, FIX "/%s", name);
    snprintf(st, sizeof st, FIX "/%s.safetensors", name);
    t0_error err = {0};
    st_model *b = st_open(dir, &err), *s = b ? st_open(st, &err) : NULL;
    if (!CHECK(b && s)) {
        fprintf(stderr, "  %s: %s\n", name, err.msg);
        st_close(b);
        return;
    }
    int bad = 0;
    for (int i = 0; i < st_count(s); i++) {
        const st_tensor *x = st_at(s, i), *y = st_find(b, x->name);
        if (!y || x->dtype != y->dtype || x->nbytes != y->nbytes || memcmp(x->data, y->data, x->nbytes)) {
            fprintf(stderr, "  %s: tensor %s differs\n", name, x->name);
            bad++;
        }
    }
    CHECK(bad == 0);
    /* the .bin has the tied names safetensors drops, sharing the embedding's bytes */
    const st_tensor *sh = st_find(b, "shared.weight"), *enc = st_find(b, "encoder.embed_tokens.weight");
    CHECK(sh && enc && sh->data == enc->data && st_count(b) > st_count(s));
    st_close(b);
    st_close(s);
}

/* A directory beside the safetensors twin: config.json and model.safetensors (links). */
static void twin_dir(const char *name, char *out, size_t size)
{
    char src[512];
    snprintf(out, size, "/tmp/t0-torchbin-%d-%s", (int)getpid(), name);
    mkdir(out, 0700);
    char *cwd = getcwd(NULL, 0), link[700];
    snprintf(src, sizeof src, "%s/" FIX "/%s/config.json", cwd, name);
    snprintf(link, sizeof link, "%s/config.json", out);
    CHECK(symlink(src, link) == 0);
    snprintf(src, sizeof src, "%s/" FIX "/%s.safetensors", cwd, name);
    snprintf(link, sizeof link, "%s/model.safetensors", out);
    CHECK(symlink(src, link) == 0);
    free(cwd);
}

static void remove_twin(const char *dir)
{
    char p[700];
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    rmdir(dir);
}

/* Logits of one batch, copied out. */
static float *logits_of(t5_model *m, size_t *n)
{
    static const int32_t enc[] = {5, 17, 99, 3, 1, 42, 7, 1}, dec_in[] = {0, 8, 64, 0, 2, 9},
                         dec_t[] = {8, 64, 1, 2, 9, 1}, one[] = {1, 1, 1, 1, 1, 1, 1, 1},
                         pos[] = {0, 1, 2, 3, 0, 1, 2, 3}, dpos[] = {0, 1, 2, 0, 1, 2};
    t5_batch b = {2, 4, 3, enc, one, pos, dec_t, dec_in, one, dpos, one};
    t5_run run = {0, 0, 1e-4f, 6};
    t0_error err = {0};
    if (!m || t5_model_reserve(m, 2, 4, 3, 0, &err) || t5_forward(m, &b, &run, &err)) {
        fprintf(stderr, "  %s\n", err.msg);
        return NULL;
    }
    *n = (size_t)6 * m->cfg.vocab_size;
    float *out = malloc(*n * sizeof *out);
    memcpy(out, t5_logits(m), *n * sizeof *out);
    return out;
}

static void test_same_logits(const char *name)
{
    char bin[256], twin[256];
    snprintf(bin, sizeof bin, FIX "/%s", name);
    twin_dir(name, twin, sizeof twin);
    t0_error err = {0};
    for (int mapped = 0; mapped < 2; mapped++) {
        t5_model *a = mapped ? t5_model_open_mapped(bin, &err) : t5_model_open(bin, &err);
        t5_model *b = mapped ? t5_model_open_mapped(twin, &err) : t5_model_open(twin, &err);
        size_t na = 0, nb = 0;
        float *la = logits_of(a, &na), *lb = logits_of(b, &nb);
        if (!unit_check(la && lb && na == nb && !memcmp(la, lb, na * sizeof *la), __FILE__, __LINE__, name))
            fprintf(stderr, "  %s (%s): logits differ %s\n", name, mapped ? "mapped" : "loaded", err.msg);
        free(la);
        free(lb);
        t5_model_free(a);
        t5_model_free(b);
    }
    remove_twin(twin);
}

/* ---- the unpickler's bounds, on pickles made here ---- */

static int load_fails_with(const uint8_t *p, size_t n, const char *want)
{
    tp_state_dict sd;
    t0_error err = {0};
    int rc = tp_load(p, n, "x.bin", &sd, &err);
    if (rc == 0)
        tp_free(&sd);
    int ok = rc != 0 && err.status == T0_EINPUT && strstr(err.msg, want);
    if (!ok)
        fprintf(stderr, "  want \"%s\", got: %s\n", want, rc ? err.msg : "(loaded)");
    return ok;
}

static void test_pickle_bounds(void)
{
    size_t n = TP_MAX_STACK + 16;
    uint8_t *p = malloc(3 * (size_t)TP_MAX_OBJECTS);
    char want[64];
    /* more Nones than the stack holds */
    memcpy(p, "\x80\x02", 2);
    memset(p + 2, 'N', n - 3);
    p[n - 1] = '.';
    snprintf(want, sizeof want, "stack deeper than %d entries", TP_MAX_STACK);
    CHECK(load_fails_with(p, n, want));
    /* Nones appended to a list, 1000 at a time: the object bound, whatever the stack */
    size_t k = 2;
    p[k++] = ']';
    while (k < 3 * (size_t)TP_MAX_OBJECTS - 1100) {
        p[k++] = '(';
        memset(p + k, 'N', 1000);
        k += 1000;
        p[k++] = 'e';
    }
    p[k++] = '.';
    snprintf(want, sizeof want, "more than %d objects", TP_MAX_OBJECTS);
    CHECK(load_fails_with(p, k, want));
    /* a dict whose value is a list holding itself twice and the dict */
    static const uint8_t self[] = "\x80\x02}q\x00X\x01\x00\x00\x00" "a]q\x01(h\x01h\x01h\x00" "es.";
    CHECK(load_fails_with(self, sizeof self - 1, "state dict entry a is not a tensor"));
    /* empty input, no STOP, and a persistent id that is not a storage */
    CHECK(load_fails_with((const uint8_t *)"", 0, "truncated"));
    CHECK(load_fails_with((const uint8_t *)"\x80\x02}", 3, "truncated"));
    CHECK(load_fails_with((const uint8_t *)"\x80\x02NQ.", 5, "persistent id is not ('storage'"));
    CHECK(load_fails_with((const uint8_t *)"\x80\x01}.", 4, "pickle protocol 1"));
    /* a valid empty state dict loads, with protocol 4's FRAME and MEMOIZE */
    tp_state_dict sd;
    t0_error err = {0};
    CHECK(tp_load((const uint8_t *)"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00}\x94.", 14, "x", &sd, &err) == 0 &&
          sd.n == 0);
    tp_free(&sd);
    free(p);
}

/* ---- the zip reader: ZIP64 records, built here (torch writes them past 4 GiB) ---- */

static size_t put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return (size_t)bytes;
}

/* One stored entry "a/x" holding "hello", its central sizes and offset in a ZIP64 extra field. */
static size_t zip64_archive(uint8_t *z)
{
    size_t k = 0;
    k += put(z + k, 0x04034b50, 4);
    memset(z + k, 0, 22);
    put(z + k + 22, 3, 2); /* name length */
    k += 26;
    memcpy(z + k, "a/xhello", 8);
    k += 8;
    size_t cd = k;
    k += put(z + k, 0x02014b50, 4);
    memset(z + k, 0, 42);
    put(z + k + 12, tz_crc32((const uint8_t *)"hello", 5), 4);
    put(z + k + 16, 0xffffffffu, 4); /* compressed size */
    put(z + k + 20, 0xffffffffu, 4); /* uncompressed size */
    put(z + k + 24, 3, 2);           /* name */
    put(z + k + 26, 28, 2);          /* extra */
    put(z + k + 38, 0xffffffffu, 4); /* local header offset */
    k += 42;
    memcpy(z + k, "a/x", 3);
    k += 3;
    k += put(z + k, 1, 2);
    k += put(z + k, 24, 2);
    k += put(z + k, 5, 8); /* uncompressed, compressed, offset: in that order */
    k += put(z + k, 5, 8);
    k += put(z + k, 0, 8);
    size_t cd_size = k - cd, e64 = k;
    k += put(z + k, 0x06064b50, 4);
    k += put(z + k, 44, 8);
    k += put(z + k, 0, 4);
    k += put(z + k, 0, 8);
    k += put(z + k, 1, 8);
    k += put(z + k, 1, 8);
    k += put(z + k, cd_size, 8);
    k += put(z + k, cd, 8);
    k += put(z + k, 0x07064b50, 4);
    k += put(z + k, 0, 4);
    k += put(z + k, e64, 8);
    k += put(z + k, 1, 4);
    k += put(z + k, 0x06054b50, 4);
    k += put(z + k, 0, 4);
    k += put(z + k, 0xffff, 2);
    k += put(z + k, 0xffff, 2);
    k += put(z + k, 0xffffffffu, 4);
    k += put(z + k, 0xffffffffu, 4);
    k += put(z + k, 0, 2);
    return k;
}

static void test_zip64(void)
{
    uint8_t z[512];
    size_t n = zip64_archive(z);
    t0_error err = {0};
    tz_archive *a = tz_open(z, n, "z64", &err);
    const tz_entry *e = a ? tz_find(a, "a/x") : NULL;
    if (!CHECK(e && e->stored && e->size == 5 && !memcmp(z + e->offset, "hello", 5)))
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(e && tz_crc32(z + e->offset, 5) == e->crc);
    tz_close(a);
    /* every truncation is an error, never a read past the end */
    int refused = 0;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, z, cut);
        tz_archive *t = tz_open(copy, cut, "cut", &err);
        refused += t == NULL;
        tz_close(t);
        free(copy);
    }
    CHECK(refused == (int)n);
}

int main(void)
{
    test_views();
    for (int i = 0; MODELS[i]; i++)
        test_same_bytes(MODELS[i]);
    test_same_logits("f32_untied");
    test_same_logits("f32_tied_sharded");
    test_same_logits("bf16_tied");
    test_pickle_bounds();
    test_zip64();
    return unit_summary("test_torch_bin");
}
