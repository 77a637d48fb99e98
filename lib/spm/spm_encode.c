/* spm_encode.c: unigram Viterbi (spm's EncodeOptimized, sentencepiece.md §3), ids from
 * pieces (§3.1), decoding (§4), and T5's sentinels on top (§6.2). */
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "spm/spm.h"
#include "spm/spm_trie.h"

enum { UNK_PENALTY = 10 };

void t0_spm_work_free(t0_spm_work *w)
{
    free(w->ids);
    free(w->text);
    free(w->norm);
    free(w->best_score);
    free(w->best_start);
    free(w->best_id);
    free(w->match_id);
    free(w->match_len);
    free(w->path);
    memset(w, 0, sizeof *w);
}

int t0_spm_append_text(t0_spm_work *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap_text) {
        size_t cap = w->cap_text ? w->cap_text : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *t = realloc(w->text, cap);
        if (!t)
            return -1;
        w->text = t;
        w->cap_text = cap;
    }
    memcpy(w->text + w->len, s, n);
    w->len += n;
    w->text[w->len] = '\0';
    return 0;
}

int t0_spm_push_id(t0_spm_work *w, int32_t id, t0_error *err)
{
    if (w->n_ids == w->cap_ids) {
        size_t cap = w->cap_ids ? 2 * w->cap_ids : 256;
        int32_t *v = realloc(w->ids, cap * sizeof *v);
        if (!v)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        w->ids = v;
        w->cap_ids = cap;
    }
    w->ids[w->n_ids++] = id;
    return 0;
}

static int reserve_lattice(const t0_spm *m, t0_spm_work *w, size_t n)
{
    if (n + 1 > w->cap_best) {
        size_t cap = w->cap_best ? w->cap_best : 1024;
        while (cap < n + 1)
            cap *= 2;
        float *s = realloc(w->best_score, cap * sizeof *s);
        if (s)
            w->best_score = s;
        int32_t *st = realloc(w->best_start, cap * sizeof *st);
        if (st)
            w->best_start = st;
        int32_t *id = realloc(w->best_id, cap * sizeof *id);
        if (id)
            w->best_id = id;
        int32_t *path = realloc(w->path, cap * sizeof *path);
        if (path)
            w->path = path;
        if (!s || !st || !id || !path)
            return -1;
        w->cap_best = cap;
    }
    size_t need = m->max_piece_len ? m->max_piece_len : 1; /* at most one match a byte */
    if (need > w->cap_match) {
        int32_t *id = realloc(w->match_id, need * sizeof *id);
        if (id)
            w->match_id = id;
        uint32_t *len = realloc(w->match_len, need * sizeof *len);
        if (len)
            w->match_len = len;
        if (!id || !len)
            return -1;
        w->cap_match = need;
    }
    return 0;
}

static inline size_t one_char_len(unsigned char c)
{
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len[c >> 4];
}

/* The best segmentation of s[0..n) into w->best_* (end position -> last piece). Scores
 * are float32 as spm stores them; trie candidates are compared in double, as its C++
 * ternary promotes them, and the unknown candidate in float. Ties keep the earlier
 * (longer) piece: strict >. */
static void viterbi(const t0_spm *m, const char *s, size_t n, t0_spm_work *w)
{
    float *best_score = w->best_score;
    int32_t *best_start = w->best_start, *best_id = w->best_id;
    const float unk_score = m->min_score - (float)UNK_PENALTY;
    for (size_t i = 0; i <= n; i++) {
        best_score[i] = 0.0f;
        best_start[i] = -1;
        best_id[i] = -1;
    }
    size_t start = 0;
    while (start < n) {
        const float till_here = best_score[start];
        size_t mblen = one_char_len((unsigned char)s[start]);
        if (mblen > n - start)
            mblen = n - start;
        int has_single = 0;
        size_t found = t0_spm_trie_prefixes(m->trie, s + start, n - start, w->match_id,
                                            w->match_len, w->cap_match);
        for (size_t k = 0; k < found; k++) {
            int32_t id = w->match_id[k];
            size_t length = w->match_len[k], end = start + length;
            const t0_spm_piece *p = &m->pieces[id];
            if (p->type == T0_SPM_UNUSED)
                continue;
            double score = p->type == T0_SPM_USER_DEFINED
                               ? (double)((float)length * m->max_score) - 0.1
                               : (double)p->score;
            double cand = score + (double)till_here;
            if (best_start[end] == -1 || cand > (double)best_score[end]) {
                best_score[end] = (float)cand;
                best_start[end] = (int32_t)start;
                best_id[end] = id;
            }
            if (length == mblen)
                has_single = 1;
        }
        if (!has_single) {
            size_t end = start + mblen;
            float cand = unk_score + till_here;
            if (best_start[end] == -1 || cand > best_score[end]) {
                best_score[end] = cand;
                best_start[end] = (int32_t)start;
                best_id[end] = m->unk_id;
            }
        }
        start += mblen;
    }
}

/* Appends a piece as spm_encode --output_format=piece prints it: the text it covers
 * (a merged unknown extends the previous one), byte pieces by their names. */
static int emit_piece(const t0_spm *m, const char *s, size_t n, int32_t id, int merge,
                      t0_spm_work *w)
{
    if (id == m->unk_id && m->byte_fallback) {
        for (size_t k = 0; k < n; k++) {
            const t0_spm_piece *p = &m->pieces[m->byte_id[(unsigned char)s[k]]];
            if ((w->len && t0_spm_append_text(w, " ", 1) < 0) ||
                t0_spm_append_text(w, p->text, p->len) < 0)
                return -1;
        }
        return 0;
    }
    if (w->len && !merge && t0_spm_append_text(w, " ", 1) < 0)
        return -1;
    return t0_spm_append_text(w, s, n);
}

/* Appends the ids of the best path, left to right (PopulateSentencePieceText). */
static int emit_path(const t0_spm *m, const char *s, size_t n, t0_spm_work *w, t0_error *err)
{
    int32_t *ends = w->path; /* end positions of the path, last first */
    size_t count = 0;
    for (size_t end = n; end > 0; end = (size_t)w->best_start[end])
        ends[count++] = (int32_t)end;
    int prev_unk = 0;
    while (count--) {
        size_t end = (size_t)ends[count];
        size_t start = (size_t)w->best_start[end];
        int32_t id = w->best_id[end];
        int is_unk = id == m->unk_id;
        if (w->want_pieces && emit_piece(m, s + start, end - start, id, is_unk && prev_unk, w) < 0)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        if (is_unk && m->byte_fallback) {
            for (size_t k = start; k < end; k++)
                if (t0_spm_push_id(w, m->byte_id[(unsigned char)s[k]], err) < 0)
                    return -1;
        } else if (!(is_unk && prev_unk)) {
            if (t0_spm_push_id(w, id, err) < 0)
                return -1;
        }
        prev_unk = is_unk;
    }
    return 0;
}

int t0_spm_encode_plain(const t0_spm *m, const char *text, size_t n, t0_spm_work *w,
                        t0_error *err)
{
    if (t0_spm_normalize_scratch(m, text, n, w) < 0 || reserve_lattice(m, w, w->norm_len) < 0)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    if (w->norm_len == 0)
        return 0;
    viterbi(m, w->norm, w->norm_len, w);
    return emit_path(m, w->norm, w->norm_len, w, err);
}

/* Python's str.isspace set, as UTF-8: Hugging Face strips it around a sentinel. */
static size_t space_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len = t0_utf8_decode((const char *)s, n, &cp);
    if (!len)
        return 0;
    int space = cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 ||
                cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    return space ? len : 0;
}

static size_t strip_right(const char *s, size_t n)
{
    for (;;) {
        size_t k = 0;
        for (size_t back = 1; back <= 3 && back <= n; back++)
            if (space_len((const unsigned char *)s + n - back, back) == back) {
                k = back;
                break;
            }
        if (!k)
            return n;
        n -= k;
    }
}

/* Length of "<extra_id_N>" (N in 0..99, no leading zero) at s, and N; 0 if none. */
static size_t sentinel_at(const char *s, size_t n, int *number)
{
    static const char head[] = "<extra_id_";
    const size_t h = sizeof head - 1;
    if (n < h + 2 || memcmp(s, head, h) != 0)
        return 0;
    size_t k = h;
    int v = 0, digits = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9' && digits < 3) {
        v = v * 10 + (s[k++] - '0');
        digits++;
    }
    if (digits == 0 || digits > 2 || (digits == 2 && s[h] == '0') || k >= n || s[k] != '>')
        return 0;
    *number = v;
    return k + 1;
}

int t0_spm_encode(const t0_spm *m, const char *text, size_t n, t0_spm_work *w, t0_error *err)
{
    size_t chunk = 0, pos = 0;
    while (pos < n) {
        int number;
        size_t len = text[pos] == '<' ? sentinel_at(text + pos, n - pos, &number) : 0;
        if (!len) {
            pos++;
            continue;
        }
        size_t end = strip_right(text + chunk, pos - chunk);
        if (end && t0_spm_encode_plain(m, text + chunk, end, w, err) < 0)
            return -1;
        if (t0_spm_push_id(w, m->sentinel_id[number], err) < 0)
            return -1;
        if (w->want_pieces && ((w->len && t0_spm_append_text(w, " ", 1) < 0) ||
                               t0_spm_append_text(w, text + pos, len) < 0))
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        pos += len;
        while (pos < n) {
            size_t sp = space_len((const unsigned char *)text + pos, n - pos);
            if (!sp)
                break;
            pos += sp;
        }
        chunk = pos;
    }
    if (chunk < n)
        return t0_spm_encode_plain(m, text + chunk, n - chunk, w, err);
    return 0;
}
