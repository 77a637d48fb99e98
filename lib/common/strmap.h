/* strmap.h: a hash map from strings to uint64_t values that remembers the order keys were
 * first added: counts per name, an index per name. Keys are copied (NUL-terminated).
 * Zero-initialize (t0_strmap m = {0}); free with t0_strmap_free. */
#ifndef T0_STRMAP_H
#define T0_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct {
    char *key;
    uint64_t value;
} t0_strmap_entry;

typedef struct {
    t0_strmap_entry *entries; /* entries[0..n) in first-added order */
    size_t n, cap_entries;
    size_t *slots; /* open addressing, linear probing: an entry's index + 1, 0 when empty */
    size_t cap_slots; /* a power of two, at least twice n */
} t0_strmap;

/* The entry of key, or NULL when key is absent. */
t0_strmap_entry *t0_strmap_find(const t0_strmap *m, const char *key);
/* The entry of key, added with value 0 when it is new; NULL when out of memory (err set).
 * Entry pointers stay valid until the next add. */
t0_strmap_entry *t0_strmap_add(t0_strmap *m, const char *key, t0_error *err);
void t0_strmap_free(t0_strmap *m);

#endif
