#!/bin/sh
# Re-writes tests/fixtures/t0init/: model directories made by t0-init (F32 and BF16, a
# gated-gelu untied and a relu tied config), loaded by transformers' from_pretrained, and
# their logits on a fixed batch. The C test makes the same directories (same seeds) and
# must get the same logits.
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
make --no-print-directory bin/t0-init >/dev/null
out=tests/fixtures/t0init
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cat > "$tmp/relu.json" <<'JSON'
{"d_model": 32, "d_kv": 8, "d_ff": 64, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 1,
 "vocab_size": 300, "relative_attention_num_buckets": 16, "relative_attention_max_distance": 32,
 "feed_forward_proj": "relu", "tie_word_embeddings": true, "layer_norm_epsilon": 1e-6}
JSON
bin/t0-init --preset tiny --seed 7 -o "$tmp/tiny-f32"
bin/t0-init --preset tiny --seed 7 --dtype bf16 -o "$tmp/tiny-bf16"
bin/t0-init --config "$tmp/relu.json" --seed 11 -o "$tmp/relu-tied"
cp "$tmp/relu.json" "$out/relu.json"
for m in tiny-f32 tiny-bf16 relu-tied; do
    "$py" tests/reference/t0init_logits.py "$tmp/$m" "$out/$m.safetensors"
done
echo "fixtures-t0init: wrote $(ls "$out" | wc -l) files to $out"
