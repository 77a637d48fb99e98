/* spm_idline.c: ids to and from their text lines, without printf: text mode writes
 * millions of them. */
#include "spm/spm_idline.h"

static int put_int(t0_buf *b, int32_t v, t0_error *err)
{
    char tmp[16];
    int k = 0;
    uint32_t u = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[k++] = '-';
    if (t0_buf_reserve(b, (size_t)k, err)) /* room for the digits and the NUL */
        return -1;
    while (k)
        b->p[b->len++] = tmp[--k];
    b->p[b->len] = '\0'; /* t0_buf's promise: p is NUL-terminated */
    return 0;
}

int t0_spm_put_id_line(t0_buf *b, const int32_t *ids, size_t n, t0_error *err)
{
    for (size_t i = 0; i < n; i++)
        if ((i && t0_buf_append(b, " ", 1, err)) || put_int(b, ids[i], err))
            return -1;
    return 0;
}

int t0_spm_parse_id_line(const char *s, size_t n, t0_spm_work *w, t0_error *err)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
            i++;
            continue;
        }
        int neg = s[i] == '-';
        size_t start = i += neg;
        int64_t v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && v <= INT32_MAX)
            v = v * 10 + (s[i++] - '0');
        if (i == start || v > INT32_MAX || (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r'))
            return t0_fail(err, T0_EINPUT, "not a list of ids: '%.*s'", (int)(n > 60 ? 60 : n), s);
        if (t0_spm_push_id(w, (int32_t)(neg ? -v : v), err))
            return -1;
    }
    return 0;
}
