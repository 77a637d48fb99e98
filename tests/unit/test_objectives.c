/* T5's pretraining objectives: the length arithmetic against the Python/float32 reference
 * (tests/fixtures/objectives/spans.tsv), sentinel placement, every id back in its place,
 * span-length statistics against their exact distribution, the prefix split, seeds. */
#include <stdlib.h>
#include <unistd.h>

#include "stream/stream.h"
#include "train/objectives.h"
#include "train/pack.h"
#include "unit.h"

#define SENTINEL 32099 /* T5's <extra_id_0> */

static void test_fixture(void)
{
    FILE *f = fopen("tests/fixtures/objectives/spans.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char kind[16];
    double density, mean;
    unsigned n, a, b, lines = 0, bad = 0;
    while (fscanf(f, "%15s %lf %lf %u %u %u", kind, &density, &mean, &n, &a, &b) == 6) {
        uint32_t x, y;
        t0_error err = {0};
        if (strcmp(kind, "helper") == 0)
            bad += t0_span_lengths(n, density, mean, &x, &y, &err) != 0 || x != a || y != b;
        else
            t0_span_counts(n, density, mean, &x, &y), bad += x != a || y != b;
        if (bad == 1 && lines < 100000) {
            fprintf(stderr, "  %s %g %g %u: want %u %u, got %u %u\n", kind, density, mean, n, a, b, x, y);
            lines = 100000;
        }
        lines++;
    }
    fclose(f);
    CHECK(lines > 7000);
    CHECK(bad == 0);
}

static void test_t5_lengths(void)
{
    uint32_t tokens, targets;
    t0_error err = {0};
    CHECK(t0_span_lengths(512, 0.15, 3, &tokens, &targets, &err) == 0);
    CHECK(tokens == 568 && targets == 114); /* T5's C4 span corruption: 568 ids -> 512 / 114 */
    CHECK(t0_span_lengths(1, 0.15, 3, &tokens, &targets, &err) != 0);
}

/* Puts the target's spans back at the input's sentinels; 0 when that gives ids[0..n),
 * the sentinels count down from SENTINEL in order and both end with one EOS. */
static int rebuilt(const int32_t *ids, uint32_t n, const t0_id_buf *in, const t0_id_buf *tg)
{
    if (!in->n || !tg->n || in->v[in->n - 1] != T0_EOS_ID || tg->v[tg->n - 1] != T0_EOS_ID)
        return 0;
    size_t out = 0, t = 0;
    int32_t next = SENTINEL;
    for (size_t i = 0; i + 1 < in->n; i++) {
        int32_t id = in->v[i];
        if (id > SENTINEL - 100) {
            if (id != next || t >= tg->n || tg->v[t] != id)
                return 0;
            next--;
            for (t++; t + 1 < tg->n && tg->v[t] <= SENTINEL - 100; t++)
                if (out >= n || ids[out++] != tg->v[t])
                    return 0;
        } else if (out >= n || ids[out++] != id) {
            return 0;
        }
    }
    /* sentinels in the target that the input has not (n = 1: the target's lone sentinel) */
    while (t + 1 < tg->n && tg->v[t] == next)
        t++, next--;
    return out == n && t + 1 == tg->n;
}

static void test_span_corrupt(void)
{
    int32_t ids[700];
    for (int i = 0; i < 700; i++)
        ids[i] = 100 + i;
    t0_id_buf in = {0}, tg = {0};
    t0_error err = {0};
    uint64_t rng = 7;
    int ok = 1, lengths = 1;
    for (uint32_t n = 1; n <= 700; n++) {
        CHECK(t0_span_corrupt(ids, n, 0.15, 3, SENTINEL, &rng, &in, &tg, &err) == 0);
        ok &= rebuilt(ids, n, &in, &tg);
        uint32_t k = 1, s = 1;
        if (n >= 2)
            t0_span_counts(n, 0.15, 3, &k, &s);
        /* input: non-noise + a sentinel a span + EOS; target: a sentinel a span + noise + EOS */
        lengths &= n < 2 ? in.n == 2 && tg.n == 2 : in.n == n - k + s + 1 && tg.n == k + s + 1;
    }
    CHECK(ok);
    CHECK(lengths);
    /* the segment T5 cuts for 512: exactly 512 and 114 */
    CHECK(t0_span_corrupt(ids, 568, 0.15, 3, SENTINEL, &rng, &in, &tg, &err) == 0);
    CHECK(in.n == 512 && tg.n == 114);
    CHECK(tg.v[0] == SENTINEL && in.v[510] == SENTINEL - 27); /* a noise span ends the segment */
    /* one id: t5's mask of 2 cut back to 1: [id, EOS] and [<extra_id_0>, EOS] */
    CHECK(t0_span_corrupt(ids, 1, 0.15, 3, SENTINEL, &rng, &in, &tg, &err) == 0);
    CHECK(in.n == 2 && in.v[0] == 100 && tg.n == 2 && tg.v[0] == SENTINEL);
    free(in.v);
    free(tg.v);
}

/* Noise span lengths over many 568-id segments: each segment has 85 noise ids in 28 spans
 * (mean 3.04, density 0.1496); a split of 85 into 28 non-empty parts, all equally likely,
 * has P(a span is 1 long) = (k-1)/(n-1) = 27/84 and P(2) = (k-1)(n-k)/((n-1)(n-2)) = 27 * 57 / (84 * 83). 4,000 segments give
 * 112,000 spans: the standard error of a frequency near 0.3 is 0.0014; allowed 0.006. */
static void test_span_statistics(void)
{
    int32_t ids[568];
    for (int i = 0; i < 568; i++)
        ids[i] = 5 + i;
    t0_id_buf in = {0}, tg = {0};
    t0_error err = {0};
    uint64_t rng = 1;
    double spans = 0, noise = 0, ones = 0, twos = 0, first_noise = 0;
    for (int seg = 0; seg < 4000; seg++) {
        CHECK(t0_span_corrupt(ids, 568, 0.15, 3, SENTINEL, &rng, &in, &tg, &err) == 0);
        uint32_t len = 0;
        first_noise += in.v[0] == SENTINEL;
        for (size_t t = 1; t < tg.n; t++) {
            if (tg.v[t] > SENTINEL - 100 || tg.v[t] == T0_EOS_ID) {
                spans++, noise += len, ones += len == 1, twos += len == 2;
                len = 0;
            } else {
                len++;
            }
        }
    }
    CHECK(fabs(noise / spans - 85.0 / 28) < 1e-9);
    CHECK(fabs(noise / (4000.0 * 568) - 85.0 / 568) < 1e-9);
    CHECK(fabs(ones / spans - 27.0 / 84) < 0.006);
    CHECK(fabs(twos / spans - 27.0 * 57 / (84 * 83)) < 0.006);
    CHECK(first_noise == 0); /* a segment starts with non-noise */
    free(in.v);
    free(tg.v);
}

/* Every way to split 5 items into 2 non-empty segments is equally likely: 4 ways, 1/4 each
 * over 40,000 draws (standard error 0.0022; allowed 0.01). */
static void test_segmentation(void)
{
    uint64_t rng = 3;
    int count[5] = {0};
    uint32_t len[2];
    for (int i = 0; i < 40000; i++) {
        t0_random_segmentation(5, 2, &rng, len);
        count[len[0]]++;
    }
    CHECK(count[0] == 0);
    for (int k = 1; k <= 4; k++)
        CHECK(fabs(count[k] / 40000.0 - 0.25) < 0.01);
    uint32_t all[7];
    t0_random_segmentation(7, 7, &rng, all);
    int ones = 1;
    for (int k = 0; k < 7; k++)
        ones &= all[k] == 1;
    CHECK(ones);
}

/* Prefix LM: the input is a prefix of 1..n-1 ids, uniform; input + target = the segment. */
static void test_prefix_lm(void)
{
    int32_t ids[10] = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    t0_id_buf in = {0}, tg = {0};
    t0_error err = {0};
    uint64_t rng = 5;
    int count[10] = {0}, whole = 1;
    for (int i = 0; i < 45000; i++) {
        CHECK(t0_prefix_lm(ids, 10, &rng, &in, &tg, &err) == 0);
        count[in.n - 1]++;
        whole &= in.v[in.n - 1] == T0_EOS_ID && tg.v[tg.n - 1] == T0_EOS_ID && in.n + tg.n == 12 &&
                 memcmp(in.v, ids, (in.n - 1) * sizeof *ids) == 0 &&
                 memcmp(tg.v, ids + in.n - 1, (tg.n - 1) * sizeof *ids) == 0;
    }
    CHECK(whole);
    CHECK(count[0] == 0);
    for (int k = 1; k <= 9; k++) /* 1/9 each: standard error 0.0015, allowed 0.007 */
        CHECK(fabs(count[k] / 45000.0 - 1.0 / 9) < 0.007);
    CHECK(t0_prefix_lm(ids, 1, &rng, &in, &tg, &err) == 0);
    CHECK(in.n == 1 && tg.n == 2 && tg.v[0] == 11); /* one id: all target */
    free(in.v);
    free(tg.v);
}

static void test_same_seed(void)
{
    int32_t ids[300];
    for (int i = 0; i < 300; i++)
        ids[i] = 3 + i;
    t0_id_buf a = {0}, b = {0}, c = {0}, d = {0};
    t0_error err = {0};
    uint64_t r1 = 42, r2 = 42, r3 = 43;
    CHECK(t0_span_corrupt(ids, 300, 0.15, 3, SENTINEL, &r1, &a, &b, &err) == 0);
    CHECK(t0_span_corrupt(ids, 300, 0.15, 3, SENTINEL, &r2, &c, &d, &err) == 0);
    CHECK(a.n == c.n && memcmp(a.v, c.v, a.n * sizeof *a.v) == 0);
    CHECK(b.n == d.n && memcmp(b.v, d.v, b.n * sizeof *b.v) == 0);
    CHECK(t0_span_corrupt(ids, 300, 0.15, 3, SENTINEL, &r3, &c, &d, &err) == 0);
    CHECK(a.n != c.n || memcmp(a.v, c.v, a.n * sizeof *a.v) != 0);
    free(a.v), free(b.v), free(c.v), free(d.v);
}

/* A document over 65,536 ids keeps one of its 65,536-id chunks, each as likely
 * (select_random_chunk): a 70,000-id document (input 60,000 + target 10,000 with its EOS)
 * gives ids 0..65535 or 65536..69999, whole, in ~half of 40 draws each. Through a mixture
 * and the prefix LM with segments longer than a chunk, so a chunk is one example. */
static void test_long_document(void)
{
    char dir[] = "/tmp/t0-test-objectives-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/doc.t0", dir);
    int32_t *ids = malloc(70001 * sizeof *ids);
    for (int i = 0; i < 70000; i++)
        ids[i] = 3 + i;
    ids[70000] = T0_EOS_ID;
    t0_error err = {0};
    t0_writer *w = t0_writer_open(path, &err);
    t0_record r = {.kind = T0_KIND_TOKENS, .task = "doc", .template_name = "", .input_ids = {ids, 60000},
                   .target_ids = {ids + 60000, 10001}, .label = -1};
    CHECK(w && t0_writer_write(w, &r, &err) == 0 && t0_writer_close(w, &err) == 0);
    t0_mix_task task = {.name = "doc", .path = path, .rate = 1};
    t0_mixture *m = t0_mixture_open(&task, 1, 1, 1, &err);
    t0_objective_opts o = {.kind = T0_OBJECTIVE_PREFIX_LM, .input_len = 100000, .target_len = 100000,
                           .vocab_size = 32100, .seed = 3, .documents = 40};
    t0_objective *ob = m ? t0_objective_open(&o, m, &err) : NULL;
    CHECK(ob != NULL);
    int first = 0, last = 0, whole = 1, got;
    t0_mix_example ex;
    while (ob && (got = t0_objective_next(ob, &ex, &err)) == 1) {
        uint32_t n = ex.n_input + ex.n_target - 2; /* less the two EOS */
        int32_t start = ex.n_input > 1 ? ex.input[0] : ex.target[0];
        first += start == 3, last += start == 3 + 65536;
        whole &= n == (start == 3 ? 65536u : 4464u) && (ex.n_target < 2 || ex.target[ex.n_target - 2] == start + (int32_t)n - 1);
    }
    CHECK(ob && got == 0);
    CHECK(first + last == 40 && first >= 8 && last >= 8); /* P(outside) < 1e-4 */
    CHECK(whole);
    t0_objective_close(ob);
    t0_mixture_close(m);
    free(ids);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_fixture();
    test_t5_lengths();
    test_span_corrupt();
    test_span_statistics();
    test_segmentation();
    test_prefix_lm();
    test_same_seed();
    test_long_document();
    return unit_summary("test_objectives");
}
