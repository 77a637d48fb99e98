#!/bin/sh
# t0-pack throughput at T0's lengths (1024 input, 256 target tokens a row, 32 rows a batch),
# one epoch of a two-task mixture of generated token records: records/s and MB/s of the
# input's decompressed bytes (CPU time, user + system, best of 3: what other load on a
# shared machine disturbs least), peak RSS, and fill. Beside it in the same run: reading the
# same streams alone (t0-cat --count), and reading and rewriting the batches t0-pack wrote
# (t0-cat --stream): the floor that zstd sets for writing them, so packing's own share shows.
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=${PACK_BENCH_RECORDS:-20000}
gen="$(dirname "$0")/../tests/lib/gen-tokens.awk"
# inputs of 1..600 ids and targets of 1..64 (T0's prompts are mostly short; some get cut)
awk -v task=a -v template=t -v n="$n" -v seed=1 -v maxin=600 -v maxtg=64 -v base=1000000 -f "$gen" |
    "$bin/t0-cat" --encode -o "$dir/a.t0"
awk -v task=b -v template=t -v n="$n" -v seed=2 -v maxin=200 -v maxtg=16 -v base=3000000 -f "$gen" |
    "$bin/t0-cat" --encode -o "$dir/b.t0"
printf 'a\ta.t0\t%s\nb\tb.t0\t%s\n' "$n" "$n" > "$dir/m.tsv"
bytes=$(cat "$dir/a.t0" "$dir/b.t0" | zstd -q -d -c | wc -c)
records=$((2 * n))
best() { sort -n | head -n 1; }
# "cpu_seconds peak_kb" of one run
measure() { /usr/bin/env time -f "%U %S %M" "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ print $1 + $2, $3 }'; }
row() { # label, command...
    label=$1
    shift
    for i in 1 2 3; do measure "$@"; done > "$dir/runs"
    cpu=$(cut -d' ' -f1 "$dir/runs" | best)
    rss=$(cut -d' ' -f2 "$dir/runs" | sort -n | tail -n 1)
    printf '%-40s %12.0f %8.0f %8.1f %8.0f\n' "$label" "$(echo "$records / $cpu" | bc -l)" \
        "$(echo "$bytes / 1000000 / $cpu" | bc -l)" "$cpu" "$((rss / 1024))"
}
printf '%-40s %12s %8s %8s %8s\n' "t0-pack ($records records, $((bytes / 1000000)) MB)" records/s MB/s cpu_s RSS_MB
row "read only (t0-cat --count)" "$bin/t0-cat" --count "$dir/a.t0" "$dir/b.t0"
"$bin/t0-pack" -q -m "$dir/m.tsv" --rows 32 > "$dir/out.t0"
row "batches read + rewritten (t0-cat -s)" "$bin/t0-cat" --stream "$dir/out.t0"
row "t0-pack 1024/256 x32, packed" "$bin/t0-pack" -q -m "$dir/m.tsv" --rows 32
row "t0-pack 1024/256 x32, --no-pack" "$bin/t0-pack" -q -m "$dir/m.tsv" --rows 32 --no-pack
row "t0-pack --shuffle-buffer 10000" "$bin/t0-pack" -q -m "$dir/m.tsv" --rows 32 --shuffle-buffer 10000
"$bin/t0-pack" -m "$dir/m.tsv" --rows 32 2>&1 >/dev/null | grep -E 'batches|fill' | sed 's/^/    /'
