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
    stream | render | spm) echo "common" ;;
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
