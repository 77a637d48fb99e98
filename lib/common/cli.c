/* cli.c: shared program behaviour (see cli.h). */
#include "common/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int t0_cli_report(const char *prog, const t0_error *err)
{
    fprintf(stderr, "%s: %s\n", prog, err->msg[0] ? err->msg : "failed");
    return err->status == T0_EINTERNAL ? 2 : 1;
}

int t0_cli_usage_error(const char *prog, const char *fmt, ...)
{
    char msg[T0_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s (try '%s --help')\n", prog, msg, prog);
    return 1;
}

int t0_cli_version(const char *prog)
{
    printf("%s (t0 tools) %s\n", prog, T0_VERSION);
    return 0;
}

int t0_parse_int(const char *text, int64_t min, int64_t max, const char *option, int64_t *v, t0_error *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (end == text || *end || errno || x < min || x > max)
        return t0_fail(err, T0_EINPUT, "%s: expected an integer in [%lld, %lld], got '%s'", option,
                       (long long)min, (long long)max, text);
    *v = x;
    return 0;
}

int t0_parse_float(const char *text, double min, double max, const char *option, double *v, t0_error *err)
{
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end || !(x >= min && x <= max))
        return t0_fail(err, T0_EINPUT, "%s: expected a number in [%g, %g], got '%s'", option, min, max, text);
    *v = x;
    return 0;
}

void t0_cli_start(void)
{
    /* stdin gets a write-only descriptor, stdout and stderr read-only ones: using them fails */
    static const int flags[3] = {O_WRONLY, O_RDONLY, O_RDONLY};
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) != -1)
            continue;
        int got = open("/dev/null", flags[fd]);
        if (got >= 0 && got != fd) { /* a lower one was free: should not happen, as we go up */
            dup2(got, fd);
            close(got);
        }
    }
}
