/* t0-step: train a T5 model on batch records, T0's recipe (lib/train/train_run.h). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/progress.h"
#include "t5/blas.h"
#include "t5/t5_ops.h"
#include "train/dist.h"
#include "train/train_run.h"
#include "train/trainlog.h"

static const char *prog = "t0-step";

static const char usage[] =
    "Usage: t0-step -m MODEL_DIR -o OUT_DIR [OPTIONS] [FILE...]\n"
    "       t0-step --resume [-m MODEL_DIR] -o OUT_DIR [OPTIONS] [FILE...]\n"
    "Train a T5 model on batch records (t0-pack's) from the FILEs (read in order as one stream;\n"
    "'-' or none: standard input): one optimizer\n"
    "step per batch, or per K batches with --accum K. T0's recipe by default: Adafactor at a\n"
    "constant 1e-3, dropout 0.1, z-loss 1e-4, loss over the constant target size of a step.\n"
    "\n"
    "  -m, --model DIR         the model to start from (Hugging Face folder: config.json,\n"
    "                          model.safetensors or pytorch_model.bin, tokenizer files)\n"
    "  -o, --output DIR        OUT_DIR: checkpoint-STEP/ folders, each a Hugging Face model folder\n"
    "                          with the optimizer state beside; OUT_DIR's own files show the latest\n"
    "      --resume            continue OUT_DIR's run from its newest complete checkpoint: weights,\n"
    "                          optimizer, step, dropout stream; skips the batches it consumed (feed\n"
    "                          the same stream again); options not given keep the run's values;\n"
    "                          -m may stay when it names the model the run started from\n"
    "      --optimizer NAME    adafactor (default) or adamw\n"
    "      --lr X              learning rate, the schedule's peak (default 1e-3 for adafactor,\n"
    "                          1e-4 for adamw, 1/sqrt(K) for rsqrt)\n"
    "      --schedule NAME     the lr of each step, s the steps taken before it (resumes counted,\n"
    "                          not --step-offset): constant (default, T0's), linear (from --lr at\n"
    "                          the warmup's end to --end-lr at --decay-steps), cosine (the same\n"
    "                          ends, half a cosine), rsqrt (--lr x sqrt(K / max(g, K)), g the global\n"
    "                          step: T5's pretraining 1/sqrt(max(g, 10000)) with the default lr)\n"
    "      --warmup N          first N steps: the schedule's lr x s/N (0 at the first step, as\n"
    "                          transformers' schedules with warmup)\n"
    "      --decay-steps T     linear, cosine: the step where --end-lr is reached (default --steps)\n"
    "      --end-lr X          linear, cosine: the lr from step T on (default 0)\n"
    "      --rsqrt-steps K     rsqrt: its plateau (default 10000, T5's)\n"
    "      --no-scale-parameter  Adafactor: updates not scaled by RMS(param) (Mesh TF's\n"
    "                          multiply_by_parameter_scale=False; HF's scale_parameter=False)\n"
    "      --relative-step     Adafactor: lr = min(1e-2, 1/sqrt(global step + 1)) in place of --lr\n"
    "                          and --schedule (Mesh TF's default lr; HF's relative_step=True)\n"
    "      --factor-min-dim N  Adafactor factors a matrix whose smaller side is >= N (default 128)\n"
    "      --weight-decay X    AdamW's decoupled weight decay (default 0.01)\n"
    "      --step-offset N     the global step the model has already taken (T0: 1100000)\n"
    "      --accum K           batches a step (T0's 1024 rows: 1024/R batches of R rows); under\n"
    "                          mpirun -np N, batches a step per rank: a step is N x K batches\n"
    "      --dropout X         dropout rate, replaces the config's dropout_rate (default 0.1)\n"
    "      --z-loss X          z-loss coefficient (default 1e-4)\n"
    "      --seed S            dropout seed (default 0)\n"
    "      --steps N           stop once the run has taken N steps (resumes included)\n"
    "      --save-every N      also save a checkpoint every N steps (default: only at the end)\n"
    "      --keep N            keep the N newest checkpoints (default: all)\n"
    "      --save-dtype TYPE   f32 (default) or bf16 weights (resuming from bf16 is not exact)\n"
    "      --precision P       the products' operands: f32 (default) or bf16 (rounded to BF16, sums,\n"
    "                          weights, gradients and optimizer in F32; needs AVX-512 BF16, else\n"
    "                          one line says so and the run uses F32; T0_BF16_EMULATE=1 emulates it,\n"
    "                          slower than F32, to test or measure the numerics). A checkpoint\n"
    "                          keeps it, so --resume continues in the run's precision\n"
    "      --threads T         threads (default: the online CPUs, shared among the ranks mpirun\n"
    "                          starts on a machine)\n"
    "      --log FILE          the TSV log (default OUT_DIR/loss.tsv): step, loss, cross_entropy,\n"
    "                          z_loss, tokens, tokens_per_s, lr, grad_norm, seconds,\n"
    "                          ce_per_target_token (loss and cross_entropy are T0's, over the\n"
    "                          step's target slots; ce_per_target_token over its real target tokens)\n"
    "      --plot FILE.png     redraw the loss curve (gnuplot) at each save\n"
    "      --plot-logx         ... with a log-scale step axis\n"
    "      --progress          progress on stderr from the start: step/N, loss, cross-entropy per\n"
    "                          target token, tokens/s, ETA (default: a rewritten line on a terminal;\n"
    "                          elsewhere, past 10 s, a line at each tenth of --steps, or a minute)\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n"
    "Each step's lr is the log's lr column; a checkpoint keeps the schedule, so --resume\n"
    "continues it (options given on resuming replace the run's).\n"
    "\n"
    "Example:\n"
    "  t0-pack --input-len 1024 --target-len 256 --rows 8 --mixture t0.tsv --seed 1 |\n"
    "      t0-step -m t5-lm-adapted -o run --step-offset 1100000 --accum 128 --save-every 100\n"
    "  mpirun -np 4 --hostfile hosts t0-step -m t5-lm-adapted -o run --accum 32 batches.t0\n"
    "      (data parallel: rank r trains on batches r, r+4, ...; rank 0 writes checkpoints and\n"
    "      the log; README \"Training across machines\")\n";

typedef struct {
    int asked; /* --progress */
    t0_progress progress;
} ui;

static void on_note(void *ctx, const char *line)
{
    ui *u = ctx;
    t0_progress_note(&u->progress, "%s", line);
}

static void on_warn(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s: %s\n", prog, line);
}

static void on_step(void *ctx, const train_progress *p)
{
    ui *u = ctx;
    if (!t0_progress_due(&u->progress, (uint64_t)p->steps))
        return;
    char total[32] = "", eta[48] = "";
    if (p->max_steps)
        snprintf(total, sizeof total, "/%lld", (long long)p->max_steps);
    if (p->eta_s >= 0) {
        char hms[32];
        t0_format_duration(p->eta_s, hms, sizeof hms);
        snprintf(eta, sizeof eta, "  ETA %s", hms);
    }
    t0_progress_show(&u->progress, "step %lld%s (global %lld)  loss %.4f  cross-entropy/token %.4f  %.0f tokens/s%s",
                     (long long)p->steps, total, (long long)p->step, p->loss, p->ce_per_target, p->tokens_per_s,
                     eta);
}

/* a float option in [min, max]: 0, or the usage error's exit status */
static int float_option(const char *s, double min, double max, const char *opt, float *v)
{
    double x;
    t0_error err = {0};
    if (t0_parse_float(s, min, max, opt, &x, &err))
        return t0_cli_usage_error(prog, "%s", err.msg);
    *v = (float)x;
    return 0;
}

/* What the schedule options leave to defaults: linear and cosine end at --steps, rsqrt's peak
 * is T5's 1/sqrt(K) (neither counts as given: a resumed run keeps its own). Conflicts: one line. */
static int schedule_defaults(train_run_opts *r)
{
    lr_schedule *s = &r->o.schedule;
    unsigned schedule_flags = TRAIN_GIVEN_SCHEDULE | TRAIN_GIVEN_WARMUP | TRAIN_GIVEN_DECAY_STEPS |
                              TRAIN_GIVEN_END_LR | TRAIN_GIVEN_RSQRT_STEPS | TRAIN_GIVEN_LR;
    if (r->o.relative_step && (r->given & schedule_flags))
        return t0_cli_usage_error(prog, "--relative-step sets the lr itself: no --lr or schedule options");
    if ((r->o.relative_step || !r->o.scale_parameter) && r->o.optimizer == TRAIN_ADAMW)
        return t0_cli_usage_error(prog, "--relative-step and --no-scale-parameter are Adafactor's");
    if (!(r->given & TRAIN_GIVEN_DECAY_STEPS) && r->max_steps)
        s->decay_steps = r->max_steps;
    if (s->kind == LR_RSQRT && !(r->given & TRAIN_GIVEN_LR))
        r->o.lr = (float)(1.0 / sqrt((double)s->rsqrt_steps));
    return 0;
}

enum { O_RESUME = 256, O_OPT, O_LR, O_FMD, O_WD, O_OFFSET, O_ACCUM, O_DROPOUT, O_ZLOSS, O_SEED, O_STEPS, O_EVERY,
       O_KEEP, O_DTYPE, O_PRECISION, O_THREADS, O_LOG, O_PLOT, O_LOGX, O_PROGRESS, O_SCHEDULE, O_WARMUP, O_DECAY_STEPS,
       O_END_LR, O_RSQRT_STEPS, O_NO_SCALE, O_RELATIVE };

/* Under mpirun: rank 0's last words when the launcher ends the job because another rank
 * failed or died, or mpirun was interrupted (Open MPI sends SIGTERM, then SIGKILL). Only
 * async-signal-safe calls. */
static char term_msg[4200];
static void on_term(int sig)
{
    (void)sig;
    ssize_t w = write(2, term_msg, strlen(term_msg));
    (void)w;
    _exit(1);
}

static int run(int argc, char **argv, t0_dist *d, const char *blas_note)
{
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},         {"output", required_argument, 0, 'o'},
        {"resume", no_argument, 0, O_RESUME},         {"optimizer", required_argument, 0, O_OPT},
        {"lr", required_argument, 0, O_LR},           {"factor-min-dim", required_argument, 0, O_FMD},
        {"weight-decay", required_argument, 0, O_WD}, {"step-offset", required_argument, 0, O_OFFSET},
        {"accum", required_argument, 0, O_ACCUM},     {"dropout", required_argument, 0, O_DROPOUT},
        {"z-loss", required_argument, 0, O_ZLOSS},    {"seed", required_argument, 0, O_SEED},
        {"steps", required_argument, 0, O_STEPS},     {"save-every", required_argument, 0, O_EVERY},
        {"keep", required_argument, 0, O_KEEP},       {"save-dtype", required_argument, 0, O_DTYPE},
        {"precision", required_argument, 0, O_PRECISION},
        {"threads", required_argument, 0, O_THREADS}, {"log", required_argument, 0, O_LOG},
        {"plot", required_argument, 0, O_PLOT},       {"plot-logx", no_argument, 0, O_LOGX},
        {"progress", no_argument, 0, O_PROGRESS},     {"help", no_argument, 0, 'h'},
        {"schedule", required_argument, 0, O_SCHEDULE}, {"warmup", required_argument, 0, O_WARMUP},
        {"decay-steps", required_argument, 0, O_DECAY_STEPS}, {"end-lr", required_argument, 0, O_END_LR},
        {"rsqrt-steps", required_argument, 0, O_RSQRT_STEPS},
        {"no-scale-parameter", no_argument, 0, O_NO_SCALE}, {"relative-step", no_argument, 0, O_RELATIVE},
        {"version", no_argument, 0, 'V'},             {0, 0, 0, 0}};
    train_run_opts r = {0};
    trainer_defaults(&r.o);
    ui u = {0};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t v, threads = cpus > 0 ? cpus : 1;
    if (d->size > 1) /* the ranks on this machine share its cores */
        threads = threads / dist_local_size() > 0 ? threads / dist_local_size() : 1;
    t0_error err = {0};
    int c;
    while ((c = getopt_long(argc, argv, "m:o:hV", longopts, NULL)) != -1) {
        int64_t lo = 0, hi = INT64_MAX;
        const char *name = NULL;
        switch (c) { /* integer options: their range and name */
        case O_FMD: name = "--factor-min-dim", hi = 1 << 30; break;
        case O_OFFSET: name = "--step-offset"; break;
        case O_ACCUM: name = "--accum", lo = 1, hi = 1 << 20; break;
        case O_SEED: name = "--seed"; break;
        case O_STEPS: name = "--steps", lo = 1; break;
        case O_EVERY: name = "--save-every", lo = 1; break;
        case O_KEEP: name = "--keep", lo = 1, hi = 1 << 30; break;
        case O_THREADS: name = "--threads", lo = 1, hi = T5_MAX_THREADS; break;
        case O_WARMUP: name = "--warmup"; break;
        case O_DECAY_STEPS: name = "--decay-steps", lo = 1; break;
        case O_RSQRT_STEPS: name = "--rsqrt-steps", lo = 1; break;
        }
        if (name && t0_parse_int(optarg, lo, hi, name, &v, &err))
            return t0_cli_report(prog, &err);
        switch (c) {
        case 'm': r.model_dir = optarg; break;
        case 'o': r.out_dir = optarg; break;
        case O_RESUME: r.resume = 1; break;
        case O_OPT:
            if (strcmp(optarg, "adafactor") && strcmp(optarg, "adamw"))
                return t0_cli_usage_error(prog, "--optimizer: expected adafactor or adamw, got '%s'", optarg);
            r.o.optimizer = strcmp(optarg, "adamw") ? TRAIN_ADAFACTOR : TRAIN_ADAMW;
            r.given |= TRAIN_GIVEN_OPTIMIZER;
            break;
        case O_LR:
            if (float_option(optarg, 1e-12, 10, "--lr", &r.o.lr))
                return 1;
            r.given |= TRAIN_GIVEN_LR;
            break;
        case O_WD:
            if (float_option(optarg, 0, 1, "--weight-decay", &r.o.weight_decay))
                return 1;
            r.given |= TRAIN_GIVEN_WEIGHT_DECAY;
            break;
        case O_DROPOUT:
            if (float_option(optarg, 0, 0.99, "--dropout", &r.o.dropout))
                return 1;
            r.given |= TRAIN_GIVEN_DROPOUT;
            break;
        case O_ZLOSS:
            if (float_option(optarg, 0, 1, "--z-loss", &r.o.z_loss))
                return 1;
            r.given |= TRAIN_GIVEN_Z_LOSS;
            break;
        case O_FMD: r.o.factor_min_dim = (int)v, r.given |= TRAIN_GIVEN_FACTOR_MIN_DIM; break;
        case O_OFFSET: r.o.step_offset = v, r.given |= TRAIN_GIVEN_STEP_OFFSET; break;
        case O_ACCUM: r.o.accum = (int)v, r.given |= TRAIN_GIVEN_ACCUM; break;
        case O_SEED: r.o.seed = (uint64_t)v, r.given |= TRAIN_GIVEN_SEED; break;
        case O_STEPS: r.max_steps = v; break;
        case O_EVERY: r.save_every = v; break;
        case O_KEEP: r.keep = (int)v; break;
        case O_THREADS: threads = v; break;
        case O_DTYPE:
            if (strcmp(optarg, "f32") && strcmp(optarg, "bf16"))
                return t0_cli_usage_error(prog, "--save-dtype: expected f32 or bf16, got '%s'", optarg);
            r.bf16 = !strcmp(optarg, "bf16");
            break;
        case O_PRECISION:
            if (strcmp(optarg, "f32") && strcmp(optarg, "bf16"))
                return t0_cli_usage_error(prog, "--precision: expected f32 or bf16, got '%s'", optarg);
            r.o.precision = strcmp(optarg, "bf16") ? TRAIN_F32 : TRAIN_BF16;
            r.given |= TRAIN_GIVEN_PRECISION;
            break;
        case O_SCHEDULE:
            if (lr_kind_parse(optarg, &r.o.schedule.kind))
                return t0_cli_usage_error(prog, "--schedule: expected constant, linear, cosine or rsqrt, got '%s'",
                                          optarg);
            r.given |= TRAIN_GIVEN_SCHEDULE;
            break;
        case O_WARMUP: r.o.schedule.warmup = v, r.given |= TRAIN_GIVEN_WARMUP; break;
        case O_DECAY_STEPS: r.o.schedule.decay_steps = v, r.given |= TRAIN_GIVEN_DECAY_STEPS; break;
        case O_RSQRT_STEPS: r.o.schedule.rsqrt_steps = v, r.given |= TRAIN_GIVEN_RSQRT_STEPS; break;
        case O_END_LR: {
            char *end;
            r.o.schedule.end = strtod(optarg, &end);
            if (end == optarg || *end || !(r.o.schedule.end >= 0 && r.o.schedule.end <= 10))
                return t0_cli_usage_error(prog, "--end-lr: expected a number in [0, 10], got '%s'", optarg);
            r.given |= TRAIN_GIVEN_END_LR;
            break;
        }
        case O_NO_SCALE: r.o.scale_parameter = 0, r.given |= TRAIN_GIVEN_SCALE_PARAMETER; break;
        case O_RELATIVE: r.o.relative_step = 1, r.given |= TRAIN_GIVEN_RELATIVE_STEP; break;
        case O_LOG: r.log_path = optarg; break;
        case O_PLOT: r.plot_path = optarg; break;
        case O_LOGX: r.plot_logx = 1; break;
        case O_PROGRESS: u.asked = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
    }
    r.inputs = argv + optind, r.n_inputs = argc - optind;
    int reads_stdin = r.n_inputs == 0;
    for (int i = 0; i < r.n_inputs; i++)
        reads_stdin |= !strcmp(r.inputs[i], "-");
    if (!r.out_dir)
        return t0_cli_usage_error(prog, "-o OUT_DIR is required");
    if (!r.resume && !r.model_dir)
        return t0_cli_usage_error(prog, "-m MODEL_DIR is required (or --resume)");
    if (r.o.optimizer == TRAIN_ADAMW && !(r.given & TRAIN_GIVEN_LR))
        r.o.lr = 1e-4f;
    if (schedule_defaults(&r) != 0)
        return 1;
    if (r.plot_path && !trainlog_plot_available())
        return t0_cli_usage_error(prog, "--plot needs gnuplot (Debian: gnuplot-nox), which does not run here");
    if (!r.plot_path && r.plot_logx)
        return t0_cli_usage_error(prog, "--plot-logx goes with --plot FILE.png");
    if (d->size > 1 && reads_stdin)
        return t0_cli_usage_error(prog, "under mpirun, give the batch stream as FILE: mpirun passes standard input "
                                        "to rank 0 only");
    /* --accum K is per process: a step is N x K batches on N ranks */
    r.o.accum *= d->size;
    r.dist = d;
    if (d->size > 1 && d->rank == 0) {
        snprintf(term_msg, sizeof term_msg,
                 "%s: rank 0: stopped by the MPI launcher (another rank failed or died: its message or the "
                 "launcher's is above; or the job was interrupted); %s/latest is the last complete checkpoint\n",
                 prog, r.out_dir);
        signal(SIGTERM, on_term);
    }
    if (blas_note[0] && d->rank == 0)
        fprintf(stderr, "%s: note: %s\n", prog, blas_note);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit then fails the write, which is reported */
    t5_set_threads((int)threads);
    t5_set_ftz();
    train_events ev = {on_step, on_note, on_warn, &u};
    t0_progress_begin(&u.progress, prog, d->rank == 0 ? t0_progress_mode_default() : T0_PROGRESS_OFF, u.asked,
                      (uint64_t)r.max_steps, "training");
    int rc = train_run(&r, d->rank == 0 ? &ev : NULL, &err); /* rank 0 alone reports progress */
    if (rc == 0)
        t0_progress_end(&u.progress, "%s", r.out_dir);
    if (rc && d->size > 1)
        t0_error_prefix(&err, "rank %d", d->rank);
    return rc ? t0_cli_report(prog, &err) : 0;
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    char blas_note[256] = "";
    if (!t5_blas_fix(argv, blas_note, sizeof blas_note)) /* may re-run this program */
        blas_note[0] = 0;
    /* under mpirun, srun or mpiexec: one rank of a data-parallel run (train/dist.h) */
    t0_dist d;
    t0_error err = {0};
    if (dist_init(&d, &argc, &argv, &err) != 0)
        return t0_cli_report(prog, &err);
    int rc = run(argc, argv, &d, blas_note);
    dist_finish(&d, rc); /* a failing rank ends the whole job */
    return rc;
}
