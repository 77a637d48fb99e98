#!/bin/sh
# Regenerates the Jinja engine's fixtures from real jinja2 (make fixtures; needs PyPI):
#   tests/fixtures/jinja_cases.jsonl   hand-written cases     (jinja_cases.py)
#   tests/fixtures/jinja_random.jsonl  600 random expressions (jinja_fuzzdiff.py, seed 1)
#   tests/fixtures/jinja_corpus.jsonl  every 5th promptsource template (jinja_corpus.py; needs ../shared)
#   tests/fixtures/prng_draws.txt      the seeded choice rule (prng.py)
#   lib/render/pyunicode_tab.h            Python's Unicode tables (gen_unicode.py)
set -e
venv=build/venv-render-jinja
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "jinja2==3.1.6" "pyyaml"
py="$venv/bin/python"
"$py" tests/reference/jinja_cases.py
"$py" tests/reference/jinja_fuzzdiff.py tests/fixtures/jinja_random.jsonl 600 1
for shared in ../shared; do
    if [ -d "$shared/promptsource/templates" ]; then
        "$py" tests/reference/jinja_corpus.py "$shared/promptsource/templates" tests/fixtures/jinja_corpus.jsonl 5
        break
    fi
done
"$py" tests/reference/prng.py > tests/fixtures/prng_draws.txt
"$py" tests/reference/gen_unicode.py
