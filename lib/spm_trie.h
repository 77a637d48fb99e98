/* spm_trie.h: a byte trie over SentencePiece pieces, for the common prefix search of
 * the Viterbi encoder and of the user-defined prefix matcher.
 *
 * Nodes keep their children as sorted label/target runs; nodes with many children
 * (the root, and the lead bytes of CJK ranges) get a 256-entry table instead, so a
 * step is one or a few byte compares. Any exact byte-prefix structure gives spm's
 * results; spm's own darts-clone array is only one of them.
 */
#ifndef T0_SPM_TRIE_H
#define T0_SPM_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct t0_spm_trie t0_spm_trie;

/* Builds a trie of keys[i] (lens[i] bytes, non-empty) with value ids[i]; keys distinct. */
t0_spm_trie *t0_spm_trie_build(const char *const *keys, const uint32_t *lens,
                               const int32_t *ids, size_t n, t0_error *err);
void t0_spm_trie_free(t0_spm_trie *t);

/* Common prefix search of s[0..n): calls back, shortest key first, with each key that is
 * a prefix of s (its value and length). Inline-able loop lives in the .c file; this
 * form fills arrays: at most max results, returns the count. */
size_t t0_spm_trie_prefixes(const t0_spm_trie *t, const char *s, size_t n, int32_t *ids,
                            uint32_t *lens, size_t max);
/* Length of the longest key that is a prefix of s (0 if none), its value in *id. */
size_t t0_spm_trie_longest(const t0_spm_trie *t, const char *s, size_t n, int32_t *id);

#endif
