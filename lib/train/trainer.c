/* trainer.c: see trainer.h. */
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t5/t5_init.h"

void trainer_defaults(trainer_opts *o)
{
    *o = (trainer_opts){.optimizer = TRAIN_ADAFACTOR, .lr = 1e-3f, .factor_min_dim = 128, .weight_decay = 0.01f,
                        .accum = 1, .dropout = 0.1f, .z_loss = 1e-4f, .scale_parameter = 1};
    lr_schedule_defaults(&o->schedule);
}

train_precision trainer_precision_used(train_precision p)
{
    return p == TRAIN_BF16 && t5_model_mixed_kernel() ? TRAIN_BF16 : TRAIN_F32;
}

trainer *trainer_create(t5_model *m, const trainer_opts *o, t0_error *err)
{
    trainer *t = calloc(1, sizeof *t);
    if (!t)
        goto oom;
    t->m = m;
    t->o = *o;
    t->nranks = 1;
    m->cfg.dropout_rate = o->dropout;
    t5_model_set_mixed(m, trainer_precision_used(o->precision) == TRAIN_BF16);
    if (t5_model_alloc_grads(m, err) != 0) {
        free(t);
        return NULL;
    }
    t->param_views = malloc(sizeof(t5_weight) * (size_t)m->nspecs);
    t->grad_views = malloc(sizeof(t5_weight) * (size_t)m->nspecs);
    if (!t->param_views || !t->grad_views) {
        trainer_free(t);
        goto oom;
    }
    t5_model_views(m, m->params, t->param_views);
    t5_model_views(m, m->grads, t->grad_views);
    if (o->optimizer == TRAIN_ADAFACTOR) {
        adafactor_opts ao;
        adafactor_defaults(&ao);
        ao.lr = o->lr;
        ao.min_dim_to_factor = o->factor_min_dim;
        ao.scale_parameter = o->scale_parameter;
        ao.relative_step = o->relative_step;
        if (!(t->af = adafactor_create(m->specs, m->nspecs, &ao, err))) {
            trainer_free(t);
            return NULL;
        }
        adafactor_set_step(t->af, o->step_offset);
    } else {
        adamw_opts wo;
        adamw_defaults(&wo);
        wo.lr = o->lr;
        wo.weight_decay = o->weight_decay;
        if (!(t->aw = adamw_create(m->specs, m->nspecs, &wo, err))) {
            trainer_free(t);
            return NULL;
        }
    }
    return t;
oom:
    t0_fail(err, T0_EINTERNAL, "out of memory");
    return NULL;
}

void trainer_free(trainer *t)
{
    if (!t)
        return;
    adafactor_free(t->af);
    adamw_free(t->aw);
    free(t->param_views);
    free(t->grad_views);
    free(t->buf);
    free(t);
}

int64_t trainer_global_step(const trainer *t)
{
    return t->o.step_offset + t->steps;
}

uint64_t trainer_dropout_seed(uint64_t seed, int64_t step, int i)
{
    uint64_t s = seed ^ 0x5851f42d4c957f2dULL;
    uint64_t x = t5_splitmix64(&s) ^ ((uint64_t)step * 0x9e3779b97f4a7c15ULL);
    x = t5_splitmix64(&x) ^ (uint64_t)i;
    return t5_splitmix64(&x);
}

static size_t batch_ints(const trainer *t)
{
    return 3 * (size_t)t->rows * t->enc_len + 5 * (size_t)t->rows * t->dec_len;
}

/* fixes the stream's shape and sizes the model and the micro-batch buffer for it */
int trainer_set_shape(trainer *t, int rows, int enc_len, int dec_len, t0_error *err)
{
    t->rows = rows, t->enc_len = enc_len, t->dec_len = dec_len;
    if (t5_model_reserve(t->m, rows, enc_len, dec_len, 1, err) != 0)
        return -1;
    free(t->buf);
    t->buf = malloc(sizeof(int32_t) * batch_ints(t) * (size_t)t->o.accum);
    if (!t->buf)
        return t0_fail(err, T0_EINTERNAL, "out of memory for %d batches of %d rows", t->o.accum, rows);
    return 0;
}

static int check_ids(const int32_t *v, size_t n, int vocab, const char *what, t0_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= vocab)
            return t0_fail(err, T0_EINPUT, "%s id %d at row %zu beyond the vocabulary (%d)", what, v[i], i, vocab);
    return 0;
}

int trainer_check(trainer *t, const t0_record *rec, t0_error *err)
{
    if (rec->kind != T0_KIND_BATCH)
        return t0_fail(err, T0_EINPUT, "expected a batch record, got %s (run t0-pack first)", t0_kind_name(rec->kind));
    if (rec->rows == 0 || rec->enc_len == 0 || rec->dec_len == 0)
        return t0_fail(err, T0_EINPUT, "empty batch (%u rows, lengths %u/%u)", rec->rows, rec->enc_len, rec->dec_len);
    if (t->rows && ((int)rec->rows != t->rows || (int)rec->enc_len != t->enc_len || (int)rec->dec_len != t->dec_len))
        return t0_fail(err, T0_EINPUT, "batch of %u rows x %u/%u tokens, but the stream's batches are %d x %d/%d",
                       rec->rows, rec->enc_len, rec->dec_len, t->rows, t->enc_len, t->dec_len);
    int V = t->m->cfg.vocab_size;
    size_t ne = (size_t)rec->rows * rec->enc_len, nd = (size_t)rec->rows * rec->dec_len;
    if (check_ids(rec->feature[T0_ENC_INPUT_TOKENS], ne, V, "encoder token", err) ||
        check_ids(rec->feature[T0_DEC_TARGET_TOKENS], nd, V, "target token", err) ||
        check_ids(rec->feature[T0_DEC_INPUT_TOKENS], nd, V, "decoder input token", err))
        return -1;
    for (size_t i = 0; i < nd; i++)
        if (rec->feature[T0_DEC_LOSS_WEIGHTS][i] < 0)
            return t0_fail(err, T0_EINPUT, "negative loss weight %d", rec->feature[T0_DEC_LOSS_WEIGHTS][i]);
    return 0;
}

/* micro-batch i of the buffer as a t5_batch */
static t5_batch slot(const trainer *t, int i)
{
    size_t ne = (size_t)t->rows * t->enc_len, nd = (size_t)t->rows * t->dec_len;
    int32_t *p = t->buf + (size_t)i * batch_ints(t);
    return (t5_batch){t->rows, t->enc_len, t->dec_len, p, p + ne, p + 2 * ne,
                      p + 3 * ne, p + 3 * ne + nd, p + 3 * ne + 2 * nd, p + 3 * ne + 3 * nd, p + 3 * ne + 4 * nd};
}

int trainer_feed(trainer *t, const t0_record *rec, int *stepped, t0_error *err)
{
    *stepped = 0;
    if (trainer_check(t, rec, err) != 0)
        return -1;
    if (!t->buf && trainer_set_shape(t, (int)rec->rows, (int)rec->enc_len, (int)rec->dec_len, err) != 0)
        return -1;
    size_t ne = (size_t)t->rows * t->enc_len, nd = (size_t)t->rows * t->dec_len;
    int32_t *p = t->buf + (size_t)t->have * batch_ints(t);
    for (int f = 0; f < T0_BATCH_FEATURES; f++) {
        size_t n = f < T0_DEC_TARGET_TOKENS ? ne : nd;
        memcpy(p, rec->feature[f], n * sizeof(int32_t));
        p += n;
    }
    if (++t->have < t->o.accum)
        return 0;
    t5_batch mb[64], *mbs = t->o.accum <= 64 ? mb : malloc(sizeof *mbs * (size_t)t->o.accum);
    if (!mbs)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (int i = 0; i < t->o.accum; i++)
        mbs[i] = slot(t, i);
    int rc = trainer_step(t, mbs, t->o.accum, err);
    if (mbs != mb)
        free(mbs);
    t->have = 0;
    *stepped = rc == 0;
    return rc;
}

static double count_tokens(const t5_batch *b)
{
    double n = 0;
    for (long i = 0; i < (long)b->rows * b->enc_len; i++)
        n += b->enc_seg[i] != 0;
    for (long i = 0; i < (long)b->rows * b->dec_len; i++)
        n += b->dec_seg[i] != 0;
    return n;
}

int trainer_reduce_grads(trainer *t, trainer_sums *s, t0_error *err)
{
    /* one process: m->grads and *s are already the step's sums */
    if (!t->reduce)
        return 0;
    double v[TRAINER_SUMS] = {s->loss, s->ce, s->zl, s->tokens, s->targets};
    if (t->reduce(t->reduce_ctx, t->m->grads, t->m->nfloats, v, err) != 0)
        return -1;
    *s = (trainer_sums){v[0], v[1], v[2], v[3], v[4]};
    return 0;
}

static double count_targets(const t5_batch *b)
{
    double n = 0;
    for (long i = 0; i < (long)b->rows * b->dec_len; i++)
        n += b->dec_weights[i];
    return n;
}

double trainer_ce_per_target(const trainer *t, const trainer_sums *s, int k)
{
    return s->targets > 0 ? s->ce * ((double)k * t->rows * t->dec_len) / s->targets : 0.0;
}

static double grad_norm(const t5_model *m)
{
    double s = 0.0;
    for (size_t i = 0; i < m->nfloats; i++)
        s += (double)m->grads[i] * m->grads[i];
    return sqrt(s);
}

int trainer_step(trainer *t, const t5_batch *mb, int k, t0_error *err)
{
    t5_model *m = t->m;
    if (!t->buf && trainer_set_shape(t, mb[0].rows, mb[0].enc_len, mb[0].dec_len, err) != 0)
        return -1;
    trainer_sums s = {0};
    float den = (float)((double)k * t->rows * t->dec_len); /* T0: the whole step's targets */
    int64_t step = trainer_global_step(t);
    t5_model_zero_grads(m);
    /* data parallelism: this process's share of the step's micro-batches */
    for (int i = t->rank; i < k; i += t->nranks) {
        t5_run run = {1, trainer_dropout_seed(t->o.seed, step, i), t->o.z_loss, den};
        if (t5_forward(m, &mb[i], &run, err) != 0 || t5_backward(m, &mb[i], &run, err) != 0)
            return -1;
        s.loss += m->loss, s.ce += m->ce_loss, s.zl += m->z_loss;
        s.tokens += count_tokens(&mb[i]);
        s.targets += count_targets(&mb[i]);
    }
    if (trainer_reduce_grads(t, &s, err) != 0)
        return -1;
    t->grad_norm = grad_norm(m);
    if (!isfinite(s.loss) || !isfinite(t->grad_norm))
        return t0_fail(err, T0_EINPUT, "step %lld: loss or gradient is not finite (loss %g, gradient norm %g)",
                       (long long)step + 1, s.loss, t->grad_norm);
    float lr = (float)lr_at(&t->o.schedule, t->o.lr, t->steps, step);
    if (t->af) {
        adafactor_set_lr(t->af, lr);
        adafactor_step(t->af, t->param_views, t->grad_views);
        t->lr = adafactor_last_lr(t->af); /* the relative step's, when it has one */
    } else {
        adamw_set_lr(t->aw, lr);
        adamw_step(t->aw, t->param_views, t->grad_views);
        t->lr = lr;
    }
    t->last = s;
    t->steps++;
    t->batches += k;
    return 0;
}

int trainer_save_optimizer(const trainer *t, const char *path, t0_error *err)
{
    return t->af ? adafactor_save(t->af, path, err) : adamw_save(t->aw, path, err);
}

int trainer_load_optimizer(trainer *t, const char *path, t0_error *err)
{
    return t->af ? adafactor_load(t->af, path, err) : adamw_load(t->aw, path, err);
}
