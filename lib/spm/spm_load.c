/* spm_load.c: t0_spm_load, the one entry point that reads a tokenizer from disk: it picks
 * the format (spiece.model protobuf or tokenizer.json) and hands the bytes to its loader. */
#include "spm/spm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spm/tokenizer_json.h"

/* Reads a whole file (models are small: T5's is 792 kB). */
static uint8_t *read_file(const char *path, size_t *n, t0_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        t0_fail(err, T0_EINPUT, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *b = len > (1u << 30) ? NULL : realloc(buf, cap *= 2);
        if (!b)
            free(buf);
        buf = b;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        t0_fail(err, bad ? T0_EINPUT : T0_EINTERNAL, "%s: %s", path,
                bad ? "read error" : "out of memory (or file over 1 GiB)");
        return NULL;
    }
    *n = len;
    return buf;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static t0_spm *load_file(const char *path, t0_error *err)
{
    size_t n = 0;
    uint8_t *buf = read_file(path, &n, err);
    if (!buf)
        return NULL;
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    /* a ModelProto starts with key 0x0a (pieces) or another small field key, never '{' */
    t0_spm *m = i < n && buf[i] == '{' ? t0_spm_from_tokenizer_json((const char *)buf, n, err)
                                       : t0_spm_from_proto(buf, n, err);
    free(buf);
    if (!m)
        t0_error_prefix(err, "%s", path);
    return m;
}

t0_spm *t0_spm_load(const char *path, t0_error *err)
{
    if (!is_dir(path))
        return load_file(path, err);
    static const char *names[] = {"spiece.model", "tokenizer.model", "tokenizer.json"};
    char full[4096];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        snprintf(full, sizeof full, "%s/%s", path, names[k]);
        if (exists(full))
            return load_file(full, err);
    }
    t0_fail(err, T0_EINPUT, "%s: no spiece.model or tokenizer.json in this directory", path);
    return NULL;
}
