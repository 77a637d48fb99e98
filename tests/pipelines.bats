#!/usr/bin/env bats
# The pipelines (pipelines/, make train-mixture, make eval): the WordNet converter, the template
# lists, the per-task make rules and their incremental rebuilds, T0's mixtures and rates over
# the fixture folder (tests/fixtures/t0), the held-out list, the report; and, once t0-pack,
# t0-step and t0-score are built, a whole tiny run.
load lib/common

setup() {
    setup_t0
    FIX=$ROOT/tests/fixtures/t0
    MK="make --no-print-directory -C $ROOT -f pipelines/train-mixture.mk T0_BIN=$T0_BIN"
}

# A slice of Debian's WordNet: the first 1,500 synsets of each part of speech.
wordnet_slice() {
    [ -f /usr/share/wordnet/data.noun ] || skip "wordnet-base is not installed (make deps)"
    mkdir -p "$TMP/wn"
    for p in noun verb adj adv; do head -n 1530 /usr/share/wordnet/data.$p > "$TMP/wn/data.$p"; done
}

# A tiny model directory with one of the tokenizer fixtures (1,000 pieces; 1,100 ids with the
# sentinels), for T0's recipe over the fixtures.
tiny_model() {
    zstd -dcq "$ROOT/tests/fixtures/spm/custom-1k.model.zst" > "$TMP/spiece.model"
    t0-init --preset tiny --seed 1 -o "$TMP/preset" > /dev/null
    sed 's/"vocab_size": *[0-9]*/"vocab_size": 1100/' "$TMP/preset/config.json" > "$TMP/config.json"
    t0-init --config "$TMP/config.json" --seed 1 --tokenizer "$TMP/spiece.model" -o "$TMP/model" > /dev/null
}

@test "wordnet.awk: deterministic, splits kept apart by word, four distinct options with the answer at label" {
    wordnet_slice
    for o in a b; do
        for t in definition gloss synonyms antonyms hypernyms pos; do mkdir -p "$TMP/$o/wordnet_$t"; done
        LC_ALL=C awk -v out="$TMP/$o" -f "$ROOT/pipelines/wordnet-lib.awk" -f "$ROOT/pipelines/wordnet.awk" "$TMP"/wn/data.{noun,verb,adj,adv}
    done
    for f in "$TMP"/a/*/*.jsonl; do cmp "$f" "$TMP/b/${f#"$TMP/a/"}"; done
    for t in definition gloss synonyms antonyms hypernyms pos; do
        d=$TMP/a/wordnet_$t
        [ "$(wc -l < "$d/train.jsonl")" -gt 0 ] && [ "$(wc -l < "$d/validation.jsonl")" -gt 0 ]
        jq -r '.word | ascii_downcase' "$d/train.jsonl" | sort -u > "$TMP/tw"
        jq -r '.word | ascii_downcase' "$d/validation.jsonl" | sort -u > "$TMP/vw"
        [ -z "$(comm -12 "$TMP/tw" "$TMP/vw")" ]
    done
    # every options list: four distinct strings; the answer where label says
    run jq -c 'select((.options | length) != 4 or (.options | unique | length) != 4 or .label < 0 or .label > 3)' "$TMP"/a/wordnet_{definition,gloss,synonyms,antonyms,hypernyms}/*.jsonl
    [ -z "$output" ]
    run jq -c 'select(.options[.label] != .word)' "$TMP"/a/wordnet_definition/*.jsonl
    [ -z "$output" ]
    run jq -c 'select(.options[.label] != .definition)' "$TMP"/a/wordnet_gloss/*.jsonl
    [ -z "$output" ]
    # "accurate" / "inaccurate" are antonyms in data.adj's first synsets
    grep -q '"word": "inaccurate".*"options": \[[^]]*"accurate"' "$TMP"/a/wordnet_antonyms/*.jsonl
    # balanced: every answer position as often (+-1) in each file; pos as many rows of each class
    for f in "$TMP"/a/wordnet_{definition,gloss,synonyms,antonyms,hypernyms,pos}/*.jsonl; do
        jq .label "$f" | sort | uniq -c | awk -v f="$f" '{ c[NR] = $1 } END { if (NR != 4) exit 1; for (i in c) for (j in c) if (c[i] - c[j] > (f ~ /pos/ ? 0 : 1)) exit 1 }'
    done
    # distractors matched to the answer: always choosing the shortest (ties at random) scores
    # chance within 5 points on each task
    for t in definition gloss synonyms antonyms hypernyms; do
        cat "$TMP"/a/wordnet_$t/*.jsonl | jq -r '(.options | map(length)) as $n | ($n | min) as $m |
            if $n[.label] == $m then 1 / ([$n[] | select(. == $m)] | length) else 0 end' |
            awk '{ s += $1; n++ } END { exit !(s / n > 0.20 && s / n < 0.30) }'
    done
}

# the four tasks of wordforms.awk, as the default names them
WORDFORMS="word_class class_yes_no same_root class_in_sentence"
wordforms() { # out-dir max seed
    for t in $WORDFORMS; do mkdir -p "$1/wordnet_$t"; done
    LC_ALL=C awk -v out="$1" -v max="$2" -v seed="$3" -f "$ROOT/pipelines/wordnet-lib.awk" -f "$ROOT/pipelines/wordforms.awk" "$TMP"/wn/data.{noun,verb,adj,adv}
}

@test "wordforms.awk: deterministic, a word in one split only, one class a word, labels balanced in order" {
    wordnet_slice
    wordforms "$TMP/a" 400 1 && wordforms "$TMP/b" 400 1 && wordforms "$TMP/c" 400 2
    for f in "$TMP"/a/*/*.jsonl; do cmp "$f" "$TMP/b/${f#"$TMP/a/"}"; done
    ! cmp -s "$TMP/a/wordnet_word_class/train.jsonl" "$TMP/c/wordnet_word_class/train.jsonl"
    for t in $WORDFORMS; do
        [ "$(wc -l < "$TMP/a/wordnet_$t/train.jsonl")" -eq 400 ] && [ "$(wc -l < "$TMP/a/wordnet_$t/validation.jsonl")" -eq 400 ]
    done
    # no word of a validation row (its word, the other word of a pair) is in a training row
    for sp in train validation; do jq -r '.word, (.other // empty)' "$TMP"/a/*/$sp.jsonl | sort -u > "$TMP/$sp.words"; done
    [ -z "$(comm -12 "$TMP/train.words" "$TMP/validation.words")" ]
    # each word has the one class WordNet (this slice) lists it under: its lemmas by file
    for p in noun verb adj adv; do
        awk '!/^  / { n = 0; for (i = 1; i <= length($4); i++) n = 16 * n + index("0123456789abcdef", substr($4, i, 1)) - 1
                      for (i = 0; i < n; i++) { w = tolower($(5 + 2 * i)); sub(/\((a|p|ip)\)$/, "", w); print w } }' "$TMP/wn/data.$p" | sort -u > "$TMP/$p.lemmas"
    done
    jq -r '"\(.word)\t\(.label)"' "$TMP"/a/wordnet_{word_class,class_in_sentence}/*.jsonl | sort -u > "$TMP/classes"
    cut -f 1 "$TMP/classes" | sort | uniq -d | grep -q . && return 1
    i=0
    for p in noun verb adj adv; do
        [ -z "$(awk -F '\t' -v c=$i '$2 == c { print $1 }' "$TMP/classes" | comm -23 - "$TMP/$p.lemmas")" ]
        [ -z "$(awk -F '\t' -v c=$i '$2 != c { print $1 }' "$TMP/classes" | comm -12 - "$TMP/$p.lemmas")" ]
        i=$((i + 1))
    done
    # a yes/no row's class or pair is right; "no" pairs do not begin alike
    jq -r 'select(.label == 1) | "\(.word)\t\(.pos)"' "$TMP"/a/wordnet_class_yes_no/*.jsonl | sed 's/adjective$/adj/; s/adverb$/adv/' |
        while IFS="$(printf '\t')" read -r w p; do grep -qx "$w" "$TMP/$p.lemmas"; done
    run jq -c 'select(.label == 0 and .word[:3] == .other[:3])' "$TMP"/a/wordnet_same_root/*.jsonl
    [ -z "$output" ]
    # a relative is of another class ("brazen", "brazenly")
    jq -r 'select(.label == 1) | "\(.word)\t\(.other)"' "$TMP"/a/wordnet_same_root/*.jsonl |
        while IFS="$(printf '\t')" read -r w o; do
            for p in noun verb adj adv; do ! { grep -qx "$w" "$TMP/$p.lemmas" && grep -qx "$o" "$TMP/$p.lemmas"; }; done
        done
    # the sentence holds its word, whole
    run jq -c 'select(.word as $w | " " + (.sentence | ascii_downcase | gsub("[^a-z]"; " ")) + " " | contains(" " + $w + " ") | not)' \
        "$TMP"/a/wordnet_class_in_sentence/*.jsonl
    [ -z "$output" ]
    # validation labels cycle (any prefix of 4 rows is balanced); training labels are balanced
    for t in $WORDFORMS; do
        k=4; case $t in class_yes_no|same_root) k=2 ;; esac
        run jq -r --argjson k $k '[inputs.label] | to_entries | map(select(.value != .key % $k)) | length' -n "$TMP/a/wordnet_$t/validation.jsonl"
        [ "$output" = 0 ]
        [ "$(jq .label "$TMP/a/wordnet_$t/train.jsonl" | sort | uniq -c | awk '{ print $1 }' | sort -u)" = $((400 / k)) ]
    done
    # too little of WordNet for every class in both splits: one line, exit 1
    for p in noun verb adj adv; do head -n 40 /usr/share/wordnet/data.$p > "$TMP/wn/data.$p"; done
    run wordforms "$TMP/d" 400 1
    [ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ] && [[ $output == "wordforms.awk: no "*"too little of WordNet read" ]]
}

@test "wordnet-text.awk: one dictionary entry a synset, the same core as the tasks" {
    wordnet_slice
    LC_ALL=C awk -f "$ROOT/pipelines/wordnet-lib.awk" -f "$ROOT/pipelines/wordnet-text.awk" "$TMP"/wn/data.{noun,verb,adj,adv} > "$TMP/text"
    [ "$(wc -l < "$TMP/text")" -eq $(( $(grep -vc '^  ' "$TMP"/wn/data.noun) + $(grep -vc '^  ' "$TMP"/wn/data.verb) + $(grep -vc '^  ' "$TMP"/wn/data.adj) + $(grep -vc '^  ' "$TMP"/wn/data.adv) )) ]
    grep -qx 'able (adjective): (usually followed by `to'"'"') having the necessary means or skill or know-how or authority to do something; "able to swim"; "she was able to program her computer"; "we were at last able to buy a car"; "able to get a grant for the project"' "$TMP/text"
    # no relation is written out: no pointer symbols, no offsets
    ! grep -qE '[0-9]{8}' "$TMP/text"
    LC_ALL=C awk -v core=2 -f "$ROOT/pipelines/wordnet-lib.awk" -f "$ROOT/pipelines/wordnet-text.awk" "$TMP"/wn/data.{noun,verb,adj,adv} > "$TMP/core"
    [ "$(wc -l < "$TMP/core")" -lt "$(wc -l < "$TMP/text")" ] && [ "$(wc -l < "$TMP/core")" -gt 0 ]
}

@test "templates.awk names every template of every yaml as t0-render knows it" {
    for y in "$ROOT"/prompts/*/templates.yaml $(find "$FIX/templates" -name templates.yaml); do
        n=$(grep -c ': !Template$' "$y")
        LC_ALL=C awk -f "$ROOT/pipelines/templates.awk" "$y" > "$TMP/list"
        [ "$(wc -l < "$TMP/list")" -eq "$n" ]
        while IFS="$(printf '\t')" read -r uuid orig choices name; do
            grep -q "^  $uuid: !Template" "$y"
            # the name selects it (the example may lack fields: only "no template named" counts)
            echo "{}" | t0-render -t "$y" -n "$name" > /dev/null 2> "$TMP/err" || true
            ! grep -q "no template named" "$TMP/err"
        done < "$TMP/list"
    done
    # the alias (*id001) carries original_task; the escaped name is read as UTF-8
    LC_ALL=C awk -f "$ROOT/pipelines/templates.awk" "$FIX/templates/anli/templates.yaml" > "$TMP/list"
    run awk -F "\t" '$4 == "\342\200\246so, is that true?" { print $2 }' "$TMP/list"
    [ "$output" = true ]
}

@test "the default on a slice: data, tokenizer, one stream a template, a T0-rule mixture without the held-out task" {
    wordnet_slice
    run $MK tokens WORDNET="$TMP/wn" WORK="$TMP/w" WN_MAX=40 WN_FORMS_ROWS=40 WN_CORE=1 VOCAB=500
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    mix=$TMP/w/train/mixture.tsv
    # every template of the three training datasets is a task; class_in_sentence (held out) is
    # not among them
    expected=0
    for t in word_class class_yes_no same_root; do
        expected=$((expected + $(grep -c ': !Template$' "$ROOT/prompts/wordnet_$t/templates.yaml")))
    done
    [ "$(grep -vc '^#' "$mix")" -eq "$expected" ]
    ! grep -q class_in_sentence "$mix"
    # rate = the dataset's train rows (far below T0's cap); each stream holds those rows' records
    grep -v '^#' "$mix" | while IFS="$(printf '\t')" read -r task path rate; do
        [ "$rate" -eq 40 ]
        t0-cat -c "$TMP/w/train/$path" | jq -e '.kinds.tokens > 0 and .kinds.tokens <= 40' > /dev/null
    done
    # the tokenizer: T5's ids (pad 0, eos 1, unk 2); targets end in EOS, inputs do not
    t0-cat -n 3 "$TMP/w/train/$(grep -v '^#' "$mix" | head -n 1 | cut -f 2)" |
        jq -e 'select(.target_ids[-1] != 1 or .input_ids[-1] == 1)' && return 1
    echo "hello" | t0-tokenize -m "$TMP/w/spm/spiece.model" --text --pieces > /dev/null
    # another task held out; the word-sense tasks of wordnet.awk by name
    run $MK tokens WORDNET="$TMP/wn" WORK="$TMP/w" WN_MAX=40 WN_FORMS_ROWS=40 WN_CORE=1 VOCAB=500 HELD_OUT=wordnet_word_class
    [ "$status" -eq 0 ] && grep -q class_in_sentence "$mix" && ! grep -q word_class "$mix"
    run $MK tokens WORDNET="$TMP/wn" WORK="$TMP/w" WN_MAX=40 WN_FORMS_ROWS=40 WN_CORE=1 VOCAB=500 \
        WN_TASKS="wordnet_gloss wordnet_pos" HELD_OUT=wordnet_gloss
    [ "$status" -eq 0 ] && [ "$(grep -v '^#' "$mix" | cut -f 2 | cut -d / -f 2 | sort -u)" = wordnet_pos ]
}

@test "make again does nothing; touching one template re-renders only that dataset's tasks" {
    wordnet_slice
    cp -r "$ROOT/prompts" "$TMP/prompts" && find "$TMP/prompts" -exec touch -d "-2 minutes" {} +
    args="WORDNET=$TMP/wn WORK=$TMP/w WN_MAX=30 WN_FORMS_ROWS=30 WN_CORE=1 VOCAB=400 TEMPLATES=$TMP/prompts"
    $MK -j2 tokens eval-inputs $args > /dev/null 2>&1
    find "$TMP/w" -type f -exec touch -d '-1 minute' {} +
    touch "$TMP/mark"
    run $MK -j2 tokens eval-inputs $args
    [ "$status" -eq 0 ]
    [ -z "$(find "$TMP/w" -type f -newer "$TMP/mark" -name '*.t0')" ]
    ! grep -q '^render' <<< "$output"
    touch "$TMP/prompts/wordnet_word_class/templates.yaml"
    run $MK -j2 tokens eval-inputs $args
    [ "$status" -eq 0 ]
    n=$(grep -c ': !Template$' "$TMP/prompts/wordnet_word_class/templates.yaml")
    # all of its templates for training, its original-task ones with choices for evaluation
    [ "$(grep -c '^render   .*wordnet_word_class: ' <<< "$output")" -eq $((n + n)) ]
    [ "$(grep -c '^render' <<< "$output")" -eq $((n + n)) ]
    [ -z "$(find "$TMP/w" -type f -newer "$TMP/mark" -name '*.t0' | grep -v /wordnet_word_class/)" ]
    [ "$(find "$TMP/w/train" -type f -newer "$TMP/mark" -name '*.t0' | wc -l)" -eq $((2 * n)) ]
}

@test "t0_train over the fixture folder: every template a task, rates by T0's rule (cap 500000 // templates)" {
    tiny_model
    run $MK tokens MIXTURE=t0_train DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" \
        WORK="$TMP/w" ONLY="glue/mrpc ag_news amazon_polarity super_glue/boolq"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    mix=$TMP/w/train/mixture.tsv
    # boolq is T0++'s (SGLUE), not T0's
    ! grep -q boolq "$mix"
    for d in glue/mrpc ag_news amazon_polarity; do
        y=$FIX/templates/$d/templates.yaml
        n=$(grep -c ': !Template$' "$y")
        size=$(awk -F '\t' -v d="$d" '$1 == d { print $5 }' "$ROOT/pipelines/t0/datasets.tsv")
        if [ "$size" -gt 500000 ]; then rate=$((500000 / n)); else rate=$size; fi
        [ "$(grep -c "	tok/$d/" "$mix")" -eq "$n" ]
        [ -z "$(grep "	tok/$d/" "$mix" | awk -F '\t' -v r="$rate" '$3 != r')" ]
    done
    # amazon_polarity (3.6M examples, 2 templates) is capped: 250000 each
    grep -q "	tok/amazon_polarity/.*	250000$" "$mix"
    # T0++ takes boolq in
    run $MK tokens MIXTURE=t0++_train DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" \
        WORK="$TMP/w2" ONLY="ag_news super_glue/boolq"
    [ "$status" -eq 0 ]
    [ "$(grep -c '	tok/super_glue/boolq/.*	9427$' "$TMP/w2/train/mixture.tsv")" -eq 2 ]
}

@test "the ablations: one original-task prompt per dataset (first by name), all original-task prompts" {
    tiny_model
    common="DATA=$FIX/data TEMPLATES=$FIX/templates MODEL=$TMP/model ONLY=glue/mrpc"
    $MK tokens MIXTURE=t0_train_one_og_prompt $common WORK="$TMP/one" > /dev/null
    $MK tokens MIXTURE=t0_train_all_og_prompts $common WORK="$TMP/all" > /dev/null
    run grep -v '^#' "$TMP/one/train/mixture.tsv"
    [ "${#lines[@]}" -eq 1 ] && [[ ${lines[0]} == glue_mrpc_paraphrase_check* ]]
    run grep -v '^#' "$TMP/all/train/mixture.tsv"
    [ "${#lines[@]}" -eq 2 ]
    # the cap counts every template of the dataset, as t-zero's mixture_cap does
    [[ ${lines[0]} == *"	3668" ]]
}

@test "a dataset missing from DATA or TEMPLATES is an error naming it and the path looked for" {
    tiny_model
    run $MK tokens MIXTURE=t0_train DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w"
    [ "$status" -ne 0 ]
    [[ $output == *"dataset glue/qqp: no templates: looked for $FIX/templates/glue/qqp/templates.yaml"* ]]
    mkdir -p "$TMP/data" && cp -r "$FIX/data/ag_news" "$TMP/data/"
    run $MK tokens MIXTURE=t0_train DATA="$TMP/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" \
        WORK="$TMP/w" ONLY="glue/mrpc ag_news"
    [ "$status" -ne 0 ]
    [[ $output == *"dataset glue/mrpc: no train split: looked for $TMP/data/glue/mrpc/train.jsonl[.zst]"* ]]
    run $MK tokens MIXTURE=t0_train WORK="$TMP/w"
    [ "$status" -ne 0 ]
    [[ $output == *"DATA= is required"* ]]
    [ ! -e "$TMP/w/train/mixture.tsv" ]
}

@test "T0's held-out list: 86 original-task templates; ANLI's rounds scored as anli/r1..r3" {
    list=$ROOT/pipelines/t0/eval-templates.tsv
    [ "$(grep -vc '^#' "$list")" -eq 86 ]
    run sh -c "grep -v '^#' '$list' | cut -f 1 | uniq -c | awk '{ print \$2 \"=\" \$1 }' | tr '\n' ' '"
    [ "$output" = "super_glue/rte=10 super_glue/cb=15 anli=15 super_glue/wsc.fixed=10 winogrande/winogrande_xl=5 story_cloze/2016=5 super_glue/wic=10 hellaswag=4 super_glue/copa=12 " ]
    tiny_model
    run $MK eval-inputs DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w" \
        EVAL_LIST="$FIX/eval-templates.tsv"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run sh -c "t0-cat -c $TMP/w/eval/tok/*/*/*.t0 $TMP/w/eval/tok/*/*/*/*.t0 | jq -c .tasks"
    [ "$output" = '{"anli/r1":6,"anli/r2":6,"anli/r3":6,"super_glue/rte":6}' ]
    # with the real list, the fixture lacks RTE's other templates: named in the error
    run $MK eval-inputs DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w2"
    [ "$status" -ne 0 ]
    [[ $output == *"super_glue/rte/templates.yaml has no template named 'guaranteed true'"* ]]
}

@test "eval streams are named by template name (a slug, unique in the dataset); DATA/ and TEMPLATES/ with a trailing slash work alike" {
    tiny_model
    run $MK eval-inputs DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w" \
        EVAL_LIST="$FIX/eval-templates.tsv"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run sh -c "cd '$TMP/w/eval/tok' && find . -name '*.t0' | sort"
    echo "$output"
    [ "${lines[0]}" = "./anli/dev_r1/GPT_3_style.t0" ]
    [ "$(grep -c . <<< "$output")" -eq 8 ]
    # no UUID among the names
    ! grep -Eq '[0-9a-f]{8}-[0-9a-f]{4}-' <<< "$output"
    # every stream holds its template's records: the slug is the records' template name
    for f in $(find "$TMP/w/eval/tok" -name '*.t0'); do
        run -0 sh -c "t0-cat '$f' | jq -r .template | sort -u | sed 's/[^A-Za-z0-9.]/_/g'"
        [ "$output" = "$(basename "$f" .t0)" ]
    done
    # two templates whose names make one slug get _2
    mkdir -p "$TMP/tpl" && cp -r "$FIX/templates/." "$TMP/tpl/"
    sed -i "s/name: can we infer/name: GPT 3 style/" "$TMP/tpl/anli/templates.yaml"
    printf 'anli\tdev_r1\tGPT-3 style\nanli\tdev_r1\tGPT 3 style\n' > "$TMP/list.tsv"
    run $MK eval-inputs DATA="$FIX/data" TEMPLATES="$TMP/tpl" MODEL="$TMP/model" WORK="$TMP/w3" EVAL_LIST="$TMP/list.tsv"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(cd "$TMP/w3/eval/tok/anli/dev_r1" && ls | tr '\n' ' ')" = "GPT_3_style.t0 GPT_3_style_2.t0 " ]
    [ "$(t0-cat "$TMP/w3/eval/tok/anli/dev_r1/GPT_3_style_2.t0" | jq -r .template | sort -u)" = "GPT 3 style" ]
    # trailing slashes: the same streams, no // in any path
    run $MK eval-inputs DATA="$FIX/data/" TEMPLATES="$FIX/templates/" MODEL="$TMP/model" WORK="$TMP/w2" \
        EVAL_LIST="$FIX/eval-templates.tsv"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ $output != *//* ]]
    for f in $(cd "$TMP/w/eval/tok" && find . -name '*.t0'); do cmp "$TMP/w/eval/tok/$f" "$TMP/w2/eval/tok/$f"; done
}

@test "report.sh: per task the median over templates, mean, min, max, and chance beside it" {
    # task a: templates t0 (2/2 right), t1 (1/2), t2 (0/2), two choices; task b: one template, 1/1, four choices
    {
        for i in 0 1; do echo "{\"kind\":\"score\",\"task\":\"a\",\"template\":\"t0\",\"id\":$i,\"scores\":[-1,-2],\"pred\":0,\"label\":0}"; done
        echo '{"kind":"score","task":"a","template":"t1","id":0,"scores":[-1,-2],"pred":0,"label":0}'
        echo '{"kind":"score","task":"a","template":"t1","id":1,"scores":[-1,-2],"pred":0,"label":1}'
        for i in 0 1; do echo "{\"kind\":\"score\",\"task\":\"a\",\"template\":\"t2\",\"id\":$i,\"scores\":[-3,-2],\"pred\":1,\"label\":0}"; done
        echo '{"kind":"score","task":"b","template":"x","id":0,"scores":[-1,-2,-3,-4],"pred":0,"label":0}'
    } | t0-cat --encode -o "$TMP/s.t0"
    run bash "$ROOT/pipelines/report.sh" "$TMP/s.t0"
    [ "$status" -eq 0 ]
    [ "$(echo "${lines[1]}" | tr -s ' ')" = "a 3 2 50.0 50.0 0.0 100.0 50.0" ]
    [ "$(echo "${lines[2]}" | tr -s ' ')" = "b 1 1 100.0 100.0 100.0 100.0 25.0" ]
}

@test "table.sh: chance, majority label, shortest answer and overlap from the token records, beside both models" {
    mkdir -p "$TMP/tok" "$TMP/pre" "$TMP/mod"
    # task a, one template, 4 rows: labels 0 0 0 1 (majority 75%); the answer is the shortest
    # choice in rows 0 and 1, tied with one other in row 2 (half), longer in row 3: 62.5%;
    # it shares the most ids with the input in rows 0 and 3, ties in row 1 (half): 62.5%.
    # Task b: all four choices one id long (25%), the answer the only one in the input
    {
        echo '{"kind":"tokens","task":"a","template":"t","id":0,"input_ids":[5,6],"target_ids":[5,1],"choice_ids":[[5,1],[7,7,1]],"label":0}'
        echo '{"kind":"tokens","task":"a","template":"t","id":1,"input_ids":[9],"target_ids":[7,1],"choice_ids":[[7,1],[8,8,1]],"label":0}'
        echo '{"kind":"tokens","task":"a","template":"t","id":2,"input_ids":[8],"target_ids":[7,1],"choice_ids":[[7,1],[8,1]],"label":0}'
        echo '{"kind":"tokens","task":"a","template":"t","id":3,"input_ids":[6,5],"target_ids":[5,6,1],"choice_ids":[[7,1],[5,6,1]],"label":1}'
        echo '{"kind":"tokens","task":"b","template":"u","id":0,"input_ids":[4],"target_ids":[4,1],"choice_ids":[[4,1],[3,1],[2,1],[9,1]],"label":0}'
    } | t0-cat --encode -o "$TMP/tok/x.t0"
    score() { echo "{\"kind\":\"score\",\"task\":\"$1\",\"template\":\"$2\",\"id\":$3,\"scores\":[-1,-2],\"pred\":$4,\"label\":$5}"; }
    { score a t 0 1 0; score a t 1 1 0; score a t 2 1 0; score a t 3 1 1; score b u 0 0 0; } | t0-cat --encode -o "$TMP/pre/x.t0"
    { score a t 0 0 0; score a t 1 0 0; score a t 2 0 0; score a t 3 1 1; score b u 0 1 0; } | t0-cat --encode -o "$TMP/mod/x.t0"
    run bash "$ROOT/pipelines/table.sh" b "$TMP/tok" "$TMP/pre" "$TMP/mod"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "${lines[1]}" | tr -s ' ')" = "a trained 50.0 75.0 62.5 62.5 25.0 100.0 +25.0" ]
    [ "$(echo "${lines[2]}" | tr -s ' ')" = "b held out 25.0 100.0 25.0 100.0 100.0 0.0 -100.0" ]
}

@test "the whole default on a tiny slice: pretraining, checkpoints, table, PNGs, decode line; again nothing" {
    for t in t0-pack t0-step t0-score; do [ -x "$T0_BIN/$t" ] || skip "$t is not built yet"; done
    wordnet_slice
    args="WORDNET=$TMP/wn WORK=$TMP/w WN_MAX=30 WN_FORMS_ROWS=30 WN_CORE=1 EVAL_MAX=4 VOCAB=400 STEPS=4 ROWS=4 SAVE_EVERY=2"
    args+=" PT_SPAN_STEPS=2 PT_LM_STEPS=2 PT_ROWS=4 PT_SAVE_EVERY=2"
    run $MK -j2 train-mixture $args
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ -f "$TMP/w/model/config.json" ] && ls "$TMP"/w/model/*.safetensors > /dev/null
    # pretraining: span corruption, then prefix LM from it, 2 steps each, on WordNet's text
    [ "$(grep -c '^[0-9]' "$TMP/w/pretrain/span/loss.tsv")" -eq 2 ] && [ "$(grep -c '^[0-9]' "$TMP/w/pretrained/loss.tsv")" -eq 2 ]
    grep -q '^pretrain span-corruption: 2 steps' <<< "$output" && grep -q '^pretrain prefix-lm: 2 steps' <<< "$output"
    [ "$(wc -l < "$TMP/w/pretrain/text.txt")" -gt 5000 ]
    # no dropout in pretraining (T5 v1.1's) nor in the default's multitask run
    for m in pretrain/span pretrained model; do [ "$(jq .dropout "$TMP/w/$m/trainer_state.json")" = 0 ]; done
    for png in loss heldout; do [ "$(head -c 8 "$TMP/w/$png.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]; done
    # the held-out curve: the pretrained model (step 0) and the checkpoints 2 and 4
    [ "$(cut -f 1 "$TMP/w/heldout.tsv" | tr '\n' ' ')" = "0 2 4 " ]
    # the table: every task, class_in_sentence marked held out; chance and the baselines from
    # the data: 4 classes, or yes / no; the labels balanced, so majority is chance
    [ "$(grep -c '^wordnet_' "$TMP/w/table.txt")" -eq 4 ]
    grep -q '^wordnet_class_in_sentence *held out *25.0 *25.0 ' "$TMP/w/table.txt"
    grep -q '^wordnet_same_root *trained *50.0 *50.0 ' "$TMP/w/table.txt"
    [ "$(grep -c '^wordnet_.* trained ' "$TMP/w/table.txt")" -eq 3 ]
    [[ ${lines[-1]} == *"| $T0_BIN/t0-decode -m $TMP/w/model" ]]
    find "$TMP/w" -type f -exec touch -d '-1 minute' {} + && touch "$TMP/mark"
    run $MK -j2 train-mixture $args
    [ "$status" -eq 0 ]
    [ -z "$(find "$TMP/w" -type f -newer "$TMP/mark" ! -name '*.vars')" ]
}

@test "make budget: the default at two budgets from scratch, a line each with its wall time, and the plot" {
    for t in t0-pack t0-step t0-score; do [ -x "$T0_BIN/$t" ] || skip "$t is not built yet"; done
    wordnet_slice
    args="WORDNET=$TMP/wn WORK=$TMP/w WN_MAX=20 WN_FORMS_ROWS=20 WN_CORE=1 EVAL_MAX=4 VOCAB=400 STEPS=2 ROWS=4 SAVE_EVERY=1"
    args+=" PT_SPAN_STEPS=1 PT_LM_STEPS=1 PT_ROWS=4 PT_SAVE_EVERY=1"
    run $MK budget $args BUDGETS="1 2"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # the x2 run took twice the steps: checkpoints 2 and 4 after the pretrained model (step 0)
    [ "$(cut -f 1 "$TMP/w/budget/budget-2/heldout.tsv" | tr '\n' ' ')" = "0 2 4 " ]
    [ "$(grep -c '^[0-9]' "$TMP/w/budget/budget-2/pretrained/loss.tsv")" -eq 2 ]
    # one line a budget: multiplier, whole seconds, chance 25, the held-out figures, the worst trained task
    [ "$(cut -f 1 "$TMP/w/budget/budget.tsv" | tr '\n' ' ')" = "1 2 " ]
    run awk -F '\t' 'NF != 6 || $2 !~ /^[0-9]+$/ || $3 != "25.0" || $5 < 0 || $5 > 100' "$TMP/w/budget/budget.tsv"
    [ -z "$output" ]
    [ "$(head -c 8 "$TMP/w/budget/budget.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
    # a bad multiplier: one line, exit 1, before any run
    run $MK budget $args BUDGETS="1 x"
    [ "$status" -ne 0 ] && [[ $output == *"a multiplier is a whole number from 1, not 'x'"* ]]
}

@test "make pretrain TEXT=: a user's own text, its own tokenizer, span corruption then prefix LM" {
    for t in t0-pack t0-step; do [ -x "$T0_BIN/$t" ] || skip "$t is not built yet"; done
    for i in $(seq 1 300); do echo "line $i of a small text about cats, dogs and the weather, told $((i % 7)) times"; done > "$TMP/mine.txt"
    run $MK pretrain TEXT="$TMP/mine.txt" WORK="$TMP/w" VOCAB=120 PT_SPAN_STEPS=2 PT_LM_STEPS=1 PT_ROWS=2
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    cmp "$TMP/mine.txt" "$TMP/w/pretrain/text.txt"
    [ "$(grep -c '^[0-9]' "$TMP/w/pretrain/span/loss.tsv")" -eq 2 ] && [ "$(grep -c '^[0-9]' "$TMP/w/pretrained/loss.tsv")" -eq 1 ]
    # the tokenizer trained on that text travels with the model
    cmp "$TMP/w/spm/spiece.model" "$TMP/w/pretrained/spiece.model"
    [ "$(echo "cats and dogs" | t0-tokenize -m "$TMP/w/pretrained" --text | t0-tokenize -m "$TMP/w/pretrained" --decode)" = "cats and dogs" ]
    # no task was made: pretraining needs no WordNet task data
    [ ! -e "$TMP/w/data" ]
}

@test "make eval TOKENS=: the sharded report equals the unsharded one" {
    for t in t0-score; do [ -x "$T0_BIN/$t" ] || skip "$t is not built yet"; done
    [ -f "$ROOT/pipelines/eval.mk" ] || skip "pipelines/eval.mk is not written yet"
    tiny_model
    $MK eval-inputs DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w" \
        EVAL_LIST="$FIX/eval-templates.tsv" > /dev/null
    cat $(find "$TMP/w/eval/tok" -name '*.t0' | sort) > "$TMP/tokens.t0"
    run $MK eval MODEL="$TMP/model" TOKENS="$TMP/tokens.t0" SHARDS=1 WORK="$TMP/e1"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    one=$output
    run $MK eval MODEL="$TMP/model" TOKENS="$TMP/tokens.t0" SHARDS=3 WORK="$TMP/e3"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
}

@test "shots.awk: n rows drawn with a seed, the same every time, in their order; make finetune prepares them" {
    seq 1 50 > "$TMP/rows"
    awk -v n=7 -v seed=42 -f "$ROOT/pipelines/shots.awk" "$TMP/rows" > "$TMP/a"
    awk -v n=7 -v seed=42 -f "$ROOT/pipelines/shots.awk" "$TMP/rows" > "$TMP/b"
    awk -v n=7 -v seed=43 -f "$ROOT/pipelines/shots.awk" "$TMP/rows" > "$TMP/c"
    cmp "$TMP/a" "$TMP/b" && ! cmp -s "$TMP/a" "$TMP/c"
    [ "$(sort -u "$TMP/a" | wc -l)" -eq 7 ] && sort -n -C "$TMP/a"
    [ -z "$(comm -23 <(sort "$TMP/a") <(sort "$TMP/rows"))" ]
    tiny_model
    run $MK finetune DATASET=ag_news SHOTS=3 EPOCHS=2 DATA="$FIX/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w"
    ft=$TMP/w/finetune/ag_news-3shots
    [ "$(wc -l < "$ft/data/ag_news/train.jsonl")" -eq 3 ]
    [ "$(grep -vc '^#' "$ft/train/mixture.tsv")" -eq "$(grep -c ': !Template$' "$FIX/templates/ag_news/templates.yaml")" ]
    if [ ! -x "$T0_BIN/t0-pack" ]; then
        [ "$status" -ne 0 ] && [[ $output == *"t0-pack is not built yet"* ]]
    else
        [ "$status" -eq 0 ] && [ -f "$ft/model/config.json" ] && [ "$(grep -c "^2	" "$ft/results.tsv")" -ge 1 ]
        # t-zero's linear decay over both epochs' n steps: step k at 1e-4 (n - k + 1) / n
        awk -F '\t' 'NR > 1 { lr[NR - 1] = $7 } END { n = NR - 1; if (n < 2) exit 1
            for (k = 1; k <= n; k++) { w = 1e-4 * (n - k + 1) / n; d = lr[k] - w; if (d * d > 1e-10 * w * w) exit 1 } }' \
            "$ft/loss.tsv"
    fi
}

@test "the default's mixture rates agree with t0-pack --rates over the same streams" {
    [ -x "$T0_BIN/t0-pack" ] || skip "t0-pack is not built yet"
    wordnet_slice
    $MK tokens WORDNET="$TMP/wn" WORK="$TMP/w" WN_MAX=25 WN_FORMS_ROWS=25 WN_CORE=1 VOCAB=400 > /dev/null 2>&1
    mix=$TMP/w/train/mixture.tsv
    (cd "$TMP/w/train" && t0-pack --rates $(grep -v '^#' "$mix" | cut -f 2)) > "$TMP/rates.tsv"
    # the same streams, in the same order, with the same rates (the task names are t0-pack's own)
    diff <(grep -v '^#' "$mix" | cut -f 2,3) <(grep -v '^#' "$TMP/rates.tsv" | grep . | cut -f 2,3)
}

@test "T0's recipe over the fixture: train t0_train (accumulated steps from the step offset), then make eval's held-out table" {
    for t in t0-pack t0-step t0-score; do [ -x "$T0_BIN/$t" ] || skip "$t is not built yet"; done
    tiny_model
    common="DATA=$FIX/data TEMPLATES=$FIX/templates EVAL_LIST=$FIX/eval-templates.tsv"
    run $MK train-mixture MIXTURE=t0_train $common MODEL="$TMP/model" WORK="$TMP/w" \
        ONLY="glue/mrpc ag_news amazon_polarity" ROWS=2 ACCUM=2 STEPS=2 INPUT_LEN=64 TARGET_LEN=16 SAVE_EVERY=2
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ -f "$TMP/w/model/config.json" ] && [ -f "$TMP/w/loss.png" ]
    # two optimizer steps, numbered on from T0's step offset or from 1: the log has two rows
    [ "$(awk -F '\t' '$1 ~ /^[0-9]+$/' "$TMP/w/loss.tsv" | wc -l)" -eq 2 ]
    run sh -c "tail -n +2 '$TMP/w/report.txt' | awk '{ print \$1, \$2, \$3, \$8 }'"
    [ "$output" = "$(printf 'anli/r1 2 3 33.3\nanli/r2 2 3 33.3\nanli/r3 2 3 33.3\nsuper_glue/rte 2 3 50.0')" ]
    # make eval MODEL=dir DATA=... TEMPLATES=...: the same table for the model named
    run $MK eval $common MODEL="$TMP/w/model" WORK="$TMP/e"
    [ "$status" -eq 0 ]
    cmp "$TMP/w/report.txt" "$TMP/e/report.txt"
}

@test "the work folder: work/wordnet for the default, work/t0 with DATA=, work/MIXTURE for a mixture" {
    show="--eval=print-work: ; @echo \$(MIXTURE) \$(WORK) \$(DATA)"
    run $MK "$show" print-work
    [ "$output" = "wordnet work/wordnet work/wordnet/data" ]
    run $MK "$show" print-work DATA=/d
    [ "$output" = "t0 work/t0 /d" ]
    run $MK "$show" print-work DATA=/d MIXTURE=t0++_train
    [ "$output" = "t0++_train work/t0++_train /d" ]
    run $MK "$show" print-work MIXTURE=t1_train
    [ "$status" -ne 0 ] && [[ $output == *"MIXTURE is wordnet (the default) or one of"* ]]
}

@test "a bad row stops the run with t0-render's message and leaves no stream behind" {
    tiny_model
    mkdir -p "$TMP/data/ag_news" && { head -n 2 "$FIX/data/ag_news/train.jsonl"; echo '{"text": '; } > "$TMP/data/ag_news/train.jsonl"
    run $MK tokens MIXTURE=t0_train DATA="$TMP/data" TEMPLATES="$FIX/templates" MODEL="$TMP/model" WORK="$TMP/w" ONLY=ag_news
    [ "$status" -ne 0 ]
    [[ $output == *"t0-render: stdin:3: invalid JSON"* ]]
    [ -z "$(find "$TMP/w" -name '*.t0*')" ]
}
