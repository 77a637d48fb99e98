# shots.awk: n rows of a JSONL split chosen at random with a seed (t-zero's --num_shots), in
# their original order; n = 0 keeps every row. awk -v n=N -v seed=S -f pipelines/shots.awk FILE
# The generator is MINSTD, exact in any awk, so the choice is the same everywhere.
BEGIN { r = seed % 2147483647; if (r <= 0) r = 1 }
{ row[NR] = $0 }
END {
    if (n <= 0 || n >= NR) { for (i = 1; i <= NR; i++) print row[i]; exit }
    for (i = 1; i <= NR; i++) idx[i] = i
    for (i = 1; i <= n; i++) {               # a partial Fisher-Yates: the first n are the pick
        r = (r * 48271) % 2147483647; j = i + r % (NR - i + 1)
        t = idx[i]; idx[i] = idx[j]; idx[j] = t; keep[idx[i]] = 1
    }
    for (i = 1; i <= NR; i++) if (i in keep) print row[i]
}
