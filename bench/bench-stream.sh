#!/bin/sh
# Stream write and read throughput on token records, beside zstd -3 and zstd -d on the
# same bytes in the same run (uncompressed MB/s of CPU time, user + system, best of 3 each:
# CPU time is what the other load on a shared machine disturbs least).
bin=$1 benchbin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
records=${STREAM_BENCH_RECORDS:-200000}
best() { sort -n | head -n 1; }
for i in 1 2 3; do "$benchbin/stream_bench" "$dir/s.t0" "$records"; done > "$dir/ours"
w=$(cut -d' ' -f1 "$dir/ours" | best)
r=$(cut -d' ' -f2 "$dir/ours" | best)
zstd -q -d -c "$dir/s.t0" > "$dir/raw"    # the records' bytes, as the stream holds them
bytes=$(stat -c %s "$dir/raw")
timeit() { /usr/bin/env time -f "%U %S" "$@" 2>&1 >/dev/null | tail -n 1 | awk '{print $1 + $2}'; }
zw=$(for i in 1 2 3; do timeit zstd -q -3 -c "$dir/raw"; done | best)
zstd -q -3 -c "$dir/raw" > "$dir/raw.zst"
zr=$(for i in 1 2 3; do timeit zstd -q -d -c "$dir/raw.zst"; done | best)
mb=$(echo "$bytes / 1000000" | bc -l)
printf '%-34s %10s %10s\n' "stream ($records token records)" "MB/s" "vs zstd"
printf '%-34s %10.0f %9.2fx\n' "t0 stream write (zstd -3)" "$(echo "$mb / $w" | bc -l)" "$(echo "$zw / $w" | bc -l)"
printf '%-34s %10.0f\n' "zstd -3 (same bytes)" "$(echo "$mb / $zw" | bc -l)"
printf '%-34s %10.0f %9.2fx\n' "t0 stream read" "$(echo "$mb / $r" | bc -l)" "$(echo "$zr / $r" | bc -l)"
printf '%-34s %10.0f\n' "zstd -d (same bytes)" "$(echo "$mb / $zr" | bc -l)"
