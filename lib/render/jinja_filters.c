/* jinja_filters.c: jinja2's filters and tests and promptsource's filters, each kind ONE
 * table of (name, function, mode, flags, parameters) at the end of its section: adding a
 * filter is one row and one function. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jinja_builtins.h"

/* ---------------- filters ---------------- */

/* jinja2's make_attrgetter: "a.b.0" looks up each part with getitem (int parts as ints). */
static pyval *attr_get(render *r, pyval *item, pyval *attr)
{
    if (attr->type != PV_STR)
        return b_getitem(r, item, attr);
    const char *p = attr->u.str.s, *e = p + attr->u.str.len;
    while (1) {
        const char *dot = memchr(p, '.', (size_t)(e - p));
        const char *pe = dot ? dot : e;
        pyval *key;
        int digits = pe > p;
        for (const char *q = p; q < pe; q++)
            if (*q < '0' || *q > '9')
                digits = 0;
        if (digits && pe - p < 18)
            key = r_int(r, strtoll(p, NULL, 10));
        else
            key = r_str(r, p, (size_t)(pe - p));
        if (!key || !(item = b_getitem(r, item, key)))
            return NULL;
        if (!dot)
            return item;
        p = dot + 1;
    }
}

static pyval *fold_case(render *r, pyval *v, int case_sensitive)
{
    if (case_sensitive || v->type != PV_STR)
        return v;
    return js_case(r, v, 0);
}

static pyval *gen_list(render *r)
{
    pyval *l = r_list(r, PV_LIST, 0);
    if (l)
        l->kind = LK_GEN;
    return l;
}

enum { SELECT_KEEP = 1, SELECT_ATTR = 2 }; /* modes of select, reject, selectattr, rejectattr */

static pyval *f_select(render *r, pyval *seq, pyval **v, jargs *a, int mode)
{
    (void)v;
    int attr_mode = (mode & SELECT_ATTR) != 0, keep = mode & SELECT_KEEP;
    pyval **items;
    size_t n;
    int skip = attr_mode ? 1 : 0;
    if (attr_mode && a->npos < 1)
        return rfail(r, "Missing parameter for attribute name");
    if (!pv_truthy(seq)) /* jinja2 only iterates a true value */
        return gen_list(r);
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    const char *test = NULL;
    const jbuiltin *t = NULL;
    if (a->npos > skip) {
        if (a->pos[skip]->type != PV_STR)
            return rfail(r, "test name must be a string");
        test = a->pos[skip]->u.str.s;
        if (!(t = b_find_test(test)))
            return rfail(r, "No test named '%s'.", test);
    }
    jargs rest = {0};
    if (a->npos > skip + 1) {
        rest.pos = a->pos + skip + 1;
        rest.npos = a->npos - skip - 1;
    }
    rest.kwnames = a->kwnames;
    rest.kwvals = a->kwvals;
    rest.nkw = a->nkw;
    pyval *out = gen_list(r);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        pyval *x = items[i];
        if (attr_mode && !(x = attr_get(r, x, a->pos[0])))
            return NULL;
        int ok = t ? b_test_row(r, t, test, x, &rest) : r_truthy(r, x);
        if (ok < 0)
            return NULL;
        if ((ok != 0) == keep && r_push(r, out, items[i]) < 0)
            return NULL;
    }
    return out;
}

static pyval *f_map(render *r, pyval *seq, pyval **v, jargs *a, int mode)
{
    (void)v, (void)mode;
    pyval **items;
    size_t n;
    if (!pv_truthy(seq)) /* jinja2 only iterates a true value */
        return gen_list(r);
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    pyval *attribute = NULL, *def = NULL;
    for (int k = 0; k < a->nkw; k++) {
        if (!strcmp(a->kwnames[k], "attribute"))
            attribute = a->kwvals[k];
        else if (!strcmp(a->kwnames[k], "default"))
            def = a->kwvals[k];
    }
    pyval *out = gen_list(r);
    if (!out)
        return NULL;
    if (attribute || (a->npos == 0 && a->nkw)) {
        if (!attribute)
            return rfail(r, "map: unexpected keyword argument");
        for (size_t i = 0; i < n; i++) {
            pyval *x = attr_get(r, items[i], attribute);
            if (!x)
                return NULL;
            if (x->type == PV_UNDEFINED && def)
                x = def;
            if (r_push(r, out, x) < 0)
                return NULL;
        }
        return out;
    }
    if (a->npos == 0)
        return rfail(r, "map requires a filter argument");
    if (a->pos[0]->type != PV_STR)
        return rfail(r, "map: filter name must be a string");
    const char *fname = a->pos[0]->u.str.s;
    const jbuiltin *f = b_find_filter(fname);
    if (!f)
        return rfail(r, "No filter named '%s'.", fname);
    jargs rest = *a;
    rest.pos = a->pos + 1;
    rest.npos = a->npos - 1;
    for (size_t i = 0; i < n; i++) {
        pyval *x = b_filter_row(r, f, fname, items[i], &rest);
        if (!x || r_push(r, out, x) < 0)
            return NULL;
    }
    return out;
}

static int keys_for(render *r, pyval **items, size_t n, pyval *attribute, int case_sensitive, pyval ***keys)
{
    *keys = pv_alloc(r->a, (n + 1) * sizeof **keys);
    if (!*keys) {
        rfail(r, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        pyval *k = items[i];
        if (attribute && attribute->type != PV_NONE && !(k = attr_get(r, k, attribute)))
            return -1;
        if (!(k = fold_case(r, k, case_sensitive)))
            return -1;
        (*keys)[i] = k;
    }
    return 0;
}

static pyval *f_truncate(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int64_t length = 255, leeway = 5;
    if (v[0] && r_need_int(r, v[0], "truncate", &length) < 0)
        return NULL;
    int killwords = v[1] ? pv_truthy(v[1]) : 0;
    pyval *end = v[2] ? v[2] : NULL;
    if (v[3] && v[3]->type != PV_NONE && r_need_int(r, v[3], "truncate", &leeway) < 0)
        return NULL;
    static pyval dots = {.type = PV_STR, .immortal = 1, .ascii = 1, .u.str = {"...", 3, 3}};
    if (!end)
        end = &dots;
    if (!r_need_str(r, end, "truncate end"))
        return NULL;
    int64_t endlen = (int64_t)end->u.str.ncp;
    if (length < endlen)
        return rfail(r, "expected length >= %lld, got %lld", (long long)endlen, (long long)length);
    if (leeway < 0)
        return rfail(r, "expected leeway >= 0, got %lld", (long long)leeway);
    int64_t n;
    if (r_len(r, s, &n) < 0)
        return NULL;
    if (n <= length + leeway)
        return s;
    if (s->type != PV_STR)
        return rfail(r, "truncate of a long '%s' is not supported", pv_type_name(s));
    size_t cut = pv_str_offset(s, (size_t)(length - endlen));
    size_t keep = cut;
    if (!killwords) { /* s[:length - len(end)].rsplit(" ", 1)[0] */
        for (size_t k = cut; k-- > 0;)
            if (s->u.str.s[k] == ' ') {
                keep = k;
                break;
            }
    }
    t0_buf b = {0};
    t0_buf_add(&b, s->u.str.s, keep);
    t0_buf_add(&b, end->u.str.s, end->u.str.len);
    return r_buf_to_str(r, &b);
}

static pyval *f_round(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int64_t prec = 0;
    if (v[0] && r_need_int(r, v[0], "round", &prec) < 0)
        return NULL;
    const char *method = "common";
    if (v[1]) {
        if (v[1]->type != PV_STR)
            return rfail(r, "method must be common, ceil or floor");
        method = v[1]->u.str.s;
    }
    if (strcmp(method, "common") && strcmp(method, "ceil") && strcmp(method, "floor"))
        return rfail(r, "method must be common, ceil or floor");
    if (x->type == PV_UNDEFINED)
        return rfail(r, "%s", x->u.str.s);
    if (x->type != PV_INT && x->type != PV_FLOAT && x->type != PV_BOOL)
        return rfail(r, "type %s doesn't define __round__ method", pv_type_name(x));
    if (x->big)
        return rfail(r, "integer too large");
    if (prec > 400)
        prec = 400;
    if (prec < -400)
        prec = -400;
    if (!strcmp(method, "common")) {
        if (x->type != PV_FLOAT) {
            if (prec >= 0)
                return r_int(r, pv_int_value(x));
            /* round half to even at 10**-prec */
            int64_t m = 1;
            for (int64_t k = 0; k < -prec && m < (int64_t)1e18; k++)
                m *= 10;
            int64_t v0 = pv_int_value(x), q = v0 / m, rem = v0 % m;
            if (rem < 0) {
                q -= 1;
                rem += m;
            }
            if (rem * 2 > m || (rem * 2 == m && (q & 1)))
                q++;
            return r_int(r, q * m);
        }
        double f = x->u.f;
        if (!isfinite(f))
            return r_float(r, f);
        if (prec >= 0) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*f", (int)prec, f);
            return r_float(r, strtod(buf, NULL));
        }
        double m = pow(10.0, (double)-prec);
        double q = f / m, rq = nearbyint(q);
        return r_float(r, rq * m);
    }
    double f = pv_float_value(x), m = pow(10.0, (double)prec);
    double y = !strcmp(method, "ceil") ? ceil(f * m) : floor(f * m);
    return r_float(r, y / m);
}

static pyval *f_int(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval *def = v[0];
    int64_t base = 10;
    if (v[1] && r_need_int(r, v[1], "int", &base) < 0)
        return NULL;
    if (x->type == PV_UNDEFINED) /* Undefined.__int__ fails */
        return rfail(r, "%s", x->u.str.s);
    if (x->type == PV_INT)
        return x;
    if (x->type == PV_BOOL)
        return r_int(r, x->u.b);
    if (x->type == PV_FLOAT) {
        if (isnan(x->u.f))
            return def ? def : r_int(r, 0);
        if (!isfinite(x->u.f))
            return rfail(r, "cannot convert float infinity to integer");
        if (fabs(x->u.f) >= 9.2e18)
            return rfail(r, "integer too large");
        return r_int(r, (int64_t)x->u.f);
    }
    if (x->type == PV_STR) {
        int64_t i;
        int rc = base == 10 ? js_parse_int(x, &i) : -1;
        if (rc == 0)
            return r_int(r, i);
        if (rc == -2)
            return rfail(r, "integer too large");
        if (base != 10) {
            char buf[80];
            if (js_clean_number(x, buf, sizeof buf) == 0) {
                char *end;
                errno = 0;
                long long ll = strtoll(buf, &end, (int)base);
                if (!*end && !errno)
                    return r_int(r, ll);
            }
        }
        double f;
        if (js_parse_float(x, &f) == 0) {
            if (isnan(f))
                return def ? def : r_int(r, 0);
            if (!isfinite(f))
                return rfail(r, "cannot convert float infinity to integer");
            if (fabs(f) >= 9.2e18)
                return rfail(r, "integer too large");
            return r_int(r, (int64_t)f);
        }
    }
    return def ? def : r_int(r, 0);
}

static pyval *f_float(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (x->type == PV_UNDEFINED) /* Undefined.__float__ fails */
        return rfail(r, "%s", x->u.str.s);
    if (x->type == PV_FLOAT)
        return x;
    if (x->type == PV_INT || x->type == PV_BOOL)
        return r_float(r, pv_float_value(x));
    double f;
    if (x->type == PV_STR && js_parse_float(x, &f) == 0)
        return r_float(r, f);
    return v[0] ? v[0] : r_float(r, 0.0);
}

static pyval *f_minmax(render *r, pyval *seq, pyval **v, jargs *a, int want_max)
{
    (void)a;
    pyval **items, **keys;
    size_t n;
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    if (n == 0)
        return r_undef(r, "%s", "No aggregated item, sequence was empty.");
    if (keys_for(r, items, n, v[1], v[0] ? pv_truthy(v[0]) : 0, &keys) < 0)
        return NULL;
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        int c;
        if (r_compare(r, keys[i], keys[best], &c) < 0)
            return NULL;
        if (want_max ? c == 1 : c == -1)
            best = i;
    }
    return items[best];
}

static pyval *f_unique(render *r, pyval *seq, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval **items, **keys;
    size_t n;
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    if (keys_for(r, items, n, v[1], v[0] ? pv_truthy(v[0]) : 0, &keys) < 0)
        return NULL;
    pyval *out = gen_list(r), *seen = r_list(r, PV_LIST, 0);
    if (!out || !seen)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (keys[i]->type == PV_LIST || keys[i]->type == PV_DICT)
            return rfail(r, "unhashable type: '%s'", pv_type_name(keys[i]));
        int dup = r_contains(r, seen, keys[i]);
        if (dup < 0)
            return NULL;
        if (dup)
            continue;
        if (r_push(r, seen, keys[i]) < 0 || r_push(r, out, items[i]) < 0)
            return NULL;
    }
    return out;
}

/* Python's seq[index] for random.choice: list, tuple, str, range; a dict looks up the int key. */
static pyval *draw_from(render *r, pyval *seq, const char *who, int empty_is_error)
{
    int64_t n;
    if (STRICT_UNDEF(r, seq))
        return rfail(r, "%s", seq->u.str.s);
    if (r_len(r, seq, &n) < 0)
        return NULL;
    if (n == 0) {
        if (empty_is_error)
            return rfail(r, "%s: Cannot choose from an empty sequence", who);
        return r_undef(r, "%s", "No random item, sequence was empty.");
    }
    uint64_t d = jinja_splitmix64(&r->rng);
    pyval *idx = r_int(r, (int64_t)(d % (uint64_t)n));
    if (!idx)
        return NULL;
    if (seq->type == PV_DICT) {
        pyval *x = pv_dict_find(seq, idx);
        return x ? x : rfail(r, "%s: KeyError: %lld", who, (long long)idx->u.i);
    }
    return b_getitem(r, seq, idx);
}

static pyval *f_most_frequent(render *r, pyval *seq, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    if (!pv_truthy(seq))
        return PV_NONE_V;
    if (seq->type == PV_DICT) { /* Counter(a_dict) takes the dict's values as the counts */
        pyval *best = seq->u.dict.e[0].value;
        for (size_t i = 1; i < seq->u.dict.len; i++) {
            int c;
            if (r_compare(r, seq->u.dict.e[i].value, best, &c) < 0)
                return NULL;
            if (c == 1)
                best = seq->u.dict.e[i].value;
        }
        pyval *out = r_list(r, PV_LIST, 0);
        if (!out)
            return NULL;
        for (size_t i = 0; i < seq->u.dict.len; i++)
            if (pv_equal(seq->u.dict.e[i].value, best) && r_push(r, out, seq->u.dict.e[i].key) < 0)
                return NULL;
        return out;
    }
    pyval **items;
    size_t n;
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    pyval **uniq = pv_alloc(r->a, (n + 1) * sizeof *uniq);
    int64_t *counts = pv_alloc(r->a, (n + 1) * sizeof *counts);
    size_t nu = 0;
    int64_t best = 0;
    if (!uniq || !counts)
        return rfail(r, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (items[i]->type == PV_LIST || items[i]->type == PV_DICT)
            return rfail(r, "unhashable type: '%s'", pv_type_name(items[i]));
        size_t k = 0;
        if (r_work(r, nu) < 0)
            return NULL;
        while (k < nu && !pv_equal(uniq[k], items[i]))
            k++;
        if (k == nu) {
            uniq[nu] = items[i];
            counts[nu++] = 0;
        }
        if (++counts[k] > best)
            best = counts[k];
    }
    pyval *out = r_list(r, PV_LIST, 0);
    if (!out)
        return NULL;
    for (size_t k = 0; k < nu; k++)
        if (counts[k] == best && r_push(r, out, uniq[k]) < 0)
            return NULL;
    return out;
}

/* jinja2's title filter: capitalize each piece after runs of [-\s({[<]. */
static int title_delim(uint32_t c)
{
    return ju_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
}

static pyval *title_str(render *r, pyval *s)
{
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    const char *p = s->u.str.s;
    size_t len = s->u.str.len, off = 0;
    while (off < len) {
        uint32_t c;
        size_t n = ju_decode(p + off, len - off, &c);
        if (title_delim(c)) {
            t0_buf_add(&b, p + off, n);
            off += n;
            continue;
        }
        ju_append_upper(&b, c); /* item[0].upper() + item[1:].lower(), the rest as its own str */
        off += n;
        size_t rest = off;
        while (off < len) {
            size_t k = ju_decode(p + off, len - off, &c);
            if (title_delim(c))
                break;
            off += k;
        }
        pyval *lowered = off > rest ? r_str(r, p + rest, off - rest) : NULL;
        if (lowered && !(lowered = js_case(r, lowered, 0))) {
            t0_buf_free(&b);
            return NULL;
        }
        if (lowered)
            t0_buf_add(&b, lowered->u.str.s, lowered->u.str.len);
    }
    return r_buf_to_str(r, &b);
}

/* jinja2's batch: lists of `size` items, the last filled with fill_with when given. */
static pyval *batch_items(render *r, pyval **items, size_t n, int64_t size, pyval *fill)
{
    if (size <= 0)
        return rfail(r, "batch size must be positive");
    pyval *out = gen_list(r), *cur = NULL;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cur && !(cur = r_list(r, PV_LIST, 0)))
            return NULL;
        if (r_push(r, cur, items[i]) < 0)
            return NULL;
        if ((int64_t)cur->u.list.len == size) {
            if (r_push(r, out, cur) < 0)
                return NULL;
            cur = NULL;
        }
    }
    if (cur) {
        while (fill && fill->type != PV_NONE && (int64_t)cur->u.list.len < size)
            if (r_push(r, cur, fill) < 0)
                return NULL;
        if (r_push(r, out, cur) < 0)
            return NULL;
    }
    return out;
}

/* jinja2's slice: `slices` columns, the first n % slices one item longer. */
static pyval *slice_items(render *r, pyval **items, size_t n, int64_t slices, pyval *fill)
{
    if (slices <= 0)
        return rfail(r, "integer division or modulo by zero");
    pyval *out = gen_list(r);
    if (!out)
        return NULL;
    size_t per = n / (size_t)slices, extra = n % (size_t)slices, offset = 0;
    for (size_t k = 0; k < (size_t)slices; k++) {
        size_t start = offset + k * per, end = start + per;
        if (k < extra)
            offset++;
        end = offset + (k + 1) * per;
        pyval *col = r_list(r, PV_LIST, 0);
        if (!col)
            return NULL;
        for (size_t i = start; i < end && i < n; i++)
            if (r_push(r, col, items[i]) < 0)
                return NULL;
        if (fill && fill->type != PV_NONE && k >= extra && extra)
            if (r_push(r, col, fill) < 0)
                return NULL;
        if (r_push(r, out, col) < 0)
            return NULL;
    }
    return out;
}

/* A new list of the items of x, or of their attribute attr (jinja2's attrgetter) when given. */
static pyval *list_of(render *r, pyval *x, pyval *attr)
{
    pyval **items;
    size_t n;
    if (r_iterate(r, x, &items, &n) < 0)
        return NULL;
    pyval *l = r_list(r, PV_LIST, n);
    if (!l)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(l->u.list.items[l->u.list.len++] = attr ? attr_get(r, items[i], attr) : items[i]))
            return NULL;
    return l;
}

static pyval *f_string(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    return r_tostr(r, x);
}

static pyval *f_default(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int boolean = v[1] ? pv_truthy(v[1]) : 0;
    if (x->type == PV_UNDEFINED || (boolean && !pv_truthy(x)))
        return v[0] ? v[0] : r_str(r, "", 0);
    return x;
}

static pyval *f_join(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval *sep = v[0] ? r_tostr(r, v[0]) : r_str(r, "", 0);
    if (!sep || (v[1] && v[1]->type != PV_NONE && !(x = list_of(r, x, v[1]))))
        return NULL;
    return js_join(r, sep, x, 1);
}

static pyval *f_replace(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0] || !v[1])
        return rfail(r, "replace filter needs old and new");
    int64_t count = -1;
    pyval *s = r_tostr(r, x), *o = s ? r_tostr(r, v[0]) : NULL, *nw = o ? r_tostr(r, v[1]) : NULL;
    if (!nw || (v[2] && v[2]->type != PV_NONE && r_need_int(r, v[2], "replace", &count) < 0))
        return NULL;
    return js_replace(r, s, o, nw, count);
}

static pyval *f_length(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    int64_t n;
    return r_len(r, x, &n) < 0 ? NULL : r_int(r, n);
}

static pyval *f_list(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    return list_of(r, x, NULL);
}

static pyval *f_trim(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval *s = r_tostr(r, x);
    return s ? js_strip(r, s, v[0], 3) : NULL;
}

static pyval *f_case(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a;
    pyval *s = r_tostr(r, x);
    return s ? js_case(r, s, mode) : NULL;
}

static pyval *f_title(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    pyval *s = r_tostr(r, x);
    return s ? title_str(r, s) : NULL;
}

static pyval *f_first_last(render *r, pyval *x, pyval **v, jargs *a, int last)
{
    (void)v, (void)a;
    pyval **items;
    size_t n;
    if (last && x->type == PV_LIST && x->kind != LK_LIST && x->kind != LK_KEYS && x->kind != LK_VALUES &&
        x->kind != LK_ITEMS)
        return rfail(r, "'%s' object is not reversible", pv_type_name(x));
    if (r_iterate(r, x, &items, &n) < 0)
        return NULL;
    if (n == 0)
        return r_undef(r, "%s", last ? "No last item, sequence was empty." : "No first item, sequence was empty.");
    return last ? items[n - 1] : items[0];
}

static pyval *f_abs(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    if (x->type == PV_INT && !x->big)
        return x->u.i >= 0 ? x : x->u.i == INT64_MIN ? rfail(r, "integer overflow") : r_int(r, -x->u.i);
    if (x->type == PV_BOOL)
        return r_int(r, x->u.b);
    if (x->type == PV_FLOAT)
        return r_float(r, fabs(x->u.f));
    if (x->type == PV_UNDEFINED)
        return rfail(r, "%s", x->u.str.s);
    return rfail(r, "bad operand type for abs(): '%s'", pv_type_name(x));
}

static pyval *f_sort(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval *l = list_of(r, x, NULL), **keys;
    if (!l)
        return NULL;
    size_t n = l->u.list.len;
    if (keys_for(r, l->u.list.items, n, v[2], v[1] ? pv_truthy(v[1]) : 0, &keys) < 0 ||
        r_sort(r, l->u.list.items, keys, n, v[0] ? pv_truthy(v[0]) : 0) < 0)
        return NULL;
    return l;
}

static pyval *f_format(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)mode;
    pyval *s = r_tostr(r, x);
    if (!s)
        return NULL;
    if (a->npos && a->nkw)
        return rfail(r, "can't handle positional and keyword arguments at the same time");
    if (a->nkw) {
        pyval *d = pv_mk_dict(r->a, PV_DICT);
        if (!d)
            return rfail(r, "out of memory");
        for (int k = 0; k < a->nkw; k++) {
            pyval *key = r_str(r, a->kwnames[k], strlen(a->kwnames[k]));
            if (!key || pv_dict_put(r->a, d, key, a->kwvals[k]) < 0)
                return NULL;
        }
        return js_format_percent(r, s, d);
    }
    pyval *t = r_list(r, PV_TUPLE, (size_t)a->npos);
    if (!t)
        return NULL;
    for (int i = 0; i < a->npos; i++)
        t->u.list.items[t->u.list.len++] = a->pos[i];
    return js_format_percent(r, s, t);
}

static pyval *f_random(render *r, pyval *x, pyval **v, jargs *a, int choice)
{
    (void)v, (void)a;
    return draw_from(r, x, choice ? "choice" : "random", choice);
}

static pyval *f_wordcount(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    pyval *s = r_tostr(r, x);
    if (!s)
        return NULL;
    int64_t words = 0;
    int in_word = 0;
    size_t off = 0;
    while (off < s->u.str.len) {
        uint32_t c;
        off += ju_decode(s->u.str.s + off, s->u.str.len - off, &c);
        int w = ju_isword(c);
        if (w && !in_word)
            words++;
        in_word = w;
    }
    return r_int(r, words);
}

static pyval *f_sum(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval **items;
    size_t n;
    pyval *acc = v[1] ? v[1] : r_int(r, 0);
    if (!acc || r_iterate(r, x, &items, &n) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        pyval *it = items[i];
        if (v[0] && !(it = attr_get(r, it, v[0])))
            return NULL;
        if (!(acc = r_binop(r, OP_ADD, acc, it)))
            return NULL;
    }
    return acc;
}

/* promptsource's highlight: the str wrapped in a colored span. */
static pyval *f_highlight(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    if (x->type != PV_STR)
        return rfail(r, "can only concatenate str (not \"%s\") to str", pv_type_name(x));
    t0_buf b = {0};
    t0_buf_add(&b, "<span style='color: #F08080'>", 29);
    t0_buf_add(&b, x->u.str.s, x->u.str.len);
    t0_buf_add(&b, "</span>", 7);
    return r_buf_to_str(r, &b);
}

static pyval *f_reverse(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    pyval **items;
    size_t n;
    if (r_iterate(r, x, &items, &n) < 0)
        return NULL;
    if (x->type == PV_STR) {
        t0_buf b = {0};
        for (size_t i = n; i-- > 0;)
            t0_buf_add(&b, items[i]->u.str.s, items[i]->u.str.len);
        return r_buf_to_str(r, &b);
    }
    pyval *l = gen_list(r);
    if (!l)
        return NULL;
    for (size_t i = n; i-- > 0;)
        if (r_push(r, l, items[i]) < 0)
            return NULL;
    return l;
}

/* batch (mode 0: rows of v[0] items) and slice (mode 1: v[0] columns). */
static pyval *f_batch_slice(render *r, pyval *x, pyval **v, jargs *a, int slice)
{
    (void)a;
    const char *name = slice ? "slice" : "batch";
    int64_t k;
    if (!v[0])
        return rfail(r, "%s() missing a required argument", name);
    if (r_need_int(r, v[0], name, &k) < 0)
        return NULL;
    pyval **items;
    size_t n;
    if (r_iterate(r, x, &items, &n) < 0)
        return NULL;
    return slice ? slice_items(r, items, n, k, v[1]) : batch_items(r, items, n, k, v[1]);
}

static pyval *f_attr(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0] || v[0]->type != PV_STR)
        return rfail(r, "attr filter needs a name");
    if (x->type == PV_UNDEFINED)
        return rfail(r, "%s", x->u.str.s);
    pyval *m = b_method(r, x, v[0]->u.str.s, v[0]->u.str.len);
    if (m)
        return m;
    if (x->type == PV_NAMESPACE) {
        pyval *y = pv_dict_find_str(x, v[0]->u.str.s, v[0]->u.str.len);
        if (y)
            return y;
    }
    return r_undef(r, "%s", "no such attribute");
}

/* jinja2's filters and promptsource's (choice, most_frequent, highlight), in name order. */
static const jbuiltin FILTERS[] = {
    {"abs", f_abs, 0, 0, {0}},
    {"attr", f_attr, 0, 0, {"name"}},
    {"batch", f_batch_slice, 0, 0, {"linecount", "fill_with"}},
    {"capitalize", f_case, 2, 0, {0}},
    {"choice", f_random, 1, 0, {0}},
    {"count", f_length, 0, 0, {0}},
    {"d", f_default, 0, JB_UNDEFINED, {"default_value", "boolean"}},
    {"default", f_default, 0, JB_UNDEFINED, {"default_value", "boolean"}},
    {"first", f_first_last, 0, 0, {0}},
    {"float", f_float, 0, 0, {"default"}},
    {"format", f_format, 0, JB_OWN_ARGS, {0}},
    {"highlight", f_highlight, 0, 0, {0}},
    {"int", f_int, 0, 0, {"default", "base"}},
    {"join", f_join, 0, 0, {"d", "attribute"}},
    {"last", f_first_last, 1, 0, {0}},
    {"length", f_length, 0, 0, {0}},
    {"list", f_list, 0, 0, {0}},
    {"lower", f_case, 0, 0, {0}},
    {"map", f_map, 0, JB_OWN_ARGS, {0}},
    {"max", f_minmax, 1, 0, {"case_sensitive", "attribute"}},
    {"min", f_minmax, 0, 0, {"case_sensitive", "attribute"}},
    {"most_frequent", f_most_frequent, 0, 0, {0}},
    {"random", f_random, 0, 0, {0}},
    {"reject", f_select, 0, JB_OWN_ARGS, {0}},
    {"rejectattr", f_select, SELECT_ATTR, JB_OWN_ARGS, {0}},
    {"replace", f_replace, 0, 0, {"old", "new", "count"}},
    {"reverse", f_reverse, 0, 0, {0}},
    {"round", f_round, 0, 0, {"precision", "method"}},
    {"select", f_select, SELECT_KEEP, JB_OWN_ARGS, {0}},
    {"selectattr", f_select, SELECT_KEEP | SELECT_ATTR, JB_OWN_ARGS, {0}},
    {"slice", f_batch_slice, 1, 0, {"slices", "fill_with"}},
    {"sort", f_sort, 0, 0, {"reverse", "case_sensitive", "attribute"}},
    {"string", f_string, 0, 0, {0}},
    {"sum", f_sum, 0, 0, {"attribute", "start"}},
    {"title", f_title, 0, 0, {0}},
    {"trim", f_trim, 0, 0, {"chars"}},
    {"truncate", f_truncate, 0, 0, {"length", "killwords", "end", "leeway"}},
    {"unique", f_unique, 0, 0, {"case_sensitive", "attribute"}},
    {"upper", f_case, 1, 0, {0}},
    {"wordcount", f_wordcount, 0, 0, {0}},
    {NULL, NULL, 0, 0, {0}},
};

const jbuiltin *b_find_filter(const char *name)
{
    return jb_find(FILTERS, name, strlen(name));
}

pyval *b_filter_row(render *r, const jbuiltin *f, const char *name, pyval *x, jargs *a)
{
    if (!f)
        return rfail(r, "No filter named '%s'.", name);
    if (STRICT_UNDEF(r, x) && !(f->flags & JB_UNDEFINED))
        return rfail(r, "%s", x->u.str.s);
    return jb_apply(r, f, x, a, "filter");
}

/* ---------------- tests ---------------- */

/* Which types (and kinds) a type test accepts. */
enum { T_DEFINED, T_UNDEFINED, T_NONE, T_FALSE, T_TRUE, T_BOOLEAN, T_STRING, T_NUMBER, T_INTEGER,
       T_FLOAT, T_MAPPING, T_SEQUENCE, T_ITERABLE, T_CALLABLE };

static pyval *t_type(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)r, (void)v, (void)a;
    int t = x->type, seq = t == PV_STR || t == PV_TUPLE || t == PV_DICT || t == PV_RANGE || t == PV_UNDEFINED;
    switch (mode) {
    case T_DEFINED: return PV_BOOL_V(t != PV_UNDEFINED);
    case T_UNDEFINED: return PV_BOOL_V(t == PV_UNDEFINED);
    case T_NONE: return PV_BOOL_V(t == PV_NONE);
    case T_FALSE: return PV_BOOL_V(t == PV_BOOL && !x->u.b);
    case T_TRUE: return PV_BOOL_V(t == PV_BOOL && x->u.b);
    case T_BOOLEAN: return PV_BOOL_V(t == PV_BOOL);
    case T_STRING: return PV_BOOL_V(t == PV_STR);
    case T_NUMBER: return PV_BOOL_V(t == PV_INT || t == PV_FLOAT || t == PV_BOOL);
    case T_INTEGER: return PV_BOOL_V(t == PV_INT);
    case T_FLOAT: return PV_BOOL_V(t == PV_FLOAT);
    case T_MAPPING: return PV_BOOL_V(t == PV_DICT);
    case T_SEQUENCE: return PV_BOOL_V(seq || (t == PV_LIST && x->kind == LK_LIST));
    case T_ITERABLE: return PV_BOOL_V(seq || t == PV_LIST);
    default: return PV_BOOL_V(t == PV_FUNC && x->u.func.id != F_LOOP);
    }
}

/* lower, upper: jinja2's str(value).islower() (mode: the js_class). */
static pyval *t_case(render *r, pyval *x, pyval **v, jargs *a, int cls)
{
    (void)v, (void)a;
    pyval *s = r_tostr(r, x);
    return s ? PV_BOOL_V(js_is(s, (js_class)cls)) : NULL;
}

/* odd, even (mode 0, 1: value % 2 == 1 or 0) and divisibleby (mode 2: value % num == 0). */
static pyval *t_modulo(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a;
    pyval *by = mode == 2 ? v[0] : pv_mk_int(r->a, 2);
    if (!by)
        return rfail(r, "divisibleby() missing 1 required positional argument: 'num'");
    pyval *m = js_mod(r, x, by);
    if (!m)
        return NULL;
    double mv = pv_float_value(m);
    return PV_BOOL_V(mode == 0 ? mv == 1 : mv == 0);
}

static pyval *t_equal(render *r, pyval *x, pyval **v, jargs *a, int negate)
{
    (void)r, (void)a;
    return PV_BOOL_V(pv_equal(x, v[0]) != negate);
}

static pyval *t_sameas(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)r, (void)a, (void)mode;
    pyval *y = v[0];
    return PV_BOOL_V(x == y || (x->type == y->type && (x->type == PV_NONE || x->type == PV_BOOL) && pv_equal(x, y)));
}

static pyval *t_in(render *r, pyval *x, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int in = r_contains(r, v[0], x);
    return in < 0 ? NULL : PV_BOOL_V(in);
}

enum { CMP_GT, CMP_LT, CMP_GE, CMP_LE };

static pyval *t_compare(render *r, pyval *x, pyval **v, jargs *a, int want)
{
    (void)a;
    int c;
    if (r_compare(r, x, v[0], &c) < 0)
        return NULL;
    if (c == 2) /* unordered (nan) */
        return PV_FALSE_V;
    switch (want) {
    case CMP_GT: return PV_BOOL_V(c > 0);
    case CMP_LT: return PV_BOOL_V(c < 0);
    case CMP_GE: return PV_BOOL_V(c >= 0);
    default: return PV_BOOL_V(c <= 0);
    }
}

/* jinja2's tests with their aliases. */
static const jbuiltin TESTS[] = {
    {"!=", t_equal, 1, JB_NEEDS_ARG, {0}},
    {"<", t_compare, CMP_LT, JB_NEEDS_ARG, {0}},
    {"<=", t_compare, CMP_LE, JB_NEEDS_ARG, {0}},
    {"==", t_equal, 0, JB_NEEDS_ARG, {0}},
    {">", t_compare, CMP_GT, JB_NEEDS_ARG, {0}},
    {">=", t_compare, CMP_GE, JB_NEEDS_ARG, {0}},
    {"boolean", t_type, T_BOOLEAN, 0, {0}},
    {"callable", t_type, T_CALLABLE, 0, {0}},
    {"defined", t_type, T_DEFINED, 0, {0}},
    {"divisibleby", t_modulo, 2, 0, {0}},
    {"eq", t_equal, 0, JB_NEEDS_ARG, {0}},
    {"equalto", t_equal, 0, JB_NEEDS_ARG, {0}},
    {"even", t_modulo, 1, 0, {0}},
    {"false", t_type, T_FALSE, 0, {0}},
    {"float", t_type, T_FLOAT, 0, {0}},
    {"ge", t_compare, CMP_GE, JB_NEEDS_ARG, {0}},
    {"greaterthan", t_compare, CMP_GT, JB_NEEDS_ARG, {0}},
    {"gt", t_compare, CMP_GT, JB_NEEDS_ARG, {0}},
    {"in", t_in, 0, JB_NEEDS_ARG, {0}},
    {"integer", t_type, T_INTEGER, 0, {0}},
    {"iterable", t_type, T_ITERABLE, 0, {0}},
    {"le", t_compare, CMP_LE, JB_NEEDS_ARG, {0}},
    {"lessthan", t_compare, CMP_LT, JB_NEEDS_ARG, {0}},
    {"lower", t_case, JS_LOWER, 0, {0}},
    {"lt", t_compare, CMP_LT, JB_NEEDS_ARG, {0}},
    {"mapping", t_type, T_MAPPING, 0, {0}},
    {"ne", t_equal, 1, JB_NEEDS_ARG, {0}},
    {"none", t_type, T_NONE, 0, {0}},
    {"number", t_type, T_NUMBER, 0, {0}},
    {"odd", t_modulo, 0, 0, {0}},
    {"sameas", t_sameas, 0, JB_NEEDS_ARG, {0}},
    {"sequence", t_type, T_SEQUENCE, 0, {0}},
    {"string", t_type, T_STRING, 0, {0}},
    {"true", t_type, T_TRUE, 0, {0}},
    {"undefined", t_type, T_UNDEFINED, 0, {0}},
    {"upper", t_case, JS_UPPER, 0, {0}},
    {NULL, NULL, 0, 0, {0}},
};

const jbuiltin *b_find_test(const char *name)
{
    return jb_find(TESTS, name, strlen(name));
}

/* A test takes its one argument loosely, positional or keyword, as jinja2's do. */
int b_test_row(render *r, const jbuiltin *t, const char *name, pyval *x, jargs *a)
{
    if (!t) {
        rfail(r, "No test named '%s'.", name);
        return -1;
    }
    pyval *v[1] = {a->npos ? a->pos[0] : a->nkw ? a->kwvals[0] : NULL};
    if ((t->flags & JB_NEEDS_ARG) && !v[0]) {
        rfail(r, "test '%s' needs an argument", name);
        return -1;
    }
    pyval *res = t->fn(r, x, v, a, t->mode);
    return res ? res == PV_TRUE_V : -1;
}
