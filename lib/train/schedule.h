/* schedule.h: learning-rate schedules, the lr of each optimizer step.
 *
 * With s the steps this training has taken before the step (0 for the first; resumed runs
 * count on; --step-offset not included), W the warmup steps, T the decay steps, lr the
 * peak (t0-step --lr) and end the end value:
 *   constant   lr                                     (T0's fine-tuning: 1e-3)
 *   linear     lr -> end, straight, from s = W to s = T, then end
 *   cosine     end + (lr - end) (1 + cos(pi p)) / 2,  p = (s - W) / (T - W) <= 1
 *   rsqrt      lr sqrt(K / max(g, K)), g = the global step before the step (offset + s):
 *              T5's pretraining, 1 / sqrt(max(g, 10000)) with lr = 0.01 and K = 10000
 * and a warmup multiplies the first W steps by s / W: the first step trains at 0, as
 * transformers' get_*_schedule_with_warmup do (their lambda of the scheduler's count s),
 * so linear with W = 0 and end = 0 is t-zero's fine-tuning schedule exactly:
 * lr (T - s) / T.
 */
#ifndef T0_SCHEDULE_H
#define T0_SCHEDULE_H

#include <stdint.h>

#include "common/error.h"

typedef enum { LR_CONSTANT, LR_LINEAR, LR_COSINE, LR_RSQRT } lr_kind;

typedef struct {
    lr_kind kind;
    int64_t warmup;      /* W: steps of linear warmup (0: none) */
    int64_t decay_steps; /* T: linear and cosine reach `end` there (> W) */
    double end;          /* linear, cosine: the lr from step T on */
    int64_t rsqrt_steps; /* K: rsqrt's plateau (T5: 10000) */
} lr_schedule;

/* constant, no warmup, rsqrt_steps 10000 */
void lr_schedule_defaults(lr_schedule *s);

const char *lr_kind_name(lr_kind k);
/* "constant", "linear", "cosine", "rsqrt"; -1 for anything else */
int lr_kind_parse(const char *name, lr_kind *k);

/* Checks the schedule is whole (linear/cosine: T > W; K >= 1; end >= 0). T0_EINPUT. */
int lr_schedule_check(const lr_schedule *s, t0_error *err);

/* The lr of the step taken after `steps` steps (s above), global_step = offset + steps. */
double lr_at(const lr_schedule *s, double lr, int64_t steps, int64_t global_step);

#endif
