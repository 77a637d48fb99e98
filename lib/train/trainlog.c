/* trainlog.c: see trainlog.h. */
#include "train/trainlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char header[] =
    "step\tloss\tcross_entropy\tz_loss\ttokens\ttokens_per_s\tlr\tgrad_norm\tseconds\tce_per_target_token\n";
/* the header before ce_per_target_token: such a log is continued, under the new header */
static const char header_v1[] = "step\tloss\tcross_entropy\tz_loss\ttokens\ttokens_per_s\tlr\tgrad_norm\tseconds\n";

/* keeps the header and the lines of steps <= last */
static int truncate_after(const char *path, int64_t last, t0_error *err)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return errno == ENOENT ? 1 : t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n), line[4096];
    if (!tmp) {
        fclose(in);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    int rc = out ? 0 : t0_fail(err, T0_EINPUT, "%s: %s", tmp, strerror(errno));
    int first = 1;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        char *end;
        long long s = strtoll(line, &end, 10);
        if (first ? strcmp(line, header) != 0 && strcmp(line, header_v1) != 0 : (end == line || *end != '\t'))
            rc = t0_fail(err, T0_EINPUT, "%s: not a t0-step log", path);
        else if (first)
            fputs(header, out);
        else if (s <= last)
            fputs(line, out);
        first = 0;
    }
    fclose(in);
    if (out && (fclose(out) != 0 || (rc == 0 && rename(tmp, path) != 0)))
        rc = t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int trainlog_open(trainlog *l, const char *path, int64_t resume_step, t0_error *err)
{
    int fresh = 1;
    if (resume_step >= 0) {
        int r = truncate_after(path, resume_step, err);
        if (r < 0)
            return -1;
        fresh = r == 1;
    }
    size_t n = strlen(path) + 16;
    if (!(l->path = strdup(path)) || (fresh && !(l->tmp = malloc(n))))
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    /* a new log takes the place of an old one only with its first step */
    if (fresh)
        snprintf(l->tmp, n, "%s.tmp", path);
    l->f = fopen(fresh ? l->tmp : path, fresh ? "w" : "a");
    if (!l->f)
        return t0_fail(err, T0_EINPUT, "%s: %s", fresh ? l->tmp : path, strerror(errno));
    if (fresh)
        fputs(header, l->f);
    if (fflush(l->f) != 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    return 0;
}

int trainlog_write(trainlog *l, const trainlog_row *r, t0_error *err)
{
    fprintf(l->f, "%lld\t%.9g\t%.9g\t%.9g\t%.0f\t%.1f\t%.6g\t%.9g\t%.3f\t%.9g\n", (long long)r->step, r->loss, r->ce,
            r->zl, r->tokens, r->tokens_per_s, r->lr, r->grad_norm, r->seconds, r->ce_per_target);
    if (fflush(l->f) != 0 || ferror(l->f))
        return t0_fail(err, T0_EINTERNAL, "%s: write error: %s", l->path, strerror(errno));
    if (l->tmp) {
        if (rename(l->tmp, l->path) != 0)
            return t0_fail(err, T0_EINPUT, "%s: %s", l->path, strerror(errno));
        free(l->tmp);
        l->tmp = NULL;
    }
    return 0;
}

int trainlog_close(trainlog *l, t0_error *err)
{
    int rc = 0;
    if (l->f && fclose(l->f) != 0)
        rc = t0_fail(err, T0_EINTERNAL, "%s: %s", l->path, strerror(errno));
    if (l->tmp) /* no step logged: the old log, if any, stays */
        unlink(l->tmp);
    free(l->path);
    free(l->tmp);
    l->f = NULL, l->path = NULL, l->tmp = NULL;
    return rc;
}

/* runs gnuplot with script on its standard input, output quiet; 0 when it exits 0 */
static int gnuplot(const char *script)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[0], 0);
        close(fd[0]), close(fd[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1), dup2(null, 2);
        execlp("gnuplot", "gnuplot", (char *)NULL);
        _exit(127);
    }
    close(fd[0]);
    size_t n = strlen(script);
    int ok = write(fd[1], script, n) == (ssize_t)n;
    close(fd[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int trainlog_plot_available(void)
{
    return gnuplot("") == 0;
}

/* gnuplot's single-quoted string: a quote is doubled */
static void quoted(char *out, size_t n, const char *s)
{
    size_t k = 0;
    if (n < 3)
        return;
    out[k++] = '\'';
    for (; *s && k + 3 < n; s++) {
        if (*s == '\'')
            out[k++] = '\'';
        out[k++] = *s;
    }
    out[k++] = '\'';
    out[k] = 0;
}

int trainlog_plot(const char *tsv, const char *png, int logx, t0_error *err)
{
    size_t n = strlen(png) + 16;
    char *tmp = malloc(n), *script = malloc(3 * n + 3 * strlen(tsv) + 1024);
    char qt[8192], qi[8192];
    if (!tmp || !script) {
        free(tmp), free(script);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp.png", png);
    quoted(qt, sizeof qt, tmp);
    quoted(qi, sizeof qi, tsv);
    sprintf(script,
            "set terminal pngcairo size 900,540\nset output %s\nset datafile separator '\\t'\n"
            "set key autotitle columnhead\nset title 'Training loss'\nset xlabel 'step'\n"
            "set ylabel 'loss'\nset grid\n%s"
            "plot %s using 1:2 with lines lw 2 title 'loss (T0: per target slot)', '' using 1:3 with lines "
            "title 'cross-entropy per target slot', '' using 1:10 with lines title 'cross-entropy per real target token'\n",
            qt, logx ? "set logscale x\n" : "", qi);
    int rc = 0;
    if (gnuplot(script) != 0)
        rc = t0_fail(err, T0_EINTERNAL, "%s: gnuplot failed (is Debian's gnuplot-nox installed?)", png);
    else if (rename(tmp, png) != 0)
        rc = t0_fail(err, T0_EINPUT, "%s: %s", png, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp), free(script);
    return rc;
}
