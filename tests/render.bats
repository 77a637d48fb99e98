#!/usr/bin/env bats
# t0-render: flags, promptsource apply semantics on a small template file, bad input,
# and the differential test against Python jinja2 over every promptsource template.

load lib/common

setup() {
    setup_t0
    FIX=$ROOT/tests/fixtures/render
    cp "$FIX/mini.yaml" "$FIX/mini.jsonl" "$TMP/"
}

# The records of a stream as t0-cat prints them.
records() { t0-cat "$@"; }

@test "render: --help and --version" {
    run -0 t0-render --help
    [[ $output == *"Usage: t0-render -t TEMPLATES.yaml"* ]]
    run -0 t0-render --version
    [[ $output == "t0-render "* ]]
}

@test "render: usage errors are one line and exit 1" {
    run -1 t0-render "$TMP/mini.jsonl"
    [[ ${lines[0]} == "t0-render: -t TEMPLATES.yaml is required"* ]]
    run -1 t0-render -t "$TMP/mini.yaml" --bogus
    [[ ${lines[0]} == "t0-render: unknown option --bogus"* ]]
    run -1 t0-render -t "$TMP/mini.yaml" --seed -3 "$TMP/mini.jsonl"
    [[ ${lines[0]} == "t0-render: "*"--seed"* ]]
    run -1 t0-render -t
    [[ ${lines[0]} == "t0-render: option -t needs a value"* ]]
}

@test "render: all templates, promptsource semantics, records equal the Python reference" {
    run -0 t0-render -t "$TMP/mini.yaml" -o "$TMP/out.t0" "$TMP/mini.jsonl"
    records "$TMP/out.t0" > "$TMP/out.jsonl"
    cmp "$TMP/out.jsonl" "$FIX/mini.expected.jsonl"
    # what the reference says, spelled out: ||| inside a top-level field survives, an empty
    # target is <NO LABEL>, nested ||| splits choices, Unicode whitespace is stripped,
    # hyp-text is read as hyp_text, a false {% if %} drops the example.
    run -0 jq -r 'select(.template=="basic" and .id==2) | .input' "$TMP/out.jsonl"
    [ "$output" = "Birds ||| fly. Is it true?" ]
    run -0 jq -r 'select(.template=="pick a verb" and .id==1) | .target' "$TMP/out.jsonl"
    [ "$output" = "<NO LABEL>" ]
    run -0 jq -c 'select(.template=="only positives" and .id==0) | [.choices, .label]' "$TMP/out.jsonl"
    [ "$output" = '[["first","one","second"],0]' ]
    run -0 jq -c 'select(.template=="only positives") | .id' "$TMP/out.jsonl"
    [ "$output" = "$(printf '0\n2')" ]
}

@test "render: the summary on stderr counts examples, records, <NO LABEL> targets and drops per template" {
    run -0 --separate-stderr t0-render -t "$TMP/mini.yaml" -o "$TMP/out.t0" "$TMP/mini.jsonl"
    [ "${stderr_lines[0]}" = "t0-render: mini/s: 3 examples, 3 templates, 8 records (1 with target <NO LABEL>), 1 dropped" ]
    [ "${stderr_lines[1]}" = "t0-render: template 'pick a verb': 1 of 3 records with an empty target, written as <NO LABEL>" ]
    [ "${stderr_lines[2]}" = "t0-render: template 'only positives': 1 of 3 dropped (empty input)" ]
    [ "${#stderr_lines[@]}" -eq 3 ]
    # the <NO LABEL> count is the records' own
    [ "$(records "$TMP/out.t0" | jq -r .target | grep -c '^<NO LABEL>$')" -eq 1 ]
}

@test "render: an undefined variable prints as empty (jinja2's way), one warning a template with its records; --strict fails" {
    sed 's/{{premise}} Is it true?/{{premise}} {{ nosuch }} Is it true?/' "$TMP/mini.yaml" > "$TMP/und.yaml"
    run -0 --separate-stderr t0-render -t "$TMP/und.yaml" -o "$TMP/out.t0" "$TMP/mini.jsonl" "$TMP/mini.jsonl"
    echo "$stderr"
    [ "$(grep -c "undefined" <<< "$stderr")" -eq 1 ]
    [[ $stderr == *"t0-render: warning: template 'basic': 6 of 6 records printed an undefined variable as empty"*"--strict"* ]]
    # the text is jinja2's: the variable printed as nothing
    [ "$(records "$TMP/out.t0" | jq -r 'select(.template == "basic" and .id == 0) | .input')" = "The cat sat.  Is it true?" ]
    # a template that prints no undefined variable: no warning
    run -0 --separate-stderr t0-render -t "$TMP/mini.yaml" -o "$TMP/out.t0" "$TMP/mini.jsonl"
    [[ $stderr != *undefined* ]]
    run -1 t0-render -t "$TMP/und.yaml" --strict -o "$TMP/strict.t0" "$TMP/mini.jsonl"
    [[ $output == *"'nosuch' is undefined"* ]]
    [ ! -e "$TMP/strict.t0" ]
}

@test "render: --progress: plain lines on stderr where it starts and ends; quiet in a short pipe without it" {
    run -0 --separate-stderr t0-render -t "$TMP/mini.yaml" --progress -o "$TMP/out.t0" "$TMP/mini.jsonl"
    [ "${stderr_lines[0]}" = "t0-render: mini/s: started" ]
    [[ ${stderr_lines[1]} == "t0-render: mini/s: done: 3 examples, 8 records, "*" records/s ("*")" ]]
    [ "${#stderr_lines[@]}" -eq 5 ]
    [[ $stderr != *$'\r'* ]]
    run -0 --separate-stderr t0-render -t "$TMP/mini.yaml" -o "$TMP/out.t0" "$TMP/mini.jsonl"
    [[ $stderr != *"records/s"* ]]
}

@test "render: -n selects by name (repeatable), an unknown name is an error" {
    t0-render -t "$TMP/mini.yaml" -n basic "$TMP/mini.jsonl" 2>/dev/null | records > "$TMP/a.jsonl"
    [ "$(jq -r .template "$TMP/a.jsonl" | sort -u)" = "basic" ]
    [ "$(wc -l < "$TMP/a.jsonl")" -eq 3 ]
    t0-render -t "$TMP/mini.yaml" -n basic -n "pick a verb" "$TMP/mini.jsonl" 2>/dev/null | records > "$TMP/b.jsonl"
    [ "$(jq -r .template "$TMP/b.jsonl" | sort -u | tr '\n' ,)" = "basic,pick a verb," ]
    run -1 t0-render -t "$TMP/mini.yaml" -n nosuch "$TMP/mini.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"no template named 'nosuch'"* ]]
}

@test "render: --original-task keeps only templates marked original_task" {
    t0-render -t "$TMP/mini.yaml" --original-task "$TMP/mini.jsonl" 2>/dev/null | records > "$TMP/o.jsonl"
    [ "$(jq -r .template "$TMP/o.jsonl" | sort -u | tr '\n' ,)" = "basic,only positives," ]
    run -0 --separate-stderr t0-render -t "$TMP/mini.yaml" --original-task -n "pick a verb" -o "$TMP/none.t0" "$TMP/mini.jsonl"
    [ "$(records "$TMP/none.t0" | wc -l)" -eq 0 ]
}

@test "render: ids count examples across files from 0; stdin and - read standard input" {
    head -n 1 "$TMP/mini.jsonl" > "$TMP/one.jsonl"
    t0-render -t "$TMP/mini.yaml" -n basic "$TMP/mini.jsonl" "$TMP/one.jsonl" 2>/dev/null | records > "$TMP/ids.jsonl"
    [ "$(jq -r .id "$TMP/ids.jsonl" | tr '\n' ,)" = "0,1,2,3," ]
    t0-render -t "$TMP/mini.yaml" < "$TMP/mini.jsonl" 2>/dev/null | records > "$TMP/stdin.jsonl"
    cmp "$TMP/stdin.jsonl" "$FIX/mini.expected.jsonl"
    t0-render -t "$TMP/mini.yaml" - < "$TMP/mini.jsonl" 2>/dev/null | records > "$TMP/dash.jsonl"
    cmp "$TMP/dash.jsonl" "$FIX/mini.expected.jsonl"
}

@test "render: blank lines are skipped and not counted" {
    { echo; head -n 1 "$TMP/mini.jsonl"; printf ' \t\n'; sed -n 2,3p "$TMP/mini.jsonl"; } > "$TMP/blank.jsonl"
    t0-render -t "$TMP/mini.yaml" "$TMP/blank.jsonl" 2>/dev/null | records > "$TMP/blank.out"
    cmp "$TMP/blank.out" "$FIX/mini.expected.jsonl"
}

@test "render: .jsonl.zst input (several frames) renders as the plain file does" {
    head -n 1 "$TMP/mini.jsonl" | zstd -q > "$TMP/m.jsonl.zst"
    tail -n 2 "$TMP/mini.jsonl" | zstd -q >> "$TMP/m.jsonl.zst"
    t0-render -t "$TMP/mini.yaml" "$TMP/m.jsonl.zst" 2>/dev/null | records > "$TMP/z.jsonl"
    cmp "$TMP/z.jsonl" "$FIX/mini.expected.jsonl"
}

@test "render: --seed makes choice deterministic: same seed same bytes, the reference's picks" {
    t0-render -t "$TMP/mini.yaml" --seed 7 -o "$TMP/s7a.t0" "$TMP/mini.jsonl" 2>/dev/null
    t0-render -t "$TMP/mini.yaml" --seed 7 -o "$TMP/s7b.t0" "$TMP/mini.jsonl" 2>/dev/null
    cmp "$TMP/s7a.t0" "$TMP/s7b.t0"
    records "$TMP/s7a.t0" | cmp - "$FIX/mini.seed7.expected.jsonl"
    t0-render -t "$TMP/mini.yaml" --seed 0 "$TMP/mini.jsonl" 2>/dev/null | records | cmp - "$FIX/mini.expected.jsonl"
    # 200 examples through a 4-way choice: different seeds give different picks
    for i in $(seq 200); do echo '{"premise":"p","hyp_text":"h"}'; done > "$TMP/many.jsonl"
    a=$(t0-render -t "$TMP/mini.yaml" -n "pick a verb" --seed 1 "$TMP/many.jsonl" 2>/dev/null | records | jq -r .input | md5sum)
    b=$(t0-render -t "$TMP/mini.yaml" -n "pick a verb" --seed 2 "$TMP/many.jsonl" 2>/dev/null | records | jq -r .input | md5sum)
    [ "$a" != "$b" ]
    [ "$(t0-render -t "$TMP/mini.yaml" -n "pick a verb" --seed 1 "$TMP/many.jsonl" 2>/dev/null | records | jq -r .input | sort -u | wc -l)" -eq 4 ]
}

@test "render: a missing field renders as undefined; --strict names template, field and line" {
    printf '%s\n' '{"premise":"ok","label":1}' '{"label":0}' > "$TMP/missing.jsonl"
    t0-render -t "$TMP/mini.yaml" -n basic "$TMP/missing.jsonl" 2>/dev/null | records > "$TMP/m.jsonl"
    [ "$(jq -r .input "$TMP/m.jsonl" | tail -n 1)" = "Is it true?" ]
    run -1 t0-render -t "$TMP/mini.yaml" -n basic --strict -o "$TMP/strict.t0" "$TMP/missing.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"missing.jsonl:2"* ]]
    [[ $output == *"template 'basic'"* ]]
    [[ $output == *"premise"* ]]
    [ ! -e "$TMP/strict.t0" ]
}

@test "render: long fields are cut as promptsource's truncate(2048) does" {
    word=abcdefghi
    long=$(for i in $(seq 300); do printf '%s ' $word; done)
    printf '{"premise":"%s","label":0}\n' "$long" > "$TMP/long.jsonl"
    t0-render -t "$TMP/mini.yaml" -n basic "$TMP/long.jsonl" 2>/dev/null | records > "$TMP/l.jsonl"
    input=$(jq -r .input "$TMP/l.jsonl")
    # 3000 chars > 2053: cut to <= 2045 at the last space, "..." appended
    [[ $input == *"abcdefghi... Is it true?" ]]
    [ "${#input}" -le $((2048 + 12)) ]
}

@test "render: -o writes atomically; an error leaves no file and keeps an old one" {
    echo old > "$TMP/keep.t0"
    printf '%s\n' '{"premise":"a","label":1}' '{"premise": nope}' > "$TMP/badline.jsonl"
    run -1 t0-render -t "$TMP/mini.yaml" -o "$TMP/keep.t0" "$TMP/badline.jsonl"
    [ "$(cat "$TMP/keep.t0")" = old ]
    run -1 t0-render -t "$TMP/mini.yaml" -o "$TMP/new.t0" "$TMP/badline.jsonl"
    [ ! -e "$TMP/new.t0" ]
    [ -z "$(ls "$TMP" | grep -v -e '^keep.t0$' -e '\.jsonl$' -e '\.yaml$')" ]
}

@test "render: a malformed JSON line names file and line, stdout stops at once" {
    printf '%s\n' '{"premise":"a","label":1}' '{"premise": nope}' '{"premise":"c","label":1}' > "$TMP/badline.jsonl"
    run -1 --separate-stderr t0-render -t "$TMP/mini.yaml" "$TMP/badline.jsonl"
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "t0-render: $TMP/badline.jsonl:2: invalid JSON"* ]]
    # what reached stdout is no complete stream: a reader downstream fails too
    t0-render -t "$TMP/mini.yaml" "$TMP/badline.jsonl" > "$TMP/partial.t0" 2>/dev/null || true
    run -1 t0-cat "$TMP/partial.t0"
    { for i in $(seq 20000); do echo '{"premise":"a long enough premise to fill buffers","label":1}'; done
      echo '{"premise": nope}'; } > "$TMP/late.jsonl"
    t0-render -t "$TMP/mini.yaml" "$TMP/late.jsonl" > "$TMP/partial2.t0" 2>/dev/null || true
    run -1 t0-cat "$TMP/partial2.t0"
    printf '%s\n' '[1, 2]' > "$TMP/array.jsonl"
    run -1 t0-render -t "$TMP/mini.yaml" "$TMP/array.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"array.jsonl:1: expected a JSON object"* ]]
}

@test "render: non-UTF-8 input, a NUL byte, corrupt .zst and a missing file are errors" {
    printf '{"premise":"caf\xe9","label":1}\n' > "$TMP/latin1.jsonl"
    run -1 t0-render -t "$TMP/mini.yaml" "$TMP/latin1.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"latin1.jsonl: line 1: invalid UTF-8"* ]]
    printf '{"premise":"a\0b"}\n' > "$TMP/nul.jsonl"
    run -1 t0-render -t "$TMP/mini.yaml" "$TMP/nul.jsonl"
    [[ $output == *"nul.jsonl: line 1: NUL byte"* ]]
    zstd -q -c "$TMP/mini.jsonl" | head -c 40 > "$TMP/cut.jsonl.zst"
    run -1 t0-render -t "$TMP/mini.yaml" -o "$TMP/cut.t0" "$TMP/cut.jsonl.zst"
    assert_one_error_line t0-render
    [[ $output == *"cut.jsonl.zst"* ]]
    [ ! -e "$TMP/cut.t0" ]
    run -1 t0-render -t "$TMP/mini.yaml" "$TMP/absent.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"absent.jsonl: No such file or directory"* ]]
}

@test "render: an example key answer_choices is an error, as in promptsource" {
    echo '{"premise":"a","label":1,"answer-choices":[]}' > "$TMP/ac.jsonl"
    run -1 t0-render -t "$TMP/mini.yaml" "$TMP/ac.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"ac.jsonl:1: example contains the restricted key 'answer_choices'"* ]]
}

@test "render: invalid YAML names line and column" {
    printf 'dataset: x\ntemplates:\n  a: [unclosed\n' > "$TMP/bad.yaml"
    run -1 t0-render -t "$TMP/bad.yaml" "$TMP/mini.jsonl"
    assert_one_error_line t0-render
    [[ $output =~ bad\.yaml:\ line\ [0-9]+,\ column\ [0-9]+: ]]
    printf 'dataset: caf\xe9\n' > "$TMP/latin1.yaml"
    run -1 t0-render -t "$TMP/latin1.yaml" "$TMP/mini.jsonl"
    assert_one_error_line t0-render
    printf 'templates: {}\n' > "$TMP/nodataset.yaml"
    run -1 t0-render -t "$TMP/nodataset.yaml" "$TMP/mini.jsonl"
    [[ $output == *"no \`dataset\`"* ]]
    run -1 t0-render -t "$TMP/absent.yaml" "$TMP/mini.jsonl"
    assert_one_error_line t0-render
}

@test "render: a template syntax error names the template, line and column, before any output" {
    sed 's/{% endif %}/{% endfor %}/' "$TMP/mini.yaml" > "$TMP/syntax.yaml"
    run -1 t0-render -t "$TMP/syntax.yaml" -o "$TMP/syn.t0" "$TMP/mini.jsonl"
    assert_one_error_line t0-render
    [[ $output == *"template 'only positives': jinja: line 1, column 62: "* ]]
    [ ! -e "$TMP/syn.t0" ]
    sed 's/answer_choices: no ||| yes/answer_choices: "{{ no "/' "$TMP/mini.yaml" > "$TMP/syntax2.yaml"
    run -1 t0-render -t "$TMP/syntax2.yaml" "$TMP/mini.jsonl"
    [[ $output == *"template 'basic': answer_choices"*"line 1, column"* ]]
    # selecting other templates skips the broken one
    run -0 --separate-stderr t0-render -t "$TMP/syntax.yaml" -n basic -o "$TMP/ok.t0" "$TMP/mini.jsonl"
}

@test "render: the project's own prompts render their bundled data" {
    for y in "$ROOT"/prompts/*/templates.yaml; do
        d=$(dirname "$y")
        run -0 --separate-stderr t0-render -t "$y" -o "$TMP/p.t0" "$d"/*.jsonl
        [ "$(records "$TMP/p.t0" | wc -l)" -gt 0 ]
    done
}

@test "render: differential test against Python jinja2 over every promptsource template" {
    shared=${T0_SHARED:-$SHARED}  # T0_SHARED: where ../shared is, for a checkout elsewhere
    [ -d "$shared/promptsource/templates" ] || skip "../shared/promptsource/templates is absent"
    run -0 bash "$ROOT/tests/render-diff.sh" "$T0_BIN" "$shared/promptsource/templates" \
        "$FIX/cases.tar.zst" "$TMP/diff" "$FIX/t0-datasets.txt"
    echo "$output" >&3
    [ -s "$TMP/diff/mismatch.txt" ] && head -n 20 "$TMP/diff/mismatch.txt" >&3
    all=${lines[0]%%/*}
    total=$(echo "${lines[0]}" | sed 's|^[0-9]*/\([0-9]*\) .*|\1|')
    t0=${lines[1]%%/*}
    t0total=$(echo "${lines[1]}" | sed 's|^[0-9]*/\([0-9]*\) .*|\1|')
    [ "$total" -eq 2085 ] && [ "$t0total" -eq 562 ]
    [ "$t0" -eq "$t0total" ]
    [ $((all * 100)) -ge $((total * 98)) ]
}
