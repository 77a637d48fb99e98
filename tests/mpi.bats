#!/usr/bin/env bats
# Data parallelism over MPI (lib/train/dist.h): the gradient sum across ranks under mpirun
# equals, bit for bit, the rank-order sum one process computes (tests/unit/test_dist.c), and
# t0-step under mpirun trains as one process does: the same steps, resumable across a change
# of the number of ranks, and a rank that dies leaves the last checkpoint whole.

load lib/common
load lib/batches

setup() {
    setup_t0
    T0_BUILD=${T0_BUILD:-$ROOT/build/rel}
    DIST_TEST=$T0_BUILD/tests/test_dist
    [ -x "$DIST_TEST" ] || { echo "$DIST_TEST is not built (make check or make bats builds it)"; return 1; }
    UPDATE_DIFF=$T0_BUILD/tests/st_update_diff
    [ -x "$UPDATE_DIFF" ] || { echo "$UPDATE_DIFF is not built (make check or make bats builds it)"; return 1; }
    command -v mpirun >/dev/null || skip "no mpirun (Debian: openmpi-bin)"
}

# batch_stream N: N batch records of 4 rows x 8/8 tokens (tests/lib/batches.bash) as a stream
batch_stream() {
    batches "$1" | t0-cat --encode
}

# the model and the stream the t0-step tests train on
tiny_and_batches() {
    t0-init --preset tiny --seed 1 -o "$TMP/tiny" >/dev/null
    batch_stream 12 > "$TMP/b.t0"
}

# columns step, loss, cross_entropy, z_loss, tokens of two logs agree: the integers exactly,
# the losses within rel
same_losses() {
    paste <(cut -f1-5 "$1") <(cut -f1-5 "$2") | awk -F'\t' -v rel="$3" '
        NR == 1 { next }
        $1 != $6 || $5 != $10 { print "line " NR ": " $0; bad = 1 }
        { for (i = 2; i <= 4; i++) { d = $i - $(i + 5); if (d < 0) d = -d
              if (d > rel * ($i < 0 ? -$i : $i) + 1e-12) { print "line " NR ": " $0; bad = 1 } } }
        END { exit bad }'
}

# mpirun as root needs --allow-run-as-root; --oversubscribe lets 3 ranks share 2 cores. Under
# make SAN=1, LeakSanitizer would report what Open MPI (and its plugins) leave allocated at
# exit, none of it ours (no frame of lib/ in the reports): leak checks stay on for one process.
mpi() {
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mpirun --allow-run-as-root --oversubscribe "$@"
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

# One step from the same weights: the update of every tensor. With T0's lr (1e-3) an update
# is about 1e-3 of a weight, so one float ulp of the weight is ~6e-5 of the update and two
# runs whose updates differ by an ulp here and there differ by ~1e-6..1e-5 in (after -
# before); at lr 1 an update is the size of the weight and the comparison shows the sums'
# own agreement. Not bit-identical: one process adds a step's micro-batches inside each
# backward kernel (sgemm with beta 1), the ranks add whole gradients.
@test "t0-step: mpirun -np 2 --accum 1 == one process --accum 2 (each tensor's update within 1e-6)" {
    tiny_and_batches
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/one" --accum 2 --steps 1 --lr 1 --seed 3 --threads 1 "$TMP/b.t0"
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/two" --accum 1 --steps 1 --lr 1 --seed 3 --threads 1 "$TMP/b.t0"
    [ "$output" = "" ]
    run -0 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/one/model.safetensors" "$TMP/two/model.safetensors" 1e-6
    echo "$output"
    same_losses "$TMP/one/loss.tsv" "$TMP/two/loss.tsv" 1e-6
    # the checkpoint records the step's batches over all ranks
    [ "$(jq -r '[.steps, .batches, .accum] | @tsv' "$TMP/two/trainer_state.json")" = "$(printf '1\t2\t2')" ]
    # T0's lr, four steps: the updates still agree to the floor the comment above explains
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/one4" --accum 2 --steps 4 --seed 3 --threads 1 "$TMP/b.t0"
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/two4" --steps 4 --seed 3 --threads 1 "$TMP/b.t0"
    run -0 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/one4/model.safetensors" "$TMP/two4/model.safetensors" 1e-4
    echo "$output"
    same_losses "$TMP/one4/loss.tsv" "$TMP/two4/loss.tsv" 1e-6
}

@test "t0-step: mpirun -np 2 --accum 2 == --accum 4, and -np 3 == --accum 3" {
    tiny_and_batches
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/one" --accum 4 --steps 1 --lr 1 --threads 1 "$TMP/b.t0"
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/two" --accum 2 --steps 1 --lr 1 --threads 1 "$TMP/b.t0"
    run -0 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/one/model.safetensors" "$TMP/two/model.safetensors" 1e-6
    echo "$output"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/one3" --accum 3 --steps 1 --lr 1 --threads 1 "$TMP/b.t0"
    run -0 mpi -np 3 t0-step -m "$TMP/tiny" -o "$TMP/three" --steps 1 --lr 1 --threads 1 "$TMP/b.t0"
    run -0 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/one3/model.safetensors" "$TMP/three/model.safetensors" 1e-6
    echo "$output"
    # a wrong share of the batches would not pass: one process on other batches is far off
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/other" --accum 2 --steps 1 --lr 1 --threads 1 <(batch_stream 12 | t0-cat --stream --shard 1/2)
    run -1 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/one/model.safetensors" "$TMP/other/model.safetensors" 1e-3
}

@test "t0-step: resume under mpirun is bit-identical, and works across a change of the number of ranks" {
    tiny_and_batches
    t="--threads 1 --seed 5"
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/a" --steps 4 $t "$TMP/b.t0"
    # same N: 2 + 2 resumed == 4, bit for bit
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/b" --steps 2 $t "$TMP/b.t0"
    run -0 mpi -np 2 t0-step --resume -o "$TMP/b" --steps 4 $t "$TMP/b.t0"
    cmp "$TMP/a/model.safetensors" "$TMP/b/model.safetensors"
    cmp "$TMP/a/optimizer.safetensors" "$TMP/b/optimizer.safetensors"
    # 2 ranks, then one process: the step stays 2 batches (the checkpoint's), batches 5-8 follow
    run -0 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/c" --steps 2 $t "$TMP/b.t0"
    run -0 t0-step --resume -o "$TMP/c" --steps 4 $t "$TMP/b.t0"
    [ "$(jq -r '[.steps, .batches, .accum] | @tsv' "$TMP/c/trainer_state.json")" = "$(printf '4\t8\t2')" ]
    same_losses "$TMP/a/loss.tsv" "$TMP/c/loss.tsv" 1e-6
    run -0 "$UPDATE_DIFF" "$TMP/tiny/model.safetensors" "$TMP/a/model.safetensors" "$TMP/c/model.safetensors" 1e-4
    echo "$output"
    # one process, then 3 ranks with --accum 1: a step becomes 3 batches from there on
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/d" --accum 2 --steps 2 $t "$TMP/b.t0"
    run -0 mpi -np 3 t0-step --resume -o "$TMP/d" --accum 1 --steps 4 $t "$TMP/b.t0"
    [ "$(jq -r '[.steps, .batches, .accum] | @tsv' "$TMP/d/trainer_state.json")" = "$(printf '4\t10\t3')" ]
    [ "$(wc -l < "$TMP/d/loss.tsv")" -eq 5 ]
}

@test "t0-step: a rank that dies ends the job; rank 0 says so; the last checkpoint is whole and resumes" {
    t0-init --preset tiny --seed 1 -o "$TMP/tiny" >/dev/null
    batch_stream 8 > "$TMP/b8.t0"
    for i in $(seq 400); do cat "$TMP/b8.t0"; done > "$TMP/long.t0"
    ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe -np 2 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --save-every 20 \
        "$TMP/long.t0" > "$TMP/log" 2>&1 3>&- &
    local job=$! rank1="" p rc=0
    # once a checkpoint is out, kill rank 1 (a child of mpirun, OMPI_COMM_WORLD_RANK=1 in its environment)
    for _ in $(seq 300); do [ -e "$TMP/run/latest" ] && break; sleep 0.1; done
    for p in $(pgrep -P "$job" -x t0-step); do
        tr '\0' '\n' < "/proc/$p/environ" | grep -qx OMPI_COMM_WORLD_RANK=1 && rank1=$p
    done
    [ -n "$rank1" ] || { kill "$job"; echo "rank 1 not found"; return 1; }
    kill -9 "$rank1"
    wait "$job" || rc=$?
    cat "$TMP/log"
    [ "$rc" -ne 0 ]
    grep -q "^t0-step: rank 0: stopped by the MPI launcher (another rank failed or died: .*); $TMP/run/latest is the last complete checkpoint" "$TMP/log"
    grep -q "rank 1 .* exited on signal 9" "$TMP/log"
    # the run did not get to its end (3200 batches, 1600 steps)
    step=$(jq .steps "$TMP/run/trainer_state.json")
    [ "$step" -lt 1600 ] && [ $((step % 20)) -eq 0 ]
    run -0 t0-init --check "$TMP/run"
    # and it resumes, on one process, to the end
    run -0 t0-step --resume -o "$TMP/run" --threads 1 --save-every 100 "$TMP/long.t0"
    [ "$(jq -r '[.steps, .batches] | @tsv' "$TMP/run/trainer_state.json")" = "$(printf '1600\t3200')" ]
}

@test "t0-step under mpirun: standard input refused; ranks that load different weights stop before training" {
    tiny_and_batches
    run -1 mpi -np 2 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 < "$TMP/b.t0"
    [[ $output == *"t0-step: under mpirun, give the batch stream as FILE: mpirun passes standard input to rank 0 only"* ]]
    [ ! -e "$TMP/run" ]
    t0-init --preset tiny --seed 2 -o "$TMP/tiny2" >/dev/null
    run -1 mpi -np 1 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 "$TMP/b.t0" : \
        -np 1 t0-step -m "$TMP/tiny2" -o "$TMP/run" --threads 1 "$TMP/b.t0"
    # each rank says so; the first to stop ends the job, so which rank's line comes out varies
    [[ $output == *"t0-step: rank "[01]": rank 1's weights differs from rank 0's (do all ranks read the same files?)"* ]]
    [ ! -e "$TMP/run/latest" ]
}
