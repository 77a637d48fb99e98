# wordnet.awk: WordNet 3.0's data files (Debian's wordnet-base, /usr/share/wordnet/data.*)
# into six small tasks, one JSON object a line, in the layout the pipelines read:
#   OUT/wordnet_TASK/train.jsonl and OUT/wordnet_TASK/validation.jsonl
#
#   awk -v out=DIR [-v max=N] [-v seed=S] [-v core=K] -f pipelines/wordnet-lib.awk \
#       -f pipelines/wordnet.awk data.noun data.verb data.adj data.adv
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
# core = K keeps the synsets whose first word has K senses or more (the commoner words; the
# pretraining text, wordnet-text.awk, keeps the same), distractors drawn from them too.
#
# The data format (wndb(5)): offset lex_filenum ss_type w_cnt(hex) {word lex_id}
# p_cnt {pointer_symbol offset pos source/target(hex)} [frames] | gloss.
# Lines starting with two spaces are the licence header.

BEGIN {
    if (out == "") { print "wordnet.awk: set -v out=DIR" > "/dev/stderr"; exit 1 }
    if (seed == "") seed = 1
    if (core == "") core = 1
    rng_seed(seed)
    POSNAME["n"] = "noun"; POSNAME["v"] = "verb"; POSNAME["a"] = "adjective"; POSNAME["r"] = "adverb"
    POSLABEL["n"] = 0; POSLABEL["v"] = 1; POSLABEL["a"] = 2; POSLABEL["r"] = 3
    ntasks = split("definition gloss synonyms antonyms hypernyms pos", TASKS, " ")
    nsyn = 0
}

function split_of(w) { return (wordhash(w) % 10 == 0) ? "validation" : "train" }
# a word as written: underscores are spaces; adjective markers (a), (p), (ip) dropped
function clean(w) { sub(/\((a|p|ip)\)$/, "", w); gsub(/_/, " ", w); return w }

/^  / { next }
{
    pos = $3; if (pos == "s") pos = "a"
    key = pos $1
    nw = hex($4)
    nsyn++; SYN[nsyn] = key; IDX[key] = nsyn; POS[nsyn] = pos
    NW[nsyn] = nw
    for (i = 1; i <= nw; i++) { W[nsyn, i] = clean($(3 + 2 * i)); POLY[tolower(W[nsyn, i])]++ }
    p = 5 + 2 * nw; np = $p + 0; NH[nsyn] = 0; NA[nsyn] = 0
    for (i = 0; i < np; i++) {
        sym = $(p + 1 + 4 * i); tkey = $(p + 3 + 4 * i); if (tkey == "s") tkey = "a"; tkey = tkey $(p + 2 + 4 * i)
        st = $(p + 4 + 4 * i)
        if (sym == "@" || sym == "@i") { NH[nsyn]++; HYP[nsyn, NH[nsyn]] = tkey }
        if (sym == "!") { NA[nsyn]++; ANTSRC[nsyn, NA[nsyn]] = hex(substr(st, 1, 2)); ANTKEY[nsyn, NA[nsyn]] = tkey; ANTDST[nsyn, NA[nsyn]] = hex(substr(st, 3, 2)) }
    }
    g = $0; sub(/^[^|]*\| */, "", g); sub(/ +$/, "", g)
    d = g; sub(/; *".*$/, "", d); sub(/^ +/, "", d); sub(/[ ;]+$/, "", d)
    DEF[nsyn] = d
    NPOS[pos]++; BYPOS[pos, NPOS[pos]] = nsyn
}

# Distractors are drawn from the same population as the task's answers (the first words of
# synsets for definition, second words for synonyms, the words antonyms and hypernyms point
# to, as often as they are answers; definitions for gloss) and matched to the answer: a
# word's bucket is its part of speech, its number of words, how many synsets it is in (a
# frequency proxy: common words have many senses) and its length in letters; a definition's
# its part of speech and its number of words. A draw takes the answer's bucket first, then
# the buckets one letter (one word) longer and shorter, and so on. So the answer's form
# (length, tokens, frequency) gives it away no more than chance.
function poly_class(w,   n) { n = POLY[tolower(w)]; return n <= 1 ? 1 : (n <= 3 ? 2 : 3) }
function nwords(s) { return gsub(/ /, " ", s) + 1 }
# the bucket keys: KEYHEAD the fixed part, KEYLEN the part a draw moves (letters, or words)
function word_key(task, pos, w) { KEYHEAD = task SUBSEP pos SUBSEP nwords(w) SUBSEP poly_class(w); KEYLEN = length(w) }
function def_key(task, pos, d) { KEYHEAD = task SUBSEP pos; KEYLEN = nwords(d) }
# a candidate: word j of synset t (gloss: t's definition), kept as the number 100 t + j
function add(task, t, j,   c) {
    c = task == "gloss" ? DEF[t] : W[t, j]
    if (task == "gloss") def_key(task, POS[t], c); else word_key(task, POS[t], c)
    NB[KEYHEAD, KEYLEN]++; BW[KEYHEAD, KEYLEN, NB[KEYHEAD, KEYLEN]] = 100 * t + j
}
function candidate(code,   t) { t = int(code / 100); return KEYHEAD ~ /^gloss/ ? DEF[t] : W[t, code - 100 * t] }
# three distinct candidates (D[1..3]) from the buckets nearest to the key word_key or
# def_key set, none equal to the answer or in avoid (tab-separated, lowercased)
function draw(answer, avoid,   n, d, sg, len, m, tries, c, got) {
    n = 0; got = "\t" tolower(answer) "\t"
    for (d = 0; n < 3 && d <= 12; d++) for (sg = -1; n < 3 && sg <= 1; sg += 2) {
        if (d == 0 && sg == 1) continue
        len = KEYLEN + sg * d
        m = ((KEYHEAD, len) in NB) ? NB[KEYHEAD, len] : 0
        for (tries = 0; n < 3 && tries < 4 * m && tries < 40; tries++) {
            c = candidate(BW[KEYHEAD, len, 1 + randint(m)])
            if (index(got, "\t" tolower(c) "\t") || index(avoid, "\t" tolower(c) "\t")) continue
            got = got tolower(c) "\t"; n++; D[n] = c
        }
    }
    return n == 3
}
function distract(task, pos, answer, avoid) { word_key(task, pos, answer); return draw(answer, avoid) }
function distract_def(pos, answer) { def_key("gloss", pos, answer); return draw(answer, "") }
# the answers of every task, the populations distractors come from
function pools(   s, a, t) {
    for (s = 1; s <= nsyn; s++) {
        if (POLY[tolower(W[s, 1])] < core) continue
        if (DEF[s] != "") { add("definition", s, 1); add("gloss", s, 0) }
        if (NW[s] >= 2) add("synonyms", s, 2)
        for (a = 1; a <= NA[s]; a++) { t = IDX[ANTKEY[s, a]]; if (t != "" && ANTDST[s, a] >= 1 && ANTDST[s, a] <= NW[t]) add("antonyms", t, ANTDST[s, a]) }
        if (NH[s] >= 1 && (t = IDX[HYP[s, 1]]) != "") add("hypernyms", t, 1)
    }
}
# options with the answer at position LABEL, which cycles 0..3 in each task's split (the rows
# are shuffled later), so every position is the answer as often
function options(task, word, answer,   lab, i, j, o) {
    lab = NL[task, split_of(tolower(word))]++ % 4; LABEL = lab; o = ""; j = 0
    for (i = 0; i < 4; i++) o = o (i ? ", " : "") jstr(i == lab ? answer : D[++j])
    return "[" o "]"
}
# pos: the same number of rows of each part of speech in a split (as many as adverbs have),
# each class's rows drawn at random, so "always noun" scores 25%
function balance_pos(sp,   c, n, i, j, tmp) {
    n = NPC[sp, 0]; for (c = 1; c < 4; c++) if (NPC[sp, c] < n) n = NPC[sp, c]
    for (c = 0; c < 4; c++) {
        for (i = NPC[sp, c]; i > 1; i--) { j = 1 + randint(i); tmp = PC[sp, c, i]; PC[sp, c, i] = PC[sp, c, j]; PC[sp, c, j] = tmp }
        for (i = 1; i <= n; i++) { N["pos", sp]++; ROW["pos", sp, N["pos", sp]] = PC[sp, c, i] }
    }
}
function emit(task, word, json) { N[task, split_of(tolower(word))]++; ROW[task, split_of(tolower(word)), N[task, split_of(tolower(word))]] = json }
function head(s, w) { return "{\"word\": " jstr(w) ", \"pos\": " jstr(POSNAME[POS[s]]) ", \"definition\": " jstr(DEF[s]) }
# the synset's words, tab-separated and lowercased, to keep synonyms out of distractors
function members(s,   i, m) { m = "\t"; for (i = 1; i <= NW[s]; i++) m = m tolower(W[s, i]) "\t"; return m }

END {
    pools()
    for (s = 1; s <= nsyn; s++) {
        w = W[s, 1]; pos = POS[s]; mem = members(s)
        if (POLY[tolower(w)] < core) continue
        if (DEF[s] != "" && index(tolower(DEF[s]), tolower(w)) == 0 && distract("definition", pos, w, mem)) {
            o = options("definition", w, w); emit("definition", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (DEF[s] != "" && distract_def(pos, DEF[s])) {
            o = options("gloss", w, DEF[s]); emit("gloss", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (NW[s] >= 2 && tolower(W[s, 2]) != tolower(w) && distract("synonyms", pos, W[s, 2], mem)) {
            o = options("synonyms", w, W[s, 2]); emit("synonyms", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        for (a = 1; a <= NA[s]; a++) {
            t = IDX[ANTKEY[s, a]]; i = ANTSRC[s, a]; j = ANTDST[s, a]
            if (t == "" || i < 1 || i > NW[s] || j < 1 || j > NW[t]) continue
            src = W[s, i]; dst = W[t, j]
            if (!distract("antonyms", pos, dst, mem members(t))) continue
            o = options("antonyms", src, dst); emit("antonyms", src, head(s, src) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (NH[s] >= 1 && (t = IDX[HYP[s, 1]]) != "" && distract("hypernyms", pos, W[t, 1], mem members(t))) {
            o = options("hypernyms", w, W[t, 1]); emit("hypernyms", w, head(s, w) ", \"options\": " o ", \"label\": " LABEL "}")
        }
        if (DEF[s] != "") {                    # by class first: pos keeps as many of each
            sp = split_of(tolower(w)); c = POSLABEL[pos]
            NPC[sp, c]++; PC[sp, c, NPC[sp, c]] = "{\"word\": " jstr(w) ", \"definition\": " jstr(DEF[s]) ", \"label\": " c "}"
        }
    }
    balance_pos("train"); balance_pos("validation")
    for (k = 1; k <= ntasks; k++) for (sp = 0; sp < 2; sp++) {
        task = TASKS[k]; split_name = sp ? "validation" : "train"; n = N[task, split_name] + 0
        shuffle_rows(task, split_name, n)
        if (max > 0 && n > max) n = max
        write_rows(task, split_name, n)
    }
}
