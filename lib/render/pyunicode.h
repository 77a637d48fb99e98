/* pyunicode.h: the Unicode properties and case mappings Python's str methods rely on
 * (Python 3.11's tables). A leaf: it knows UTF-8 and the buffer of lib/common, no values. */
#ifndef T0_PYUNICODE_H
#define T0_PYUNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/utf8.h"

/* Python's view of a str's bytes: the code point at s and the bytes it takes (>= 1); a
 * malformed byte reads as U+FFFD and takes 1. */
static inline size_t ju_decode(const char *s, size_t len, uint32_t *cp)
{
    size_t n = t0_utf8_decode(s, len, cp);
    if (n)
        return n;
    *cp = 0xFFFD;
    return 1;
}

size_t ju_count(const char *s, size_t len); /* code points */
/* Python's str.lstrip()/rstrip() of whitespace on s[0..len): the bytes of the leading run,
 * and the length left without the trailing one. */
size_t ju_lstrip_len(const char *s, size_t len);
size_t ju_rstrip_len(const char *s, size_t len);
int ju_isspace(uint32_t cp);
int ju_isprintable(uint32_t cp);
int ju_iscased(uint32_t cp);
int ju_isword(uint32_t cp);
int ju_iscase_ignorable(uint32_t cp);
/* Appends the lower/upper/title mapping of cp (may be several code points); t0_buf_add's
 * failure rules. */
int ju_append_lower(t0_buf *b, uint32_t cp);
int ju_append_upper(t0_buf *b, uint32_t cp);
int ju_append_title(t0_buf *b, uint32_t cp);

#endif
