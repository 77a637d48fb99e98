/* jinja_value.c: the engine's bottom layer (see jinja_value.h): errors, making render values,
 * argument binding, and Python's operations on values. */
#include "render/jinja_value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- errors and making values ---------------- */

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

void *r_oom(render *r)
{
    return rfail(r, "out of memory or value too large");
}

pyval *r_str(render *r, const char *s, size_t len)
{
    if (len > J_MAX_SIZE)
        return rfail(r, "string too long");
    pyval *v = pv_mk_str(r->a, s, len);
    return v ? v : r_oom(r);
}

pyval *r_list(render *r, pv_type t, size_t cap)
{
    pyval *v = pv_mk_list(r->a, t, cap);
    return v ? v : r_oom(r);
}

int r_push(render *r, pyval *list, pyval *item)
{
    if (list->u.list.len >= J_MAX_SIZE / sizeof(pyval *)) {
        rfail(r, "list too long");
        return -1;
    }
    if (pv_list_push(r->a, list, item) < 0) {
        r_oom(r);
        return -1;
    }
    return 0;
}

static const char *undef_name(const pyval *v)
{
    return v->u.str.s ? v->u.str.s : "value";
}

void *r_undefined_error(render *r, const pyval *v)
{
    return rfail(r, "%s", undef_name(v));
}

pyval *r_undef(render *r, const char *fmt, ...)
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
    return v ? v : r_oom(r);
}

pyval *r_int(render *r, int64_t i)
{
    pyval *v = pv_mk_int(r->a, i);
    return v ? v : rfail(r, "out of memory");
}

pyval *r_float(render *r, double f)
{
    pyval *v = pv_mk_float(r->a, f);
    return v ? v : rfail(r, "out of memory");
}

pyval *r_buf_to_str(render *r, t0_buf *b)
{
    pyval *s = b->failed ? rfail(r, "string too long") : r_str(r, b->p ? b->p : "", b->len);
    t0_buf_free(b);
    return s;
}

/* ---------------- arguments ---------------- */

/* Binds call arguments to parameter slots; a last parameter "*" collects the remaining
 * positional arguments into a tuple. */
int r_bind(render *r, const char *fname, jargs *a, const char *const *params, pyval **slots)
{
    int np = 0, star = 0;
    while (params[np]) {
        if (!strcmp(params[np], "*"))
            star = 1;
        np++;
    }
    int fixed = star ? np - 1 : np;
    for (int i = 0; i < np; i++)
        slots[i] = NULL;
    for (int i = 0; i < a->npos; i++) {
        if (i < fixed) {
            slots[i] = a->pos[i];
        } else if (star) {
            if (!slots[fixed] && !(slots[fixed] = r_list(r, PV_TUPLE, 0)))
                return -1;
            if (r_push(r, slots[fixed], a->pos[i]) < 0)
                return -1;
        } else {
            rfail(r, "%s() takes at most %d arguments (%d given)", fname, fixed, a->npos);
            return -1;
        }
    }
    for (int k = 0; k < a->nkw; k++) {
        int found = 0;
        for (int i = 0; i < fixed; i++)
            if (!strcmp(params[i], a->kwnames[k])) {
                if (slots[i]) {
                    rfail(r, "%s() got multiple values for argument '%s'", fname, params[i]);
                    return -1;
                }
                slots[i] = a->kwvals[k];
                found = 1;
            }
        if (!found) {
            rfail(r, "%s() got an unexpected keyword argument '%s'", fname, a->kwnames[k]);
            return -1;
        }
    }
    return 0;
}

int r_need_int(render *r, pyval *v, const char *what, int64_t *out)
{
    if (v->type == PV_UNDEFINED) {
        rfail(r, "%s", v->u.str.s);
        return -1;
    }
    if ((v->type != PV_INT && v->type != PV_BOOL) || v->big) {
        rfail(r, "%s: '%s' object cannot be interpreted as an integer", what, pv_type_name(v));
        return -1;
    }
    *out = pv_int_value(v);
    return 0;
}

pyval *r_need_str(render *r, pyval *v, const char *what)
{
    if (v->type == PV_STR)
        return v;
    if (v->type == PV_UNDEFINED)
        return rfail(r, "%s", v->u.str.s);
    return rfail(r, "%s: must be str, not %s", what, pv_type_name(v));
}

/* ---------------- str(), truth, iteration, length, ordering ---------------- */

void r_count_undefined_printed(render *r, const pyval *v)
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
            return r_undefined_error(r, v);
        r_count_undefined_printed(r, v);
        return r_str(r, "", 0);
    }
    char small[256];
    t0_buf b = {small, 0, sizeof small, J_MAX_SIZE, 0, 1}; /* short values need no malloc */
    int rc = pv_str_append(&b, v, r->err);
    pyval *s = rc < 0 ? rfail(r, "value too large to print") : r_str(r, b.p ? b.p : "", b.len);
    t0_buf_free(&b);
    return s;
}

int r_truthy(render *r, pyval *v)
{
    if (STRICT_UNDEF(r, v)) {
        r_undefined_error(r, v);
        return -1;
    }
    return pv_truthy(v);
}

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
            r_undefined_error(r, v);
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
            r_oom(r);
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
                r_oom(r);
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
            r_oom(r);
            return -1;
        }
        for (int64_t i = 0; i < nc; i++)
            if (!(out[i] = pv_mk_int(r->a, v->u.range.start + i * v->u.range.step))) {
                r_oom(r);
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

int r_is_num(const pyval *v)
{
    return (v->type == PV_BOOL || v->type == PV_INT || v->type == PV_FLOAT) && !v->big;
}

int r_compare(render *r, const pyval *a, const pyval *b, int *cmp)
{
    if (a->type == PV_UNDEFINED || b->type == PV_UNDEFINED) {
        r_undefined_error(r, a->type == PV_UNDEFINED ? a : b);
        return -1;
    }
    if (r_is_num(a) && r_is_num(b)) {
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
            r_undefined_error(r, item);
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
        if (!r_is_num(item) || (item->type == PV_FLOAT && item->u.f != floor(item->u.f)))
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
            r_undefined_error(r, c);
            return -1;
        }
        return 0;
    default:
        rfail(r, "argument of type '%s' is not iterable", pv_type_name(c));
        return -1;
    }
}

int r_sort(render *r, pyval **items, pyval **keys, size_t n, int reverse)
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

/* ---------------- subscription ---------------- */

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
        r_undefined_error(r, v);
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
        return r_undefined_error(r, obj);
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
            return r_oom(r);
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
            size_t b0 = pv_str_offset(obj, (size_t)start), b1 = pv_str_offset(obj, (size_t)stop);
            return r_str(r, obj->u.str.s + b0, b1 - b0);
        }
        pyval **chars;
        size_t nc;
        if (r_iterate(r, obj, &chars, &nc) < 0)
            return NULL;
        t0_buf b = {0};
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
            t0_buf_add(&b, chars[i]->u.str.s, chars[i]->u.str.len);
        pyval *s = b.failed ? r_oom(r) : r_str(r, b.p ? b.p : "", b.len);
        t0_buf_free(&b);
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

/* An item of a str, list, tuple or range: 1 and *out, 0 when key is no int (or obj no
 * sequence), -1 error. */
static int sequence_item(render *r, pyval *obj, pyval *key, pyval **out)
{
    if ((obj->type == PV_LIST && obj->kind != LK_LIST) || (key->type != PV_INT && key->type != PV_BOOL))
        return 0;
    int64_t n, i;
    if (r_len(r, obj, &n) < 0)
        return -1;
    if (!norm_index(pv_int_value(key), n, &i))
        *out = r_undef(r, "index out of range");
    else if (obj->type == PV_RANGE)
        *out = r_int(r, obj->u.range.start + i * obj->u.range.step);
    else if (obj->type != PV_STR)
        *out = obj->u.list.items[i];
    else {
        size_t b0 = pv_str_offset(obj, (size_t)i), b1 = pv_str_offset(obj, (size_t)i + 1);
        *out = r_str(r, obj->u.str.s + b0, b1 - b0);
    }
    return *out ? 1 : -1;
}

int r_subscript(render *r, pyval *obj, pyval *key, pyval **out)
{
    *out = NULL;
    if (obj->type == PV_UNDEFINED)
        return r_undefined_error(r, obj), -1;
    if (key->type == PV_FUNC && key->u.func.id == F_NONE && key->u.func.name &&
        !strcmp(key->u.func.name, "slice"))
        return (*out = do_slice(r, obj, key->u.func.self)) ? 1 : -1;
    switch (obj->type) {
    case PV_DICT:
        *out = pv_dict_find(obj, key);
        return *out != NULL;
    case PV_STR:
    case PV_LIST:
    case PV_TUPLE:
    case PV_RANGE: return sequence_item(r, obj, key, out);
    default: return 0;
    }
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
            return r_oom(r);
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
            return r_oom(r);
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
    return x ? x : r_oom(r);
}

static pyval *float_result(render *r, double v)
{
    pyval *x = pv_mk_float(r->a, v);
    return x ? x : r_oom(r);
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
    if (a->type == PV_UNDEFINED)
        return r_undefined_error(r, a);
    if (b->type == PV_UNDEFINED)
        return r_undefined_error(r, b);
    if (r_is_num(a) && r_is_num(b))
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

pyval *r_unary(render *r, int negate, pyval *a)
{
    if (a->type == PV_UNDEFINED)
        return r_undefined_error(r, a);
    if (!r_is_num(a))
        return rfail(r, "bad operand type for unary %c: '%s'", negate ? '-' : '+', pv_type_name(a));
    if (!negate)
        return a->type == PV_BOOL ? pv_mk_int(r->a, a->u.b) : a;
    if (a->type == PV_FLOAT)
        return float_result(r, -a->u.f);
    return int_result(r, pv_int_value(a) == INT64_MIN, -pv_int_value(a));
}
