/* spm_records.h: example records into tokens records, with T5's conventions: inputs without
 * EOS, targets and every answer choice with EOS appended and kept last under a length limit.
 * A loaded model is read-only, so threads may build records at once, each with its own work. */
#ifndef T0_SPM_RECORDS_H
#define T0_SPM_RECORDS_H

#include <stdint.h>

#include "common/error.h"
#include "spm/spm.h"
#include "stream/record.h"

typedef struct {
    int plain;         /* 1: spm_encode's ids (<extra_id_N> is plain text); 0: T5's tokenizer */
    int32_t eos;       /* appended to targets and choices; -1: none */
    int64_t input_len; /* keep the first input_len input ids; 0: all */
    int64_t target_len; /* the same for target and choice ids, EOS still last */
    int no_target;     /* a document (t0-tokenize --lines): no target ids, not even EOS */
} t0_spm_record_opts;

/* Builds in *t the tokens record of example e: task, template, id and label point to e's,
 * the ids are malloc'd. w is the calling thread's scratch. Free *t with t0_record_free_ids
 * (stream/record_copy.h), also after an error: it then holds what was built. */
int t0_spm_tokenize_example(const t0_spm *m, const t0_spm_record_opts *o, const t0_record *e,
                            t0_record *t, t0_spm_work *w, t0_error *err);

#endif
