/* unit.h: the smallest test harness. Each test binary calls its checks from main
 * and returns unit_summary(); a failed check prints file, line and what failed. */
#ifndef T0_UNIT_H
#define T0_UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int unit_failures, unit_checks;

static inline int unit_check(int ok, const char *file, int line, const char *what)
{
    unit_checks++;
    if (!ok) {
        unit_failures++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
    return ok;
}

#define CHECK(cond) unit_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

static inline int unit_summary(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
