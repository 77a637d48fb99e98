#!/usr/bin/env python3
"""Prints 400 lines of random ids for MODEL, for spm_decode to decode: every kind of piece
(control, unknown, user-defined, byte pieces in valid and broken UTF-8 runs), no newline byte.

    spm_randids.py MODEL > ids.txt
"""
import random
import sys

from spm_to_tokenizer_json import read_model


def main():
    pieces = read_model(sys.argv[1])["pieces"]
    n = len(pieces)
    byte_id = {int(p["piece"][3:5], 16): i for i, p in enumerate(pieces) if p["type"] == 6}
    rng = random.Random(7)
    for _ in range(400):
        ids = []
        for _ in range(rng.randint(0, 24)):
            r = rng.random()
            if r < 0.15:
                ids.append(rng.randrange(min(n, 6)))
            elif r < 0.35 and byte_id:
                text = rng.choice(["é", "中", "\U0001F600", "a", " ", "\uFFFD"]).encode()
                run = list(text) if rng.random() < 0.7 else [rng.randrange(256)]
                ids.extend(byte_id[b] for b in run if b != 10)
            else:
                ids.append(rng.randrange(n))
        print(" ".join(map(str, ids)))


if __name__ == "__main__":
    main()
