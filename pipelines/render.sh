#!/bin/bash
# render.sh YAML UUID DATA OUT [MAX [TASK]]: render one template (by its uuid) of a promptsource
# templates.yaml over a JSONL split (.jsonl or .jsonl.zst) into the example stream OUT.
# MAX > 0 renders only the first MAX rows; TASK renames the records' task (anli's rounds).
# One template a file is what lets make redo one task: seqio's T0 has a task per template.
set -euo pipefail
yaml=$1 uuid=$2 data=$3 out=$4 max=${5:-0} task=${6:-}
bin=${T0_BIN:-bin}
here=$(dirname "$0")
name=$(LC_ALL=C awk -f "$here/templates.awk" "$yaml" | awk -F '\t' -v u="$uuid" '$1 == u { sub(/^[^\t]*\t[^\t]*\t[^\t]*\t/, ""); print; exit }')
if [ -z "$name" ]; then echo "render.sh: $yaml has no template $uuid" >&2; exit 1; fi
echo "render   ${yaml%/templates.yaml}: $name [$(basename "${data%%.*}")${task:+ as $task}]" >&2
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp" "$tmp.log"' EXIT
case $data in *.zst) cat_data="zstd -dc" ;; *) cat_data="cat" ;; esac
# the first MAX rows; awk reads on to the end, so nothing upstream dies of SIGPIPE
rows() { if [ "$max" -gt 0 ]; then awk -v n="$max" 'NR <= n'; else cat; fi; }
if [ -n "$task" ]; then
    $cat_data "$data" | rows | "$bin/t0-render" -t "$yaml" -n "$name" 2>"$tmp.log" |
        "$bin/t0-cat" | jq -c --arg t "$task" '.task = $t' | "$bin/t0-cat" --encode -o "$tmp"
else
    $cat_data "$data" | rows | "$bin/t0-render" -t "$yaml" -n "$name" -o "$tmp" 2>"$tmp.log"
fi || { cat "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
mv "$tmp" "$out"
