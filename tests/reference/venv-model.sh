#!/bin/sh
# Makes (once) the virtualenv with torch and transformers that the model fixtures are
# written with, under build/, and prints its python. Needs network for pip. torch comes
# from Debian (python3-torch) when present, else from PyPI.
#   sh tests/reference/venv-model.sh [ct2]   (ct2: also CTranslate2, for the benchmarks)
set -eu
cd "$(dirname "$0")/../.."
venv=build/venv-model
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv" >&2
    "$venv/bin/python" -c 'import torch' 2>/dev/null || "$venv/bin/pip" install -q torch numpy >&2
    "$venv/bin/pip" install -q "transformers<4.45" safetensors >&2
fi
# CTranslate2 4.4 (4.8 passes from_pretrained an argument transformers 4.44 lacks); its T5
# converter needs sentencepiece and protobuf
if [ "${1:-}" = ct2 ] && ! "$venv/bin/python" -c 'import ctranslate2' 2>/dev/null; then
    "$venv/bin/pip" install -q "ctranslate2==4.4.0" sentencepiece protobuf >&2
fi
echo "$PWD/$venv/bin/python"
