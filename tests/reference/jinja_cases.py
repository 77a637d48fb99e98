#!/usr/bin/env python3
"""Writes tests/fixtures/jinja_cases.jsonl: template + context -> the output of real jinja2
(3.1, promptsource's environment: BaseLoader, zip global, choice/most_frequent/highlight
filters; choice and random use the seeded rule of tests/reference/prng.py).
Each line: {"template", "context", "seed", and "expected" or "error"}.
Run from the repository root: python3 tests/reference/jinja_cases.py"""
import copy
import json
import os
import sys

import jinja2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promptsource_env import make_env, reseed  # noqa: E402

env = make_env()
strict_env = make_env(jinja2.StrictUndefined)  # jinja_options.strict = 1

EX = {"premise": "The cat sat on the mat.", "hypothesis": "A cat is sitting.", "label": 1,
      "choices": {"text": ["red", "green", "blue"], "label": ["A", "B", "C"]},
      "answers": {"text": ["Paris", "paris", "Paris", "Lyon"], "answer_start": [3, 7, 3, 9]},
      "words": ["one", "two", "three", "two"], "nums": [3, 1, 2, 10, -4], "empty": [], "none": None,
      "flag": True, "off": False, "f": 2.5, "big": 12345678901234567890123, "s": "  Hello World  ",
      "uni": "Ünïcödé straße ǅ İ", "nested": [{"name": "a", "type": "PER", "v": 1}, {"name": "b", "type": "LOC", "v": 2},
                                           {"name": "c", "type": "PER", "v": 3}],
      "text": "alpha beta gamma delta epsilon", "q": "it's", "dq": 'say "hi"', "both": "it's \"x\"",
      "ctrl": "a\tb\nc\x01\x7f\u00a0\u2028", "answer_choices": ["Yes", "No", "Maybe"], "zero": 0,
      "d": {"b": 1, "a": [1, 2], "items": 5}, "pipes": "x ||| y", "n": 7, "neg": -7, "fl": [1.5, 0.1, 1e16, 1e-05, 100000.0]}

CASES = [
    # output and literals
    "Hello", "Hello\n", "Hello\n\n", "a\r\nb", "{{ 1 }}", "{{ -1 }}", "{{ 1.0 }}", "{{ 1.5e3 }}", "{{ 1e16 }}",
    "{{ 0.1 + 0.2 }}", "{{ 1_000 }}", "{{ 'a' 'b' }}", "{{ \"x\\ty\" }}", "{{ 'a\\nb' }}", "{{ '\\u00e9\\x41' }}",
    "{{ 'q\\'s' }}", "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}", "{{ [1, 'a', None, True, 1.0] }}",
    "{{ (1, 2) }}", "{{ (1,) }}", "{{ () }}", "{{ {'a': 1, 'b': [2]} }}", "{{ {} }}", "{{ [] }}", "{{ 1, 2 }}",
    "{{ ['it\\'s'] }}", "{{ [q] }}", "{{ [dq] }}", "{{ [both] }}", "{{ [ctrl] }}", "{{ [uni] }}", "{{ fl }}",
    "{{ big }}", "{{ [big] }}", "{{ nested }}", "{{ d }}", "{{ choices }}", "{{ f }}", "{{ none }}", "{{ flag }}",
    "{{ missing }}", "[{{ missing }}]", "{{ [missing] }}", "{{ range(3) }}", "{{ range(1, 10, 2) }}",
    "{{ zip([1], [2]) | list }}", "{{ d.items() }}", "{{ d.keys() }}", "{{ d.values() }}", "{{ d.items() | list }}",
    # arithmetic
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }}", "{{ 7 / 2 }} {{ 4 / 2 }} {{ 1 / 3 }}",
    "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 7.5 % -2 }}",
    "{{ 1 + 2 * 3 - 4 }}", "{{ (1 + 2) * 3 }}", "{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 'x' * -1 }}",
    "{{ 'a' + 'b' }}", "{{ [1] + [2, 3] }}", "{{ (1,) + (2,) }}", "{{ 1 ~ 2 ~ 'x' ~ none ~ missing }}",
    "{{ 1 + 1.5 }}", "{{ True + 1 }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1.0 / 0 }}",
    "{{ 'a' + 1 }}", "{{ 1 + 'a' }}", "{{ missing + 1 }}", "{{ -missing }}", "{{ -'a' }}", "{{ +n }}",
    "{{ n - 10 }}", "{{ label - 1 }}", "{{ nums[label - 1] }}", "{{ 10 - neg }}",
    "{{ 0.1 * 3 }}", "{{ 2 ** 0.5 }}", "{{ 10 / 4 * 2 }}", "{{ 3 - -3 }}", "{{ --3 }}",
    # string formatting
    "{{ '%s-%s' % (1, 'a') }}", "{{ '%d items' % 3 }}", "{{ '%.2f' % 3.14159 }}", "{{ '%5s|%-5s|' % ('a', 'b') }}",
    "{{ '%s' % [1, 2] }}", "{{ '%s' % none }}", "{{ '%r' % 'x' }}", "{{ '%(a)s' % {'a': 1} }}", "{{ '100%%' % () }}",
    "{{ '%05d' % 42 }}", "{{ '%x %o %X' % (255, 8, 255) }}", "{{ '%e' % 12345.678 }}", "{{ '%g' % 0.0001 }}",
    "{{ '%s %s' % (1,) }}", "{{ '%d' % 'a' }}", "{{ '%s' % (1, 2) }}", "{{ '%d' % 3.9 }}", "{{ '%i' % True }}",
    # comparisons and logic
    "{{ 1 == 1.0 }} {{ 1 != 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }}",
    "{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'b' in d }} {{ 3 in range(5) }} {{ 'x' in missing }}",
    "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or '' }} {{ none or 'dflt' }} {{ not 0 }} {{ not [1] }}",
    "{{ missing == none }} {{ missing != 1 }} {{ none == none }} {{ [1] == [1] }} {{ (1,) == [1] }}",
    "{{ {'a': 1} == {'a': 1} }} {{ 1 == True }} {{ 'a' == 'a' }}", "{{ 1 < 'a' }}", "{{ missing < 1 }}",
    "{{ 1 in 'abc' }}", "{{ 1 in 5 }}", "{{ 'ab' if flag else 'cd' }}", "{{ 'ab' if off else 'cd' }}",
    "[{{ 'ab' if off }}]", "{{ 'x' if none is none else 'y' }}", "{{ 1 if 0 else 2 if 0 else 3 }}",
    # variables, attributes, items, slices
    "{{ premise }} / {{ hypothesis }}", "{{ choices.text }}", "{{ choices['text'][0] }}", "{{ choices.text[-1] }}",
    "{{ choices.text.0 }}", "{{ choices.missing }}", "[{{ choices.text[9] }}]", "{{ words[1:] }} {{ words[:2] }}",
    "{{ words[::-1] }} {{ words[1:3] }} {{ words[-2:] }} {{ words[::2] }}", "{{ text[6:10] }} {{ text[-5:] }}",
    "{{ uni[0] }}{{ uni[-1] }} {{ uni[2:6] }} {{ uni | length }}", "{{ text[::-1] }}", "{{ uni[::-2] }}",
    "{{ missing.attr }}", "{{ missing['x'] }}", "{{ missing[0] }}", "{{ none.x }}", "[{{ none[0] }}]",
    "{{ d['items'] }}", "{{ d.b }}", "{{ d['b'] }}", "[{{ n[0] }}]", "[{{ words['x'] }}]",
    "{{ nested[0].name }} {{ nested[1]['type'] }}", "{{ answer_choices[label] }}", "{{ range(10)[2:5] | list }}",
    "{{ range(10)[-1] }}", "{{ words[1:3][0] }}", "{{ 'abc'[1] }}", "{{ [1,2,3][-1] }}", "{{ words[label] }}",
    # if / for / set
    "{% if flag %}yes{% endif %}", "{% if off %}yes{% else %}no{% endif %}",
    "{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %}", "{% if missing %}a{% else %}b{% endif %}",
    "{% if empty %}a{% elif none %}b{% elif 0 %}c{% endif %}", "{% if words %}{{ words|length }}{% endif %}",
    "{% for w in words %}{{ w }},{% endfor %}", "{% for w in words %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }} {% endfor %}",
    "{% for w in words %}{{ loop.previtem }}>{{ loop.nextitem }} {% endfor %}", "{% for w in empty %}x{% else %}none{% endfor %}",
    "{% for w in missing %}x{% else %}undef{% endfor %}", "{% for k in d %}{{ k }}{% endfor %}", "{% for c in 'abc' %}{{ c }}-{% endfor %}",
    "{% for a, b in zip(words, nums) %}{{ a }}={{ b }};{% endfor %}", "{% for k, v in d.items() %}{{ k }}:{{ v }} {% endfor %}",
    "{% for x in nums if x > 1 %}{{ x }}({{ loop.index }}/{{ loop.length }}) {% endfor %}",
    "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }} {% endfor %}{% endfor %}",
    "{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}", "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
    "{% for a, b in [(1, 2, 3)] %}{% endfor %}", "{% for x in 5 %}{% endfor %}", "{% for x in none %}{% endfor %}",
    "{% set x = 5 %}{{ x }}", "{% set x, y = 1, 2 %}{{ x }}{{ y }}", "{% set x = [1, 2] %}{{ x + [3] }}",
    "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
    "{% for i in [1,2] %}{% set y = i %}{% endfor %}[{{ y }}]", "{% if true %}{% set z = 3 %}{% endif %}{{ z }}",
    "{% set ns = namespace(count=0) %}{% for w in words %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.count }}",
    "{% set ns = namespace(found=false, items=[]) %}{% for w in words %}{% if w == 'two' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}",
    "{% set ns = namespace() %}{% set ns.a = 1 %}{{ ns.a }}{{ ns.b }}", "{% set x = 1 %}{% set x.y = 2 %}",
    "{% set block %}inner {{ n }}{% endset %}[{{ block }}]", "{% set l = [] %}{% for w in words %}{{ l.append(w|upper) }}{% endfor %}{{ l }}",
    "{% set l = [] %}{% for w in words %}{% set _ = l.append(w) %}{% endfor %}{{ l|join(',') }}",
    "{% set d2 = {} %}{% set _ = d2.update({'a': 1}) %}{% set _ = d2.update(b=2) %}{{ d2 }}",
    "{% set l = [1, 2, 3] %}{{ l.pop() }}{{ l.pop(0) }}{{ l }}", "{% set l = [] %}{{ l.pop() }}",
    
    # whitespace control, comments, raw
    "a  {%- if true -%}  b  {%- endif -%}  c", "a {{- 'b' -}} c", "x {# comment #} y", "x {#- c -#} y",
    "a\n{% if true %}\nb\n{% endif %}\nc", "  {%- for i in [1,2] %}\n{{ i }}{%- endfor %}",
    "a {%+ if true %}b{% endif +%} c", "a {{+ 1 }} b", "a {#+ c #} b", "a {{ 1 +}} b", "x {{ 1 -}}\n  y", "x\n  {{- 1 }}",
    "a {%- if true +%} b{% endif %}", "{% raw %}{{ not rendered }}{% endraw %}", "a {%- raw -%} {{ x }} {%- endraw -%} b", "{{ '{{' }}",
    "line1\n  {{ n }}  \n", "{{ {'a': {'b': 1}} }}", "{{ {'a':1}['a'] }}",
    # filters
    "{{ words | join(', ') }}", "{{ nums | join }}", "{{ nested | join(', ', attribute='name') }}", "{{ 'abc' | join('-') }}",
    "{{ missing | join }}", "{{ text | replace('a', 'A') }}", "{{ text | replace('a', 'A', 2) }}", "{{ n | replace(7, 'seven') }}",
    "{{ 'abc' | replace('', '-') }}", "{{ words | length }} {{ text | length }} {{ uni | count }} {{ d | length }} {{ missing | length }}",
    "{{ missing | default('dflt') }}", "{{ none | default('dflt') }}", "{{ '' | default('dflt', true) }}", "{{ 0 | d('z', boolean=true) }}",
    "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(-1) }} {{ 3.9 | int }} {{ none | int }} {{ ' 12 ' | int }} {{ '1_000' | int }}",
    "{{ '0x1A' | int(base=16) }} {{ '101' | int(base=2) }}", "{{ '3.5' | float }} {{ 'x' | float }} {{ 2 | float }} {{ '1e3' | float }}",
    "{{ 'abc' | list }} {{ d | list }} {{ range(3) | list }}", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 7 | round }}",
    "{{ 1.23456 | round(3) }} {{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }} {{ -2.5 | round }}",
    "{{ s | trim }}|{{ 'xxaxx' | trim('x') }}|{{ s | trim | lower }}", "{{ words | map('upper') | list }}",
    "{{ nested | map(attribute='name') | join }}", "{{ nested | map(attribute='zz', default='-') | list }}",
    "{{ words | map('replace', 't', 'T') | list }}", "{{ 'hello world' | capitalize }} {{ 'HELLO' | capitalize }}",
    "{{ 'Hello' | lower }} {{ 'Hello' | upper }} {{ uni | lower }} {{ uni | upper }}", "{{ \"hello wORLD-foo(bar) x\" | title }}",
    "{{ uni | title }} {{ uni | capitalize }}", "{{ nested | selectattr('type', 'equalto', 'PER') | map(attribute='name') | list }}",
    "{{ nested | rejectattr('type', 'equalto', 'PER') | map(attribute='name') | list }}", "{{ nested | selectattr('v') | list | length }}",
    "{{ words | unique | list }}", "{{ ['A', 'a', 'b'] | unique | list }}", "{{ ['A', 'a'] | unique(case_sensitive=true) | list }}",
    "{{ ['a', '', 'b'] | reject('equalto', '') | list }}", "{{ nums | select('odd') | list }}", "{{ nums | select('>', 1) | list }}",
    "{{ ['a', '', 'b'] | select | list }}", "{{ ['a', 'x'] | select('!=', 'x') | list }}", "{{ nums | reject('even') | list }}",
    "{{ words | first }} {{ words | last }} {{ empty | first }} {{ 'abc' | last }}", "{{ nums | min }} {{ nums | max }} {{ empty | max }}",
    "{{ ['b', 'A', 'c'] | min }} {{ ['b', 'A', 'c'] | max }}", "{{ nested | max(attribute='v') }}", "{{ -3 | abs }} {{ -2.5 | abs }} {{ neg | abs }}",
    "{{ nums | sort }} {{ nums | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }}", "{{ nested | sort(attribute='type') | map(attribute='name') | list }}",
    "{{ 1 | string }} {{ [1] | string }} {{ none | string }} {{ missing | string }}[", "{{ '%s and %s' | format('a', 'b') }}",
    "{{ '%(x)s' | format(x=1) }}", "{{ text | truncate(10) }}", "{{ text | truncate(12, true) }}", "{{ text | truncate(20, false, '!') }}",
    "{{ text | truncate(25) }}", "{{ text | truncate(26) }}", "{{ text | truncate(2) }}", "{{ text | wordcount }}", "{{ nums | sum }} {{ nested | sum(attribute='v') }}",
    "{{ answers.text | most_frequent }}", "{{ empty | most_frequent }}", "{{ [1, 2, 2, 1, 3] | most_frequent }}",
    "{{ 'x' | highlight }}", "{{ 1 | highlight }}", "{{ words | reverse | list }} {{ 'abc' | reverse }}",
    "{{ words | choice }}", "{{ words | choice }} {{ words | choice }} {{ nums | random }}", "{{ empty | choice }}", "{{ empty | random }}",
    "{{ 'abc' | choice }}", "{% for i in range(5) %}{{ answer_choices | choice }}{% endfor %}",
    "{{ answers.text | most_frequent | choice }}", "{{ missing | nosuchfilter }}", "{{ x | length(1, 2) }}",
    "{{ 'a b' | string | truncate(2048) }}", "{{ words | string | truncate(2048) }}", "{{ none | string | truncate(2048) }}",
    # tests
    "{{ n is defined }} {{ missing is defined }} {{ missing is undefined }} {{ none is none }}", "{{ off is false }} {{ flag is true }} {{ 0 is false }}",
    "{{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}", "{{ 'a' is string }} {{ 1 is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is integer }}",
    "{{ words is sequence }} {{ d is mapping }} {{ d is sequence }} {{ n is iterable }} {{ 'a' is iterable }}", "{{ 1 is eq 1 }} {{ 1 is ne 1 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 2 is le 1 }}",
    "{{ 2 is in [1, 2] }} {{ n is not none }} {{ n is equalto 7 }} {{ 'a' is lower }} {{ 'A' is upper }}", "{{ n is nosuchtest }}",
    "{{ range is callable }} {{ none is sameas none }}",
    # methods
    "{{ text.split() }} {{ text.split(' ', 2) }} {{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(none, 1) }}",
    "{{ 'a-b-c'.rsplit('-', 1) }} {{ ' a b c '.rsplit(None, 1) }} {{ ''.split() }} {{ ''.split(',') }}", "{{ 'x'.split('') }}",
    "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ uni.split() }}]",
    "{{ text.lower() }} {{ text.upper() }} {{ text.replace('a', '_') }} {{ text.replace('a', '_', 1) }} {{ text.title() }} {{ text.capitalize() }}",
    "{{ \"they're bill's friends\".title() }} {{ 'ǆemal'.title() }} {{ 'ß'.upper() }} {{ 'İ'.lower() }}",
    "{{ text.index('beta') }} {{ text.find('zzz') }} {{ text.find('a', 5) }} {{ text.rfind('a') }} {{ uni.find('straße') }}", "{{ text.index('zzz') }}",
    "{{ ', '.join(words) }} {{ ''.join(['a', 'b']) }}", "{{ ', '.join(nums) }}", "{{ text.startswith('alpha') }} {{ text.endswith(('x', 'lon')) }}",
    "{{ text.count('a') }} {{ words.count('two') }} {{ words.index('three') }}", "{{ words.index('zzz') }}",
    "{{ '{} and {}'.format('a', 'b') }} {{ '{1}{0}'.format('a', 'b') }} {{ '{x}!'.format(x=3) }} {{ '{{}}'.format() }}",
    "{{ d.get('b') }} {{ d.get('zz') }} {{ d.get('zz', 0) }} {{ d.keys() | list }} {{ d.values() | list }}", "{{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' '.isspace() }}",
    "{{ 'a\\nb\\r\\nc'.splitlines() }}", "{{ n.foo }}", "{{ text.nosuch() }}", "{{ missing() }}", "{{ n() }}",
    "{% set l = [3, 1, 2] %}{{ l.sort() }}", "{% set l = ['b'] %}{% set _ = l.extend(['c']) %}{% set _ = l.insert(0, 'a') %}{{ l }}",
    "{% set d3 = {'a': 1} %}{{ d3.pop('a') }}{{ d3 }}{{ d3.pop('z', 'none') }}", "{% set l = [1, 2, 1] %}{% set _ = l.remove(1) %}{{ l }}",
    # globals
    "{{ range(5) | list }} {{ range(2, 5) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }}", "{{ range(3) | length }} {{ range(10)[3] }}",
    "{{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }}", "{{ zip(words, nums) | list }} {{ zip() | list }}", "{{ namespace(a=1) }}",
    "{{ range(1, 2, 0) }}", "{{ range('a') }}",
    # undefined edge semantics
    "{{ missing | list }} {{ missing | first }}", "{{ missing ~ 'x' }}", "{{ (missing or 'x') }}", "{{ missing is not defined }}",
    "{% if missing.x %}{% endif %}", "{{ choices.missing.deeper }}", "{{ choices.missing | default('d') }}",
    "{{ missing.x | default('d') }}",
    # syntax errors
    "{{ }}", "{% if %}", "{% if x %}", "{% for x in %}{% endfor %}", "{{ x", "{% endif %}", "{% foo %}", "{{ 'abc }}",
    "{{ 1 +* 2 }}", "{# unterminated", "{% raw %}x", "{{ x | }}", "{{ x is }}", "{% set %}", "{{ (1, 2 }}", "{{ [1, 2 }}",
    "{{ x.y. }}", "}}", "{{ a b }}", "{% for a in b %}{% else %}{% else %}{% endfor %}", "{{ 99999999999999999999 }}",
    # promptsource snippets
    "{{premise}} Question: Does this imply that \"{{hypothesis}}\"? Yes, no, or maybe? ||| {{answer_choices[label]}}",
    "{{ premise }}\n\nQuestion: {{ hypothesis }} True, False, or Neither?\n|||\n{{ answer_choices[label] }}",
    "{% if label != -1 %}{{ premise }} ||| {{ answer_choices[label] }}{% endif %}",
    "{% set options = [\"A\", \"B\"] %}{{ options | choice }} {{ text }}",
    "{{choices.text | join(\"|||\")}}", "{{ answers.text | choice }}", "{{ words[nums | length - 5] }}",
    "{% for a, b in zip(choices.label, choices.text) %}{{ a }}. {{ b }}\n{% endfor %}",
    "{{ text.split(' ')[0] | capitalize }} ... {{ text.split(' ')[1:] | join(' ') }}",
    "{% set ns = namespace(ans=[]) %}{% for x in nested %}{% if x.type == 'PER' %}{% set ns.ans = ns.ans + [x.name] %}{% endif %}{% endfor %}{{ ns.ans | join(', ') }}",
    "{{ nested | selectattr(\"type\", \"equalto\", \"LOC\") | map(attribute=\"name\") | list | first }}",
    "{% set lst_of_actions = [] %}{% for item in words %}{{ lst_of_actions.append(item.lower()[2:]) | default(\"\", True) }}{% endfor %}{{ lst_of_actions }}",
    "{{ answer_choices | join(', ') }}? ||| {{ answer_choices[label] | lower }}",
    "{{ text | replace(\"alpha\", \"\") | trim }}", "{% if label == 0 %}no{% elif label == 1 %}yes{% endif %}",
    "{{ (nums | sum / nums | length) | round(1) }}", "{{ f * 2 | int }}", "{{ (f * 2) | int }}", "{{ -f | abs }}",
    "{{ words | length > 2 }}", "{{ nums[0] | string + '!' }}", "{{ '{:.1f}'.format(f) }}",
    "Q: {{ text }}\n{% for c in answer_choices %}- {{ c }}\n{% endfor %}A:",
    # found by the random differential test (jinja_fuzzdiff.py)
    "{{ range(5)[:2] }} {{ range(5)[1:3:2] }} {{ range(10)[::-3] }} {{ range(5)[1:] | list }}", "{{ d[1:2] }}", "{{ n[1:] }}",
    "{{ missing[1:] }}", "{{ words['a':] }}", "{{ none | select | list }} {{ 0 | map('upper') | list }} {{ false | reject | list }}",
    "{{ 5 | select | list }}", "{{ words | truncate(8) }}", "{{ range(3) | truncate(5) }}", "{{ nums | truncate(2) }}",
    "{{ 0.1 is odd }} {{ 3.0 is odd }} {{ 4.0 is even }} {{ 2.5 is even }}", "{{ d is lower }} {{ (1, 2) is lower }} {{ nums is upper }}",
    "{{ missing | int }}", "{{ missing | float }}", "{{ d | most_frequent }}", "{{ {'a': 2, 'b': 'x'} | most_frequent }}",
    "{{ [missing, missing] | sort }}", "{{ [missing, 1] | sort }}", "{{ [missing, missing] | min }}", "{{ 'abc' % [1] }}",
    "{{ 'abc' % missing }}", "{{ 'abc' % 5 }}", "{{ [] in d }}", "{{ [1] not in {'k': 1} }}", "{{ words | batch(3) | list }}",
    "{{ words | batch(3, 'x') | list }}", "{{ nums | slice(2) | list }}", "{{ nums | slice(3, 0) | list }}",
    # a filtered loop tests its items lazily (promptsource's DocRED templates rely on it)
    "{% set names = [] %}{% for w in words if w not in names %}{{ names.append(w) }}{% endfor %}{{ names }}",
    "{% for x in nums if x > 0 %}{{ loop.index }}/{{ loop.length }}{{ loop.last }}{{ loop.nextitem }} {% endfor %}",
    "{% set seen = [] %}{% for w in words if w not in seen %}{{ loop.nextitem }}{% set _ = seen.append(w) %}{% endfor %}{{ seen }}",
    "{% set seen = [] %}{% for w in words if w not in seen %}{{ loop.length }}{% set _ = seen.append(w) %}{% endfor %}{{ seen }}",
    "{% for x in nums if x > 100 %}{{ x }}{% else %}none kept{% endfor %}",
    "{% for a in [1, 2] %}{% for x in [5, 6] if loop.index == 1 %}{{ a }}{{ x }}{{ loop.last }} {% endfor %}{% endfor %}",
    "{% for x in nums if loop is undefined %}{{ loop.length }}{% endfor %}", "{{ ['a', 'b'] | choice }}{{ ['a', 'b'] | choice }}",
    "{{ 'ΣΑΣ Σ'.lower() }} {{ 'ΟΔΟΣ.' | lower }} {{ 'AΣ\\'Σ b' | lower }} {{ 'ΑΣ'.capitalize() }} {{ 'ΣΑΣ ΣΑΣ'.title() }} {{ 'ΣΑΣ' | title }}", "{{ pipes }} ||| {{ pipes.split('|||') }}",
]

CONTEXTS = {
    # a few cases with their own contexts
    "{{ x.y }}": [{"x": {}}, {"x": {"y": [1, {"k": "v"}]}}],
}


STRICT_CASES = [
    "{{ missing }}", "{{ missing is defined }}", "{{ missing | default('d') }}", "{{ missing | d('x', true) }}",
    "{{ missing is none }}", "{% if missing %}a{% endif %}", "{% for x in missing %}{% endfor %}", "{{ missing == 1 }}",
    "{{ missing != 1 }}", "{{ 1 in missing }}", "{{ missing | length }}", "{{ missing ~ 'a' }}", "{{ missing | string }}",
    "{{ missing | list }}", "{{ missing | int }}", "{{ missing.attr }}", "{{ choices.missing }}", "{{ choices.missing is defined }}",
    "{{ choices.missing | default('ok') }}", "{{ words[10] }}", "{{ words[10] is undefined }}", "{{ premise }}",
    "{{ 'x' if missing is defined else 'y' }}", "[{{ 'x' if false }}]", "{{ missing or 'x' }}", "{{ not missing }}",
    "{{ missing | upper }}", "{{ [missing] }}", "{{ missing | join }}", "{{ missing | choice }}", "{{ missing + 1 }}",
]


def render(src, ctx, seed, strict=False):
    reseed(seed)
    try:
        out = (strict_env if strict else env).from_string(src).render(**ctx)
        return {"expected": out}
    except Exception as e:  # noqa: BLE001 - the engine must fail too; the message is informative
        return {"error": "%s: %s" % (type(e).__name__, e)}


def main():
    rows = []
    for i, src in enumerate(CASES):
        seed = 1000 + i
        ctx = copy.deepcopy(EX)  # a template may modify its context (list.append)
        row = {"template": src, "context": copy.deepcopy(EX), "seed": seed}
        row.update(render(src, ctx, seed))
        rows.append(row)
    for i, src in enumerate(STRICT_CASES):
        row = {"template": src, "context": copy.deepcopy(EX), "seed": i, "strict": True}
        row.update(render(src, copy.deepcopy(EX), i, strict=True))
        rows.append(row)
    for src, ctxs in CONTEXTS.items():
        for ctx in ctxs:
            row = {"template": src, "context": ctx, "seed": 7}
            row.update(render(src, ctx, 7))
            rows.append(row)
    os.makedirs("tests/fixtures", exist_ok=True)
    with open("tests/fixtures/jinja_cases.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print("jinja_cases.jsonl: %d cases (%d errors), jinja2 %s" % (
        len(rows), sum("error" in r for r in rows), jinja2.__version__))


if __name__ == "__main__":
    main()
