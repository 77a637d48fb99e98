/* jinja_builtins.c: jinja2's filters and tests, promptsource's filters, the globals
 * (range, dict, namespace, zip) and the list/dict methods templates call (str: jinja_str.c). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/jinja_internal.h"

static int sort_items(render *r, pyval **items, pyval **keys, size_t n, int reverse);

/* ---------------- methods ---------------- */

static const char *const STR_METHODS[] = {
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
    "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
    "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
    "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
    "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
    "title", "translate", "upper", "zfill", NULL};
static const char *const LIST_METHODS[] = {"append", "clear", "copy", "count", "extend", "index", "insert",
                                           "pop", "remove", "reverse", "sort", NULL};
static const char *const TUPLE_METHODS[] = {"count", "index", NULL};
static const char *const DICT_METHODS[] = {"clear", "copy", "fromkeys", "get", "items", "keys", "pop",
                                           "popitem", "setdefault", "update", "values", NULL};

static const char *jb_find_name(const char *const *names, const char *name, size_t len)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == len && !memcmp(names[i], name, len))
            return names[i];
    return NULL;
}

pyval *b_method(render *r, pyval *self, const char *name, size_t len)
{
    const char *const *table = NULL;
    switch (self->type) {
    case PV_STR: table = STR_METHODS; break;
    case PV_LIST: table = self->kind == LK_LIST ? LIST_METHODS : NULL; break;
    case PV_TUPLE: table = TUPLE_METHODS; break;
    case PV_DICT: table = DICT_METHODS; break;
    default: return NULL;
    }
    const char *m = table ? jb_find_name(table, name, len) : NULL;
    if (!m)
        return NULL;
    pyval *f = pv_mk(r->a, PV_FUNC);
    if (!f)
        return rfail(r, "out of memory");
    f->u.func.id = F_METHOD;
    f->u.func.self = self;
    f->u.func.name = m;
    return f;
}

static int mutable_check(render *r, pyval *self, const char *m)
{
    if (!self->immortal) {
        rfail(r, "cannot modify a value of the example (%s.%s)", pv_type_name(self), m);
        return -1;
    }
    return 0;
}

static pyval *view(render *r, pyval *d, int kind)
{
    pyval *l = r_list(r, PV_LIST, d->u.dict.len);
    if (!l)
        return NULL;
    l->kind = (uint8_t)kind;
    for (size_t i = 0; i < d->u.dict.len; i++) {
        pyval *it;
        if (kind == LK_KEYS) {
            it = d->u.dict.e[i].key;
        } else if (kind == LK_VALUES) {
            it = d->u.dict.e[i].value;
        } else {
            if (!(it = r_list(r, PV_TUPLE, 2)))
                return NULL;
            it->u.list.items[0] = d->u.dict.e[i].key;
            it->u.list.items[1] = d->u.dict.e[i].value;
            it->u.list.len = 2;
        }
        l->u.list.items[l->u.list.len++] = it;
    }
    return l;
}

static int dict_update_from(render *r, pyval *d, pyval *src)
{
    if (src->type == PV_DICT || src->type == PV_NAMESPACE) {
        for (size_t i = 0; i < src->u.dict.len; i++)
            if (pv_dict_put(r->a, d, src->u.dict.e[i].key, src->u.dict.e[i].value) < 0) {
                rfail(r, "out of memory");
                return -1;
            }
        return 0;
    }
    pyval **items;
    size_t n;
    if (r_iterate(r, src, &items, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        pyval **kv;
        size_t nkv;
        if (r_iterate(r, items[i], &kv, &nkv) < 0)
            return -1;
        if (nkv != 2) {
            rfail(r, "dictionary update sequence element #%zu has length %zu; 2 is required", i, nkv);
            return -1;
        }
        if (pv_dict_put(r->a, d, kv[0], kv[1]) < 0) {
            rfail(r, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Python's d.update(m, **kw) and dict(m, **kw): at most one mapping or iterable of pairs,
 * then the keyword arguments. what names the call in the error. 0 or -1. */
static int dict_update_args(render *r, pyval *d, jargs *a, const char *what)
{
    if (a->npos > 1) {
        rfail(r, "%s expected at most 1 argument, got %d", what, a->npos);
        return -1;
    }
    if (a->npos && dict_update_from(r, d, a->pos[0]) < 0)
        return -1;
    for (int k = 0; k < a->nkw; k++) {
        pyval *key = r_str(r, a->kwnames[k], strlen(a->kwnames[k]));
        if (!key || pv_dict_put(r->a, d, key, a->kwvals[k]) < 0) {
            if (key)
                rfail(r, "out of memory");
            return -1;
        }
    }
    return 0;
}

static pyval *call_list_method(render *r, pyval *l, const char *m, jargs *a)
{
    pyval *v[3];
    if (IS(m, "count") || IS(m, "index")) {
        static const char *const P[] = {"value", NULL};
        if (jb_bind(r, m, a, P, v) < 0)
            return NULL;
        if (!v[0])
            return rfail(r, "%s() takes exactly one argument (0 given)", m);
        int64_t c = 0;
        if (r_work(r, l->u.list.len) < 0)
            return NULL;
        for (size_t i = 0; i < l->u.list.len; i++)
            if (pv_equal(l->u.list.items[i], v[0])) {
                if (m[0] == 'i')
                    return jb_int(r, (int64_t)i);
                c++;
            }
        if (m[0] == 'i')
            return rfail(r, "value is not in list");
        return jb_int(r, c);
    }
    if (l->type == PV_TUPLE)
        return rfail(r, "tuple.%s() is not supported", m);
    if (IS(m, "copy")) {
        pyval *c = r_list(r, PV_LIST, l->u.list.len);
        if (!c)
            return NULL;
        for (size_t i = 0; i < l->u.list.len; i++)
            c->u.list.items[c->u.list.len++] = l->u.list.items[i];
        return c;
    }
    if (mutable_check(r, l, m) < 0)
        return NULL;
    if (IS(m, "append")) {
        static const char *const P[] = {"object", NULL};
        if (jb_bind(r, m, a, P, v) < 0)
            return NULL;
        if (!v[0])
            return rfail(r, "append() takes exactly one argument (0 given)");
        return r_push(r, l, v[0]) < 0 ? NULL : PV_NONE_V;
    }
    if (IS(m, "extend")) {
        static const char *const P[] = {"iterable", NULL};
        pyval **items;
        size_t n;
        if (jb_bind(r, m, a, P, v) < 0 || !v[0] || r_iterate(r, v[0], &items, &n) < 0)
            return v[0] ? NULL : rfail(r, "extend() takes exactly one argument (0 given)");
        for (size_t i = 0; i < n; i++)
            if (r_push(r, l, items[i]) < 0)
                return NULL;
        return PV_NONE_V;
    }
    if (IS(m, "pop")) {
        static const char *const P[] = {"index", NULL};
        int64_t i = -1, n = (int64_t)l->u.list.len;
        if (jb_bind(r, m, a, P, v) < 0 || (v[0] && jb_need_int(r, v[0], m, &i) < 0))
            return NULL;
        if (n == 0)
            return rfail(r, "pop from empty list");
        if (i < 0)
            i += n;
        if (i < 0 || i >= n)
            return rfail(r, "pop index out of range");
        pyval *out = l->u.list.items[i];
        memmove(&l->u.list.items[i], &l->u.list.items[i + 1], (size_t)(n - i - 1) * sizeof(pyval *));
        l->u.list.len--;
        return out;
    }
    if (IS(m, "insert")) {
        static const char *const P[] = {"index", "object", NULL};
        int64_t i, n = (int64_t)l->u.list.len;
        if (jb_bind(r, m, a, P, v) < 0 || !v[0] || !v[1] || jb_need_int(r, v[0], m, &i) < 0)
            return (v[0] && v[1]) ? NULL : rfail(r, "insert expected 2 arguments");
        if (i < 0 && (i += n) < 0)
            i = 0;
        if (i > n)
            i = n;
        if (r_push(r, l, v[1]) < 0)
            return NULL;
        memmove(&l->u.list.items[i + 1], &l->u.list.items[i], (size_t)(n - i) * sizeof(pyval *));
        l->u.list.items[i] = v[1];
        return PV_NONE_V;
    }
    if (IS(m, "remove")) {
        static const char *const P[] = {"value", NULL};
        if (jb_bind(r, m, a, P, v) < 0 || !v[0])
            return v[0] ? NULL : rfail(r, "remove() takes exactly one argument");
        for (size_t i = 0; i < l->u.list.len; i++)
            if (pv_equal(l->u.list.items[i], v[0])) {
                memmove(&l->u.list.items[i], &l->u.list.items[i + 1], (l->u.list.len - i - 1) * sizeof(pyval *));
                l->u.list.len--;
                return PV_NONE_V;
            }
        return rfail(r, "list.remove(x): x not in list");
    }
    if (IS(m, "reverse")) {
        for (size_t i = 0, j = l->u.list.len; i + 1 < j; i++, j--) {
            pyval *t = l->u.list.items[i];
            l->u.list.items[i] = l->u.list.items[j - 1];
            l->u.list.items[j - 1] = t;
        }
        return PV_NONE_V;
    }
    if (IS(m, "clear")) {
        l->u.list.len = 0;
        return PV_NONE_V;
    }
    if (IS(m, "sort")) {
        static const char *const P[] = {"reverse", NULL};
        if (jb_bind(r, m, a, P, v) < 0)
            return NULL;
        pyval **keys = pv_alloc(r->a, (l->u.list.len + 1) * sizeof *keys);
        if (!keys)
            return rfail(r, "out of memory");
        memcpy(keys, l->u.list.items, l->u.list.len * sizeof *keys);
        return sort_items(r, l->u.list.items, keys, l->u.list.len, v[0] ? pv_truthy(v[0]) : 0) < 0 ? NULL : PV_NONE_V;
    }
    return rfail(r, "list.%s() is not supported", m);
}

static pyval *call_dict_method(render *r, pyval *d, const char *m, jargs *a)
{
    pyval *v[2];
    if (IS(m, "items"))
        return view(r, d, LK_ITEMS);
    if (IS(m, "keys"))
        return view(r, d, LK_KEYS);
    if (IS(m, "values"))
        return view(r, d, LK_VALUES);
    if (IS(m, "get")) {
        static const char *const P[] = {"key", "default", NULL};
        if (jb_bind(r, m, a, P, v) < 0)
            return NULL;
        if (!v[0])
            return rfail(r, "get expected at least 1 argument, got 0");
        pyval *x = pv_dict_find(d, v[0]);
        return x ? x : v[1] ? v[1] : PV_NONE_V;
    }
    if (IS(m, "copy")) {
        pyval *c = pv_mk_dict(r->a, PV_DICT);
        if (!c || dict_update_from(r, c, d) < 0)
            return c ? NULL : rfail(r, "out of memory");
        return c;
    }
    if (mutable_check(r, d, m) < 0)
        return NULL;
    if (IS(m, "update")) {
        return dict_update_args(r, d, a, "update") < 0 ? NULL : PV_NONE_V;
    }
    if (IS(m, "pop") || IS(m, "setdefault")) {
        static const char *const P[] = {"key", "default", NULL};
        if (jb_bind(r, m, a, P, v) < 0)
            return NULL;
        if (!v[0])
            return rfail(r, "%s expected at least 1 argument, got 0", m);
        pyval *x = pv_dict_find(d, v[0]);
        if (m[0] == 's') {
            if (x)
                return x;
            pyval *def = v[1] ? v[1] : PV_NONE_V;
            return pv_dict_put(r->a, d, v[0], def) < 0 ? rfail(r, "out of memory") : def;
        }
        if (!x) {
            if (v[1])
                return v[1];
            return rfail(r, "KeyError");
        }
        pv_dict_remove(d, v[0]);
        return x;
    }
    if (IS(m, "clear")) {
        d->u.dict.len = 0;
        return PV_NONE_V;
    }
    return rfail(r, "dict.%s() is not supported", m);
}

/* ---------------- globals ---------------- */

static pyval *g_range(render *r, jargs *a)
{
    int64_t v[3] = {0, 0, 1};
    if (a->nkw)
        return rfail(r, "range() takes no keyword arguments");
    if (a->npos < 1 || a->npos > 3)
        return rfail(r, "range expected at most 3 arguments, got %d", a->npos);
    for (int i = 0; i < a->npos; i++)
        if (jb_need_int(r, a->pos[i], "range", &v[i]) < 0)
            return NULL;
    pyval *out = pv_mk(r->a, PV_RANGE);
    if (!out)
        return rfail(r, "out of memory");
    if (a->npos == 1) {
        out->u.range.start = 0;
        out->u.range.stop = v[0];
        out->u.range.step = 1;
    } else {
        out->u.range.start = v[0];
        out->u.range.stop = v[1];
        out->u.range.step = a->npos == 3 ? v[2] : 1;
    }
    if (out->u.range.step == 0)
        return rfail(r, "range() arg 3 must not be zero");
    if (out->u.range.step == INT64_MIN)
        return rfail(r, "range() step too large");
    return out; /* Python's range: the iteration limit applies when it is iterated */
}

static pyval *g_dict(render *r, jargs *a, pv_type t)
{
    pyval *d = pv_mk_dict(r->a, t);
    if (!d)
        return rfail(r, "out of memory");
    return dict_update_args(r, d, a, t == PV_DICT ? "dict" : "namespace") < 0 ? NULL : d;
}

static pyval *g_zip(render *r, jargs *a)
{
    if (a->nkw)
        return rfail(r, "zip() takes no keyword arguments");
    pyval ***cols = pv_alloc(r->a, (size_t)(a->npos + 1) * sizeof *cols);
    size_t n = (size_t)-1;
    if (!cols)
        return rfail(r, "out of memory");
    for (int i = 0; i < a->npos; i++) {
        size_t len;
        if (r_iterate(r, a->pos[i], &cols[i], &len) < 0)
            return NULL;
        if (len < n)
            n = len;
    }
    if (a->npos == 0)
        n = 0;
    pyval *out = r_list(r, PV_LIST, n);
    if (!out)
        return NULL;
    out->kind = LK_ZIP;
    for (size_t k = 0; k < n; k++) {
        pyval *t = r_list(r, PV_TUPLE, (size_t)a->npos);
        if (!t)
            return NULL;
        for (int i = 0; i < a->npos; i++)
            t->u.list.items[t->u.list.len++] = cols[i][k];
        out->u.list.items[out->u.list.len++] = t;
    }
    return out;
}

pyval *b_call(render *r, pyval *f, jargs *a)
{
    switch (f->u.func.id) {
    case F_RANGE: return g_range(r, a);
    case F_DICT: return g_dict(r, a, PV_DICT);
    case F_NAMESPACE: return g_dict(r, a, PV_NAMESPACE);
    case F_ZIP: return g_zip(r, a);
    case F_LOOP_CYCLE: {
        jloop *l = f->u.func.ptr;
        if (a->npos == 0)
            return rfail(r, "no items for cycling given");
        return a->pos[l->index % (size_t)a->npos];
    }
    case F_METHOD: {
        pyval *self = f->u.func.self;
        const char *m = f->u.func.name;
        if (self->type == PV_STR)
            return js_call_method(r, self, m, a);
        if (self->type == PV_LIST || self->type == PV_TUPLE)
            return call_list_method(r, self, m, a);
        if (self->type == PV_DICT)
            return call_dict_method(r, self, m, a);
        break;
    }
    default: break;
    }
    return rfail(r, "'%s' object is not callable", pv_type_name(f));
}

/* ---------------- tests ---------------- */

static const char *const TESTS[] = {
    "defined", "undefined", "none", "equalto", "eq", "==", "ne", "!=", "gt", ">", "greaterthan", "lt", "<",
    "lessthan", "ge", ">=", "le", "<=", "in", "false", "true", "string", "number", "integer", "float",
    "sequence", "mapping", "iterable", "odd", "even", "divisibleby", "boolean", "callable", "lower", "upper",
    "sameas", NULL};

int b_has_test(const char *name)
{
    return jb_find_name(TESTS, name, strlen(name)) != NULL;
}

static int cmp_test(render *r, pyval *a, pyval *b, int want)
{
    int c;
    if (r_compare(r, a, b, &c) < 0)
        return -1;
    if (c == 2)
        return 0;
    switch (want) {
    case 0: return c > 0;
    case 1: return c < 0;
    case 2: return c >= 0;
    default: return c <= 0;
    }
}

int b_test(render *r, const char *name, pyval *v, jargs *a)
{
    pyval *arg = a->npos ? a->pos[0] : a->nkw ? a->kwvals[0] : NULL;
    int t = v->type;
    if (IS(name, "defined"))
        return t != PV_UNDEFINED;
    if (IS(name, "undefined"))
        return t == PV_UNDEFINED;
    if (IS(name, "none"))
        return t == PV_NONE;
    if (IS(name, "false"))
        return t == PV_BOOL && !v->u.b;
    if (IS(name, "true"))
        return t == PV_BOOL && v->u.b;
    if (IS(name, "boolean"))
        return t == PV_BOOL;
    if (IS(name, "string"))
        return t == PV_STR;
    if (IS(name, "number"))
        return t == PV_INT || t == PV_FLOAT || t == PV_BOOL;
    if (IS(name, "integer"))
        return t == PV_INT;
    if (IS(name, "float"))
        return t == PV_FLOAT;
    if (IS(name, "mapping"))
        return t == PV_DICT;
    if (IS(name, "sequence"))
        return t == PV_STR || t == PV_TUPLE || t == PV_DICT || t == PV_RANGE || t == PV_UNDEFINED ||
               (t == PV_LIST && v->kind == LK_LIST);
    if (IS(name, "iterable"))
        return t == PV_STR || t == PV_TUPLE || t == PV_DICT || t == PV_RANGE || t == PV_UNDEFINED || t == PV_LIST;
    if (IS(name, "callable"))
        return t == PV_FUNC && v->u.func.id != F_LOOP;
    if (IS(name, "lower") || IS(name, "upper")) { /* jinja2: str(value).islower() */
        jargs none = {0};
        if (!(v = r_tostr(r, v)))
            return -1;
        pyval *res = b_method(r, v, name[0] == 'l' ? "islower" : "isupper", 7);
        if (!res)
            return -1;
        res = b_call(r, res, &none);
        return res ? res->u.b : -1;
    }
    if (IS(name, "odd") || IS(name, "even") || IS(name, "divisibleby")) {
        pyval *two = name[0] == 'd' ? arg : pv_mk_int(r->a, 2);
        if (!two) {
            rfail(r, "divisibleby() missing 1 required positional argument: 'num'");
            return -1;
        }
        pyval *m = r_binop(r, OP_MOD, v, two);
        if (!m)
            return -1;
        double mv = pv_float_value(m); /* jinja2: value % 2 == 1 for odd, == 0 otherwise */
        return name[0] == 'o' ? mv == 1 : mv == 0;
    }
    if (!arg) {
        rfail(r, "test '%s' needs an argument", name);
        return -1;
    }
    if (IS(name, "equalto") || IS(name, "eq") || IS(name, "=="))
        return pv_equal(v, arg);
    if (IS(name, "ne") || IS(name, "!="))
        return !pv_equal(v, arg);
    if (IS(name, "sameas"))
        return v == arg || (v->type == arg->type && (t == PV_NONE || t == PV_BOOL) && pv_equal(v, arg));
    if (IS(name, "in"))
        return r_contains(r, arg, v);
    if (IS(name, "gt") || IS(name, ">") || IS(name, "greaterthan"))
        return cmp_test(r, v, arg, 0);
    if (IS(name, "lt") || IS(name, "<") || IS(name, "lessthan"))
        return cmp_test(r, v, arg, 1);
    if (IS(name, "ge") || IS(name, ">="))
        return cmp_test(r, v, arg, 2);
    if (IS(name, "le") || IS(name, "<="))
        return cmp_test(r, v, arg, 3);
    rfail(r, "No test named '%s'.", name);
    return -1;
}

/* ---------------- filters ---------------- */

/* jinja2's make_attrgetter: "a.b.0" looks up each part with getitem (int parts as ints). */
static pyval *attr_get(render *r, pyval *item, pyval *attr)
{
    if (attr->type != PV_STR)
        return r_getitem(r, item, attr);
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
            key = jb_int(r, strtoll(p, NULL, 10));
        else
            key = r_str(r, p, (size_t)(pe - p));
        if (!key || !(item = r_getitem(r, item, key)))
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

static pyval *f_select(render *r, pyval *seq, jargs *a, int attr_mode, int keep)
{
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
    if (a->npos > skip) {
        if (a->pos[skip]->type != PV_STR)
            return rfail(r, "test name must be a string");
        test = a->pos[skip]->u.str.s;
        if (!b_has_test(test))
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
        int ok = test ? b_test(r, test, x, &rest) : r_truthy(r, x);
        if (ok < 0)
            return NULL;
        if ((ok != 0) == keep && r_push(r, out, items[i]) < 0)
            return NULL;
    }
    return out;
}

static pyval *f_map(render *r, pyval *seq, jargs *a)
{
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
    if (!b_has_filter(fname))
        return rfail(r, "No filter named '%s'.", fname);
    jargs rest = *a;
    rest.pos = a->pos + 1;
    rest.npos = a->npos - 1;
    for (size_t i = 0; i < n; i++) {
        pyval *x = b_filter(r, fname, items[i], &rest);
        if (!x || r_push(r, out, x) < 0)
            return NULL;
    }
    return out;
}

/* Stable merge sort by Python ordering of keys; reverse keeps equal items in order. */
static int sort_items(render *r, pyval **items, pyval **keys, size_t n, int reverse)
{
    if (n < 2)
        return 0;
    pyval **ti = pv_alloc(r->a, n * sizeof *ti), **tk = pv_alloc(r->a, n * sizeof *tk);
    if (!ti || !tk) {
        rfail(r, "out of memory");
        return -1;
    }
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int c = 0; /* jinja2 sorts by [key] lists: equal keys never reach '<' */
                if (!pv_equal(keys[j], keys[i]) && r_compare(r, keys[j], keys[i], &c) < 0)
                    return -1;
                int take_right = reverse ? c > 0 : c < 0;
                if (take_right) {
                    ti[k] = items[j];
                    tk[k++] = keys[j++];
                } else {
                    ti[k] = items[i];
                    tk[k++] = keys[i++];
                }
            }
            while (i < mid) {
                ti[k] = items[i];
                tk[k++] = keys[i++];
            }
            while (j < hi) {
                ti[k] = items[j];
                tk[k++] = keys[j++];
            }
        }
        memcpy(items, ti, n * sizeof *ti);
        memcpy(keys, tk, n * sizeof *tk);
    }
    return 0;
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

static pyval *f_truncate(render *r, pyval *s, pyval **v)
{
    int64_t length = 255, leeway = 5;
    if (v[0] && jb_need_int(r, v[0], "truncate", &length) < 0)
        return NULL;
    int killwords = v[1] ? pv_truthy(v[1]) : 0;
    pyval *end = v[2] ? v[2] : NULL;
    if (v[3] && v[3]->type != PV_NONE && jb_need_int(r, v[3], "truncate", &leeway) < 0)
        return NULL;
    static pyval dots = {.type = PV_STR, .immortal = 1, .ascii = 1, .u.str = {"...", 3, 3}};
    if (!end)
        end = &dots;
    if (!jb_need_str(r, end, "truncate end"))
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
    return jb_buf_to_str(r, &b);
}

static pyval *f_round(render *r, pyval *x, pyval **v)
{
    int64_t prec = 0;
    if (v[0] && jb_need_int(r, v[0], "round", &prec) < 0)
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
    if (IS(method, "common")) {
        if (x->type != PV_FLOAT) {
            if (prec >= 0)
                return jb_int(r, pv_int_value(x));
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
            return jb_int(r, q * m);
        }
        double f = x->u.f;
        if (!isfinite(f))
            return jb_float(r, f);
        if (prec >= 0) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*f", (int)prec, f);
            return jb_float(r, strtod(buf, NULL));
        }
        double m = pow(10.0, (double)-prec);
        double q = f / m, rq = nearbyint(q);
        return jb_float(r, rq * m);
    }
    double f = pv_float_value(x), m = pow(10.0, (double)prec);
    double y = IS(method, "ceil") ? ceil(f * m) : floor(f * m);
    return jb_float(r, y / m);
}

static pyval *f_int(render *r, pyval *x, pyval **v)
{
    pyval *def = v[0];
    int64_t base = 10;
    if (v[1] && jb_need_int(r, v[1], "int", &base) < 0)
        return NULL;
    if (x->type == PV_UNDEFINED) /* Undefined.__int__ fails */
        return rfail(r, "%s", x->u.str.s);
    if (x->type == PV_INT)
        return x;
    if (x->type == PV_BOOL)
        return jb_int(r, x->u.b);
    if (x->type == PV_FLOAT) {
        if (isnan(x->u.f))
            return def ? def : jb_int(r, 0);
        if (!isfinite(x->u.f))
            return rfail(r, "cannot convert float infinity to integer");
        if (fabs(x->u.f) >= 9.2e18)
            return rfail(r, "integer too large");
        return jb_int(r, (int64_t)x->u.f);
    }
    if (x->type == PV_STR) {
        int64_t i;
        int rc = base == 10 ? js_parse_int(x, &i) : -1;
        if (rc == 0)
            return jb_int(r, i);
        if (rc == -2)
            return rfail(r, "integer too large");
        if (base != 10) {
            char buf[80];
            if (js_clean_number(x, buf, sizeof buf) == 0) {
                char *end;
                errno = 0;
                long long ll = strtoll(buf, &end, (int)base);
                if (!*end && !errno)
                    return jb_int(r, ll);
            }
        }
        double f;
        if (js_parse_float(x, &f) == 0) {
            if (isnan(f))
                return def ? def : jb_int(r, 0);
            if (!isfinite(f))
                return rfail(r, "cannot convert float infinity to integer");
            if (fabs(f) >= 9.2e18)
                return rfail(r, "integer too large");
            return jb_int(r, (int64_t)f);
        }
    }
    return def ? def : jb_int(r, 0);
}

static pyval *f_float(render *r, pyval *x, pyval **v)
{
    if (x->type == PV_UNDEFINED) /* Undefined.__float__ fails */
        return rfail(r, "%s", x->u.str.s);
    if (x->type == PV_FLOAT)
        return x;
    if (x->type == PV_INT || x->type == PV_BOOL)
        return jb_float(r, pv_float_value(x));
    double f;
    if (x->type == PV_STR && js_parse_float(x, &f) == 0)
        return jb_float(r, f);
    return v[0] ? v[0] : jb_float(r, 0.0);
}

static pyval *f_minmax(render *r, pyval *seq, pyval **v, int want_max)
{
    pyval **items, **keys;
    size_t n;
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    if (n == 0)
        return jb_undef(r, "No aggregated item, sequence was empty.");
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

static pyval *f_unique(render *r, pyval *seq, pyval **v)
{
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
        return jb_undef(r, "No random item, sequence was empty.");
    }
    uint64_t d = jinja_splitmix64(&r->rng);
    pyval *idx = jb_int(r, (int64_t)(d % (uint64_t)n));
    if (!idx)
        return NULL;
    if (seq->type == PV_DICT) {
        pyval *x = pv_dict_find(seq, idx);
        return x ? x : rfail(r, "%s: KeyError: %lld", who, (long long)idx->u.i);
    }
    return r_getitem(r, seq, idx);
}

static pyval *f_most_frequent(render *r, pyval *seq)
{
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

static pyval *f_title(render *r, pyval *s)
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
    return jb_buf_to_str(r, &b);
}

/* jinja2's batch: lists of `size` items, the last filled with fill_with when given. */
static pyval *f_batch(render *r, pyval **items, size_t n, int64_t size, pyval *fill)
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
static pyval *f_slice(render *r, pyval **items, size_t n, int64_t slices, pyval *fill)
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

static const char *const FILTERS[] = {
    "abs", "attr", "batch", "capitalize", "choice", "count", "d", "default", "first", "float", "format", "highlight",
    "int", "join", "last", "length", "list", "lower", "map", "max", "min", "most_frequent", "random",
    "reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice", "sort", "string", "sum",
    "title", "trim", "truncate", "unique", "upper", "wordcount", NULL};

int b_has_filter(const char *name)
{
    return jb_find_name(FILTERS, name, strlen(name)) != NULL;
}

#define BIND(...)                                                   \
    do {                                                            \
        static const char *const P_[] = {__VA_ARGS__, NULL};        \
        if (jb_bind(r, name, a, P_, v) < 0)                            \
            return NULL;                                            \
    } while (0)

#define NOARGS()                                                    \
    do {                                                            \
        if (a->npos || a->nkw)                                      \
            return rfail(r, "%s filter takes no arguments", name);  \
    } while (0)

static pyval *soft_str(render *r, pyval *x)
{
    return r_tostr(r, x);
}

pyval *b_filter(render *r, const char *name, pyval *x, jargs *a)
{
    pyval *v[6] = {NULL};
    if (STRICT_UNDEF(r, x) && strcmp(name, "default") && strcmp(name, "d"))
        return rfail(r, "%s", x->u.str.s);
    if (IS(name, "string")) {
        NOARGS();
        return soft_str(r, x);
    }
    if (IS(name, "truncate")) {
        BIND("length", "killwords", "end", "leeway");
        return f_truncate(r, x, v);
    }
    if (IS(name, "default") || IS(name, "d")) {
        BIND("default_value", "boolean");
        int boolean = v[1] ? pv_truthy(v[1]) : 0;
        if (x->type == PV_UNDEFINED || (boolean && !pv_truthy(x)))
            return v[0] ? v[0] : r_str(r, "", 0);
        return x;
    }
    if (IS(name, "join")) {
        BIND("d", "attribute");
        pyval *sep = v[0] ? soft_str(r, v[0]) : r_str(r, "", 0);
        if (!sep)
            return NULL;
        if (v[1] && v[1]->type != PV_NONE) {
            pyval **items;
            size_t n;
            if (r_iterate(r, x, &items, &n) < 0)
                return NULL;
            pyval *l = r_list(r, PV_LIST, n);
            if (!l)
                return NULL;
            for (size_t i = 0; i < n; i++)
                if (!(l->u.list.items[l->u.list.len++] = attr_get(r, items[i], v[1])))
                    return NULL;
            x = l;
        }
        return js_join(r, sep, x, 1);
    }
    if (IS(name, "replace")) {
        BIND("old", "new", "count");
        if (!v[0] || !v[1])
            return rfail(r, "replace filter needs old and new");
        int64_t count = -1;
        pyval *s = soft_str(r, x), *o = s ? soft_str(r, v[0]) : NULL, *nw = o ? soft_str(r, v[1]) : NULL;
        if (!nw || (v[2] && v[2]->type != PV_NONE && jb_need_int(r, v[2], name, &count) < 0))
            return NULL;
        return js_replace(r, s, o, nw, count);
    }
    if (IS(name, "length") || IS(name, "count")) {
        int64_t n;
        NOARGS();
        return r_len(r, x, &n) < 0 ? NULL : jb_int(r, n);
    }
    if (IS(name, "int")) {
        BIND("default", "base");
        return f_int(r, x, v);
    }
    if (IS(name, "float")) {
        BIND("default");
        return f_float(r, x, v);
    }
    if (IS(name, "list")) {
        pyval **items;
        size_t n;
        NOARGS();
        if (r_iterate(r, x, &items, &n) < 0)
            return NULL;
        pyval *l = r_list(r, PV_LIST, n);
        if (!l)
            return NULL;
        for (size_t i = 0; i < n; i++)
            l->u.list.items[l->u.list.len++] = items[i];
        return l;
    }
    if (IS(name, "round")) {
        BIND("precision", "method");
        return f_round(r, x, v);
    }
    if (IS(name, "trim")) {
        BIND("chars");
        pyval *s = soft_str(r, x);
        return s ? js_strip(r, s, v[0], 3) : NULL;
    }
    if (IS(name, "map"))
        return f_map(r, x, a);
    if (IS(name, "lower") || IS(name, "upper") || IS(name, "capitalize")) {
        NOARGS();
        pyval *s = soft_str(r, x);
        return s ? js_case(r, s, name[0] == 'l' ? 0 : name[0] == 'u' ? 1 : 2) : NULL;
    }
    if (IS(name, "title")) {
        NOARGS();
        pyval *s = soft_str(r, x);
        return s ? f_title(r, s) : NULL;
    }
    if (IS(name, "select") || IS(name, "reject"))
        return f_select(r, x, a, 0, name[0] == 's');
    if (IS(name, "selectattr") || IS(name, "rejectattr"))
        return f_select(r, x, a, 1, name[0] == 's');
    if (IS(name, "unique")) {
        BIND("case_sensitive", "attribute");
        return f_unique(r, x, v);
    }
    if (IS(name, "first") || IS(name, "last")) {
        pyval **items;
        size_t n;
        NOARGS();
        if (name[0] == 'l' && x->type == PV_LIST && x->kind != LK_LIST && x->kind != LK_KEYS &&
            x->kind != LK_VALUES && x->kind != LK_ITEMS)
            return rfail(r, "'%s' object is not reversible", pv_type_name(x));
        if (r_iterate(r, x, &items, &n) < 0)
            return NULL;
        if (n == 0)
            return jb_undef(r, name[0] == 'f' ? "No first item, sequence was empty." : "No last item, sequence was empty.");
        return name[0] == 'f' ? items[0] : items[n - 1];
    }
    if (IS(name, "min") || IS(name, "max")) {
        BIND("case_sensitive", "attribute");
        return f_minmax(r, x, v, name[1] == 'a');
    }
    if (IS(name, "abs")) {
        NOARGS();
        if (x->type == PV_INT && !x->big)
            return x->u.i >= 0 ? x : x->u.i == INT64_MIN ? rfail(r, "integer overflow") : jb_int(r, -x->u.i);
        if (x->type == PV_BOOL)
            return jb_int(r, x->u.b);
        if (x->type == PV_FLOAT)
            return jb_float(r, fabs(x->u.f));
        if (x->type == PV_UNDEFINED)
            return rfail(r, "%s", x->u.str.s);
        return rfail(r, "bad operand type for abs(): '%s'", pv_type_name(x));
    }
    if (IS(name, "sort")) {
        BIND("reverse", "case_sensitive", "attribute");
        pyval **items, **keys;
        size_t n;
        if (r_iterate(r, x, &items, &n) < 0)
            return NULL;
        pyval *l = r_list(r, PV_LIST, n);
        if (!l)
            return NULL;
        for (size_t i = 0; i < n; i++)
            l->u.list.items[l->u.list.len++] = items[i];
        if (keys_for(r, l->u.list.items, n, v[2], v[1] ? pv_truthy(v[1]) : 0, &keys) < 0 ||
            sort_items(r, l->u.list.items, keys, n, v[0] ? pv_truthy(v[0]) : 0) < 0)
            return NULL;
        return l;
    }
    if (IS(name, "format")) {
        pyval *s = soft_str(r, x);
        if (!s)
            return NULL;
        if (a->npos && a->nkw)
            return rfail(r, "can't handle positional and keyword arguments at the same time");
        if (a->nkw) {
            jargs none = {0};
            pyval *d = pv_mk_dict(r->a, PV_DICT);
            if (!d)
                return rfail(r, "out of memory");
            for (int k = 0; k < a->nkw; k++) {
                pyval *key = r_str(r, a->kwnames[k], strlen(a->kwnames[k]));
                if (!key || pv_dict_put(r->a, d, key, a->kwvals[k]) < 0)
                    return NULL;
            }
            (void)none;
            return b_str_format(r, s, d);
        }
        pyval *t = r_list(r, PV_TUPLE, (size_t)a->npos);
        if (!t)
            return NULL;
        for (int i = 0; i < a->npos; i++)
            t->u.list.items[t->u.list.len++] = a->pos[i];
        return b_str_format(r, s, t);
    }
    if (IS(name, "random")) {
        NOARGS();
        return draw_from(r, x, "random", 0);
    }
    if (IS(name, "choice")) {
        NOARGS();
        return draw_from(r, x, "choice", 1);
    }
    if (IS(name, "wordcount")) {
        NOARGS();
        pyval *s = soft_str(r, x);
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
        return jb_int(r, words);
    }
    if (IS(name, "sum")) {
        BIND("attribute", "start");
        pyval **items;
        size_t n;
        pyval *acc = v[1] ? v[1] : jb_int(r, 0);
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
    if (IS(name, "most_frequent")) {
        NOARGS();
        return f_most_frequent(r, x);
    }
    if (IS(name, "highlight")) {
        NOARGS();
        if (x->type != PV_STR)
            return rfail(r, "can only concatenate str (not \"%s\") to str", pv_type_name(x));
        t0_buf b = {0};
        t0_buf_add(&b, "<span style='color: #F08080'>", 29);
        t0_buf_add(&b, x->u.str.s, x->u.str.len);
        t0_buf_add(&b, "</span>", 7);
        return jb_buf_to_str(r, &b);
    }
    if (IS(name, "reverse")) {
        NOARGS();
        if (x->type == PV_STR) {
            pyval **chars;
            size_t n;
            if (r_iterate(r, x, &chars, &n) < 0)
                return NULL;
            t0_buf b = {0};
            for (size_t i = n; i-- > 0;)
                t0_buf_add(&b, chars[i]->u.str.s, chars[i]->u.str.len);
            return jb_buf_to_str(r, &b);
        }
        pyval **items;
        size_t n;
        if (r_iterate(r, x, &items, &n) < 0)
            return NULL;
        pyval *l = gen_list(r);
        if (!l)
            return NULL;
        for (size_t i = n; i-- > 0;)
            if (r_push(r, l, items[i]) < 0)
                return NULL;
        return l;
    }
    if (IS(name, "batch") || IS(name, "slice")) {
        if (name[0] == 'b')
            BIND("linecount", "fill_with");
        else
            BIND("slices", "fill_with");
        int64_t k;
        if (!v[0] || jb_need_int(r, v[0], name, &k) < 0)
            return v[0] ? NULL : rfail(r, "%s() missing a required argument", name);
        pyval **items;
        size_t n;
        if (r_iterate(r, x, &items, &n) < 0)
            return NULL;
        return name[0] == 'b' ? f_batch(r, items, n, k, v[1]) : f_slice(r, items, n, k, v[1]);
    }
    if (IS(name, "attr")) {
        BIND("name");
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
        return jb_undef(r, "no such attribute");
    }
    return rfail(r, "No filter named '%s'.", name);
}
