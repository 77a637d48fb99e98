/* t0-score: rank classification (score every answer choice, the best one wins) and the
 * accuracy reports built on it. The work is in lib/eval. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "eval/report.h"
#include "eval/score.h"
#include "stream/stream.h"
#include "t5/blas.h"
#include "t5/t5_model.h"

static const char *prog = "t0-score";

static const char usage[] =
    "Usage: t0-score -m MODEL_DIR [OPTIONS] [FILE...]\n"
    "       t0-score --report [--json|--csv] [-o FILE] [SCORES...]\n"
    "Score the answer choices of token records (FILEs read in order as one stream, '-' or\n"
    "none for standard input; made by t0-tokenize)\n"
    "as T0 was evaluated and write score records: task, template, id, scores (per choice, the\n"
    "sum of the log-probabilities of its tokens, EOS included, no length normalisation),\n"
    "pred (the best choice, the first on ties) and label (passed through).\n"
    "\n"
    "  -m, --model DIR          Hugging Face model directory (config.json, model.safetensors or\n"
    "                           pytorch_model.bin, sharded or not, in F32, BF16 or F16),\n"
    "                           memory-mapped: F32 used in place, BF16 computed\n"
    "                           as BF16 (F32 sums), F16 widened to F32\n"
    "      --dtype TYPE         stored (default: the weights as the file has them) or int8 (linear\n"
    "                           weights quantized at load, one scale per row; inputs per row;\n"
    "                           int32 sums; see README's speed section for its accuracy)\n"
    "  -b, --batch N            examples read and scored together (default 32)\n"
    "  -t, --threads N          threads, each scoring whole examples (default 1)\n"
    "      --max-input-len N    keep the first N input tokens, as t-zero's run_eval.py does with\n"
    "                           1024 (default 1024; 0 keeps all)\n"
    "      --skip-unscorable    leave out examples without answer choices or input (counted on\n"
    "                           standard error) instead of stopping\n"
    "      --progress           progress on standard error from the start: examples/s and ETA\n"
    "                           (default: a rewritten line on a terminal; elsewhere, past 10 s,\n"
    "                           a line at each tenth of the input)\n"
    "  -o, --output FILE        write to FILE (created whole or not at all) instead of standard output\n"
    "\n"
    "Reports (SCORES: score streams, one or many, '-' or none for standard input;\n"
    "concatenated shards are one stream):\n"
    "      --report             accuracy per (task, template) with the number of examples, and per\n"
    "                           task the median over templates (T0's figure), mean, min and max,\n"
    "                           as an aligned table\n"
    "      --json               the report as one JSON object\n"
    "      --csv                one line per template: task,template,examples,correct,accuracy\n"
    "\n"
    "  -h, --help               show this help\n"
    "  -V, --version            show the version\n"
    "\n"
    "Each example's input is encoded once, at its own length, and its choices are scored\n"
    "against that one encoder output; nothing depends on which examples share a batch, so\n"
    "scores are bit-identical for any --batch, --threads or sharding.\n"
    "\n"
    "Examples:\n"
    "  t0-score -m T0_3B --threads 2 -o rte.scores rte.tokens && t0-score --report rte.scores\n"
    "  make eval-tokens MODEL=T0_3B TOKENS='rte.tokens cb.tokens' SHARDS=8 WORK=eval-out\n"
    "      (shards with t0-cat --shard, one single-thread t0-score a core under GNU parallel,\n"
    "       HOSTS=host1,host2 for other machines; see pipelines/eval.mk)\n";

typedef struct {
    const char *model, *output, *dtype;
    char **inputs; /* n_inputs files, or standard input when 0 */
    int n_inputs;
    int64_t batch, threads, max_input_len;
    int skip, progress, report;
    t0_report_format format;
} options;

/* Records in the input files, counted ahead for the ETA (decompressing is fast beside
 * scoring); 0 (unknown) for standard input. */
static uint64_t count_records(const options *o)
{
    uint64_t n = 0;
    for (int i = 0; i < o->n_inputs; i++)
        if (strcmp(o->inputs[i], "-") == 0)
            return 0;
    t0_error err = {0};
    t0_reader *r = o->n_inputs ? t0_reader_open_list(o->inputs, o->n_inputs, &err) : NULL;
    t0_record rec;
    while (r && t0_reader_next(r, &rec, &err) > 0)
        ;
    n = r ? t0_reader_count(r) : 0;
    t0_reader_close(r);
    return n;
}

static void show_progress(void *ctx, const t0_score_stats *st)
{
    t0_progress *p = ctx;
    if (!t0_progress_due(p, st->read))
        return;
    double secs = t0_now() - p->started, eta = t0_progress_eta(p, st->read);
    char left[48] = "";
    if (eta >= 0) {
        char hms[32];
        t0_format_duration(eta, hms, sizeof hms);
        snprintf(left, sizeof left, ", ETA %s", hms);
    }
    char of[32] = "";
    if (p->total)
        snprintf(of, sizeof of, "/%llu", (unsigned long long)p->total);
    t0_progress_show(p, "%llu%s examples scored, %.2f examples/s%s", (unsigned long long)st->scored, of,
                     secs > 0 ? (double)st->scored / secs : 0.0, left);
}

static int run_score(const options *o, t0_error *err)
{
    /* Inputs of different lengths resize the encoder's activations from one example to the
     * next: keep freed blocks in the heap instead of unmapping them, so their pages are not
     * faulted in again each time (about 10% of the CPU time on varied lengths). */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    t5_model *m = t5_model_open_mapped(o->model, err);
    if (!m)
        return -1;
    if (t5_model_use_dtype(m, o->dtype, err) != 0) {
        t5_model_free(m);
        return -1;
    }
    t0_progress pg;
    t0_progress_mode mode = o->progress ? t0_progress_mode_default() : T0_PROGRESS_OFF;
    t0_progress_begin(&pg, prog, mode, o->progress == 2, mode == T0_PROGRESS_OFF ? 0 : count_records(o), "scoring");
    t0_score_opts so = {.window = (int)o->batch, .threads = (int)o->threads, .max_input_len = (int)o->max_input_len,
                        .skip_unscorable = o->skip, .progress = show_progress, .progress_ctx = &pg};
    t0_scorer *s = t0_scorer_create(m, &so, err);
    t0_reader *r = s ? t0_reader_open_list(o->inputs, o->n_inputs, err) : NULL;
    t0_writer *w = r ? t0_writer_open(o->output, err) : NULL;
    t0_score_stats st;
    int rc = w ? t0_score_stream(s, r, w, &st, err) : -1;
    rc = t0_writer_finish(w, rc, err);
    if (rc == 0) {
        double secs = t0_now() - pg.started;
        t0_progress_end(&pg, "%llu examples scored, %.2f examples/s", (unsigned long long)st.scored,
                        secs > 0 ? (double)st.scored / secs : 0.0);
    }
    if (rc == 0 && st.skipped)
        fprintf(stderr, "%s: %llu unscorable examples left out (no answer choices or no input)\n", prog,
                (unsigned long long)st.skipped);
    t0_reader_close(r);
    t0_scorer_free(s);
    t5_model_free(m);
    return rc;
}

static int run_report(const options *o, t0_error *err)
{
    t0_report *rep = t0_report_new(err);
    t0_reader *r = rep ? t0_reader_open_list(o->inputs, o->n_inputs, err) : NULL;
    t0_record rec;
    int got = r ? 1 : -1;
    while (got > 0 && (got = t0_reader_next(r, &rec, err)) > 0)
        if (t0_reader_expect(r, &rec, T0_KIND_SCORE, err) != 0 || t0_report_add(rep, &rec, err) != 0)
            got = -1;
    t0_reader_close(r);
    int rc = got < 0 ? -1 : 0;
    t0_outfile out = {0};
    if (rc == 0)
        rc = t0_outfile_open(&out, o->output, 0, err);
    if (rc == 0) {
        rc = t0_report_write(rep, o->format, out.f, err);
        if (rc == 0)
            rc = t0_outfile_commit(&out, err);
        else
            t0_outfile_abort(&out);
    }
    t0_report_free(rep);
    return rc;
}

int main(int argc, char **argv)
{
    enum { OPT_MAX_INPUT = 256, OPT_SKIP, OPT_PROGRESS, OPT_REPORT, OPT_JSON, OPT_CSV, OPT_DTYPE };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},   {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'}, {"max-input-len", required_argument, 0, OPT_MAX_INPUT},
        {"skip-unscorable", no_argument, 0, OPT_SKIP}, {"progress", no_argument, 0, OPT_PROGRESS},
        {"report", no_argument, 0, OPT_REPORT}, {"json", no_argument, 0, OPT_JSON},
        {"csv", no_argument, 0, OPT_CSV},       {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
        {"dtype", required_argument, 0, OPT_DTYPE},
        {0, 0, 0, 0}};
    t0_cli_start();
    options o = {.output = "-", .dtype = "stored", .batch = 32, .threads = 1, .max_input_len = 1024,
                 .progress = 1, .format = T0_REPORT_TABLE};
    int json = 0, csv = 0, c;
    t0_error err = {0};
    while ((c = getopt_long(argc, argv, "m:b:t:o:hV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': o.model = optarg; break;
        case OPT_DTYPE: o.dtype = optarg; break;
        case 'b': bad = t0_parse_int(optarg, 1, 1 << 20, "--batch", &o.batch, &err); break;
        case 't': bad = t0_parse_int(optarg, 1, 64, "--threads", &o.threads, &err); break;
        case OPT_MAX_INPUT: bad = t0_parse_int(optarg, 0, INT32_MAX, "--max-input-len", &o.max_input_len, &err); break;
        case OPT_SKIP: o.skip = 1; break;
        case OPT_PROGRESS: o.progress = 2; break;
        case OPT_REPORT: o.report = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_CSV: csv = 1; break;
        case 'o': o.output = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
        if (bad)
            return t0_cli_report(prog, &err);
    }
    if (json && csv)
        return t0_cli_usage_error(prog, "--json and --csv exclude each other");
    if ((json || csv) && !o.report)
        return t0_cli_usage_error(prog, "--json and --csv go with --report");
    o.inputs = argv + optind, o.n_inputs = argc - optind;
    if (o.report) {
        if (o.model)
            return t0_cli_usage_error(prog, "--report reads score streams and needs no model");
        o.format = json ? T0_REPORT_JSON : csv ? T0_REPORT_CSV : T0_REPORT_TABLE;
        return run_report(&o, &err) ? t0_cli_report(prog, &err) : 0;
    }
    if (!o.model)
        return t0_cli_usage_error(prog, "-m MODEL is required");
    char blas_note[256];
    if (t5_blas_fix(argv, blas_note, sizeof blas_note)) /* may run this program again on OpenBLAS's right core */
        fprintf(stderr, "%s: note: %s\n", prog, blas_note);
    return run_score(&o, &err) ? t0_cli_report(prog, &err) : 0;
}
