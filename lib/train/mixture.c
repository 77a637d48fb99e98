/* mixture.c: mixture files, T0's capped rates, seeded sampling over task streams (mixture.h). */
#include "train/mixture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

void t0_mix_tasks_free(t0_mix_task *tasks, size_t n)
{
    for (size_t i = 0; tasks && i < n; i++) {
        free(tasks[i].name);
        free(tasks[i].path);
    }
    free(tasks);
}

uint64_t t0_mixture_draws(const t0_mix_task *tasks, size_t n, double epochs)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += tasks[i].rate;
    return (uint64_t)ceil(epochs * total - 1e-9);
}

static int push_task(t0_mix_task **tasks, size_t *n, size_t *cap, char *name, char *path, double rate,
                     t0_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        t0_mix_task *t = realloc(*tasks, c * sizeof *t);
        if (!t) {
            free(name);
            free(path);
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        }
        *tasks = t, *cap = c;
    }
    (*tasks)[(*n)++] = (t0_mix_task){.name = name, .path = path, .rate = rate};
    return 0;
}

/* ---------------- the mixture file ---------------- */

/* path relative to the folder of `base` (as given), unless absolute. */
static char *join_dir(const char *base, const char *path)
{
    const char *slash = strrchr(base, '/');
    if (path[0] == '/' || !slash)
        return strdup(path);
    size_t d = (size_t)(slash - base) + 1, n = strlen(path);
    char *s = malloc(d + n + 1);
    if (s) {
        memcpy(s, base, d);
        memcpy(s + d, path, n + 1);
    }
    return s;
}

/* Splits line (no newline) at tabs into exactly 3 fields; 0 or -1. */
static int split3(char *line, char *field[3])
{
    int k = 0;
    field[k++] = line;
    for (char *p = line; *p; p++) {
        if (*p != '\t')
            continue;
        if (k == 3)
            return -1;
        *p = '\0';
        field[k++] = p + 1;
    }
    return k == 3 ? 0 : -1;
}

static int parse_rate(const char *s, double *rate)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v <= 0)
        return -1;
    *rate = v;
    return 0;
}

static int tsv_line(const char *file, unsigned long no, char *line, t0_mix_task **tasks, size_t *n,
                    size_t *cap, t0_error *err)
{
    char *f[3];
    if (split3(line, f))
        return t0_fail(err, T0_EINPUT, "%s:%lu: expected task<TAB>stream file<TAB>rate", file, no);
    if (!f[0][0] || !f[1][0])
        return t0_fail(err, T0_EINPUT, "%s:%lu: empty task name or file", file, no);
    double rate;
    if (parse_rate(f[2], &rate))
        return t0_fail(err, T0_EINPUT, "%s:%lu: rate '%s' is not a positive number", file, no, f[2]);
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*tasks)[i].name, f[0]) == 0)
            return t0_fail(err, T0_EINPUT, "%s:%lu: task '%s' is listed twice", file, no, f[0]);
    char *path = join_dir(file, f[1]);
    char *name = strdup(f[0]);
    if (!path || !name) {
        free(path);
        free(name);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    if (access(path, R_OK) != 0) {
        int e = errno;
        t0_fail(err, T0_EINPUT, "%s:%lu: %s: %s", file, no, path, strerror(e));
        free(path);
        free(name);
        return -1;
    }
    return push_task(tasks, n, cap, name, path, rate, err);
}

int t0_mixture_read_tsv(const char *path, t0_mix_task **tasks, size_t *n, t0_error *err)
{
    *tasks = NULL, *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t line_cap = 0, cap = 0;
    unsigned long no = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &line_cap, f)) >= 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (strlen(line) != (size_t)len)
            rc = t0_fail(err, T0_EINPUT, "%s:%lu: NUL byte in line", path, no);
        else
            rc = tsv_line(path, no, line, tasks, n, &cap, err);
    }
    if (rc == 0 && ferror(f))
        rc = t0_fail(err, T0_EINPUT, "%s: read error", path);
    if (rc == 0 && *n == 0)
        rc = t0_fail(err, T0_EINPUT, "%s: no tasks", path);
    free(line);
    fclose(f);
    if (rc) {
        t0_mix_tasks_free(*tasks, *n);
        *tasks = NULL, *n = 0;
    }
    return rc;
}

/* ---------------- T0's rates ---------------- */

/* One (dataset, template) pair and the file holding it. */
typedef struct {
    char *dataset, *template_name;
    size_t file;
    uint64_t records;
} pair_count;

typedef struct {
    pair_count *p;
    size_t n, cap;
} pair_list;

static void pairs_free(pair_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->p[i].dataset);
        free(l->p[i].template_name);
    }
    free(l->p);
}

/* The pair of (file, dataset, template), added when new. Searches this file's pairs,
 * which start at `first`: a file holds few templates. */
static pair_count *pair_get(pair_list *l, size_t first, size_t file, const char *ds, const char *tp,
                            t0_error *err)
{
    for (size_t i = first; i < l->n; i++)
        if (strcmp(l->p[i].dataset, ds) == 0 && strcmp(l->p[i].template_name, tp) == 0)
            return &l->p[i];
    if (l->n == l->cap) {
        size_t c = l->cap ? 2 * l->cap : 64;
        pair_count *p = realloc(l->p, c * sizeof *p);
        if (!p) {
            t0_fail(err, T0_EINTERNAL, "out of memory");
            return NULL;
        }
        l->p = p, l->cap = c;
    }
    pair_count *q = &l->p[l->n];
    *q = (pair_count){.dataset = strdup(ds), .template_name = strdup(tp), .file = file};
    if (!q->dataset || !q->template_name) {
        free(q->dataset);
        free(q->template_name);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    l->n++;
    return q;
}

static int count_file(pair_list *l, const char *path, size_t file, uint64_t *records, t0_error *err)
{
    t0_reader *r = t0_reader_open(path, err);
    if (!r)
        return -1;
    size_t first = l->n;
    pair_count *last = NULL;
    t0_record rec;
    int rc;
    while ((rc = t0_reader_next(r, &rec, err)) == 1) {
        if (t0_reader_expect(r, &rec, T0_KIND_TOKENS, err)) {
            rc = -1;
            break;
        }
        if (!last || strcmp(last->template_name, rec.template_name) || strcmp(last->dataset, rec.task))
            last = pair_get(l, first, file, rec.task, rec.template_name, err);
        if (!last) {
            rc = -1;
            break;
        }
        last->records++;
    }
    *records = t0_reader_count(r);
    t0_reader_close(r);
    if (rc == 0 && *records == 0)
        return t0_fail(err, T0_EINPUT, "%s: no records", path);
    return rc;
}

/* T0's rate of file pair i. The records of a (dataset, template) pair may be spread over
 * several files (shards): its size is the sum over them, its rate that sum, or cap /
 * templates when the dataset (its largest template) is over the cap, and each file gets
 * its share of the rate. */
static double pair_rate(const pair_list *l, size_t i, uint64_t cap)
{
    const pair_count *p = l->p;
    uint64_t size = 0, templates = 0, mine = 0;
    for (size_t j = 0; j < l->n; j++) {
        if (strcmp(p[j].dataset, p[i].dataset))
            continue;
        size_t first = 0; /* the first pair of j's template: count each template once */
        while (strcmp(p[first].dataset, p[j].dataset) || strcmp(p[first].template_name, p[j].template_name))
            first++;
        if (first != j)
            continue;
        uint64_t total = 0;
        for (size_t k = j; k < l->n; k++)
            if (strcmp(p[k].dataset, p[j].dataset) == 0 && strcmp(p[k].template_name, p[j].template_name) == 0)
                total += p[k].records;
        templates++;
        if (total > size)
            size = total;
        if (strcmp(p[j].template_name, p[i].template_name) == 0)
            mine = total;
    }
    if (cap == 0 || size <= cap)
        return (double)p[i].records;
    return (double)(cap / templates) * (double)p[i].records / (double)mine;
}

/* "dataset", "dataset:template" for one template, or the file name for several
 * datasets; tabs and newlines become spaces; "#2", "#3" ... make it unique. */
static char *task_name(const pair_list *l, size_t file, const char *path, const t0_mix_task *done,
                       size_t n_done)
{
    const pair_count *one = NULL;
    int datasets = 0, templates = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->p[i].file != file)
            continue;
        templates++;
        if (!one || strcmp(one->dataset, l->p[i].dataset))
            datasets++;
        if (!one)
            one = &l->p[i];
    }
    size_t len = strlen(path) + (one ? strlen(one->dataset) + strlen(one->template_name) : 0) + 32;
    char *s = malloc(len);
    if (!s)
        return NULL;
    if (datasets != 1 || !one->dataset[0] || one->dataset[0] == '#') /* a name a TSV can hold */
        snprintf(s, len, "%s", path);
    else if (templates == 1 && one->template_name[0]) /* plain text has no template */
        snprintf(s, len, "%s:%s", one->dataset, one->template_name);
    else
        snprintf(s, len, "%s", one->dataset);
    for (char *p = s; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
    size_t base = strlen(s);
    for (int k = 2;; k++) {
        size_t i = 0;
        while (i < n_done && strcmp(done[i].name, s))
            i++;
        if (i == n_done)
            return s;
        snprintf(s + base, len - base, "#%d", k);
    }
}

int t0_mixture_rates(const char *const *paths, size_t n, uint64_t cap, t0_mix_task **tasks,
                     t0_error *err)
{
    *tasks = calloc(n ? n : 1, sizeof **tasks);
    if (!*tasks)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    pair_list l = {0};
    int rc = 0;
    for (size_t f = 0; f < n && rc == 0; f++)
        rc = count_file(&l, paths[f], f, &(*tasks)[f].records, err);
    for (size_t i = 0; i < l.n && rc == 0; i++)
        (*tasks)[l.p[i].file].rate += pair_rate(&l, i, cap);
    for (size_t f = 0; f < n && rc == 0; f++) {
        t0_mix_task *t = &(*tasks)[f];
        t->path = strdup(paths[f]);
        t->name = task_name(&l, f, paths[f], *tasks, f);
        if (!t->path || !t->name)
            rc = t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    pairs_free(&l);
    if (rc) {
        t0_mix_tasks_free(*tasks, n);
        *tasks = NULL;
    }
    return rc;
}

/* path as a TSV at tsv_path should name it: relative to the TSV's folder when the file
 * lies under it, else absolute. NULL when a path does not resolve. */
static char *path_for_tsv(const char *path, const char *tsv_path)
{
    char *file = realpath(path, NULL);
    const char *slash = strrchr(tsv_path, '/');
    char *dir_given = slash ? strndup(tsv_path, (size_t)(slash - tsv_path) + (slash == tsv_path)) : strdup(".");
    char *dir = dir_given ? realpath(dir_given, NULL) : NULL;
    char *out = NULL;
    if (file && dir) {
        size_t d = strlen(dir);
        if (strncmp(file, dir, d) == 0 && file[d] == '/')
            out = strdup(file + d + 1);
        else if (strcmp(dir, "/") == 0)
            out = strdup(file + 1);
        else
            out = strdup(file);
    }
    free(file);
    free(dir_given);
    free(dir);
    return out;
}

int t0_mixture_write_tsv(FILE *f, const t0_mix_task *tasks, size_t n, const char *tsv_path,
                         uint64_t cap, t0_error *err)
{
    fprintf(f, "# task\tstream\trate: examples-proportional, T0's cap %llu (t0-pack --rates)\n",
            (unsigned long long)cap);
    for (size_t i = 0; i < n; i++) {
        char *path = tsv_path ? path_for_tsv(tasks[i].path, tsv_path) : strdup(tasks[i].path);
        if (!path)
            return t0_fail(err, T0_EINPUT, "%s: cannot resolve its path beside %s", tasks[i].path,
                           tsv_path);
        fprintf(f, "%s\t%s\t%.17g\n", tasks[i].name, path, tasks[i].rate);
        free(path);
    }
    return 0;
}

/* ---------------- sampling ---------------- */

/* splitmix64: small, fast, and good enough for sampling; one state per use. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) /* [0, 1) */
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static uint32_t next_below(uint64_t *s, uint32_t n) /* [0, n), no modulo bias worth a name */
{
    return (uint32_t)((next_u64(s) >> 32) * (uint64_t)n >> 32);
}

/* An example held in a shuffle buffer: input ids then target ids in one allocation. */
typedef struct {
    int32_t *ids;
    uint32_t n_input, n_target, cap;
} slot;

typedef struct {
    const char *path;
    t0_reader *r;
    int dry;        /* the stream ended in this pass */
    int fresh;      /* nothing read yet in this pass */
    slot *buf;      /* [buffer]; buf[0..held) are live */
    uint32_t held;
    uint64_t rng;
    uint64_t drawn, passes;
} task_state;

struct t0_mixture {
    task_state *t;
    size_t n;
    double *cum; /* cumulative rates, cum[n-1] = total */
    uint32_t buffer;
    uint64_t rng;
};

static int open_pass(task_state *t, t0_error *err)
{
    if (t->r)
        t0_reader_close(t->r);
    t->r = t0_reader_open(t->path, err);
    t->dry = 0;
    t->fresh = 1;
    return t->r ? 0 : -1;
}

/* Reads the next record of t into buf[held]; 1, 0 at the end of the stream, -1. */
static int read_one(task_state *t, t0_error *err)
{
    t0_record rec;
    int rc = t0_reader_next(t->r, &rec, err);
    if (rc <= 0)
        return rc;
    if (t0_reader_expect(t->r, &rec, T0_KIND_TOKENS, err))
        return -1;
    t->passes += t->fresh; /* a pass begins with its first record */
    t->fresh = 0;
    slot *s = &t->buf[t->held];
    uint32_t n = rec.input_ids.n + rec.target_ids.n;
    if (n > s->cap) {
        int32_t *ids = realloc(s->ids, (size_t)n * sizeof *ids);
        if (!ids)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        s->ids = ids, s->cap = n;
    }
    memcpy(s->ids, rec.input_ids.v, (size_t)rec.input_ids.n * sizeof *s->ids);
    memcpy(s->ids + rec.input_ids.n, rec.target_ids.v, (size_t)rec.target_ids.n * sizeof *s->ids);
    for (uint32_t i = 0; i < n; i++)
        if (s->ids[i] < 0)
            return t0_fail(err, T0_EINPUT, "%s: record %llu: negative token id %d", t->path,
                           (unsigned long long)t0_reader_count(t->r), s->ids[i]);
    if (n == 0) /* it would take no room, and a stream of them would pack forever */
        return t0_fail(err, T0_EINPUT, "%s: record %llu: empty input and target", t->path,
                       (unsigned long long)t0_reader_count(t->r));
    s->n_input = rec.input_ids.n, s->n_target = rec.target_ids.n;
    t->held++;
    return 1;
}

/* Tops the buffer up to `buffer` records; restarts the stream once the buffer is drawn
 * empty after its end, so passes never mix. */
static int fill(task_state *t, uint32_t buffer, t0_error *err)
{
    for (int restarted = 0;; restarted = 1) {
        if (t->held == 0 && t->dry && open_pass(t, err))
            return -1;
        while (!t->dry && t->held < buffer) {
            int rc = read_one(t, err);
            if (rc < 0)
                return -1;
            t->dry = rc == 0;
        }
        if (t->held)
            return 0;
        if (restarted) /* a fresh pass found nothing */
            return t0_fail(err, T0_EINPUT, "%s: no records", t->path);
    }
}

t0_mixture *t0_mixture_open(const t0_mix_task *tasks, size_t n, uint64_t seed, uint32_t buffer,
                            t0_error *err)
{
    if (n == 0 || buffer == 0) {
        t0_fail(err, T0_EINPUT, n ? "the shuffle buffer must hold at least 1 example" : "no tasks");
        return NULL;
    }
    t0_mixture *m = calloc(1, sizeof *m);
    if (!m || !(m->t = calloc(n, sizeof *m->t)) || !(m->cum = malloc(n * sizeof *m->cum))) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        t0_mixture_close(m);
        return NULL;
    }
    m->n = n, m->buffer = buffer;
    m->rng = seed;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        task_state *t = &m->t[i];
        t->path = tasks[i].path;
        t->rng = seed ^ (0xd1b54a32d192ed03ull * (i + 1)); /* a stream of its own per task */
        m->cum[i] = total += tasks[i].rate;
        if (!(t->buf = calloc(buffer, sizeof *t->buf))) {
            t0_fail(err, T0_EINTERNAL, "out of memory");
            t0_mixture_close(m);
            return NULL;
        }
        if (open_pass(t, err)) {
            t0_mixture_close(m);
            return NULL;
        }
    }
    return m;
}

static size_t pick_task(t0_mixture *m)
{
    double u = next_unit(&m->rng) * m->cum[m->n - 1];
    size_t lo = 0, hi = m->n - 1; /* first i with u < cum[i] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u < m->cum[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int t0_mixture_next(t0_mixture *m, t0_mix_example *ex, t0_error *err)
{
    size_t i = pick_task(m);
    task_state *t = &m->t[i];
    if (fill(t, m->buffer, err))
        return -1;
    uint32_t j = next_below(&t->rng, t->held);
    slot s = t->buf[j]; /* swap the drawn one just past the live range: valid until next draw */
    t->buf[j] = t->buf[--t->held];
    t->buf[t->held] = s;
    t->drawn++;
    *ex = (t0_mix_example){.task = i,
                           .input = s.ids,
                           .target = s.ids + s.n_input,
                           .n_input = s.n_input,
                           .n_target = s.n_target};
    return 0;
}

uint64_t t0_mixture_drawn(const t0_mixture *m, size_t t)
{
    return m->t[t].drawn;
}

uint64_t t0_mixture_passes(const t0_mixture *m, size_t t)
{
    return m->t[t].passes;
}

void t0_mixture_close(t0_mixture *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->t && i < m->n; i++) {
        task_state *t = &m->t[i];
        if (t->r)
            t0_reader_close(t->r);
        for (uint32_t k = 0; t->buf && k < m->buffer; k++)
            free(t->buf[k].ids);
        free(t->buf);
    }
    free(m->t);
    free(m->cum);
    free(m);
}
