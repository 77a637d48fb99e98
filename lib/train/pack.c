/* pack.c: greedy next-fit packing of examples into seqio's packed batch features (pack.h). */
#include "train/pack.h"

#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"
#include "train/mixture.h"

int t0_packer_init(t0_packer *p, uint32_t rows, uint32_t enc_len, uint32_t dec_len, int no_pack,
                   t0_error *err)
{
    memset(p, 0, sizeof *p);
    if (rows == 0 || enc_len == 0 || dec_len == 0)
        return t0_fail(err, T0_EINPUT, "rows and lengths must be at least 1");
    uint64_t bytes = (uint64_t)rows * (3ull * enc_len + 5ull * dec_len) * sizeof(int32_t) + 12;
    if (bytes > T0_RECORD_MAX)
        return t0_fail(err, T0_EINPUT, "a batch of %u rows of %u + %u tokens is %llu MB, over a record's %u MB",
                       rows, enc_len, dec_len, (unsigned long long)(bytes >> 20), T0_RECORD_MAX >> 20);
    p->rows = rows, p->enc_len = enc_len, p->dec_len = dec_len, p->no_pack = no_pack;
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        size_t len = f < T0_DEC_TARGET_TOKENS ? enc_len : dec_len;
        p->feature[f] = calloc((size_t)rows * len, sizeof(int32_t));
        if (!p->feature[f]) {
            t0_packer_free(p);
            return t0_fail(err, T0_EINTERNAL, "out of memory for a batch of %u rows", rows);
        }
    }
    return 0;
}

void t0_packer_free(t0_packer *p)
{
    for (int f = 0; f < T0_BATCH_FEATURES; f++)
        free(p->feature[f]);
    memset(p->feature, 0, sizeof p->feature);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

int t0_packer_fits(const t0_packer *p, uint32_t n_in, uint32_t n_tg)
{
    if (p->row >= p->rows)
        return 0;
    if (p->segments == 0)
        return 1; /* an empty row takes any example (truncated) */
    if (p->no_pack)
        return p->row + 1 < p->rows;
    n_in = min_u32(n_in, p->enc_len), n_tg = min_u32(n_tg, p->dec_len);
    if (p->enc_used + n_in <= p->enc_len && p->dec_used + n_tg <= p->dec_len)
        return 1;
    return p->row + 1 < p->rows; /* a new row is left */
}

/* Writes one segment of len ids at offset `at` of row `row` in the token, segment and
 * position features tok, seg, pos (each [rows][width]). */
static void put_segment(int32_t *tok, int32_t *seg, int32_t *pos, size_t width, uint32_t row,
                        uint32_t at, const int32_t *ids, uint32_t len, int32_t segment)
{
    size_t o = (size_t)row * width + at;
    memcpy(tok + o, ids, (size_t)len * sizeof *ids);
    for (uint32_t i = 0; i < len; i++) {
        seg[o + i] = segment;
        pos[o + i] = (int32_t)i;
    }
}

void t0_packer_add(t0_packer *p, const int32_t *in, uint32_t n_in, const int32_t *tg, uint32_t n_tg)
{
    p->examples++;
    if (n_in == 0 && n_tg == 0)
        return; /* nothing to place, nothing to learn */
    uint32_t k_in = min_u32(n_in, p->enc_len), k_tg = min_u32(n_tg, p->dec_len);
    p->truncated += k_in < n_in || k_tg < n_tg;
    if (p->segments && (p->no_pack || p->enc_used + k_in > p->enc_len || p->dec_used + k_tg > p->dec_len)) {
        p->row++; /* close the row: next-fit */
        p->enc_used = p->dec_used = 0;
        p->segments = 0;
    }
    uint32_t r = p->row;
    int32_t s = ++p->segments;
    if (s == 1)
        p->rows_used++;
    int32_t **f = p->feature;
    put_segment(f[T0_ENC_INPUT_TOKENS], f[T0_ENC_SEGMENT_IDS], f[T0_ENC_POSITIONS], p->enc_len, r,
                p->enc_used, in, k_in, s);
    put_segment(f[T0_DEC_TARGET_TOKENS], f[T0_DEC_SEGMENT_IDS], f[T0_DEC_POSITIONS], p->dec_len, r,
                p->dec_used, tg, k_tg, s);
    size_t o = (size_t)r * p->dec_len + p->dec_used;
    if (k_tg < n_tg && tg[n_tg - 1] == T0_EOS_ID)
        f[T0_DEC_TARGET_TOKENS][o + k_tg - 1] = T0_EOS_ID; /* the target keeps its EOS */
    for (uint32_t i = 0; i < k_tg; i++) {
        f[T0_DEC_INPUT_TOKENS][o + i] = i ? f[T0_DEC_TARGET_TOKENS][o + i - 1] : 0;
        f[T0_DEC_LOSS_WEIGHTS][o + i] = 1;
    }
    p->enc_used += k_in, p->dec_used += k_tg;
    p->enc_tokens += k_in, p->dec_tokens += k_tg;
}

int t0_packer_empty(const t0_packer *p)
{
    return p->rows_used == 0;
}

void t0_packer_batch(t0_packer *p, t0_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->kind = T0_KIND_BATCH;
    rec->rows = p->rows, rec->enc_len = p->enc_len, rec->dec_len = p->dec_len;
    for (int f = 0; f < T0_BATCH_FEATURES; f++)
        rec->feature[f] = p->feature[f];
    p->batches++;
    p->rows_out += p->rows_used;
}

void t0_packer_clear(t0_packer *p)
{
    /* Only the rows used hold anything: padding stays 0 everywhere else. */
    size_t used = p->rows_used;
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        size_t len = f < T0_DEC_TARGET_TOKENS ? p->enc_len : p->dec_len;
        memset(p->feature[f], 0, used * len * sizeof(int32_t));
    }
    p->row = p->rows_used = p->enc_used = p->dec_used = 0;
    p->segments = 0;
}

static int write_batch(t0_packer *p, t0_writer *w, const t0_pack_job *job, t0_error *err)
{
    t0_record rec;
    t0_packer_batch(p, &rec);
    if (t0_writer_write(w, &rec, err))
        return -1;
    t0_packer_clear(p);
    if (job->on_batch)
        job->on_batch(job->arg, p);
    return 0;
}

int t0_pack_source(t0_packer *p, const t0_example_source *src, t0_writer *w, const t0_pack_job *job,
                   uint64_t *packed, t0_error *err)
{
    for (;;) {
        if (job->batches && p->batches >= job->batches)
            return 0;
        t0_mix_example ex;
        int got = src->next(src->arg, &ex, err);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        if (!t0_packer_fits(p, ex.n_input, ex.n_target)) {
            if (write_batch(p, w, job, err))
                return -1;
            if (job->batches && p->batches >= job->batches)
                return 0; /* the example drawn last goes into no batch */
        }
        t0_packer_add(p, ex.input, ex.n_input, ex.target, ex.n_target);
        if (packed)
            packed[ex.task]++;
    }
    if (!t0_packer_empty(p))
        return write_batch(p, w, job, err);
    return 0;
}

/* The mixture as a source: endless, or `draws` examples for a job without a batch count. */
typedef struct {
    t0_mixture *m;
    uint64_t left; /* UINT64_MAX: no end */
} mixture_draws;

static int next_draw(void *arg, t0_mix_example *ex, t0_error *err)
{
    mixture_draws *d = arg;
    if (d->left == 0)
        return 0;
    if (d->left != UINT64_MAX)
        d->left--;
    return t0_mixture_next(d->m, ex, err) ? -1 : 1;
}

int t0_pack_run(t0_packer *p, t0_mixture *m, t0_writer *w, const t0_pack_job *job, uint64_t *packed,
                t0_error *err)
{
    mixture_draws d = {m, job->batches ? UINT64_MAX : job->draws};
    t0_example_source src = {next_draw, &d};
    return t0_pack_source(p, &src, w, job, packed, err);
}
