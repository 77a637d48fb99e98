/* pyval.h: Python-like values with Python's str()/repr() semantics, for the Jinja engine
 * and promptsource's Template.apply.
 *
 * OWNERSHIP
 * Two kinds of values exist:
 *  - heap values: made by pv_from_json and the pv_new_* constructors below. Reference
 *    counted (non-atomic: one thread a value). pv_free drops one reference; pv_ref adds one.
 *    Containers own references to their items. Functions that store a value into a
 *    container (pv_list_append, pv_dict_set) STEAL the caller's reference to it.
 *  - render values: made by jinja_render while it runs, bump-allocated in an arena that is
 *    dropped when the render returns. pv_ref/pv_free do nothing on them. They never
 *    escape a render (the output is a plain string).
 * Rendering never modifies the context: a template call that would modify a heap
 * container (`example_list.append(x)` on a field of the example) fails with an error.
 * Lists and dicts the template makes itself (`{% set l = [] %}{{ l.append(x) }}`) can be
 * modified freely.
 *
 * STRINGS are UTF-8, NUL-terminated (the NUL is not counted in the length). Python's len,
 * indexing and slicing count code points; the library does the same.
 * INTS are int64. JSON integers beyond int64 are kept as "big ints": their decimal digits
 * print and compare equal as Python would, and arithmetic on them is an error.
 * DICTS keep insertion order; keys are strings when built from JSON, any scalar otherwise.
 */
#ifndef T0_PYVAL_H
#define T0_PYVAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

typedef enum {
    PV_UNDEFINED, /* jinja2's Undefined: prints "", falsy, iterates empty */
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_FLOAT,
    PV_STR,
    PV_LIST,
    PV_TUPLE,
    PV_DICT,
    PV_RANGE,     /* Python's range object (from the range() global) */
    PV_NAMESPACE, /* jinja2's namespace() */
    PV_FUNC,      /* a global, a bound method, the loop object: render values only */
} pv_type;

typedef struct pyval pyval;

/* Parses one JSON value (e.g. a JSONL line; surrounding whitespace allowed). Ints stay ints,
 * floats floats ("1.0" -> 1.0, 1e5 -> 100000.0), \u escapes incl. surrogate pairs decode
 * to UTF-8 (a lone surrogate is an error). Invalid JSON -> NULL and
 * err "column C: ..." (C counted in bytes from 1). Nesting deeper than 512 is an error. */
pyval *pv_from_json(const char *json, size_t len, t0_error *err);

pyval *pv_ref(pyval *v);   /* returns v */
void pv_free(pyval *v);    /* drops one reference; NULL is fine */

pv_type pv_typeof(const pyval *v);
const char *pv_type_name(const pyval *v); /* Python's type name: "str", "list", "NoneType"... */

/* Constructors (heap values, one reference; NULL on out-of-memory). pv_new_str copies
 * the bytes. */
pyval *pv_new_none(void);
pyval *pv_new_bool(int b);
pyval *pv_new_int(int64_t i);
pyval *pv_new_float(double f);
pyval *pv_new_str(const char *s, size_t len);
pyval *pv_new_list(void);
pyval *pv_new_dict(void);

int pv_is_str(const pyval *v);
const char *pv_str_value(const pyval *v, size_t *len); /* NULL unless a str */
int64_t pv_int_value(const pyval *v);                    /* int or bool; 0 otherwise */
double pv_float_value(const pyval *v);                   /* float, int or bool */

/* Lists (and tuples for the getters). */
size_t pv_list_len(const pyval *v);
pyval *pv_list_get(const pyval *v, size_t i);            /* borrowed; NULL out of range */
int pv_list_append(pyval *list, pyval *item);            /* steals item; 0 or -1 */

/* Dicts. Keys given as C strings look up str keys. */
size_t pv_dict_len(const pyval *v);
pyval *pv_dict_get(const pyval *d, const char *key);     /* borrowed; NULL when absent */
int pv_dict_set(pyval *d, const char *key, pyval *value);/* steals value; replaces in place */
pyval *pv_dict_key_at(const pyval *d, size_t i);         /* i-th key in insertion order, borrowed */
pyval *pv_dict_value_at(const pyval *d, size_t i);       /* i-th value, borrowed */

/* Python str(v) and repr(v): True, None, 1.0, 1e+16, 'it\'s' -> "it's", ['a', 1, None],
 * {'k': 1}. Undefined prints "". *out is malloc'd and NUL-terminated; 0 or -1. */
int pv_str(const pyval *v, char **out, size_t *len, t0_error *err);
int pv_repr(const pyval *v, char **out, size_t *len, t0_error *err);
/* The same, appending to a buffer. */
int pv_str_append(t0_buf *b, const pyval *v, t0_error *err);
int pv_repr_append(t0_buf *b, const pyval *v, t0_error *err);

/* Python's repr of a float (shortest round-trip: 1.0, 0.1, 1e+16, 1e-05, inf, nan);
 * buf needs 32 bytes. Returns the length. */
size_t pv_float_repr(double f, char *buf);

/* Python ==, and Python's truth value (Undefined is false). */
int pv_equal(const pyval *a, const pyval *b);
int pv_truthy(const pyval *v);

#endif
