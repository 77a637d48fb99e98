#!/usr/bin/env bats
# t0-tokenize against spm_encode / spm_decode: the fixtures in tests/fixtures/spm were made
# by tests/reference/fixtures-tokenize.sh (spm_train, spm_encode, spm_decode 0.1.97).
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/fixtures/spm"
MODELS="t5-8k t5-1k identity-1k bytes-1k user-1k raw-1k custom-1k denorm-1k"

setup_file() {
    export D="$BATS_FILE_TMPDIR"
    for f in "$FIX"/*.zst; do
        zstd -q -d -f "$f" -o "$D/$(basename "$f" .zst)"
    done
}

setup() {
    TOK="$T0_BIN/t0-tokenize"
    CAT="$T0_BIN/t0-cat"
}

# Prints "N/M lines identical" for two files to the Bats log and fails unless all are.
same_lines() { # name, expected, got
    local n total
    total=$(wc -l <"$2")
    n=$(awk 'NR == FNR { want[FNR] = $0; next } FNR in want && want[FNR] == $0 { s++ }
             END { print s + 0 }' "$2" "$3")
    echo "# $1: $n/$total lines identical" >&3
    cmp "$2" "$3"
}

@test "ids equal spm_encode on every line, every model" {
    for m in $MODELS; do
        run -0 "$TOK" -m "$D/$m.model" --text --no-eos -o "$D/$m.got" "$D/corpus.txt"
        same_lines "$m ids" "$D/$m.ids" "$D/$m.got"
    done
}

@test "decoding equals spm_decode, every model (corpus ids and random ids)" {
    for m in $MODELS; do
        cat "$D/$m.ids" "$D/$m.randids" >"$D/$m.in"
        run -0 "$TOK" -m "$D/$m.model" --decode -o "$D/$m.dec" "$D/$m.in"
        same_lines "$m decode" "$D/$m.decode" "$D/$m.dec"
    done
}

@test "--pieces prints what spm_encode --output_format=piece prints" {
    for m in t5-8k bytes-1k user-1k; do
        run -0 "$TOK" -m "$D/$m.model" --text --no-eos --pieces -o "$D/$m.pgot" "$D/corpus.txt"
        same_lines "$m pieces" "$D/$m.pieces" "$D/$m.pgot"
    done
}

@test "tokenizer.json gives the ids of the spiece.model it was made from" {
    for m in t5-8k t5-1k identity-1k bytes-1k user-1k custom-1k; do
        run -0 "$TOK" -m "$D/$m.json" --text --no-eos -o "$D/$m.jgot" "$D/corpus.txt"
        same_lines "$m tokenizer.json ids" "$D/$m.ids" "$D/$m.jgot"
    done
    run -0 "$TOK" -m "$D/t5-1k.json" --decode -o "$D/t5-1k.jdec" "$D/t5-1k.in"
    cmp "$D/t5-1k.decode" "$D/t5-1k.jdec"
}

@test "a model directory holding spiece.model or tokenizer.json" {
    mkdir -p "$D/dir-spm" "$D/dir-json"
    cp "$D/t5-1k.model" "$D/dir-spm/spiece.model"
    cp "$D/t5-1k.json" "$D/dir-json/tokenizer.json"
    run -0 "$TOK" -m "$D/dir-spm" --text --no-eos -o "$D/dir1.got" "$D/corpus.txt"
    cmp "$D/t5-1k.ids" "$D/dir1.got"
    run -0 "$TOK" -m "$D/dir-json" --text --no-eos -o "$D/dir2.got" "$D/corpus.txt"
    cmp "$D/t5-1k.ids" "$D/dir2.got"
    mkdir -p "$D/dir-empty"
    run -1 "$TOK" -m "$D/dir-empty" --text
    [[ "$output" == "t0-tokenize: "*"no spiece.model or tokenizer.json"* ]]
}

@test "--threads 2 gives the output of one thread, in order" {
    run -0 "$TOK" -m "$D/t5-8k.model" --text --threads 2 -o "$D/th2.got" "$D/corpus.txt"
    run -0 "$TOK" -m "$D/t5-8k.model" --text -o "$D/th1.got" "$D/corpus.txt"
    cmp "$D/th1.got" "$D/th2.got"
}

@test "--text appends EOS (id of </s>) unless --no-eos" {
    run -0 "$TOK" -m "$D/t5-1k.model" --text -o "$D/eos.got" "$D/corpus.txt"
    awk '{ print (NF ? $0 " 1" : "1") }' "$D/t5-1k.ids" >"$D/eos.exp"
    cmp "$D/eos.exp" "$D/eos.got"
    # identity-1k was trained with spm's default ids: </s> is 2 there
    run -0 bash -c "printf 'abc\n' | '$TOK' -m '$D/identity-1k.model' --text"
    [[ "$output" == *" 2" ]]
}

@test "sentinels <extra_id_N> are ids vocab-1-N, split out with the whitespace around them" {
    # the 1k models have no sentinels: they follow the 1000 pieces, <extra_id_0> = 1099
    run -0 bash -c "printf 'Hello world\nthe end\n' | '$TOK' -m '$D/t5-1k.model' --text --no-eos"
    hello=${lines[0]} end=${lines[1]}
    run -0 bash -c "printf 'Hello world <extra_id_0>  the end\t<extra_id_99>\n<extra_id_5>\n' |
        '$TOK' -m '$D/t5-1k.model' --text --no-eos"
    [ "${lines[0]}" = "$hello 1099 $end 1000" ]
    [ "${lines[1]}" = "1094" ]
    # not sentinels: out of range, leading zero, unclosed
    run -0 bash -c "printf '<extra_id_100> <extra_id_07> <extra_id_1\n' |
        '$TOK' -m '$D/t5-1k.model' --text --no-eos"
    [[ " ${lines[0]} " != *" 10"[0-9][0-9]" "* ]]
    run -0 bash -c "printf '1099 $end 1000\n' | '$TOK' -m '$D/t5-1k.model' --decode"
    [ "$output" = "<extra_id_0> the end<extra_id_99>" ]
}

@test "--no-sentinels reads <extra_id_N> as plain text, as spm_encode does" {
    printf 'Hello <extra_id_0> world<extra_id_99>\n<extra_id_5>\n' >"$D/sent.txt"
    run -0 "$TOK" -m "$D/t5-1k.model" --text --no-eos --no-sentinels -o "$D/sent.ids" "$D/sent.txt"
    # no sentinel ids (1000..1099 for this model), and the text comes back whole
    ! grep -Eq '(^| )10[0-9][0-9]( |$)' "$D/sent.ids"
    run -0 "$TOK" -m "$D/t5-1k.model" --decode "$D/sent.ids"
    [ "$output" = "$(cat "$D/sent.txt")" ]
    # without the flag the same text gives sentinels
    run -0 "$TOK" -m "$D/t5-1k.model" --text --no-eos "$D/sent.txt"
    [[ "${lines[1]}" = "1094" ]]
    if command -v spm_encode >/dev/null; then
        spm_encode --model "$D/t5-1k.model" --output_format=id <"$D/sent.txt" >"$D/sent.spm"
        cmp "$D/sent.spm" "$D/sent.ids"
    fi
}

@test "invalid UTF-8 is encoded as spm_encode does, no crash" {
    # each of these lines is in the corpus; its ids there are spm_encode's
    export LC_ALL=C # bytes, not characters, for read and grep
    printf 'ab\xffcd\n\xed\xa0\x80x\n\xf0\x9f\x98\n\xc3(\n' >"$D/bad.txt"
    run -0 "$TOK" -m "$D/t5-8k.model" --text --no-eos -o "$D/bad.got" "$D/bad.txt"
    [ "$(wc -l <"$D/bad.got")" -eq 4 ]
    local i=0 line n
    while IFS= read -r line; do
        i=$((i + 1))
        n=$(grep -a -n -x -F -- "$line" "$D/corpus.txt" | head -n 1 | cut -d: -f1)
        [ -n "$n" ]
        [ "$(sed -n "${n}p" "$D/t5-8k.ids")" = "$(sed -n "${i}p" "$D/bad.got")" ]
    done <"$D/bad.txt"
    # a malformed byte is an <unk> (id 2) for this model
    [[ " $(head -n 1 "$D/bad.got") " == *" 2 "* ]]
}

@test "example records become token records: EOS on targets and choices, metadata kept" {
    printf '%s\n' '{"kind":"example","task":"rte","template":"t1","id":7,"input":"Is it? Hello world","target":"yes","choices":["yes","no way"],"label":1}' \
        '{"kind":"example","task":"rte","template":"t2","id":8,"input":"","target":"","choices":[],"label":-1}' |
        "$CAT" --encode -o "$D/ex.t0"
    run -0 "$TOK" -m "$D/t5-1k.model" -o "$D/tok.t0" "$D/ex.t0"
    run -0 bash -c "printf 'Is it? Hello world\nyes\nno way\n' | '$TOK' -m '$D/t5-1k.model' --text --no-eos"
    local in=${lines[0]// /,} yes=${lines[1]// /,} no=${lines[2]// /,}
    run -0 "$CAT" "$D/tok.t0"
    [ "${lines[0]}" = "{\"kind\":\"tokens\",\"task\":\"rte\",\"template\":\"t1\",\"id\":7,\"input_ids\":[$in],\"target_ids\":[$yes,1],\"choice_ids\":[[$yes,1],[$no,1]],\"label\":1}" ]
    [ "${lines[1]}" = '{"kind":"tokens","task":"rte","template":"t2","id":8,"input_ids":[],"target_ids":[1],"choice_ids":[],"label":-1}' ]
}

@test "--input-len and --target-len truncate; a cut target still ends with EOS" {
    printf '%s\n' '{"kind":"example","task":"x","template":"y","id":0,"input":"one two three four five six","target":"seven eight nine ten","choices":["a b c d e f"],"label":0}' |
        "$CAT" --encode -o "$D/long.t0"
    run -0 bash -c "'$TOK' -m '$D/t5-1k.model' --input-len 3 --target-len 2 '$D/long.t0' | '$CAT'"
    run -0 bash -c "'$TOK' -m '$D/t5-1k.model' --input-len 3 --target-len 2 '$D/long.t0' | '$CAT' | jq -c '[(.input_ids|length), (.target_ids|length), .target_ids[-1], (.choice_ids[0]|length), .choice_ids[0][-1]]'"
    [ "$output" = "[3,2,1,2,1]" ]
    run -0 bash -c "'$TOK' -m '$D/t5-1k.model' --threads 2 '$D/long.t0' | '$CAT' | jq -c '.input_ids[:3]'"
    first3=$output
    run -0 bash -c "'$TOK' -m '$D/t5-1k.model' --input-len 3 '$D/long.t0' | '$CAT' | jq -c '.input_ids'"
    [ "$output" = "$first3" ]
}

@test "records on several threads: the stream of one thread, byte for byte" {
    zstd -q -d -c "$FIX/corpus.txt.zst" | head -n 7000 | LC_ALL=C tr -d '\000' |
        jq -R -c --slurp 'split("\n") | to_entries[] | select(.value != "") |
            {kind: "example", task: "t", template: "p", id: .key, input: .value,
             target: .value[0:20], choices: [.value[0:5], "no"], label: (.key % 2)}' 2>/dev/null |
        "$CAT" --encode -o "$D/many.t0"
    run -0 "$TOK" -m "$D/t5-8k.model" -o "$D/many1.t0" "$D/many.t0"
    run -0 "$TOK" -m "$D/t5-8k.model" --threads 3 -o "$D/many3.t0" "$D/many.t0"
    cmp "$D/many1.t0" "$D/many3.t0"
    run -0 bash -c "'$CAT' --count '$D/many3.t0'"
    [[ "$output" == *'"kinds":{"tokens":'* ]]
    [ "$(echo "$output" | jq .records)" -gt 4096 ] # more than one batch
}

@test "a record that is not an example is refused, naming its kind" {
    printf '%s\n' '{"kind":"tokens","task":"x","template":"y","id":0,"input_ids":[5],"target_ids":[1],"choice_ids":[],"label":-1}' |
        "$CAT" --encode -o "$D/tokens.t0"
    run -1 "$TOK" -m "$D/t5-1k.model" -o "$D/never.t0" "$D/tokens.t0"
    [[ "$output" == "t0-tokenize: "*"expected example, got tokens"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ ! -e "$D/never.t0" ]
}

@test "bad model files: one clear line, exit 1" {
    printf 'hello, I am not a model\n' >"$D/text.model"
    run -1 "$TOK" -m "$D/text.model" --text </dev/null
    [[ "$output" == "t0-tokenize: $D/text.model: "* ]]
    [ "${#lines[@]}" -eq 1 ]
    head -c 5000 "$D/t5-1k.model" >"$D/trunc.model"
    run -1 "$TOK" -m "$D/trunc.model" --text </dev/null
    [[ "$output" == *"not a SentencePiece model"* ]]
    # one piece "a", score -1, no unknown piece
    printf '\x0a\x08\x0a\x01a\x15\x00\x00\x80\xbf' >"$D/nounk.model"
    run -1 "$TOK" -m "$D/nounk.model" --text </dev/null
    [[ "$output" == *"unk is not defined"* ]]
    # the same with an <unk> piece, but trainer_spec.model_type = 2 (BPE)
    printf '\x0a\x08\x0a\x01a\x15\x00\x00\x80\xbf\x0a\x09\x0a\x05<unk>\x18\x02\x12\x02\x18\x02' >"$D/bpe.model"
    run -1 "$TOK" -m "$D/bpe.model" --text </dev/null
    [[ "$output" == *"not unigram"* ]]
    run -1 "$TOK" -m "$D/missing.model" --text </dev/null
    [[ "$output" == *"cannot open"* ]]
    printf '{"model":{"type":"BPE","vocab":{}}}' >"$D/bpe.json"
    run -1 "$TOK" -m "$D/bpe.json" --text </dev/null
    [[ "$output" == *"not Unigram"* ]]
}

@test "--decode refuses ids outside the vocabulary and non-numbers" {
    run -1 bash -c "echo '5 1100' | '$TOK' -m '$D/t5-1k.model' --decode"
    [[ "$output" == "t0-tokenize: "*"invalid id 1100"* ]]
    run -1 bash -c "printf '5\n5 x\n' | '$TOK' -m '$D/t5-1k.model' --decode"
    [ "$output" = "t0-tokenize: (stdin): line 2: not a list of ids: '5 x'" ]
    # an output file is written whole or not at all
    run -1 bash -c "printf '5 6\n5 -1\n' | '$TOK' -m '$D/t5-1k.model' --decode -o '$D/half.txt'"
    [[ "$output" == *"invalid id -1"* ]]
    [ ! -e "$D/half.txt" ]
    [ -z "$(ls "$D" | grep half)" ]
}

@test "--progress reports on stderr: plain lines where it starts and ends; quiet by default in a short pipe" {
    run -0 bash -c "printf 'a\nb\nc\n' | '$TOK' -m '$D/t5-1k.model' --text --progress 2>&1 >/dev/null"
    [ "${lines[0]}" = "t0-tokenize: tokenizing lines: started" ]
    [[ ${lines[1]} == "t0-tokenize: tokenizing lines: done: 3 lines, "*"/s ("*")" ]]
    [ "${#lines[@]}" -eq 2 ]
    [[ $output != *$'\r'* ]]
    run -0 bash -c "printf 'a\n' | '$TOK' -m '$D/t5-1k.model' --text 2>&1 >/dev/null"
    [ -z "$output" ]
}

@test "usage: --help, --version, missing model, bad options" {
    run -0 "$TOK" --help
    [[ "$output" == Usage:* ]]
    run -0 "$TOK" --version
    [[ "$output" == "t0-tokenize "* ]]
    run -1 "$TOK" --text
    [[ "$output" == *"-m MODEL is required"* ]]
    run -1 "$TOK" -m x --threads 0
    run -1 "$TOK" -m x --text --decode
}
