#!/bin/sh
# Re-writes tests/fixtures/torchbin/ (PyTorch pytorch_model.bin checkpoints written by Debian's
# torch and transformers' save_pretrained, views, hostile archives) with
# tests/reference/torchbin_fixtures.py in the venv of tests/reference/venv-model.sh.
# When the tools are built, also checks that t0-step trains from a .bin model and that its
# checkpoint loads in transformers.
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
rm -rf tests/fixtures/torchbin
"$py" tests/reference/torchbin_fixtures.py fixtures tests/fixtures/torchbin
chmod -R a+rX,go-w tests/fixtures/torchbin
if [ -x bin/t0-step ] && [ -x bin/t0-cat ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    . tests/lib/batches.bash
    batches 3 | bin/t0-cat --encode -o "$tmp/b.t0"
    for m in f32_untied bf16_untied_sharded; do
        bin/t0-step -m tests/fixtures/torchbin/$m -o "$tmp/run-$m" --lr 1e-2 --threads 1 "$tmp/b.t0" 2>/dev/null
        "$py" tests/reference/torchbin_fixtures.py check-checkpoint "$tmp/run-$m" tests/fixtures/torchbin/$m
    done
fi
