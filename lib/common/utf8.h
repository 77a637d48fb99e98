/* utf8.h: the library's one UTF-8 decoder and encoder, and the check every text input goes
 * through. */
#ifndef T0_UTF8_H
#define T0_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Decodes the sequence at s[0..n) (n >= 1): returns its length (1-4) and the code point in
 * *cp, or 0 when it is malformed: a stray or truncated byte, an overlong form, a surrogate,
 * past U+10FFFF. A NUL byte is the code point 0. Inline: the tokenizer and the Jinja engine
 * decode character by character. */
static inline size_t t0_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        if (n < 2 || (u[1] & 0xC0) != 0x80)
            return 0;
        *cp = (c & 0x1F) << 6 | (u[1] & 0x3F);
        return *cp >= 0x80 ? 2 : 0;
    }
    if ((c & 0xF0) == 0xE0) {
        if (n < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80)
            return 0;
        *cp = (c & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
        return *cp >= 0x800 && (*cp < 0xD800 || *cp > 0xDFFF) ? 3 : 0;
    }
    if ((c & 0xF8) == 0xF0) {
        if (n < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80)
            return 0;
        *cp = (c & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 | (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
        return *cp >= 0x10000 && *cp <= 0x10FFFF ? 4 : 0;
    }
    return 0;
}

/* Writes cp (at most U+10FFFF) as UTF-8 into out; returns the length, 1-4. */
size_t t0_utf8_encode(uint32_t cp, char *out);

/* Offset of the first byte of s[0..n) that is NUL or not part of well-formed UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included); n when there is none. */
size_t t0_utf8_invalid(const char *s, size_t n);

/* 0 when s[0..n) is UTF-8 without NUL bytes; else -1 with "WHAT: invalid UTF-8 at byte
 * offset N" (or "NUL byte at offset N") in err. */
int t0_check_text(const char *s, size_t n, const char *what, t0_error *err);

#endif
