#!/usr/bin/env python3
"""Writes the T5 model-math fixtures under tests/fixtures/model/ (run by fixtures-model.sh).

Reference: Hugging Face transformers' T5ForConditionalGeneration and Adafactor, torch's
AdamW. What transformers lacks is written here in plain PyTorch and first checked
against transformers on unpacked input:
  - packed rows (segment ids, per-segment positions) -> `pure_t5`, a small T5 of our own;
  - the loss as T0 trained it (Mesh TF): sum over weighted target tokens of
    cross-entropy + z_loss * logsumexp^2, divided by a denominator the caller gives;
  - Mesh TF's Adafactor factoring rule (factor a matrix only when its smaller side is
    >= min_dim_size_to_factor); min_dim 0 factors every matrix, which is HF's rule.

Each config directory holds config.json, model.safetensors (parameters, HF names) and:
  batch.safetensors   the packed-batch features (as F32, small integers are exact)
  expect.safetensors  enc_out, logits, loss, ce_loss, z_loss (and greedy ids when unpacked)
  grads.safetensors   d loss / d parameter for every parameter (HF names)
  adafactor_md{N}_s{k}.safetensors  parameters after k Adafactor steps over the fixed
                      gradient of grads.safetensors (min_dim N; lr 1e-3)
  adamw_s1.safetensors parameters after one AdamW step (lr 1e-4, weight decay 0.01)
buckets.safetensors: HF's _relative_position_bucket over -300..300 for several settings.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import T5Config, T5ForConditionalGeneration
from transformers.models.t5.modeling_t5 import T5Attention
from transformers.optimization import Adafactor

torch.set_flush_denormal(True)
Z_LOSS = 1e-4
ADAFACTOR_LR = 1e-3
ADAMW_LR, ADAMW_WD = 1e-4, 0.01


# ---------------------------------------------------------------- loss (Mesh TF)
def t0_loss(logits, targets, weights, denominator, z_loss=Z_LOSS):
    """Mesh TF softmax_cross_entropy_with_logits(z_loss) summed under weights / denominator."""
    lse = torch.logsumexp(logits, dim=-1)
    logit_t = torch.gather(logits, -1, targets.unsqueeze(-1)).squeeze(-1)
    ce = ((lse - logit_t) * weights).sum() / denominator
    zl = (z_loss * lse.square() * weights).sum() / denominator
    return ce + zl, ce, zl


# ---------------------------------------------------------------- pure T5 with packing
def bucket(rel, bidirectional, num_buckets, max_distance):
    return T5Attention._relative_position_bucket(rel, bidirectional=bidirectional, num_buckets=num_buckets,
                                                 max_distance=max_distance)


def rmsnorm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def attention(p, prefix, cfg, x_q, x_kv, allow, bias):
    """x_q [B,Tq,D], x_kv [B,Tk,D], allow [B,Tq,Tk] bool, bias [B,H,Tq,Tk] or None."""
    B, Tq, _ = x_q.shape
    Tk = x_kv.shape[1]
    H, dk = cfg.num_heads, cfg.d_kv
    q = (x_q @ p[prefix + ".q.weight"].T).view(B, Tq, H, dk).transpose(1, 2)
    k = (x_kv @ p[prefix + ".k.weight"].T).view(B, Tk, H, dk).transpose(1, 2)
    v = (x_kv @ p[prefix + ".v.weight"].T).view(B, Tk, H, dk).transpose(1, 2)
    s = q @ k.transpose(-1, -2)  # no 1/sqrt(d) in T5
    if bias is not None:
        s = s + bias
    a = allow.unsqueeze(1)
    s = s.masked_fill(~a, torch.finfo(s.dtype).min)
    pr = torch.softmax(s, dim=-1) * a  # a fully masked row attends to nothing
    o = (pr @ v).transpose(1, 2).reshape(B, Tq, H * dk)
    return o @ p[prefix + ".o.weight"].T


def ff(p, prefix, cfg, x):
    if cfg.is_gated_act:
        a = x @ p[prefix + ".wi_0.weight"].T
        a = torch.nn.functional.gelu(a, approximate="tanh") if cfg.dense_act_fn == "gelu_new" else torch.relu(a)
        h = a * (x @ p[prefix + ".wi_1.weight"].T)
    else:
        a = x @ p[prefix + ".wi.weight"].T
        h = torch.relu(a) if cfg.dense_act_fn == "relu" else torch.nn.functional.gelu(a, approximate="tanh")
    return h @ p[prefix + ".wo.weight"].T


def rel_bias(p, name, cfg, pos_q, pos_k, bidirectional):
    rel = pos_k.unsqueeze(1) - pos_q.unsqueeze(2)  # [B,Tq,Tk] memory - context
    b = bucket(rel, bidirectional, cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance)
    return p[name][b].permute(0, 3, 1, 2)  # [B,H,Tq,Tk]


def pure_t5(p, cfg, batch):
    """Forward over seqio's packed features; returns (enc_out, logits)."""
    eps = cfg.layer_norm_epsilon
    emb = p["shared.weight"]
    es, ep = batch["encoder_segment_ids"], batch["encoder_positions"]
    ds, dp = batch["decoder_segment_ids"], batch["decoder_positions"]
    Td = ds.shape[1]
    enc_allow = (es.unsqueeze(2) == es.unsqueeze(1)) & (es.unsqueeze(1) != 0)
    causal = torch.tril(torch.ones(Td, Td, dtype=torch.bool))
    dec_allow = (ds.unsqueeze(2) == ds.unsqueeze(1)) & (ds.unsqueeze(1) != 0) & causal
    cross_allow = (ds.unsqueeze(2) == es.unsqueeze(1)) & (es.unsqueeze(1) != 0)

    h = emb[batch["encoder_input_tokens"]]
    bias = rel_bias(p, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", cfg, ep, ep, True)
    for i in range(cfg.num_layers):
        b = f"encoder.block.{i}."
        n = rmsnorm(h, p[b + "layer.0.layer_norm.weight"], eps)
        h = h + attention(p, b + "layer.0.SelfAttention", cfg, n, n, enc_allow, bias)
        h = h + ff(p, b + "layer.1.DenseReluDense", cfg, rmsnorm(h, p[b + "layer.1.layer_norm.weight"], eps))
    enc = rmsnorm(h, p["encoder.final_layer_norm.weight"], eps)

    h = emb[batch["decoder_input_tokens"]]
    bias = rel_bias(p, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", cfg, dp, dp, False)
    for i in range(cfg.num_decoder_layers):
        b = f"decoder.block.{i}."
        n = rmsnorm(h, p[b + "layer.0.layer_norm.weight"], eps)
        h = h + attention(p, b + "layer.0.SelfAttention", cfg, n, n, dec_allow, bias)
        n = rmsnorm(h, p[b + "layer.1.layer_norm.weight"], eps)
        h = h + attention(p, b + "layer.1.EncDecAttention", cfg, n, enc, cross_allow, None)
        h = h + ff(p, b + "layer.2.DenseReluDense", cfg, rmsnorm(h, p[b + "layer.2.layer_norm.weight"], eps))
    out = rmsnorm(h, p["decoder.final_layer_norm.weight"], eps)
    if cfg.tie_word_embeddings:
        return enc, (out * cfg.d_model ** -0.5) @ emb.T
    return enc, out @ p["lm_head.weight"].T


# ---------------------------------------------------------------- helpers
def hf_names(cfg):
    """Parameter names in the order t5_tensor_specs gives them (for readability only)."""
    names = ["shared.weight"]
    ffw = ["wi_0", "wi_1", "wo"] if cfg.is_gated_act else ["wi", "wo"]
    for i in range(cfg.num_layers):
        b = f"encoder.block.{i}.layer."
        names += [b + f"0.SelfAttention.{m}.weight" for m in "qkvo"]
        if i == 0:
            names.append(b + "0.SelfAttention.relative_attention_bias.weight")
        names += [b + "0.layer_norm.weight"] + [b + f"1.DenseReluDense.{m}.weight" for m in ffw]
        names += [b + "1.layer_norm.weight"]
    names.append("encoder.final_layer_norm.weight")
    for i in range(cfg.num_decoder_layers):
        b = f"decoder.block.{i}.layer."
        names += [b + f"0.SelfAttention.{m}.weight" for m in "qkvo"]
        if i == 0:
            names.append(b + "0.SelfAttention.relative_attention_bias.weight")
        names += [b + "0.layer_norm.weight"]
        names += [b + f"1.EncDecAttention.{m}.weight" for m in "qkvo"] + [b + "1.layer_norm.weight"]
        names += [b + f"2.DenseReluDense.{m}.weight" for m in ffw] + [b + "2.layer_norm.weight"]
    names.append("decoder.final_layer_norm.weight")
    if not cfg.tie_word_embeddings:
        names.append("lm_head.weight")
    return names


def unpacked_batch(enc_tokens, dec_targets):
    """seqio features of an unpacked batch: segment 1 on tokens, 0 on padding."""
    enc_seg = (enc_tokens != 0).long()
    dec_seg = (dec_targets != 0).long()
    dec_in = torch.zeros_like(dec_targets)
    dec_in[:, 1:] = dec_targets[:, :-1]
    T, S = enc_tokens.shape[1], dec_targets.shape[1]
    return {
        "encoder_input_tokens": enc_tokens, "encoder_segment_ids": enc_seg,
        "encoder_positions": torch.arange(T).expand_as(enc_tokens) * enc_seg,
        "decoder_target_tokens": dec_targets, "decoder_input_tokens": dec_in * dec_seg,
        "decoder_segment_ids": dec_seg, "decoder_positions": torch.arange(S).expand_as(dec_targets) * dec_seg,
        "decoder_loss_weights": dec_seg.clone(),
    }


def pack(rows, enc_len, dec_len):
    """rows: list of lists of (input ids, target ids); returns seqio's packed features."""
    f = {k: torch.zeros(len(rows), n, dtype=torch.long) for k, n in [
        ("encoder_input_tokens", enc_len), ("encoder_segment_ids", enc_len), ("encoder_positions", enc_len),
        ("decoder_target_tokens", dec_len), ("decoder_input_tokens", dec_len), ("decoder_segment_ids", dec_len),
        ("decoder_positions", dec_len), ("decoder_loss_weights", dec_len)]}
    for r, exs in enumerate(rows):
        ei = di = 0
        for s, (inp, tgt) in enumerate(exs, start=1):
            n, m = len(inp), len(tgt)
            f["encoder_input_tokens"][r, ei:ei + n] = torch.tensor(inp)
            f["encoder_segment_ids"][r, ei:ei + n] = s
            f["encoder_positions"][r, ei:ei + n] = torch.arange(n)
            f["decoder_target_tokens"][r, di:di + m] = torch.tensor(tgt)
            f["decoder_input_tokens"][r, di + 1:di + m] = torch.tensor(tgt[:-1])
            f["decoder_segment_ids"][r, di:di + m] = s
            f["decoder_positions"][r, di:di + m] = torch.arange(m)
            f["decoder_loss_weights"][r, di:di + m] = 1
            ei, di = ei + n, di + m
        assert ei <= enc_len and di <= dec_len
    return f


def rel_err(a, b):
    return ((a - b).abs().max() / max(b.abs().max().item(), 1e-30)).item()


def adafactor_steps(params, grads, names, min_dim, steps, start_step=0):
    """HF Adafactor (T0's settings) over the fixed gradients; Mesh TF's factoring rule for
    min_dim > 0 is applied by giving unfactored matrices to HF as flattened 1-D views
    (HF factors every tensor with ndim >= 2 and never a vector)."""
    ps = {}
    for n in names:
        p = params[n].detach().clone()
        factored = p.dim() == 2 and min(p.shape) >= min_dim
        ps[n] = torch.nn.Parameter(p if factored or p.dim() == 1 else p.reshape(-1))
    opt = Adafactor(list(ps.values()), lr=ADAFACTOR_LR, scale_parameter=True, relative_step=False,
                    warmup_init=False, clip_threshold=1.0, decay_rate=-0.8, beta1=None, weight_decay=0.0,
                    eps=(1e-30, 1e-3))
    if start_step:
        for n, p in ps.items():  # resume as T0 did: HF step = our t + 1
            st = opt.state[p]
            st["step"] = start_step
            if p.dim() == 2:
                st["exp_avg_sq_row"] = torch.zeros(p.shape[0])
                st["exp_avg_sq_col"] = torch.zeros(p.shape[1])
            else:
                st["exp_avg_sq"] = torch.zeros_like(p)
            st["RMS"] = 0
    for _ in range(steps):
        for n, p in ps.items():
            p.grad = grads[n].reshape(p.shape).clone()
        opt.step()
    return {n: ps[n].detach().reshape(params[n].shape).contiguous() for n in names}


def adamw_step(params, grads, names):
    ps = {n: torch.nn.Parameter(params[n].detach().clone()) for n in names}
    opt = torch.optim.AdamW(list(ps.values()), lr=ADAMW_LR, weight_decay=ADAMW_WD)
    for n, p in ps.items():
        p.grad = grads[n].clone()
    opt.step()
    return {n: ps[n].detach().contiguous() for n in names}


def f32(d):
    return {k: v.detach().to(torch.float32).contiguous() for k, v in d.items()}


# ---------------------------------------------------------------- one fixture config
def write_config(out, name, hf_cfg, batch, denominator, adafactor_runs, gen_inputs=None, shared_alias=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(1234)
    model = T5ForConditionalGeneration(hf_cfg)
    model.train()  # dropout_rate is 0: train mode only turns on autograd paths
    names = hf_names(hf_cfg)
    sd = model.state_dict()
    params = {n: sd[n].detach().clone() for n in names}
    # random norm weights so RMSNorm's weight is exercised (HF initializes them to 1)
    g = torch.Generator().manual_seed(99)
    for n in names:
        if n.endswith("layer_norm.weight"):
            params[n] = 1.0 + 0.2 * torch.randn(params[n].shape, generator=g)
    model.load_state_dict(params, strict=False)
    with torch.no_grad():
        for n in names:
            if n.endswith("layer_norm.weight"):
                model.get_parameter(n).copy_(params[n])

    b = batch
    # our pure T5 against transformers where transformers can run it (unpacked)
    leaves = {n: params[n].clone().requires_grad_(True) for n in names}
    enc, logits = pure_t5(leaves, hf_cfg, b)
    loss, ce, zl = t0_loss(logits, b["decoder_target_tokens"], b["decoder_loss_weights"].float(), denominator)
    loss.backward()
    grads = {n: leaves[n].grad.detach().clone() for n in names}
    packed = bool((b["encoder_segment_ids"] > 1).any() or (b["decoder_segment_ids"] > 1).any())
    if not packed:
        model.zero_grad()
        out = model(input_ids=b["encoder_input_tokens"], attention_mask=b["encoder_segment_ids"],
                    decoder_input_ids=b["decoder_input_tokens"], decoder_attention_mask=None)
        hf_loss, _, _ = t0_loss(out.logits, b["decoder_target_tokens"], b["decoder_loss_weights"].float(),
                                denominator)
        hf_loss.backward()
        keep = b["decoder_segment_ids"].bool()
        e1 = rel_err(logits[keep], out.logits[keep])
        ekeep = b["encoder_segment_ids"].bool()
        e2 = rel_err(enc[ekeep], out.encoder_last_hidden_state[ekeep])
        eg = max(rel_err(grads[n], model.get_parameter(n).grad) for n in names)
        print(f"{name}: pure vs HF: logits {e1:.2e} enc {e2:.2e} grads {eg:.2e}")
        assert e1 < 1e-5 and e2 < 1e-5 and eg < 1e-4, "pure T5 differs from transformers"

    cfg_json = hf_cfg.to_dict()
    with open(os.path.join(d, "config.json"), "w") as fh:
        json.dump({k: cfg_json[k] for k in sorted(cfg_json) if not k.startswith("_")}, fh, indent=2)
    stored = dict(params)
    if shared_alias:
        stored[shared_alias] = stored.pop("shared.weight")
    save_file(f32(stored), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    save_file(f32(b), os.path.join(d, "batch.safetensors"),
              metadata={"denominator": str(denominator), "z_loss": str(Z_LOSS)})
    expect = {"enc_out": enc, "logits": logits, "loss": loss.reshape(1), "ce_loss": ce.reshape(1),
              "z_loss": zl.reshape(1)}
    if gen_inputs is not None:
        ids, max_len = gen_inputs
        model.eval()
        with torch.no_grad():
            gen = model.generate(input_ids=ids, attention_mask=(ids != 0).long(), do_sample=False, num_beams=1,
                                 max_length=max_len)
        expect["gen_input"] = ids
        expect["gen_ids"] = gen
        print(f"{name}: greedy ids {gen.tolist()}")
    save_file(f32(expect), os.path.join(d, "expect.safetensors"))
    save_file(f32(grads), os.path.join(d, "grads.safetensors"))
    for md, steps, start in adafactor_runs:
        after = adafactor_steps(params, grads, names, md, steps, start)
        tag = f"adafactor_md{md}_s{steps}" + (f"_from{start}" if start else "")
        save_file(f32(after), os.path.join(d, tag + ".safetensors"),
                  metadata={"min_dim": str(md), "steps": str(steps), "start_step": str(start)})
    save_file(f32(adamw_step(params, grads, names)), os.path.join(d, "adamw_s1.safetensors"))


def write_buckets(out):
    rel = torch.arange(-300, 301)
    t = {}
    for nb, md in [(32, 128), (16, 20), (8, 8), (32, 20), (64, 256), (10, 50)]:
        for bidir in (True, False):
            t[f"nb{nb}_md{md}_{'bi' if bidir else 'uni'}"] = bucket(rel, bidir, nb, md)
    save_file(f32(t), os.path.join(out, "buckets.safetensors"), metadata={"rel_from": "-300", "rel_to": "300"})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/model"
    os.makedirs(out, exist_ok=True)
    write_buckets(out)
    torch.manual_seed(7)
    base = dict(vocab_size=96, d_model=32, d_kv=8, num_heads=4, d_ff=48, num_layers=2,
                relative_attention_num_buckets=16, relative_attention_max_distance=20, dropout_rate=0.0,
                layer_norm_epsilon=1e-6, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)

    # (a) T5 v1.1: gated-gelu, untied; no padding
    # eos_token_id 11: a token this random model emits, so greedy decoding stops early in one row
    cfg_a = T5Config(**dict(base, eos_token_id=11), feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    enc = torch.randint(2, 96, (2, 24))
    tgt = torch.randint(2, 96, (2, 10))
    gen_in = torch.randint(2, 96, (3, 12))
    gen_in[1, 9:] = 0  # padded rows in generation
    gen_in[2, 5:] = 0
    write_config(out, "a_gated_untied", cfg_a, unpacked_batch(enc, tgt), 2 * 10,
                 [(128, 1, 0), (128, 3, 0), (0, 1, 0), (0, 3, 0), (32, 3, 0), (32, 1, 1100001)],
                 gen_inputs=(gen_in, 14))

    # (b) original T5: relu, tied (d_model**-0.5 on the output); padded rows; embedding stored
    #     under decoder.embed_tokens.weight (the alias rule)
    cfg_b = T5Config(**dict(base, d_ff=64, num_heads=2, d_kv=16), feed_forward_proj="relu", tie_word_embeddings=True)
    enc = torch.randint(2, 96, (3, 20))
    enc[1, 14:] = 0
    enc[2, 6:] = 0
    tgt = torch.randint(2, 96, (3, 9))
    tgt[0, 8] = 1
    tgt[1, 5:] = 0
    tgt[1, 4] = 1
    write_config(out, "b_relu_tied", cfg_b, unpacked_batch(enc, tgt), 3 * 9, [(0, 1, 0), (32, 1, 0)],
                 gen_inputs=(gen_in, 10), shared_alias="decoder.embed_tokens.weight")

    # (c) packed rows with padding; 2 encoder layers, 1 decoder layer, gated-gelu, untied
    cfg_c = T5Config(**dict(base, num_decoder_layers=1, relative_attention_max_distance=12),
                     feed_forward_proj="gated-gelu", tie_word_embeddings=False)

    def ex(n, m):
        return torch.randint(2, 96, (n,)).tolist(), torch.randint(2, 96, (m - 1,)).tolist() + [1]
    rows = [[ex(7, 4), ex(9, 5), ex(5, 3)], [ex(20, 8), ex(4, 2)], [ex(3, 3)]]
    write_config(out, "c_packed", cfg_c, pack(rows, 24, 14), 3 * 14, [(32, 3, 0), (0, 1, 0)])


if __name__ == "__main__":
    main()
