/* jinja_str.h: the engine's second layer: Python's str methods and formatting on str values
 * (split, strip, replace, find, join, case mappings by Unicode tables, int()/float() parsing,
 * printf-style "%" and str.format). Uses only jinja_value.h; the method tables that name
 * these for templates are the builtins' (jinja_methods.c). */
#ifndef T0_JINJA_STR_H
#define T0_JINJA_STR_H

#include "render/jinja_value.h"

pyval *js_strip(render *r, pyval *s, pyval *chars, int which); /* 1 left, 2 right, 3 both */
pyval *js_case(render *r, pyval *s, int mode);                 /* 0 lower 1 upper 2 capitalize 3 title */
pyval *js_replace(render *r, pyval *s, pyval *old, pyval *new, int64_t count);
pyval *js_split(render *r, pyval *s, pyval *sep, int64_t maxsplit, int from_right);
pyval *js_splitlines(render *r, pyval *s);
int64_t js_find(render *r, pyval *s, pyval *sub, pyval *start, pyval *end, int rev); /* -2 error */
int64_t js_count(const pyval *s, const pyval *sub); /* non-overlapping occurrences */
int js_affix(render *r, pyval *s, pyval *fix, int end, int *ok);
pyval *js_join(render *r, pyval *sep, pyval *seq, int convert);

/* str.isX(): what every character must be (Python's rules; lower/upper also need a cased one). */
typedef enum { JS_DIGIT, JS_ALPHA, JS_ALNUM, JS_SPACE, JS_ASCII, JS_LOWER, JS_UPPER } js_class;
int js_is(const pyval *s, js_class c);

/* int()/float() of a str: 0, -1 not a number, -2 (int) too large. */
int js_clean_number(const pyval *s, char *buf, size_t cap);
int js_parse_int(const pyval *s, int64_t *out);
int js_parse_float(const pyval *s, double *out);

pyval *js_format_percent(render *r, pyval *fmt, pyval *args); /* Python's "..." % args */
pyval *js_format_dot(render *r, pyval *fmt, jargs *a);        /* "...".format(*pos, **kw) */
/* Python's a % b: printf-style formatting when a is a str, else r_binop's modulo. */
pyval *js_mod(render *r, pyval *a, pyval *b);

#endif
