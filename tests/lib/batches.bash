# Batch records for the t0-step tests (tests/step.bats, tests/mpi.bats), as JSON lines.

# batches N [ROWS ENC DEC]: N different unpacked batch records (JSON lines) of a copy-reversed
# task: the target is the input read backwards; batch k shifts the ids by k.
batches() {
    jq -cn --argjson n "$1" --argjson R "${2:-4}" --argjson E "${3:-8}" --argjson D "${4:-8}" '
        range($n) as $k
        | [range($R) as $r | [range($E) | (($k * 5 + $r * 7 + . * 3) % 60) + 2]] as $e
        | [$e[] | reverse | .[:$D] | . + [range($D - length) | 0]] as $t
        | {kind: "batch", encoder_input_tokens: $e,
           encoder_segment_ids: [range($R) | [range($E) | 1]], encoder_positions: [range($R) | [range($E)]],
           decoder_target_tokens: $t, decoder_input_tokens: [$t[] | [0] + .[:-1]],
           decoder_segment_ids: [$t[] | [.[] | if . > 0 then 1 else 0 end]],
           decoder_positions: [range($R) | [range($D)]],
           decoder_loss_weights: [$t[] | [.[] | if . > 0 then 1 else 0 end]]}'
}
