"""The tone check: does a message threaten, insult, shame, rush or shout at the debtor?

The words live in ``data/tone/<lang>.yaml`` so a person can tune them without touching code. Each
rule there is a list of phrases; a phrase matches whole words, ignoring case and accents, and a
trailing ``*`` matches any ending ("demand*" catches "demandamos" and "demandaremos"). A phrase may
name ``allowed_stages``: a notice about court at the legal stage is lawful, the same words at the first
reminder are a threat.

Missing parts (amount, due date, how to pay, how to reach a person, opt-out) are reported as findings
named ``missing:<part>`` but never flag a text by themselves: what a message must contain depends on
its purpose, and the caller decides which parts it requires.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "tone"
LANGS = ("es", "en", "pt")
#: Rules that flag a text. Their order is the order findings are reported in.
TONE_RULES = ("threat", "insult", "humiliation", "shaming", "false_urgency", "shouting", "exclamations")
PARTS = ("amount", "due_date", "how_to_pay", "contact", "opt_out")
_TAG = re.compile(r"\{\{\s*([a-zA-Z_][\w.]*)[^}]*\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class Finding:
    rule: str
    words: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"rule": self.rule, "words": list(self.words)}


@dataclass(frozen=True)
class ToneResult:
    text: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        return any(not f.rule.startswith("missing:") for f in self.findings)

    @property
    def missing(self) -> list[str]:
        return [f.rule.split(":", 1)[1] for f in self.findings if f.rule.startswith("missing:")]

    def as_dict(self) -> dict:
        return {"text": self.text, "flagged": self.flagged, "findings": [f.as_dict() for f in self.findings]}


def lang_of(language: str) -> str:
    """'pt-BR' → 'pt', 'es_CL' → 'es'; anything unknown falls back to Spanish."""
    short = (language or "es").replace("_", "-").split("-")[0].lower()
    return short if short in LANGS else "es"


class _FoldTable(dict):
    """str.translate table built lazily: each character → its lower-case letter without accent."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        base = unicodedata.normalize("NFKD", ch)[:1] or ch
        folded = base.lower()[:1] or ch
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def _fold(text: str) -> str:
    """Lower case without accents, one character per character so positions map back to the text."""
    return text.translate(_FOLD)


def _phrase_regex(phrase: str) -> str:
    words = []
    for word in _fold(phrase).split():
        if word.endswith("*"):
            words.append(re.escape(word[:-1]) + r"\w*")
        else:
            words.append(re.escape(word))
    return r"\s+".join(words)


def _words_regex(patterns: list[str]) -> re.Pattern:
    # One alternation behind a single word-start check: the engine tries the phrases only where a
    # word begins, and longest first so "acciones legales inmediatas" is reported whole.
    alts = "|".join(sorted(patterns, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alts + r")(?!\w)")


@dataclass(frozen=True)
class _Phrase:
    """All the phrases of a rule that share the same allowed stages, as one alternation."""

    regex: re.Pattern
    allowed_stages: frozenset[str]


@dataclass(frozen=True)
class _Lexicon:
    rules: dict[str, tuple[_Phrase, ...]]
    acronyms: frozenset[str]
    parts: dict[str, tuple[frozenset[str], tuple[re.Pattern, ...]]]


@cache
def lexicon(lang: str) -> _Lexicon:
    raw = yaml.safe_load((DATA / f"{lang_of(lang)}.yaml").read_text(encoding="utf-8"))
    rules = {}
    for rule in TONE_RULES:
        if rule in ("shouting", "exclamations"):
            continue
        groups: dict[frozenset[str], list[str]] = {}
        for entry in raw.get(rule, []) or []:
            if isinstance(entry, str):
                entry = {"phrase": entry}
            groups.setdefault(frozenset(entry.get("allowed_stages", ())), []).append(_phrase_regex(entry["phrase"]))
        rules[rule] = tuple(_Phrase(_words_regex(pats), stages) for stages, pats in groups.items())
    parts = {}
    for part in PARTS:
        spec = (raw.get("parts") or {}).get(part) or {}
        regexes = [_words_regex([_phrase_regex(p) for p in spec.get("words", [])])] if spec.get("words") else []
        regexes += [re.compile(p, re.I) for p in spec.get("patterns", [])]
        parts[part] = (frozenset(spec.get("variables", [])), tuple(regexes))
    return _Lexicon(rules=rules, acronyms=frozenset(a.upper() for a in raw.get("acronyms", [])), parts=parts)


_LINK = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_WORD = re.compile(r"[^\W\d_]+")
_BANGS = re.compile(r"!{2,}|¡{2,}")


def check(text: str, lang: str = "es", *, stage: str | None = None, require: tuple[str, ...] = PARTS,
          exempt: tuple[str, ...] = ()) -> ToneResult:
    """Check one message (or template) and return its findings.

    ``stage`` is the dunning stage the message belongs to ("legal", "mediacion"...), which allows the
    phrases whose ``allowed_stages`` name it. ``require`` lists the parts the message must contain.
    ``exempt`` are strings to ignore for shouting (an organization called "ACME" is not shouting).
    Template tags are removed before the tone rules run; their variable names count as parts.
    """
    lex = lexicon(lang)
    variables = {m.group(1).split(".")[0] for m in _TAG.finditer(text) if m.group(1)}
    full = _TAG.sub(" ", text)
    # Links and addresses are not words a person reads as tone (a signed token is full of capitals).
    plain = _LINK.sub(" ", full)
    for name in exempt:
        if name:
            plain = plain.replace(name, " ")
    folded = _fold(plain)
    findings: list[Finding] = []
    for rule, phrases in lex.rules.items():
        words: list[str] = []
        for phrase in phrases:
            if stage and stage in phrase.allowed_stages:
                continue
            for m in phrase.regex.finditer(folded):
                hit = plain[m.start():m.end()]
                if hit not in words:
                    words.append(hit)
        if words:
            findings.append(Finding(rule, tuple(words)))
    shouted = [w for w in _WORD.findall(plain) if len(w) >= 4 and w.isupper() and w.upper() not in lex.acronyms]
    if shouted:
        findings.append(Finding("shouting", tuple(dict.fromkeys(shouted))))
    bangs = _BANGS.findall(plain)
    if bangs or plain.count("!") > 3:
        findings.append(Finding("exclamations", tuple(bangs) or ("!",) * plain.count("!")))
    folded_full = _fold(full) if require else ""
    for part in require:
        names, regexes = lex.parts[part]
        if variables & names:
            continue
        if any(r.search(folded_full) or r.search(full) for r in regexes):
            continue
        findings.append(Finding(f"missing:{part}"))
    return ToneResult(text=text, findings=tuple(findings))
