#!/usr/bin/env python3
"""Writes the generation fixtures under tests/fixtures/decode/ (run by fixtures-decode.sh).

Reference: Hugging Face transformers 4.44's T5ForConditionalGeneration.generate() on small
random models. Each model directory holds config.json, model.safetensors and
expect.safetensors with:
  input          [rows, len] encoder ids, 0 = padding (F32: small integers are exact)
  CASE           generate(**options)'s sequences for each case, as transformers returns
                 them ([rows * num_return, length], decoder start first, padded with 0)
and the metadata "cases": a JSON object CASE -> options. The bf16 directory holds the
gated model stored in BF16 and its greedy ids from transformers run in bfloat16
(greedy_bf16), with gap_bf16 [rows, steps]: the difference between the two largest
logits at each step of that run, to judge where BF16 rounding can flip the choice.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import T5Config, T5ForConditionalGeneration

torch.set_flush_denormal(True)
MAX_NEW = 10

CASES = {
    "greedy": {},
    "greedy_ngram2": {"no_repeat_ngram_size": 2},
    "beam2": {"num_beams": 2},
    "beam4": {"num_beams": 4},
    "beam4_lp06_ret2": {"num_beams": 4, "length_penalty": 0.6, "num_return_sequences": 2},
    "beam4_lp2_ret4_early": {"num_beams": 4, "length_penalty": 2.0, "num_return_sequences": 4,
                             "early_stopping": True},
    "beam3_lp0_ngram2": {"num_beams": 3, "length_penalty": 0.0, "no_repeat_ngram_size": 2},
}


def make_model(gated, tied, seed):
    cfg = T5Config(vocab_size=128, d_model=32, d_kv=8, num_heads=4, d_ff=48, num_layers=2, num_decoder_layers=2,
                   relative_attention_num_buckets=16, relative_attention_max_distance=20, dropout_rate=0.0,
                   feed_forward_proj="gated-gelu" if gated else "relu", tie_word_embeddings=tied,
                   decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(cfg).eval()
    with torch.no_grad():  # sharper output distributions than the initial ones, so beams differ
        if tied:
            model.decoder.final_layer_norm.weight.mul_(8.0)
        else:
            model.lm_head.weight.mul_(4.0)
    return cfg, model


def pick_eos(model, ids):
    """A token greedy decoding emits in some rows but not first: EOS then ends rows at
    different lengths."""
    with torch.no_grad():
        gen = model.generate(input_ids=ids, attention_mask=(ids != 0).long(), do_sample=False, num_beams=1,
                             max_new_tokens=MAX_NEW, eos_token_id=None)
    counts = torch.bincount(gen[:, 3:7].reshape(-1), minlength=model.config.vocab_size)
    counts[0] = 0
    assert counts.max() > 0, "the model emits only padding"
    return int(counts.argmax())


def inputs(seed, rows=4, length=10):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, 128, (rows, length), generator=g)
    for r, n in enumerate([10, 7, 4, 9][:rows]):
        ids[r, n:] = 0
    return ids


def generate(model, ids, opts):
    with torch.no_grad():
        return model.generate(input_ids=ids, attention_mask=(ids != 0).long(), do_sample=False,
                              max_new_tokens=MAX_NEW, **opts)


def write_dir(d, model, tensors, meta):
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    save_file({k: v.to(torch.float32).contiguous() for k, v in tensors.items()}, os.path.join(d, "expect.safetensors"),
              metadata=meta)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/decode"
    os.makedirs(out, exist_ok=True)
    for name, gated, tied, seed in [("gated", True, False, 11), ("relu_tied", False, True, 12)]:
        cfg, model = make_model(gated, tied, seed)
        ids = inputs(seed)
        eos = pick_eos(model, ids)
        model.config.eos_token_id = eos
        model.generation_config.eos_token_id = eos
        expect = {"input": ids}
        for case, opts in CASES.items():
            expect[case] = generate(model, ids, opts)
            print(f"{name} {case}: {expect[case].tolist()}")
        write_dir(os.path.join(out, name), model, expect, {"cases": json.dumps(CASES)})

        if name == "gated":  # the same model in BF16
            mb = model.to(torch.bfloat16)
            with torch.no_grad():
                res = mb.generate(input_ids=ids, attention_mask=(ids != 0).long(), do_sample=False,
                                  max_new_tokens=MAX_NEW, output_scores=True, return_dict_in_generate=True)
            gaps = torch.zeros(ids.shape[0], MAX_NEW)
            for t, s in enumerate(res.scores):
                top = torch.topk(s.float(), 2, dim=-1).values
                gaps[:, t] = top[:, 0] - top[:, 1]
            print(f"bf16 greedy: {res.sequences.tolist()}")
            write_dir(os.path.join(out, "bf16"), mb, {"input": ids, "greedy_bf16": res.sequences, "gap_bf16": gaps},
                      {"cases": json.dumps({"greedy_bf16": {}})})


if __name__ == "__main__":
    main()
