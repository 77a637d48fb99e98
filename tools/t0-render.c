/* t0-render: JSONL examples -> example records, through promptsource templates
 * (lib/render/templates.h has the semantics, lib/render/jinja.h the engine). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/progress.h"
#include "render/jinja.h"
#include "render/pyval.h"
#include "stream/stream.h"
#include "render/templates.h"
#include "common/textlines.h"

static const char usage[] =
    "Usage: t0-render -t TEMPLATES.yaml [-n NAME]... [--original-task] [--seed S] [--strict]\n"
    "                 [-o OUT] [FILE.jsonl|FILE.jsonl.zst ...]\n"
    "Renders every JSON example (one object a line; stdin when no FILE) through every selected\n"
    "promptsource template, with promptsource's Template.apply semantics, and writes example\n"
    "records (task, template, id, input, target, choices, label) to OUT or stdout.\n"
    "  -t FILE          promptsource templates.yaml\n"
    "  -n NAME          only the template named NAME (repeatable; default all)\n"
    "  --original-task  only templates whose metadata says original_task: true\n"
    "  --seed S         seed of the choice/random filters (default 0; see lib/render/templates.h)\n"
    "  --strict         a field the example lacks is an error (default: jinja2's undefined, which\n"
    "                   prints as empty; a warning a template counts the records it hit)\n"
    "  -o OUT           write the stream to OUT (atomically) instead of stdout\n"
    "  --progress       examples and records/s on stderr from the start (default: a rewritten\n"
    "                   line on a terminal; elsewhere, past 10 s, a line a minute)\n"
    "  -h, --help       this text;  --version  the version\n"
    "Examples dropped by a template (no input after rendering) are counted on stderr, as are\n"
    "records whose target rendered empty (written with the target <NO LABEL>, as T0 did).\n"
    "As t-zero's seqio path did, top-level keys a-b are read as a_b; blank lines are skipped\n"
    "and not counted; ids count examples from 0 across all FILEs.\n";

typedef struct {
    const char *templates_path;
    const char **names;
    size_t n_names;
    int original_task;
    uint64_t seed;
    int strict;
    int progress;
    const char *out;
} options;

static int die(const t0_error *err) { return t0_cli_report("t0-render", err); }

/* Keeps the templates -n and --original-task select; an unknown -n name is an error. */
static int select_templates(t0_template_set *set, const options *o, t0_error *err)
{
    int *keep = calloc(set->n + 1, sizeof *keep);
    if (!keep)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (size_t j = 0; j < o->n_names; j++) {
        size_t hits = 0;
        for (size_t i = 0; i < set->n; i++)
            hits += !strcmp(set->templates[i].name, o->names[j]);
        if (!hits) {
            free(keep);
            return t0_fail(err, T0_EINPUT, "no template named '%s'", o->names[j]);
        }
    }
    for (size_t i = 0; i < set->n; i++) {
        keep[i] = !o->n_names;
        for (size_t j = 0; j < o->n_names; j++)
            keep[i] |= !strcmp(set->templates[i].name, o->names[j]);
        if (o->original_task && set->templates[i].original_task != 1)
            keep[i] = 0;
    }
    t0_templates_filter(set, keep);
    free(keep);
    return 0;
}

typedef struct {
    const options *o;
    t0_template_set *set;
    t0_writer *w;
    uint64_t examples, records;
    /* per template: examples dropped, records with <NO LABEL>, records that printed an undefined variable */
    uint64_t *dropped, *no_label, *undefined;
    t0_progress progress;
} renderer;

static void show_progress(renderer *r)
{
    if (!t0_progress_due(&r->progress, r->examples))
        return;
    double secs = t0_now() - r->progress.started;
    t0_progress_show(&r->progress, "%llu examples, %llu records, %.0f records/s", (unsigned long long)r->examples,
                     (unsigned long long)r->records, secs > 0 ? (double)r->records / secs : 0.0);
}

static int write_record(renderer *r, const t0_template *t, const t0_rendered *out, t0_error *err)
{
    t0_record rec = {0};
    rec.kind = T0_KIND_EXAMPLE;
    rec.task = r->set->task;
    rec.template_name = t->name;
    rec.id = r->examples;
    rec.input = out->input;
    rec.target = out->target;
    rec.choices = out->choices;
    rec.n_choices = out->n_choices;
    rec.label = out->label;
    r->records++;
    return t0_writer_write(r->w, &rec, err);
}

/* One JSONL line through every template. */
static int render_line(renderer *r, const char *line, size_t len, t0_error *err)
{
    pyval *json = pv_from_json(line, len, err);
    if (!json) {
        t0_error_prefix(err, "invalid JSON");
        return -1;
    }
    t0_example ex;
    int rc = t0_example_prepare(&ex, json, err);
    pv_free(json);
    for (size_t i = 0; !rc && i < r->set->n; i++) {
        const t0_template *t = &r->set->templates[i];
        t0_rendered out;
        if ((rc = t0_template_apply(t, &ex, r->o->seed, r->examples, r->o->strict, &out, err)))
            break;
        if (out.dropped) {
            r->dropped[i]++;
        } else {
            r->no_label[i] += !strcmp(out.target, T0_NO_LABEL);
            r->undefined[i] += out.undefined_printed > 0;
            rc = write_record(r, t, &out, err);
        }
        t0_rendered_clear(&out);
    }
    t0_example_clear(&ex);
    r->examples++;
    return rc;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r", s[i]))
            return 0;
    return 1;
}

static int render_file(renderer *r, const char *path, t0_error *err)
{
    t0_lines *in = t0_lines_open(path, err);
    if (!in)
        return -1;
    const char *line;
    size_t len;
    int rc;
    while ((rc = t0_lines_next(in, &line, &len, err)) > 0) {
        if (is_blank(line, len))
            continue;
        if ((r->examples & 1023) == 0)
            show_progress(r);
        if (render_line(r, line, len, err)) {
            t0_error_prefix(err, "%s:%llu", t0_lines_name(in), (unsigned long long)t0_lines_number(in));
            rc = -1;
            break;
        }
    }
    t0_lines_close(in);
    return rc < 0 ? -1 : 0;
}

static void summary(const renderer *r)
{
    uint64_t dropped = 0, no_label = 0;
    for (size_t i = 0; i < r->set->n; i++)
        dropped += r->dropped[i], no_label += r->no_label[i];
    char labels[64] = "";
    if (no_label)
        snprintf(labels, sizeof labels, " (%llu with target <NO LABEL>)", (unsigned long long)no_label);
    fprintf(stderr, "t0-render: %s: %llu examples, %zu templates, %llu records%s, %llu dropped\n", r->set->task,
            (unsigned long long)r->examples, r->set->n, (unsigned long long)r->records, labels,
            (unsigned long long)dropped);
    for (size_t i = 0; i < r->set->n; i++) {
        const char *name = r->set->templates[i].name;
        if (r->dropped[i])
            fprintf(stderr, "t0-render: template '%s': %llu of %llu dropped (empty input)\n", name,
                    (unsigned long long)r->dropped[i], (unsigned long long)r->examples);
        if (r->no_label[i])
            fprintf(stderr, "t0-render: template '%s': %llu of %llu records with an empty target, written as "
                    "<NO LABEL>\n", name, (unsigned long long)r->no_label[i], (unsigned long long)r->examples);
        if (r->undefined[i])
            fprintf(stderr, "t0-render: warning: template '%s': %llu of %llu records printed an undefined "
                    "variable as empty (jinja2's default; --strict makes it an error)\n", name,
                    (unsigned long long)r->undefined[i], (unsigned long long)r->examples);
    }
}

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"original-task", no_argument, 0, 'O'}, {"seed", required_argument, 0, 'S'},
        {"strict", no_argument, 0, 's'},        {"help", no_argument, 0, 'h'},
        {"progress", no_argument, 0, 'P'},
        {"version", no_argument, 0, 'V'},       {0, 0, 0, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't': o->templates_path = optarg; break;
        case 'n': o->names[o->n_names++] = optarg; break;
        case 'o': o->out = optarg; break;
        case 'O': o->original_task = 1; break;
        case 's': o->strict = 1; break;
        case 'P': o->progress = 2; break;
        case 'S': {
            int64_t v;
            t0_error err = {0};
            if (t0_parse_int(optarg, 0, INT64_MAX, "--seed", &v, &err))
                return t0_cli_usage_error("t0-render", "%s", err.msg);
            o->seed = (uint64_t)v;
            break;
        }
        case 'h': fputs(usage, stdout); exit(0);
        case 'V': exit(t0_cli_version("t0-render"));
        case ':': return t0_cli_usage_error("t0-render", "option %s needs a value", argv[optind - 1]);
        default: return t0_cli_usage_error("t0-render", "unknown option %s", argv[optind - 1]);
        }
    }
    if (!o->templates_path)
        return t0_cli_usage_error("t0-render", "-t TEMPLATES.yaml is required");
    return 0;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    options o = {0};
    t0_error err = {0};
    o.names = calloc((size_t)argc + 1, sizeof *o.names);
    o.out = "-";
    o.progress = 1;
    if (!o.names)
        return 2;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    t0_template_set *set = t0_templates_load(o.templates_path, &err);
    if (!set || select_templates(set, &o, &err) || t0_templates_compile(set, &err)) {
        if (set)
            t0_error_prefix(&err, "%s", o.templates_path);
        t0_templates_free(set);
        free(o.names);
        return die(&err);
    }
    renderer r = {&o, set, NULL, 0, 0, calloc(set->n + 1, sizeof(uint64_t)), calloc(set->n + 1, sizeof(uint64_t)),
                  calloc(set->n + 1, sizeof(uint64_t)), {0}};
    t0_progress_begin(&r.progress, "t0-render", t0_progress_mode_default(), o.progress == 2, 0, set->task);
    int have = r.dropped && r.no_label && r.undefined;
    if (!have || !(r.w = t0_writer_open(o.out, &err))) {
        if (!have)
            t0_fail(&err, T0_EINTERNAL, "out of memory");
        rc = die(&err);
    } else {
        for (int i = optind; i < argc || (i == optind && optind == argc); i++)
            if ((rc = render_file(&r, i < argc ? argv[i] : "-", &err)))
                break;
        if (rc == 0) {
            double secs = t0_now() - r.progress.started;
            t0_progress_end(&r.progress, "%llu examples, %llu records, %.0f records/s", (unsigned long long)r.examples,
                            (unsigned long long)r.records, secs > 0 ? (double)r.records / secs : 0.0);
        }
        if (rc) {
            t0_writer_abort(r.w);
            rc = die(&err);
        } else if (t0_writer_close(r.w, &err)) {
            rc = die(&err);
        } else {
            summary(&r);
        }
    }
    free(r.dropped);
    free(r.no_label);
    free(r.undefined);
    t0_templates_free(set);
    free(o.names);
    return rc;
}
