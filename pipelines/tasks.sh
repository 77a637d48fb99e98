#!/bin/sh
# tasks.sh: the task list of one mixture or evaluation, as make rules (one task = one template
# of one dataset, as in T0's seqio registry), and for training the mixture TSV.
#
#   tasks.sh train MK MIXTURE_TSV   datasets from $DATASETS (folders under $DATA and $TEMPLATES),
#                                   templates by $SELECT: all | original | first-original
#   tasks.sh eval MK                $EVAL_LIST (lines: dataset, splits, template name), or every
#                                   original-task template with choices of $DATASETS' $SPLIT;
#                                   streams named dataset/split/SLUG, the template's name as a slug
#
# Environment: DATA, TEMPLATES (folders), DATASETS (space-separated dataset[/subset] names),
# SPLIT (train / validation), MAX (rows per split, 0 all), CAP (T0: 500000), SIZES (a TSV of
# dataset <TAB> train_size, else the rows of DATA/dataset/train.jsonl count), VAR (the make
# variable that collects the task keys), DIR (the make path under which streams go).
# Rates follow T0 (t-zero tasks.py): rate = train_size, or CAP // (templates of the dataset)
# when train_size > CAP; the template count is the dataset's, whatever SELECT keeps.
# A dataset missing from DATA or TEMPLATES is an error naming the path looked for.
set -eu
here=$(dirname "$0")
mode=$1 mk=$2 mix=${3:-}
[ -z "$mix" ] || mkdir -p "$(dirname "$mix")"
: "${DATA:?}" "${TEMPLATES:?}" "${VAR:?}" "${DIR:?}"
SPLIT=${SPLIT:-train} MAX=${MAX:-0} CAP=${CAP:-500000} SELECT=${SELECT:-all} SIZES=${SIZES:-}
tab=$(printf '\t')
tmp=$mk.tmp.$$
trap 'rm -f "$tmp" "$tmp.mix" "$tmp.slugs"' EXIT
: > "$tmp"; : > "$tmp.mix"; : > "$tmp.slugs"
DATA=${DATA%/} TEMPLATES=${TEMPLATES%/} # a trailing slash (TEMPLATES=promptsource/) joins as one

# data file of a dataset's split, or an error naming what was looked for
datafile() {
    for f in "$DATA/$1/$2.jsonl" "$DATA/$1/$2.jsonl.zst"; do [ -f "$f" ] && { echo "$f"; return 0; }; done
    echo "tasks.sh: dataset $1: no $2 split: looked for $DATA/$1/$2.jsonl[.zst]" >&2; return 1
}
yamlfile() {
    [ -f "$TEMPLATES/$1/templates.yaml" ] && { echo "$TEMPLATES/$1/templates.yaml"; return 0; }
    echo "tasks.sh: dataset $1: no templates: looked for $TEMPLATES/$1/templates.yaml" >&2; return 1
}
rows() { case $1 in *.zst) zstd -dc "$1" | wc -l ;; *) wc -l < "$1" ;; esac; }
# the template list of a yaml, sorted by name (promptsource's all_template_names order)
templates() { LC_ALL=C awk -f "$here/templates.awk" "$1" | LC_ALL=C sort -t "$tab" -k4; }
# an evaluation stream's name: the template's name as a slug (characters other than A-Z a-z 0-9 .
# become _), as the reports name templates; _2, _3 ... after a slug the dataset already has
slug() { # dataset name
    s=$(printf '%s' "$2" | LC_ALL=C sed 's/[^A-Za-z0-9.]/_/g') k=1
    try=$s
    while grep -qxF "$1/$try" "$tmp.slugs"; do k=$((k + 1)); try=${s}_$k; done
    echo "$1/$try" >> "$tmp.slugs"
    echo "$try"
}
# make rule for one task: render KEY from the split, tokenize it
rule() { # key yaml uuid data task
    printf '%s += %s\n' "$VAR" "$1"
    # shellcheck disable=SC2016  # a make variable, written as it is
    printf '$(%s)/render/%s.t0: %s %s\n' "$DIR" "$1" "$2" "$4"
    printf '\t@bash pipelines/render.sh %s %s %s $@ %s %s\n' "$2" "$3" "$4" "$MAX" "$5"
}

if [ "$mode" = train ]; then
    [ -n "$DATASETS" ] || { echo "tasks.sh: the mixture has no datasets (MIXTURE=t0 is for make eval; ONLY= too narrow?)" >&2; exit 1; }
    for d in $DATASETS; do
        y=$(yamlfile "$d"); f=$(datafile "$d" "$SPLIT")
        size=""
        [ -n "$SIZES" ] && size=$(awk -F '\t' -v d="$d" '$1 == d { print $2 }' "$SIZES")
        case $size in ''|-) size=$(rows "$f") ;; esac
        templates "$y" > "$tmp.list"
        n=$(wc -l < "$tmp.list")
        [ "$n" -gt 0 ] || { echo "tasks.sh: dataset $d: $y has no templates" >&2; exit 1; }
        if [ "$size" -gt "$CAP" ]; then rate=$((CAP / n)); else rate=$size; fi
        case $SELECT in
            all) cat "$tmp.list" ;;
            original) awk -F '\t' '$2 == "true"' "$tmp.list" ;;
            first-original) awk -F '\t' '$2 == "true"' "$tmp.list" | head -n 1 ;;
            *) echo "tasks.sh: SELECT is all, original or first-original, not $SELECT" >&2; exit 1 ;;
        esac | while IFS="$tab" read -r uuid _ _ name; do
            rule "$d/$uuid" "$y" "$uuid" "$f" "" >> "$tmp"
            task=$(printf '%s_%s' "$d" "$name" | LC_ALL=C sed 's/[^A-Za-z0-9.]/_/g')
            printf '%s\ttok/%s/%s.t0\t%s\n' "$task" "$d" "$uuid" "$rate" >> "$tmp.mix"
        done
    done
    rm -f "$tmp.list"
    { echo "# task	tokens (relative to this file)	rate (T0: train_size, or $CAP // templates above $CAP)"; cat "$tmp.mix"; } > "$tmp.mix2"
    mv "$tmp.mix2" "$tmp.mix"
    if ! cmp -s "$tmp.mix" "$mix" 2>/dev/null; then mv "$tmp.mix" "$mix"; fi
elif [ "$mode" = eval ]; then
    if [ -n "${EVAL_LIST:-}" ]; then
        grep -v '^#' "$EVAL_LIST" | while IFS="$tab" read -r d splits name; do
            case " $DATASETS " in *" $d "*) ;; *) [ -n "$DATASETS" ] && continue ;; esac
            y=$(yamlfile "$d")
            uuid=$(templates "$y" | awk -F '\t' -v n="$name" '$4 == n { print $1; exit }')
            [ -n "$uuid" ] || { echo "tasks.sh: dataset $d: $y has no template named '$name'" >&2; exit 1; }
            stream=$(slug "$d" "$name")
            for s in $splits; do
                f=$(datafile "$d" "$s")
                case $s in dev_r*) task="$d/r${s#dev_r}" ;; *) task="" ;; esac
                rule "$d/$s/$stream" "$y" "$uuid" "$f" "$task" >> "$tmp"
            done
        done
    else
        for d in $DATASETS; do
            y=$(yamlfile "$d"); f=$(datafile "$d" "$SPLIT")
            templates "$y" | awk -F '\t' '$2 == "true" && $3 == "yes"' |
            while IFS="$tab" read -r uuid _ _ name; do
                rule "$d/$SPLIT/$(slug "$d" "$name")" "$y" "$uuid" "$f" "" >> "$tmp"
            done
        done
    fi
else
    echo "tasks.sh: train or eval, not $mode" >&2; exit 1
fi
mv "$tmp" "$mk"
