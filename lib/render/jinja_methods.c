/* jinja_methods.c: the methods templates call on str, list, tuple and dict values, each
 * type ONE table of (name, function, mode, flags, parameters); the globals (range, dict,
 * namespace, zip); the lookup and calling of builtin rows shared with the filters. */
#include <stdlib.h>
#include <string.h>

#include "render/jinja_builtins.h"

/* ---------------- builtin rows ---------------- */

const jbuiltin *jb_find(const jbuiltin *table, const char *name, size_t len)
{
    for (; table->name; table++)
        if (table->name[0] == name[0] && !strncmp(table->name, name, len) && table->name[len] == '\0')
            return table;
    return NULL;
}

pyval *jb_apply(render *r, const jbuiltin *b, pyval *x, jargs *a, const char *what)
{
    pyval *v[JB_MAX_PARAMS + 1] = {NULL};
    if (!b->fn)
        return rfail(r, "%s.%s() is not supported", pv_type_name(x), b->name);
    if ((b->flags & JB_MUTATES) && !x->immortal)
        return rfail(r, "cannot modify a value of the example (%s.%s)", pv_type_name(x), b->name);
    if (b->flags & JB_OWN_ARGS)
        return b->fn(r, x, v, a, b->mode);
    if (b->params[0]) {
        if (r_bind(r, b->name, a, b->params, v) < 0)
            return NULL;
    } else if (a->npos || a->nkw) {
        return !strcmp(what, "filter") ? rfail(r, "%s filter takes no arguments", b->name)
                                       : rfail(r, "%s() takes no arguments", b->name);
    }
    return b->fn(r, x, v, a, b->mode);
}

/* ---------------- str methods ---------------- */

static pyval *m_split(render *r, pyval *s, pyval **v, jargs *a, int from_right)
{
    (void)a;
    int64_t maxsplit = -1;
    if (v[1] && r_need_int(r, v[1], from_right ? "rsplit" : "split", &maxsplit) < 0)
        return NULL;
    return js_split(r, s, v[0], maxsplit, from_right);
}

static pyval *m_strip(render *r, pyval *s, pyval **v, jargs *a, int which)
{
    (void)a;
    return js_strip(r, s, v[0], which);
}

static pyval *m_case(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a;
    return js_case(r, s, mode);
}

static pyval *m_replace(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int64_t count = -1;
    if (!v[0] || !v[1])
        return rfail(r, "replace() expected at least 2 arguments");
    if (!r_need_str(r, v[0], "replace") || !r_need_str(r, v[1], "replace") ||
        (v[2] && r_need_int(r, v[2], "replace", &count) < 0))
        return NULL;
    return js_replace(r, s, v[0], v[1], count);
}

enum { FIND_REVERSE = 1, FIND_RAISES = 2 }; /* modes of find, rfind, index, rindex */

static pyval *m_find(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)a;
    static const char *const names[] = {"find", "rfind", "index", "rindex"};
    if (!v[0])
        return rfail(r, "%s() takes at least 1 argument (0 given)", names[mode]);
    if (!r_need_str(r, v[0], names[mode]))
        return NULL;
    int64_t i = js_find(r, s, v[0], v[1], v[2], mode & FIND_REVERSE);
    if (i == -2)
        return NULL;
    if (i < 0 && (mode & FIND_RAISES))
        return rfail(r, "substring not found");
    return r_int(r, i);
}

static pyval *m_count(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "count() takes at least 1 argument (0 given)");
    if (!r_need_str(r, v[0], "count"))
        return NULL;
    if (v[1] || v[2])
        return rfail(r, "count() with start/end is not supported");
    return r_int(r, js_count(s, v[0]));
}

static pyval *m_join(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "join() takes exactly one argument (0 given)");
    return js_join(r, s, v[0], 0);
}

/* Whether s starts (end 0) or ends (end 1) with v[0]: 1/0, or -1 with the error set
 * (missing: the message when v[0] was not given). */
static int has_affix(render *r, pyval *s, pyval **v, int end, const char *missing)
{
    int ok;
    if (!v[0])
        return rfail(r, "%s", missing), -1;
    return js_affix(r, s, v[0], end, &ok) < 0 ? -1 : ok;
}

static pyval *m_affix(render *r, pyval *s, pyval **v, jargs *a, int end)
{
    (void)a;
    int ok = has_affix(r, s, v, end, end ? "endswith() takes at least 1 argument (0 given)"
                                          : "startswith() takes at least 1 argument (0 given)");
    return ok < 0 ? NULL : PV_BOOL_V(ok);
}

static pyval *m_remove_affix(render *r, pyval *s, pyval **v, jargs *a, int end)
{
    (void)a;
    int ok = has_affix(r, s, v, end, end ? "removesuffix() takes exactly one argument"
                                          : "removeprefix() takes exactly one argument");
    if (ok <= 0)
        return ok < 0 ? NULL : s;
    size_t n = s->u.str.len - v[0]->u.str.len;
    return r_str(r, end ? s->u.str.s : s->u.str.s + v[0]->u.str.len, n);
}

static pyval *m_format(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)v, (void)mode;
    return js_format_dot(r, s, a);
}

static pyval *m_is(render *r, pyval *s, pyval **v, jargs *a, int cls)
{
    (void)r, (void)v, (void)a;
    return PV_BOOL_V(js_is(s, (js_class)cls));
}

static pyval *m_splitlines(render *r, pyval *s, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    return js_splitlines(r, s);
}

/* Python's str methods; those without a function are refused when called. */
static const jbuiltin STR_METHODS[] = {
    {"capitalize", m_case, 2, 0, {0}},
    {"casefold", m_case, 0, 0, {0}},
    {"center", NULL, 0, 0, {0}},
    {"count", m_count, 0, 0, {"sub", "start", "end"}},
    {"encode", NULL, 0, 0, {0}},
    {"endswith", m_affix, 1, 0, {"prefix"}},
    {"expandtabs", NULL, 0, 0, {0}},
    {"find", m_find, 0, 0, {"sub", "start", "end"}},
    {"format", m_format, 0, JB_OWN_ARGS, {0}},
    {"format_map", NULL, 0, 0, {0}},
    {"index", m_find, FIND_RAISES, 0, {"sub", "start", "end"}},
    {"isalnum", m_is, JS_ALNUM, 0, {0}},
    {"isalpha", m_is, JS_ALPHA, 0, {0}},
    {"isascii", m_is, JS_ASCII, 0, {0}},
    {"isdecimal", m_is, JS_DIGIT, 0, {0}},
    {"isdigit", m_is, JS_DIGIT, 0, {0}},
    {"isidentifier", NULL, 0, 0, {0}},
    {"islower", m_is, JS_LOWER, 0, {0}},
    {"isnumeric", m_is, JS_DIGIT, 0, {0}},
    {"isprintable", NULL, 0, 0, {0}},
    {"isspace", m_is, JS_SPACE, 0, {0}},
    {"istitle", NULL, 0, 0, {0}},
    {"isupper", m_is, JS_UPPER, 0, {0}},
    {"join", m_join, 0, 0, {"iterable"}},
    {"ljust", NULL, 0, 0, {0}},
    {"lower", m_case, 0, 0, {0}},
    {"lstrip", m_strip, 1, 0, {"chars"}},
    {"maketrans", NULL, 0, 0, {0}},
    {"partition", NULL, 0, 0, {0}},
    {"removeprefix", m_remove_affix, 0, 0, {"fix"}},
    {"removesuffix", m_remove_affix, 1, 0, {"fix"}},
    {"replace", m_replace, 0, 0, {"old", "new", "count"}},
    {"rfind", m_find, FIND_REVERSE, 0, {"sub", "start", "end"}},
    {"rindex", m_find, FIND_REVERSE | FIND_RAISES, 0, {"sub", "start", "end"}},
    {"rjust", NULL, 0, 0, {0}},
    {"rpartition", NULL, 0, 0, {0}},
    {"rsplit", m_split, 1, 0, {"sep", "maxsplit"}},
    {"rstrip", m_strip, 2, 0, {"chars"}},
    {"split", m_split, 0, 0, {"sep", "maxsplit"}},
    {"splitlines", m_splitlines, 0, 0, {0}},
    {"startswith", m_affix, 0, 0, {"prefix"}},
    {"strip", m_strip, 3, 0, {"chars"}},
    {"swapcase", NULL, 0, 0, {0}},
    {"title", m_case, 3, 0, {0}},
    {"translate", NULL, 0, 0, {0}},
    {"upper", m_case, 1, 0, {0}},
    {"zfill", NULL, 0, 0, {0}},
    {NULL, NULL, 0, 0, {0}},
};

/* ---------------- list and tuple methods ---------------- */

static pyval *m_list_search(render *r, pyval *l, pyval **v, jargs *a, int index)
{
    (void)a;
    if (!v[0])
        return rfail(r, "%s() takes exactly one argument (0 given)", index ? "index" : "count");
    if (r_work(r, l->u.list.len) < 0)
        return NULL;
    int64_t c = 0;
    for (size_t i = 0; i < l->u.list.len; i++)
        if (pv_equal(l->u.list.items[i], v[0])) {
            if (index)
                return r_int(r, (int64_t)i);
            c++;
        }
    return index ? rfail(r, "value is not in list") : r_int(r, c);
}

static pyval *m_list_copy(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    pyval *c = r_list(r, PV_LIST, l->u.list.len);
    if (!c)
        return NULL;
    for (size_t i = 0; i < l->u.list.len; i++)
        c->u.list.items[c->u.list.len++] = l->u.list.items[i];
    return c;
}

static pyval *m_list_append(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "append() takes exactly one argument (0 given)");
    return r_push(r, l, v[0]) < 0 ? NULL : PV_NONE_V;
}

static pyval *m_list_extend(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval **items;
    size_t n;
    if (!v[0])
        return rfail(r, "extend() takes exactly one argument (0 given)");
    if (r_iterate(r, v[0], &items, &n) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (r_push(r, l, items[i]) < 0)
            return NULL;
    return PV_NONE_V;
}

static pyval *m_list_pop(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int64_t i = -1, n = (int64_t)l->u.list.len;
    if (v[0] && r_need_int(r, v[0], "pop", &i) < 0)
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

static pyval *m_list_insert(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    int64_t i, n = (int64_t)l->u.list.len;
    if (!v[0] || !v[1])
        return rfail(r, "insert expected 2 arguments");
    if (r_need_int(r, v[0], "insert", &i) < 0)
        return NULL;
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

static pyval *m_list_remove(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "remove() takes exactly one argument");
    for (size_t i = 0; i < l->u.list.len; i++)
        if (pv_equal(l->u.list.items[i], v[0])) {
            memmove(&l->u.list.items[i], &l->u.list.items[i + 1], (l->u.list.len - i - 1) * sizeof(pyval *));
            l->u.list.len--;
            return PV_NONE_V;
        }
    return rfail(r, "list.remove(x): x not in list");
}

static pyval *m_list_reverse(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)r, (void)v, (void)a, (void)mode;
    for (size_t i = 0, j = l->u.list.len; i + 1 < j; i++, j--) {
        pyval *t = l->u.list.items[i];
        l->u.list.items[i] = l->u.list.items[j - 1];
        l->u.list.items[j - 1] = t;
    }
    return PV_NONE_V;
}

static pyval *m_list_clear(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)r, (void)v, (void)a, (void)mode;
    l->u.list.len = 0;
    return PV_NONE_V;
}

static pyval *m_list_sort(render *r, pyval *l, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    pyval **keys = pv_alloc(r->a, (l->u.list.len + 1) * sizeof *keys);
    if (!keys)
        return rfail(r, "out of memory");
    memcpy(keys, l->u.list.items, l->u.list.len * sizeof *keys);
    return r_sort(r, l->u.list.items, keys, l->u.list.len, v[0] ? pv_truthy(v[0]) : 0) < 0 ? NULL : PV_NONE_V;
}

static const jbuiltin LIST_METHODS[] = {
    {"append", m_list_append, 0, JB_MUTATES, {"object"}},
    {"clear", m_list_clear, 0, JB_MUTATES, {0}},
    {"copy", m_list_copy, 0, 0, {0}},
    {"count", m_list_search, 0, 0, {"value"}},
    {"extend", m_list_extend, 0, JB_MUTATES, {"iterable"}},
    {"index", m_list_search, 1, 0, {"value"}},
    {"insert", m_list_insert, 0, JB_MUTATES, {"index", "object"}},
    {"pop", m_list_pop, 0, JB_MUTATES, {"index"}},
    {"remove", m_list_remove, 0, JB_MUTATES, {"value"}},
    {"reverse", m_list_reverse, 0, JB_MUTATES, {0}},
    {"sort", m_list_sort, 0, JB_MUTATES, {"reverse"}},
    {NULL, NULL, 0, 0, {0}},
};

static const jbuiltin TUPLE_METHODS[] = {
    {"count", m_list_search, 0, 0, {"value"}},
    {"index", m_list_search, 1, 0, {"value"}},
    {NULL, NULL, 0, 0, {0}},
};

/* ---------------- dict methods ---------------- */

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

static pyval *m_dict_view(render *r, pyval *d, pyval **v, jargs *a, int kind)
{
    (void)v, (void)a;
    return view(r, d, kind);
}

static pyval *m_dict_get(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "get expected at least 1 argument, got 0");
    pyval *x = pv_dict_find(d, v[0]);
    return x ? x : v[1] ? v[1] : PV_NONE_V;
}

static pyval *m_dict_copy(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)v, (void)a, (void)mode;
    pyval *c = pv_mk_dict(r->a, PV_DICT);
    if (!c)
        return rfail(r, "out of memory");
    return dict_update_from(r, c, d) < 0 ? NULL : c;
}

static pyval *m_dict_update(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)v, (void)mode;
    return dict_update_args(r, d, a, "update") < 0 ? NULL : PV_NONE_V;
}

static pyval *m_dict_pop(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "pop expected at least 1 argument, got 0");
    pyval *x = pv_dict_find(d, v[0]);
    if (!x)
        return v[1] ? v[1] : rfail(r, "KeyError");
    pv_dict_remove(d, v[0]);
    return x;
}

static pyval *m_dict_setdefault(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)a, (void)mode;
    if (!v[0])
        return rfail(r, "setdefault expected at least 1 argument, got 0");
    pyval *x = pv_dict_find(d, v[0]);
    if (x)
        return x;
    pyval *def = v[1] ? v[1] : PV_NONE_V;
    return pv_dict_put(r->a, d, v[0], def) < 0 ? rfail(r, "out of memory") : def;
}

static pyval *m_dict_clear(render *r, pyval *d, pyval **v, jargs *a, int mode)
{
    (void)r, (void)v, (void)a, (void)mode;
    d->u.dict.len = 0;
    return PV_NONE_V;
}

static const jbuiltin DICT_METHODS[] = {
    {"clear", m_dict_clear, 0, JB_MUTATES, {0}},
    {"copy", m_dict_copy, 0, 0, {0}},
    {"fromkeys", NULL, 0, 0, {0}},
    {"get", m_dict_get, 0, 0, {"key", "default"}},
    {"items", m_dict_view, LK_ITEMS, 0, {0}},
    {"keys", m_dict_view, LK_KEYS, 0, {0}},
    {"pop", m_dict_pop, 0, JB_MUTATES, {"key", "default"}},
    {"popitem", NULL, 0, 0, {0}},
    {"setdefault", m_dict_setdefault, 0, JB_MUTATES, {"key", "default"}},
    {"update", m_dict_update, 0, JB_MUTATES | JB_OWN_ARGS, {0}},
    {"values", m_dict_view, LK_VALUES, 0, {0}},
    {NULL, NULL, 0, 0, {0}},
};

/* ---------------- lookup and calls ---------------- */

pyval *b_method(render *r, pyval *self, const char *name, size_t len)
{
    const jbuiltin *table;
    switch (self->type) {
    case PV_STR: table = STR_METHODS; break;
    case PV_LIST:
        if (self->kind != LK_LIST)
            return NULL;
        table = LIST_METHODS;
        break;
    case PV_TUPLE: table = TUPLE_METHODS; break;
    case PV_DICT: table = DICT_METHODS; break;
    default: return NULL;
    }
    const jbuiltin *m = jb_find(table, name, len);
    if (!m)
        return NULL;
    pyval *f = pv_mk(r->a, PV_FUNC);
    if (!f)
        return rfail(r, "out of memory");
    f->u.func.id = F_METHOD;
    f->u.func.self = self;
    f->u.func.name = m->name;
    f->u.func.ptr = (void *)m;
    return f;
}

pyval *b_getitem(render *r, pyval *obj, pyval *key)
{
    pyval *v;
    int rc = r_subscript(r, obj, key, &v);
    if (rc)
        return rc > 0 ? v : NULL;
    if (key->type != PV_STR)
        return r_undef(r, "'%s object' has no item", pv_type_name(obj));
    if (obj->type == PV_FUNC && obj->u.func.id == F_LOOP) /* jinja2 falls back to the attribute */
        return r->loop_attr(r, obj, key->u.str.s);
    pyval *m = b_method(r, obj, key->u.str.s, key->u.str.len);
    if (m)
        return m;
    return r_undef(r, "'%s object' has no attribute '%s'", pv_type_name(obj), key->u.str.s);
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
        if (r_need_int(r, a->pos[i], "range", &v[i]) < 0)
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
    case F_METHOD: return jb_apply(r, f->u.func.ptr, f->u.func.self, a, "method");
    default: return rfail(r, "'%s' object is not callable", pv_type_name(f));
    }
}
