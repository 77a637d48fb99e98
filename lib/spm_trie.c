#include "spm_trie.h"

#include <stdlib.h>
#include <string.h>

enum { DENSE_MIN = 9 }; /* nodes with this many children get a 256-entry table */

typedef struct {
    int32_t value;  /* id of the key ending here, or -1 */
    uint32_t first; /* sparse: index into labels/targets; dense: table number */
    uint16_t count; /* children */
    uint8_t dense;
} trie_node;

struct t0_spm_trie {
    trie_node *nodes;
    uint32_t n_nodes;
    uint8_t *labels;
    uint32_t *targets;
    uint32_t n_edges;
    uint32_t *tables; /* [n_tables][256] child node, 0 = none (the root is nobody's child) */
    uint32_t n_tables;
};

typedef struct {
    const char *const *keys;
    const uint32_t *lens;
} key_set;

static int key_cmp(const void *a, const void *b, void *ctx)
{
    const key_set *sort_keys = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    uint32_t li = sort_keys->lens[i], lj = sort_keys->lens[j];
    int c = memcmp(sort_keys->keys[i], sort_keys->keys[j], li < lj ? li : lj);
    if (c)
        return c;
    return li < lj ? -1 : li > lj;
}

typedef struct {
    uint32_t node, lo, hi, depth;
} build_item;

/* Counts the distinct bytes at depth among order[lo..hi) (all longer than depth). */
static uint32_t count_children(const key_set *ks, const uint32_t *order, uint32_t lo,
                               uint32_t hi, uint32_t depth)
{
    uint32_t count = 0;
    int prev = -1;
    for (uint32_t k = lo; k < hi; k++) {
        int c = (unsigned char)ks->keys[order[k]][depth];
        if (c != prev)
            count++;
        prev = c;
    }
    return count;
}

static int trie_fill(t0_spm_trie *t, const key_set *ks, const int32_t *ids, uint32_t *order,
                     size_t n, build_item *queue)
{
    size_t head = 0, tail = 0;
    t->nodes[0] = (trie_node){.value = -1};
    t->n_nodes = 1;
    queue[tail++] = (build_item){0, 0, (uint32_t)n, 0};
    while (head < tail) {
        build_item it = queue[head++];
        trie_node *nd = &t->nodes[it.node];
        if (it.lo < it.hi && ks->lens[order[it.lo]] == it.depth)
            nd->value = ids[order[it.lo++]];
        uint32_t count = count_children(ks, order, it.lo, it.hi, it.depth);
        if (count == 0)
            continue;
        nd->count = (uint16_t)count;
        nd->dense = count >= DENSE_MIN;
        nd->first = nd->dense ? t->n_tables++ : t->n_edges;
        uint32_t k = it.lo;
        while (k < it.hi) {
            unsigned char c = (unsigned char)ks->keys[order[k]][it.depth];
            uint32_t end = k;
            while (end < it.hi && (unsigned char)ks->keys[order[end]][it.depth] == c)
                end++;
            uint32_t child = t->n_nodes++;
            t->nodes[child] = (trie_node){.value = -1};
            if (nd->dense) {
                t->tables[(size_t)nd->first * 256 + c] = child;
            } else {
                t->labels[t->n_edges] = c;
                t->targets[t->n_edges++] = child;
            }
            queue[tail++] = (build_item){child, k, end, it.depth + 1};
            k = end;
        }
    }
    return 0;
}

t0_spm_trie *t0_spm_trie_build(const char *const *keys, const uint32_t *lens,
                               const int32_t *ids, size_t n, t0_error *err)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (total > UINT32_MAX / 2) {
        t0_fail(err, T0_EINPUT, "pieces too long for the trie");
        return NULL;
    }
    key_set ks = {keys, lens};
    t0_spm_trie *t = calloc(1, sizeof *t);
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    build_item *queue = malloc(total * sizeof *queue);
    if (t) {
        t->nodes = calloc(total, sizeof *t->nodes);
        t->labels = malloc(total);
        t->targets = malloc(total * sizeof *t->targets);
    }
    /* a dense table needs DENSE_MIN children, so there are at most total/DENSE_MIN + 1 */
    size_t max_tables = total / DENSE_MIN + 1;
    if (t)
        t->tables = calloc(max_tables * 256, sizeof *t->tables);
    if (!t || !order || !queue || !t->nodes || !t->labels || !t->targets || !t->tables) {
        free(order);
        free(queue);
        t0_spm_trie_free(t);
        t0_fail(err, T0_EINTERNAL, "out of memory building the piece trie");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof *order, key_cmp, &ks); /* glibc's, for the context */
    trie_fill(t, &ks, ids, order, n, queue);
    free(order);
    free(queue);
    return t;
}

void t0_spm_trie_free(t0_spm_trie *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->labels);
    free(t->targets);
    free(t->tables);
    free(t);
}

/* The child of node by byte c, or 0. */
static inline uint32_t trie_step(const t0_spm_trie *t, const trie_node *nd, unsigned char c)
{
    if (nd->dense)
        return t->tables[(size_t)nd->first * 256 + c];
    const uint8_t *lab = t->labels + nd->first;
    for (uint32_t k = 0; k < nd->count; k++) {
        if (lab[k] == c)
            return t->targets[nd->first + k];
        if (lab[k] > c)
            break;
    }
    return 0;
}

size_t t0_spm_trie_prefixes(const t0_spm_trie *t, const char *s, size_t n, int32_t *ids,
                            uint32_t *lens, size_t max)
{
    size_t found = 0;
    const trie_node *nd = &t->nodes[0];
    for (size_t i = 0; i < n && nd->count; i++) {
        uint32_t next = trie_step(t, nd, (unsigned char)s[i]);
        if (!next)
            break;
        nd = &t->nodes[next];
        if (nd->value >= 0 && found < max) {
            ids[found] = nd->value;
            lens[found++] = (uint32_t)(i + 1);
        }
    }
    return found;
}

size_t t0_spm_trie_longest(const t0_spm_trie *t, const char *s, size_t n, int32_t *id)
{
    size_t best = 0;
    const trie_node *nd = &t->nodes[0];
    for (size_t i = 0; i < n && nd->count; i++) {
        uint32_t next = trie_step(t, nd, (unsigned char)s[i]);
        if (!next)
            break;
        nd = &t->nodes[next];
        if (nd->value >= 0) {
            best = i + 1;
            *id = nd->value;
        }
    }
    return best;
}
