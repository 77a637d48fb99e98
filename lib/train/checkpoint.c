/* checkpoint.c: see checkpoint.h. */
#include "train/checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FORMAT "t0-step 1"

static const char *const asset_names[] = {"config.json",          "spiece.model",          "tokenizer.json",
                                          "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                                          "generation_config.json", NULL};

/* ---------------------------------------------------------------- files */

static int read_whole(const char *path, char **data, size_t *len, t0_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    char *p = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            char *q = realloc(p, cap = cap ? 2 * cap : 65536);
            if (!q) {
                free(p);
                fclose(f);
                return t0_fail(err, T0_EINTERNAL, "out of memory reading %s", path);
            }
            p = q;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        return t0_fail(err, T0_EINPUT, "%s: read error", path);
    }
    *data = p, *len = n;
    return 0;
}

/* writes a new file and fsyncs it */
static int write_synced(const char *path, const char *data, size_t len, t0_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return t0_fail(err, T0_EINTERNAL, "%s: %s", path, w < 0 ? strerror(e) : "short write");
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    return 0;
}

/* fsync of a file or folder already written */
static int sync_path(const char *path, t0_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    return rc ? t0_fail(err, T0_EINTERNAL, "%s: fsync: %s", path, strerror(e)) : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int join(char *out, size_t n, const char *dir, const char *name, t0_error *err)
{
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
        return t0_fail(err, T0_EINPUT, "%s: path too long", dir);
    return 0;
}

/* ---------------------------------------------------------------- assets */

int ckpt_assets_read(const char *dir, ckpt_assets *a, t0_error *err)
{
    a->n = 0;
    a->files = calloc(sizeof asset_names / sizeof *asset_names, sizeof *a->files);
    if (!a->files)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (int i = 0; asset_names[i]; i++) {
        char path[4096];
        struct stat st;
        if (join(path, sizeof path, dir, asset_names[i], err))
            return -1;
        if (i > 0 && stat(path, &st) != 0)
            continue; /* tokenizer files are optional */
        ckpt_file *f = &a->files[a->n];
        if (read_whole(path, &f->data, &f->len, err) != 0)
            return -1;
        snprintf(f->name, sizeof f->name, "%s", asset_names[i]);
        a->n++;
    }
    return 0;
}

void ckpt_assets_free(ckpt_assets *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->files[i].data);
    free(a->files);
    a->files = NULL, a->n = 0;
}

/* ---------------------------------------------------------------- the run's folder */

/* the step of a "checkpoint-STEP" name, or -1 */
static int64_t checkpoint_step(const char *name)
{
    if (strncmp(name, "checkpoint-", 11) != 0 || !name[11])
        return -1;
    int64_t s = 0;
    for (const char *p = name + 11; *p; p++) {
        if (*p < '0' || *p > '9' || s > INT64_MAX / 10 - 10)
            return -1;
        s = 10 * s + (*p - '0');
    }
    return s;
}

static int is_temp(const char *name)
{
    return strncmp(name, ".checkpoint-", 12) == 0 && strstr(name, ".tmp-");
}

/* the complete checkpoints of out_dir (trainer_state.json present), steps sorted ascending */
static int list_checkpoints(const char *out_dir, int64_t **steps, int *n, t0_error *err)
{
    *steps = NULL, *n = 0;
    DIR *d = opendir(out_dir);
    if (!d)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir, strerror(errno));
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t s = checkpoint_step(e->d_name);
        char path[4096];
        struct stat st;
        if (s < 0 || snprintf(path, sizeof path, "%s/%s/trainer_state.json", out_dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (*n == cap) {
            int64_t *q = realloc(*steps, sizeof *q * (size_t)(cap = cap ? 2 * cap : 16));
            if (!q) {
                closedir(d);
                return t0_fail(err, T0_EINTERNAL, "out of memory");
            }
            *steps = q;
        }
        int i = (*n)++;
        for (; i > 0 && (*steps)[i - 1] > s; i--)
            (*steps)[i] = (*steps)[i - 1];
        (*steps)[i] = s;
    }
    closedir(d);
    return 0;
}

/* a run killed between renaming a checkpoint into place and pointing `latest` at it: the
 * newest complete checkpoint is the one to show */
static int repoint_latest(const char *out_dir, int64_t step, t0_error *err)
{
    char latest[4096], want[64], have[64] = "", tmp[4096];
    snprintf(want, sizeof want, "checkpoint-%lld", (long long)step);
    if (join(latest, sizeof latest, out_dir, "latest", err) || join(tmp, sizeof tmp, out_dir, ".latest.tmp", err))
        return -1;
    ssize_t k = readlink(latest, have, sizeof have - 1);
    if (k > 0)
        have[k] = 0;
    if (!strcmp(have, want))
        return 0;
    unlink(tmp);
    if (symlink(want, tmp) != 0 || rename(tmp, latest) != 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", latest, strerror(errno));
    return 0;
}

int ckpt_lock(const char *out_dir, t0_error *err)
{
    int fd = open(out_dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir,
                       e == EWOULDBLOCK ? "another t0-step is training in it" : strerror(e));
    }
    return fd;
}

int ckpt_prepare(const char *out_dir, int resume, char *last, size_t n, int *lock, t0_error *err)
{
    *lock = -1;
    struct stat st;
    if (stat(out_dir, &st) != 0) {
        if (errno == ENOENT && !resume)
            return 0;
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir, resume ? "no run to resume (no such folder)" : strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return t0_fail(err, T0_EINPUT, "%s: not a folder", out_dir);
    DIR *d = opendir(out_dir);
    if (!d)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir, strerror(errno));
    int entries = 0, runs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        entries++;
        if (checkpoint_step(e->d_name) >= 0 || !strcmp(e->d_name, "latest") || is_temp(e->d_name))
            runs++;
    }
    closedir(d);
    if (!resume && entries == 0)
        return 0;
    if (!resume)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir,
                       runs ? "holds a training run: give --resume to continue it, or another OUT_DIR"
                            : "not empty and not a t0-step run: give an empty or new OUT_DIR");
    int64_t *steps;
    int count;
    if (list_checkpoints(out_dir, &steps, &count, err) != 0)
        return -1;
    int64_t s = count ? steps[count - 1] : -1;
    free(steps);
    if (s < 0)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir,
                       runs ? "no complete checkpoint to resume" : "not a t0-step run (no checkpoint-STEP folder)");
    if ((*lock = ckpt_lock(out_dir, err)) < 0)
        return -1;
    /* leftovers of saves that were killed */
    if ((d = opendir(out_dir))) {
        while ((e = readdir(d))) {
            char path[4096];
            if (is_temp(e->d_name) && !join(path, sizeof path, out_dir, e->d_name, err))
                remove_tree(path);
        }
        closedir(d);
    }
    if ((size_t)snprintf(last, n, "%s/checkpoint-%lld", out_dir, (long long)s) >= n)
        return t0_fail(err, T0_EINPUT, "%s: path too long", out_dir);
    return repoint_latest(out_dir, s, err);
}

/* ---------------------------------------------------------------- trainer_state.json */

/* the shortest decimal that reads back as f (so 1e-4f is written 0.0001) */
static double short_float(float f)
{
    char b[32];
    for (int prec = 6; prec < 9; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, f);
        if ((float)strtod(b, NULL) == f)
            return strtod(b, NULL);
    }
    return f;
}

static char *state_json(const trainer *t, const char *model)
{
    const trainer_opts *o = &t->o;
    cJSON *j = cJSON_CreateObject();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed); /* a string: 64 bits do not fit a double */
    cJSON_AddStringToObject(j, "format", STATE_FORMAT);
    cJSON_AddNumberToObject(j, "global_step", (double)trainer_global_step(t));
    cJSON_AddNumberToObject(j, "steps", (double)t->steps);
    cJSON_AddNumberToObject(j, "batches", (double)t->batches);
    cJSON_AddStringToObject(j, "optimizer", o->optimizer == TRAIN_ADAFACTOR ? "adafactor" : "adamw");
    cJSON_AddNumberToObject(j, "lr", short_float(o->lr));
    cJSON_AddNumberToObject(j, "factor_min_dim", o->factor_min_dim);
    cJSON_AddNumberToObject(j, "weight_decay", short_float(o->weight_decay));
    cJSON_AddNumberToObject(j, "step_offset", (double)o->step_offset);
    cJSON_AddNumberToObject(j, "accum", o->accum);
    cJSON_AddNumberToObject(j, "dropout", short_float(o->dropout));
    cJSON_AddNumberToObject(j, "z_loss", short_float(o->z_loss));
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddNumberToObject(j, "rows", t->rows);
    cJSON_AddNumberToObject(j, "input_len", t->enc_len);
    cJSON_AddNumberToObject(j, "target_len", t->dec_len);
    const lr_schedule *sc = &o->schedule;
    cJSON_AddStringToObject(j, "schedule", lr_kind_name(sc->kind));
    cJSON_AddNumberToObject(j, "warmup_steps", (double)sc->warmup);
    cJSON_AddNumberToObject(j, "decay_steps", (double)sc->decay_steps);
    cJSON_AddNumberToObject(j, "end_lr", sc->end);
    cJSON_AddNumberToObject(j, "rsqrt_steps", (double)sc->rsqrt_steps);
    cJSON_AddBoolToObject(j, "scale_parameter", o->scale_parameter);
    cJSON_AddBoolToObject(j, "relative_step", o->relative_step);
    cJSON_AddStringToObject(j, "precision", o->precision == TRAIN_BF16 ? "bf16" : "f32");
    if (model)
        cJSON_AddStringToObject(j, "model", model);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

static int get_num(const cJSON *j, const char *key, double *v, const char *path, t0_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(x))
        return t0_fail(err, T0_EINPUT, "%s: no number \"%s\"", path, key);
    *v = x->valuedouble;
    return 0;
}

/* The schedule and Adafactor's settings; a state written before they existed has none:
 * T0's constant lr with parameter scale. */
static int read_schedule(const cJSON *j, trainer_opts *o, const char *path, t0_error *err)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "schedule");
    if (!kind)
        return 0;
    double v[4];
    static const char *keys[4] = {"warmup_steps", "decay_steps", "end_lr", "rsqrt_steps"};
    for (int i = 0; i < 4; i++)
        if (get_num(j, keys[i], &v[i], path, err))
            return -1;
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(j, "scale_parameter");
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(j, "relative_step");
    if (!cJSON_IsString(kind) || lr_kind_parse(kind->valuestring, &o->schedule.kind) || !cJSON_IsBool(scale) ||
        !cJSON_IsBool(rel))
        return t0_fail(err, T0_EINPUT, "%s: a schedule, scale_parameter and relative_step expected", path);
    o->schedule.warmup = (int64_t)v[0], o->schedule.decay_steps = (int64_t)v[1];
    o->schedule.end = v[2], o->schedule.rsqrt_steps = (int64_t)v[3];
    o->scale_parameter = cJSON_IsTrue(scale), o->relative_step = cJSON_IsTrue(rel);
    return 0;
}

/* The products' precision, as asked for (a CPU without BF16 ran F32); states written
 * before it existed trained in F32. */
static int read_precision(const cJSON *j, trainer_opts *o, const char *path, t0_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "precision");
    o->precision = TRAIN_F32;
    if (!p)
        return 0;
    if (!cJSON_IsString(p) || (strcmp(p->valuestring, "f32") && strcmp(p->valuestring, "bf16")))
        return t0_fail(err, T0_EINPUT, "%s: \"precision\": expected \"f32\" or \"bf16\"", path);
    o->precision = strcmp(p->valuestring, "bf16") ? TRAIN_F32 : TRAIN_BF16;
    return 0;
}

int ckpt_read_state(const char *ckpt_dir, ckpt_state *s, t0_error *err)
{
    char path[4096], *text;
    size_t len;
    if (join(path, sizeof path, ckpt_dir, "trainer_state.json", err) || read_whole(path, &text, &len, err))
        return -1;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(j, "optimizer");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    int rc = 0;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, STATE_FORMAT) || !cJSON_IsString(opt) ||
        !cJSON_IsString(seed)) {
        rc = t0_fail(err, T0_EINPUT, "%s: not a %s trainer state", path, STATE_FORMAT);
        goto done;
    }
    trainer_defaults(&s->o);
    s->o.optimizer = strcmp(opt->valuestring, "adamw") ? TRAIN_ADAFACTOR : TRAIN_ADAMW;
    s->o.seed = strtoull(seed->valuestring, NULL, 10);
    double v[12];
    static const char *keys[12] = {"steps", "batches", "lr", "factor_min_dim", "weight_decay", "step_offset",
                                   "accum", "dropout", "z_loss", "rows", "input_len", "target_len"};
    for (int i = 0; i < 12 && rc == 0; i++)
        rc = get_num(j, keys[i], &v[i], path, err);
    if (rc)
        goto done;
    s->steps = (int64_t)v[0], s->batches = (int64_t)v[1];
    s->o.lr = (float)v[2], s->o.factor_min_dim = (int)v[3], s->o.weight_decay = (float)v[4];
    s->o.step_offset = (int64_t)v[5], s->o.accum = (int)v[6], s->o.dropout = (float)v[7], s->o.z_loss = (float)v[8];
    s->rows = (int)v[9], s->enc_len = (int)v[10], s->dec_len = (int)v[11];
    rc = read_schedule(j, &s->o, path, err);
    if (rc == 0)
        rc = read_precision(j, &s->o, path, err);
    snprintf(s->model, sizeof s->model, "%s", cJSON_IsString(model) ? model->valuestring : "");
done:
    cJSON_Delete(j);
    return rc;
}

/* ---------------------------------------------------------------- saving */

static int fill_checkpoint(const char *tmp, const trainer *t, const ckpt_assets *a, const ckpt_opts *o,
                           t0_error *err)
{
    char path[4096];
    for (int i = 0; i < a->n; i++)
        if (join(path, sizeof path, tmp, a->files[i].name, err) ||
            write_synced(path, a->files[i].data, a->files[i].len, err))
            return -1;
    if (join(path, sizeof path, tmp, "model.safetensors", err) || t5_model_save(t->m, path, o->bf16, err) ||
        sync_path(path, err))
        return -1;
    const char *hook = getenv("T0_STEP_TEST_KILL_IN_SAVE");
    if (hook && !strcmp(hook, "1"))
        raise(SIGKILL);
    if (join(path, sizeof path, tmp, "optimizer.safetensors", err) || trainer_save_optimizer(t, path, err) ||
        sync_path(path, err))
        return -1;
    char *state = state_json(t, o->model);
    if (!state)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    int rc = join(path, sizeof path, tmp, "trainer_state.json", err) || write_synced(path, state, strlen(state), err);
    cJSON_free(state);
    return rc ? -1 : sync_path(tmp, err);
}

/* OUT_DIR/latest -> name, replaced in one rename; then OUT_DIR/FILE -> latest/FILE for each file */
static int point_latest(const char *out_dir, const char *name, const ckpt_assets *a, t0_error *err)
{
    char tmp[4096], dst[4096], target[256];
    if (join(tmp, sizeof tmp, out_dir, ".latest.tmp", err) || join(dst, sizeof dst, out_dir, "latest", err))
        return -1;
    unlink(tmp);
    if (symlink(name, tmp) != 0 || rename(tmp, dst) != 0)
        return t0_fail(err, T0_EINTERNAL, "%s: %s", dst, strerror(errno));
    static const char *const own[] = {"model.safetensors", "optimizer.safetensors", "trainer_state.json"};
    for (int i = 0; i < a->n + 3; i++) {
        const char *f = i < a->n ? a->files[i].name : own[i - a->n];
        struct stat st;
        snprintf(target, sizeof target, "latest/%s", f);
        if (join(dst, sizeof dst, out_dir, f, err))
            return -1;
        if (lstat(dst, &st) != 0 && symlink(target, dst) != 0)
            return t0_fail(err, T0_EINTERNAL, "%s: %s", dst, strerror(errno));
    }
    return sync_path(out_dir, err);
}

static void drop_old(const char *out_dir, int keep)
{
    int64_t *steps;
    int n;
    t0_error ignore;
    if (keep <= 0 || list_checkpoints(out_dir, &steps, &n, &ignore) != 0)
        return;
    for (int i = 0; i + keep < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/checkpoint-%lld", out_dir, (long long)steps[i]);
        remove_tree(path);
    }
    free(steps);
}

int ckpt_save(const char *out_dir, const trainer *t, const ckpt_assets *a, const ckpt_opts *o, char *saved,
              size_t n, t0_error *err)
{
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return t0_fail(err, T0_EINPUT, "%s: %s", out_dir, strerror(errno));
    long long step = (long long)trainer_global_step(t);
    char tmp[4096], name[64], dst[4096];
    snprintf(name, sizeof name, "checkpoint-%lld", step);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", out_dir, name) >= sizeof tmp ||
        join(dst, sizeof dst, out_dir, name, err))
        return t0_fail(err, T0_EINPUT, "%s: path too long", out_dir);
    if (!mkdtemp(tmp))
        return t0_fail(err, T0_EINTERNAL, "%s: %s", tmp, strerror(errno));
    chmod(tmp, 0755);
    if (fill_checkpoint(tmp, t, a, o, err) != 0) {
        remove_tree(tmp);
        return -1;
    }
    /* a checkpoint of the same step (a run resumed before it) is replaced whole */
    char old[4096];
    struct stat st;
    int had = stat(dst, &st) == 0;
    if (had && ((size_t)snprintf(old, sizeof old, "%s/.%s.tmp-old", out_dir, name) >= sizeof old || rename(dst, old)))
        had = 0;
    if (rename(tmp, dst) != 0) {
        int e = errno;
        remove_tree(tmp);
        return t0_fail(err, T0_EINTERNAL, "%s: %s", dst, strerror(e));
    }
    if (had)
        remove_tree(old);
    if (sync_path(out_dir, err) || point_latest(out_dir, name, a, err))
        return -1;
    drop_old(out_dir, o->keep);
    if (saved)
        snprintf(saved, n, "%s", dst);
    return 0;
}
