/* record_copy.h: records that own their memory. A reader's records point into its buffers
 * until the next read; a tool that keeps examples longer (a batch for worker threads)
 * copies them, and the tokens records it builds own their ids. */
#ifndef T0_RECORD_COPY_H
#define T0_RECORD_COPY_H

#include "common/error.h"
#include "stream/record.h"

/* Copies example src into *dst, strings and choices malloc'd (NULL strings become "").
 * On failure *dst is left empty. Free with t0_record_free_example. */
int t0_record_copy_example(t0_record *dst, const t0_record *src, t0_error *err);
/* Frees an example's strings and choices (as t0_record_copy_example made them) and zeroes it. */
void t0_record_free_example(t0_record *e);
/* Frees a tokens record's malloc'd ids (input, target, each choice's, the choice array) and
 * zeroes it; its strings are not its own. A partly built record frees too: unset arrays are NULL. */
void t0_record_free_ids(t0_record *t);

#endif
