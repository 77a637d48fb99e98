#!/bin/sh
# t0-render speed and memory: 100k examples through 10 templates (super_glue/rte-style NLI
# prompts: anli's first 10 templates from ../shared/promptsource when present, else the
# project's prompts/t0_nli doubled up), against the Python jinja2 reference in the same run.
# T0_SHARED: where ../shared is, for a checkout elsewhere.
# Prints examples/s of both, the speed ratio, and t0-render's peak RSS (/usr/bin/time -v)
# at 10k and 100k examples (bounded memory: the two should be about equal).
#   bench-render.sh BIN_DIR [N]
set -eu
bin=$1
n=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build/bench-render
mkdir -p "$work"
yaml=${T0_SHARED:-$root/../shared}/promptsource/templates/anli/templates.yaml
if [ -f "$yaml" ]; then
    names=$(grep '^    name:' "$yaml" | head -n 10 | sed 's/^    name: //')
else
    yaml=$root/prompts/t0_nli/templates.yaml
    names=$(grep '^    name:' "$yaml" | sed 's/^    name: //')
fi
sel=$(echo "$names" | while IFS= read -r nm; do printf -- "-n\n%s\n" "$nm"; done)
nt=$(echo "$names" | wc -l)
gen() { # $1 examples, deterministic
    awk -v n="$1" 'BEGIN {
        split("the a one every some no that this", det); split("cat dog teacher pilot river city child storm", noun)
        split("sees follows helps crosses leaves paints finds avoids", verb)
        for (i = 0; i < n; i++) {
            p = ""; for (k = 0; k < 12 + i % 20; k++) p = p det[1 + (i + k) % 8] " " noun[1 + (i * 7 + k) % 8] " " verb[1 + (i + 3 * k) % 8] " "
            h = det[1 + i % 8] " " noun[1 + (i * 3) % 8] " " verb[1 + (i * 5) % 8] " " det[1 + (i + 1) % 8] " " noun[1 + i % 8] "."
            printf "{\"uid\": \"%d\", \"premise\": \"%s.\", \"hypothesis\": \"%s\", \"label\": %d, \"reason\": \"\"}\n", i, p, h, i % 3
        }
    }'
}
gen "$n" > "$work/in-$n.jsonl"
gen $((n / 10)) > "$work/in-small.jsonl"
render() { # $1 input: runs t0-render with the selected templates, reports to $work/time.txt
    echo "$sel" | tr '\n' '\0' | xargs -0 sh -c 't=$0 b=$1 y=$2 o=$3 i=$4; shift 4
        /usr/bin/time -v -o "$t" "$b" -t "$y" "$@" -o "$o" "$i" 2>/dev/null' \
        "$work/time.txt" "$bin/t0-render" "$yaml" "$work/out.t0" "$1"
}
now() { date +%s.%N; }
t0=$(now); render "$work/in-small.jsonl"; t1=$(now)
rss_small=$(awk '/Maximum resident/ {print $NF}' "$work/time.txt")
t0=$(now); render "$work/in-$n.jsonl"; t1=$(now)
rss=$(awk '/Maximum resident/ {print $NF}' "$work/time.txt")
c_s=$(echo "$t1 - $t0" | bc -l)
records=$("$bin/t0-cat" --count "$work/out.t0" | sed 's/.*"records":\([0-9]*\).*/\1/')
printf 'bench-render: t0-render  %d examples x %d templates = %d records in %.2f s (%.0f records/s)\n' \
    "$n" "$nt" "$records" "$c_s" "$(echo "$records / $c_s" | bc -l)"
printf 'bench-render: t0-render peak RSS %d KiB at %d examples, %d KiB at %d examples\n' \
    "$rss_small" $((n / 10)) "$rss" "$n"
py=python3
[ -x "$root/build/venv-render/bin/python" ] && py=$root/build/venv-render/bin/python
if "$py" -c 'import jinja2, yaml' 2>/dev/null; then
    t0=$(now)
    echo "$sel" | tr '\n' '\0' | xargs -0 sh -c 'p=$0 r=$1 y=$2 i=$3 o=$4; shift 4
        "$p" "$r" -t "$y" "$@" "$i" > "$o"' \
        "$py" "$root/tests/reference/render_ref.py" "$yaml" "$work/in-$n.jsonl" "$work/ref.jsonl"
    t1=$(now)
    p_s=$(echo "$t1 - $t0" | bc -l)
    printf 'bench-render: Python    %d records in %.2f s (%.0f records/s)\n' \
        "$(wc -l < "$work/ref.jsonl")" "$p_s" "$(echo "$(wc -l < "$work/ref.jsonl") / $p_s" | bc -l)"
    printf 'bench-render: speed ratio t0-render / Python = %.1fx (goal >= 20x)\n' "$(echo "$p_s / $c_s" | bc -l)"
    "$bin/t0-cat" "$work/out.t0" | jq -c 'del(.kind)' > "$work/c.jsonl"
    jq -c . "$work/ref.jsonl" | jq -c 'del(.kind)' | cmp -s - "$work/c.jsonl" &&
        echo "bench-render: outputs identical" || echo "bench-render: outputs DIFFER"
else
    echo "bench-render: no python3 with jinja2 and PyYAML: Python reference skipped"
fi
