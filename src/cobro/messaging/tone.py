"""The tone check: does a message threaten, expose, harass, deceive or insult the debtor?

It recognises *kinds* of abusive practice, the ones the collection laws name (COMPLIANCE.md), not
only words. The rules live in ``data/tone/rules/<lang>.yaml`` so a compliance person can read and
correct them without touching code; the categories and the laws they cite are in
``data/tone/categories.yaml``.

A rule is one of:

* ``phrases``: any of these phrases in a sentence ("atengase a las consecuencias");
* ``all``: every named *slot* (a list of phrases kept under ``slots:``) in the same sentence — an
  action and its target ("iremos" + "su trabajo"), a verb of telling and a third party ("sabrán" +
  "sus vecinos"). ``negatable: SLOT`` ignores that slot where a negation word comes just before it
  ("no iremos a su casa"); ``unless: [SLOTS]`` is the lawful exception: the rule does not fire in a
  sentence that also matches one of them (a dated, contractual consequence).

A phrase matches whole words, ignoring case and accents; ``*`` at the end of a word matches any ending
("embarg*" catches "embargaremos"); a phrase starting with ``re:`` is a regular expression over the
folded text (lower case, no accents). A rule may name ``allowed_stages``: the dunning stages where it
does not apply.

The check reads what is written, not what the template says its language is: each sentence is checked
with the declared language and with every language whose words it contains (a threat in English saved
into the Spanish template is still read as English). Nothing is skipped.

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
#: Kinds of abusive practice, in the order findings are reported.
CATEGORIES = ("threat", "disclosure", "harassment", "visit", "false_legal", "insult", "deception")
PARTS = ("amount", "due_date", "how_to_pay", "contact", "opt_out")
_TAG = re.compile(r"\{\{\s*([a-zA-Z_][\w.]*)[^}]*\}\}|\{%.*?%\}", re.S)
#: How many words before a slot a negation word may stand and still negate it ("no vamos a llamarlo").
NEGATION_REACH = 5


@dataclass(frozen=True)
class Finding:
    rule: str
    words: tuple[str, ...] = ()
    category: str = ""
    law: str = ""
    lang: str = ""

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "category": self.category or "missing", "words": list(self.words)}
        if self.law:
            out["law"] = self.law
        if self.lang:
            out["lang"] = self.lang
        return out

    @property
    def label(self) -> str:
        """The category in the reader's language, for screens (never the rule's code)."""
        from django.utils.translation import gettext

        if self.rule.startswith("missing:"):
            part = self.rule.split(":", 1)[1]
            return f"{gettext(CATEGORY_LABELS['missing'])}: {gettext(PART_LABELS.get(part, part))}"
        return gettext(CATEGORY_LABELS.get(self.category, self.category))


#: Spanish msgids (the project's source language); translated in messaging's catalogs.
CATEGORY_LABELS = {
    "threat": "Amenaza de daño",
    "disclosure": "Exposición ante terceros",
    "harassment": "Acoso por frecuencia u horario",
    "visit": "Visita al domicilio o al trabajo",
    "false_legal": "Consecuencia legal falsa o exagerada",
    "insult": "Insulto o humillación",
    "deception": "Engaño o urgencia falsa",
    "missing": "Falta una parte del mensaje",
}
PART_LABELS = {"amount": "el monto", "due_date": "la fecha de vencimiento", "how_to_pay": "cómo pagar",
               "contact": "cómo contactarnos", "opt_out": "cómo darse de baja"}


@dataclass(frozen=True)
class ToneResult:
    text: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    languages: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return any(not f.rule.startswith("missing:") for f in self.findings)

    @property
    def missing(self) -> list[str]:
        return [f.rule.split(":", 1)[1] for f in self.findings if f.rule.startswith("missing:")]

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(f.category for f in self.findings if not f.rule.startswith("missing:")))

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
    if not isinstance(phrase, str):
        # YAML reads a bare no/yes/on/off as a boolean: such a phrase must be quoted ('no').
        raise ToneDataError(f"phrase {phrase!r} is not text (quote it in the YAML file)")
    if phrase.startswith("re:"):
        return "(?:" + phrase[3:].strip() + ")"
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


class ToneDataError(ValueError):
    """A rules file that cannot be used: names the file and what is wrong."""


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    law: str
    what: str
    slots: tuple[str, ...]          # every one must match in the sentence
    negatable: frozenset[str]       # slots a preceding negation word cancels
    unless: tuple[str, ...]         # lawful exception: any of these in the sentence and the rule is silent
    allowed_stages: frozenset[str]


@dataclass(frozen=True)
class _Gate:
    """A cheap test before a slot's regular expression runs: can any of its phrases start here?"""

    firsts: frozenset[str]           # first words of its plain phrases
    prefixes: frozenset[str]         # stems of first words ending in * (at most STEM letters)
    always: bool                     # a `re:` phrase or an unusual first word: always run the regex

    def open(self, tokens: frozenset[str], stems: frozenset[str]) -> bool:
        return self.always or not self.firsts.isdisjoint(tokens) or not self.prefixes.isdisjoint(stems)


#: Stems longer than this are cut to it: the gate may open for nothing, never stay shut for a match.
STEM = 6


def _stems(tokens: frozenset[str]) -> frozenset[str]:
    return frozenset(t[:k] for t in tokens for k in range(1, min(len(t), STEM) + 1))


_LEAD = re.compile(r"[a-z]+")


def _regex_starts(pattern: str) -> list[str] | None:
    """Letters every match of a ``re:`` phrase starts with (one list entry per alternative), or None."""
    pattern = pattern.strip()
    while pattern.startswith("\\b"):
        pattern = pattern[2:]
    if pattern.startswith("("):
        depth, end = 0, -1
        for i, ch in enumerate(pattern):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                end = i
                break
        inner, after = pattern[1:end], pattern[end + 1:end + 2]
        if end < 0 or after in ("?", "*") or not re.fullmatch(r"[a-z |]+", inner):
            return None
        alts = [a.strip().split(" ")[0] for a in inner.split("|")]
        return alts if all(alts) else None
    depth = 0
    for ch in pattern:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            return None
    lead = _LEAD.match(pattern)
    if not lead or pattern[lead.end():lead.end() + 1] in ("?", "*", "{"):
        return None
    return [lead.group()]


def _gate(phrases: list[str]) -> _Gate:
    firsts, prefixes, always = set(), [], False
    for phrase in phrases:
        if not isinstance(phrase, str) or not phrase.strip():
            continue
        if phrase.startswith("re:"):
            starts = _regex_starts(phrase[3:])
            if starts is None:
                always = True
            else:
                prefixes.extend(starts)  # a stem: the regex may go on with more letters
            continue
        first = _fold(phrase).split()[0]
        if first.isalpha():
            firsts.add(first)
        elif first.endswith("*") and first[:-1].isalpha():
            prefixes.append(first[:-1])
        elif _LEAD.match(first):
            prefixes.append(_LEAD.match(first).group())  # "won't", "co-workers": their first letters
        else:
            always = True
    return _Gate(frozenset(firsts), frozenset(p[:STEM] for p in prefixes), always)


def _slot(phrases: list) -> tuple[tuple[re.Pattern, _Gate], ...]:
    """A slot's phrases as parts, each with its gate: the plain phrases together, each ``re:`` alone."""
    plain = [p for p in phrases if not (isinstance(p, str) and p.startswith("re:"))]
    parts = [(_words_regex([_phrase_regex(p) for p in plain]), _gate(plain))] if plain else []
    parts += [(_words_regex([_phrase_regex(p)]), _gate([p])) for p in phrases if p not in plain]
    return tuple(parts)


@dataclass(frozen=True)
class _Lexicon:
    lang: str
    slots: dict[str, tuple[tuple[re.Pattern, _Gate], ...]]
    negation: re.Pattern | None
    conditional: re.Pattern | None
    clause_break: re.Pattern | None
    rules: tuple[Rule, ...]
    acronyms: frozenset[str]
    parts: dict[str, tuple[frozenset[str], tuple[re.Pattern, ...]]]
    markers: frozenset[str]         # common words that tell the language apart


#: Slots with a job of their own (not usable in rules).
_SPECIAL = ("negation", "conditional", "clause_break")


@cache
def categories() -> dict[str, dict]:
    raw = yaml.safe_load((DATA / "categories.yaml").read_text(encoding="utf-8"))
    unknown = set(raw) - set(CATEGORIES)
    if unknown:
        raise ToneDataError(f"categories.yaml: unknown categories {sorted(unknown)}")
    return raw


@cache
def lexicon(lang: str) -> _Lexicon:
    lang = lang_of(lang)
    path = DATA / "rules" / f"{lang}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    laws = categories()
    slots = {name: _slot(phrases) for name, phrases in (raw.get("slots") or {}).items() if name not in _SPECIAL}
    neg = (raw.get("slots") or {}).get("negation")
    cond = (raw.get("slots") or {}).get("conditional")
    brk = (raw.get("slots") or {}).get("clause_break")
    rules = []
    for i, entry in enumerate(raw.get("rules") or []):
        rid = entry.get("id") or f"rule {i + 1}"
        cat = entry.get("category")
        if cat not in CATEGORIES:
            raise ToneDataError(f"{path.name}: rule {rid}: category {cat!r} is not one of {', '.join(CATEGORIES)}")
        names = list(entry.get("all") or [])
        if entry.get("phrases"):
            own = f"{rid}#phrases"
            slots[own] = _slot(entry["phrases"])
            names.append(own)
        missing = [n for n in [*names, *(entry.get("unless") or [])] if n not in slots]
        if missing or not names:
            raise ToneDataError(f"{path.name}: rule {rid}: unknown slots {missing}" if missing
                                else f"{path.name}: rule {rid}: needs `phrases` or `all`")
        negatable = entry.get("negatable") or []
        negatable = [negatable] if isinstance(negatable, str) else negatable
        rules.append(Rule(id=rid, category=cat, law=entry.get("law") or laws[cat]["law"],
                          what=entry.get("what", ""), slots=tuple(names), negatable=frozenset(negatable),
                          unless=tuple(entry.get("unless") or ()),
                          allowed_stages=frozenset(entry.get("allowed_stages") or ())))
    parts_raw = yaml.safe_load((DATA / f"{lang}.yaml").read_text(encoding="utf-8"))
    parts = {}
    for part in PARTS:
        spec = (parts_raw.get("parts") or {}).get(part) or {}
        regexes = [_words_regex([_phrase_regex(p) for p in spec.get("words", [])])] if spec.get("words") else []
        regexes += [re.compile(p, re.I) for p in spec.get("patterns", [])]
        parts[part] = (frozenset(spec.get("variables", [])), tuple(regexes))
    return _Lexicon(lang=lang, slots=slots,
                    negation=_words_regex([_phrase_regex(p) for p in neg]) if neg else None,
                    conditional=_words_regex([_phrase_regex(p) for p in cond]) if cond else None,
                    clause_break=_words_regex([_phrase_regex(p) for p in brk]) if brk else None,
                    rules=tuple(rules), acronyms=frozenset(a.upper() for a in parts_raw.get("acronyms", [])),
                    parts=parts, markers=frozenset(_fold(w) for w in raw.get("markers") or ()))


# ---- which languages a text is written in -----------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_TOKEN = re.compile(r"[^\W\d_]+")
_LETTER_HINTS = {"pt": re.compile(r"[ãõç]|\bvoce\b|\bnao\b", re.I), "es": re.compile(r"[ñ¿¡]", re.I)}


def sentences(text: str) -> list[tuple[int, str]]:
    """(start offset, sentence) pairs; a sentence ends at . ! ? ; or a line break."""
    out, start = [], 0
    for m in _SENTENCE.finditer(text):
        if text[start:m.start()].strip():
            out.append((start, text[start:m.start()]))
        start = m.end()
    if text[start:].strip():
        out.append((start, text[start:]))
    return out


def detect_languages(text: str) -> tuple[str, ...]:
    """The languages a piece of text may be written in, most likely first (empty if it has no words).

    Scores are counts of each language's common words; every language scoring at least a third of the
    best is kept, so a sentence that could be Spanish or Portuguese is checked as both.
    """
    tokens = _TOKEN.findall(_fold(text))
    scores = {}
    for lang in LANGS:
        markers = lexicon(lang).markers
        score = sum(1 for t in tokens if t in markers)
        hint = _LETTER_HINTS.get(lang)
        if hint and hint.search(text):
            score += 2
        scores[lang] = score
    best = max(scores.values())
    if best == 0:
        return ()
    return tuple(sorted((lang for lang, s in scores.items() if s * 3 >= best), key=lambda k: -scores[k]))


# ---- the check ----------------------------------------------------------------------------------------

_LINK = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_WORD = re.compile(r"[^\W\d_]+")
_BANGS = re.compile(r"!{2,}|¡{2,}")


_CLAUSE = re.compile(r"[,;:()«»\"]")


def _negated(lex: _Lexicon, before_text: str) -> bool:
    """A negation word among the last few words of ``before_text``, in the same clause.

    A condition ("si no paga, informaremos...", "if you do not pay") is not a negation of what follows:
    the clause ends at a comma or at a ``clause_break`` ("... or we will"), and the language's
    ``conditional`` phrases are removed first. "Never publish or share" negates both verbs.
    """
    if lex.negation is None:
        return False
    clause = _CLAUSE.split(before_text)[-1]
    if lex.clause_break is not None:
        clause = lex.clause_break.split(clause)[-1]
    if lex.conditional is not None:
        clause = lex.conditional.sub(" ", clause)
    before = clause.split()[-NEGATION_REACH:]
    return bool(lex.negation.search(" ".join(before)))


class _Document:
    """One text, folded once; each slot's matches found once over the whole text and shared by its
    sentences (a message of ten sentences costs one scan per slot, not ten)."""

    def __init__(self, plain: str, declared: str):
        self.plain, self.declared = plain, declared
        self.folded = _fold(plain)
        self.tokens = frozenset(_TOKEN.findall(self.folded))
        self.stems = _stems(self.tokens)
        self._hits: dict[tuple[str, str, int], list[re.Match]] = {}
        self._words: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._rules: dict[str, tuple[Rule, ...]] = {}

    def rules(self, lex: _Lexicon) -> tuple[Rule, ...]:
        """The language's rules that may fire somewhere in this text: every slot's gate is open
        (a rule with a slot that cannot match anywhere is dropped before any regex runs)."""
        if lex.lang not in self._rules:
            self._rules[lex.lang] = tuple(
                rule for rule in lex.rules
                if all(any(gate.open(self.tokens, self.stems) for _r, gate in lex.slots[name]) for name in rule.slots))
        return self._rules[lex.lang]

    def hits(self, lex: _Lexicon, name: str, start: int, end: int) -> list[re.Match]:
        """The slot's matches in [start, end): from one scan of the whole text for the declared
        language, from a scan of just that sentence for a language only some sentences are in."""
        whole = lex.lang == self.declared
        key = (lex.lang, name, -1 if whole else start)
        if key not in self._hits:
            lo, hi = (0, len(self.folded)) if whole else (start, end)
            if whole:
                tokens, stems = self.tokens, self.stems
            else:
                if start not in self._words:
                    words = frozenset(_TOKEN.findall(self.folded, lo, hi))
                    self._words[start] = (words, _stems(words))
                tokens, stems = self._words[start]
            self._hits[key] = sorted((m for regex, gate in lex.slots[name] if gate.open(tokens, stems)
                                      for m in regex.finditer(self.folded, lo, hi)), key=lambda m: m.start())
        found = self._hits[key]
        return found if not whole else [m for m in found if start <= m.start() < end]


def _sentence_findings(lex: _Lexicon, doc: _Document, start: int, end: int, stage: str | None,
                       found: dict, single_only: bool = False) -> None:
    cache: dict[str, list[re.Match]] = {}

    def hits(name: str) -> list[re.Match]:
        if name not in cache:
            cache[name] = doc.hits(lex, name, start, end)
        return cache[name]

    for rule in doc.rules(lex):
        if stage and stage in rule.allowed_stages:
            continue
        if single_only and len(rule.slots) > 1:
            continue
        spans = []
        for name in rule.slots:
            matches = hits(name)
            if name in rule.negatable:
                matches = [m for m in matches if not _negated(lex, doc.folded[start:m.start()])]
            if not matches:
                break
            spans.append(matches[0])
        else:
            if any(hits(name) for name in rule.unless):
                continue
            key = (lex.lang, rule.id)
            words = found.setdefault(key, (rule, []))[1]
            for m in spans:
                hit = doc.plain[m.start():m.end()]
                if hit not in words:
                    words.append(hit)


def check(text: str, lang: str = "es", *, stage: str | None = None, require: tuple[str, ...] = PARTS,
          exempt: tuple[str, ...] = ()) -> ToneResult:
    """Check one message (or template) and return its findings.

    ``lang`` is the language the text is declared in; the check also reads each sentence in every
    language it appears to be written in. ``stage`` is the dunning stage the message belongs to
    ("legal", "mediacion"...), which silences the rules whose ``allowed_stages`` name it. ``require``
    lists the parts the message must contain. ``exempt`` are strings to ignore for shouting (an
    organization called "ACME" is not shouting). Template tags are removed before the rules run; their
    variable names count as parts.
    """
    declared = lang_of(lang)
    variables = {m.group(1).split(".")[0] for m in _TAG.finditer(text) if m.group(1)}
    full = _TAG.sub(" ", text)
    # Links and addresses are not words a person reads as tone (a signed token is full of capitals).
    plain = _LINK.sub(" ", full)
    for name in exempt:
        if name:
            plain = plain.replace(name, " ")
    found: dict[tuple[str, str], tuple[Rule, list[str]]] = {}
    seen_langs = [declared]
    doc = _Document(plain, declared)
    for start, sentence in sentences(plain):
        if not _TOKEN.search(sentence):
            continue  # nothing to read: a tag's place, a number, a link
        # A sentence with no common word of any language (a lone insult, "Total: $ 10") is read in
        # all of them, with the rules of one slot: an actor-action-target rule needs grammar words,
        # and those would have told the language.
        detected = detect_languages(sentence)
        langs = [declared, *(x for x in (detected or LANGS) if x != declared)]
        for code in langs:
            if code not in seen_langs:
                seen_langs.append(code)
            _sentence_findings(lexicon(code), doc, start, start + len(sentence), stage, found,
                               single_only=not detected and code != declared)
    findings: list[Finding] = []
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for (code, _rid), (rule, words) in sorted(found.items(), key=lambda kv: order[kv[1][0].category]):
        findings.append(Finding(rule.id, tuple(words), rule.category, rule.law, code))
    acronyms = frozenset().union(*(lexicon(c).acronyms for c in seen_langs))
    shouted = [w for w in _WORD.findall(plain) if len(w) >= 2 and w.isupper() and w.upper() not in acronyms]
    # Shouting is two capitalised words or one long one: a lone brand or bureau name (OXXO, DICOM) is not.
    if len([w for w in shouted if len(w) >= 4]) >= 2 or any(len(w) >= 7 for w in shouted):
        findings.append(Finding("insult.shouting", tuple(dict.fromkeys(shouted)), "insult",
                                categories()["insult"]["law"], declared))
    bangs = _BANGS.findall(plain)
    if bangs or plain.count("!") > 3:
        findings.append(Finding("insult.exclamations", tuple(bangs) or ("!",) * plain.count("!"), "insult",
                                categories()["insult"]["law"], declared))
    folded_full = _fold(full) if require else ""
    for part in require:
        # A part written in any language the text is in counts ("mañana" in the English version).
        for code in seen_langs:
            names, regexes = lexicon(code).parts[part]
            if variables & names or any(r.search(folded_full) or r.search(full) for r in regexes):
                break
        else:
            findings.append(Finding(f"missing:{part}", category="missing"))
    return ToneResult(text=text, findings=tuple(findings), languages=tuple(seen_langs))
