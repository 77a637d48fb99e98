/* buf.h: the one growable byte buffer of the library. Two ways to append, one buffer:
 *  - t0_buf_append/puts/printf/reserve report running out of memory in a t0_error at once;
 *  - t0_buf_add never reports: a failed append (out of memory, or past `limit`) sets the
 *    sticky `failed` flag and every later add does nothing, so a long run of appends (the
 *    Jinja engine printing a value) checks once at the end.
 * Zero-initialize (t0_buf b = {0}); `p` is NUL-terminated whenever it is non-NULL. */
#ifndef T0_BUF_H
#define T0_BUF_H

#include <stddef.h>

#include "common/error.h"

typedef struct {
    char *p;
    size_t len, cap;
    size_t limit; /* 0 = none; t0_buf_add past it fails */
    int failed;   /* t0_buf_add ran out of memory or past limit */
    int borrowed; /* p is the caller's memory (a stack array of cap bytes): copied when it grows, never freed */
} t0_buf;

int t0_buf_reserve(t0_buf *b, size_t extra, t0_error *err); /* room for extra bytes and the NUL */
int t0_buf_append(t0_buf *b, const void *s, size_t n, t0_error *err);
int t0_buf_puts(t0_buf *b, const char *s, t0_error *err);
int t0_buf_printf(t0_buf *b, t0_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int t0_buf_add(t0_buf *b, const void *s, size_t n); /* 0, or -1 with b->failed set */
void t0_buf_free(t0_buf *b);

#endif
