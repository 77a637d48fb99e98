/* t0-pack: token records of a task mixture -> batch records with seqio's packed features
 * (lib/train/mixture.h samples, lib/train/pack.h packs); --rates writes T0's mixture file. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/outfile.h"
#include "spm/spm.h"
#include "stream/stream.h"
#include "train/mixture.h"
#include "train/objectives.h"
#include "train/pack.h"

static const char *prog = "t0-pack";

static const char usage[] =
    "Usage: t0-pack --rows R [OPTIONS] (--mixture M.tsv | FILE...)\n"
    "       t0-pack --rates [--cap N] [-o M.tsv] FILE...\n"
    "       t0-pack --objective span-corruption|prefix-lm (-t MODEL | --vocab-size V) --rows R ...\n"
    "Draw examples from a mixture of token-record streams (t0-tokenize's output), as T0 mixed\n"
    "its tasks, and pack them into batch records with seqio's packed features (t0-step's input).\n"
    "\n"
    "  -m, --mixture M.tsv   the tasks: lines 'task<TAB>stream file<TAB>rate' ('#' comments, blank\n"
    "                        lines; paths relative to M.tsv's folder); else each FILE is a task\n"
    "                        with T0's rate, counted from its records (see --rates)\n"
    "      --rows R          rows a batch (T0's batch was 1024 rows: t0-step --accum 1024/R)\n"
    "      --input-len N     encoder tokens a row (default 1024, T0's)\n"
    "      --target-len N    decoder tokens a row (default 256, T0's; with --objective: what\n"
    "                        the objective needs, 114 for span corruption of --input-len 512)\n"
    "      --batches N       write N batches (tasks restart when they run dry)\n"
    "      --epochs E        draw E times the mixture's size, the sum of the rates (default 1):\n"
    "                        each task is drawn about E x its rate times, so a task under the\n"
    "                        cap is seen about E times, and a single task exactly E times; the\n"
    "                        last batch is padded with empty rows\n"
    "      --cap N           FILE tasks: T0's cap (default 500000; 0: none): a dataset over N\n"
    "                        examples counts N / its number of templates for each template\n"
    "      --seed S          seed of every random choice (default 0): same seed, same bytes\n"
    "      --shuffle-buffer N  examples held per task to shuffle from (default 1000, seqio's);\n"
    "                        memory is about tasks x (N examples + 1 MB of stream reader),\n"
    "                        whatever the data's size (313 T0 tasks: about 1 GB)\n"
    "      --no-pack         one example a row\n"
    "      --objective NAME  T5's pretraining on the documents of the token records (below):\n"
    "                        span-corruption (T5's) or prefix-lm (T5-LM-adapt's LM adaptation)\n"
    "  -t, --tokenizer MODEL with --objective: the tokenizer (spiece.model, tokenizer.json or a\n"
    "                        model folder) whose size places the sentinels <extra_id_N>\n"
    "      --vocab-size V    instead of -t: the tokenizer's size, sentinels included\n"
    "                        (<extra_id_N> is V-1-N; T5's: 32100)\n"
    "      --noise-density D span corruption: the share of ids masked (default 0.15)\n"
    "      --mean-noise-span L  span corruption: mean masked span length (default 3)\n"
    "      --rates           count FILEs' records and write the mixture file with T0's rates;\n"
    "                        its paths are relative to -o's folder (on standard output: as given)\n"
    "  -o, --output FILE     write to FILE (created whole or not at all), else standard output\n"
    "      --progress        progress on stderr from the start (default: a rewritten line on a\n"
    "                        terminal; elsewhere, past 10 s, a line at each tenth of the job)\n"
    "  -q, --quiet           no summary on stderr at the end\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "Tasks. Token records carry task (the dataset: 'glue/mrpc') and template (the prompt's\n"
    "name); T0's tasks are the (dataset, template) pairs. A stream may hold one pair or all\n"
    "templates of a dataset; its rate is the sum of its pairs' rates. --rates names a task by\n"
    "its dataset, 'dataset:template' when it holds one template.\n"
    "\n"
    "Sampling, as seqio's mixtures: each example comes from task t with probability\n"
    "rate_t / sum of rates, taken at random from t's shuffle buffer; a task's pass over its\n"
    "stream yields each of its examples once, then the stream restarts.\n"
    "\n"
    "Packing, as seqio's trim_and_pack_dataset (T0's setting): an example goes into the row\n"
    "being filled when its input and its target both fit, else it starts the next row; it is\n"
    "never split: a longer one is truncated, the target keeping its EOS. Segment ids 1, 2, ...\n"
    "per example, positions from 0 in each, decoder inputs the targets shifted right with 0\n"
    "at each example's start, loss weights 1 on target tokens, 0 on padding.\n"
    "\n"
    "Objectives, as t5.data.preprocessors makes them from text. A document is a token\n"
    "record's input ids then its target ids less the final EOS (t0-tokenize --lines: one\n"
    "record a text line). span-corruption: 128 documents drawn in a row are concatenated,\n"
    "cut into segments of the length random_spans_helper gives for --input-len (568 ids for\n"
    "512), and in each, 15% of the ids, in spans of 3 on average, are masked: the input is\n"
    "the segment with each span replaced by one sentinel (<extra_id_0>, <extra_id_1>, ...:\n"
    "ids V-1, V-2, ...), the target each sentinel followed by its span, both ending with EOS.\n"
    "prefix-lm: each document cut into segments of min(input, target length) - 1 ids, each\n"
    "split at a uniformly random point: the input is the part before (then EOS), the target\n"
    "the rest (then EOS). Then the examples are packed as above. Documents are drawn from\n"
    "FILEs (or -m) as a mixture whose rates are the record counts (--cap: none unless given);\n"
    "--epochs counts documents. The same --seed gives the same bytes.\n"
    "\n"
    "At the end, on stderr: batches, rows, fill (real tokens / slots) and examples per task.\n"
    "\n"
    "Examples:\n"
    "  t0-pack --rates --cap 500000 -o data/t0.tsv data/*.tokens.t0\n"
    "  t0-pack -m data/t0.tsv --rows 32 --batches 1000 --seed 1 -o train.t0\n"
    "  t0-pack --rows 8 --input-len 512 --target-len 128 --epochs 3 rte.t0 | t0-step ...\n"
    "  t0-tokenize -m spiece.model --lines -o text.t0 corpus.txt\n"
    "  t0-pack --objective span-corruption -t spiece.model --rows 32 --input-len 512 --batches 1000 text.t0\n";

typedef struct {
    const char *mixture, *output, *tokenizer;
    t0_objective_kind objective;
    double noise_density, mean_span;
    int64_t vocab_size;
    int target_len_given;
    int64_t rows, input_len, target_len, batches, cap, seed, buffer;
    double epochs;
    int no_pack, rates, progress, quiet, cap_given;
    char **files;
    int n_files;
} options;

typedef struct {
    t0_progress line;
    uint64_t batches, draws; /* the job's end: one of them is 0 */
    const t0_objective *ob;  /* with --objective, draws counts its documents */
} progress;

/* done of the job in its own unit (batches, else draws) */
static uint64_t job_done(const progress *pg, const t0_packer *p)
{
    if (pg->batches)
        return p->batches;
    return pg->ob ? t0_objective_documents(pg->ob) : p->examples;
}

static void show(progress *pg, const t0_packer *p, int final)
{
    double secs = t0_now() - pg->line.started, eta = t0_progress_eta(&pg->line, job_done(pg, p));
    double rate = secs > 0 ? (double)p->examples / secs : 0.0;
    double pct = pg->line.total ? 100.0 * (double)job_done(pg, p) / (double)pg->line.total : 0.0;
    char hms[32];
    t0_format_duration(eta >= 0 ? eta : 0, hms, sizeof hms);
    if (final)
        t0_progress_end(&pg->line, "%llu batches, %llu examples, %.0f examples/s", (unsigned long long)p->batches,
                        (unsigned long long)p->examples, rate);
    else
        t0_progress_show(&pg->line, "%llu batches, %llu examples, %.0f examples/s, %.1f%%, ETA %s",
                         (unsigned long long)p->batches, (unsigned long long)p->examples, rate, pct, hms);
}

/* The job's end is batches when given, else draws (examples, or an objective's documents). */
static void begin_progress(progress *pg, const options *o, uint64_t batches, uint64_t draws, const t0_objective *ob)
{
    *pg = (progress){.batches = batches, .draws = draws, .ob = ob};
    t0_progress_begin(&pg->line, prog, o->progress ? t0_progress_mode_default() : T0_PROGRESS_OFF,
                      o->progress == 2, batches ? batches : draws, "packing");
}

static void on_batch(void *arg, const t0_packer *p)
{
    progress *pg = arg;
    if (t0_progress_due(&pg->line, job_done(pg, p)))
        show(pg, p, 0);
}

static double ratio(uint64_t a, double b)
{
    return b > 0 ? (double)a / b : 0.0;
}

static void summary(const t0_packer *p, const t0_mix_task *tasks, size_t n, const uint64_t *packed,
                    const t0_mixture *m)
{
    double slots = (double)p->batches * p->rows;
    fprintf(stderr, "%s: %llu batches of %u rows, %llu rows used, %llu examples (%llu truncated)\n", prog,
            (unsigned long long)p->batches, p->rows, (unsigned long long)p->rows_out,
            (unsigned long long)p->examples, (unsigned long long)p->truncated);
    fprintf(stderr, "%s: fill (real tokens / slots): input %.2f%% of %u, target %.2f%% of %u\n", prog,
            100 * ratio(p->enc_tokens, slots * p->enc_len), p->enc_len,
            100 * ratio(p->dec_tokens, slots * p->dec_len), p->dec_len);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += tasks[i].rate;
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s: task %s: %llu examples (%.2f%%, rate %.2f%%), pass %llu\n", prog, tasks[i].name,
                (unsigned long long)packed[i], 100 * ratio(packed[i], (double)p->examples),
                100 * tasks[i].rate / total, (unsigned long long)t0_mixture_passes(m, i));
}

static int load_tasks(const options *o, t0_mix_task **tasks, size_t *n, t0_error *err)
{
    if (o->mixture)
        return t0_mixture_read_tsv(o->mixture, tasks, n, err);
    *n = (size_t)o->n_files;
    return t0_mixture_rates((const char *const *)o->files, *n, (uint64_t)o->cap, tasks, err);
}

static int run_rates(const options *o, t0_error *err)
{
    t0_mix_task *tasks;
    size_t n = (size_t)o->n_files;
    if (t0_mixture_rates((const char *const *)o->files, n, (uint64_t)o->cap, &tasks, err))
        return -1;
    t0_outfile out = {0};
    int to_file = strcmp(o->output, "-") != 0;
    int rc = t0_outfile_open(&out, o->output, 0, err);
    if (rc == 0)
        rc = t0_mixture_write_tsv(out.f, tasks, n, to_file ? o->output : NULL, (uint64_t)o->cap, err);
    if (rc == 0)
        rc = t0_outfile_commit(&out, err);
    else
        t0_outfile_abort(&out);
    t0_mix_tasks_free(tasks, n);
    return rc;
}

static int run_pack(const options *o, t0_error *err)
{
    t0_mix_task *tasks;
    size_t n;
    if (load_tasks(o, &tasks, &n, err))
        return -1;
    t0_packer p;
    t0_mixture *m = NULL;
    t0_writer *w = NULL;
    uint64_t *packed = calloc(n, sizeof *packed);
    int rc = packed ? 0 : t0_fail(err, T0_EINTERNAL, "out of memory");
    if (rc == 0)
        rc = t0_packer_init(&p, (uint32_t)o->rows, (uint32_t)o->input_len, (uint32_t)o->target_len,
                            o->no_pack, err);
    if (rc == 0 && !(m = t0_mixture_open(tasks, n, (uint64_t)o->seed, (uint32_t)o->buffer, err)))
        rc = -1;
    if (rc == 0 && !(w = t0_writer_open(o->output, err)))
        rc = -1;
    if (rc == 0) {
        progress pg;
        t0_pack_job job = {.batches = (uint64_t)o->batches,
                           .draws = t0_mixture_draws(tasks, n, o->epochs),
                           .on_batch = on_batch,
                           .arg = &pg};
        begin_progress(&pg, o, job.batches, job.draws, NULL);
        rc = t0_pack_run(&p, m, w, &job, packed, err);
        if (rc == 0)
            show(&pg, &p, 1);
    }
    rc = t0_writer_finish(w, rc, err);
    if (rc == 0 && !o->quiet)
        summary(&p, tasks, n, packed, m);
    t0_mixture_close(m);
    t0_packer_free(&p);
    free(packed);
    t0_mix_tasks_free(tasks, n);
    return rc;
}

/* The tokenizer's size, sentinels included: from -t's model, else --vocab-size. */
static int sentinel_vocab(const options *o, int32_t *vocab, t0_error *err)
{
    if (!o->tokenizer) {
        *vocab = (int32_t)o->vocab_size;
        return 0;
    }
    t0_spm *m = t0_spm_load(o->tokenizer, err);
    if (!m)
        return -1;
    *vocab = m->sentinel_id[0] + 1; /* <extra_id_0> is the last id */
    t0_spm_free(m);
    return 0;
}

static int next_objective(void *arg, t0_mix_example *ex, t0_error *err)
{
    return t0_objective_next(arg, ex, err);
}

static void objective_summary(const t0_packer *p, const t0_objective *ob, const t0_mix_task *tasks, size_t n,
                              const t0_mixture *m)
{
    double slots = (double)p->batches * p->rows;
    fprintf(stderr, "%s: %llu documents -> %llu examples (segments of %u ids, targets up to %u) in %llu batches of %u rows\n",
            prog, (unsigned long long)t0_objective_documents(ob), (unsigned long long)p->examples,
            t0_objective_segment_len(ob), t0_objective_target_len(ob), (unsigned long long)p->batches, p->rows);
    fprintf(stderr, "%s: fill (real tokens / slots): input %.2f%% of %u, target %.2f%% of %u\n", prog,
            100 * ratio(p->enc_tokens, slots * p->enc_len), p->enc_len,
            100 * ratio(p->dec_tokens, slots * p->dec_len), p->dec_len);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s: task %s: %llu documents, pass %llu\n", prog, tasks[i].name,
                (unsigned long long)t0_mixture_drawn(m, i), (unsigned long long)t0_mixture_passes(m, i));
}

static int run_objective(const options *o, t0_error *err)
{
    t0_mix_task *tasks;
    size_t n;
    if (load_tasks(o, &tasks, &n, err))
        return -1;
    t0_objective_opts oo = {.kind = o->objective, .input_len = (uint32_t)o->input_len,
                            .target_len = (uint32_t)o->target_len, .noise_density = o->noise_density,
                            .mean_span = o->mean_span, .seed = (uint64_t)o->seed,
                            .documents = o->batches ? 0 : t0_mixture_draws(tasks, n, o->epochs)};
    t0_packer p = {0};
    t0_mixture *m = NULL;
    t0_objective *ob = NULL;
    t0_writer *w = NULL;
    int rc = sentinel_vocab(o, &oo.vocab_size, err);
    if (rc == 0 && !o->target_len_given) { /* what the objective needs */
        oo.target_len = UINT32_MAX;
        if (!(ob = t0_objective_open(&oo, NULL, err)))
            rc = -1;
        else
            oo.target_len = t0_objective_target_len(ob);
        t0_objective_close(ob);
    }
    if (rc == 0 && !(m = t0_mixture_open(tasks, n, (uint64_t)o->seed, (uint32_t)o->buffer, err)))
        rc = -1;
    if (rc == 0 && !(ob = t0_objective_open(&oo, m, err)))
        rc = -1;
    if (rc == 0)
        rc = t0_packer_init(&p, (uint32_t)o->rows, oo.input_len, oo.target_len, o->no_pack, err);
    if (rc == 0 && !(w = t0_writer_open(o->output, err)))
        rc = -1;
    if (rc == 0) {
        progress pg;
        begin_progress(&pg, o, (uint64_t)o->batches, oo.documents, ob);
        t0_pack_job job = {.batches = (uint64_t)o->batches, .on_batch = on_batch, .arg = &pg};
        t0_example_source src = {next_objective, ob};
        rc = t0_pack_source(&p, &src, w, &job, NULL, err);
        if (rc == 0)
            show(&pg, &p, 1);
    }
    rc = t0_writer_finish(w, rc, err);
    if (rc == 0 && !o->quiet)
        objective_summary(&p, ob, tasks, n, m);
    t0_objective_close(ob);
    t0_mixture_close(m);
    t0_packer_free(&p);
    t0_mix_tasks_free(tasks, n);
    return rc;
}

static int parse_objective(const char *s, t0_objective_kind *k, t0_error *err)
{
    if (strcmp(s, "span-corruption") == 0)
        *k = T0_OBJECTIVE_SPAN_CORRUPTION;
    else if (strcmp(s, "prefix-lm") == 0)
        *k = T0_OBJECTIVE_PREFIX_LM;
    else
        return t0_fail(err, T0_EINPUT, "--objective: expected span-corruption or prefix-lm, got '%s'", s);
    return 0;
}

static int parse_fraction(const char *s, const char *name, double lo, double hi, double *v, t0_error *err)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || x <= lo || x >= hi)
        return t0_fail(err, T0_EINPUT, "%s: expected a number in (%g, %g), got '%s'", name, lo, hi, s);
    *v = x;
    return 0;
}

static int parse_epochs(const char *s, double *e, t0_error *err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v <= 0 || v > 1e9)
        return t0_fail(err, T0_EINPUT, "--epochs: expected a positive number, got '%s'", s);
    *e = v;
    return 0;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    enum { OPT_ROWS = 256, OPT_INPUT_LEN, OPT_TARGET_LEN, OPT_BATCHES, OPT_EPOCHS, OPT_CAP, OPT_SEED,
           OPT_BUFFER, OPT_NO_PACK, OPT_RATES, OPT_PROGRESS, OPT_OBJECTIVE, OPT_VOCAB_SIZE,
           OPT_NOISE_DENSITY, OPT_MEAN_SPAN };
    static const struct option longopts[] = {
        {"mixture", required_argument, 0, 'm'},   {"output", required_argument, 0, 'o'},
        {"rows", required_argument, 0, OPT_ROWS}, {"input-len", required_argument, 0, OPT_INPUT_LEN},
        {"target-len", required_argument, 0, OPT_TARGET_LEN},
        {"batches", required_argument, 0, OPT_BATCHES}, {"epochs", required_argument, 0, OPT_EPOCHS},
        {"cap", required_argument, 0, OPT_CAP},   {"seed", required_argument, 0, OPT_SEED},
        {"shuffle-buffer", required_argument, 0, OPT_BUFFER},
        {"no-pack", no_argument, 0, OPT_NO_PACK}, {"rates", no_argument, 0, OPT_RATES},
        {"progress", no_argument, 0, OPT_PROGRESS},
        {"objective", required_argument, 0, OPT_OBJECTIVE}, {"tokenizer", required_argument, 0, 't'},
        {"vocab-size", required_argument, 0, OPT_VOCAB_SIZE},
        {"noise-density", required_argument, 0, OPT_NOISE_DENSITY},
        {"mean-noise-span", required_argument, 0, OPT_MEAN_SPAN}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},            {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    options o = {.output = "-", .input_len = 1024, .target_len = 256, .cap = 500000, .buffer = 1000,
                 .epochs = 1, .progress = 1, .noise_density = 0.15, .mean_span = 3};
    int span_opts = 0;
    int epochs_given = 0;
    t0_error err = {0};
    int c;
    opterr = 0; /* one line of our own instead of getopt's */
    while ((c = getopt_long(argc, argv, "m:o:t:qhV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': o.mixture = optarg; break;
        case 'o': o.output = optarg; break;
        case OPT_ROWS: bad = t0_parse_int(optarg, 1, 1 << 20, "--rows", &o.rows, &err); break;
        case OPT_INPUT_LEN: bad = t0_parse_int(optarg, 1, 1 << 20, "--input-len", &o.input_len, &err); break;
        case OPT_TARGET_LEN:
            bad = t0_parse_int(optarg, 1, 1 << 20, "--target-len", &o.target_len, &err), o.target_len_given = 1;
            break;
        case OPT_BATCHES: bad = t0_parse_int(optarg, 1, INT64_MAX, "--batches", &o.batches, &err); break;
        case OPT_EPOCHS: bad = parse_epochs(optarg, &o.epochs, &err), epochs_given = 1; break;
        case OPT_CAP: bad = t0_parse_int(optarg, 0, INT64_MAX, "--cap", &o.cap, &err), o.cap_given = 1; break;
        case OPT_SEED: bad = t0_parse_int(optarg, 0, INT64_MAX, "--seed", &o.seed, &err); break;
        case OPT_BUFFER: bad = t0_parse_int(optarg, 1, 1 << 24, "--shuffle-buffer", &o.buffer, &err); break;
        case OPT_NO_PACK: o.no_pack = 1; break;
        case OPT_RATES: o.rates = 1; break;
        case OPT_PROGRESS: o.progress = 2; break;
        case OPT_OBJECTIVE: bad = parse_objective(optarg, &o.objective, &err); break;
        case 't': o.tokenizer = optarg; break;
        case OPT_VOCAB_SIZE: bad = t0_parse_int(optarg, 103, INT32_MAX, "--vocab-size", &o.vocab_size, &err); break;
        case OPT_NOISE_DENSITY:
            bad = parse_fraction(optarg, "--noise-density", 0, 1, &o.noise_density, &err), span_opts = 1;
            break;
        case OPT_MEAN_SPAN:
            bad = parse_fraction(optarg, "--mean-noise-span", 0.999999, 1e6, &o.mean_span, &err), span_opts = 1;
            break;
        case 'q': o.quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option '%s'", argv[optind - 1]);
        }
        if (bad)
            return t0_cli_report(prog, &err);
    }
    if (o.quiet && o.progress == 1) /* -q: no summary and no progress, unless --progress */
        o.progress = 0;
    o.files = argv + optind;
    o.n_files = argc - optind;
    for (int i = 0; i < o.n_files; i++)
        if (strcmp(o.files[i], "-") == 0)
            return t0_cli_usage_error(prog, "inputs must be files: tasks are read again when they run dry");
    if (o.rates) {
        if (o.mixture || !o.n_files || o.objective)
            return t0_cli_usage_error(prog, "--rates counts FILEs (no --mixture, no --objective)");
        return run_rates(&o, &err) ? t0_cli_report(prog, &err) : 0;
    }
    if (!o.rows)
        return t0_cli_usage_error(prog, "--rows R is required");
    if (o.mixture && o.n_files)
        return t0_cli_usage_error(prog, "give --mixture or FILEs, not both");
    if (!o.mixture && !o.n_files)
        return t0_cli_usage_error(prog, "no input: give --mixture M.tsv or token-record FILEs");
    if (o.mixture && o.cap_given)
        return t0_cli_usage_error(prog, "--cap applies to FILE tasks; a mixture file's rates are used as they are");
    if (o.batches && epochs_given)
        return t0_cli_usage_error(prog, "--batches and --epochs exclude each other");
    if (!o.objective && (o.tokenizer || o.vocab_size || span_opts))
        return t0_cli_usage_error(prog, "-t, --vocab-size, --noise-density and --mean-noise-span go with --objective");
    if (o.objective) {
        if (!o.tokenizer == !o.vocab_size)
            return t0_cli_usage_error(prog, "--objective needs the tokenizer: -t MODEL or --vocab-size V");
        if (span_opts && o.objective != T0_OBJECTIVE_SPAN_CORRUPTION)
            return t0_cli_usage_error(prog, "--noise-density and --mean-noise-span are span corruption's");
        if (!o.cap_given)
            o.cap = 0; /* text: every document counts */
        return run_objective(&o, &err) ? t0_cli_report(prog, &err) : 0;
    }
    return run_pack(&o, &err) ? t0_cli_report(prog, &err) : 0;
}
