#!/bin/sh
# Runs each fuzzer for the given seconds, seeded from fuzz/corpus/<name>/ when present;
# crashing inputs found are left in build/fuzz/<name>-crashes/.
secs=$1; shift
for f in "$@"; do
    name=$(basename "$f")
    corpus=build/fuzz/$name-corpus
    mkdir -p "$corpus" "build/fuzz/$name-crashes"
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
    echo "== $name ($secs s)"
    "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="build/fuzz/$name-crashes/" "$corpus" > "build/fuzz/$name.log" 2>&1 || { tail -n 30 "build/fuzz/$name.log"; exit 1; }
    tail -n 2 "build/fuzz/$name.log"
done
