/* Unit tests of the SentencePiece modules: wire format, UTF-8, trie, normalizer on a
 * trained model's charsmap, Viterbi rules on hand-made vocabularies, decoding, sentinels
 * and tokenizer.json typing. The whole-corpus checks against spm are in tokenize.bats. */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/utf8.h"
#include "spm/spm.h"
#include "spm/spm_idline.h"
#include "spm/spm_records.h"
#include "spm/spm_trie.h"
#include "spm/tokenizer_json.h"
#include "stream/record_copy.h"
#include "unit.h"

/* ---- a tiny protobuf writer, for hand-made models ---- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} pb;

static void pb_varint(pb *p, uint64_t v)
{
    do {
        p->b[p->n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void pb_bytes(pb *p, unsigned field, const void *s, size_t n)
{
    pb_varint(p, field << 3 | 2);
    pb_varint(p, n);
    memcpy(p->b + p->n, s, n);
    p->n += n;
}

static void pb_piece(pb *p, const char *text, float score, int type)
{
    pb m = {.n = 0};
    pb_bytes(&m, 1, text, strlen(text));
    pb_varint(&m, 2 << 3 | 5);
    memcpy(m.b + m.n, &score, 4);
    m.n += 4;
    if (type != T0_SPM_NORMAL) {
        pb_varint(&m, 3 << 3);
        pb_varint(&m, (uint64_t)type);
    }
    pb_bytes(p, 1, m.b, m.n);
}

static void test_wire_format(void)
{
    pb p = {.n = 0};
    pb_piece(&p, "<unk>", 0, T0_SPM_UNKNOWN);
    pb_piece(&p, "</s>", 0, T0_SPM_CONTROL);
    pb_piece(&p, "\xE2\x96\x81", -1, T0_SPM_NORMAL);
    pb_piece(&p, "a", -2, T0_SPM_NORMAL);
    pb trainer = {.n = 0};
    pb_varint(&trainer, 3 << 3); /* model_type unigram */
    pb_varint(&trainer, 1);
    pb_varint(&trainer, 41 << 3); /* bos_id = -1: a 10-byte varint */
    pb_varint(&trainer, (uint64_t)(int64_t)-1);
    pb_varint(&trainer, 999 << 3 | 1); /* unknown fixed64 */
    memset(trainer.b + trainer.n, 0xAB, 8);
    trainer.n += 8;
    pb_varint(&trainer, 998 << 3 | 5); /* unknown fixed32 */
    memset(trainer.b + trainer.n, 0xCD, 4);
    trainer.n += 4;
    pb_bytes(&trainer, 997, "skip me", 7); /* unknown bytes */
    pb_bytes(&p, 2, trainer.b, trainer.n);
    pb norm = {.n = 0};
    pb_varint(&norm, 4 << 3); /* remove_extra_whitespaces = false; the others default true */
    pb_varint(&norm, 0);
    pb_bytes(&p, 3, norm.b, norm.n);
    t0_error err = {0};
    t0_spm *m = t0_spm_from_proto(p.b, p.n, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(m->n_pieces == 4);
    CHECK(m->vocab_size == 104);
    CHECK(m->unk_id == 0 && m->eos_id == 1 && m->pad_id == -1);
    CHECK(m->pieces[3].score == -2.0f);
    CHECK(m->add_dummy_prefix && m->escape_whitespaces && !m->remove_extra_whitespaces);
    CHECK(m->sentinel_id[0] == 103 && m->sentinel_id[99] == 4);
    size_t len;
    CHECK(strcmp(t0_spm_id_to_piece(m, 103, &len), "<extra_id_0>") == 0 && len == 12);
    CHECK(t0_spm_id_to_piece(m, 104, &len) == NULL);
    t0_spm_free(m);

    /* every proper prefix of the model is refused cleanly, or loads (field boundaries) */
    for (size_t n = 0; n < p.n; n++) {
        t0_spm *t = t0_spm_from_proto(p.b, n, &err);
        t0_spm_free(t);
    }
    uint8_t group[] = {0x0b, 0x0c};
    CHECK(t0_spm_from_proto(group, sizeof group, &err) == NULL);
    CHECK(strstr(err.msg, "not a SentencePiece model") != NULL);
}

/* The tokenizer decodes with the library's one decoder (common/utf8.h): spm's rules. */
static size_t utf8_len(const char *s, size_t n)
{
    uint32_t cp;
    size_t len = t0_utf8_decode(s, n, &cp);
    return len;
}

static void test_utf8(void)
{
    uint32_t cp;
    CHECK(t0_utf8_decode("\xE4\xB8\xAD", 3, &cp) == 3 && cp == 0x4E2D);
    CHECK(utf8_len("a", 1) == 1);
    CHECK(utf8_len("\0", 1) == 1);
    CHECK(utf8_len("\xC3\xA9", 2) == 2);
    CHECK(utf8_len("\xC3", 1) == 0);      /* truncated */
    CHECK(utf8_len("\xC0\xAF", 2) == 0);  /* overlong */
    CHECK(utf8_len("\xED\xA0\x80", 3) == 0); /* surrogate */
    CHECK(utf8_len("\xE4\xB8\xAD", 3) == 3);
    CHECK(utf8_len("\xF0\x9F\x98\x80", 4) == 4);
    CHECK(utf8_len("\xF4\x90\x80\x80", 4) == 0); /* > U+10FFFF */
    CHECK(utf8_len("\xFF", 1) == 0);
    CHECK(utf8_len("\x80", 1) == 0);
}

static void test_trie(void)
{
    const char *keys[] = {"a", "ab", "abc", "b", "\xE2\x96\x81", "\xE2\x96\x81" "a"};
    uint32_t lens[] = {1, 2, 3, 1, 3, 4};
    int32_t ids[] = {10, 11, 12, 13, 14, 15};
    t0_error err = {0};
    t0_spm_trie *t = t0_spm_trie_build(keys, lens, ids, 6, &err);
    CHECK(t != NULL);
    int32_t got[8];
    uint32_t glen[8];
    size_t n = t0_spm_trie_prefixes(t, "abcd", 4, got, glen, 8);
    CHECK(n == 3 && got[0] == 10 && got[1] == 11 && got[2] == 12 && glen[2] == 3);
    n = t0_spm_trie_prefixes(t, "ab", 2, got, glen, 8); /* stops at the end of the text */
    CHECK(n == 2);
    n = t0_spm_trie_prefixes(t, "\xE2\x96\x81" "ax", 5, got, glen, 8);
    CHECK(n == 2 && got[0] == 14 && got[1] == 15);
    CHECK(t0_spm_trie_prefixes(t, "zz", 2, got, glen, 8) == 0);
    int32_t id = -1;
    CHECK(t0_spm_trie_longest(t, "abx", 3, &id) == 2 && id == 11);
    t0_spm_trie_free(t);

    /* a wide node (more than the dense threshold of children) */
    char storage[200][2];
    const char *wide[200];
    uint32_t wl[200];
    int32_t wid[200];
    for (int i = 0; i < 200; i++) {
        storage[i][0] = (char)(i + 40);
        wide[i] = storage[i];
        wl[i] = 1;
        wid[i] = i;
    }
    t = t0_spm_trie_build(wide, wl, wid, 200, &err);
    CHECK(t != NULL);
    char c = (char)(40 + 123);
    CHECK(t0_spm_trie_prefixes(t, &c, 1, got, glen, 8) == 1 && got[0] == 123);
    t0_spm_trie_free(t);
}

/* The trie against brute force: random keys over a few byte values (NUL and 0xFF too),
 * random queries; every prefix found, shortest first, and nothing else. */
static void test_trie_random(void)
{
    enum { N = 3000, MAXLEN = 12 };
    static char store[N][MAXLEN];
    static const char *keys[N];
    static uint32_t lens[N];
    static int32_t ids[N];
    static const unsigned char alphabet[] = {0, 1, 'a', 'b', 0x80, 0xE2, 0xFF};
    uint32_t seed = 12345;
    size_t n = 0;
    while (n < N) {
        uint32_t len = 1 + (seed = seed * 1103515245u + 12345u) % MAXLEN;
        for (uint32_t k = 0; k < len; k++)
            store[n][k] = (char)alphabet[((seed = seed * 1103515245u + 12345u) >> 16) % 7];
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = lens[j] == len && memcmp(store[j], store[n], len) == 0;
        if (dup)
            continue;
        keys[n] = store[n];
        lens[n] = len;
        ids[n] = (int32_t)n;
        n++;
    }
    t0_error err = {0};
    t0_spm_trie *t = t0_spm_trie_build(keys, lens, ids, n, &err);
    CHECK(t != NULL);
    if (!t)
        return;
    int bad = 0;
    for (int q = 0; q < 2000; q++) {
        char text[MAXLEN + 4];
        size_t tl = (seed = seed * 1103515245u + 12345u) % sizeof text;
        for (size_t k = 0; k < tl; k++)
            text[k] = (char)alphabet[((seed = seed * 1103515245u + 12345u) >> 16) % 7];
        int32_t got[MAXLEN + 4];
        uint32_t glen[MAXLEN + 4];
        size_t found = t0_spm_trie_prefixes(t, text, tl, got, glen, MAXLEN + 4), want = 0;
        for (size_t len = 1; len <= tl; len++)
            for (size_t j = 0; j < n; j++)
                if (lens[j] == len && memcmp(keys[j], text, len) == 0) {
                    bad += want >= found || got[want] != ids[j] || glen[want] != len;
                    want++;
                }
        bad += want != found;
    }
    CHECK(bad == 0);
    t0_spm_trie_free(t);
}

/* Loads a fixture model (zstd-compressed) from the repository. */
static t0_spm *fixture_model(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/spm/%s.model.zst", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static uint8_t packed[1 << 20];
    size_t n = fread(packed, 1, sizeof packed, f);
    fclose(f);
    unsigned long long size = ZSTD_getFrameContentSize(packed, n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        return NULL;
    uint8_t *raw = malloc(size);
    size_t got = ZSTD_decompress(raw, size, packed, n);
    t0_error err = {0};
    t0_spm *m = ZSTD_isError(got) ? NULL : t0_spm_from_proto(raw, got, &err);
    free(raw);
    return m;
}

static int normalizes_to(const t0_spm *m, const char *in, size_t n, const char *want,
                         size_t want_len)
{
    t0_spm_work w = {0};
    t0_error err = {0};
    int ok = t0_spm_normalize(m, in, n, &w, &err) == 0 && w.len == want_len &&
             memcmp(w.text, want, w.len) == 0;
    if (!ok)
        fprintf(stderr, "normalized '%.*s' to '%s', want '%s'\n", (int)n, in, w.text, want);
    t0_spm_work_free(&w);
    return ok;
}

#define NORM(m, in, want) normalizes_to(m, in, sizeof in - 1, want, sizeof want - 1)

static void test_normalizer(void)
{
    t0_spm *m = fixture_model("t5-1k");
    CHECK(m != NULL);
    if (!m)
        return;
    const char *rep;
    size_t rep_len;
    CHECK(t0_spm_charsmap_match(m, "\xEF\xAC\x81x", 4, &rep, &rep_len) == 3); /* ﬁ -> fi */
    CHECK(rep_len == 2 && memcmp(rep, "fi", 2) == 0);
    CHECK(t0_spm_charsmap_match(m, "a", 1, &rep, &rep_len) == 0);
    CHECK(NORM(m, "  Hello   World  ", "\xE2\x96\x81Hello\xE2\x96\x81World"));
    CHECK(NORM(m, "\xE3\x80\x80x y", "\xE2\x96\x81x\xE2\x96\x81y"));
    CHECK(NORM(m, "\xEF\xAC\x81ne \xE2\x91\xA0 \xEF\xBC\xA1",
               "\xE2\x96\x81" "fine\xE2\x96\x81" "1\xE2\x96\x81" "A"));
    CHECK(NORM(m, "A \xC2\xA8" "B", "\xE2\x96\x81" "A\xE2\x96\x81\xCC\x88" "B"));
    CHECK(NORM(m, "a \x01 b", "\xE2\x96\x81" "a\xE2\x96\x81" "b"));
    CHECK(NORM(m, "\x01\x02", ""));
    CHECK(NORM(m, "   ", ""));
    CHECK(NORM(m, "", ""));
    CHECK(NORM(m, "ab\xFF" "cd", "\xE2\x96\x81" "ab\xEF\xBF\xBD" "cd"));
    CHECK(NORM(m, "\xEF\xBF\xBD", "")); /* a literal U+FFFD is whitespace under nmt_nfkc */
    CHECK(NORM(m, "a\0b", "\xE2\x96\x81" "a\0b"));
    t0_spm_free(m);

    m = fixture_model("raw-1k"); /* no dummy prefix, extra whitespace kept, suffix mode */
    CHECK(m != NULL);
    if (m)
        CHECK(NORM(m, " a  b ", "\xE2\x96\x81" "a\xE2\x96\x81\xE2\x96\x81" "b\xE2\x96\x81"));
    t0_spm_free(m);
}

/* A hand-made model: pieces given as text/score/type. */
typedef struct {
    const char *text;
    float score;
    int type;
} piece_def;

static t0_spm *make_model(const piece_def *defs, int n, int byte_fallback)
{
    t0_error err = {0};
    t0_spm *m = t0_spm_new(&err);
    m->byte_fallback = byte_fallback;
    for (int i = 0; i < n; i++)
        t0_spm_add_piece(m, defs[i].text, strlen(defs[i].text), defs[i].score, defs[i].type, &err);
    if (t0_spm_finish(m, NULL, NULL, NULL, &err) < 0) { /* some tests expect this */
        t0_spm_free(m);
        return NULL;
    }
    return m;
}

static int encodes_to(const t0_spm *m, const char *text, const int32_t *want, size_t n)
{
    t0_spm_work w = {0};
    t0_error err = {0};
    int ok = t0_spm_encode(m, text, strlen(text), &w, &err) == 0 && w.n_ids == n &&
             memcmp(w.ids, want, n * sizeof *want) == 0;
    if (!ok) {
        fprintf(stderr, "'%s' encoded to", text);
        for (size_t i = 0; i < w.n_ids; i++)
            fprintf(stderr, " %d", w.ids[i]);
        fprintf(stderr, "\n");
    }
    t0_spm_work_free(&w);
    return ok;
}

#define ENC(m, text, ...)                                                                     \
    encodes_to(m, text, (const int32_t[]){__VA_ARGS__},                                        \
               sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))

#define U "\xE2\x96\x81"

/* A hand-made vocabulary whose Viterbi choices are worked out by hand below. */
static const piece_def viterbi_defs[] = {
    {"<pad>", 0, T0_SPM_CONTROL}, {"</s>", 0, T0_SPM_CONTROL}, {"<unk>", 0, T0_SPM_UNKNOWN},
    {U, -1, T0_SPM_NORMAL},       {"a", -2, T0_SPM_NORMAL},     {"b", -2, T0_SPM_NORMAL},
    {"ab", -4, T0_SPM_NORMAL},    /* ties with a + b: the longer piece wins */
    {U "a", -3.5f, T0_SPM_NORMAL}, {"<sep>", 0, T0_SPM_USER_DEFINED},
    {"zz", -0.1f, T0_SPM_UNUSED}, /* never chosen */
};

static void test_viterbi(void)
{
    t0_spm *m = make_model(viterbi_defs, sizeof viterbi_defs / sizeof viterbi_defs[0], 0);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(m->min_score == -4.0f);
    CHECK(ENC(m, "ab", 3, 6));                /* ▁ ab, not ▁ a b */
    CHECK(ENC(m, "a", 3, 4));                 /* ▁ a (-3) beats ▁a (-3.5) */
    CHECK(ENC(m, "ccc a", 3, 2, 3, 4));       /* one merged unk */
    CHECK(ENC(m, "c<sep>c", 3, 2, 8, 2));     /* user-defined splits the unks */
    CHECK(ENC(m, "zz", 3, 2));                /* UNUSED piece skipped: unk */
    CHECK(ENC(m, "</s>", 3, 2));              /* control pieces are not matched in text */
    CHECK(ENC(m, "a <extra_id_0> b", 3, 4, m->vocab_size - 1, 3, 5));
    CHECK(ENC(m, "<extra_id_99>", m->vocab_size - 100));
    t0_spm_work w = {0};
    t0_error err = {0};
    const int32_t ids[] = {7, 2, 0, 3, 5, m->vocab_size - 1, 1};
    CHECK(t0_spm_decode(m, ids, 7, &w, &err) == 0);
    CHECK(strcmp(w.text, "a \xE2\x81\x87  b<extra_id_0>") == 0);
    const int32_t bad[] = {m->vocab_size};
    CHECK(t0_spm_decode(m, bad, 1, &w, &err) == -1 && err.status == T0_EINPUT);
    t0_spm_work_free(&w);
    t0_spm_free(m);
}

static int ids_are(const t0_ids *got, const int32_t *want, uint32_t n)
{
    return got->n == n && (n == 0 || memcmp(got->v, want, n * sizeof *want) == 0);
}

/* An example record into a tokens record: inputs without EOS, targets and choices with it,
 * kept last under the limit; the strings are the example's own. */
static void test_example_records(void)
{
    t0_spm *m = make_model(viterbi_defs, sizeof viterbi_defs / sizeof viterbi_defs[0], 0);
    CHECK(m != NULL && m->eos_id == 1);
    if (!m)
        return;
    const int32_t s0 = m->vocab_size - 1; /* <extra_id_0> */
    const char *choices[] = {"ab", "a <extra_id_0>"};
    t0_record e = {.kind = T0_KIND_EXAMPLE, .task = "rte", .template_name = "t", .id = 7, .label = 1,
                   .input = "ab", .target = "a", .choices = choices, .n_choices = 2};
    t0_spm_work w = {0};
    t0_error err = {0};
    t0_record t;
    t0_spm_record_opts o = {.eos = m->eos_id};
    CHECK(t0_spm_tokenize_example(m, &o, &e, &t, &w, &err) == 0);
    CHECK(t.kind == T0_KIND_TOKENS && t.task == e.task && t.template_name == e.template_name);
    CHECK(t.id == 7 && t.label == 1 && t.n_choices == 2);
    CHECK(ids_are(&t.input_ids, (int32_t[]){3, 6}, 2));
    CHECK(ids_are(&t.target_ids, (int32_t[]){3, 4, 1}, 3));
    CHECK(ids_are(&t.choice_ids[0], (int32_t[]){3, 6, 1}, 3));
    CHECK(ids_are(&t.choice_ids[1], (int32_t[]){3, 4, s0, 1}, 4));
    t0_record_free_ids(&t);
    CHECK(t.choice_ids == NULL && t.input_ids.v == NULL);

    o = (t0_spm_record_opts){.eos = m->eos_id, .input_len = 1, .target_len = 2};
    CHECK(t0_spm_tokenize_example(m, &o, &e, &t, &w, &err) == 0);
    CHECK(ids_are(&t.input_ids, (int32_t[]){3}, 1));
    CHECK(ids_are(&t.target_ids, (int32_t[]){3, 1}, 2)); /* cut, EOS still last */
    CHECK(ids_are(&t.choice_ids[1], (int32_t[]){3, 1}, 2));
    t0_record_free_ids(&t);

    /* spm_encode's reading: <extra_id_0> is plain text; no EOS; a document has no target */
    o = (t0_spm_record_opts){.plain = 1, .eos = -1, .no_target = 1};
    CHECK(t0_spm_tokenize_example(m, &o, &e, &t, &w, &err) == 0);
    CHECK(t.target_ids.n == 0 && t.target_ids.v != NULL);
    CHECK(t.choice_ids[1].n > 3 && t.choice_ids[1].v[t.choice_ids[1].n - 1] != 1);
    int sentinel = 0;
    for (uint32_t i = 0; i < t.choice_ids[1].n; i++)
        sentinel |= t.choice_ids[1].v[i] == s0;
    CHECK(!sentinel);
    t0_record_free_ids(&t);
    t0_spm_work_free(&w);
    t0_spm_free(m);
}

/* Id lines: written with single spaces, read back with spaces, tabs and '\r' between ids;
 * anything else, or an id past INT32_MAX, is bad input. */
static void test_id_lines(void)
{
    const int32_t ids[] = {0, -5, 2147483647, 32099};
    t0_buf b = {0};
    t0_spm_work w = {0};
    t0_error err = {0};
    CHECK(t0_spm_put_id_line(&b, ids, 4, &err) == 0 && strcmp(b.p, "0 -5 2147483647 32099") == 0);
    CHECK(t0_spm_parse_id_line(b.p, b.len, &w, &err) == 0 && w.n_ids == 4 && memcmp(w.ids, ids, sizeof ids) == 0);
    t0_spm_work_reset(&w);
    CHECK(t0_spm_parse_id_line(" 7\t8 \r", 6, &w, &err) == 0 && w.n_ids == 2 && w.ids[1] == 8);
    CHECK(t0_spm_parse_id_line("1 2x", 4, &w, &err) == -1 && err.status == T0_EINPUT);
    CHECK(t0_spm_parse_id_line("2147483648", 10, &w, &err) == -1 && err.status == T0_EINPUT);
    CHECK(t0_spm_parse_id_line("-", 1, &w, &err) == -1 && err.status == T0_EINPUT);
    t0_buf_free(&b);
    t0_spm_work_free(&w);
}

static void test_byte_fallback(void)
{
    piece_def defs[3 + 256 + 2];
    static char names[256][8];
    int n = 0;
    defs[n++] = (piece_def){"<unk>", 0, T0_SPM_UNKNOWN};
    defs[n++] = (piece_def){"</s>", 0, T0_SPM_CONTROL};
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof names[b], "<0x%02X>", b);
        defs[n++] = (piece_def){names[b], 0, T0_SPM_BYTE};
    }
    defs[n++] = (piece_def){U, -1, T0_SPM_NORMAL};
    defs[n++] = (piece_def){"a", -1, T0_SPM_NORMAL};
    t0_spm *m = make_model(defs, n, 1);
    CHECK(m != NULL);
    if (!m)
        return;
    /* é = C3 A9: bytes 2 + 0xC3, 2 + 0xA9; each unknown char becomes its bytes */
    CHECK(ENC(m, "a\xC3\xA9\xC3\xA9", 258, 259, 2 + 0xC3, 2 + 0xA9, 2 + 0xC3, 2 + 0xA9));
    t0_spm_work w = {0};
    t0_error err = {0};
    const int32_t ids[] = {259, 2 + 0xC3, 2 + 0xA9, 2 + 0xFF, 2 + 'x'};
    CHECK(t0_spm_decode(m, ids, 5, &w, &err) == 0);
    CHECK(strcmp(w.text, "a\xC3\xA9\xEF\xBF\xBDx") == 0);
    t0_spm_work_free(&w);
    t0_spm_free(m);
    /* byte pieces without byte_fallback, or missing ones, are refused */
    CHECK(make_model(defs, n, 0) == NULL);
    CHECK(make_model(defs, n - 100, 1) == NULL);
}

static void test_bad_vocab(void)
{
    const piece_def dup[] = {{"<unk>", 0, T0_SPM_UNKNOWN}, {"a", -1, 1}, {"a", -2, 1}};
    CHECK(make_model(dup, 3, 0) == NULL);
    const piece_def nounk[] = {{"a", -1, 1}};
    CHECK(make_model(nounk, 1, 0) == NULL);
    const piece_def two[] = {{"<unk>", 0, T0_SPM_UNKNOWN}, {"<u2>", 0, T0_SPM_UNKNOWN}};
    CHECK(make_model(two, 2, 0) == NULL);
    /* no piece to match at all: everything is one unknown */
    const piece_def bare[] = {{"<unk>", 0, T0_SPM_UNKNOWN}, {"</s>", 0, T0_SPM_CONTROL}};
    t0_spm *m = make_model(bare, 2, 0);
    CHECK(m != NULL);
    if (m)
        CHECK(ENC(m, "hello world", 0));
    t0_spm_free(m);
}

static void test_tokenizer_json(void)
{
    static const char json[] =
        "{\"added_tokens\":[{\"id\":0,\"content\":\"<pad>\",\"special\":true},"
        "{\"id\":1,\"content\":\"</s>\",\"special\":true},{\"id\":2,\"content\":\"<unk>\",\"special\":true},"
        "{\"id\":5,\"content\":\"<sep>\",\"special\":false}],"
        "\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\"},"
        "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\"}},"
        "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}]},"
        "\"model\":{\"type\":\"Unigram\",\"unk_id\":2,\"byte_fallback\":false,\"vocab\":["
        "[\"<pad>\",0.0],[\"</s>\",0.0],[\"<unk>\",0.0],[\"\\u2581\",-1.5],[\"a\",-2.0],[\"<sep>\",0.0]]}}";
    t0_error err = {0};
    t0_spm *m = t0_spm_from_tokenizer_json(json, sizeof json - 1, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(m->pieces[0].type == T0_SPM_CONTROL && m->pieces[2].type == T0_SPM_UNKNOWN);
    CHECK(m->pieces[5].type == T0_SPM_USER_DEFINED && m->pieces[4].type == T0_SPM_NORMAL);
    CHECK(m->eos_id == 1 && m->pad_id == 0 && m->vocab_size == 106);
    CHECK(m->charsmap_units == NULL && m->add_dummy_prefix);
    CHECK(ENC(m, "a<sep>", 3, 4, 5));
    t0_spm_free(m);
    CHECK(t0_spm_from_tokenizer_json("{", 1, &err) == NULL);
    static const char nounk[] = "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}";
    CHECK(t0_spm_from_tokenizer_json(nounk, sizeof nounk - 1, &err) == NULL);
    CHECK(strstr(err.msg, "unk") != NULL);
}

int main(void)
{
    test_wire_format();
    test_utf8();
    test_trie();
    test_trie_random();
    test_normalizer();
    test_viterbi();
    test_example_records();
    test_id_lines();
    test_byte_fallback();
    test_bad_vocab();
    test_tokenizer_json();
    return unit_summary("spm");
}
