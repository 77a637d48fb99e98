/* Packing and mixing: seqio's documented packed example and shifted decoder inputs,
 * next-fit rows, truncation keeping EOS, --no-pack rows, T0's capped rates, mixture
 * files (file:line in errors), passes that yield every example exactly once, and the
 * model reading a packed row as it reads its examples alone. */
#include <stdlib.h>
#include <unistd.h>

#include "stream/stream.h"
#include "t5/t5_init.h"
#include "t5/t5_model.h"
#include "train/mixture.h"
#include "train/pack.h"
#include "unit.h"

static int same(const int32_t *got, const int32_t *want, int n)
{
    return memcmp(got, want, (size_t)n * sizeof *got) == 0;
}

#define ADD(p, in, tg) t0_packer_add(p, in, sizeof in / sizeof *in, tg, sizeof tg / sizeof *tg)

/* seqio's trim_and_pack_dataset docstring example (inputs and targets of two examples). */
static void test_seqio_example(void)
{
    t0_packer p;
    t0_error err = {0};
    CHECK(t0_packer_init(&p, 1, 10, 10, 0, &err) == 0);
    int32_t in1[] = {8, 7, 1}, tg1[] = {4, 1}, in2[] = {2, 3, 4, 1}, tg2[] = {5, 6, 1};
    ADD(&p, in1, tg1);
    CHECK(t0_packer_fits(&p, 4, 3));
    ADD(&p, in2, tg2);
    t0_record rec;
    t0_packer_batch(&p, &rec);
    int32_t **f = rec.feature;
    CHECK(same(f[T0_ENC_INPUT_TOKENS], (int32_t[]){8, 7, 1, 2, 3, 4, 1, 0, 0, 0}, 10));
    CHECK(same(f[T0_ENC_SEGMENT_IDS], (int32_t[]){1, 1, 1, 2, 2, 2, 2, 0, 0, 0}, 10));
    CHECK(same(f[T0_ENC_POSITIONS], (int32_t[]){0, 1, 2, 0, 1, 2, 3, 0, 0, 0}, 10));
    CHECK(same(f[T0_DEC_TARGET_TOKENS], (int32_t[]){4, 1, 5, 6, 1, 0, 0, 0, 0, 0}, 10));
    CHECK(same(f[T0_DEC_SEGMENT_IDS], (int32_t[]){1, 1, 2, 2, 2, 0, 0, 0, 0, 0}, 10));
    CHECK(same(f[T0_DEC_POSITIONS], (int32_t[]){0, 1, 0, 1, 2, 0, 0, 0, 0, 0}, 10));
    CHECK(same(f[T0_DEC_INPUT_TOKENS], (int32_t[]){0, 4, 0, 5, 6, 0, 0, 0, 0, 0}, 10));
    CHECK(same(f[T0_DEC_LOSS_WEIGHTS], (int32_t[]){1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, 10));
    CHECK(p.batches == 1 && p.rows_out == 1 && p.enc_tokens == 7 && p.dec_tokens == 5);
    t0_packer_free(&p);
}

/* seqio's make_autoregressive_inputs docstring: targets of three packed examples. */
static void test_shift_right(void)
{
    t0_packer p;
    t0_error err = {0};
    CHECK(t0_packer_init(&p, 1, 4, 10, 0, &err) == 0);
    int32_t e[] = {9}, t1[] = {3, 8, 1}, t2[] = {9, 1}, t3[] = {5, 4, 1};
    ADD(&p, e, t1);
    ADD(&p, e, t2);
    ADD(&p, e, t3);
    CHECK(same(p.feature[T0_DEC_SEGMENT_IDS], (int32_t[]){1, 1, 1, 2, 2, 3, 3, 3, 0, 0}, 10));
    CHECK(same(p.feature[T0_DEC_INPUT_TOKENS], (int32_t[]){0, 3, 8, 0, 9, 0, 5, 4, 0, 0}, 10));
    t0_packer_free(&p);
}

/* Next-fit: a row closes when either side would overflow, and is never reopened; the
 * batch is full when no row is left; clearing leaves all padding. */
static void test_next_fit(void)
{
    t0_packer p;
    t0_error err = {0};
    CHECK(t0_packer_init(&p, 2, 4, 3, 0, &err) == 0);
    int32_t in3[] = {11, 12, 13}, tg1[] = {1}, in1[] = {21}, tg3[] = {22, 23, 1}, in0[1] = {0};
    ADD(&p, in3, tg1);
    CHECK(t0_packer_fits(&p, 1, 3)); /* input fits, target does not: next row */
    ADD(&p, in1, tg3);
    CHECK(p.row == 1 && p.segments == 1);
    CHECK(!t0_packer_fits(&p, 1, 1)); /* row 1's target is full, no row left */
    CHECK(t0_packer_fits(&p, 3, 0));  /* but an input-only example fits row 1 */
    t0_packer_add(&p, in3, 3, in0, 0);
    CHECK(same(p.feature[T0_ENC_INPUT_TOKENS] + 4, (int32_t[]){21, 11, 12, 13}, 4));
    CHECK(same(p.feature[T0_ENC_SEGMENT_IDS] + 4, (int32_t[]){1, 2, 2, 2}, 4));
    CHECK(same(p.feature[T0_DEC_SEGMENT_IDS] + 3, (int32_t[]){1, 1, 1}, 3));
    CHECK(same(p.feature[T0_ENC_INPUT_TOKENS], (int32_t[]){11, 12, 13, 0}, 4));
    CHECK(!t0_packer_empty(&p));
    t0_packer_clear(&p);
    CHECK(t0_packer_empty(&p));
    for (int f = 0; f < T0_BATCH_FEATURES; f++)
        for (int i = 0; i < 6; i++)
            CHECK(p.feature[f][i] == 0);
    t0_packer_free(&p);
}

static void test_truncate_and_no_pack(void)
{
    t0_packer p;
    t0_error err = {0};
    CHECK(t0_packer_init(&p, 3, 3, 3, 1, &err) == 0);
    int32_t in[] = {5, 6, 7, 8, 9}, tg[] = {10, 11, 12, 13, 1}, tg_noeos[] = {10, 11, 12, 13};
    int32_t s1[] = {4}, s2[] = {1};
    ADD(&p, in, tg);
    CHECK(same(p.feature[T0_ENC_INPUT_TOKENS], (int32_t[]){5, 6, 7}, 3));
    CHECK(same(p.feature[T0_DEC_TARGET_TOKENS], (int32_t[]){10, 11, 1}, 3));
    CHECK(same(p.feature[T0_DEC_INPUT_TOKENS], (int32_t[]){0, 10, 11}, 3));
    CHECK(p.truncated == 1);
    CHECK(t0_packer_fits(&p, 1, 1));
    ADD(&p, in, tg_noeos); /* no EOS to keep: plain cut */
    CHECK(same(p.feature[T0_DEC_TARGET_TOKENS] + 3, (int32_t[]){10, 11, 12}, 3));
    CHECK(t0_packer_fits(&p, 1, 1));
    ADD(&p, s1, s2); /* --no-pack: a row even though it would fit beside another */
    CHECK(p.row == 2 && p.feature[T0_ENC_SEGMENT_IDS][6] == 1 && p.feature[T0_ENC_SEGMENT_IDS][7] == 0);
    CHECK(!t0_packer_fits(&p, 1, 1));
    CHECK(p.truncated == 2 && p.examples == 3);
    t0_packer_free(&p);
    CHECK(t0_packer_init(&p, 0, 3, 3, 0, &err) == -1);
}

/* ---- the model reads packed rows as separate examples ---- */

static t5_batch batch_of(const t0_record *r)
{
    int32_t *const *f = r->feature;
    return (t5_batch){(int)r->rows, (int)r->enc_len, (int)r->dec_len, f[T0_ENC_INPUT_TOKENS],
                      f[T0_ENC_SEGMENT_IDS], f[T0_ENC_POSITIONS], f[T0_DEC_TARGET_TOKENS],
                      f[T0_DEC_INPUT_TOKENS], f[T0_DEC_SEGMENT_IDS], f[T0_DEC_POSITIONS],
                      f[T0_DEC_LOSS_WEIGHTS]};
}

/* Two examples packed in one row give the logits and the summed loss of the same two
 * examples one a row (--no-pack): segments, positions and shifted inputs mean to the
 * model exactly what separate rows mean. */
static void test_model_reads_packed(void)
{
    t0_error err = {0};
    t5_config c;
    CHECK(t5_config_preset("tiny", &c, &err) == 0);
    t5_model *m = t5_model_create(&c, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    for (int i = 0; i < m->nspecs; i++)
        t5_init_tensor(&c, &m->specs[i], 5, m->params + m->offset[i]);
    int32_t in_a[] = {11, 12, 13, 14, 15}, tg_a[] = {21, 22, 1}, in_b[] = {31, 32, 33, 34, 35, 36},
            tg_b[] = {41, 42, 43, 1};
    t0_packer packed, alone;
    /* the packed batch's second row stays padding: the model must take that too */
    CHECK(t0_packer_init(&packed, 2, 16, 8, 0, &err) == 0 && t0_packer_init(&alone, 2, 16, 8, 1, &err) == 0);
    ADD(&packed, in_a, tg_a);
    ADD(&packed, in_b, tg_b);
    ADD(&alone, in_a, tg_a);
    ADD(&alone, in_b, tg_b);
    CHECK(packed.row == 0 && alone.row == 1);
    t0_record rp, ra;
    t0_packer_batch(&packed, &rp);
    t0_packer_batch(&alone, &ra);
    t5_batch bp = batch_of(&rp), ba = batch_of(&ra);
    t5_run run = {.training = 0, .z_loss = 0, .denominator = 1};
    int V = c.vocab_size;
    float *lp = malloc(sizeof(float) * 16 * (size_t)V);
    CHECK(lp && t5_model_reserve(m, 2, 16, 8, 0, &err) == 0);
    CHECK(t5_forward(m, &bp, &run, &err) == 0 || (fprintf(stderr, "%s\n", err.msg), 0));
    double loss_packed = m->loss;
    memcpy(lp, t5_logits(m), sizeof(float) * 16 * (size_t)V);
    CHECK(t5_forward(m, &ba, &run, &err) == 0);
    const float *la = t5_logits(m);
    double worst = 0;
    for (int t = 0; t < 7; t++) { /* packed position t: a's 0..2, then b's 0..3 (row 1 of alone) */
        const float *want = t < 3 ? la + (size_t)t * V : la + (size_t)(8 + t - 3) * V;
        for (int v = 0; v < V; v++) {
            double d = fabs((double)lp[(size_t)t * V + v] - want[v]);
            worst = d > worst ? d : worst;
        }
    }
    fprintf(stderr, "test_pack: packed vs one a row: logits within %.2g, loss %.9g vs %.9g\n", worst, loss_packed,
            m->loss);
    CHECK(worst < 1e-4);
    CHECK(fabs(loss_packed - m->loss) < 1e-5 * fabs(m->loss) && m->loss > 1);
    free(lp);
    t0_packer_free(&packed);
    t0_packer_free(&alone);
    t5_model_free(m);
}

/* ---- mixtures ---- */

static char dir[] = "/tmp/t0-test-pack-XXXXXX";

/* Writes n token records of (dataset, template) to dir/name; record i has input [base + i]. */
static void write_stream(const char *name, const char *dataset, const char *const *templates, int n_tp,
                         int n, int base)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    t0_error err = {0};
    t0_writer *w = t0_writer_open(path, &err);
    CHECK(w != NULL);
    for (int i = 0; w && i < n; i++) {
        for (int t = 0; t < n_tp; t++) {
            int32_t in[1] = {base + i}, tg[2] = {t + 2, 1};
            t0_record r = {.kind = T0_KIND_TOKENS, .task = dataset, .template_name = templates[t],
                           .id = (uint64_t)i, .input_ids = {in, 1}, .target_ids = {tg, 2}, .label = -1};
            CHECK(t0_writer_write(w, &r, &err) == 0);
        }
    }
    CHECK(w && t0_writer_close(w, &err) == 0);
}

static void test_rates(void)
{
    const char *three[] = {"a", "b", "c"}, *one[] = {"only"};
    write_stream("big.t0", "big", three, 3, 10, 0);  /* 10 examples x 3 templates */
    write_stream("small.t0", "small", one, 1, 4, 100);
    write_stream("bigc.t0", "big/sub", one, 1, 30, 200);
    char p1[256], p2[256], p3[256];
    snprintf(p1, sizeof p1, "%s/big.t0", dir);
    snprintf(p2, sizeof p2, "%s/small.t0", dir);
    snprintf(p3, sizeof p3, "%s/bigc.t0", dir);
    const char *paths[] = {p1, p2, p3};
    t0_mix_task *t;
    t0_error err = {0};
    CHECK(t0_mixture_rates(paths, 3, 8, &t, &err) == 0);
    /* big: 10 > 8 examples, 3 templates: 8 / 3 = 2 each, 6 for the file; small under the cap */
    CHECK(t[0].rate == 6 && t[0].records == 30 && strcmp(t[0].name, "big") == 0);
    CHECK(t[1].rate == 4 && strcmp(t[1].name, "small:only") == 0);
    CHECK(t[2].rate == 8 && strcmp(t[2].name, "big/sub:only") == 0);
    t0_mix_tasks_free(t, 3);
    CHECK(t0_mixture_rates(paths, 3, 0, &t, &err) == 0);
    CHECK(t[0].rate == 30 && t[1].rate == 4 && t[2].rate == 30);
    t0_mix_tasks_free(t, 3);
    /* the same pairs in two files (shards): one dataset of 20 a template, 2 a template
     * under the cap of 8, shared by the two files; the second name made unique */
    const char *shards[] = {p1, p1};
    CHECK(t0_mixture_rates(shards, 2, 8, &t, &err) == 0);
    CHECK(t[0].rate == 3 && t[1].rate == 3 && strcmp(t[1].name, "big#2") == 0);
    t0_mix_tasks_free(t, 2);
}

static int tsv_error(const char *text, const char *want)
{
    char path[256];
    snprintf(path, sizeof path, "%s/m.tsv", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    t0_mix_task *t;
    size_t n;
    t0_error err = {0};
    int rc = t0_mixture_read_tsv(path, &t, &n, &err);
    if (rc == 0)
        t0_mix_tasks_free(t, n);
    int ok = rc == -1 && strstr(err.msg, want) != NULL;
    if (!ok)
        fprintf(stderr, "tsv error: got '%s', want '%s'\n", err.msg, want);
    return ok;
}

static void test_tsv(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/m.tsv", dir);
    FILE *f = fopen(path, "w");
    fputs("# comment\n\nsmall:only\tsmall.t0\t4\r\nbig\tbig.t0\t2.5\n", f);
    fclose(f);
    t0_mix_task *t;
    size_t n;
    t0_error err = {0};
    CHECK(t0_mixture_read_tsv(path, &t, &n, &err) == 0);
    CHECK(n == 2 && t[1].rate == 2.5 && strcmp(t[0].name, "small:only") == 0);
    char want[256];
    snprintf(want, sizeof want, "%s/big.t0", dir);
    CHECK(n == 2 && strcmp(t[1].path, want) == 0); /* relative to the TSV's folder */
    t0_mix_tasks_free(t, n);
    CHECK(tsv_error("a\tsmall.t0\n", "m.tsv:1: expected task<TAB>stream file<TAB>rate"));
    CHECK(tsv_error("#\na\tsmall.t0\t1\tx\n", "m.tsv:2: expected"));
    CHECK(tsv_error("a\tsmall.t0\t0\n", "m.tsv:1: rate '0' is not a positive number"));
    CHECK(tsv_error("a\tsmall.t0\t1e\n", "m.tsv:1: rate"));
    CHECK(tsv_error("a\tsmall.t0\t1\na\tbig.t0\t1\n", "m.tsv:2: task 'a' is listed twice"));
    CHECK(tsv_error("\n\na\tnone.t0\t1\n", "m.tsv:3: "));
    CHECK(tsv_error("a\tnone.t0\t1\n", "none.t0: No such file or directory"));
    CHECK(tsv_error("# nothing\n", "no tasks"));
}

/* One task: a pass yields each example once, whatever the buffer; passes never mix. */
static void test_passes(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/small.t0", dir);
    t0_mix_task task = {.name = "small", .path = p, .rate = 4};
    for (uint32_t buffer = 1; buffer <= 9; buffer += 4) {
        t0_error err = {0};
        t0_mixture *m = t0_mixture_open(&task, 1, 7, buffer, &err);
        CHECK(m != NULL);
        for (int pass = 0; m && pass < 3; pass++) {
            int seen[4] = {0};
            for (int i = 0; i < 4; i++) {
                t0_mix_example ex;
                CHECK(t0_mixture_next(m, &ex, &err) == 0);
                CHECK(ex.n_input == 1 && ex.input[0] >= 100 && ex.input[0] < 104);
                seen[ex.input[0] - 100]++;
            }
            CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
            CHECK(t0_mixture_passes(m, 0) == (uint64_t)pass + 1);
        }
        t0_mixture_close(m);
    }
}

int main(void)
{
    test_seqio_example();
    test_shift_right();
    test_next_fit();
    test_truncate_and_no_pack();
    test_model_reads_packed();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_rates();
    test_tsv();
    test_passes();
    const char *names[] = {"big.t0", "small.t0", "bigc.t0", "m.tsv"};
    for (int i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return unit_summary("test_pack");
}
