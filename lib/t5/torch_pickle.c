/* torch_pickle.c: the restricted unpickler torch_pickle.h describes. Values live in
 * blocks freed together at the end; containers hold pointers, so a list may hold itself
 * and nothing ever walks a structure recursively. */
#include "t5/torch_pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR } vkind;

/* The globals a state dict may name. */
typedef enum { G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_REBUILD_PARAMETER_STATE, G_STORAGE } gkind;

static const struct {
    const char *name;      /* torch.<name> */
    const char *dtype;
    int size;
} STORAGES[] = {
    {"FloatStorage", "F32", 4}, {"HalfStorage", "F16", 2}, {"BFloat16Storage", "BF16", 2},
    {"DoubleStorage", "F64", 8}, {"LongStorage", "I64", 8}, {"IntStorage", "I32", 4},
    {"ShortStorage", "I16", 2}, {"CharStorage", "I8", 1},  {"ByteStorage", "U8", 1},
    {"BoolStorage", "BOOL", 1}, {"UntypedStorage", "U8", 1},
};

typedef struct value value;
struct value {
    vkind kind;
    int64_t i;            /* INT, BOOL; GLOBAL: gkind; TENSOR: index in the loader's tensors */
    int storage;          /* GLOBAL G_STORAGE and STORAGE: index in STORAGES */
    const uint8_t *s;     /* STR (UTF-8 bytes in the pickle), STORAGE: its key */
    uint32_t slen;
    uint64_t numel;       /* STORAGE */
    value **items;        /* TUPLE, LIST; DICT: key, value, key, value ... */
    size_t n, cap;
};

#define BLOCK 1024
typedef struct block {
    struct block *next;
    value v[BLOCK];
} block;

typedef struct {
    const uint8_t *p;
    size_t len, pos, op_at; /* op_at: where the current opcode starts, for messages */
    const char *what;
    t0_error *err;
    block *blocks;
    int used;               /* values used in the newest block */
    size_t objects;         /* values, items and memo entries so far */
    value **stack;
    size_t sp, stack_cap;
    size_t marks[TP_MAX_MARKS];
    int nmarks;
    value **memo;
    size_t nmemo, memo_cap;
    tp_tensor *tensors;
    int ntensors, tensors_cap;
} loader;

__attribute__((format(printf, 2, 3))) static int fail(loader *L, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return t0_fail(L->err, T0_EINPUT, "%s: data.pkl: byte %zu: %s", L->what, L->op_at, msg);
}

static int oom(loader *L)
{
    return t0_fail(L->err, T0_EINTERNAL, "%s: out of memory", L->what);
}

static int count_objects(loader *L, size_t k)
{
    L->objects += k;
    if (L->objects > TP_MAX_OBJECTS)
        return fail(L, "more than %d objects: not a state dict", TP_MAX_OBJECTS);
    return 0;
}

static value *new_value(loader *L, vkind kind)
{
    if (count_objects(L, 1))
        return NULL;
    if (!L->blocks || L->used == BLOCK) {
        block *b = malloc(sizeof *b);
        if (!b) {
            oom(L);
            return NULL;
        }
        b->next = L->blocks;
        L->blocks = b;
        L->used = 0;
    }
    value *v = &L->blocks->v[L->used++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

static int push(loader *L, value *v)
{
    if (!v)
        return -1;
    if (L->sp == L->stack_cap) {
        if (L->sp >= TP_MAX_STACK)
            return fail(L, "stack deeper than %d entries", TP_MAX_STACK);
        size_t cap = L->stack_cap ? 2 * L->stack_cap : 256;
        value **s = realloc(L->stack, cap * sizeof *s);
        if (!s)
            return oom(L);
        L->stack = s;
        L->stack_cap = cap;
    }
    L->stack[L->sp++] = v;
    return 0;
}

/* The stack's floor: the last MARK, or 0. */
static size_t floor_of(const loader *L)
{
    return L->nmarks ? L->marks[L->nmarks - 1] : 0;
}

static value *pop(loader *L)
{
    if (L->sp <= floor_of(L)) {
        fail(L, "stack underflow");
        return NULL;
    }
    return L->stack[--L->sp];
}

static value *top(loader *L)
{
    if (L->sp <= floor_of(L)) {
        fail(L, "stack underflow");
        return NULL;
    }
    return L->stack[L->sp - 1];
}

static int append_items(loader *L, value *c, value *const *items, size_t k)
{
    if (count_objects(L, k))
        return -1;
    if (c->n + k > c->cap) {
        size_t cap = c->cap ? c->cap : 4;
        while (cap < c->n + k)
            cap *= 2;
        value **it = realloc(c->items, cap * sizeof *it);
        if (!it)
            return oom(L);
        c->items = it;
        c->cap = cap;
    }
    memcpy(c->items + c->n, items, k * sizeof *items);
    c->n += k;
    return 0;
}

/* ---- reading the opcode arguments ---- */

static const uint8_t *take(loader *L, size_t k)
{
    if (L->len - L->pos < k) {
        fail(L, "truncated (%zu more bytes needed)", k);
        return NULL;
    }
    const uint8_t *p = L->p + L->pos;
    L->pos += k;
    return p;
}

static int read_uint(loader *L, int bytes, uint64_t *out)
{
    const uint8_t *p = take(L, (size_t)bytes);
    if (!p)
        return -1;
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    *out = v;
    return 0;
}

/* A text line of GLOBAL, without its newline. */
static const uint8_t *read_line(loader *L, uint32_t *n)
{
    const uint8_t *start = L->p + L->pos, *nl = memchr(start, '\n', L->len - L->pos);
    if (!nl) {
        fail(L, "GLOBAL without its newline");
        return NULL;
    }
    *n = (uint32_t)(nl - start);
    L->pos += *n + 1u;
    return start;
}

/* ---- globals ---- */

static int is(const uint8_t *s, uint32_t n, const char *lit)
{
    return n == strlen(lit) && !memcmp(s, lit, n);
}

/* A printable copy of s for messages. */
static void printable(char *dst, size_t size, const uint8_t *s, uint32_t n)
{
    size_t k = 0;
    for (uint32_t i = 0; i < n && k + 1 < size; i++)
        dst[k++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    dst[k] = '\0';
}

static int push_global(loader *L, const uint8_t *mod, uint32_t mlen, const uint8_t *name, uint32_t nlen)
{
    int g = -1, storage = 0;
    if (is(mod, mlen, "collections") && is(name, nlen, "OrderedDict"))
        g = G_ORDERED_DICT;
    else if (is(mod, mlen, "torch._utils") && is(name, nlen, "_rebuild_tensor_v2"))
        g = G_REBUILD_TENSOR_V2;
    else if (is(mod, mlen, "torch._utils") && is(name, nlen, "_rebuild_parameter"))
        g = G_REBUILD_PARAMETER;
    else if (is(mod, mlen, "torch._utils") && is(name, nlen, "_rebuild_parameter_with_state"))
        g = G_REBUILD_PARAMETER_STATE;
    else if (is(mod, mlen, "torch"))
        for (size_t i = 0; i < sizeof STORAGES / sizeof STORAGES[0]; i++)
            if (is(name, nlen, STORAGES[i].name)) {
                g = G_STORAGE;
                storage = (int)i;
            }
    if (g < 0) {
        char m[64], n[64], both[132];
        printable(m, sizeof m, mod, mlen);
        printable(n, sizeof n, name, nlen);
        snprintf(both, sizeof both, "%s.%s", m, n);
        return fail(L, "GLOBAL %s is not allowed (a state dict names tensors and storages only; in Python this "
                       "pickle could run code)", both);
    }
    value *v = new_value(L, V_GLOBAL);
    if (!v)
        return -1;
    v->i = g;
    v->storage = storage;
    return push(L, v);
}

static int op_global(loader *L)
{
    uint32_t ml, nl;
    const uint8_t *mod = read_line(L, &ml), *name = mod ? read_line(L, &nl) : NULL;
    return name ? push_global(L, mod, ml, name, nl) : -1;
}

static int op_stack_global(loader *L)
{
    value *name = pop(L), *mod = name ? pop(L) : NULL;
    if (!mod)
        return -1;
    if (mod->kind != V_STR || name->kind != V_STR)
        return fail(L, "STACK_GLOBAL of something other than two strings");
    return push_global(L, mod->s, mod->slen, name->s, name->slen);
}

/* ---- containers ---- */

static value *new_container(loader *L, vkind kind, value *const *items, size_t k)
{
    value *v = new_value(L, kind);
    if (v && k && append_items(L, v, items, k))
        return NULL;
    return v;
}

/* Pops everything above the last MARK, and the MARK. */
static int pop_mark(loader *L, size_t *from)
{
    if (!L->nmarks)
        return fail(L, "no MARK to end");
    *from = L->marks[--L->nmarks];
    return 0;
}

static int op_tuple_mark(loader *L)
{
    size_t from = 0;
    if (pop_mark(L, &from))
        return -1;
    value *t = new_container(L, V_TUPLE, L->stack + from, L->sp - from);
    L->sp = from;
    return push(L, t);
}

static int op_tuple_n(loader *L, size_t k)
{
    if (L->sp - floor_of(L) < k)
        return fail(L, "stack underflow");
    value *t = new_container(L, V_TUPLE, L->stack + L->sp - k, k);
    L->sp -= k;
    return push(L, t);
}

/* APPEND(S), SETITEM(S): the items above the mark (or the last 1 or 2) into the container below them. */
static int add_to(loader *L, int marked, size_t k, vkind want, const char *opname)
{
    size_t from = 0;
    if (marked) {
        if (pop_mark(L, &from))
            return -1;
    } else {
        if (L->sp - floor_of(L) < k + 1)
            return fail(L, "stack underflow");
        from = L->sp - k;
    }
    if (from == 0 || from <= floor_of(L))
        return fail(L, "%s with no container below", opname);
    value *c = L->stack[from - 1];
    size_t n = L->sp - from;
    if (c->kind != want || (want == V_DICT && n % 2))
        return fail(L, "%s on something that is not a %s", opname, want == V_DICT ? "dict" : "list");
    if (append_items(L, c, L->stack + from, n))
        return -1;
    L->sp = from;
    return 0;
}

/* ---- memo ---- */

static int memo_put(loader *L, uint64_t idx)
{
    value *v = top(L);
    if (!v)
        return -1;
    if (idx > L->nmemo)
        return fail(L, "memo index %llu out of range (the memo holds %zu)", (unsigned long long)idx, L->nmemo);
    if (idx < L->nmemo) {
        L->memo[idx] = v;
        return 0;
    }
    if (count_objects(L, 1))
        return -1;
    if (L->nmemo == L->memo_cap) {
        size_t cap = L->memo_cap ? 2 * L->memo_cap : 256;
        value **m = realloc(L->memo, cap * sizeof *m);
        if (!m)
            return oom(L);
        L->memo = m;
        L->memo_cap = cap;
    }
    L->memo[L->nmemo++] = v;
    return 0;
}

static int memo_get(loader *L, uint64_t idx)
{
    if (idx >= L->nmemo)
        return fail(L, "memo index %llu was never put (the memo holds %zu)", (unsigned long long)idx, L->nmemo);
    return push(L, L->memo[idx]);
}

/* ---- persistent ids, tensors ---- */

static int as_uint(const value *v, uint64_t *out)
{
    if (v->kind != V_INT || v->i < 0)
        return -1;
    *out = (uint64_t)v->i;
    return 0;
}

/* ('storage', STORAGE_TYPE, key, location, numel) */
static int op_persid(loader *L)
{
    value *pid = pop(L);
    if (!pid)
        return -1;
    value *const *it = pid->items;
    uint64_t numel;
    if (pid->kind != V_TUPLE || pid->n != 5 || it[0]->kind != V_STR || !is(it[0]->s, it[0]->slen, "storage") ||
        it[1]->kind != V_GLOBAL || it[1]->i != G_STORAGE || it[2]->kind != V_STR || it[3]->kind != V_STR ||
        as_uint(it[4], &numel))
        return fail(L, "persistent id is not ('storage', type, key, location, numel)");
    if (!it[2]->slen || it[2]->slen > 64 || memchr(it[2]->s, 0, it[2]->slen) || memchr(it[2]->s, '/', it[2]->slen))
        return fail(L, "storage key is not a file name");
    value *s = new_value(L, V_STORAGE);
    if (!s)
        return -1;
    s->storage = it[1]->storage;
    s->s = it[2]->s;
    s->slen = it[2]->slen;
    s->numel = numel;
    return push(L, s);
}

/* A tuple of at most TP_MAX_DIMS non-negative ints. */
static int int_tuple(const value *v, int64_t *out, int *n)
{
    if (v->kind != V_TUPLE || v->n > TP_MAX_DIMS)
        return -1;
    for (size_t i = 0; i < v->n; i++) {
        uint64_t x;
        if (as_uint(v->items[i], &x))
            return -1;
        out[i] = (int64_t)x;
    }
    *n = (int)v->n;
    return 0;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
static value *rebuild_tensor(loader *L, const value *args)
{
    tp_tensor t = {0};
    int nstride = 0;
    value *const *a = args->items;
    if ((args->n != 6 && args->n != 7) || a[0]->kind != V_STORAGE || as_uint(a[1], &t.offset) ||
        int_tuple(a[2], t.shape, &t.ndim) || int_tuple(a[3], t.stride, &nstride) || nstride != t.ndim ||
        a[4]->kind != V_BOOL) {
        fail(L, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, requires_grad, hooks) with "
                "at most %d non-negative dimensions",
             TP_MAX_DIMS);
        return NULL;
    }
    if (L->ntensors == L->tensors_cap) {
        int cap = L->tensors_cap ? 2 * L->tensors_cap : 64;
        tp_tensor *ts = realloc(L->tensors, (size_t)cap * sizeof *ts);
        if (!ts) {
            oom(L);
            return NULL;
        }
        L->tensors = ts;
        L->tensors_cap = cap;
    }
    const value *s = a[0];
    t.dtype = STORAGES[s->storage].dtype;
    t.elem_size = STORAGES[s->storage].size;
    t.storage_numel = s->numel;
    if (!(t.storage_key = strndup((const char *)s->s, s->slen))) {
        oom(L);
        return NULL;
    }
    L->tensors[L->ntensors] = t;
    value *v = new_value(L, V_TENSOR);
    if (v)
        v->i = L->ntensors;
    L->ntensors++; /* its key is freed with the loader either way */
    return v;
}

static int op_reduce(loader *L)
{
    value *args = pop(L), *fn = args ? pop(L) : NULL;
    if (!fn)
        return -1;
    if (fn->kind != V_GLOBAL || args->kind != V_TUPLE)
        return fail(L, "REDUCE of something that is not an allowed global");
    switch ((gkind)fn->i) {
    case G_ORDERED_DICT:
        if (args->n)
            return fail(L, "OrderedDict called with arguments");
        return push(L, new_value(L, V_DICT));
    case G_REBUILD_TENSOR_V2:
        return push(L, rebuild_tensor(L, args));
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_STATE:
        if (args->n < 3 || args->n > 4 || args->items[0]->kind != V_TENSOR)
            return fail(L, "_rebuild_parameter of something that is not a tensor");
        return push(L, args->items[0]);
    default:
        return fail(L, "a storage type called as a function");
    }
}

/* BUILD: only a state dict's _metadata (set on an OrderedDict), which is dropped. */
static int op_build(loader *L)
{
    value *state = pop(L), *obj = state ? top(L) : NULL;
    if (!obj)
        return -1;
    if (obj->kind != V_DICT)
        return fail(L, "BUILD on something that is not an OrderedDict");
    return 0;
}

/* ---- scalars ---- */

static int push_int(loader *L, vkind kind, int64_t i)
{
    value *v = new_value(L, kind);
    if (v)
        v->i = i;
    return push(L, v);
}

static int op_long1(loader *L)
{
    uint64_t n, u = 0;
    if (read_uint(L, 1, &n))
        return -1;
    if (n > 8)
        return fail(L, "LONG1 of %llu bytes: integer too large", (unsigned long long)n);
    if (n && read_uint(L, (int)n, &u))
        return -1;
    if (n && n < 8 && (u >> (8 * n - 1)) & 1) /* negative: sign-extend */
        u |= ~0ull << (8 * n);
    return push_int(L, V_INT, (int64_t)u);
}

static int op_string(loader *L, int lenbytes)
{
    uint64_t n;
    if (read_uint(L, lenbytes, &n))
        return -1;
    const uint8_t *s = take(L, n); /* checked against the bytes left before anything is made */
    value *v = s ? new_value(L, V_STR) : NULL;
    if (!v)
        return -1;
    v->s = s;
    v->slen = (uint32_t)n;
    return push(L, v);
}

/* ---- the loop ---- */

static int op_mark(loader *L)
{
    if (L->nmarks == TP_MAX_MARKS)
        return fail(L, "more than %d nested MARKs", TP_MAX_MARKS);
    L->marks[L->nmarks++] = L->sp;
    return 0;
}

static int op_uint_arg(loader *L, int bytes, int (*fn)(loader *, uint64_t))
{
    uint64_t x;
    return read_uint(L, bytes, &x) ? -1 : fn(L, x);
}

static int op_int(loader *L, int bytes)
{
    uint64_t x;
    if (read_uint(L, bytes, &x))
        return -1;
    return push_int(L, V_INT, bytes == 4 ? (int64_t)(int32_t)(uint32_t)x : (int64_t)x);
}

static int op_float(loader *L)
{
    if (!take(L, 8))
        return -1;
    return push(L, new_value(L, V_FLOAT)); /* its value is never needed */
}

static int op_proto(loader *L)
{
    uint64_t v;
    if (read_uint(L, 1, &v))
        return -1;
    return v >= 2 && v <= 5 ? 0 : fail(L, "pickle protocol %llu (torch.save writes 2)", (unsigned long long)v);
}

/* One opcode; 1 at STOP. */
static int step(loader *L)
{
    uint64_t skip;
    L->op_at = L->pos;
    const uint8_t *op = take(L, 1);
    if (!op)
        return -1;
    switch (*op) {
    case 0x80: return op_proto(L);
    case 0x95: return read_uint(L, 8, &skip); /* FRAME: a length hint */
    case '.': return 1;
    case '(': return op_mark(L);
    case '}': return push(L, new_value(L, V_DICT));
    case ']': return push(L, new_value(L, V_LIST));
    case ')': return push(L, new_value(L, V_TUPLE));
    case 't': return op_tuple_mark(L);
    case 0x85: return op_tuple_n(L, 1);
    case 0x86: return op_tuple_n(L, 2);
    case 0x87: return op_tuple_n(L, 3);
    case 'a': return add_to(L, 0, 1, V_LIST, "APPEND");
    case 'e': return add_to(L, 1, 0, V_LIST, "APPENDS");
    case 's': return add_to(L, 0, 2, V_DICT, "SETITEM");
    case 'u': return add_to(L, 1, 0, V_DICT, "SETITEMS");
    case 'N': return push(L, new_value(L, V_NONE));
    case 0x88: return push_int(L, V_BOOL, 1);
    case 0x89: return push_int(L, V_BOOL, 0);
    case 'J': return op_int(L, 4);
    case 'K': return op_int(L, 1);
    case 'M': return op_int(L, 2);
    case 0x8a: return op_long1(L);
    case 'G': return op_float(L);
    case 'X': return op_string(L, 4);
    case 0x8c: return op_string(L, 1);
    case 'c': return op_global(L);
    case 0x93: return op_stack_global(L);
    case 'R': return op_reduce(L);
    case 'b': return op_build(L);
    case 'Q': return op_persid(L);
    case 'q': return op_uint_arg(L, 1, memo_put);
    case 'r': return op_uint_arg(L, 4, memo_put);
    case 0x94: return memo_put(L, L->nmemo);
    case 'h': return op_uint_arg(L, 1, memo_get);
    case 'j': return op_uint_arg(L, 4, memo_get);
    default: {
        char c[2] = {(char)(*op >= 0x20 && *op < 0x7f ? *op : '?'), 0};
        return fail(L, "opcode '%s' (0x%02x) is not one a state dict needs", c, *op);
    }
    }
}

/* The final value: a dict of string keys to tensors, into sd. */
static int collect(loader *L, tp_state_dict *sd)
{
    value *d = L->sp == 1 && !L->nmarks ? L->stack[0] : NULL;
    if (!d || d->kind != V_DICT)
        return fail(L, "the pickle is not a dict of tensors (a state dict)");
    if (!(sd->t = calloc(d->n / 2 + 1, sizeof *sd->t)))
        return oom(L);
    for (size_t i = 0; i < d->n; i += 2) {
        const value *k = d->items[i], *v = d->items[i + 1];
        if (k->kind != V_STR || memchr(k->s, 0, k->slen))
            return fail(L, "a state dict key that is not a string");
        char name[128];
        printable(name, sizeof name, k->s, k->slen);
        if (v->kind != V_TENSOR)
            return fail(L, "state dict entry %s is not a tensor", name);
        tp_tensor *t = &sd->t[sd->n];
        *t = L->tensors[v->i];
        t->name = strndup((const char *)k->s, k->slen);
        t->storage_key = strdup(L->tensors[v->i].storage_key);
        sd->n++;
        if (!t->name || !t->storage_key)
            return oom(L);
    }
    return 0;
}

static void loader_free(loader *L)
{
    for (block *b = L->blocks, *next; b; b = next) {
        next = b->next;
        int used = b == L->blocks ? L->used : BLOCK;
        for (int i = 0; i < used; i++)
            free(b->v[i].items);
        free(b);
    }
    for (int i = 0; i < L->ntensors; i++)
        free(L->tensors[i].storage_key);
    free(L->tensors);
    free(L->stack);
    free(L->memo);
}

void tp_free(tp_state_dict *sd)
{
    for (int i = 0; sd->t && i < sd->n; i++) {
        free(sd->t[i].name);
        free(sd->t[i].storage_key);
    }
    free(sd->t);
    sd->t = NULL;
    sd->n = 0;
}

int tp_load(const uint8_t *pkl, size_t len, const char *what, tp_state_dict *sd, t0_error *err)
{
    loader L = {.p = pkl, .len = len, .what = what, .err = err};
    memset(sd, 0, sizeof *sd);
    int rc;
    while ((rc = step(&L)) == 0)
        ;
    if (rc == 1)
        rc = collect(&L, sd);
    loader_free(&L);
    if (rc)
        tp_free(sd);
    return rc;
}
