/* templates.c: promptsource templates.yaml (libyaml document API) and Template.apply.
 * The semantics are written out in templates.h. */
#include "render/templates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "render/pyunicode.h"

/* ---------------------------------------------------------------- small helpers */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_s(const char *s) { return dup_n(s, strlen(s)); }

/* Replaces every occurrence of from by to; malloc'd (NULL on out of memory). */
static char *replace_all(const char *s, size_t len, const char *from, const char *to, size_t *out_len)
{
    size_t fl = strlen(from), tl = strlen(to), count = 0;
    for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), from, fl)); p += fl)
        count++;
    size_t n = len + count * tl - count * fl;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = s, *end = s + len;
    for (const char *q; (q = memmem(p, (size_t)(end - p), from, fl)); p = q + fl) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
    }
    memcpy(o, p, (size_t)(end - p));
    o[end - p] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}

/* The first "|||" in [p, end), or NULL. */
static const char *find_sep(const char *p, const char *end)
{
    while (end - p >= 3 && (p = memchr(p, '|', (size_t)(end - p - 2)))) {
        if (p[1] == '|' && p[2] == '|')
            return p;
        p++;
    }
    return NULL;
}

char *t0_truncate_rewrite(const char *jinja)
{
    char to[64];
    snprintf(to, sizeof to, " | string | truncate(%d) }}", T0_TEXT_VAR_LENGTH);
    return replace_all(jinja, strlen(jinja), "}}", to, NULL);
}

static uint64_t fnv1a64(const char *s);
static int compile_fixed_choices(t0_template *t, t0_error *err);

/* ---------------------------------------------------------------- YAML */

typedef struct {
    yaml_document_t *doc;
    const char *name;
    t0_error *err;
} yaml_ctx;

static yaml_node_t *node_at(yaml_ctx *c, int i) { return yaml_document_get_node(c->doc, i); }

static int is_null(const yaml_node_t *n)
{
    if (!n)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    size_t l = n->data.scalar.length;
    return l == 0 || (l == 1 && v[0] == '~') || (l == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
                                                           !memcmp(v, "NULL", 4)));
}

/* The value of key in a mapping node (the last one, as PyYAML keeps), or NULL. */
static yaml_node_t *map_get(yaml_ctx *c, yaml_node_t *map, const char *key)
{
    yaml_node_t *found = NULL;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    size_t kl = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == kl &&
            !memcmp(k->data.scalar.value, key, kl))
            found = node_at(c, p->value);
    }
    return found;
}

/* A scalar field as a string: 0 and *out (NULL when null/absent), -1 when not a scalar. */
static int scalar_field(yaml_ctx *c, yaml_node_t *map, const char *key, const char *what, char **out)
{
    yaml_node_t *n = map_get(c, map, key);
    *out = NULL;
    if (is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return t0_fail(c->err, T0_EINPUT, "%s: line %lu: %s: `%s` is not a string", c->name,
                       (unsigned long)n->start_mark.line + 1, what, key);
    *out = dup_n((const char *)n->data.scalar.value, n->data.scalar.length);
    if (!*out)
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    return 0;
}

/* YAML 1.1 booleans as PyYAML's SafeLoader reads them; -1 for null or anything else. */
static int bool_field(yaml_ctx *c, yaml_node_t *map, const char *key)
{
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};
    yaml_node_t *n = map_get(c, map, key);
    if (is_null(n) || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return -1;
    for (int i = 0; yes[i]; i++)
        if (!strcmp((const char *)n->data.scalar.value, yes[i]))
            return 1;
    for (int i = 0; no[i]; i++)
        if (!strcmp((const char *)n->data.scalar.value, no[i]))
            return 0;
    return -1;
}

static void template_free(t0_template *t)
{
    free(t->key);
    free(t->id);
    free(t->name);
    free(t->jinja);
    free(t->answer_choices);
    free(t->reference);
    jinja_free(t->prog);
    jinja_free(t->choices_prog);
    pv_free(t->fixed_value);
    free(t->fixed_choices);
    free(t->fixed_text);
}

static int read_template(yaml_ctx *c, yaml_node_t *key, yaml_node_t *val, t0_template *t)
{
    memset(t, 0, sizeof *t);
    t->line = (unsigned long)key->start_mark.line + 1;
    if (key->type != YAML_SCALAR_NODE)
        return t0_fail(c->err, T0_EINPUT, "%s: line %lu: a template key is not a string", c->name, t->line);
    if (!(t->key = dup_n((const char *)key->data.scalar.value, key->data.scalar.length)))
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    if (!val || val->type != YAML_MAPPING_NODE)
        return t0_fail(c->err, T0_EINPUT, "%s: line %lu: template %s is not a mapping", c->name, t->line,
                       t->key);
    if (scalar_field(c, val, "id", t->key, &t->id) || scalar_field(c, val, "name", t->key, &t->name) ||
        scalar_field(c, val, "jinja", t->key, &t->jinja) ||
        scalar_field(c, val, "answer_choices", t->key, &t->answer_choices) ||
        scalar_field(c, val, "reference", t->key, &t->reference))
        return -1;
    if (!t->name)
        return t0_fail(c->err, T0_EINPUT, "%s: line %lu: template %s has no name", c->name, t->line, t->key);
    if (!t->jinja)
        return t0_fail(c->err, T0_EINPUT, "%s: line %lu: template '%s' has no jinja", c->name, t->line,
                       t->name);
    if (!t->id && !(t->id = dup_s(t->key)))
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    if (!t->reference && !(t->reference = dup_s("")))
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    yaml_node_t *meta = map_get(c, val, "metadata");
    t->original_task = bool_field(c, meta, "original_task");
    t->choices_in_prompt = bool_field(c, meta, "choices_in_prompt");
    return 0;
}

static int read_set(yaml_ctx *c, t0_template_set *s)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return t0_fail(c->err, T0_EINPUT, "%s: not a promptsource templates file (no top-level mapping)",
                       c->name);
    if (scalar_field(c, root, "dataset", "top level", &s->dataset) ||
        scalar_field(c, root, "subset", "top level", &s->subset))
        return -1;
    if (!s->dataset || !*s->dataset)
        return t0_fail(c->err, T0_EINPUT, "%s: no `dataset`", c->name);
    if (s->subset && !*s->subset) {
        free(s->subset);
        s->subset = NULL;
    }
    size_t tl = strlen(s->dataset) + (s->subset ? strlen(s->subset) + 1 : 0);
    if (!(s->task = malloc(tl + 1)))
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    snprintf(s->task, tl + 1, "%s%s%s", s->dataset, s->subset ? "/" : "", s->subset ? s->subset : "");
    yaml_node_t *tm = map_get(c, root, "templates");
    if (is_null(tm))
        return 0;
    if (tm->type != YAML_MAPPING_NODE)
        return t0_fail(c->err, T0_EINPUT, "%s: `templates` is not a mapping", c->name);
    size_t n = (size_t)(tm->data.mapping.pairs.top - tm->data.mapping.pairs.start);
    if (n && !(s->templates = calloc(n, sizeof *s->templates)))
        return t0_fail(c->err, T0_EINTERNAL, "out of memory");
    for (yaml_node_pair_t *p = tm->data.mapping.pairs.start; p < tm->data.mapping.pairs.top; p++) {
        t0_template *t = &s->templates[s->n];
        int rc = read_template(c, node_at(c, p->key), node_at(c, p->value), t);
        s->n++;
        if (rc)
            return -1;
    }
    return 0;
}

t0_template_set *t0_templates_parse(const char *text, size_t len, const char *name, t0_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    t0_template_set *s = calloc(1, sizeof *s);
    if (!s || !yaml_parser_initialize(&parser)) {
        free(s);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        t0_fail(err, T0_EINPUT, "%s: line %lu, column %lu: %s%s%s", name,
                (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1,
                parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(s);
        return NULL;
    }
    yaml_ctx c = {&doc, name, err};
    int rc = read_set(&c, s);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) {
        t0_templates_free(s);
        return NULL;
    }
    return s;
}

t0_template_set *t0_templates_load(const char *path, t0_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        t0_fail(err, bad ? T0_EINPUT : T0_EINTERNAL, "%s: %s", path, bad ? "read error" : "out of memory");
        return NULL;
    }
    t0_template_set *s = t0_templates_parse(buf, len, path, err);
    free(buf);
    return s;
}

int t0_templates_compile(t0_template_set *s, t0_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        t0_template *t = &s->templates[i];
        t->id_hash = fnv1a64(t->id);
        char *src = t0_truncate_rewrite(t->jinja);
        if (!src)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        t->prog = jinja_parse(src, strlen(src), err);
        free(src);
        if (!t->prog) {
            /* Report the position in the template as written, not in the rewrite. */
            t0_error orig_err = {0};
            jinja_template *orig = jinja_parse(t->jinja, strlen(t->jinja), &orig_err);
            if (!orig && err)
                *err = orig_err;
            if (orig) {
                jinja_free(orig);
                t0_error_prefix(err, "template '%s': jinja (after the truncate rewrite)", t->name);
                return -1;
            }
            t0_error_prefix(err, "template '%s': jinja", t->name);
            return -1;
        }
        if (t->answer_choices) {
            t->choices_prog = jinja_parse(t->answer_choices, strlen(t->answer_choices), err);
            if (!t->choices_prog) {
                t0_error_prefix(err, "template '%s': answer_choices", t->name);
                return -1;
            }
            if (compile_fixed_choices(t, err))
                return -1;
        }
    }
    return 0;
}

void t0_templates_filter(t0_template_set *s, const int *keep)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (keep[i])
            s->templates[j++] = s->templates[i];
        else
            template_free(&s->templates[i]);
    }
    s->n = j;
}

void t0_templates_free(t0_template_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        template_free(&s->templates[i]);
    free(s->templates);
    free(s->dataset);
    free(s->subset);
    free(s->task);
    free(s);
}

/* ---------------------------------------------------------------- seeds */

static uint64_t mix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001B3ull;
    }
    return h;
}

uint64_t t0_template_seed(uint64_t seed, uint64_t example_index, const char *template_id)
{
    return mix64(mix64(mix64(seed) ^ example_index) ^ fnv1a64(template_id));
}

static uint64_t template_seed(const t0_template *t, uint64_t seed, uint64_t example_index)
{
    return mix64(mix64(mix64(seed) ^ example_index) ^ t->id_hash);
}

uint64_t t0_choices_seed(uint64_t render_seed) { return mix64(render_seed ^ 0x636886F3A3A4A9E5ull); }

/* ---------------------------------------------------------------- Python str.strip() */

size_t t0_py_strip(const char *str, size_t len, size_t *start)
{
    *start = ju_lstrip_len(str, len);
    return ju_rstrip_len(str + *start, len - *start);
}

/* ---------------------------------------------------------------- examples */

int t0_example_prepare(t0_example *ex, const pyval *json, t0_error *err)
{
    memset(ex, 0, sizeof *ex);
    if (pv_typeof(json) != PV_DICT)
        return t0_fail(err, T0_EINPUT, "expected a JSON object, got %s", pv_type_name(json));
    ex->protected_ex = pv_new_dict();
    ex->context = pv_new_dict();
    if (!ex->protected_ex || !ex->context)
        goto oom;
    size_t n = pv_dict_len(json);
    for (size_t i = 0; i < n; i++) {
        const char *key = pv_str_value(pv_dict_key_at(json, i), NULL);
        pyval *v = pv_dict_value_at(json, i), *pv;
        if (!key)
            continue; /* JSON keys are always strings */
        char *k = strchr(key, '-') ? replace_all(key, strlen(key), "-", "_", NULL) : dup_s(key);
        if (!k)
            goto oom;
        if (!strcmp(k, "answer_choices")) {
            free(k);
            t0_example_clear(ex);
            return t0_fail(err, T0_EINPUT, "example contains the restricted key 'answer_choices'");
        }
        size_t sl;
        const char *sv = pv_str_value(v, &sl);
        if (sv && find_sep(sv, sv + sl)) {
            char *r = replace_all(sv, sl, "|||", T0_PIPE_PROTECTOR, &sl);
            pv = r ? pv_new_str(r, sl) : NULL;
            free(r);
        } else {
            pv = pv_ref(v);
        }
        int rc = pv ? pv_dict_set(ex->protected_ex, k, pv) : -1;
        if (!rc)
            rc = pv_dict_set(ex->context, k, pv_ref(pv));
        free(k);
        if (rc)
            goto oom;
    }
    pyval *none = pv_new_none();
    if (!none || pv_dict_set(ex->context, "answer_choices", none))
        goto oom;
    return 0;
oom:
    t0_example_clear(ex);
    return t0_fail(err, T0_EINTERNAL, "out of memory");
}

void t0_example_clear(t0_example *ex)
{
    pv_free(ex->protected_ex);
    pv_free(ex->context);
    ex->protected_ex = ex->context = NULL;
}

/* ---------------------------------------------------------------- apply */

/* Pointers into one rendered text, which split_parts cuts in place. */
typedef struct {
    const char **v;
    size_t n, cap;
} part_list;

static int part_push(part_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        const char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

/* Finishes text[a, b) in place: strips it, NUL-terminates it and turns each protector
 * token back into "|||" (shorter, so it fits). For choices promptsource strips first, for
 * apply it un-protects first; the token holds no whitespace, so the two agree. */
static char *finish_part(char *p, size_t len)
{
    size_t a, n = t0_py_strip(p, len, &a);
    char *s = p + a, *end = s + n, *q, *w;
    const size_t tl = sizeof T0_PIPE_PROTECTOR - 1;
    if (!(q = memmem(s, n, T0_PIPE_PROTECTOR, tl))) {
        *end = '\0';
        return s;
    }
    for (w = s; q; q = memmem(s, (size_t)(end - s), T0_PIPE_PROTECTOR, tl)) {
        memmove(w, s, (size_t)(q - s));
        w += q - s;
        memcpy(w, "|||", 3);
        w += 3;
        s = q + tl;
    }
    memmove(w, s, (size_t)(end - s));
    w[end - s] = '\0';
    return p + a;
}

/* Cuts text (NUL-terminated, len bytes) on "|||" into finished parts, in place. */
static int split_parts(char *text, size_t len, part_list *out)
{
    char *p = text, *end = text + len, *q;
    out->n = 0;
    while ((q = (char *)find_sep(p, end))) {
        if (part_push(out, finish_part(p, (size_t)(q - p))))
            return -1;
        p = q + 3;
    }
    return part_push(out, finish_part(p, (size_t)(end - p)));
}

static pyval *str_list_value(const char *const *v, size_t n)
{
    pyval *list = pv_new_list();
    for (size_t i = 0; list && i < n; i++) {
        pyval *s = pv_new_str(v[i], strlen(v[i]));
        if (!s || pv_list_append(list, s)) {
            pv_free(list);
            return NULL;
        }
    }
    return list;
}

static int render(const jinja_template *prog, const pyval *ctx, uint64_t seed, int strict, char **out,
                  size_t *out_len, const t0_template *t, unsigned *undefined_printed, t0_error *err)
{
    jinja_options opt = {seed, strict, undefined_printed};
    if (jinja_render(prog, ctx, &opt, out, out_len, err)) {
        t0_error_prefix(err, "template '%s'", t->name);
        return -1;
    }
    return 0;
}

/* answer_choices that read no variable and draw nothing are the same for every example
 * (promptsource's "fixed" choices): rendered once here. */
static int compile_fixed_choices(t0_template *t, t0_error *err)
{
    if (!t->choices_prog || jinja_has_undeclared(t->choices_prog) || strstr(t->answer_choices, "choice") ||
        strstr(t->answer_choices, "random"))
        return 0;
    size_t len;
    if (render(t->choices_prog, NULL, 0, 0, &t->fixed_text, &len, t, NULL, err))
        return -1;
    part_list parts = {0};
    if (split_parts(t->fixed_text, len, &parts) || !(t->fixed_value = str_list_value(parts.v, parts.n))) {
        free(parts.v);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    t->fixed_choices = parts.v;
    t->n_fixed = parts.n;
    return 0;
}

int t0_template_apply(const t0_template *t, t0_example *ex, uint64_t seed, uint64_t example_index,
                      int strict, t0_rendered *out, t0_error *err)
{
    uint64_t rseed = template_seed(t, seed, example_index);
    part_list parts = {0};
    size_t len;
    pyval *ac = NULL;
    unsigned undefined = 0;
    memset(out, 0, sizeof *out);
    out->label = -1;
    if (t->fixed_value) {
        out->choices = t->fixed_choices;
        out->n_choices = (uint32_t)t->n_fixed;
        ac = pv_ref(t->fixed_value);
    } else if (t->choices_prog) {
        if (render(t->choices_prog, ex->protected_ex, t0_choices_seed(rseed), strict, &out->choices_text_, &len,
                   t, &undefined, err))
            goto fail;
        if (split_parts(out->choices_text_, len, &parts))
            goto oom;
        out->choices = out->choices_owned_ = parts.v;
        out->n_choices = (uint32_t)parts.n;
        parts = (part_list){0};
        if (!(ac = str_list_value(out->choices, out->n_choices)))
            goto oom;
    } else if (!(ac = pv_new_none())) {
        goto oom;
    }
    /* The context gets the finished (un-protected) list, as promptsource's does. */
    int rc = pv_dict_set(ex->context, "answer_choices", ac);
    ac = NULL;
    if (rc)
        goto oom;
    if (render(t->prog, ex->context, rseed, strict, &out->text_, &len, t, &undefined, err))
        goto fail;
    if (split_parts(out->text_, len, &parts))
        goto oom;
    if (parts.n != 2 || !parts.v[0][0]) {
        free(parts.v);
        t0_rendered_clear(out);
        out->dropped = 1;
        return 0;
    }
    out->input = parts.v[0];
    out->target = parts.v[1][0] ? parts.v[1] : T0_NO_LABEL;
    out->undefined_printed = undefined;
    free(parts.v);
    for (uint32_t i = 0; i < out->n_choices; i++)
        if (!strcmp(out->choices[i], out->target)) {
            out->label = (int32_t)i;
            break;
        }
    return 0;
oom:
    pv_free(ac);
    t0_fail(err, T0_EINTERNAL, "out of memory");
fail:
    free(parts.v);
    t0_rendered_clear(out);
    return -1;
}

void t0_rendered_clear(t0_rendered *r)
{
    free(r->text_);
    free(r->choices_text_);
    free(r->choices_owned_);
    memset(r, 0, sizeof *r);
    r->label = -1;
}
