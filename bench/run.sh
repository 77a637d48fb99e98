#!/bin/sh
# Runs every bench/bench-*.sh with the bin directory; each prints its own rows.
bin=$1
for b in "$(dirname "$0")"/bench-*.sh; do
    [ -e "$b" ] || continue
    echo "== $(basename "$b")"
    sh "$b" "$bin" || exit 1
done
