/* torch_zip.c: the zip reader torch_zip.h describes (PKWARE APPNOTE 6.3: end of central
 * directory, ZIP64 end record and locator, central and local headers). */
#include "t5/torch_zip.h"

#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define END_SIZE 22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define LOCATOR64_SIZE 20
#define END64_SIZE 56

struct tz_archive {
    const char *what;
    tz_entry *entries;
    int n;
    int *by_name; /* entry indices sorted by name */
};

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* bit by bit: it checks data.pkl only (a few hundred KB for the largest T5) */
uint32_t tz_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

void tz_close(tz_archive *z)
{
    if (!z)
        return;
    for (int i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    free(z->by_name);
    free(z);
}

int tz_count(const tz_archive *z)
{
    return z->n;
}

const tz_entry *tz_at(const tz_archive *z, int i)
{
    return i >= 0 && i < z->n ? &z->entries[i] : NULL;
}

/* The central directory's place and entry count, from the end record (ZIP64 when present). */
typedef struct {
    uint64_t cd_offset, cd_size, count, cd_end_limit;
} cd_info;

static int find_end(const uint8_t *b, size_t size, const char *what, cd_info *cd, t0_error *err)
{
    if (size < END_SIZE)
        return t0_fail(err, T0_EINPUT, "%s: %zu bytes, too short for a zip archive", what, size);
    size_t lowest = size - END_SIZE > 65535 ? size - END_SIZE - 65535 : 0, at = size - END_SIZE + 1;
    do { /* the end record sits before a comment of at most 65535 bytes */
        at--;
    } while (le32(b + at) != SIG_END && at > lowest);
    if (le32(b + at) != SIG_END)
        return t0_fail(err, T0_EINPUT, "%s: no zip end of central directory record (not a zip archive, or truncated)",
                       what);
    if (le16(b + at + 4) != 0 || le16(b + at + 6) != 0)
        return t0_fail(err, T0_EINPUT, "%s: a multi-disk zip archive", what);
    *cd = (cd_info){.count = le16(b + at + 10), .cd_size = le32(b + at + 12), .cd_offset = le32(b + at + 16),
                    .cd_end_limit = at};
    if (at < LOCATOR64_SIZE || le32(b + at - LOCATOR64_SIZE) != SIG_LOCATOR64)
        return 0;
    uint64_t e64 = le64(b + at - LOCATOR64_SIZE + 8);
    if (e64 > at - LOCATOR64_SIZE || at - LOCATOR64_SIZE - e64 < END64_SIZE || le32(b + e64) != SIG_END64)
        return t0_fail(err, T0_EINPUT, "%s: ZIP64 end record offset %llu is not one", what, (unsigned long long)e64);
    *cd = (cd_info){.count = le64(b + e64 + 32), .cd_size = le64(b + e64 + 40), .cd_offset = le64(b + e64 + 48),
                    .cd_end_limit = e64};
    return 0;
}

/* ZIP64 extended information: the 8-byte values of the fields saturated at 0xffffffff, in order. */
static int zip64_extra(const uint8_t *extra, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
    uint64_t *want[3] = {*usize == 0xffffffffu ? usize : NULL, *csize == 0xffffffffu ? csize : NULL,
                         *offset == 0xffffffffu ? offset : NULL};
    if (!want[0] && !want[1] && !want[2])
        return 0;
    for (size_t i = 0; i + 4 <= len;) {
        size_t id = le16(extra + i), n = le16(extra + i + 2);
        if (i + 4 + n > len)
            break;
        if (id == 1) {
            size_t k = 0;
            for (int f = 0; f < 3; f++)
                if (want[f]) {
                    if (k + 8 > n)
                        return -1;
                    *want[f] = le64(extra + i + 4 + k);
                    k += 8;
                }
            return 0;
        }
        i += 4 + n;
    }
    return -1;
}

/* One central entry at b + *pos (within [.., end)): fills e, advances *pos. */
static int read_central(const uint8_t *b, uint64_t *pos, uint64_t end, const cd_info *cd, tz_entry *e,
                        const char *what, t0_error *err)
{
    const uint8_t *c = b + *pos;
    if (end - *pos < CENTRAL_SIZE || le32(c) != SIG_CENTRAL)
        return t0_fail(err, T0_EINPUT, "%s: central directory entry at %llu is damaged", what,
                       (unsigned long long)*pos);
    size_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
    if (end - *pos - CENTRAL_SIZE < nlen + xlen + clen)
        return t0_fail(err, T0_EINPUT, "%s: central directory entry at %llu runs past the directory", what,
                       (unsigned long long)*pos);
    uint64_t csize = le32(c + 20), usize = le32(c + 24), local = le32(c + 42);
    if (zip64_extra(c + CENTRAL_SIZE + nlen, xlen, &usize, &csize, &local))
        return t0_fail(err, T0_EINPUT, "%s: central directory entry at %llu: ZIP64 sizes missing", what,
                       (unsigned long long)*pos);
    if (!nlen || memchr(c + CENTRAL_SIZE, 0, nlen) || !(e->name = strndup((const char *)c + CENTRAL_SIZE, nlen)))
        return t0_fail(err, nlen && !memchr(c + CENTRAL_SIZE, 0, nlen) ? T0_EINTERNAL : T0_EINPUT,
                       "%s: central directory entry at %llu: %s", what, (unsigned long long)*pos,
                       nlen ? "bad name" : "empty name");
    if (le16(c + 8) & 1)
        return t0_fail(err, T0_EINPUT, "%s: %s: encrypted", what, e->name);
    /* the local header and the data lie before the central directory */
    if (local > cd->cd_offset || cd->cd_offset - local < LOCAL_SIZE || le32(b + local) != SIG_LOCAL)
        return t0_fail(err, T0_EINPUT, "%s: %s: no local header at %llu", what, e->name, (unsigned long long)local);
    uint64_t data = local + LOCAL_SIZE + le16(b + local + 26) + le16(b + local + 28);
    if (data > cd->cd_offset || csize > cd->cd_offset - data)
        return t0_fail(err, T0_EINPUT, "%s: %s: %llu bytes at %llu run past the entries (truncated?)", what, e->name,
                       (unsigned long long)csize, (unsigned long long)data);
    e->stored = le16(c + 10) == 0;
    if (e->stored && csize != usize)
        return t0_fail(err, T0_EINPUT, "%s: %s: stored, but %llu bytes become %llu", what, e->name,
                       (unsigned long long)csize, (unsigned long long)usize);
    e->offset = data;
    e->size = e->stored ? usize : csize;
    e->crc = le32(c + 16);
    *pos += CENTRAL_SIZE + nlen + xlen + clen;
    return 0;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    const tz_archive *z = ctx;
    return strcmp(z->entries[*(const int *)a].name, z->entries[*(const int *)b].name);
}

static int index_names(tz_archive *z, t0_error *err)
{
    if (!(z->by_name = malloc((size_t)(z->n ? z->n : 1) * sizeof *z->by_name)))
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", z->what);
    for (int i = 0; i < z->n; i++)
        z->by_name[i] = i;
    qsort_r(z->by_name, (size_t)z->n, sizeof *z->by_name, cmp_name, z);
    for (int i = 1; i < z->n; i++)
        if (!strcmp(z->entries[z->by_name[i]].name, z->entries[z->by_name[i - 1]].name))
            return t0_fail(err, T0_EINPUT, "%s: %s appears twice in the archive", z->what,
                           z->entries[z->by_name[i]].name);
    return 0;
}

tz_archive *tz_open(const uint8_t *b, size_t size, const char *what, t0_error *err)
{
    cd_info cd = {0};
    if (find_end(b, size, what, &cd, err))
        return NULL;
    if (cd.cd_offset > cd.cd_end_limit || cd.cd_size > cd.cd_end_limit - cd.cd_offset ||
        cd.count > cd.cd_size / CENTRAL_SIZE) {
        t0_fail(err, T0_EINPUT, "%s: central directory (%llu entries, %llu bytes at %llu) does not fit the file", what,
                (unsigned long long)cd.count, (unsigned long long)cd.cd_size, (unsigned long long)cd.cd_offset);
        return NULL;
    }
    tz_archive *z = calloc(1, sizeof *z);
    if (z)
        z->entries = calloc(cd.count ? cd.count : 1, sizeof *z->entries); /* at most cd_size / 46 */
    if (!z || !z->entries) {
        tz_close(z);
        t0_fail(err, T0_EINTERNAL, "%s: out of memory", what);
        return NULL;
    }
    z->what = what;
    uint64_t pos = cd.cd_offset, end = cd.cd_offset + cd.cd_size;
    int rc = 0;
    for (uint64_t i = 0; i < cd.count && !rc; i++) {
        rc = read_central(b, &pos, end, &cd, &z->entries[i], what, err);
        z->n++; /* its name, if any, is freed by tz_close */
    }
    if (rc || index_names(z, err)) {
        tz_close(z);
        return NULL;
    }
    return z;
}

const tz_entry *tz_find(const tz_archive *z, const char *name)
{
    int lo = 0, hi = z->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(name, z->entries[z->by_name[mid]].name);
        if (!c)
            return &z->entries[z->by_name[mid]];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}
