#!/bin/sh
# End-to-end training: t0-pack | t0-step at t5-v1_1-small shapes (d_model 512,
# 8+8 layers, 6 heads, d_ff 1024, vocab 32128) and T0's lengths (1024 input, 256 target tokens),
# ROWS rows a step, beside PyTorch + transformers (bench/t5_step_bench.py: the same shapes, loss
# and Adafactor) in the same run, on 1 and 2 threads. Prints per thread count: tokens/s (input +
# target tokens, the best step after the first), the C step's FLOP utilisation against the
# sgemm peak measured on the same threads in the same run, peak memory of both, the ratio; then
# t0-step's peak memory for the same step as ROWS/2 rows x --accum 2.
#   sh bench/bench-train.sh [BIN] [BENCHBIN]
# Then the same with --precision bf16 where the CPU has AVX-512 BF16 (a line says so elsewhere).
# Environment: ROWS (2) ENC (1024) DEC (256) STEPS (3) THREADS ("1 2") PYTHON BENCH_BF16_EMULATE.
# The token records are random ids, one example exactly filling a row, so both sides do the same work.
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-bin}" && pwd)
benchbin=${2:-build/rel/bench}
peakexe=$benchbin/t5_step_bench
[ -x "$peakexe" ] || make --no-print-directory "$peakexe" >/dev/null
rows=${ROWS:-2} enc=${ENC:-1024} dec=${DEC:-256} steps=${STEPS:-3}
py=${PYTHON:-$(sh tests/reference/venv-model.sh || echo none)}
have_torch=0
"$py" -c 'import torch, transformers' 2>/dev/null && have_torch=1
. bench/common.sh
bench_openblas_core
work=build/bench-train
mkdir -p "$work"
[ -f "$work/small/model.safetensors" ] || "$bin/t0-init" --preset small --seed 1 -o "$work/small" >/dev/null
# token records of exactly enc input and dec target ids (EOS last), so that t0-pack fills every
# row with one example, as PyTorch's batch is: the same work on both sides
tokens() { # n
    awk -v n="$1" -v I="$enc" -v G="$dec" 'BEGIN { srand(1)
        for (i = 0; i < n; i++) {
            s = "{\"kind\":\"tokens\",\"task\":\"bench\",\"template\":\"t\",\"id\":" i ",\"input_ids\":["
            for (k = 0; k < I; k++) s = s (k ? "," : "") (3 + int(rand() * 32000))
            s = s "],\"target_ids\":["
            for (k = 0; k < G - 1; k++) s = s (3 + int(rand() * 32000)) ","
            print s "1],\"choice_ids\":[],\"label\":-1}" } }' | "$bin/t0-cat" --encode
}
tokens $((rows * steps)) > "$work/tokens.t0"
echo "shape: t5-v1_1-small, $rows rows x $enc input x $dec target tokens a step, $steps steps (the first warms up);" \
     "dropout 0 in both; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# multiply-adds x2 of one step, as bench/t5_step_bench.c counts them (backward = 2x forward)
flops=$(awk -v B="$rows" -v Te="$enc" -v Td="$dec" 'BEGIN {
    D = 512; HD = 384; F = 1024; V = 32128; L = 8; ff = 3 * D * F
    e = B * Te * (4 * D * HD + ff) + 2 * B * Te * Te * HD
    d = B * Td * (6 * D * HD + ff) + B * Te * 2 * D * HD + 2 * B * Td * Td * HD + 2 * B * Td * Te * HD
    printf "%.0f", 3 * 2 * (L * e + L * d + B * Td * D * V) }')

# t0-pack | t0-step, end to end; prints "step_s tokens_per_s peak_rss_mib" (best step after the
# first; peak memory of t0-step)
run_c() { # threads out_dir rows-per-batch [extra t0-step options]
    t=$1 out=$2 r=$3
    shift 3
    rm -rf "$out"
    "$bin/t0-pack" --input-len "$enc" --target-len "$dec" --rows "$r" --seed 1 "$work/tokens.t0" 2>/dev/null |
        /usr/bin/time -f '%M' -o "$out.rss" "$bin/t0-step" -m "$work/small" -o "$out" --threads "$t" --dropout 0 "$@"
    awk -F'\t' -v rss="$(cat "$out.rss")" 'NR > 2 && (best == "" || $9 < best) { best = $9; tps = $6 }
        END { printf "%s %s %.0f\n", best, tps, rss / 1024 }' "$out/loss.tsv"
}

for t in ${THREADS:-1 2}; do
    set -- $(run_c "$t" "$work/run-t$t" "$rows")
    c_s=$1 c_tps=$2 c_rss=$3
    # the sgemm peak on the same threads, before and after the training run's neighbours
    # change the load: the better of two
    peak=$(for i in 1 2; do "$peakexe" --rows 1 --enc 8 --dec 8 --steps 0 --threads "$t" |
        sed 's/.*sgemm_peak_gflops=\([0-9.]*\).*/\1/'; done | sort -g | tail -1)
    util=$(awk -v f="$flops" -v s="$c_s" -v p="$peak" 'BEGIN { printf "%.2f", f / s / 1e9 / p }')
    gf=$(awk -v f="$flops" -v s="$c_s" 'BEGIN { printf "%.1f", f / s / 1e9 }')
    echo "impl=t0-step threads=$t step_s=$c_s tokens_per_s=$c_tps gflops=$gf sgemm_peak_gflops=$peak utilisation=$util peak_rss_mib=$c_rss"
    # --precision bf16: BF16 operands, F32 sums (lib/t5/t5_mixed.h); natively on AVX-512 BF16 only.
    # BENCH_BF16_EMULATE=1 times the emulation elsewhere (F32 work plus the rounding: slower)
    if grep -qw avx512_bf16 /proc/cpuinfo || [ "${BENCH_BF16_EMULATE:-0}" = 1 ]; then
        set -- $(T0_BF16_EMULATE=${BENCH_BF16_EMULATE:-0} run_c "$t" "$work/run-bf16-t$t" "$rows" --precision bf16 2>/dev/null)
        how=$(grep -qw avx512_bf16 /proc/cpuinfo && echo avx512bf16 || echo emulated)
        echo "impl=t0-step-bf16 ($how) threads=$t step_s=$1 tokens_per_s=$2 peak_rss_mib=$3 bf16/f32 tokens/s: $(awk -v a="$2" -v b="$c_tps" 'BEGIN { printf "%.2f", a / b }')"
    else
        echo "impl=t0-step-bf16 threads=$t: no AVX-512 BF16 on this CPU (--precision bf16 trains with F32 products here; BENCH_BF16_EMULATE=1 times the emulation)"
    fi
    if [ "$have_torch" = 1 ]; then
        p=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE "$py" bench/t5_step_bench.py --rows "$rows" \
            --enc "$enc" --dec "$dec" --steps $((steps - 1)) --threads "$t" 2>/dev/null | grep '^impl=')
        echo "$p"
        pt=$(echo "$p" | sed 's/.*tokens_per_s=\([0-9.]*\).*/\1/')
        echo "threads=$t t0-step/PyTorch tokens/s ratio: $(awk -v a="$c_tps" -v b="$pt" 'BEGIN { printf "%.2f", a / b }')"
    else
        echo "threads=$t PyTorch: skipped (no virtualenv with torch and transformers)"
    fi
done

# the same step as two half batches (--accum 2): activations for half the rows
if [ $((rows % 2)) -eq 0 ]; then
    t=$(echo ${THREADS:-1 2} | awk '{ print $NF }')
    set -- $(run_c "$t" "$work/run-accum" $((rows / 2)) --accum 2)
    echo "impl=t0-step threads=$t accum=2 rows=$((rows / 2)) step_s=$1 tokens_per_s=$2 peak_rss_mib=$3 (without --accum: $c_rss)"
fi
