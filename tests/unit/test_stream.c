/* Record streams in memory: every kind round-trips field for field, every cut and
 * every flipped byte of a small stream is an error, and kind checks name the maker. */
#include <stdlib.h>

#include "common/utf8.h"
#include "stream/record_copy.h"
#include "stream/stream.h"
#include "unit.h"

static int32_t feat[T0_BATCH_FEATURES][6];

static int write_records(FILE *f)
{
    t0_error err = {0};
    t0_writer *w = t0_writer_open_file(f, "mem", &err);
    const char *choices[] = {"no", "yes", ""};
    int32_t a[] = {1, -2, 2147483647}, b[] = {7, 1};
    t0_ids cids[] = {{a, 3}, {b, 2}};
    double scores[] = {-1.5, -0.25};
    t0_record ex = {.kind = T0_KIND_EXAMPLE, .task = "imdb", .template_name = "t", .id = 1ull << 40,
                    .input = "caf\xc3\xa9", .target = "yes", .choices = choices, .n_choices = 3, .label = 1};
    t0_record tok = {.kind = T0_KIND_TOKENS, .task = "x", .template_name = "", .input_ids = {a, 3},
                     .target_ids = {b, 2}, .choice_ids = cids, .n_choices = 2, .label = -1};
    t0_record sc = {.kind = T0_KIND_SCORE, .task = "rte", .template_name = "p", .scores = scores,
                    .n_choices = 2, .pred = 1, .label = 0};
    t0_record bat = {.kind = T0_KIND_BATCH, .rows = 2, .enc_len = 3, .dec_len = 3};
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        for (int i = 0; i < 6; i++)
            feat[f][i] = f * 100 + i;
        bat.feature[f] = feat[f];
    }
    int rc = !w || t0_writer_write(w, &ex, &err) || t0_writer_write(w, &tok, &err) ||
             t0_writer_write(w, &sc, &err) || t0_writer_write(w, &bat, &err);
    if (w)
        rc |= t0_writer_close(w, &err);
    return rc;
}

static void check_roundtrip(FILE *f)
{
    t0_error err = {0};
    rewind(f);
    t0_reader *r = t0_reader_open_file(f, "mem", &err);
    t0_record rec;
    CHECK(t0_reader_next(r, &rec, &err) == 1);
    CHECK(rec.kind == T0_KIND_EXAMPLE && strcmp(rec.task, "imdb") == 0 && rec.id == 1ull << 40);
    CHECK(strcmp(rec.input, "caf\xc3\xa9") == 0 && rec.n_choices == 3 && rec.label == 1);
    CHECK(strcmp(rec.choices[1], "yes") == 0 && strcmp(rec.choices[2], "") == 0);
    CHECK(t0_reader_expect(r, &rec, T0_KIND_TOKENS, &err) == -1);
    CHECK(strcmp(err.msg, "mem: record 1: expected tokens, got example (run t0-tokenize first)") == 0);
    CHECK(t0_reader_next(r, &rec, &err) == 1);
    CHECK(rec.kind == T0_KIND_TOKENS && rec.input_ids.n == 3 && rec.input_ids.v[1] == -2);
    CHECK(rec.input_ids.v[2] == 2147483647 && rec.choice_ids[1].n == 2 && rec.choice_ids[1].v[0] == 7);
    CHECK(t0_reader_next(r, &rec, &err) == 1);
    CHECK(rec.kind == T0_KIND_SCORE && rec.scores[0] == -1.5 && rec.scores[1] == -0.25 && rec.pred == 1);
    CHECK(t0_reader_next(r, &rec, &err) == 1);
    CHECK(rec.kind == T0_KIND_BATCH && rec.rows == 2 && rec.enc_len == 3);
    CHECK(rec.feature[T0_DEC_LOSS_WEIGHTS][5] == 705 && rec.feature[0][0] == 0);
    CHECK(t0_reader_next(r, &rec, &err) == 0);
    CHECK(t0_reader_count(r) == 4);
    t0_reader_close(r);
}

/* Every prefix shorter than the whole stream, and every single flipped byte, must fail. */
static void check_damage(FILE *f)
{
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *bytes = malloc((size_t)size);
    rewind(f);
    CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size);
    int undetected_cuts = 0, undetected_flips = 0;
    for (long n = 0; n <= size; n++) {
        for (int flip = 0; flip < 2; flip++) {
            if (flip && n == size)
                continue;
            if (flip)
                bytes[n] ^= 0x20;
            FILE *m = fmemopen(bytes, flip ? (size_t)size : (size_t)n ? (size_t)n : 1, "rb");
            if (!flip && n == 0) { /* fmemopen cannot open size 0: read from an empty tmpfile */
                fclose(m);
                m = tmpfile();
            }
            t0_error err = {0};
            t0_reader *r = t0_reader_open_file(m, "mem", &err);
            t0_record rec;
            int rc;
            while ((rc = t0_reader_next(r, &rec, &err)) > 0)
                ;
            if (rc == 0 && (flip || n < size))
                flip ? undetected_flips++ : undetected_cuts++;
            if (rc == 0 && !flip && n == size)
                CHECK(t0_reader_count(r) == 4);
            if (rc < 0)
                CHECK(strncmp(err.msg, "mem: record ", 12) == 0);
            t0_reader_close(r);
            fclose(m);
            if (flip)
                bytes[n] ^= 0x20;
        }
    }
    CHECK(undetected_cuts == 0);
    CHECK(undetected_flips == 0);
    free(bytes);
}

static void check_invalid_records(void)
{
    t0_error err = {0};
    uint8_t *out;
    size_t n;
    const char *bad_utf8 = "a\xff";
    t0_record ex = {.kind = T0_KIND_EXAMPLE, .task = bad_utf8, .label = -1};
    CHECK(t0_record_encode(&ex, &out, &n, &err) == -1);
    CHECK(strcmp(err.msg, "task: invalid UTF-8 at byte offset 1") == 0);
    ex.task = "ok";
    ex.label = 0;
    CHECK(t0_record_encode(&ex, &out, &n, &err) == -1);
    CHECK(strcmp(err.msg, "label 0 is not -1 or an index into 0 choices") == 0);
}

/* The word-at-a-time ASCII path must still find a bad byte at every position. */
static void check_text_positions(void)
{
    char text[40];
    for (size_t at = 0; at < 32; at++) {
        for (int bad = 0; bad < 3; bad++) {
            memset(text, 'a', sizeof text);
            text[at] = bad == 0 ? '\0' : bad == 1 ? '\xff' : '\x80';
            t0_error err = {0};
            CHECK(t0_check_text(text, 33, "t", &err) == -1);
            char want[64];
            snprintf(want, sizeof want, bad ? "t: invalid UTF-8 at byte offset %zu" : "t: NUL byte at offset %zu", at);
            CHECK(strcmp(err.msg, want) == 0);
        }
    }
    memset(text, 'a', sizeof text);
    memcpy(text + 7, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9); /* é 日 😀 across word edges */
    CHECK(t0_check_text(text, sizeof text, "t", NULL) == 0);
}

/* A copied example owns every string: changing the source leaves the copy as it was;
 * NULL strings become "". */
static void check_example_copy(void)
{
    char input[] = "premise", choice[] = "yes";
    const char *choices[] = {choice, "no"};
    t0_record src = {.kind = T0_KIND_EXAMPLE, .task = "rte", .template_name = NULL, .id = 3,
                     .label = 0, .input = input, .target = "yes", .choices = choices, .n_choices = 2};
    t0_record copy;
    t0_error err = {0};
    CHECK(t0_record_copy_example(&copy, &src, &err) == 0);
    input[0] = 'P', choice[0] = 'Y';
    CHECK(copy.kind == T0_KIND_EXAMPLE && copy.id == 3 && copy.label == 0 && copy.n_choices == 2);
    CHECK(strcmp(copy.task, "rte") == 0 && copy.task != src.task);
    CHECK(strcmp(copy.template_name, "") == 0);
    CHECK(strcmp(copy.input, "premise") == 0 && strcmp(copy.target, "yes") == 0);
    CHECK(strcmp(copy.choices[0], "yes") == 0 && strcmp(copy.choices[1], "no") == 0);
    t0_record_free_example(&copy);
    CHECK(copy.input == NULL && copy.choices == NULL && copy.n_choices == 0);
}

int main(void)
{
    check_text_positions();
    FILE *f = tmpfile();
    CHECK(write_records(f) == 0);
    check_roundtrip(f);
    check_damage(f);
    fclose(f);
    check_invalid_records();
    check_example_copy();
    return unit_summary("test_stream");
}
