#include "common/error.h"

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
    /* Truncation is acceptable: the message is cut, never overrun. */
    size_t n = strlen(head);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, head, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 2;
    size_t m = strnlen(old, room - 1);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
}

void t0_error_clear(t0_error *err)
{
    if (!err)
        return;
    err->status = T0_OK;
    err->msg[0] = '\0';
}
