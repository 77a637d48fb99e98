#!/bin/sh
# Data parallelism over MPI: t0-step's training tokens/s under `mpirun -np 2` (one thread a
# rank) beside one process on 2 threads and one on 1 thread, in the same run on the same
# batches (a step of 2 micro-batches everywhere: --accum 1 per rank, --accum 2 alone), and the
# all-reduce's share of an MPI step (bench/dist_bench: the gradient sum of the model's size).
#   sh bench/bench-mpi.sh [BIN] [BENCHBIN]
# Environment: PRESET (small), ROWS ENC DEC (4 x 256/64 tokens a micro-batch), STEPS (3; the
# first is a warm-up and not counted).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-$PWD/bin}
benchbin=${2:-build/rel/bench}   # relative: make names its targets so
if ! command -v mpirun >/dev/null; then
    echo "bench-mpi: skipped: no mpirun (Debian: openmpi-bin)"
    exit 0
fi
[ -x "$benchbin/dist_bench" ] || make --no-print-directory "$benchbin/dist_bench" >/dev/null
preset=${PRESET:-small} rows=${ROWS:-4} enc=${ENC:-256} dec=${DEC:-64} steps=${STEPS:-3}
. bench/common.sh
bench_openblas_core
mpirun="mpirun"
[ "$(id -u)" -ne 0 ] || mpirun="$mpirun --allow-run-as-root"
[ "$(nproc)" -ge 2 ] || mpirun="$mpirun --oversubscribe"
work=build/bench-mpi
rm -rf "$work" && mkdir -p "$work"
"$bin/t0-init" --preset "$preset" --seed 1 -o "$work/model" >/dev/null
params=$("$bin/t0-init" --check "$work/model" | sed -n 's/.* \([0-9]*\) parameters.*/\1/p')
# 2 x STEPS micro-batches of fixed pseudo-random tokens, every position a real token
jq -cn --argjson n $((2 * steps)) --argjson R "$rows" --argjson E "$enc" --argjson D "$dec" '
    def tok($k; $r; $i): (($k * 7919 + $r * 104729 + $i * 31) % 32000) + 2;
    range($n) as $k
    | [range($R) as $r | [range($D) as $i | tok($k; $r; $i + 7)]] as $t
    | {kind: "batch",
       encoder_input_tokens: [range($R) as $r | [range($E) as $i | tok($k; $r; $i)]],
       encoder_segment_ids: [range($R) | [range($E) | 1]], encoder_positions: [range($R) | [range($E)]],
       decoder_target_tokens: $t, decoder_input_tokens: [$t[] | [0] + .[:-1]],
       decoder_segment_ids: [range($R) | [range($D) | 1]], decoder_positions: [range($R) | [range($D)]],
       decoder_loss_weights: [range($R) | [range($D) | 1]]}' | "$bin/t0-cat" --encode -o "$work/b.t0"

# tokens/s and seconds a step over the log's steps after the first
rate() {
    awk -F'\t' 'NR > 2 { tok += $5; sec += $9; n++ } END { printf "tokens_per_s=%.0f step_s=%.3f", tok / sec, sec / n }' "$1"
}

echo "shape: $preset ($params parameters), steps of 2 x $rows rows x $enc/$dec tokens; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/t0-step" -m "$work/model" -o "$work/one1" --accum 2 --threads 1 "$work/b.t0"
one1=$(rate "$work/one1/loss.tsv")
echo "impl=one-process threads=1 $one1"
"$bin/t0-step" -m "$work/model" -o "$work/one2" --accum 2 --threads 2 "$work/b.t0"
one2=$(rate "$work/one2/loss.tsv")
echo "impl=one-process threads=2 $one2"
$mpirun -np 2 "$bin/t0-step" -m "$work/model" -o "$work/mpi2" --accum 1 --threads 1 "$work/b.t0"
mpi2=$(rate "$work/mpi2/loss.tsv")
echo "impl=mpirun-np2 threads=1+1 $mpi2"
ar=$($mpirun -np 2 "$benchbin/dist_bench" --floats "$params" --reps 3)
echo "$ar"
awk -v a="$one1" -v b="$one2" -v c="$mpi2" -v d="$ar" 'BEGIN {
    split(a, x, "[= ]"); split(b, y, "[= ]"); split(c, z, "[= ]"); split(d, w, "[= ]")
    for (i in w) if (w[i] == "allreduce_s") ar = w[i + 1]
    printf "mpirun -np 2 / one process 2 threads: %.2f; / 1 thread: %.2f; all-reduce share of an MPI step: %.1f%% (%.3f of %.3f s)\n",
        z[2] / y[2], z[2] / x[2], 100 * ar / z[4], ar, z[4] }'
rm -rf "$work" # models and checkpoints: ~1.5 GB at t5-v1_1-small
