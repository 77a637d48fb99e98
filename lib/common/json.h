/* json.h: the small JSON pieces the tools share: JSON writers into a t0_buf (buf.h),
 * and a pull lexer that reads one token at a time with line/column errors.
 * (config.json and other whole documents go through cJSON; this is for the hot
 * paths where a tree of nodes per token id would cost too much.) */
#ifndef T0_JSON_H
#define T0_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Appends s as a JSON string literal (quotes, escapes for '"', '\\' and control bytes). */
int json_put_string(t0_buf *b, const char *s, size_t n, t0_error *err);
/* Appends the shortest decimal that reads back as exactly v; non-finite as "nan", "inf", "-inf". */
int json_put_double(t0_buf *b, double v, t0_error *err);

typedef enum {
    JSON_END, /* end of input */
    JSON_LBRACE,
    JSON_RBRACE,
    JSON_LBRACKET,
    JSON_RBRACKET,
    JSON_COLON,
    JSON_COMMA,
    JSON_STRING, /* decoded into lx->str (UTF-8, NUL-terminated, may contain NUL if \u0000) */
    JSON_NUMBER, /* text at lx->num, lx->num_len bytes */
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
} json_token;

typedef struct {
    const char *src, *end, *p;
    json_token tok;
    size_t tok_col; /* 1-based column (byte) where tok starts */
    t0_buf str;
    const char *num;
    size_t num_len;
} json_lexer;

void json_lexer_init(json_lexer *lx, const char *src, size_t len);
void json_lexer_free(json_lexer *lx);
/* Reads the next token into lx->tok. 0, or -1 with "column C: ..." in err. */
int json_next(json_lexer *lx, t0_error *err);
/* Fails with "column C: expected WHAT" at the current token. */
int json_expected(const json_lexer *lx, const char *what, t0_error *err);
/* Reads the next token and requires it to be tok. */
int json_expect(json_lexer *lx, json_token tok, const char *what, t0_error *err);
/* Current JSON_NUMBER as an integer in [min, max]; err names what. */
int json_int(const json_lexer *lx, int64_t min, int64_t max, int64_t *v, const char *what, t0_error *err);
int json_u64(const json_lexer *lx, uint64_t *v, const char *what, t0_error *err);
/* Current JSON_NUMBER, or one of the strings "nan", "inf", "-inf", as a double. */
int json_double(const json_lexer *lx, double *v, const char *what, t0_error *err);

#endif
