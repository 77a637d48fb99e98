/* t0-cat: print record streams as JSON lines, turn JSON lines back into a stream,
 * select records (head, task, shard) and count them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/outfile.h"
#include "common/strmap.h"
#include "stream/record_json.h"
#include "stream/stream.h"

static const char *prog = "t0-cat";

static const char usage[] =
    "Usage: t0-cat [OPTIONS] [FILE...]\n"
    "Print t0 record streams (FILEs, or standard input) as JSON lines, one record a line.\n"
    "\n"
    "  -e, --encode        read JSON lines (as t0-cat prints them) and write a record stream\n"
    "  -s, --stream        write the selected records as a stream instead of JSON lines\n"
    "  -n, --head N        stop after N records\n"
    "      --task NAME     only records whose task is NAME\n"
    "      --shard I/N     only records at positions p with p % N == I (0 <= I < N): the N shards\n"
    "                      are disjoint and together are the input, for GNU parallel\n"
    "  -c, --count         print record counts per kind and per task as one JSON object\n"
    "  -o, --output FILE   write to FILE (created whole or not at all) instead of standard output\n"
    "  -h, --help          show this help\n"
    "  -V, --version       show the version\n"
    "\n"
    "Examples:\n"
    "  t0-cat rendered.t0 | head\n"
    "  t0-cat x.t0 | jq -c 'select(.label >= 0)' | t0-cat --encode -o y.t0\n"
    "  parallel 't0-cat --stream --shard {}/4 in.t0 | t0-score ...' ::: 0 1 2 3\n"
    "\n"
    "The byte layout of streams is documented in lib/stream/stream.h.\n";

typedef struct {
    int encode, stream_out, count;
    int64_t head; /* -1: all */
    const char *task;
    int64_t shard_i, shard_n; /* shard_n 0: no sharding */
    const char *output;
} options;

/* ---- counting ---- */

typedef struct {
    uint64_t total, per_kind[T0_KIND_COUNT];
    t0_strmap tasks; /* records per task, in first-seen order */
} counts;

static int count_record(counts *c, const t0_record *rec, t0_error *err)
{
    c->total++;
    c->per_kind[rec->kind]++;
    if (rec->kind == T0_KIND_BATCH)
        return 0;
    t0_strmap_entry *task = t0_strmap_add(&c->tasks, rec->task, err);
    if (!task)
        return -1;
    task->value++;
    return 0;
}

static int print_counts(counts *c, FILE *out, t0_error *err)
{
    t0_buf b = {0};
    int rc = t0_buf_printf(&b, err, "{\"records\":%llu,\"kinds\":{", (unsigned long long)c->total);
    int first = 1;
    for (int k = 1; k < T0_KIND_COUNT && rc == 0; k++) {
        if (!c->per_kind[k])
            continue;
        rc = t0_buf_printf(&b, err, "%s\"%s\":%llu", first ? "" : ",", t0_kind_name((t0_kind)k),
                           (unsigned long long)c->per_kind[k]);
        first = 0;
    }
    if (rc == 0)
        rc = t0_buf_puts(&b, "},\"tasks\":{", err);
    for (size_t i = 0; i < c->tasks.n && rc == 0; i++) {
        const t0_strmap_entry *task = &c->tasks.entries[i];
        if (i)
            rc = t0_buf_puts(&b, ",", err);
        if (rc == 0)
            rc = json_put_string(&b, task->key, strlen(task->key), err);
        if (rc == 0)
            rc = t0_buf_printf(&b, err, ":%llu", (unsigned long long)task->value);
    }
    if (rc == 0)
        rc = t0_buf_puts(&b, "}}\n", err);
    if (rc == 0)
        fwrite(b.p, 1, b.len, out);
    t0_buf_free(&b);
    return rc;
}

/* ---- the record pipeline: sources -> selection -> sink ---- */

typedef struct {
    const options *opt;
    uint64_t position; /* of the next record across all inputs */
    int64_t emitted;
    t0_outfile out;    /* JSON lines or counts */
    t0_writer *writer; /* stream output */
    t0_buf line;
    counts counts;
} pipeline;

/* 1: keep going, 0: --head reached, -1: error. */
static int take_record(pipeline *p, const t0_record *rec, t0_error *err)
{
    const options *opt = p->opt;
    if (opt->head >= 0 && p->emitted >= opt->head)
        return 0;
    uint64_t pos = p->position++;
    if (opt->shard_n && pos % (uint64_t)opt->shard_n != (uint64_t)opt->shard_i)
        return 1;
    if (opt->task && (rec->kind == T0_KIND_BATCH || strcmp(rec->task, opt->task) != 0))
        return 1;
    int rc;
    if (opt->count) {
        rc = count_record(&p->counts, rec, err);
    } else if (p->writer) {
        rc = t0_writer_write(p->writer, rec, err);
    } else {
        p->line.len = 0;
        rc = t0_record_to_json(rec, &p->line, err);
        if (rc == 0 && t0_buf_append(&p->line, "\n", 1, err) == 0)
            fwrite(p->line.p, 1, p->line.len, p->out.f);
    }
    if (rc)
        return -1;
    p->emitted++;
    return opt->head >= 0 && p->emitted >= opt->head ? 0 : 1;
}

static int run_stream_input(pipeline *p, const char *path, t0_error *err)
{
    t0_reader *r = t0_reader_open(path, err);
    if (!r)
        return -1;
    t0_record rec;
    int rc;
    while ((rc = t0_reader_next(r, &rec, err)) > 0) {
        rc = take_record(p, &rec, err);
        if (rc <= 0)
            break;
    }
    t0_reader_close(r);
    return rc;
}

static int run_jsonl_input(pipeline *p, const char *path, t0_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "(stdin)" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return t0_fail(err, T0_EINPUT, "%s: cannot open", path);
    t0_record_parser *parser = t0_record_parser_new(err);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    int rc = parser ? 1 : -1;
    while (rc > 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)n)
            continue; /* blank line */
        t0_record rec;
        rc = t0_record_from_json(parser, line, (size_t)n, &rec, err);
        if (rc)
            t0_error_prefix(err, "%s: line %llu", name, (unsigned long long)lineno);
        else
            rc = take_record(p, &rec, err);
    }
    if (rc > 0 && ferror(f))
        rc = t0_fail(err, T0_EINPUT, "%s: read error", name);
    free(line);
    t0_record_parser_free(parser);
    if (!is_stdin)
        fclose(f);
    return rc;
}

static int run(const options *opt, char **inputs, int n_inputs, t0_error *err)
{
    pipeline p = {.opt = opt};
    int binary = opt->stream_out && !opt->count;
    int rc = 0;
    if (binary) {
        p.writer = t0_writer_open(opt->output, err);
        rc = p.writer ? 0 : -1;
    } else {
        rc = t0_outfile_open(&p.out, opt->output, 0, err);
    }
    for (int i = 0; i < n_inputs && rc == 0; i++) {
        int r = opt->encode ? run_jsonl_input(&p, inputs[i], err) : run_stream_input(&p, inputs[i], err);
        rc = r < 0 ? -1 : 0;
        if (r == 0 && opt->head >= 0 && p.emitted >= opt->head)
            break;
    }
    if (rc == 0 && opt->count)
        rc = print_counts(&p.counts, p.out.f, err);
    if (binary) {
        if (rc == 0)
            rc = t0_writer_close(p.writer, err);
        else if (p.writer)
            t0_writer_abort(p.writer);
    } else if (p.out.f) {
        if (rc == 0)
            rc = t0_outfile_commit(&p.out, err);
        else
            t0_outfile_abort(&p.out);
    }
    t0_buf_free(&p.line);
    t0_strmap_free(&p.counts.tasks);
    return rc;
}

static int parse_shard(const char *text, options *opt, t0_error *err)
{
    char *slash = strchr(text, '/');
    if (!slash)
        return t0_fail(err, T0_EINPUT, "--shard: expected I/N, got '%s'", text);
    char index[32];
    size_t n = (size_t)(slash - text);
    if (n >= sizeof index)
        n = sizeof index - 1;
    memcpy(index, text, n);
    index[n] = '\0';
    if (t0_parse_int(slash + 1, 1, INT32_MAX, "--shard N", &opt->shard_n, err) ||
        t0_parse_int(index, 0, opt->shard_n - 1, "--shard I", &opt->shard_i, err))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    static const struct option longopts[] = {
        {"encode", no_argument, 0, 'e'}, {"stream", no_argument, 0, 's'},
        {"head", required_argument, 0, 'n'}, {"task", required_argument, 0, 't'},
        {"shard", required_argument, 0, 'S'}, {"count", no_argument, 0, 'c'},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    options opt = {.head = -1, .output = "-"};
    t0_error err = {0};
    int c;
    while ((c = getopt_long(argc, argv, "esn:co:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': opt.encode = opt.stream_out = 1; break;
        case 's': opt.stream_out = 1; break;
        case 'c': opt.count = 1; break;
        case 't': opt.task = optarg; break;
        case 'o': opt.output = optarg; break;
        case 'n':
            if (t0_parse_int(optarg, 0, INT64_MAX, "--head", &opt.head, &err))
                return t0_cli_report(prog, &err);
            break;
        case 'S':
            if (parse_shard(optarg, &opt, &err))
                return t0_cli_report(prog, &err);
            break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
    }
    char *stdin_only[] = {"-"};
    char **inputs = optind < argc ? argv + optind : stdin_only;
    int n_inputs = optind < argc ? argc - optind : 1;
    if (run(&opt, inputs, n_inputs, &err))
        return t0_cli_report(prog, &err);
    return 0;
}
