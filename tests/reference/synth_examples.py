#!/usr/bin/env python3
"""Synthesizes examples that exercise promptsource templates, for the t0-render differential test.

    synth_examples.py TEMPLATES_DIR OUT_DIR [--per 5] [--tries 120] [--seed 1] [--only SUBSTR]

For every templates.yaml under TEMPLATES_DIR and every template in it, infers from the
template's jinja2 AST (jinja and answer_choices) what the example must look like:
names read (top-level fields), `x.a` / `x['a']` (dicts with sub-fields), `x[0]`, `for v in x`,
`| join`, `| choice` (lists), `x[i]` (i an int index into x), `x.index(y)` (y a member of x),
comparisons with constants (ints or strings, to take each branch), `.split(sep)` (strings
holding sep). It then draws random examples from that shape, renders each with the reference
(render_ref.py, promptsource apply semantics) and keeps up to --per examples that render
without error and give distinct results (a dropped example counts once).

Writes OUT_DIR/index.tsv (relpath, template id, name, number of examples; one line a template),
OUT_DIR/<relpath of the yaml>/<template id>.jsonl (the kept examples) and
OUT_DIR/<relpath>/<template id>.expected.jsonl (the reference records for them, seed 0), and prints
a summary: templates covered, templates for which no example rendered.
"""
import argparse
import collections
import json
import os
import random
import sys

from jinja2 import meta, nodes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render_ref  # noqa: E402

STR_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "capitalize", "title",
               "startswith", "endswith", "format", "find", "count", "splitlines", "isdigit", "encode"}
STR_FILTERS = {"lower", "upper", "capitalize", "title", "trim", "replace", "truncate", "wordcount",
               "center", "striptags", "wordwrap", "urlize", "indent", "escape", "e", "safe"}
SEQ_SAME_FILTERS = {"list", "unique", "sort", "reverse", "select", "reject", "batch", "slice"}
GLOBAL_NAMES = {"range", "zip", "namespace", "dict", "lipsum", "cycler", "joiner", "loop",
                "true", "false", "none", "True", "False", "None"}


class Shape:
    """What a value of the example looks like, as far as the template tells."""

    def __init__(self, path):
        self.path = path              # tuple of keys from the example root, "[]" for list elements; None: not in the example
        self.kinds = collections.Counter()
        self.attrs = {}
        self.elem = None
        self.min_len = 0
        self.consts = []
        self.index_of = []
        self.member_of = []
        self.split_seps = set()
        self.truth = False
        self.tuple_elems = None
        self.split_outs = []          # (sep, Shape of the list .split(sep) gives)
        self.parent = None            # the list this is the element shape of
        self.contains = []            # texts a str must hold (s.index("<"))

    def mark(self, kind):
        self.kinds[kind] += 1

    def attr(self, name):
        self.mark("dict")
        if name not in self.attrs:
            self.attrs[name] = Shape(self.path + (name,) if self.path is not None else None)
        return self.attrs[name]

    def el(self):
        if self.elem is None:
            self.elem = Shape(self.path + ("[]",) if self.path is not None else None)
            self.elem.parent = self
        return self.elem


class Infer:
    def __init__(self):
        self.root = Shape(())
        self.answer_choices = Shape(None)
        self.answer_choices.el().mark("str")

    # -- expressions: return the Shape of the value, or None when it is not example data
    def expr(self, n, scope):
        m = getattr(self, "e_" + type(n).__name__, None)
        if m is not None:
            return m(n, scope)
        for c in n.iter_child_nodes():
            self.expr(c, scope) if isinstance(c, nodes.Expr) else self.stmt(c, scope)
        return None

    def e_Name(self, n, scope):
        if n.name in scope:
            return scope[n.name]
        if n.name == "answer_choices":
            return self.answer_choices
        if n.name in GLOBAL_NAMES:
            return None
        return self.root.attr(n.name)

    def e_Const(self, n, scope):
        return None

    def e_Getattr(self, n, scope):
        s = self.expr(n.node, scope)
        if s is None or s is self.answer_choices:
            return None
        return s.attr(n.attr)

    def e_Getitem(self, n, scope):
        a = n.arg
        if isinstance(n.node, nodes.Dict) and not isinstance(a, nodes.Const):
            # {"A": 0, "B": 1}[key]: key is one of the literal's keys
            self.expr(n.node, scope)
            ai = self.expr(a, scope)
            if ai is not None:
                for pair in n.node.items:
                    c, v = self._const_value(pair.key)
                    if c:
                        ai.consts.append(v)
                        ai.mark(_kind_of(v))
            return None
        if isinstance(n.node, (nodes.List, nodes.Tuple)) and not isinstance(a, nodes.Const):
            # ["A", "B"][i]: i indexes the literal
            self.expr(n.node, scope)
            ai = self.expr(a, scope)
            if ai is not None:
                ai.mark("int")
                ai.consts.extend(range(len(n.node.items)))
            return None
        s = self.expr(n.node, scope)
        if isinstance(a, nodes.Slice):
            for p in (a.start, a.stop, a.step):
                if p is not None:
                    ps = self.expr(p, scope)
                    if ps is not None:
                        ps.mark("int")
            if s is not None:
                s.mark("seq")
            return s
        if isinstance(a, nodes.Const) and isinstance(a.value, str):
            return s.attr(a.value) if s is not None and s is not self.answer_choices else None
        if isinstance(a, nodes.Const) and isinstance(a.value, int):
            if s is None:
                return None
            s.min_len = max(s.min_len, a.value + 1 if a.value >= 0 else -a.value)
            s.mark("seq")
            return s.el()
        if isinstance(a, nodes.Neg) and isinstance(a.node, nodes.Const) and s is not None:
            s.min_len = max(s.min_len, int(a.node.value))
            s.mark("seq")
            return s.el()
        ai = self.expr(a, scope)
        if ai is not None:
            ai.mark("int")
            if s is not None:
                ai.index_of.append(s)
        if s is not None:
            s.mark("list")
        return s.el() if s is not None else None

    def e_Call(self, n, scope):
        args = [self.expr(x, scope) for x in n.args]
        for k in n.kwargs:
            self.expr(k.value, scope)
        f = n.node
        if isinstance(f, nodes.Getattr):
            obj = self.expr(f.node, scope)
            meth = f.attr
            if meth == "split":
                if obj is not None:
                    obj.mark("str")
                    if n.args and isinstance(n.args[0], nodes.Const):
                        obj.split_seps.add(n.args[0].value)
                    else:
                        obj.split_seps.add(" ")
                out = Shape(None)
                out.el().mark("str")
                out.min_len = 3
                if obj is not None:
                    sep = n.args[0].value if n.args and isinstance(n.args[0], nodes.Const) else " "
                    obj.split_outs.append((sep, out))
                return out
            if meth in STR_METHODS:
                if obj is not None:
                    obj.mark("str")
                out = Shape(None)
                out.mark("str")
                return out
            if meth == "index" and n.args and isinstance(n.args[0], nodes.Const) and isinstance(n.args[0].value, str):
                # s.index("<"): a string holding that text
                if obj is not None:
                    obj.mark("str")
                    obj.contains.append(n.args[0].value)
                out = Shape(None)
                out.mark("int")
                return out
            if meth == "index":
                if obj is not None:
                    obj.mark("list")
                    if args and args[0] is not None:
                        args[0].member_of.append(obj)
                out = Shape(None)
                out.mark("int")
                return out
            if meth == "join":
                if args and args[0] is not None:
                    args[0].mark("list")
                    args[0].el().mark("str")
                return None
            if meth in ("items", "keys", "values", "update", "get"):
                if obj is not None:
                    obj.mark("dict")
                return None
            if meth in ("append", "pop", "extend", "insert"):
                if obj is not None:
                    obj.mark("list")
                return None
            return None
        if isinstance(f, nodes.Name):
            if f.name == "range":
                for a in args:
                    if a is not None:
                        a.mark("int")
                out = Shape(None)
                out.el().mark("int")
                return out
            if f.name == "zip":
                out = Shape(None)
                out.tuple_elems = [a.el() if a is not None else None for a in args]
                for a in args:
                    if a is not None:
                        a.mark("list")
                return out
        return None

    def e_Filter(self, n, scope):
        s = self.expr(n.node, scope) if n.node is not None else None
        args = [self.expr(x, scope) for x in n.args]
        kw = {k.key: k.value for k in n.kwargs}
        for v in kw.values():
            self.expr(v, scope)
        name = n.name
        if s is None:
            if name in ("length", "count", "int", "round", "abs", "float"):
                out = Shape(None)
                out.mark("int")
                return out
            return None
        if name == "join":
            s.mark("list")
            e = s.el()
            if "attribute" in kw and isinstance(kw["attribute"], nodes.Const):
                e.attr(kw["attribute"].value).mark("str")
            else:
                e.mark("str")
            return None
        if name in ("length", "count"):
            s.mark("seq")
            s.truth = True
            out = Shape(None)
            out.mark("int")
            return out
        if name == "int":
            s.mark("intlike")
            out = Shape(None)
            out.mark("int")
            return out
        if name in ("float", "round", "abs"):
            s.mark("num")
            return None
        if name in ("choice", "random", "first", "last"):
            s.mark("list")
            s.min_len = max(s.min_len, 1)
            return s.el()
        if name in SEQ_SAME_FILTERS or name in ("most_frequent",):
            s.mark("list")
            return s
        if name in ("selectattr", "rejectattr", "sum", "max", "min", "groupby"):
            s.mark("list")
            if name in ("selectattr", "rejectattr") and len(n.args) >= 3 and \
                    all(isinstance(x, nodes.Const) for x in n.args[:3]):
                s.el().attr(n.args[0].value).consts.append(n.args[2].value)
            if n.args and isinstance(n.args[0], nodes.Const) and isinstance(n.args[0].value, str):
                s.el().attr(n.args[0].value)
            if "attribute" in kw and isinstance(kw["attribute"], nodes.Const):
                s.el().attr(kw["attribute"].value)
            return s if name in ("selectattr", "rejectattr") else s.el()
        if name == "map":
            s.mark("list")
            if "attribute" in kw and isinstance(kw["attribute"], nodes.Const):
                out = Shape(None)
                out.elem = s.el().attr(kw["attribute"].value)
                out.mark("list")
                return out
            return s
        if name in STR_FILTERS:
            s.mark("str")
            return None
        if name == "default":
            return s
        if name == "items":
            s.mark("dict")
            return None
        return None

    def e_Test(self, n, scope):
        self.expr(n.node, scope)
        for a in n.args:
            self.expr(a, scope)
        return None

    def _const_value(self, n):
        if isinstance(n, nodes.Const):
            return True, n.value
        if isinstance(n, nodes.Neg) and isinstance(n.node, nodes.Const) and isinstance(n.node.value, (int, float)):
            return True, -n.node.value
        return False, None

    def e_Compare(self, n, scope):
        left_node = n.expr
        left = self.expr(left_node, scope)
        for op in n.ops:
            right = self.expr(op.expr, scope)
            lc, lv = self._const_value(left_node)
            rc, rv = self._const_value(op.expr)
            if op.op in ("in", "notin"):
                if isinstance(op.expr, (nodes.List, nodes.Tuple)) and left is not None:
                    for it in op.expr.items:
                        c, v = self._const_value(it)
                        if c:
                            left.consts.append(v)
                elif right is not None and lc and isinstance(lv, str):
                    right.mark("seq")
                    right.consts.append(lv)
                elif right is not None and left is not None:
                    left.member_of.append(right)
                    right.mark("list")
                    if left.kinds["int"]:
                        right.el().mark("int")
            else:
                if left is not None and rc:
                    left.consts.append(rv)
                    left.mark(_kind_of(rv))
                if right is not None and lc:
                    right.consts.append(lv)
                    right.mark(_kind_of(lv))
                if op.op in ("eq", "ne") and left is not None and right is not None:
                    # `choice == answerKey` with choice from a list: answerKey is a member
                    for a, b in ((left, right), (right, left)):
                        if a.parent is not None and b.parent is None:
                            b.member_of.append(a.parent)
            left, left_node = right, op.expr
        return None

    def _num_binop(self, n, scope):
        l = self.expr(n.left, scope)
        r = self.expr(n.right, scope)
        lc, lv = self._const_value(n.left)
        rc, rv = self._const_value(n.right)
        for s, c, v in ((l, rc, rv), (r, lc, lv)):
            if s is not None and c:
                s.mark(_kind_of(v))
        if isinstance(n, nodes.Sub) and l is not None and rc and isinstance(rv, int) and not isinstance(rv, bool):
            l.consts.extend(range(rv, rv + 5))  # `x - 32` indexes from 32 on
        if isinstance(n, (nodes.Sub, nodes.Div, nodes.FloorDiv)):
            for x in (l, r):
                if x is not None:
                    x.mark("int")
        out = Shape(None)
        if (lc and isinstance(lv, str)) or (rc and isinstance(rv, str)):
            out.mark("str")
        else:
            out.mark("int")
        return out

    e_Add = e_Sub = e_Mul = e_Div = e_FloorDiv = e_Mod = e_Pow = _num_binop

    def e_Neg(self, n, scope):
        s = self.expr(n.node, scope)
        if s is not None:
            s.mark("int")
        return None

    def _truth(self, n, scope):
        s = self.expr(n, scope)
        if s is not None:
            s.truth = True
        return s

    def e_Not(self, n, scope):
        self._truth(n.node, scope)
        return None

    def e_And(self, n, scope):
        self._truth(n.left, scope)
        self._truth(n.right, scope)
        return None

    e_Or = e_And

    def e_CondExpr(self, n, scope):
        self._truth(n.test, scope)
        a = self.expr(n.expr1, scope)
        if n.expr2 is not None:
            self.expr(n.expr2, scope)
        return a

    # -- statements
    def stmt(self, n, scope):
        m = getattr(self, "s_" + type(n).__name__, None)
        if m is not None:
            return m(n, scope)
        if isinstance(n, nodes.Expr):
            self.expr(n, scope)
            return
        for c in n.iter_child_nodes():
            if isinstance(c, nodes.Expr):
                self.expr(c, scope)
            else:
                self.stmt(c, scope)

    def body(self, ns, scope):
        for x in ns:
            self.stmt(x, scope)

    def s_If(self, n, scope):
        self._truth(n.test, scope)
        self.body(n.body, scope)
        for e in n.elif_:
            self.s_If(e, scope)
        self.body(n.else_, scope)

    def s_For(self, n, scope):
        it = self.expr(n.iter, scope)
        inner = dict(scope)
        names = []
        if isinstance(n.target, nodes.Name):
            names = [n.target.name]
            inner[n.target.name] = it.el() if it is not None and it.tuple_elems is None else Shape(None)
        elif isinstance(n.target, nodes.Tuple):
            names = [x.name for x in n.target.items if isinstance(x, nodes.Name)]
            if it is not None and it.tuple_elems is not None:
                for nm, s in zip(names, it.tuple_elems):
                    inner[nm] = s if s is not None else Shape(None)
            elif it is not None and it.kinds.get("dict", 0) == 0:
                e = it.el()
                e.min_len = max(e.min_len, len(names))
                for nm in names:
                    inner[nm] = e.el()
            else:
                for nm in names:
                    inner[nm] = Shape(None)
        if it is not None:
            it.truth = True
            it.mark("list")
        if n.test is not None:
            self.expr(n.test, inner)
        self.body(n.body, inner)
        self.body(n.else_, scope)

    def s_Assign(self, n, scope):
        s = self.expr(n.node, scope)
        if isinstance(n.target, nodes.Name):
            scope[n.target.name] = s if s is not None else Shape(None)
        elif isinstance(n.target, nodes.Tuple):
            for x in n.target.items:
                if isinstance(x, nodes.Name):
                    scope[x.name] = Shape(None)

    def s_Output(self, n, scope):
        for x in n.nodes:
            self.expr(x, scope)


def _kind_of(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "num"
    if isinstance(v, str):
        return "str"
    return "any"


# ---------------------------------------------------------------- generation

WORDS = ("the cat sat on mat a dog ran fast blue river city of Paris was founded in year people "
         "said that it is good bad movie great terrible question answer because when where why "
         "who what which one two three red house tree book water light dark night morning").split()
ODD = ["caf\u00e9", "na\u00efve", "\u4e2d\u6587", "\u00fcber", "\U0001F600", "\u00a0nbsp", "tab\there",
       "quote\"s", "back\\slash", "new\nline", "O'Brien", "{{x}}", "{% raw %}", "50%", "<b>", "&amp;"]
# Python's str.strip() whitespace (edges of a render), and two look-alikes that are not
WS = [" ", "\n", "\t", "\u3000", "\xa0", "\u2003", "\r\n", "\x1c", "\x1f", "\u2028", "\u2029", "\x85",
      "\x0b", "\x0c", "\u1680", "\u202f", "\u205f", "\u200a", "\u200b", "\ufeff"]


def text(rng, lo=1, hi=12):
    n = rng.randint(lo, hi)
    ws = [rng.choice(ODD) if rng.random() < 0.08 else rng.choice(WORDS) for _ in range(n)]
    s = " ".join(ws)
    r = rng.random()
    if r < 0.2:
        s = rng.choice(WS) + s + rng.choice(WS)
    elif r < 0.23:
        s = s + " ||| " + rng.choice(WORDS)
    elif r < 0.25:
        s = " ".join(rng.choice(WORDS) for _ in range(450))
    return s


class Gen:
    def __init__(self, rng, variant):
        self.rng = rng
        self.variant = variant

    def kind(self, s):
        k = s.kinds
        if s.attrs:
            return "dict"
        if s.tuple_elems is not None:
            return "list"
        e = s.elem
        rich_elem = e is not None and (e.attrs or e.elem is not None or
                                       any(k2 not in ("str", "seq") for k2 in e.kinds))
        if k["list"] or rich_elem:
            return "list"
        if k["seq"] or s.min_len or e is not None:
            if k["str"]:
                return "str"
            return self.rng.choice(["str", "list"])
        if k["int"] and k["int"] >= k["str"]:
            return "int"
        if k["intlike"]:
            return self.rng.choice(["int", "digits"])
        if k["num"]:
            return "num"
        if k["bool"] and not k["str"]:
            return "bool"
        if k["str"]:
            return "str"
        if k["seq"]:
            return self.rng.choice(["str", "list"])
        return "str"

    def value(self, s, depth=0):
        rng = self.rng
        kind = self.kind(s)
        consts = [c for c in s.consts if c is not None]
        if consts and rng.random() < 0.6 and kind not in ("list", "dict"):
            c = rng.choice(consts)
            if isinstance(c, bool) or isinstance(c, str):
                return c
            if isinstance(c, (int, float)):
                return c + rng.choice([0, 0, -1, 1])
        if s.truth and rng.random() < 0.12 and depth == 0:
            return {"str": "", "list": [], "int": 0, "bool": False, "dict": {}, "num": 0.0}.get(kind, None)
        if kind == "dict":
            return {k: self.value(v, depth + 1) for k, v in s.attrs.items()}
        if kind == "list":
            lo = max(s.min_len, 1)
            n = rng.randint(lo, lo + 4)
            if s.tuple_elems is not None:
                return [self.value(e or Shape(None), depth + 1) for e in s.tuple_elems]
            e = s.elem if s.elem is not None else Shape(None)
            return [self.value(e, depth + 1) for _ in range(n)]
        if kind == "int":
            return rng.randint(0, 3) if rng.random() < 0.8 else rng.randint(-1, 12)
        if kind == "digits":
            return str(rng.randint(0, 5))
        if kind == "num":
            return rng.choice([0.5, 1.25, 3.0, 2, 7, 0.1, 10.75, 1e-05, 123456.5])
        if kind == "bool":
            return rng.random() < 0.5
        if s.contains and rng.random() < 0.9:
            return "%s %s %s" % (text(rng, 1, 4), " x ".join(s.contains), text(rng, 1, 4))
        if s.split_seps and rng.random() < 0.85:
            sep, out = rng.choice(s.split_outs) if s.split_outs else (" ", None)
            if not isinstance(sep, str) or not sep:
                sep = " "
            parts = [text(rng, 1, 5) for _ in range(rng.randint(2, 5))]
            if out is not None and out.elem is not None:
                consts = [c for c in out.elem.consts if isinstance(c, str)]
                if consts and rng.random() < 0.7:
                    parts[0] = rng.choice(consts)
            return sep.join(parts)
        return text(rng)


def get_path(ex, path):
    v = ex
    for p in path:
        if p == "[]" or not isinstance(v, dict) or p not in v:
            return None, False
        v = v[p]
    return v, True


def set_path(ex, path, val):
    v = ex
    for p in path[:-1]:
        v = v[p]
    v[path[-1]] = val


def all_shapes(s, out):
    out.append(s)
    for a in s.attrs.values():
        all_shapes(a, out)
    if s.elem is not None:
        all_shapes(s.elem, out)
    return out


def share_values(ex, inf, rng):
    """A plain str field takes, now and then, the value of an item of a list of str fields
    (answers that are among the options), so targets match choices."""
    lists = [v for v in ex.values() if isinstance(v, list) and v and all(isinstance(x, str) for x in v)]
    for v in ex.values():
        if isinstance(v, dict):
            lists += [x for x in v.values() if isinstance(x, list) and x and all(isinstance(y, str) for y in x)]
    if not lists:
        return
    for k, s in inf.root.attrs.items():
        v = ex.get(k)
        if isinstance(v, str) and not s.consts and not s.member_of and rng.random() < 0.25:
            ex[k] = rng.choice(rng.choice(lists))
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v) and rng.random() < 0.25:
            other = rng.choice(lists)
            if other is not v:
                ex[k] = [rng.choice(other) for _ in v]


def fix_links(ex, shapes, rng, comp, inf):
    """Members become members and indexes index, where both ends are plain paths."""
    share_values(ex, inf, rng)
    for s in shapes:
        if s.path is None or "[]" in s.path or not s.path:
            continue
        for L in s.member_of:
            if L.path is None or "[]" in L.path:
                continue
            lv, ok = get_path(ex, L.path)
            if ok and isinstance(lv, list) and lv and rng.random() < 0.9:
                set_path(ex, s.path, rng.choice(lv))
        for L in s.index_of:
            n = None
            if L is inf.answer_choices and comp.choices_prog is not None:
                try:
                    _, ch = render_ref.apply(comp, render_ref.remove_hyphen(ex), 0)
                    n = len(ch or [])
                except Exception:
                    n = None
            elif L.path is not None and "[]" not in L.path:
                lv, ok = get_path(ex, L.path)
                if ok and isinstance(lv, (list, str)):
                    n = len(lv)
            if n and rng.random() < 0.9:
                consts = [c for c in s.consts if isinstance(c, int) and not isinstance(c, bool)]
                if consts and rng.random() < 0.2:
                    set_path(ex, s.path, rng.choice(consts))
                else:
                    set_path(ex, s.path, rng.randrange(n))


def infer_template(t):
    inf = Infer()
    env = render_ref.ENV
    for src in (t.get("answer_choices"), t["jinja"]):
        if src is None:
            continue
        inf.body(env.parse(src).body, {})
    return inf


def fixed_choices(comp):
    """promptsource's fixed answer choices (no variables), or []."""
    ac = comp.t.get("answer_choices")
    if ac is None or meta.find_undeclared_variables(render_ref.ENV.parse(ac)):
        return []
    try:
        return [x.strip() for x in comp.choices_prog.render().split("|||")]
    except Exception:
        return []


def synth(task, t, per, tries, rng):
    comp = render_ref.Compiled(t)
    inf = infer_template(t)
    shapes = all_shapes(inf.root, [])
    fixed = fixed_choices(comp)
    if fixed:
        # a field printed as the target is often one of the fixed choices
        for s in inf.root.attrs.values():
            if not s.consts and not s.attrs and s.elem is None:
                s.consts.extend(fixed)
    kept, seen, dropped_kept = [], set(), False
    for i in range(tries):
        g = Gen(rng, i)
        ex = {k: g.value(v) for k, v in inf.root.attrs.items()}
        fix_links(ex, shapes, rng, comp, inf)
        if rng.random() < 0.05:
            ex["extra-field"] = text(rng, 1, 3)
        ex = json.loads(json.dumps(ex))  # what the JSONL line will give back
        try:
            r = render_ref.record(task, comp, len(kept), ex, 0)
        except Exception:
            continue
        if r is None:
            if dropped_kept:
                continue
            dropped_kept = True
            key = None
        else:
            key = (r["input"], r["target"], tuple(r["choices"]))
            if key in seen:
                continue
            seen.add(key)
        kept.append(ex)
        if len(kept) >= per:
            break
    return kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("templates_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--per", type=int, default=5)
    ap.add_argument("--tries", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    total = covered = 0
    failed = []
    os.makedirs(a.out_dir, exist_ok=True)
    index = open(os.path.join(a.out_dir, "index.tsv"), "w", encoding="utf-8")
    for dirpath, _d, files in sorted(os.walk(a.templates_dir)):
        if "templates.yaml" not in files:
            continue
        rel = os.path.relpath(dirpath, a.templates_dir)
        if a.only and a.only not in rel:
            continue
        path = os.path.join(dirpath, "templates.yaml")
        task, templates = render_ref.load_templates(path)
        od = os.path.join(a.out_dir, rel)
        os.makedirs(od, exist_ok=True)
        for t in templates:
            total += 1
            rng = random.Random("%d/%s" % (a.seed, t["id"]))
            exs = synth(task, t, a.per, a.tries, rng)
            assert "\t" not in t["name"] and "\n" not in t["name"]
            index.write("%s\t%s\t%s\t%d\n" % (rel, t["id"], t["name"], len(exs)))
            if not exs:
                failed.append("%s: %s" % (rel, t["name"]))
                continue
            covered += 1
            with open(os.path.join(od, t["id"] + ".jsonl"), "w", encoding="utf-8") as f:
                for ex in exs:
                    f.write(json.dumps(ex, ensure_ascii=False) + "\n")
            comp = render_ref.Compiled(t)
            with open(os.path.join(od, t["id"] + ".expected.jsonl"), "w", encoding="utf-8") as f:
                for i, ex in enumerate(exs):
                    r = render_ref.record(task, comp, i, ex, 0)  # rendered the same way in synth()
                    if r is not None:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
    index.close()
    print("synth: %d/%d templates have examples that render in Python" % (covered, total))
    for x in failed:
        print("synth: no example renders: %s" % x)
    return 0


if __name__ == "__main__":
    sys.exit(main())
