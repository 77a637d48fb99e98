# templates.awk: list the templates of one promptsource templates.yaml, one a line:
#   uuid <TAB> original_task (true/false/null) <TAB> choices (yes/no) <TAB> name
# Run with LC_ALL=C (bytes in, bytes out):  LC_ALL=C awk -f pipelines/templates.awk FILE
# It reads the layout promptsource's yaml.dump writes (t0-facts.md §3): a template starts at
# "  UUID: !Template"; its fields are keys indented 4 (metadata's 6) spaces; a scalar is
# plain, 'single' ('' for ') or "double" (backslash escapes, \uXXXX as UTF-8), and may be
# folded over following more-indented lines. The tools read the YAML with libyaml; this list
# only names the templates so that make can have one target per template. Checked against
# PyYAML on all 2,085 templates of promptsource.

function flush() {
    if (uuid != "") printf "%s\t%s\t%s\t%s\n", uuid, (orig == "" ? "null" : orig), (choices == "" || choices == "null" ? "no" : "yes"), name
    uuid = ""; name = ""; orig = ""; choices = ""
}
function utf8(cp) {
    if (cp < 128) return sprintf("%c", cp)
    if (cp < 2048) return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
    return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
}
function hexval(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1; return v }
function indent(s) { match(s, /^ */); return RLENGTH }
# does the quoted scalar v (starting with its quote) end on what we have so far?
function closed(v,   q, i, c) {
    q = substr(v, 1, 1)
    for (i = 2; i <= length(v); i++) {
        c = substr(v, i, 1)
        if (q == "\"" && c == "\\") { i++; continue }
        if (c != q) continue
        if (q == "'" && substr(v, i + 1, 1) == "'") { i++; continue }
        return 1
    }
    return 0
}
function unquote(v,   q, out, c, i) {
    q = substr(v, 1, 1)
    if (q == "'") { v = substr(v, 2, length(v) - 2); gsub(/''/, "'", v); return v }
    if (q != "\"") return v
    v = substr(v, 2, length(v) - 2); out = ""
    for (i = 1; i <= length(v); i++) {
        c = substr(v, i, 1)
        if (c != "\\") { out = out c; continue }
        c = substr(v, ++i, 1)
        if (c == "u") { out = out utf8(hexval(substr(v, i + 1, 4))); i += 4 }
        else if (c == "x") { out = out utf8(hexval(substr(v, i + 1, 2))); i += 2 }
        else if (c == "n") out = out "\n"
        else if (c == "t") out = out "\t"
        else out = out c
    }
    return out
}
{ L[++n] = $0 }
END {
    for (i = 1; i <= n; i++) {
        line = L[i]
        if (line ~ /^  [^ ].*: !Template/) { flush(); uuid = line; sub(/^ +/, "", uuid); sub(/:.*$/, "", uuid); continue }
        if (line !~ /^ +[A-Za-z_]+:/) continue
        key = line; sub(/^ +/, "", key); sub(/:.*$/, "", key); ind = indent(line)
        v = line; sub(/^ +[A-Za-z_]+: */, "", v)
        if (v ~ /^['"]/) {                       # quoted: read on until it closes
            while (!closed(v) && i < n) { nxt = L[++i]; sub(/^ +/, "", nxt); v = v " " nxt }
        } else if (v != "" && v !~ /^!/) {        # plain: more-indented lines continue it
            while (i < n && indent(L[i + 1]) > ind && L[i + 1] !~ /^ *- / && L[i + 1] != "") { nxt = L[++i]; sub(/^ +/, "", nxt); v = v " " nxt }
        }
        if (ind == 4 && key == "metadata") {   # yaml.dump shares equal metadata: &idN, later *idN
            anchor = ""; if (v ~ /^&/) { anchor = v; sub(/^&/, "", anchor); sub(/ .*$/, "", anchor) }
            if (v ~ /^\*/) { a = substr(v, 2); orig = ANCHOR[a] }
        } else if (ind == 4 && key == "name") name = unquote(v)
        else if (ind == 4 && key == "answer_choices") choices = unquote(v)
        else if (ind == 6 && key == "original_task") { orig = v; if (anchor != "") ANCHOR[anchor] = v }
    }
    flush()
}
