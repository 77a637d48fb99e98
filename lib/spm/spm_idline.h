/* spm_idline.h: the text form of ids that spm_encode --output_format=id writes and
 * spm_decode --input_format=id reads: one sequence a line, ids separated by spaces. */
#ifndef T0_SPM_IDLINE_H
#define T0_SPM_IDLINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "spm/spm.h"

/* Appends ids[0..n) to b, separated by single spaces (no newline). */
int t0_spm_put_id_line(t0_buf *b, const int32_t *ids, size_t n, t0_error *err);
/* Appends the ids of line s[0..n) (spaces, tabs, a trailing '\r' between them; an optional
 * '-' sign) to w->ids. T0_EINPUT for anything else, or an id past INT32_MAX. */
int t0_spm_parse_id_line(const char *s, size_t n, t0_spm_work *w, t0_error *err);

#endif
