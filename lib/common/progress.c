/* progress.c: progress lines (see progress.h). */
#include "common/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { QUIET_S = 10, UNKNOWN_TOTAL_EVERY_S = 60 };
static const double TTY_EVERY_S = 0.25;

double t0_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void t0_format_duration(double seconds, char *buf, size_t n)
{
    long s = seconds > 0 ? lround(seconds) : 0;
    snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

t0_progress_mode t0_progress_mode_default(void)
{
    const char *env = getenv("T0_PROGRESS");
    if (env && !strcmp(env, "off"))
        return T0_PROGRESS_OFF;
    if (env && !strcmp(env, "lines"))
        return T0_PROGRESS_LINES;
    if (env && !strcmp(env, "tty"))
        return T0_PROGRESS_TTY;
    /* make's jobs share the terminal: rewritten lines of two jobs overwrite each other */
    return isatty(STDERR_FILENO) && !getenv("MAKELEVEL") ? T0_PROGRESS_TTY : T0_PROGRESS_LINES;
}

void t0_progress_begin(t0_progress *p, const char *prog, t0_progress_mode mode, int asked, uint64_t total,
                       const char *what)
{
    *p = (t0_progress){.prog = prog, .mode = mode, .eager = asked, .total = total};
    p->started = p->last = t0_now();
    snprintf(p->what, sizeof p->what, "%s", what);
    if (mode == T0_PROGRESS_LINES && asked) {
        fprintf(stderr, "%s: %s: started\n", prog, p->what);
        p->begun = 1;
    }
}

static void clear_line(t0_progress *p)
{
    if (p->len)
        fprintf(stderr, "\r%*s\r", p->len, "");
    p->len = 0;
}

int t0_progress_due(t0_progress *p, uint64_t done)
{
    double t = t0_now();
    if (p->mode == T0_PROGRESS_OFF)
        return 0;
    if (p->mode == T0_PROGRESS_TTY)
        return p->len == 0 || t - p->last >= TTY_EVERY_S;
    if (!p->eager && t - p->started < QUIET_S)
        return 0;
    if (p->total) {
        int tenth = done >= p->total ? 10 : (int)(10 * done / p->total);
        if (tenth <= p->tenth)
            return 0;
        p->tenth = tenth;
        return 1;
    }
    return t - p->last >= UNKNOWN_TOTAL_EVERY_S;
}

static void vshow(t0_progress *p, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    p->last = t0_now();
    if (p->mode == T0_PROGRESS_TTY) {
        clear_line(p);
        p->len = fprintf(stderr, "%s: %s", p->prog, line);
        fflush(stderr);
        return;
    }
    if (!p->begun)
        fprintf(stderr, "%s: %s: started\n", p->prog, p->what);
    p->begun = 1;
    fprintf(stderr, "%s: %s\n", p->prog, line);
}

void t0_progress_show(t0_progress *p, const char *fmt, ...)
{
    if (p->mode == T0_PROGRESS_OFF)
        return;
    va_list ap;
    va_start(ap, fmt);
    vshow(p, fmt, ap);
    va_end(ap);
}

double t0_progress_eta(const t0_progress *p, uint64_t done)
{
    double secs = t0_now() - p->started;
    if (!p->total || !done || done > p->total)
        return -1;
    return secs * (double)(p->total - done) / (double)done;
}

void t0_progress_note(t0_progress *p, const char *fmt, ...)
{
    if (p->mode == T0_PROGRESS_OFF || (p->mode == T0_PROGRESS_LINES && !p->begun))
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    clear_line(p);
    fprintf(stderr, "%s: %s\n", p->prog, line);
}

void t0_progress_end(t0_progress *p, const char *fmt, ...)
{
    if (p->mode == T0_PROGRESS_OFF || (p->mode == T0_PROGRESS_LINES && !p->begun))
        return;
    char line[512], took[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t0_format_duration(t0_now() - p->started, took, sizeof took);
    clear_line(p);
    if (p->mode == T0_PROGRESS_LINES)
        fprintf(stderr, "%s: %s: done: %s (%s)\n", p->prog, p->what, line, took);
    else
        fprintf(stderr, "%s: %s (%s)\n", p->prog, line, took);
    p->mode = T0_PROGRESS_OFF;
}
