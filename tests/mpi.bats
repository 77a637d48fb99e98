#!/usr/bin/env bats
# Data parallelism over MPI (lib/train/dist.h): the gradient sum across ranks under mpirun
# equals, bit for bit, the rank-order sum one process computes (tests/unit/test_dist.c).

load lib/common

setup() {
    setup_t0
    T0_BUILD=${T0_BUILD:-$ROOT/build/rel}
    DIST_TEST=$T0_BUILD/tests/test_dist
    [ -x "$DIST_TEST" ] || { echo "$DIST_TEST is not built (make check or make bats builds it)"; return 1; }
    command -v mpirun >/dev/null || skip "no mpirun (Debian: openmpi-bin)"
}

# mpirun as root needs --allow-run-as-root; --oversubscribe lets 3 ranks share 2 cores.
mpi() {
    mpirun --allow-run-as-root --oversubscribe "$@"
}

@test "one process: the layer is a no-op and MPI stays uninitialised" {
    run -0 env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE -u PMIX_RANK "$DIST_TEST"
    [[ $output == *"test_dist (rank 0 of 1): "*" checks, 0 failed"* ]]
}

@test "mpirun -np 2: the all-reduce equals the rank-order sum of one process, bit for bit" {
    run -0 mpi -np 2 "$DIST_TEST"
    echo "$output"
    [ "$(grep -c 'checks, 0 failed' <<<"$output")" -eq 2 ]
}

@test "mpirun -np 3: the same, where the order of a sum shows in the result" {
    run -0 mpi -np 3 "$DIST_TEST"
    echo "$output"
    [ "$(grep -c 'checks, 0 failed' <<<"$output")" -eq 3 ]
}
