/* record_copy.c: deep copies of examples, and freeing what records own. */
#include "stream/record_copy.h"

#include <stdlib.h>
#include <string.h>

static char *copy_str(const char *s)
{
    return strdup(s ? s : "");
}

void t0_record_free_example(t0_record *e)
{
    free((char *)e->task);
    free((char *)e->template_name);
    free((char *)e->input);
    free((char *)e->target);
    for (uint32_t k = 0; k < e->n_choices; k++)
        free((char *)e->choices[k]);
    free(e->choices);
    memset(e, 0, sizeof *e);
}

int t0_record_copy_example(t0_record *dst, const t0_record *src, t0_error *err)
{
    *dst = (t0_record){.kind = T0_KIND_EXAMPLE, .id = src->id, .label = src->label};
    dst->task = copy_str(src->task);
    dst->template_name = copy_str(src->template_name);
    dst->input = copy_str(src->input);
    dst->target = copy_str(src->target);
    dst->choices = calloc(src->n_choices + 1, sizeof *dst->choices);
    int ok = dst->task && dst->template_name && dst->input && dst->target && dst->choices;
    for (uint32_t k = 0; ok && k < src->n_choices; k++) {
        ok = (dst->choices[k] = copy_str(src->choices[k])) != NULL;
        dst->n_choices = k + 1;
    }
    if (!ok) {
        t0_record_free_example(dst);
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    }
    return 0;
}

void t0_record_free_ids(t0_record *t)
{
    free(t->input_ids.v);
    free(t->target_ids.v);
    if (t->choice_ids)
        for (uint32_t k = 0; k < t->n_choices; k++)
            free(t->choice_ids[k].v);
    free(t->choice_ids);
    memset(t, 0, sizeof *t);
}
