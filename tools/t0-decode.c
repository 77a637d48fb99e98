/* t0-decode: prompt lines in, generated text lines out, with a T5 model directory
 * (memory-mapped weights, its own tokenizer): greedy, beam search or sampling as
 * transformers' generate() (lib/generate). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/catfile.h"
#include "common/cli.h"
#include "common/outfile.h"
#include "common/utf8.h"
#include "generate/generate.h"
#include "spm/spm.h"
#include "stream/stream.h"
#include "t5/blas.h"
#include "t5/t5_model.h"
#include "t5/t5_ops.h"

static const char *prog = "t0-decode";

static const char usage[] =
    "Usage: t0-decode -m MODEL_DIR [OPTIONS] [FILE...]\n"
    "Generate text for each prompt line of the FILEs (read in order as one; '-' or none:\n"
    "standard input) with a T5 model directory\n"
    "(config.json, model.safetensors or PyTorch's pytorch_model.bin, sharded or not, in F32,\n"
    "BF16 or F16, spiece.model or tokenizer.json),\n"
    "one output line per prompt, in order, as transformers' generate() does.\n"
    "\n"
    "  -m, --model DIR         the model directory (weights memory-mapped; BF16 used as BF16)\n"
    "      --dtype TYPE        stored (default: the weights as the file has them) or int8 (linear\n"
    "                          weights quantized at load, one scale per row; see README, speed)\n"
    "  -o, --output FILE       write to FILE (created whole or not at all), else standard output\n"
    "      --max-new-tokens N  tokens to generate at most (default 64)\n"
    "      --max-input N       keep the first N prompt tokens, warning once (default 1024)\n"
    "      --input-eos         append EOS to each prompt (tokenizer.encode's way; T0 was\n"
    "                          trained without it, the default)\n"
    "      --beam K            beam search with K beams (default 1: greedy)\n"
    "      --length-penalty A  beam score = log-probability / length^A (default 1)\n"
    "      --early-stopping    end a prompt's search at K finished hypotheses\n"
    "      --num-return N      sequences per prompt (<= K; or with --sample), tab-separated\n"
    "      --no-repeat-ngram N never repeat an N-gram of the output\n"
    "      --sample            sample instead of choosing the most likely token\n"
    "      --temperature T     divide the logits by T (default 1)\n"
    "      --top-k K           sample from the K most likely tokens (default 50; 0: all)\n"
    "      --top-p P           ... from the fewest whose probability reaches P (default 1)\n"
    "      --seed S            the sampling seed (default 0): the same seed gives the same\n"
    "                          text for a prompt whatever the batch\n"
    "      --batch N           prompts decoded together (default 8)\n"
    "      --threads N         compute threads (default 1)\n"
    "      --ids               print the generated token ids instead of text\n"
    "  -r, --records           read a record stream instead of lines: example records get\n"
    "                          the generated text as target, token records the generated ids\n"
    "                          (EOS last when it ended) as target_ids; a stream out, in order\n"
    "                          (a record at a time: no batching)\n"
    "  -i, --interactive       read a prompt, stream its answer token by token, repeat\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n"
    "An empty prompt line gives an empty output line. A generated id past the tokenizer's\n"
    "pieces (T5's models have 32128 rows for 32100 pieces) is left out of the text, as\n"
    "transformers' tokenizer does, with one warning.\n"
    "\n"
    "Example:\n"
    "  echo 'Is this review positive or negative? Review: best cast iron skillet ever' |\n"
    "      t0-decode -m T0_3B/\n";

typedef struct {
    const char *model, *output, *dtype;
    char **inputs; /* n_inputs files; standard input when 0 */
    int n_inputs;
    int max_input, input_eos, batch, threads, ids, interactive, records;
    t0_gen_opts gen;
} options;

typedef struct {
    const options *o;
    t5_model *m;
    t0_spm *spm;
    t0_gen *gen;
    t0_spm_work work;
    FILE *out;
    int warned_long, warned_oov;
    uint64_t line_now;    /* the line (or record) whose output is being made, for warnings */
    int32_t *kept;        /* a sequence's ids the tokenizer has pieces for */
    size_t kept_cap;
    /* the batch being gathered */
    int n;                /* prompts (lines) in it */
    uint64_t first_line;  /* its first line's number */
    int32_t **ids;        /* [batch] a prompt's ids, NULL for an empty line */
    int *len;             /* [batch] */
    t0_gen_seq *seqs;     /* [batch * num_return] */
    /* -i: the text printed so far for the sequence being streamed */
    size_t shown;
} context;

/* ---------------------------------------------------------------- output */

/* text of a sequence without its EOS; newlines become spaces so one line stays one line */
static int seq_text(context *c, const t0_gen_seq *s, t0_error *err)
{
    int n = s->n - (s->finished ? 1 : 0);
    if (n > 0 && (size_t)n > c->kept_cap) {
        int32_t *k = realloc(c->kept, sizeof *k * (size_t)n);
        if (!k)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        c->kept = k, c->kept_cap = (size_t)n;
    }
    /* ids past the tokenizer (the model's spare rows) have no text: transformers' tokenizer
     * leaves them out of decode's text, and so does this */
    size_t kept = 0;
    for (int i = 0; i < n; i++) {
        if (s->ids[i] >= 0 && s->ids[i] < c->spm->vocab_size) {
            c->kept[kept++] = s->ids[i];
        } else if (!c->warned_oov) {
            fprintf(stderr, "%s: warning: prompt %llu: generated id %d has no piece in the tokenizer (%d): left out of "
                    "the text, as transformers does; further ones not reported\n", prog,
                    (unsigned long long)c->line_now, s->ids[i], c->spm->vocab_size);
            c->warned_oov = 1;
        }
    }
    t0_spm_work_reset(&c->work);
    if (t0_spm_decode(c->spm, c->kept, kept, &c->work, err) != 0)
        return -1;
    for (size_t i = 0; i < c->work.len; i++)
        if (c->work.text[i] == '\n' || c->work.text[i] == '\r')
            c->work.text[i] = ' ';
    return 0;
}

static int print_seq(context *c, const t0_gen_seq *s, t0_error *err)
{
    if (c->o->ids) {
        for (int i = 0; i < s->n; i++)
            fprintf(c->out, i ? " %d" : "%d", s->ids[i]);
        return 0;
    }
    if (seq_text(c, s, err) != 0)
        return -1;
    fwrite(c->work.text, 1, c->work.len, c->out);
    return 0;
}

/* -i: after each token, print what the decoded text gained */
static int stream_token(void *ctx, int seq, int32_t id)
{
    context *c = ctx;
    (void)id;
    t0_gen_seq *s = &c->seqs[seq];
    t0_error err = {0};
    t0_gen_seq sofar = {s->ids, s->n, id == c->m->cfg.eos_token_id, 0.0};
    if (c->o->ids) {
        fprintf(c->out, s->n > 1 ? " %d" : "%d", id);
    } else {
        if (seq_text(c, &sofar, &err) != 0)
            return -1;
        if (c->work.len > c->shown)
            fwrite(c->work.text + c->shown, 1, c->work.len - c->shown, c->out);
        c->shown = c->work.len > c->shown ? c->work.len : c->shown;
    }
    fflush(c->out);
    return 0;
}

/* ---------------------------------------------------------------- batches */

static int run_batch(context *c, t0_error *err)
{
    const options *o = c->o;
    int J = o->gen.num_return, T = 1, rows = 0;
    for (int i = 0; i < c->n; i++)
        if (c->ids[i]) {
            rows++;
            T = c->len[i] > T ? c->len[i] : T;
        }
    int32_t *enc = calloc((size_t)(rows ? rows : 1) * T, sizeof(int32_t)); /* pad_token_id 0 is checked at open */
    uint64_t *index = malloc(sizeof(uint64_t) * (rows ? rows : 1));
    if (!enc || !index) {
        free(enc), free(index);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    for (int i = 0, r = 0; i < c->n; i++)
        if (c->ids[i]) {
            memcpy(enc + (size_t)r * T, c->ids[i], sizeof(int32_t) * c->len[i]);
            index[r++] = c->first_line + i - 1; /* 0-based line number keys the sampling */
        }
    c->shown = 0;
    c->line_now = c->first_line;
    int rc = t0_gen_run(c->gen, enc, rows, T, index, c->seqs, o->interactive ? stream_token : NULL, c, err);
    for (int i = 0, r = 0; rc == 0 && i < c->n; i++) {
        if (o->interactive) {
            if (c->ids[i] && o->gen.num_beams > 1)
                rc = print_seq(c, &c->seqs[0], err);
        } else if (c->ids[i]) {
            c->line_now = c->first_line + (uint64_t)i;
            for (int j = 0; rc == 0 && j < J; j++) {
                if (j)
                    fputc('\t', c->out);
                rc = print_seq(c, &c->seqs[(size_t)r * J + j], err);
            }
            r++;
        }
        fputc('\n', c->out);
    }
    if (o->interactive)
        fflush(c->out);
    for (int i = 0; i < c->n; i++)
        free(c->ids[i]), c->ids[i] = NULL;
    c->n = 0;
    free(enc);
    free(index);
    return rc;
}

/* tokenizes one prompt line into the batch */
static int add_line(context *c, const char *line, size_t len, uint64_t lineno, t0_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "line %llu", (unsigned long long)lineno);
    if (t0_check_text(line, len, what, err) != 0)
        return -1;
    if (c->n == 0)
        c->first_line = lineno;
    int i = c->n++;
    c->ids[i] = NULL, c->len[i] = 0;
    if (len == 0)
        return 0;
    t0_spm_work_reset(&c->work);
    if (t0_spm_encode(c->spm, line, len, &c->work, err) != 0)
        return -1;
    if (c->o->input_eos && t0_spm_push_id(&c->work, c->m->cfg.eos_token_id, err) != 0)
        return -1;
    int n = (int)c->work.n_ids;
    if (n > c->o->max_input) {
        if (!c->warned_long)
            fprintf(stderr, "%s: line %llu: prompt of %d tokens cut to %d (--max-input); further cuts not reported\n",
                    prog, (unsigned long long)lineno, n, c->o->max_input);
        c->warned_long = 1;
        n = c->o->max_input;
    }
    for (int k = 0; k < n; k++)
        if (c->work.ids[k] >= c->m->cfg.vocab_size)
            return t0_fail(err, T0_EINPUT, "line %llu: token %d is beyond the model's vocabulary (%d)",
                           (unsigned long long)lineno, c->work.ids[k], c->m->cfg.vocab_size);
    if (n == 0) /* text that tokenizes to nothing: nothing to generate from */
        return 0;
    c->ids[i] = malloc(sizeof(int32_t) * n);
    if (!c->ids[i])
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    memcpy(c->ids[i], c->work.ids, sizeof(int32_t) * n);
    c->len[i] = n;
    return 0;
}

static int run_lines(context *c, t0_catfile *cat, t0_error *err)
{
    FILE *in = t0_catfile_stream(cat);
    char *line = NULL;
    size_t cap = 0;
    uint64_t lineno = 0;
    int rc = 0, tty = c->o->interactive && isatty(0);
    for (;;) {
        if (tty) {
            fputs("> ", stderr);
            fflush(stderr);
        }
        ssize_t got = getline(&line, &cap, in);
        if (got < 0)
            break;
        lineno++;
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n')
            len--;
        if ((rc = add_line(c, line, len, lineno, err)) != 0)
            break;
        if (c->n == c->o->batch && (rc = run_batch(c, err)) != 0)
            break;
    }
    if (rc == 0 && ferror(in))
        rc = t0_fail(err, T0_EINPUT, "%s", t0_catfile_error(cat));
    if (rc == 0 && c->n)
        rc = run_batch(c, err);
    free(line);
    return rc;
}

/* ---------------------------------------------------------------- record streams */

/* one record's prompt as the whole batch (its number standing for the line number) */
static int record_prompt(context *c, const t0_record *rec, uint64_t no, t0_error *err)
{
    if (rec->kind == T0_KIND_EXAMPLE)
        return add_line(c, rec->input, strlen(rec->input), no, err);
    int n = (int)rec->input_ids.n;
    for (int k = 0; k < n; k++)
        if (rec->input_ids.v[k] < 0 || rec->input_ids.v[k] >= c->m->cfg.vocab_size)
            return t0_fail(err, T0_EINPUT, "record %llu: input id %d is beyond the model's vocabulary (%d)",
                           (unsigned long long)no, rec->input_ids.v[k], c->m->cfg.vocab_size);
    if (n > c->o->max_input) {
        if (!c->warned_long)
            fprintf(stderr, "%s: record %llu: prompt of %d tokens cut to %d (--max-input); further cuts not reported\n",
                    prog, (unsigned long long)no, n, c->o->max_input);
        c->warned_long = 1;
        n = c->o->max_input;
    }
    c->first_line = no, c->n = 1, c->ids[0] = NULL, c->len[0] = 0;
    if (n == 0)
        return 0;
    if (!(c->ids[0] = malloc(sizeof(int32_t) * n)))
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    memcpy(c->ids[0], rec->input_ids.v, sizeof(int32_t) * n);
    c->len[0] = n;
    return 0;
}

static int run_records(context *c, t0_error *err)
{
    t0_reader *r = t0_reader_open_list(c->o->inputs, c->o->n_inputs, err);
    t0_writer *w = r ? t0_writer_open(c->o->output, err) : NULL;
    int rc = w ? 0 : -1;
    t0_record rec;
    while (rc == 0 && (rc = t0_reader_next(r, &rec, err)) > 0) {
        rc = 0;
        uint64_t no = t0_reader_count(r);
        if (rec.kind != T0_KIND_EXAMPLE && rec.kind != T0_KIND_TOKENS) {
            rc = t0_fail(err, T0_EINPUT, "%s: record %llu: expected example or tokens, got %s", t0_reader_name(r),
                         (unsigned long long)no, t0_kind_name(rec.kind));
            break;
        }
        if ((rc = record_prompt(c, &rec, no, err)) != 0)
            break;
        t0_gen_seq *s = &c->seqs[0];
        *s = (t0_gen_seq){NULL, 0, 0, 0.0};
        if (c->ids[0]) {
            uint64_t index = no - 1;
            rc = t0_gen_run(c->gen, c->ids[0], 1, c->len[0], &index, c->seqs, NULL, NULL, err);
        }
        free(c->ids[0]), c->ids[0] = NULL, c->n = 0;
        if (rc != 0)
            break;
        if (rec.kind == T0_KIND_EXAMPLE) {
            c->line_now = no;
            if ((rc = seq_text(c, s, err)) != 0)
                break;
            rec.target = c->work.len ? c->work.text : "";
        } else {
            rec.target_ids = (t0_ids){s->ids, (uint32_t)s->n};
        }
        rc = t0_writer_write(w, &rec, err);
    }
    if (r)
        t0_reader_close(r);
    if (w && rc == 0)
        return t0_writer_close(w, err);
    if (w)
        t0_writer_abort(w);
    return -1;
}

static int run(const options *o, t0_error *err)
{
    context c = {.o = o};
    t0_outfile out = {0};
    int rc = -1;
    t5_set_threads(o->threads);
    if (!(c.m = t5_model_open_mapped(o->model, err)) || t5_model_use_dtype(c.m, o->dtype, err) != 0 ||
        !(c.spm = t0_spm_load(o->model, err)))
        goto done;
    if (c.m->cfg.pad_token_id != 0) {
        t0_fail(err, T0_EINPUT, "%s: pad_token_id %d: only 0 is supported", o->model, c.m->cfg.pad_token_id);
        goto done;
    }
    if (!(c.gen = t0_gen_create(c.m, &o->gen, err)))
        goto done;
    c.ids = calloc((size_t)o->batch, sizeof *c.ids);
    c.len = calloc((size_t)o->batch, sizeof *c.len);
    c.seqs = calloc((size_t)o->batch * o->gen.num_return, sizeof *c.seqs);
    if (!c.ids || !c.len || !c.seqs) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        goto done;
    }
    if (o->records) {
        rc = run_records(&c, err);
        goto done;
    }
    t0_catfile *in = t0_catfile_open(o->inputs, o->n_inputs, err);
    if (!in || t0_outfile_open(&out, o->output, 0, err) != 0) {
        t0_catfile_close(in);
        goto done;
    }
    c.out = out.f;
    rc = run_lines(&c, in, err);
    t0_catfile_close(in);
    if (rc == 0)
        rc = t0_outfile_commit(&out, err);
    else
        t0_outfile_abort(&out);
done:
    for (int i = 0; c.ids && i < o->batch; i++)
        free(c.ids[i]);
    free(c.ids);
    free(c.len);
    free(c.seqs);
    free(c.kept);
    t0_spm_work_free(&c.work);
    t0_gen_free(c.gen);
    t0_spm_free(c.spm);
    t5_model_free(c.m);
    return rc;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    enum { OPT_MAX_NEW = 256, OPT_MAX_INPUT, OPT_INPUT_EOS, OPT_BEAM, OPT_LP, OPT_EARLY, OPT_NUM_RETURN, OPT_NGRAM,
           OPT_SAMPLE, OPT_TEMP, OPT_TOPK, OPT_TOPP, OPT_SEED, OPT_BATCH, OPT_THREADS, OPT_IDS, OPT_DTYPE };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},           {"output", required_argument, 0, 'o'},
        {"max-new-tokens", required_argument, 0, OPT_MAX_NEW}, {"max-input", required_argument, 0, OPT_MAX_INPUT},
        {"input-eos", no_argument, 0, OPT_INPUT_EOS},   {"beam", required_argument, 0, OPT_BEAM},
        {"length-penalty", required_argument, 0, OPT_LP}, {"early-stopping", no_argument, 0, OPT_EARLY},
        {"num-return", required_argument, 0, OPT_NUM_RETURN}, {"no-repeat-ngram", required_argument, 0, OPT_NGRAM},
        {"sample", no_argument, 0, OPT_SAMPLE},         {"temperature", required_argument, 0, OPT_TEMP},
        {"top-k", required_argument, 0, OPT_TOPK},      {"top-p", required_argument, 0, OPT_TOPP},
        {"seed", required_argument, 0, OPT_SEED},       {"batch", required_argument, 0, OPT_BATCH},
        {"threads", required_argument, 0, OPT_THREADS}, {"ids", no_argument, 0, OPT_IDS},
        {"dtype", required_argument, 0, OPT_DTYPE},
        {"interactive", no_argument, 0, 'i'},           {"records", no_argument, 0, 'r'},           {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},               {0, 0, 0, 0}};
    options o = {.output = "-", .dtype = "stored", .max_input = 1024, .batch = 8, .threads = 1};
    t0_gen_defaults(&o.gen);
    t0_error err = {0};
    int64_t v = 0;
    double f = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:o:irhV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': o.model = optarg; break;
        case OPT_DTYPE: o.dtype = optarg; break;
        case 'o': o.output = optarg; break;
        case 'i': o.interactive = 1; break;
        case 'r': o.records = 1; break;
        case OPT_INPUT_EOS: o.input_eos = 1; break;
        case OPT_EARLY: o.gen.early_stopping = 1; break;
        case OPT_SAMPLE: o.gen.sample = 1; break;
        case OPT_IDS: o.ids = 1; break;
        case OPT_MAX_NEW: bad = t0_parse_int(optarg, 1, 1 << 20, "--max-new-tokens", &v, &err), o.gen.max_new_tokens = (int)v; break;
        case OPT_MAX_INPUT: bad = t0_parse_int(optarg, 1, 1 << 20, "--max-input", &v, &err), o.max_input = (int)v; break;
        case OPT_BEAM: bad = t0_parse_int(optarg, 1, 64, "--beam", &v, &err), o.gen.num_beams = (int)v; break;
        case OPT_NUM_RETURN: bad = t0_parse_int(optarg, 1, 64, "--num-return", &v, &err), o.gen.num_return = (int)v; break;
        case OPT_NGRAM: bad = t0_parse_int(optarg, 0, 1 << 20, "--no-repeat-ngram", &v, &err), o.gen.no_repeat_ngram = (int)v; break;
        case OPT_TOPK: bad = t0_parse_int(optarg, 0, INT32_MAX, "--top-k", &v, &err), o.gen.top_k = (int)v; break;
        case OPT_SEED: bad = t0_parse_int(optarg, 0, INT64_MAX, "--seed", &v, &err), o.gen.seed = (uint64_t)v; break;
        case OPT_BATCH: bad = t0_parse_int(optarg, 1, 4096, "--batch", &v, &err), o.batch = (int)v; break;
        case OPT_THREADS: bad = t0_parse_int(optarg, 1, T5_MAX_THREADS, "--threads", &v, &err), o.threads = (int)v; break;
        case OPT_LP: bad = t0_parse_float(optarg, -100, 100, "--length-penalty", &f, &err), o.gen.length_penalty = f; break;
        case OPT_TEMP: bad = t0_parse_float(optarg, 1e-6, 1e6, "--temperature", &f, &err), o.gen.temperature = (float)f; break;
        case OPT_TOPP: bad = t0_parse_float(optarg, 1e-6, 1, "--top-p", &f, &err), o.gen.top_p = (float)f; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
        if (bad)
            return t0_cli_report(prog, &err);
    }
    if (!o.model)
        return t0_cli_usage_error(prog, "-m MODEL_DIR is required");
    o.inputs = argv + optind, o.n_inputs = argc - optind;
    if (o.gen.sample && o.gen.num_beams > 1)
        return t0_cli_usage_error(prog, "--sample and --beam exclude each other");
    if (o.gen.num_beams > 1 && o.gen.num_return > o.gen.num_beams)
        return t0_cli_usage_error(prog, "--num-return must not exceed --beam");
    if (o.gen.num_beams == 1 && !o.gen.sample && o.gen.num_return > 1)
        return t0_cli_usage_error(prog, "--num-return needs --beam or --sample");
    if (o.records && (o.interactive || o.gen.num_return > 1))
        return t0_cli_usage_error(prog, "--records gives one target a record (no -i, no --num-return)");
    if (o.interactive) {
        if (o.gen.num_return > 1)
            return t0_cli_usage_error(prog, "-i shows one sequence a prompt (no --num-return)");
        o.batch = 1;
    }
    char blas_note[256];
    if (t5_blas_fix(argv, blas_note, sizeof blas_note)) /* may run this program again on OpenBLAS's right core */
        fprintf(stderr, "%s: note: %s\n", prog, blas_note);
    if (run(&o, &err))
        return t0_cli_report(prog, &err);
    return 0;
}
