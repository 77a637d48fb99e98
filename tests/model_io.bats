#!/usr/bin/env bats
# t0-init: new model directories, and t0-init --check on damaged ones (one clear line, exit 1).
bats_require_minimum_version 1.5.0

setup() {
    T0_BIN=${T0_BIN:-$BATS_TEST_DIRNAME/../bin}
    tmp=$(mktemp -d)
}

teardown() {
    rm -rf "$tmp"
}

# Byte offset of the first occurrence of $2 in file $1.
offset_of() {
    grep -abo -m1 -F -- "$2" "$1" | head -n1 | cut -d: -f1
}

# Overwrites bytes of file $1 at offset $2 with the string $3.
poke() {
    printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

tiny() {
    "$T0_BIN/t0-init" --preset tiny --seed "${2:-1}" -o "$1"
}

@test "help and version" {
    run -0 "$T0_BIN/t0-init" --help
    [[ "$output" == *"--preset NAME"* ]]
    run -0 "$T0_BIN/t0-init" --version
    [[ "$output" == "t0-init (t0 tools) "* ]]
}

@test "tiny preset: config, weights, tokenizer; --check reads it back" {
    printf 'not really a sentencepiece model' > "$tmp/spiece.model"
    run -0 "$T0_BIN/t0-init" --preset tiny --seed 5 --tokenizer "$tmp/spiece.model" -o "$tmp/m"
    [ -z "$output" ]   # quiet when stderr is not a terminal
    [ -s "$tmp/m/config.json" ] && [ -s "$tmp/m/model.safetensors" ]
    cmp "$tmp/spiece.model" "$tmp/m/spiece.model"
    [ "$(jq -r .feed_forward_proj "$tmp/m/config.json")" = gated-gelu ]
    [ "$(jq -r .tie_word_embeddings "$tmp/m/config.json")" = false ]
    [ "$(jq -r .d_model "$tmp/m/config.json")" = 64 ]
    run -0 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "$output" = "$tmp/m: ok: 52 tensors, 263168 parameters (F32 52, F16 0, BF16 0), d_model 64, 2+2 layers, gated-gelu, untied" ]
    ls "$tmp" | { ! grep -q tmp; }   # no temporary directory left
}

@test "same seed, same file; another seed, another file; bf16 is half the size" {
    tiny "$tmp/a" 3
    tiny "$tmp/b" 3
    tiny "$tmp/c" 4
    cmp "$tmp/a/model.safetensors" "$tmp/b/model.safetensors"
    ! cmp -s "$tmp/a/model.safetensors" "$tmp/c/model.safetensors"
    run -0 "$T0_BIN/t0-init" --preset tiny --seed 3 --dtype bf16 -o "$tmp/h"
    run -0 "$T0_BIN/t0-init" --check "$tmp/h"
    [[ "$output" == *"(F32 0, F16 0, BF16 52)"* ]]
    full=$(stat -c %s "$tmp/a/model.safetensors")
    half=$(stat -c %s "$tmp/h/model.safetensors")
    [ $((full - 2 * half)) -lt 20000 ] && [ $((2 * half - full)) -lt 20000 ]
}

@test "--config: a config.json in, the same shape out; --progress reports on stderr" {
    cat > "$tmp/config.json" <<'EOF'
{"d_model": 32, "d_kv": 8, "d_ff": 64, "num_heads": 2, "num_layers": 1, "vocab_size": 100,
 "feed_forward_proj": "relu", "some_future_key": {"x": 1}}
EOF
    run -0 "$T0_BIN/t0-init" --config "$tmp/config.json" --seed 1 --progress -o "$tmp/m"
    [[ "$output" == *"100% ("* ]]
    run -0 "$T0_BIN/t0-init" --check "$tmp/m"
    [[ "$output" == *"d_model 32, 1+1 layers, relu, tied"* ]]
    [ "$(jq -r .tie_word_embeddings "$tmp/m/config.json")" = true ]
}

@test "refuses to overwrite a non-empty directory, fills an empty one" {
    mkdir "$tmp/m" && touch "$tmp/m/keep"
    run -1 "$T0_BIN/t0-init" --preset tiny --seed 1 -o "$tmp/m"
    [ "$output" = "t0-init: $tmp/m: exists and is not empty, will not overwrite" ]
    [ "$(ls "$tmp/m")" = keep ]
    mkdir "$tmp/e"
    run -0 "$T0_BIN/t0-init" --preset tiny --seed 1 -o "$tmp/e"
    [ -s "$tmp/e/model.safetensors" ]
}

@test "usage errors exit 1 with one line" {
    run -1 "$T0_BIN/t0-init" --preset tiny -o "$tmp/m"
    [[ "$output" == "t0-init: --seed is required"* ]] && [ "${#lines[@]}" -eq 1 ]
    run -1 "$T0_BIN/t0-init" --preset huge --seed 1 -o "$tmp/m"
    [ "$output" = 't0-init: unknown preset "huge" (want tiny, small, base, large, xl or xxl)' ]
    run -1 "$T0_BIN/t0-init" --preset tiny --config x --seed 1 -o "$tmp/m"
    [ "${#lines[@]}" -eq 1 ]
    run -1 "$T0_BIN/t0-init" --preset tiny --seed -3 -o "$tmp/m"
    [[ "$output" == "t0-init: --seed: expected an integer"* ]]
    run -1 "$T0_BIN/t0-init" --preset tiny --seed 1 --dtype f64 -o "$tmp/m"
    [[ "$output" == "t0-init: --dtype: expected f32 or bf16"* ]]
    [ ! -e "$tmp/m" ]
}

@test "bad config.json: malformed, unknown feed_forward_proj, bad dimension" {
    printf '{"d_model": 64,' > "$tmp/bad.json"
    run -1 "$T0_BIN/t0-init" --config "$tmp/bad.json" --seed 1 -o "$tmp/m"
    [ "$output" = "t0-init: $tmp/bad.json: malformed JSON" ]
    printf '{"feed_forward_proj": "gated-silu"}' > "$tmp/bad.json"
    run -1 "$T0_BIN/t0-init" --config "$tmp/bad.json" --seed 1 -o "$tmp/m"
    [[ "$output" == "t0-init: $tmp/bad.json: key feed_forward_proj: unknown value \"gated-silu\""* ]]
    [ "${#lines[@]}" -eq 1 ]
    printf '{"d_ff": 0}' > "$tmp/bad.json"
    run -1 "$T0_BIN/t0-init" --config "$tmp/bad.json" --seed 1 -o "$tmp/m"
    [ "$output" = "t0-init: $tmp/bad.json: key d_ff: 0, expected a positive integer" ]
    [ ! -e "$tmp/m" ]
}

@test "--check: config and weights disagree (wrong shape, missing tensor)" {
    tiny "$tmp/m"
    sed -i 's/"d_ff": 128/"d_ff": 256/' "$tmp/m/config.json"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "$output" = "t0-init: $tmp/m/model.safetensors: tensor encoder.block.0.layer.1.DenseReluDense.wi_0.weight: shape [128, 64], expected [256, 64]" ]
    sed -i 's/"d_ff": 256/"d_ff": 128/; s/"num_layers": 2/"num_layers": 3/' "$tmp/m/config.json"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "$output" = "t0-init: $tmp/m: missing tensor encoder.block.2.layer.0.SelfAttention.q.weight" ]
    printf '{"feed_forward_proj": "swish"}' > "$tmp/m/config.json"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [[ "$output" == "t0-init: $tmp/m/config.json: key feed_forward_proj: unknown value \"swish\""* ]]
}

@test "--check: damaged safetensors (dtype, offsets, truncation, header length)" {
    tiny "$tmp/m"
    f=$tmp/m/model.safetensors
    cp "$f" "$tmp/orig"

    # an integer dtype where a float is needed (same length, so the header stays valid)
    off=$(offset_of "$f" '"dtype":"F32"')
    poke "$f" $((off + 9)) I32
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "$output" = "t0-init: $f: tensor shared.weight: dtype I32 not supported (want F32, F16 or BF16)" ]

    # offsets that lie: the first tensor's end moved (sizes no longer match dtype x shape)
    cp "$tmp/orig" "$f"
    off=$(offset_of "$f" '"data_offsets":[0,')
    poke "$f" $((off + 18)) 9
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [[ "$output" == "t0-init: $f: tensor shared.weight: data_offsets [0, 9"*"bytes, F32 [512, 64] needs 131072" ]]
    [ "${#lines[@]}" -eq 1 ]

    # truncated: the last tensor's data runs past the end
    cp "$tmp/orig" "$f"
    truncate -s -4 "$f"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [[ "$output" == "t0-init: $f: tensor "*"past the end of the data"*"file truncated?)" ]]

    # header length larger than the file
    cp "$tmp/orig" "$f"
    printf '\377\377\377\000' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [[ "$output" == "t0-init: $f: header length 16777215 runs past the end of the file ("*" bytes)" ]]

    # not a safetensors file at all, and an empty one
    printf 'hello, world, this is text' > "$f"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "${#lines[@]}" -eq 1 ]
    : > "$f"
    run -1 "$T0_BIN/t0-init" --check "$tmp/m"
    [ "$output" = "t0-init: $f: truncated: 0 bytes, a safetensors file starts with an 8-byte header length" ]
}

@test "--check reads the sharded checkpoint transformers wrote" {
    run -0 "$T0_BIN/t0-init" --check "$BATS_TEST_DIRNAME/fixtures/st/sharded"
    [[ "$output" == *": ok: 29 tensors, 2232 parameters (F32 29, F16 0, BF16 0), d_model 8, 1+1 layers, gated-gelu, untied" ]]
}

@test "small preset (t5-v1_1-small's shape) in bf16" {
    run -0 "$T0_BIN/t0-init" --preset small --seed 1 --dtype bf16 -o "$tmp/s"
    run -0 "$T0_BIN/t0-init" --check "$tmp/s"
    [[ "$output" == *"ok: 190 tensors, 76961152 parameters (F32 0, F16 0, BF16 190)"* ]]
}
