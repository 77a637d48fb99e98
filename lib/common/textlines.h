/* textlines.h: reading text files line by line, plain or zstd-compressed (.zst), in bounded
 * memory (one line at a time), with UTF-8 checked. For JSONL inputs (t0-render).
 *
 * A path ending in ".zst" is decompressed with libzstd's streaming API (any number of
 * frames); "-" is standard input (plain). Lines end at "\n"; a final line without one
 * counts; a "\r" before the "\n" is kept (JSON treats it as whitespace). A line longer
 * than T0_LINE_MAX is an error.
 */
#ifndef T0_TEXTLINES_H
#define T0_TEXTLINES_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define T0_LINE_MAX (1u << 30)

typedef struct t0_lines t0_lines;

t0_lines *t0_lines_open(const char *path, t0_error *err);
/* 1: *line (NUL-terminated, no "\n", valid until the next call) and *len; 0: end; -1: error
 * ("PATH: line N: invalid UTF-8 at byte B", "PATH: corrupt zstd data: ...", read errors). */
int t0_lines_next(t0_lines *r, const char **line, size_t *len, t0_error *err);
uint64_t t0_lines_number(const t0_lines *r); /* 1-based number of the last line returned */
const char *t0_lines_name(const t0_lines *r);
void t0_lines_close(t0_lines *r);


#endif
