#!/bin/bash
# curve.sh RUN_DIR PRETRAINED_DIR TOKENS...: the held-out task's accuracy over training. Scores
# TOKENS (the held-out task's token streams, one a template) with the pretrained model (step 0)
# and with each checkpoint RUN_DIR/checkpoint-STEP, and prints one line a model:
# step <TAB> median accuracy over the templates (%) <TAB> chance (%).
set -euo pipefail
bin=${T0_BIN:-bin}
run=$1 pre=$2; shift 2
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
median_of() { # score streams -> median over templates of the accuracy, and chance
    "$bin/t0-cat" "$@" | jq -r '[.template, (if .pred == .label then 1 else 0 end), 1 / (.scores | length)] | @tsv' |
    awk -F '\t' '{ n[$1]++; r[$1] += $2; c += $3; m++ }
        END { k = 0; for (t in n) a[++k] = r[t] / n[t]
              for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
              printf "%.1f\t%.1f\n", 100 * ((k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2), 100 * c / m }'
}
score_all() { # model step
    local i=0 f
    for f in "${toks[@]}"; do i=$((i + 1)); "$bin/t0-score" -m "$1" --threads 2 -o "$tmp/$i.t0" "$f"; done
    printf '%s\t%s\n' "$2" "$(median_of "$tmp"/*.t0)"
    rm -f "$tmp"/*.t0
}
toks=("$@")
score_all "$pre" 0
for d in $(find "$run" -maxdepth 1 -name 'checkpoint-*' -type d | sed 's/.*checkpoint-//' | sort -n); do
    score_all "$run/checkpoint-$d" "$d"
done
