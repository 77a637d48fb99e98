#!/usr/bin/env bats
# What every program promises on its command line (README "Every program reads standard input
# or files, writes standard output or -o FILE, written whole or not at all"): a closed standard
# input is a read error, FILE... are read in order as one input, '-' is standard input, and the
# help texts name files that exist.
load lib/common

setup_file() {
    local d=$BATS_FILE_TMPDIR bin=${T0_BIN:-$BATS_TEST_DIRNAME/../bin}
    zstd -q -d -f "$BATS_TEST_DIRNAME/fixtures/spm/t5-1k.model.zst" -o "$d/t5-1k.model"
    "$bin/t0-init" --config "$BATS_TEST_DIRNAME/fixtures/decode/tiny_1k.json" --seed 1 --tokenizer "$d/t5-1k.model" \
        -o "$d/model" 2>/dev/null
}

setup() {
    setup_t0
    D=$BATS_FILE_TMPDIR
    A=$ROOT/tests/fixtures/model/a_gated_untied
    t0-cat --encode -o "$TMP/tokens.t0" "$ROOT/tests/fixtures/score/a_gated_untied.tokens.jsonl"
    printf '%s\n' '{"kind":"example","task":"t","template":"p","id":0,"input":"hello world","target":"yes","choices":["yes","no"],"label":0}' \
        '{"kind":"example","task":"t","template":"p","id":1,"input":"the cat sat","target":"no","choices":["yes","no"],"label":1}' \
        > "$TMP/ex.jsonl"
    t0-cat --encode -o "$TMP/ex.t0" "$TMP/ex.jsonl"
    printf 'hello world\nthe cat sat\n' > "$TMP/lines.txt"
    cp "$ROOT/tests/fixtures/render/mini.yaml" "$ROOT/tests/fixtures/render/mini.jsonl" "$TMP/"
}

# runs "$@" with standard input closed, in $TMP/out, writing -o x; asserts a read error (exit 1,
# one line) and that no file was left: the output file must not become descriptor 0
closed_stdin() {
    rm -rf "$TMP/out" && mkdir "$TMP/out"
    run -1 bash -c 'cd "$1" && shift && "$@" -o x <&-' _ "$TMP/out" "$@"
    echo "$*: $output"
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"read error"* ]]
    [ -z "$(ls -A "$TMP/out")" ]
}

@test "closed standard input with -o: a read error, exit 1, no file, for every program that reads it" {
    closed_stdin t0-cat --encode
    closed_stdin t0-cat
    closed_stdin t0-render -t "$TMP/mini.yaml"
    closed_stdin t0-tokenize -m "$D/t5-1k.model"
    closed_stdin t0-tokenize -m "$D/t5-1k.model" --text
    closed_stdin t0-decode -m "$D/model" --max-new-tokens 2
    closed_stdin t0-decode -m "$D/model" --max-new-tokens 2 --records
    closed_stdin t0-score -m "$A"
    closed_stdin t0-score --report
    closed_stdin t0-step -m "$D/model" --threads 1
}

@test "a closed standard output is a write error, not a silent exit 0" {
    run -1 bash -c "t0-cat '$TMP/ex.t0' >&-"
    [[ $output == *"write error"* ]]
}

@test "FILE...: read in order as one input, '-' standard input, for t0-score, t0-tokenize and t0-decode" {
    t0-cat --stream --shard 0/2 "$TMP/tokens.t0" > "$TMP/t0.t0"
    t0-cat --stream --shard 1/2 "$TMP/tokens.t0" > "$TMP/t1.t0"
    cat "$TMP/t0.t0" "$TMP/t1.t0" > "$TMP/cat.t0"
    # t0-score: two files, a file and '-', and the concatenation give the same scores
    t0-score -m "$A" -o "$TMP/s-cat.t0" "$TMP/cat.t0"
    t0-score -m "$A" -o "$TMP/s-two.t0" "$TMP/t0.t0" "$TMP/t1.t0"
    t0-score -m "$A" -o "$TMP/s-dash.t0" "$TMP/t0.t0" - < "$TMP/t1.t0"
    cmp "$TMP/s-cat.t0" "$TMP/s-two.t0"
    cmp "$TMP/s-cat.t0" "$TMP/s-dash.t0"
    [ "$(t0-cat --count "$TMP/s-two.t0" | jq .records)" -eq "$(t0-cat --count "$TMP/tokens.t0" | jq .records)" ]
    # a missing file: one line naming it, no output
    run -1 t0-score -m "$A" -o "$TMP/none.t0" "$TMP/t0.t0" "$TMP/nosuch.t0"
    assert_one_error_line t0-score
    [[ $output == *"$TMP/nosuch.t0"* ]]
    [ ! -e "$TMP/none.t0" ]
    # t0-tokenize: records, and text lines
    t0-tokenize -m "$D/t5-1k.model" -o "$TMP/k-one.t0" "$TMP/ex.t0"
    t0-tokenize -m "$D/t5-1k.model" "$TMP/ex.t0" - "$TMP/ex.t0" < "$TMP/ex.t0" | t0-cat > "$TMP/k-three.jsonl"
    [ "$(cat "$TMP/k-three.jsonl")" = "$(t0-cat "$TMP/k-one.t0" "$TMP/k-one.t0" "$TMP/k-one.t0")" ]
    t0-tokenize -m "$D/t5-1k.model" --text "$TMP/lines.txt" > "$TMP/ids1"
    t0-tokenize -m "$D/t5-1k.model" --text "$TMP/lines.txt" - < "$TMP/lines.txt" > "$TMP/ids2"
    [ "$(cat "$TMP/ids2")" = "$(cat "$TMP/ids1" "$TMP/ids1")" ]
    [ "$(wc -l < "$TMP/ids1")" -eq 2 ]
    # t0-decode: prompt lines from files, and records
    t0-decode -m "$D/model" --max-new-tokens 3 --ids "$TMP/lines.txt" > "$TMP/d1"
    t0-decode -m "$D/model" --max-new-tokens 3 --ids - "$TMP/lines.txt" < "$TMP/lines.txt" > "$TMP/d2"
    [ "$(cat "$TMP/d2")" = "$(cat "$TMP/d1" "$TMP/d1")" ]
    [ "$(wc -l < "$TMP/d1")" -eq 2 ]
    t0-decode -m "$D/model" --max-new-tokens 3 --records "$TMP/ex.t0" "$TMP/ex.t0" | t0-cat > "$TMP/r2"
    [ "$(wc -l < "$TMP/r2")" -eq 4 ]
}

@test "t0-score --report reads standard input ('-' or none), as 'cat part*.t0 | t0-score --report' does" {
    t0-score -m "$A" -o "$TMP/sc.t0" "$TMP/tokens.t0"
    t0-cat --stream --shard 0/2 "$TMP/sc.t0" > "$TMP/p0.t0"
    t0-cat --stream --shard 1/2 "$TMP/sc.t0" > "$TMP/p1.t0"
    t0-score --report "$TMP/sc.t0" > "$TMP/want"
    [ "$(wc -l < "$TMP/want")" -gt 5 ]
    cat "$TMP"/p*.t0 | t0-score --report > "$TMP/stdin"
    cmp "$TMP/want" "$TMP/stdin"
    t0-score --report - < "$TMP/sc.t0" > "$TMP/dash"
    cmp "$TMP/want" "$TMP/dash"
    t0-score --report "$TMP/p1.t0" - < "$TMP/p0.t0" > "$TMP/mixed"
    cmp "$TMP/want" "$TMP/mixed"
}

@test "help texts name files that exist in the repository, and print no printf escapes" {
    local n=0
    for t in t0-cat t0-render t0-tokenize t0-pack t0-step t0-score t0-decode t0-init; do
        run -0 "$t" --help
        [[ $output != *%%* ]] || { echo "$t --help prints %%"; return 1; }
        for p in $(grep -o 'lib/[A-Za-z0-9_/.-]*[A-Za-z0-9_]' <<< "$output"); do
            [ -e "$ROOT/$p" ] || { echo "$t --help names $p, which does not exist"; return 1; }
            n=$((n + 1))
        done
    done
    [ "$n" -ge 2 ]
    run -0 t0-cat --help
    [[ $output == *"p % N == I"* && $output == *"lib/stream/stream.h"* ]]
    # the README sends readers to files of the repository
    ! grep -q "shared notes" "$ROOT/README.md"
    for p in $(grep -o 'lib/[A-Za-z0-9_/.-]*[A-Za-z0-9_]' "$ROOT/README.md" | sort -u); do
        [ -e "$ROOT/$p" ] || { echo "README.md names $p, which does not exist"; return 1; }
    done
}

@test "progress: a rewritten line on a terminal of its own; plain lines on a terminal shared by make's jobs" {
    command -v script >/dev/null || skip "no script(1) (Debian: util-linux)"
    # script(1) gives the program a terminal; the terminal adds \r before each \n (MAKELEVEL
    # unset: make check runs this test under make)
    env -u MAKELEVEL script -qec "t0-tokenize -m '$D/t5-1k.model' --text --progress '$TMP/lines.txt' > /dev/null" /dev/null > "$TMP/tty"
    grep -q $'\r.' "$TMP/tty"
    tr '\r' '\n' < "$TMP/tty" | grep -q '^t0-tokenize: 2 lines, [0-9]*/s ([0-9]:[0-9][0-9]:[0-9][0-9])$'
    ! grep -q started "$TMP/tty"
    # under make (MAKELEVEL set) the same terminal gets whole lines, which parallel jobs cannot overwrite
    MAKELEVEL=1 script -qec "t0-tokenize -m '$D/t5-1k.model' --text --progress '$TMP/lines.txt' > /dev/null" /dev/null > "$TMP/make"
    ! grep -q $'\r.' "$TMP/make"
    [ "$(tr -d '\r' < "$TMP/make" | head -1)" = "t0-tokenize: tokenizing lines: started" ]
    [[ $(tr -d '\r' < "$TMP/make" | tail -1) == "t0-tokenize: tokenizing lines: done: 2 lines, "* ]]
}
