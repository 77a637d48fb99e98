/* safetensors.c: memory-mapped reading (single file or sharded), validation, float32
 * conversion, and a streaming writer. The format is described in safetensors.h. */
#include "t5/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/half.h"
#include "t5/torch_bin.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader assumes a little-endian host"
#endif

/* The reference implementation refuses larger headers too. */
#define ST_HEADER_MAX (100u << 20)
#define ST_INDEX_MAX (64u << 20)

const char *const T5_SHARED_NAMES[] = {"shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight",
                                       NULL};

typedef struct {
    char *path;          /* for messages */
    const uint8_t *base; /* the whole file */
    size_t size;
    int mapped;          /* 1: munmap on close; 0: a caller's buffer */
    size_t data_start;   /* 8 + header length */
    tb_file *bin;        /* a PyTorch .bin instead (torch_bin.h): its tensors are views, tied ones share bytes */
} st_shard;

typedef struct {
    st_tensor t;         /* first, so &entry->t is the public view */
    char dtype_name[16];
    int shard;
    size_t begin;        /* offset in the data block, for the overlap check */
} st_entry;

struct st_model {
    char *path;
    st_shard *shards;
    int nshards;
    st_entry *entries;
    int nentries, cap;
    int *by_name;        /* entry indices sorted by name, for st_find */
    char **meta;         /* k, v, k, v ... of the first file's __metadata__ */
    int nmeta;
};

/* ---- dtypes ---- */

static const struct {
    const char *name;
    st_dtype dtype;
    int size;
} DTYPES[] = {
    {"F32", ST_F32, 4},    {"F16", ST_F16, 2},    {"BF16", ST_BF16, 2},  {"F64", ST_OTHER, 8},
    {"I64", ST_OTHER, 8},  {"U64", ST_OTHER, 8},  {"I32", ST_OTHER, 4},  {"U32", ST_OTHER, 4},
    {"I16", ST_OTHER, 2},  {"U16", ST_OTHER, 2},  {"I8", ST_OTHER, 1},   {"U8", ST_OTHER, 1},
    {"BOOL", ST_OTHER, 1}, {"F8_E5M2", ST_OTHER, 1}, {"F8_E4M3", ST_OTHER, 1},
};

static int dtype_lookup(const char *name, st_dtype *dt)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (!strcmp(name, DTYPES[i].name)) {
            *dt = DTYPES[i].dtype;
            return DTYPES[i].size;
        }
    return 0;
}

const char *st_dtype_name(const st_tensor *t)
{
    return ((const st_entry *)t)->dtype_name;
}

/* ---- conversions ---- */

/* ---- model bookkeeping ---- */

static void free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void st_close(st_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nshards; i++) {
        if (m->shards[i].mapped && m->shards[i].size)
            munmap((void *)m->shards[i].base, m->shards[i].size);
        free(m->shards[i].path);
        tb_close(m->shards[i].bin);
    }
    for (int i = 0; i < m->nentries; i++)
        free((char *)m->entries[i].t.name);
    free(m->shards);
    free(m->entries);
    free(m->by_name);
    free_strings(m->meta, m->nmeta);
    free(m->path);
    free(m);
}

static st_model *model_new(const char *path)
{
    st_model *m = calloc(1, sizeof *m);
    if (m && !(m->path = strdup(path))) {
        free(m);
        m = NULL;
    }
    return m;
}

static int add_shard(st_model *m, const char *path, const void *base, size_t size, int mapped)
{
    st_shard *s = realloc(m->shards, (size_t)(m->nshards + 1) * sizeof *s);
    if (!s)
        return -1;
    m->shards = s;
    s = &m->shards[m->nshards];
    *s = (st_shard){.path = strdup(path), .base = base, .size = size, .mapped = mapped};
    if (!s->path)
        return -1;
    m->nshards++;
    return 0;
}

static st_entry *add_entry(st_model *m)
{
    if (m->nentries == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        st_entry *e = realloc(m->entries, (size_t)cap * sizeof *e);
        if (!e)
            return NULL;
        m->entries = e;
        m->cap = cap;
    }
    st_entry *e = &m->entries[m->nentries];
    memset(e, 0, sizeof *e);
    return e;
}

/* ---- header parsing ---- */

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* A JSON number that is a non-negative integer exactly representable (< 2^53). */
static int json_uint(const cJSON *it, uint64_t *out)
{
    if (!cJSON_IsNumber(it))
        return -1;
    double v = it->valuedouble;
    if (!(v >= 0 && v < 9007199254740992.0) || v != (double)(uint64_t)v)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_shape(const cJSON *shape, st_tensor *t, size_t elem, const char *file, t0_error *err)
{
    if (!cJSON_IsArray(shape))
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: shape is not an array", file, t->name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > 8)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: %d dimensions, at most 8 supported", file, t->name, ndim);
    t->ndim = ndim;
    size_t bytes = elem;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        uint64_t v;
        if (json_uint(d, &v))
            return t0_fail(err, T0_EINPUT, "%s: tensor %s: shape entry %d is not a non-negative integer", file,
                           t->name, i);
        t->shape[i] = (int64_t)v;
        if (__builtin_mul_overflow(bytes, (size_t)v, &bytes))
            return t0_fail(err, T0_EINPUT, "%s: tensor %s: shape too large", file, t->name);
    }
    t->nbytes = bytes;
    return 0;
}

static int parse_offsets(const cJSON *offs, st_entry *e, const st_shard *s, const char *file, t0_error *err)
{
    uint64_t b, end;
    const char *name = e->t.name;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || json_uint(offs->child, &b) ||
        json_uint(offs->child->next, &end) || b > end)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: data_offsets must be [begin, end] with begin <= end", file,
                       name);
    size_t data_len = s->size - s->data_start;
    if (end > data_len)
        return t0_fail(err, T0_EINPUT,
                       "%s: tensor %s: data_offsets [%llu, %llu] past the end of the data (%zu bytes; file truncated?)",
                       file, name, (unsigned long long)b, (unsigned long long)end, data_len);
    if (end - b != e->t.nbytes) {
        char sh[128];
        format_shape(sh, sizeof sh, e->t.ndim, e->t.shape);
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: data_offsets [%llu, %llu] hold %llu bytes, %s %s needs %zu",
                       file, name, (unsigned long long)b, (unsigned long long)end, (unsigned long long)(end - b),
                       e->dtype_name, sh, e->t.nbytes);
    }
    e->begin = (size_t)b;
    e->t.data = s->base + s->data_start + b;
    return 0;
}

static int parse_tensor(st_model *m, int shard, const cJSON *item, t0_error *err)
{
    const st_shard *s = &m->shards[shard];
    st_entry *e = add_entry(m);
    if (!e || !(e->t.name = strdup(item->string)))
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", s->path);
    m->nentries++; /* owned from here, freed by st_close */
    e->shard = shard;
    if (!cJSON_IsObject(item))
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: entry is not an object", s->path, e->t.name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!cJSON_IsString(dt))
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: no dtype", s->path, e->t.name);
    int elem = dtype_lookup(dt->valuestring, &e->t.dtype);
    if (!elem)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: unknown dtype \"%.32s\"", s->path, e->t.name, dt->valuestring);
    snprintf(e->dtype_name, sizeof e->dtype_name, "%s", dt->valuestring);
    if (parse_shape(cJSON_GetObjectItemCaseSensitive(item, "shape"), &e->t, (size_t)elem, s->path, err))
        return -1;
    return parse_offsets(cJSON_GetObjectItemCaseSensitive(item, "data_offsets"), e, s, s->path, err);
}

static int parse_metadata(st_model *m, const cJSON *meta, const char *file, t0_error *err)
{
    if (!cJSON_IsObject(meta))
        return t0_fail(err, T0_EINPUT, "%s: __metadata__ is not an object", file);
    if (m->meta) /* keep the first file's */
        return 0;
    int n = cJSON_GetArraySize(meta);
    m->meta = calloc((size_t)(2 * n + 1), sizeof *m->meta);
    if (!m->meta)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", file);
    for (const cJSON *kv = meta->child; kv; kv = kv->next) {
        if (!cJSON_IsString(kv))
            return t0_fail(err, T0_EINPUT, "%s: __metadata__ value of %s is not a string", file, kv->string);
        m->meta[m->nmeta++] = strdup(kv->string);
        m->meta[m->nmeta++] = strdup(kv->valuestring);
        if (!m->meta[m->nmeta - 1] || !m->meta[m->nmeta - 2])
            return t0_fail(err, T0_EINTERNAL, "%s: out of memory", file);
    }
    return 0;
}

/* glibc's qsort_r (_GNU_SOURCE) passes the model as context, so opening is reentrant. */
static int cmp_begin(const void *a, const void *b, void *ctx)
{
    const st_model *m = ctx;
    const st_entry *x = &m->entries[*(const int *)a], *y = &m->entries[*(const int *)b];
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    const st_model *m = ctx;
    return strcmp(m->entries[*(const int *)a].t.name, m->entries[*(const int *)b].t.name);
}

/* No two tensors share bytes, no name appears twice; builds the by-name index. */
static int check_layout(st_model *m, t0_error *err)
{
    int n = m->nentries;
    int *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
    if (!idx)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", m->path);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, (size_t)n, sizeof *idx, cmp_begin, m);
    /* sorted by begin, each non-empty tensor must start at or after the previous non-empty one's end
     * (empty tensors occupy nothing, and must not hide an overlap by sitting between two) */
    const st_entry *prev = NULL;
    for (int i = 0; i < n; i++) {
        const st_entry *b = &m->entries[idx[i]];
        if (!b->t.nbytes || m->shards[b->shard].bin) /* torch_bin checked its views */
            continue;
        if (prev && prev->shard == b->shard && prev->begin + prev->t.nbytes > b->begin) {
            free(idx);
            return t0_fail(err, T0_EINPUT, "%s: tensors %s and %s overlap in the data", m->shards[b->shard].path,
                           prev->t.name, b->t.name);
        }
        prev = b;
    }
    qsort_r(idx, (size_t)n, sizeof *idx, cmp_name, m);
    for (int i = 1; i < n; i++) {
        const st_entry *a = &m->entries[idx[i - 1]], *b = &m->entries[idx[i]];
        if (!strcmp(a->t.name, b->t.name)) {
            free(idx);
            return t0_fail(err, T0_EINPUT, "%s: tensor %s appears twice (%s, %s)", m->path, a->t.name,
                           m->shards[a->shard].path, m->shards[b->shard].path);
        }
    }
    m->by_name = idx;
    return 0;
}

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Parses and validates the header of shard `shard`, appending its tensors. */
static int parse_shard(st_model *m, int shard, t0_error *err)
{
    st_shard *s = &m->shards[shard];
    if (s->size < 8)
        return t0_fail(err, T0_EINPUT, "%s: truncated: %zu bytes, a safetensors file starts with an 8-byte header length",
                       s->path, s->size);
    uint64_t hlen = read_le64(s->base);
    if (hlen > s->size - 8)
        return t0_fail(err, T0_EINPUT, "%s: header length %llu runs past the end of the file (%zu bytes)", s->path,
                       (unsigned long long)hlen, s->size);
    if (hlen > ST_HEADER_MAX)
        return t0_fail(err, T0_EINPUT, "%s: header length %llu larger than %u bytes", s->path,
                       (unsigned long long)hlen, ST_HEADER_MAX);
    s->data_start = 8 + (size_t)hlen;
    cJSON *root = cJSON_ParseWithLength((const char *)s->base + 8, (size_t)hlen);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return t0_fail(err, T0_EINPUT, "%s: header is not a JSON object (not a safetensors file?)", s->path);
    }
    int rc = 0;
    for (const cJSON *it = root->child; it && !rc; it = it->next)
        rc = !strcmp(it->string, "__metadata__") ? parse_metadata(m, it, s->path, err) : parse_tensor(m, shard, it, err);
    cJSON_Delete(root);
    return rc;
}

/* ---- opening ---- */

/* Maps a whole file read-only; empty files get base NULL, size 0. */
static int map_file(const char *path, const void **base, size_t *size, t0_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return t0_fail(err, T0_EINPUT, "%s: not a regular file", path);
    }
    *size = (size_t)st.st_size;
    *base = NULL;
    if (*size) {
        void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return t0_fail(err, T0_EINTERNAL, "%s: mmap: %s", path, strerror(errno));
        }
        *base = p;
    }
    close(fd);
    return 0;
}

/* A PyTorch .bin as one more shard, its tensors as entries. */
static int open_bin_file(st_model *m, const char *path, t0_error *err)
{
    tb_file *f = tb_open(path, err);
    if (!f)
        return -1;
    if (add_shard(m, path, NULL, 0, 0)) {
        tb_close(f);
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    }
    m->shards[m->nshards - 1].bin = f;
    for (int i = 0; i < tb_count(f); i++) {
        const tb_tensor *t = tb_at(f, i);
        st_entry *e = add_entry(m);
        if (!e || !(e->t.name = strdup(t->name)))
            return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
        m->nentries++;
        e->shard = m->nshards - 1;
        dtype_lookup(t->dtype, &e->t.dtype); /* torch_bin's names are safetensors' */
        snprintf(e->dtype_name, sizeof e->dtype_name, "%s", t->dtype);
        e->t.ndim = t->ndim;
        memcpy(e->t.shape, t->shape, sizeof e->t.shape);
        e->t.data = t->data;
        e->t.nbytes = t->nbytes;
    }
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

static int open_shard_file(st_model *m, const char *path, t0_error *err)
{
    if (ends_with(path, ".bin"))
        return open_bin_file(m, path, err);
    const void *base;
    size_t size;
    if (map_file(path, &base, &size, err))
        return -1;
    if (add_shard(m, path, base, size, 1)) {
        if (size)
            munmap((void *)base, size);
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    }
    return parse_shard(m, m->nshards - 1, err);
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int shard_index(const st_model *m, const char *path)
{
    for (int i = 0; i < m->nshards; i++)
        if (!strcmp(m->shards[i].path, path))
            return i;
    return -1;
}

/* Every name in weight_map must be in the shard it names. */
static int check_weight_map(st_model *m, const cJSON *map, const char *dir, const char *index, t0_error *err)
{
    for (const cJSON *it = map->child; it; it = it->next) {
        char *p = join_path(dir, it->valuestring);
        if (!p)
            return t0_fail(err, T0_EINTERNAL, "out of memory");
        int shard = shard_index(m, p);
        free(p);
        const st_tensor *t = st_find(m, it->string);
        if (!t || ((const st_entry *)t)->shard != shard)
            return t0_fail(err, T0_EINPUT, "%s: tensor %s: not in shard %s", index, it->string, it->valuestring);
    }
    return 0;
}

static int open_index(st_model *m, const char *dir, const char *index, t0_error *err)
{
    const void *base;
    size_t size;
    if (map_file(index, &base, &size, err))
        return -1;
    if (size > ST_INDEX_MAX) {
        munmap((void *)base, size);
        return t0_fail(err, T0_EINPUT, "%s: larger than %u bytes", index, ST_INDEX_MAX);
    }
    cJSON *root = size ? cJSON_ParseWithLength(base, size) : NULL;
    if (size)
        munmap((void *)base, size);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    int rc = 0;
    if (!cJSON_IsObject(map))
        rc = t0_fail(err, T0_EINPUT, "%s: %s", index, root ? "no weight_map object" : "malformed JSON");
    for (const cJSON *it = rc ? NULL : map->child; it && !rc; it = it->next) {
        if (!cJSON_IsString(it) || !it->valuestring[0] || strchr(it->valuestring, '/') ||
            !strcmp(it->valuestring, ".."))
            rc = t0_fail(err, T0_EINPUT, "%s: weight_map entry %s: expected a shard file name in the same directory",
                         index, it->string);
        char *p = rc ? NULL : join_path(dir, it->valuestring);
        if (!rc && !p)
            rc = t0_fail(err, T0_EINTERNAL, "out of memory");
        if (p && shard_index(m, p) < 0)
            rc = open_shard_file(m, p, err);
        free(p);
    }
    if (!rc)
        rc = check_layout(m, err);
    if (!rc)
        rc = check_weight_map(m, map, dir, index, err);
    cJSON_Delete(root);
    return rc;
}

/* safetensors when present, else PyTorch's .bin (open_shard_file tells them by name) */
static int open_dir(st_model *m, const char *dir, t0_error *err)
{
    static const char *const kinds[][2] = {{"model.safetensors", "model.safetensors.index.json"},
                                           {"pytorch_model.bin", "pytorch_model.bin.index.json"}};
    for (int k = 0; k < 2; k++) {
        char *single = join_path(dir, kinds[k][0]), *index = join_path(dir, kinds[k][1]);
        int rc = 1;
        if (!single || !index)
            rc = t0_fail(err, T0_EINTERNAL, "out of memory");
        else if (access(single, F_OK) == 0)
            rc = open_shard_file(m, single, err) || check_layout(m, err) ? -1 : 0;
        else if (access(index, F_OK) == 0)
            rc = open_index(m, dir, index, err);
        free(single);
        free(index);
        if (rc <= 0)
            return rc;
    }
    return t0_fail(err, T0_EINPUT, "%s: no model.safetensors or pytorch_model.bin (or their .index.json) in it", dir);
}

st_model *st_open(const char *path, t0_error *err)
{
    st_model *m = model_new(path);
    if (!m) {
        t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
        return NULL;
    }
    struct stat st;
    int rc;
    if (stat(path, &st))
        rc = t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = open_dir(m, path, err);
    else
        rc = open_shard_file(m, path, err) || check_layout(m, err) ? -1 : 0;
    if (rc) {
        st_close(m);
        return NULL;
    }
    return m;
}

st_model *st_open_buffer(const void *buf, size_t len, const char *what, t0_error *err)
{
    st_model *m = model_new(what);
    if (!m || add_shard(m, what, buf, len, 0)) {
        st_close(m);
        t0_fail(err, T0_EINTERNAL, "%s: out of memory", what);
        return NULL;
    }
    if (parse_shard(m, 0, err) || check_layout(m, err)) {
        st_close(m);
        return NULL;
    }
    return m;
}

/* ---- lookup ---- */

const st_tensor *st_find(const st_model *m, const char *name)
{
    if (!m || !m->by_name)
        return NULL;
    int lo = 0, hi = m->nentries - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, m->entries[m->by_name[mid]].t.name);
        if (!c)
            return &m->entries[m->by_name[mid]].t;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const st_tensor *st_find_any(const st_model *m, const char *const *names)
{
    for (; *names; names++) {
        const st_tensor *t = st_find(m, *names);
        if (t)
            return t;
    }
    return NULL;
}

int st_count(const st_model *m)
{
    return m->nentries;
}

const st_tensor *st_at(const st_model *m, int i)
{
    return i >= 0 && i < m->nentries ? &m->entries[i].t : NULL;
}

const char *st_metadata(const st_model *m, const char *key)
{
    for (int i = 0; i + 1 < m->nmeta; i += 2)
        if (!strcmp(m->meta[i], key))
            return m->meta[i + 1];
    return NULL;
}

/* ---- reading as float32 ---- */

const float *st_f32_data(const st_tensor *t)
{
    if (!t || t->dtype != ST_F32 || (uintptr_t)t->data % _Alignof(float))
        return NULL;
    return t->data;
}

static void convert_to_f32(const st_tensor *t, float *dst)
{
    size_t n = t->nbytes / (t->dtype == ST_F32 ? 4 : 2);
    const uint8_t *p = t->data;
    if (t->dtype == ST_F32) {
        memcpy(dst, p, t->nbytes);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        dst[i] = t->dtype == ST_BF16 ? t0_bf16_to_f32(h) : t0_f16_to_f32(h);
    }
}

/* The shape and dtype checks of st_read_f32, with its messages. */
static int check_tensor(const st_model *m, const st_tensor *t, int ndim, const int64_t *shape, t0_error *err)
{
    const char *file = m->shards[((const st_entry *)t)->shard].path;
    if (t->dtype == ST_OTHER)
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: dtype %s not supported (want F32, F16 or BF16)", file,
                       t->name, st_dtype_name(t));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        format_shape(got, sizeof got, t->ndim, t->shape);
        format_shape(want, sizeof want, ndim, shape);
        return t0_fail(err, T0_EINPUT, "%s: tensor %s: shape %s, expected %s", file, t->name, got, want);
    }
    return 0;
}

const st_tensor *st_expect(const st_model *m, const char *const *names, int ndim, const int64_t *shape, t0_error *err)
{
    const st_tensor *t = st_find_any(m, names);
    if (!t) {
        t0_fail(err, T0_EINPUT, "%s: missing tensor %s", m->path, names[0]);
        return NULL;
    }
    return check_tensor(m, t, ndim, shape, err) ? NULL : t;
}

int st_read_f32_any(const st_model *m, const char *const *names, int ndim, const int64_t *shape, float *dst,
                    t0_error *err)
{
    const st_tensor *t = st_expect(m, names, ndim, shape, err);
    if (!t)
        return -1;
    convert_to_f32(t, dst);
    return 0;
}

int st_read_f32(const st_model *m, const char *name, int ndim, const int64_t *shape, float *dst, t0_error *err)
{
    const char *const names[] = {name, NULL};
    return st_read_f32_any(m, names, ndim, shape, dst, err);
}

/* ---- writing ---- */

static int element_count(const st_write_tensor *t, size_t *count)
{
    size_t c = 1;
    if (t->ndim < 0 || t->ndim > 8)
        return -1;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] < 0 || __builtin_mul_overflow(c, (size_t)t->shape[d], &c))
            return -1;
    *count = c;
    return 0;
}

static int check_write_tensors(const char *path, const st_write_tensor *t, int n, t0_error *err)
{
    for (int i = 0; i < n; i++) {
        size_t c;
        if (!t[i].name || !t[i].name[0] || !strcmp(t[i].name, "__metadata__"))
            return t0_fail(err, T0_EINTERNAL, "%s: tensor %d: bad name", path, i);
        if (element_count(&t[i], &c))
            return t0_fail(err, T0_EINTERNAL, "%s: tensor %s: bad shape", path, t[i].name);
        for (int j = 0; j < i; j++)
            if (!strcmp(t[i].name, t[j].name))
                return t0_fail(err, T0_EINTERNAL, "%s: tensor %s given twice", path, t[i].name);
    }
    return 0;
}

static const char *write_dtype_name(st_dtype dt)
{
    return dt == ST_F32 ? "F32" : dt == ST_BF16 ? "BF16" : "F16";
}

/* The JSON header padded with spaces to a multiple of 8 bytes, as the reference writer does. */
static char *build_header(const st_write_tensor *t, int n, st_dtype dt, const char *const *meta, size_t *len)
{
    cJSON *root = cJSON_CreateObject(), *md = NULL;
    int ok = root != NULL;
    if (ok && meta && meta[0]) {
        ok = (md = cJSON_AddObjectToObject(root, "__metadata__")) != NULL;
        for (int i = 0; ok && meta[i] && meta[i + 1]; i += 2)
            ok = cJSON_AddStringToObject(md, meta[i], meta[i + 1]) != NULL;
    }
    size_t off = 0, esize = dt == ST_F32 ? 4 : 2;
    for (int i = 0; ok && i < n; i++) {
        size_t c = 0;
        element_count(&t[i], &c);
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *shape = cJSON_CreateArray();
        cJSON *offs = cJSON_CreateArray();
        ok = e && shape && offs && cJSON_AddStringToObject(e, "dtype", write_dtype_name(dt));
        for (int d = 0; ok && d < t[i].ndim; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off)) &&
             cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + c * esize)));
        if (ok) {
            cJSON_AddItemToObject(e, "shape", shape);
            cJSON_AddItemToObject(e, "data_offsets", offs);
        } else {
            cJSON_Delete(shape);
            cJSON_Delete(offs);
        }
        off += c * esize;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json)
        return NULL;
    size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
    char *h = realloc(json, padded + 1);
    if (!h) {
        free(json);
        return NULL;
    }
    memset(h + jl, ' ', padded - jl);
    h[padded] = '\0';
    *len = padded;
    return h;
}

/* Converts and writes count floats in chunks of the output dtype. */
static int write_values(FILE *f, const float *v, size_t count, st_dtype dt)
{
    if (dt == ST_F32)
        return fwrite(v, 4, count, f) == count ? 0 : -1;
    uint16_t buf[4096];
    for (size_t i = 0; i < count;) {
        size_t k = count - i < 4096 ? count - i : 4096;
        for (size_t j = 0; j < k; j++)
            buf[j] = dt == ST_BF16 ? t0_f32_to_bf16(v[i + j]) : t0_f32_to_f16(v[i + j]);
        if (fwrite(buf, 2, k, f) != k)
            return -1;
        i += k;
    }
    return 0;
}

static int write_body(FILE *f, const st_write_tensor *t, int n, st_dtype dt, const char *header, size_t hlen,
                      st_fill_fn fill, void *ctx, const char *path, t0_error *err)
{
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    if (fwrite(lenbuf, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen)
        return t0_fail(err, T0_EINTERNAL, "%s: write failed: %s", path, strerror(errno));
    size_t most = 0;
    for (int i = 0; i < n; i++) {
        size_t c = 0;
        element_count(&t[i], &c);
        if (!t[i].data && c > most)
            most = c;
    }
    float *buf = most ? malloc(most * sizeof *buf) : NULL;
    if (most && !buf)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        size_t c = 0;
        element_count(&t[i], &c);
        const float *v = t[i].data;
        if (!v && c) {
            if (!fill) {
                rc = t0_fail(err, T0_EINTERNAL, "%s: tensor %s: no data", path, t[i].name);
                break;
            }
            if ((rc = fill(ctx, i, buf, err)) != 0)
                break;
            v = buf;
        }
        if (c && write_values(f, v, c, dt))
            rc = t0_fail(err, T0_EINTERNAL, "%s: write failed: %s", path, strerror(errno));
    }
    free(buf);
    return rc;
}

int st_write_stream(const char *path, const st_write_tensor *t, int n, st_dtype out_dtype, const char *const *meta_kv,
                    st_fill_fn fill, void *ctx, t0_error *err)
{
    if (out_dtype == ST_OTHER)
        return t0_fail(err, T0_EINTERNAL, "%s: can write F32, F16 or BF16 only", path);
    if (check_write_tensors(path, t, n, err))
        return -1;
    size_t hlen;
    char *header = build_header(t, n, out_dtype, meta_kv, &hlen);
    if (!header)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    char *tmp = malloc(strlen(path) + 16);
    int fd = -1;
    if (tmp) {
        sprintf(tmp, "%s.tmp.XXXXXX", path);
        fd = mkstemp(tmp);
    }
    if (fd < 0) {
        int rc = t0_fail(err, T0_EINPUT, "%s: %s", path, tmp ? strerror(errno) : "out of memory");
        free(tmp);
        free(header);
        return rc;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    int rc = f ? write_body(f, t, n, out_dtype, header, hlen, fill, ctx, path, err)
               : t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    if (f && fclose(f) && !rc)
        rc = t0_fail(err, T0_EINTERNAL, "%s: write failed: %s", path, strerror(errno));
    if (!f)
        close(fd);
    if (!rc && rename(tmp, path))
        rc = t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    free(header);
    return rc;
}

int st_write(const char *path, const st_write_tensor *t, int n, st_dtype out_dtype, const char *const *meta_kv,
             t0_error *err)
{
    return st_write_stream(path, t, n, out_dtype, meta_kv, NULL, NULL, err);
}
