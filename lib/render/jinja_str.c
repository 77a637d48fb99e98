/* jinja_str.c: Python's str semantics for the Jinja engine (see jinja_str.h): the str
 * operations the str methods and filters call, int()/float() parsing, printf-style "%" and
 * str.format. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/jinja_str.h"

/* ---------------- str operations ---------------- */

typedef struct {
    uint32_t *cp;
    size_t n;
} cps;

static int to_cps(render *r, const pyval *s, cps *out)
{
    out->n = s->u.str.ncp;
    out->cp = pv_alloc(r->a, (out->n + 1) * sizeof(uint32_t));
    if (!out->cp) {
        rfail(r, "out of memory");
        return -1;
    }
    size_t off = 0;
    for (size_t i = 0; i < out->n; i++)
        off += ju_decode(s->u.str.s + off, s->u.str.len - off, &out->cp[i]);
    return 0;
}

/* The code point that ends at byte e of p (e > lo), and where it starts. */
static size_t prev_char(const char *p, size_t lo, size_t e, uint32_t *c)
{
    size_t st = e - 1;
    while (st > lo && ((unsigned char)p[st] & 0xC0) == 0x80)
        st--;
    ju_decode(p + st, e - st, c);
    return st;
}

/* From byte i on, the first character that is (want 1) or is not (want 0) whitespace; len if none. */
static size_t skip_space(const char *p, size_t i, size_t len, int want)
{
    uint32_t c;
    while (i < len) {
        size_t k = ju_decode(p + i, len - i, &c);
        if ((ju_isspace(c) != 0) == want)
            break;
        i += k;
    }
    return i;
}

/* The same backwards from byte e (down to lo): the end of the last such character. */
static size_t skip_space_back(const char *p, size_t lo, size_t e, int want)
{
    uint32_t c;
    while (e > lo) {
        size_t st = prev_char(p, lo, e, &c);
        if ((ju_isspace(c) != 0) == want)
            break;
        e = st;
    }
    return e;
}

static int cp_in(uint32_t c, const cps *set)
{
    if (!set)
        return ju_isspace(c);
    for (size_t i = 0; i < set->n; i++)
        if (set->cp[i] == c)
            return 1;
    return 0;
}

/* strip: which = 1 left, 2 right, 3 both; chars NULL/None = whitespace */
pyval *js_strip(render *r, pyval *s, pyval *chars, int which)
{
    cps set, *setp = NULL;
    if (chars && chars->type != PV_NONE) {
        if (!r_need_str(r, chars, "strip arg") || to_cps(r, chars, &set) < 0)
            return NULL;
        setp = &set;
    }
    const char *p = s->u.str.s;
    size_t b = 0, e = s->u.str.len;
    uint32_t c;
    if (which & 1)
        while (b < e) {
            size_t k = ju_decode(p + b, e - b, &c);
            if (!cp_in(c, setp))
                break;
            b += k;
        }
    if (which & 2)
        while (e > b) {
            size_t st = prev_char(p, b, e, &c);
            if (!cp_in(c, setp))
                break;
            e = st;
        }
    if (b == 0 && e == s->u.str.len)
        return s;
    return r_str(r, p + b, e - b);
}

/* Python's final sigma rule: capital sigma at byte `at` lowers to final sigma when a cased
 * letter precedes it and none follows (case-ignorable characters skipped both ways). */
static int final_sigma(const pyval *s, size_t at)
{
    const char *p = s->u.str.s;
    size_t len = s->u.str.len, i = at;
    uint32_t c;
    int before = 0, after = 0;
    while (i > 0) {
        i = prev_char(p, 0, i, &c);
        if (!ju_iscase_ignorable(c)) {
            before = ju_iscased(c);
            break;
        }
    }
    i = at + 2; /* U+03A3 is two bytes */
    while (i < len) {
        i += ju_decode(p + i, len - i, &c);
        if (!ju_iscase_ignorable(c)) {
            after = ju_iscased(c);
            break;
        }
    }
    return before && !after;
}

static void lower_at(t0_buf *b, const pyval *s, size_t at, uint32_t c)
{
    if (c == 0x3A3 && final_sigma(s, at))
        t0_buf_add(b, "\xcf\x82", 2);
    else
        ju_append_lower(b, c);
}

pyval *js_case(render *r, pyval *s, int mode) /* 0 lower 1 upper 2 capitalize 3 title */
{
    if (s->ascii && mode <= 1) {
        pyval *o = r_str(r, s->u.str.s, s->u.str.len);
        if (!o)
            return NULL;
        for (size_t i = 0; i < o->u.str.len; i++) {
            char c = o->u.str.s[i];
            if (mode == 0 && c >= 'A' && c <= 'Z')
                o->u.str.s[i] = (char)(c + 32);
            else if (mode == 1 && c >= 'a' && c <= 'z')
                o->u.str.s[i] = (char)(c - 32);
        }
        return o;
    }
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    size_t off = 0;
    int prev_cased = 0, first = 1;
    while (off < s->u.str.len) {
        uint32_t c;
        size_t at = off;
        off += ju_decode(s->u.str.s + off, s->u.str.len - off, &c);
        switch (mode) {
        case 0: lower_at(&b, s, at, c); break;
        case 1: ju_append_upper(&b, c); break;
        case 2:
            if (first)
                ju_append_title(&b, c);
            else
                lower_at(&b, s, at, c);
            break;
        case 3:
            if (prev_cased)
                lower_at(&b, s, at, c);
            else
                ju_append_title(&b, c);
            prev_cased = ju_iscased(c);
            break;
        }
        first = 0;
    }
    return r_buf_to_str(r, &b);
}

pyval *js_replace(render *r, pyval *s, pyval *old, pyval *new, int64_t count)
{
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    const char *p = s->u.str.s;
    size_t len = s->u.str.len, i = 0;
    if (old->u.str.len == 0) { /* Python inserts `new` around every character */
        int64_t done = 0;
        while (1) {
            if (count < 0 || done < count) {
                t0_buf_add(&b, new->u.str.s, new->u.str.len);
                done++;
            }
            if (i >= len)
                break;
            uint32_t c;
            size_t k = ju_decode(p + i, len - i, &c);
            t0_buf_add(&b, p + i, k);
            i += k;
            if (b.failed)
                break;
        }
        return r_buf_to_str(r, &b);
    }
    int64_t done = 0;
    while (i <= len) {
        const char *hit = (count < 0 || done < count) ? memmem(p + i, len - i, old->u.str.s, old->u.str.len) : NULL;
        if (!hit) {
            t0_buf_add(&b, p + i, len - i);
            break;
        }
        t0_buf_add(&b, p + i, (size_t)(hit - (p + i)));
        t0_buf_add(&b, new->u.str.s, new->u.str.len);
        i = (size_t)(hit - p) + old->u.str.len;
        done++;
    }
    return r_buf_to_str(r, &b);
}

static int push_str(render *r, pyval *list, const char *s, size_t len)
{
    pyval *w = r_str(r, s, len);
    return w ? r_push(r, list, w) : -1;
}

/* Appends the items of rev to out, last first. */
static pyval *push_reversed(render *r, pyval *out, pyval *rev)
{
    for (size_t k = rev->u.list.len; k-- > 0;)
        if (r_push(r, out, rev->u.list.items[k]) < 0)
            return NULL;
    return out;
}

/* str.split() on runs of whitespace, at most maxsplit times (< 0: no limit). */
static pyval *split_space(render *r, pyval *out, const char *p, size_t len, int64_t maxsplit)
{
    size_t i = 0;
    for (int64_t done = 0;; done++) {
        i = skip_space(p, i, len, 0);
        if (i >= len)
            break;
        if (maxsplit >= 0 && done == maxsplit) /* the rest, right-stripped */
            return push_str(r, out, p + i, skip_space_back(p, i, len, 0) - i) < 0 ? NULL : out;
        size_t st = i;
        i = skip_space(p, i, len, 1);
        if (push_str(r, out, p + st, i - st) < 0)
            return NULL;
    }
    return out;
}

/* str.rsplit(None, maxsplit) with maxsplit >= 0: words from the right. */
static pyval *rsplit_space(render *r, pyval *out, const char *p, size_t len, int64_t maxsplit)
{
    pyval *rev = r_list(r, PV_LIST, 0);
    if (!rev)
        return NULL;
    size_t e = len;
    for (int64_t done = 0;; done++) {
        e = skip_space_back(p, 0, e, 0);
        if (e == 0)
            break;
        if (done == maxsplit) {
            if (push_str(r, rev, p, e) < 0)
                return NULL;
            break;
        }
        size_t st = skip_space_back(p, 0, e, 1);
        if (push_str(r, rev, p + st, e - st) < 0)
            return NULL;
        e = st;
    }
    return push_reversed(r, out, rev);
}

/* str.split(sep, maxsplit). */
static pyval *split_sep(render *r, pyval *out, const char *p, size_t len, const pyval *sep, int64_t maxsplit)
{
    const char *sp = sep->u.str.s;
    size_t sl = sep->u.str.len, i = 0;
    for (int64_t done = 0;; done++) {
        const char *hit = (maxsplit < 0 || done < maxsplit) ? memmem(p + i, len - i, sp, sl) : NULL;
        size_t e = hit ? (size_t)(hit - p) : len;
        if (push_str(r, out, p + i, e - i) < 0)
            return NULL;
        if (!hit)
            return out;
        i = e + sl;
    }
}

/* str.rsplit(sep, maxsplit) with maxsplit >= 0. */
static pyval *rsplit_sep(render *r, pyval *out, const char *p, size_t len, const pyval *sep, int64_t maxsplit)
{
    const char *sp = sep->u.str.s;
    size_t sl = sep->u.str.len, e = len;
    pyval *rev = r_list(r, PV_LIST, 0);
    if (!rev)
        return NULL;
    for (int64_t done = 0; done < maxsplit; done++) {
        const char *hit = NULL;
        for (size_t k = e; k >= sl; k--)
            if (memcmp(p + k - sl, sp, sl) == 0) {
                hit = p + k - sl;
                break;
            }
        if (!hit)
            break;
        if (push_str(r, rev, hit + sl, (size_t)(p + e - (hit + sl))) < 0)
            return NULL;
        e = (size_t)(hit - p);
    }
    if (push_str(r, out, p, e) < 0)
        return NULL;
    return push_reversed(r, out, rev);
}

/* Python str.split / rsplit (rsplit differs only when maxsplit counts from the right). */
pyval *js_split(render *r, pyval *s, pyval *sep, int64_t maxsplit, int from_right)
{
    pyval *out = r_list(r, PV_LIST, 0);
    if (!out)
        return NULL;
    const char *p = s->u.str.s;
    size_t len = s->u.str.len;
    int right = from_right && maxsplit >= 0;
    if (!sep || sep->type == PV_NONE)
        return right ? rsplit_space(r, out, p, len, maxsplit) : split_space(r, out, p, len, maxsplit);
    if (!r_need_str(r, sep, "split separator"))
        return NULL;
    if (sep->u.str.len == 0)
        return rfail(r, "empty separator");
    return right ? rsplit_sep(r, out, p, len, sep, maxsplit) : split_sep(r, out, p, len, sep, maxsplit);
}

pyval *js_splitlines(render *r, pyval *s)
{
    pyval *out = r_list(r, PV_LIST, 0);
    if (!out)
        return NULL;
    const char *p = s->u.str.s, *e = p + s->u.str.len, *st = p;
    while (p < e) {
        if (*p != '\n' && *p != '\r') {
            p++;
            continue;
        }
        if (push_str(r, out, st, (size_t)(p - st)) < 0)
            return NULL;
        if (*p == '\r' && p + 1 < e && p[1] == '\n')
            p++;
        st = ++p;
    }
    if (st < e && push_str(r, out, st, (size_t)(e - st)) < 0)
        return NULL;
    return out;
}

/* Python str.find with optional start/end in code points; returns code point index or -1. */
int64_t js_find(render *r, pyval *s, pyval *sub, pyval *start, pyval *end, int rev)
{
    int64_t n = (int64_t)s->u.str.ncp, b = 0, e = n;
    if (start && start->type != PV_NONE && r_need_int(r, start, "find", &b) < 0)
        return -2;
    if (end && end->type != PV_NONE && r_need_int(r, end, "find", &e) < 0)
        return -2;
    if (b < 0 && (b += n) < 0)
        b = 0;
    if (e < 0 && (e += n) < 0)
        e = 0;
    if (e > n)
        e = n;
    if (b > e)
        return -1;
    size_t ob = pv_str_offset(s, (size_t)b), oe = pv_str_offset(s, (size_t)e);
    const char *p = s->u.str.s, *hit = NULL;
    if (!rev) {
        hit = sub->u.str.len == 0 ? p + ob : memmem(p + ob, oe - ob, sub->u.str.s, sub->u.str.len);
    } else {
        for (size_t k = oe; k >= ob + sub->u.str.len; k--) {
            if (memcmp(p + k - sub->u.str.len, sub->u.str.s, sub->u.str.len) == 0) {
                hit = p + k - sub->u.str.len;
                break;
            }
            if (k == 0)
                break;
        }
    }
    if (!hit)
        return -1;
    return (int64_t)ju_count(p, (size_t)(hit - p));
}

int js_affix(render *r, pyval *s, pyval *fix, int end, int *ok)
{
    *ok = 0;
    if (fix->type == PV_TUPLE) {
        for (size_t i = 0; i < fix->u.list.len; i++) {
            int one;
            if (js_affix(r, s, fix->u.list.items[i], end, &one) < 0)
                return -1;
            if (one) {
                *ok = 1;
                return 0;
            }
        }
        return 0;
    }
    if (!r_need_str(r, fix, end ? "endswith" : "startswith"))
        return -1;
    size_t n = fix->u.str.len;
    if (n > s->u.str.len)
        return 0;
    *ok = memcmp(end ? s->u.str.s + s->u.str.len - n : s->u.str.s, fix->u.str.s, n) == 0;
    return 0;
}

pyval *js_join(render *r, pyval *sep, pyval *seq, int convert)
{
    pyval **items;
    size_t n;
    if (r_iterate(r, seq, &items, &n) < 0)
        return NULL;
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    for (size_t i = 0; i < n; i++) {
        pyval *s = items[i];
        if (convert) {
            if (!(s = r_tostr(r, s))) {
                t0_buf_free(&b);
                return NULL;
            }
        } else if (s->type != PV_STR) {
            t0_buf_free(&b);
            return rfail(r, "sequence item %zu: expected str instance, %s found", i, pv_type_name(s));
        }
        if (i)
            t0_buf_add(&b, sep->u.str.s, sep->u.str.len);
        t0_buf_add(&b, s->u.str.s, s->u.str.len);
    }
    return r_buf_to_str(r, &b);
}

/* ---------------- number parsing (Python int() and float() of a str) ---------------- */

int js_clean_number(const pyval *s, char *buf, size_t cap)
{
    const char *p = s->u.str.s;
    size_t b = 0, e = s->u.str.len, n = 0;
    b = ju_lstrip_len(p, e);
    e = b + ju_rstrip_len(p + b, e - b);
    for (size_t i = b; i < e; i++) {
        if (p[i] == '_') { /* allowed only between digits */
            if (i == b || i + 1 >= e || !(p[i - 1] >= '0' && p[i - 1] <= '9') || !(p[i + 1] >= '0' && p[i + 1] <= '9'))
                return -1;
            continue;
        }
        if ((unsigned char)p[i] >= 0x80 || n + 1 >= cap)
            return -1;
        buf[n++] = p[i];
    }
    buf[n] = '\0';
    return n ? 0 : -1;
}

int js_parse_int(const pyval *s, int64_t *out)
{
    char buf[64];
    if (js_clean_number(s, buf, sizeof buf) < 0)
        return -1;
    const char *q = buf;
    if (*q == '+' || *q == '-')
        q++;
    if (!*q)
        return -1;
    for (const char *k = q; *k; k++)
        if (*k < '0' || *k > '9')
            return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno)
        return -2;
    *out = v;
    return 0;
}

int js_parse_float(const pyval *s, double *out)
{
    char buf[512];
    if (js_clean_number(s, buf, sizeof buf) < 0)
        return -1;
    const char *q = buf;
    if (*q == '+' || *q == '-')
        q++;
    if (!strcasecmp(q, "inf") || !strcasecmp(q, "infinity") || !strcasecmp(q, "nan")) {
        double v = tolower((unsigned char)q[0]) == 'n' ? NAN : INFINITY;
        *out = buf[0] == '-' ? -v : v;
        return 0;
    }
    int digits = 0;
    for (const char *k = q; *k; k++) {
        if (*k >= '0' && *k <= '9')
            digits = 1;
        else if (!strchr(".eE+-", *k))
            return -1;
    }
    if (!digits)
        return -1;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

/* ---------------- printf-style formatting: "..." % args ---------------- */

static pyval *to_int_for_format(render *r, pyval *v, char conv)
{
    if (v->type == PV_FLOAT) {
        if (!isfinite(v->u.f))
            return rfail(r, "cannot convert float infinity or nan to integer");
        if (conv != 'd' && conv != 'i')
            return rfail(r, "%%%c format: an integer is required, not float", conv);
        if (fabs(v->u.f) >= 9.2e18)
            return rfail(r, "integer too large");
        return r_int(r, (int64_t)v->u.f);
    }
    if ((v->type == PV_INT || v->type == PV_BOOL) && !v->big)
        return v;
    if (v->type == PV_UNDEFINED)
        return rfail(r, "%s", v->u.str.s);
    return rfail(r, "%%%c format: a real number is required, not %s", conv, pv_type_name(v));
}

static void pad_append(t0_buf *b, const char *s, size_t len, int64_t width, int left)
{
    int64_t n = (int64_t)ju_count(s, len);
    if (!left)
        for (int64_t i = n; i < width; i++)
            t0_buf_add(b, " ", 1);
    t0_buf_add(b, s, len);
    if (left)
        for (int64_t i = n; i < width; i++)
            t0_buf_add(b, " ", 1);
}

/* One conversion of printf-style formatting: %[(key)][flags][width][.precision]conv. */
typedef struct {
    pyval *arg; /* the value of (key), else NULL */
    char flags[8];
    int64_t width, prec; /* -1: not given */
    char conv;
} pct_spec;

/* Parses the conversion after a '%' at *pp; 0, or -1 with the error set. */
static int pct_parse(render *r, const char **pp, const char *end, pyval *args, int mapping, pct_spec *sp)
{
    const char *p = *pp;
    *sp = (pct_spec){.width = -1, .prec = -1};
    if (p < end && *p == '(') {
        const char *close = memchr(p, ')', (size_t)(end - p));
        if (!close || !mapping)
            return rfail(r, close ? "format requires a mapping" : "incomplete format key"), -1;
        if (!(sp->arg = pv_dict_find_str(args, p + 1, (size_t)(close - p - 1))))
            return rfail(r, "KeyError: '%.*s'", (int)(close - p - 1), p + 1), -1;
        p = close + 1;
    }
    int nf = 0;
    while (p < end && strchr("-+ #0", *p) && nf < 6)
        sp->flags[nf++] = *p++;
    if (p < end && *p == '*')
        return rfail(r, "'*' in format strings is not supported"), -1;
    while (p < end && *p >= '0' && *p <= '9')
        sp->width = (sp->width < 0 ? 0 : sp->width) * 10 + (*p++ - '0');
    if (p < end && *p == '.') {
        p++;
        sp->prec = 0;
        while (p < end && *p >= '0' && *p <= '9')
            sp->prec = sp->prec * 10 + (*p++ - '0');
    }
    while (p < end && (*p == 'l' || *p == 'h' || *p == 'L'))
        p++;
    if (sp->width > 100000 || sp->prec > 100000)
        return rfail(r, "format width too large"), -1;
    if (p >= end)
        return rfail(r, "incomplete format"), -1;
    sp->conv = *p++;
    *pp = p;
    return 0;
}

/* %s %r %a */
static int pct_string(render *r, t0_buf *b, const pct_spec *sp)
{
    pyval *s;
    if (sp->conv == 's') {
        s = r_tostr(r, sp->arg);
    } else {
        t0_buf rb = {0};
        rb.limit = J_MAX_SIZE;
        if (pv_repr_append(&rb, sp->arg, r->err) < 0) {
            t0_buf_free(&rb);
            return rfail(r, "value too large"), -1;
        }
        s = r_buf_to_str(r, &rb);
    }
    if (!s)
        return -1;
    size_t len = s->u.str.len;
    if (sp->prec >= 0 && (size_t)sp->prec < s->u.str.ncp)
        len = pv_str_offset(s, (size_t)sp->prec);
    pad_append(b, s->u.str.s, len, sp->width, strchr(sp->flags, '-') != NULL);
    return 0;
}

/* %d %i %u %o %x %X */
static int pct_int(render *r, t0_buf *b, const pct_spec *sp)
{
    pyval *iv = to_int_for_format(r, sp->arg, sp->conv);
    if (!iv)
        return -1;
    char c = sp->conv == 'i' || sp->conv == 'u' ? 'd' : sp->conv, cfmt[48], tmp[512];
    int64_t v = pv_int_value(iv), width = sp->width, prec = sp->prec;
    if (c != 'd' && v < 0) { /* Python formats the magnitude of negative hex/octal with a sign */
        char inner[64];
        snprintf(inner, sizeof inner, c == 'o' ? "%llo" : c == 'x' ? "%llx" : "%llX", (unsigned long long)(-(v + 1)) + 1ULL);
        snprintf(tmp, sizeof tmp, "-%s", inner);
        pad_append(b, tmp, strlen(tmp), width, strchr(sp->flags, '-') != NULL);
        return 0;
    }
    snprintf(cfmt, sizeof cfmt, "%%%s%s%sll%c", sp->flags, width >= 0 ? "*" : "", prec >= 0 ? ".*" : "", c);
    long long lv = (long long)v;
    int n;
    if (width >= 0 && prec >= 0)
        n = snprintf(tmp, sizeof tmp, cfmt, (int)width, (int)prec, lv);
    else if (width >= 0)
        n = snprintf(tmp, sizeof tmp, cfmt, (int)width, lv);
    else if (prec >= 0)
        n = snprintf(tmp, sizeof tmp, cfmt, (int)prec, lv);
    else
        n = snprintf(tmp, sizeof tmp, cfmt, lv);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return rfail(r, "formatted number too long"), -1;
    t0_buf_add(b, tmp, (size_t)n);
    return 0;
}

/* %e %E %f %F %g %G */
static int pct_float(render *r, t0_buf *b, const pct_spec *sp)
{
    pyval *arg = sp->arg;
    if (arg->type == PV_UNDEFINED)
        return rfail(r, "%s", arg->u.str.s), -1;
    if (arg->type != PV_FLOAT && arg->type != PV_INT && arg->type != PV_BOOL)
        return rfail(r, "must be real number, not %s", pv_type_name(arg)), -1;
    char cfmt[48];
    snprintf(cfmt, sizeof cfmt, "%%%s%s.*%c", sp->flags, sp->width >= 0 ? "*" : "", sp->conv);
    int pr = sp->prec >= 0 ? (int)sp->prec : 6;
    if (pr > 400)
        pr = 400;
    char *big = malloc(2048);
    if (!big)
        return rfail(r, "out of memory"), -1;
    double v = pv_float_value(arg);
    int n = sp->width >= 0 ? snprintf(big, 2048, cfmt, (int)sp->width, pr, v) : snprintf(big, 2048, cfmt, pr, v);
    if (n >= 0 && n < 2048)
        t0_buf_add(b, big, (size_t)n);
    free(big);
    return n < 0 || n >= 2048 ? (rfail(r, "formatted number too long"), -1) : 0;
}

/* %c */
static int pct_char(render *r, t0_buf *b, const pct_spec *sp)
{
    pyval *arg = sp->arg;
    int left = strchr(sp->flags, '-') != NULL;
    char u[4];
    if (arg->type == PV_STR && arg->u.str.ncp == 1)
        pad_append(b, arg->u.str.s, arg->u.str.len, sp->width, left);
    else if (arg->type == PV_INT && !arg->big && arg->u.i >= 0 && arg->u.i <= 0x10FFFF)
        pad_append(b, u, t0_utf8_encode((uint32_t)arg->u.i, u), sp->width, left);
    else
        return rfail(r, "%%c requires int or char"), -1;
    return 0;
}

static int pct_convert(render *r, t0_buf *b, const pct_spec *sp)
{
    char c = sp->conv;
    if (c == 's' || c == 'r' || c == 'a')
        return pct_string(r, b, sp);
    if (strchr("diouxX", c))
        return pct_int(r, b, sp);
    if (strchr("eEfFgG", c))
        return pct_float(r, b, sp);
    if (c == 'c')
        return pct_char(r, b, sp);
    return rfail(r, "unsupported format character '%c'", c), -1;
}

/* Python refuses arguments a format string did not use (a non-tuple counts as used only
 * when it is a mapping, PyMapping_Check). */
static int pct_all_used(render *r, pyval *args, int mapping, size_t used, size_t nitems)
{
    if (mapping)
        return 0;
    int unused = args->type == PV_TUPLE ? used < nitems
                                        : used == 0 && !(args->type == PV_LIST && args->kind == LK_LIST) &&
                                              args->type != PV_RANGE && args->type != PV_UNDEFINED;
    return unused ? (rfail(r, "not all arguments converted during string formatting"), -1) : 0;
}

pyval *js_format_percent(render *r, pyval *fmt, pyval *args)
{
    pyval **items = &args;
    size_t nitems = 1, used = 0;
    int mapping = args->type == PV_DICT;
    if (args->type == PV_TUPLE) {
        items = args->u.list.items;
        nitems = args->u.list.len;
    }
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    const char *p = fmt->u.str.s, *end = p + fmt->u.str.len;
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        t0_buf_add(&b, p, (size_t)((pct ? pct : end) - p));
        if (!pct)
            break;
        p = pct + 1;
        pct_spec sp;
        if (pct_parse(r, &p, end, args, mapping, &sp) < 0)
            goto fail;
        if (sp.conv == '%') {
            t0_buf_add(&b, "%", 1);
            continue;
        }
        if (!sp.arg && mapping)
            sp.arg = args;
        else if (!sp.arg && used >= nitems) {
            rfail(r, "not enough arguments for format string");
            goto fail;
        } else if (!sp.arg)
            sp.arg = items[used++];
        if (pct_convert(r, &b, &sp) < 0)
            goto fail;
    }
    if (pct_all_used(r, args, mapping, used, nitems) < 0)
        goto fail;
    return r_buf_to_str(r, &b);
fail:
    t0_buf_free(&b);
    return NULL;
}

pyval *js_mod(render *r, pyval *a, pyval *b)
{
    return a->type == PV_STR ? js_format_percent(r, a, b) : r_binop(r, OP_MOD, a, b);
}

/* A format spec of str.format: [[fill]align][sign][0][width][.precision][type]. */
static int format_spec(render *r, t0_buf *b, pyval *v, const char *sp, size_t n)
{
    const char *e = sp + n;
    char fill = ' ', align = 0, sign = '-', type = 0;
    int64_t width = 0, prec = -1;
    if (n >= 2 && strchr("<>^", sp[1])) {
        fill = sp[0];
        align = sp[1];
        sp += 2;
    } else if (n >= 1 && strchr("<>^", sp[0])) {
        align = *sp++;
    }
    if (sp < e && strchr("+- ", *sp))
        sign = *sp++;
    if (sp < e && *sp == '0') {
        fill = '0';
        if (!align)
            align = '=';
        sp++;
    }
    while (sp < e && *sp >= '0' && *sp <= '9' && width < 100000)
        width = width * 10 + (*sp++ - '0');
    if (sp < e && *sp == '.') {
        sp++;
        prec = 0;
        while (sp < e && *sp >= '0' && *sp <= '9' && prec < 1000)
            prec = prec * 10 + (*sp++ - '0');
    }
    if (sp < e)
        type = *sp++;
    if (sp != e || width >= 100000) {
        rfail(r, "Invalid format specifier");
        return -1;
    }
    char tmp[1100];
    const char *body = tmp;
    size_t blen;
    int numeric = v->type == PV_INT || v->type == PV_FLOAT || v->type == PV_BOOL;
    if (v->type == PV_STR && (!type || type == 's')) {
        blen = v->u.str.len;
        if (prec >= 0 && (size_t)prec < v->u.str.ncp)
            blen = pv_str_offset(v, (size_t)prec);
        body = v->u.str.s;
    } else if (numeric && !v->big && (type == 'd' || (!type && v->type != PV_FLOAT && prec < 0))) {
        if (v->type == PV_FLOAT) {
            rfail(r, "Unknown format code 'd' for object of type 'float'");
            return -1;
        }
        blen = (size_t)snprintf(tmp, sizeof tmp, sign == '+' ? "%+lld" : sign == ' ' ? "% lld" : "%lld",
                                (long long)pv_int_value(v));
    } else if (numeric && !v->big && (!type || strchr("fFeEgG%", type))) {
        double f = pv_float_value(v);
        char t = type ? type : 'g';
        int pr = prec >= 0 ? (int)prec : type ? 6 : 12;
        if (t == '%')
            f *= 100;
        char fmt[16];
        snprintf(fmt, sizeof fmt, "%%%s.*%c", sign == '+' ? "+" : sign == ' ' ? " " : "", t == '%' ? 'f' : t);
        if (!type && prec < 0)
            blen = pv_float_repr(f, tmp);
        else
            blen = (size_t)snprintf(tmp, sizeof tmp - 2, fmt, pr, f);
        if (blen >= sizeof tmp - 2) {
            rfail(r, "formatted number too long");
            return -1;
        }
        if (t == '%')
            tmp[blen++] = '%';
    } else {
        rfail(r, "Unknown format code '%c' for object of type '%s'", type ? type : 's', pv_type_name(v));
        return -1;
    }
    int64_t len = (int64_t)ju_count(body, blen), padn = width > len ? width - len : 0;
    if (!align)
        align = numeric ? '>' : '<';
    int64_t left = align == '>' || align == '=' ? padn : align == '^' ? padn / 2 : 0;
    if (align == '=' && blen && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) {
        t0_buf_add(b, body, 1);
        body++;
        blen--;
    }
    for (int64_t i = 0; i < left; i++)
        t0_buf_add(b, &fill, 1);
    t0_buf_add(b, body, blen);
    for (int64_t i = left; i < padn; i++)
        t0_buf_add(b, &fill, 1);
    return 0;
}

/* str.format: {} {0} {name} with an optional !r/!s and no format spec beyond the empty one. */
pyval *js_format_dot(render *r, pyval *fmt, jargs *a)
{
    t0_buf b = {0};
    b.limit = J_MAX_SIZE;
    const char *p = fmt->u.str.s, *end = p + fmt->u.str.len;
    int auto_idx = 0;
    while (p < end) {
        char c = *p;
        if ((c == '{' || c == '}') && p + 1 < end && p[1] == c) {
            t0_buf_add(&b, p, 1);
            p += 2;
            continue;
        }
        if (c == '}') {
            t0_buf_free(&b);
            return rfail(r, "Single '}' encountered in format string");
        }
        if (c != '{') {
            t0_buf_add(&b, p++, 1);
            continue;
        }
        const char *close = memchr(p, '}', (size_t)(end - p));
        if (!close) {
            t0_buf_free(&b);
            return rfail(r, "Single '{' encountered in format string");
        }
        const char *field = p + 1, *fend = close;
        const char *bang = memchr(field, '!', (size_t)(fend - field));
        const char *colon = memchr(field, ':', (size_t)(fend - field));

        const char *nend = bang ? bang : colon ? colon : fend;
        pyval *arg = NULL;
        if (nend == field) {
            if (auto_idx >= a->npos) {
                t0_buf_free(&b);
                return rfail(r, "Replacement index %d out of range for positional args tuple", auto_idx);
            }
            arg = a->pos[auto_idx++];
        } else if (*field >= '0' && *field <= '9') {
            int idx = atoi(field);
            if (idx >= a->npos) {
                t0_buf_free(&b);
                return rfail(r, "Replacement index %d out of range for positional args tuple", idx);
            }
            arg = a->pos[idx];
        } else {
            for (int k = 0; k < a->nkw; k++)
                if (strlen(a->kwnames[k]) == (size_t)(nend - field) && !memcmp(a->kwnames[k], field, (size_t)(nend - field)))
                    arg = a->kwvals[k];
            if (!arg) {
                t0_buf_free(&b);
                return rfail(r, "KeyError: '%.*s'", (int)(nend - field), field);
            }
        }
        int rc;
        if (colon && colon + 1 < fend)
            rc = format_spec(r, &b, arg, colon + 1, (size_t)(fend - colon - 1));
        else
            rc = bang && bang + 1 < fend && bang[1] == 'r' ? pv_repr_append(&b, arg, r->err) : pv_str_append(&b, arg, r->err);
        if (rc < 0) {
            t0_buf_free(&b);
            return rfail(r, "value too large");
        }
        p = close + 1;
    }
    return r_buf_to_str(r, &b);
}

/* Whether c changes under str.upper() (lower 1) or str.lower() (lower 0). */
static int case_changes(uint32_t c, int lower)
{
    t0_buf t = {0};
    if (lower)
        ju_append_upper(&t, c);
    else
        ju_append_lower(&t, c);
    char me[4];
    size_t ml = t0_utf8_encode(c, me);
    int changes = !(t.len == ml && !memcmp(t.p, me, ml));
    t0_buf_free(&t);
    return changes;
}

static int char_is(uint32_t c, js_class k)
{
    switch (k) {
    case JS_DIGIT: return c >= '0' && c <= '9';
    case JS_ALPHA: return ju_isword(c) && !(c >= '0' && c <= '9') && c != '_';
    case JS_ALNUM: return ju_isword(c) && c != '_';
    case JS_SPACE: return ju_isspace(c);
    case JS_ASCII: return c < 0x80;
    default: return !ju_iscased(c) || case_changes(c, k == JS_LOWER); /* uncased characters pass */
    }
}

int js_is(const pyval *s, js_class k)
{
    if (s->u.str.len == 0)
        return 0;
    int any_cased = 0;
    size_t off = 0;
    while (off < s->u.str.len) {
        uint32_t c;
        off += ju_decode(s->u.str.s + off, s->u.str.len - off, &c);
        if (!char_is(c, k))
            return 0;
        any_cased |= ju_iscased(c);
    }
    return k == JS_LOWER || k == JS_UPPER ? any_cased : 1;
}

int64_t js_count(const pyval *s, const pyval *sub)
{
    if (sub->u.str.len == 0)
        return (int64_t)s->u.str.ncp + 1;
    int64_t c = 0;
    const char *p = s->u.str.s, *e = p + s->u.str.len, *hit;
    while ((hit = memmem(p, (size_t)(e - p), sub->u.str.s, sub->u.str.len))) {
        c++;
        p = hit + sub->u.str.len;
    }
    return c;
}
