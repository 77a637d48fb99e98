/* spm_norm.c: SentencePiece's normalizer (sentencepiece.md §2): the precompiled charsmap
 * (a darts-clone double array, longest match), user-defined pieces kept verbatim, and the
 * whitespace rules (dummy prefix, extra whitespace removal, ▁ escaping). */
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "spm/spm.h"
#include "spm/spm_trie.h"

static const char SPACE_MARK[] = "\xE2\x96\x81"; /* U+2581 ▁ */
static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD, for a malformed byte */

/* darts-clone unit fields (sentencepiece.md §2.2) */
static inline uint32_t unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static inline uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
static inline uint32_t unit_label(uint32_t u) { return u & 0x800000FFu; }
static inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & 0x200) >> 6); }

enum { CHARSMAP_MAX_RESULTS = 32 }; /* spm keeps this many matches and takes the last */

size_t t0_spm_charsmap_match(const t0_spm *m, const char *text, size_t n, const char **rep,
                             size_t *rep_len)
{
    const uint32_t *units = m->charsmap_units;
    uint32_t n_units = m->charsmap_n_units;
    if (!units)
        return 0;
    size_t best = 0, found = 0;
    uint32_t best_value = 0;
    uint32_t node = unit_offset(units[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        node ^= c;
        if (node >= n_units)
            break;
        uint32_t u = units[node];
        if (unit_label(u) != c)
            break;
        node ^= unit_offset(u);
        if (node >= n_units)
            break;
        if (unit_has_leaf(u)) {
            uint32_t value = unit_value(units[node]);
            if (value < m->charsmap_pool_len) { /* a broken blob's wild offset is no rule */
                best = i + 1;
                best_value = value;
            }
            if (++found == CHARSMAP_MAX_RESULTS)
                break;
        }
    }
    if (best) {
        *rep = m->charsmap_pool + best_value;
        *rep_len = strnlen(*rep, m->charsmap_pool_len - best_value);
    }
    return best;
}

/* NormalizePrefix: the replacement of the text at s[0..n) and the bytes it consumes. */
static size_t normalize_prefix(const t0_spm *m, const char *s, size_t n, const char **rep,
                               size_t *rep_len)
{
    if (m->user_trie) {
        int32_t id;
        size_t len = t0_spm_trie_longest(m->user_trie, s, n, &id);
        if (len) {
            *rep = s;
            *rep_len = len;
            return len;
        }
    }
    size_t len = t0_spm_charsmap_match(m, s, n, rep, rep_len);
    if (len)
        return len;
    uint32_t cp;
    len = t0_utf8_decode(s, n, &cp); /* spm's own decoding: the same rules */
    if (len) {
        *rep = s;
        *rep_len = len;
        return len;
    }
    *rep = REPLACEMENT;
    *rep_len = 3;
    return 1;
}

static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *b = realloc(*buf, c);
    if (!b)
        return -1;
    *buf = b;
    *cap = c;
    return 0;
}

/* Writes the normalized text into *buf (NUL-terminated), its length in *len. */
static int normalize_into(const t0_spm *m, const char *text, size_t n, char **buf, size_t *len,
                          size_t *cap)
{
    const char *space = m->escape_whitespaces ? SPACE_MARK : " ";
    size_t space_len = m->escape_whitespaces ? 3 : 1;
    size_t pos = 0, out = 0;
    const char *rep;
    size_t rep_len;
    *len = 0;
    if (reserve(buf, cap, 3 * n + 8) < 0)
        return -1;
    (*buf)[0] = '\0';
    if (m->remove_extra_whitespaces) {
        while (pos < n) {
            size_t used = normalize_prefix(m, text + pos, n - pos, &rep, &rep_len);
            if (rep_len != 1 || rep[0] != ' ')
                break;
            pos += used;
        }
    }
    if (pos == n)
        return 0;
    if (m->add_dummy_prefix && !m->whitespace_as_suffix) {
        memcpy(*buf, space, space_len);
        out = space_len;
    }
    int prev_space = m->remove_extra_whitespaces;
    while (pos < n) {
        size_t used = normalize_prefix(m, text + pos, n - pos, &rep, &rep_len);
        if (prev_space)
            while (rep_len && rep[0] == ' ') {
                rep++;
                rep_len--;
            }
        if (rep_len) {
            if (reserve(buf, cap, out + 3 * rep_len + 8) < 0)
                return -1;
            for (size_t k = 0; k < rep_len; k++) {
                if (rep[k] == ' ' && m->escape_whitespaces) {
                    memcpy(*buf + out, SPACE_MARK, 3);
                    out += 3;
                } else {
                    (*buf)[out++] = rep[k];
                }
            }
            prev_space = rep[rep_len - 1] == ' ';
        }
        pos += used;
        if (!m->remove_extra_whitespaces)
            prev_space = 0;
    }
    if (m->remove_extra_whitespaces)
        while (out >= space_len && memcmp(*buf + out - space_len, space, space_len) == 0)
            out -= space_len;
    if (m->add_dummy_prefix && m->whitespace_as_suffix) {
        memcpy(*buf + out, space, space_len);
        out += space_len;
    }
    (*buf)[out] = '\0';
    *len = out;
    return 0;
}

int t0_spm_normalize(const t0_spm *m, const char *text, size_t n, t0_spm_work *w,
                     t0_error *err)
{
    if (normalize_into(m, text, n, &w->text, &w->len, &w->cap_text) < 0)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    return 0;
}

/* For the encoder: the normalized text lands in w->norm. */
int t0_spm_normalize_scratch(const t0_spm *m, const char *text, size_t n, t0_spm_work *w)
{
    return normalize_into(m, text, n, &w->norm, &w->norm_len, &w->cap_norm);
}
