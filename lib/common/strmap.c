/* strmap.c: open addressing over an array of entries kept in insertion order. */
#include "common/strmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const t0_strmap *m, const char *key)
{
    size_t j = hash_str(key) & (m->cap_slots - 1);
    while (m->slots[j] && strcmp(m->entries[m->slots[j] - 1].key, key) != 0)
        j = (j + 1) & (m->cap_slots - 1);
    return j;
}

t0_strmap_entry *t0_strmap_find(const t0_strmap *m, const char *key)
{
    if (!m->cap_slots)
        return NULL;
    size_t j = slot_of(m, key);
    return m->slots[j] ? &m->entries[m->slots[j] - 1] : NULL;
}

/* Room for one more entry, the slots kept at most half full. */
static int grow(t0_strmap *m, t0_error *err)
{
    if (m->n == m->cap_entries) {
        size_t cap = m->cap_entries ? 2 * m->cap_entries : 32;
        t0_strmap_entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        m->entries = e, m->cap_entries = cap;
    }
    if (2 * (m->n + 1) <= m->cap_slots)
        return 0;
    size_t cap = m->cap_slots ? 2 * m->cap_slots : 64;
    size_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    free(m->slots);
    m->slots = slots, m->cap_slots = cap;
    for (size_t i = 0; i < m->n; i++)
        m->slots[slot_of(m, m->entries[i].key)] = i + 1;
    return 0;
}

t0_strmap_entry *t0_strmap_add(t0_strmap *m, const char *key, t0_error *err)
{
    t0_strmap_entry *e = t0_strmap_find(m, key);
    if (e)
        return e;
    if (grow(m, err))
        return NULL;
    char *copy = strdup(key);
    if (!copy) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    m->entries[m->n] = (t0_strmap_entry){copy, 0};
    m->slots[slot_of(m, key)] = ++m->n;
    return &m->entries[m->n - 1];
}

void t0_strmap_free(t0_strmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->entries[i].key);
    free(m->entries);
    free(m->slots);
    *m = (t0_strmap){0};
}
