"""Loads a model directory that t0-init wrote with Hugging Face transformers'
T5ForConditionalGeneration.from_pretrained, runs a fixed batch through it in eval mode and
writes the inputs and the logits (tests/unit/test_t0_init_hf.c compares the C model's).

usage: t0init_logits.py MODEL_DIR OUT.safetensors
"""
import sys

import torch
from safetensors.torch import save_file
from transformers import T5ForConditionalGeneration


def fixed_batch(vocab, rows=2, enc_len=7, dec_len=5):
    """Deterministic token ids, with padding in the second row, as the C test rebuilds them."""
    enc = torch.tensor([[(3 + 17 * r + 29 * i) % (vocab - 3) + 3 for i in range(enc_len)] for r in range(rows)])
    dec = torch.tensor([[0] + [(5 + 13 * r + 31 * i) % (vocab - 3) + 3 for i in range(dec_len - 1)]
                        for r in range(rows)])
    mask = torch.ones(rows, enc_len, dtype=torch.long)
    mask[1, enc_len - 2:] = 0
    enc[1, enc_len - 2:] = 0
    return enc, dec, mask


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    model = T5ForConditionalGeneration.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    enc, dec, mask = fixed_batch(model.config.vocab_size)
    with torch.no_grad():
        logits = model(input_ids=enc, attention_mask=mask, decoder_input_ids=dec).logits
    save_file({"encoder_input_tokens": enc.float().contiguous(), "decoder_input_tokens": dec.float().contiguous(),
               "encoder_mask": mask.float().contiguous(), "logits": logits.float().contiguous()}, out)


if __name__ == "__main__":
    main()
