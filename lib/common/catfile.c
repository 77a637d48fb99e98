/* catfile.c: a stdio FILE over several files (fopencookie). */
#include "common/catfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct t0_catfile {
    char *const *paths;
    int n, next;
    FILE *stream;     /* what the tool reads */
    FILE *cur;        /* the file being read, NULL between files */
    const char *name; /* its name */
    char error[T0_ERROR_MAX];
};

/* Opens the next file; 0, or -1 with c->error set. */
static int open_next(t0_catfile *c)
{
    const char *path = c->paths[c->next++];
    int is_stdin = strcmp(path, "-") == 0;
    c->name = is_stdin ? "(stdin)" : path;
    c->cur = is_stdin ? stdin : fopen(path, "rb");
    if (c->cur)
        return 0;
    snprintf(c->error, sizeof c->error, "%s: %s", path, strerror(errno));
    return -1;
}

static void close_cur(t0_catfile *c)
{
    if (c->cur && c->cur != stdin)
        fclose(c->cur);
    c->cur = NULL;
}

static ssize_t cat_read(void *cookie, char *buf, size_t size)
{
    t0_catfile *c = cookie;
    for (;;) {
        if (!c->cur) {
            if (c->next == c->n)
                return 0;
            if (open_next(c) != 0)
                return -1;
        }
        /* read(2), not fread: a terminal's line comes as soon as it is typed (t0-decode -i) */
        ssize_t got = read(fileno(c->cur), buf, size);
        if (got > 0)
            return got;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(c->error, sizeof c->error, "%s: read error: %s", c->name, strerror(errno));
            return -1;
        }
        close_cur(c);
    }
}

static char *const stdin_only[] = {"-"};

t0_catfile *t0_catfile_open(char *const *paths, int n, t0_error *err)
{
    for (int i = 0; i < n; i++)
        if (strcmp(paths[i], "-") != 0 && access(paths[i], R_OK) != 0) {
            t0_fail(err, T0_EINPUT, "%s: %s", paths[i], strerror(errno));
            return NULL;
        }
    t0_catfile *c = calloc(1, sizeof *c);
    if (!c) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    c->paths = n > 0 ? paths : stdin_only;
    c->n = n > 0 ? n : 1;
    c->name = "(stdin)";
    snprintf(c->error, sizeof c->error, "read error");
    c->stream = fopencookie(c, "r", (cookie_io_functions_t){.read = cat_read});
    if (!c->stream) {
        free(c);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    return c;
}

FILE *t0_catfile_stream(t0_catfile *c) { return c->stream; }
const char *t0_catfile_error(const t0_catfile *c) { return c->error; }

void t0_catfile_close(t0_catfile *c)
{
    if (!c)
        return;
    fclose(c->stream);
    close_cur(c);
    free(c);
}
