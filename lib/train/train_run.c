/* train_run.c: see train_run.h. */
#include "train/train_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/progress.h"
#include "stream/stream.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/trainlog.h"

static void note(const train_events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const train_events *ev, const char *fmt, ...)
{
    if (!ev || !ev->note)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ev->note(ev->ctx, line);
}

/* the options of a resumed run: the checkpoint's, except those the user gave */
static trainer_opts merged(const train_run_opts *r, const ckpt_state *s)
{
    trainer_opts o = s->o;
    const trainer_opts *u = &r->o;
    if (r->given & TRAIN_GIVEN_LR)
        o.lr = u->lr;
    if (r->given & TRAIN_GIVEN_FACTOR_MIN_DIM)
        o.factor_min_dim = u->factor_min_dim;
    if (r->given & TRAIN_GIVEN_WEIGHT_DECAY)
        o.weight_decay = u->weight_decay;
    if (r->given & TRAIN_GIVEN_ACCUM)
        o.accum = u->accum;
    if (r->given & TRAIN_GIVEN_DROPOUT)
        o.dropout = u->dropout;
    if (r->given & TRAIN_GIVEN_Z_LOSS)
        o.z_loss = u->z_loss;
    if (r->given & TRAIN_GIVEN_SEED)
        o.seed = u->seed;
    if (r->given & TRAIN_GIVEN_SCHEDULE)
        o.schedule.kind = u->schedule.kind;
    if (r->given & TRAIN_GIVEN_WARMUP)
        o.schedule.warmup = u->schedule.warmup;
    if ((r->given & TRAIN_GIVEN_DECAY_STEPS) || o.schedule.decay_steps == 0) /* or --steps' */
        o.schedule.decay_steps = u->schedule.decay_steps;
    if (r->given & TRAIN_GIVEN_END_LR)
        o.schedule.end = u->schedule.end;
    if (r->given & TRAIN_GIVEN_RSQRT_STEPS)
        o.schedule.rsqrt_steps = u->schedule.rsqrt_steps;
    if (r->given & TRAIN_GIVEN_SCALE_PARAMETER)
        o.scale_parameter = u->scale_parameter;
    if (r->given & TRAIN_GIVEN_RELATIVE_STEP)
        o.relative_step = u->relative_step;
    if (r->given & TRAIN_GIVEN_PRECISION)
        o.precision = u->precision;
    return o;
}

typedef struct {
    t5_model *m;
    trainer *t;
    ckpt_assets assets;
    t0_reader *in;
    trainlog log;
    char log_path[4096];
    char origin[4096]; /* the model folder the run started from (real path), "" when unknown */
    int made_out; /* this run made OUT_DIR and has saved nothing yet */
    int lock;     /* ckpt_lock's descriptor on OUT_DIR */
} run_state;

/* whole file into a malloc'd buffer; NULL when it cannot be read */
static char *slurp(const char *dir, const char *name, long *len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)*len + 1)) && fread(p, 1, (size_t)*len, f) != (size_t)*len) {
        free(p);
        p = NULL;
    }
    if (f)
        fclose(f);
    return p;
}

/* --resume with -m (the same command line again, --resume added): model_dir must be the model
 * the run started from, as its trainer_state.json records it; a checkpoint that does not
 * record it (older runs) takes a model folder with the checkpoint's config.json */
static int same_origin(const char *model_dir, const char *ckpt, const ckpt_state *st, t0_error *err)
{
    char real[4096];
    if (!model_dir)
        return 0;
    if (!realpath(model_dir, real))
        return t0_fail(err, T0_EINPUT, "-m %s: %s", model_dir, strerror(errno));
    if (st->model[0])
        return strcmp(real, st->model) == 0
                   ? 0
                   : t0_fail(err, T0_EINPUT, "--resume: -m %s is not the model the run started from (%s, in %s/"
                             "trainer_state.json); give that one, or no -m", model_dir, st->model, ckpt);
    long a = 0, b = 0;
    char *mine = slurp(model_dir, "config.json", &a), *run = slurp(ckpt, "config.json", &b);
    int same = mine && run && a == b && memcmp(mine, run, (size_t)a) == 0;
    free(mine), free(run);
    return same ? 0
                : t0_fail(err, T0_EINPUT, "--resume: -m %s: its config.json is not the run's (%s/config.json): "
                          "not the model the run started from; give no -m", model_dir, ckpt);
}

/* model, trainer and assets of a fresh run or of the checkpoint resumed */
static int start(run_state *s, const train_run_opts *r, const train_events *ev, t0_error *err)
{
    char last[4096] = "";
    int rank = r->dist ? r->dist->rank : 0;
    /* rank 0 alone locks and checks OUT_DIR and removes what killed saves left; the others
     * learn the checkpoint to resume from it */
    if (rank == 0 && ckpt_prepare(r->out_dir, r->resume, last, sizeof last, &s->lock, err) != 0)
        return -1;
    if (r->dist && dist_bcast(r->dist, last, sizeof last, err) != 0)
        return -1;
    if (!r->resume) {
        if (!realpath(r->model_dir, s->origin))
            s->origin[0] = 0;
        if (!(s->m = t5_model_open(r->model_dir, err))) {
            if (!strstr(err->msg, r->model_dir)) /* messages name the file, except out of memory */
                t0_error_prefix(err, "%s", r->model_dir);
            return -1;
        }
        if (lr_schedule_check(&r->o.schedule, err) || ckpt_assets_read(r->model_dir, &s->assets, err) ||
            !(s->t = trainer_create(s->m, &r->o, err)))
            return -1;
        if (rank != 0)
            return 0;
        if (mkdir(r->out_dir, 0755) == 0)
            s->made_out = 1;
        else if (errno != EEXIST)
            return t0_fail(err, T0_EINPUT, "%s: %s", r->out_dir, strerror(errno));
        return (s->lock = ckpt_lock(r->out_dir, err)) < 0 ? -1 : 0;
    }
    ckpt_state st;
    if (ckpt_read_state(last, &st, err) != 0 || same_origin(r->model_dir, last, &st, err) != 0)
        return -1;
    snprintf(s->origin, sizeof s->origin, "%s", st.model);
    if ((r->given & TRAIN_GIVEN_OPTIMIZER) && r->o.optimizer != st.o.optimizer)
        return t0_fail(err, T0_EINPUT, "%s: the run was trained with %s; resume it with the same optimizer", last,
                       st.o.optimizer == TRAIN_ADAFACTOR ? "adafactor" : "adamw");
    if ((r->given & TRAIN_GIVEN_STEP_OFFSET) && r->o.step_offset != st.o.step_offset)
        return t0_fail(err, T0_EINPUT, "%s: the run started at step offset %lld, not %lld", last,
                       (long long)st.o.step_offset, (long long)r->o.step_offset);
    trainer_opts o = merged(r, &st);
    if (lr_schedule_check(&o.schedule, err) != 0)
        return -1;
    char opt[4200];
    snprintf(opt, sizeof opt, "%s/optimizer.safetensors", last);
    if (!(s->m = t5_model_open(last, err)) || ckpt_assets_read(last, &s->assets, err) ||
        !(s->t = trainer_create(s->m, &o, err)) || trainer_load_optimizer(s->t, opt, err) ||
        trainer_set_shape(s->t, st.rows, st.enc_len, st.dec_len, err))
        return -1;
    s->t->steps = st.steps;
    s->t->batches = st.batches;
    note(ev, "resuming %s: step %lld, skipping the %lld batches it consumed", last,
         (long long)trainer_global_step(s->t), (long long)st.batches);
    return 0;
}

/* the trainer's sum over ranks (trainer_reduce_fn): gradients and loss sums in rank order */
static int reduce_ranks(void *ctx, float *grads, size_t n, double *sums, t0_error *err)
{
    t0_dist *d = ctx;
    return dist_sum_floats(d, grads, n, err) != 0 || dist_sum_doubles(d, sums, TRAINER_SUMS, err) != 0 ? -1 : 0;
}

/* the ranks of a data-parallel run: each its share of a step, the same weights and counts */
static int join_ranks(run_state *s, const train_run_opts *r, t0_error *err)
{
    trainer *t = s->t;
    if (!r->dist || r->dist->size == 1)
        return 0;
    t->rank = r->dist->rank, t->nranks = r->dist->size;
    t->reduce = reduce_ranks, t->reduce_ctx = r->dist;
    if (t->o.accum < t->nranks)
        return t0_fail(err, T0_EINPUT, "a step of %d batches cannot feed %d ranks: give --accum", t->o.accum,
                       t->nranks);
    int64_t counts[2] = {t->steps, t->batches};
    if (dist_check_same(r->dist, counts, sizeof counts, "checkpoint", err) != 0 ||
        dist_check_same(r->dist, s->m->params, s->m->nfloats * sizeof *s->m->params, "weights", err) != 0)
        return -1;
    return 0;
}

static int skip_consumed(run_state *s, t0_error *err)
{
    t0_record rec;
    for (int64_t i = 0; i < s->t->batches; i++) {
        int rc = t0_reader_next(s->in, &rec, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return t0_fail(err, T0_EINPUT, "%s: ends after %lld batches, but the run resumed has consumed %lld",
                           t0_reader_name(s->in), (long long)i, (long long)s->t->batches);
        if (trainer_check(s->t, &rec, err) != 0) {
            t0_error_prefix(err, "%s: record %llu", t0_reader_name(s->in), (unsigned long long)t0_reader_count(s->in));
            return -1;
        }
    }
    return 0;
}

static int save(run_state *s, const train_run_opts *r, const train_events *ev, t0_error *err)
{
    if (r->dist && r->dist->rank != 0) /* rank 0 alone writes */
        return 0;
    ckpt_opts co = {r->bf16, r->keep, s->origin[0] ? s->origin : NULL};
    char saved[4096];
    if (ckpt_save(r->out_dir, s->t, &s->assets, &co, saved, sizeof saved, err) != 0)
        return -1;
    s->made_out = 0;
    note(ev, "saved %s", saved);
    if (r->plot_path && trainlog_plot(s->log_path, r->plot_path, r->plot_logx, err) != 0)
        return -1;
    return 0;
}

static int loop(run_state *s, const train_run_opts *r, const train_events *ev, t0_error *err)
{
    trainer *t = s->t;
    int64_t first = t->steps, saved_at = t->steps;
    double t0 = t0_now(), tstep = t0;
    t0_record rec;
    int stepped;
    while (!r->max_steps || t->steps < r->max_steps) {
        int rc = t0_reader_next(s->in, &rec, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        if (trainer_feed(t, &rec, &stepped, err) != 0) {
            if (err->status == T0_EINPUT)
                t0_error_prefix(err, "%s: record %llu", t0_reader_name(s->in),
                                (unsigned long long)t0_reader_count(s->in));
            return -1;
        }
        if (!stepped)
            continue;
        double tn = t0_now(), secs = tn - tstep;
        double ce_tok = trainer_ce_per_target(t, &t->last, t->o.accum);
        trainlog_row row = {trainer_global_step(t), t->last.loss, t->last.ce, t->last.zl, t->last.tokens,
                            secs > 0 ? t->last.tokens / secs : 0, t->lr, t->grad_norm, secs, ce_tok};
        if (s->log.f && trainlog_write(&s->log, &row, err) != 0)
            return -1;
        int save_now = r->save_every && t->steps % r->save_every == 0;
        if (save_now) {
            if (save(s, r, ev, err) != 0)
                return -1;
            saved_at = t->steps;
        }
        if (ev && ev->step) {
            double per = (tn - t0) / (double)(t->steps - first);
            train_progress p = {row.step, t->steps, r->max_steps, row.loss, ce_tok, row.tokens_per_s,
                                r->max_steps ? per * (double)(r->max_steps - t->steps) : -1, save_now};
            ev->step(ev->ctx, &p);
        }
        tstep = t0_now(); /* a save's time is not the next step's */
    }
    if (t->have)
        note(ev, "the last %d batches do not fill a step of %d: not used", t->have, t->o.accum);
    if (t->steps == first && !r->resume)
        return t0_fail(err, T0_EINPUT, "%s: no batch records to train on", t0_reader_name(s->in));
    if (t->steps == first)
        note(ev, "no batches beyond those consumed: nothing to do");
    return t->steps > saved_at ? save(s, r, ev, err) : 0;
}

int train_run(const train_run_opts *r, const train_events *ev, t0_error *err)
{
    run_state s = {.lock = -1};
    int rc = start(&s, r, ev, err);
    if (rc == 0 && ev && ev->warn && s.t->o.precision != trainer_precision_used(s.t->o.precision))
        ev->warn(ev->ctx, "--precision bf16: this CPU lacks AVX-512 BF16 (avx512_bf16); training with F32 products "
                          "(T0_BF16_EMULATE=1 emulates BF16, slower than F32)");
    if (rc == 0)
        rc = join_ranks(&s, r, err);
    if (rc == 0 && !(s.in = t0_reader_open_list(r->inputs, r->n_inputs, err)))
        rc = -1;
    if (rc == 0 && (!r->dist || r->dist->rank == 0)) {
        if (r->log_path)
            snprintf(s.log_path, sizeof s.log_path, "%s", r->log_path);
        else
            snprintf(s.log_path, sizeof s.log_path, "%s/loss.tsv", r->out_dir);
        rc = trainlog_open(&s.log, s.log_path, r->resume ? trainer_global_step(s.t) : -1, err);
    }
    if (rc == 0 && r->resume)
        rc = skip_consumed(&s, err);
    if (rc == 0)
        rc = loop(&s, r, ev, err);
    t0_error ignore;
    if (trainlog_close(&s.log, rc ? &ignore : err) != 0 && rc == 0)
        rc = -1;
    if (rc && s.made_out) { /* a fresh run that saved nothing leaves nothing */
        if (!r->log_path)
            unlink(s.log_path);
        rmdir(r->out_dir);
    }
    if (s.lock >= 0)
        close(s.lock);
    t0_reader_close(s.in);
    trainer_free(s.t);
    t5_model_free(s.m);
    ckpt_assets_free(&s.assets);
    return rc;
}
