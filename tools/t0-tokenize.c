/* t0-tokenize: example records -> token records with T5's SentencePiece model; or, with
 * --text / --decode, text lines <-> id lines as spm_encode / spm_decode do. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/catfile.h"
#include "common/cli.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/utf8.h"
#include "common/progress.h"
#include "spm/spm.h"
#include "spm/spm_batch.h"
#include "spm/spm_idline.h"
#include "spm/spm_records.h"
#include "stream/record_copy.h"
#include "stream/stream.h"

static const char *prog = "t0-tokenize";

static const char usage[] =
    "Usage: t0-tokenize -m MODEL [OPTIONS] [FILE...]\n"
    "Tokenize example records (FILEs read in order as one stream; '-' or none: standard input)\n"
    "into token records with T5's\n"
    "SentencePiece unigram model: inputs without EOS, targets and every answer choice with\n"
    "EOS appended. task, template, id and label pass through.\n"
    "\n"
    "  -m, --model MODEL     spiece.model, tokenizer.json (Unigram), or a model directory\n"
    "  -o, --output FILE     write to FILE (created whole or not at all), else standard output\n"
    "      --input-len N     keep the first N input ids (default: all)\n"
    "      --target-len N    keep the first N target/choice ids, the last one still EOS\n"
    "      --text            text lines in, lines of space-separated ids out (EOS appended)\n"
    "      --pieces          with --text: print pieces instead of ids\n"
    "      --no-eos          append no EOS; --text --no-eos gives spm_encode's ids, except that\n"
    "                        <extra_id_N> in the text becomes sentinel N (as Hugging Face's\n"
    "                        T5 tokenizer does; spm_encode splits it into plain pieces)\n"
    "      --no-sentinels    read <extra_id_N> as plain text, as spm_encode does\n"
    "      --decode          lines of ids in, text lines out, as spm_decode does\n"
    "      --lines           text lines in, token records out: one record a line that has ids\n"
    "                        (blank lines skipped), its ids as input_ids (no EOS, no target),\n"
    "                        id its line number: the documents of t0-pack --objective\n"
    "      --task NAME       with --lines: the records' task (default: the file's name, 'text'\n"
    "                        on standard input)\n"
    "      --threads N       tokenize on N threads (output order is kept; default 1)\n"
    "      --progress        progress on standard error from the start (default: a rewritten\n"
    "                        line on a terminal; elsewhere, past 10 s, a line a minute)\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "T5's conventions: pad 0, eos 1, unk 2; <extra_id_0>..<extra_id_99> are the ids\n"
    "vocab_size-1-N (32099..32000 for T5, appended after the model's pieces) and are\n"
    "recognised in text, whitespace around them dropped, as Hugging Face's T5 tokenizer does.\n"
    "\n"
    "Examples:\n"
    "  t0-render ... | t0-tokenize -m t0_3b/ --input-len 1024 --target-len 256 -o train.t0\n"
    "  echo 'Hello world' | t0-tokenize -m spiece.model --text --no-eos\n"
    "  t0-tokenize -m spiece.model --lines -o corpus.t0 corpus.txt\n"
    "  echo '8774 296 1' | t0-tokenize -m spiece.model --decode\n";

/* A batch is worth some milliseconds of work, so that starting and joining its threads
 * (and waiting for a busy machine to schedule them) costs little beside it. */
enum { BATCH_ITEMS = 4096, BATCH_LINES = 1 << 17, BATCH_BYTES = 4 << 20 };

typedef struct {
    const char *model, *output, *task;
    char **inputs; /* n_inputs files; standard input when 0 */
    int n_inputs;
    int lines;
    int text, pieces, no_eos, no_sentinels, decode, threads, progress;
    int64_t input_len, target_len; /* 0: no limit */
} options;

/* Per-thread state kept from batch to batch. */
typedef struct {
    t0_spm_work work;
    t0_buf out; /* text mode: the lines this thread formatted */
} worker;

typedef struct {
    const options *opt;
    const t0_spm *m;
    worker *workers;
    int32_t eos; /* -1: append none */
    t0_spm_record_opts record_opts; /* record mode: the options as the library takes them */
    uint64_t done;  /* lines or records written */
    t0_progress progress;
} context;

/* T5's tokenizer (sentinels split out of the text), or spm_encode's with --no-sentinels. */
static int encode(const context *c, const char *s, size_t n, t0_spm_work *w, t0_error *err)
{
    return c->opt->no_sentinels ? t0_spm_encode_plain(c->m, s, n, w, err)
                                : t0_spm_encode(c->m, s, n, w, err);
}

/* After each batch: "N lines, R/s"; final ends the stage. */
static void show_progress(context *c, const char *unit, int final)
{
    t0_progress *p = &c->progress;
    double secs = t0_now() - p->started, rate = secs > 0 ? (double)c->done / secs : 0.0;
    if (final)
        t0_progress_end(p, "%llu %s, %.0f/s", (unsigned long long)c->done, unit, rate);
    else if (t0_progress_due(p, c->done))
        t0_progress_show(p, "%llu %s, %.0f/s", (unsigned long long)c->done, unit, rate);
}

/* ---------------- text mode: lines in, lines out ---------------- */

typedef struct {
    context *ctx;
    char *data; /* the lines, without their '\n' */
    size_t len, cap;
    size_t *off; /* line i is data[off[i] .. off[i + 1]) */
    size_t n, cap_off;
    uint64_t first; /* line number of the first line, for messages */
} line_batch;

static int text_line(context *c, worker *wk, const char *s, size_t n, t0_error *err)
{
    t0_spm_work *w = &wk->work;
    t0_spm_work_reset(w);
    if (c->opt->decode) {
        if (t0_spm_parse_id_line(s, n, w, err) || t0_spm_decode(c->m, w->ids, w->n_ids, w, err))
            return -1;
        return t0_buf_append(&wk->out, w->text, w->len, err);
    }
    if (encode(c, s, n, w, err))
        return -1;
    if (c->eos >= 0 && t0_spm_push_id(w, c->eos, err))
        return -1;
    if (!c->opt->pieces)
        return t0_spm_put_id_line(&wk->out, w->ids, w->n_ids, err);
    if (c->eos >= 0) {
        size_t len;
        const char *eos = t0_spm_id_to_piece(c->m, c->eos, &len);
        if ((w->len && t0_spm_append_text(w, " ", 1)) || t0_spm_append_text(w, eos, len))
            return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    return t0_buf_append(&wk->out, w->text, w->len, err);
}

static int text_range(void *arg, size_t begin, size_t end, int thread, t0_error *err)
{
    line_batch *b = arg;
    worker *wk = &b->ctx->workers[thread];
    wk->out.len = 0;
    for (size_t i = begin; i < end; i++) {
        size_t n = b->off[i + 1] - b->off[i];
        if (text_line(b->ctx, wk, b->data + b->off[i], n, err) ||
            t0_buf_append(&wk->out, "\n", 1, err)) {
            const options *o = b->ctx->opt;
            /* several files: lines count through them, as concatenated */
            const char *in = o->n_inputs > 1 ? "input" : o->n_inputs && strcmp(o->inputs[0], "-") ? o->inputs[0] : "(stdin)";
            t0_error_prefix(err, "%s: line %llu", in, (unsigned long long)(b->first + i));
            return -1;
        }
    }
    return 0;
}

static int add_line(line_batch *b, const char *s, size_t n, t0_error *err)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : BATCH_BYTES;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        b->data = d, b->cap = cap;
    }
    if (b->n + 2 > b->cap_off) {
        size_t cap = b->cap_off ? 2 * b->cap_off : 4096;
        size_t *o = realloc(b->off, cap * sizeof *o);
        if (!o)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        b->off = o, b->cap_off = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->off[b->n++] = b->len;
    b->len += n;
    b->off[b->n] = b->len;
    return 0;
}

/* Writes what the threads made of a batch, in order. */
static int write_lines(line_batch *b, FILE *out, t0_error *err)
{
    int threads = b->ctx->opt->threads < (int)b->n ? b->ctx->opt->threads : (int)b->n;
    for (int t = 0; t < threads; t++) {
        t0_buf *o = &b->ctx->workers[t].out;
        if (o->len && fwrite(o->p, 1, o->len, out) != o->len)
            return t0_fail(err, T0_EINPUT, "write error");
    }
    b->ctx->done += b->n;
    show_progress(b->ctx, "lines", 0);
    b->n = b->len = 0;
    return 0;
}

/* Waits for the batch in flight, if any, and writes it. */
static int finish_lines(t0_spm_run **run, line_batch *b, FILE *out, t0_error *err)
{
    if (!*run)
        return 0;
    int rc = t0_spm_parallel_wait(*run, err);
    *run = NULL;
    return rc ? -1 : write_lines(b, out, err);
}

/* Lines are read into one batch while the threads tokenize the other. */
static int run_text(context *c, t0_catfile *cat, FILE *out, t0_error *err)
{
    FILE *in = t0_catfile_stream(cat);
    line_batch batch[2] = {{.ctx = c, .first = 1}, {.ctx = c}};
    int cur = 0;
    t0_spm_run *run = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        if (n && line[n - 1] == '\n')
            n--;
        lineno++;
        line_batch *b = &batch[cur];
        if (b->n == 0)
            b->first = lineno;
        rc = add_line(b, line, (size_t)n, err);
        if (rc == 0 && (b->n >= BATCH_LINES || b->len >= BATCH_BYTES)) {
            rc = finish_lines(&run, &batch[1 - cur], out, err);
            if (rc == 0 && !(run = t0_spm_parallel_start(b->n, b->off, c->opt->threads, text_range, b, err)))
                rc = -1;
            cur = 1 - cur;
        }
    }
    if (rc == 0 && ferror(in))
        rc = t0_fail(err, T0_EINPUT, "%s", t0_catfile_error(cat));
    int last = finish_lines(&run, &batch[1 - cur], out, err);
    rc = rc ? rc : last;
    if (rc == 0 && batch[cur].n) {
        if (!(run = t0_spm_parallel_start(batch[cur].n, batch[cur].off, c->opt->threads, text_range,
                                         &batch[cur], err)))
            rc = -1;
        else
            rc = finish_lines(&run, &batch[cur], out, err);
    }
    if (rc == 0)
        show_progress(c, "lines", 1);
    free(line);
    for (int k = 0; k < 2; k++) {
        free(batch[k].data);
        free(batch[k].off);
    }
    return rc;
}

/* ---------------- record mode: examples in, tokens out ---------------- */

typedef struct {
    context *ctx;
    t0_record *examples; /* copies, strings owned */
    t0_record *out;      /* their tokens records: strings borrowed from the example, ids owned */
    size_t n;
    size_t *cum; /* cum[i]: text bytes of examples 0..i-1, to split the work evenly */
} record_batch;

static int record_range(void *arg, size_t begin, size_t end, int thread, t0_error *err)
{
    record_batch *b = arg;
    const context *c = b->ctx;
    t0_spm_work *w = &c->workers[thread].work;
    for (size_t i = begin; i < end; i++)
        if (t0_spm_tokenize_example(c->m, &c->record_opts, &b->examples[i], &b->out[i], w, err))
            return -1;
    return 0;
}

static int flush_records(record_batch *b, t0_writer *wr, t0_error *err)
{
    int rc = t0_spm_parallel(b->n, b->cum, b->ctx->opt->threads, record_range, b, err);
    for (size_t i = 0; i < b->n; i++) {
        int blank = b->ctx->opt->lines && b->out[i].input_ids.n == 0; /* whitespace only */
        if (rc == 0 && !blank)
            rc = t0_writer_write(wr, &b->out[i], err);
        t0_record_free_ids(&b->out[i]);
        t0_record_free_example(&b->examples[i]);
    }
    b->ctx->done += b->n;
    show_progress(b->ctx, "records", 0);
    b->n = 0;
    return rc;
}

/* --lines: the next non-empty text line as an example record (strings point into *line). */
typedef struct {
    t0_catfile *cat;
    FILE *f;
    char *line;
    size_t cap;
    uint64_t lineno;
    const char *task;
} line_source;

static int next_line(line_source *ls, t0_record *rec, t0_error *err)
{
    ssize_t n;
    while ((n = getline(&ls->line, &ls->cap, ls->f)) >= 0) {
        ls->lineno++;
        while (n && (ls->line[n - 1] == '\n' || ls->line[n - 1] == '\r'))
            ls->line[--n] = 0;
        if (n == 0)
            continue;
        if (t0_check_text(ls->line, (size_t)n, "text", err)) {
            t0_error_prefix(err, "line %llu", (unsigned long long)ls->lineno);
            return -1;
        }
        *rec = (t0_record){.kind = T0_KIND_EXAMPLE, .task = ls->task, .template_name = "", .id = ls->lineno,
                           .input = ls->line, .target = "", .label = -1};
        return 1;
    }
    return ferror(ls->f) ? t0_fail(err, T0_EINPUT, "%s", t0_catfile_error(ls->cat)) : 0;
}

/* The records' task with --lines: --task, else the file's name without its folder. */
static const char *lines_task(const options *o)
{
    if (o->task)
        return o->task;
    if (o->n_inputs != 1 || strcmp(o->inputs[0], "-") == 0)
        return "text";
    const char *slash = strrchr(o->inputs[0], '/');
    return slash ? slash + 1 : o->inputs[0];
}

/* The next example: a record read, or with --lines a text line. */
static int next_example(t0_reader *r, line_source *ls, t0_record *rec, t0_error *err)
{
    if (ls)
        return next_line(ls, rec, err);
    int got = t0_reader_next(r, rec, err);
    if (got > 0 && t0_reader_expect(r, rec, T0_KIND_EXAMPLE, err))
        return -1;
    return got;
}

static int run_records(context *c, t0_writer *wr, t0_error *err)
{
    line_source lines = {.task = lines_task(c->opt)}, *ls = NULL;
    t0_catfile *cat = NULL;
    t0_reader *r = NULL;
    if (c->opt->lines) {
        if (!(cat = t0_catfile_open(c->opt->inputs, c->opt->n_inputs, err)))
            return -1;
        lines.cat = cat, lines.f = t0_catfile_stream(cat);
        ls = &lines;
    } else if (!(r = t0_reader_open_list(c->opt->inputs, c->opt->n_inputs, err))) {
        return -1;
    }
    record_batch b = {.ctx = c};
    b.examples = calloc(BATCH_ITEMS, sizeof *b.examples);
    b.out = calloc(BATCH_ITEMS, sizeof *b.out);
    b.cum = calloc(BATCH_ITEMS + 1, sizeof *b.cum);
    int rc = b.examples && b.out && b.cum ? 0 : t0_fail(err, T0_EINTERNAL, "out of memory");
    size_t bytes = 0;
    t0_record rec;
    while (rc == 0 && (rc = next_example(r, ls, &rec, err)) > 0) {
        rc = t0_record_copy_example(&b.examples[b.n], &rec, err);
        if (rc)
            break;
        b.n++;
        bytes += strlen(rec.input) + strlen(rec.target) + 1;
        for (uint32_t k = 0; k < rec.n_choices; k++)
            bytes += strlen(rec.choices[k]) + 1;
        b.cum[b.n] = bytes;
        if (b.n == BATCH_ITEMS || bytes >= BATCH_BYTES) {
            rc = flush_records(&b, wr, err);
            bytes = 0;
        }
    }
    if (rc == 0)
        rc = flush_records(&b, wr, err);
    if (rc == 0)
        show_progress(c, "records", 1);
    else
        for (size_t i = 0; i < b.n; i++)
            t0_record_free_example(&b.examples[i]);
    free(b.examples);
    free(b.out);
    free(b.cum);
    if (r)
        t0_reader_close(r);
    t0_catfile_close(cat);
    free(lines.line);
    return rc;
}

/* ---------------- wiring ---------------- */

static int run_text_mode(context *c, t0_error *err)
{
    const options *o = c->opt;
    t0_catfile *in = t0_catfile_open(o->inputs, o->n_inputs, err);
    if (!in)
        return -1;
    t0_outfile out = {0};
    int rc = t0_outfile_open(&out, o->output, 0, err);
    if (rc == 0)
        rc = run_text(c, in, out.f, err);
    if (rc == 0)
        rc = t0_outfile_commit(&out, err);
    else
        t0_outfile_abort(&out);
    t0_catfile_close(in);
    return rc;
}

static int run_record_mode(context *c, t0_error *err)
{
    t0_writer *wr = t0_writer_open(c->opt->output, err);
    if (!wr)
        return -1;
    if (run_records(c, wr, err)) {
        t0_writer_abort(wr);
        return -1;
    }
    return t0_writer_close(wr, err);
}

static int run(const options *o, t0_error *err)
{
    t0_spm *m = t0_spm_load(o->model, err);
    if (!m)
        return -1;
    context c = {.opt = o, .m = m, .eos = o->no_eos || o->decode ? -1 : m->eos_id};
    c.record_opts = (t0_spm_record_opts){.plain = o->no_sentinels, .eos = c.eos, .input_len = o->input_len,
                                         .target_len = o->target_len, .no_target = o->lines};
    t0_progress_begin(&c.progress, prog, o->progress ? t0_progress_mode_default() : T0_PROGRESS_OFF,
                      o->progress == 2, 0, o->text || o->decode ? "tokenizing lines" : "tokenizing records");
    int rc = 0;
    if (!o->no_eos && !o->decode && m->eos_id < 0)
        rc = t0_fail(err, T0_EINPUT, "%s: the model has no </s> piece to append (use --no-eos)",
                     o->model);
    c.workers = calloc((size_t)o->threads, sizeof *c.workers);
    if (rc == 0 && !c.workers)
        rc = t0_fail(err, T0_EINTERNAL, "out of memory");
    for (int t = 0; rc == 0 && t < o->threads; t++)
        c.workers[t].work.want_pieces = o->pieces;
    if (rc == 0)
        rc = o->text || o->decode ? run_text_mode(&c, err) : run_record_mode(&c, err);
    for (int t = 0; c.workers && t < o->threads; t++) {
        t0_spm_work_free(&c.workers[t].work);
        t0_buf_free(&c.workers[t].out);
    }
    free(c.workers);
    t0_spm_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    enum { OPT_INPUT_LEN = 256, OPT_TARGET_LEN, OPT_TEXT, OPT_PIECES, OPT_NO_EOS, OPT_DECODE,
           OPT_THREADS, OPT_PROGRESS, OPT_NO_SENTINELS, OPT_LINES, OPT_TASK };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},     {"output", required_argument, 0, 'o'},
        {"input-len", required_argument, 0, OPT_INPUT_LEN},
        {"target-len", required_argument, 0, OPT_TARGET_LEN},
        {"text", no_argument, 0, OPT_TEXT},       {"pieces", no_argument, 0, OPT_PIECES},
        {"no-eos", no_argument, 0, OPT_NO_EOS},   {"decode", no_argument, 0, OPT_DECODE},
        {"no-sentinels", no_argument, 0, OPT_NO_SENTINELS},
        {"lines", no_argument, 0, OPT_LINES},     {"task", required_argument, 0, OPT_TASK},
        {"threads", required_argument, 0, OPT_THREADS},
        {"progress", no_argument, 0, OPT_PROGRESS},
        {"help", no_argument, 0, 'h'},            {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    options o = {.output = "-", .threads = 1, .progress = 1};
    t0_error err = {0};
    int64_t threads = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:o:hV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': o.model = optarg; break;
        case 'o': o.output = optarg; break;
        case OPT_INPUT_LEN: bad = t0_parse_int(optarg, 1, INT32_MAX, "--input-len", &o.input_len, &err); break;
        case OPT_TARGET_LEN: bad = t0_parse_int(optarg, 1, INT32_MAX, "--target-len", &o.target_len, &err); break;
        case OPT_TEXT: o.text = 1; break;
        case OPT_PIECES: o.pieces = 1; break;
        case OPT_NO_EOS: o.no_eos = 1; break;
        case OPT_NO_SENTINELS: o.no_sentinels = 1; break;
        case OPT_DECODE: o.decode = 1; break;
        case OPT_LINES: o.lines = 1; break;
        case OPT_TASK: o.task = optarg; break;
        case OPT_PROGRESS: o.progress = 2; break;
        case OPT_THREADS: bad = t0_parse_int(optarg, 1, 256, "--threads", &threads, &err); break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
        if (bad)
            return t0_cli_report(prog, &err);
    }
    o.threads = (int)threads;
    if (!o.model)
        return t0_cli_usage_error(prog, "-m MODEL is required");
    if (o.text && o.decode)
        return t0_cli_usage_error(prog, "--text and --decode exclude each other");
    if (o.lines && (o.text || o.decode))
        return t0_cli_usage_error(prog, "--lines writes token records: not with --text or --decode");
    if (o.task && !o.lines)
        return t0_cli_usage_error(prog, "--task goes with --lines");
    if (o.pieces && !o.text)
        return t0_cli_usage_error(prog, "--pieces needs --text");
    o.inputs = argv + optind, o.n_inputs = argc - optind;
    if (run(&o, &err))
        return t0_cli_report(prog, &err);
    return 0;
}
