#!/bin/sh
# Re-makes tests/fixtures/spm/: small unigram models trained with spm_train, a test
# corpus, and what spm_encode / spm_decode make of it. Needs Debian's `sentencepiece`
# (spm_train, spm_encode, spm_decode), python3 and zstd; no network.
#
# Per model NAME the fixtures are
#   NAME.model.zst        the ModelProto spm_train wrote
#   NAME.ids.zst          spm_encode --output_format=id   of corpus.txt.zst, one line a line
#   NAME.decode.zst       spm_decode --input_format=id    of NAME.ids, then of NAME.randids
#   NAME.randids.zst      random id lines (every kind of piece) to decode
#   NAME.pieces.zst       spm_encode --output_format=piece (t5-8k, bytes-1k, user-1k)
#   NAME.json.zst         a tokenizer.json written from NAME.model by spm_to_tokenizer_json.py
#                         (not for raw-1k: tokenizer.json cannot say "keep extra whitespace")
set -eu
cd "$(dirname "$0")/../.."
out=tests/fixtures/spm
work=build/fixtures-tokenize
mkdir -p "$out" "$work"
for t in spm_train spm_encode spm_decode zstd python3; do
    command -v $t >/dev/null || { echo "fixtures-tokenize: $t is missing (apt-get install sentencepiece zstd python3)" >&2; exit 1; }
done

python3 tests/reference/spm_corpus.py train > "$work/train.txt"
python3 tests/reference/spm_corpus.py test > "$work/test.txt"

# A custom normalization rule set (spm's TSV: source code points TAB target code points).
cat > "$work/custom.tsv" <<'EOF'
41	61
42	62
43	63
66 69	46 49
DF	73 73
2581	20
9	20
3000	20
FF01	21
E9	65 301
31 32 33	4F 4E 45 20 54 57 4F
7E	2D
EOF

t5ids="--pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1"
train() { # name, spm_train options...
    name=$1; shift
    echo "fixtures-tokenize: training $name" >&2
    spm_train --input="$work/train.txt" --model_prefix="$work/$name" --model_type=unigram \
        --num_threads=2 --random_seed=1 --minloglevel=2 "$@" >"$work/$name.log" 2>&1 ||
        { cat "$work/$name.log" >&2; exit 1; }
    zstd -q -19 -f "$work/$name.model" -o "$out/$name.model.zst"
}
train t5-8k --vocab_size=8000 --character_coverage=1.0 $t5ids
train t5-1k --vocab_size=1000 --character_coverage=0.9995 $t5ids
train identity-1k --vocab_size=1000 --character_coverage=0.9995 --normalization_rule_name=identity
train bytes-1k --vocab_size=1000 --character_coverage=0.9995 --byte_fallback=true $t5ids
train user-1k --vocab_size=1000 --character_coverage=0.9995 $t5ids \
    --user_defined_symbols='<sep>,<cls>,==,http://,ing,▁the▁'
train raw-1k --vocab_size=1000 --character_coverage=0.9995 --normalization_rule_name=nfkc \
    --add_dummy_prefix=false --remove_extra_whitespaces=false --treat_whitespace_as_suffix=true
train custom-1k --vocab_size=1000 --character_coverage=0.9995 \
    --normalization_rule_tsv="$work/custom.tsv" $t5ids

zstd -q -19 -f "$work/test.txt" -o "$out/corpus.txt.zst"
rm -f "$out"/*.pieces.zst "$out"/*.json.zst
for name in t5-8k t5-1k identity-1k bytes-1k user-1k raw-1k custom-1k; do
    m=$work/$name.model
    kinds="ids randids decode"
    spm_encode --model="$m" --output_format=id <"$work/test.txt" >"$work/$name.ids"
    python3 tests/reference/spm_randids.py "$m" >"$work/$name.randids"
    cat "$work/$name.ids" "$work/$name.randids" | spm_decode --model="$m" --input_format=id >"$work/$name.decode"
    case $name in t5-8k|bytes-1k|user-1k)
        spm_encode --model="$m" --output_format=piece <"$work/test.txt" >"$work/$name.pieces"
        kinds="$kinds pieces";;
    esac
    if [ $name != raw-1k ]; then
        layout=new; [ "$name" = t5-1k ] && layout=old
        python3 tests/reference/spm_to_tokenizer_json.py --layout $layout "$m" >"$work/$name.json"
        kinds="$kinds json"
    fi
    for k in $kinds; do
        zstd -q -19 -f "$work/$name.$k" -o "$out/$name.$k.zst"
    done
done
du -ch "$out"/* | tail -n 1 >&2
