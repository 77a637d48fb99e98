#!/usr/bin/env bats
# t0-cat and the record stream format: round trips, selection, and bad input.

load lib/common

setup() {
    setup_t0
    cat > "$TMP/mixed.jsonl" <<'JSON'
{"kind":"example","task":"imdb","template":"sentiment","id":0,"input":"Is this review positive? Review: Great film, 10/10 ✓","target":"yes","choices":["no","yes"],"label":1}
{"kind":"example","task":"glue/mrpc","template":"equivalent","id":7,"input":"","target":"","choices":[],"label":-1}
{"kind":"tokens","task":"imdb","template":"sentiment","id":0,"input_ids":[27,19,48,1],"target_ids":[4273,1],"choice_ids":[[150,1],[4273,1]],"label":1}
{"kind":"score","task":"super_glue/rte","template":"GPT-3 style","id":12,"scores":[-1.25,-0.1,-3.0000000000000004,"-inf"],"pred":1,"label":0}
{"kind":"batch","encoder_input_tokens":[[1,2,3],[4,5,0]],"encoder_segment_ids":[[1,1,2],[1,1,0]],"encoder_positions":[[0,1,0],[0,1,0]],"decoder_target_tokens":[[7,1],[8,1]],"decoder_input_tokens":[[0,7],[0,8]],"decoder_segment_ids":[[1,1],[1,1]],"decoder_positions":[[0,1],[0,1]],"decoder_loss_weights":[[1,1],[1,1]]}
JSON
}

@test "JSON lines round-trip through a stream unchanged" {
    run -0 t0-cat --encode -o "$TMP/mixed.t0" "$TMP/mixed.jsonl"
    run -0 t0-cat -o "$TMP/back.jsonl" "$TMP/mixed.t0"
    cmp "$TMP/mixed.jsonl" "$TMP/back.jsonl"
}

@test "every kind round-trips stream -> JSON -> stream byte for byte" {
    t0-cat --encode "$TMP/mixed.jsonl" > "$TMP/a.t0"
    t0-cat "$TMP/a.t0" | t0-cat --encode > "$TMP/b.t0"
    cmp "$TMP/a.t0" "$TMP/b.t0"
    run -0 t0-cat --count "$TMP/a.t0"
    [ "$output" = '{"records":5,"kinds":{"example":2,"tokens":1,"batch":1,"score":1},"tasks":{"imdb":2,"glue/mrpc":1,"super_glue/rte":1}}' ]
}

@test "unicode, escapes and control characters survive" {
    printf '%s\n' '{"kind":"example","task":"t","input":"naïve café — 日本語 😀 \u0001\u001f tab\tnew\nline \"q\" back\\slash","target":"x"}' > "$TMP/u.jsonl"
    t0-cat --encode "$TMP/u.jsonl" > "$TMP/u.t0"
    run -0 bash -c "t0-cat '$TMP/u.t0' | jq -r .input"
    [ "$output" = "$(printf 'naïve café — 日本語 😀 \001\037 tab\tnew\nline "q" back\\slash')" ]
    t0-cat "$TMP/u.t0" | t0-cat --encode | cmp - "$TMP/u.t0"
}

@test "a 1 MB string round-trips" {
    head -c 1000000 /dev/zero | tr '\0' 'a' |
        jq -Rsc '{kind:"example",task:"t",template:"",id:0,input:.,target:"",choices:[],label:-1}' > "$TMP/big.jsonl"
    t0-cat --encode "$TMP/big.jsonl" > "$TMP/big.t0"
    t0-cat "$TMP/big.t0" | cmp - "$TMP/big.jsonl"
    [ "$(t0-cat "$TMP/big.t0" | jq -r '.input | length')" -eq 1000000 ]
}

@test "a 1024x1024 batch round-trips" {
    jq -cn '[range(1024) as $r | [range(1024) | . + $r]] as $m
            | {kind:"batch", encoder_input_tokens:$m, encoder_segment_ids:$m, encoder_positions:$m,
               decoder_target_tokens:$m, decoder_input_tokens:$m, decoder_segment_ids:$m,
               decoder_positions:$m, decoder_loss_weights:$m}' > "$TMP/batch.jsonl"
    t0-cat --encode "$TMP/batch.jsonl" > "$TMP/batch.t0"
    t0-cat "$TMP/batch.t0" | cmp - "$TMP/batch.jsonl"
    [ "$(t0-cat "$TMP/batch.t0" | jq '.decoder_loss_weights[1023][1023]')" -eq 2046 ]
}

@test "two concatenated streams are one stream" {
    t0-cat --encode "$TMP/mixed.jsonl" > "$TMP/a.t0"
    cat "$TMP/a.t0" "$TMP/a.t0" > "$TMP/aa.t0"
    run -0 bash -c "t0-cat '$TMP/aa.t0' | wc -l"
    [ "$output" -eq 10 ]
    cat "$TMP/mixed.jsonl" "$TMP/mixed.jsonl" | cmp - <(t0-cat "$TMP/aa.t0")
    # several files and stdin give the same records
    t0-cat "$TMP/a.t0" - < "$TMP/a.t0" | cmp - <(t0-cat "$TMP/aa.t0")
}

@test "pipes: stdin to stdout, and --stream passes records through" {
    run -0 bash -c "set -o pipefail; t0-cat --encode < '$TMP/mixed.jsonl' | t0-cat --stream | t0-cat | cmp - '$TMP/mixed.jsonl'"
}

@test "--head, --task and --count select" {
    t0-cat --encode "$TMP/mixed.jsonl" > "$TMP/a.t0"
    run -0 bash -c "t0-cat --head 2 '$TMP/a.t0' | jq -r .task"
    [ "$output" = "$(printf 'imdb\nglue/mrpc')" ]
    run -0 bash -c "t0-cat --task imdb '$TMP/a.t0' | jq -r .kind"
    [ "$output" = "$(printf 'example\ntokens')" ]
    run -0 bash -c "t0-cat --task imdb --count '$TMP/a.t0'"
    [ "$output" = '{"records":2,"kinds":{"example":1,"tokens":1},"tasks":{"imdb":2}}' ]
    run -0 t0-cat --head 0 "$TMP/a.t0"
    [ "$output" = "" ]
}

@test "--shard I/N partitions the stream: disjoint, and together the whole" {
    for i in $(seq 0 99); do
        printf '{"kind":"example","task":"t%d","id":%d,"input":"x%d"}\n' $((i % 7)) "$i" "$i"
    done > "$TMP/many.jsonl"
    t0-cat --encode "$TMP/many.jsonl" > "$TMP/many.t0"
    t0-cat "$TMP/many.t0" > "$TMP/many.jsonl"   # every field spelled out, as t0-cat prints
    for n in 1 3 8; do
        : > "$TMP/union.jsonl"
        for i in $(seq 0 $((n - 1))); do
            t0-cat --stream --shard "$i/$n" "$TMP/many.t0" > "$TMP/s$i.t0"
            t0-cat "$TMP/s$i.t0" >> "$TMP/union.jsonl"
        done
        [ "$(wc -l < "$TMP/union.jsonl")" -eq 100 ]
        sort "$TMP/union.jsonl" | cmp - <(sort "$TMP/many.jsonl")
        # the shards concatenated are a stream holding every record once
        cat "$TMP"/s*.t0 | t0-cat | sort | cmp - <(sort "$TMP/many.jsonl")
        rm -f "$TMP"/s*.t0
    done
}

@test "writing a stream to a terminal is refused" {
    command -v script >/dev/null || skip "no script(1)"
    run -1 script -qec "$T0_BIN/t0-cat --encode $TMP/mixed.jsonl" /dev/null
    [[ $output == *"refusing to write a binary stream to a terminal"* ]]
}

@test "a stream cut at 200 different offsets fails with one line, exit 1" {
    for i in $(seq 0 299); do
        printf '{"kind":"tokens","task":"t","id":%d,"input_ids":[%d,2,3],"target_ids":[1]}\n' "$i" "$i"
    done | t0-cat --encode > "$TMP/s.t0"
    size=$(stat -c %s "$TMP/s.t0")
    for k in $(seq 0 199); do
        cut=$((k * size / 200))
        head -c "$cut" "$TMP/s.t0" > "$TMP/cut.t0"
        run -1 --separate-stderr t0-cat "$TMP/cut.t0"
        [[ $stderr == "t0-cat: $TMP/cut.t0: record "* && $stderr != *$'\n'* ]] || { echo "cut $cut: $stderr"; false; }
    done
}

@test "200 single-byte corruptions are each detected, exit 1" {
    for i in $(seq 0 299); do
        printf '{"kind":"example","task":"t","id":%d,"input":"example number %d"}\n' "$i" "$i"
    done | t0-cat --encode > "$TMP/s.t0"
    size=$(stat -c %s "$TMP/s.t0")
    for k in $(seq 0 199); do
        at=$((k * size / 200))
        cp "$TMP/s.t0" "$TMP/bad.t0"
        byte=$(od -An -tu1 -j "$at" -N1 "$TMP/s.t0" | tr -d ' ')
        printf "$(printf '\\%03o' $(( (byte + 1 + k % 254) % 256 )))" |
            dd of="$TMP/bad.t0" bs=1 seek="$at" conv=notrunc status=none
        run -1 --separate-stderr t0-cat "$TMP/bad.t0"
        [[ $stderr == "t0-cat: $TMP/bad.t0: record "* && $stderr != *$'\n'* ]] || { echo "byte $at: $stderr"; false; }
    done
}

@test "not a stream: empty file, text file, zstd of text, unknown kind, newer version" {
    : > "$TMP/empty"
    run -1 t0-cat "$TMP/empty"
    assert_one_error_line t0-cat
    [[ $output == *"not a t0 stream"* ]]
    run -1 t0-cat /etc/hostname
    assert_one_error_line t0-cat
    [[ $output == *"not zstd-compressed"* ]]
    echo "hello world" | zstd -q > "$TMP/text.zst"
    run -1 t0-cat "$TMP/text.zst"
    assert_one_error_line t0-cat
    [[ $output == *"bad magic"* ]]
    printf 'T0\011\001\000\000\000\000' | zstd -q > "$TMP/kind9.t0"
    run -1 t0-cat "$TMP/kind9.t0"
    [[ $output == *"unknown record kind 9"* ]]
    printf 'T0\001\002\000\000\000\000' | zstd -q > "$TMP/v2.t0"
    run -1 t0-cat "$TMP/v2.t0"
    [[ $output == *"example record version 2 is newer"* ]]
    printf 'T0\001\001\004\000\000\000abcd' | zstd -q > "$TMP/short.t0"
    run -1 t0-cat "$TMP/short.t0"
    assert_one_error_line t0-cat
    [[ $output == *"record 1: task runs past the end of the record"* ]]
}

@test "malformed JSON lines name the file and line" {
    printf '%s\n' '{"kind":"example","task":"a"}' '{"kind":"example","task":}' > "$TMP/bad1.jsonl"
    run -1 t0-cat --encode -o "$TMP/out.t0" "$TMP/bad1.jsonl"
    assert_one_error_line t0-cat
    [ "$output" = "t0-cat: $TMP/bad1.jsonl: line 2: column 26: expected a string" ]
    [ ! -e "$TMP/out.t0" ]
    printf '%s\n' '{"kind":"example","taks":"a"}' > "$TMP/bad2.jsonl"
    run -1 t0-cat --encode "$TMP/bad2.jsonl"
    [[ $output == *'line 1: column 19: unknown field "taks"' ]]
    printf '%s\n' '{"kind":"sample"}' > "$TMP/bad3.jsonl"
    run -1 t0-cat --encode "$TMP/bad3.jsonl"
    [[ $output == *'unknown kind "sample"'* ]]
    printf '%s\n' '{"kind":"example","input_ids":[1]}' > "$TMP/bad4.jsonl"
    run -1 t0-cat --encode "$TMP/bad4.jsonl"
    [[ $output == *'field "input_ids" does not belong to a example record' ]]
    printf '{"kind":"example","input":"\xff\xfe"}\n' > "$TMP/bad5.jsonl"
    run -1 t0-cat --encode "$TMP/bad5.jsonl"
    [[ $output == *'invalid UTF-8'* ]]
    printf '%s\n' '{"kind":"example","choices":["a"],"label":1}' > "$TMP/bad6.jsonl"
    run -1 t0-cat --encode "$TMP/bad6.jsonl"
    [[ $output == *'label 1 is not -1 or an index into 1 choices' ]]
    printf '%s\n' '{"kind":"tokens","input_ids":[1,99999999999]}' > "$TMP/bad7.jsonl"
    run -1 t0-cat --encode "$TMP/bad7.jsonl"
    [[ $output == *'must be an integer in [-2147483648, 2147483647], got 99999999999' ]]
    printf '%s\n' '{"kind":"example"} {}' > "$TMP/bad8.jsonl"
    run -1 t0-cat --encode "$TMP/bad8.jsonl"
    [[ $output == *'column 20: expected the end of the line' ]]
}

@test "a failed run leaves the existing output file untouched" {
    echo "precious" > "$TMP/keep.t0"
    printf '%s\n' '{"kind":"example"}' 'nonsense' > "$TMP/bad.jsonl"
    run -1 t0-cat --encode -o "$TMP/keep.t0" "$TMP/bad.jsonl"
    [ "$(cat "$TMP/keep.t0")" = "precious" ]
    [ -z "$(ls "$TMP" | grep tmp)" ]
}

@test "usage errors, --help and --version" {
    run -0 t0-cat --help
    [[ $output == "Usage: t0-cat"* ]]
    run -0 t0-cat --version
    [[ $output == "t0-cat (t0 tools) "* ]]
    run -1 t0-cat --shard 3/3 /dev/null
    assert_one_error_line t0-cat
    run -1 t0-cat --shard x /dev/null
    assert_one_error_line t0-cat
    run -1 t0-cat --head -1 /dev/null
    assert_one_error_line t0-cat
    run -1 t0-cat --bogus
    run -1 t0-cat "$TMP/does-not-exist"
    assert_one_error_line t0-cat
}
