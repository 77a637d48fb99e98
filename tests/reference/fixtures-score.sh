#!/bin/sh
# Re-writes tests/fixtures/score/ (rank classification) from Hugging Face transformers (PyPI)
# in a venv under build/ (tests/reference/venv-model.sh), over the model fixtures.
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
rm -rf tests/fixtures/score
"$py" tests/reference/score_reference.py tests/fixtures/model tests/fixtures/score
