/* textlines.c: line reader over plain and zstd-compressed files; see textlines.h. */
#include "common/textlines.h"

#include "common/utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct t0_lines {
    FILE *f;
    int own;            /* close f at the end */
    char *name;
    ZSTD_DCtx *dctx;    /* NULL for plain files */
    char *in;           /* compressed input buffer */
    size_t in_cap;
    ZSTD_inBuffer zin;
    size_t zret;        /* last ZSTD_decompressStream result: 0 at a frame end */
    int eof;            /* the file is exhausted */
    char *buf;          /* decompressed bytes: [pos, len) not yet returned */
    size_t pos, len, cap;
    uint64_t lineno;
};

t0_lines *t0_lines_open(const char *path, t0_error *err)
{
    t0_lines *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(path)) || !(r->buf = malloc(r->cap = 1 << 16))) {
        t0_lines_close(r);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    if (!strcmp(path, "-")) {
        r->f = stdin;
        free(r->name);
        r->name = strdup("stdin");
    } else if (!(r->f = fopen(path, "rb"))) {
        t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
        t0_lines_close(r);
        return NULL;
    } else {
        r->own = 1;
    }
    size_t pl = strlen(path);
    if (pl > 4 && !strcmp(path + pl - 4, ".zst")) {
        r->dctx = ZSTD_createDCtx();
        r->in_cap = ZSTD_DStreamInSize();
        r->in = malloc(r->in_cap);
        if (!r->dctx || !r->in) {
            t0_lines_close(r);
            t0_fail(err, T0_EINTERNAL, "out of memory");
            return NULL;
        }
    }
    return r;
}

/* Appends more bytes to buf; returns bytes added (0 at end of input) or -1. */
static long fill(t0_lines *r, t0_error *err)
{
    if (r->pos > 0) { /* keep only the unread tail */
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len < (1 << 15)) {
        if (r->cap >= (size_t)T0_LINE_MAX + 2)
            return t0_fail(err, T0_EINPUT, "%s: line %llu: longer than %u bytes", r->name,
                           (unsigned long long)r->lineno + 1, T0_LINE_MAX);
        char *nb = realloc(r->buf, r->cap * 2);
        if (!nb)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        r->buf = nb;
        r->cap *= 2;
    }
    if (!r->dctx) {
        size_t got = fread(r->buf + r->len, 1, r->cap - r->len - 1, r->f);
        if (!got && ferror(r->f))
            return t0_fail(err, T0_EINPUT, "%s: read error: %s", r->name, strerror(errno));
        r->len += got;
        return (long)got;
    }
    for (;;) {
        if (r->zin.pos == r->zin.size && !r->eof) {
            size_t got = fread(r->in, 1, r->in_cap, r->f);
            if (!got && ferror(r->f))
                return t0_fail(err, T0_EINPUT, "%s: read error: %s", r->name, strerror(errno));
            if (!got)
                r->eof = 1;
            r->zin = (ZSTD_inBuffer){r->in, got, 0};
        }
        if (r->zin.pos == r->zin.size && r->eof) {
            if (r->zret != 0)
                return t0_fail(err, T0_EINPUT, "%s: truncated zstd data", r->name);
            return 0;
        }
        ZSTD_outBuffer zout = {r->buf + r->len, r->cap - r->len - 1, 0};
        r->zret = ZSTD_decompressStream(r->dctx, &zout, &r->zin);
        if (ZSTD_isError(r->zret))
            return t0_fail(err, T0_EINPUT, "%s: corrupt zstd data: %s", r->name, ZSTD_getErrorName(r->zret));
        r->len += zout.pos;
        if (zout.pos)
            return (long)zout.pos;
    }
}

/* Hands out buf[start, start+n) (NUL-terminated already) after checking its UTF-8. */
static int emit(t0_lines *r, size_t start, size_t n, const char **line, size_t *len, t0_error *err)
{
    size_t bad;
    r->lineno++;
    if ((bad = t0_utf8_invalid(r->buf + start, n)) != n)
        return t0_fail(err, T0_EINPUT, "%s: line %llu: %s at byte %zu", r->name, (unsigned long long)r->lineno,
                       r->buf[start + bad] ? "invalid UTF-8" : "NUL byte", bad + 1);
    *line = r->buf + start;
    *len = n;
    return 1;
}

int t0_lines_next(t0_lines *r, const char **line, size_t *len, t0_error *err)
{
    size_t scanned = r->pos; /* bytes before this offset hold no newline */
    for (;;) {
        char *nl = memchr(r->buf + scanned, '\n', r->len - scanned);
        if (nl) {
            size_t start = r->pos, n = (size_t)(nl - (r->buf + start));
            *nl = '\0';
            r->pos = start + n + 1;
            return emit(r, start, n, line, len, err);
        }
        size_t unread = r->len - r->pos;
        long got = fill(r, err); /* moves the unread tail to the front */
        if (got < 0)
            return -1;
        scanned = unread;
        if (got == 0) {
            if (r->pos == r->len)
                return 0;
            size_t start = r->pos, n = r->len - r->pos;
            r->buf[r->len] = '\0';
            r->pos = r->len;
            return emit(r, start, n, line, len, err);
        }
    }
}

uint64_t t0_lines_number(const t0_lines *r) { return r->lineno; }

const char *t0_lines_name(const t0_lines *r) { return r->name; }

void t0_lines_close(t0_lines *r)
{
    if (!r)
        return;
    if (r->own && r->f)
        fclose(r->f);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->buf);
    free(r->name);
    free(r);
}

