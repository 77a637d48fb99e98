#!/usr/bin/env python3
"""Writes a Hugging Face tokenizer.json (Unigram) for a SentencePiece .model, laid out as
transformers' T5Converter does (100 sentinels <extra_id_99>..<extra_id_0> after the pieces).

    spm_to_tokenizer_json.py [--layout new|old] MODEL > tokenizer.json

--layout old writes the 2020-21 layout (normalizer: Precompiled alone; pre_tokenizer:
WhitespaceSplit + Metaspace add_prefix_space); new (default) writes today's
(Sequence[Precompiled, Strip, Replace]; Metaspace prepend_scheme). The ModelProto is read
with the small wire-format reader below, so no protobuf package is needed.
"""
import base64
import json
import struct
import sys

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def varint(buf, pos):
    value, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def fields(buf):
    """Yields (field number, wire type, value) of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("bad wire type %d" % wire)
        yield num, wire, value


def read_model(path):
    with open(path, "rb") as f:
        buf = f.read()
    model = {"pieces": [], "byte_fallback": False, "charsmap": b"", "add_dummy_prefix": True,
             "eos_piece": "</s>", "unk_piece": "<unk>"}
    for num, _, value in fields(buf):
        if num == 1:
            piece = {"piece": "", "score": 0.0, "type": NORMAL}
            for n, _, v in fields(value):
                if n == 1:
                    piece["piece"] = v.decode("utf-8")
                elif n == 2:
                    piece["score"] = struct.unpack("<f", v)[0]
                elif n == 3:
                    piece["type"] = v
            model["pieces"].append(piece)
        elif num == 2:
            for n, _, v in fields(value):
                if n == 35:
                    model["byte_fallback"] = bool(v)
                elif n == 47:
                    model["eos_piece"] = v.decode("utf-8")
        elif num == 3:
            for n, _, v in fields(value):
                if n == 2:
                    model["charsmap"] = v
                elif n == 3:
                    model["add_dummy_prefix"] = bool(v)
    return model


def added(id_, content, special):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": not special, "special": special}


def tokenizer_json(model, layout):
    pieces = model["pieces"]
    n = len(pieces)
    vocab = [[p["piece"], float(p["score"])] for p in pieces]
    tokens = [added(i, p["piece"], p["type"] != USER_DEFINED) for i, p in enumerate(pieces)
              if p["type"] in (UNKNOWN, CONTROL, USER_DEFINED)]
    for k in range(99, -1, -1):
        vocab.append(["<extra_id_%d>" % k, 0.0])
        tok = added(n + 99 - k, "<extra_id_%d>" % k, True)
        tok["lstrip"] = tok["rstrip"] = True
        tokens.append(tok)
    unk_id = next(i for i, p in enumerate(pieces) if p["type"] == UNKNOWN)
    eos = model["eos_piece"]
    eos_id = next((i for i, p in enumerate(pieces) if p["piece"] == eos), None)
    charsmap = base64.b64encode(model["charsmap"]).decode("ascii")
    precompiled = {"type": "Precompiled", "precompiled_charsmap": charsmap}
    if layout == "old":
        normalizer = precompiled if model["charsmap"] else None
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Metaspace", "replacement": "\u2581",
             "add_prefix_space": model["add_dummy_prefix"]}]}
    else:
        rest = [{"type": "Strip", "strip_left": False, "strip_right": True},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]
        normalizer = {"type": "Sequence",
                      "normalizers": ([precompiled] if model["charsmap"] else []) + rest}
        pre = {"type": "Metaspace", "replacement": "\u2581",
               "prepend_scheme": "always" if model["add_dummy_prefix"] else "never",
               "split": True}
    post = None
    if eos_id is not None:
        post = {"type": "TemplateProcessing",
                "single": [{"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": eos, "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": eos, "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 0}},
                         {"SpecialToken": {"id": eos, "type_id": 0}}],
                "special_tokens": {eos: {"id": eos, "ids": [eos_id], "tokens": [eos]}}}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": tokens,
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post,
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                        "split": True},
            "model": {"type": "Unigram", "unk_id": unk_id, "vocab": vocab,
                      "byte_fallback": model["byte_fallback"]}}


def main():
    args = sys.argv[1:]
    layout = "new"
    if args[0] == "--layout":
        layout, args = args[1], args[2:]
    print(json.dumps(tokenizer_json(read_model(args[0]), layout), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
