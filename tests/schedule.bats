#!/usr/bin/env bats
# t0-step's learning-rate schedules and Adafactor's pretraining settings, read from the log's
# lr column as a user would: each schedule's lr at chosen steps, warmup, the checkpoint keeping
# the schedule, a resumed run continuing it step for step.

load lib/common
load lib/batches

setup() {
    setup_t0
    t0-init --preset tiny --seed 1 -o "$TMP/tiny" >/dev/null
    batches 10 | t0-cat --encode > "$TMP/b10.t0"
}

# lr_of RUN STEP: the lr column of that step's log line
lr_of() { awk -F'\t' -v s="$2" 'NR > 1 && $1 == s { print $7 }' "$1/loss.tsv"; }

# near A B: |A - B| <= 1e-6 |B| + 1e-12 (the log prints the float32 lr with 6 significant digits)
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= 1e-5 * m + 1e-12) }'; }

train() { # OUT [flags...]: 10 steps on the 10 batches
    local out=$1
    shift
    run -0 t0-step -m "$TMP/tiny" -o "$TMP/$out" --threads 1 --dropout 0 "$@" "$TMP/b10.t0"
}

@test "constant is the default: every step at --lr" {
    train c --lr 0.002
    [ "$(cut -f7 "$TMP/c/loss.tsv" | tail -n +2 | sort -u)" = 0.002 ]
    [ "$(jq -r .schedule "$TMP/c/trainer_state.json")" = constant ]
}

@test "linear: t-zero's decay, lr (T - s) / T; with --end-lr, to the end value" {
    train l --optimizer adamw --lr 1e-3 --schedule linear --steps 10
    # step k (1-based) was taken after s = k - 1 steps: 1e-3 (10 - s) / 10
    for k in 1 2 5 10; do near "$(lr_of "$TMP/l" $k)" "$(awk -v s=$((k - 1)) 'BEGIN { print 1e-3 * (10 - s) / 10 }')"; done
    train le --lr 1e-3 --schedule linear --decay-steps 5 --end-lr 1e-4
    near "$(lr_of "$TMP/le" 1)" 1e-3
    near "$(lr_of "$TMP/le" 3)" "$(awk 'BEGIN { print 1e-4 + 9e-4 * 3 / 5 }')"
    for k in 6 7 10; do near "$(lr_of "$TMP/le" $k)" 1e-4; done
}

@test "warmup: s / W of the schedule for the first W steps, the first at 0" {
    train w --lr 1e-3 --schedule linear --warmup 4 --decay-steps 10
    near "$(lr_of "$TMP/w" 1)" 0
    near "$(lr_of "$TMP/w" 2)" 2.5e-4
    near "$(lr_of "$TMP/w" 4)" 7.5e-4
    near "$(lr_of "$TMP/w" 5)" 1e-3   # s = 4: the peak
    near "$(lr_of "$TMP/w" 8)" 5e-4   # (10 - 7) / (10 - 4) of it
    train wc --lr 1e-3 --warmup 2
    near "$(lr_of "$TMP/wc" 2)" 5e-4
    near "$(lr_of "$TMP/wc" 9)" 1e-3
}

@test "cosine: half a cosine from --lr to --end-lr" {
    train cos --lr 1e-3 --schedule cosine --warmup 2 --decay-steps 8 --end-lr 1e-5
    near "$(lr_of "$TMP/cos" 3)" 1e-3   # s = 2: p = 0
    near "$(lr_of "$TMP/cos" 6)" "$(awk 'BEGIN { print 1e-5 + (1e-3 - 1e-5) / 2 }')"   # s = 5: p = 1/2
    near "$(lr_of "$TMP/cos" 5)" "$(awk 'BEGIN { print 1e-5 + (1e-3 - 1e-5) * (1 + cos(3.14159265358979 / 3)) / 2 }')"
    near "$(lr_of "$TMP/cos" 9)" 1e-5
    near "$(lr_of "$TMP/cos" 10)" 1e-5
}

@test "rsqrt: T5's 1/sqrt(max(global step, K)), on the global step" {
    train r --schedule rsqrt --rsqrt-steps 4
    for k in 1 3 5; do near "$(lr_of "$TMP/r" $k)" 0.5; done   # g = 0, 2, 4: the plateau 1/sqrt(4)
    near "$(lr_of "$TMP/r" 6)" "$(awk 'BEGIN { print 1 / sqrt(5) }')"
    near "$(lr_of "$TMP/r" 10)" "$(awk 'BEGIN { print 1 / sqrt(9) }')"
    # T5's own: K = 10000 from a model at step 1,100,000: 1/sqrt(1100000 + s)
    train r5 --schedule rsqrt --step-offset 1100000
    near "$(lr_of "$TMP/r5" 1100001)" "$(awk 'BEGIN { print 1 / sqrt(1100000) }')"
    near "$(lr_of "$TMP/r5" 1100010)" "$(awk 'BEGIN { print 1 / sqrt(1100009) }')"
    # --lr scales the plateau
    train r2 --schedule rsqrt --rsqrt-steps 4 --lr 0.1
    near "$(lr_of "$TMP/r2" 10)" "$(awk 'BEGIN { print 0.1 * sqrt(4 / 9) }')"
}

@test "Adafactor: --relative-step's lr is min(1e-2, 1/sqrt(t + 1)); --no-scale-parameter moves the weights otherwise" {
    train rel --relative-step --step-offset 20000
    near "$(lr_of "$TMP/rel" 20001)" "$(awk 'BEGIN { print 1 / sqrt(20001) }')"
    train rel0 --relative-step
    near "$(lr_of "$TMP/rel0" 10)" 0.01
    [ "$(jq -r '[.relative_step, .scale_parameter] | @tsv' "$TMP/rel0/trainer_state.json")" = "$(printf 'true\ttrue')" ]
    train s1 --lr 1e-3
    train s0 --lr 1e-3 --no-scale-parameter
    [ "$(jq -r .scale_parameter "$TMP/s0/trainer_state.json")" = false ]
    ! cmp -s "$TMP/s1/model.safetensors" "$TMP/s0/model.safetensors"
    # the first step's loss is the same (same weights), the second differs (other update)
    [ "$(sed -n 2p "$TMP/s1/loss.tsv" | cut -f2)" = "$(sed -n 2p "$TMP/s0/loss.tsv" | cut -f2)" ]
    [ "$(sed -n 3p "$TMP/s1/loss.tsv" | cut -f2)" != "$(sed -n 3p "$TMP/s0/loss.tsv" | cut -f2)" ]
}

@test "resume mid-schedule: the same lr sequence and the same bits as one run" {
    flags="--lr 1e-3 --schedule linear --warmup 3 --decay-steps 10 --end-lr 1e-4"
    train one $flags
    train half $flags --steps 5
    # the resumed run gives no schedule flag: the checkpoint keeps it
    run -0 t0-step --resume -o "$TMP/half" --threads 1 "$TMP/b10.t0"
    [ "$(cut -f1,7 "$TMP/one/loss.tsv")" = "$(cut -f1,7 "$TMP/half/loss.tsv")" ]
    [ "$(cut -f1-5 "$TMP/one/loss.tsv")" = "$(cut -f1-5 "$TMP/half/loss.tsv")" ]
    cmp "$TMP/one/model.safetensors" "$TMP/half/model.safetensors"
    [ "$(jq -r '[.schedule, .warmup_steps, .decay_steps, .end_lr] | @tsv' "$TMP/half/trainer_state.json")" = \
      "$(printf 'linear\t3\t10\t0.0001')" ]
}

@test "schedule errors: one line each" {
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --schedule linear "$TMP/b10.t0"
    assert_one_error_line t0-step
    [[ $output == *"--decay-steps or --steps"* ]]
    [ ! -e "$TMP/x" ]
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --schedule exponential "$TMP/b10.t0"
    assert_one_error_line t0-step
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --relative-step --lr 1e-3 "$TMP/b10.t0"
    assert_one_error_line t0-step
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --optimizer adamw --no-scale-parameter "$TMP/b10.t0"
    assert_one_error_line t0-step
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --schedule cosine --warmup 5 --decay-steps 5 "$TMP/b10.t0"
    assert_one_error_line t0-step
    run -1 t0-step -m "$TMP/tiny" -o "$TMP/x" --end-lr -1 "$TMP/b10.t0"
    assert_one_error_line t0-step
}
