#!/usr/bin/env bats
# t0-score: rank classification against transformers' scores (tests/fixtures/score, written by
# tests/reference/score_reference.py), bit-exact invariance to batching, threads and
# neighbours, reports, sharded evaluation, and bad input.

load lib/common

setup() {
    setup_t0
    FIX=$ROOT/tests/fixtures/score
    MODELS=$ROOT/tests/fixtures/model
    A=$MODELS/a_gated_untied
    t0-cat --encode -o "$TMP/a.t0" "$FIX/a_gated_untied.tokens.jsonl"
}

# Scores (stream $1) within ${3:-1e-4} relative of the expected JSON lines $2, preds identical.
assert_matches() {
    t0-cat "$1" > "$TMP/got.jsonl"
    run -0 jq -n --slurpfile a "$TMP/got.jsonl" --slurpfile b "$2" '
        def rel($x; $y): (($x - $y) | fabs) / ([($y | fabs), 1e-6] | max);
        if ($a | length) != ($b | length) then "count \($a | length) != \($b | length)"
        else [range(0; $a | length) as $i
              | if $a[$i].pred != $b[$i].pred then "record \($i): pred \($a[$i].pred) != \($b[$i].pred)"
                elif ($a[$i].scores | length) != ($b[$i].scores | length) then "record \($i): choices differ"
                else (range(0; $b[$i].scores | length) as $k | rel($a[$i].scores[$k]; $b[$i].scores[$k])) end]
             | if any(type == "string") then map(select(type == "string")) | first
               else "max relative error \(max)" end end'
    echo "$output"
    [[ $output == '"max relative error '* ]]
    local err=${output#\"max relative error }
    jq -en "${err%\"} <= ${3:-1e-4}"
}

@test "scores equal transformers' (t-zero's way) within 1e-4 relative, preds identical: gated untied" {
    t0-score -m "$A" -o "$TMP/a.sc" "$TMP/a.t0"
    assert_matches "$TMP/a.sc" "$FIX/a_gated_untied.expect.jsonl"
}

@test "scores equal transformers' within 1e-4 relative, preds identical: relu tied" {
    t0-cat --encode "$FIX/b_relu_tied.tokens.jsonl" | t0-score -m "$MODELS/b_relu_tied" > "$TMP/b.sc"
    assert_matches "$TMP/b.sc" "$FIX/b_relu_tied.expect.jsonl"
}

@test "BF16 weights computed as BF16, F16 widened: transformers' scores on the rounded weights, and F32's choices" {
    t0-score -m "$A" "$TMP/a.t0" | t0-cat > "$TMP/f32.jsonl"
    for w in bf16 f16; do
        t0-score -m "$FIX/a_$w" -o "$TMP/$w.sc" "$TMP/a.t0"
        # BF16 products round their inputs to 8 significant bits (2^-8 = 3.9e-3 each); the
        # reference is F32 compute on the same weights. F16 is widened: F32 compute.
        if [ $w = bf16 ]; then
            assert_matches "$TMP/$w.sc" "$FIX/a_$w.expect.jsonl" 1e-2
            # and BF16 it is: the scores are not F32 compute's
            local e=${output#\"max relative error }
            jq -en "${e%\"} > 1e-5"
        else
            assert_matches "$TMP/$w.sc" "$FIX/a_$w.expect.jsonl"
        fi
        # the same choice as F32 wherever F32's margin is not a near-tie (>= 0.01)
        run -0 jq -n --slurpfile f "$TMP/f32.jsonl" --slurpfile g "$TMP/got.jsonl" \
            --slurpfile e "$FIX/a_gated_untied.expect.jsonl" \
            '[range(0; $e | length) | select($e[.].margin >= 0.01) | $f[.].pred == $g[.].pred] | [length, all]'
        echo "$w: $output"
        echo "$output" | jq -e '.[0] >= 30 and .[1]'
    done
}

@test "bit-identical scores for --batch 1, 7 and 64, and 1 or 2 threads" {
    t0-score -m "$A" --batch 1 -o "$TMP/b1.sc" "$TMP/a.t0"
    t0-score -m "$A" --batch 7 -o "$TMP/b7.sc" "$TMP/a.t0"
    t0-score -m "$A" --batch 64 -o "$TMP/b64.sc" "$TMP/a.t0"
    t0-score -m "$A" --batch 64 --threads 2 -o "$TMP/t2.sc" "$TMP/a.t0"
    t0-score -m "$A" --batch 3 --threads 2 -o "$TMP/t2b3.sc" "$TMP/a.t0"
    cmp "$TMP/b1.sc" "$TMP/b7.sc"
    cmp "$TMP/b1.sc" "$TMP/b64.sc"
    cmp "$TMP/b1.sc" "$TMP/t2.sc"
    cmp "$TMP/b1.sc" "$TMP/t2b3.sc"
    # the same with BF16 weights computed as BF16
    t0-score -m "$FIX/a_bf16" --batch 1 -o "$TMP/h1.sc" "$TMP/a.t0"
    t0-score -m "$FIX/a_bf16" --batch 64 --threads 2 -o "$TMP/h64.sc" "$TMP/a.t0"
    cmp "$TMP/h1.sc" "$TMP/h64.sc"
}

@test "an example's scores do not depend on its neighbours: reversed order, subsets, other examples" {
    t0-score -m "$A" --batch 16 "$TMP/a.t0" | t0-cat > "$TMP/all.jsonl"
    # reversed input: the same records, reversed
    t0-cat "$TMP/a.t0" | tac | t0-cat --encode | t0-score -m "$A" --batch 16 | t0-cat | tac > "$TMP/rev.jsonl"
    cmp "$TMP/all.jsonl" "$TMP/rev.jsonl"
    # every third example alone
    t0-cat --stream --shard 1/3 "$TMP/a.t0" | t0-score -m "$A" --batch 16 | t0-cat > "$TMP/third.jsonl"
    t0-cat --encode "$TMP/all.jsonl" | t0-cat --shard 1/3 | cmp - "$TMP/third.jsonl"
    # beside the other model's examples (other lengths, other choice counts)
    jq -c '.id += 1000' "$FIX/b_relu_tied.tokens.jsonl" > "$TMP/other.jsonl"
    t0-cat "$TMP/a.t0" | paste -d '\n' - <(head -n 40 "$TMP/other.jsonl") | t0-cat --encode |
        t0-score -m "$A" --batch 5 --threads 2 | t0-cat | jq -c 'select(.id < 1000)' > "$TMP/mixed.jsonl"
    cmp "$TMP/all.jsonl" "$TMP/mixed.jsonl"
}

@test "pred is the best score, the first on ties; label passes through" {
    t0-score -m "$A" "$TMP/a.t0" | t0-cat > "$TMP/s.jsonl"
    run -0 jq -s 'map(. as $r | ($r.scores | max) as $m | [$r.scores | to_entries[] | select(.value == $m) | .key][0] == $r.pred) | all' "$TMP/s.jsonl"
    [ "$output" = true ]
    t0-cat "$TMP/a.t0" | jq -c '[.id, .label]' > "$TMP/l1"
    jq -c '[.id, .label]' "$TMP/s.jsonl" > "$TMP/l2"
    cmp "$TMP/l1" "$TMP/l2"
}

@test "--max-input-len keeps the first N input ids" {
    printf '%s\n' '{"kind":"tokens","task":"t","template":"p","id":0,"input_ids":[5,6,7,8,9],"target_ids":[9,11],"choice_ids":[[9,11],[3,11]],"label":0}' > "$TMP/long.jsonl"
    jq -c '.input_ids = .input_ids[:3]' "$TMP/long.jsonl" > "$TMP/short.jsonl"
    t0-cat --encode "$TMP/long.jsonl" | t0-score -m "$A" --max-input-len 3 | t0-cat > "$TMP/cut.jsonl"
    t0-cat --encode "$TMP/short.jsonl" | t0-score -m "$A" | t0-cat > "$TMP/s.jsonl"
    cmp "$TMP/cut.jsonl" "$TMP/s.jsonl"
    t0-cat --encode "$TMP/long.jsonl" | t0-score -m "$A" --max-input-len 0 | t0-cat > "$TMP/all.jsonl"
    ! cmp -s "$TMP/all.jsonl" "$TMP/s.jsonl"
}

@test "report: accuracy (percent) per template and the median, mean, min, max per task" {
    t0-score -m "$A" -o "$TMP/a.sc" "$TMP/a.t0"
    t0-cat "$TMP/a.sc" > "$TMP/a.jsonl"
    run -0 t0-score --report --json "$TMP/a.sc"
    echo "$output" > "$TMP/rep.json"
    # recompute from the score records with jq
    run -0 jq -n --slurpfile s "$TMP/a.jsonl" --slurpfile r "$TMP/rep.json" '
        [$s[] | select(.label >= 0)] | group_by([.task, .template])
        | map({task: .[0].task, template: .[0].template, examples: length,
               correct: map(select(.pred == .label)) | length})
        | map(.accuracy_pct = 100 * .correct / .examples) as $t
        | ($t | group_by(.task) | map(map(.accuracy_pct) | sort
              | {median: (if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end),
                 mean: (add / length), min: min, max: max})) as $k
        | ($r[0].templates | map({task, template, examples, correct, accuracy_pct})) == $t
          and ($r[0].tasks | map({median, mean, min, max})) == $k'
    [ "$output" = true ]
    run -0 jq -r '.tasks | map(.task) | join(" ")' "$TMP/rep.json"
    [ "$output" = "cb copa rte" ]
    run -0 t0-score --report --csv "$TMP/a.sc"
    [ "${lines[0]}" = "task,template,examples,correct,accuracy_pct" ]
    [ "${#lines[@]}" -eq 13 ]
    run -0 t0-score --report "$TMP/a.sc"
    [[ ${lines[0]} =~ ^task\ +template\ +examples\ +correct\ +accuracy\ %$ ]]
    [[ $output == *"(1 without label)"* ]]
}

@test "sharded scoring: any shard order gives the unsharded report byte for byte" {
    t0-score -m "$A" -o "$TMP/a.sc" "$TMP/a.t0"
    for i in 0 1 2; do
        t0-cat --stream --shard $i/3 "$TMP/a.t0" | t0-score -m "$A" --batch 4 > "$TMP/s$i.sc"
    done
    cat "$TMP/s2.sc" "$TMP/s0.sc" "$TMP/s1.sc" > "$TMP/cat.sc"
    for f in "" --json --csv; do
        t0-score --report $f "$TMP/a.sc" > "$TMP/one.txt"
        t0-score --report $f "$TMP/cat.sc" > "$TMP/sh.txt"
        cmp "$TMP/one.txt" "$TMP/sh.txt"
        t0-score --report $f "$TMP/s1.sc" "$TMP/s0.sc" "$TMP/s2.sc" | cmp - "$TMP/one.txt"
    done
}

@test "make eval-tokens: sharded under GNU parallel, the report equals the unsharded one" {
    command -v parallel || skip "GNU parallel is not installed"
    t0-cat --encode -o "$TMP/b.t0" "$FIX/b_relu_tied.tokens.jsonl"
    t0-cat "$TMP/a.t0" "$TMP/b.t0" | t0-cat --encode | t0-score -m "$A" | t0-score --report - > "$TMP/one.txt"
    run -0 make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$A" TOKENS="$TMP/a.t0 $TMP/b.t0" SHARDS=3 WORK="$TMP/work"
    echo "$output" > "$TMP/sh.txt"
    cmp "$TMP/one.txt" "$TMP/sh.txt"
    [ -s "$TMP/work/joblog" ]
    [ "$(ls "$TMP/work"/shard-*.scores | wc -l)" -eq 3 ]
}

@test "make eval-tokens HOSTS=: (this machine as the one ssh login) gives the same report" {
    command -v parallel || skip "GNU parallel is not installed"
    t0-score -m "$A" "$TMP/a.t0" | t0-score --report - > "$TMP/one.txt"
    make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$A" TOKENS="$TMP/a.t0" SHARDS=2 WORK="$TMP/work" \
        HOSTS=: > "$TMP/sh.txt"
    cmp "$TMP/one.txt" "$TMP/sh.txt"
}

@test "make eval-tokens stops when a shard fails" {
    command -v parallel || skip "GNU parallel is not installed"
    printf '%s\n' '{"kind":"tokens","task":"t","template":"p","id":0,"input_ids":[5,600],"target_ids":[9,11],"choice_ids":[[9,11]],"label":0}' |
        t0-cat --encode > "$TMP/bad.t0"
    run -2 make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$A" TOKENS="$TMP/bad.t0" SHARDS=2 WORK="$TMP/work"
    [[ $output == *"beyond the model's vocabulary"* ]]
    [ ! -e "$TMP/work/scores" ]
}

@test "wrong record kind: one line naming the kind and the tool that makes tokens" {
    printf '%s\n' '{"kind":"example","task":"t","template":"p","id":0,"input":"a","target":"b","choices":["b"],"label":0}' |
        t0-cat --encode > "$TMP/ex.t0"
    run -1 t0-score -m "$A" -o "$TMP/out.sc" "$TMP/ex.t0"
    assert_one_error_line t0-score
    [[ $output == *"record 1: expected tokens, got example (run t0-tokenize first)"* ]]
    [ ! -e "$TMP/out.sc" ]
    run -1 t0-score --report "$TMP/a.t0"
    [[ $output == *"expected score, got tokens"* ]]
}

@test "an example without choices is an error naming it, or skipped and counted with --skip-unscorable" {
    { head -n 3 "$FIX/a_gated_untied.tokens.jsonl"
      printf '%s\n' '{"kind":"tokens","task":"copa","template":"p","id":77,"input_ids":[5,6],"target_ids":[],"choice_ids":[],"label":-1}'
      printf '%s\n' '{"kind":"tokens","task":"copa","template":"p","id":78,"input_ids":[],"target_ids":[],"choice_ids":[[3,11]],"label":-1}'
      sed -n 4,5p "$FIX/a_gated_untied.tokens.jsonl"; } | t0-cat --encode > "$TMP/nc.t0"
    run -1 t0-score -m "$A" -o "$TMP/out.sc" "$TMP/nc.t0"
    assert_one_error_line t0-score
    [[ $output == *"record 4 (copa/p id 77): no answer choices"* ]]
    [ ! -e "$TMP/out.sc" ]
    run -0 t0-score -m "$A" --skip-unscorable -o "$TMP/out.sc" "$TMP/nc.t0"
    [ "$output" = "t0-score: 2 unscorable examples left out (no answer choices or no input)" ]
    run -0 t0-cat --count "$TMP/out.sc"
    [[ $output == '{"records":5,'* ]]
}

@test "ids beyond the vocabulary, in the input or a choice, are errors naming the example" {
    printf '%s\n' '{"kind":"tokens","task":"t","template":"p","id":3,"input_ids":[5,96],"target_ids":[9,11],"choice_ids":[[9,11]],"label":0}' |
        t0-cat --encode > "$TMP/v1.t0"
    run -1 t0-score -m "$A" "$TMP/v1.t0"
    assert_one_error_line t0-score
    [[ $output == *"(t/p id 3): input id 96 is beyond the model's vocabulary (96)"* ]]
    printf '%s\n' '{"kind":"tokens","task":"t","template":"p","id":4,"input_ids":[5],"target_ids":[9,11],"choice_ids":[[9,11],[-1,11]],"label":0}' |
        t0-cat --encode > "$TMP/v2.t0"
    run -1 t0-score -m "$A" "$TMP/v2.t0"
    [[ $output == *"(t/p id 4): choice 1: id -1 is beyond the model's vocabulary (96)"* ]]
}

@test "a truncated stream is an error and leaves no output" {
    head -c $(($(stat -c %s "$TMP/a.t0") - 20)) "$TMP/a.t0" > "$TMP/cut.t0"
    run -1 t0-score -m "$A" -o "$TMP/out.sc" "$TMP/cut.t0"
    assert_one_error_line t0-score
    [ ! -e "$TMP/out.sc" ]
    echo keep > "$TMP/keep.sc"
    run -1 t0-score -m "$A" -o "$TMP/keep.sc" "$TMP/cut.t0"
    [ "$(cat "$TMP/keep.sc")" = keep ]
}

@test "a missing or broken model directory is one clear error" {
    run -1 t0-score -m "$TMP/nope" "$TMP/a.t0"
    assert_one_error_line t0-score
    mkdir "$TMP/m" && cp "$A/config.json" "$TMP/m/"
    run -1 t0-score -m "$TMP/m" "$TMP/a.t0"
    assert_one_error_line t0-score
    [[ $output == *model.safetensors* ]]
}

@test "usage errors and --help" {
    run -0 t0-score --help
    [[ $output == *"make eval-tokens"* ]]
    run -1 t0-score "$TMP/a.t0"
    [[ $output == *"-m MODEL is required"* ]]
    run -1 t0-score --report --json --csv "$TMP/a.t0"
    run -1 t0-score --json -m "$A" "$TMP/a.t0"
    run -1 t0-score --report
    run -1 t0-score -m "$A" --batch 0 "$TMP/a.t0"
    run -1 t0-score -m "$A" --threads x "$TMP/a.t0"
}

@test "-o to a FIFO writes through it and leaves it a FIFO (a device is never replaced)" {
    mkfifo "$TMP/pipe"
    cat "$TMP/pipe" > "$TMP/got.sc" &
    t0-score -m "$A" -o "$TMP/pipe" "$TMP/a.t0"
    wait
    [ -p "$TMP/pipe" ]
    t0-score -m "$A" "$TMP/a.t0" | cmp - "$TMP/got.sc"
    cat "$TMP/pipe" > "$TMP/rep.txt" &
    t0-score --report -o "$TMP/pipe" "$TMP/got.sc"
    wait
    [ -p "$TMP/pipe" ]
    t0-score --report "$TMP/got.sc" | cmp - "$TMP/rep.txt"
}

@test "OpenBLAS on fallback kernels: a note on stderr, the same scores on stdout" {
    grep -qw avx2 /proc/cpuinfo || skip "no AVX2 here: nothing better than the fallback"
    t0-score -m "$A" -o "$TMP/good.sc" "$TMP/a.t0"
    OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr t0-score -m "$A" -o "$TMP/slow.sc" "$TMP/a.t0"
    [[ $stderr == "t0-score: note: OpenBLAS runs its Prescott kernels"*"set OPENBLAS_CORETYPE="* ]]
    assert_matches "$TMP/slow.sc" "$FIX/a_gated_untied.expect.jsonl"
}

@test "--dtype int8: the same bits for any --batch and --threads and in the plain C kernel; scores near F32's" {
    t0-score -m "$A" --dtype int8 --batch 1 -o "$TMP/i1.sc" "$TMP/a.t0"
    t0-score -m "$A" --dtype int8 --batch 64 --threads 2 -o "$TMP/i64.sc" "$TMP/a.t0"
    T0_BF16_PLAIN=1 t0-score -m "$A" --dtype int8 --batch 7 -o "$TMP/plain.sc" "$TMP/a.t0"
    cmp "$TMP/i1.sc" "$TMP/i64.sc"
    cmp "$TMP/i1.sc" "$TMP/plain.sc" # every int8 kernel sums exactly and scales alike
    ! cmp -s "$TMP/i1.sc" <(t0-score -m "$A" "$TMP/a.t0")
    # against transformers' F32 scores (sums of log-probabilities of a random 32-dimension
    # model, where rounding to 127 steps weighs most and choices nearly tie, so a pred may
    # flip): every score within 10% relative (measured: printed)
    t0-cat "$TMP/i1.sc" > "$TMP/got.jsonl"
    run -0 jq -n --slurpfile a "$TMP/got.jsonl" --slurpfile b "$FIX/a_gated_untied.expect.jsonl" '
        [range(0; $b | length) as $i | range(0; $b[$i].scores | length) as $k
         | (($a[$i].scores[$k] - $b[$i].scores[$k]) | fabs) / ([$b[$i].scores[$k] | fabs, 1e-6] | max)] | max'
    echo "int8 scores: max relative error $output"
    jq -en "$output <= 0.1"
}

@test "--dtype: only stored or int8, one line, exit 1" {
    run -1 t0-score -m "$A" --dtype int4 "$TMP/a.t0"
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"--dtype"*"int4"* ]]
}
