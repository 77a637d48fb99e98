/* jinja_internal.h: the top layer of the Jinja engine, shared by the parser (jinja_parse.c)
 * and the walker (jinja.c) and seen by nobody else: the template AST and the loop state.
 * The layers below, each using only those under it: jinja_builtins.h (filters, tests,
 * methods, globals), jinja_str.h (Python's str methods and formatting), jinja_value.h
 * (the render state and operations on values), pyval_internal.h (values), pyunicode.h. */
#ifndef T0_JINJA_INTERNAL_H
#define T0_JINJA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "render/jinja.h"
#include "render/jinja_builtins.h"

/* ---- template AST (jinja_parse.c builds it, jinja.c walks it) ---- */

typedef enum {
    /* statements */
    N_DATA, N_OUTPUT, N_IF, N_FOR, N_SET, N_SETBLOCK,
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE, N_CALL, N_FILTER,
    N_TEST, N_BINOP, N_NEG, N_POS, N_NOT, N_AND, N_OR, N_COMPARE, N_CONDEXPR, N_NSREF
} jnode_kind;

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
    const jbuiltin *builtin; /* N_FILTER, N_TEST: its row, looked up once (NULL: no such name) */
    jnode *next;          /* next statement in a body */
};

struct jinja_template {
    pv_arena *arena; /* every node, name and constant */
    jnode *body;
    int undeclared;  /* reads a variable it does not set and that is no global */
    const char *loop_name; /* the interned "loop" */
};

int jinja_is_global(const char *name);

/* ---- rendering (jinja.c walks the AST) ---- */

/* The state of a for loop, which its `loop` object (a PV_FUNC with id F_LOOP) points to. */
typedef struct {
    pyval **items;
    size_t len, index; /* items kept so far; index: 0-based position of the current item */
    /* filtered loops (for x in y if c): raw items still to test */
    pyval **raw;
    size_t nraw, pos, outer_nvars;
    jnode *cond, *target;
    int done;
} jloop;

#endif
