#!/bin/sh
# Re-writes tests/fixtures/step/ (training steps against transformers' Adafactor and torch's
# AdamW, tests/reference/step_reference.py) from the model fixtures of fixtures-model.sh,
# in the venv of tests/reference/venv-model.sh. When bin/t0-step is built, also trains the
# a_gated_untied fixture 3 steps with it and checks that transformers' from_pretrained loads
# the checkpoint and gives the reference's logits.
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
rm -rf tests/fixtures/step
"$py" tests/reference/step_reference.py tests/fixtures/step
chmod 644 tests/fixtures/step/*/*
if [ -x bin/t0-step ] && [ -x bin/t0-cat ]; then
    work=build/fixtures-step
    rm -rf "$work" && mkdir -p "$work"
    m=tests/fixtures/model/a_gated_untied
    # the fixture batch as a batch record, three times
    "$py" - "$m/batch.safetensors" > "$work/batch.jsonl" <<'PY'
import json, sys
from safetensors.torch import load_file
b = load_file(sys.argv[1])
rec = {"kind": "batch"}
rec.update({k: b[k].long().tolist() for k in ("encoder_input_tokens", "encoder_segment_ids", "encoder_positions",
            "decoder_target_tokens", "decoder_input_tokens", "decoder_segment_ids", "decoder_positions",
            "decoder_loss_weights")})
print(json.dumps(rec))
PY
    cat "$work/batch.jsonl" "$work/batch.jsonl" "$work/batch.jsonl" | bin/t0-cat --encode > "$work/batch.t0"
    bin/t0-step -m "$m" -o "$work/run" --dropout 0 --factor-min-dim 32 --threads 1 "$work/batch.t0"
    "$py" tests/reference/step_reference.py --check-checkpoint "$work/run" a_gated_untied
fi
