#!/usr/bin/env bats
# t0-pack: property tests of packing (nothing lost, duplicated or split; seqio's features)
# and mixing (rates within sampling error, seeds, epochs), bounded memory, bad input.

load lib/common

setup() {
    setup_t0
    GEN="$BATS_TEST_DIRNAME/lib/gen-tokens.awk"
}

# gen NAME TASK TEMPLATE N SEED MAXIN MAXTG BASE: writes $TMP/NAME.t0 (and .jsonl).
gen() {
    awk -v task="$2" -v template="$3" -v n="$4" -v seed="$5" -v maxin="$6" -v maxtg="$7" -v base="$8" \
        -f "$GEN" > "$TMP/$1.jsonl"
    t0-cat --encode -o "$TMP/$1.t0" "$TMP/$1.jsonl"
}

# The examples of batch records on stdin, one "input|target" line each (JSON arrays), in order.
UNPACK='select(.kind == "batch") as $b | range(0; $b.encoder_input_tokens | length) as $r
  | $b.encoder_input_tokens[$r] as $et | $b.encoder_segment_ids[$r] as $es
  | $b.decoder_target_tokens[$r] as $dt | $b.decoder_segment_ids[$r] as $ds
  | range(1; ([$es[], $ds[]] | max) + 1) as $s
  | "\([range(0; $et | length) as $i | select($es[$i] == $s) | $et[$i]])|\([range(0; $dt | length) as $i | select($ds[$i] == $s) | $dt[$i]])"'

# Every violation of seqio's packed layout in batch records on stdin, one line each: segments
# 1, 2, ... in order then padding, positions from 0 in each segment, padding all zeros,
# decoder inputs the targets shifted right inside each segment, loss weights 1 exactly on
# target tokens, and as many target segments as input segments in each row.
CHECK='def bad(tok; seg; pos):
    [range(0; tok | length) as $i
     | if seg[$i] == 0 then
         (if tok[$i] != 0 or pos[$i] != 0 then "padding not 0 at \($i)" else empty end),
         (if $i + 1 < (tok | length) and seg[$i + 1] != 0 then "segment after padding at \($i)" else empty end)
       elif $i == 0 then (if seg[0] != 1 or pos[0] != 0 then "row start at 0" else empty end)
       elif seg[$i] == seg[$i - 1] then (if pos[$i] != pos[$i - 1] + 1 then "position at \($i)" else empty end)
       elif seg[$i] == seg[$i - 1] + 1 then (if pos[$i] != 0 then "no restart at \($i)" else empty end)
       else "segment id jump at \($i)" end];
  select(.kind == "batch") as $b | range(0; $b.encoder_input_tokens | length) as $r
  | $b.decoder_target_tokens[$r] as $dt | $b.decoder_segment_ids[$r] as $ds
  | $b.decoder_input_tokens[$r] as $di | $b.decoder_loss_weights[$r] as $w
  | (bad($b.encoder_input_tokens[$r]; $b.encoder_segment_ids[$r]; $b.encoder_positions[$r])
     + bad($dt; $ds; $b.decoder_positions[$r])
     + [range(0; $dt | length) as $i
        | (if $ds[$i] == 0 then 0 elif $i > 0 and $ds[$i - 1] == $ds[$i] then $dt[$i - 1] else 0 end) as $want
        | if $di[$i] != $want then "decoder input at \($i)" else empty end,
          if $w[$i] != (if $ds[$i] > 0 then 1 else 0 end) then "loss weight at \($i)" else empty end]
     + (if ($b.encoder_segment_ids[$r] | max) != ($ds | max) then ["segment counts differ"] else [] end))
  | .[] | "row \($r): \(.)"'

examples_in() { t0-cat "$1" | jq -r '"\(.input_ids)|\(.target_ids)"' | sort; }
examples_out() { t0-cat "$1" | jq -r "$UNPACK" | sort; }

@test "--epochs 1 on one task: every example exactly once, none split or changed" {
    gen a ds t 300 1 40 12 1000
    run -0 t0-pack --rows 4 --input-len 64 --target-len 16 --seed 3 --shuffle-buffer 50 -o "$TMP/b.t0" "$TMP/a.t0"
    examples_in "$TMP/a.t0" > "$TMP/in.txt"
    examples_out "$TMP/b.t0" > "$TMP/out.txt"
    [ "$(wc -l < "$TMP/in.txt")" -eq 300 ]
    cmp "$TMP/in.txt" "$TMP/out.txt"
    # packed, not one a row: fewer rows than examples
    rows=$(t0-cat "$TMP/b.t0" | jq '[.encoder_segment_ids[] | select(.[0] > 0)] | length' | awk '{ s += $1 } END { print s }')
    echo "# 300 examples in $rows rows" >&3
    [ "$rows" -lt 200 ]
    [[ "$output" == *"t0-pack: task ds:t: 300 examples"* ]]
}

@test "segments, positions, shifted decoder inputs and loss weights are seqio's, in every row" {
    gen a ds t 400 2 30 10 1000
    gen b ds2 t 200 3 60 20 5000
    run -0 t0-pack --rows 8 --input-len 64 --target-len 24 --epochs 2 -o "$TMP/p.t0" "$TMP/a.t0" "$TMP/b.t0"
    run -0 bash -c "t0-cat '$TMP/p.t0' | jq -r '$CHECK'"
    [ -z "$output" ]
    # --epochs 2: 2 x (400 + 200) draws; within a task, passes complete before the next
    # begins, so no example is seen twice more than another of its task
    examples_in "$TMP/a.t0" > "$TMP/a.txt"
    examples_in "$TMP/b.t0" > "$TMP/b.txt"
    examples_out "$TMP/p.t0" > "$TMP/out.txt"
    [ "$(wc -l < "$TMP/out.txt")" -eq 1200 ]
    for t in a b; do
        awk 'NR == FNR { n[$0] = 0; next } ($0 in n) { n[$0]++ } END { for (k in n) print n[k] }' \
            "$TMP/$t.txt" "$TMP/out.txt" | sort -n | uniq -c > "$TMP/$t.spread"
        echo "# task $t: examples seen k times: $(cat "$TMP/$t.spread" | tr -s ' \n' ' ')" >&3
        awk 'NR == 1 { lo = $2 } { hi = $2 } END { exit !(hi - lo <= 1) }' "$TMP/$t.spread"
    done
    # and nothing came out that did not go in
    sort -u "$TMP/a.txt" "$TMP/b.txt" > "$TMP/all.txt"
    [ -z "$(sort -u "$TMP/out.txt" | comm -13 "$TMP/all.txt" -)" ]
}

@test "the checker catches a broken row (it is not vacuous)" {
    gen a ds t 20 2 10 6 1000
    t0-pack -q --rows 4 --input-len 32 --target-len 16 -o "$TMP/p.t0" "$TMP/a.t0"
    t0-cat -n 1 "$TMP/p.t0" | jq -c '.decoder_input_tokens[0][1] += 1' | t0-cat --encode -o "$TMP/bad1.t0"
    run -0 bash -c "t0-cat '$TMP/bad1.t0' | jq -r '$CHECK'"
    [[ "$output" == "row 0: decoder input at 1" ]]
    t0-cat -n 1 "$TMP/p.t0" | jq -c '.encoder_positions[0][1] = 0' | t0-cat --encode -o "$TMP/bad2.t0"
    run -0 bash -c "t0-cat '$TMP/bad2.t0' | jq -r '$CHECK'"
    [[ "$output" == *"row 0: position at 1"* ]]
}

@test "too long examples are truncated, the target keeping its EOS, never split" {
    gen a ds t 50 4 100 40 1000
    run -0 t0-pack --rows 4 --input-len 16 --target-len 8 -o "$TMP/p.t0" "$TMP/a.t0"
    [[ "$output" == *"truncated)"* ]]
    t0-cat "$TMP/a.t0" | jq -r '"\(.input_ids[:16])|\(if (.target_ids | length) > 8 then .target_ids[:7] + [1] else .target_ids end)"' | sort > "$TMP/want.txt"
    examples_out "$TMP/p.t0" > "$TMP/got.txt"
    cmp "$TMP/want.txt" "$TMP/got.txt"
}

@test "--no-pack: one example a row; --batches N: N batches of R rows" {
    gen a ds t 30 5 10 6 1000
    run -0 t0-pack --no-pack --rows 4 --input-len 16 --target-len 8 --batches 20 -o "$TMP/p.t0" "$TMP/a.t0"
    run -0 bash -c "t0-cat '$TMP/p.t0' | jq -c '[.encoder_segment_ids[] | max]' | sort -u"
    [ "$output" = "[1,1,1,1]" ]
    run -0 t0-cat --count "$TMP/p.t0"
    [ "$output" = '{"records":20,"kinds":{"batch":20},"tasks":{}}' ]
    # --progress off a terminal: plain lines, one a tenth of the job, and the totals
    run -0 t0-pack -q --progress --no-pack --rows 4 --input-len 16 --target-len 8 --batches 20 -o "$TMP/q.t0" "$TMP/a.t0"
    [ "${lines[0]}" = "t0-pack: packing: started" ]
    [ "${lines[1]}" = "t0-pack: 2 batches, 8 examples, ${lines[1]#*examples, }" ]
    [[ ${lines[10]} == "t0-pack: 20 batches, 80 examples, "*" examples/s, 100.0%, ETA 0:00:00" ]]
    [[ ${lines[11]} == "t0-pack: packing: done: 20 batches, 80 examples, "*" examples/s ("*")" ]]
    [ "${#lines[@]}" -eq 12 ]
    [[ $output != *$'\r'* ]]
    cmp "$TMP/p.t0" "$TMP/q.t0"
    # 80 draws from a task of 30: passes 1, 2 and 3 each complete in order
    run -0 bash -c "t0-cat '$TMP/p.t0' | jq -r '.encoder_input_tokens[][0]' | head -60 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
    [ "$output" = "2" ]
}

@test "rates are honoured within sampling error (chi-square), and a wrong rate would fail" {
    gen a A t 40 6 3 2 1000
    gen b B t 40 7 3 2 2000
    gen c C t 40 8 3 2 3000
    printf '# test mixture\nA\ta.t0\t1\n\nB\tb.t0\t2\nC\tc.t0\t5\n' > "$TMP/m.tsv"
    run -0 t0-pack -q -m "$TMP/m.tsv" --no-pack --rows 100 --input-len 4 --target-len 2 --batches 200 --seed 11 -o "$TMP/p.t0"
    t0-cat "$TMP/p.t0" | jq -r '.encoder_input_tokens[][0] / 1000 | floor' | sort | uniq -c > "$TMP/counts"
    cat "$TMP/counts" >&3
    # chi-square with 2 degrees of freedom; 13.8 is its 0.999 quantile
    chi() { awk -v r="$1" 'BEGIN { split(r, w, ","); t = w[1] + w[2] + w[3] } { n[$2] = $1; s += $1 }
        END { for (k = 1; k <= 3; k++) { e = s * w[k] / t; x += (n[k] - e) ^ 2 / e }; printf "%.2f\n", x }' "$TMP/counts"; }
    echo "# chi2 against 1:2:5 = $(chi 1,2,5), against 1:2:4 = $(chi 1,2,4)" >&3
    awk -v x="$(chi 1,2,5)" 'BEGIN { exit !(x < 13.8) }'
    awk -v x="$(chi 1,2,4)" 'BEGIN { exit !(x > 13.8) }'
    awk -v x="$(chi 2,2,4)" 'BEGIN { exit !(x > 13.8) }'
}

@test "the same seed gives the same bytes, another seed other bytes" {
    gen a A t 200 9 30 10 1000
    gen b B t 100 10 30 10 2000
    for s in 1 1 2; do
        t0-pack -q --rows 4 --input-len 64 --target-len 16 --batches 30 --seed $s -o "$TMP/s$s.$RANDOM.t0" "$TMP/a.t0" "$TMP/b.t0"
    done
    set -- "$TMP"/s1.*.t0
    [ "$#" -eq 2 ]
    cmp "$1" "$2"
    run -1 cmp -s "$1" "$TMP"/s2.*.t0
}

@test "--rates: T0's cap, per template of a capped dataset; its file drives t0-pack" {
    gen t1 big t1 30 1 5 3 1000
    gen t2 big t2 30 2 5 3 2000
    gen s small only 5 3 5 3 3000
    cat "$TMP/t1.jsonl" "$TMP/t2.jsonl" | t0-cat --encode -o "$TMP/both.t0"
    mkdir "$TMP/d"
    run -0 t0-pack --rates --cap 40 -o "$TMP/m.tsv" "$TMP/t1.t0" "$TMP/t2.t0" "$TMP/s.t0"
    [ "$(grep -v '^#' "$TMP/m.tsv")" = "$(printf 'big:t1\tt1.t0\t30\nbig:t2\tt2.t0\t30\nsmall:only\ts.t0\t5')" ]
    run -0 t0-pack --rates --cap 20 -o "$TMP/d/m.tsv" "$TMP/t1.t0" "$TMP/t2.t0" "$TMP/s.t0" "$TMP/both.t0"
    # big: 2 templates of 60 records each (both.t0 holds a second copy of each), over the
    # cap: 20 / 2 = 10 a template, shared by the files holding it
    R=$(realpath "$TMP")
    [ "$(grep -v '^#' "$R/d/m.tsv")" = "$(printf "big:t1\t$R/t1.t0\t5\nbig:t2\t$R/t2.t0\t5\nsmall:only\t$R/s.t0\t5\nbig\t$R/both.t0\t10")" ]
    run -0 t0-pack -m "$TMP/m.tsv" --rows 2 --input-len 16 --target-len 4 -o "$TMP/p.t0"
    [[ "$output" == *"65 examples"* ]]
    [[ "$output" == *"task small:only: "*" examples ("*"%, rate 7.69%)"* ]]
}

@test "memory is bounded by the buffer: a 200 MB input packs in the memory of a 10 MB one" {
    gen a big t 17000 1 400 100 100000
    for i in $(seq 20); do cat "$TMP/a.t0"; done > "$TMP/huge.t0"
    printf 'big\ta.t0\t17000\n' > "$TMP/small.tsv"
    printf 'big\thuge.t0\t340000\n' > "$TMP/huge.tsv"
    for m in small huge; do
        /usr/bin/time -f %M -o "$TMP/$m.rss" t0-pack -q -m "$TMP/$m.tsv" --rows 32 > "$TMP/$m.out"
    done
    small=$(cat "$TMP/small.rss") huge=$(cat "$TMP/huge.rss")
    echo "# peak RSS: $(du -m "$TMP/a.t0" | cut -f1) MB input $small KB, $(du -m "$TMP/huge.t0" | cut -f1) MB input $huge KB" >&3
    # reading the data into memory would take 200 MB more; allow ASan's quarantine some room
    [ "$huge" -lt $((small + small / 2 + 4096)) ]
    [ "$(du -m "$TMP/huge.t0" | cut -f1)" -ge 190 ]
}

@test "bad input: wrong kind, truncated stream, mixture file errors; nothing written" {
    echo '{"kind":"example","task":"t","template":"p","input":"x","target":"y"}' | t0-cat --encode -o "$TMP/ex.t0"
    echo keep > "$TMP/out.t0"
    run -1 t0-pack --rows 2 -o "$TMP/out.t0" "$TMP/ex.t0"
    assert_one_error_line t0-pack
    [[ "$output" == *"ex.t0: record 1: expected tokens, got example (run t0-tokenize first)" ]]
    gen a ds t 3000 1 100 20 1000
    head -c 100000 "$TMP/a.t0" > "$TMP/cut.t0"
    printf 'ds\tcut.t0\t3000\n' > "$TMP/cut.tsv"
    run -1 t0-pack -m "$TMP/cut.tsv" --rows 2 -o "$TMP/out.t0"
    assert_one_error_line t0-pack
    [[ "$output" == *"cut.t0"* ]]
    printf 'ds\ta.t0\t1\nmissing\tnone.t0\t1\n' > "$TMP/m.tsv"
    run -1 t0-pack -m "$TMP/m.tsv" --rows 2 -o "$TMP/out.t0"
    [ "$output" = "t0-pack: $TMP/m.tsv:2: $TMP/none.t0: No such file or directory" ]
    printf 'ds a.t0 1\n' > "$TMP/m.tsv"
    run -1 t0-pack -m "$TMP/m.tsv" --rows 2 -o "$TMP/out.t0"
    [ "$output" = "t0-pack: $TMP/m.tsv:1: expected task<TAB>stream file<TAB>rate" ]
    printf 'ds\ta.t0\t-2\n' > "$TMP/m.tsv"
    run -1 t0-pack -m "$TMP/m.tsv" --rows 2 -o "$TMP/out.t0"
    [ "$output" = "t0-pack: $TMP/m.tsv:1: rate '-2' is not a positive number" ]
    [ "$(cat "$TMP/out.t0")" = keep ]
    [ "$(ls "$TMP" | grep -c out)" -eq 1 ]
}

@test "bad flags: one line, exit 1" {
    gen a ds t 5 1 5 3 1000
    for args in "--rows 0 a.t0" "a.t0" "--rows 2" "--rows 2 --epochs 0 a.t0" "--rows 2 --epochs x a.t0" \
        "--rows 2 --batches 3 --epochs 1 a.t0" "--rows 2 --bogus a.t0" "--rows 2 -m m.tsv --cap 5" \
        "--rows 2 -m m.tsv a.t0" "--rows 2 --shuffle-buffer 0 a.t0" "--rows 2 -" "--rates" \
        "--rows 2 --input-len 0 a.t0" "--rows 100000 a.t0"; do
        run -1 bash -c "cd '$TMP' && t0-pack $args -o out.t0"
        echo "$args: $output"
        assert_one_error_line t0-pack
    done
    [ ! -e "$TMP/out.t0" ]
    run -0 t0-pack --help
    [[ "$output" == "Usage: t0-pack"* ]]
    run -0 t0-pack --version
}
