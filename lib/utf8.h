/* utf8.h: the one UTF-8 check every text input goes through. */
#ifndef T0_UTF8_H
#define T0_UTF8_H

#include <stddef.h>

/* Offset of the first byte of s[0..n) that is NUL or not part of well-formed UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included); n when there is none. */
size_t t0_utf8_invalid(const char *s, size_t n);

#endif
