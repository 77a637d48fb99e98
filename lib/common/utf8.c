/* utf8.c: UTF-8 encoding and validation (see utf8.h). */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

size_t t0_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
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
        uint32_t cp;
        size_t len = t0_utf8_decode(s + i, n - i, &cp);
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
