#!/bin/sh
# Re-writes tests/fixtures/model/ from Hugging Face transformers (PyPI) in a venv under build/
# (tests/reference/venv-model.sh).
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
rm -rf tests/fixtures/model
"$py" tests/reference/t5_reference.py tests/fixtures/model
