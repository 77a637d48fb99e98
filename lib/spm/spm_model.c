/* spm_model.c: the in-memory model both loaders fill, and its checks; it knows no file
 * format (spm_proto.c and tokenizer_json.c read those, spm_load.c picks one)
 * (spm's ModelInterface::InitializePieces and the unigram Model constructor). */
#include "spm/spm.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spm/spm_trie.h"

t0_spm *t0_spm_new(t0_error *err)
{
    t0_spm *m = calloc(1, sizeof *m);
    if (!m) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    m->unk_id = m->eos_id = m->pad_id = m->bos_id = -1;
    m->add_dummy_prefix = m->remove_extra_whitespaces = m->escape_whitespaces = 1;
    return m;
}

void t0_spm_free(t0_spm *m)
{
    if (!m)
        return;
    t0_spm_trie_free(m->trie);
    t0_spm_trie_free(m->user_trie);
    free(m->pieces);
    free(m->piece_off);
    free(m->arena);
    free(m->charsmap_blob);
    free(m->unk_surface);
    t0_spm_free(m->denormalizer);
    free(m);
}

int t0_spm_add_piece(t0_spm *m, const char *text, size_t len, float score, int type,
                     t0_error *err)
{
    if (len == 0)
        return t0_fail(err, T0_EINPUT, "piece %d is empty", m->n_pieces);
    if (len > (1u << 20))
        return t0_fail(err, T0_EINPUT, "piece %d is longer than 1 MiB", m->n_pieces);
    if (type < T0_SPM_NORMAL || type > T0_SPM_BYTE)
        return t0_fail(err, T0_EINPUT, "piece %d has unknown type %d", m->n_pieces, type);
    if (m->n_pieces >= (1 << 28))
        return t0_fail(err, T0_EINPUT, "too many pieces");
    if (m->n_pieces == m->cap_pieces) {
        int32_t cap = m->cap_pieces ? 2 * m->cap_pieces : 1024;
        t0_spm_piece *p = realloc(m->pieces, (size_t)cap * sizeof *p);
        if (p)
            m->pieces = p;
        uint32_t *o = realloc(m->piece_off, (size_t)cap * sizeof *o);
        if (o)
            m->piece_off = o;
        if (!p || !o)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        m->cap_pieces = cap;
    }
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? 2 * m->arena_cap : 1 << 16;
        while (cap < m->arena_len + len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return t0_fail(err, T0_EINPUT, "pieces too long");
        char *a = realloc(m->arena, cap);
        if (!a)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        m->arena = a;
        m->arena_cap = cap;
    }
    m->piece_off[m->n_pieces] = (uint32_t)m->arena_len;
    memcpy(m->arena + m->arena_len, text, len);
    m->arena[m->arena_len + len] = '\0';
    m->arena_len += len + 1;
    m->pieces[m->n_pieces++] = (t0_spm_piece){NULL, (uint32_t)len, score, (uint8_t)type};
    return 0;
}

int t0_spm_set_charsmap(t0_spm *m, const uint8_t *blob, size_t n, t0_error *err)
{
    free(m->charsmap_blob);
    m->charsmap_blob = NULL;
    m->charsmap_units = NULL;
    m->charsmap_n_units = 0;
    if (n == 0)
        return 0;
    if (n <= 4)
        return t0_fail(err, T0_EINPUT, "blob for normalization rule is broken");
    uint32_t trie_size = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
                         (uint32_t)blob[3] << 24;
    if (trie_size >= n - 4 || trie_size % 4 || trie_size == 0)
        return t0_fail(err, T0_EINPUT, "normalization rule trie size exceeds the blob");
    /* copy into aligned memory, units little-endian (x86 and arm64 both are) */
    m->charsmap_blob = malloc(n + 1);
    if (!m->charsmap_blob)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    memcpy(m->charsmap_blob, blob + 4, n - 4);
    m->charsmap_blob[n - 4] = '\0'; /* a pool string missing its NUL still ends here */
    m->charsmap_units = (const uint32_t *)m->charsmap_blob;
    m->charsmap_n_units = trie_size / 4;
    m->charsmap_pool = (const char *)m->charsmap_blob + trie_size;
    m->charsmap_pool_len = (uint32_t)(n - 4 - trie_size);
    return 0;
}

static int cmp_piece(const void *a, const void *b, void *ctx)
{
    const t0_spm *m = ctx;
    const t0_spm_piece *p = &m->pieces[*(const int32_t *)a], *q = &m->pieces[*(const int32_t *)b];
    size_t n = p->len < q->len ? p->len : q->len;
    int c = memcmp(p->text, q->text, n);
    return c ? c : (p->len > q->len) - (p->len < q->len);
}

/* spm refuses a vocabulary with the same piece twice. */
static int check_unique(const t0_spm *m, t0_error *err)
{
    size_t n = m->n_pieces > 0 ? (size_t)m->n_pieces : 1;
    int32_t *order = malloc(n * sizeof *order);
    if (!order)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < m->n_pieces; i++)
        order[i] = i;
    qsort_r(order, (size_t)m->n_pieces, sizeof *order, cmp_piece, (void *)m);
    for (int32_t i = 1; i < m->n_pieces; i++) {
        if (cmp_piece(&order[i - 1], &order[i], (void *)m) == 0) {
            const t0_spm_piece *p = &m->pieces[order[i]];
            int rc = t0_fail(err, T0_EINPUT, "piece \"%.*s\" is defined twice",
                             (int)(p->len > 40 ? 40 : p->len), p->text);
            free(order);
            return rc;
        }
    }
    free(order);
    return 0;
}

static int32_t find_piece(const t0_spm *m, const char *s)
{
    size_t n = strlen(s);
    for (int32_t i = 0; i < m->n_pieces; i++)
        if (m->pieces[i].len == n && memcmp(m->pieces[i].text, s, n) == 0)
            return i;
    return -1;
}

/* spm resolves eos/pad/bos through their piece strings; only CONTROL pieces count. */
static int32_t control_id(const t0_spm *m, const char *name)
{
    int32_t id = name ? find_piece(m, name) : -1;
    return id >= 0 && m->pieces[id].type == T0_SPM_CONTROL ? id : -1;
}

static int check_bytes(t0_spm *m, t0_error *err)
{
    for (int b = 0; b < 256; b++)
        m->byte_id[b] = -1;
    for (int32_t i = 0; i < m->n_pieces; i++) {
        const t0_spm_piece *p = &m->pieces[i];
        if (p->type != T0_SPM_BYTE)
            continue;
        if (!m->byte_fallback)
            return t0_fail(err, T0_EINPUT, "byte piece %d without byte_fallback", i);
        unsigned v;
        char spelled[8];
        if (p->len != 6 || sscanf(p->text, "<0x%2X>", &v) != 1 || v > 255)
            return t0_fail(err, T0_EINPUT, "byte piece %d is not spelled <0xXX>", i);
        snprintf(spelled, sizeof spelled, "<0x%02X>", v);
        if (memcmp(spelled, p->text, 6) != 0)
            return t0_fail(err, T0_EINPUT, "byte piece %d is not spelled <0xXX>", i);
        m->byte_id[v] = i;
    }
    if (m->byte_fallback)
        for (int b = 0; b < 256; b++)
            if (m->byte_id[b] < 0)
                return t0_fail(err, T0_EINPUT, "byte_fallback model lacks piece <0x%02X>", b);
    return 0;
}

/* Sentinels the model spells itself keep their ids; else they follow the pieces. */
static void place_sentinels(t0_spm *m)
{
    int own = 0;
    for (int k = 0; k < T0_SPM_SENTINELS; k++) {
        char *name = m->sentinel_name[k];
        snprintf(name, sizeof m->sentinel_name[k], "<extra_id_%d>", k % T0_SPM_SENTINELS);
        m->sentinel_id[k] = find_piece(m, name);
        own += m->sentinel_id[k] >= 0;
    }
    m->vocab_size = m->n_pieces;
    if (own == T0_SPM_SENTINELS)
        return;
    m->vocab_size = m->n_pieces + T0_SPM_SENTINELS;
    for (int k = 0; k < T0_SPM_SENTINELS; k++)
        m->sentinel_id[k] = m->vocab_size - 1 - k;
}

static int build_tries(t0_spm *m, t0_error *err)
{
    size_t n = m->n_pieces > 0 ? (size_t)m->n_pieces : 1;
    const char **keys = malloc(n * sizeof *keys);
    uint32_t *lens = malloc(n * sizeof *lens);
    int32_t *ids = malloc(n * sizeof *ids);
    int rc = -1;
    if (!keys || !lens || !ids) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        goto done;
    }
    size_t k = 0, u = 0;
    for (int32_t i = 0; i < m->n_pieces; i++) { /* NORMAL, USER_DEFINED, UNUSED */
        const t0_spm_piece *p = &m->pieces[i];
        if (p->type == T0_SPM_CONTROL || p->type == T0_SPM_UNKNOWN || p->type == T0_SPM_BYTE)
            continue;
        keys[k] = p->text;
        lens[k] = p->len;
        ids[k++] = i;
        if (p->len > m->max_piece_len)
            m->max_piece_len = p->len;
    }
    m->trie = t0_spm_trie_build(keys, lens, ids, k, err);
    if (!m->trie)
        goto done;
    for (int32_t i = 0; i < m->n_pieces; i++) {
        const t0_spm_piece *p = &m->pieces[i];
        if (p->type == T0_SPM_USER_DEFINED) {
            keys[u] = p->text;
            lens[u] = p->len;
            ids[u++] = i;
        }
    }
    if (u && !(m->user_trie = t0_spm_trie_build(keys, lens, ids, u, err)))
        goto done;
    rc = 0;
done:
    free(keys);
    free(lens);
    free(ids);
    return rc;
}

int t0_spm_finish(t0_spm *m, const char *eos_piece, const char *pad_piece,
                  const char *bos_piece, t0_error *err)
{
    for (int32_t i = 0; i < m->n_pieces; i++)
        m->pieces[i].text = m->arena + m->piece_off[i];
    if (m->n_pieces == 0)
        return t0_fail(err, T0_EINPUT, "the model has no pieces");
    if (check_unique(m, err) < 0)
        return -1;
    m->min_score = FLT_MAX;
    m->max_score = FLT_MIN; /* sic: spm starts the maximum at the smallest positive float */
    for (int32_t i = 0; i < m->n_pieces; i++) {
        const t0_spm_piece *p = &m->pieces[i];
        if (p->type == T0_SPM_UNKNOWN) {
            if (m->unk_id >= 0)
                return t0_fail(err, T0_EINPUT, "unk is defined twice");
            m->unk_id = i;
        } else if (p->type == T0_SPM_NORMAL) {
            if (p->score < m->min_score)
                m->min_score = p->score;
            if (p->score > m->max_score)
                m->max_score = p->score;
        }
    }
    if (m->unk_id < 0)
        return t0_fail(err, T0_EINPUT, "unk is not defined");
    if (check_bytes(m, err) < 0)
        return -1;
    m->eos_id = control_id(m, eos_piece ? eos_piece : "</s>");
    m->pad_id = control_id(m, pad_piece ? pad_piece : "<pad>");
    m->bos_id = control_id(m, bos_piece ? bos_piece : "<s>");
    if (!m->unk_surface && !(m->unk_surface = strdup(" \xE2\x81\x87 ")))
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    place_sentinels(m);
    return build_tries(m, err);
}

const char *t0_spm_id_to_piece(const t0_spm *m, int32_t id, size_t *len)
{
    if (id < 0 || id >= m->vocab_size)
        return NULL;
    if (id < m->n_pieces) {
        *len = m->pieces[id].len;
        return m->pieces[id].text;
    }
    const char *name = m->sentinel_name[m->vocab_size - 1 - id];
    *len = strlen(name);
    return name;
}
