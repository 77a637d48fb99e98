/* report.c: see report.h. */
#include "eval/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"

typedef struct {
    char *task, *tmpl;
    uint64_t n, correct, unlabelled;
} row;

typedef struct {
    const char *task;
    int first, count; /* its rows, sorted: rows[first .. first+count) */
    double median, mean, min, max;
} task_sum;

struct t0_report {
    row *rows;
    size_t n, cap, last; /* last: the row the previous record went to (records come in runs) */
};

t0_report *t0_report_new(t0_error *err)
{
    t0_report *r = calloc(1, sizeof *r);
    if (!r)
        t0_fail(err, T0_EINTERNAL, "out of memory");
    return r;
}

void t0_report_free(t0_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->rows[i].task);
        free(r->rows[i].tmpl);
    }
    free(r->rows);
    free(r);
}

static int same(const row *w, const t0_record *s)
{
    return strcmp(w->task, s->task) == 0 && strcmp(w->tmpl, s->template_name) == 0;
}

int t0_report_add(t0_report *r, const t0_record *s, t0_error *err)
{
    size_t i = r->n && same(&r->rows[r->last], s) ? r->last : 0;
    if (!(r->n && same(&r->rows[i], s))) {
        for (i = 0; i < r->n && !same(&r->rows[i], s); i++)
            ;
        if (i == r->n) {
            if (r->n == r->cap) {
                size_t cap = r->cap ? 2 * r->cap : 64;
                row *p = realloc(r->rows, cap * sizeof *p);
                if (!p)
                    return t0_fail(err, T0_EINTERNAL, "out of memory");
                r->rows = p, r->cap = cap;
            }
            row *w = &r->rows[r->n];
            *w = (row){strdup(s->task), strdup(s->template_name), 0, 0, 0};
            if (!w->task || !w->tmpl) {
                free(w->task), free(w->tmpl);
                return t0_fail(err, T0_EINTERNAL, "out of memory");
            }
            r->n++;
        }
    }
    r->last = i;
    row *w = &r->rows[i];
    if (s->label < 0) {
        w->unlabelled++;
    } else {
        w->n++;
        w->correct += s->pred == s->label;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->task, y->task);
    return c ? c : strcmp(x->tmpl, y->tmpl);
}

/* in percent, as every t0 report gives it */
static double accuracy(const row *w)
{
    return w->n ? 100.0 * (double)w->correct / (double)w->n : 0.0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the rows and sums each task up over its templates that have labelled examples. */
static task_sum *summarize(t0_report *r, size_t *n_tasks, t0_error *err)
{
    qsort(r->rows, r->n, sizeof *r->rows, by_name);
    r->last = 0;
    task_sum *t = calloc(r->n ? r->n : 1, sizeof *t);
    double *acc = malloc(sizeof(double) * (r->n ? r->n : 1));
    if (!t || !acc) {
        free(t), free(acc);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    size_t nt = 0;
    for (size_t i = 0; i < r->n;) {
        task_sum *s = &t[nt++];
        s->task = r->rows[i].task, s->first = (int)i;
        int k = 0;
        for (; i < r->n && strcmp(r->rows[i].task, s->task) == 0; i++, s->count++)
            if (r->rows[i].n)
                acc[k++] = accuracy(&r->rows[i]);
        if (!k)
            continue;
        qsort(acc, (size_t)k, sizeof *acc, by_value);
        s->median = k % 2 ? acc[k / 2] : (acc[k / 2 - 1] + acc[k / 2]) / 2;
        s->min = acc[0], s->max = acc[k - 1];
        double sum = 0.0;
        for (int j = 0; j < k; j++)
            sum += acc[j];
        s->mean = sum / k;
    }
    free(acc);
    *n_tasks = nt;
    return t;
}

static size_t widest(size_t w, const char *s)
{
    size_t n = strlen(s);
    return n > w ? n : w;
}

static void write_table(const t0_report *r, const task_sum *t, size_t nt, FILE *out)
{
    size_t wt = strlen("task"), wp = strlen("template");
    for (size_t i = 0; i < r->n; i++)
        wt = widest(wt, r->rows[i].task), wp = widest(wp, r->rows[i].tmpl);
    fprintf(out, "%-*s  %-*s  %8s  %8s  %10s\n", (int)wt, "task", (int)wp, "template", "examples", "correct",
            "accuracy %");
    for (size_t i = 0; i < r->n; i++) {
        const row *w = &r->rows[i];
        fprintf(out, "%-*s  %-*s  %8llu  %8llu  %10.2f", (int)wt, w->task, (int)wp, w->tmpl,
                (unsigned long long)w->n, (unsigned long long)w->correct, accuracy(w));
        if (w->unlabelled)
            fprintf(out, "  (%llu without label)", (unsigned long long)w->unlabelled);
        fputc('\n', out);
    }
    fprintf(out, "\n%-*s  %9s  %8s  %8s  %8s  %8s  (accuracy %%)\n", (int)wt, "task", "templates", "median", "mean",
            "min", "max");
    for (size_t i = 0; i < nt; i++)
        fprintf(out, "%-*s  %9d  %8.2f  %8.2f  %8.2f  %8.2f\n", (int)wt, t[i].task, t[i].count, t[i].median,
                t[i].mean, t[i].min, t[i].max);
}

static int put_str(t0_buf *b, const char *key, const char *s, t0_error *err)
{
    return t0_buf_printf(b, err, "\"%s\":", key) || json_put_string(b, s, strlen(s), err);
}

static int put_num(t0_buf *b, const char *key, double v, t0_error *err)
{
    return t0_buf_printf(b, err, ",\"%s\":", key) || json_put_double(b, v, err);
}

static int write_json(const t0_report *r, const task_sum *t, size_t nt, t0_buf *b, t0_error *err)
{
    int rc = t0_buf_puts(b, "{\"templates\":[", err);
    for (size_t i = 0; i < r->n && !rc; i++) {
        const row *w = &r->rows[i];
        rc = t0_buf_puts(b, i ? ",{" : "{", err) || put_str(b, "task", w->task, err) || t0_buf_puts(b, ",", err) ||
             put_str(b, "template", w->tmpl, err) ||
             t0_buf_printf(b, err, ",\"examples\":%llu,\"correct\":%llu,\"unlabelled\":%llu",
                           (unsigned long long)w->n, (unsigned long long)w->correct,
                           (unsigned long long)w->unlabelled) ||
             put_num(b, "accuracy_pct", accuracy(w), err) || t0_buf_puts(b, "}", err);
    }
    rc = rc || t0_buf_puts(b, "],\"tasks\":[", err);
    for (size_t i = 0; i < nt && !rc; i++)
        rc = t0_buf_puts(b, i ? ",{" : "{", err) || put_str(b, "task", t[i].task, err) ||
             t0_buf_printf(b, err, ",\"templates\":%d", t[i].count) || put_num(b, "median", t[i].median, err) ||
             put_num(b, "mean", t[i].mean, err) || put_num(b, "min", t[i].min, err) ||
             put_num(b, "max", t[i].max, err) || t0_buf_puts(b, "}", err);
    return rc || t0_buf_puts(b, "]}\n", err) ? -1 : 0;
}

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static int put_csv(t0_buf *b, const char *s, t0_error *err)
{
    if (!strpbrk(s, ",\"\r\n"))
        return t0_buf_puts(b, s, err);
    int rc = t0_buf_puts(b, "\"", err);
    for (; *s && !rc; s++)
        rc = *s == '"' ? t0_buf_puts(b, "\"\"", err) : t0_buf_append(b, s, 1, err);
    return rc || t0_buf_puts(b, "\"", err) ? -1 : 0;
}

static int write_csv(const t0_report *r, t0_buf *b, t0_error *err)
{
    int rc = t0_buf_puts(b, "task,template,examples,correct,accuracy_pct\n", err);
    for (size_t i = 0; i < r->n && !rc; i++) {
        const row *w = &r->rows[i];
        rc = put_csv(b, w->task, err) || t0_buf_puts(b, ",", err) || put_csv(b, w->tmpl, err) ||
             t0_buf_printf(b, err, ",%llu,%llu,", (unsigned long long)w->n, (unsigned long long)w->correct) ||
             json_put_double(b, accuracy(w), err) || t0_buf_puts(b, "\n", err);
    }
    return rc ? -1 : 0;
}

int t0_report_write(t0_report *r, t0_report_format format, FILE *out, t0_error *err)
{
    size_t nt;
    task_sum *t = summarize(r, &nt, err);
    if (!t)
        return -1;
    int rc = 0;
    if (format == T0_REPORT_TABLE) {
        write_table(r, t, nt, out);
    } else {
        t0_buf b = {0};
        rc = format == T0_REPORT_JSON ? write_json(r, t, nt, &b, err) : write_csv(r, &b, err);
        if (!rc)
            fwrite(b.p, 1, b.len, out);
        t0_buf_free(&b);
    }
    free(t);
    return rc;
}
