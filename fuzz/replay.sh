#!/bin/sh
# Replays fuzz/corpus/<target>/* through each replay binary given.
pass=0 fail=0
for r in "$@"; do
    name=$(basename "$r")
    dir=fuzz/corpus/$name
    [ -d "$dir" ] || continue
    if find "$dir" -type f -print0 | xargs -0 -r "$r"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $name on fuzz/corpus/$name" >&2
        fail=$((fail + 1))
    fi
done
echo "fuzz replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
