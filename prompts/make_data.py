#!/usr/bin/env python3
"""Writes the small datasets bundled with the project's own prompts (prompts/*/data.jsonl).
Every sentence is composed here from the word lists below: data the project makes, no
external corpus. Deterministic (fixed seed)."""
import json, os, random, sys

rng = random.Random(20261129)
root = sys.argv[1]

def write(name, rows):
    os.makedirs(os.path.join(root, name), exist_ok=True)
    with open(os.path.join(root, name, "data.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

# sentiment: short film reviews, label 0 negative / 1 positive
good = ["a warm, funny story", "beautifully shot", "the cast is superb", "I laughed from start to end",
        "a clever script", "moving and honest", "the music lifts every scene", "worth seeing twice"]
bad = ["the plot drags", "flat and predictable", "the dialogue is clumsy", "I checked my watch often",
       "a muddled ending", "the jokes fall flat", "too long by an hour", "forgettable acting"]
films = ["The Lighthouse Keeper", "Paper Moons", "Night Train to Oslo", "The Last Orchard",
         "Glass Harbor", "Seven Winters", "The Quiet Engine", "Copper Sky"]
rows = []
for i in range(24):
    label = i % 2
    parts = rng.sample(good if label else bad, 2)
    film = rng.choice(films)
    rows.append({"title": film, "review": "%s: %s, and %s." % (film, parts[0].capitalize(), parts[1]), "label": label})
write("t0_sentiment", rows)

# nli: premise/hypothesis, label 0 entailment, 1 neutral, 2 contradiction
people = ["Ana", "Tomas", "Mei", "Kofi", "Lena", "Ravi"]
acts = [("is reading a book in the park", "is outdoors", "is swimming in the sea", "is reading a novel"),
        ("is cooking soup for friends", "is preparing food", "is asleep", "is cooking for a sister"),
        ("rides a bicycle to work", "travels to work", "drives a bus to work", "rides to work every day"),
        ("plays the violin on stage", "performs music", "is sitting in the audience", "plays in an orchestra")]
rows = []
for i in range(24):
    p = rng.choice(people)
    a = rng.choice(acts)
    label = i % 3
    hyp = {0: a[1], 1: a[3], 2: a[2]}[label]
    rows.append({"premise": "%s %s." % (p, a[0]), "hypothesis": "%s %s." % (p, hyp), "label": label})
write("t0_nli", rows)

# qa: a context, a question and its answer span
facts = [("Lake Varen", "a lake", "north of the town of Sel", "north of the town of Sel", "Where is Lake Varen?"),
         ("The Ostra bridge", "a stone bridge", "built in 1852", "1852", "When was the Ostra bridge built?"),
         ("Mira Holt", "a chemist", "known for her work on soap films", "soap films", "What is Mira Holt known for?"),
         ("The Kell river", "a short river", "about 40 kilometres long", "about 40 kilometres", "How long is the Kell river?"),
         ("Dunmore library", "a public library", "home to 12,000 maps", "12,000", "How many maps does Dunmore library hold?"),
         ("The red-tailed finch", "a small bird", "found in dry grassland", "dry grassland", "Where is the red-tailed finch found?")]
rows = []
for name, kind, fact, ans, q in facts * 3:
    extra = rng.choice(["It is often visited in summer.", "Few people know its history.",
                        "Local schools write about it.", "It appears on old postcards."])
    rows.append({"context": "%s is %s %s. %s" % (name, kind, fact, extra), "question": q,
                 "answers": {"text": [ans]}})
write("t0_qa", rows[:18])

# summarization: a short report and a one-line summary
events = [("The town council", "voted to open a new library", "on Monday", "after two years of planning"),
          ("A local bakery", "won a national bread prize", "this week", "with a rye loaf"),
          ("The river festival", "drew record crowds", "on Saturday", "despite heavy rain"),
          ("Students at Hill School", "built a solar car", "this term", "and raced it against three schools"),
          ("The city zoo", "welcomed two snow leopard cubs", "last month", "the first born there in ten years"),
          ("A volunteer group", "planted 500 trees", "over the weekend", "along the old railway line")]
rows = []
for who, did, when, how in events * 3:
    quote = rng.choice(["\"We are delighted,\" a spokesperson said.", "Organisers thanked everyone who helped.",
                        "More events are planned for next year.", "Residents welcomed the news."])
    rows.append({"document": "%s %s %s, %s. %s" % (who, did, when, how, quote),
                 "summary": "%s %s." % (who, did)})
write("t0_summary", rows[:18])
