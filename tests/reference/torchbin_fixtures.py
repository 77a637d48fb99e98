#!/usr/bin/env python3
"""PyTorch checkpoints (pytorch_model.bin) for the .bin loader's tests (lib/t5/torch_bin.h).

  torchbin_fixtures.py fixtures OUTDIR
      OUTDIR/NAME/            a tiny T5 saved by transformers' save_pretrained(safe_serialization=False):
                              config.json and pytorch_model.bin, or pytorch_model-*.bin with
                              pytorch_model.bin.index.json (max_shard_size small)
      OUTDIR/NAME.safetensors the same model saved with safe_serialization=True (its model.safetensors)
      OUTDIR/views.bin        torch.save of a state dict of views: transposed (not contiguous), narrowed
                              (a storage offset), a strided column, F16/BF16 ones, empty, 0-dim;
      OUTDIR/views.json       each tensor's shape and values (as float32), for test_torch_bin.c
      OUTDIR/views_unaligned.bin  views.bin re-zipped by Python's zipfile: storages not aligned
      OUTDIR/hostile/*.bin    torch.save-shaped archives with hostile or broken pickles and storages;
      OUTDIR/hostile/expect.tsv  file, then a piece of the one error line each must give
  torchbin_fixtures.py check-checkpoint DIR REFDIR
      DIR (t0-step's checkpoint, trained from a .bin model) loads in transformers, its tensors equal
      DIR's model.safetensors, and it differs from REFDIR (the .bin it started from): it trained.
Used by tests/reference/fixtures-torchbin.sh; make test does not run it.
"""
import io
import json
import os
import shutil
import struct
import sys
import zipfile
from collections import OrderedDict

MODELS = [
    # name, dtype, feed_forward_proj, tied, max_shard_size (None: one file)
    ("f32_untied", "float32", "gated-gelu", False, None),
    ("f32_tied_sharded", "float32", "relu", True, "6KB"),
    ("f16_tied", "float16", "relu", True, None),
    ("bf16_untied_sharded", "bfloat16", "gated-gelu", False, "6KB"),
    ("bf16_tied", "bfloat16", "gated-gelu", True, None),
]


def save_models(out):
    import torch
    from transformers import T5Config, T5ForConditionalGeneration
    for i, (name, dtype, ff, tied, shard) in enumerate(MODELS):
        torch.manual_seed(100 + i)
        cfg = T5Config(vocab_size=128, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=2,
                       num_decoder_layers=1, feed_forward_proj=ff, tie_word_embeddings=tied,
                       decoder_start_token_id=0, eos_token_id=1, pad_token_id=0)
        model = T5ForConditionalGeneration(cfg)
        with torch.no_grad():  # values of every scale, layer norms not all 1
            for p in model.parameters():
                p.copy_(torch.randn_like(p) * 0.3)
        model = model.to(getattr(torch, dtype))
        if name == "f32_untied":
            # a weight that is a transposed view: torch.save keeps its strides (not contiguous)
            w = model.encoder.block[0].layer[1].DenseReluDense.wo.weight
            w.data = w.data.t().contiguous().t()
            assert not w.is_contiguous()
        kw = {"max_shard_size": shard} if shard else {}
        model.save_pretrained(f"{out}/{name}", safe_serialization=False, **kw)
        os.remove(f"{out}/{name}/generation_config.json")
        files = sorted(os.listdir(f"{out}/{name}"))
        assert ("pytorch_model.bin.index.json" in files) == bool(shard), files
        for p in model.parameters():  # safetensors wants contiguous tensors: the same values
            p.data = p.data.contiguous()
        tmp = f"{out}/{name}.tmp"
        model.save_pretrained(tmp, safe_serialization=True)
        shutil.move(f"{tmp}/model.safetensors", f"{out}/{name}.safetensors")
        shutil.rmtree(tmp)
        print(f"{name}: {', '.join(files)}")


def save_views(out):
    import torch
    torch.manual_seed(5)
    x = torch.randn(4, 6)
    h = torch.randn(3, 5).half()
    b = torch.randn(5, 2).bfloat16()
    sd = OrderedDict()
    sd["x"] = x
    sd["x_t"] = x.t()                      # not contiguous: copied
    sd["x_rows"] = x[1:3]                  # contiguous, storage offset 6
    sd["x_col"] = x[:, 2]                  # stride 6
    sd["x_block"] = x[1:, 2:5]             # offset and strides
    sd["h_t"] = h.t()
    sd["b"] = b
    sd["b_last"] = b[4]
    sd["empty"] = torch.zeros(0, 3)
    sd["scalar"] = torch.tensor(2.5)
    sd["perm3"] = torch.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
    torch.save(sd, f"{out}/views.bin")
    ref = {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
               "values": v.float().reshape(-1).tolist()} for k, v in sd.items()}
    with open(f"{out}/views.json", "w") as f:
        json.dump(ref, f)
    # the loader's expectations hold for torch too
    back = torch.load(f"{out}/views.bin")
    assert all(torch.equal(back[k], v) for k, v in sd.items())
    # the same archive re-zipped by Python's zipfile: no 64-byte padding, storages at odd offsets
    with zipfile.ZipFile(f"{out}/views.bin") as src, \
            zipfile.ZipFile(f"{out}/views_unaligned.bin", "w", zipfile.ZIP_STORED) as dst:
        dst.comment = b"re-zipped"
        for info in src.infolist():
            dst.writestr(entry(info.filename), src.read(info.filename))
    offsets = [i.header_offset + 30 + len(i.filename) for i in zipfile.ZipFile(f"{out}/views_unaligned.bin").infolist()
               if "/data/" in i.filename]
    assert any(o % 4 for o in offsets), offsets


# ---- hostile archives ----

def entry(name):
    """A stored zip entry with a fixed date, so that the fixtures are the same bytes each time."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def archive(path, pkl, storages=None, prefix="archive", extra=None):
    """A zip laid out as torch.save lays it out (stored entries under PREFIX/)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(entry(f"{prefix}/data.pkl"), pkl)
        for k, data in (storages or {}).items():
            z.writestr(entry(f"{prefix}/data/{k}"), data)
        z.writestr(entry(f"{prefix}/version"), "3\n")
        for name, data in (extra or {}).items():
            z.writestr(entry(name), data)


def unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def tensor_pickle(key="0", storage="FloatStorage", numel=4, offset=0, size=(4,), stride=(1,), name="w"):
    """A state dict {name: tensor} as torch.save pickles it (protocol 2), with any view."""
    def ints(v):
        return b"(" + b"".join(b"J" + struct.pack("<i", i) if -2**31 <= i < 2**31
                               else b"\x8a\x08" + struct.pack("<q", i) for i in v) + b"t"
    def bigint(i):
        return b"\x8a\x08" + struct.pack("<Q", i)
    pid = (b"(" + unicode("storage") + b"ctorch\n" + storage.encode() + b"\n" + unicode(key) +
           unicode("cpu") + bigint(numel) + b"tQ")
    t = (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + bigint(offset) + ints(size) + ints(stride) +
         b"\x89ccollections\nOrderedDict\n)RtR")
    return b"\x80\x02}(" + unicode(name) + t + b"u."


def hostile(out):
    d = f"{out}/hostile"
    os.makedirs(d)
    four = struct.pack("<4f", 1, 2, 3, 4)
    cases = []

    def case(name, expect, pkl, storages=None, **kw):
        archive(f"{d}/{name}.bin", pkl, storages if storages is not None else {"0": four}, **kw)
        cases.append((name, expect))

    # code execution: what pickle.dumps of an object whose __reduce__ is (os.system, (cmd,)) looks like
    marker = "/tmp/t0-torchbin-pwned"
    case("os_system", "GLOBAL posix.system is not allowed",
         b"\x80\x02cposix\nsystem\n" + unicode(f"touch {marker}") + b"\x85R.")
    case("builtins_eval", "GLOBAL builtins.eval is not allowed",
         b"\x80\x02cbuiltins\neval\n" + unicode(f"open('{marker}','w')") + b"\x85R.")
    case("stack_global_exec", "GLOBAL builtins.exec is not allowed",
         b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93" + unicode("1") + b"\x85R.")
    case("rebuild_other", "GLOBAL torch._utils._rebuild_device_tensor_from_numpy is not allowed",
         b"\x80\x02ctorch._utils\n_rebuild_device_tensor_from_numpy\n)R.")
    # opcodes a state dict does not need
    case("inst_opcode", "opcode 'i' (0x69) is not one a state dict needs",
         b"\x80\x02(iposix\nsystem\n.")
    case("newobj_opcode", "opcode '?' (0x81) is not one a state dict needs",
         b"\x80\x02ccollections\nOrderedDict\n)\x81.")
    # memo and stack abuse
    case("huge_memo", "memo index 4294967295 out of range (the memo holds 0)",
         b"\x80\x02}r\xff\xff\xff\xff.")
    case("memo_never_put", "memo index 7 was never put",
         b"\x80\x02}q\x00h\x07.")
    case("mark_bomb", "more than 64 nested MARKs", b"\x80\x02" + b"(" * 1000 + b".")
    case("stack_underflow", "stack underflow", b"\x80\x02\x86.")
    # self-referencing structures: a list holding itself, a dict holding itself under a key
    case("self_list", "the pickle is not a dict of tensors",
         b"\x80\x02]q\x00h\x00a.")
    case("self_dict", "state dict entry a is not a tensor",
         b"\x80\x02}q\x00" + unicode("a") + b"h\x00s.")
    # claims larger than the file
    case("huge_string", "truncated (4294967040 more bytes needed)",
         b"\x80\x02X\x00\xff\xff\xff")
    case("long_int", "LONG1 of 200 bytes: integer too large", b"\x80\x02\x8a\xc8" + b"\x01" * 200 + b".")
    # views and storages that lie
    case("offset_past_storage", "view reaches element 5 of a storage of 4",
         tensor_pickle(offset=2))
    case("size_past_storage", "view reaches element 9 of a storage of 4",
         tensor_pickle(size=(2, 5), stride=(5, 1)))
    case("storage_past_entry", "claims 1000000 F32 elements, its entry holds 16 bytes",
         tensor_pickle(numel=1000000))
    case("size_overflow", "sizes and strides overflow",
         tensor_pickle(size=(2**62, 2**62), stride=(2**62, 1)))
    case("repeated_elements", "a view that repeats elements",
         tensor_pickle(size=(4, 100), stride=(1, 0)))
    case("missing_storage", "its storage archive/data/7 is not in the archive",
         tensor_pickle(key="7"))
    case("storage_key_path", "storage key is not a file name",
         tensor_pickle(key="../../etc/passwd"))
    case("two_dtypes", "storage 0 viewed as F32 and as F16",
         b"\x80\x02}(" + tensor_pickle(name="a")[4:-2] + tensor_pickle(name="b", storage="HalfStorage",
                                                                        numel=8)[4:-2] + b"u.")
    case("not_a_dict", "the pickle is not a dict of tensors", b"\x80\x02]." )
    case("byteorder_big", "is not \"little\"", tensor_pickle(), extra={"archive/byteorder": "big"})
    case("no_pickle", "without NAME/data.pkl", b"", prefix="x/y")
    # not a torch.save zip at all, and truncated ones
    with open(f"{d}/text.bin", "w") as f:
        f.write("this is not a checkpoint\n" * 4)
    cases.append(("text", "no zip end of central directory record"))
    with open(f"{out}/f32_untied/pytorch_model.bin", "rb") as f:
        whole = f.read()
    with open(f"{d}/truncated.bin", "wb") as f:
        f.write(whole[: len(whole) // 2])
    cases.append(("truncated", "no zip end of central directory record"))
    # the legacy format (torch.save before 1.6)
    import torch
    torch.save({"w": torch.ones(3)}, f"{d}/legacy.bin", _use_new_zipfile_serialization=False)
    cases.append(("legacy", "PyTorch's legacy format (torch.save before 1.6)"))
    with open(f"{d}/expect.tsv", "w") as f:
        for name, expect in cases:
            f.write(f"{name}.bin\t{expect}\n")
    # torch itself refuses the hostile pickles too (weights_only is torch's own restricted unpickler)
    print(f"hostile: {len(cases)} files")


def check_checkpoint(ckpt, ref):
    import torch
    from safetensors.torch import load_file
    from transformers import T5ForConditionalGeneration
    model = T5ForConditionalGeneration.from_pretrained(ckpt)
    sd = model.state_dict()
    saved = load_file(f"{ckpt}/model.safetensors")
    for k, v in saved.items():
        assert torch.equal(sd[k].float(), v.float()), k
    before = T5ForConditionalGeneration.from_pretrained(ref).state_dict()
    moved = sum(not torch.equal(before[k].float(), saved[k].float()) for k in saved)
    assert moved > len(saved) // 2, f"only {moved} of {len(saved)} tensors changed"
    ids = torch.tensor([[5, 6, 7, 1]])
    out = model(input_ids=ids, decoder_input_ids=torch.tensor([[0, 5]])).logits
    assert torch.isfinite(out).all()
    print(f"check-checkpoint: {ckpt} loads in transformers, {len(saved)} tensors equal, {moved} trained")


def main():
    if sys.argv[1] == "fixtures":
        out = sys.argv[2]
        os.makedirs(out, exist_ok=True)
        save_models(out)
        save_views(out)
        hostile(out)
    elif sys.argv[1] == "check-checkpoint":
        check_checkpoint(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
