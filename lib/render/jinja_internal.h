/* jinja_internal.h: what the jinja_*.c files share and nobody else sees: the AST and the
 * render state. The one dependency cycle in lib/ is here, and it is inherent to an
 * interpreter: the evaluator (jinja.c) calls the builtins (jinja_builtins.c, jinja_str.c),
 * and the builtins call back into the evaluator (filters and methods that take callables,
 * `loop`, `map`, `select`). Values and Unicode come from pyval_internal.h, which knows no
 * Jinja. */
#ifndef T0_JINJA_INTERNAL_H
#define T0_JINJA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "render/jinja.h"
#include "render/pyval.h"
#include "render/pyval_internal.h"

/* ---- template AST (jinja_parse.c builds it, jinja.c walks it) ---- */

typedef enum {
    /* statements */
    N_DATA, N_OUTPUT, N_IF, N_FOR, N_SET, N_SETBLOCK,
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE, N_CALL, N_FILTER,
    N_TEST, N_BINOP, N_NEG, N_POS, N_NOT, N_AND, N_OR, N_COMPARE, N_CONDEXPR, N_NSREF
} jnode_kind;

/* Binary and comparison operators. */
typedef enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN
} jop;

typedef struct jnode jnode;
struct jnode {
    uint8_t kind, op;
    int line;
    jnode *a, *b, *c, *d; /* children; meaning per kind (see jinja_parse.c) */
    jnode **args;         /* list/tuple/dict items, call/filter/test args, compare operands */
    const char **kwnames; /* parallel to args: keyword name or NULL; compare: unused */
    uint8_t *ops;         /* compare: nargs operators */
    int nargs;
    const char *name;     /* interned name: N_NAME, attr of N_GETATTR/N_NSREF, filter/test name */
    size_t namelen;
    pyval *value;         /* N_CONST, N_DATA text */
    jnode *next;          /* next statement in a body */
};

struct jinja_template {
    pv_arena *arena; /* every node, name and constant */
    jnode *body;
    int undeclared;  /* reads a variable it does not set and that is no global */
    const char *loop_name; /* the interned "loop" */
};

int jinja_is_global(const char *name);

/* ---- rendering (jinja.c evaluates, jinja_builtins.c holds filters, tests, methods) ---- */

#define J_MAX_DEPTH 200
#define J_MAX_ITER 10000000ULL /* loop iterations plus items scanned, a render */
#define J_MAX_SIZE ((size_t)64 << 20)

typedef struct {
    const char *name; /* interned name (pointer identity) */
    pyval *value;
} jvar;

typedef struct jnode jnode;
typedef struct {
    pyval **items;
    size_t len, index; /* items kept so far; index: 0-based position of the current item */
    /* filtered loops (for x in y if c): raw items still to test */
    pyval **raw;
    size_t nraw, pos, outer_nvars;
    jnode *cond, *target;
    int done;
} jloop;

typedef struct render {
    pv_arena *a;
    const pyval *ctx;
    jvar *vars;
    size_t nvars, cap;
    int vars_on_stack;
    uint64_t rng;
    int strict;
    unsigned *undefined_printed; /* jinja_options': NULL, or counts undefined values printed as "" */
    pv_buf out;
    t0_error *err;
    unsigned long long iterations;
    int depth, line;
    size_t frame;          /* first variable of the innermost scope (a loop iteration) */
    const char *loop_name; /* the template's interned "loop" */
} render;

/* jinja_options.strict makes using an undefined value an error (jinja2's StrictUndefined),
 * except the undefined of an inline if without else, which jinja2 always makes lenient
 * (kind 1). */
#define STRICT_UNDEF(r, v) ((r)->strict && (v)->type == PV_UNDEFINED && (v)->kind == 0)

/* builtin ids: PV_FUNC values carry one */
enum {
    F_NONE, F_LOOP, F_RANGE, F_DICT, F_NAMESPACE, F_ZIP, F_LOOP_CYCLE, F_LOOP_CHANGED, F_METHOD,
};

void *rfail(render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
pyval *r_str(render *r, const char *s, size_t len);
pyval *r_tostr(render *r, pyval *v);           /* Python str(v) as a str value */
pyval *r_list(render *r, pv_type t, size_t cap);
int r_push(render *r, pyval *list, pyval *item);
int r_iterate(render *r, pyval *v, pyval ***items, size_t *n);
int r_compare(render *r, const pyval *a, const pyval *b, int *cmp); /* -1/0/1; error if unorderable */
pyval *r_getattr(render *r, pyval *obj, const char *name, size_t len);
pyval *r_getitem(render *r, pyval *obj, pyval *key);
pyval *r_binop(render *r, int op, pyval *a, pyval *b);
int r_contains(render *r, pyval *container, pyval *item); /* 1/0, -1 error */
int r_truthy(render *r, pyval *v);                        /* -1 error (strict undefined) */
int r_len(render *r, pyval *v, int64_t *n);
/* Counts n units of work (loop iterations, items scanned) against J_MAX_ITER; -1 past it. */
int r_work(render *r, size_t n);

/* jinja_builtins.c */
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
pyval *b_filter(render *r, const char *name, pyval *input, jargs *args);
int b_test(render *r, const char *name, pyval *input, jargs *args); /* 1/0, -1 error */
int b_has_filter(const char *name);
int b_has_test(const char *name);
pyval *b_method(render *r, pyval *self, const char *name, size_t len); /* bound method or NULL */
pyval *b_call(render *r, pyval *func, jargs *args);
pyval *b_str_format(render *r, pyval *fmt, pyval *args); /* Python's "..." % args */
/* jinja_str.c: helpers shared by the builtins (all report errors through rfail) */
#define IS(a, lit) ((a)[0] == (lit)[0] && !strcmp((a), (lit))) /* name dispatch, first byte first */
pyval *jb_int(render *r, int64_t i);
pyval *jb_float(render *r, double f);
pyval *jb_buf_to_str(render *r, pv_buf *b); /* frees b */
pyval *jb_undef(render *r, const char *msg);
/* Binds call arguments to parameter slots; a last parameter "*" collects extra positionals. */
int jb_bind(render *r, const char *fname, jargs *a, const char *const *params, pyval **slots);
int jb_need_int(render *r, pyval *v, const char *what, int64_t *out);
pyval *jb_need_str(render *r, pyval *v, const char *what);
pyval *js_strip(render *r, pyval *s, pyval *chars, int which);   /* 1 left, 2 right, 3 both */
pyval *js_case(render *r, pyval *s, int mode);                   /* 0 lower 1 upper 2 capitalize 3 title */
pyval *js_replace(render *r, pyval *s, pyval *old, pyval *new, int64_t count);
pyval *js_split(render *r, pyval *s, pyval *sep, int64_t maxsplit, int from_right);
int64_t js_find(render *r, pyval *s, pyval *sub, pyval *start, pyval *end, int rev); /* -2 error */
int js_affix(render *r, pyval *s, pyval *fix, int end, int *ok);
pyval *js_join(render *r, pyval *sep, pyval *seq, int convert);
int js_clean_number(const pyval *s, char *buf, size_t cap);
int js_parse_int(const pyval *s, int64_t *out);
int js_parse_float(const pyval *s, double *out);
pyval *js_call_method(render *r, pyval *s, const char *m, jargs *a);

#endif
