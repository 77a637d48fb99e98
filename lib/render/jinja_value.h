/* jinja_value.h: the bottom layer of the Jinja engine: the render state and the operations
 * on values a template's expressions need (Python's str(), truth, iteration, len, ordering,
 * `in`, subscription and slicing, arithmetic), with jinja2's undefined and the render's
 * limits. No attribute or method lookup and no `%` formatting: those need the builtins,
 * which sit above (jinja_str.h, jinja_builtins.h; the walker, jinja.c, ties them together).
 * Everything reports errors through rfail: a NULL or -1 return has the message set. */
#ifndef T0_JINJA_VALUE_H
#define T0_JINJA_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "render/pyval.h"
#include "render/pyval_internal.h"

#define J_MAX_DEPTH 200
#define J_MAX_ITER 10000000ULL /* loop iterations plus items scanned, a render */
#define J_MAX_SIZE ((size_t)64 << 20)

/* Binary and comparison operators. */
typedef enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN
} jop;

/* builtin ids: PV_FUNC values carry one */
enum {
    F_NONE, F_LOOP, F_RANGE, F_DICT, F_NAMESPACE, F_ZIP, F_LOOP_CYCLE, F_LOOP_CHANGED, F_METHOD,
};

typedef struct {
    const char *name; /* interned name (pointer identity) */
    pyval *value;
} jvar;

typedef struct render render;
struct render {
    pv_arena *a;
    const pyval *ctx;
    jvar *vars;
    size_t nvars, cap;
    int vars_on_stack;
    uint64_t rng;
    int strict;
    unsigned *undefined_printed; /* jinja_options': NULL, or counts undefined values printed as "" */
    t0_buf out;
    t0_error *err;
    unsigned long long iterations;
    int depth, line;
    size_t frame;          /* first variable of the innermost scope (a loop iteration) */
    const char *loop_name; /* the template's interned "loop" */
    /* The attributes of a `loop` object: the walker's, since a filtered loop's length runs
     * its condition. Set by jinja_render; the builtins reach `loop` items through it. */
    pyval *(*loop_attr)(render *r, pyval *loop, const char *name);
};

/* jinja_options.strict makes using an undefined value an error (jinja2's StrictUndefined),
 * except the undefined of an inline if without else, which jinja2 always makes lenient
 * (kind 1). */
#define STRICT_UNDEF(r, v) ((r)->strict && (v)->type == PV_UNDEFINED && (v)->kind == 0)

/* Arguments of a call, a filter or a test. */
#define JARGS_INLINE 6
typedef struct {
    pyval **pos;
    int npos;
    const char **kwnames;
    pyval **kwvals;
    int nkw;
    /* storage for calls with few arguments (no allocation in the hot path) */
    pyval *pos_buf[JARGS_INLINE], *kwval_buf[JARGS_INLINE];
    const char *kwname_buf[JARGS_INLINE];
} jargs;

/* The render's random generator (declared for callers in jinja.h). */
uint64_t jinja_splitmix64(uint64_t *state);

/* ---- errors and making values ---- */
void *rfail(render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *r_oom(render *r);
void *r_undefined_error(render *r, const pyval *v); /* fails with the undefined's message */
pyval *r_undef(render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
pyval *r_str(render *r, const char *s, size_t len);
pyval *r_list(render *r, pv_type t, size_t cap);
int r_push(render *r, pyval *list, pyval *item);
pyval *r_int(render *r, int64_t i);
pyval *r_float(render *r, double f);
pyval *r_buf_to_str(render *r, t0_buf *b); /* frees b */
/* Counts n units of work (loop iterations, items scanned) against J_MAX_ITER; -1 past it. */
int r_work(render *r, size_t n);

/* ---- arguments ---- */
/* Binds call arguments to parameter slots; a last parameter "*" collects extra positionals. */
int r_bind(render *r, const char *fname, jargs *a, const char *const *params, pyval **slots);
int r_need_int(render *r, pyval *v, const char *what, int64_t *out);
pyval *r_need_str(render *r, pyval *v, const char *what);

/* ---- Python's operations ---- */
pyval *r_tostr(render *r, pyval *v);                      /* Python str(v) as a str value */
/* an undefined variable printed as "" (jinja2's lenient default) is counted, not the undefined
 * of an inline if without else, which jinja2 prints as "" by design */
void r_count_undefined_printed(render *r, const pyval *v);
int r_truthy(render *r, pyval *v);                        /* -1 error (strict undefined) */
int r_is_num(const pyval *v);                             /* bool, int or float, not a big int */
int r_iterate(render *r, pyval *v, pyval ***items, size_t *n);
int r_len(render *r, pyval *v, int64_t *n);
int r_compare(render *r, const pyval *a, const pyval *b, int *cmp); /* -1/0/1, 2 unordered; error if unorderable */
int r_contains(render *r, pyval *container, pyval *item); /* 1/0, -1 error */
/* obj[key] (key may be eval's slice marker): 1 and *out, 0 when Python would look for an
 * attribute instead (jinja2's fallback, the builtins' b_getitem), -1 error. */
int r_subscript(render *r, pyval *obj, pyval *key, pyval **out);
pyval *r_binop(render *r, int op, pyval *a, pyval *b); /* str % args: js_mod, above */
pyval *r_unary(render *r, int negate, pyval *a);     /* -a or +a */
/* Stable sort of items by Python's ordering of keys (moved along); reverse keeps equal
 * items in order. */
int r_sort(render *r, pyval **items, pyval **keys, size_t n, int reverse);

#endif
