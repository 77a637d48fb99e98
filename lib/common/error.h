/* error.h: how libt0 reports failure.
 *
 * The library never prints and never exits. A function that can fail takes a
 * t0_error * as its last argument, fills it with one line (no trailing newline,
 * no program name) and returns a non-zero / NULL / negative value as its own
 * header says. The tool prefixes its name and prints it: "t0-cat: x.t0: record 3: ...".
 */
#ifndef T0_ERROR_H
#define T0_ERROR_H

#include <stdarg.h>

#define T0_ERROR_MAX 512

typedef enum {
    T0_OK = 0,
    T0_EINPUT = 1,    /* bad input or usage: the user's to fix (exit 1) */
    T0_EINTERNAL = 2, /* out of memory, I/O failure, a bug (exit 2) */
} t0_status;

typedef struct {
    t0_status status;
    char msg[T0_ERROR_MAX];
} t0_error;

/* Sets err (when err is non-NULL) and returns -1, so callers can `return t0_fail(...)`. */
int t0_fail(t0_error *err, t0_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message, e.g. the file name. */
void t0_error_prefix(t0_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void t0_error_clear(t0_error *err);

#endif
