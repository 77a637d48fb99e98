# gen-tokens.awk: seeded random token records as JSON lines, for `t0-cat --encode`.
# awk -v task=T -v template=P -v n=N -v seed=S -v maxin=I -v maxtg=G -v base=B -f gen-tokens.awk
# Record i has input [B+i, random ids...] (1..I ids) and target [random ids..., 1] (1..G ids):
# the first input id names the example, so tests can follow each one through the pipeline.
BEGIN {
    srand(seed);
    for (i = 0; i < n; i++) {
        li = 1 + int(rand() * maxin);
        lt = 1 + int(rand() * (maxtg - 1));
        s = "{\"kind\":\"tokens\",\"task\":\"" task "\",\"template\":\"" template "\",\"id\":" i ",\"input_ids\":[" (base + i);
        for (k = 1; k < li; k++)
            s = s "," (3 + int(rand() * 32000));
        s = s "],\"target_ids\":[";
        for (k = 0; k < lt; k++)
            s = s (3 + int(rand() * 32000)) ",";
        print s "1],\"choice_ids\":[],\"label\":-1}";
    }
}
