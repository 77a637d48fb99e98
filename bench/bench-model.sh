#!/bin/sh
# One T5 training step (forward + backward + Adafactor) at t5-v1_1-small shapes (d_model 512,
# 8+8 layers, 6 heads, d_ff 1024, vocab 32128), 8 rows x 512 input x 128 target tokens, in C
# (bench/t5_step_bench.c) and in PyTorch/transformers (bench/t5_step_bench.py) in the same run,
# on 1 and 2 threads. Prints tokens/s (input + target tokens), the C step's FLOP utilisation
# against the sgemm peak it measures, peak memory, and the C/PyTorch speed ratio.
#   sh bench/bench-model.sh [BIN]    (BIN unused: the bench program is build/rel/bench/t5_step_bench)
# Environment: ROWS ENC DEC STEPS THREADS ("1 2"), PYTHON (an interpreter with torch and
# transformers; default: the virtualenv tests/reference/venv-model.sh makes under build/).
set -eu
cd "$(dirname "$0")/.."
exe=build/rel/bench/t5_step_bench
[ -x "$exe" ] || make --no-print-directory "$exe" >/dev/null
rows=${ROWS:-8} enc=${ENC:-512} dec=${DEC:-128} steps=${STEPS:-2}
py=${PYTHON:-$(sh tests/reference/venv-model.sh || echo none)}
have_torch=0
"$py" -c 'import torch, transformers' 2>/dev/null && have_torch=1
. bench/common.sh
bench_openblas_core
echo "shape: $rows rows x $enc input x $dec target tokens; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in ${THREADS:-1 2}; do
    c=$("$exe" --rows "$rows" --enc "$enc" --dec "$dec" --steps "$steps" --threads "$t")
    echo "$c"
    if [ "$have_torch" = 1 ]; then
        # PyTorch's own threads (OpenMP) and its BLAS's (OpenBLAS) both set to t, and OpenMP
        # told to sleep rather than spin while the BLAS threads work
        p=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE "$py" bench/t5_step_bench.py --rows "$rows" --enc "$enc" --dec "$dec" \
            --steps "$steps" --threads "$t" 2>/dev/null | grep '^impl=')
        echo "$p"
        ct=$(echo "$c" | sed 's/.*tokens_per_s=\([0-9.]*\).*/\1/')
        pt=$(echo "$p" | sed 's/.*tokens_per_s=\([0-9.]*\).*/\1/')
        echo "threads=$t C/PyTorch tokens/s ratio: $(awk -v a="$ct" -v b="$pt" 'BEGIN { printf "%.2f", a / b }')"
    else
        echo "threads=$t PyTorch: skipped (no virtualenv with torch and transformers: pip could not install them)"
    fi
done
