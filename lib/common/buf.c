/* buf.c: the growable byte buffer (see buf.h). */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for extra more bytes and the NUL; 0, or -1 when memory runs out (b unchanged). */
static int grow(t0_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = b->borrowed ? malloc(cap) : realloc(b->p, cap);
    if (!p)
        return -1;
    if (b->borrowed && b->len)
        memcpy(p, b->p, b->len);
    b->borrowed = 0;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appends n bytes there is room for, and the NUL. */
static void put(t0_buf *b, const void *s, size_t n)
{
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

int t0_buf_reserve(t0_buf *b, size_t extra, t0_error *err)
{
    if (grow(b, extra) < 0)
        return t0_fail(err, T0_EINTERNAL, "out of memory (%zu bytes)", b->len + extra + 1);
    return 0;
}

int t0_buf_append(t0_buf *b, const void *s, size_t n, t0_error *err)
{
    if (t0_buf_reserve(b, n, err))
        return -1;
    put(b, s, n);
    return 0;
}

int t0_buf_puts(t0_buf *b, const char *s, t0_error *err) { return t0_buf_append(b, s, strlen(s), err); }

int t0_buf_printf(t0_buf *b, t0_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t0_buf_reserve(b, (size_t)n, err))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int t0_buf_add(t0_buf *b, const void *s, size_t n)
{
    if (b->failed)
        return -1;
    if ((b->limit && b->len + n > b->limit) || grow(b, n) < 0) {
        b->failed = 1;
        return -1;
    }
    put(b, s, n);
    return 0;
}

void t0_buf_free(t0_buf *b)
{
    if (!b->borrowed)
        free(b->p);
    b->p = NULL; /* limit and failed stay: a freed buffer still says it failed */
    b->len = b->cap = 0;
    b->borrowed = 0;
}
