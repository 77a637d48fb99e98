/* tokenizer_json.h: a Hugging Face tokenizer.json (Unigram model) loaded into the same
 * t0_spm as a spiece.model, so encoding runs SentencePiece's algorithm, not HF's
 * (sentencepiece.md §6.3-6.4: that is what gives spm's and seqio's ids).
 *
 * Taken from the file: model.vocab (pieces and scores, index = id), model.unk_id,
 * model.byte_fallback, the Precompiled charsmap (alone or inside a Sequence), the prefix
 * flag of Metaspace (add_prefix_space, or prepend_scheme "never"), added_tokens (special
 * -> CONTROL, else USER_DEFINED), and the eos token of the TemplateProcessing. Strip and
 * Replace normalizers only restate spm's whitespace rules, which are always on here. */
#ifndef T0_TOKENIZER_JSON_H
#define T0_TOKENIZER_JSON_H

#include <stddef.h>

#include "common/error.h"
#include "spm/spm.h"

t0_spm *t0_spm_from_tokenizer_json(const char *text, size_t n, t0_error *err);

#endif
