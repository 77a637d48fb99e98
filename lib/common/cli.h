/* cli.h: what every t0 program does the same way: its messages, exit codes,
 * --version, and numeric option parsing. The only library module that prints,
 * and only when a program asks it to. */
#ifndef T0_CLI_H
#define T0_CLI_H

#include <stdint.h>

#include "common/error.h"

#define T0_VERSION "0.1.0"

/* Prints "prog: message" on stderr and returns the exit status for err (1 input, 2 internal). */
int t0_cli_report(const char *prog, const t0_error *err);
/* Prints "prog: message" on stderr, with "Try 'prog --help'." , and returns 1. */
int t0_cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "prog (t0 tools) VERSION" on stdout and returns 0. */
int t0_cli_version(const char *prog);
/* Call first in main: a closed standard descriptor (0, 1 or 2) is given /dev/null opened the
 * wrong way round, so reading a closed stdin is a read error (EBADF) and writing a closed
 * stdout a write error, and no file the program opens takes a standard number: with stdin
 * closed, an -o FILE opened as descriptor 0 would be read back as the (empty) input. */
void t0_cli_start(void);
/* Parses a whole decimal integer in [min, max]; 0 or -1 with err naming the option. */
int t0_parse_int(const char *text, int64_t min, int64_t max, const char *option, int64_t *v, t0_error *err);

/* Parses a whole number (strtod's forms) in [min, max]; 0 or -1 with err naming the option. */
int t0_parse_float(const char *text, double min, double max, const char *option, double *v, t0_error *err);

#endif
