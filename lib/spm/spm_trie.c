#include "spm/spm_trie.h"

#include <stdlib.h>
#include <string.h>

/* A double array: the child of node s by byte c is t = units[s].base + c, valid when
 * units[t].check == s. One load and one compare a byte, which is what makes the
 * Viterbi's prefix search (half of all encoding time) fast. */
typedef struct {
    int32_t base;
    int32_t check; /* parent; FREE when the slot is unused, ROOT for slot 0 */
    int32_t value; /* id of the key ending here, or -1 */
} da_unit;

enum { FREE = -1, ROOT = -2 };

struct t0_spm_trie {
    da_unit *units;
    size_t size; /* units allocated (all initialised) */
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

/* Makes units[0..need) exist. */
static int grow(t0_spm_trie *t, size_t need)
{
    if (need <= t->size)
        return 0;
    if (need > (size_t)INT32_MAX)
        return -1;
    size_t size = t->size ? t->size : 1024;
    while (size < need)
        size *= 2;
    da_unit *u = realloc(t->units, size * sizeof *u);
    if (!u)
        return -1;
    for (size_t i = t->size; i < size; i++)
        u[i] = (da_unit){0, FREE, -1};
    t->units = u;
    t->size = size;
    return 0;
}

enum { SEARCH_WINDOW = 2048 }; /* slots behind the last used one worth searching */

/* A base >= 1 whose slots base + labels[k] are all free. Searches the free slots from the
 * first free one, but no further back than SEARCH_WINDOW before the end of the used
 * slots: holes further back are left, as darts-clone leaves them, so that building stays
 * linear. -1: out of memory. */
static int64_t find_base(t0_spm_trie *t, const unsigned char *labels, int n, size_t *first_free,
                         size_t used_end)
{
    while (*first_free < t->size && t->units[*first_free].check != FREE)
        (*first_free)++;
    size_t pos = *first_free;
    if (used_end > SEARCH_WINDOW && pos < used_end - SEARCH_WINDOW)
        pos = *first_free = used_end - SEARCH_WINDOW;
    for (;; pos++) {
        if (grow(t, pos + 257) < 0)
            return -1;
        if (t->units[pos].check != FREE || pos < (size_t)labels[0] + 1)
            continue;
        size_t base = pos - labels[0];
        int k = 1;
        while (k < n && t->units[base + labels[k]].check == FREE)
            k++;
        if (k == n)
            return (int64_t)base;
    }
}

typedef struct {
    uint32_t node, lo, hi, depth;
} build_item;

/* Places the node of keys order[lo..hi) (sharing their first depth bytes) and queues its
 * children. */
static int place(t0_spm_trie *t, const key_set *ks, const int32_t *ids, const uint32_t *order,
                 build_item it, build_item *queue, size_t *tail, size_t *first_free,
                 size_t *used_end)
{
    if (it.lo < it.hi && ks->lens[order[it.lo]] == it.depth)
        t->units[it.node].value = ids[order[it.lo++]];
    unsigned char labels[256];
    uint32_t starts[257];
    int n = 0;
    for (uint32_t k = it.lo; k < it.hi; k++) {
        unsigned char c = (unsigned char)ks->keys[order[k]][it.depth];
        if (n == 0 || labels[n - 1] != c) {
            labels[n] = c;
            starts[n++] = k;
        }
    }
    if (n == 0)
        return 0;
    starts[n] = it.hi;
    int64_t base = find_base(t, labels, n, first_free, *used_end);
    if (base < 0)
        return -1;
    t->units[it.node].base = (int32_t)base;
    for (int k = 0; k < n; k++) {
        uint32_t child = (uint32_t)base + labels[k];
        t->units[child].check = (int32_t)it.node;
        queue[(*tail)++] = (build_item){child, starts[k], starts[k + 1], it.depth + 1};
        if (child + 1 > *used_end)
            *used_end = child + 1;
    }
    return 0;
}

t0_spm_trie *t0_spm_trie_build(const char *const *keys, const uint32_t *lens,
                               const int32_t *ids, size_t n, t0_error *err)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (total > INT32_MAX / 4) {
        t0_fail(err, T0_EINPUT, "pieces too long for the trie");
        return NULL;
    }
    key_set ks = {keys, lens};
    t0_spm_trie *t = calloc(1, sizeof *t);
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    build_item *queue = malloc(total * sizeof *queue); /* one item a node; nodes <= total */
    int rc = t && order && queue && grow(t, 1024) == 0 ? 0 : -1;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        qsort_r(order, n, sizeof *order, key_cmp, &ks); /* glibc's, for the context */
        t->units[0].check = ROOT;
        size_t head = 0, tail = 0, first_free = 1, used_end = 1;
        queue[tail++] = (build_item){0, 0, (uint32_t)n, 0};
        while (rc == 0 && head < tail)
            rc = place(t, &ks, ids, order, queue[head++], queue, &tail, &first_free, &used_end);
    }
    free(order);
    free(queue);
    if (rc < 0) {
        t0_spm_trie_free(t);
        t0_fail(err, T0_EINTERNAL, "out of memory building the piece trie");
        return NULL;
    }
    return t;
}

void t0_spm_trie_free(t0_spm_trie *t)
{
    if (!t)
        return;
    free(t->units);
    free(t);
}

size_t t0_spm_trie_prefixes(const t0_spm_trie *t, const char *s, size_t n, int32_t *ids,
                            uint32_t *lens, size_t max)
{
    const da_unit *u = t->units;
    size_t found = 0;
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        size_t next = (size_t)u[node].base + (unsigned char)s[i];
        if (next >= t->size || u[next].check != node)
            break;
        node = (int32_t)next;
        if (u[node].value >= 0 && found < max) {
            ids[found] = u[node].value;
            lens[found++] = (uint32_t)(i + 1);
        }
    }
    return found;
}

size_t t0_spm_trie_longest(const t0_spm_trie *t, const char *s, size_t n, int32_t *id)
{
    const da_unit *u = t->units;
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        size_t next = (size_t)u[node].base + (unsigned char)s[i];
        if (next >= t->size || u[next].check != node)
            break;
        node = (int32_t)next;
        if (u[node].value >= 0) {
            best = i + 1;
            *id = u[node].value;
        }
    }
    return best;
}
