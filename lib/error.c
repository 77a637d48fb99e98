#include "error.h"

#include <stdio.h>
#include <string.h>

int t0_fail(t0_error *err, t0_status status, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->status = status;
    return -1;
}

void t0_error_prefix(t0_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[T0_ERROR_MAX], old[T0_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
}

void t0_error_clear(t0_error *err)
{
    if (!err)
        return;
    err->status = T0_OK;
    err->msg[0] = '\0';
}
