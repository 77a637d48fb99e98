#!/usr/bin/env python3
"""Reference renderer for t0-render: Python jinja2 with promptsource's Template.apply
semantics written out (promptsource itself is not needed), plus t-zero's seqio
post-processing, exactly as lib/render/templates.h documents them.

    render_ref.py -t TEMPLATES.yaml [-n NAME]... [--original-task] [--seed S] [FILE.jsonl ...]

prints one JSON object a line: kind ("example"), task, template, id, input, target, choices, label
(the fields of an example record), in the order t0-render writes them
(for each example, for each selected template in file order).

Semantics (mirrors lib/render/templates.c):
  - example: one JSON object a line; top-level keys "a-b" become "a_b" (promptsource.utils.removeHyphen,
    applied by t-zero's seqio path before apply()).
  - jinja: every "}}" becomes " | string | truncate(2048) }}"; every top-level string field has
    "|||" replaced by PIPE_PROTECTOR; answer_choices (rendered from the protected example,
    no truncation, split on "|||", each part stripped then un-protected) or None is added to the context.
  - render, split on "|||", un-protect each part, str.strip() each part.
  - fewer or more than 2 parts, or an empty input: the example is dropped for that template.
    An empty target becomes "<NO LABEL>".
  - choices: the answer_choices list ([] when None); label = index of the target in it, or -1.
  - `choice` and `random` filters draw from a PRNG seeded per (seed, example index, template id),
    see seed_for() and Rng below (identical to lib/render/templates.c and lib/render/jinja.c).
"""
import argparse
import json
import sys

import jinja2
import yaml

from promptsource_env import make_env, reseed

PIPE_PROTECTOR = "3ed2dface8203c4c9dfb1a5dc58e41e0"
TEXT_VAR_LENGTH = 2048
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- seeding (see templates.h)

def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def seed_for(seed, index, template_id):
    """The jinja seed of one (example, template) render: splitmix64 chained over the three."""
    h = splitmix64(seed & MASK64)
    h = splitmix64(h ^ (index & MASK64))
    return splitmix64(h ^ fnv1a64(template_id))


def choices_seed(render_seed):
    """answer_choices is a render of its own; its seed is derived so the two draw apart."""
    return splitmix64(render_seed ^ 0x636886F3A3A4A9E5)


ENV = make_env()
STRICT_ENV = make_env(jinja2.StrictUndefined)


# ---------------------------------------------------------------- templates.yaml

class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader, node):
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("!Template", _mapping)
_Loader.add_constructor("!TemplateMetadata", _mapping)


def load_templates(path):
    """(task, [template dict, in file order])."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=_Loader)
    task = doc["dataset"] if not doc.get("subset") else "%s/%s" % (doc["dataset"], doc["subset"])
    out = []
    for key, t in (doc.get("templates") or {}).items():
        t = dict(t)
        t.setdefault("id", key)
        t["metadata"] = t.get("metadata") or {}
        out.append(t)
    return task, out


# ---------------------------------------------------------------- apply

def remove_hyphen(example):
    out = {}
    for k, v in example.items():
        out[k.replace("-", "_")] = v
    return out


def protect(example):
    return {k: (v.replace("|||", PIPE_PROTECTOR) if isinstance(v, str) else v) for k, v in example.items()}


def unprotect(s):
    return s.replace(PIPE_PROTECTOR, "|||")


class Compiled:
    def __init__(self, t, env=ENV):
        self.t = t
        self.prog = env.from_string(t["jinja"].replace("}}", " | string | truncate(%d) }}" % TEXT_VAR_LENGTH))
        ac = t.get("answer_choices")
        self.choices_prog = env.from_string(ac) if ac is not None else None


def apply(c, example, render_seed):
    """promptsource Template.apply on an example already through remove_hyphen.
    Returns (parts, choices_or_None)."""
    if "answer_choices" in example:
        raise ValueError("Example contains the restricted key 'answer_choices'.")
    protected = protect(example)
    choices = None
    if c.choices_prog is not None:
        reseed(choices_seed(render_seed))
        rendered = c.choices_prog.render(**protected)
        choices = [unprotect(x.strip()) for x in rendered.split("|||")]
    ctx = dict(protected)
    ctx["answer_choices"] = choices
    reseed(render_seed)
    rendered = c.prog.render(**ctx)
    return [unprotect(p).strip() for p in rendered.split("|||")], choices


def record(task, c, index, example, seed):
    """The example record t0-render writes, or None when the example is dropped."""
    parts, choices = apply(c, remove_hyphen(example), seed_for(seed, index, c.t["id"]))
    if len(parts) != 2 or parts[0] == "":
        return None
    inp, target = parts
    if target == "":
        target = "<NO LABEL>"
    choices = choices or []
    label = choices.index(target) if target in choices else -1
    return {"kind": "example", "task": task, "template": c.t["name"], "id": index, "input": inp,
            "target": target, "choices": choices, "label": label}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-t", required=True)
    ap.add_argument("-n", action="append", default=[])
    ap.add_argument("--original-task", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    task, templates = load_templates(a.t)
    sel = [t for t in templates
           if (not a.n or t["name"] in a.n)
           and (not a.original_task or t["metadata"].get("original_task") is True)]
    env = STRICT_ENV if a.strict else ENV
    compiled = [Compiled(t, env) for t in sel]
    out = sys.stdout
    index = 0
    for path in a.files or ["-"]:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
        for line in f:
            if not line.strip():
                continue
            ex = json.loads(line)
            for c in compiled:
                r = record(task, c, index, ex, a.seed)
                if r is not None:
                    out.write(json.dumps(r, ensure_ascii=False) + "\n")
            index += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
