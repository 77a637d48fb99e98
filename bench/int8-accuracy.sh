#!/bin/sh
# Int8 against F32 on one model, as issue 21 states its accuracy goals:
#   - rank scoring (t0-score, both dtypes over the same token streams): how often int8 picks
#     what F32 picks, over all examples and over those whose F32 margin (best minus second
#     choice, in nats) is at least 0.1;
#   - greedy decoding (t0-decode, both dtypes over the same prompt lines): how many outputs
#     are identical.
#   sh bench/int8-accuracy.sh MODEL_DIR PROMPTS.txt TOKENS.t0...
# Environment: BIN (default bin), WORK (scratch, default build/int8-accuracy), MAX_NEW (32).
set -eu
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
work=${WORK:-build/int8-accuracy}
model=$1 prompts=$2
shift 2
mkdir -p "$work"
cat "$@" > "$work/tokens.t0"
for dt in stored int8; do
    "$bin/t0-score" -m "$model" --dtype "$dt" -o "$work/scores-$dt.t0" "$work/tokens.t0"
    "$bin/t0-cat" "$work/scores-$dt.t0" | jq -r '[.pred, (.scores | map(tostring) | join(","))] | @tsv' > "$work/scores-$dt.tsv"
    "$bin/t0-decode" -m "$model" --dtype "$dt" --max-new-tokens "${MAX_NEW:-32}" < "$prompts" > "$work/decode-$dt.txt"
done
paste "$work/scores-stored.tsv" "$work/scores-int8.tsv" | awk -F '\t' '
    { n++; same = $1 == $3; k = split($2, s, ","); best = -1e30; second = -1e30
      for (i = 1; i <= k; i++) if (s[i] + 0 > best) { second = best; best = s[i] + 0 } else if (s[i] + 0 > second) second = s[i] + 0
      agree += same; if (best - second >= 0.1) { m++; magree += same } }
    END { printf "scoring: int8 picks what F32 picks on %d of %d examples (%.2f%%); with F32 margin >= 0.1 nats: %d of %d (%.2f%%)\n",
                 agree, n, 100 * agree / n, magree, m, m ? 100 * magree / m : 100 }'
paste -d '\t' "$work/decode-stored.txt" "$work/decode-int8.txt" | awk -F '\t' '
    { n++; same += $1 == $2 } END { printf "greedy decoding: %d of %d outputs identical (%.2f%%)\n", same, n, 100 * same / n }'
