/* stream.c: reading and writing record streams (layout in stream.h). */
#include "stream/stream.h"

#include "common/outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

/* ---- frame trailer ----
 * zstd's checksum covers the decompressed content; a byte flipped where it changes
 * nothing decoded (an unused entropy-table entry) would pass. The trailer hashes the
 * compressed bytes, so any change to a stream's bytes is caught, and a cut right after
 * a frame is told from its end. */

enum { TRAILER_MAGIC = 0x184D2A5E, TRAILER_PAYLOAD = 20, TRAILER_SIZE = 8 + TRAILER_PAYLOAD };

typedef struct {
    uint64_t h, len;
    uint8_t part[8];
    int n_part;
} frame_hash;

/* Each step is a bijection of the state for a fixed word and injective in the word for a
 * fixed state, so changing any one word always changes the result. */
static uint64_t hash_word(uint64_t h, uint64_t w)
{
    h ^= w;
    h = (h << 29) | (h >> 35);
    return h * 0x9E3779B97F4A7C15ull;
}

static void frame_hash_update(frame_hash *fh, const uint8_t *p, size_t n)
{
    fh->len += n;
    while (n && fh->n_part) {
        fh->part[fh->n_part++] = *p++, n--;
        if (fh->n_part == 8) {
            uint64_t w;
            memcpy(&w, fh->part, 8);
            fh->h = hash_word(fh->h, w);
            fh->n_part = 0;
        }
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        fh->h = hash_word(fh->h, w);
    }
    while (n--)
        fh->part[fh->n_part++] = *p++;
}

static uint64_t frame_hash_final(const frame_hash *fh)
{
    uint64_t w = 0;
    memcpy(&w, fh->part, (size_t)fh->n_part);
    return hash_word(hash_word(fh->h, w), fh->len);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void trailer_make(uint8_t t[TRAILER_SIZE], const frame_hash *fh)
{
    uint8_t head[8] = {0x5E, 0x2A, 0x4D, 0x18, TRAILER_PAYLOAD, 0, 0, 0};
    memcpy(t, head, 8);
    memcpy(t + 8, "T0CK", 4);
    put_le64(t + 12, fh->len);
    put_le64(t + 20, frame_hash_final(fh));
}

/* ---- reader ---- */

struct t0_reader {
    FILE *f;
    int owns_file;
    char *name;
    ZSTD_DCtx *dctx;
    uint8_t *in;
    ZSTD_inBuffer inb;
    size_t in_cap;
    uint8_t *out;
    size_t out_cap, out_pos, out_len; /* decompressed bytes not yet consumed: out[out_pos..out_len) */
    size_t frame_state;               /* last ZSTD_decompressStream return: 0 = frame complete */
    int trailer_due;                  /* a frame ended: its trailer comes next */
    frame_hash fh;                    /* of the current frame's compressed bytes */
    uint64_t bytes_in;                /* compressed bytes read from the file */
    uint64_t bytes_out;               /* decompressed bytes produced */
    int eof;
    uint64_t count;      /* records returned, over all files */
    uint64_t file_count; /* records returned from the current file, for messages */
    char **paths;        /* t0_reader_open_list: the files still to read, in order */
    int n_paths;
    uint8_t *payload;
    size_t payload_cap;
    t0_arena arena;
};

static t0_reader *reader_new(FILE *f, int owns, const char *name, t0_error *err)
{
    t0_reader *r = calloc(1, sizeof *r);
    if (!r) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    r->f = f;
    r->owns_file = owns;
    r->name = strdup(name);
    r->dctx = ZSTD_createDCtx();
    r->in_cap = ZSTD_DStreamInSize();
    r->out_cap = ZSTD_DStreamOutSize();
    r->in = malloc(r->in_cap);
    r->out = malloc(r->out_cap);
    r->inb.src = r->in;
    if (!r->name || !r->dctx || !r->in || !r->out) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        r->owns_file = 0;
        t0_reader_close(r);
        return NULL;
    }
    return r;
}

t0_reader *t0_reader_open_file(FILE *f, const char *name, t0_error *err)
{
    return reader_new(f, 0, name, err);
}

t0_reader *t0_reader_open(const char *path, t0_error *err)
{
    if (strcmp(path, "-") == 0)
        return reader_new(stdin, 0, "(stdin)", err);
    FILE *f = fopen(path, "rb");
    if (!f) {
        t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    t0_reader *r = reader_new(f, 1, path, err);
    if (!r)
        fclose(f);
    return r;
}

/* Opens path ("-": standard input) as the reader's file, its decoding state fresh. */
static int reader_switch(t0_reader *r, const char *path, t0_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *name = strdup(is_stdin ? "(stdin)" : path);
    if (!f || !name) {
        int e = errno;
        if (f && !is_stdin)
            fclose(f);
        free(name);
        return f ? t0_fail(err, T0_EINTERNAL, "out of memory") : t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(e));
    }
    if (r->owns_file && r->f)
        fclose(r->f);
    free(r->name);
    r->f = f, r->owns_file = !is_stdin, r->name = name;
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    r->inb.size = r->inb.pos = 0;
    r->out_pos = r->out_len = 0;
    r->frame_state = 0, r->trailer_due = 0, r->fh = (frame_hash){0};
    r->bytes_in = r->bytes_out = 0, r->eof = 0, r->file_count = 0;
    return 0;
}

t0_reader *t0_reader_open_list(char *const *paths, int n, t0_error *err)
{
    if (n <= 0)
        return t0_reader_open("-", err);
    t0_reader *r = t0_reader_open(paths[0], err);
    if (!r || n == 1)
        return r;
    if (!(r->paths = calloc((size_t)n - 1, sizeof *r->paths))) {
        t0_reader_close(r);
        t0_fail(err, T0_EINTERNAL, "out of memory");
        return NULL;
    }
    for (int i = 1; i < n; i++)
        if (!(r->paths[r->n_paths++] = strdup(paths[i]))) {
            t0_reader_close(r);
            t0_fail(err, T0_EINTERNAL, "out of memory");
            return NULL;
        }
    return r;
}

void t0_reader_close(t0_reader *r)
{
    if (!r)
        return;
    if (r->owns_file && r->f)
        fclose(r->f);
    for (int i = 0; i < r->n_paths; i++)
        free(r->paths[i]);
    free(r->paths);
    ZSTD_freeDCtx(r->dctx);
    free(r->name);
    free(r->in);
    free(r->out);
    free(r->payload);
    free(r->arena.p);
    free(r);
}

uint64_t t0_reader_count(const t0_reader *r) { return r->count; }
const char *t0_reader_name(const t0_reader *r) { return r->name; }

/* Makes compressed input available. 1: there is some, 0: end of file, -1: error. */
static int reader_input(t0_reader *r, t0_error *err)
{
    if (r->inb.pos < r->inb.size)
        return 1;
    if (r->eof)
        return 0;
    r->inb.size = fread(r->in, 1, r->in_cap, r->f);
    r->inb.pos = 0;
    r->bytes_in += r->inb.size;
    if (r->inb.size > 0)
        return 1;
    if (ferror(r->f))
        return t0_fail(err, T0_EINPUT, "read error: %s", strerror(errno));
    r->eof = 1;
    return 0;
}

static int reader_trailer(t0_reader *r, t0_error *err)
{
    uint8_t got[TRAILER_SIZE], want[TRAILER_SIZE];
    for (size_t n = 0; n < TRAILER_SIZE;) {
        int rc = reader_input(r, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return t0_fail(err, T0_EINPUT, n ? "truncated stream: it ends inside a frame trailer"
                                             : "truncated stream: a frame lacks its t0 trailer");
        size_t k = r->inb.size - r->inb.pos;
        if (k > TRAILER_SIZE - n)
            k = TRAILER_SIZE - n;
        memcpy(got + n, r->in + r->inb.pos, k);
        r->inb.pos += k;
        n += k;
    }
    trailer_make(want, &r->fh);
    if (memcmp(got, want, 12) != 0)
        return t0_fail(err, T0_EINPUT, "corrupt stream: a frame lacks its t0 trailer");
    if (memcmp(got, want, TRAILER_SIZE) != 0)
        return t0_fail(err, T0_EINPUT, "corrupt stream: frame checksum mismatch");
    r->fh = (frame_hash){0};
    r->trailer_due = 0;
    return 0;
}

/* Decompresses more bytes into r->out. Returns 1 when bytes came, 0 at a clean end, -1 on error. */
static int reader_fill(t0_reader *r, t0_error *err)
{
    r->out_pos = r->out_len = 0;
    for (;;) {
        if (r->trailer_due && reader_trailer(r, err))
            return -1;
        int more = reader_input(r, err);
        if (more < 0)
            return -1;
        if (!more) {
            if (r->bytes_in == 0)
                return t0_fail(err, T0_EINPUT, "empty input: not a t0 stream");
            if (r->frame_state != 0)
                return t0_fail(err, T0_EINPUT, "truncated stream: it ends inside a zstd frame");
            return 0;
        }
        ZSTD_outBuffer outb = {r->out, r->out_cap, 0};
        size_t before = r->inb.pos;
        size_t rc = ZSTD_decompressStream(r->dctx, &outb, &r->inb);
        if (ZSTD_isError(rc)) {
            if (r->bytes_out == 0 && ZSTD_getErrorCode(rc) == ZSTD_error_prefix_unknown)
                return t0_fail(err, T0_EINPUT, "not a t0 stream (not zstd-compressed)");
            return t0_fail(err, T0_EINPUT, "corrupt stream: %s", ZSTD_getErrorName(rc));
        }
        frame_hash_update(&r->fh, r->in + before, r->inb.pos - before);
        r->frame_state = rc;
        r->trailer_due = rc == 0;
        if (outb.pos > 0) {
            r->out_len = outb.pos;
            r->bytes_out += outb.pos;
            return 1;
        }
    }
}

/* Copies n decompressed bytes into dst. Returns bytes copied (< n only at the end), or -1. */
static long long reader_read(t0_reader *r, uint8_t *dst, size_t n, t0_error *err)
{
    size_t got = 0;
    while (got < n) {
        if (r->out_pos == r->out_len) {
            int rc = reader_fill(r, err);
            if (rc <= 0)
                return rc < 0 ? -1 : (long long)got;
        }
        size_t k = r->out_len - r->out_pos;
        if (k > n - got)
            k = n - got;
        memcpy(dst + got, r->out + r->out_pos, k);
        r->out_pos += k;
        got += k;
    }
    return (long long)got;
}

static int read_header(t0_reader *r, t0_kind *kind, uint32_t *size, t0_error *err)
{
    uint8_t h[T0_RECORD_HEADER];
    long long got = reader_read(r, h, sizeof h, err);
    if (got < 0)
        return -1;
    if (got == 0)
        return 0;
    if (got < (long long)sizeof h)
        return t0_fail(err, T0_EINPUT, "truncated record header");
    if (h[0] != 'T' || h[1] != '0')
        return t0_fail(err, T0_EINPUT, "not a t0 record (bad magic): not a t0 stream, or corrupt");
    *kind = (t0_kind)h[2];
    if (h[2] == T0_KIND_NONE || h[2] >= T0_KIND_COUNT)
        return t0_fail(err, T0_EINPUT, "unknown record kind %d (written by a newer t0 tools?)", h[2]);
    if (h[3] > T0_RECORD_VERSION)
        return t0_fail(err, T0_EINPUT, "%s record version %d is newer than this program reads (%d)",
                       t0_kind_name(*kind), h[3], T0_RECORD_VERSION);
    if (h[3] == 0)
        return t0_fail(err, T0_EINPUT, "%s record version 0 is invalid", t0_kind_name(*kind));
    *size = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    if (*size > T0_RECORD_MAX)
        return t0_fail(err, T0_EINPUT, "record of %u bytes is larger than a record may be", *size);
    return 1;
}

static int reader_next(t0_reader *r, t0_record *rec, t0_error *err)
{
    t0_kind kind = T0_KIND_NONE;
    uint32_t size = 0;
    int rc = read_header(r, &kind, &size, err);
    if (rc <= 0)
        return rc;
    if (r->out_len - r->out_pos >= size) { /* whole payload already decompressed: no copy */
        const uint8_t *payload = r->out + r->out_pos;
        r->out_pos += size;
        return t0_record_decode(kind, payload, size, &r->arena, rec, err) ? -1 : 1;
    }
    if (size > r->payload_cap) {
        uint8_t *p = realloc(r->payload, size);
        if (!p)
            return t0_fail(err, T0_EINTERNAL, "out of memory reading a record of %u bytes", size);
        r->payload = p;
        r->payload_cap = size;
    }
    long long got = reader_read(r, r->payload, size, err);
    if (got < 0)
        return -1;
    if (got < (long long)size)
        return t0_fail(err, T0_EINPUT, "truncated record: %lld of %u bytes", got, size);
    if (t0_record_decode(kind, r->payload, size, &r->arena, rec, err))
        return -1;
    return 1;
}

int t0_reader_next(t0_reader *r, t0_record *rec, t0_error *err)
{
    int rc = reader_next(r, rec, err);
    /* the end of a file of a list: the next one follows, as if concatenated */
    while (rc == 0 && r->n_paths) {
        char *next = r->paths[0];
        memmove(r->paths, r->paths + 1, sizeof *r->paths * (size_t)--r->n_paths);
        rc = reader_switch(r, next, err);
        free(next);
        if (rc < 0)
            return -1;
        rc = reader_next(r, rec, err);
    }
    if (rc < 0)
        t0_error_prefix(err, "%s: record %llu", r->name, (unsigned long long)r->file_count + 1);
    else if (rc > 0)
        r->count++, r->file_count++;
    return rc;
}

int t0_reader_expect(const t0_reader *r, const t0_record *rec, t0_kind want, t0_error *err)
{
    if (rec->kind == want)
        return 0;
    return t0_fail(err, T0_EINPUT, "%s: record %llu: expected %s, got %s (run %s first)", r->name,
                   (unsigned long long)r->file_count, t0_kind_name(want), t0_kind_name(rec->kind),
                   t0_kind_maker(want));
}

/* ---- writer ---- */

struct t0_writer {
    t0_outfile out;
    FILE *f;
    const char *name;
    ZSTD_CCtx *cctx;
    uint8_t *buf;
    size_t buf_cap;
    uint8_t *rec_bytes; /* the encoded record, reused */
    size_t rec_cap;
    int level;
    int started; /* compression parameters are set on the first push */
    int failed;
    frame_hash fh;
};

static t0_writer *writer_new(t0_outfile out, FILE *f, const char *name, t0_error *err)
{
    t0_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->out = out;
        w->f = f;
        w->name = out.path ? out.path : name;
        w->cctx = ZSTD_createCCtx();
        w->buf_cap = ZSTD_CStreamOutSize();
        w->buf = malloc(w->buf_cap);
        w->level = 3;
    }
    if (!w || !w->cctx || !w->buf) {
        t0_fail(err, T0_EINTERNAL, "out of memory");
        if (w) {
            ZSTD_freeCCtx(w->cctx);
            free(w->buf);
            free(w);
        }
        return NULL;
    }
    return w;
}

t0_writer *t0_writer_open_file(FILE *f, const char *name, t0_error *err)
{
    return writer_new((t0_outfile){0}, f, name, err);
}

t0_writer *t0_writer_open(const char *path, t0_error *err)
{
    t0_outfile out;
    if (t0_outfile_open(&out, path, 1, err))
        return NULL;
    t0_writer *w = writer_new(out, out.f, path, err);
    if (!w)
        t0_outfile_abort(&out);
    return w;
}

void t0_writer_set_level(t0_writer *w, int level) { w->level = level; }

static int writer_setup(t0_writer *w, t0_error *err)
{
    size_t rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc))
        return t0_fail(err, T0_EINTERNAL, "%s: zstd: %s", w->name, ZSTD_getErrorName(rc));
    return 0;
}

/* Feeds src through the compressor with the given directive, writing what comes out. */
static int writer_push(t0_writer *w, const void *src, size_t n, ZSTD_EndDirective mode, t0_error *err)
{
    if (!w->started) {
        if (writer_setup(w, err))
            return -1;
        w->started = 1;
    }
    ZSTD_inBuffer inb = {src, n, 0};
    for (;;) {
        ZSTD_outBuffer outb = {w->buf, w->buf_cap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &outb, &inb, mode);
        if (ZSTD_isError(left))
            return t0_fail(err, T0_EINTERNAL, "%s: zstd: %s", w->name, ZSTD_getErrorName(left));
        if (outb.pos && fwrite(w->buf, 1, outb.pos, w->f) != outb.pos)
            return t0_fail(err, T0_EINPUT, "%s: write error: %s", w->name, strerror(errno));
        frame_hash_update(&w->fh, w->buf, outb.pos);
        int done = mode == ZSTD_e_continue ? inb.pos == inb.size : left == 0;
        if (done)
            return 0;
    }
}

int t0_writer_write(t0_writer *w, const t0_record *rec, t0_error *err)
{
    if (w->failed)
        return t0_fail(err, T0_EINTERNAL, "%s: write after an error", w->name);
    size_t n;
    if (t0_record_encode_into(rec, &w->rec_bytes, &w->rec_cap, &n, err))
        return -1;
    int rc = writer_push(w, w->rec_bytes, n, ZSTD_e_continue, err);
    if (rc)
        w->failed = 1;
    return rc;
}

int t0_writer_flush(t0_writer *w, t0_error *err)
{
    if (writer_push(w, NULL, 0, ZSTD_e_flush, err)) {
        w->failed = 1;
        return -1;
    }
    if (fflush(w->f) != 0) {
        w->failed = 1;
        return t0_fail(err, T0_EINPUT, "%s: write error: %s", w->name, strerror(errno));
    }
    return 0;
}

static void writer_free(t0_writer *w)
{
    ZSTD_freeCCtx(w->cctx);
    free(w->rec_bytes);
    free(w->buf);
    free(w);
}

int t0_writer_close(t0_writer *w, t0_error *err)
{
    int rc = w->failed ? t0_fail(err, T0_EINTERNAL, "%s: not written after an error", w->name) : 0;
    if (rc == 0)
        rc = writer_push(w, NULL, 0, ZSTD_e_end, err);
    if (rc == 0) {
        uint8_t trailer[TRAILER_SIZE];
        trailer_make(trailer, &w->fh);
        if (fwrite(trailer, 1, sizeof trailer, w->f) != sizeof trailer)
            rc = t0_fail(err, T0_EINPUT, "%s: write error: %s", w->name, strerror(errno));
    }
    if (w->out.f) {
        if (rc == 0)
            rc = t0_outfile_commit(&w->out, err);
        else
            t0_outfile_abort(&w->out);
    } else if (rc == 0 && (fflush(w->f) != 0 || ferror(w->f))) {
        rc = t0_fail(err, T0_EINPUT, "%s: write error: %s", w->name, strerror(errno));
    }
    writer_free(w);
    return rc;
}

int t0_writer_finish(t0_writer *w, int rc, t0_error *err)
{
    if (w && rc == 0)
        return t0_writer_close(w, err);
    t0_writer_abort(w);
    return rc;
}

void t0_writer_abort(t0_writer *w)
{
    if (!w)
        return;
    if (w->out.f)
        t0_outfile_abort(&w->out);
    writer_free(w);
}
