#!/bin/bash
# budget.sh WORK "SPAN LM STEPS SAVE PT_SAVE" MULTIPLIER... : the default run at several budgets,
# to see where the held-out task's accuracy rises (make budget; train-mixture.mk passes the
# default's step counts). Budget M runs make train-mixture from scratch in WORK/budget-M with
# M times the pretraining steps (span corruption SPAN, prefix LM LM), the multitask STEPS and
# the checkpoint intervals, timed by the wall clock, and adds one line to WORK/budget.tsv:
#   multiplier <TAB> wall seconds <TAB> chance <TAB> held-out, pretrained only <TAB>
#   held-out, multitask <TAB> the lowest "vs trivial" of the training tasks
# then draws WORK/budget.png (budget.gp). Other settings pass through: BUDGET_ARGS="ROWS=8 ..."
# (split at spaces), and BUDGET_MAKE, the make that runs pipelines/train-mixture.mk.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: budget.sh WORK \"SPAN LM STEPS SAVE PT_SAVE\" MULTIPLIER..." >&2; exit 1; }
work=$1; read -r span lm steps save ptsave <<< "$2"; shift 2
mk=${BUDGET_MAKE:-make --no-print-directory -f pipelines/train-mixture.mk}
read -r -a extra <<< "${BUDGET_ARGS:-}"
for m in "$@"; do
    [[ $m =~ ^[1-9][0-9]*$ ]] || { echo "budget.sh: a multiplier is a whole number from 1, not '$m'" >&2; exit 1; }
done
mkdir -p "$work" && : > "$work/budget.tsv.tmp"
for m in "$@"; do
    w=$work/budget-$m
    echo "budget   x$m: pretraining $((span * m)) + $((lm * m)) steps, multitask $((steps * m)), in $w (log: $w.log)"
    rm -rf "$w" && start=$(date +%s)
    # shellcheck disable=SC2086  # BUDGET_MAKE is a command line
    $mk train-mixture WORK="$w" PT_SPAN_STEPS=$((span * m)) PT_LM_STEPS=$((lm * m)) STEPS=$((steps * m)) \
        SAVE_EVERY=$((save * m)) PT_SAVE_EVERY=$((ptsave * m)) "${extra[@]}" > "$w.log" 2>&1 ||
        { echo "budget.sh: the x$m run failed: $(tail -n 1 "$w.log") (log: $w.log)" >&2; exit 1; }
    secs=$(($(date +%s) - start))
    # table.txt: task, "trained" or "held out", chance, majority, shortest, overlap, pretrained,
    # multitask, vs trivial ("held out" is two fields)
    awk -v m="$m" -v s="$secs" -v OFS='\t' '
        $2 == "held" { chance = $4; pre = $8; mt = $9 }
        $2 == "trained" { v = $9 + 0; if (worst == "" || v < worst) worst = v }
        END { print m, s, chance, pre, mt, worst }' "$w/table.txt" | tee -a "$work/budget.tsv.tmp"
done
mv "$work/budget.tsv.tmp" "$work/budget.tsv"
gnuplot -e "data='$work/budget.tsv'; out='$work/budget.png.tmp'" pipelines/budget.gp && mv "$work/budget.png.tmp" "$work/budget.png"
echo "plot     $work/budget.png (the held-out task against the run's wall time)"
