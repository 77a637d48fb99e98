/* spm_decode.c: ids back to text as spm_decode does (sentencepiece.md §4); T5's
 * sentinels come out as "<extra_id_N>". */
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "spm/spm.h"

/* Appends the bytes of a run of byte pieces ids[0..n) as UTF-8, each malformed byte as
 * U+FFFD. The run is re-read from the ids, so no buffer is needed. */
static int flush_bytes(const t0_spm *m, const int32_t *ids, size_t n, t0_spm_work *w)
{
    unsigned char run[4];
    size_t k = 0;
    while (k < n) {
        size_t have = 0;
        for (size_t j = k; j < n && have < 4; j++) /* the piece names spell the bytes */
            run[have++] = (unsigned char)strtoul(m->pieces[ids[j]].text + 3, NULL, 16);
        uint32_t cp;
        size_t len = t0_utf8_decode((const char *)run, have, &cp);
        if (len ? t0_spm_append_text(w, (const char *)run, len) : t0_spm_append_text(w, "\xEF\xBF\xBD", 3))
            return -1;
        k += len ? len : 1;
    }
    return 0;
}

/* Appends a normal piece, its ▁ turned into spaces; *strip_bos drops one leading ▁. */
static int append_piece(t0_spm_work *w, const char *s, size_t n, int strip_bos)
{
    static const char mark[] = "\xE2\x96\x81";
    if (strip_bos && n >= 3 && memcmp(s, mark, 3) == 0) {
        s += 3;
        n -= 3;
    }
    size_t i = 0;
    while (i < n) {
        const char *hit = n - i >= 3 ? memmem(s + i, n - i, mark, 3) : NULL;
        size_t upto = hit ? (size_t)(hit - s) : n;
        if (t0_spm_append_text(w, s + i, upto - i) < 0 || (hit && t0_spm_append_text(w, " ", 1) < 0))
            return -1;
        i = hit ? upto + 3 : n;
    }
    return 0;
}

/* Runs the denormalizer over w->text (through the encoder's scratch buffer). */
static int denormalize(const t0_spm *d, t0_spm_work *w)
{
    if (t0_spm_normalize_scratch(d, w->text, w->len, w) < 0)
        return -1;
    w->len = 0;
    return t0_spm_append_text(w, w->norm, w->norm_len);
}

int t0_spm_decode(const t0_spm *m, const int32_t *ids, size_t n, t0_spm_work *w,
                  t0_error *err)
{
    w->len = 0;
    if (t0_spm_append_text(w, "", 0) < 0)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->vocab_size)
            return t0_fail(err, T0_EINPUT, "invalid id %d (vocabulary has %d)", ids[i],
                           m->vocab_size);
    int is_bos_ws = 1, bos_ws_seen = 0;
    size_t byte_start = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < m->n_pieces && m->pieces[id].type == T0_SPM_BYTE)
            continue;
        if (flush_bytes(m, ids + byte_start, i - byte_start, w) < 0)
            goto oom;
        byte_start = i + 1;
        if (is_bos_ws && (bos_ws_seen || w->len > 0))
            is_bos_ws = 0;
        size_t len;
        const char *piece = t0_spm_id_to_piece(m, id, &len);
        if (id >= m->n_pieces) { /* a sentinel: its name, as text */
            if (t0_spm_append_text(w, piece, len) < 0)
                goto oom;
            continue;
        }
        int type = m->pieces[id].type;
        if (type == T0_SPM_CONTROL) {
            bos_ws_seen = 0;
        } else if (type == T0_SPM_UNKNOWN) {
            bos_ws_seen = 0;
            if (t0_spm_append_text(w, m->unk_surface, strlen(m->unk_surface)) < 0)
                goto oom;
        } else {
            int strip = is_bos_ws && (m->add_dummy_prefix || m->remove_extra_whitespaces);
            int stripped = strip && len >= 3 && memcmp(piece, "\xE2\x96\x81", 3) == 0;
            bos_ws_seen = m->remove_extra_whitespaces ? 0 : stripped;
            if (append_piece(w, piece, len, strip) < 0)
                goto oom;
        }
    }
    if (n > byte_start && flush_bytes(m, ids + byte_start, n - byte_start, w) < 0)
        goto oom;
    if (m->denormalizer && denormalize(m->denormalizer, w) < 0)
        goto oom;
    return 0;
oom:
    return t0_fail(err, T0_EINTERNAL, "out of memory");
}
