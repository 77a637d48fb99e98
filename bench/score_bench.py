#!/usr/bin/env python3
"""The peers' side of bench-score.sh: rank classification of token records (JSON lines as
t0-cat prints them) in batches of examples, printing one key=value line.
  score_bench.py gen OUT.jsonl --examples N --choices C --seed S   the bench's examples:
      128-token inputs, C choices of 3..7 tokens + EOS (4..8 tokens), ids below 8000
  score_bench.py torch MODEL_DIR TOKENS.jsonl --threads T --batch 32
      transformers the t-zero way (evaluation/run_eval.py): each input repeated once per
      choice, labels padded with -100, log_softmax gathered at the labels and summed
  score_bench.py ct2 CT2_DIR TOKENS.jsonl --threads T --batch 32
      CTranslate2's Translator.score_batch over the (input, choice) pairs (it scores the
      encoder once per pair too); tokens from the converted model's vocabulary
Times cover the scoring only (the model is loaded before the clock starts)."""
import argparse
import json
import random
import time


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def gen(a):
    rng = random.Random(a.seed)
    with open(a.path, "w") as f:
        for k in range(a.examples):
            choices = [[rng.randrange(2, 8000) for _ in range(rng.randint(3, 7))] + [1] for _ in range(a.choices)]
            f.write(json.dumps({"kind": "tokens", "task": "bench", "template": "c%d" % a.choices, "id": k,
                                "input_ids": [rng.randrange(2, 8000) for _ in range(128)],
                                "target_ids": choices[0], "choice_ids": choices, "label": 0}) + "\n")


def batches(ex, n):
    for i in range(0, len(ex), n):
        yield ex[i:i + n]


def run_torch(a):
    import torch
    from transformers import T5ForConditionalGeneration
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    model = T5ForConditionalGeneration.from_pretrained(a.model).float().eval()
    ex = read(a.tokens)
    t = time.perf_counter()
    with torch.no_grad():
        for b in batches(ex, a.batch):
            rows = [(e["input_ids"], c) for e in b for c in e["choice_ids"]]
            T = max(len(r[0]) for r in rows)
            L = max(len(r[1]) for r in rows)
            inp = torch.zeros(len(rows), T, dtype=torch.long)
            mask = torch.zeros(len(rows), T, dtype=torch.long)
            labels = torch.full((len(rows), L), -100, dtype=torch.long)
            for i, (x, c) in enumerate(rows):
                inp[i, T - len(x):] = torch.tensor(x)  # left padding, as run_eval.py
                mask[i, T - len(x):] = 1
                labels[i, :len(c)] = torch.tensor(c)
            logits = model(input_ids=inp, attention_mask=mask, labels=labels).logits
            keep = labels != -100
            logp = torch.log_softmax(logits, -1).gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            scores = (logp * keep).sum(1)
            k = 0
            for e in b:
                n = len(e["choice_ids"])
                int(torch.argmax(scores[k:k + n]))
                k += n
    dt = time.perf_counter() - t
    print("impl=PyTorch threads=%d examples=%d seconds=%.2f examples_per_s=%.2f" % (a.threads, len(ex), dt,
                                                                                     len(ex) / dt))


def run_ct2(a):
    import os

    import ctranslate2
    tr = ctranslate2.Translator(a.model, device="cpu", inter_threads=1, intra_threads=a.threads,
                                compute_type=a.compute_type)
    vocab_json = os.path.join(a.model, "shared_vocabulary.json")
    if os.path.exists(vocab_json):
        vocab = json.load(open(vocab_json))
    else:
        vocab = [line.rstrip("\n") for line in open(os.path.join(a.model, "shared_vocabulary.txt"))]
    ex = read(a.tokens)
    t = time.perf_counter()
    for b in batches(ex, a.batch):
        src = [[vocab[i] for i in e["input_ids"]] for e in b for _ in e["choice_ids"]]
        tgt = [[vocab[i] for i in c[:-1]] for e in b for c in e["choice_ids"]]  # EOS is added by score_batch
        res = tr.score_batch(src, tgt, max_batch_size=len(src))
        k = 0
        for e in b:
            n = len(e["choice_ids"])
            s = [sum(r.log_probs) for r in res[k:k + n]]
            s.index(max(s))
            k += n
    dt = time.perf_counter() - t
    print("impl=CTranslate2-%s threads=%d examples=%d seconds=%.2f examples_per_s=%.2f" % (
        a.compute_type, a.threads, len(ex), dt, len(ex) / dt))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("path")
    g.add_argument("--examples", type=int, default=64)
    g.add_argument("--choices", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    for name in ("torch", "ct2"):
        p = sub.add_parser(name)
        p.add_argument("model")
        p.add_argument("tokens")
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--batch", type=int, default=32)
        p.add_argument("--compute-type", default="float32")
    a = ap.parse_args()
    {"gen": gen, "torch": run_torch, "ct2": run_ct2}[a.cmd](a)


if __name__ == "__main__":
    main()
