"""promptsource's Jinja environment, as the C engine runs it (lib/render/jinja.h): BaseLoader, the
global zip, and the filters highlight, most_frequent, choice and random, where choice and
random draw from the seeded generator of prng.py instead of Python's global random.
Shared by the reference scripts (render_ref.py, jinja_cases.py); reseed() before a render."""
import collections

import jinja2
from jinja2 import BaseLoader, Environment

from prng import SplitMix64

_RNG = [SplitMix64(0)]


def reseed(seed):
    """Starts the generator that choice and random draw from at seed (one per render)."""
    _RNG[0] = SplitMix64(seed)


# pass_context keeps jinja2 from folding `[...] | choice` at compile time (which would take
# a draw before the render's): draws happen in render order, as in the C engine.
@jinja2.pass_context
def choice(context, seq):
    """Python's random.choice with the engine's generator: seq[draw % len(seq)]."""
    return _RNG[0].choice(seq)


@jinja2.pass_context
def jrandom(context, seq):
    """jinja2's random filter: an empty sequence gives undefined (and takes no draw)."""
    try:
        return _RNG[0].choice(seq)
    except IndexError:
        return context.environment.undefined("No random item, sequence was empty.")


def most_frequent(items):
    if not items:
        return None
    counts = collections.Counter(items).most_common()
    top = counts[0][1]
    return [c[0] for c in counts if c[1] == top]


def highlight(s):
    return "<span style='color: #F08080'>" + s + "</span>"


def make_env(undefined=jinja2.Undefined):
    env = Environment(loader=BaseLoader, undefined=undefined)
    env.globals.update(zip=zip)
    env.filters["highlight"] = highlight
    env.filters["choice"] = choice
    env.filters["random"] = jrandom
    env.filters["most_frequent"] = most_frequent
    return env
