#!/usr/bin/env bats
# T5's pretraining objectives as a user runs them: text lines -> t0-tokenize --lines ->
# t0-pack --objective -> batch records. Checked: sentinel placement, lengths, every id of the
# text exactly once and in order, the statistics of span corruption, same seed same bytes.

load lib/common

setup_file() {
    export D="$BATS_FILE_TMPDIR"
    zstd -q -d -f "$BATS_TEST_DIRNAME/fixtures/spm/t5-8k.model.zst" -o "$D/spiece.model"
    # plain ASCII lines of the tokenizer corpus (it also holds invalid UTF-8 on purpose)
    zstd -q -d -c "$BATS_TEST_DIRNAME/fixtures/spm/corpus.txt.zst" | LC_ALL=C grep -a -x '[ -~]*' |
        head -n 3000 > "$D/text.txt"
    "${T0_BIN:-$BATS_TEST_DIRNAME/../bin}/t0-tokenize" -m "$D/spiece.model" --lines -o "$D/text.t0" "$D/text.txt"
}

setup() {
    setup_t0
    V=8100 # the 8k model's 8,000 pieces and 100 sentinels: <extra_id_0> is 8099
}

# The examples of batch records on stdin, one JSON {"i": input, "t": target} a line, in row order.
EXAMPLES='select(.kind == "batch") as $b | range(0; $b.encoder_input_tokens | length) as $r
  | $b.encoder_input_tokens[$r] as $et | $b.encoder_segment_ids[$r] as $es
  | $b.decoder_target_tokens[$r] as $dt | $b.decoder_segment_ids[$r] as $ds
  | range(1; ([$es[], $ds[]] | max) + 1) as $s
  | {i: [range(0; $et | length) as $k | select($es[$k] == $s) | $et[$k]],
     t: [range(0; $dt | length) as $k | select($ds[$k] == $s) | $dt[$k]]}'

# An example back to its text ids: each sentinel of the input replaced by the ids after the
# same sentinel in the target; the EOS ids dropped.
REBUILD='def spans: reduce .[] as $x ({cur: null, m: {}};
      if $x > $v - 101 then .cur = ($x | tostring) | .m[.cur] = [] elif $x == 1 then . else .m[.cur] += [$x] end) | .m;
  (.t | spans) as $m | .i[] | select(. != 1) | if . > $v - 101 then $m[tostring][] else . end'

@test "t0-tokenize --lines: one record a line with ids, named by the file, numbered by line" {
    printf 'Hello world\n\n   \nA second line.\r\n' > "$TMP/in.txt"
    run -0 t0-tokenize -m "$D/spiece.model" --lines -o "$TMP/l.t0" "$TMP/in.txt"
    run -0 sh -c "t0-cat '$TMP/l.t0' | jq -c '[.task, .template, .id, (.input_ids | length > 0), .target_ids]'"
    [ "${lines[0]}" = '["in.txt","",1,true,[]]' ]
    [ "${lines[1]}" = '["in.txt","",4,true,[]]' ]
    [ "${#lines[@]}" -eq 2 ]
    # the ids are the text's, as --text --no-eos gives them
    run -0 sh -c "printf 'A second line.\n' | t0-tokenize -m '$D/spiece.model' --text --no-eos"
    want=$output
    run -0 sh -c "t0-cat '$TMP/l.t0' | jq -r 'select(.id == 4) | .input_ids | map(tostring) | join(\" \")'"
    [ "$output" = "$want" ]
    run -1 sh -c "printf 'x\n' | t0-tokenize -m '$D/spiece.model' --lines --task news -o '$TMP/n.t0' && t0-cat '$TMP/n.t0' | jq -r .task && printf 'ok\377\n' | t0-tokenize -m '$D/spiece.model' --lines > /dev/null"
    [ "${lines[0]}" = news ]
    [[ "${lines[1]}" == "t0-tokenize: line 1: text: invalid UTF-8"* ]]
}

@test "span corruption: 568-id segments give inputs of 512 and targets of 114, sentinels counting down" {
    run -0 t0-pack --objective span-corruption -t "$D/spiece.model" --rows 4 --input-len 512 \
        --shuffle-buffer 1 --epochs 1 -o "$TMP/b.t0" "$D/text.t0"
    [[ "$output" == *"$(t0-cat --count "$D/text.t0" | jq .records) documents -> "*"segments of 568 ids, targets up to 114"* ]]
    t0-cat "$TMP/b.t0" | jq -c "$EXAMPLES" > "$TMP/ex.jsonl"
    [ "$(head -1 "$TMP/ex.jsonl" | jq '.i | length')" -eq 512 ]
    [ "$(head -1 "$TMP/ex.jsonl" | jq '.t | length')" -eq 114 ]
    # all but the last, shorter segment of each group of 128 documents fill both exactly
    groups=$(( ($(t0-cat --count "$D/text.t0" | jq .records) + 127) / 128 ))
    run -0 jq -rs '[.[] | [(.i | length), (.t | length)]]
                   | [(map(select(. == [512, 114])) | length), (map(select(.[0] < 512 and .[1] <= 114)) | length),
                      length] | @tsv' "$TMP/ex.jsonl"
    echo "# full, shorter, all examples: $output; groups $groups" >&3
    read -r full short all <<< "$output"
    [ $((full + short)) -eq "$all" ]
    [ "$short" -le "$groups" ]
    [ "$full" -gt 80 ]
    # every example: sentinels V-1, V-2, ... in order, in the input each followed by text, the
    # input ending with a sentinel then EOS, the target starting with <extra_id_0>, both one EOS
    run -0 jq -r --argjson v $V '
        [.i[] | select(. > $v - 101)] as $si | [.t[] | select(. > $v - 101)] as $st
        | select($si != [range(0; $si | length) | $v - 1 - .] or $si != $st or .t[0] != $v - 1
                 or .i[-2] != $v - ($si | length) or ([.i[], .t[]] | map(select(. == 1)) | length) != 2
                 or .i[-1] != 1 or .t[-1] != 1) | "bad: \(.)"' "$TMP/ex.jsonl"
    [ -z "$output" ]
}

@test "span corruption: every id of the text comes back exactly once, in order" {
    run -0 t0-pack --objective span-corruption -t "$D/spiece.model" --rows 8 --input-len 128 \
        --shuffle-buffer 1 --epochs 1 --seed 4 -o "$TMP/b.t0" "$D/text.t0"
    t0-cat "$D/text.t0" | jq '.input_ids[]' > "$TMP/want.txt"
    t0-cat "$TMP/b.t0" | jq -c "$EXAMPLES" | jq --argjson v $V "$REBUILD" > "$TMP/got.txt"
    [ "$(wc -l < "$TMP/want.txt")" -gt 30000 ]
    cmp "$TMP/want.txt" "$TMP/got.txt"
}

# Over the whole text: the masked share of the ids and the mean masked span. A segment of n
# ids masks round(0.15 n) ids in round(that / 3) spans, so over ~300 segments of 128-input
# length (141 ids) both are T5's within rounding: 21/141 = 0.149 and 21/7 = 3; the last,
# shorter segment of each group of 128 documents moves them a little (allowed: 0.01, 0.15).
@test "span corruption: 15% of the ids masked, in spans of 3 on average" {
    run -0 t0-pack --objective span-corruption -t "$D/spiece.model" --rows 8 --input-len 128 \
        --epochs 1 --seed 9 -o "$TMP/b.t0" "$D/text.t0"
    run -0 sh -c "t0-cat '$TMP/b.t0' | jq -c '$EXAMPLES' | jq -rs --argjson v $V '
        [.[] | .t | map(select(. != 1))] as \$t
        | ([\$t[][] | select(. > \$v - 101)] | length) as \$spans
        | ([\$t[][] | select(. <= \$v - 101)] | length) as \$noise
        | ([.[] | .i[] | select(. <= \$v - 101 and . != 1)] | length) as \$kept
        | \"\(\$noise / (\$noise + \$kept)) \(\$noise / \$spans)\"'"
    echo "# density, mean span: $output" >&3
    awk -v d="${output%% *}" -v m="${output##* }" 'BEGIN { exit !(d > 0.14 && d < 0.16 && m > 2.85 && m < 3.15) }'
}

@test "same seed, same bytes; another seed, other masks; --batches streams" {
    for s in 1 1 2; do
        t0-pack --objective span-corruption --vocab-size $V --rows 4 --input-len 64 --batches 20 --seed $s -q "$D/text.t0" |
            sha256sum
    done > "$TMP/sums"
    [ "$(sed -n 1p "$TMP/sums")" = "$(sed -n 2p "$TMP/sums")" ]
    [ "$(sed -n 1p "$TMP/sums")" != "$(sed -n 3p "$TMP/sums")" ]
    run -0 sh -c "t0-pack --objective prefix-lm -t '$D/spiece.model' --rows 4 --input-len 64 --batches 7 -q '$D/text.t0' | t0-cat --count"
    [[ "$output" == *'"batch":7'* ]]
}

@test "prefix LM: each segment split once, input then target, every id once and in order" {
    run -0 t0-pack --objective prefix-lm -t "$D/spiece.model" --rows 8 --input-len 64 --target-len 32 \
        --shuffle-buffer 1 --epochs 1 -o "$TMP/b.t0" "$D/text.t0"
    [[ "$output" == *"segments of 31 ids"* ]]
    t0-cat "$TMP/b.t0" | jq -c "$EXAMPLES" > "$TMP/ex.jsonl"
    t0-cat "$D/text.t0" | jq '.input_ids[]' > "$TMP/want.txt"
    jq '.i[:-1][], .t[:-1][]' "$TMP/ex.jsonl" > "$TMP/got.txt"
    cmp "$TMP/want.txt" "$TMP/got.txt"
    # both end with their one EOS; a segment of n >= 2 ids keeps 1..n-1 of them as input
    run -0 jq -r 'select(.i[-1] != 1 or .t[-1] != 1 or (.t | length) < 2 or (.i | length) + (.t | length) > 33
                         or ((.i | length) < 2 and (.i | length) + (.t | length) > 3)) | "bad: \(.)"' "$TMP/ex.jsonl"
    [ -z "$output" ]
    # the split point is uniform: over full 31-id segments the mean input is 15.5 ids + EOS
    run -0 jq -s '[.[] | select((.i | length) + (.t | length) == 33) | .i | length] | add / length' "$TMP/ex.jsonl"
    # (1..30 uniform, + EOS: 16.5; over ~400 segments the standard error is 0.45)
    echo "# mean input of full segments: $output (uniform: 16.5)" >&3
    awk -v m="$output" 'BEGIN { exit !(m > 15.2 && m < 17.8) }'
}

@test "objective errors: one line each" {
    run -1 t0-pack --objective span-corruption --rows 4 "$D/text.t0"
    assert_one_error_line t0-pack
    [[ "$output" == *"-t MODEL or --vocab-size"* ]]
    run -1 t0-pack --objective span-corruption --vocab-size $V --rows 4 --input-len 512 --target-len 100 -o "$TMP/x.t0" "$D/text.t0"
    assert_one_error_line t0-pack
    [[ "$output" == *"at least 114"* ]]
    [ ! -e "$TMP/x.t0" ]
    run -1 t0-pack --objective word-salad --vocab-size $V --rows 4 "$D/text.t0"
    assert_one_error_line t0-pack
    run -1 t0-pack --noise-density 0.2 --rows 4 "$D/text.t0"
    assert_one_error_line t0-pack
    run -1 t0-pack --objective prefix-lm --vocab-size $V --mean-noise-span 4 --rows 4 "$D/text.t0"
    assert_one_error_line t0-pack
    run -1 t0-pack --objective span-corruption --vocab-size $V --rows 4 --input-len 4096 "$D/text.t0"
    assert_one_error_line t0-pack
    [[ "$output" == *"sentinels"* ]]
    run -1 t0-pack --rates --objective prefix-lm --vocab-size $V "$D/text.t0"
    assert_one_error_line t0-pack
}
