/* outfile.c: temporary file + rename (see outfile.h). */
#include "common/outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void outfile_free(t0_outfile *o)
{
    free(o->path);
    free(o->tmp);
    *o = (t0_outfile){0};
}

int t0_outfile_open(t0_outfile *o, const char *path, int binary, t0_error *err)
{
    *o = (t0_outfile){0};
    if (strcmp(path, "-") == 0) {
        if (binary && isatty(fileno(stdout)))
            return t0_fail(err, T0_EINPUT,
                           "refusing to write a binary stream to a terminal (redirect it, or use -o FILE)");
        o->f = stdout;
        o->path = strdup("(stdout)");
        return o->path ? 0 : t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        /* a device or FIFO (-o /dev/null, a named pipe): write through it; renaming a
         * temporary file onto it would replace the device with a plain file */
        o->path = strdup(path);
        o->f = o->path ? fopen(path, "wb") : NULL;
        if (o->f)
            return 0;
        int e = errno;
        outfile_free(o);
        return t0_fail(err, T0_EINPUT, "%s: cannot open: %s", path, strerror(e));
    }
    size_t n = strlen(path) + 16;
    o->path = strdup(path);
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        outfile_free(o);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        t0_fail(err, T0_EINPUT, "%s: cannot create: %s", path, strerror(errno));
        outfile_free(o);
        return -1;
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; give the file the mode a plain create would */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        unlink(o->tmp);
        outfile_free(o);
        return t0_fail(err, T0_EINTERNAL, "%s: fdopen: %s", path, strerror(errno));
    }
    return 0;
}

int t0_outfile_commit(t0_outfile *o, t0_error *err)
{
    int rc = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        rc = t0_fail(err, T0_EINPUT, "%s: write error: %s", o->path, strerror(errno));
    if (o->tmp) {
        if (fclose(o->f) != 0 && rc == 0)
            rc = t0_fail(err, T0_EINPUT, "%s: write error: %s", o->path, strerror(errno));
        o->f = NULL;
        if (rc == 0 && rename(o->tmp, o->path) != 0)
            rc = t0_fail(err, T0_EINPUT, "%s: cannot rename into place: %s", o->path, strerror(errno));
        if (rc)
            unlink(o->tmp);
    } else if (o->f != stdout && fclose(o->f) != 0 && rc == 0) {
        rc = t0_fail(err, T0_EINPUT, "%s: write error: %s", o->path, strerror(errno));
    }
    outfile_free(o);
    return rc;
}

void t0_outfile_abort(t0_outfile *o)
{
    if (o->tmp) {
        if (o->f)
            fclose(o->f);
        unlink(o->tmp);
    } else if (o->f && o->f != stdout) {
        fclose(o->f);
    }
    outfile_free(o);
}
