#!/bin/sh
# Runs each C unit test binary given; prints one line each and a total.
pass=0 fail=0
for t in "$@"; do
    if "$t"; then pass=$((pass + 1)); else echo "FAIL: $t" >&2; fail=$((fail + 1)); fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
