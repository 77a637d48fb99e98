#!/bin/sh
# Greedy decoding speed, 1 thread: t0's decoder (bench/decode_bench.c, memory-mapped F32 or
# BF16 weights) beside PyTorch + transformers generate() and CTranslate2 4.4 translate_batch
# (fp32 and int8, the same random model converted), in the same run (bench/decode_peer.py);
# t0 int8 is the F32 model with --dtype int8 (quantized at load).
# Shapes: t5-v1_1-small (t0-init --preset small), 64-token prompts, 32 new tokens, batch 1
# and 8, ms per generated token with the encoder excluded (per step: all rows of the batch).
# Then the xl shape (T0_3B's, t0-init --preset xl --dtype bf16, ~5.6 GB, and F32 when
# there is disk): load time, peak RSS and ms/token of t0 and the peers, one run each (XL=0
# skips it; XL_PEERS=0 leaves out the peers, which need about 18 GB of memory and take
# minutes).
#   sh bench/bench-decode.sh [BIN] [BENCHBIN]
# Environment: PYTHON (torch, transformers, ctranslate2; default the venv of
# tests/reference/venv-model.sh), XL (1), WORK (scratch dir, default build/bench-decode).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
exe=build/rel/bench/decode_bench
[ -x "$exe" ] || make --no-print-directory "$exe" >/dev/null
work=${WORK:-build/bench-decode}
mkdir -p "$work"
py=${PYTHON:-$(sh tests/reference/venv-model.sh ct2 2>/dev/null || echo none)}
ct2conv=$(dirname "$py")/ct2-transformers-converter
. bench/common.sh
bench_openblas_core
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg)"

tok=$work/t5-1k.model
[ -e "$tok" ] || zstd -q -d -f tests/fixtures/spm/t5-1k.model.zst -o "$tok"
for dt in f32 bf16; do
    [ -d "$work/small-$dt" ] || "$bin/t0-init" --preset small --seed 1 --dtype "$dt" --tokenizer "$tok" -o "$work/small-$dt" 2>/dev/null
done
have_peers=0
"$py" -c 'import torch, transformers, ctranslate2, sentencepiece' 2>/dev/null && have_peers=1
if [ "$have_peers" = 1 ] && [ ! -d "$work/small-ct2" ]; then
    "$ct2conv" --model "$work/small-f32" --output_dir "$work/small-ct2" >/dev/null 2>&1 || have_peers=0
fi

ms() { sed 's/.*ms_per_token=\([0-9.]*\).*/\1/'; }
for b in 1 8; do
    c32=$("$exe" "$work/small-f32" "$b" 64 32)
    c16=$("$exe" "$work/small-bf16" "$b" 64 32)
    ci8=$("$exe" "$work/small-f32" "$b" 64 32 1 3 int8)
    echo "small batch=$b t0 f32:  $c32"
    echo "small batch=$b t0 bf16: $c16"
    echo "small batch=$b t0 int8: $ci8"
    if [ "$have_peers" = 1 ]; then
        peers=$("$py" bench/decode_peer.py "$work/small-f32" --batch "$b" --ct2 "$work/small-ct2" 2>/dev/null)
        echo "$peers" | sed "s/^/small batch=$b /"
        pt=$(echo "$peers" | grep impl=torch | ms)
        cf=$(echo "$peers" | grep impl=ct2-float32 | ms)
        ci=$(echo "$peers" | grep impl=ct2-int8 | ms)
        a=$(echo "$c32" | ms) h=$(echo "$c16" | ms) q=$(echo "$ci8" | ms)
        awk -v b="$b" -v a="$a" -v h="$h" -v q="$q" -v pt="$pt" -v cf="$cf" -v ci="$ci" 'BEGIN {
            printf "small batch=%s ms/token ratios: t0 f32 / torch %.2f, t0 bf16 / torch %.2f, t0 f32 / ct2 fp32 %.2f, t0 bf16 / ct2 fp32 %.2f, t0 int8 / ct2 int8 %.2f\n",
                   b, a / pt, h / pt, a / cf, h / cf, q / ci }'
    else
        echo "small batch=$b peers: skipped (no python with torch, transformers, ctranslate2)"
    fi
done

if [ "${XL:-1}" = 1 ]; then
    # T0_3B's shape in BF16 (its released dtype), and in F32 beside the F32 peers when
    # there is room (11.4 GB more)
    for dt in bf16 f32; do
        [ ! -d "$work/xl-$dt" ] || continue
        avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
        need=$([ "$dt" = bf16 ] && echo 8000000 || echo 14000000)
        [ "$avail" -gt "$need" ] || { echo "xl $dt: skipped (under $((need / 1000000)) GB free in $work)"; continue; }
        "$bin/t0-init" --preset xl --seed 1 --dtype "$dt" --tokenizer "$tok" -o "$work/xl-$dt" 2>/dev/null
    done
    xl=$work/xl-bf16
    [ -d "$xl" ] || exit 0
    echo "xl weights: $(du -sh "$xl/model.safetensors" | cut -f1) (bf16)"
    for b in 1 8; do
        rm -f "$work"/xl-t0-*.txt
        for dt in bf16 f32; do
            [ -d "$work/xl-$dt" ] || continue
            /usr/bin/time -f "%M %e" -o "$work/time.txt" "$exe" "$work/xl-$dt" "$b" 64 32 1 1 |
                sed "s/^/xl batch=$b t0 $dt: /" | tee "$work/xl-t0-$dt.txt"
            awk -v b="$b" -v d="$dt" '{ printf "xl batch=%s t0 %s whole run: peak_rss_MB=%.0f wall_s=%s\n", b, d, $1 / 1024, $2 }' \
                "$work/time.txt"
        done
        # The peers at xl, one run each (minutes): PyTorch in F32 (11.4 GB), and
        # CTranslate2 from a BF16 conversion (the weights are BF16 values, so it loses
        # nothing) computing in F32 and int8. Each engine in its own process, for its RSS.
        mem=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
        if [ "${XL_PEERS:-1}" != 1 ] || [ "$have_peers" != 1 ] || [ "$mem" -lt 18000000 ]; then
            echo "xl batch=$b peers: skipped (XL_PEERS=0, no peers, or under 18 GB of memory available)"
            continue
        fi
        [ -d "$work/xl-ct2" ] || "$ct2conv" --model "$xl" --output_dir "$work/xl-ct2" --quantization bfloat16 \
            >/dev/null 2>&1
        for eng in torch ct2:float32 ct2:int8; do
            /usr/bin/time -f "%M %e" -o "$work/time.txt" "$py" bench/decode_peer.py "$xl" --batch "$b" --runs 1 \
                --engines "${eng%%:*}" --ct2 "$work/xl-ct2" --ct2-types "${eng#*:}" 2>/dev/null |
                sed "s/^/xl batch=$b /" | tee "$work/xl-$b-${eng#*:}.txt"
            awk -v b="$b" -v e="$eng" '{ printf "xl batch=%s %s whole run: peak_rss_MB=%.0f wall_s=%s\n", b, e, $1 / 1024, $2 }' \
                "$work/time.txt"
        done
        f32=none
        [ ! -s "$work/xl-t0-f32.txt" ] || f32=$(ms < "$work/xl-t0-f32.txt")
        awk -v b="$b" -v h="$(ms < "$work/xl-t0-bf16.txt")" -v a="$f32" -v pt="$(ms < "$work/xl-$b-torch.txt")" \
            -v cf="$(ms < "$work/xl-$b-float32.txt")" -v ci="$(ms < "$work/xl-$b-int8.txt")" 'BEGIN {
            if (a != "none")
                printf "xl batch=%s ms/token ratios: t0 f32 / torch %.2f, t0 f32 / ct2 fp32 %.2f\n", b, a / pt, a / cf
            printf "xl batch=%s ms/token ratios: t0 bf16 / torch %.2f, t0 bf16 / ct2 fp32 %.2f, t0 bf16 / ct2 int8 %.2f\n",
                   b, h / pt, h / cf, h / ci }'
    done
fi
