/* jinja_parse.c: jinja2's lexer and parser for the supported subset, building the AST of
 * jinja_internal.h. Grammar and precedence follow jinja2/parser.py (3.1):
 *   condexpr: or ('if' or ('else' condexpr)?)*      or: and ('or' and)*
 *   and: not ('and' not)*      not: 'not' not | compare
 *   compare: math1 (op math1)*  math1: concat (('+'|'-') concat)*
 *   concat: math2 ('~' math2)*  math2: pow (('*'|'/'|'//'|'%') pow)*
 *   pow: unary ('**' unary)*   (left associative, as in jinja2)
 *   unary: ('-'|'+') unary-without-filters | primary; then postfix; then filters/tests
 * Node fields: N_IF a=cond b=body c=else; N_FOR a=target b=iter c=body d=else args[0]=filter;
 * N_SET a=target b=value; N_SETBLOCK a=target c=body; N_GETATTR a.name; N_GETITEM a[b];
 * N_SLICE a:b:c; N_CALL a(args); N_FILTER a|name(args); N_TEST a is name(args);
 * N_COMPARE a (ops[i] args[i])*; N_CONDEXPR b if a else c; N_DICT args = k0,v0,k1,v1... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jinja_internal.h"

#define MAX_DEPTH 200

typedef enum {
    T_DATA, T_VAR_BEGIN, T_VAR_END, T_BLOCK_BEGIN, T_BLOCK_END, T_NAME, T_STRING, T_INT, T_FLOAT,
    T_OP, T_EOF
} tok_type;

typedef struct {
    tok_type type;
    int line, col;
    const char *s; /* source text (T_DATA: the text to output, may point into a copy) */
    size_t len;
    pyval *value;  /* literals */
} token;

typedef struct {
    const char *src;
    size_t len;
    token *toks;
    size_t ntok, cap, pos;
    pv_arena *arena;
    t0_error *err;
    int depth;
    /* interned names */
    const char **names;
    size_t nnames, namecap;
    int failed;
} parser;

/* ---------------- errors and helpers ---------------- */

static int line_col(const parser *p, const char *at, int *col)
{
    int line = 1;
    const char *ls = p->src;
    for (const char *q = p->src; q < at; q++)
        if (*q == '\n') {
            line++;
            ls = q + 1;
        }
    *col = (int)(at - ls) + 1;
    return line;
}

static void *fail_at(parser *p, int line, int col, const char *msg)
{
    if (!p->failed)
        t0_fail(p->err, T0_EINPUT, "line %d, column %d: %s", line, col, msg);
    p->failed = 1;
    return NULL;
}

static void *fail_tok(parser *p, const char *msg)
{
    token *t = &p->toks[p->pos];
    return fail_at(p, t->line, t->col, msg);
}

static const char *intern(parser *p, const char *s, size_t len)
{
    for (size_t i = 0; i < p->nnames; i++)
        if (strlen(p->names[i]) == len && memcmp(p->names[i], s, len) == 0)
            return p->names[i];
    if (p->nnames == p->namecap) {
        size_t cap = p->namecap ? p->namecap * 2 : 32;
        const char **n = realloc(p->names, cap * sizeof *n);
        if (!n)
            return NULL;
        p->names = n;
        p->namecap = cap;
    }
    char *copy = pv_alloc(p->arena, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    p->names[p->nnames++] = copy;
    return copy;
}


/* ---------------- lexer ---------------- */

static token *push_tok(parser *p, tok_type type, const char *s, size_t len)
{
    if (p->ntok == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        token *t = realloc(p->toks, cap * sizeof *t);
        if (!t) {
            fail_at(p, 0, 0, "out of memory");
            return NULL;
        }
        p->toks = t;
        p->cap = cap;
    }
    token *t = &p->toks[p->ntok++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->s = s;
    t->len = len;
    t->line = line_col(p, s, &t->col);
    return t;
}



/* From byte i on, past any whitespace. */
static size_t skip_space(const char *s, size_t i, size_t len) { return i + ju_lstrip_len(s + i, len - i); }

static const char *const OPS[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<",
                                  ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";", NULL};

/* Python's unicode-escape decoding of a string literal body. */
static pyval *unescape(parser *p, const char *s, size_t len)
{
    t0_buf b = {0};
    size_t i = 0;
    while (i < len) {
        if (s[i] != '\\' || i + 1 >= len) {
            t0_buf_add(&b, s + i, 1);
            i++;
            continue;
        }
        char e = s[i + 1];
        const char *m = strchr("nrt\\'\"abfv\n", e);
        if (e && m) {
            static const char to[] = "\n\r\t\\'\"\a\b\f\v";
            if (e != '\n') /* backslash-newline is a line continuation */
                t0_buf_add(&b, &to[m - "nrt\\'\"abfv\n"], 1);
            i += 2;
            continue;
        }
        int ndig = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (ndig) {
            uint32_t cp = 0;
            int ok = i + 2 + (size_t)ndig <= len;
            for (int k = 0; ok && k < ndig; k++) {
                char c = s[i + 2 + (size_t)k];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                    ok = 0;
                cp = cp * 16 + (uint32_t)d;
            }
            if (!ok || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                t0_buf_free(&b);
                return fail_tok(p, "invalid escape in string literal");
            }
            char tmp[4];
            t0_buf_add(&b, tmp, t0_utf8_encode(cp, tmp));
            i += 2 + (size_t)ndig;
            continue;
        }
        if (e >= '0' && e <= '7') {
            uint32_t cp = 0;
            size_t k = i + 1;
            while (k < len && k < i + 4 && s[k] >= '0' && s[k] <= '7')
                cp = cp * 8 + (uint32_t)(s[k++] - '0');
            char tmp[4];
            t0_buf_add(&b, tmp, t0_utf8_encode(cp, tmp));
            i = k;
            continue;
        }
        t0_buf_add(&b, s + i, 1); /* unknown escape: kept as is */
        i++;
    }
    pyval *v = pv_mk_str(p->arena, b.p ? b.p : "", b.len);
    t0_buf_free(&b);
    return v;
}

static int lex_number(parser *p, const char *s, size_t i, size_t len, size_t *end)
{
    size_t k = i;
    char buf[128];
    size_t nb = 0;
    int is_float = 0;
#define DIGITS()                                                                          \
    while (k < len && ((s[k] >= '0' && s[k] <= '9') ||                                  \
                       (s[k] == '_' && k + 1 < len && s[k + 1] >= '0' && s[k + 1] <= '9' && \
                        k > i && s[k - 1] != '_'))) {                                     \
        if (s[k] != '_' && nb < sizeof buf - 1)                                           \
            buf[nb++] = s[k];                                                             \
        k++;                                                                              \
    }
    DIGITS();
    if (k + 1 < len && s[k] == '.' && s[k + 1] >= '0' && s[k + 1] <= '9') {
        is_float = 1;
        if (nb < sizeof buf - 1)
            buf[nb++] = s[k];
        k++;
        DIGITS();
    }
    if (k < len && (s[k] == 'e' || s[k] == 'E')) {
        size_t save = k, save_nb = nb;
        if (nb < sizeof buf - 1)
            buf[nb++] = 'e';
        k++;
        if (k < len && (s[k] == '+' || s[k] == '-')) {
            if (nb < sizeof buf - 1)
                buf[nb++] = s[k];
            k++;
        }
        if (k < len && s[k] >= '0' && s[k] <= '9') {
            is_float = 1;
            DIGITS();
        } else {
            k = save;
            nb = save_nb;
        }
    }
#undef DIGITS
    buf[nb] = '\0';
    if (k - i > 100) {
        int col, line = line_col(p, s + i, &col);
        fail_at(p, line, col, "number literal too long");
        return -1;
    }
    token *t = push_tok(p, is_float ? T_FLOAT : T_INT, s + i, k - i);
    if (!t)
        return -1;
    if (is_float) {
        t->value = pv_mk_float(p->arena, strtod(buf, NULL));
    } else {
        char *endp;
        unsigned long long u = strtoull(buf, &endp, 10);
        if (nb >= 19 && (u > INT64_MAX || strlen(buf) > 19)) { /* a Python big int: kept as digits */
            const char *d = buf;
            while (d[0] == '0' && d[1])
                d++;
            t->value = pv_mk_str(p->arena, d, strlen(d));
            if (t->value) {
                t->value->type = PV_INT;
                t->value->big = 1;
            }
        } else {
            t->value = pv_mk_int(p->arena, (int64_t)u);
        }
    }
    *end = k;
    return t->value ? 0 : -1;
}

/* Lexes the inside of {{ }} or {% %} from i; returns the index after the end tag. */
static int lex_tag(parser *p, const char *s, size_t len, size_t *pos, int is_block)
{
    size_t i = *pos;
    int balance = 0;
    const char *end_tag = is_block ? "%}" : "}}";
    while (1) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i >= len) {
            fail_at(p, 0, 0, "");
            p->failed = 0;
            int col, line = line_col(p, s + len, &col);
            fail_at(p, line, col, is_block ? "unexpected end of template, expected '%}'"
                                            : "unexpected end of template, expected '}}'");
            return -1;
        }
        if (balance == 0) {
            int minus = s[i] == '-' && i + 2 < len && memcmp(s + i + 1, end_tag, 2) == 0;
            int plus = is_block && s[i] == '+' && i + 2 < len && memcmp(s + i + 1, end_tag, 2) == 0;
            if (minus || plus || (i + 1 < len && memcmp(s + i, end_tag, 2) == 0)) {
                if (!push_tok(p, is_block ? T_BLOCK_END : T_VAR_END, s + i, 2))
                    return -1;
                i += minus || plus ? 3 : 2;
                if (minus)
                    i = skip_space(s, i, len);
                *pos = i;
                return 0;
            }
        }
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
            size_t k = i;
            while (k < len && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || s[k] == '_' ||
                               (s[k] >= '0' && s[k] <= '9')))
                k++;
            token *t = push_tok(p, T_NAME, s + i, k - i);
            if (!t || !(t->s = intern(p, s + i, k - i)))
                return -1;
            i = k;
        } else if (c >= '0' && c <= '9') {
            if (lex_number(p, s, i, len, &i) < 0)
                return -1;
        } else if (c == '\'' || c == '"') {
            size_t k = i + 1;
            while (k < len && s[k] != c)
                k += s[k] == '\\' ? 2 : 1;
            if (k >= len) {
                int col, line = line_col(p, s + i, &col);
                fail_at(p, line, col, "unexpected end of string");
                return -1;
            }
            token *t = push_tok(p, T_STRING, s + i, k + 1 - i);
            if (!t || !(t->value = unescape(p, s + i + 1, k - i - 1)))
                return -1;
            i = k + 1;
        } else {
            int found = 0;
            for (int o = 0; OPS[o]; o++) {
                size_t n = strlen(OPS[o]);
                if (i + n <= len && memcmp(s + i, OPS[o], n) == 0) {
                    if (!push_tok(p, T_OP, s + i, n))
                        return -1;
                    if (c == '(' || c == '[' || c == '{')
                        balance++;
                    else if ((c == ')' || c == ']' || c == '}') && balance > 0)
                        balance--;
                    i += n;
                    found = 1;
                    break;
                }
            }
            if (!found) {
                int col, line = line_col(p, s + i, &col);
                fail_at(p, line, col, "unexpected character");
                return -1;
            }
        }
    }
}

/* "{% raw %}" at i (with optional - markers)? Sets *after to the index after it. */
static int match_word_tag(const char *s, size_t i, size_t len, const char *word, int *lminus, int *rminus,
                          size_t *after)
{
    if (i + 2 > len || s[i] != '{' || s[i + 1] != '%')
        return 0;
    size_t k = i + 2;
    *lminus = k < len && s[k] == '-';
    if (*lminus)
        k++;
    k = skip_space(s, k, len);
    size_t n = strlen(word);
    if (k + n > len || memcmp(s + k, word, n) != 0)
        return 0;
    k = skip_space(s, k + n, len);
    *rminus = k < len && s[k] == '-';
    if (*rminus)
        k++;
    if (k + 2 > len || s[k] != '%' || s[k + 1] != '}')
        return 0;
    *after = k + 2;
    return 1;
}

static int push_data(parser *p, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    token *t = push_tok(p, T_DATA, s, len);
    return t ? 0 : -1;
}

static int lex(parser *p)
{
    const char *s = p->src;
    size_t len = p->len, i = 0, data_start = 0;
    int strip_next = 0; /* a "-%}" asked to skip whitespace at the start of the data */
    while (1) {
        size_t k = i;
        while (k + 1 < len && !(s[k] == '{' && (s[k + 1] == '{' || s[k + 1] == '%' || s[k + 1] == '#')))
            k++;
        if (k + 1 >= len) {
            if (push_data(p, s + data_start, len - data_start) < 0)
                return -1;
            break;
        }
        int lminus = k + 2 < len && s[k + 2] == '-';
        size_t dlen = k - data_start;
        if (lminus)
            dlen = ju_rstrip_len(s + data_start, dlen);
        (void)strip_next;
        int rminus;
        size_t after;
        int lm2;
        if (match_word_tag(s, k, len, "raw", &lm2, &rminus, &after)) {
            if (push_data(p, s + data_start, dlen) < 0)
                return -1;
            size_t j = after;
            if (rminus)
                j = skip_space(s, j, len);
            size_t body = j;
            int found = 0;
            for (; j + 1 < len; j++) {
                int lm, rm;
                size_t aft;
                if (match_word_tag(s, j, len, "endraw", &lm, &rm, &aft)) {
                    size_t blen = j - body;
                    if (lm)
                        blen = ju_rstrip_len(s + body, blen);
                    if (push_data(p, s + body, blen) < 0)
                        return -1;
                    i = rm ? skip_space(s, aft, len) : aft;
                    found = 1;
                    break;
                }
            }
            if (!found) {
                int col, line = line_col(p, s + k, &col);
                fail_at(p, line, col, "missing end of raw directive");
                return -1;
            }
            data_start = i;
            continue;
        }
        if (push_data(p, s + data_start, dlen) < 0)
            return -1;
        char kind = s[k + 1];
        if (kind == '#') {
            const char *end = NULL;
            for (size_t j = k + 2; j + 1 < len; j++)
                if (s[j] == '#' && s[j + 1] == '}') {
                    end = s + j;
                    break;
                }
            if (!end) {
                int col, line = line_col(p, s + k, &col);
                fail_at(p, line, col, "missing end of comment tag");
                return -1;
            }
            i = (size_t)(end - s) + 2;
            if (end > s + k + 2 && end[-1] == '-')
                i = skip_space(s, i, len);
            data_start = i;
            continue;
        }
        if (!push_tok(p, kind == '{' ? T_VAR_BEGIN : T_BLOCK_BEGIN, s + k, 2))
            return -1;
        int lplus = k + 2 < len && s[k + 2] == '+'; /* "{%+": lstrip_blocks is off, so a no-op */
        i = k + 2 + (lminus || lplus ? 1 : 0);
        if (lex_tag(p, s, len, &i, kind == '%') < 0)
            return -1;
        data_start = i;
    }
    token *t = push_tok(p, T_EOF, s + len, 0);
    return t ? 0 : -1;
}

/* ---------------- parser ---------------- */

static token *cur(parser *p) { return &p->toks[p->pos]; }

static int is_op(parser *p, const char *op)
{
    token *t = cur(p);
    return t->type == T_OP && t->len == strlen(op) && memcmp(t->s, op, t->len) == 0;
}

static int is_name(parser *p, const char *name)
{
    token *t = cur(p);
    return t->type == T_NAME && strcmp(t->s, name) == 0;
}

static int skip_op(parser *p, const char *op)
{
    if (!is_op(p, op))
        return 0;
    p->pos++;
    return 1;
}

static int expect_op(parser *p, const char *op)
{
    if (skip_op(p, op))
        return 1;
    char msg[64];
    snprintf(msg, sizeof msg, "expected '%s'", op);
    fail_tok(p, msg);
    return 0;
}

static jnode *mk(parser *p, jnode_kind kind)
{
    jnode *n = pv_alloc(p->arena, sizeof(jnode));
    if (!n)
        return fail_tok(p, "out of memory");
    n->kind = (uint8_t)kind;
    n->line = cur(p)->line;
    return n;
}

/* Growable argument arrays live in the arena: collect into a local vector first. */
typedef struct {
    jnode **items;
    const char **kw;
    uint8_t *ops;
    int n, cap;
} nodevec;

static int vec_push(parser *p, nodevec *v, jnode *item, const char *kw, int op)
{
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        jnode **items = pv_alloc(p->arena, (size_t)cap * sizeof *items);
        const char **kws = pv_alloc(p->arena, (size_t)cap * sizeof *kws);
        uint8_t *ops = pv_alloc(p->arena, (size_t)cap);
        if (!items || !kws || !ops) {
            fail_tok(p, "out of memory");
            return -1;
        }
        if (v->n) {
            memcpy(items, v->items, (size_t)v->n * sizeof *items);
            memcpy(kws, v->kw, (size_t)v->n * sizeof *kws);
            memcpy(ops, v->ops, (size_t)v->n);
        }
        v->items = items;
        v->kw = kws;
        v->ops = ops;
        v->cap = cap;
    }
    v->items[v->n] = item;
    v->kw[v->n] = kw;
    v->ops[v->n] = (uint8_t)op;
    v->n++;
    return 0;
}

static void vec_to(jnode *n, nodevec *v)
{
    n->args = v->items;
    n->kwnames = v->kw;
    n->ops = v->ops;
    n->nargs = v->n;
}

static jnode *parse_expression(parser *p, int with_condexpr);
static jnode *parse_unary(parser *p, int with_filter);
static jnode *parse_primary(parser *p);
static jnode *parse_postfix(parser *p, jnode *node);
static jnode *parse_tuple(parser *p, int with_condexpr, int explicit_parens);

static int enter(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        fail_tok(p, "expression nested too deeply");
        return 0;
    }
    return 1;
}

static jnode *leave(parser *p, jnode *n)
{
    p->depth--;
    return n;
}

static jnode *binop(parser *p, jnode *a, jnode *b, int op)
{
    jnode *n = mk(p, N_BINOP);
    if (!n)
        return NULL;
    n->op = (uint8_t)op;
    n->a = a;
    n->b = b;
    n->line = a->line;
    return n;
}

/* Call arguments after '(' : positional, name=value (no star arguments). */
static int parse_call_args(parser *p, nodevec *v)
{
    if (!expect_op(p, "("))
        return -1;
    while (!is_op(p, ")")) {
        if (v->n && !expect_op(p, ","))
            return -1;
        if (is_op(p, ")"))
            break;
        if (is_op(p, "*") || is_op(p, "**")) {
            fail_tok(p, "*args and **kwargs are not supported");
            return -1;
        }
        const char *kw = NULL;
        if (cur(p)->type == T_NAME && p->toks[p->pos + 1].type == T_OP && p->toks[p->pos + 1].len == 1 &&
            p->toks[p->pos + 1].s[0] == '=') {
            kw = cur(p)->s;
            p->pos += 2;
        } else {
            for (int k = 0; k < v->n; k++)
                if (v->kw[k]) {
                    fail_tok(p, "positional argument after keyword argument");
                    return -1;
                }
        }
        jnode *arg = parse_expression(p, 1);
        if (!arg || vec_push(p, v, arg, kw, 0) < 0)
            return -1;
    }
    p->pos++;
    return 0;
}

static jnode *parse_call(parser *p, jnode *callee)
{
    jnode *n = mk(p, N_CALL);
    nodevec v = {0};
    if (!n || parse_call_args(p, &v) < 0)
        return NULL;
    n->a = callee;
    vec_to(n, &v);
    return n;
}

/* A dotted filter/test name ("name" or "name.name"). */
static const char *parse_dotted(parser *p)
{
    if (cur(p)->type != T_NAME)
        return fail_tok(p, "expected a name");
    const char *name = cur(p)->s;
    p->pos++;
    while (is_op(p, ".") && p->toks[p->pos + 1].type == T_NAME) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s.%s", name, p->toks[p->pos + 1].s);
        name = intern(p, buf, strlen(buf));
        p->pos += 2;
    }
    return name;
}

static jnode *parse_filter(parser *p, jnode *node)
{
    while (skip_op(p, "|")) {
        jnode *n = mk(p, N_FILTER);
        if (!n)
            return NULL;
        n->name = parse_dotted(p);
        if (!n->name)
            return NULL;
        n->builtin = b_find_filter(n->name);
        n->a = node;
        if (is_op(p, "(")) {
            nodevec v = {0};
            if (parse_call_args(p, &v) < 0)
                return NULL;
            vec_to(n, &v);
        }
        node = n;
    }
    return node;
}

static jnode *parse_test(parser *p, jnode *node)
{
    p->pos++; /* 'is' */
    int negated = 0;
    if (is_name(p, "not")) {
        p->pos++;
        negated = 1;
    }
    jnode *n = mk(p, N_TEST);
    if (!n)
        return NULL;
    n->name = parse_dotted(p);
    if (!n->name)
        return NULL;
    n->builtin = b_find_test(n->name);
    n->a = node;
    token *t = cur(p);
    if (is_op(p, "(")) {
        nodevec v = {0};
        if (parse_call_args(p, &v) < 0)
            return NULL;
        vec_to(n, &v);
    } else if ((t->type == T_NAME || t->type == T_STRING || t->type == T_INT || t->type == T_FLOAT ||
                is_op(p, "[") || is_op(p, "{")) &&
               !is_name(p, "else") && !is_name(p, "or") && !is_name(p, "and")) {
        if (is_name(p, "is"))
            return fail_tok(p, "You cannot chain multiple tests with is");
        jnode *arg = parse_primary(p);
        if (!arg || !(arg = parse_postfix(p, arg)))
            return NULL;
        nodevec v = {0};
        if (vec_push(p, &v, arg, NULL, 0) < 0)
            return NULL;
        vec_to(n, &v);
    }
    if (negated) {
        jnode *no = mk(p, N_NOT);
        if (!no)
            return NULL;
        no->a = n;
        return no;
    }
    return n;
}

static jnode *parse_filter_expr(parser *p, jnode *node)
{
    while (node) {
        if (is_op(p, "|"))
            node = parse_filter(p, node);
        else if (is_name(p, "is"))
            node = parse_test(p, node);
        else if (is_op(p, "("))
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

static jnode *parse_subscribed(parser *p)
{
    jnode *parts[3] = {NULL, NULL, NULL};
    if (is_op(p, ":")) {
        p->pos++;
    } else {
        parts[0] = parse_expression(p, 1);
        if (!parts[0])
            return NULL;
        if (!skip_op(p, ":"))
            return parts[0];
    }
    jnode *n = mk(p, N_SLICE);
    if (!n)
        return NULL;
    if (!is_op(p, "]") && !is_op(p, ",") && !is_op(p, ":")) {
        if (!(parts[1] = parse_expression(p, 1)))
            return NULL;
    }
    if (skip_op(p, ":")) {
        if (!is_op(p, "]") && !is_op(p, ",")) {
            if (!(parts[2] = parse_expression(p, 1)))
                return NULL;
        }
    }
    n->a = parts[0];
    n->b = parts[1];
    n->c = parts[2];
    return n;
}

static jnode *parse_subscript(parser *p, jnode *node)
{
    if (skip_op(p, ".")) {
        token *t = cur(p);
        if (t->type == T_NAME) {
            jnode *n = mk(p, N_GETATTR);
            if (!n)
                return NULL;
            n->a = node;
            n->name = t->s;
            n->namelen = strlen(t->s);
            p->pos++;
            return n;
        }
        if (t->type == T_INT) {
            jnode *n = mk(p, N_GETITEM), *k = mk(p, N_CONST);
            if (!n || !k)
                return NULL;
            k->value = t->value;
            n->a = node;
            n->b = k;
            p->pos++;
            return n;
        }
        return fail_tok(p, "expected name or number");
    }
    p->pos++; /* '[' */
    nodevec v = {0};
    while (!is_op(p, "]")) {
        if (v.n && !expect_op(p, ","))
            return NULL;
        if (is_op(p, "]"))
            break;
        jnode *e = parse_subscribed(p);
        if (!e || vec_push(p, &v, e, NULL, 0) < 0)
            return NULL;
    }
    p->pos++;
    if (v.n == 0)
        return fail_tok(p, "expected an index");
    jnode *n = mk(p, N_GETITEM);
    if (!n)
        return NULL;
    n->a = node;
    if (v.n == 1) {
        n->b = v.items[0];
    } else {
        jnode *t = mk(p, N_TUPLE);
        if (!t)
            return NULL;
        vec_to(t, &v);
        n->b = t;
    }
    return n;
}

static jnode *parse_postfix(parser *p, jnode *node)
{
    while (node) {
        if (is_op(p, ".") || is_op(p, "["))
            node = parse_subscript(p, node);
        else if (is_op(p, "("))
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

static jnode *parse_list_like(parser *p, const char *close, jnode_kind kind)
{
    jnode *n = mk(p, kind);
    nodevec v = {0};
    if (!n)
        return NULL;
    p->pos++;
    while (!is_op(p, close)) {
        if (v.n && !expect_op(p, ","))
            return NULL;
        if (is_op(p, close))
            break;
        jnode *k = parse_expression(p, 1);
        if (!k || vec_push(p, &v, k, NULL, 0) < 0)
            return NULL;
        if (kind == N_DICT) {
            if (!expect_op(p, ":"))
                return NULL;
            jnode *val = parse_expression(p, 1);
            if (!val || vec_push(p, &v, val, NULL, 0) < 0)
                return NULL;
        }
    }
    p->pos++;
    vec_to(n, &v);
    return n;
}

static jnode *parse_primary(parser *p)
{
    token *t = cur(p);
    jnode *n;
    if (!enter(p))
        return NULL;
    switch (t->type) {
    case T_NAME:
        n = mk(p, N_CONST);
        if (!n)
            return NULL;
        if (!strcmp(t->s, "true") || !strcmp(t->s, "True")) {
            n->value = PV_TRUE_V;
        } else if (!strcmp(t->s, "false") || !strcmp(t->s, "False")) {
            n->value = PV_FALSE_V;
        } else if (!strcmp(t->s, "none") || !strcmp(t->s, "None")) {
            n->value = PV_NONE_V;
        } else {
            n->kind = N_NAME;
            n->name = t->s;
            n->namelen = strlen(t->s);
        }
        p->pos++;
        return leave(p, n);
    case T_STRING: {
        n = mk(p, N_CONST);
        if (!n)
            return NULL;
        n->value = t->value;
        p->pos++;
        if (cur(p)->type == T_STRING) { /* adjacent literals concatenate */
            t0_buf b = {0};
            t0_buf_add(&b, t->value->u.str.s, t->value->u.str.len);
            while (cur(p)->type == T_STRING) {
                t0_buf_add(&b, cur(p)->value->u.str.s, cur(p)->value->u.str.len);
                p->pos++;
            }
            n->value = pv_mk_str(p->arena, b.p, b.len);
            t0_buf_free(&b);
            if (!n->value)
                return fail_tok(p, "out of memory");
        }
        return leave(p, n);
    }
    case T_INT:
    case T_FLOAT:
        n = mk(p, N_CONST);
        if (!n)
            return NULL;
        n->value = t->value;
        p->pos++;
        return leave(p, n);
    case T_OP:
        if (is_op(p, "(")) {
            p->pos++;
            n = parse_tuple(p, 1, 1);
            if (!n || !expect_op(p, ")"))
                return NULL;
            return leave(p, n);
        }
        if (is_op(p, "["))
            return leave(p, parse_list_like(p, "]", N_LIST));
        if (is_op(p, "{"))
            return leave(p, parse_list_like(p, "}", N_DICT));
        /* fall through */
    default:
        if (t->type == T_VAR_END || t->type == T_BLOCK_END || t->type == T_EOF)
            return fail_tok(p, "unexpected end of expression");
        return fail_tok(p, "unexpected token");
    }
}

static jnode *parse_unary(parser *p, int with_filter)
{
    jnode *node;
    if (!enter(p))
        return NULL;
    if (is_op(p, "-") || is_op(p, "+")) {
        jnode *n = mk(p, is_op(p, "-") ? N_NEG : N_POS);
        p->pos++;
        if (!n || !(n->a = parse_unary(p, 0)))
            return NULL;
        node = n;
    } else {
        node = parse_primary(p);
    }
    node = parse_postfix(p, node);
    if (with_filter)
        node = parse_filter_expr(p, node);
    return leave(p, node);
}

static jnode *parse_pow(parser *p)
{
    jnode *left = parse_unary(p, 1);
    while (left && is_op(p, "**")) {
        p->pos++;
        jnode *right = parse_unary(p, 1);
        left = right ? binop(p, left, right, OP_POW) : NULL;
    }
    return left;
}

static jnode *parse_math2(parser *p)
{
    jnode *left = parse_pow(p);
    while (left) {
        int op = is_op(p, "*") ? OP_MUL : is_op(p, "/") ? OP_DIV : is_op(p, "//") ? OP_FLOORDIV
                 : is_op(p, "%") ? OP_MOD : -1;
        if (op < 0)
            break;
        p->pos++;
        jnode *right = parse_pow(p);
        left = right ? binop(p, left, right, op) : NULL;
    }
    return left;
}

static jnode *parse_concat(parser *p)
{
    jnode *left = parse_math2(p);
    while (left && is_op(p, "~")) {
        p->pos++;
        jnode *right = parse_math2(p);
        left = right ? binop(p, left, right, OP_CONCAT) : NULL;
    }
    return left;
}

static jnode *parse_math1(parser *p)
{
    jnode *left = parse_concat(p);
    while (left && (is_op(p, "+") || is_op(p, "-"))) {
        int op = is_op(p, "+") ? OP_ADD : OP_SUB;
        p->pos++;
        jnode *right = parse_concat(p);
        left = right ? binop(p, left, right, op) : NULL;
    }
    return left;
}

static jnode *parse_compare(parser *p)
{
    jnode *first = parse_math1(p);
    if (!first)
        return NULL;
    nodevec v = {0};
    while (1) {
        int op = is_op(p, "==") ? OP_EQ : is_op(p, "!=") ? OP_NE : is_op(p, "<") ? OP_LT
                 : is_op(p, "<=") ? OP_LE : is_op(p, ">") ? OP_GT : is_op(p, ">=") ? OP_GE : -1;
        if (op >= 0) {
            p->pos++;
        } else if (is_name(p, "in")) {
            op = OP_IN;
            p->pos++;
        } else if (is_name(p, "not") && p->toks[p->pos + 1].type == T_NAME &&
                   strcmp(p->toks[p->pos + 1].s, "in") == 0) {
            op = OP_NOTIN;
            p->pos += 2;
        } else {
            break;
        }
        jnode *right = parse_math1(p);
        if (!right || vec_push(p, &v, right, NULL, op) < 0)
            return NULL;
    }
    if (v.n == 0)
        return first;
    jnode *n = mk(p, N_COMPARE);
    if (!n)
        return NULL;
    n->a = first;
    vec_to(n, &v);
    return n;
}

static jnode *parse_not(parser *p)
{
    if (is_name(p, "not")) {
        jnode *n = mk(p, N_NOT);
        p->pos++;
        if (!n || !enter(p) || !(n->a = parse_not(p)))
            return NULL;
        return leave(p, n);
    }
    return parse_compare(p);
}

/* left OP right OP ... for the boolean operators, left-associative over operand. */
static jnode *parse_chain(parser *p, int kind, const char *op, jnode *(*operand)(parser *))
{
    jnode *left = operand(p);
    while (left && is_name(p, op)) {
        jnode *n = mk(p, kind);
        p->pos++;
        if (!n || !(n->b = operand(p)))
            return NULL;
        n->a = left;
        left = n;
    }
    return left;
}

static jnode *parse_and(parser *p) { return parse_chain(p, N_AND, "and", parse_not); }

static jnode *parse_or(parser *p) { return parse_chain(p, N_OR, "or", parse_and); }

static jnode *parse_condexpr(parser *p)
{
    if (!enter(p))
        return NULL;
    jnode *expr1 = parse_or(p);
    while (expr1 && is_name(p, "if")) {
        p->pos++;
        jnode *n = mk(p, N_CONDEXPR);
        if (!n || !(n->a = parse_or(p)))
            return NULL;
        n->b = expr1;
        if (is_name(p, "else")) {
            p->pos++;
            if (!(n->c = parse_condexpr(p)))
                return NULL;
        }
        expr1 = n;
    }
    return leave(p, expr1);
}

static jnode *parse_expression(parser *p, int with_condexpr)
{
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

static int tuple_end(parser *p)
{
    token *t = cur(p);
    return t->type == T_VAR_END || t->type == T_BLOCK_END || t->type == T_EOF || is_op(p, ")") ||
           is_name(p, "in") || is_name(p, "if") || is_name(p, "recursive") || is_op(p, "=");
}

static jnode *parse_tuple(parser *p, int with_condexpr, int explicit_parens)
{
    nodevec v = {0};
    int is_tuple = 0;
    while (1) {
        if (v.n) {
            if (!skip_op(p, ","))
                break;
            is_tuple = 1;
        }
        if (tuple_end(p))
            break;
        jnode *e = parse_expression(p, with_condexpr);
        if (!e || vec_push(p, &v, e, NULL, 0) < 0)
            return NULL;
    }
    if (!is_tuple) {
        if (v.n)
            return v.items[0];
        if (!explicit_parens)
            return fail_tok(p, "expected an expression");
    }
    jnode *n = mk(p, N_TUPLE);
    if (!n)
        return NULL;
    vec_to(n, &v);
    return n;
}

/* ---------------- statements ---------------- */

static jnode *parse_body(parser *p, const char *const *ends);

static int expect_block_end(parser *p)
{
    if (cur(p)->type != T_BLOCK_END) {
        fail_tok(p, "expected end of statement block");
        return 0;
    }
    p->pos++;
    return 1;
}

/* Assignment target: name, name.attr (namespace), or names separated by commas. */
static jnode *parse_assign_target(parser *p, int with_namespace)
{
    nodevec v = {0};
    while (1) {
        if (cur(p)->type != T_NAME)
            return fail_tok(p, "expected a name to assign to");
        jnode *n = mk(p, N_NAME);
        if (!n)
            return NULL;
        n->name = cur(p)->s;
        n->namelen = strlen(n->name);
        p->pos++;
        if (with_namespace && is_op(p, ".") && p->toks[p->pos + 1].type == T_NAME) {
            jnode *ref = mk(p, N_NSREF);
            if (!ref)
                return NULL;
            ref->a = n;
            ref->name = p->toks[p->pos + 1].s;
            ref->namelen = strlen(ref->name);
            p->pos += 2;
            return ref;
        }
        if (vec_push(p, &v, n, NULL, 0) < 0)
            return NULL;
        if (!skip_op(p, ","))
            break;
        if (is_name(p, "in") || is_op(p, "="))
            break;
    }
    if (v.n == 1 && !is_op(p, ",") && p->toks[p->pos - 1].type == T_NAME)
        return v.items[0];
    jnode *t = mk(p, N_TUPLE);
    if (!t)
        return NULL;
    vec_to(t, &v);
    return t;
}

static const char *const END_IF[] = {"elif", "else", "endif", NULL};
static const char *const END_FOR[] = {"else", "endfor", NULL};
static const char *const END_FOR_ELSE[] = {"endfor", NULL};
static const char *const END_SET[] = {"endset", NULL};

static jnode *parse_if(parser *p)
{
    jnode *n = mk(p, N_IF);
    if (!n || !(n->a = parse_tuple(p, 0, 0)) || !expect_block_end(p))
        return NULL;
    if (!(n->b = parse_body(p, END_IF)) && p->failed)
        return NULL;
    const char *tag = cur(p)->s;
    p->pos++;
    if (!strcmp(tag, "elif")) {
        if (!(n->c = parse_if(p)))
            return NULL;
        return n;
    }
    if (!strcmp(tag, "else")) {
        if (!expect_block_end(p))
            return NULL;
        if (!(n->c = parse_body(p, END_IF + 2)) && p->failed)
            return NULL;
        p->pos++;
    }
    if (!expect_block_end(p))
        return NULL;
    return n;
}

static jnode *parse_for(parser *p)
{
    jnode *n = mk(p, N_FOR);
    if (!n || !(n->a = parse_assign_target(p, 0)))
        return NULL;
    if (!is_name(p, "in"))
        return fail_tok(p, "expected 'in'");
    p->pos++;
    if (!(n->b = parse_tuple(p, 0, 0)))
        return NULL;
    if (is_name(p, "if")) {
        p->pos++;
        nodevec v = {0};
        jnode *cond = parse_expression(p, 1);
        if (!cond || vec_push(p, &v, cond, NULL, 0) < 0)
            return NULL;
        vec_to(n, &v);
    }
    if (is_name(p, "recursive"))
        return fail_tok(p, "recursive loops are not supported");
    if (!expect_block_end(p))
        return NULL;
    if (!(n->c = parse_body(p, END_FOR)) && p->failed)
        return NULL;
    if (!strcmp(cur(p)->s, "else")) {
        p->pos++;
        if (!expect_block_end(p))
            return NULL;
        if (!(n->d = parse_body(p, END_FOR_ELSE)) && p->failed)
            return NULL;
    }
    p->pos++;
    if (!expect_block_end(p))
        return NULL;
    return n;
}

static jnode *parse_set(parser *p)
{
    jnode *n = mk(p, N_SET);
    if (!n || !(n->a = parse_assign_target(p, 1)))
        return NULL;
    if (skip_op(p, "=")) {
        if (!(n->b = parse_tuple(p, 1, 0)) || !expect_block_end(p))
            return NULL;
        return n;
    }
    if (is_op(p, "|"))
        return fail_tok(p, "filtered block set is not supported");
    n->kind = N_SETBLOCK;
    if (!expect_block_end(p))
        return NULL;
    if (!(n->c = parse_body(p, END_SET)) && p->failed)
        return NULL;
    p->pos++;
    if (!expect_block_end(p))
        return NULL;
    return n;
}

static jnode *parse_statement(parser *p)
{
    token *t = cur(p);
    if (t->type != T_NAME)
        return fail_tok(p, "tag name expected");
    if (!enter(p))
        return NULL;
    p->pos++;
    jnode *n;
    if (!strcmp(t->s, "if"))
        n = parse_if(p);
    else if (!strcmp(t->s, "for"))
        n = parse_for(p);
    else if (!strcmp(t->s, "set"))
        n = parse_set(p);
    else {
        p->pos--;
        char msg[128];
        snprintf(msg, sizeof msg, "unknown or unexpected tag '%.60s'", t->s);
        return fail_tok(p, msg);
    }
    return leave(p, n);
}

/* Parses nodes until a {% name %} with name in ends (left as the current token, after the
 * block begin) or EOF (ends == NULL). Returns the first node (NULL for an empty body). */
static jnode *parse_body(parser *p, const char *const *ends)
{
    jnode *first = NULL, **tail = &first;
    while (1) {
        token *t = cur(p);
        jnode *n = NULL;
        if (t->type == T_EOF) {
            if (ends) {
                char msg[96];
                snprintf(msg, sizeof msg, "unexpected end of template, expected '%s'", ends[0]);
                return fail_tok(p, msg);
            }
            return first;
        }
        if (t->type == T_DATA) {
            n = mk(p, N_DATA);
            if (!n || !(n->value = pv_mk_str(p->arena, t->s, t->len)))
                return fail_tok(p, "out of memory");
            p->pos++;
        } else if (t->type == T_VAR_BEGIN) {
            p->pos++;
            n = mk(p, N_OUTPUT);
            if (!n || !(n->a = parse_tuple(p, 1, 0)))
                return NULL;
            if (cur(p)->type != T_VAR_END)
                return fail_tok(p, "expected end of print statement");
            p->pos++;
        } else if (t->type == T_BLOCK_BEGIN) {
            token *name = &p->toks[p->pos + 1];
            if (ends && name->type == T_NAME)
                for (int k = 0; ends[k]; k++)
                    if (!strcmp(name->s, ends[k])) {
                        p->pos++;
                        return first;
                    }
            p->pos++;
            if (!(n = parse_statement(p)))
                return NULL;
        } else {
            return fail_tok(p, "unexpected token");
        }
        *tail = n;
        tail = &n->next;
    }
}

/* ---------------- undeclared variables (jinja2.meta) ---------------- */

typedef struct {
    const char **names;
    int n, cap;
} nameset;

static int set_has(nameset *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (s->names[i] == name)
            return 1;
    return 0;
}

static void set_add(nameset *s, const char *name)
{
    if (set_has(s, name))
        return;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        const char **n = realloc(s->names, (size_t)cap * sizeof *n);
        if (!n)
            return;
        s->names = n;
        s->cap = cap;
    }
    s->names[s->n++] = name;
}

static void bind_target(nameset *declared, jnode *t)
{
    if (t->kind == N_NAME)
        set_add(declared, t->name);
    else if (t->kind == N_TUPLE)
        for (int i = 0; i < t->nargs; i++)
            bind_target(declared, t->args[i]);
}

/* Approximates jinja2.meta.find_undeclared_variables: a name read before any assignment
 * of it in document order, that is no global and not `loop` inside a for. */
static int undeclared(jnode *n, nameset *declared, int in_loop)
{
    for (; n; n = n->next) {
        if (n->kind == N_NAME) {
            if (!set_has(declared, n->name) && !jinja_is_global(n->name) &&
                !(in_loop && !strcmp(n->name, "loop")))
                return 1;
            continue;
        }
        if (n->kind == N_SET) {
            if (undeclared(n->b, declared, in_loop))
                return 1;
            if (n->a->kind == N_NSREF) {
                if (undeclared(n->a->a, declared, in_loop))
                    return 1;
            } else {
                bind_target(declared, n->a);
            }
            continue;
        }
        if (n->kind == N_SETBLOCK) {
            if (undeclared(n->c, declared, in_loop))
                return 1;
            bind_target(declared, n->a);
            continue;
        }
        if (n->kind == N_FOR) {
            if (undeclared(n->b, declared, in_loop))
                return 1;
            int saved = declared->n; /* names set inside a body do not outlive it */
            bind_target(declared, n->a);
            if ((n->nargs && undeclared(n->args[0], declared, 1)) || undeclared(n->c, declared, 1))
                return 1;
            declared->n = saved;
            if (undeclared(n->d, declared, in_loop))
                return 1;
            declared->n = saved;
            continue;
        }
        if (n->kind == N_IF) {
            if (undeclared(n->a, declared, in_loop))
                return 1;
            int saved = declared->n;
            if (undeclared(n->b, declared, in_loop))
                return 1;
            declared->n = saved;
            if (undeclared(n->c, declared, in_loop))
                return 1;
            declared->n = saved;
            continue;
        }
        jnode *kids[4] = {n->a, n->b, n->c, n->d};
        for (int k = 0; k < 4; k++)
            if (kids[k] && undeclared(kids[k], declared, in_loop))
                return 1;
        for (int k = 0; k < n->nargs; k++)
            if (n->args[k] && undeclared(n->args[k], declared, in_loop))
                return 1;
        if (n->kind != N_DATA && n->kind != N_OUTPUT && n->kind != N_IF)
            break; /* expressions have no next */
    }
    return 0;
}

/* ---------------- entry points ---------------- */

jinja_template *jinja_parse(const char *src, size_t len, t0_error *err)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.err = err;
    p.arena = pv_arena_new();
    jinja_template *t = calloc(1, sizeof *t);
    /* newlines normalized to \n, and one trailing newline dropped (keep_trailing_newline off) */
    char *copy = malloc(len + 1);
    if (!p.arena || !t || !copy) {
        pv_arena_free(p.arena);
        free(t);
        free(copy);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            copy[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n')
                i++;
        } else {
            copy[n++] = src[i];
        }
    }
    if (n > 0 && copy[n - 1] == '\n')
        n--;
    copy[n] = '\0';
    p.src = copy;
    p.len = n;
    jnode *body = NULL;
    if (lex(&p) == 0)
        body = parse_body(&p, NULL);
    free(copy);
    free(p.toks);
    if (p.failed || !intern(&p, "loop", 4)) {
        if (!p.failed)
            t0_fail(err, T0_EINTERNAL, "out of memory");
        free(p.names);
        pv_arena_free(p.arena);
        free(t);
        return NULL;
    }
    t->arena = p.arena;
    t->body = body;
    t->loop_name = intern(&p, "loop", 4);
    nameset declared = {0};
    t->undeclared = undeclared(body, &declared, 0);
    free(declared.names);
    free(p.names);
    return t;
}

void jinja_free(jinja_template *t)
{
    if (!t)
        return;
    pv_arena_free(t->arena);
    free(t);
}

int jinja_has_undeclared(const jinja_template *t)
{
    return t->undeclared;
}
