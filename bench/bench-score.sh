#!/bin/sh
# Rank classification (t0-score) at t5-v1_1-small shapes (t0-init --preset small, an 8k
# SentencePiece model copied in): 128-token inputs, 2 and 4 choices of 4-8 tokens (EOS
# included), batches of 32 examples, beside PyTorch + transformers the t-zero way (the input
# repeated per choice) and CTranslate2's score_batch (the same model, converted), in the
# same run, on 1 and 2 threads; the BF16 copy of the model (t0-init --dtype bf16) through
# t0-score; the F32 model with --dtype int8 (quantized at load); and one 2-thread t0-score against two 1-thread ones on halves (GNU parallel).
# Prints examples/s (the scoring alone: models are loaded before the clock starts;
# t0-score's figure is its own --progress rate) and the t0-score/peer ratios.
#   sh bench/bench-score.sh [BIN]
# Environment: EXAMPLES (per choice count, default 32), THREADS ("1 2"), PYTHON (an
# interpreter with torch, transformers and ctranslate2; default: the virtualenv
# tests/reference/venv-model.sh makes under build/).
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-bin}" && pwd)
w=build/bench-score
n=${EXAMPLES:-32}
py=${PYTHON:-$(sh tests/reference/venv-model.sh ct2 2>/dev/null || echo none)}
have_torch=0 have_ct2=0
"$py" -c 'import torch, transformers' 2>/dev/null && have_torch=1
"$py" -c 'import ctranslate2' 2>/dev/null && have_ct2=1
. bench/common.sh
bench_openblas_core
mkdir -p "$w"
[ -s "$w/spiece.model" ] || zstd -dqc tests/fixtures/spm/t5-8k.model.zst > "$w/spiece.model"
[ -d "$w/model" ] || "$bin/t0-init" --preset small --seed 1 --tokenizer "$w/spiece.model" -o "$w/model" >/dev/null
[ -d "$w/model-bf16" ] ||
    "$bin/t0-init" --preset small --seed 1 --dtype bf16 --tokenizer "$w/spiece.model" -o "$w/model-bf16" >/dev/null
if [ "$have_ct2" = 1 ] && [ ! -d "$w/ct2" ]; then
    "$(dirname "$py")/ct2-transformers-converter" --model "$w/model" --output_dir "$w/ct2" >/dev/null 2>&1 || have_ct2=0
fi
for c in 2 4; do
    [ -s "$w/c$c.t0" ] && continue
    python3 bench/score_bench.py gen "$w/c$c.jsonl" --examples "$n" --choices "$c" --seed "$c"
    "$bin/t0-cat" --encode -o "$w/c$c.t0" "$w/c$c.jsonl"
done
echo "rank scoring: $n examples x 128 input tokens, 2 or 4 choices of 4-8 tokens, batch 32;" \
    "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# t0-score's own rate (after the model is loaded), from its --progress line
t0rate() {
    "$bin/t0-score" --progress "$@" -o /dev/null 2>&1 >/dev/null | tr '\r' '\n' | grep 'examples/s' | tail -n 1 |
        sed 's/.*, \([0-9.]*\) examples\/s.*/\1/'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
peers() { # $1 threads, $2 choices
    export OMP_NUM_THREADS="$1" OPENBLAS_NUM_THREADS="$1" OMP_WAIT_POLICY=PASSIVE
    pt=none ct=none
    if [ "$have_torch" = 1 ]; then
        pt=$("$py" bench/score_bench.py torch "$w/model" "$w/c$2.jsonl" --threads "$1" 2>/dev/null |
            sed -n 's/.*examples_per_s=\([0-9.]*\).*/\1/p')
    fi
    if [ "$have_ct2" = 1 ]; then
        ct=$("$py" bench/score_bench.py ct2 "$w/ct2" "$w/c$2.jsonl" --threads "$1" 2>/dev/null |
            sed -n 's/.*examples_per_s=\([0-9.]*\).*/\1/p')
    fi
    unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS OMP_WAIT_POLICY
}
for t in ${THREADS:-1 2}; do
    for c in 2 4; do
        f32=$(t0rate -m "$w/model" --threads "$t" "$w/c$c.t0")
        bf16=$(t0rate -m "$w/model-bf16" --threads "$t" "$w/c$c.t0")
        i8=$(t0rate -m "$w/model" --dtype int8 --threads "$t" "$w/c$c.t0")
        peers "$t" "$c"
        line="threads=$t choices=$c examples/s: t0-score $f32 (BF16 weights $bf16, --dtype int8 $i8; int8/F32 $(ratio "$i8" "$f32")), PyTorch $pt, CTranslate2-fp32 $ct"
        [ "$pt" = none ] || line="$line; t0-score/PyTorch $(ratio "$f32" "$pt")"
        [ "$ct" = none ] || line="$line; t0-score/CTranslate2 $(ratio "$f32" "$ct")"
        echo "$line"
    done
done
# one process with 2 threads, or two 1-thread processes on halves (make eval-tokens' way)
if command -v parallel >/dev/null; then
    for c in 2 4; do
        "$bin/t0-cat" --stream --shard 0/2 -o "$w/h0.t0" "$w/c$c.t0"
        "$bin/t0-cat" --stream --shard 1/2 -o "$w/h1.t0" "$w/c$c.t0"
        s=$(date +%s.%N)
        "$bin/t0-score" -m "$w/model" --threads 2 -o /dev/null "$w/c$c.t0"
        one=$(awk -v s="$s" -v e="$(date +%s.%N)" -v n="$n" 'BEGIN { printf "%.2f", n / (e - s) }')
        s=$(date +%s.%N)
        parallel -j2 "$bin/t0-score -m $w/model --threads 1 -o /dev/null {}" ::: "$w/h0.t0" "$w/h1.t0"
        two=$(awk -v s="$s" -v e="$(date +%s.%N)" -v n="$n" 'BEGIN { printf "%.2f", n / (e - s) }')
        echo "choices=$c examples/s with model loading: 1 process x 2 threads $one, 2 processes x 1 thread $two"
    done
fi
