/* catfile.h: several input files read as one, as `cat FILE...` would give them, for the
 * tools that read lines (t0-tokenize --text and --decode, t0-decode, t0-cat --encode).
 * "-" is standard input; no file at all is standard input. */
#ifndef T0_CATFILE_H
#define T0_CATFILE_H

#include <stdio.h>

#include "common/error.h"

typedef struct t0_catfile t0_catfile;

/* Reads the n paths in order. Each must be readable now (else NULL, err names it); they
 * are opened one at a time as the reading reaches them. */
t0_catfile *t0_catfile_open(char *const *paths, int n, t0_error *err);
/* The stdio stream to read: a file that fails to open or read later is its read error. */
FILE *t0_catfile_stream(t0_catfile *c);
/* After ferror on the stream: "FILE: why", for the message. */
const char *t0_catfile_error(const t0_catfile *c);
/* Closes the stream and the file it is reading; NULL is allowed. */
void t0_catfile_close(t0_catfile *c);

#endif
