/* pyval_internal.h: the layout of a pyval and the render arena, shared by pyval.c and the
 * Jinja engine (which builds render values in place). Nobody
 * outside lib/render sees it. pyval depends on nothing of the engine. */
#ifndef T0_PYVAL_INTERNAL_H
#define T0_PYVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "render/pyunicode.h"
#include "render/pyval.h"

/* ---- values ---- */

/* List flavours: how a list-like value prints and what Python allows on it. */
enum { LK_LIST, LK_GEN, LK_KEYS, LK_VALUES, LK_ITEMS, LK_ZIP };

typedef struct {
    pyval *key, *value;
} pv_entry;

struct pyval {
    uint8_t type;     /* pv_type */
    uint8_t immortal; /* render value or static singleton: no reference counting */
    uint8_t ascii;    /* str: every byte < 0x80 (byte index == code point index) */
    uint8_t big;      /* int: too big for int64, digits in u.str */
    uint8_t kind;     /* list: LK_*; func: which builtin */
    uint32_t refs;
    union {
        int b;
        int64_t i;
        double f;
        struct {
            char *s;
            size_t len, ncp; /* bytes, code points */
        } str;
        struct {
            pyval **items;
            size_t len, cap;
        } list;
        struct {
            pv_entry *e;
            size_t len, cap;
        } dict;
        struct {
            int64_t start, stop, step;
        } range;
        struct {
            int id;       /* builtin method or global */
            pyval *self;  /* bound object or NULL */
            const char *name;
            void *ptr;    /* the loop state of `loop` */
        } func;
    } u;
};

extern pyval pv_undefined_singleton, pv_none_singleton, pv_true_singleton, pv_false_singleton;
#define PV_NONE_V (&pv_none_singleton)
#define PV_TRUE_V (&pv_true_singleton)
#define PV_FALSE_V (&pv_false_singleton)
#define PV_BOOL_V(x) ((x) ? PV_TRUE_V : PV_FALSE_V)

/* Render arena: NULL arena = heap (malloc, reference counted). */
typedef struct pv_arena pv_arena;
pv_arena *pv_arena_new(void);
/* An arena whose first chunk is the caller's memory (e.g. a stack buffer of 8 KiB). */
pv_arena *pv_arena_on_stack(void *mem, size_t size);
void pv_arena_free(pv_arena *a);
void *pv_alloc(pv_arena *a, size_t n); /* zeroed; NULL on out-of-memory */

pyval *pv_mk(pv_arena *a, pv_type t);
pyval *pv_mk_int(pv_arena *a, int64_t i);
pyval *pv_mk_float(pv_arena *a, double f);
pyval *pv_mk_str(pv_arena *a, const char *s, size_t len);
pyval *pv_mk_list(pv_arena *a, pv_type t, size_t cap); /* PV_LIST or PV_TUPLE */
pyval *pv_mk_dict(pv_arena *a, pv_type t);             /* PV_DICT or PV_NAMESPACE */
pyval *pv_mk_undefined(pv_arena *a, const char *name, size_t len);
int pv_list_push(pv_arena *a, pyval *list, pyval *item);       /* no refcounting */
int pv_dict_put(pv_arena *a, pyval *d, pyval *key, pyval *val); /* no refcounting */
pyval *pv_dict_find(const pyval *d, const pyval *key);
pyval *pv_dict_find_str(const pyval *d, const char *key, size_t len);
int pv_dict_remove(pyval *d, const pyval *key); /* 1 removed, 0 absent */

/* Byte offset of code point index i in the str value s (i <= its length in code points). */
size_t pv_str_offset(const pyval *s, size_t i);

#endif
