/* pyunicode.c: UTF-8 and the Unicode properties Python's str methods rely on,
 * looked up in tables generated from Python (tests/reference/gen_unicode.py). */
#include <string.h>

#include "render/pyval_internal.h"

typedef struct {
    uint32_t cp;
    const char *to;
    uint8_t len;
} ju_map;

typedef struct {
    uint32_t lo, hi;
} ju_range;

#include "render/pyunicode_tab.h"

size_t ju_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || n > len || c > 0xF4) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = c & (0x3F >> (n - 1));
    for (size_t k = 1; k < n; k++) {
        if ((u[k] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (u[k] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t ju_encode(uint32_t cp, char *out)
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

static int append_map(pv_buf *b, const ju_map *m, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < m[mid].cp)
            hi = mid;
        else if (cp > m[mid].cp)
            lo = mid + 1;
        else
            return pv_buf_append(b, m[mid].to, m[mid].len);
    }
    char tmp[4];
    return pv_buf_append(b, tmp, ju_encode(cp, tmp));
}

int ju_append_lower(pv_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return pv_buf_append(b, &c, 1);
    }
    return append_map(b, ju_lower, NELEM(ju_lower), cp);
}

int ju_append_upper(pv_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)(cp >= 'a' && cp <= 'z' ? cp - 32 : cp);
        return pv_buf_append(b, &c, 1);
    }
    return append_map(b, ju_upper, NELEM(ju_upper), cp);
}

int ju_append_title(pv_buf *b, uint32_t cp)
{
    return append_map(b, ju_title, NELEM(ju_title), cp);
}

size_t ju_offset(const pyval *str, size_t i)
{
    if (str->ascii)
        return i;
    const char *s = str->u.str.s;
    size_t len = str->u.str.len, off = 0;
    uint32_t cp;
    while (i > 0 && off < len) {
        off += ju_decode(s + off, len - off, &cp);
        i--;
    }
    return off;
}
