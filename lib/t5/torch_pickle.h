/* torch_pickle.h: a restricted unpickler for the data.pkl of a torch.save'd state dict.
 *
 * In Python a pickle can run any code: GLOBAL names a callable, REDUCE calls it. This one
 * knows the few callables a state dict uses and builds their results itself; anything else
 * is an error naming it. What it understands:
 *   - opcodes of protocol 2 that torch.save (pickle_protocol=2) emits for a state dict:
 *     PROTO STOP MARK EMPTY_DICT EMPTY_LIST EMPTY_TUPLE TUPLE TUPLE1-3 APPEND(S) SETITEM(S)
 *     NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 BINFLOAT BINUNICODE GLOBAL REDUCE
 *     BUILD BINPERSID BINPUT LONG_BINPUT BINGET LONG_BINGET, and protocol 4's FRAME,
 *     MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL (torch.save(..., pickle_protocol=4));
 *   - globals: collections.OrderedDict (called with no arguments; BUILD on it, which sets
 *     a state dict's _metadata, is accepted and ignored), torch._utils._rebuild_tensor_v2,
 *     _rebuild_parameter, _rebuild_parameter_with_state, and the storage types
 *     torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage and
 *     torch.UntypedStorage (bytes), which only tag persistent ids;
 *   - persistent ids ('storage', STORAGE_TYPE, key, location, numel): a storage, whose
 *     bytes are the archive's entry data/KEY (torch_bin.c finds them); the key is a file
 *     name of at most 64 bytes (torch numbers its storages).
 * The pickle must end with a dict (or OrderedDict) of string keys to tensors.
 *
 * Bounds (a hostile pickle gets one error line, never a crash or an allocation the size of
 * a claim): lengths are checked against the bytes left; the memo grows one index at a time
 * (an index past its end is an error, as is a get of an index never put); at most
 * TP_MAX_MARKS nested MARKs, TP_MAX_STACK stack entries and TP_MAX_OBJECTS objects, items
 * and memo entries in all. Nothing is traversed recursively, so self-referencing lists and
 * dicts are harmless.
 */
#ifndef T0_TORCH_PICKLE_H
#define T0_TORCH_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TP_MAX_MARKS 64
#define TP_MAX_STACK (1 << 16)
#define TP_MAX_OBJECTS (1 << 21)
#define TP_MAX_DIMS 8

typedef struct {
    char *name;             /* the state dict's key */
    char *storage_key;      /* the persistent id's key: archive entry data/KEY */
    const char *dtype;      /* the storage's element type, as safetensors names it: "F32", "BF16", "I64", "U8", ... */
    int elem_size;          /* bytes */
    uint64_t storage_numel; /* elements the persistent id says the storage holds */
    uint64_t offset;        /* the view's storage offset, in elements */
    int ndim;
    int64_t shape[TP_MAX_DIMS];  /* >= 0 */
    int64_t stride[TP_MAX_DIMS]; /* in elements, >= 0 */
} tp_tensor;

typedef struct {
    tp_tensor *t;
    int n;                  /* in the pickle's order */
} tp_state_dict;

/* Unpickles pkl (len bytes); what names it in messages. 0, or -1 and err (T0_EINPUT for
 * anything the pickle says). On success free sd with tp_free. */
int tp_load(const uint8_t *pkl, size_t len, const char *what, tp_state_dict *sd, t0_error *err);
void tp_free(tp_state_dict *sd);

#endif
