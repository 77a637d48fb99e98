#!/usr/bin/env python3
"""Random differential test of the Jinja engine against jinja2: writes N random
expression/statement templates with jinja2's results to a JSONL file in the format of
tests/fixtures/jinja_cases.jsonl; run the C side with
    JINJA_CASES=FILE build/rel/tests/test_jinja
Usage: jinja_fuzzdiff.py OUT.jsonl [N] [SEED]"""
import json
import random
import sys

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import jinja_cases as jc  # noqa: E402  (reuses its environment and renderer)

CTX = {"s": "Hello World", "e": "", "u": "Ünï straße", "i": 7, "z": 0, "n": -3, "f": 2.5, "g": 0.1,
       "t": True, "b": False, "nn": None, "l": ["b", "a", "c", "a"], "li": [3, 1, 2], "le": [],
       "d": {"k": "v", "n": 2, "l": [1, 2]}, "ld": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 1, "b": "z"}],
       "ws": "  a  b\tc \n", "sp": "a,b,,c"}

ATOMS = ["s", "e", "u", "i", "z", "n", "f", "g", "t", "b", "nn", "l", "li", "le", "d", "ld", "ws", "sp", "missing",
         "1", "0", "-1", "2", "3", "10", "1.5", "0.0", "'a'", "'xy'", "''", "' '", "','", "true", "false", "none",
         "[1, 2]", "['a', 'b']", "[]", "{'k': 1}", "(1, 2)", "d.k", "d['n']", "l[0]", "l[-1]", "li[1:]", "s[::-1]",
         "ld[0].b", "range(3)", "d.l", "u[1:4]"]
BINOPS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"]
FILTERS = ["length", "string", "lower", "upper", "capitalize", "title", "trim", "first", "last", "list", "int",
           "float", "abs", "round", "sort", "unique|list", "join", "join(',')", "join(', ')", "default('D')",
           "default('D', true)", "replace('a', 'X')", "replace('l', '')", "truncate(5)", "truncate(8, true)",
           "wordcount", "sum", "min", "max", "reverse|list", "select|list", "reject|list", "map('upper')|list",
           "map(attribute='a')|list", "selectattr('a', 'equalto', 1)|list", "reject('equalto', 'a')|list",
           "choice", "random", "most_frequent", "format(1)", "round(1)", "round(1, 'floor')", "int(-1)", "float(9)",
           "sort(reverse=true)", "string|truncate(2048)", "count", "d", "batch(2)|list"]
METHODS = ["split()", "split(',')", "split('a', 1)", "strip()", "lstrip()", "rstrip('d')", "lower()", "upper()",
           "replace('o', '0')", "index('l')", "find('z')", "startswith('H')", "endswith('d')", "capitalize()",
           "title()", "count('l')", "join(['x', 'y'])", "format(1, 2)", "keys()|list", "values()|list",
           "items()|list", "get('k')", "get('zz', 5)", "index(1)", "count('a')", "isdigit()", "rsplit(' ', 1)"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "sequence", "mapping", "iterable",
         "odd", "even", "divisibleby(3)", "false", "true", "equalto(1)", "in([1, 2])", "lower", "upper"]


def expr(rng, depth):
    k = rng.random()
    if depth <= 0 or k < 0.3:
        return rng.choice(ATOMS)
    if k < 0.5:
        return "(%s %s %s)" % (expr(rng, depth - 1), rng.choice(BINOPS), expr(rng, depth - 1))
    if k < 0.65:
        return "(%s | %s)" % (expr(rng, depth - 1), rng.choice(FILTERS))
    if k < 0.75:
        return "%s.%s" % (rng.choice(["s", "u", "ws", "sp", "l", "li", "d", "'a b'", "e"]), rng.choice(METHODS))
    if k < 0.82:
        return "(%s is %s%s)" % (expr(rng, depth - 1), rng.choice(["", "not "]), rng.choice(TESTS))
    if k < 0.9:
        return "(%s if %s else %s)" % (expr(rng, depth - 1), expr(rng, depth - 1), expr(rng, depth - 1))
    if k < 0.95:
        return "(not %s)" % expr(rng, depth - 1)
    return "%s[%s]" % (rng.choice(["l", "li", "s", "d", "ld", "u", "range(5)"]),
                       rng.choice(["0", "-1", "1:", ":2", "::-1", "'k'", "5", "i", "z", "1:3:2", "'a'"]))


LOOPVARS = ["loop.index", "loop.index0", "loop.first", "loop.last", "loop.length", "loop.revindex",
            "loop.previtem", "loop.nextitem", "x", "v"]


def statements(rng, depth):
    """A random body of statements over the variables x (loop item) and v / ns.c (set)."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        k = rng.random()
        if k < 0.3 or depth <= 0:
            parts.append("{{ %s }}" % rng.choice(LOOPVARS + [expr(rng, 1)]))
        elif k < 0.45:
            parts.append("{%% set v = %s %%}" % expr(rng, 1))
        elif k < 0.55:
            parts.append("{%% set ns.c = ns.c ~ %s %%}" % rng.choice(["x", "v", "'.'", "loop.index"]))
        elif k < 0.7:
            parts.append("{%% if %s %%}%s{%% else %%}%s{%% endif %%}" % (
                expr(rng, 1), statements(rng, depth - 1), statements(rng, depth - 1)))
        elif k < 0.85:
            parts.append("{%%- for x in %s%s -%%}%s{%% else %%}E{%% endfor %%}" % (
                rng.choice(["l", "li", "d", "ld", "s[:3]", "range(3)", "le", "missing", "d.items()", "zip(l, li)"]),
                rng.choice(["", "", " if x", " if x != 'a'", " if loop is undefined"]), statements(rng, depth - 1)))
        else:
            parts.append("{%% set u = [] %%}{%% for x in l %%}{{ u.append(x) }}{%% endfor %%}{{ u | join('-') }}")
        parts.append(rng.choice(["", " ", "\n", "|"]))
    return "".join(parts)


def template(rng):
    k = rng.random()
    e = expr(rng, 3)
    if k < 0.15:
        return "{%% set ns = namespace(c='') %%}{%% set v = 0 %%}%s[{{ v }}{{ ns.c }}]" % statements(rng, 2)
    if k < 0.6:
        return "{{ %s }}" % e
    if k < 0.75:
        return "{%% if %s %%}T{%% else %%}F{%% endif %%}" % e
    if k < 0.9:
        return "{%% for x in %s %%}[{{ x }}{{ loop.index }}]{%% else %%}E{%% endfor %%}" % e
    return "{%% set v = %s %%}{{ v }}|{{ v | string | truncate(2048) }}" % e


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000, int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    errors = 0
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            src = template(rng)
            row = {"template": src, "context": CTX, "seed": i}
            row.update(jc.render(src, json.loads(json.dumps(CTX)), i))
            errors += "error" in row
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print("%s: %d cases (%d errors)" % (out, n, errors))


main()
