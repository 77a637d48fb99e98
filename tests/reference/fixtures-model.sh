#!/bin/sh
# Re-writes tests/fixtures/model/ from Hugging Face transformers (PyPI) in a venv under build/.
# Needs network for pip. torch comes from Debian (python3-torch) when present, else from PyPI.
set -eu
cd "$(dirname "$0")/../.."
venv=build/venv-model
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/python" -c 'import torch' 2>/dev/null || "$venv/bin/pip" install -q torch numpy
    "$venv/bin/pip" install -q "transformers<4.45" safetensors
fi
rm -rf tests/fixtures/model
"$venv/bin/python" tests/reference/t5_reference.py tests/fixtures/model
