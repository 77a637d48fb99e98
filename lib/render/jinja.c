/* jinja.c: the walker, the engine's top layer: renders a parsed template (statements,
 * expressions, variables and scopes, for loops and their `loop`), and owns the dispatch the
 * layers below leave to it: attribute and method lookup (r_getattr), calls, `%` (js_mod).
 * Values made while rendering live in one arena dropped at the end (see pyval.h). */
#include "render/jinja.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jinja_internal.h"

/* ---------------- variables ---------------- */

static pyval *lookup_var(render *r, const char *name, size_t len)
{
    for (size_t i = r->nvars; i-- > 0;)
        if (r->vars[i].name == name)
            return r->vars[i].value;
    if (r->ctx) {
        pyval *v = pv_dict_find_str(r->ctx, name, len);
        if (v)
            return v;
    }
    return NULL;
}

static int set_var(render *r, size_t frame, const char *name, pyval *value)
{
    for (size_t i = r->nvars; i-- > frame;)
        if (r->vars[i].name == name) {
            r->vars[i].value = value;
            return 0;
        }
    if (r->nvars == r->cap) { /* the first block lives on jinja_render's stack */
        size_t cap = r->cap * 2;
        jvar *v = r->vars_on_stack ? malloc(cap * sizeof *v) : realloc(r->vars, cap * sizeof *v);
        if (!v) {
            r_oom(r);
            return -1;
        }
        if (r->vars_on_stack)
            memcpy(v, r->vars, r->nvars * sizeof *v);
        r->vars_on_stack = 0;
        r->vars = v;
        r->cap = cap;
    }
    r->vars[r->nvars].name = name;
    r->vars[r->nvars].value = value;
    r->nvars++;
    return 0;
}

static const char *const GLOBALS[] = {"range", "dict", "namespace", "zip", NULL};

int jinja_is_global(const char *name)
{
    for (int i = 0; GLOBALS[i]; i++)
        if (!strcmp(name, GLOBALS[i]))
            return 1;
    return 0;
}

static pyval *global_func(render *r, const char *name)
{
    static const int ids[] = {F_RANGE, F_DICT, F_NAMESPACE, F_ZIP};
    for (int i = 0; GLOBALS[i]; i++)
        if (!strcmp(name, GLOBALS[i])) {
            pyval *f = pv_mk(r->a, PV_FUNC);
            if (!f)
                return r_oom(r);
            f->u.func.id = ids[i];
            f->u.func.name = GLOBALS[i];
            return f;
        }
    return NULL;
}

/* ---------------- loops and attributes ---------------- */

static int loop_fill(render *r, jloop *l, size_t want);

static pyval *loop_attr(render *r, pyval *loopv, const char *name)
{
    jloop *l = loopv->u.func.ptr;
    int all = !strcmp(name, "length") || !strcmp(name, "revindex") || !strcmp(name, "revindex0");
    int next = !strcmp(name, "last") || !strcmp(name, "nextitem");
    if ((all || next) && loop_fill(r, l, all ? SIZE_MAX : l->index + 2) < 0)
        return NULL;
    int64_t i = (int64_t)l->index, n = (int64_t)l->len;
    if (!strcmp(name, "index"))
        return pv_mk_int(r->a, i + 1);
    if (!strcmp(name, "index0"))
        return pv_mk_int(r->a, i);
    if (!strcmp(name, "revindex"))
        return pv_mk_int(r->a, n - i);
    if (!strcmp(name, "revindex0"))
        return pv_mk_int(r->a, n - i - 1);
    if (!strcmp(name, "first"))
        return PV_BOOL_V(i == 0);
    if (!strcmp(name, "last"))
        return PV_BOOL_V(i == n - 1);
    if (!strcmp(name, "length"))
        return pv_mk_int(r->a, n);
    if (!strcmp(name, "depth"))
        return pv_mk_int(r->a, 1);
    if (!strcmp(name, "depth0"))
        return pv_mk_int(r->a, 0);
    if (!strcmp(name, "previtem"))
        return i > 0 ? l->items[i - 1] : r_undef(r, "there is no previous item");
    if (!strcmp(name, "nextitem"))
        return i + 1 < n ? l->items[i + 1] : r_undef(r, "there is no next item");
    if (!strcmp(name, "cycle")) {
        pyval *f = pv_mk(r->a, PV_FUNC);
        if (!f)
            return r_oom(r);
        f->u.func.id = F_LOOP_CYCLE;
        f->u.func.ptr = l;
        f->u.func.name = "cycle";
        return f;
    }
    return r_undef(r, "'LoopContext object' has no attribute '%s'", name);
}

/* loop.cycle(a, b, ...): the argument at the current iteration, round robin. */
static pyval *loop_cycle(render *r, pyval *f, jargs *a)
{
    jloop *l = f->u.func.ptr;
    if (a->npos == 0)
        return rfail(r, "no items for cycling given");
    return a->pos[l->index % (size_t)a->npos];
}

static pyval *r_getattr(render *r, pyval *obj, const char *name, size_t len)
{
    if (obj->type == PV_UNDEFINED)
        return r_undefined_error(r, obj);
    if (obj->type == PV_FUNC && obj->u.func.id == F_LOOP)
        return loop_attr(r, obj, name);
    pyval *m = b_method(r, obj, name, len);
    if (m)
        return m;
    if (obj->type == PV_DICT || obj->type == PV_NAMESPACE) {
        pyval *v = pv_dict_find_str(obj, name, len);
        if (v)
            return v;
        if (obj->type == PV_NAMESPACE)
            return r_undef(r, "'%s' has no attribute '%.*s'", "Namespace object", (int)len, name);
    }
    return r_undef(r, "'%s object' has no attribute '%.*s'", pv_type_name(obj), (int)len, name);
}

/* ---------------- expressions ---------------- */

static pyval *eval(render *r, jnode *n);

static int eval_args(render *r, jnode *n, jargs *args)
{
    args->npos = args->nkw = 0;
    if (n->nargs <= JARGS_INLINE) {
        args->pos = args->pos_buf;
        args->kwvals = args->kwval_buf;
        args->kwnames = args->kwname_buf;
        if (n->nargs == 0)
            return 0;
    } else {
        args->pos = pv_alloc(r->a, (size_t)n->nargs * sizeof(pyval *));
        args->kwvals = pv_alloc(r->a, (size_t)n->nargs * sizeof(pyval *));
        args->kwnames = pv_alloc(r->a, (size_t)n->nargs * sizeof(char *));
    }
    if (!args->pos || !args->kwvals || !args->kwnames) {
        r_oom(r);
        return -1;
    }
    for (int i = 0; i < n->nargs; i++) {
        pyval *v = eval(r, n->args[i]);
        if (!v)
            return -1;
        if (n->kwnames && n->kwnames[i]) {
            args->kwnames[args->nkw] = n->kwnames[i];
            args->kwvals[args->nkw++] = v;
        } else {
            args->pos[args->npos++] = v;
        }
    }
    return 0;
}

static pyval *eval_compare(render *r, jnode *n)
{
    pyval *left = eval(r, n->a);
    if (!left)
        return NULL;
    for (int i = 0; i < n->nargs; i++) {
        pyval *right = eval(r, n->args[i]);
        if (!right)
            return NULL;
        int ok, cmp;
        if (STRICT_UNDEF(r, left) || STRICT_UNDEF(r, right))
            return r_undefined_error(r, STRICT_UNDEF(r, left) ? left : right);
        if ((left->type == PV_LIST || left->type == PV_TUPLE) && r_work(r, left->u.list.len) < 0)
            return NULL; /* comparing containers scans them */
        if (left->type == PV_DICT && r_work(r, left->u.dict.len * left->u.dict.len) < 0)
            return NULL;
        switch (n->ops[i]) {
        case OP_EQ: ok = pv_equal(left, right); break;
        case OP_NE: ok = !pv_equal(left, right); break;
        case OP_IN:
        case OP_NOTIN:
            ok = r_contains(r, right, left);
            if (ok < 0)
                return NULL;
            if (n->ops[i] == OP_NOTIN)
                ok = !ok;
            break;
        default:
            if (r_compare(r, left, right, &cmp) < 0)
                return NULL;
            if (cmp == 2)
                ok = 0;
            else
                ok = n->ops[i] == OP_LT ? cmp < 0 : n->ops[i] == OP_LE ? cmp <= 0 : n->ops[i] == OP_GT ? cmp > 0 : cmp >= 0;
        }
        if (!ok)
            return PV_FALSE_V;
        left = right;
    }
    return PV_TRUE_V;
}

static pyval *eval_slice(render *r, jnode *n)
{
    pyval *t = r_list(r, PV_TUPLE, 3);
    if (!t)
        return NULL;
    jnode *parts[3] = {n->a, n->b, n->c};
    for (int k = 0; k < 3; k++) {
        pyval *v = parts[k] ? eval(r, parts[k]) : PV_NONE_V;
        if (!v)
            return NULL;
        t->u.list.items[k] = v;
    }
    t->u.list.len = 3;
    pyval *f = pv_mk(r->a, PV_FUNC); /* a marker only r_getitem understands */
    if (!f)
        return r_oom(r);
    f->u.func.name = "slice";
    f->u.func.self = t;
    return f;
}

static pyval *eval_name(render *r, jnode *n)
{
    pyval *v = lookup_var(r, n->name, n->namelen);
    if (v)
        return v;
    v = global_func(r, n->name);
    if (v || (r->err && r->err->status))
        return v;
    return r_undef(r, "'%s' is undefined", n->name); /* strict: an error where it is used */
}

static pyval *eval_list(render *r, jnode *n)
{
    pyval *l = r_list(r, n->kind == N_LIST ? PV_LIST : PV_TUPLE, (size_t)n->nargs);
    if (!l)
        return NULL;
    for (int i = 0; i < n->nargs; i++)
        if (!(l->u.list.items[l->u.list.len++] = eval(r, n->args[i])))
            return NULL;
    return l;
}

static pyval *eval_dict(render *r, jnode *n)
{
    pyval *d = pv_mk_dict(r->a, PV_DICT);
    if (!d)
        return r_oom(r);
    for (int i = 0; i + 1 < n->nargs; i += 2) {
        pyval *k = eval(r, n->args[i]), *v = k ? eval(r, n->args[i + 1]) : NULL;
        if (!v)
            return NULL;
        if (k->type == PV_LIST || k->type == PV_DICT || k->type == PV_NAMESPACE)
            return rfail(r, "unhashable type: '%s'", pv_type_name(k));
        if (pv_dict_put(r->a, d, k, v) < 0)
            return r_oom(r);
    }
    return d;
}

static pyval *eval_call(render *r, jnode *n)
{
    pyval *f = eval(r, n->a);
    if (!f)
        return NULL;
    jargs args;
    if (eval_args(r, n, &args) < 0)
        return NULL;
    if (f->type == PV_UNDEFINED)
        return r_undefined_error(r, f);
    if (f->type != PV_FUNC)
        return rfail(r, "'%s' object is not callable", pv_type_name(f));
    return f->u.func.id == F_LOOP_CYCLE ? loop_cycle(r, f, &args) : b_call(r, f, &args);
}

static pyval *eval_filter_or_test(render *r, jnode *n)
{
    pyval *in = eval(r, n->a);
    jargs args;
    if (!in || eval_args(r, n, &args) < 0)
        return NULL;
    if (n->kind == N_FILTER)
        return b_filter_row(r, n->builtin, n->name, in, &args);
    int ok = b_test_row(r, n->builtin, n->name, in, &args);
    return ok < 0 ? NULL : PV_BOOL_V(ok);
}

static pyval *eval_inner(render *r, jnode *n)
{
    switch (n->kind) {
    case N_CONST: return n->value;
    case N_NAME: return eval_name(r, n);
    case N_LIST:
    case N_TUPLE: return eval_list(r, n);
    case N_DICT: return eval_dict(r, n);
    case N_GETATTR: {
        pyval *obj = eval(r, n->a);
        return obj ? r_getattr(r, obj, n->name, n->namelen) : NULL;
    }
    case N_GETITEM: {
        pyval *obj = eval(r, n->a), *key = obj ? eval(r, n->b) : NULL;
        return key ? b_getitem(r, obj, key) : NULL;
    }
    case N_SLICE: return eval_slice(r, n);
    case N_CALL: return eval_call(r, n);
    case N_FILTER:
    case N_TEST: return eval_filter_or_test(r, n);
    case N_BINOP: {
        pyval *a = eval(r, n->a), *b = a ? eval(r, n->b) : NULL;
        if (!b)
            return NULL;
        return n->op == OP_MOD ? js_mod(r, a, b) : r_binop(r, n->op, a, b); /* % formats a str */
    }
    case N_NEG:
    case N_POS: {
        pyval *a = eval(r, n->a);
        return a ? r_unary(r, n->kind == N_NEG, a) : NULL;
    }
    case N_NOT: {
        pyval *a = eval(r, n->a);
        int t = a ? r_truthy(r, a) : -1;
        return t < 0 ? NULL : PV_BOOL_V(!t);
    }
    case N_AND:
    case N_OR: {
        pyval *a = eval(r, n->a);
        int t = a ? r_truthy(r, a) : -1;
        if (t < 0)
            return NULL;
        if ((n->kind == N_AND) != (t != 0))
            return a;
        return eval(r, n->b);
    }
    case N_COMPARE: return eval_compare(r, n);
    case N_CONDEXPR: {
        pyval *c = eval(r, n->a);
        int t = c ? r_truthy(r, c) : -1;
        if (t < 0)
            return NULL;
        if (t)
            return eval(r, n->b);
        if (n->c)
            return eval(r, n->c);
        pyval *u = r_undef(r, "the inline if-expression evaluated to false and no else section was defined");
        if (u)
            u->kind = 1; /* jinja2 uses the plain Undefined here, even in strict mode */
        return u;
    }
    default: return rfail(r, "cannot evaluate this node");
    }
}

static pyval *eval(render *r, jnode *n)
{
    if (++r->depth > J_MAX_DEPTH)
        return rfail(r, "expression nested too deeply");
    r->line = n->line;
    pyval *v = eval_inner(r, n);
    r->depth--;
    return v;
}

/* ---------------- statements ---------------- */

static int exec_body(render *r, jnode *n);

static int assign(render *r, size_t frame, jnode *target, pyval *value)
{
    if (target->kind == N_NAME)
        return set_var(r, frame, target->name, value);
    if (target->kind == N_NSREF) {
        pyval *ns = lookup_var(r, target->a->name, target->a->namelen);
        if (!ns || ns->type != PV_NAMESPACE || !ns->immortal) {
            rfail(r, "cannot assign attribute on non-namespace object");
            return -1;
        }
        pyval *key = r_str(r, target->name, target->namelen);
        if (!key || pv_dict_put(r->a, ns, key, value) < 0) {
            if (key)
                r_oom(r);
            return -1;
        }
        return 0;
    }
    /* tuple unpacking */
    pyval **items;
    size_t n;
    if (value->type == PV_UNDEFINED) {
        r_undefined_error(r, value);
        return -1;
    }
    if (r_iterate(r, value, &items, &n) < 0)
        return -1;
    if (n != (size_t)target->nargs) {
        rfail(r, n < (size_t)target->nargs ? "not enough values to unpack (expected %d, got %zu)"
                                           : "too many values to unpack (expected %d, got %zu)",
              target->nargs, n);
        return -1;
    }
    for (int i = 0; i < target->nargs; i++)
        if (assign(r, frame, target->args[i], items[i]) < 0)
            return -1;
    return 0;
}

static size_t frame_base(render *r)
{
    return r->nvars;
}

/* Filtered loops (for x in y if c) test items lazily, as jinja2's generator does: the
 * condition of an item runs just before its iteration, or earlier when loop.nextitem,
 * loop.last or loop.length looks ahead. Keeps testing raw items until `want` are kept. */
static int loop_fill(render *r, jloop *l, size_t want)
{
    /* The condition sees the scope the loop started in (an enclosing loop's `loop`, not
     * this one's): variables of the current iteration are set aside while it runs. */
    size_t saved_n = r->nvars, hidden = saved_n - l->outer_nvars;
    jvar *saved = NULL;
    if (!l->done && l->len < want && hidden) {
        saved = pv_alloc(r->a, hidden * sizeof *saved);
        if (!saved) {
            r_oom(r);
            return -1;
        }
        memcpy(saved, r->vars + l->outer_nvars, hidden * sizeof *saved);
        r->nvars = l->outer_nvars;
    }
    int rc = 0;
    while (!l->done && l->len < want) {
        if (l->pos >= l->nraw) {
            l->done = 1;
            break;
        }
        pyval *item = l->raw[l->pos++];
        size_t base = frame_base(r);
        if (r_work(r, 1) < 0 || assign(r, base, l->target, item) < 0) {
            rc = -1;
            break;
        }
        pyval *c = eval(r, l->cond);
        int t = c ? r_truthy(r, c) : -1;
        r->nvars = base;
        if (t < 0) {
            rc = -1;
            break;
        }
        if (t)
            l->items[l->len++] = item;
    }
    if (saved) { /* capacity already held saved_n entries */
        memcpy(r->vars + l->outer_nvars, saved, hidden * sizeof *saved);
        r->nvars = saved_n;
    }
    return rc;
}

static int exec_for(render *r, jnode *n)
{
    pyval *seq = eval(r, n->b);
    pyval **items;
    size_t count;
    if (!seq || r_iterate(r, seq, &items, &count) < 0)
        return -1;
    jloop state;
    memset(&state, 0, sizeof state);
    state.outer_nvars = r->nvars;
    if (n->nargs) {
        state.raw = items;
        state.nraw = count;
        state.cond = n->args[0];
        state.target = n->a;
        state.items = pv_alloc(r->a, (count + 1) * sizeof(pyval *));
        if (!state.items) {
            r_oom(r);
            return -1;
        }
    } else {
        state.items = items;
        state.len = count;
        state.done = 1;
    }
    if (loop_fill(r, &state, 1) < 0)
        return -1;
    if (state.len == 0)
        return exec_body(r, n->d);
    pyval *loopv = pv_mk(r->a, PV_FUNC);
    if (!loopv) {
        r_oom(r);
        return -1;
    }
    loopv->u.func.id = F_LOOP;
    loopv->u.func.ptr = &state;
    loopv->u.func.name = "loop";
    size_t saved_frame = r->frame;
    for (size_t i = 0;; i++) {
        if (loop_fill(r, &state, i + 1) < 0)
            return -1;
        if (i >= state.len)
            break;
        size_t base = frame_base(r);
        state.index = i;
        r->frame = base;
        if ((!n->nargs && r_work(r, 1) < 0) || assign(r, base, n->a, state.items[i]) < 0 ||
            set_var(r, base, r->loop_name, loopv) < 0)
            return -1;
        int rc = exec_body(r, n->c);
        r->nvars = base;
        r->frame = saved_frame;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int output(render *r, pyval *v)
{
    if (v->type == PV_STR)
        return t0_buf_add(&r->out, v->u.str.s, v->u.str.len) < 0 ? (rfail(r, "output too large"), -1) : 0;
    if (v->type == PV_UNDEFINED) {
        if (STRICT_UNDEF(r, v)) {
            r_undefined_error(r, v);
            return -1;
        }
        r_count_undefined_printed(r, v);
        return 0;
    }
    if (pv_str_append(&r->out, v, r->err) < 0) {
        rfail(r, "output too large");
        return -1;
    }
    return 0;
}

static int exec_node(render *r, jnode *n)
{
    r->line = n->line;
    switch (n->kind) {
    case N_DATA:
        if (t0_buf_add(&r->out, n->value->u.str.s, n->value->u.str.len) < 0) {
            rfail(r, "output too large");
            return -1;
        }
        return 0;
    case N_OUTPUT: {
        pyval *v = eval(r, n->a);
        return v ? output(r, v) : -1;
    }
    case N_IF: {
        pyval *c = eval(r, n->a);
        int t = c ? r_truthy(r, c) : -1;
        if (t < 0)
            return -1;
        return exec_body(r, t ? n->b : n->c);
    }
    case N_FOR: return exec_for(r, n);
    case N_SET: {
        pyval *v = eval(r, n->b);
        return v ? assign(r, r->frame, n->a, v) : -1;
    }
    case N_SETBLOCK: {
        t0_buf saved = r->out;
        memset(&r->out, 0, sizeof r->out);
        r->out.limit = J_MAX_SIZE;
        int rc = exec_body(r, n->c);
        t0_buf inner = r->out;
        r->out = saved;
        pyval *v = rc < 0 ? NULL : r_str(r, inner.p ? inner.p : "", inner.len);
        t0_buf_free(&inner);
        return v ? assign(r, r->frame, n->a, v) : -1;
    }
    default: rfail(r, "cannot execute this node"); return -1;
    }
}

static int exec_body(render *r, jnode *n)
{
    if (++r->depth > J_MAX_DEPTH) {
        rfail(r, "template nested too deeply");
        return -1;
    }
    for (; n; n = n->next)
        if (exec_node(r, n) < 0)
            return -1;
    r->depth--;
    return 0;
}

int jinja_render(const jinja_template *t, const pyval *context, const jinja_options *opt, char **out,
                 size_t *out_len, t0_error *err)
{
    render r;
    memset(&r, 0, sizeof r);
    t0_error local;
    t0_error_clear(&local);
    r.err = err ? err : &local;
    t0_error_clear(r.err);
    _Alignas(16) unsigned char first_chunk[8192]; /* most renders allocate nothing else */
    jvar first_vars[32];
    r.vars = first_vars;
    r.cap = 32;
    r.vars_on_stack = 1;
    r.a = pv_arena_on_stack(first_chunk, sizeof first_chunk);
    r.ctx = context && context->type == PV_DICT ? context : NULL;
    r.rng = opt ? opt->seed : 0;
    r.strict = opt ? opt->strict : 0;
    r.undefined_printed = opt ? opt->undefined_printed : NULL;
    r.out.limit = J_MAX_SIZE;
    r.out.p = malloc(512); /* typical prompts fit without regrowing */
    r.out.cap = r.out.p ? 512 : 0;
    r.loop_name = t->loop_name;
    r.loop_attr = loop_attr;
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!r.a)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    int rc = exec_body(&r, t->body);
    if (rc == 0 && t0_buf_add(&r.out, "", 0) < 0)
        rc = (rfail(&r, "output too large"), -1);
    pv_arena_free(r.a);
    if (!r.vars_on_stack)
        free(r.vars);
    if (rc < 0) {
        t0_buf_free(&r.out);
        if (r.err->status == T0_OK)
            t0_fail(r.err, T0_EINTERNAL, "jinja: render failed");
        return -1;
    }
    *out = r.out.p;
    if (out_len)
        *out_len = r.out.len;
    return 0;
}
