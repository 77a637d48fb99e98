# wordforms.awk: WordNet 3.0's data files into four tasks about a word's class (its part of
# speech), the default's mixture; one JSON object a line, in the layout the pipelines read:
#   OUT/wordnet_TASK/train.jsonl and OUT/wordnet_TASK/validation.jsonl
#
#   awk -v out=DIR [-v max=N] [-v seed=S] -f pipelines/wordnet-lib.awk \
#       -f pipelines/wordforms.awk data.noun data.verb data.adj data.adv
#
# Tasks:
#   word_class         a word -> noun, verb, adjective or adverb    word, label
#   class_yes_no       is the word of the class named? no / yes     word, pos, a_pos, label
#   same_root          are two words forms of one word? no / yes    word, other, label
#   class_in_sentence  a word in one of WordNet's example sentences sentence, word, label
#                      -> its class
# The words are those WordNet lists under one part of speech only (so each question has one
# answer), of 3 to 14 letters a-z. Those of the first three tasks are also derivationally
# related to a word of another class (WordNet's + and \ pointers: obey, obedient, obediently,
# obedience): words whose form tends to show their class (-ness, -ize, -ous, -ly).
# same_root's "no" pairs a word with one of its relative's class and length that begins
# differently, so neither class nor length gives the answer away.
#
# A word is in validation when a hash of its family's first word (alphabetically; a word
# without relatives is its own family) is 0 mod 10; a row of a split uses that split's words
# only, so no word of a validation row is in any training row. Labels are balanced:
# validation rows cycle through the labels in order, so any prefix of 4 rows holds each label
# once and "majority" scores chance; training rows cycle too, then are shuffled.
# Deterministic: a MINSTD generator seeded by `seed`, used in a fixed order. max > 0 writes
# max training rows a task (default 5000) and max / 10 validation rows (at least 400, or max
# when that is fewer).

BEGIN {
    if (out == "") { print "wordforms.awk: set -v out=DIR" > "/dev/stderr"; exit 1 }
    if (seed == "") seed = 1
    if (max == "" || max <= 0) max = 5000
    nval = int(max / 10); if (nval < 400) nval = 400; if (nval > max) nval = max
    rng_seed(seed)
    split("noun verb adjective adverb", CLASSNAME, " ")
    split("a noun|a verb|an adjective|an adverb", ACLASS, "|")
    CLASS["n"] = 1; CLASS["v"] = 2; CLASS["a"] = 3; CLASS["s"] = 3; CLASS["r"] = 4
    SPLITS[1] = "train"; SPLITS[2] = "validation"
}

# a whole family goes to one split: no word of a validation row is in a training row
function split_of(w) { return (wordhash(family(w)) % 10 == 0) ? "validation" : "train" }
function clean(w) { sub(/\((a|p|ip)\)$/, "", w); return tolower(w) }
# a word with one class only, written in letters a-z
function plain(w) { return w ~ /^[a-z][a-z][a-z]+$/ && length(w) <= 14 && NCLASS[w] == 1 }

/^  / { next }
{
    c = CLASS[$3]; nw = hex($4); nsyn++; SC[nsyn] = c; SNW[nsyn] = nw; KEY[$3 == "s" ? "a" $1 : $3 $1] = nsyn
    for (i = 1; i <= nw; i++) {
        w = clean($(3 + 2 * i)); SW[nsyn, i] = w
        if (!((w, c) in HAS)) { HAS[w, c] = 1; NCLASS[w]++; WCLASS[w] = c }
    }
    p = 5 + 2 * nw; np = $p + 0; NPTR[nsyn] = 0
    for (i = 0; i < np; i++) {                 # derivation (+) and pertainym (\) pointers, word to word
        sym = $(p + 1 + 4 * i); st = $(p + 4 + 4 * i)
        if (sym != "+" && sym != "\\") continue
        t = $(p + 3 + 4 * i); if (t == "s") t = "a"
        NPTR[nsyn]++; PSRC[nsyn, NPTR[nsyn]] = hex(substr(st, 1, 2))
        PKEY[nsyn, NPTR[nsyn]] = t $(p + 2 + 4 * i); PDST[nsyn, NPTR[nsyn]] = hex(substr(st, 3, 2))
    }
    g = $0; sub(/^[^|]*\| */, "", g); NEX[nsyn] = 0
    while (match(g, /"[^"]+"/)) { NEX[nsyn]++; EX[nsyn, NEX[nsyn]] = substr(g, RSTART + 1, RLENGTH - 2); g = substr(g, RSTART + RLENGTH) }
}

# a word's relatives of other classes, tab-separated (REL), and the pools of related words by
# split and class (POOL), by split, class and length (BYLEN)
function relate(a, b) {
    if (index(REL[a], "\t" b "\t")) return
    if (REL[a] == "") { REL[a] = "\t"; add_pool(a) }
    REL[a] = REL[a] b "\t"
}
function add_pool(w,   sp, c) {
    sp = split_of(w); c = WCLASS[w]
    NPOOL[sp, c]++; POOL[sp, c, NPOOL[sp, c]] = w
    NBYLEN[sp, c, length(w)]++; BYLEN[sp, c, length(w), NBYLEN[sp, c, length(w)]] = w
}
# the pairs first, joining their families, so that a word's split is known before any pool
function relatives(   s, i, t, a, b, k) {
    for (s = 1; s <= nsyn; s++) for (i = 1; i <= NPTR[s]; i++) {
        t = KEY[PKEY[s, i]]
        if (t == "" || PSRC[s, i] < 1 || PSRC[s, i] > SNW[s] || PDST[s, i] < 1 || PDST[s, i] > SNW[t]) continue
        a = SW[s, PSRC[s, i]]; b = SW[t, PDST[s, i]]
        if (!plain(a) || !plain(b) || WCLASS[a] == WCLASS[b]) continue
        NPAIR++; PA[NPAIR] = a; PB[NPAIR] = b; join(a, b)
    }
    for (k = 1; k <= NPAIR; k++) { relate(PA[k], PB[k]); relate(PB[k], PA[k]) }
}
# families (words joined by relatives, at most 14 in WordNet): each named by its first word
function family(w) { while ((w in PARENT) && PARENT[w] != w) w = PARENT[w]; return w }
function join(a, b,   fa, fb) { fa = family(a); fb = family(b); if (fa < fb) PARENT[fb] = fa; else if (fb < fa) PARENT[fa] = fb }
# example sentences holding a plain word of their synset as a whole word, by split and class
function sentences(   s, i, j, w, e, padded) {
    for (s = 1; s <= nsyn; s++) for (j = 1; j <= NEX[s]; j++) {
        e = EX[s, j]; padded = " " tolower(e) " "; gsub(/[^a-z]/, " ", padded)
        for (i = 1; i <= SNW[s]; i++) {
            w = SW[s, i]
            if (!plain(w) || !index(padded, " " w " ")) continue
            sp = split_of(w); c = WCLASS[w]
            NSENT[sp, c]++; SENT[sp, c, NSENT[sp, c]] = jstr(e) ", \"word\": " jstr(w)
            break
        }
    }
}
function pick(sp, c) { return POOL[sp, c, 1 + randint(NPOOL[sp, c])] }
function relative(w,   n, r) { n = split(substr(REL[w], 2, length(REL[w]) - 2), r, "\t"); return r[1 + randint(n)] }
# a word of the class and length of `like` that is not w, not one of w's relatives, and does
# not begin as w does; "" when none is found
function stranger(sp, w, like,   c, len, n, tries, x) {
    c = WCLASS[like]; len = length(like); n = NBYLEN[sp, c, len]
    for (tries = 0; tries < 40 && n > 0; tries++) {
        x = BYLEN[sp, c, len, 1 + randint(n)]
        if (x != w && !index(REL[w], "\t" x "\t") && substr(x, 1, 3) != substr(w, 1, 3)) return x
    }
    return ""
}

function row(task, sp, json) { N[task, sp]++; ROW[task, sp, N[task, sp]] = json }
function word_class(sp, n,   i, c) {
    for (i = 0; i < n; i++) { c = 1 + i % 4; row("word_class", sp, "{\"word\": " jstr(pick(sp, c)) ", \"label\": " (c - 1) "}") }
}
# the class asked cycles; yes and no alternate within each class
function class_yes_no(sp, n,   i, c, yes, w) {
    for (i = 0; i < n; i++) {
        c = 1 + int(i / 2) % 4; yes = i % 2
        w = pick(sp, yes ? c : 1 + (c + randint(3)) % 4)
        row("class_yes_no", sp, "{\"word\": " jstr(w) ", \"pos\": " jstr(CLASSNAME[c]) ", \"a_pos\": " jstr(ACLASS[c]) ", \"label\": " yes "}")
    }
}
function same_root(sp, n,   i, w, o, yes, misses) {
    for (i = 0; i < n; ) {
        w = pick(sp, 1 + int(i / 2) % 4); o = relative(w); yes = i % 2
        if (!yes && (o = stranger(sp, w, o)) == "") {
            if (++misses > 100 * n) { printf "wordforms.awk: no unrelated word to pair with %s words\n", sp > "/dev/stderr"; return 0 }
            continue
        }
        row("same_root", sp, "{\"word\": " jstr(w) ", \"other\": " jstr(o) ", \"label\": " yes "}"); i++
    }
    return 1
}
function class_in_sentence(sp, n,   i, c) {
    for (i = 0; i < n; i++) {
        c = 1 + i % 4
        row("class_in_sentence", sp, "{\"sentence\": " SENT[sp, c, 1 + randint(NSENT[sp, c])] ", \"label\": " (c - 1) "}")
    }
}
# every class needs words in both splits (a slice of WordNet may lack some)
function check(   k, c, sp) {
    for (k = 1; k <= 2; k++) for (c = 1; c <= 4; c++) {
        sp = SPLITS[k]
        if (NPOOL[sp, c] < 1 || NSENT[sp, c] < 1) {
            printf "wordforms.awk: no %s %s with a relative and an example sentence: too little of WordNet read\n", sp, CLASSNAME[c] > "/dev/stderr"
            return 0
        }
    }
    return 1
}

END {
    relatives(); sentences()
    if (!check()) exit 1
    ntasks = split("word_class class_yes_no same_root class_in_sentence", TASKS, " ")
    for (k = 1; k <= 2; k++) {
        sp = SPLITS[k]; n = sp == "train" ? max : nval
        word_class(sp, n); class_yes_no(sp, n); class_in_sentence(sp, n)
        if (!same_root(sp, n)) exit 1
        for (t = 1; t <= ntasks; t++) {
            if (sp == "train") shuffle_rows(TASKS[t], sp, N[TASKS[t], sp])
            write_rows(TASKS[t], sp, N[TASKS[t], sp])
        }
    }
}
