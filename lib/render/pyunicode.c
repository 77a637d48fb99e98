/* pyunicode.c: the Unicode properties Python's str methods rely on,
 * looked up in tables generated from Python (tests/reference/gen_unicode.py). */
#include <string.h>

#include "render/pyunicode.h"

typedef struct {
    uint32_t cp;
    const char *to;
    uint8_t len;
} ju_map;

typedef struct {
    uint32_t lo, hi;
} ju_range;

#include "render/pyunicode_tab.h"

size_t ju_count(const char *s, size_t len)
{
    size_t n = 0, i = 0;
    uint32_t cp;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80)
            i++;
        else
            i += ju_decode(s + i, len - i, &cp);
        n++;
    }
    return n;
}

static int in_ranges(const ju_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int ju_isspace(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    return in_ranges(ju_space, NELEM(ju_space), cp);
}

int ju_isprintable(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 0x20 && cp < 0x7F;
    return in_ranges(ju_printable, NELEM(ju_printable), cp);
}

int ju_iscased(uint32_t cp)
{
    return in_ranges(ju_cased, NELEM(ju_cased), cp);
}

int ju_iscase_ignorable(uint32_t cp)
{
    return in_ranges(ju_case_ignorable, NELEM(ju_case_ignorable), cp);
}

int ju_isword(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               cp == '_';
    return in_ranges(ju_word, NELEM(ju_word), cp);
}

static int append_map(t0_buf *b, const ju_map *m, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < m[mid].cp)
            hi = mid;
        else if (cp > m[mid].cp)
            lo = mid + 1;
        else
            return t0_buf_add(b, m[mid].to, m[mid].len);
    }
    char tmp[4];
    return t0_buf_add(b, tmp, t0_utf8_encode(cp, tmp));
}

int ju_append_lower(t0_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return t0_buf_add(b, &c, 1);
    }
    return append_map(b, ju_lower, NELEM(ju_lower), cp);
}

int ju_append_upper(t0_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)(cp >= 'a' && cp <= 'z' ? cp - 32 : cp);
        return t0_buf_add(b, &c, 1);
    }
    return append_map(b, ju_upper, NELEM(ju_upper), cp);
}

int ju_append_title(t0_buf *b, uint32_t cp)
{
    return append_map(b, ju_title, NELEM(ju_title), cp);
}

size_t ju_lstrip_len(const char *s, size_t len)
{
    size_t a = 0;
    while (a < len) {
        uint32_t cp;
        size_t n = ju_decode(s + a, len - a, &cp);
        if (!ju_isspace(cp))
            break;
        a += n;
    }
    return a;
}

size_t ju_rstrip_len(const char *s, size_t len)
{
    while (len > 0) {
        size_t st = len - 1; /* back to the first byte of the last character */
        while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80)
            st--;
        uint32_t cp;
        ju_decode(s + st, len - st, &cp);
        if (!ju_isspace(cp))
            break;
        len = st;
    }
    return len;
}
