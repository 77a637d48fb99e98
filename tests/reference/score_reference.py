#!/usr/bin/env python3
"""Writes the rank-classification fixtures under tests/fixtures/score/ (run by fixtures-score.sh).

Reference: Hugging Face transformers' T5ForConditionalGeneration, used the way t-zero's
evaluation/run_eval.py uses it: each example's input repeated once per answer choice, the
choices (EOS included) as labels padded with -100, log_softmax of the logits gathered at
the label ids, masked, summed over each choice's own tokens (no length normalisation),
argmax over the choices (torch.argmax: the first on ties).

For each model fixture (tests/fixtures/model/{a_gated_untied,b_relu_tied}) it writes
  NAME.tokens.jsonl   token records (as t0-cat prints them): inputs of 1..24 ids, 1..5
                      distinct choices of 1..7 ids ending in EOS (example 0 repeats a choice
                      that does not win), labels (-1 on every 7th); t0-cat --encode turns it into a stream
  NAME.expect.jsonl   per record: scores (float64 of the float32 sums), pred, and margin
                      (pred's score minus the best other choice's; 1e9 with one choice)
and a_bf16/, a_f16/: model a's config and its weights stored as BF16 / F16, with
  a_bf16.expect.jsonl, a_f16.expect.jsonl: the reference on the rounded weights (computed
                      in float32), whose preds must equal the F32 model's.
"""
import json
import os
import random
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import T5ForConditionalGeneration

torch.set_flush_denormal(True)
MODELS = ["a_gated_untied", "b_relu_tied"]
# BF16 keeps ~3 significant digits: choices closer than this under F32 may swap (a tiny
# random model has near-ties); the BF16/F16 preds must equal F32's beyond it.
MARGIN = 0.01


def make_examples(cfg, seed, n=40):
    rng = random.Random(seed)
    V, eos = cfg["vocab_size"], cfg["eos_token_id"]
    ids = [i for i in range(1, V) if i != eos]
    out = []
    for k in range(n):
        inp = [rng.choice(ids) for _ in range(rng.randint(1, 24))]
        n_choices = rng.randint(1, 5) if k else 3
        choices = []
        while len(choices) < n_choices:  # distinct: equal choices are ties, decided by float noise in transformers
            c = [rng.choice(ids) for _ in range(rng.randint(0, 6))] + [eos]
            if c not in choices:
                choices.append(c)
        if k == 0:
            choices[2] = list(choices[0])  # the same choice twice (not the best one)
        task = ["copa", "rte", "cb"][k % 3]
        out.append({
            "kind": "tokens", "task": task, "template": "prompt %d" % (k % 4), "id": k,
            "input_ids": inp, "target_ids": choices[0], "choice_ids": choices,
            "label": rng.randrange(n_choices) if k % 7 else -1,
        })
    return out


@torch.no_grad()
def score(model, ex):
    C = len(ex["choice_ids"])
    inp = torch.tensor([ex["input_ids"]] * C)
    L = max(len(c) for c in ex["choice_ids"])
    labels = torch.full((C, L), -100, dtype=torch.long)
    for r, c in enumerate(ex["choice_ids"]):
        labels[r, :len(c)] = torch.tensor(c)
    logits = model(input_ids=inp, attention_mask=torch.ones_like(inp), labels=labels).logits
    mask = labels != -100
    logp = torch.log_softmax(logits, dim=-1)
    tok = torch.gather(logp, 2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    s = (tok * mask).sum(dim=1)
    return [float(x) for x in s], int(torch.argmax(s))


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def expect(model, examples):
    out = []
    for ex in examples:
        s, p = score(model, ex)
        rest = [x for k, x in enumerate(s) if k != p]
        margin = s[p] - max(rest) if rest else float("inf")
        out.append({"id": ex["id"], "scores": s, "pred": p, "margin": margin if rest else 1e9})
    return out


def rounded_copy(src, dst, dtype):
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "config.json"), dst)
    w = load_file(os.path.join(src, "model.safetensors"))
    save_file({k: v.to(dtype).contiguous() for k, v in w.items()}, os.path.join(dst, "model.safetensors"),
              metadata={"format": "pt"})


def main(model_root, out):
    os.makedirs(out, exist_ok=True)
    f32_preds = None
    for i, name in enumerate(MODELS):
        d = os.path.join(model_root, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        model = T5ForConditionalGeneration.from_pretrained(d).float().eval()
        ex = make_examples(cfg, 1000 + i)
        write_jsonl(os.path.join(out, name + ".tokens.jsonl"), ex)
        e = expect(model, ex)
        write_jsonl(os.path.join(out, name + ".expect.jsonl"), e)
        if i == 0:
            f32_preds = [r["pred"] for r in e]
            for tag, dtype in (("a_bf16", torch.bfloat16), ("a_f16", torch.float16)):
                rd = os.path.join(out, tag)
                rounded_copy(d, rd, dtype)
                m = T5ForConditionalGeneration.from_pretrained(rd, torch_dtype=torch.float32).eval()
                er = expect(m, ex)
                write_jsonl(os.path.join(out, tag + ".expect.jsonl"), er)
                clear = [k for k, r in enumerate(e) if r["margin"] >= MARGIN]
                same = sum(f32_preds[k] == er[k]["pred"] for k in clear)
                print("%s: %d/%d preds equal to F32 where its margin is >= %g (%d/%d in all)" % (
                    tag, same, len(clear), MARGIN, sum(p == r["pred"] for p, r in zip(f32_preds, er)), len(er)),
                    file=sys.stderr)
                if same != len(clear):
                    sys.exit("%s: preds differ from F32 on clear margins" % tag)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
