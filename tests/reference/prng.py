#!/usr/bin/env python3
"""The deterministic choice/random rule of lib/render/jinja.h, in Python (bit for bit).

Each render owns one splitmix64 generator whose state starts at the seed; each
`choice(seq)` / `random(seq)` on a non-empty sequence takes the next draw and
returns seq[draw % len(seq)]. Run as a script: prints the first draws for a few
seeds (tests/fixtures/prng_draws.txt is this output)."""

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def choice(self, seq):
        if len(seq) == 0:
            raise IndexError("Cannot choose from an empty sequence")
        return seq[self.next() % len(seq)]


if __name__ == "__main__":
    for seed in (0, 1, 42, 0xFFFFFFFFFFFFFFFF, 1234567890123456789):
        g = SplitMix64(seed)
        print(seed, " ".join(str(g.next()) for _ in range(5)))
