#!/usr/bin/env bats
# lib/ is one folder a concern, and includes between folders point one way (lib/README.md).

bats_require_minimum_version 1.5.0

setup() {
    cd "$BATS_TEST_DIRNAME/.."
}

# The folders each folder may include besides itself.
allowed() {
    case "$1" in
    common) echo "" ;;
    stream | render) echo "common" ;;
    spm) echo "common stream" ;;
    t5) echo "common" ;;
    train) echo "common stream t5" ;;
    eval) echo "common stream t5" ;;
    generate) echo "common t5 spm" ;;
    *) echo "UNLISTED" ;;
    esac
}

@test "no source file lies directly in lib/" {
    run -0 find lib -maxdepth 1 -name '*.[ch]'
    [ -z "$output" ]
}

@test "every folder of lib/ is listed, and includes only the folders below it" {
    local bad="" dir inc
    for dir in lib/*/; do
        dir=$(basename "$dir")
        [ "$(allowed "$dir")" != UNLISTED ] || bad="$bad $dir(unlisted)"
        for inc in $(grep -ho '#include "[a-z0-9_]*/' lib/"$dir"/*.[ch] | sed 's/#include "//; s|/$||' | sort -u); do
            [ "$inc" = "$dir" ] && continue
            case " $(allowed "$dir") " in *" $inc "*) ;; *) bad="$bad $dir->$inc" ;; esac
        done
    done
    echo "not allowed:$bad"
    [ -z "$bad" ]
}

@test "pyval knows nothing of the Jinja engine" {
    run grep -l '#include "render/jinja' lib/render/pyval.c lib/render/pyval.h lib/render/pyval_internal.h lib/render/pyunicode.c
    [ "$status" -eq 1 ]
}

# The layers of lib/render, bottom first (lib/README.md): a file includes only its own
# layer and those below it, so no cycle can run through them.
render_layer() {
    case "$1" in
    pyunicode*) echo 0 ;;
    pyval*) echo 1 ;;
    jinja_value.*) echo 2 ;;
    jinja_str.*) echo 3 ;;
    jinja_builtins.h | jinja_filters.c | jinja_methods.c) echo 4 ;;
    jinja.h | jinja_internal.h | jinja.c | jinja_parse.c) echo 5 ;;
    templates.*) echo 6 ;;
    *) echo UNLISTED ;;
    esac
}

# Prints the includes of the files in $1 that break the layers (nothing when none does).
render_violations() {
    local f own inc lay
    for f in "$1"/*.[ch]; do
        own=$(render_layer "$(basename "$f")")
        [ "$own" != UNLISTED ] || { echo "$(basename "$f")(unlisted)"; continue; }
        for inc in $(sed -n 's|^#include "render/\([a-z0-9_.]*\)".*|\1|p' "$f"); do
            lay=$(render_layer "$inc")
            [ "$lay" != UNLISTED ] && [ "$lay" -le "$own" ] || echo "$(basename "$f")->$inc"
        done
    done
}

@test "every file of lib/render has a layer, and includes only its own layer and those below" {
    run -0 render_violations lib/render
    [ -z "$output" ]
}

@test "the render layer check refuses an upward include" {
    mkdir -p "$BATS_TEST_TMPDIR/render"
    printf '#include "render/pyval.h"\n#include "render/jinja_builtins.h"\n' > "$BATS_TEST_TMPDIR/render/jinja_value.c"
    run -0 render_violations "$BATS_TEST_TMPDIR/render"
    [ "$output" = "jinja_value.c->jinja_builtins.h" ]
}
