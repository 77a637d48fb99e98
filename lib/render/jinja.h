/* jinja.h: the Jinja engine of t0-render: the subset of jinja2 3.1 that promptsource
 * templates use, with jinja2's output byte for byte.
 *
 * Environment matched: jinja2.Environment(loader=BaseLoader) with promptsource's additions:
 * autoescape off, trim_blocks/lstrip_blocks off, keep_trailing_newline off (one trailing
 * "\n" of the source is dropped), default Undefined (prints "", is false, iterates empty;
 * an attribute or item of it, or calling it, is an error), globals range, dict, namespace,
 * zip; filters (jinja2's) abs attr batch capitalize count d default first float format
 * int join last length list lower map max min random reject rejectattr replace round
 * reverse select selectattr slice sort string sum title trim truncate unique upper wordcount,
 * (promptsource's) choice most_frequent highlight; jinja2's tests.
 * Parse once, render many times: a jinja_template is read-only while rendering, so one
 * template may be rendered from several threads at once (each render has its own arena).
 *
 * DETERMINISTIC RANDOMNESS (choice and random filters)
 * Each render owns one splitmix64 generator whose state starts at opt->seed:
 *     state = state + 0x9E3779B97F4A7C15            (mod 2^64)
 *     z = state
 *     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9      (mod 2^64)
 *     z = (z ^ (z >> 27)) * 0x94D049BB133111EB      (mod 2^64)
 *     draw = z ^ (z >> 31)
 * Each call of `choice(seq)` or `random(seq)` on a non-empty sequence takes the next draw
 * and returns seq[draw % len(seq)] (len in items; in code points for a str). An empty
 * sequence takes no draw (choice: error, as Python's random.choice; random: undefined, as
 * jinja2's). Draws are taken in the order jinja2 evaluates the calls (document order,
 * loops in iteration order). tests/reference/prng.py is the same rule in Python; a Python
 * reference must register its choice/random filters with @jinja2.pass_context, or jinja2
 * folds `["a", "b"] | choice` at compile time and draws before the render does.
 *
 * DIFFERENCES FROM PYTHON (each an error where Python would go on, unless noted): integers
 * are int64 (overflow is an error; JSON big ints print and compare but do no arithmetic);
 * a call that would modify the context (example_list.append) is an error; complex results
 * ((-1) ** 0.5) are an error; str.format takes {} {0} {name} with a simple format spec;
 * generators and bound methods print as "<generator object>" / "<built-in method NAME>"
 * (Python prints an address); macros, call/filter blocks, include/extends, recursive loops
 * and star arguments in calls are not supported (a syntax error), nor is loop.changed.
 *
 * LIMITS (bad input never crashes or hangs; each is an error with a message): template
 * nesting and expression depth 200, value nesting 200, 10,000,000 units of work a render
 * (loop iterations, plus items scanned by `in`, unique, most_frequent, list.index and
 * container comparisons), 64 MiB of output, 64 MiB for any one string or list made while
 * rendering.
 */
#ifndef T0_JINJA_H
#define T0_JINJA_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "render/pyval.h"

typedef struct jinja_template jinja_template;

/* Parses template source. Syntax errors: NULL, err "line L, column C: message"
 * (L and C from 1, C in bytes). */
jinja_template *jinja_parse(const char *src, size_t len, t0_error *err);

typedef struct {
    uint64_t seed; /* seeds `choice` and `random`: see above */
    int strict;    /* 1: using an undefined variable is an error naming it */
    unsigned *undefined_printed; /* non-NULL: counts the undefined values printed as "" (not strict) */
} jinja_options;

/* Renders t with the variables of `context` (a dict with str keys; NULL = no variables).
 * opt NULL = seed 0, not strict. On success *out is malloc'd, NUL-terminated, the caller
 * frees it, and 0 is returned; on error -1 with err set ("jinja: line L: message") and
 * *out NULL. The context is not modified. */
int jinja_render(const jinja_template *t, const pyval *context, const jinja_options *opt,
                 char **out, size_t *out_len, t0_error *err);

void jinja_free(jinja_template *t);

/* True when the template reads at least one variable that it does not set itself and
 * that is not a global (jinja2.meta.find_undeclared_variables is non-empty). promptsource
 * calls answer choices without such variables "fixed". */
int jinja_has_undeclared(const jinja_template *t);

/* The splitmix64 step above, for tests and for callers deriving seeds. */
uint64_t jinja_splitmix64(uint64_t *state);

#endif
