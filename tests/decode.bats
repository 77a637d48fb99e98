#!/usr/bin/env bats
# t0-decode: prompt lines in, one output line each, in order. Ids against transformers are
# checked by tests/unit/test_generate.c; here the tool: order across batch sizes, empty
# lines, long prompts, bad input, bad model directories, sampling seeds, -i under a
# pseudo-terminal (tmux).
load lib/common

setup_file() {
    local d=$BATS_FILE_TMPDIR
    zstd -q -d -f "$BATS_TEST_DIRNAME/fixtures/spm/t5-1k.model.zst" -o "$d/t5-1k.model"
    local cfg="$BATS_TEST_DIRNAME/fixtures/decode/tiny_1k.json" bin=${T0_BIN:-$BATS_TEST_DIRNAME/../bin}
    "$bin/t0-init" --config "$cfg" --seed 1 --tokenizer "$d/t5-1k.model" -o "$d/f32" 2>/dev/null
    "$bin/t0-init" --config "$cfg" --seed 1 --tokenizer "$d/t5-1k.model" --dtype bf16 -o "$d/bf16" 2>/dev/null
    {
        echo "Is this review positive or negative? Review: the best cast iron skillet I ever bought"
        echo "Hello world"
        echo ""
        echo "Translate to French: the cat sat on the mat."
        echo "Question: who wrote Hamlet? Answer:"
        echo ""
        echo ""
        for i in 1 2 3 4 5 6 7 8 9 10 11; do echo "prompt number $i about things"; done
    } >"$d/prompts.txt"
}

setup() {
    setup_t0
    D=$BATS_FILE_TMPDIR
}

@test "one line per prompt, in order, the same for every batch size (BF16 weights)" {
    run -0 t0-decode -m "$D/bf16" --max-new-tokens 6 --ids --batch 1 -o "$TMP/b1" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/bf16" --max-new-tokens 6 --ids --batch 7 -o "$TMP/b7" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/bf16" --max-new-tokens 6 --ids --batch 64 -o "$TMP/b64" <"$D/prompts.txt"
    [ "$(wc -l <"$TMP/b1")" -eq "$(wc -l <"$D/prompts.txt")" ]
    cmp "$TMP/b1" "$TMP/b7"
    cmp "$TMP/b1" "$TMP/b64"
    # line 4 alone gives line 4
    sed -n 4p "$D/prompts.txt" | t0-decode -m "$D/bf16" --max-new-tokens 6 --ids >"$TMP/one"
    [ "$(cat "$TMP/one")" = "$(sed -n 4p "$TMP/b1")" ]
}

@test "empty prompt lines give empty output lines; others do not" {
    run -0 t0-decode -m "$D/f32" --max-new-tokens 4 --ids -o "$TMP/out" <"$D/prompts.txt"
    paste -d '|' "$D/prompts.txt" "$TMP/out" >"$TMP/pairs"
    run -0 awk -F '|' '($1 == "") != ($2 == "") { bad++ } END { print bad + 0 }' "$TMP/pairs"
    [ "$output" = 0 ]
    [ "$(grep -c '^$' "$TMP/out")" -eq 3 ]
    printf '\n\n' | t0-decode -m "$D/f32" >"$TMP/empty"
    printf '\n\n' | cmp - "$TMP/empty"
}

@test "text output is the decoding of the ids" {
    run -0 t0-decode -m "$D/f32" --max-new-tokens 6 --ids -o "$TMP/ids" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/f32" --max-new-tokens 6 -o "$TMP/text" <"$D/prompts.txt"
    # drop a final EOS (1) before decoding, as t0-decode does
    sed 's/ 1$//; s/^1$//' "$TMP/ids" | t0-tokenize -m "$D/t5-1k.model" --decode >"$TMP/decoded"
    cmp "$TMP/decoded" "$TMP/text"
}

@test "a prompt longer than --max-input is cut, with one warning for the run" {
    long=$(printf 'word %.0s' $(seq 200))
    printf '%s\n%s\n' "$long" "$long" >"$TMP/long"
    run -0 --separate-stderr t0-decode -m "$D/f32" --max-new-tokens 3 --max-input 16 --ids <"$TMP/long"
    [ "${#lines[@]}" -eq 2 ]
    [ "$(echo "$stderr" | wc -l)" -eq 1 ]
    [[ $stderr == "t0-decode: line 1: prompt of "*" tokens cut to 16"* ]]
    [ "${lines[0]}" = "${lines[1]}" ]
}

@test "--input-eos changes what the model sees" {
    echo "Hello world" | t0-decode -m "$D/f32" --max-new-tokens 8 --ids >"$TMP/a"
    echo "Hello world" | t0-decode -m "$D/f32" --max-new-tokens 8 --ids --input-eos >"$TMP/b"
    ! cmp -s "$TMP/a" "$TMP/b"
}

@test "invalid UTF-8 is an error naming the line, and no output file is left" {
    printf 'good line\n\xff\xfe bad\n' >"$TMP/bad"
    run -1 t0-decode -m "$D/f32" --max-new-tokens 2 -o "$TMP/out" <"$TMP/bad"
    assert_one_error_line t0-decode
    [[ $output == *"line 2: invalid UTF-8"* ]]
    [ ! -e "$TMP/out" ]
}

@test "bad model directories: one line, exit 1" {
    run -1 t0-decode -m "$TMP/nothing-here" </dev/null
    assert_one_error_line t0-decode
    mkdir "$TMP/notok" && cp "$D/f32/config.json" "$D/f32/model.safetensors" "$TMP/notok/"
    run -1 t0-decode -m "$TMP/notok" </dev/null
    assert_one_error_line t0-decode
    mkdir "$TMP/trunc" && cp "$D/f32/config.json" "$D/f32/spiece.model" "$TMP/trunc/"
    head -c 5000 "$D/f32/model.safetensors" >"$TMP/trunc/model.safetensors"
    run -1 t0-decode -m "$TMP/trunc" </dev/null
    assert_one_error_line t0-decode
    mkdir "$TMP/badcfg" && cp "$D/f32/model.safetensors" "$D/f32/spiece.model" "$TMP/badcfg/"
    echo '{"d_model": ' >"$TMP/badcfg/config.json"
    run -1 t0-decode -m "$TMP/badcfg" </dev/null
    assert_one_error_line t0-decode
}

@test "usage errors exit 1" {
    run -1 t0-decode </dev/null
    run -1 t0-decode -m "$D/f32" --beam 2 --num-return 3 </dev/null
    assert_one_error_line t0-decode
    run -1 t0-decode -m "$D/f32" --sample --beam 2 </dev/null
    run -1 t0-decode -m "$D/f32" --top-p 1.5 </dev/null
    assert_one_error_line t0-decode
    run -1 t0-decode -m "$D/f32" extra-arg </dev/null
    run -0 t0-decode --help
    [[ $output == *"Usage: t0-decode"* ]]
    run -0 t0-decode --version
}

@test "beam search: num-return sequences tab-separated, the first the best" {
    run -0 t0-decode -m "$D/f32" --max-new-tokens 6 --ids --beam 4 --num-return 3 -o "$TMP/beam" <"$D/prompts.txt"
    run -0 awk -F '\t' 'NF != 0 && NF != 3 { bad++ } END { print bad + 0 }' "$TMP/beam"
    [ "$output" = 0 ]
    run -0 t0-decode -m "$D/f32" --max-new-tokens 6 --ids --beam 4 -o "$TMP/beam1" <"$D/prompts.txt"
    cut -f1 "$TMP/beam" | cmp - "$TMP/beam1"
}

@test "beam search to an odd number of new tokens (its two id buffers end swapped)" {
    for n in 1 2 5; do
        run -0 t0-decode -m "$D/f32" --max-new-tokens "$n" --ids --beam 3 --num-return 2 -o "$TMP/beam$n" <"$D/prompts.txt"
        [ "$(wc -l <"$TMP/beam$n")" = "$(wc -l <"$D/prompts.txt")" ]
    done
}

@test "sampling: the same per seed across runs and batch sizes, another seed differs" {
    opts="--sample --seed 7 --temperature 1.3 --top-k 40 --top-p 0.95 --max-new-tokens 8 --ids --num-return 2"
    run -0 t0-decode -m "$D/bf16" $opts --batch 1 -o "$TMP/s1" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/bf16" $opts --batch 5 -o "$TMP/s5" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/bf16" $opts --batch 5 -o "$TMP/s5b" <"$D/prompts.txt"
    cmp "$TMP/s1" "$TMP/s5"
    cmp "$TMP/s5" "$TMP/s5b"
    run -0 t0-decode -m "$D/bf16" ${opts/--seed 7/--seed 8} -o "$TMP/s8" <"$D/prompts.txt"
    ! cmp -s "$TMP/s1" "$TMP/s8"
}

@test "-i under a pseudo-terminal: a prompt, its answer, the next prompt" {
    command -v tmux >/dev/null || skip "tmux is not installed (make deps)"
    sock="t0dec$$"
    expected=$(echo "Hello world" | t0-decode -m "$D/f32" --max-new-tokens 8)
    tmux -L "$sock" new-session -d -x 200 -y 20 "$T0_BIN/t0-decode -m $D/f32 -i --max-new-tokens 8; sleep 5"
    # the first prompt marker, then a question
    for i in $(seq 50); do tmux -L "$sock" capture-pane -p | grep -q '^> ' && break; sleep 0.1; done
    tmux -L "$sock" send-keys 'Hello world' Enter
    for i in $(seq 50); do [ "$(tmux -L "$sock" capture-pane -p | grep -c '^> ')" -ge 2 ] && break; sleep 0.1; done
    screen=$(tmux -L "$sock" capture-pane -p)
    tmux -L "$sock" send-keys C-d
    tmux -L "$sock" kill-server 2>/dev/null || true
    echo "$screen"
    [ "$(echo "$screen" | sed -n 1p)" = "> Hello world" ]
    [ "$(echo "$screen" | sed -n 2p)" = "$expected" ]
    [ "$(echo "$screen" | sed -n 3p)" = "> " ] || [ "$(echo "$screen" | sed -n 3p)" = ">" ]
}

@test "--records: example records get the text as target, token records the ids, in order" {
    head -6 "$D/prompts.txt" | jq -R -c '{kind: "example", task: "t", template: "x", id: 0, input: ., target: "", choices: [], label: -1}' |
        t0-cat --encode -o "$TMP/ex.t0"
    run -0 t0-decode -m "$D/f32" --max-new-tokens 5 -r -o "$TMP/out.t0" <"$TMP/ex.t0"
    head -6 "$D/prompts.txt" | t0-decode -m "$D/f32" --max-new-tokens 5 >"$TMP/lines"
    t0-cat "$TMP/out.t0" | jq -r .target | cmp - "$TMP/lines"
    t0-tokenize -m "$D/t5-1k.model" -o "$TMP/tok.t0" "$TMP/ex.t0"
    run -0 t0-decode -m "$D/f32" --max-new-tokens 5 -r -o "$TMP/tout.t0" <"$TMP/tok.t0"
    head -6 "$D/prompts.txt" | t0-decode -m "$D/f32" --max-new-tokens 5 --ids >"$TMP/ids"
    t0-cat "$TMP/tout.t0" | jq -r '.target_ids | map(tostring) | join(" ")' | cmp - "$TMP/ids"
    # other kinds are refused, and no output file is left
    t0-cat "$TMP/tout.t0" | jq -c '{kind: "score", task, template, id, scores: [0.5], pred: 0, label: 0}' | t0-cat --encode -o "$TMP/score.t0"
    run -1 t0-decode -m "$D/f32" -r -o "$TMP/none.t0" <"$TMP/score.t0"
    assert_one_error_line t0-decode
    [[ $output == *"record 1: expected example or tokens, got score"* ]]
    [ ! -e "$TMP/none.t0" ]
}

@test "the plain C BF16 loops (T0_BF16_PLAIN=1) pass the generation unit tests too" {
    [ -x "${T0_BUILD:-}/tests/test_generate" ] || skip "no unit test build (run through make check)"
    cd "$ROOT"
    T0_BF16_PLAIN=1 run -0 "$T0_BUILD/tests/test_generate"
    [[ $output == *"(plain kernel, 5 rows)"* ]]
    [[ $output == *"0 failed"* ]]
}

@test "OpenBLAS on fallback kernels: a note on stderr, the prompt still answered from stdin" {
    grep -qw avx2 /proc/cpuinfo || skip "no AVX2 here: nothing better than the fallback"
    OPENBLAS_CORETYPE=Prescott run -0 --separate-stderr bash -c "sed -n 2p '$D/prompts.txt' | t0-decode -m '$D/f32' --max-new-tokens 4 --ids"
    [[ $stderr == "t0-decode: note: OpenBLAS runs its Prescott kernels"*"set OPENBLAS_CORETYPE="* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ -n "${lines[0]}" ]
}

@test "a generated id past the tokenizer's pieces: left out of the text as transformers' tokenizer does, one warning, exit 0" {
    # 1600 rows for the tokenizer's 1100 ids (T5's models: 32128 for 32100): a random model
    # generates such ids often
    jq '.vocab_size = 1600' "$BATS_TEST_DIRNAME/fixtures/decode/tiny_1k.json" > "$TMP/big.json"
    t0-init --config "$TMP/big.json" --seed 1 --tokenizer "$D/t5-1k.model" -o "$TMP/big" 2>/dev/null
    head -5 "$D/prompts.txt" > "$TMP/p.txt"
    t0-decode -m "$TMP/big" --max-new-tokens 8 --ids "$TMP/p.txt" > "$TMP/ids"
    # the test means something only if some generated id is past the tokenizer
    [ "$(tr ' ' '\n' < "$TMP/ids" | awk '$1 >= 1100' | wc -l)" -gt 1 ]
    run -0 --separate-stderr t0-decode -m "$TMP/big" --max-new-tokens 8 -o "$TMP/text" "$TMP/p.txt"
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "t0-decode: warning: prompt "*": generated id "*" has no piece in the tokenizer (1100): left out of the text"* ]]
    # the text is the decoding of the ids the tokenizer has (EOS, when generated, decodes to nothing)
    awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i < 1100) s = s (s == "" ? "" : " ") $i; print s }' "$TMP/ids" |
        t0-tokenize -m "$D/t5-1k.model" --decode > "$TMP/want"
    cmp "$TMP/want" "$TMP/text"
    [ "$(wc -l < "$TMP/text")" -eq 5 ]
}

@test "--dtype int8: one line per prompt, the same for every batch size, and the plain C kernel's ids" {
    run -0 t0-decode -m "$D/f32" --dtype int8 --max-new-tokens 6 --ids --batch 1 -o "$TMP/b1" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/f32" --dtype int8 --max-new-tokens 6 --ids --batch 64 -o "$TMP/b64" <"$D/prompts.txt"
    T0_BF16_PLAIN=1 run -0 t0-decode -m "$D/bf16" --dtype int8 --max-new-tokens 6 --ids --batch 7 -o "$TMP/plain" <"$D/prompts.txt"
    run -0 t0-decode -m "$D/bf16" --dtype int8 --max-new-tokens 6 --ids --batch 7 -o "$TMP/bf16" <"$D/prompts.txt"
    [ "$(wc -l <"$TMP/b1")" -eq "$(wc -l <"$D/prompts.txt")" ]
    cmp "$TMP/b1" "$TMP/b64"
    cmp "$TMP/plain" "$TMP/bf16" # every int8 kernel gives the same bits
    run -1 t0-decode -m "$D/f32" --dtype f8 <"$D/prompts.txt"
    [[ $output == *"--dtype"* ]]
}
