# wordnet.awk: WordNet 3.0's data files (Debian's wordnet-base, /usr/share/wordnet/data.*)
# into six small tasks, one JSON object a line, in the layout the pipelines read:
#   OUT/wordnet_TASK/train.jsonl and OUT/wordnet_TASK/validation.jsonl
#
#   awk -v out=DIR [-v max=N] [-v seed=S] -f pipelines/wordnet.awk \
#       data.noun data.verb data.adj data.adv
#
# Tasks (each example names a word; the split follows the word, so no word is in both):
#   definition  definition -> word            word, pos, definition, options[4], label
#   gloss       word -> its definition        word, pos, definition, options[4], label
#   synonyms    which word is a synonym       word, pos, definition, options[4], label
#   antonyms    which word is an antonym      word, pos, definition, options[4], label
#   hypernyms   what the word is a kind of    word, pos, definition, options[4], label
#   pos         the part of speech of a sense word, definition, label (0 noun .. 3 adverb)
# options holds the answer at position label and three distractors drawn from other
# synsets of the same part of speech. A word is in validation when a hash of its letters
# is 0 mod 10. Deterministic: the only randomness is a MINSTD generator seeded by `seed`
# (exact in any awk's doubles), used in a fixed order; rows are shuffled with it too, so
# a prefix of a file is a fair sample. max > 0 keeps the first max rows of each file.
#
# The data format (wndb(5)): offset lex_filenum ss_type w_cnt(hex) {word lex_id}
# p_cnt {pointer_symbol offset pos source/target(hex)} [frames] | gloss.
# Lines starting with two spaces are the licence header.

BEGIN {
    if (out == "") { print "wordnet.awk: set -v out=DIR" > "/dev/stderr"; exit 1 }
    if (seed == "") seed = 1
    rng = seed % 2147483647; if (rng <= 0) rng = 1
    for (i = 32; i < 127; i++) ORD[sprintf("%c", i)] = i
    POSNAME["n"] = "noun"; POSNAME["v"] = "verb"; POSNAME["a"] = "adjective"; POSNAME["r"] = "adverb"
    POSLABEL["n"] = 0; POSLABEL["v"] = 1; POSLABEL["a"] = 2; POSLABEL["r"] = 3
    HEX["0"]=0; HEX["1"]=1; HEX["2"]=2; HEX["3"]=3; HEX["4"]=4; HEX["5"]=5; HEX["6"]=6; HEX["7"]=7
    HEX["8"]=8; HEX["9"]=9; HEX["a"]=10; HEX["b"]=11; HEX["c"]=12; HEX["d"]=13; HEX["e"]=14; HEX["f"]=15
    ntasks = split("definition gloss synonyms antonyms hypernyms pos", TASKS, " ")
    nsyn = 0
}

function rand31() { rng = (rng * 48271) % 2147483647; return rng }
function randint(n) { return rand31() % n }
function hex(s,   i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + HEX[substr(s, i, 1)]; return v }
function wordhash(w,   i, h) { h = 0; for (i = 1; i <= length(w); i++) h = (h * 31 + ORD[substr(w, i, 1)]) % 1000003; return h }
function split_of(w) { return (wordhash(w) % 10 == 0) ? "validation" : "train" }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
# a word as written: underscores are spaces; adjective markers (a), (p), (ip) dropped
function clean(w) { sub(/\((a|p|ip)\)$/, "", w); gsub(/_/, " ", w); return w }

/^  / { next }
{
    pos = $3; if (pos == "s") pos = "a"
    key = pos $1
    nw = hex($4)
    nsyn++; SYN[nsyn] = key; IDX[key] = nsyn; POS[nsyn] = pos
    NW[nsyn] = nw
    for (i = 1; i <= nw; i++) W[nsyn, i] = clean($(3 + 2 * i))
    p = 5 + 2 * nw; np = $p + 0; NH[nsyn] = 0; NA[nsyn] = 0
    for (i = 0; i < np; i++) {
        sym = $(p + 1 + 4 * i); tkey = $(p + 3 + 4 * i); if (tkey == "s") tkey = "a"; tkey = tkey $(p + 2 + 4 * i)
        st = $(p + 4 + 4 * i)
        if (sym == "@" || sym == "@i") { NH[nsyn]++; HYP[nsyn, NH[nsyn]] = tkey }
        if (sym == "!") { NA[nsyn]++; ANT[nsyn, NA[nsyn]] = hex(substr(st, 1, 2)) " " tkey " " hex(substr(st, 3, 2)) }
    }
    g = $0; sub(/^[^|]*\| */, "", g); sub(/ +$/, "", g)
    d = g; sub(/; *".*$/, "", d); sub(/^ +/, "", d); sub(/[ ;]+$/, "", d)
    DEF[nsyn] = d
    NPOS[pos]++; BYPOS[pos, NPOS[pos]] = nsyn
}

# three distinct first-words of random same-pos synsets, none equal to the answer or in avoid
function distract(pos, answer, avoid,   n, s, w, tries, got) {
    n = 0; got = "\t" tolower(answer) "\t"
    for (tries = 0; n < 3 && tries < 100; tries++) {
        s = BYPOS[pos, 1 + randint(NPOS[pos])]; w = W[s, 1]
        if (index(got, "\t" tolower(w) "\t") || index(avoid, "\t" tolower(w) "\t")) continue
        got = got tolower(w) "\t"; n++; D[n] = w
    }
    return n == 3
}
function distract_def(pos, answer,   n, s, tries, got) {
    n = 0; got = "\t" answer "\t"
    for (tries = 0; n < 3 && tries < 100; tries++) {
        s = BYPOS[pos, 1 + randint(NPOS[pos])]
        if (DEF[s] == "" || index(got, "\t" DEF[s] "\t")) continue
        got = got DEF[s] "\t"; n++; D[n] = DEF[s]
    }
    return n == 3
}
# options with the answer at a random position; sets LABEL
function options(answer,   lab, i, j, o) {
    lab = randint(4); LABEL = lab; o = ""; j = 0
    for (i = 0; i < 4; i++) o = o (i ? ", " : "") jstr(i == lab ? answer : D[++j])
    return "[" o "]"
}
function emit(task, word, json) { N[task, split_of(tolower(word))]++; ROW[task, split_of(tolower(word)), N[task, split_of(tolower(word))]] = json }
function head(s, w) { return "{\"word\": " jstr(w) ", \"pos\": " jstr(POSNAME[POS[s]]) ", \"definition\": " jstr(DEF[s]) }
# the synset's words, tab-separated and lowercased, to keep synonyms out of distractors
function members(s,   i, m) { m = "\t"; for (i = 1; i <= NW[s]; i++) m = m tolower(W[s, i]) "\t"; return m }

END {
    for (s = 1; s <= nsyn; s++) {
        w = W[s, 1]; pos = POS[s]; mem = members(s)
        if (DEF[s] != "" && index(tolower(DEF[s]), tolower(w)) == 0 && distract(pos, w, mem)) {
            o = options(w); emit("definition", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (DEF[s] != "" && distract_def(pos, DEF[s])) {
            o = options(DEF[s]); emit("gloss", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (NW[s] >= 2 && tolower(W[s, 2]) != tolower(w) && distract(pos, W[s, 2], mem)) {
            o = options(W[s, 2]); emit("synonyms", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        for (a = 1; a <= NA[s]; a++) {
            split(ANT[s, a], f, " "); t = IDX[f[2]]
            if (t == "" || f[1] < 1 || f[1] > NW[s] || f[3] < 1 || f[3] > NW[t]) continue
            src = W[s, f[1]]; dst = W[t, f[3]]
            if (!distract(pos, dst, mem members(t))) continue
            o = options(dst); emit("antonyms", src, head(s, src) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (NH[s] >= 1 && (t = IDX[HYP[s, 1]]) != "" && distract(pos, W[t, 1], mem members(t))) {
            o = options(W[t, 1]); emit("hypernyms", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (DEF[s] != "")
            emit("pos", w, "{\"word\": " jstr(w) ", \"definition\": " jstr(DEF[s]) ", \"label\": " POSLABEL[pos] "}")
    }
    for (k = 1; k <= ntasks; k++) for (sp = 0; sp < 2; sp++) {
        task = TASKS[k]; split_name = sp ? "validation" : "train"; n = N[task, split_name] + 0
        for (i = n; i > 1; i--) {              # Fisher-Yates, with the same generator
            j = 1 + randint(i); tmp = ROW[task, split_name, i]
            ROW[task, split_name, i] = ROW[task, split_name, j]; ROW[task, split_name, j] = tmp
        }
        if (max > 0 && n > max) n = max
        file = out "/wordnet_" task "/" split_name ".jsonl"
        printf "" > file
        for (i = 1; i <= n; i++) print ROW[task, split_name, i] > file
        close(file)
    }
}
