#!/usr/bin/env python3
"""The peers' side of bench-decode.sh: greedy decoding of the same model directory with
PyTorch + transformers generate() and CTranslate2 translate_batch, 1 thread. Per token
time with the encoder excluded: (time of N new tokens - time of 1) / (N - 1), the best of
a few runs, every run forced to N tokens (min length = max length, so EOS ends nothing).
Prints one key=value line per engine:
  impl=torch ms_per_token=...      impl=ct2-float32 ms_per_token=...     impl=ct2-int8 ...
  decode_peer.py MODEL_DIR --batch B --prompt T --new N [--runs R] [--ct2 CT2_DIR] [--engines torch,ct2]
                 [--ct2-types float32,int8]
Each line also has load_s, the time the engine took to load the model."""
import argparse
import time


def best_of(fn, runs):
    best = 1e30
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def prompts(vocab, batch, length):
    import random
    r = random.Random(12345)
    return [[r.randrange(3, vocab) for _ in range(length)] for _ in range(batch)]


def bench_torch(a, ids):
    import torch
    from transformers import T5ForConditionalGeneration
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    t = time.perf_counter()
    model = T5ForConditionalGeneration.from_pretrained(a.model, torch_dtype=torch.float32).eval()
    load = time.perf_counter() - t
    x = torch.tensor(ids)

    def gen(n):
        with torch.no_grad():
            model.generate(input_ids=x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                           max_new_tokens=n, min_new_tokens=n)
    gen(2)  # warm up
    t1, tn = best_of(lambda: gen(1), a.runs), best_of(lambda: gen(a.new), a.runs)
    print(f"impl=torch batch={a.batch} ms_per_token={(tn - t1) * 1e3 / (a.new - 1):.2f} load_s={load:.1f}", flush=True)


def bench_ct2(a, ids, compute_type):
    import ctranslate2
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=f"{a.model}/spiece.model")
    toks = [[sp.id_to_piece(i) for i in row] for row in ids]
    t = time.perf_counter()
    tr = ctranslate2.Translator(a.ct2, device="cpu", compute_type=compute_type, inter_threads=1, intra_threads=1)
    load = time.perf_counter() - t

    def gen(n):
        tr.translate_batch(toks, beam_size=1, max_decoding_length=n, min_decoding_length=n, max_batch_size=a.batch)
    gen(2)
    t1, tn = best_of(lambda: gen(1), a.runs), best_of(lambda: gen(a.new), a.runs)
    print(f"impl=ct2-{compute_type} batch={a.batch} ms_per_token={(tn - t1) * 1e3 / (a.new - 1):.2f} load_s={load:.1f}",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--ct2", default=None)
    ap.add_argument("--engines", default="torch,ct2")
    ap.add_argument("--ct2-types", default="float32,int8")
    a = ap.parse_args()
    ids = prompts(a.vocab, a.batch, a.prompt)
    eng = a.engines.split(",")
    if "torch" in eng:
        bench_torch(a, ids)
    if "ct2" in eng and a.ct2:
        for ct in a.ct2_types.split(","):
            bench_ct2(a, ids, ct)


if __name__ == "__main__":
    main()
