#!/bin/sh
# Loading a model from PyTorch's pytorch_model.bin against model.safetensors, in the same run:
# the same T0_3B-shaped model (t0-init --preset xl --dtype bf16, ~5.7 GB) written once as
# safetensors by t0-init and once as a .bin by torch (torch.save of its state dict, as
# save_pretrained(safe_serialization=False) writes one file: a ZIP64 archive). Then for each,
# alternating, RUNS times: t0-init --check (open and validate every tensor) and t0-decode of
# one prompt to its first token (time to first token: open, map, encode, one decoder step),
# wall time and peak RSS (/usr/bin/time). The first round reads the files from disk when they
# are not in the page cache.
# Needs ~12 GB of disk and ~7 GB of memory (torch holds the model once while writing the .bin).
# XL=0 skips it; KEEP=1 keeps the files (WORK) for another run, else they are deleted.
#   sh bench/bench-modelload.sh [BIN]
# Environment: PYTHON (torch + safetensors; default tests/reference/venv-model.sh's venv),
# WORK (default build/bench-modelload), RUNS (default 3).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
work=${WORK:-build/bench-modelload}
runs=${RUNS:-3}
[ "${XL:-1}" = 1 ] || { echo "modelload: skipped (XL=0)"; exit 0; }
py=${PYTHON:-$(sh tests/reference/venv-model.sh 2>/dev/null || echo none)}
"$py" -c 'import torch, safetensors' 2>/dev/null || { echo "modelload: skipped (no python with torch and safetensors)"; exit 0; }
mkdir -p "$work"
avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
mem=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
if [ ! -d "$work/st" ] && { [ "$avail" -lt 14000000 ] || [ "$mem" -lt 9000000 ]; }; then
    echo "modelload: skipped (needs 14 GB of disk and 9 GB of memory available)"
    exit 0
fi
. bench/common.sh
bench_openblas_core
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load: $(cut -d' ' -f1-3 /proc/loadavg); memory available: $((mem / 1000000)) GB"

tok=$work/t5-1k.model
[ -e "$tok" ] || zstd -q -d -f tests/fixtures/spm/t5-1k.model.zst -o "$tok"
[ -d "$work/st" ] || "$bin/t0-init" --preset xl --seed 1 --dtype bf16 --tokenizer "$tok" -o "$work/st" 2>/dev/null
if [ ! -e "$work/bin/pytorch_model.bin" ]; then
    rm -rf "$work/bin"
    mkdir -p "$work/bin"
    # what save_pretrained(safe_serialization=False) writes for one shard: torch.save of the state
    # dict, the embeddings tied to shared.weight's storage (from_pretrained would hold the model twice)
    "$py" - "$work/st/model.safetensors" "$work/bin/pytorch_model.bin" <<'EOF'
import sys, torch
from safetensors.torch import load_file
sd = load_file(sys.argv[1])
for alias in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
    sd.setdefault(alias, sd["shared.weight"])
torch.save(sd, sys.argv[2])
EOF
    cp "$work/st/config.json" "$work/bin/"
    cp "$tok" "$work/bin/spiece.model"
fi
echo "xl bf16: model.safetensors $(du -sh "$work/st/model.safetensors" | cut -f1), pytorch_model.bin $(du -sh "$work/bin/pytorch_model.bin" | cut -f1)"

# measure NAME CMD...: one line of wall seconds and peak RSS
measure() {
    name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt"; exit 1; }
    awk -v n="$name" '{ printf "%s wall_s=%s peak_rss_MB=%.0f\n", n, $1, $2 / 1024 }' "$work/time.txt"
}
echo "Is this review positive or negative? Review: the best cast iron skillet I ever bought" > "$work/prompt.txt"
for r in $(seq "$runs"); do
    for kind in bin st; do
        measure "round $r $kind check:" "$bin/t0-init" --check "$work/$kind"
        measure "round $r $kind first-token:" "$bin/t0-decode" -m "$work/$kind" --max-new-tokens 1 --ids < "$work/prompt.txt"
    done
done
# the same ids from both
echo "hello world" | "$bin/t0-decode" -m "$work/bin" --max-new-tokens 3 --ids > "$work/ids-bin.txt"
echo "hello world" | "$bin/t0-decode" -m "$work/st" --max-new-tokens 3 --ids > "$work/ids-st.txt"
cmp -s "$work/ids-bin.txt" "$work/ids-st.txt" && echo "greedy ids: identical ($(cat "$work/ids-bin.txt"))" ||
    { echo "greedy ids differ"; exit 1; }
[ "${KEEP:-0}" = 1 ] || rm -rf "$work/st" "$work/bin"
