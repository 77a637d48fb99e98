#!/usr/bin/env python3
"""The length arithmetic of T5's span corruption, written from t5/data/preprocessors.py's
description (random_spans_helper and the counts at the top of random_spans_noise_mask), for
lib/train/objectives.c to match exactly. Two rules differ in their floats and both matter:

  helper  random_spans_helper runs in Python: float64, round() half to even; the longest
          segment whose input (non-noise ids, one sentinel a span, EOS) fits inputs_length,
          and its target (noise ids, one sentinel a span, EOS); at density 0.5 the segment
          and target are one shorter when the target would be longer than the input.
  counts  random_spans_noise_mask runs in TF: float32 products and quotients, tf.round half
          to even; noise clamped to [1, length - 1], spans to at least 1.

Prints one line a case: "helper DENSITY MEAN INPUTS_LENGTH TOKENS_LENGTH TARGETS_LENGTH" and
"counts DENSITY MEAN LENGTH NOISE SPANS" (tests/fixtures/objectives/spans.tsv)."""
import numpy as np

SETTINGS = [(0.15, 3.0), (0.5, 3.0), (0.3, 8.0), (0.25, 1.0)]


def py_round(x):
    return int(round(x))  # Python 3: half to even


def segment_lengths(tokens, density, mean):
    noise = py_round(tokens * density)
    spans = py_round(noise / mean)
    return tokens - noise + spans + 1, noise + spans + 1


def helper(inputs_length, density, mean):
    tokens = inputs_length - 1
    while segment_lengths(tokens + 1, density, mean)[0] <= inputs_length:
        tokens += 1
    _, targets = segment_lengths(tokens, density, mean)
    inputs, _ = segment_lengths(tokens, density, mean)
    if density == 0.5 and targets > inputs:
        tokens, targets = tokens - 1, targets - 1
    return tokens, targets


def counts(length, density, mean):
    f32 = np.float32
    noise = int(np.round(f32(length) * f32(density)))  # np.round: half to even, like tf.round
    noise = min(max(noise, 1), length - 1)
    spans = max(int(np.round(f32(noise) / f32(mean))), 1)
    return noise, spans


def main():
    for density, mean in SETTINGS:
        for n in list(range(2, 600)) + [1024, 2048, 8192]:
            print("helper", density, mean, n, *helper(n, density, mean))
        for n in list(range(2, 1200)) + [9999, 65536]:
            print("counts", density, mean, n, *counts(n, density, mean))


if __name__ == "__main__":
    main()
