/* utf8.c: UTF-8 validation (see utf8.h). */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0 when invalid. */
static size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* True when none of the 8 bytes at p is NUL or has the high bit set: plain ASCII. */
static int ascii8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    const uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    return ((w | ((w - ones) & ~w)) & high) == 0;
}

size_t t0_utf8_invalid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (i + 8 <= n && ascii8(u + i)) { /* most text is ASCII: skip it a word at a time */
            i += 8;
            continue;
        }
        if (u[i] == 0)
            return i;
        size_t len = utf8_sequence_len(u + i, n - i);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}

int t0_check_text(const char *s, size_t n, const char *what, t0_error *err)
{
    size_t bad = t0_utf8_invalid(s, n);
    if (bad == n)
        return 0;
    if (s[bad] == 0)
        return t0_fail(err, T0_EINPUT, "%s: NUL byte at offset %zu", what, bad);
    return t0_fail(err, T0_EINPUT, "%s: invalid UTF-8 at byte offset %zu", what, bad);
}
