#!/usr/bin/env python3
"""Reference checks for model I/O against Python's safetensors and transformers.

  check_io.py fixtures OUTDIR   write tests/fixtures/st/: safetensors files written by Python
                                (F32, F16, BF16; a tiny T5 saved sharded by save_pretrained), each
                                beside NAME.f32, the float32 values of its tensors in sorted-name
                                order, which test_safetensors.c compares against.
  check_io.py load DIR...       DIR was written by t0-init: transformers loads it, every tensor
                                equals the file's, config values agree, a forward pass is finite,
                                and each tensor's std matches transformers' own initialisation.
Used by tests/reference/fixtures-modelio.sh and by hand; make test does not run it.
"""
import json
import os
import sys

import numpy as np


def raw_f32(tensors, path):
    with open(path, "wb") as f:
        for name in sorted(tensors):
            f.write(np.ascontiguousarray(tensors[name], dtype="<f4").tobytes())


def values(rng, shape, special):
    v = rng.standard_normal(shape).astype(np.float32)
    if special:
        flat = v.reshape(-1)
        extras = [0.0, -0.0, 1.0, -2.5, 65504.0, 1e-5, 6e-8, -3e-6, 1.00390625, 1.01171875,
                  np.inf, -np.inf, 3.0e38]
        flat[: len(extras)] = extras
    return v


def fixtures(outdir):
    import torch
    from safetensors.numpy import save_file as save_np
    from safetensors.torch import save_file as save_pt

    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(20240601)
    shapes = {"a.weight": (7, 5), "b.bias": (11,), "c.scalar": (), "d.empty": (0, 3),
              "encoder.embed_tokens.weight": (16, 8)}
    base = {k: values(rng, s, k == "a.weight") for k, s in shapes.items()}

    save_np(base, f"{outdir}/f32.safetensors", metadata={"format": "np"})
    raw_f32(base, f"{outdir}/f32.safetensors.f32")

    with np.errstate(over="ignore"):  # 3e38 becomes inf in F16, on purpose
        f16 = {k: v.astype(np.float16) for k, v in base.items()}
    save_np(f16, f"{outdir}/f16.safetensors")
    raw_f32({k: v.astype(np.float32) for k, v in f16.items()}, f"{outdir}/f16.safetensors.f32")

    bf16 = {k: torch.from_numpy(v.copy()).to(torch.bfloat16) for k, v in base.items()}
    save_pt(bf16, f"{outdir}/bf16.safetensors", metadata={"format": "pt"})
    raw_f32({k: v.float().numpy() for k, v in bf16.items()}, f"{outdir}/bf16.safetensors.f32")

    # A real transformers checkpoint, saved in several shards by save_pretrained.
    from transformers import T5Config, T5ForConditionalGeneration
    torch.manual_seed(7)
    cfg = T5Config(vocab_size=32, d_model=8, d_kv=4, d_ff=16, num_heads=2, num_layers=1,
                   num_decoder_layers=1, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                   decoder_start_token_id=0)
    model = T5ForConditionalGeneration(cfg)
    with torch.no_grad():  # transformers 5 builds T5 tied; give lm_head values of its own
        model.lm_head.weight = torch.nn.Parameter(torch.randn(32, 8))
    model.config.tie_word_embeddings = False
    model.save_pretrained(f"{outdir}/sharded", max_shard_size="2KB", safe_serialization=True)
    names = os.listdir(f"{outdir}/sharded")
    assert "model.safetensors.index.json" in names, names
    from safetensors.torch import load_file
    sd = {}
    for n in names:
        if n.endswith(".safetensors"):
            sd.update({k: v.float().numpy() for k, v in load_file(f"{outdir}/sharded/{n}").items()})
    raw_f32(sd, f"{outdir}/sharded.f32")
    print(f"fixtures: {len(sd)} tensors in {sum(n.endswith('.safetensors') for n in names)} shards")


def init_std(name, cfg):
    """transformers' T5PreTrainedModel._init_weights, per tensor name."""
    f = cfg.initializer_factor
    if name.endswith("layer_norm.weight"):
        return None
    if name in ("shared.weight", "lm_head.weight"):
        return f * 1.0
    if "relative_attention_bias" in name:
        return f * cfg.d_model ** -0.5
    if ".q.weight" in name:
        return f * (cfg.d_model * cfg.d_kv) ** -0.5
    if ".k.weight" in name or ".v.weight" in name:
        return f * cfg.d_model ** -0.5
    if ".o.weight" in name:
        return f * (cfg.num_heads * cfg.d_kv) ** -0.5
    if ".wi" in name:
        return f * cfg.d_model ** -0.5
    if ".wo." in name:
        return f * cfg.d_ff ** -0.5
    raise ValueError(name)


def load(d):
    import torch
    from safetensors import safe_open
    from transformers import T5ForConditionalGeneration

    raw = json.load(open(f"{d}/config.json"))
    model = T5ForConditionalGeneration.from_pretrained(d)
    cfg = model.config
    for k in ("vocab_size", "d_model", "d_kv", "d_ff", "num_heads", "num_layers", "num_decoder_layers",
              "relative_attention_num_buckets", "relative_attention_max_distance", "feed_forward_proj",
              "dense_act_fn", "is_gated_act", "layer_norm_epsilon", "dropout_rate", "initializer_factor",
              "pad_token_id", "eos_token_id", "decoder_start_token_id"):
        assert getattr(cfg, k) == raw[k], (k, getattr(cfg, k), raw[k])
    untied = raw["tie_word_embeddings"] is False
    # 4.x: tie flag itself; 5.x: forced true, rescale kept in scale_decoder_outputs
    assert getattr(cfg, "scale_decoder_outputs", cfg.tie_word_embeddings) == (not untied)

    sd = model.state_dict()
    bad, stds = [], []
    with safe_open(f"{d}/model.safetensors", "pt") as f:
        keys = set(f.keys())
        for k in keys:
            t = f.get_tensor(k).float()
            if not torch.equal(sd[k].float(), t):
                bad.append(k)
            want = init_std(k, cfg)
            if want is None:
                assert torch.all(t == 1.0), k
            else:
                n = t.numel()
                got = t.std().item()
                # sample std of n normals: relative error ~ 1/sqrt(2n); allow 6 sigma (+bf16 rounding)
                tol = 6 / (2 * n) ** 0.5 + 0.01
                stds.append((k, got / want))
                assert abs(got / want - 1) < tol, (k, got, want)
                assert abs(t.mean().item()) < 6 * want / n ** 0.5 + 1e-3, (k, t.mean().item())
    assert not bad, bad
    assert untied == ("lm_head.weight" in keys)
    if untied:
        assert not torch.equal(model.lm_head.weight, model.shared.weight)
    # transformers' own initialisation of the same config gives the same std per tensor
    ref = T5ForConditionalGeneration(cfg).state_dict()
    for k, ratio in stds:
        if k in ref and "layer_norm" not in k and ref[k].numel() > 1000:
            r = ref[k].float().std().item() / init_std(k, cfg)
            assert abs(r - 1) < 0.1, (k, r)
    ids = torch.tensor([[5, 6, 7, 1]])
    out = model(input_ids=ids, labels=torch.tensor([[8, 9, 1]]))
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.loss)
    print(f"load {d}: OK, {len(keys)} tensors equal, dtype {next(iter(sd.values())).dtype}, "
          f"std ratios {min(r for _, r in stds):.3f}..{max(r for _, r in stds):.3f}, loss {out.loss.item():.3f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "load":
        for d in sys.argv[2:]:
            load(d)
    else:
        sys.exit(__doc__)
