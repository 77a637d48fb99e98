/* pyval.c: Python-like values: construction (heap or render arena), JSON parsing,
 * Python's str()/repr(), equality and truth. See pyval.h for ownership. */
#include "render/pyval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/pyval_internal.h"

pyval pv_undefined_singleton = {.type = PV_UNDEFINED, .immortal = 1};
pyval pv_none_singleton = {.type = PV_NONE, .immortal = 1};
pyval pv_true_singleton = {.type = PV_BOOL, .immortal = 1, .u.b = 1};
pyval pv_false_singleton = {.type = PV_BOOL, .immortal = 1, .u.b = 0};

/* ---------------- buffers ---------------- */

static int buf_puts(t0_buf *b, const char *s)
{
    return t0_buf_add(b, s, strlen(s));
}

/* ---------------- arena ---------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk;

struct pv_arena {
    chunk *head;
    chunk *borrowed; /* caller's memory (pv_arena_on_stack): never freed */
    int on_stack;
};

pv_arena *pv_arena_new(void)
{
    return calloc(1, sizeof(pv_arena));
}

pv_arena *pv_arena_on_stack(void *mem, size_t size)
{
    if (size < sizeof(pv_arena) + sizeof(chunk) + 1024)
        return pv_arena_new();
    pv_arena *a = mem;
    uintptr_t at = ((uintptr_t)mem + sizeof(pv_arena) + 15) & ~(uintptr_t)15;
    chunk *c = (chunk *)at;
    c->next = NULL;
    c->used = 0;
    c->size = size - (size_t)(at - (uintptr_t)mem) - sizeof(chunk);
    a->head = a->borrowed = c;
    a->on_stack = 1;
    return a;
}

void pv_arena_free(pv_arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        if (c != a->borrowed)
            free(c);
        c = next;
    }
    if (!a->on_stack)
        free(a);
}

void *pv_alloc(pv_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a)
        return calloc(1, n ? n : 16);
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > 32768 ? n : (c || n > 4096) ? 65536 : 4096; /* most renders fit in 4 KiB */
        chunk *fresh = malloc(sizeof(chunk) + size);
        if (!fresh)
            return NULL;
        fresh->size = size;
        fresh->used = 0;
        if (n > 32768 && c) { /* big block: keep the current chunk on top */
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            a->head = fresh;
        }
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

/* ---------------- construction ---------------- */

pyval *pv_mk(pv_arena *a, pv_type t)
{
    pyval *v = pv_alloc(a, sizeof(pyval));
    if (!v)
        return NULL;
    v->type = (uint8_t)t;
    v->immortal = a != NULL;
    v->refs = 1;
    return v;
}

pyval *pv_mk_int(pv_arena *a, int64_t i)
{
    pyval *v = pv_mk(a, PV_INT);
    if (v)
        v->u.i = i;
    return v;
}

pyval *pv_mk_float(pv_arena *a, double f)
{
    pyval *v = pv_mk(a, PV_FLOAT);
    if (v)
        v->u.f = f;
    return v;
}

static void str_fill(pyval *v, char *s, size_t len)
{
    v->u.str.s = s;
    v->u.str.len = len;
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) {
            ascii = 0;
            break;
        }
    v->ascii = (uint8_t)ascii;
    v->u.str.ncp = ascii ? len : ju_count(s, len);
}

pyval *pv_mk_str(pv_arena *a, const char *s, size_t len)
{
    pyval *v = pv_alloc(a, sizeof(pyval) + len + 1);
    if (!v)
        return NULL;
    v->type = PV_STR;
    v->immortal = a != NULL;
    v->refs = 1;
    char *d = (char *)(v + 1);
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    str_fill(v, d, len);
    return v;
}

pyval *pv_mk_list(pv_arena *a, pv_type t, size_t cap)
{
    pyval *v = pv_mk(a, t);
    if (!v)
        return NULL;
    if (cap) {
        v->u.list.items = pv_alloc(a, cap * sizeof(pyval *));
        if (!v->u.list.items) {
            if (!a)
                free(v);
            return NULL;
        }
        v->u.list.cap = cap;
    }
    return v;
}

pyval *pv_mk_dict(pv_arena *a, pv_type t)
{
    return pv_mk(a, t);
}

pyval *pv_mk_undefined(pv_arena *a, const char *name, size_t len)
{
    pyval *v = pv_mk_str(a, name, len);
    if (v)
        v->type = PV_UNDEFINED;
    return v;
}

/* Grows an array of n-byte elements; arena arrays are copied (the old block is wasted). */
static void *grow(pv_arena *a, void *old, size_t used, size_t newcap, size_t elem)
{
    if (newcap > SIZE_MAX / elem)
        return NULL;
    if (!a)
        return realloc(old, newcap * elem);
    void *p = pv_alloc(a, newcap * elem);
    if (p && used)
        memcpy(p, old, used * elem);
    return p;
}

int pv_list_push(pv_arena *a, pyval *list, pyval *item)
{
    if (list->u.list.len == list->u.list.cap) {
        size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
        pyval **items = grow(a, list->u.list.items, list->u.list.len, cap, sizeof(pyval *));
        if (!items)
            return -1;
        list->u.list.items = items;
        list->u.list.cap = cap;
    }
    list->u.list.items[list->u.list.len++] = item;
    return 0;
}

pyval *pv_dict_find(const pyval *d, const pyval *key)
{
    for (size_t i = 0; i < d->u.dict.len; i++)
        if (pv_equal(d->u.dict.e[i].key, key))
            return d->u.dict.e[i].value;
    return NULL;
}

pyval *pv_dict_find_str(const pyval *d, const char *key, size_t len)
{
    for (size_t i = 0; i < d->u.dict.len; i++) {
        const pyval *k = d->u.dict.e[i].key;
        if (k->type == PV_STR && k->u.str.len == len && memcmp(k->u.str.s, key, len) == 0)
            return d->u.dict.e[i].value;
    }
    return NULL;
}

static pv_entry *dict_slot(const pyval *d, const pyval *key)
{
    for (size_t i = 0; i < d->u.dict.len; i++)
        if (pv_equal(d->u.dict.e[i].key, key))
            return &d->u.dict.e[i];
    return NULL;
}

/* Appends an entry known to be absent. */
static int dict_push(pv_arena *a, pyval *d, pyval *key, pyval *val)
{
    if (d->u.dict.len == d->u.dict.cap) {
        size_t cap = d->u.dict.cap ? d->u.dict.cap * 2 : 4;
        pv_entry *e = grow(a, d->u.dict.e, d->u.dict.len, cap, sizeof(pv_entry));
        if (!e)
            return -1;
        d->u.dict.e = e;
        d->u.dict.cap = cap;
    }
    d->u.dict.e[d->u.dict.len].key = key;
    d->u.dict.e[d->u.dict.len].value = val;
    d->u.dict.len++;
    return 0;
}

int pv_dict_put(pv_arena *a, pyval *d, pyval *key, pyval *val)
{
    pv_entry *slot = dict_slot(d, key);
    if (slot) {
        slot->value = val;
        return 0;
    }
    return dict_push(a, d, key, val);
}

int pv_dict_remove(pyval *d, const pyval *key)
{
    for (size_t i = 0; i < d->u.dict.len; i++)
        if (pv_equal(d->u.dict.e[i].key, key)) {
            memmove(&d->u.dict.e[i], &d->u.dict.e[i + 1],
                    (d->u.dict.len - i - 1) * sizeof(pv_entry));
            d->u.dict.len--;
            return 1;
        }
    return 0;
}

/* ---------------- public heap API ---------------- */

pyval *pv_ref(pyval *v)
{
    if (v && !v->immortal)
        v->refs++;
    return v;
}

void pv_free(pyval *v)
{
    if (!v || v->immortal || --v->refs > 0)
        return;
    switch (v->type) {
    case PV_LIST:
    case PV_TUPLE:
        for (size_t i = 0; i < v->u.list.len; i++)
            pv_free(v->u.list.items[i]);
        free(v->u.list.items);
        break;
    case PV_DICT:
    case PV_NAMESPACE:
        for (size_t i = 0; i < v->u.dict.len; i++) {
            pv_free(v->u.dict.e[i].key);
            pv_free(v->u.dict.e[i].value);
        }
        free(v->u.dict.e);
        break;
    default:
        break;
    }
    free(v);
}

pv_type pv_typeof(const pyval *v)
{
    return (pv_type)v->type;
}

const char *pv_type_name(const pyval *v)
{
    switch (v->type) {
    case PV_UNDEFINED: return "Undefined";
    case PV_NONE: return "NoneType";
    case PV_BOOL: return "bool";
    case PV_INT: return "int";
    case PV_FLOAT: return "float";
    case PV_STR: return "str";
    case PV_LIST:
        switch (v->kind) {
        case LK_GEN: return "generator";
        case LK_KEYS: return "dict_keys";
        case LK_VALUES: return "dict_values";
        case LK_ITEMS: return "dict_items";
        case LK_ZIP: return "zip";
        default: return "list";
        }
    case PV_TUPLE: return "tuple";
    case PV_DICT: return "dict";
    case PV_RANGE: return "range";
    case PV_NAMESPACE: return "Namespace";
    default: return "builtin_function_or_method";
    }
}

pyval *pv_new_none(void) { return PV_NONE_V; }
pyval *pv_new_bool(int b) { return PV_BOOL_V(b); }
pyval *pv_new_int(int64_t i) { return pv_mk_int(NULL, i); }
pyval *pv_new_float(double f) { return pv_mk_float(NULL, f); }
pyval *pv_new_str(const char *s, size_t len) { return pv_mk_str(NULL, s, len); }
pyval *pv_new_list(void) { return pv_mk_list(NULL, PV_LIST, 0); }
pyval *pv_new_dict(void) { return pv_mk_dict(NULL, PV_DICT); }

int pv_is_str(const pyval *v) { return v && v->type == PV_STR; }

const char *pv_str_value(const pyval *v, size_t *len)
{
    if (!v || v->type != PV_STR)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

int64_t pv_int_value(const pyval *v)
{
    if (v->type == PV_BOOL)
        return v->u.b;
    if (v->type == PV_INT && !v->big)
        return v->u.i;
    return 0;
}

double pv_float_value(const pyval *v)
{
    if (v->type == PV_FLOAT)
        return v->u.f;
    if (v->type == PV_INT && v->big)
        return strtod(v->u.str.s, NULL);
    return (double)pv_int_value(v);
}

size_t pv_list_len(const pyval *v)
{
    return (v->type == PV_LIST || v->type == PV_TUPLE) ? v->u.list.len : 0;
}

pyval *pv_list_get(const pyval *v, size_t i)
{
    if ((v->type != PV_LIST && v->type != PV_TUPLE) || i >= v->u.list.len)
        return NULL;
    return v->u.list.items[i];
}

int pv_list_append(pyval *list, pyval *item)
{
    if (!list || !item || list->type != PV_LIST || list->immortal) {
        pv_free(item);
        return -1;
    }
    if (pv_list_push(NULL, list, item) < 0) {
        pv_free(item);
        return -1;
    }
    return 0;
}

size_t pv_dict_len(const pyval *v)
{
    return (v->type == PV_DICT || v->type == PV_NAMESPACE) ? v->u.dict.len : 0;
}

pyval *pv_dict_get(const pyval *d, const char *key)
{
    if (!d || d->type != PV_DICT)
        return NULL;
    return pv_dict_find_str(d, key, strlen(key));
}

int pv_dict_set(pyval *d, const char *key, pyval *value)
{
    if (!d || !value || d->type != PV_DICT || d->immortal) {
        pv_free(value);
        return -1;
    }
    size_t klen = strlen(key);
    for (size_t i = 0; i < d->u.dict.len; i++) {
        pyval *k = d->u.dict.e[i].key;
        if (k->type == PV_STR && k->u.str.len == klen && memcmp(k->u.str.s, key, klen) == 0) {
            pv_free(d->u.dict.e[i].value);
            d->u.dict.e[i].value = value;
            return 0;
        }
    }
    pyval *k = pv_new_str(key, klen);
    if (!k || dict_push(NULL, d, k, value) < 0) {
        pv_free(k);
        pv_free(value);
        return -1;
    }
    return 0;
}

pyval *pv_dict_key_at(const pyval *d, size_t i)
{
    return i < pv_dict_len(d) ? d->u.dict.e[i].key : NULL;
}

pyval *pv_dict_value_at(const pyval *d, size_t i)
{
    return i < pv_dict_len(d) ? d->u.dict.e[i].value : NULL;
}

/* ---------------- JSON ---------------- */

typedef struct {
    const char *s, *start;
    const char *end;
    int depth;
    t0_error *err;
} jparse;

static pyval *json_fail(jparse *p, const char *what)
{
    t0_fail(p->err, T0_EINPUT, "column %zu: %s", (size_t)(p->s - p->start) + 1, what);
    return NULL;
}

static void json_ws(jparse *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static pyval *json_string(jparse *p)
{
    p->s++; /* opening quote */
    /* fast path: no escapes, so the value is the bytes between the quotes */
    const char *q = p->s;
    while (q < p->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) {
        if ((unsigned char)*q < 0x80) {
            q++;
            continue;
        }
        uint32_t cp;
        size_t n = t0_utf8_decode(q, (size_t)(p->end - q), &cp);
        if (!n)
            break;
        q += n;
    }
    if (q < p->end && *q == '"') {
        pyval *v = pv_mk_str(NULL, p->s, (size_t)(q - p->s));
        p->s = q + 1;
        return v ? v : json_fail(p, "out of memory");
    }
    t0_buf b = {0};
    while (1) {
        if (p->s >= p->end) {
            t0_buf_free(&b);
            return json_fail(p, "unterminated string");
        }
        const char *run = p->s;
        while (p->s < p->end && *p->s != '"' && *p->s != '\\' && (unsigned char)*p->s >= 0x20 &&
               (unsigned char)*p->s < 0x80)
            p->s++;
        t0_buf_add(&b, run, (size_t)(p->s - run));
        if (p->s >= p->end)
            continue;
        unsigned char c = (unsigned char)*p->s;
        if (c == '"') {
            p->s++;
            break;
        }
        if (c < 0x20) {
            t0_buf_free(&b);
            return json_fail(p, "control character in string");
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = t0_utf8_decode(p->s, (size_t)(p->end - p->s), &cp);
            if (!n) {
                t0_buf_free(&b);
                return json_fail(p, "invalid UTF-8");
            }
            t0_buf_add(&b, p->s, n);
            p->s += n;
            continue;
        }
        /* backslash */
        if (p->s + 1 >= p->end) {
            t0_buf_free(&b);
            return json_fail(p, "unterminated string");
        }
        char e = p->s[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            t0_buf_add(&b, &map[simple - "\"\\/bfnrt"], 1);
            p->s += 2;
            continue;
        }
        uint32_t cp, lo;
        if (e != 'u' || p->end - p->s < 6 || hex4(p->s + 2, &cp) < 0) {
            t0_buf_free(&b);
            return json_fail(p, "invalid escape in string");
        }
        p->s += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u' || hex4(p->s + 2, &lo) < 0 ||
                lo < 0xDC00 || lo > 0xDFFF) {
                t0_buf_free(&b);
                return json_fail(p, "lone surrogate in string");
            }
            p->s += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            t0_buf_free(&b);
            return json_fail(p, "lone surrogate in string");
        }
        char tmp[4];
        t0_buf_add(&b, tmp, t0_utf8_encode(cp, tmp));
    }
    if (b.failed) {
        t0_buf_free(&b);
        return json_fail(p, "out of memory");
    }
    pyval *v = pv_mk_str(NULL, b.p ? b.p : "", b.len);
    t0_buf_free(&b);
    return v ? v : json_fail(p, "out of memory");
}

static pyval *json_number(jparse *p)
{
    const char *s = p->s;
    int is_float = 0;
    if (*p->s == '-')
        p->s++;
    if (p->s < p->end && *p->s == 'I') {
        if (p->end - p->s >= 8 && memcmp(p->s, "Infinity", 8) == 0) {
            p->s += 8;
            return pv_mk_float(NULL, *s == '-' ? -INFINITY : INFINITY);
        }
        return json_fail(p, "invalid number");
    }
    if (p->s >= p->end || *p->s < '0' || *p->s > '9')
        return json_fail(p, "invalid number");
    if (*p->s == '0')
        p->s++;
    else
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    if (p->s < p->end && *p->s == '.') {
        is_float = 1;
        p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            return json_fail(p, "invalid number");
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
        is_float = 1;
        p->s++;
        if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
            p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            return json_fail(p, "invalid number");
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
            p->s++;
    }
    size_t n = (size_t)(p->s - s);
    char small[64];
    char *tmp = n < sizeof small ? small : malloc(n + 1);
    if (!tmp)
        return json_fail(p, "out of memory");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    pyval *v;
    if (is_float) {
        v = pv_mk_float(NULL, strtod(tmp, NULL));
    } else {
        errno = 0;
        long long i = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) {
            v = pv_mk_str(NULL, tmp, n);
            if (v) {
                v->type = PV_INT;
                v->big = 1;
            }
        } else {
            v = pv_mk_int(NULL, (int64_t)i);
        }
    }
    if (tmp != small)
        free(tmp);
    return v ? v : json_fail(p, "out of memory");
}

static pyval *json_value(jparse *p);

static pyval *json_array(jparse *p)
{
    p->s++;
    pyval *list = pv_new_list();
    if (!list)
        return json_fail(p, "out of memory");
    json_ws(p);
    if (p->s < p->end && *p->s == ']') {
        p->s++;
        return list;
    }
    while (1) {
        pyval *item = json_value(p);
        if (!item || pv_list_append(list, item) < 0) {
            pv_free(list);
            return item ? json_fail(p, "out of memory") : NULL;
        }
        json_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == ']') {
            p->s++;
            return list;
        }
        pv_free(list);
        return json_fail(p, "expected ',' or ']'");
    }
}

static pyval *json_object(jparse *p)
{
    p->s++;
    pyval *d = pv_new_dict();
    if (!d)
        return json_fail(p, "out of memory");
    json_ws(p);
    if (p->s < p->end && *p->s == '}') {
        p->s++;
        return d;
    }
    while (1) {
        json_ws(p);
        if (p->s >= p->end || *p->s != '"') {
            pv_free(d);
            return json_fail(p, "expected a string key");
        }
        pyval *key = json_string(p);
        if (!key) {
            pv_free(d);
            return NULL;
        }
        json_ws(p);
        if (p->s >= p->end || *p->s != ':') {
            pv_free(key);
            pv_free(d);
            return json_fail(p, "expected ':'");
        }
        p->s++;
        pyval *val = json_value(p);
        if (!val) {
            pv_free(key);
            pv_free(d);
            return NULL;
        }
        pv_entry *slot = dict_slot(d, key);
        if (slot) { /* duplicate key: the last value wins, at the first one's place */
            pv_free(key);
            pv_free(slot->value);
            slot->value = val;
        } else if (pv_dict_put(NULL, d, key, val) < 0) {
            pv_free(key);
            pv_free(val);
            pv_free(d);
            return json_fail(p, "out of memory");
        }
        json_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == '}') {
            p->s++;
            return d;
        }
        pv_free(d);
        return json_fail(p, "expected ',' or '}'");
    }
}

static int json_word(jparse *p, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(p->end - p->s) >= n && memcmp(p->s, w, n) == 0) {
        p->s += n;
        return 1;
    }
    return 0;
}

static pyval *json_value(jparse *p)
{
    json_ws(p);
    if (p->s >= p->end)
        return json_fail(p, "unexpected end of input");
    if (++p->depth > 512)
        return json_fail(p, "nesting too deep");
    pyval *v;
    char c = *p->s;
    if (c == '{')
        v = json_object(p);
    else if (c == '[')
        v = json_array(p);
    else if (c == '"')
        v = json_string(p);
    else if (c == '-' || (c >= '0' && c <= '9'))
        v = json_number(p);
    else if (json_word(p, "true"))
        v = PV_TRUE_V;
    else if (json_word(p, "false"))
        v = PV_FALSE_V;
    else if (json_word(p, "null"))
        v = PV_NONE_V;
    else if (json_word(p, "NaN"))
        v = pv_mk_float(NULL, NAN);
    else if (json_word(p, "Infinity"))
        v = pv_mk_float(NULL, INFINITY);
    else
        v = json_fail(p, "unexpected character");
    p->depth--;
    return v;
}

pyval *pv_from_json(const char *json, size_t len, t0_error *err)
{
    jparse p = {json, json, json + len, 0, err};
    pyval *v = json_value(&p);
    if (!v)
        return NULL;
    json_ws(&p);
    if (p.s != p.end) {
        pv_free(v);
        return json_fail(&p, "extra data after the value");
    }
    return v;
}

/* ---------------- str() and repr() ---------------- */

size_t pv_float_repr(double f, char *buf)
{
    if (isnan(f))
        return (size_t)sprintf(buf, "nan");
    if (isinf(f))
        return (size_t)sprintf(buf, f < 0 ? "-inf" : "inf");
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    /* tmp = [-]d[.ddd]e[+-]XX */
    char digits[24];
    size_t nd = 0;
    const char *q = tmp;
    int neg = 0;
    if (*q == '-') {
        neg = 1;
        q++;
    }
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    int exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (exp10 >= -5 + 1 && exp10 < 16) {
        if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int k = 0; k < -exp10 - 1; k++)
                *o++ = '0';
            for (size_t k = 0; k < nd; k++)
                *o++ = digits[k];
        } else {
            for (int k = 0; k <= exp10; k++)
                *o++ = (size_t)k < nd ? digits[k] : '0';
            *o++ = '.';
            if ((size_t)exp10 + 1 < nd)
                for (size_t k = (size_t)exp10 + 1; k < nd; k++)
                    *o++ = digits[k];
            else
                *o++ = '0';
        }
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (size_t k = 1; k < nd; k++)
                *o++ = digits[k];
        }
        o += sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    *o = '\0';
    return (size_t)(o - buf);
}

static int repr_str(t0_buf *b, const char *s, size_t len)
{
    int has_single = memchr(s, '\'', len) != NULL, has_double = memchr(s, '"', len) != NULL;
    char quote = (has_single && !has_double) ? '"' : '\'';
    t0_buf_add(b, &quote, 1);
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F && s[i] != '\\' &&
               s[i] != quote)
            i++;
        t0_buf_add(b, s + run, i - run);
        if (i >= len)
            break;
        uint32_t cp;
        size_t n = ju_decode(s + i, len - i, &cp);
        char esc[16];
        if (cp == '\\' || cp == (uint32_t)quote) {
            esc[0] = '\\';
            esc[1] = (char)cp;
            t0_buf_add(b, esc, 2);
        } else if (cp == '\n') {
            t0_buf_add(b, "\\n", 2);
        } else if (cp == '\r') {
            t0_buf_add(b, "\\r", 2);
        } else if (cp == '\t') {
            t0_buf_add(b, "\\t", 2);
        } else if (cp >= 0x80 && ju_isprintable(cp)) {
            t0_buf_add(b, s + i, n);
        } else if (cp < 0x100) {
            t0_buf_add(b, esc, (size_t)sprintf(esc, "\\x%02x", cp));
        } else if (cp < 0x10000) {
            t0_buf_add(b, esc, (size_t)sprintf(esc, "\\u%04x", cp));
        } else {
            t0_buf_add(b, esc, (size_t)sprintf(esc, "\\U%08x", cp));
        }
        i += n;
    }
    return t0_buf_add(b, &quote, 1);
}

typedef struct {
    const pyval *stack[200];
    int depth;
    t0_error *err;
} reprstate;

static int repr_any(t0_buf *b, const pyval *v, reprstate *st);

static int repr_items(t0_buf *b, const pyval *v, reprstate *st, const char *open, const char *close)
{
    buf_puts(b, open);
    for (size_t i = 0; i < v->u.list.len; i++) {
        if (i)
            t0_buf_add(b, ", ", 2);
        if (repr_any(b, v->u.list.items[i], st) < 0)
            return -1;
    }
    if (v->type == PV_TUPLE && v->u.list.len == 1)
        t0_buf_add(b, ",", 1);
    return buf_puts(b, close);
}

static int repr_dict(t0_buf *b, const pyval *v, reprstate *st)
{
    t0_buf_add(b, "{", 1);
    for (size_t i = 0; i < v->u.dict.len; i++) {
        if (i)
            t0_buf_add(b, ", ", 2);
        if (repr_any(b, v->u.dict.e[i].key, st) < 0)
            return -1;
        t0_buf_add(b, ": ", 2);
        if (repr_any(b, v->u.dict.e[i].value, st) < 0)
            return -1;
    }
    return t0_buf_add(b, "}", 1);
}

static int repr_container(t0_buf *b, const pyval *v, reprstate *st)
{
    for (int k = 0; k < st->depth; k++)
        if (st->stack[k] == v) /* a list that holds itself prints as Python's [...] */
            return buf_puts(b, v->type == PV_LIST ? "[...]" : v->type == PV_TUPLE ? "(...)" : "{...}");
    if (st->depth >= 200)
        return t0_fail(st->err, T0_EINPUT, "maximum recursion depth exceeded while getting the repr");
    st->stack[st->depth++] = v;
    int rc;
    if (v->type == PV_DICT) {
        rc = repr_dict(b, v, st);
    } else if (v->type == PV_NAMESPACE) {
        buf_puts(b, "<Namespace ");
        rc = repr_dict(b, v, st);
        t0_buf_add(b, ">", 1);
    } else if (v->type == PV_TUPLE) {
        rc = repr_items(b, v, st, "(", ")");
    } else {
        switch (v->kind) {
        case LK_KEYS: rc = repr_items(b, v, st, "dict_keys([", "])"); break;
        case LK_VALUES: rc = repr_items(b, v, st, "dict_values([", "])"); break;
        case LK_ITEMS: rc = repr_items(b, v, st, "dict_items([", "])"); break;
        case LK_GEN: rc = buf_puts(b, "<generator object>"); break;
        case LK_ZIP: rc = buf_puts(b, "<zip object>"); break;
        default: rc = repr_items(b, v, st, "[", "]"); break;
        }
    }
    st->depth--;
    return rc;
}

/* Decimal digits of i into the end of buf[24]; returns the start. */
static char *int_digits(int64_t i, char *end)
{
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    return p;
}

static int scalar_str(t0_buf *b, const pyval *v)
{
    char tmp[64];
    switch (v->type) {
    case PV_NONE: return buf_puts(b, "None");
    case PV_BOOL: return buf_puts(b, v->u.b ? "True" : "False");
    case PV_INT:
        if (v->big)
            return t0_buf_add(b, v->u.str.s, v->u.str.len);
        {
            char *p = int_digits(v->u.i, tmp + 24);
            return t0_buf_add(b, p, (size_t)(tmp + 24 - p));
        }
    case PV_FLOAT: return t0_buf_add(b, tmp, pv_float_repr(v->u.f, tmp));
    case PV_RANGE:
        if (v->u.range.step == 1)
            return t0_buf_add(b, tmp, (size_t)sprintf(tmp, "range(%lld, %lld)", (long long)v->u.range.start,
                                                         (long long)v->u.range.stop));
        return t0_buf_add(b, tmp, (size_t)sprintf(tmp, "range(%lld, %lld, %lld)", (long long)v->u.range.start,
                                                     (long long)v->u.range.stop, (long long)v->u.range.step));
    case PV_FUNC:
        buf_puts(b, "<built-in method ");
        buf_puts(b, v->u.func.name ? v->u.func.name : "?");
        return buf_puts(b, ">");
    default: return 0;
    }
}

static int repr_any(t0_buf *b, const pyval *v, reprstate *st)
{
    switch (v->type) {
    case PV_UNDEFINED: return buf_puts(b, "Undefined");
    case PV_STR: return repr_str(b, v->u.str.s, v->u.str.len);
    case PV_LIST:
    case PV_TUPLE:
    case PV_DICT:
    case PV_NAMESPACE: return repr_container(b, v, st);
    default: return scalar_str(b, v);
    }
}

static int buf_result(t0_buf *b, int rc, t0_error *err)
{
    if (rc < 0 && !b->failed)
        return -1; /* err already set */
    if (b->failed)
        return t0_fail(err, T0_EINPUT, "string too long");
    return 0;
}

int pv_repr_append(t0_buf *b, const pyval *v, t0_error *err)
{
    reprstate st;
    st.depth = 0;
    st.err = err;
    return buf_result(b, repr_any(b, v, &st), err);
}

int pv_str_append(t0_buf *b, const pyval *v, t0_error *err)
{
    if (v->type == PV_UNDEFINED)
        return buf_result(b, 0, err);
    if (v->type == PV_STR)
        return buf_result(b, t0_buf_add(b, v->u.str.s, v->u.str.len), err);
    return pv_repr_append(b, v, err);
}

static int to_malloced(t0_buf *b, int rc, char **out, size_t *len)
{
    if (rc < 0) {
        t0_buf_free(b);
        *out = NULL;
        return -1;
    }
    if (!b->p && t0_buf_add(b, "", 0) < 0) {
        *out = NULL;
        return -1;
    }
    *out = b->p;
    if (len)
        *len = b->len;
    return 0;
}

int pv_str(const pyval *v, char **out, size_t *len, t0_error *err)
{
    t0_buf b = {0};
    return to_malloced(&b, pv_str_append(&b, v, err), out, len);
}

int pv_repr(const pyval *v, char **out, size_t *len, t0_error *err)
{
    t0_buf b = {0};
    return to_malloced(&b, pv_repr_append(&b, v, err), out, len);
}

/* ---------------- equality and truth ---------------- */

static int is_number(const pyval *v)
{
    return v->type == PV_BOOL || v->type == PV_INT || v->type == PV_FLOAT;
}

static int range_len(const pyval *r, int64_t *n)
{
    int64_t a = r->u.range.start, b = r->u.range.stop, s = r->u.range.step;
    if (s > 0)
        *n = a < b ? (b - a - 1) / s + 1 : 0;
    else
        *n = a > b ? (a - b - 1) / (-s) + 1 : 0;
    return 0;
}

static int equal_depth(const pyval *a, const pyval *b, int depth)
{
    if (a == b)
        return a->type != PV_FLOAT || a->u.f == a->u.f;
    if (depth > 200)
        return 0;
    if (is_number(a) && is_number(b)) {
        if (a->big || b->big) {
            if (a->big && b->big)
                return strcmp(a->u.str.s, b->u.str.s) == 0;
            return 0;
        }
        if (a->type == PV_FLOAT || b->type == PV_FLOAT)
            return pv_float_value(a) == pv_float_value(b);
        return pv_int_value(a) == pv_int_value(b);
    }
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case PV_UNDEFINED:
    case PV_NONE: return 1;
    case PV_STR: return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case PV_LIST:
    case PV_TUPLE:
        if (a->kind != b->kind || a->kind == LK_GEN || a->kind == LK_ZIP || a->u.list.len != b->u.list.len)
            return a->kind == LK_GEN || a->kind == LK_ZIP ? 0 : 0;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!equal_depth(a->u.list.items[i], b->u.list.items[i], depth + 1))
                return 0;
        return 1;
    case PV_DICT:
        if (a->u.dict.len != b->u.dict.len)
            return 0;
        for (size_t i = 0; i < a->u.dict.len; i++) {
            const pyval *other = pv_dict_find(b, a->u.dict.e[i].key);
            if (!other || !equal_depth(a->u.dict.e[i].value, other, depth + 1))
                return 0;
        }
        return 1;
    case PV_RANGE: {
        int64_t na, nb;
        range_len(a, &na);
        range_len(b, &nb);
        if (na != nb)
            return 0;
        if (na == 0)
            return 1;
        if (a->u.range.start != b->u.range.start)
            return 0;
        return na == 1 || a->u.range.step == b->u.range.step;
    }
    default: return 0;
    }
}

int pv_equal(const pyval *a, const pyval *b)
{
    return equal_depth(a, b, 0);
}

int pv_truthy(const pyval *v)
{
    switch (v->type) {
    case PV_UNDEFINED:
    case PV_NONE: return 0;
    case PV_BOOL: return v->u.b;
    case PV_INT: return v->big || v->u.i != 0;
    case PV_FLOAT: return v->u.f != 0.0;
    case PV_STR: return v->u.str.len != 0;
    case PV_LIST:
        if (v->kind == LK_GEN || v->kind == LK_ZIP)
            return 1;
        return v->u.list.len != 0;
    case PV_TUPLE: return v->u.list.len != 0;
    case PV_DICT: return v->u.dict.len != 0;
    case PV_RANGE: {
        int64_t n;
        range_len(v, &n);
        return n != 0;
    }
    default: return 1;
    }
}

size_t pv_str_offset(const pyval *str, size_t i)
{
    if (str->ascii)
        return i;
    const char *s = str->u.str.s;
    size_t len = str->u.str.len, off = 0;
    uint32_t cp;
    while (i > 0 && off < len) {
        off += ju_decode(s + off, len - off, &cp);
        i--;
    }
    return off;
}
