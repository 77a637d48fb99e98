#!/bin/sh
# Makes (once) the virtualenv with torch and transformers that the model fixtures are
# written with, under build/, and prints its python. Needs network for pip. torch comes
# from Debian (python3-torch) when present, else from PyPI.
set -eu
cd "$(dirname "$0")/../.."
venv=build/venv-model
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv" >&2
    "$venv/bin/python" -c 'import torch' 2>/dev/null || "$venv/bin/pip" install -q torch numpy >&2
    "$venv/bin/pip" install -q "transformers<4.45" safetensors >&2
fi
echo "$PWD/$venv/bin/python"
