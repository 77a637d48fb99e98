/* json.c: JSON writing helpers and a pull lexer (see json.h). */
#include "common/utf8.h"
#include "common/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_put_string(t0_buf *b, const char *s, size_t n, t0_error *err)
{
    if (t0_buf_reserve(b, n + 2, err))
        return -1;
    b->p[b->len++] = '"';
    size_t run = 0; /* bytes copied as they are, appended in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (t0_buf_append(b, s + run, i - run, err))
            return -1;
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': strcpy(esc, "\\\""); break;
        case '\\': strcpy(esc, "\\\\"); break;
        case '\n': strcpy(esc, "\\n"); break;
        case '\t': strcpy(esc, "\\t"); break;
        case '\r': strcpy(esc, "\\r"); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", c);
        }
        if (t0_buf_puts(b, esc, err))
            return -1;
    }
    if (t0_buf_append(b, s + run, n - run, err))
        return -1;
    return t0_buf_append(b, "\"", 1, err);
}

int json_put_double(t0_buf *b, double v, t0_error *err)
{
    if (isnan(v))
        return t0_buf_puts(b, "\"nan\"", err);
    if (isinf(v))
        return t0_buf_puts(b, v > 0 ? "\"inf\"" : "\"-inf\"", err);
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    /* Keep a float looking like one, so readers do not take -0.0 or 3.0 for integers. */
    if (!strpbrk(text, ".eEn"))
        strcat(text, ".0");
    return t0_buf_puts(b, text, err);
}

/* ---- lexer ---- */

void json_lexer_init(json_lexer *lx, const char *src, size_t len)
{
    *lx = (json_lexer){.src = src, .end = src + len, .p = src};
}

void json_lexer_free(json_lexer *lx) { t0_buf_free(&lx->str); }

static int lex_fail(const json_lexer *lx, const char *at, const char *what, t0_error *err)
{
    return t0_fail(err, T0_EINPUT, "column %zu: %s", (size_t)(at - lx->src) + 1, what);
}

static int hex4(const char *p, const char *end, unsigned *v)
{
    if (end - p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

/* \uXXXX, possibly a surrogate pair; p points after the 'u'. */
static int lex_unicode_escape(json_lexer *lx, const char **pp, t0_error *err)
{
    const char *p = *pp;
    unsigned cp, lo;
    if (hex4(p, lx->end, &cp))
        return lex_fail(lx, p, "bad \\u escape in string", err);
    p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (lx->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, lx->end, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return lex_fail(lx, p, "unpaired surrogate in \\u escape", err);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return lex_fail(lx, p - 4, "unpaired surrogate in \\u escape", err);
    }
    *pp = p;
    char u[4];
    return t0_buf_append(&lx->str, u, t0_utf8_encode(cp, u), err);
}

static int lex_string(json_lexer *lx, t0_error *err)
{
    const char *p = lx->p + 1;
    lx->str.len = 0;
    if (t0_buf_reserve(&lx->str, 0, err))
        return -1;
    lx->str.p[0] = '\0';
    for (;;) {
        const char *run = p;
        while (p < lx->end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p > run) {
            if (t0_check_text(run, (size_t)(p - run), "string", err)) {
                t0_error_prefix(err, "column %zu", (size_t)(run - lx->src) + 1);
                return -1;
            }
            if (t0_buf_append(&lx->str, run, (size_t)(p - run), err))
                return -1;
        }
        if (p >= lx->end)
            return lex_fail(lx, lx->p, "unterminated string", err);
        if (*p == '"')
            break;
        if (*p != '\\')
            return lex_fail(lx, p, "control character in string (must be escaped)", err);
        if (++p >= lx->end)
            return lex_fail(lx, lx->p, "unterminated string", err);
        const char *simple = strchr("\"\\/bfnrt", *p), *to = "\"\\/\b\f\n\r\t";
        if (*p && simple) {
            if (t0_buf_append(&lx->str, to + (simple - "\"\\/bfnrt"), 1, err))
                return -1;
            p++;
        } else if (*p == 'u') {
            p++;
            if (lex_unicode_escape(lx, &p, err))
                return -1;
        } else {
            return lex_fail(lx, p - 1, "bad escape in string", err);
        }
    }
    lx->p = p + 1;
    lx->tok = JSON_STRING;
    return 0;
}

static int lex_number(json_lexer *lx, t0_error *err)
{
    const char *p = lx->p;
    if (p < lx->end && *p == '-')
        p++;
    const char *digits = p;
    while (p < lx->end && *p >= '0' && *p <= '9')
        p++;
    if (p == digits || (*digits == '0' && p - digits > 1))
        return lex_fail(lx, lx->p, "malformed number", err);
    if (p < lx->end && *p == '.') {
        const char *frac = ++p;
        while (p < lx->end && *p >= '0' && *p <= '9')
            p++;
        if (p == frac)
            return lex_fail(lx, lx->p, "malformed number", err);
    }
    if (p < lx->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < lx->end && (*p == '+' || *p == '-'))
            p++;
        const char *exp = p;
        while (p < lx->end && *p >= '0' && *p <= '9')
            p++;
        if (p == exp)
            return lex_fail(lx, lx->p, "malformed number", err);
    }
    lx->num = lx->p;
    lx->num_len = (size_t)(p - lx->p);
    lx->p = p;
    lx->tok = JSON_NUMBER;
    return 0;
}

static int lex_word(json_lexer *lx, const char *word, json_token tok, t0_error *err)
{
    size_t n = strlen(word);
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0)
        return lex_fail(lx, lx->p, "unexpected character", err);
    lx->p += n;
    lx->tok = tok;
    return 0;
}

int json_next(json_lexer *lx, t0_error *err)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
        lx->p++;
    lx->tok_col = (size_t)(lx->p - lx->src) + 1;
    if (lx->p >= lx->end) {
        lx->tok = JSON_END;
        return 0;
    }
    static const char punct[] = "{}[]:,";
    static const json_token punct_tok[] = {JSON_LBRACE, JSON_RBRACE, JSON_LBRACKET,
                                           JSON_RBRACKET, JSON_COLON, JSON_COMMA};
    const char *q = strchr(punct, *lx->p);
    if (*lx->p && q) {
        lx->tok = punct_tok[q - punct];
        lx->p++;
        return 0;
    }
    switch (*lx->p) {
    case '"': return lex_string(lx, err);
    case 't': return lex_word(lx, "true", JSON_TRUE, err);
    case 'f': return lex_word(lx, "false", JSON_FALSE, err);
    case 'n': return lex_word(lx, "null", JSON_NULL, err);
    default:
        if (*lx->p == '-' || (*lx->p >= '0' && *lx->p <= '9'))
            return lex_number(lx, err);
        return lex_fail(lx, lx->p, "unexpected character", err);
    }
}

int json_expected(const json_lexer *lx, const char *what, t0_error *err)
{
    return t0_fail(err, T0_EINPUT, "column %zu: expected %s", lx->tok_col, what);
}

int json_expect(json_lexer *lx, json_token tok, const char *what, t0_error *err)
{
    if (json_next(lx, err))
        return -1;
    return lx->tok == tok ? 0 : json_expected(lx, what, err);
}

static int number_text(const json_lexer *lx, char *text, size_t cap, const char *what, t0_error *err)
{
    if (lx->tok != JSON_NUMBER || lx->num_len >= cap)
        return json_expected(lx, what, err);
    memcpy(text, lx->num, lx->num_len);
    text[lx->num_len] = '\0';
    return 0;
}

int json_int(const json_lexer *lx, int64_t min, int64_t max, int64_t *v, const char *what, t0_error *err)
{
    char text[32], *end;
    if (number_text(lx, text, sizeof text, what, err))
        return -1;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (*end || errno || x < min || x > max)
        return t0_fail(err, T0_EINPUT, "column %zu: %s must be an integer in [%lld, %lld], got %s",
                       lx->tok_col, what, (long long)min, (long long)max, text);
    *v = x;
    return 0;
}

int json_u64(const json_lexer *lx, uint64_t *v, const char *what, t0_error *err)
{
    char text[32], *end;
    if (number_text(lx, text, sizeof text, what, err))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (*end || errno || text[0] == '-')
        return t0_fail(err, T0_EINPUT, "column %zu: %s must be an unsigned 64-bit integer, got %s",
                       lx->tok_col, what, text);
    *v = x;
    return 0;
}

int json_double(const json_lexer *lx, double *v, const char *what, t0_error *err)
{
    if (lx->tok == JSON_STRING) {
        const char *s = lx->str.p;
        if (strcmp(s, "nan") == 0)
            *v = NAN;
        else if (strcmp(s, "inf") == 0)
            *v = INFINITY;
        else if (strcmp(s, "-inf") == 0)
            *v = -INFINITY;
        else
            return json_expected(lx, what, err);
        return 0;
    }
    char text[400];
    if (number_text(lx, text, sizeof text, what, err))
        return -1;
    *v = strtod(text, NULL);
    return 0;
}
