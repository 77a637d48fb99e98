#!/usr/bin/env python3
"""The PyTorch side of bench-model.sh: one training step (forward + backward + Adafactor)
of transformers' T5ForConditionalGeneration, the same shapes, loss (CE + z-loss) and
optimizer settings as bench/t5_step_bench.c. Prints the same key=value line.
  t5_step_bench.py [--rows 8] [--enc 512] [--dec 128] [--threads 1] [--steps 3]"""
import argparse
import resource
import time

import torch
from transformers import T5Config, T5ForConditionalGeneration
from transformers.optimization import Adafactor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--enc", type=int, default=512)
    ap.add_argument("--dec", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8,
                   num_heads=6, feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0)
    model = T5ForConditionalGeneration(cfg)
    model.train()
    opt = Adafactor(model.parameters(), lr=1e-3, scale_parameter=True, relative_step=False, warmup_init=False,
                    clip_threshold=1.0, decay_rate=-0.8, beta1=None, weight_decay=0.0)
    enc = torch.randint(2, cfg.vocab_size, (a.rows, a.enc))
    tgt = torch.randint(2, cfg.vocab_size, (a.rows, a.dec))
    dec_in = torch.zeros_like(tgt)
    dec_in[:, 1:] = tgt[:, :-1]
    denom = float(a.rows * a.dec)
    best, loss = 1e30, 0.0
    for s in range(a.steps + 1):  # step 0 warms up
        t = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        logits = model(input_ids=enc, decoder_input_ids=dec_in).logits
        lse = torch.logsumexp(logits, -1)
        ce = lse - logits.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
        loss_t = (ce + 1e-4 * lse.square()).sum() / denom
        loss_t.backward()
        opt.step()
        t = time.perf_counter() - t
        loss = loss_t.item()
        if s > 0:
            best = min(best, t)
    toks = a.rows * (a.enc + a.dec)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"impl=PyTorch threads={a.threads} step_s={best:.3f} tokens_per_s={toks / best:.0f} "
          f"peak_rss_mib={rss:.0f} loss={loss:.4f}")


if __name__ == "__main__":
    main()
