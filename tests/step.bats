#!/usr/bin/env bats
# t0-step: training on batch records, checkpoints, resume, the log, bad input.
# Numerics against transformers are in tests/unit/test_trainer.c (committed fixtures).

load lib/common
load lib/batches

setup() {
    setup_t0
    t0-init --preset tiny --seed 1 -o "$TMP/tiny" >/dev/null
}


# the log without its timing columns (tokens_per_s, seconds)
loss_lines() {
    cut -f1-5,7,8,10 "$1"
}

@test "--help and --version" {
    run -0 t0-step --help
    [[ $output == *"--resume"* ]]
    run -0 t0-step --version
    [[ $output == "t0-step (t0 tools) "* ]]
}

@test "learning works: the tiny model learns a small task to near-zero loss" {
    batches 4 | t0-cat --encode > "$TMP/b4.t0"
    for i in $(seq 75); do cat "$TMP/b4.t0"; done > "$TMP/train.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --dropout 0 --lr 1e-2 --threads 1 "$TMP/train.t0"
    [ "$(wc -l < "$TMP/run/loss.tsv")" -eq 301 ]
    first=$(sed -n 2p "$TMP/run/loss.tsv" | cut -f3)
    last=$(tail -1 "$TMP/run/loss.tsv" | cut -f3)
    echo "cross-entropy: first $first, last $last"
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(a > 5 && b < 0.05) }'
}

@test "OUT_DIR is a model folder: checkpoint, latest, tokenizer copied, state" {
    head -c 2000 /dev/urandom > "$TMP/spiece.model"
    rm -rf "$TMP/tiny"
    t0-init --preset tiny --seed 1 --tokenizer "$TMP/spiece.model" -o "$TMP/tiny" >/dev/null
    batches 2 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 "$TMP/b.t0"
    [ "$output" = "" ]
    [ "$(readlink "$TMP/run/latest")" = checkpoint-2 ]
    cmp "$TMP/run/spiece.model" "$TMP/spiece.model"
    cmp "$TMP/run/config.json" "$TMP/tiny/config.json"
    run -0 t0-init --check "$TMP/run"
    run -0 jq -r '[.global_step, .steps, .batches, .optimizer, .rows, .input_len, .target_len] | @tsv' "$TMP/run/trainer_state.json"
    [ "$output" = "$(printf '2\t2\t2\tadafactor\t4\t8\t8')" ]
    # the weights moved
    ! cmp -s "$TMP/run/model.safetensors" "$TMP/tiny/model.safetensors"
    # --save-dtype bf16: a BF16 model that still loads
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run16" --save-dtype bf16 --threads 1 "$TMP/b.t0"
    run -0 t0-init --check "$TMP/run16"
    [[ $output == *"BF16 "[1-9]* ]]
}

@test "resume: 6 steps in one run == 3 steps + 3 resumed, bit for bit, same loss lines" {
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/one" --threads 1 --seed 7 "$TMP/b6.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/two" --threads 1 --seed 7 --steps 3 "$TMP/b6.t0"
    [ "$(readlink "$TMP/two/latest")" = checkpoint-3 ]
    run -0 t0-step --resume -o "$TMP/two" --threads 1 < "$TMP/b6.t0"
    [ "$(readlink "$TMP/two/latest")" = checkpoint-6 ]
    cmp "$TMP/one/model.safetensors" "$TMP/two/model.safetensors"
    cmp "$TMP/one/optimizer.safetensors" "$TMP/two/optimizer.safetensors"
    cmp <(loss_lines "$TMP/one/loss.tsv") <(loss_lines "$TMP/two/loss.tsv")
    [ "$(wc -l < "$TMP/two/loss.tsv")" -eq 7 ]
    # the dropout stream is the seed's: another seed gives other weights
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/other" --threads 1 --seed 8 "$TMP/b6.t0"
    ! cmp -s "$TMP/one/model.safetensors" "$TMP/other/model.safetensors"
    # and the same seed on two threads the same losses, to a relative 1e-5: two threads sum the
    # gradients in another order, so the weights and the losses after them may differ in their
    # last float bits (seen: 24.7774526 vs 24.777445 at step 3 on AVX-512, 3e-7 apart); a lost or
    # doubled share of the batch would move them by percents
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/t2" --threads 2 --seed 7 "$TMP/b6.t0"
    run -0 paste <(cut -f1,2 "$TMP/one/loss.tsv") <(cut -f1,2 "$TMP/t2/loss.tsv")
    echo "$output"
    [ "${#lines[@]}" -eq 7 ]
    awk -F'\t' 'NR > 1 { d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 1e-5 * ($2 < 0 ? -$2 : $2)) bad = 1 }
                 END { exit bad }' <<< "$output"
}

@test "--save-every and --keep: the N newest checkpoints" {
    batches 7 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --save-every 2 --keep 2 "$TMP/b.t0"
    run -0 bash -c "cd '$TMP/run' && ls -d checkpoint-*"
    [ "$output" = "$(printf 'checkpoint-6\ncheckpoint-7')" ]
    [ "$(readlink "$TMP/run/latest")" = checkpoint-7 ]
}

@test "--accum 2: a step every two batches; the log counts both" {
    batches 4 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --accum 2 "$TMP/b.t0"
    [ "$(wc -l < "$TMP/run/loss.tsv")" -eq 3 ]
    [ "$(sed -n 2p "$TMP/run/loss.tsv" | cut -f5)" -eq 128 ]
    [ "$(jq .batches "$TMP/run/trainer_state.json")" -eq 4 ]
}

@test "--step-offset: the global step names checkpoints and log lines" {
    batches 2 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --step-offset 1100000 "$TMP/b.t0"
    [ "$(readlink "$TMP/run/latest")" = checkpoint-1100002 ]
    [ "$(tail -1 "$TMP/run/loss.tsv" | cut -f1)" -eq 1100002 ]
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run2" --threads 1 --step-offset 5 --optimizer adamw "$TMP/b.t0"
    [ "$(jq -r '[.global_step, .optimizer, .lr] | @tsv' "$TMP/run2/trainer_state.json")" = "$(printf '7\tadamw\t0.0001')" ]
}

@test "a kill during a save leaves the last checkpoint whole; resuming finishes the run" {
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/one" --threads 1 "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --steps 3 "$TMP/b6.t0"
    cp "$TMP/run/checkpoint-3/model.safetensors" "$TMP/model3"
    T0_STEP_TEST_KILL_IN_SAVE=1 run -137 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/b6.t0"
    # the killed save's temporary folder holds weights, but nothing points at it
    run -0 bash -c "ls -a '$TMP/run' | grep '^\.checkpoint-6\.tmp-'"
    [ "$(readlink "$TMP/run/latest")" = checkpoint-3 ]
    [ ! -e "$TMP/run/checkpoint-6" ]
    cmp "$TMP/run/model.safetensors" "$TMP/model3"
    run -0 t0-init --check "$TMP/run"
    run -0 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/b6.t0"
    run -1 bash -c "ls -a '$TMP/run' | grep tmp"
    cmp "$TMP/run/model.safetensors" "$TMP/one/model.safetensors"
    cmp <(loss_lines "$TMP/one/loss.tsv") <(loss_lines "$TMP/run/loss.tsv")
    # killed after the rename but before `latest` moved: resuming shows the newest
    ln -sfn checkpoint-3 "$TMP/run/latest.old" && mv -T "$TMP/run/latest.old" "$TMP/run/latest"
    cmp "$TMP/run/model.safetensors" "$TMP/model3"
    run -0 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/b6.t0"
    [ "$(readlink "$TMP/run/latest")" = checkpoint-6 ]
}

@test "a full disk (file size limit) fails the save with one line; the last checkpoint stays" {
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --steps 3 "$TMP/b6.t0"
    cp "$TMP/run/checkpoint-3/model.safetensors" "$TMP/model3"
    run -2 bash -c "ulimit -f 256; t0-step --resume -o '$TMP/run' --threads 1 '$TMP/b6.t0'"
    assert_one_error_line t0-step
    [ "$(readlink "$TMP/run/latest")" = checkpoint-3 ]
    run -1 bash -c "ls -a '$TMP/run' | grep -e tmp -e checkpoint-6"
    cmp "$TMP/run/model.safetensors" "$TMP/model3"
    run -0 t0-init --check "$TMP/run"
}

@test "--plot draws the loss curve as a PNG" {
    batches 4 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --plot "$TMP/loss.png" --plot-logx "$TMP/b.t0"
    [ "$(head -c 8 "$TMP/loss.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
}

@test "bad input: one line, exit 1, the checkpoint untouched" {
    batches 2 | t0-cat --encode > "$TMP/b.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 "$TMP/b.t0"
    cp -L "$TMP/run/model.safetensors" "$TMP/model2"
    cp "$TMP/run/loss.tsv" "$TMP/loss2"
    check_untouched() {
        cmp "$TMP/run/model.safetensors" "$TMP/model2"
        [ "$(readlink "$TMP/run/latest")" = checkpoint-2 ]
        run -1 bash -c "ls -a '$TMP/run' | grep tmp"
    }
    # a batch whose lengths differ from the first one
    { cat "$TMP/b.t0"; batches 1 4 8 6 | t0-cat --encode; } > "$TMP/bad.t0"
    run -1 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/bad.t0"
    assert_one_error_line t0-step
    [[ $output == *"record 3"*"but the stream's batches are 4 x 8/8"* ]]
    check_untouched
    # token ids beyond the vocabulary (512)
    { cat "$TMP/b.t0"; batches 1 | jq -c '.encoder_input_tokens[1][2] = 512' | t0-cat --encode; } > "$TMP/bad.t0"
    run -1 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/bad.t0"
    assert_one_error_line t0-step
    [[ $output == *"record 3: encoder token id 512"*"beyond the vocabulary (512)"* ]]
    check_untouched
    # a wrong record kind
    { cat "$TMP/b.t0"; echo '{"kind":"tokens","task":"t","input_ids":[5,1],"target_ids":[6,1]}' | t0-cat --encode; } > "$TMP/bad.t0"
    run -1 t0-step --resume -o "$TMP/run" --threads 1 "$TMP/bad.t0"
    assert_one_error_line t0-step
    [[ $output == *"record 3: expected a batch record, got tokens (run t0-pack first)"* ]]
    check_untouched
    # a truncated stream
    head -c 100 "$TMP/b.t0" > "$TMP/cut.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/new" "$TMP/cut.t0"
    assert_one_error_line t0-step
    [ ! -e "$TMP/new" ]
    # no records
    t0-cat --encode < /dev/null > "$TMP/empty.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/new" "$TMP/empty.t0"
    assert_one_error_line t0-step
    [ ! -e "$TMP/new" ]
    # a fresh run that fails before its first step leaves an existing --log as it was
    echo "my notes" > "$TMP/mylog.tsv"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/new" --log "$TMP/mylog.tsv" "$TMP/empty.t0"
    [ "$(cat "$TMP/mylog.tsv")" = "my notes" ]
    [ ! -e "$TMP/mylog.tsv.tmp" ]
    # a model dir that won't load
    mkdir "$TMP/broken" && cp "$TMP/tiny/config.json" "$TMP/broken/"
    head -c 5000 "$TMP/tiny/model.safetensors" > "$TMP/broken/model.safetensors"
    run -1 t0-step -m "$TMP/broken" -o "$TMP/new" "$TMP/b.t0"
    assert_one_error_line t0-step
    [[ $output == *"$TMP/broken"* ]]
    [ ! -e "$TMP/new" ]
    # an OUT_DIR that holds something else, or a run without --resume
    mkdir "$TMP/other" && echo hi > "$TMP/other/notes.txt"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/other" "$TMP/b.t0"
    assert_one_error_line t0-step
    [[ $output == *"not empty and not a t0-step run"* ]]
    run -1 t0-step --resume -o "$TMP/other" "$TMP/b.t0"
    assert_one_error_line t0-step
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/run" "$TMP/b.t0"
    assert_one_error_line t0-step
    [[ $output == *"holds a training run: give --resume"* ]]
    check_untouched
    # a run already training in OUT_DIR (its lock held here by flock(1))
    run -1 flock "$TMP/run" t0-step --resume -o "$TMP/run" "$TMP/b.t0"
    assert_one_error_line t0-step
    [[ $output == *"another t0-step is training in it"* ]]
    check_untouched
    # resuming with another optimizer
    run -1 t0-step --resume --optimizer adamw -o "$TMP/run" "$TMP/b.t0"
    assert_one_error_line t0-step
    check_untouched
    cmp "$TMP/run/loss.tsv" "$TMP/loss2"
    # flags
    run -1 t0-step -o "$TMP/x" "$TMP/b.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --accum 0 "$TMP/b.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --lr abc "$TMP/b.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --optimizer sgd "$TMP/b.t0"
    [ ! -e "$TMP/x" ]
}

@test "--progress off a terminal: plain lines, one a tenth of --steps, with step/N, losses, tokens/s, ETA; nothing in a short run without it" {
    batches 20 | t0-cat --encode > "$TMP/b.t0"
    run -0 --separate-stderr t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --steps 20 --progress "$TMP/b.t0"
    echo "$stderr"
    [[ $stderr != *$'\r'* ]]
    [ "${stderr_lines[0]}" = "t0-step: training: started" ]
    run -0 grep -c '^t0-step: step [0-9]*/20 (global [0-9]*)  loss [0-9.]*  cross-entropy/token [0-9.]*  [0-9]* tokens/s  ETA [0-9]:[0-9][0-9]:[0-9][0-9]$' <<< "$stderr"
    [ "$output" -eq 10 ]
    [[ $stderr == *"t0-step: step 2/20 (global 2)"* && $stderr == *"t0-step: step 20/20 (global 20)"*"ETA 0:00:00"* ]]
    [[ $stderr == *"saved $TMP/run/checkpoint-20"* ]]
    [[ ${stderr_lines[-1]} == "t0-step: training: done: $TMP/run ("*")" ]]
    run -0 --separate-stderr t0-step -m "$TMP/tiny" -o "$TMP/run2" --threads 1 --steps 2 "$TMP/b.t0"
    [ "$stderr" = "" ]
}

@test "the log's ce_per_target_token: the cross-entropy per real target token, beside T0's per target slot" {
    # 12 target slots a row, 8 of them real tokens (loss weight 1)
    batches 3 4 8 12 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 "$TMP/b.t0"
    [ "$(head -1 "$TMP/run/loss.tsv" | cut -f10)" = ce_per_target_token ]
    [ "$(wc -l < "$TMP/run/loss.tsv")" -eq 4 ]
    # per token = per slot x 48 slots / 32 tokens (the printed 9 digits agree to 1e-7)
    awk -F'\t' 'NR > 1 { want = $3 * 48 / 32; d = $10 - want; if (d < 0) d = -d; if ($3 <= 0 || d > 1e-7 * want) bad = 1 }
                 END { exit bad }' "$TMP/run/loss.tsv"
    # and with every slot a real token, the two are one
    batches 2 | t0-cat --encode > "$TMP/full.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/full" --threads 1 "$TMP/full.t0"
    awk -F'\t' 'NR > 1 { d = $10 - $3; if (d < 0) d = -d; if (d > 1e-7 * $3) bad = 1 } END { exit bad }' "$TMP/full/loss.tsv"
}

@test "FILE...: batches from several files in order, as one stream; '-' is standard input" {
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    batches 6 | head -2 | t0-cat --encode > "$TMP/p1.t0"
    batches 6 | tail -4 | t0-cat --encode > "$TMP/p2.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/one" --threads 1 "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/two" --threads 1 "$TMP/p1.t0" "$TMP/p2.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/dash" --threads 1 "$TMP/p1.t0" - < "$TMP/p2.t0"
    cmp "$TMP/one/model.safetensors" "$TMP/two/model.safetensors"
    cmp "$TMP/one/model.safetensors" "$TMP/dash/model.safetensors"
    # a resume skips the batches consumed across the files
    t0-step -m "$TMP/tiny" -o "$TMP/res" --threads 1 --steps 3 "$TMP/p1.t0" "$TMP/p2.t0"
    t0-step --resume -o "$TMP/res" --threads 1 "$TMP/p1.t0" "$TMP/p2.t0"
    cmp "$TMP/one/model.safetensors" "$TMP/res/model.safetensors"
}

@test "--resume with -m: the model the run started from continues the run; another is refused, saying which" {
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/one" --threads 1 "$TMP/b6.t0"
    t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 --steps 3 "$TMP/b6.t0"
    [ "$(jq -r .model "$TMP/run/trainer_state.json")" = "$(realpath "$TMP/tiny")" ]
    # the same command again, --resume added (another path to the same folder is the same model)
    ln -s "$TMP/tiny" "$TMP/link"
    run -0 t0-step -m "$TMP/link/" -o "$TMP/run" --threads 1 --resume "$TMP/b6.t0"
    cmp "$TMP/one/model.safetensors" "$TMP/run/model.safetensors"
    [ "$(jq -r .model "$TMP/run/trainer_state.json")" = "$(realpath "$TMP/tiny")" ]
    # another model: one line naming both, nothing touched
    t0-init --preset tiny --seed 2 -o "$TMP/other" >/dev/null
    t0-step -m "$TMP/tiny" -o "$TMP/run2" --threads 1 --steps 3 "$TMP/b6.t0"
    run -1 t0-step -m "$TMP/other" -o "$TMP/run2" --threads 1 --resume "$TMP/b6.t0"
    assert_one_error_line t0-step
    [[ $output == *"-m $TMP/other is not the model the run started from ($(realpath "$TMP/tiny")"* ]]
    [ "$(readlink "$TMP/run2/latest")" = checkpoint-3 ]
    # a checkpoint that does not record its model (older runs): a model of the run's config.json
    jq 'del(.model)' "$TMP/run2/checkpoint-3/trainer_state.json" > "$TMP/st" && mv "$TMP/st" "$TMP/run2/checkpoint-3/trainer_state.json"
    jq '.d_ff = 64' "$TMP/tiny/config.json" > "$TMP/other/config.json"
    run -1 t0-step -m "$TMP/other" -o "$TMP/run2" --threads 1 --resume "$TMP/b6.t0"
    assert_one_error_line t0-step
    [[ $output == *"its config.json is not the run's"* ]]
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/run2" --threads 1 --resume "$TMP/b6.t0"
    cmp "$TMP/one/model.safetensors" "$TMP/run2/model.safetensors"
}

@test "OpenBLAS on fallback kernels: one line says what to set" {
    grep -qw avx2 /proc/cpuinfo || skip "no AVX2 here: nothing better than the fallback"
    batches 1 | t0-cat --encode > "$TMP/b.t0"
    OPENBLAS_CORETYPE=Prescott run -0 t0-step -m "$TMP/tiny" -o "$TMP/run" --threads 1 "$TMP/b.t0"
    assert_one_error_line t0-step
    [[ $output == "t0-step: note: OpenBLAS runs its Prescott kernels"*"set OPENBLAS_CORETYPE="* ]]
}

# The products' precision (lib/t5/t5_mixed.h). BF16 runs natively on AVX-512 BF16 CPUs; on
# others T0_BF16_EMULATE=1 runs the same arithmetic (BF16-rounded operands, F32 sums).
cpu_has_bf16() {
    grep -qw avx512_bf16 /proc/cpuinfo
}

@test "--precision bf16 on a CPU without AVX-512 BF16: one line, then the F32 run's very results" {
    cpu_has_bf16 && skip "this CPU has AVX-512 BF16"
    unset T0_BF16_EMULATE
    batches 4 | t0-cat --encode > "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/f32" --threads 1 "$TMP/b.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/bf16" --threads 1 --precision bf16 "$TMP/b.t0"
    echo "$output"
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == "t0-step: --precision bf16: this CPU lacks AVX-512 BF16"*"training with F32 products"* ]]
    cmp "$TMP/f32/model.safetensors" "$TMP/bf16/model.safetensors"
    cmp <(loss_lines "$TMP/f32/loss.tsv") <(loss_lines "$TMP/bf16/loss.tsv")
    # the checkpoint records what was asked for, so a BF16 CPU resuming it trains in BF16
    [ "$(jq -r .precision "$TMP/bf16/trainer_state.json")" = bf16 ]
    [ "$(jq -r .precision "$TMP/f32/trainer_state.json")" = f32 ]
}

@test "--precision bf16 (emulated where the CPU lacks it): losses near F32's, other weights; --resume keeps it" {
    export T0_BF16_EMULATE=1
    batches 6 | t0-cat --encode > "$TMP/b6.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/f32" --threads 1 --seed 7 "$TMP/b6.t0"
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/bf16" --threads 1 --seed 7 --precision bf16 "$TMP/b6.t0"
    [ "$output" = "" ]
    # rounding the operands moves each product by up to 2^-8 relative; over 6 steps the tiny
    # model's loss (about 25) moved by under 1e-3 relative here, so 1% is a wide bound that a
    # broken product (a wrong operand, a lost sum) would still cross
    run -0 paste <(cut -f1,2 "$TMP/f32/loss.tsv") <(cut -f2 "$TMP/bf16/loss.tsv")
    echo "$output"
    [ "${#lines[@]}" -eq 7 ]
    awk -F'\t' 'NR > 1 { d = ($2 - $3) / $2; if (d < 0) d = -d; if (d > 0.01) bad = 1 } END { exit bad }' <<< "$output"
    ! cmp -s "$TMP/f32/model.safetensors" "$TMP/bf16/model.safetensors"
    # 3 steps, then 3 resumed without --precision: the checkpoint's bf16 goes on, bit for bit
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/two" --threads 1 --seed 7 --precision bf16 --steps 3 "$TMP/b6.t0"
    run -0 t0-step --resume -o "$TMP/two" --threads 1 "$TMP/b6.t0"
    cmp "$TMP/bf16/model.safetensors" "$TMP/two/model.safetensors"
    cmp <(loss_lines "$TMP/bf16/loss.tsv") <(loss_lines "$TMP/two/loss.tsv")
    # resumed where BF16 does not run, it says so
    if ! cpu_has_bf16; then
        run -0 t0-step -m "$TMP/tiny" -o "$TMP/three" --threads 1 --precision bf16 --steps 3 "$TMP/b6.t0"
        T0_BF16_EMULATE=0 run -0 t0-step --resume -o "$TMP/three" --threads 1 "$TMP/b6.t0"
        [[ $output == *"--precision bf16: this CPU lacks AVX-512 BF16"* ]]
    fi
}

@test "--precision: a bad value is one line, exit 1, no OUT_DIR" {
    batches 2 | t0-cat --encode > "$TMP/b.t0"
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/run" --precision fp16 "$TMP/b.t0"
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"--precision: expected f32 or bf16, got 'fp16'"* ]]
    [ ! -e "$TMP/run" ]
}
