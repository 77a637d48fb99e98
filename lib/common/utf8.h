/* utf8.h: the one UTF-8 check every text input goes through. */
#ifndef T0_UTF8_H
#define T0_UTF8_H

#include <stddef.h>

#include "common/error.h"

/* Offset of the first byte of s[0..n) that is NUL or not part of well-formed UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included); n when there is none. */
size_t t0_utf8_invalid(const char *s, size_t n);

/* 0 when s[0..n) is UTF-8 without NUL bytes; else -1 with "WHAT: invalid UTF-8 at byte
 * offset N" (or "NUL byte at offset N") in err. */
int t0_check_text(const char *s, size_t n, const char *what, t0_error *err);

#endif
