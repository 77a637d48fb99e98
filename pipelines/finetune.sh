#!/bin/sh
# finetune.sh: fine-tune a model on one dataset's prompts and report rank-classification
# accuracy on its validation split after every epoch, as t-zero's
# examples/single_task_fine_tune.py does (AdamW, lr 1e-4 decayed linearly to 0 over the whole
# run, batch 4, no packing, 10 epochs).
# make finetune runs it (pipelines/train-mixture.mk) with, in the environment:
#   BIN MODEL WORK EPOCHS ROWS INPUT_LEN TARGET_LEN LR SEED STEP_FLAGS TRAIN_TOK EVAL_TOK
# Each epoch is its own seeded t0-pack stream; t0-step trains on epoch 1, then resumes from its
# own checkpoint (optimizer state and step kept) fed epochs 1..e, skipping the batches it has
# consumed, so the run is one optimizer trajectory with a model to score after each epoch.
set -eu
: "${BIN:?}" "${MODEL:?}" "${WORK:?}" "${TRAIN_TOK:?}" "${EVAL_TOK:?}"
out=$WORK/model.tmp
rm -rf "$out" "$WORK"/batches-*.t0 "$WORK"/epoch-*
: > "$WORK/results.tsv.tmp"
steps=0
for e in $(seq 1 "$EPOCHS"); do
    # shellcheck disable=SC2086
    "$BIN/t0-pack" --input-len "$INPUT_LEN" --target-len "$TARGET_LEN" --rows "$ROWS" --no-pack \
        --epochs 1 --seed $((SEED + e)) -o "$WORK/batches-$e.t0" $TRAIN_TOK
    per_epoch=$("$BIN/t0-cat" -c "$WORK/batches-$e.t0" | jq .records)
    steps=$((steps + per_epoch))
    # t-zero's get_scheduler("linear", 0 warmup, epochs x batches an epoch): every epoch has the
    # same examples, so the same batches; the checkpoint keeps the schedule across the resumes
    [ "$e" -eq 1 ] && decay=$((EPOCHS * per_epoch))
    from="-m $MODEL"; [ "$e" -gt 1 ] && from=--resume
    files=""; for i in $(seq 1 "$e"); do files="$files $WORK/batches-$i.t0"; done
    # shellcheck disable=SC2086
    cat $files | "$BIN/t0-step" $from -o "$out" --optimizer adamw --lr "$LR" \
        --schedule linear --decay-steps "$decay" --steps "$steps" --seed "$SEED" --log "$WORK/loss.tsv" $STEP_FLAGS
    mkdir -p "$WORK/epoch-$e"
    for t in $EVAL_TOK; do
        s=$WORK/epoch-$e/$(echo "$t" | sed 's|.*/eval/tok/||; s|/|_|g')
        "$BIN/t0-score" -m "$out" -o "$s" "$t"
    done
    bash pipelines/report.sh "$WORK"/epoch-"$e"/*.t0 > "$WORK/epoch-$e/report.txt"
    echo "== epoch $e (step $steps)"
    cat "$WORK/epoch-$e/report.txt"
    tail -n +2 "$WORK/epoch-$e/report.txt" | awk -v e="$e" '{ print e "\t" $1 "\t" $4 "\t" $5 }' >> "$WORK/results.tsv.tmp"
done
{ printf 'epoch\ttask\tmedian\tmean\n'; cat "$WORK/results.tsv.tmp"; } > "$WORK/results.tsv"
rm -f "$WORK/results.tsv.tmp"
rm -rf "$WORK/model" && mv "$out" "$WORK/model"
echo "finetuned: $WORK/model (per-epoch accuracy in $WORK/results.tsv)"
