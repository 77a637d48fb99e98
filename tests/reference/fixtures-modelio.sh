#!/bin/sh
# Regenerates tests/fixtures/st/ (safetensors written by Python's safetensors and by
# transformers' save_pretrained, sharded) with tests/reference/check_io.py in a venv of its own.
# Needs network access to PyPI. Run from the repository root (make fixtures does).
set -eu
venv=build/venv-modelio
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q safetensors numpy torch transformers
fi
rm -rf tests/fixtures/st
"$venv/bin/python" tests/reference/check_io.py fixtures tests/fixtures/st
# If t0-init is built, check that what it writes loads in transformers (F32 and BF16).
if [ -x bin/t0-init ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    bin/t0-init --preset tiny --seed 1 -o "$tmp/f32"
    bin/t0-init --preset tiny --seed 2 --dtype bf16 -o "$tmp/bf16"
    # the original T5's kind: relu, tied embeddings (lm_head absent, decoder output rescaled)
    printf '{"d_model": 32, "d_kv": 8, "d_ff": 64, "num_heads": 2, "num_layers": 2, "vocab_size": 300}' \
        > "$tmp/tied.json"
    bin/t0-init --config "$tmp/tied.json" --seed 3 -o "$tmp/tied"
    "$venv/bin/python" tests/reference/check_io.py load "$tmp/f32" "$tmp/bf16" "$tmp/tied"
fi
