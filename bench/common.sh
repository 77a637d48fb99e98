# Sourced by bench/bench-*.sh (run from the project root).

# OpenBLAS does not recognise some virtualised CPUs and falls back to its SSE3 (Prescott)
# kernels, 3-5x slower: name the core from the CPU flags unless the caller did, so that the
# C programs and the peers (Debian's torch calls the same libblas) run the same kernels.
bench_openblas_core() {
    if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
        if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
        elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
    fi
}
