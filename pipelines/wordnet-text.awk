# wordnet-text.awk: WordNet 3.0's own text as a dictionary, the default's pretraining corpus:
# one entry a synset, its words, its part of speech and its gloss (definition and example
# sentences) as WordNet prints them, one line each:
#
#   car, auto, automobile, machine, motorcar (noun): a motor vehicle with four wheels; ...
#
#   awk [-v core=K] -f pipelines/wordnet-lib.awk -f pipelines/wordnet-text.awk \
#       data.noun data.verb data.adj data.adv > wordnet.txt
#
# core = K keeps the synsets whose first word has K senses or more, as wordnet.awk does.
#
# Only what a printed dictionary shows: no pointers (no antonym, hypernym or other
# relation is written out), so the tasks' relations are never stated in the text; a
# task's examples are never written here in a prompt's words.

BEGIN { if (core == "") core = 1; POSNAME["n"] = "noun"; POSNAME["v"] = "verb"; POSNAME["a"] = "adjective"; POSNAME["s"] = "adjective"; POSNAME["r"] = "adverb" }
function clean(w) { sub(/\((a|p|ip)\)$/, "", w); gsub(/_/, " ", w); return w }
/^  / { next }
{
    nw = hex($4); words = ""
    for (i = 1; i <= nw; i++) { w = clean($(3 + 2 * i)); words = words (i > 1 ? ", " : "") w; POLY[tolower(w)]++ }
    g = $0; sub(/^[^|]*\| */, "", g); sub(/ +$/, "", g)
    if (g != "") { n++; FIRST[n] = tolower(clean($5)); LINE[n] = words " (" POSNAME[$3] "): " g }
}
END { for (i = 1; i <= n; i++) if (POLY[FIRST[i]] >= core) print LINE[i] }
