#!/usr/bin/env python3
"""Writes the text the SentencePiece fixtures are made from (bytes, one line a '\\n').

    spm_corpus.py train   > train.txt   text to train models on
    spm_corpus.py test    > test.txt    held-out text plus generated edge cases

Sources are files found on a Debian machine (licences, package docs, man pages,
headers, translated man pages) read in sorted order, plus lines generated from a
fixed seed: accents and combining marks, full-width forms, CJK, emoji, tabs, runs
of spaces, control characters, NUL and invalid UTF-8. The training text draws its
generated characters from small pools so that character_coverage=1.0 stays
within a 1,000-piece vocabulary; the test text draws from the whole range.
"""
import glob
import gzip
import os
import random
import sys


def read_lines(path, limit):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read(1 << 20)
    except OSError:
        return []
    lines = [l for l in data.split(b"\n") if l.strip()]
    return lines[:limit]


def found_text(patterns, budget, per_file, rng):
    files = []
    for p in patterns:
        files.extend(sorted(glob.glob(p)))
    rng.shuffle(files)
    out, size = [], 0
    for path in files:
        for line in read_lines(path, per_file):
            out.append(line)
            size += len(line) + 1
        if size >= budget:
            break
    return out


def utf8(cp):
    return chr(cp).encode("utf-8", "surrogatepass")


# Characters the generator mixes into words.
ACCENTED = "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÉÎÕÜßœŒłŁđĐšžčćğışŞİ"
COMBINING = [0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030A, 0x0327, 0x0323, 0x0331, 0x034F]
COMPAT = "ﬁﬂﬀﬃ①②③⑴⒜ⅠⅡⅢⅳ¹²³½¼™℃℉㍿㎏㎞Ａｂｃ１２３！？（）ｶﾀｶﾅ＠～、。・「」"
SPACES = [0x20, 0x09, 0x0B, 0x0C, 0x0D, 0xA0, 0x3000, 0x2028, 0x2029, 0x200B, 0x200C,
          0x200D, 0x200E, 0xFEFF, 0x1680, 0x2581, 0xFFFD, 0x2002, 0x2009, 0x0085]
CONTROLS = list(range(0x00, 0x09)) + [0x0E, 0x0F, 0x10, 0x1B, 0x1F, 0x7F, 0x80, 0x8F, 0x9F]
SPECIAL_TEXT = ["<unk>", "</s>", "<pad>", "<s>", "▁", "▁▁", "<sep>", "<cls>", "==", "http://x.org"]
INVALID = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"\xf5", b"\xff", b"\xfe\xff", b"\xf0\x9f\x98", b"\xe0\x80\x80", b"\xc1\xbf"]


def word(rng, alphabet):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))


def random_char(rng, wide):
    """One code point; wide draws from all of Unicode, else from small pools."""
    if wide:
        r = rng.random()
        if r < 0.3:
            return chr(rng.randint(0x4E00, 0x9FFF))
        if r < 0.4:
            return chr(rng.randint(0x1F300, 0x1FAFF))
        if r < 0.5:
            return chr(rng.randint(0xAC00, 0xD7A3))
        while True:
            cp = rng.randint(0x80, 0x10FFFF) if r < 0.75 else rng.randint(0x80, 0xFFFF)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)
    r = rng.random()
    if r < 0.4:
        return chr(0x4E00 + rng.randint(0, 60))
    if r < 0.6:
        return chr(0x1F600 + rng.randint(0, 20))
    if r < 0.8:
        return chr(0x3041 + rng.randint(0, 40))
    return chr(0x0410 + rng.randint(0, 40))


def generated_line(rng, wide):
    parts = []
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.25:
            parts.append(word(rng, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789.,;:!?'\"()-"))
        elif r < 0.35:
            parts.append(word(rng, ACCENTED))
        elif r < 0.42:
            base = word(rng, "aeiouAEOnc")
            parts.append("".join(c + chr(rng.choice(COMBINING)) * rng.randint(0, 2) for c in base))
        elif r < 0.50:
            parts.append(word(rng, COMPAT))
        elif r < 0.62:
            parts.append("".join(random_char(rng, wide) for _ in range(rng.randint(1, 5))))
        elif r < 0.70:
            parts.append(rng.choice(SPECIAL_TEXT))
        elif r < 0.80:
            parts.append("".join(chr(rng.choice(SPACES)) for _ in range(rng.randint(1, 4))))
        elif r < 0.86 and wide:
            parts.append(chr(rng.choice(CONTROLS)))
        elif r < 0.92 and wide:
            parts.append("\0")  # stands for an invalid byte sequence, filled in below
        else:
            parts.append("\U0001F468\u200D\U0001F469\u200D\U0001F467" if rng.random() < 0.5
                         else "\U0001F44D\U0001F3FD\uFE0F")
        if rng.random() < 0.6:
            parts.append(" " * rng.randint(1, 3))
    out = b""
    for p in parts:
        if p == "\0":
            out += rng.choice(INVALID) if rng.random() < 0.9 else b"\x00"
        else:
            out += p.encode("utf-8")
    return out.replace(b"\n", b" ")


def hand_written():
    """Short lines each of which probes one rule of the normalizer or encoder."""
    lines = ["", " ", "   ", "\t", "\r", "a", " a", "a ", "  Hello   World  ", "\u3000x y",
             "ﬁne ① Ａ", "\x01\x02 x", "a \x01 b", "A ¨B", "A¨B", "中文字 zz", "\uFFFD",
             "ab\uFFFDcd", "\u2581", "\u2581\u2581a", "x\u2581y", "<unk>", "</s>", "<pad>",
             "\u00A0\u00A0", "\u0085", "a\u0085b", "ﬁ\u0301", "e\u0301", "\u00E9", "ｶﾞ",
             "\uFF5E", "a\u200Db", "\x7F", "\x1b[0m", "<sep>", "a<sep>b", " <sep> ", "<cls><sep>",
             "foo==bar", "x" * 5000, "ab " * 2000, "中" * 3000, "\U0001F600" * 500,
             "\t\ttab\tseparated\tvalues\t", "line with trailing cr\r", "mixed\r\nends"]
    out = [l.encode("utf-8") for l in lines]
    out += [b"ab\xffcd", b"\xff", b"\x80\x80\x80", b"\xc3(", b"\xed\xa0\x80x", b"\xf0\x9f\x98",
            b"a\x00b", b"\x00", b" \x00 ", b"\xe2\x96", b"\xe2\x96\x81\xe2\x96", b"\xef\xbf",
            b"ok \xc0\xaf ok", b"\xf8\x88\x80\x80\x80"]
    return [l.replace(b"\n", b" ") for l in out]


def main():
    mode = sys.argv[1]
    rng = random.Random(20261129 if mode == "train" else 424242)
    if mode == "train":
        lines = found_text(["/usr/share/common-licenses/*", "/usr/share/doc/*/copyright",
                            "/usr/share/man/man[1-8]/*.gz", "/usr/share/man/??/man1/*.gz",
                            "/usr/share/man/??_??/man1/*.gz"], 4_000_000, 400, rng)
        lines += [generated_line(rng, False) for _ in range(8000)]
    else:
        lines = found_text(["/usr/share/doc/*/changelog*.gz", "/usr/include/*.h",
                            "/usr/share/man/*/man5/*.gz", "/usr/share/man/*/man7/*.gz"],
                           250_000, 30, rng)
        lines += [generated_line(rng, True) for _ in range(2000)]
        lines += [generated_line(rng, False) for _ in range(500)]
        lines += hand_written()
        rng.shuffle(lines)
    # spm_train skips lines over 4192 bytes; tests keep them (hand_written has some).
    sys.stdout.buffer.write(b"".join(l + b"\n" for l in lines))


if __name__ == "__main__":
    main()
