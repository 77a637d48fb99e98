/* test_safetensors: conversions, write/read round trips, header validation and its
 * messages, sharded directories, and the files Python's safetensors wrote (fixtures). */
#include "common/half.h"
#include "t5/safetensors.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/t0-test-st-XXXXXX";

static char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* A safetensors image: 8-byte length, header, data. */
static size_t make_st(uint8_t *out, const char *header, const void *data, size_t dlen)
{
    uint64_t h = strlen(header);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(h >> (8 * i));
    memcpy(out + 8, header, h);
    if (dlen)
        memcpy(out + 8 + h, data, dlen);
    return 8 + h + dlen;
}

static int msg_has(const t0_error *e, const char *s)
{
    int ok = strstr(e->msg, s) != NULL;
    if (!ok)
        fprintf(stderr, "  message: %s\n  wanted: %s\n", e->msg, s);
    return ok;
}

/* Opens an in-memory image and expects failure with `want` in the message. */
static int open_fails(const char *header, size_t dlen, const char *want)
{
    static uint8_t buf[1 << 16];
    static uint8_t zeros[4096];
    size_t n = make_st(buf, header, zeros, dlen);
    t0_error e = {0};
    st_model *m = st_open_buffer(buf, n, "x.safetensors", &e);
    st_close(m);
    return !m && e.status == T0_EINPUT && msg_has(&e, want);
}

static void test_bf16(void)
{
    CHECK(t0_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(t0_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(t0_f32_to_bf16(-2.0f) == 0xc000);
    /* 1 + 2^-8 is halfway between 1 and 1+2^-7: ties to even (1.0) */
    CHECK(t0_f32_to_bf16(1.00390625f) == 0x3f80);
    /* 1 + 3*2^-8 is halfway between 1+2^-7 and 1+2^-6: ties to even (1+2^-6, mantissa 2) */
    CHECK(t0_f32_to_bf16(1.01171875f) == 0x3f82);
    CHECK(t0_f32_to_bf16(1.0f + 0x1.8p-8f) == 0x3f81); /* above the half: rounds up */
    CHECK(t0_f32_to_bf16(3.4e38f) == 0x7f80); /* past bf16's max: infinity */
    uint16_t nan = t0_f32_to_bf16(NAN);
    CHECK((nan & 0x7f80) == 0x7f80 && (nan & 0x7f));
    int exact = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = t0_bf16_to_f32((uint16_t)h);
        if (!isnan(f) && t0_f32_to_bf16(f) != h)
            exact = 0;
    }
    CHECK(exact);
}

static void test_f16(void)
{
    CHECK(t0_f16_to_f32(0x3c00) == 1.0f);
    CHECK(t0_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(t0_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(t0_f16_to_f32(0x8400) == -0x1p-14f);
    CHECK(isinf(t0_f16_to_f32(0x7c00)));
    CHECK(t0_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(t0_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(t0_f32_to_f16(0x1p-25f) == 0x0000);        /* half of the smallest subnormal: ties to even (0) */
    CHECK(t0_f32_to_f16(0x1.8p-24f) == 0x0002);      /* 1.5 units: ties to even (2) */
    CHECK(t0_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00); /* tie: even */
    CHECK(t0_f32_to_f16(1.0f + 0x3p-11f) == 0x3c02);
    CHECK(t0_f32_to_f16(-0.0f) == 0x8000);
    int exact = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = t0_f16_to_f32((uint16_t)h);
        if (!isnan(f) && t0_f32_to_f16(f) != h)
            exact = 0;
    }
    CHECK(exact);
}

static void fill_seq(float *v, int n, float scale)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)(i - n / 2) * scale;
}

static void test_roundtrip(st_dtype dt, const char *name)
{
    float a[6 * 4], b[5], c[1] = {3.25f};
    fill_seq(a, 24, 0.125f);
    fill_seq(b, 5, 1.5f);
    st_write_tensor t[] = {
        {"encoder.block.0.layer.0.SelfAttention.q.weight", 2, {6, 4}, a},
        {"final", 1, {5}, b},
        {"scalar", 0, {0}, c},
    };
    const char *meta[] = {"format", "pt", NULL};
    t0_error e = {0};
    const char *path = tmp_path(name);
    CHECK(st_write(path, t, 3, dt, meta, &e) == 0);
    st_model *m = st_open(path, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(st_count(m) == 3);
    CHECK(strcmp(st_at(m, 1)->name, "final") == 0);
    CHECK(st_metadata(m, "format") && strcmp(st_metadata(m, "format"), "pt") == 0);
    const st_tensor *q = st_find(m, "encoder.block.0.layer.0.SelfAttention.q.weight");
    CHECK(q && q->dtype == dt && q->ndim == 2 && q->shape[0] == 6 && q->shape[1] == 4);
    CHECK(q && q->nbytes == 24u * (dt == ST_F32 ? 4 : 2));
    float got[24];
    int64_t shape[2] = {6, 4};
    CHECK(st_read_f32(m, q->name, 2, shape, got, &e) == 0);
    CHECK(memcmp(got, a, sizeof a) == 0); /* multiples of 1/8 in range are exact in every dtype */
    if (dt == ST_F32)
        CHECK(q && st_f32_data(q) == q->data && memcmp(q->data, a, sizeof a) == 0); /* F32 used in place */
    else
        CHECK(st_f32_data(q) == NULL);
    int64_t s5 = 5;
    CHECK(st_read_f32(m, "final", 1, &s5, got, &e) == 0 && memcmp(got, b, sizeof b) == 0);
    CHECK(st_read_f32(m, "scalar", 0, NULL, got, &e) == 0 && got[0] == 3.25f);
    st_close(m);
}

static void test_bf16_rounding_written(void)
{
    float v[3] = {1.00390625f, 1.01171875f, 0.1f};
    st_write_tensor t = {"w", 1, {3}, v};
    t0_error e = {0};
    const char *path = tmp_path("round.safetensors");
    CHECK(st_write(path, &t, 1, ST_BF16, NULL, &e) == 0);
    st_model *m = st_open(path, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    const uint8_t *p = st_find(m, "w")->data;
    CHECK(p[0] == 0x80 && p[1] == 0x3f && p[2] == 0x82 && p[3] == 0x3f);
    CHECK(p[4] == 0xcd && p[5] == 0x3d); /* 0.1 = 0x3dcccccd -> 0x3dcd */
    st_close(m);
}

static void test_errors_read(void)
{
    float a[4] = {1, 2, 3, 4};
    st_write_tensor t[] = {{"encoder.block.0.layer.0.SelfAttention.q.weight", 2, {2, 2}, a}};
    t0_error e = {0};
    const char *path = tmp_path("model.safetensors");
    CHECK(st_write(path, t, 1, ST_F32, NULL, &e) == 0);
    st_model *m = st_open(path, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    float out[4];
    int64_t want[2] = {2, 4};
    CHECK(st_read_f32(m, t[0].name, 2, want, out, &e) == -1);
    char expect[512];
    snprintf(expect, sizeof expect,
             "%s: tensor encoder.block.0.layer.0.SelfAttention.q.weight: shape [2, 2], expected [2, 4]", path);
    CHECK(strcmp(e.msg, expect) == 0);
    CHECK(st_read_f32(m, "lm_head.weight", 2, want, out, &e) == -1);
    snprintf(expect, sizeof expect, "%s: missing tensor lm_head.weight", path);
    CHECK(strcmp(e.msg, expect) == 0 && e.status == T0_EINPUT);
    CHECK(st_find(m, "nope") == NULL);
    st_close(m);

    /* I64 reads fail naming the dtype */
    uint8_t buf[256];
    int64_t ints[2] = {1, 2};
    size_t n = make_st(buf, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", ints, 16);
    m = st_open_buffer(buf, n, "ids.safetensors", &e);
    CHECK(m != NULL);
    int64_t two = 2;
    CHECK(m && st_read_f32(m, "ids", 1, &two, out, &e) == -1 &&
          msg_has(&e, "ids.safetensors: tensor ids: dtype I64 not supported"));
    st_close(m);
}

static void test_aliases(void)
{
    float a[4] = {1, 2, 3, 4};
    st_write_tensor t[] = {{"encoder.embed_tokens.weight", 2, {2, 2}, a}};
    t0_error e = {0};
    const char *path = tmp_path("alias.safetensors");
    CHECK(st_write(path, t, 1, ST_BF16, NULL, &e) == 0);
    st_model *m = st_open(path, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(st_find(m, "shared.weight") == NULL);
    const st_tensor *s = st_find_any(m, T5_SHARED_NAMES);
    CHECK(s && strcmp(s->name, "encoder.embed_tokens.weight") == 0);
    float out[4];
    int64_t shape[2] = {2, 2};
    CHECK(st_read_f32_any(m, T5_SHARED_NAMES, 2, shape, out, &e) == 0 && memcmp(out, a, sizeof a) == 0);
    const char *none[] = {"lm_head.weight", "x", NULL};
    CHECK(st_read_f32_any(m, none, 2, shape, out, &e) == -1 && msg_has(&e, "missing tensor lm_head.weight"));
    st_close(m);
}

static void test_bad_headers(void)
{
    t0_error e = {0};
    uint8_t buf[64] = {0};
    CHECK(st_open_buffer(buf, 5, "short.safetensors", &e) == NULL && msg_has(&e, "short.safetensors: truncated"));
    buf[0] = 200; /* header length 200 in a 64-byte file */
    CHECK(st_open_buffer(buf, 64, "long.safetensors", &e) == NULL &&
          msg_has(&e, "long.safetensors: header length 200 runs past the end of the file (64 bytes)"));
    CHECK(open_fails("{\"a\":", 0, "header is not a JSON object"));
    CHECK(open_fails("[1,2]", 0, "header is not a JSON object"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8,
                     "tensor w: data_offsets [0, 16] past the end of the data (8 bytes; file truncated?)"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 16,
                     "tensor w: data_offsets [0, 8] hold 8 bytes, F32 [2, 2] needs 16"));
    CHECK(open_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                     16, "tensors a and b overlap"));
    CHECK(open_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[2,2]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                     16, "tensors a and b overlap"));
    CHECK(open_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                     8, "tensor a appears twice"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                     "tensor w: unknown dtype \"Q7\""));
    CHECK(open_fails("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor w: no dtype"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                     "tensor w: shape entry 0 is not a non-negative integer"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8,
                     "tensor w: shape entry 0"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8,
                     "tensor w: shape too large"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
                     "tensor w: data_offsets must be [begin, end]"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor w: data_offsets must be"));
    CHECK(open_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 8,
                     "tensor w: 9 dimensions"));
    CHECK(open_fails("{\"__metadata__\":{\"format\":1}}", 0, "__metadata__ value of format is not a string"));
    CHECK(open_fails("{\"w\":[1]}", 0, "tensor w: entry is not an object"));

    /* a valid header with __metadata__ and a zero-size tensor opens */
    _Alignas(8) uint8_t img[256];
    uint8_t data[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};
    size_t n = make_st(img,
                       "{\"__metadata__\":{\"format\":\"pt\"},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],"
                       "\"data_offsets\":[0,0]},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ",
                       data, 8);
    st_model *m = st_open_buffer(img, n, "ok", &e);
    CHECK(m != NULL && st_count(m) == 2);
    CHECK(m && st_f32_data(st_find(m, "w")) == NULL); /* 8 + 142-byte header: data at 150, misaligned */
    float out[2];
    int64_t two = 2;
    CHECK(m && st_read_f32(m, "w", 1, &two, out, &e) == 0 && out[0] == 1.0f && out[1] == 2.0f);
    st_close(m);
}

static void test_truncated_file(void)
{
    float a[64];
    fill_seq(a, 64, 1.0f);
    st_write_tensor t = {"big", 1, {64}, a};
    t0_error e = {0};
    const char *path = tmp_path("trunc.safetensors");
    CHECK(st_write(path, &t, 1, ST_F32, NULL, &e) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size - 10) == 0);
    CHECK(st_open(path, &e) == NULL && msg_has(&e, "tensor big: data_offsets [0, 256] past the end of the data"));
    CHECK(truncate(path, 20) == 0);
    CHECK(st_open(path, &e) == NULL && msg_has(&e, "runs past the end of the file (20 bytes)"));
    CHECK(st_open(tmp_path("absent.safetensors"), &e) == NULL && msg_has(&e, "No such file"));
}

static void write_shard(const char *name, const char *tname, float v)
{
    float a[3] = {v, v + 1, v + 2};
    st_write_tensor t = {tname, 1, {3}, a};
    t0_error e = {0};
    CHECK(st_write(tmp_path(name), &t, 1, ST_F32, NULL, &e) == 0);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_sharded_dir(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/sharded", tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    write_shard("sharded/a.safetensors", "x", 1);
    write_shard("sharded/b.safetensors", "y", 10);
    write_text(tmp_path("sharded/model.safetensors.index.json"),
               "{\"metadata\":{\"total_size\":24},\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"b.safetensors\"}}");
    t0_error e = {0};
    st_model *m = st_open(dir, &e);
    CHECK(m != NULL);
    float out[3];
    int64_t three = 3;
    CHECK(m && st_count(m) == 2);
    CHECK(m && st_read_f32(m, "y", 1, &three, out, &e) == 0 && out[0] == 10 && out[2] == 12);
    CHECK(m && st_read_f32(m, "x", 1, &three, out, &e) == 0 && out[1] == 2);
    st_close(m);

    write_text(tmp_path("sharded/model.safetensors.index.json"),
               "{\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"a.safetensors\"}}");
    CHECK(st_open(dir, &e) == NULL && msg_has(&e, "tensor y: not in shard a.safetensors"));
    write_text(tmp_path("sharded/model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"../a.safetensors\"}}");
    CHECK(st_open(dir, &e) == NULL && msg_has(&e, "weight_map entry x: expected a shard file name"));
    write_text(tmp_path("sharded/model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"c.safetensors\"}}");
    CHECK(st_open(dir, &e) == NULL && msg_has(&e, "c.safetensors: No such file"));
    write_text(tmp_path("sharded/model.safetensors.index.json"), "{\"weight_map\":");
    CHECK(st_open(dir, &e) == NULL && msg_has(&e, "model.safetensors.index.json: malformed JSON"));

    /* a directory with a single model.safetensors prefers it */
    write_shard("sharded/model.safetensors", "z", 5);
    m = st_open(dir, &e);
    CHECK(m && st_count(m) == 1 && st_find(m, "z"));
    st_close(m);
    char empty[300];
    snprintf(empty, sizeof empty, "%s/empty", tmpdir);
    CHECK(mkdir(empty, 0755) == 0);
    CHECK(st_open(empty, &e) == NULL && msg_has(&e, "no model.safetensors or pytorch_model.bin (or their .index.json)"));
}

/* Files written by Python's safetensors (tests/reference/fixtures-modelio.sh): each X.safetensors
 * beside X.f32, the raw little-endian float32 values of every tensor in sorted-name order. */
static void test_python_fixture(const char *base, st_dtype want_dtype)
{
    char st_path[512], raw_path[512];
    snprintf(st_path, sizeof st_path, "tests/fixtures/st/%s", base);
    snprintf(raw_path, sizeof raw_path, "tests/fixtures/st/%s.f32", base);
    if (access(raw_path, R_OK)) { /* sharded fixtures are a directory: the raw file is beside it */
        fprintf(stderr, "missing fixture %s\n", raw_path);
        CHECK(0);
        return;
    }
    t0_error e = {0};
    st_model *m = st_open(st_path, &e);
    CHECK(m != NULL);
    if (!m) {
        fprintf(stderr, "  %s\n", e.msg);
        return;
    }
    FILE *f = fopen(raw_path, "rb");
    CHECK(f != NULL);
    /* sorted names: st's by-name order is not public, so sort here */
    int n = st_count(m);
    const st_tensor **v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = st_at(m, i);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(v[j - 1]->name, v[j]->name) > 0; j--) {
            const st_tensor *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    int all_same = 1, dtypes_ok = 1;
    for (int i = 0; f && i < n; i++) {
        size_t count = 1;
        for (int d = 0; d < v[i]->ndim; d++)
            count *= (size_t)v[i]->shape[d];
        float *got = malloc(count * sizeof *got + 4), *want = malloc(count * sizeof *want + 4);
        if (st_read_f32(m, v[i]->name, v[i]->ndim, v[i]->shape, got, &e) ||
            fread(want, 4, count, f) != count || memcmp(got, want, count * 4))
            all_same = 0;
        if (v[i]->dtype != want_dtype)
            dtypes_ok = 0;
        free(got);
        free(want);
    }
    CHECK(all_same);
    CHECK(dtypes_ok);
    CHECK(f && fgetc(f) == EOF); /* every value accounted for */
    if (f)
        fclose(f);
    free(v);
    st_close(m);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_bf16();
    test_f16();
    test_roundtrip(ST_F32, "f32.safetensors");
    test_roundtrip(ST_BF16, "bf16.safetensors");
    test_roundtrip(ST_F16, "f16.safetensors");
    test_bf16_rounding_written();
    test_errors_read();
    test_aliases();
    test_bad_headers();
    test_truncated_file();
    test_sharded_dir();
    test_python_fixture("f32.safetensors", ST_F32);
    test_python_fixture("f16.safetensors", ST_F16);
    test_python_fixture("bf16.safetensors", ST_BF16);
    test_python_fixture("sharded", ST_F32);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return unit_summary("test_safetensors");
}
