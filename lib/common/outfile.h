/* outfile.h: output files that appear whole or not at all.
 *
 * An output path is written under a temporary name beside it and renamed into place
 * only on commit, so a failed run leaves nothing behind and never clobbers what the
 * user had. "-" means standard output (nothing to rename); a path that names a device or
 * a FIFO (/dev/null, a named pipe) is written directly, never replaced. */
#ifndef T0_OUTFILE_H
#define T0_OUTFILE_H

#include <stdio.h>

#include "common/error.h"

typedef struct {
    FILE *f;
    char *path; /* the name the user gave */
    char *tmp;  /* NULL for standard output, a device or a FIFO */
} t0_outfile;

/* Opens path for writing (binary: refuse a terminal on stdout). 0 or -1. */
int t0_outfile_open(t0_outfile *o, const char *path, int binary, t0_error *err);
/* Flushes, closes and renames into place; reports any write error (a full disk too). */
int t0_outfile_commit(t0_outfile *o, t0_error *err);
/* Drops the temporary file. Safe to call after a failed commit or on a closed outfile. */
void t0_outfile_abort(t0_outfile *o);

#endif
