/* spm_trie.h: a byte trie over SentencePiece pieces, for the common prefix search of
 * the Viterbi encoder and of the user-defined prefix matcher.
 *
 * It is a double array (base/check, as spm's darts-clone, but our own simple builder:
 * keys sorted, nodes placed breadth first at the first base that fits). Any exact
 * byte-prefix structure gives spm's results; this one takes a load and a compare a byte.
 */
#ifndef T0_SPM_TRIE_H
#define T0_SPM_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct t0_spm_trie t0_spm_trie;

/* Builds a trie of keys[i] (lens[i] bytes, non-empty) with value ids[i]; keys distinct. */
t0_spm_trie *t0_spm_trie_build(const char *const *keys, const uint32_t *lens,
                               const int32_t *ids, size_t n, t0_error *err);
void t0_spm_trie_free(t0_spm_trie *t);

/* Common prefix search of s[0..n): fills ids/lens with each key that is a prefix of s,
 * shortest first, at most max of them; returns the count. */
size_t t0_spm_trie_prefixes(const t0_spm_trie *t, const char *s, size_t n, int32_t *ids,
                            uint32_t *lens, size_t max);
/* Length of the longest key that is a prefix of s (0 if none), its value in *id. */
size_t t0_spm_trie_longest(const t0_spm_trie *t, const char *s, size_t n, int32_t *id);

#endif
