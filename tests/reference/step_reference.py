#!/usr/bin/env python3
"""Writes the training-step fixtures under tests/fixtures/step/ (run by fixtures-step.sh).

Three full training steps (forward, T0's loss, backward, optimizer update; every step on
the same batch, dropout 0) from the model fixtures of t5_reference.py:
  a_gated_untied  unpacked rows (T5 v1.1: gated-gelu, untied), 2 rows x 24/10
  c_packed        packed rows (segment ids, per-segment positions), 3 rows x 24/14
with transformers' Adafactor (T0's settings, Mesh TF's factoring rule at min_dim 32) and
torch's AdamW (lr 1e-4, weight decay 0.01). The forward is t5_reference.pure_t5, which
t5_reference.py checks against T5ForConditionalGeneration on unpacked input. Each file
holds, per parameter (HF names), the update after 3 steps minus before, and the loss of each
step in the metadata:
  <config>/adafactor_md32_s3_delta.safetensors
  <config>/adamw_s3_delta.safetensors
and the pretraining settings and a schedule (a_gated_untied only):
  adafactor_md32_relstep_s3   Adafactor(lr=None, relative_step=True): lr min(1e-2, 1/sqrt(step))
  adafactor_md32_noscale_s3   Adafactor(scale_parameter=False), lr 1e-3
  adamw_linear_w1_t4_s3       AdamW under get_linear_schedule_with_warmup(1 warmup, 4 steps):
                              lr 0, 1e-4, 2/3 of it
With --check-checkpoint DIR CONFIG: loads a checkpoint that t0-step wrote after 3 Adafactor
steps on CONFIG's batch with T5ForConditionalGeneration.from_pretrained and compares its
logits with those of the reference's own 3-step weights.
"""
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration
from transformers.optimization import Adafactor, get_linear_schedule_with_warmup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t5_reference import Z_LOSS, f32, hf_names, pure_t5, rel_err, t0_loss  # noqa: E402

torch.set_flush_denormal(True)
STEPS = 3
MIN_DIM = 32
ADAFACTOR_LR = 1e-3
ADAMW_LR, ADAMW_WD = 1e-4, 0.01


def load_fixture(model_dir):
    cfg = T5Config.from_pretrained(model_dir)
    sd = load_file(os.path.join(model_dir, "model.safetensors"))
    params = {n: sd[n].clone() for n in hf_names(cfg)}
    raw = load_file(os.path.join(model_dir, "batch.safetensors"))
    batch = {k: v.long() for k, v in raw.items()}
    rows, dec_len = batch["decoder_target_tokens"].shape
    return cfg, params, batch, float(rows * dec_len)


def make_optimizer(kind, ps, variant=""):
    """The optimizer and its schedule (None: constant lr)."""
    if kind == "adamw":
        opt = torch.optim.AdamW(list(ps.values()), lr=ADAMW_LR, weight_decay=ADAMW_WD)
        return opt, get_linear_schedule_with_warmup(opt, 1, 4) if variant == "linear_w1_t4" else None
    relative = variant == "relstep"
    return Adafactor(list(ps.values()), lr=None if relative else ADAFACTOR_LR, scale_parameter=variant != "noscale",
                     relative_step=relative, warmup_init=False, clip_threshold=1.0, decay_rate=-0.8, beta1=None,
                     weight_decay=0.0, eps=(1e-30, 1e-3)), None


def train(kind, cfg, params, batch, denominator, variant=""):
    """STEPS steps; returns the final parameters and the losses."""
    names = hf_names(cfg)
    ps = {}
    for n in names:
        p = params[n].detach().clone()
        # Mesh TF's rule: a matrix is factored only when its smaller side is >= MIN_DIM; HF
        # factors every matrix, so an unfactored one is given to it as a flat vector
        flat = kind == "adafactor" and p.dim() == 2 and min(p.shape) < MIN_DIM
        ps[n] = torch.nn.Parameter(p.reshape(-1) if flat else p)
    opt, schedule = make_optimizer(kind, ps, variant)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        view = {n: ps[n].reshape(params[n].shape) for n in names}
        _, logits = pure_t5(view, cfg, batch)
        loss, _, _ = t0_loss(logits, batch["decoder_target_tokens"], batch["decoder_loss_weights"].float(),
                             denominator, Z_LOSS)
        loss.backward()
        opt.step()
        if schedule:
            schedule.step()
        losses.append(loss.item())
    return {n: ps[n].detach().reshape(params[n].shape) for n in names}, losses


def write(out, fixtures):
    for name in ("a_gated_untied", "c_packed"):
        cfg, params, batch, den = load_fixture(os.path.join(fixtures, name))
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for kind, tag in (("adafactor", f"adafactor_md{MIN_DIM}_s{STEPS}"), ("adamw", f"adamw_s{STEPS}")):
            after, losses = train(kind, cfg, params, batch, den)
            delta = {n: after[n] - params[n] for n in after}
            meta = {"steps": str(STEPS), "denominator": str(den), "z_loss": str(Z_LOSS),
                    "losses": " ".join(repr(x) for x in losses)}
            meta.update({"min_dim": str(MIN_DIM), "lr": str(ADAFACTOR_LR)} if kind == "adafactor" else
                        {"lr": str(ADAMW_LR), "weight_decay": str(ADAMW_WD)})
            save_file(f32(delta), os.path.join(d, tag + "_delta.safetensors"), metadata=meta)
            print(f"{name} {kind}: losses {' '.join(f'{x:.6f}' for x in losses)}")
        if name != "a_gated_untied":
            continue
        for kind, variant in (("adafactor", "relstep"), ("adafactor", "noscale"), ("adamw", "linear_w1_t4")):
            after, losses = train(kind, cfg, params, batch, den, variant)
            delta = {n: after[n] - params[n] for n in after}
            meta = {"steps": str(STEPS), "variant": variant, "losses": " ".join(repr(x) for x in losses)}
            tag = f"adafactor_md{MIN_DIM}_{variant}_s{STEPS}" if kind == "adafactor" else f"adamw_{variant}_s{STEPS}"
            save_file(f32(delta), os.path.join(d, tag + "_delta.safetensors"), metadata=meta)
            print(f"{name} {kind} {variant}: losses {' '.join(f'{x:.6f}' for x in losses)}")


def check_checkpoint(ckpt, fixtures, name):
    cfg, params, batch, den = load_fixture(os.path.join(fixtures, name))
    ref, _ = train("adafactor", cfg, params, batch, den)
    model = T5ForConditionalGeneration.from_pretrained(ckpt)
    model.eval()
    with torch.no_grad():
        # unpacked rows: transformers runs them as they are
        out = model(input_ids=batch["encoder_input_tokens"], attention_mask=batch["encoder_segment_ids"],
                    decoder_input_ids=batch["decoder_input_tokens"]).logits
        _, want = pure_t5(ref, cfg, batch)
    keep = batch["decoder_segment_ids"].bool()
    e = rel_err(out[keep], want[keep])
    ew = max(rel_err(model.get_parameter(n).detach(), ref[n]) for n in ref)
    print(f"{ckpt}: from_pretrained loads it; logits vs the reference's 3 steps: relative error {e:.2e} "
          f"(weights {ew:.2e})")
    assert e < 1e-4, "the checkpoint's logits differ from the reference"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check-checkpoint":
        check_checkpoint(sys.argv[2], "tests/fixtures/model", sys.argv[3])
        return
    write(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/step", "tests/fixtures/model")


if __name__ == "__main__":
    main()
