/* pyval_internal.h: the layout of a pyval, the render arena and the Unicode helpers, shared by
 * pyval.c, pyunicode.c and the Jinja engine (which builds render values in place). Nobody
 * outside lib/render sees it. pyval depends on nothing of the engine. */
#ifndef T0_PYVAL_INTERNAL_H
#define T0_PYVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
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

/* ---- Unicode (Python 3.11 property tables) ---- */
size_t ju_decode(const char *s, size_t len, uint32_t *cp); /* bytes used (>=1); bad byte -> U+FFFD */
size_t ju_encode(uint32_t cp, char *out);                  /* 1-4 */
size_t ju_count(const char *s, size_t len);                /* code points */
int ju_isspace(uint32_t cp);
int ju_isprintable(uint32_t cp);
int ju_iscased(uint32_t cp);
int ju_isword(uint32_t cp);
int ju_iscase_ignorable(uint32_t cp);
/* Appends the lower/upper/title mapping of cp (may be several code points). */
int ju_append_lower(pv_buf *b, uint32_t cp);
int ju_append_upper(pv_buf *b, uint32_t cp);
int ju_append_title(pv_buf *b, uint32_t cp);
/* Byte offset of code point index i in s (i <= ncp). */
size_t ju_offset(const pyval *str, size_t i);

#endif
