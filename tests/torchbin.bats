#!/usr/bin/env bats
# PyTorch checkpoints (pytorch_model.bin, sharded or not) in every program that opens a model:
# the same scores, greedy ids and --check summary as the model's safetensors twin; safetensors
# first when both are there; t0-step trains from a .bin; t0-init --convert; hostile and broken
# archives are one line and exit 1 in each program, leaving nothing behind.
# Fixtures: tests/fixtures/torchbin (tests/reference/fixtures-torchbin.sh).

load lib/common
load lib/batches

setup() {
    setup_t0
    FIX=$ROOT/tests/fixtures/torchbin
    t0-cat --encode -o "$TMP/tok.t0" "$ROOT/tests/fixtures/score/a_gated_untied.tokens.jsonl"
}

# twin NAME DIR: DIR holds NAME's config.json and its safetensors twin as model.safetensors
twin() {
    mkdir -p "$2"
    cp "$FIX/$1/config.json" "$2/"
    cp "$FIX/$1.safetensors" "$2/model.safetensors"
}

@test "--check: every .bin model, one file or sharded, reads as its safetensors twin" {
    for m in f32_untied f32_tied_sharded f16_tied bf16_untied_sharded bf16_tied; do
        twin $m "$TMP/$m"
        run -0 t0-init --check "$FIX/$m"
        bin=${output#"$FIX/$m: "}
        run -0 t0-init --check "$TMP/$m"
        echo "$m: $bin"
        [ "$bin" = "${output#"$TMP/$m: "}" ]
        [[ $bin == "ok: "* ]]
    done
}

@test "t0-score: scores identical from .bin and from safetensors (F32, F16, BF16; tied, untied, sharded)" {
    for m in f32_untied f32_tied_sharded f16_tied bf16_untied_sharded bf16_tied; do
        twin $m "$TMP/$m"
        t0-score -m "$FIX/$m" "$TMP/tok.t0" | t0-cat > "$TMP/bin.jsonl"
        t0-score -m "$TMP/$m" "$TMP/tok.t0" | t0-cat > "$TMP/st.jsonl"
        [ "$(wc -l < "$TMP/bin.jsonl")" -eq 40 ]
        cmp "$TMP/bin.jsonl" "$TMP/st.jsonl"
    done
}

@test "t0-decode: greedy and beam ids identical from .bin and from safetensors" {
    zstd -q -d "$ROOT/tests/fixtures/spm/t5-1k.model.zst" -o "$TMP/spiece.model"
    for m in f32_untied bf16_untied_sharded f16_tied; do
        cp -r "$FIX/$m" "$TMP/bin-$m"
        cp "$TMP/spiece.model" "$TMP/bin-$m/"
        twin $m "$TMP/st-$m"
        cp "$TMP/spiece.model" "$TMP/st-$m/"
        for beam in 1 3; do
            t0-decode -m "$TMP/bin-$m" -r --beam $beam --max-new-tokens 6 < "$TMP/tok.t0" | t0-cat > "$TMP/bin.jsonl"
            t0-decode -m "$TMP/st-$m" -r --beam $beam --max-new-tokens 6 < "$TMP/tok.t0" | t0-cat > "$TMP/st.jsonl"
            [ "$(jq -s 'map(.target_ids | length) | add' "$TMP/bin.jsonl")" -gt 40 ]
            cmp "$TMP/bin.jsonl" "$TMP/st.jsonl"
        done
    done
}

@test "safetensors first when both are there; .bin when safetensors is absent" {
    cp -r "$FIX/f32_untied" "$TMP/m"
    cp "$FIX/bf16_tied.safetensors" "$TMP/m/model.safetensors"   # a tied model's: no lm_head
    run -1 t0-init --check "$TMP/m"
    [ "$output" = "t0-init: $TMP/m: missing tensor lm_head.weight" ]   # the .bin has one
    twin f32_untied "$TMP/m"                                     # the right one
    printf 'not a checkpoint, never opened' > "$TMP/m/pytorch_model.bin"
    run -0 t0-init --check "$TMP/m"
    rm "$TMP/m/model.safetensors"
    run -1 t0-init --check "$TMP/m"
    [ "$output" = "t0-init: $TMP/m/pytorch_model.bin: no zip end of central directory record (not a zip archive, or truncated)" ]
    rm "$TMP/m/pytorch_model.bin"
    run -1 t0-init --check "$TMP/m"
    [ "$output" = "t0-init: $TMP/m: no model.safetensors or pytorch_model.bin (or their .index.json) in it" ]
}

@test "sharded: a shard missing, or a name the index puts in the wrong shard" {
    cp -r "$FIX/bf16_untied_sharded" "$TMP/m"
    rm "$TMP/m/pytorch_model-00002-of-00004.bin"
    run -1 t0-init --check "$TMP/m"
    assert_one_error_line t0-init
    [[ $output == *"pytorch_model-00002-of-00004.bin: No such file or directory" ]]
    cp -r "$FIX/bf16_untied_sharded" "$TMP/n"
    jq '.weight_map["shared.weight"] = "pytorch_model-00004-of-00004.bin"' "$FIX/bf16_untied_sharded/pytorch_model.bin.index.json" \
        > "$TMP/n/pytorch_model.bin.index.json"
    run -1 t0-init --check "$TMP/n"
    [ "$output" = "t0-init: $TMP/n/pytorch_model.bin.index.json: tensor shared.weight: not in shard pytorch_model-00004-of-00004.bin" ]
}

@test "t0-step trains from a .bin model; its checkpoint is safetensors and reads back" {
    batches 2 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$FIX/bf16_untied_sharded" -o "$TMP/run" --lr 1e-2 --threads 1 "$TMP/b.t0"
    [ "$(wc -l < "$TMP/run/loss.tsv")" -eq 3 ]
    [ -s "$TMP/run/model.safetensors" ]
    run -0 t0-init --check "$TMP/run"
    [[ $output == *"ok: 38 tensors, 9872 parameters"* ]]
}

@test "t0-init --convert: model.safetensors beside the .bin, scoring as the .bin did; refuses twice" {
    for m in f32_untied f32_tied_sharded f16_tied bf16_tied; do
        cp -r "$FIX/$m" "$TMP/$m"
        run -0 t0-init --convert "$TMP/$m"
        [[ ${lines[0]} == "$TMP/$m: wrote model.safetensors: "*" tied views written once)" ]]
        [[ ${lines[1]} == "$TMP/$m: ok: "* ]]
        rm "$TMP/$m"/pytorch_model*   # from the safetensors alone now
        t0-score -m "$FIX/$m" "$TMP/tok.t0" | t0-cat > "$TMP/bin.jsonl"
        t0-score -m "$TMP/$m" "$TMP/tok.t0" | t0-cat > "$TMP/st.jsonl"
        cmp "$TMP/bin.jsonl" "$TMP/st.jsonl"
    done
    run -1 t0-init --convert "$TMP/bf16_tied"
    [ "$output" = "t0-init: $TMP/bf16_tied: already has model.safetensors, nothing to convert" ]
    run -1 t0-init --convert "$TMP/none"
    assert_one_error_line t0-init
}

@test "hostile and broken archives: one line, exit 1, nothing written, nothing run, in every program" {
    zstd -q -d "$ROOT/tests/fixtures/spm/t5-1k.model.zst" -o "$TMP/spiece.model"
    batches 1 | t0-cat --encode > "$TMP/b.t0"
    rm -f /tmp/t0-torchbin-pwned
    local n=0
    while IFS=$'\t' read -r file want; do
        rm -rf "$TMP/m" "$TMP/out"*
        mkdir "$TMP/m"
        cp "$FIX/f32_untied/config.json" "$TMP/spiece.model" "$TMP/m/"
        cp "$FIX/hostile/$file" "$TMP/m/pytorch_model.bin"
        echo "$file: $want"
        run -1 t0-init --check "$TMP/m"
        assert_one_error_line t0-init
        [[ $output == *"$TMP/m/pytorch_model.bin: "*"$want"* ]]
        run -1 t0-score -m "$TMP/m" -o "$TMP/out.t0" "$TMP/tok.t0"
        assert_one_error_line t0-score
        [[ $output == *"$want"* ]]
        run -1 t0-decode -m "$TMP/m" -o "$TMP/out.txt" <<< "hello"
        assert_one_error_line t0-decode
        [[ $output == *"$want"* ]]
        run -1 t0-step -m "$TMP/m" -o "$TMP/out-run" "$TMP/b.t0"
        assert_one_error_line t0-step
        [[ $output == *"$want"* ]]
        run -1 t0-init --convert "$TMP/m"
        assert_one_error_line t0-init
        [ ! -e "$TMP/out.t0" ] && [ ! -e "$TMP/out.txt" ] && [ ! -e "$TMP/out-run/latest" ]
        [ "$(ls "$TMP/m" | sort | tr '\n' ' ')" = "config.json pytorch_model.bin spiece.model " ]
        n=$((n + 1))
    done < "$FIX/hostile/expect.tsv"
    [ "$n" -ge 28 ]
    [ ! -e /tmp/t0-torchbin-pwned ]
}
