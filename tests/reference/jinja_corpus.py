#!/usr/bin/env python3
"""Real promptsource templates, rendered by jinja2 with synthetic examples: for each
template (with promptsource's `| string | truncate(2048)` rewrite) and answer_choices
expression, a context is built from the variables it reads (jinja2.meta) and the access
paths on them (x.a, x['b'], x[i]: dicts and lists), with random leaves; the first of 12
tries that jinja2 renders without error is kept. Writes every STRIDE-th template.
Usage: jinja_corpus.py TEMPLATES_DIR OUT.jsonl [STRIDE]   (needs PyYAML)"""
import json
import os
import random
import sys

import yaml
from jinja2 import meta, nodes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jinja_cases as jc  # noqa: E402

WORDS = ["alpha", "beta gamma", "Delta", "epsilon zeta eta", "theta", "Iota kappa", "lambda"]
METHODS = {"split", "lower", "upper", "strip", "replace", "index", "join", "append", "pop", "update", "items",
           "keys", "values", "startswith", "capitalize", "title", "get", "count", "find"}


class Loader(yaml.SafeLoader):
    pass


Loader.add_constructor("!Template", lambda loader, node: loader.construct_mapping(node, deep=True))
Loader.add_constructor("!TemplateMetadata", lambda loader, node: loader.construct_mapping(node, deep=True))


def templates(root):
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if "templates.yaml" in files:
            with open(os.path.join(dirpath, "templates.yaml"), encoding="utf-8") as f:
                doc = yaml.load(f, Loader=Loader)
            for _key, t in sorted((doc.get("templates") or {}).items()):
                yield t


def access_paths(ast):
    """name -> tree of keys read below it ('[]' for a computed or int index)."""
    roots = {}
    for n in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        keys = []
        while isinstance(n, (nodes.Getattr, nodes.Getitem)):
            if isinstance(n, nodes.Getattr):
                keys.append(n.attr)
            elif isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str):
                keys.append(n.arg.value)
            else:
                keys.append("[]")
            n = n.node
        if isinstance(n, nodes.Name):
            t = roots.setdefault(n.name, {})
            for k in reversed(keys):
                t = t.setdefault(k, {})
    return roots


def build(tree, rng):
    keys = [k for k in tree if k not in METHODS]
    if not keys:
        return rng.choice([rng.choice(WORDS), rng.randint(0, 2), [rng.choice(WORDS) for _ in range(3)],
                           [rng.randint(0, 3) for _ in range(3)], rng.choice(WORDS) + " " + rng.choice(WORDS)])
    if keys == ["[]"] or ("[]" in keys and rng.random() < 0.7):
        return [build(tree["[]"], rng) for _ in range(3)]
    return {k: build(tree[k], rng) for k in keys if k != "[]"}


def main():
    root, out = sys.argv[1], sys.argv[2]
    stride = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(5)
    rows = 0
    with open(out, "w", encoding="utf-8") as f:
        for i, t in enumerate(templates(root)):
            if i % stride:
                continue
            for src in (t["jinja"].replace("}}", " | string | truncate(2048) }}"), t.get("answer_choices")):
                if not src:
                    continue
                ast = jc.env.parse(src)
                paths = access_paths(ast)
                for attempt in range(12):
                    ctx = {name: build(paths.get(name, {}), rng) for name in meta.find_undeclared_variables(ast)}
                    ctx["answer_choices"] = ["Yes", "No", "Maybe"]
                    res = jc.render(src, json.loads(json.dumps(ctx)), attempt)
                    if "expected" in res:
                        row = {"template": src, "context": ctx, "seed": attempt}
                        row.update(res)
                        f.write(json.dumps(row, ensure_ascii=False) + "\n")
                        rows += 1
                        break
    print("%s: %d cases" % (out, rows))


main()
