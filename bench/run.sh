#!/bin/sh
# Runs every bench/bench-*.sh with the bin directory and the directory of built bench
# programs; each prints its own rows.
bin=$1
benchbin=$2
for b in "$(dirname "$0")"/bench-*.sh; do
    [ -e "$b" ] || continue
    echo "== $(basename "$b")"
    sh "$b" "$bin" "$benchbin" || exit 1
done
