#!/bin/bash
# The t0-render differential test over every promptsource template:
#   render-diff.sh BIN_DIR TEMPLATES_DIR CASES_TAR_ZST WORK_DIR [T0_LIST]
# CASES (made by tests/reference/fixtures-render.sh) holds, per template, synthesized examples
# and the records Python jinja2 with promptsource's apply semantics gives for them, in
# t0-cat's JSON form. Each template's examples go through `t0-render -n NAME`; the records
# must be byte-identical. Prints "N/TOTAL templates identical" for all templates and for
# those of T0's datasets (T0_LIST: one folder a line), and lists the others in
# WORK_DIR/mismatch.txt with the reason. A template with no synthesized example counts as
# not identical. Templates run in parallel, one job a core.
set -u
bin=$1 templates=$2 cases=$3 work=$4 t0list=${5:-}
rm -rf "$work" && mkdir -p "$work/cases" "$work/out" || exit 2
zstd -dc "$cases" | tar -C "$work/cases" -xf - || exit 2
index=$work/cases/index.tsv

# One template: prints "ok" or the reason it differs.
check_one() {
    local rel=$1 id=$2 name=$3 n=$4 out=$work/out/$2
    if [ "$n" = 0 ]; then
        echo "no synthesized example renders in Python"
    elif ! "$bin/t0-render" -t "$templates/$rel/templates.yaml" -n "$name" -o "$out.t0" \
        "$work/cases/$rel/$id.jsonl" 2> "$out.err"; then
        echo "t0-render failed: $(head -n 1 "$out.err")"
    elif ! "$bin/t0-cat" "$out.t0" > "$out.jsonl"; then
        echo "t0-cat failed"
    elif cmp -s "$out.jsonl" "$work/cases/$rel/$id.expected.jsonl"; then
        echo ok
    else
        echo "records differ (diff $out.jsonl $work/cases/$rel/$id.expected.jsonl)"
    fi
}
export -f check_one
export bin templates work
# Line i of results.tsv is template i of the index.
tr '\t' '\0' < "$index" | sed 's/$/\x00/' | tr -d '\n' |
    xargs -0 -n 4 -P "$(nproc)" bash -c 'printf "%s\t%s\n" "$1" "$(check_one "$0" "$1" "$2" "$3")"' \
    > "$work/results.tsv"
declare -A t0 result
if [ -n "$t0list" ]; then
    while read -r d; do case $d in '#'*|'') ;; *) t0[$d]=1 ;; esac; done < "$t0list"
fi
while IFS=$'\t' read -r id r; do result[$id]=$r; done < "$work/results.tsv"
total=0 same=0 t0total=0 t0same=0
: > "$work/mismatch.txt"
while IFS=$'\t' read -r rel id name n; do
    total=$((total + 1))
    in_t0=${t0[$rel]:-0}
    [ "$in_t0" = 1 ] && t0total=$((t0total + 1))
    r=${result[$id]:-"not run"}
    if [ "$r" = ok ]; then
        same=$((same + 1))
        [ "$in_t0" = 1 ] && t0same=$((t0same + 1))
    else
        printf '%s\t%s\t%s\t%s\n' "$rel" "$name" "$([ "$in_t0" = 1 ] && echo T0 || echo -)" "$r" >> "$work/mismatch.txt"
    fi
done < "$index"
echo "$same/$total templates identical"
[ -n "$t0list" ] && echo "$t0same/$t0total templates of T0's datasets identical"
exit 0
