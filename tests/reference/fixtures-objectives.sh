#!/bin/sh
# Re-writes tests/fixtures/objectives/spans.tsv: T5's span-corruption length arithmetic
# (tests/reference/spans_reference.py) that lib/train/objectives.c must match.
set -eu
cd "$(dirname "$0")/../.."
py=$(sh tests/reference/venv-model.sh)
mkdir -p tests/fixtures/objectives
"$py" tests/reference/spans_reference.py > tests/fixtures/objectives/spans.tsv
