/* test_strmap.c: the string map keeps one entry a key, its value, and first-added order,
 * across the growth of its table. */
#include <stdio.h>
#include <stdlib.h>

#include "common/strmap.h"
#include "unit.h"

/* 5000 keys, each added (i % 7) + 1 times interleaved: every count and the order survive
 * the table's rehashing. */
static void counts_and_order(void)
{
    t0_strmap m = {0};
    t0_error err = {0};
    enum { KEYS = 5000 };
    char key[32];
    int ok = 1;
    for (int round = 0; round < 7; round++)
        for (int i = 0; i < KEYS; i++) {
            if (i % 7 < round)
                continue;
            snprintf(key, sizeof key, "task-%d", i);
            t0_strmap_entry *e = t0_strmap_add(&m, key, &err);
            ok = ok && e;
            if (e)
                e->value++;
        }
    CHECK(ok);
    CHECK(m.n == KEYS);
    int order = 1, counts = 1;
    for (int i = 0; i < KEYS && i < (int)m.n; i++) {
        snprintf(key, sizeof key, "task-%d", i);
        order = order && strcmp(m.entries[i].key, key) == 0;
        t0_strmap_entry *e = t0_strmap_find(&m, key);
        counts = counts && e == &m.entries[i] && e->value == (uint64_t)(i % 7 + 1);
    }
    CHECK(order);
    CHECK(counts);
    CHECK(t0_strmap_find(&m, "task-5000") == NULL);
    CHECK(t0_strmap_find(&m, "") == NULL);
    t0_strmap_free(&m);
    CHECK(m.n == 0 && t0_strmap_find(&m, "task-1") == NULL);
}

/* Keys are copied: the caller's buffer may change; the empty string is a key too. */
static void keys_are_copied(void)
{
    t0_strmap m = {0};
    t0_error err = {0};
    char key[8] = "abc";
    CHECK(t0_strmap_add(&m, key, &err) != NULL);
    key[0] = 'x';
    CHECK(t0_strmap_find(&m, "abc") != NULL);
    CHECK(t0_strmap_find(&m, "xbc") == NULL);
    t0_strmap_entry *e = t0_strmap_add(&m, "", &err);
    CHECK(e && e->value == 0 && m.n == 2 && t0_strmap_find(&m, "") == e);
    t0_strmap_free(&m);
}

int main(void)
{
    counts_and_order();
    keys_are_copied();
    return unit_summary("test_strmap");
}
