"""B10: the tone check against its labelled corpus, per language and per kind of abuse.

    python benchmarks/bench_tone.py [--split tuned|heldout|both] [--size S] [--db sqlite]

Reads tests/messaging/tone_corpus/<lang>.jsonl (the split the rules were written against) and
tests/messaging/tone_corpus/heldout/<lang>.jsonl (written first, in another style, never used to write
rules). For each language it prints recall (abusive messages flagged), precision (flagged messages that
are abusive) and the flagged-lawful rate, then per category: recall, the share reported under their own
category, and precision of that category (messages it was reported on that are labelled with it).
Targets: ≥ 95 % of abusive messages flagged, ≤ 5 % of lawful ones. It also times the check (messages
per second over the whole corpus), since every message the outbox sends is checked. --size and --db are
accepted for run_all.py and ignored: the corpus is the workload.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cobro.messaging import tone  # noqa: E402

CORPUS = ROOT / "tests" / "messaging" / "tone_corpus"
RECALL_TARGET, FLAGGED_LAWFUL_TARGET = 0.95, 0.05


def load(split: str, lang: str) -> list[dict]:
    path = CORPUS / (f"heldout/{lang}.jsonl" if split == "heldout" else f"{lang}.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:5.1f} %" if den else "    – "


def evaluate(split: str, lang: str) -> tuple[bool, list[str]]:
    rows = load(split, lang)
    results = [tone.check(r["text"], lang, require=()) for r in rows]
    abusive = [(r, x) for r, x in zip(rows, results, strict=True) if r["label"] == "abusive"]
    lawful = [(r, x) for r, x in zip(rows, results, strict=True) if r["label"] == "lawful"]
    caught = sum(x.flagged for _, x in abusive)
    false = sum(x.flagged for _, x in lawful)
    flagged = caught + false
    ok = caught >= RECALL_TARGET * len(abusive) and false <= FLAGGED_LAWFUL_TARGET * len(lawful)
    lines = [f"B10 tone {lang} {split}: {len(rows)} messages ({len(abusive)} abusive, {len(lawful)} lawful): "
             f"recall {pct(caught, len(abusive)).strip()}, precision {pct(caught, flagged).strip()}, "
             f"flagged-lawful {pct(false, len(lawful)).strip()} "
             f"— target ≥ 95 % / ≤ 5 % {'met' if ok else 'NOT met'}"]
    reported = Counter(c for _, x in zip(rows, results, strict=True) for c in set(x.categories))
    reported_right = Counter(r["category"] for r, x in zip(rows, results, strict=True) if r["category"] in x.categories)
    lines.append(f"    {'category':<12} {'n':>4} {'recall':>8} {'own cat.':>9} {'precision':>10}")
    for cat in tone.CATEGORIES:
        mine = [(r, x) for r, x in abusive if r["category"] == cat]
        hit = sum(x.flagged for _, x in mine)
        own = sum(cat in x.categories for _, x in mine)
        lines.append(f"    {cat:<12} {len(mine):>4} {pct(hit, len(mine)):>8} {pct(own, len(mine)):>9} "
                     f"{pct(reported_right[cat], reported[cat]):>10}")
    for kind in ("friendly", "firm"):
        mine = [(r, x) for r, x in lawful if r["category"] == kind]
        lines.append(f"    lawful/{kind:<8} {len(mine):>3} flagged {pct(sum(x.flagged for _, x in mine), len(mine))}")
    return ok, lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="both", choices=["tuned", "heldout", "both"])
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    splits = ["tuned", "heldout"] if args.split == "both" else [args.split]
    for split in splits:
        for lang in tone.LANGS:
            _ok, lines = evaluate(split, lang)
            print("\n".join(lines))
    texts = [(r["text"], lang) for lang in tone.LANGS for split in ("tuned", "heldout") for r in load(split, lang)]
    tone.check("warm up", "es")
    start = time.perf_counter()
    for text, lang in texts:
        tone.check(text, lang)
    elapsed = time.perf_counter() - start
    long = " ".join(t for t, _ in texts[:8])
    start, n = time.perf_counter(), 300
    for _ in range(n):
        tone.check(long, "es")
    per_long = (time.perf_counter() - start) / n
    print(f"B10 tone speed: {len(texts) / elapsed:,.0f} messages/s over the corpus "
          f"({1000 * elapsed / len(texts):.2f} ms each), {1000 * per_long:.2f} ms for a {len(long)}-character e-mail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
