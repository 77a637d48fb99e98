/* schedule.c: see schedule.h. */
#include "train/schedule.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"constant", "linear", "cosine", "rsqrt"};

void lr_schedule_defaults(lr_schedule *s)
{
    *s = (lr_schedule){.kind = LR_CONSTANT, .rsqrt_steps = 10000};
}

const char *lr_kind_name(lr_kind k)
{
    return k >= LR_CONSTANT && k <= LR_RSQRT ? names[k] : "unknown";
}

int lr_kind_parse(const char *name, lr_kind *k)
{
    for (int i = LR_CONSTANT; i <= LR_RSQRT; i++)
        if (strcmp(name, names[i]) == 0) {
            *k = (lr_kind)i;
            return 0;
        }
    return -1;
}

int lr_schedule_check(const lr_schedule *s, t0_error *err)
{
    if (s->warmup < 0 || s->rsqrt_steps < 1 || !(s->end >= 0))
        return t0_fail(err, T0_EINPUT, "schedule: warmup >= 0, rsqrt steps >= 1 and end lr >= 0 expected");
    if ((s->kind == LR_LINEAR || s->kind == LR_COSINE) && s->decay_steps <= s->warmup)
        return t0_fail(err, T0_EINPUT,
                       "a %s schedule needs its decay steps (%lld) past the warmup (%lld): give --decay-steps or --steps",
                       lr_kind_name(s->kind), (long long)s->decay_steps, (long long)s->warmup);
    return 0;
}

/* the schedule after warmup, at step s */
static double decayed(const lr_schedule *sc, double lr, int64_t s, int64_t global_step)
{
    double p = 0;
    if (sc->kind == LR_LINEAR || sc->kind == LR_COSINE) {
        p = (double)(s - sc->warmup) / (double)(sc->decay_steps - sc->warmup);
        p = p < 0 ? 0 : p > 1 ? 1 : p;
    }
    switch (sc->kind) {
    case LR_LINEAR: return sc->end + (lr - sc->end) * (1 - p);
    case LR_COSINE: return sc->end + (lr - sc->end) * 0.5 * (1 + cos(M_PI * p));
    case LR_RSQRT: {
        double g = (double)(global_step > sc->rsqrt_steps ? global_step : sc->rsqrt_steps);
        return lr * sqrt((double)sc->rsqrt_steps / g);
    }
    case LR_CONSTANT: break;
    }
    return lr;
}

double lr_at(const lr_schedule *s, double lr, int64_t steps, int64_t global_step)
{
    double v = decayed(s, lr, steps, global_step);
    if (steps < s->warmup)
        v *= (double)steps / (double)s->warmup;
    return v;
}
