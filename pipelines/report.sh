#!/bin/bash
# report.sh SCORES...: the evaluation table from score streams (t0-score's records): per task,
# the median accuracy over its templates (the paper's figure), their mean, min and max, the
# number of templates and of examples, and chance level: the mean over examples of
# 1 / (number of choices), what picking a choice at random scores. Tasks in name order.
set -euo pipefail
bin=${T0_BIN:-bin}
"$bin/t0-cat" "$@" | jq -r '[.task, .template, (.scores | length), (if .pred == .label then 1 else 0 end)] | @tsv' |
LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2 -s |
awk -F '\t' '
function flush_template() {
    if (tpl == "") return
    nt++; acc[nt] = right / n; ex += n; tpl = ""
}
function flush_task(   i, j, t, med, mean, lo, hi) {
    flush_template()
    if (task == "") return
    for (i = 2; i <= nt; i++) { t = acc[i]; for (j = i - 1; j >= 1 && acc[j] > t; j--) acc[j + 1] = acc[j]; acc[j + 1] = t }
    med = (nt % 2) ? acc[(nt + 1) / 2] : (acc[nt / 2] + acc[nt / 2 + 1]) / 2
    mean = 0; for (i = 1; i <= nt; i++) mean += acc[i]; mean /= nt
    printf "%-28s %9d %8d %7.1f %7.1f %7.1f %7.1f %7.1f\n", task, nt, ex / nt, 100 * med, 100 * mean, 100 * acc[1], 100 * acc[nt], 100 * chance / cn
    task = ""; nt = 0; ex = 0; chance = 0; cn = 0
}
BEGIN { printf "%-28s %9s %8s %7s %7s %7s %7s %7s\n", "task", "templates", "examples", "median", "mean", "min", "max", "chance" }
$1 != task { flush_task(); task = $1 }
$2 != tpl { flush_template(); tpl = $2; n = 0; right = 0 }
{ n++; right += $4; chance += 1 / $3; cn++ }
END { flush_task() }'
