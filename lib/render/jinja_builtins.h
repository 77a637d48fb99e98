/* jinja_builtins.h: the engine's third layer: jinja2's filters and tests, promptsource's
 * filters, the str/list/dict methods templates call and the globals (range, dict,
 * namespace, zip). Each kind is ONE table of rows (name, function, mode, flags, parameters)
 * in jinja_filters.c or jinja_methods.c: adding a filter is one row and one function. Uses
 * jinja_str.h and jinja_value.h; the walker (jinja.c) calls in through the b_* functions. */
#ifndef T0_JINJA_BUILTINS_H
#define T0_JINJA_BUILTINS_H

#include "render/jinja_str.h"
#include "render/jinja_value.h"

/* A builtin's function: x is the filtered value, the tested value or the method's object;
 * v[] the arguments bound to the row's parameters (NULL when not given); a the arguments as
 * called (for JB_OWN_ARGS rows); mode the row's mode (one function, several names). */
typedef pyval *jb_fn(render *r, pyval *x, pyval **v, jargs *a, int mode);

enum {
    JB_OWN_ARGS = 1,   /* the function reads a itself; params unused */
    JB_UNDEFINED = 2,  /* filter: takes a strict undefined (default) */
    JB_NEEDS_ARG = 4,  /* test: needs one argument, given in v[0] */
    JB_MUTATES = 8,    /* method: modifies its object, refused on the example's own values */
};

#define JB_MAX_PARAMS 4
typedef struct {
    const char *name;
    jb_fn *fn; /* NULL: a name Python has that is not supported here */
    int mode;
    int flags;
    const char *params[JB_MAX_PARAMS + 1]; /* bound in order into v[]; none: takes no arguments */
} jbuiltin;

/* The row named name (len bytes) in table (ended by a row without name), or NULL. */
const jbuiltin *jb_find(const jbuiltin *table, const char *name, size_t len);
/* Binds a to the row's parameters and calls it; what ("filter", "method") words the
 * "takes no arguments" error. */
pyval *jb_apply(render *r, const jbuiltin *b, pyval *x, jargs *a, const char *what);

/* jinja_filters.c. The parser looks rows up once (b_find_*: NULL when there is no such
 * name, an error when rendered); b_filter_row/b_test_row apply one (f NULL: that error). */
const jbuiltin *b_find_filter(const char *name);
const jbuiltin *b_find_test(const char *name);
pyval *b_filter_row(render *r, const jbuiltin *f, const char *name, pyval *input, jargs *args);
int b_test_row(render *r, const jbuiltin *t, const char *name, pyval *input, jargs *args); /* 1/0, -1 error */

/* jinja_methods.c */
pyval *b_method(render *r, pyval *self, const char *name, size_t len); /* bound method or NULL */
pyval *b_call(render *r, pyval *func, jargs *args); /* a global or a bound method */
/* obj[key] with jinja2's fallback to the attribute (a method, or `loop`'s) for a str key. */
pyval *b_getitem(render *r, pyval *obj, pyval *key);

#endif
