/* spm_records.c: one example record's fields tokenized into a tokens record. */
#include "spm/spm_records.h"

#include <stdlib.h>
#include <string.h>

/* Tokenizes text into w->ids; with eos, appends it and keeps it last under the limit. */
static int tokenize_field(const t0_spm *m, const t0_spm_record_opts *o, const char *text,
                          int with_eos, int64_t limit, t0_spm_work *w, t0_error *err)
{
    t0_spm_work_reset(w);
    size_t n = strlen(text);
    if (o->plain ? t0_spm_encode_plain(m, text, n, w, err) : t0_spm_encode(m, text, n, w, err))
        return -1;
    int eos = with_eos && o->eos >= 0;
    if (eos && t0_spm_push_id(w, o->eos, err))
        return -1;
    if (limit > 0 && w->n_ids > (size_t)limit) {
        w->n_ids = (size_t)limit;
        if (eos)
            w->ids[limit - 1] = o->eos;
    }
    return 0;
}

/* A malloc'd copy of w->ids. */
static int keep_ids(const t0_spm_work *w, t0_ids *dst, t0_error *err)
{
    if (w->n_ids > UINT32_MAX)
        return t0_fail(err, T0_EINPUT, "too many ids");
    int32_t *v = malloc((w->n_ids ? w->n_ids : 1) * sizeof *v);
    if (!v)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    if (w->n_ids)
        memcpy(v, w->ids, w->n_ids * sizeof *v);
    *dst = (t0_ids){v, (uint32_t)w->n_ids};
    return 0;
}

int t0_spm_tokenize_example(const t0_spm *m, const t0_spm_record_opts *o, const t0_record *e,
                            t0_record *t, t0_spm_work *w, t0_error *err)
{
    *t = (t0_record){.kind = T0_KIND_TOKENS, .task = e->task, .template_name = e->template_name,
                     .id = e->id, .label = e->label, .n_choices = e->n_choices};
    if (tokenize_field(m, o, e->input, 0, o->input_len, w, err) || keep_ids(w, &t->input_ids, err))
        return -1;
    if (o->no_target)
        t0_spm_work_reset(w);
    else if (tokenize_field(m, o, e->target, 1, o->target_len, w, err))
        return -1;
    if (keep_ids(w, &t->target_ids, err))
        return -1;
    t->choice_ids = calloc(e->n_choices + 1, sizeof *t->choice_ids);
    if (!t->choice_ids)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    for (uint32_t k = 0; k < e->n_choices; k++)
        if (tokenize_field(m, o, e->choices[k], 1, o->target_len, w, err) ||
            keep_ids(w, &t->choice_ids[k], err))
            return -1;
    return 0;
}
