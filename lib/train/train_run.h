/* train_run.h: a whole t0-step run: OUT_DIR checked (checkpoint.h), the model or the
 * checkpoint to resume loaded, batch records read and fed to the trainer (trainer.h), a
 * log line a step (trainlog.h), checkpoints every save_every steps and at the end.
 *
 * Resume: the newest complete checkpoint of OUT_DIR gives the weights, the optimizer state,
 * the step, the dropout seed and the number of batch records consumed; that many records
 * of the input are read and skipped (the same seeded t0-pack stream fed again), and the log
 * loses the lines written after that checkpoint. Options the user did not give
 * (TRAIN_GIVEN_*) take the checkpoint's values, so the same command line continues a run
 * exactly: 6 steps in one run and 3 + 3 resumed give the same bits.
 *
 * Data parallel (dist non-NULL, under mpirun): every rank opens the model or the checkpoint
 * (a filesystem all ranks see) and reads the whole batch stream, computing the gradients of
 * its own micro-batches (trainer.h); rank 0 alone checks and prepares OUT_DIR, writes the log
 * and the checkpoints. The ranks check they hold the same weights before the first step. A
 * checkpoint records the step's micro-batches over all ranks (accum), so a run resumes on
 * any number of ranks: with N' ranks and no --accum, a step is still those micro-batches. */
#ifndef T0_TRAIN_RUN_H
#define T0_TRAIN_RUN_H

#include <stdint.h>

#include "common/error.h"
#include "train/dist.h"
#include "train/trainer.h"

enum {
    TRAIN_GIVEN_OPTIMIZER = 1 << 0,
    TRAIN_GIVEN_LR = 1 << 1,
    TRAIN_GIVEN_FACTOR_MIN_DIM = 1 << 2,
    TRAIN_GIVEN_STEP_OFFSET = 1 << 3,
    TRAIN_GIVEN_ACCUM = 1 << 4,
    TRAIN_GIVEN_DROPOUT = 1 << 5,
    TRAIN_GIVEN_Z_LOSS = 1 << 6,
    TRAIN_GIVEN_SEED = 1 << 7,
    TRAIN_GIVEN_WEIGHT_DECAY = 1 << 8,
    TRAIN_GIVEN_SCHEDULE = 1 << 9, /* the schedule's kind */
    TRAIN_GIVEN_WARMUP = 1 << 10,
    TRAIN_GIVEN_DECAY_STEPS = 1 << 11,
    TRAIN_GIVEN_END_LR = 1 << 12,
    TRAIN_GIVEN_RSQRT_STEPS = 1 << 13,
    TRAIN_GIVEN_SCALE_PARAMETER = 1 << 14,
    TRAIN_GIVEN_RELATIVE_STEP = 1 << 15,
    TRAIN_GIVEN_PRECISION = 1 << 16,
};

typedef struct {
    const char *model_dir; /* a fresh run's model (Hugging Face folder) */
    const char *out_dir;
    char *const *inputs;   /* batch records: n_inputs files read in order as one stream ("-": standard */
    int n_inputs;          /* input); 0: standard input */
    const char *log_path;  /* NULL: OUT_DIR/loss.tsv */
    const char *plot_path; /* NULL: no plot; else a PNG redrawn at each save */
    int plot_logx;
    trainer_opts o;
    unsigned given;        /* TRAIN_GIVEN_* */
    int resume, bf16, keep;
    int64_t max_steps;     /* stop once the run has taken this many steps in all (resumes included); 0: at end of input */
    int64_t save_every;    /* 0: only at the end */
    t0_dist *dist;         /* NULL: one process */
} train_run_opts;

typedef struct {
    int64_t step, steps, max_steps; /* global step; steps taken of max_steps (0: unknown) */
    double loss, ce_per_target, tokens_per_s, eta_s; /* T0's loss, cross-entropy per real target token; eta_s < 0: unknown */
    int saved;                         /* a checkpoint was written after this step */
} train_progress;

/* Called after every step, and with one line of news (resumed from, skipped, ...); warn:
 * one line the user must see whatever the progress mode (BF16 asked for, F32 run). */
typedef struct {
    void (*step)(void *ctx, const train_progress *p);
    void (*note)(void *ctx, const char *line);
    void (*warn)(void *ctx, const char *line);
    void *ctx;
} train_events;

/* Runs the training. On failure nothing a previous save wrote is touched, and a fresh run
 * that saved nothing removes the OUT_DIR it made. */
int train_run(const train_run_opts *r, const train_events *ev, t0_error *err);

#endif
