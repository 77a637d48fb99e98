/* progress.h: how a long stage tells a person where it is, the same way in every tool.
 *
 * Three modes. On a terminal of its own, one line rewritten in place (at most a few times a
 * second). Elsewhere (stderr a file or a pipe, or a terminal shared by make's parallel
 * jobs, which would overwrite each other's rewritten lines), plain lines: one when the stage
 * starts, one at each tenth of its known total (every minute when the total is unknown),
 * one when it ends; a stage that ends within its first seconds stays silent unless the
 * user asked (--progress), so pipelines of short runs keep a clean stderr. Off: nothing.
 *
 * The library never prints: it reports counts through callbacks and the tools call these. */
#ifndef T0_PROGRESS_H
#define T0_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Seconds on a monotonic clock. */
double t0_now(void);
/* "H:MM:SS" into buf. */
void t0_format_duration(double seconds, char *buf, size_t n);

typedef enum { T0_PROGRESS_OFF, T0_PROGRESS_LINES, T0_PROGRESS_TTY } t0_progress_mode;

/* The mode for a program's stderr: TTY on a terminal, LINES on a terminal under make (parallel
 * jobs share it) and elsewhere. T0_PROGRESS=off|lines|tty in the environment overrides. */
t0_progress_mode t0_progress_mode_default(void);

typedef struct {
    const char *prog;
    t0_progress_mode mode;
    int eager;            /* LINES: print from the start, not only past the quiet seconds */
    uint64_t total;       /* units in the stage; 0: unknown */
    double started, last; /* when the stage began, when a line was last shown */
    int tenth;            /* LINES: the last tenth of total shown */
    int begun;            /* LINES: the stage's first line is out */
    int len;              /* TTY: the length of the line on screen */
    char what[128];       /* the stage, for its first and last lines */
} t0_progress;

/* Starts a stage of total units (0: unknown) named what ("training", "scoring rte.t0").
 * asked: the user gave --progress, so LINES print from the start. */
void t0_progress_begin(t0_progress *p, const char *prog, t0_progress_mode mode, int asked, uint64_t total,
                       const char *what);
/* Whether a progress line is due after done units: call before formatting one. */
int t0_progress_due(t0_progress *p, uint64_t done);
/* Shows the line (no program name, no newline): rewritten, or printed as a plain line. */
void t0_progress_show(t0_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The seconds left after done of total at the rate so far; -1 when unknown. */
double t0_progress_eta(const t0_progress *p, uint64_t done);
/* Prints a line of news ("resumed from ...") without breaking a rewritten line. */
void t0_progress_note(t0_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the stage with a summary (no newline); printed when anything of the stage was. */
void t0_progress_end(t0_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
