#!/bin/sh
# Runs the Bats files given and closes with one "bats: N passed, N failed, N skipped" line.
log=$(mktemp)
{ bats --tap "$@"; echo "$?" > "$log.rc"; } | tee "$log"
rc=$(cat "$log.rc")
skipped=$(grep -c '^ok .* # skip' "$log")
passed=$(($(grep -c '^ok ' "$log") - skipped))
failed=$(grep -c '^not ok ' "$log")
rm -f "$log" "$log.rc"
echo "bats: $passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
