#!/bin/sh
# Tokenizes a 50 MB text corpus with `t0-tokenize --text` (1 and 2 threads) and with
# spm_encode, side by side, REPEAT times (other work on the machine skews any one run),
# checks the ids are identical, and prints wall and CPU seconds and the speed ratios.
#   bench-tokenize.sh BIN_DIR      (env: BENCH_MB=50, REPEAT=3, MODEL=an spiece.model)
# Needs spm_encode (Debian's sentencepiece; installed here when run as root).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
mb=${BENCH_MB:-50}
repeat=${REPEAT:-3}
work=$here/build/bench-tokenize
mkdir -p "$work"

if ! command -v spm_encode >/dev/null; then
    sh "$here/tests/deps.sh" sentencepiece >&2 ||
        { echo "bench-tokenize: needs spm_encode (apt-get install sentencepiece)" >&2; exit 1; }
fi
model=${MODEL:-$work/t5-8k.model}
[ -n "${MODEL:-}" ] || zstd -q -d -f "$here/tests/fixtures/spm/t5-8k.model.zst" -o "$model"

corpus=$work/corpus-${mb}mb.txt
if [ ! -s "$corpus" ]; then
    # text found on any Debian machine: package docs and man pages, in a fixed order
    { cat /usr/share/common-licenses/*
      find /usr/share/doc /usr/share/man -name '*.gz' | LC_ALL=C sort | xargs zcat 2>/dev/null || true
    } | head -c $((mb * 1000 * 1000)) >"$corpus"
fi
lines=$(wc -l <"$corpus")
echo "corpus: $(($(wc -c <"$corpus") / 1000000)) MB, $lines lines; model: $(basename "$model")"

# run NAME OUTPUT COMMAND...: prints "wall cpu" seconds of the command.
run() {
    local out=$1; shift
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" <"$corpus" >"$out"
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time"
}

printf '%-6s %22s %22s %22s\n' run "spm_encode wall/cpu" "t0 1 thread wall/cpu" "t0 2 threads wall/cpu"
sum_spm=0 sum_t1=0 sum_t2=0 cpu_spm=0 cpu_t1=0
for i in $(seq 1 "$repeat"); do
    read -r ws cs < <(run "$work/spm.ids" spm_encode --model="$model" --output_format=id)
    read -r w1 c1 < <(run "$work/t1.ids" "$bin/t0-tokenize" -m "$model" --text --no-eos)
    read -r w2 c2 < <(run "$work/t2.ids" "$bin/t0-tokenize" -m "$model" --text --no-eos --threads 2)
    cmp -s "$work/spm.ids" "$work/t1.ids" || { echo "bench-tokenize: ids differ from spm_encode" >&2; exit 1; }
    cmp -s "$work/t1.ids" "$work/t2.ids" || { echo "bench-tokenize: --threads 2 ids differ" >&2; exit 1; }
    printf '%-6s %22s %22s %22s\n' "$i" "$ws / $cs" "$w1 / $c1" "$w2 / $c2"
    sum_spm=$(echo "$sum_spm + $ws" | bc -l); cpu_spm=$(echo "$cpu_spm + $cs" | bc -l)
    sum_t1=$(echo "$sum_t1 + $w1" | bc -l); cpu_t1=$(echo "$cpu_t1 + $c1" | bc -l)
    sum_t2=$(echo "$sum_t2 + $w2" | bc -l)
done
ratio() { echo "scale=2; $1 / $2" | bc -l; }
echo "ids identical to spm_encode on all $lines lines (1 and 2 threads)"
echo "speed vs spm_encode, 1 thread: $(ratio "$sum_spm" "$sum_t1")x wall, $(ratio "$cpu_spm" "$cpu_t1")x cpu"
echo "--threads 2 vs 1 thread: $(ratio "$sum_t1" "$sum_t2")x wall"
echo "throughput, 1 thread: $(ratio "$mb * $repeat" "$sum_t1") MB/s (spm_encode $(ratio "$mb * $repeat" "$sum_spm") MB/s)"
