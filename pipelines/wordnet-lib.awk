# wordnet-lib.awk: what the WordNet converters share (wordnet.awk, wordforms.awk,
# wordnet-text.awk); given first, before the converter:
#
#   awk -f pipelines/wordnet-lib.awk -f pipelines/wordnet.awk ...
#
# The generator is MINSTD (exact in any awk's doubles), so a seed gives the same bytes in mawk
# and gawk alike; rows are kept as ROW[task, split, i], i = 1..n, and written to
# out/wordnet_TASK/SPLIT.jsonl.

BEGIN { for (i = 32; i < 127; i++) ORD[sprintf("%c", i)] = i }

function rng_seed(s) { rng = s % 2147483647; if (rng <= 0) rng = 1 }
function rand31() { rng = (rng * 48271) % 2147483647; return rng }
function randint(n) { return rand31() % n }
# a WordNet field written in hex (w_cnt, a pointer's source/target)
function hex(s,   i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
# a hash of a word's letters, the same in every awk: what the train/validation split follows
function wordhash(w,   i, h) { h = 0; for (i = 1; i <= length(w); i++) h = (h * 31 + ORD[substr(w, i, 1)]) % 1000003; return h }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
# Fisher-Yates over ROW[task, sp, 1..n], with the generator
function shuffle_rows(task, sp, n,   i, j, tmp) {
    for (i = n; i > 1; i--) { j = 1 + randint(i); tmp = ROW[task, sp, i]; ROW[task, sp, i] = ROW[task, sp, j]; ROW[task, sp, j] = tmp }
}
function write_rows(task, sp, n,   i, file) {
    file = out "/wordnet_" task "/" sp ".jsonl"
    printf "" > file
    for (i = 1; i <= n; i++) print ROW[task, sp, i] > file
    close(file)
}
