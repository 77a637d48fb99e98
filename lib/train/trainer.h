/* trainer.h: training steps over batch records (T0's recipe): forward, backward and one
 * optimizer update (Adafactor or AdamW) per step of K micro-batches.
 *
 * A step is K batch records (--accum K) of one shape (rows x enc_len / dec_len, fixed by the
 * first record). Its loss is T0's (Mesh TF): the sum over the step's weighted target
 * positions of cross-entropy + z_loss * logsumexp^2, divided by the constant size of the
 * step's targets, K * rows * dec_len. Every micro-batch is divided by that whole-step
 * denominator, so the gradients summed over the K micro-batches are exactly the gradient
 * of one step over the K-times larger batch.
 *
 * Data parallelism (MPI, train/dist.h): the two places are marked and are the only ones.
 *   - Assignment: process `rank` of `nranks` runs micro-batches rank, rank + nranks, ...
 *     of each step (trainer_step's loop); the others are skipped. accum is the step's
 *     micro-batches over all processes (t0-step --accum K under mpirun -np N: N x K), so
 *     rank r computes the stream's micro-batches r, r + N, ... and one stream feeds any N.
 *   - trainer_reduce_grads: called once a step, after every local micro-batch's backward
 *     and before the gradient norm and the update. When it returns, m->grads holds the
 *     step's complete summed gradient and the step's loss sums are complete. With one
 *     process it does nothing; with MPI it calls t->reduce, which sums m->grads and
 *     trainer_sums over the ranks in rank order (train/dist.h: bit-reproducible, the same
 *     on every rank), so every rank applies the same update.
 *
 * Dropout: each micro-batch's masks come from a seed derived from (seed, global step,
 * micro-batch index), so a resumed run draws the same masks as an uninterrupted one.
 */
#ifndef T0_TRAINER_H
#define T0_TRAINER_H

#include <stdint.h>

#include "common/error.h"
#include "stream/record.h"
#include "t5/t5_model.h"
#include "train/adafactor.h"
#include "train/adamw.h"
#include "train/schedule.h"

typedef enum { TRAIN_ADAFACTOR, TRAIN_ADAMW } train_optimizer;
/* The linear products' operands: F32, or rounded to BF16 with F32 sums (t5_mixed.h; the
 * weights, gradients and optimizer stay F32). BF16 needs a CPU with AVX-512 BF16 or
 * T0_BF16_EMULATE=1; without either the trainer runs F32 products (trainer_precision_used). */
typedef enum { TRAIN_F32, TRAIN_BF16 } train_precision;

typedef struct {
    train_optimizer optimizer;
    float lr;             /* T0: 1e-3 (Adafactor); t-zero's example: 1e-4 (AdamW) */
    int factor_min_dim;   /* Adafactor: factor a matrix whose smaller side is >= this (Mesh TF: 128) */
    float weight_decay;   /* AdamW: 0.01 */
    int64_t step_offset;  /* the global step before the first (T0: 1,100,000); Adafactor's t */
    int accum;            /* micro-batches (batch records) a step */
    float dropout;        /* replaces the config's dropout_rate (T0: 0.1) */
    float z_loss;         /* T0: 1e-4 */
    uint64_t seed;        /* dropout masks */
    lr_schedule schedule; /* the lr of each step from lr (schedule.h; T0: constant) */
    int scale_parameter;  /* Adafactor: updates scaled by RMS(param) (Mesh TF, T0: 1) */
    int relative_step;    /* Adafactor: lr = min(1e-2, 1/sqrt(t + 1)), in place of lr and schedule */
    train_precision precision; /* F32 by default (T0 itself ran BF16 activations, on TPUs) */
} trainer_opts;

/* T0's: Adafactor, lr 1e-3 constant, min dim 128, no offset, accum 1, dropout 0.1, z-loss 1e-4,
 * seed 0, parameter scale, no relative step */
void trainer_defaults(trainer_opts *o);

/* The loss sums of a step; what trainer_reduce_grads adds up across processes. */
typedef struct {
    double loss, ce, zl; /* already divided by the step's denominator */
    double tokens;       /* non-padding input + target tokens (segment id != 0) */
    double targets;      /* the target positions with a loss weight (the sum of the weights) */
} trainer_sums;

/* Sums a step's gradients (n floats) and loss sums (TRAINER_SUMS doubles: loss, ce, zl,
 * tokens, targets) over
 * the processes of a data-parallel run, in place; the same result on every process.
 * train_run sets it from train/dist.h; kept a hook so that the trainer, and what links it,
 * needs no MPI. */
enum { TRAINER_SUMS = 5 };
typedef int (*trainer_reduce_fn)(void *ctx, float *grads, size_t n, double *sums, t0_error *err);

typedef struct {
    t5_model *m; /* not owned */
    trainer_opts o;
    adafactor *af;
    adamw *aw;
    /* every tensor's parameter and gradient as F32 handles into m's arenas (spec order), what
     * the optimizer updates; the arenas stay packed for the gradient sum across ranks */
    t5_weight *param_views, *grad_views;
    int64_t steps;   /* optimizer steps taken, over every run (resume included) */
    int64_t batches; /* batch records consumed by those steps */
    int rows, enc_len, dec_len; /* the stream's shape; 0 before the first batch */
    int rank, nranks;           /* data parallelism: 0 and 1 for one process */
    trainer_reduce_fn reduce;   /* data parallelism: the sum over processes; NULL for one */
    void *reduce_ctx;
    /* the micro-batches of the step being collected */
    int have;
    int32_t *buf; /* accum x (3 rows*enc_len + 5 rows*dec_len) */
    /* the last step */
    trainer_sums last;
    double grad_norm;
    double lr; /* the lr the last step used (before Adafactor's parameter scale) */
} trainer;

/* The precision the products of a run asking for p get on this CPU: BF16 falls back to F32
 * where no kernel runs BF16 products (t5_model_mixed_kernel() NULL). */
train_precision trainer_precision_used(train_precision p);

/* A trainer over m (parameters loaded). Sets m's dropout rate to o->dropout and its products'
 * precision to trainer_precision_used(o->precision). */
trainer *trainer_create(t5_model *m, const trainer_opts *o, t0_error *err);
void trainer_free(trainer *t);

/* The cross-entropy per real target token (what transformers' loss reads, T0's being per
 * target slot, filled or not) of a step of k micro-batches: ce * k * rows * dec_len / targets. */
double trainer_ce_per_target(const trainer *t, const trainer_sums *s, int k);

/* The global step: step_offset + steps. */
int64_t trainer_global_step(const trainer *t);

/* Checks a record is a batch of the stream's shape (the first fixes it, or the shape a
 * resumed run saved) whose token ids fit the vocabulary; T0_EINPUT messages. */
int trainer_check(trainer *t, const t0_record *rec, t0_error *err);

/* Fixes the stream's shape (as the first batch would): for a resumed run. */
int trainer_set_shape(trainer *t, int rows, int enc_len, int dec_len, t0_error *err);

/* Takes one batch record (copied; checked as trainer_check does). When it completes a
 * step's accum micro-batches, runs the step and sets *stepped to 1. */
int trainer_feed(trainer *t, const t0_record *rec, int *stepped, t0_error *err);

/* One step over k micro-batches of the trainer's shape (k = accum, or fewer in tests). */
int trainer_step(trainer *t, const t5_batch *mb, int k, t0_error *err);

/* Completes the step's summed gradients (m->grads) and sums across processes; see above. */
int trainer_reduce_grads(trainer *t, trainer_sums *s, t0_error *err);


/* The optimizer's state file (safetensors) and back; the step counts come with the trainer
 * state (checkpoint.h). */
int trainer_save_optimizer(const trainer *t, const char *path, t0_error *err);
int trainer_load_optimizer(trainer *t, const char *path, t0_error *err);

/* The dropout seed of micro-batch i of global step `step`. */
uint64_t trainer_dropout_seed(uint64_t seed, int64_t step, int i);

#endif
