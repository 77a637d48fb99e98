#!/bin/bash
# table.sh HELD_OUT TOKENS_DIR PRETRAINED_SCORES_DIR SCORES_DIR: the default's table that tells
# what the model learned apart from what the data gives away. Per task, each figure the median
# over its templates (T0's figure), in percent:
#   chance      picking a choice at random (the mean of 1 / choices)
#   majority    always the label most frequent in that template's examples
#   shortest    always the choice with the fewest tokens (a tie: one of the tied at random,
#               so its expected accuracy)
#   pretrained  the pretrained model before multitask training, same prompts, zero-shot
#   multitask   the model after multitask training
#   overlap     always the choice that shares the most distinct tokens with the prompt (ties:
#               at random, expected accuracy): what copying gives, without knowing a word
#   vs trivial  multitask minus the best of majority, shortest and overlap
# computed from the token streams (every *.t0 under TOKENS_DIR) and the score streams of the
# two models (every *.t0 under each scores folder). HELD_OUT is marked.
set -euo pipefail
bin=${T0_BIN:-bin}
held=$1 tokdir=$2 predir=$3 modeldir=$4
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
streams() { find "$1" -name '*.t0' | LC_ALL=C sort; }   # paths without spaces (make's own)
# expected accuracy of picking at random among the choices where the values $v are highest
# shellcheck disable=SC2016  # jq's variables, not the shell's
best='def best($v; $l): ($v | max) as $m | if $v[$l] == $m then 1 / ([$v[] | select(. == $m)] | length) else 0 end;'
# per template: task, template, chance, majority, shortest, overlap (fractions)
mapfile -t toks < <(streams "$tokdir")
"$bin/t0-cat" "${toks[@]}" | jq -r "$best"'
    (.input_ids | unique) as $in |
    [.task, .template, .label, (.choice_ids | length),
     best(.choice_ids | map(- length); .label),
     best(.choice_ids | map((.[:-1] | unique) - ((.[:-1] | unique) - $in) | length); .label)] | @tsv' |
awk -F '\t' -v OFS='\t' '
    { k = $1 OFS $2; n[k]++; chance[k] += 1 / $4; short[k] += $5; over[k] += $6; lab[k, $3]++; if (lab[k, $3] > maj[k]) maj[k] = lab[k, $3] }
    END { for (k in n) print k, chance[k] / n[k], maj[k] / n[k], short[k] / n[k], over[k] / n[k] }' > "$tmp/base"
accuracy() { local s; mapfile -t s < <(streams "$1"); "$bin/t0-cat" "${s[@]}" | jq -r '[.task, .template, (if .pred == .label then 1 else 0 end)] | @tsv' |
    awk -F '\t' -v OFS='\t' '{ k = $1 OFS $2; n[k]++; r[k] += $3 } END { for (k in n) print k, r[k] / n[k] }'; }
accuracy "$predir" > "$tmp/pre"
accuracy "$modeldir" > "$tmp/model"
awk -F '\t' -v OFS='\t' 'FILENAME == ARGV[1] { pre[$1 OFS $2] = $3; next }
    FILENAME == ARGV[2] { mod[$1 OFS $2] = $3; next }
    { k = $1 OFS $2; print $0, (k in pre) ? pre[k] : -1, (k in mod) ? mod[k] : -1 }' "$tmp/pre" "$tmp/model" "$tmp/base" |
LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2 |
awk -F '\t' -v held="$held" '
function median(col,   i, j, t, a) {
    for (i = 1; i <= nt; i++) a[i] = V[i, col]
    for (i = 2; i <= nt; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return 100 * ((nt % 2) ? a[(nt + 1) / 2] : (a[nt / 2] + a[nt / 2 + 1]) / 2)
}
function flush(   c, m, triv) {
    if (task == "") return
    for (c = 3; c <= 8; c++) M[c] = median(c)
    triv = M[4]; if (M[5] > triv) triv = M[5]; if (M[6] > triv) triv = M[6]
    printf "%-26s %-8s %7.1f %9.1f %9.1f %8.1f %11.1f %10.1f %+11.1f\n", task, task == held ? "held out" : "trained",
        M[3], M[4], M[5], M[6], M[7], M[8], M[8] - triv
    nt = 0
}
BEGIN { printf "%-26s %-8s %7s %9s %9s %8s %11s %10s %11s\n", "task", "", "chance", "majority", "shortest", "overlap", "pretrained", "multitask", "vs trivial" }
$1 != task { flush(); task = $1 }
{ nt++; for (c = 3; c <= 8; c++) V[nt, c] = $c }
END { flush() }'
