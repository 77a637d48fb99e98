#!/bin/sh
# Runs the Bats files given and closes with one "bats: N passed, N failed, N skipped" line.
log=$(mktemp)
bats --tap "$@" | tee "$log"
rc=$?
skipped=$(grep -c '^ok .* # skip' "$log")
passed=$(($(grep -c '^ok ' "$log") - skipped))
failed=$(grep -c '^not ok ' "$log")
rm -f "$log"
echo "bats: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
