#!/bin/sh
# Re-writes tests/fixtures/decode/ (generation ids from transformers' generate()) in the venv
# under build/ (tests/reference/venv-model.sh).
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
rm -rf tests/fixtures/decode
"$py" tests/reference/decode_reference.py tests/fixtures/decode
