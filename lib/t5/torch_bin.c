/* torch_bin.c: a torch.save'd state dict's tensors as views into its mapped zip archive
 * (torch_bin.h): the archive (torch_zip), the pickle (torch_pickle), then each view checked
 * against its storage and placed. */
#include "t5/torch_bin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t5/torch_pickle.h"
#include "t5/torch_zip.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch.save writes little-endian storages on little-endian machines; this reader assumes one"
#endif

struct tb_file {
    char *what;
    const uint8_t *base;
    size_t size;
    int mapped;
    tb_tensor *t;
    int n;
    void **copies;       /* owned buffers: aligned storages, row-major copies of views */
    int ncopies;
};

/* One storage in use: its archive entry and where its bytes are (in place or a copy). */
typedef struct {
    const tz_entry *entry;
    const char *dtype;
    const uint8_t *data;
} storage;

void tb_close(tb_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free((char *)f->t[i].name);
    for (int i = 0; i < f->ncopies; i++)
        free(f->copies[i]);
    if (f->mapped && f->size)
        munmap((void *)f->base, f->size);
    free(f->copies);
    free(f->t);
    free(f->what);
    free(f);
}

int tb_count(const tb_file *f)
{
    return f->n;
}

const tb_tensor *tb_at(const tb_file *f, int i)
{
    return i >= 0 && i < f->n ? &f->t[i] : NULL;
}

/* A buffer of n bytes aligned for any element, owned by f. */
static void *new_copy(tb_file *f, size_t n)
{
    void **c = realloc(f->copies, (size_t)(f->ncopies + 1) * sizeof *c);
    if (!c)
        return NULL;
    f->copies = c;
    void *p = malloc(n ? n : 1); /* n is at most an entry's size: bytes the file has */
    if (p)
        f->copies[f->ncopies++] = p;
    return p;
}

/* ---- the format ---- */

/* torch.save before 1.6: a pickle starting with its magic number (LONG1 0x1950a86a20f9469cfc6c), or a tar. */
static int legacy_format(const uint8_t *b, size_t size)
{
    static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return (size >= sizeof magic && !memcmp(b, magic, sizeof magic)) ||
           (size >= 262 && !memcmp(b + 257, "ustar", 5));
}

/* The archive's record prefix: the directory of its one top-level data.pkl. */
static const tz_entry *find_pickle(const tz_archive *z, char *prefix, size_t size)
{
    for (int i = 0; i < tz_count(z); i++) {
        const char *name = tz_at(z, i)->name, *slash = strchr(name, '/');
        if (slash && !strcmp(slash, "/data.pkl") && (size_t)(slash - name) < size) {
            snprintf(prefix, size, "%.*s", (int)(slash - name), name);
            return tz_at(z, i);
        }
    }
    return NULL;
}

static int check_byteorder(const tb_file *f, const tz_archive *z, const char *prefix, t0_error *err)
{
    char name[512];
    snprintf(name, sizeof name, "%s/byteorder", prefix);
    const tz_entry *e = tz_find(z, name);
    if (e && !(e->stored && e->size == 6 && !memcmp(f->base + e->offset, "little", 6)))
        return t0_fail(err, T0_EINPUT, "%s: %s is not \"little\": storages of another byte order are not supported",
                       f->what, name);
    return 0;
}

/* ---- views ---- */

/* The storage a tensor views, its bytes checked against its entry (once per key). */
static int find_storage(tb_file *f, const tz_archive *z, const char *prefix, const tp_tensor *t, storage *st,
                        t0_error *err)
{
    char name[512];
    snprintf(name, sizeof name, "%s/data/%s", prefix, t->storage_key);
    const tz_entry *e = tz_find(z, name);
    int k = e ? (int)(e - tz_at(z, 0)) : -1;
    if (k < 0)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: its storage %s is not in the archive", f->what, t->name, name);
    if (st[k].entry) {
        if (strcmp(st[k].dtype, t->dtype))
            return t0_fail(err, T0_EINPUT, "%s: tensor %s: storage %s viewed as %s and as %s", f->what, t->name,
                           t->storage_key, st[k].dtype, t->dtype);
        return k;
    }
    uint64_t bytes;
    if (!e->stored)
        return t0_fail(err, T0_EINPUT, "%s: %s is compressed (torch.save stores storages as they are)", f->what, name);
    if (__builtin_mul_overflow(t->storage_numel, (uint64_t)t->elem_size, &bytes) || bytes != e->size)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: storage %s claims %llu %s elements, its entry holds %llu bytes",
                       f->what, t->name, t->storage_key, (unsigned long long)t->storage_numel, t->dtype,
                       (unsigned long long)e->size);
    st[k] = (storage){.entry = e, .dtype = t->dtype, .data = f->base + e->offset};
    if ((uintptr_t)st[k].data % (uintptr_t)t->elem_size) { /* not aligned in the file: read it */
        uint8_t *c = new_copy(f, (size_t)bytes);
        if (!c)
            return t0_fail(err, T0_EINTERNAL, "%s: out of memory", f->what);
        memcpy(c, st[k].data, (size_t)bytes);
        st[k].data = c;
    }
    return k;
}

/* Element count and the highest element index the view touches, or an error. */
static int view_extent(const tb_file *f, const tp_tensor *t, uint64_t *numel, uint64_t *last, t0_error *err)
{
    uint64_t n = 1, hi = t->offset;
    int over = 0;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t span;
        over |= __builtin_mul_overflow(n, (uint64_t)t->shape[d], &n);
        if (t->shape[d] > 0) {
            over |= __builtin_mul_overflow((uint64_t)(t->shape[d] - 1), (uint64_t)t->stride[d], &span);
            over |= __builtin_add_overflow(hi, span, &hi);
        }
    }
    if (over)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: sizes and strides overflow", f->what, t->name);
    if (n && hi >= t->storage_numel)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: view reaches element %llu of a storage of %llu", f->what,
                       t->name, (unsigned long long)hi, (unsigned long long)t->storage_numel);
    *numel = n;
    *last = hi;
    return 0;
}

/* Row-major strides (dims of size 1 may have any); called once the element count is known to fit. */
static int contiguous(const tp_tensor *t)
{
    uint64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && (uint64_t)t->stride[d] != expect)
            return 0;
        expect *= (uint64_t)t->shape[d];
    }
    return 1;
}

/* Row-major copy of a strided view: element by element, an index counter over the dims. */
static void gather(const tp_tensor *t, const uint8_t *src, uint8_t *dst, uint64_t numel)
{
    int64_t idx[TP_MAX_DIMS] = {0};
    size_t es = (size_t)t->elem_size;
    uint64_t at = t->offset;
    for (uint64_t i = 0; i < numel; i++) {
        memcpy(dst + i * es, src + at * es, es);
        for (int d = t->ndim - 1; d >= 0; d--) {
            at += (uint64_t)t->stride[d];
            if (++idx[d] < t->shape[d])
                break;
            at -= (uint64_t)(t->stride[d] * t->shape[d]);
            idx[d] = 0;
        }
    }
}

static int place_view(tb_file *f, const tp_tensor *t, const storage *s, tb_tensor *out, t0_error *err)
{
    uint64_t numel = 0, last = 0;
    if (view_extent(f, t, &numel, &last, err))
        return -1;
    *out = (tb_tensor){.dtype = t->dtype, .ndim = t->ndim, .nbytes = (size_t)(numel * (uint64_t)t->elem_size)};
    memcpy(out->shape, t->shape, sizeof out->shape);
    out->data = s->data; /* an empty view points at its storage, never NULL */
    out->copied = s->data != f->base + s->entry->offset;
    if (!numel)
        return 0;
    if (contiguous(t)) {
        out->data = s->data + t->offset * (uint64_t)t->elem_size;
        return 0;
    }
    if (numel > t->storage_numel) /* only views that repeat elements (stride 0) hold more than their storage */
        return t0_fail(err, T0_EINPUT,
                       "%s: tensor %s: a view that repeats elements (%llu of a storage of %llu; expand()ed?) is not "
                       "supported: save it with .contiguous()",
                       f->what, t->name, (unsigned long long)numel, (unsigned long long)t->storage_numel);
    uint8_t *c = new_copy(f, out->nbytes);
    if (!c)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", f->what);
    gather(t, s->data, c, numel);
    out->data = c;
    out->copied = 1;
    return 0;
}

/* ---- opening ---- */

static int load_pickle(tb_file *f, const tz_archive *z, char *prefix, size_t psize, tp_state_dict *sd, t0_error *err)
{
    const tz_entry *pk = find_pickle(z, prefix, psize);
    if (!pk)
        return t0_fail(err, T0_EINPUT, "%s: a zip archive without NAME/data.pkl: not a torch.save file", f->what);
    if (!pk->stored)
        return t0_fail(err, T0_EINPUT, "%s: %s is compressed (torch.save stores it as it is)", f->what, pk->name);
    if (pk->size > TB_PKL_MAX)
        return t0_fail(err, T0_EINPUT, "%s: %s is %llu bytes, more than a state dict's %u", f->what, pk->name,
                       (unsigned long long)pk->size, TB_PKL_MAX);
    const uint8_t *p = f->base + pk->offset;
    if (tz_crc32(p, (size_t)pk->size) != pk->crc)
        return t0_fail(err, T0_EINPUT, "%s: %s: CRC mismatch (damaged file)", f->what, pk->name);
    if (check_byteorder(f, z, prefix, err))
        return -1;
    return tp_load(p, (size_t)pk->size, f->what, sd, err);
}

static int read_archive(tb_file *f, t0_error *err)
{
    if (legacy_format(f->base, f->size))
        return t0_fail(err, T0_EINPUT,
                       "%s: PyTorch's legacy format (torch.save before 1.6), not a zip archive: convert it in Python "
                       "with torch.save(torch.load(PATH), PATH), or save_pretrained(DIR, safe_serialization=True)",
                       f->what);
    tz_archive *z = tz_open(f->base, f->size, f->what, err);
    if (!z)
        return -1;
    char prefix[256];
    tp_state_dict sd = {0};
    storage *st = calloc((size_t)tz_count(z) + 1, sizeof *st);
    int rc = st ? load_pickle(f, z, prefix, sizeof prefix, &sd, err) : t0_fail(err, T0_EINTERNAL, "out of memory");
    if (!rc && !(f->t = calloc((size_t)sd.n + 1, sizeof *f->t)))
        rc = t0_fail(err, T0_EINTERNAL, "%s: out of memory", f->what);
    for (int i = 0; !rc && i < sd.n; i++) {
        int k = find_storage(f, z, prefix, &sd.t[i], st, err);
        rc = k < 0 ? -1 : place_view(f, &sd.t[i], &st[k], &f->t[i], err);
        if (!rc && !(f->t[i].name = strdup(sd.t[i].name)))
            rc = t0_fail(err, T0_EINTERNAL, "%s: out of memory", f->what);
        f->n = i + 1; /* names so far are freed by tb_close */
    }
    tp_free(&sd);
    free(st);
    tz_close(z);
    return rc;
}

static tb_file *file_new(const char *what)
{
    tb_file *f = calloc(1, sizeof *f);
    if (f && !(f->what = strdup(what))) {
        free(f);
        f = NULL;
    }
    return f;
}

tb_file *tb_open_buffer(const void *buf, size_t len, const char *what, t0_error *err)
{
    tb_file *f = file_new(what);
    if (!f) {
        t0_fail(err, T0_EINTERNAL, "%s: out of memory", what);
        return NULL;
    }
    f->base = buf;
    f->size = len;
    if (read_archive(f, err)) {
        tb_close(f);
        return NULL;
    }
    return f;
}

tb_file *tb_open(const char *path, t0_error *err)
{
    tb_file *f = file_new(path);
    int fd = f ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat sb;
    int rc = 0;
    if (!f)
        rc = t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    else if (fd < 0)
        rc = t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    else if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
        rc = t0_fail(err, T0_EINPUT, "%s: not a regular file", path);
    else if ((f->size = (size_t)sb.st_size) != 0) {
        void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            rc = t0_fail(err, T0_EINTERNAL, "%s: mmap: %s", path, strerror(errno));
        else {
            f->base = p;
            f->mapped = 1;
        }
    }
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = read_archive(f, err);
    if (rc) {
        if (f && !f->mapped)
            f->size = 0;
        tb_close(f);
        return NULL;
    }
    return f;
}
