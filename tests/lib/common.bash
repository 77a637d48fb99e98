# Shared set-up for the Bats tests: tools on PATH, a scratch directory per test.
bats_require_minimum_version 1.5.0

setup_t0() {
    T0_BIN=${T0_BIN:-$BATS_TEST_DIRNAME/../bin}
    PATH=$T0_BIN:$PATH
    ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    SHARED=$ROOT/../shared
    TMP=$BATS_TEST_TMPDIR
}

# Asserts the last `run` printed exactly one line on stderr-or-stdout that starts with the program name.
assert_one_error_line() {
    local prog=$1
    [ "${#lines[@]}" -eq 1 ] || { echo "expected one line, got: $output"; return 1; }
    [[ ${lines[0]} == "$prog: "* ]] || { echo "expected '$prog: ...', got: ${lines[0]}"; return 1; }
}
