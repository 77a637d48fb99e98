#!/bin/sh
# Makes the t0-render differential fixtures: synthesized examples for every promptsource
# template in ../shared/promptsource/templates and the records Python jinja2 with promptsource's
# apply semantics gives for them (tests/reference/render_ref.py), as one tar.zst.
# Also the small fixtures of tests/render.bats (mini.*.expected.jsonl).
# Needs: network for PyPI (jinja2 3.1.6, PyYAML), bin/t0-cat (run `make` first).
# T0_SHARED: where ../shared is, for a checkout elsewhere.
set -eu
cd "$(dirname "$0")/../.."
templates=${T0_SHARED:-../shared}/promptsource/templates
[ -d "$templates" ] || { echo "fixtures-render: $templates is absent" >&2; exit 1; }
[ -x bin/t0-cat ] || make --no-print-directory bin/t0-cat
venv=build/venv-render
if [ ! -x $venv/bin/python ]; then
    python3 -m venv $venv
    $venv/bin/pip install -q jinja2==3.1.6 PyYAML==6.0.3
fi
fix=tests/fixtures/render
$venv/bin/python tests/reference/render_ref.py -t $fix/mini.yaml $fix/mini.jsonl |
    bin/t0-cat --encode | bin/t0-cat > $fix/mini.expected.jsonl
$venv/bin/python tests/reference/render_ref.py -t $fix/mini.yaml --seed 7 $fix/mini.jsonl |
    bin/t0-cat --encode | bin/t0-cat > $fix/mini.seed7.expected.jsonl
work=build/render-fixtures
rm -rf $work && mkdir -p $work/cases
$venv/bin/python tests/reference/synth_examples.py "$templates" $work/cases > $work/synth.log
head -n 1 $work/synth.log
# Expected records in t0-cat's own JSON form, so the test compares bytes.
find $work/cases -name '*.expected.jsonl' | while read -r f; do
    bin/t0-cat --encode "$f" | bin/t0-cat > "$f.tmp" && mv "$f.tmp" "$f"
done
tar -C $work/cases --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - . |
    zstd -q -19 -T2 -f -o tests/fixtures/render/cases.tar.zst
cp $work/synth.log tests/fixtures/render/synth.log
echo "fixtures-render: wrote tests/fixtures/render/cases.tar.zst ($(wc -c < tests/fixtures/render/cases.tar.zst) bytes)"
