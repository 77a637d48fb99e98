/* templates.h: promptsource templates (templates.yaml) and Template.apply, for t0-render.
 *
 * FILE FORMAT: promptsource/templates/<dataset>/[<subset>/]templates.yaml, read with libyaml.
 *     dataset: <name>            required
 *     subset: <config>           optional (null or absent: none)
 *     templates:                 mapping uuid -> !Template (file order is kept)
 *       <uuid>: !Template
 *         answer_choices, id, jinja, metadata: !TemplateMetadata {original_task,
 *         choices_in_prompt, metrics, languages}, name, reference
 * Unknown keys are ignored; tags are not checked. A plain `null`, `~` or empty scalar is null.
 * The task of every template is "dataset" or "dataset/subset".
 *
 * APPLY (promptsource Template.apply + t-zero's seqio map/filter, in this order):
 *  1. example: a JSON object. Top-level keys "a-b" become "a_b" (promptsource.utils.removeHyphen,
 *     which t-zero's seqio path applies; the last key wins on a clash). A key "answer_choices"
 *     is an error, as in promptsource.
 *  2. every top-level str field has "|||" replaced by T0_PIPE_PROTECTOR (nested values untouched).
 *  3. answer_choices: when the template has one, it is rendered (no truncation) with the
 *     protected example, split on "|||", each part stripped (Python str.strip()) and
 *     un-protected; that list (else None) is the context variable `answer_choices`.
 *  4. the jinja, rewritten textually with every "}}" -> " | string | truncate(2048) }}", is
 *     rendered; the output is split on "|||", each part un-protected and stripped.
 *  5. not exactly 2 parts, or an empty input: the example is dropped for this template.
 *     An empty target becomes "<NO LABEL>". choices = the answer_choices list (empty when
 *     None); label = index of the first choice equal to the target, else -1.
 *
 * SEEDS: `choice` and `random` are deterministic (lib/jinja.h). With mix(x) = the splitmix64
 * output for state x (one step: x + 0x9E3779B97F4A7C15, then the finalizer) and fnv1a64 the
 * 64-bit FNV-1a hash of the template id's bytes:
 *     render_seed  = mix(mix(mix(seed) ^ example_index) ^ fnv1a64(template_id))
 *     choices_seed = mix(render_seed ^ 0x636886F3A3A4A9E5)     (the answer_choices render)
 * tests/reference/render_ref.py seed_for() / choices_seed() are the same rule.
 */
#ifndef T0_TEMPLATES_H
#define T0_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "render/jinja.h"
#include "render/pyval.h"

#define T0_PIPE_PROTECTOR "3ed2dface8203c4c9dfb1a5dc58e41e0"
#define T0_TEXT_VAR_LENGTH 2048
#define T0_NO_LABEL "<NO LABEL>"

typedef struct {
    char *key;            /* the uuid key of the templates mapping */
    char *id;             /* `id`, or the key when absent */
    char *name;
    char *jinja;
    char *answer_choices; /* NULL when null or absent */
    char *reference;      /* "" when absent */
    int original_task;    /* 1 true, 0 false, -1 null or absent */
    int choices_in_prompt;
    unsigned long line;   /* line of the template in the file (1-based) */
    jinja_template *prog;         /* set by t0_templates_compile */
    jinja_template *choices_prog; /* NULL without answer_choices */
    uint64_t id_hash;             /* fnv1a64(id), set by t0_templates_compile */
    /* "fixed" answer_choices (no variables, no choice/random): rendered once by compile */
    const char **fixed_choices;
    size_t n_fixed;
    char *fixed_text;
    pyval *fixed_value;
} t0_template;

typedef struct {
    char *dataset;
    char *subset; /* NULL when none */
    char *task;   /* "dataset" or "dataset/subset" */
    t0_template *templates;
    size_t n;
} t0_template_set;

/* Parses templates.yaml text; name is used in messages. Errors (err):
 * "NAME: line L, column C: <libyaml message>", "NAME: no `dataset`", ... */
t0_template_set *t0_templates_parse(const char *text, size_t len, const char *name, t0_error *err);
t0_template_set *t0_templates_load(const char *path, t0_error *err);

/* Parses every template's jinja (after the truncate rewrite) and answer_choices.
 * A syntax error: "template 'NAME': jinja line L, column C: message" (lines of the
 * template's own jinja text) or "template 'NAME': answer_choices line L, column C: ...". */
int t0_templates_compile(t0_template_set *s, t0_error *err);

/* Keeps templates[i] only where keep[i] is non-zero (order kept). */
void t0_templates_filter(t0_template_set *s, const int *keep);

void t0_templates_free(t0_template_set *s);

/* promptsource's textual rewrite: every "}}" -> " | string | truncate(2048) }}". malloc'd. */
char *t0_truncate_rewrite(const char *jinja);

uint64_t t0_template_seed(uint64_t seed, uint64_t example_index, const char *template_id);
uint64_t t0_choices_seed(uint64_t render_seed);

/* An example made ready for every template: removeHyphen'd and pipe-protected, plus a
 * context dict (the same fields and an `answer_choices` slot). */
typedef struct {
    pyval *protected_ex; /* dict: the answer_choices render's context */
    pyval *context;      /* dict: protected_ex's fields + answer_choices */
} t0_example;

/* Takes a parsed JSON value (not consumed). Not an object, or a key answer_choices: error. */
int t0_example_prepare(t0_example *ex, const pyval *json, t0_error *err);
void t0_example_clear(t0_example *ex);

/* A rendered example; the strings point into the render (or the template) and live
 * until t0_rendered_clear. */
typedef struct {
    int dropped;    /* 1: no record (fewer/more than 2 parts or an empty input) */
    const char *input;
    const char *target;
    const char **choices;
    uint32_t n_choices;
    int32_t label;
    unsigned undefined_printed; /* undefined variables that rendered as "" (not --strict) */
    /* owned memory */
    char *text_, *choices_text_;
    const char **choices_owned_;
} t0_rendered;

/* Applies a compiled template to a prepared example. Render errors (strict undefined,
 * type errors of the template): -1, err "template 'NAME': jinja: line L: ...". */
int t0_template_apply(const t0_template *t, t0_example *ex, uint64_t seed, uint64_t example_index,
                      int strict, t0_rendered *out, t0_error *err);
void t0_rendered_clear(t0_rendered *r);

/* Python's str.strip() (Unicode whitespace) on UTF-8: *start and returned length. */
size_t t0_py_strip(const char *s, size_t len, size_t *start);

#endif
