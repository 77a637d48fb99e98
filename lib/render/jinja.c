/* jinja.c: renders a parsed template: statements, expressions and Python's operator
 * semantics, jinja2's getattr/getitem fallbacks and undefined. Values made while
 * rendering live in one arena dropped at the end (see pyval.h). */
#include "render/jinja.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jinja_internal.h"

uint64_t jinja_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void *rfail(render *r, const char *fmt, ...)
{
    if (r->err && r->err->status != T0_OK)
        return NULL; /* keep the first error */
    char msg[T0_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t0_fail(r->err, T0_EINPUT, "jinja: line %d: %s", r->line, msg);
    return NULL;
}

static void *oom(render *r)
{
    return rfail(r, "out of memory or value too large");
}

pyval *r_str(render *r, const char *s, size_t len)
{
    if (len > J_MAX_SIZE)
        return rfail(r, "string too long");
    pyval *v = pv_mk_str(r->a, s, len);
    return v ? v : oom(r);
}

pyval *r_list(render *r, pv_type t, size_t cap)
{
    pyval *v = pv_mk_list(r->a, t, cap);
    return v ? v : oom(r);
}

int r_push(render *r, pyval *list, pyval *item)
{
    if (list->u.list.len >= J_MAX_SIZE / sizeof(pyval *)) {
        rfail(r, "list too long");
        return -1;
    }
    if (pv_list_push(r->a, list, item) < 0) {
        oom(r);
        return -1;
    }
    return 0;
}

static const char *undef_name(const pyval *v)
{
    return v->u.str.s ? v->u.str.s : "value";
}

static void *undefined_error(render *r, const pyval *v)
{
    return rfail(r, "%s", undef_name(v));
}

static pyval *mk_undefined(render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static pyval *mk_undefined(render *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof msg)
        n = sizeof msg - 1;
    pyval *v = pv_mk_undefined(r->a, msg, (size_t)n);
    return v ? v : oom(r);
}

/* an undefined variable printed as "" (jinja2's lenient default), not the undefined of an
 * inline if without else, which jinja2 prints as "" by design */
static void count_undefined_printed(render *r, const pyval *v)
{
    if (r->undefined_printed && v->kind == 0)
        (*r->undefined_printed)++;
}

pyval *r_tostr(render *r, pyval *v)
{
    if (v->type == PV_STR)
        return v;
    if (v->type == PV_UNDEFINED) {
        if (STRICT_UNDEF(r, v))
            return undefined_error(r, v);
        count_undefined_printed(r, v);
        return r_str(r, "", 0);
    }
    char small[256];
    pv_buf b = {small, 0, sizeof small, J_MAX_SIZE, 0, 1}; /* short values need no malloc */
    int rc = pv_str_append(&b, v, r->err);
    pyval *s = rc < 0 ? rfail(r, "value too large to print") : r_str(r, b.data ? b.data : "", b.len);
    pv_buf_free(&b);
    return s;
}

int r_truthy(render *r, pyval *v)
{
    if (STRICT_UNDEF(r, v)) {
        undefined_error(r, v);
        return -1;
    }
    return pv_truthy(v);
}

/* ---------------- variables ---------------- */

static pyval *lookup_var(render *r, const char *name, size_t len)
{
    for (size_t i = r->nvars; i-- > 0;)
        if (r->vars[i].name == name)
            return r->vars[i].value;
    if (r->ctx) {
        pyval *v = pv_dict_find_str(r->ctx, name, len);
        if (v)
            return v;
    }
    return NULL;
}

static int set_var(render *r, size_t frame, const char *name, pyval *value)
{
    for (size_t i = r->nvars; i-- > frame;)
        if (r->vars[i].name == name) {
            r->vars[i].value = value;
            return 0;
        }
    if (r->nvars == r->cap) { /* the first block lives on jinja_render's stack */
        size_t cap = r->cap * 2;
        jvar *v = r->vars_on_stack ? malloc(cap * sizeof *v) : realloc(r->vars, cap * sizeof *v);
        if (!v) {
            oom(r);
            return -1;
        }
        if (r->vars_on_stack)
            memcpy(v, r->vars, r->nvars * sizeof *v);
        r->vars_on_stack = 0;
        r->vars = v;
        r->cap = cap;
    }
    r->vars[r->nvars].name = name;
    r->vars[r->nvars].value = value;
    r->nvars++;
    return 0;
}

static const char *const GLOBALS[] = {"range", "dict", "namespace", "zip", NULL};

int jinja_is_global(const char *name)
{
    for (int i = 0; GLOBALS[i]; i++)
        if (!strcmp(name, GLOBALS[i]))
            return 1;
    return 0;
}

static pyval *global_func(render *r, const char *name)
{
    static const int ids[] = {F_RANGE, F_DICT, F_NAMESPACE, F_ZIP};
    for (int i = 0; GLOBALS[i]; i++)
        if (!strcmp(name, GLOBALS[i])) {
            pyval *f = pv_mk(r->a, PV_FUNC);
            if (!f)
                return oom(r);
            f->u.func.id = ids[i];
            f->u.func.name = GLOBALS[i];
            return f;
        }
    return NULL;
}

/* ---------------- iteration, length, ordering ---------------- */

static int64_t range_count(const pyval *v)
{
    int64_t a = v->u.range.start, b = v->u.range.stop, s = v->u.range.step;
    if (s > 0)
        return a < b ? (int64_t)(((uint64_t)b - (uint64_t)a - 1) / (uint64_t)s + 1) : 0;
    return a > b ? (int64_t)(((uint64_t)a - (uint64_t)b - 1) / (uint64_t)(-(s + 1) + 1) + 1) : 0;
}

int r_work(render *r, size_t n)
{
    r->iterations += n;
    if (r->iterations > J_MAX_ITER) {
        rfail(r, "too many loop iterations (limit %llu)", (unsigned long long)J_MAX_ITER);
        return -1;
    }
    return 0;
}

int r_iterate(render *r, pyval *v, pyval ***items, size_t *n)
{
    switch (v->type) {
    case PV_UNDEFINED:
        if (STRICT_UNDEF(r, v)) {
            undefined_error(r, v);
            return -1;
        }
        *items = NULL;
        *n = 0;
        return 0;
    case PV_LIST:
    case PV_TUPLE:
        *items = v->u.list.items;
        *n = v->u.list.len;
        if (v->kind == LK_GEN || v->kind == LK_ZIP)
            v->u.list.len = 0; /* iterators are consumed */
        return 0;
    case PV_DICT: {
        pyval **out = pv_alloc(r->a, (v->u.dict.len + 1) * sizeof *out);
        if (!out) {
            oom(r);
            return -1;
        }
        for (size_t i = 0; i < v->u.dict.len; i++)
            out[i] = v->u.dict.e[i].key;
        *items = out;
        *n = v->u.dict.len;
        return 0;
    }
    case PV_STR: {
        size_t nc = v->u.str.ncp;
        pyval **out = pv_alloc(r->a, (nc + 1) * sizeof *out);
        if (!out || r_work(r, nc) < 0) {
            if (!out)
                oom(r);
            return -1;
        }
        size_t off = 0;
        for (size_t i = 0; i < nc; i++) {
            uint32_t cp;
            size_t k = ju_decode(v->u.str.s + off, v->u.str.len - off, &cp);
            if (!(out[i] = r_str(r, v->u.str.s + off, k)))
                return -1;
            off += k;
        }
        *items = out;
        *n = nc;
        return 0;
    }
    case PV_RANGE: {
        int64_t nc = range_count(v);
        if (r_work(r, (size_t)nc) < 0)
            return -1;
        pyval **out = pv_alloc(r->a, ((size_t)nc + 1) * sizeof *out);
        if (!out) {
            oom(r);
            return -1;
        }
        for (int64_t i = 0; i < nc; i++)
            if (!(out[i] = pv_mk_int(r->a, v->u.range.start + i * v->u.range.step))) {
                oom(r);
                return -1;
            }
        *items = out;
        *n = (size_t)nc;
        return 0;
    }
    default:
        rfail(r, "'%s' object is not iterable", pv_type_name(v));
        return -1;
    }
}

int r_len(render *r, pyval *v, int64_t *n)
{
    switch (v->type) {
    case PV_UNDEFINED: *n = 0; return 0;
    case PV_STR: *n = (int64_t)v->u.str.ncp; return 0;
    case PV_LIST:
        if (v->kind == LK_GEN || v->kind == LK_ZIP)
            break;
        /* fall through */
    case PV_TUPLE: *n = (int64_t)v->u.list.len; return 0;
    case PV_DICT: *n = (int64_t)v->u.dict.len; return 0;
    case PV_RANGE: *n = range_count(v); return 0;
    default: break;
    }
    rfail(r, "object of type '%s' has no len()", pv_type_name(v));
    return -1;
}

static int is_num(const pyval *v)
{
    return (v->type == PV_BOOL || v->type == PV_INT || v->type == PV_FLOAT) && !v->big;
}

int r_compare(render *r, const pyval *a, const pyval *b, int *cmp)
{
    if (a->type == PV_UNDEFINED || b->type == PV_UNDEFINED) {
        undefined_error(r, a->type == PV_UNDEFINED ? a : b);
        return -1;
    }
    if (is_num(a) && is_num(b)) {
        if (a->type == PV_FLOAT || b->type == PV_FLOAT) {
            double x = pv_float_value(a), y = pv_float_value(b);
            *cmp = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2; /* 2: unordered (nan) */
        } else {
            int64_t x = pv_int_value(a), y = pv_int_value(b);
            *cmp = x < y ? -1 : x > y;
        }
        return 0;
    }
    if (a->type == PV_STR && b->type == PV_STR) {
        size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        int c = memcmp(a->u.str.s, b->u.str.s, n);
        *cmp = c < 0 ? -1 : c > 0 ? 1 : a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len;
        return 0;
    }
    if ((a->type == PV_LIST && b->type == PV_LIST && a->kind == LK_LIST && b->kind == LK_LIST) ||
        (a->type == PV_TUPLE && b->type == PV_TUPLE)) {
        if (++r->depth > J_MAX_DEPTH) {
            rfail(r, "maximum recursion depth exceeded in comparison");
            return -1;
        }
        size_t n = a->u.list.len < b->u.list.len ? a->u.list.len : b->u.list.len;
        for (size_t i = 0; i < n; i++) {
            if (pv_equal(a->u.list.items[i], b->u.list.items[i]))
                continue;
            int rc = r_compare(r, a->u.list.items[i], b->u.list.items[i], cmp);
            r->depth--;
            return rc;
        }
        r->depth--;
        *cmp = a->u.list.len < b->u.list.len ? -1 : a->u.list.len > b->u.list.len;
        return 0;
    }
    rfail(r, "'<' not supported between instances of '%s' and '%s'", pv_type_name(a), pv_type_name(b));
    return -1;
}

int r_contains(render *r, pyval *c, pyval *item)
{
    switch (c->type) {
    case PV_STR:
        if (item->type == PV_UNDEFINED) {
            undefined_error(r, item);
            return -1;
        }
        if (item->type != PV_STR) {
            rfail(r, "'in <string>' requires string as left operand, not %s", pv_type_name(item));
            return -1;
        }
        if (item->u.str.len == 0)
            return 1;
        return memmem(c->u.str.s, c->u.str.len, item->u.str.s, item->u.str.len) != NULL;
    case PV_LIST:
    case PV_TUPLE:
        if (r_work(r, c->u.list.len) < 0) /* a scan counts against the work limit */
            return -1;
        for (size_t i = 0; i < c->u.list.len; i++)
            if (pv_equal(c->u.list.items[i], item))
                return 1;
        return 0;
    case PV_DICT:
    case PV_NAMESPACE:
        if (item->type == PV_LIST || item->type == PV_DICT || item->type == PV_NAMESPACE) {
            rfail(r, "unhashable type: '%s'", pv_type_name(item));
            return -1;
        }
        return pv_dict_find(c, item) != NULL;
    case PV_RANGE: {
        if (!is_num(item) || (item->type == PV_FLOAT && item->u.f != floor(item->u.f)))
            return 0;
        int64_t x = item->type == PV_FLOAT ? (int64_t)item->u.f : pv_int_value(item);
        int64_t n = range_count(c);
        if (n == 0)
            return 0;
        int64_t off = x - c->u.range.start;
        if (off % c->u.range.step != 0)
            return 0;
        int64_t k = off / c->u.range.step;
        return k >= 0 && k < n;
    }
    case PV_UNDEFINED:
        if (STRICT_UNDEF(r, c)) {
            undefined_error(r, c);
            return -1;
        }
        return 0;
    default:
        rfail(r, "argument of type '%s' is not iterable", pv_type_name(c));
        return -1;
    }
}

/* ---------------- attribute and item access ---------------- */


static int loop_fill(render *r, jloop *l, size_t want);

static pyval *loop_attr(render *r, pyval *loopv, const char *name)
{
    jloop *l = loopv->u.func.ptr;
    int all = IS(name, "length") || IS(name, "revindex") || IS(name, "revindex0");
    int next = IS(name, "last") || IS(name, "nextitem");
    if ((all || next) && loop_fill(r, l, all ? SIZE_MAX : l->index + 2) < 0)
        return NULL;
    int64_t i = (int64_t)l->index, n = (int64_t)l->len;
    if (IS(name, "index"))
        return pv_mk_int(r->a, i + 1);
    if (IS(name, "index0"))
        return pv_mk_int(r->a, i);
    if (IS(name, "revindex"))
        return pv_mk_int(r->a, n - i);
    if (IS(name, "revindex0"))
        return pv_mk_int(r->a, n - i - 1);
    if (IS(name, "first"))
        return PV_BOOL_V(i == 0);
    if (IS(name, "last"))
        return PV_BOOL_V(i == n - 1);
    if (IS(name, "length"))
        return pv_mk_int(r->a, n);
    if (IS(name, "depth"))
        return pv_mk_int(r->a, 1);
    if (IS(name, "depth0"))
        return pv_mk_int(r->a, 0);
    if (IS(name, "previtem"))
        return i > 0 ? l->items[i - 1] : mk_undefined(r, "there is no previous item");
    if (IS(name, "nextitem"))
        return i + 1 < n ? l->items[i + 1] : mk_undefined(r, "there is no next item");
    if (IS(name, "cycle")) {
        pyval *f = pv_mk(r->a, PV_FUNC);
        if (!f)
            return oom(r);
        f->u.func.id = F_LOOP_CYCLE;
        f->u.func.ptr = l;
        f->u.func.name = "cycle";
        return f;
    }
    return mk_undefined(r, "'LoopContext object' has no attribute '%s'", name);
}

pyval *r_getattr(render *r, pyval *obj, const char *name, size_t len)
{
    if (obj->type == PV_UNDEFINED)
        return undefined_error(r, obj);
    if (obj->type == PV_FUNC && obj->u.func.id == F_LOOP)
        return loop_attr(r, obj, name);
    pyval *m = b_method(r, obj, name, len);
    if (m)
        return m;
    if (obj->type == PV_DICT || obj->type == PV_NAMESPACE) {
        pyval *v = pv_dict_find_str(obj, name, len);
        if (v)
            return v;
        if (obj->type == PV_NAMESPACE)
            return mk_undefined(r, "'%s' has no attribute '%.*s'", "Namespace object", (int)len, name);
    }
    return mk_undefined(r, "'%s object' has no attribute '%.*s'", pv_type_name(obj), (int)len, name);
}

/* Python's index normalization; 0 when out of range. */
static int norm_index(int64_t i, int64_t n, int64_t *out)
{
    if (i < 0)
        i += n;
    if (i < 0 || i >= n)
        return 0;
    *out = i;
    return 1;
}

static int slice_part(render *r, pyval *v, int64_t *out, int *given)
{
    *given = 0;
    if (!v || v->type == PV_NONE)
        return 0;
    if (v->type == PV_UNDEFINED) {
        undefined_error(r, v);
        return -1;
    }
    if (v->type != PV_INT && v->type != PV_BOOL)
        return 1;
    *out = pv_int_value(v);
    *given = 1;
    return 0;
}

/* Python's slice.indices(n). */
static void slice_indices(int64_t n, int64_t *start, int gs, int64_t *stop, int ge, int64_t step)
{
    if (!gs)
        *start = step < 0 ? n - 1 : 0;
    else if (*start < 0) {
        *start += n;
        if (*start < 0)
            *start = step < 0 ? -1 : 0;
    } else if (*start >= n)
        *start = step < 0 ? n - 1 : n;
    if (!ge)
        *stop = step < 0 ? -1 : n;
    else if (*stop < 0) {
        *stop += n;
        if (*stop < 0)
            *stop = step < 0 ? -1 : 0;
    } else if (*stop >= n)
        *stop = step < 0 ? n - 1 : n;
}

static pyval *do_slice(render *r, pyval *obj, pyval *slice)
{
    pyval *parts[3] = {slice->u.list.items[0], slice->u.list.items[1], slice->u.list.items[2]};
    int64_t v[3] = {0, 0, 1};
    int given[3];
    /* jinja2 compiles x[a:b] to plain Python subscription: errors are not softened */
    if (obj->type == PV_UNDEFINED)
        return undefined_error(r, obj);
    if (obj->type == PV_DICT)
        return rfail(r, "unhashable type: 'slice'");
    if ((obj->type != PV_STR && obj->type != PV_LIST && obj->type != PV_TUPLE && obj->type != PV_RANGE) ||
        (obj->type == PV_LIST && obj->kind != LK_LIST))
        return rfail(r, "'%s' object is not subscriptable", pv_type_name(obj));
    for (int k = 0; k < 3; k++) {
        int rc = slice_part(r, parts[k], &v[k], &given[k]);
        if (rc < 0)
            return NULL;
        if (rc > 0)
            return rfail(r, "slice indices must be integers or None or have an __index__ method");
    }
    if (!given[2])
        v[2] = 1;
    if (v[2] == 0)
        return rfail(r, "slice step cannot be zero");
    if (obj->type == PV_RANGE) { /* a range slices to a range */
        int64_t n, start = v[0], stop = v[1];
        if (r_len(r, obj, &n) < 0)
            return NULL;
        slice_indices(n, &start, given[0], &stop, given[1], v[2]);
        pyval *out = pv_mk(r->a, PV_RANGE);
        if (!out)
            return oom(r);
        int64_t a = obj->u.range.start, st = obj->u.range.step;
        if (__builtin_mul_overflow(st, v[2], &out->u.range.step) ||
            __builtin_add_overflow(a, start * st, &out->u.range.start) ||
            __builtin_add_overflow(a, stop * st, &out->u.range.stop))
            return rfail(r, "range slice too large");
        return out;
    }
    int64_t n = obj->type == PV_STR ? (int64_t)obj->u.str.ncp : (int64_t)obj->u.list.len;
    int64_t start = v[0], stop = v[1], step = v[2];
    slice_indices(n, &start, given[0], &stop, given[1], step);
    if (obj->type == PV_STR) {
        if (step == 1) {
            if (stop <= start)
                return r_str(r, "", 0);
            size_t b0 = ju_offset(obj, (size_t)start), b1 = ju_offset(obj, (size_t)stop);
            return r_str(r, obj->u.str.s + b0, b1 - b0);
        }
        pyval **chars;
        size_t nc;
        if (r_iterate(r, obj, &chars, &nc) < 0)
            return NULL;
        pv_buf b = {0};
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
            pv_buf_append(&b, chars[i]->u.str.s, chars[i]->u.str.len);
        pyval *s = b.failed ? oom(r) : r_str(r, b.data ? b.data : "", b.len);
        pv_buf_free(&b);
        return s;
    }
    pyval *out = r_list(r, obj->type, 0);
    if (!out)
        return NULL;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        if (r_push(r, out, obj->u.list.items[i]) < 0)
            return NULL;
    return out;
}

pyval *r_getitem(render *r, pyval *obj, pyval *key)
{
    if (obj->type == PV_UNDEFINED)
        return undefined_error(r, obj);
    if (key->type == PV_FUNC && key->u.func.id == F_NONE && key->u.func.name &&
        !strcmp(key->u.func.name, "slice"))
        return do_slice(r, obj, key->u.func.self);
    switch (obj->type) {
    case PV_DICT:
    case PV_NAMESPACE: {
        pyval *v = obj->type == PV_DICT ? pv_dict_find(obj, key) : NULL;
        if (v)
            return v;
        break;
    }
    case PV_STR:
    case PV_LIST:
    case PV_TUPLE:
    case PV_RANGE: {
        if (obj->type == PV_LIST && obj->kind != LK_LIST)
            break;
        if (key->type != PV_INT && key->type != PV_BOOL)
            break;
        int64_t n, i;
        if (r_len(r, obj, &n) < 0)
            return NULL;
        if (!norm_index(pv_int_value(key), n, &i))
            return mk_undefined(r, "index out of range");
        if (obj->type == PV_RANGE)
            return pv_mk_int(r->a, obj->u.range.start + i * obj->u.range.step);
        if (obj->type != PV_STR)
            return obj->u.list.items[i];
        size_t b0 = ju_offset(obj, (size_t)i), b1 = ju_offset(obj, (size_t)i + 1);
        return r_str(r, obj->u.str.s + b0, b1 - b0);
    }
    default:
        break;
    }
    if (key->type == PV_STR) { /* jinja2 falls back to the attribute */
        if (obj->type == PV_FUNC && obj->u.func.id == F_LOOP)
            return loop_attr(r, obj, key->u.str.s);
        pyval *m = b_method(r, obj, key->u.str.s, key->u.str.len);
        if (m)
            return m;
        return mk_undefined(r, "'%s object' has no attribute '%s'", pv_type_name(obj), key->u.str.s);
    }
    return mk_undefined(r, "'%s object' has no item", pv_type_name(obj));
}

/* ---------------- arithmetic ---------------- */

static pyval *type_error(render *r, const char *op, const pyval *a, const pyval *b)
{
    return rfail(r, "unsupported operand type(s) for %s: '%s' and '%s'", op, pv_type_name(a), pv_type_name(b));
}

static pyval *repeat(render *r, pyval *seq, int64_t times)
{
    if (times < 0)
        times = 0;
    if (seq->type == PV_STR) {
        if (times > 0 && seq->u.str.len > J_MAX_SIZE / (uint64_t)times)
            return rfail(r, "string too long");
        if (seq->u.str.len == 0)
            times = 0;
        size_t unit = seq->u.str.len, total = unit * (size_t)times;
        pyval *s = pv_alloc(r->a, sizeof(pyval) + total + 1);
        if (!s)
            return oom(r);
        char *d = (char *)(s + 1);
        if (total) { /* doubling copies: a few memcpy calls however many repetitions */
            memcpy(d, seq->u.str.s, unit);
            for (size_t done = unit; done < total;) {
                size_t n = done < total - done ? done : total - done;
                memcpy(d + done, d, n);
                done += n;
            }
        }
        d[total] = '\0';
        s->type = PV_STR;
        s->immortal = 1;
        s->ascii = seq->ascii;
        s->u.str.s = d;
        s->u.str.len = total;
        s->u.str.ncp = seq->u.str.ncp * (size_t)times;
        return s;
    }
    if (seq->u.list.len == 0) /* () * 10**9 is () at once, not a billion empty copies */
        times = 0;
    if (times > 0 && seq->u.list.len > J_MAX_SIZE / sizeof(pyval *) / (uint64_t)times)
        return rfail(r, "list too long");
    pyval *out = r_list(r, seq->type, seq->u.list.len * (size_t)times);
    if (!out)
        return NULL;
    for (int64_t i = 0; i < times; i++) {
        memcpy(out->u.list.items + out->u.list.len, seq->u.list.items, seq->u.list.len * sizeof(pyval *));
        out->u.list.len += seq->u.list.len;
    }
    return out;
}

static pyval *concat_seq(render *r, pyval *a, pyval *b)
{
    if (a->type == PV_STR) {
        if (a->u.str.len + b->u.str.len > J_MAX_SIZE)
            return rfail(r, "string too long");
        pyval *s = pv_alloc(r->a, sizeof(pyval) + a->u.str.len + b->u.str.len + 1);
        if (!s)
            return oom(r);
        char *d = (char *)(s + 1);
        memcpy(d, a->u.str.s, a->u.str.len);
        memcpy(d + a->u.str.len, b->u.str.s, b->u.str.len);
        d[a->u.str.len + b->u.str.len] = '\0';
        s->type = PV_STR;
        s->immortal = 1;
        s->u.str.s = d;
        s->u.str.len = a->u.str.len + b->u.str.len;
        s->u.str.ncp = a->u.str.ncp + b->u.str.ncp;
        s->ascii = a->ascii && b->ascii;
        return s;
    }
    pyval *out = r_list(r, a->type, a->u.list.len + b->u.list.len);
    if (!out)
        return NULL;
    for (size_t k = 0; k < a->u.list.len; k++)
        out->u.list.items[out->u.list.len++] = a->u.list.items[k];
    for (size_t k = 0; k < b->u.list.len; k++)
        out->u.list.items[out->u.list.len++] = b->u.list.items[k];
    return out;
}

static pyval *int_result(render *r, int overflow, int64_t v)
{
    if (overflow)
        return rfail(r, "integer overflow");
    pyval *x = pv_mk_int(r->a, v);
    return x ? x : oom(r);
}

static pyval *float_result(render *r, double v)
{
    pyval *x = pv_mk_float(r->a, v);
    return x ? x : oom(r);
}

static pyval *int_pow(render *r, int64_t base, int64_t exp)
{
    int64_t result = 1;
    int overflow = 0;
    while (exp > 0 && !overflow) {
        if (exp & 1)
            overflow |= __builtin_mul_overflow(result, base, &result);
        exp >>= 1;
        if (exp)
            overflow |= __builtin_mul_overflow(base, base, &base);
    }
    return int_result(r, overflow, result);
}

static pyval *num_binop(render *r, int op, pyval *a, pyval *b)
{
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**", "~", "?"};
    if (a->big || b->big)
        return rfail(r, "integer too large for arithmetic");
    int both_int = a->type != PV_FLOAT && b->type != PV_FLOAT;
    int64_t x = pv_int_value(a), y = pv_int_value(b), z = 0;
    double fx = pv_float_value(a), fy = pv_float_value(b);
    switch (op) {
    case OP_ADD:
        if (both_int)
        {
            int o = __builtin_add_overflow(x, y, &z);
            return int_result(r, o, z);
        }
        return float_result(r, fx + fy);
    case OP_SUB:
        if (both_int)
        {
            int o = __builtin_sub_overflow(x, y, &z);
            return int_result(r, o, z);
        }
        return float_result(r, fx - fy);
    case OP_MUL:
        if (both_int)
        {
            int o = __builtin_mul_overflow(x, y, &z);
            return int_result(r, o, z);
        }
        return float_result(r, fx * fy);
    case OP_DIV:
        if (fy == 0)
            return rfail(r, both_int ? "division by zero" : "float division by zero");
        return float_result(r, fx / fy);
    case OP_FLOORDIV:
    case OP_MOD:
        if (both_int) {
            if (y == 0)
                return rfail(r, op == OP_MOD ? "integer modulo by zero" : "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1)
                return op == OP_MOD ? int_result(r, 0, 0) : rfail(r, "integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                q -= 1;
                m += y;
            }
            return int_result(r, 0, op == OP_MOD ? m : q);
        } else {
            if (fy == 0)
                return rfail(r, op == OP_MOD ? "float modulo" : "float floor division by zero");
            double mod = fmod(fx, fy), div;
            div = (fx - mod) / fy;
            if (mod != 0) {
                if ((fy < 0) != (mod < 0)) {
                    mod += fy;
                    div -= 1.0;
                }
            } else {
                mod = copysign(0.0, fy);
            }
            double fd;
            if (div != 0) {
                fd = floor(div);
                if (div - fd > 0.5)
                    fd += 1.0;
            } else {
                fd = copysign(0.0, fx / fy);
            }
            return float_result(r, op == OP_MOD ? mod : fd);
        }
    case OP_POW:
        if (both_int && y >= 0)
            return int_pow(r, x, y);
        if (fx == 0 && fy < 0)
            return rfail(r, "0.0 cannot be raised to a negative power");
        if (fx < 0 && fy != floor(fy))
            return rfail(r, "negative number raised to a fractional power (complex result)");
        return float_result(r, pow(fx, fy));
    default:
        return type_error(r, names[op < 8 ? op : 8], a, b);
    }
}

pyval *r_binop(render *r, int op, pyval *a, pyval *b)
{
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**", "~"};
    if (op == OP_CONCAT) {
        pyval *sa = r_tostr(r, a), *sb = sa ? r_tostr(r, b) : NULL;
        return sb ? concat_seq(r, sa, sb) : NULL;
    }
    if (op == OP_MOD && a->type == PV_STR)
        return b_str_format(r, a, b);
    if (a->type == PV_UNDEFINED)
        return undefined_error(r, a);
    if (b->type == PV_UNDEFINED)
        return undefined_error(r, b);
    if (is_num(a) && is_num(b))
        return num_binop(r, op, a, b);
    if ((a->type == PV_INT && a->big) || (b->type == PV_INT && b->big))
        return rfail(r, "integer too large for arithmetic");
    if (op == OP_ADD && a->type == b->type &&
        (a->type == PV_STR || a->type == PV_TUPLE || (a->type == PV_LIST && a->kind == LK_LIST && b->kind == LK_LIST)))
        return concat_seq(r, a, b);
    if (op == OP_MUL) {
        pyval *seq = NULL, *n = NULL;
        if ((a->type == PV_INT || a->type == PV_BOOL) && !a->big)
            seq = b, n = a;
        else if ((b->type == PV_INT || b->type == PV_BOOL) && !b->big)
            seq = a, n = b;
        if (seq && (seq->type == PV_STR || seq->type == PV_TUPLE || (seq->type == PV_LIST && seq->kind == LK_LIST)))
            return repeat(r, seq, pv_int_value(n));
    }
    return type_error(r, names[op], a, b);
}

/* ---------------- expressions ---------------- */

static pyval *eval(render *r, jnode *n);

static int eval_args(render *r, jnode *n, jargs *args)
{
    args->npos = args->nkw = 0;
    if (n->nargs <= JARGS_INLINE) {
        args->pos = args->pos_buf;
        args->kwvals = args->kwval_buf;
        args->kwnames = args->kwname_buf;
        if (n->nargs == 0)
            return 0;
    } else {
        args->pos = pv_alloc(r->a, (size_t)n->nargs * sizeof(pyval *));
        args->kwvals = pv_alloc(r->a, (size_t)n->nargs * sizeof(pyval *));
        args->kwnames = pv_alloc(r->a, (size_t)n->nargs * sizeof(char *));
    }
    if (!args->pos || !args->kwvals || !args->kwnames) {
        oom(r);
        return -1;
    }
    for (int i = 0; i < n->nargs; i++) {
        pyval *v = eval(r, n->args[i]);
        if (!v)
            return -1;
        if (n->kwnames && n->kwnames[i]) {
            args->kwnames[args->nkw] = n->kwnames[i];
            args->kwvals[args->nkw++] = v;
        } else {
            args->pos[args->npos++] = v;
        }
    }
    return 0;
}

static pyval *eval_compare(render *r, jnode *n)
{
    pyval *left = eval(r, n->a);
    if (!left)
        return NULL;
    for (int i = 0; i < n->nargs; i++) {
        pyval *right = eval(r, n->args[i]);
        if (!right)
            return NULL;
        int ok, cmp;
        if (STRICT_UNDEF(r, left) || STRICT_UNDEF(r, right))
            return undefined_error(r, STRICT_UNDEF(r, left) ? left : right);
        if ((left->type == PV_LIST || left->type == PV_TUPLE) && r_work(r, left->u.list.len) < 0)
            return NULL; /* comparing containers scans them */
        if (left->type == PV_DICT && r_work(r, left->u.dict.len * left->u.dict.len) < 0)
            return NULL;
        switch (n->ops[i]) {
        case OP_EQ: ok = pv_equal(left, right); break;
        case OP_NE: ok = !pv_equal(left, right); break;
        case OP_IN:
        case OP_NOTIN:
            ok = r_contains(r, right, left);
            if (ok < 0)
                return NULL;
            if (n->ops[i] == OP_NOTIN)
                ok = !ok;
            break;
        default:
            if (r_compare(r, left, right, &cmp) < 0)
                return NULL;
            if (cmp == 2)
                ok = 0;
            else
                ok = n->ops[i] == OP_LT ? cmp < 0 : n->ops[i] == OP_LE ? cmp <= 0 : n->ops[i] == OP_GT ? cmp > 0 : cmp >= 0;
        }
        if (!ok)
            return PV_FALSE_V;
        left = right;
    }
    return PV_TRUE_V;
}

static pyval *eval_slice(render *r, jnode *n)
{
    pyval *t = r_list(r, PV_TUPLE, 3);
    if (!t)
        return NULL;
    jnode *parts[3] = {n->a, n->b, n->c};
    for (int k = 0; k < 3; k++) {
        pyval *v = parts[k] ? eval(r, parts[k]) : PV_NONE_V;
        if (!v)
            return NULL;
        t->u.list.items[k] = v;
    }
    t->u.list.len = 3;
    pyval *f = pv_mk(r->a, PV_FUNC); /* a marker only r_getitem understands */
    if (!f)
        return oom(r);
    f->u.func.name = "slice";
    f->u.func.self = t;
    return f;
}

static pyval *eval_name(render *r, jnode *n)
{
    pyval *v = lookup_var(r, n->name, n->namelen);
    if (v)
        return v;
    v = global_func(r, n->name);
    if (v || (r->err && r->err->status))
        return v;
    return mk_undefined(r, "'%s' is undefined", n->name); /* strict: an error where it is used */
}

static pyval *eval_inner(render *r, jnode *n)
{
    switch (n->kind) {
    case N_CONST: return n->value;
    case N_NAME: return eval_name(r, n);
    case N_LIST:
    case N_TUPLE: {
        pyval *l = r_list(r, n->kind == N_LIST ? PV_LIST : PV_TUPLE, (size_t)n->nargs);
        if (!l)
            return NULL;
        for (int i = 0; i < n->nargs; i++)
            if (!(l->u.list.items[l->u.list.len++] = eval(r, n->args[i])))
                return NULL;
        return l;
    }
    case N_DICT: {
        pyval *d = pv_mk_dict(r->a, PV_DICT);
        if (!d)
            return oom(r);
        for (int i = 0; i + 1 < n->nargs; i += 2) {
            pyval *k = eval(r, n->args[i]), *v = k ? eval(r, n->args[i + 1]) : NULL;
            if (!v)
                return NULL;
            if (k->type == PV_LIST || k->type == PV_DICT || k->type == PV_NAMESPACE)
                return rfail(r, "unhashable type: '%s'", pv_type_name(k));
            if (pv_dict_put(r->a, d, k, v) < 0)
                return oom(r);
        }
        return d;
    }
    case N_GETATTR: {
        pyval *obj = eval(r, n->a);
        return obj ? r_getattr(r, obj, n->name, n->namelen) : NULL;
    }
    case N_GETITEM: {
        pyval *obj = eval(r, n->a), *key = obj ? eval(r, n->b) : NULL;
        return key ? r_getitem(r, obj, key) : NULL;
    }
    case N_SLICE: return eval_slice(r, n);
    case N_CALL: {
        pyval *f = eval(r, n->a);
        if (!f)
            return NULL;
        jargs args;
        if (eval_args(r, n, &args) < 0)
            return NULL;
        if (f->type == PV_UNDEFINED)
            return undefined_error(r, f);
        if (f->type != PV_FUNC)
            return rfail(r, "'%s' object is not callable", pv_type_name(f));
        return b_call(r, f, &args);
    }
    case N_FILTER: {
        pyval *in = eval(r, n->a);
        jargs args;
        if (!in || eval_args(r, n, &args) < 0)
            return NULL;
        return b_filter(r, n->name, in, &args);
    }
    case N_TEST: {
        pyval *in = eval(r, n->a);
        jargs args;
        if (!in || eval_args(r, n, &args) < 0)
            return NULL;
        int ok = b_test(r, n->name, in, &args);
        return ok < 0 ? NULL : PV_BOOL_V(ok);
    }
    case N_BINOP: {
        pyval *a = eval(r, n->a), *b = a ? eval(r, n->b) : NULL;
        return b ? r_binop(r, n->op, a, b) : NULL;
    }
    case N_NEG:
    case N_POS: {
        pyval *a = eval(r, n->a);
        if (!a)
            return NULL;
        if (a->type == PV_UNDEFINED)
            return undefined_error(r, a);
        if (!is_num(a))
            return rfail(r, "bad operand type for unary %c: '%s'", n->kind == N_NEG ? '-' : '+', pv_type_name(a));
        if (n->kind == N_POS)
            return a->type == PV_BOOL ? pv_mk_int(r->a, a->u.b) : a;
        if (a->type == PV_FLOAT)
            return float_result(r, -a->u.f);
        return int_result(r, pv_int_value(a) == INT64_MIN, -pv_int_value(a));
    }
    case N_NOT: {
        pyval *a = eval(r, n->a);
        int t = a ? r_truthy(r, a) : -1;
        return t < 0 ? NULL : PV_BOOL_V(!t);
    }
    case N_AND:
    case N_OR: {
        pyval *a = eval(r, n->a);
        int t = a ? r_truthy(r, a) : -1;
        if (t < 0)
            return NULL;
        if ((n->kind == N_AND) != (t != 0))
            return a;
        return eval(r, n->b);
    }
    case N_COMPARE: return eval_compare(r, n);
    case N_CONDEXPR: {
        pyval *c = eval(r, n->a);
        int t = c ? r_truthy(r, c) : -1;
        if (t < 0)
            return NULL;
        if (t)
            return eval(r, n->b);
        if (n->c)
            return eval(r, n->c);
        pyval *u = mk_undefined(r, "the inline if-expression evaluated to false and no else section was defined");
        if (u)
            u->kind = 1; /* jinja2 uses the plain Undefined here, even in strict mode */
        return u;
    }
    default: return rfail(r, "cannot evaluate this node");
    }
}

static pyval *eval(render *r, jnode *n)
{
    if (++r->depth > J_MAX_DEPTH)
        return rfail(r, "expression nested too deeply");
    r->line = n->line;
    pyval *v = eval_inner(r, n);
    r->depth--;
    return v;
}

/* ---------------- statements ---------------- */

static int exec_body(render *r, jnode *n);

static int assign(render *r, size_t frame, jnode *target, pyval *value)
{
    if (target->kind == N_NAME)
        return set_var(r, frame, target->name, value);
    if (target->kind == N_NSREF) {
        pyval *ns = lookup_var(r, target->a->name, target->a->namelen);
        if (!ns || ns->type != PV_NAMESPACE || !ns->immortal) {
            rfail(r, "cannot assign attribute on non-namespace object");
            return -1;
        }
        pyval *key = r_str(r, target->name, target->namelen);
        if (!key || pv_dict_put(r->a, ns, key, value) < 0) {
            if (key)
                oom(r);
            return -1;
        }
        return 0;
    }
    /* tuple unpacking */
    pyval **items;
    size_t n;
    if (value->type == PV_UNDEFINED) {
        undefined_error(r, value);
        return -1;
    }
    if (r_iterate(r, value, &items, &n) < 0)
        return -1;
    if (n != (size_t)target->nargs) {
        rfail(r, n < (size_t)target->nargs ? "not enough values to unpack (expected %d, got %zu)"
                                           : "too many values to unpack (expected %d, got %zu)",
              target->nargs, n);
        return -1;
    }
    for (int i = 0; i < target->nargs; i++)
        if (assign(r, frame, target->args[i], items[i]) < 0)
            return -1;
    return 0;
}

static size_t frame_base(render *r)
{
    return r->nvars;
}

/* Filtered loops (for x in y if c) test items lazily, as jinja2's generator does: the
 * condition of an item runs just before its iteration, or earlier when loop.nextitem,
 * loop.last or loop.length looks ahead. Keeps testing raw items until `want` are kept. */
static int loop_fill(render *r, jloop *l, size_t want)
{
    /* The condition sees the scope the loop started in (an enclosing loop's `loop`, not
     * this one's): variables of the current iteration are set aside while it runs. */
    size_t saved_n = r->nvars, hidden = saved_n - l->outer_nvars;
    jvar *saved = NULL;
    if (!l->done && l->len < want && hidden) {
        saved = pv_alloc(r->a, hidden * sizeof *saved);
        if (!saved) {
            oom(r);
            return -1;
        }
        memcpy(saved, r->vars + l->outer_nvars, hidden * sizeof *saved);
        r->nvars = l->outer_nvars;
    }
    int rc = 0;
    while (!l->done && l->len < want) {
        if (l->pos >= l->nraw) {
            l->done = 1;
            break;
        }
        pyval *item = l->raw[l->pos++];
        size_t base = frame_base(r);
        if (r_work(r, 1) < 0 || assign(r, base, l->target, item) < 0) {
            rc = -1;
            break;
        }
        pyval *c = eval(r, l->cond);
        int t = c ? r_truthy(r, c) : -1;
        r->nvars = base;
        if (t < 0) {
            rc = -1;
            break;
        }
        if (t)
            l->items[l->len++] = item;
    }
    if (saved) { /* capacity already held saved_n entries */
        memcpy(r->vars + l->outer_nvars, saved, hidden * sizeof *saved);
        r->nvars = saved_n;
    }
    return rc;
}

static int exec_for(render *r, jnode *n)
{
    pyval *seq = eval(r, n->b);
    pyval **items;
    size_t count;
    if (!seq || r_iterate(r, seq, &items, &count) < 0)
        return -1;
    jloop state;
    memset(&state, 0, sizeof state);
    state.outer_nvars = r->nvars;
    if (n->nargs) {
        state.raw = items;
        state.nraw = count;
        state.cond = n->args[0];
        state.target = n->a;
        state.items = pv_alloc(r->a, (count + 1) * sizeof(pyval *));
        if (!state.items) {
            oom(r);
            return -1;
        }
    } else {
        state.items = items;
        state.len = count;
        state.done = 1;
    }
    if (loop_fill(r, &state, 1) < 0)
        return -1;
    if (state.len == 0)
        return exec_body(r, n->d);
    pyval *loopv = pv_mk(r->a, PV_FUNC);
    if (!loopv) {
        oom(r);
        return -1;
    }
    loopv->u.func.id = F_LOOP;
    loopv->u.func.ptr = &state;
    loopv->u.func.name = "loop";
    size_t saved_frame = r->frame;
    for (size_t i = 0;; i++) {
        if (loop_fill(r, &state, i + 1) < 0)
            return -1;
        if (i >= state.len)
            break;
        size_t base = frame_base(r);
        state.index = i;
        r->frame = base;
        if ((!n->nargs && r_work(r, 1) < 0) || assign(r, base, n->a, state.items[i]) < 0 ||
            set_var(r, base, r->loop_name, loopv) < 0)
            return -1;
        int rc = exec_body(r, n->c);
        r->nvars = base;
        r->frame = saved_frame;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int output(render *r, pyval *v)
{
    if (v->type == PV_STR)
        return pv_buf_append(&r->out, v->u.str.s, v->u.str.len) < 0 ? (rfail(r, "output too large"), -1) : 0;
    if (v->type == PV_UNDEFINED) {
        if (STRICT_UNDEF(r, v)) {
            undefined_error(r, v);
            return -1;
        }
        count_undefined_printed(r, v);
        return 0;
    }
    if (pv_str_append(&r->out, v, r->err) < 0) {
        rfail(r, "output too large");
        return -1;
    }
    return 0;
}

static int exec_node(render *r, jnode *n)
{
    r->line = n->line;
    switch (n->kind) {
    case N_DATA:
        if (pv_buf_append(&r->out, n->value->u.str.s, n->value->u.str.len) < 0) {
            rfail(r, "output too large");
            return -1;
        }
        return 0;
    case N_OUTPUT: {
        pyval *v = eval(r, n->a);
        return v ? output(r, v) : -1;
    }
    case N_IF: {
        pyval *c = eval(r, n->a);
        int t = c ? r_truthy(r, c) : -1;
        if (t < 0)
            return -1;
        return exec_body(r, t ? n->b : n->c);
    }
    case N_FOR: return exec_for(r, n);
    case N_SET: {
        pyval *v = eval(r, n->b);
        return v ? assign(r, r->frame, n->a, v) : -1;
    }
    case N_SETBLOCK: {
        pv_buf saved = r->out;
        memset(&r->out, 0, sizeof r->out);
        r->out.limit = J_MAX_SIZE;
        int rc = exec_body(r, n->c);
        pv_buf inner = r->out;
        r->out = saved;
        pyval *v = rc < 0 ? NULL : r_str(r, inner.data ? inner.data : "", inner.len);
        pv_buf_free(&inner);
        return v ? assign(r, r->frame, n->a, v) : -1;
    }
    default: rfail(r, "cannot execute this node"); return -1;
    }
}

static int exec_body(render *r, jnode *n)
{
    if (++r->depth > J_MAX_DEPTH) {
        rfail(r, "template nested too deeply");
        return -1;
    }
    for (; n; n = n->next)
        if (exec_node(r, n) < 0)
            return -1;
    r->depth--;
    return 0;
}

int jinja_render(const jinja_template *t, const pyval *context, const jinja_options *opt, char **out,
                 size_t *out_len, t0_error *err)
{
    render r;
    memset(&r, 0, sizeof r);
    t0_error local;
    t0_error_clear(&local);
    r.err = err ? err : &local;
    t0_error_clear(r.err);
    _Alignas(16) unsigned char first_chunk[8192]; /* most renders allocate nothing else */
    jvar first_vars[32];
    r.vars = first_vars;
    r.cap = 32;
    r.vars_on_stack = 1;
    r.a = pv_arena_on_stack(first_chunk, sizeof first_chunk);
    r.ctx = context && context->type == PV_DICT ? context : NULL;
    r.rng = opt ? opt->seed : 0;
    r.strict = opt ? opt->strict : 0;
    r.undefined_printed = opt ? opt->undefined_printed : NULL;
    r.out.limit = J_MAX_SIZE;
    r.out.data = malloc(512); /* typical prompts fit without regrowing */
    r.out.cap = r.out.data ? 512 : 0;
    r.loop_name = t->loop_name;
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!r.a)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    int rc = exec_body(&r, t->body);
    if (rc == 0 && pv_buf_append(&r.out, "", 0) < 0)
        rc = (rfail(&r, "output too large"), -1);
    pv_arena_free(r.a);
    if (!r.vars_on_stack)
        free(r.vars);
    if (rc < 0) {
        pv_buf_free(&r.out);
        if (r.err->status == T0_OK)
            t0_fail(r.err, T0_EINTERNAL, "jinja: render failed");
        return -1;
    }
    *out = r.out.data;
    if (out_len)
        *out_len = r.out.len;
    return 0;
}
