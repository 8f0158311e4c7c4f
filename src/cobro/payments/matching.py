"""Which customer and invoices a bank statement line pays, and why: a pure function of the book.

No Django, no database, no clock: ``Book`` is built from plain values (the open invoices, the
customers, expected amounts of plans and promises, names and accounts people taught us), and
``Book.match(line)`` returns a ``Result`` with a status, the allocations, a confidence between 0 and
1 and the reasons as codes with parameters (``cobro.payments.services`` turns them into one sentence
in the organization's language). Everything the matcher decides can be replayed in a test.

How a line is read, in order:
1. Only booked credits can be payments: debits, bank charges, reversals and pending entries are
   *ignored* (kept, never applied).
2. Who paid: a tax id in the counterparty field or anywhere in the text (RUT, NIT, RFC, NIF/CIF,
   compared in python-stdnum's compact form, so ``76.086.428-5`` = ``760864285``); a payer name or
   account a person assigned to a customer before; invoice numbers in the text as people type them
   (``F-1001``, ``FACT1001``, ``fac 1001``, ``N°1001``, ``0001001``, several in one line); the payer's
   name, compared without accents, legal suffixes (S.A.S., SpA, S. de R.L. de C.V.) or common words.
3. What the amount pays, for that customer, in the line's currency and among invoices issued on or
   before the line's date: the invoices named; one open balance; a combination of open balances
   (a bounded subset sum); a plan instalment; a promise; the balance less the early-payment discount
   on offer; the balance less a small bank fee (the organization's tolerance); else a partial payment.
4. The confidence comes from the pair (how sure the payer is, how exactly the amount is explained);
   at or above the organization's threshold the line is *applied*, else *suggested* with its
   candidate, or *unmatched* when there is none.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from cobro.engine.allocation import OpenItem, allocate

APPLIED, SUGGESTED, UNMATCHED, IGNORED, DUPLICATE = "applied", "suggested", "unmatched", "ignored", "duplicate"
STATUSES = (APPLIED, SUGGESTED, UNMATCHED, IGNORED, DUPLICATE)
DEFAULT_THRESHOLD = 0.9
#: Bank fees a payer's bank may deduct from a transfer, in major units, when the organization sets none.
DEFAULT_FEE_TOLERANCE = {"CLP": 1500, "COP": 15000, "MXN": 25, "EUR": 5, "USD": 5}
SUBSET_LIMIT = 12
NAME_CANDIDATES = 60  # more customers than this sharing two words of the payer's name: not an identity  # open invoices of one customer tried in combinations (2^12 sums at most)


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    ref: str
    name: str
    tax_id: str = ""
    country: str = ""


@dataclass(slots=True)
class Invoice:
    id: int
    ref: str
    customer_id: int
    currency: str
    open_amount: int
    issue_date: dt.date
    due_date: dt.date
    discount: int = 0  # early-payment discount on offer today, in minor units


@dataclass(frozen=True, slots=True)
class Expected:
    """An amount the customer said or agreed they would pay: a plan instalment or a promise."""

    customer_id: int
    currency: str
    amount: int
    kind: str  # "instalment" or "promise"
    invoice_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    position: int
    date: dt.date
    amount: int  # signed minor units: positive is money in
    currency: str
    text: str = ""
    counterparty: str = ""
    counterparty_account: str = ""
    tax_id: str = ""
    reference: str = ""
    kind: str = "credit"  # credit, debit, fee, reversal, pending


@dataclass(frozen=True)
class Result:
    status: str
    confidence: float = 0.0
    customer_id: int | None = None
    allocations: tuple[tuple[int, int], ...] = ()  # (invoice id, minor units)
    credit: int = 0  # what is left as the customer's credit
    writeoff: tuple[tuple[int, int], ...] = ()  # a bank fee forgiven: (invoice id, minor units)
    reasons: tuple[tuple[str, dict], ...] = ()  # (code, parameters), read in order as one sentence

    @property
    def invoice_ids(self) -> list[int]:
        return [i for i, _ in self.allocations]


# -- normalising what people type -----------------------------------------------------------------

def fold(text: str) -> str:
    """Lower case without accents: "Ferretería ÑUÑOA" -> "ferreteria nunoa"."""
    if not text:
        return ""
    if text.isascii():  # most of what banks write: nothing to take off
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


_LEGAL = {"sa", "sas", "spa", "ltda", "limitada", "eirl", "sl", "slu", "sll", "sac", "saa", "srl", "sc",
          "cv", "sapi", "rl", "cia", "sociedad", "anonima", "y", "e", "de", "del", "la", "las", "el", "los",
          "and", "inc", "llc", "co", "en", "comandita", "responsabilidad"}
#: Words of the bank's own wording, never part of a payer's identity.
_BANKING = {"pago", "pagos", "transf", "transferencia", "transferencias", "tef", "tf", "abono", "deposito",
            "spei", "pse", "ach", "fact", "factura", "facturas", "fac", "fra", "fv", "nro", "num", "rut",
            "nit", "rfc", "cif", "nif", "ref", "referencia", "cta", "cuenta", "recibida", "recibido",
            "desde", "origen", "ordenante", "traspaso", "ingreso", "cobro", "pag", "otros", "bancos",
            "banco", "orden", "por", "recibo", "recepcion", "ctacte", "transfer", "payment", "inv"}
_WORD = re.compile(r"[a-z0-9ñ]+")


def name_tokens(name: str) -> list[str]:
    """The words that identify a company or person: "S. de R.L. de C.V." and "Ltda." are dropped."""
    words = _WORD.findall(fold(name).replace(".", ""))
    return [w for w in words if len(w) > 1 and w not in _LEGAL and not w.isdigit()]


def payer_key(text: str) -> str:
    """How a payer is remembered: the name's words without legal suffixes, numbers or banking words."""
    return " ".join(w for w in name_tokens(text) if w not in _BANKING)


def compact_tax_id(value: str) -> str:
    """The compact form python-stdnum's ``compact`` gives for RUT, NIT, RFC and NIF: no separators."""
    return re.sub(r"[^0-9A-Z&Ñ]", "", fold(value).upper()) if value else ""


def stdnum_compact(value: str, country: str) -> str:
    """A customer's stored tax id in its country's compact form (python-stdnum), or the generic one."""
    try:
        if country == "CL":
            from stdnum.cl import rut as mod
        elif country == "CO":
            from stdnum.co import nit as mod
        elif country == "MX":
            from stdnum.mx import rfc as mod
        elif country == "ES":
            from stdnum.es import nif as mod
        else:
            return compact_tax_id(value)
        return mod.compact(value).upper()
    except Exception:  # a malformed stored id still matches by its characters
        return compact_tax_id(value)


_PREFIX = (r"(?:fact(?:ura)?s?|fac|fct|fra|fv|fe|f|inv|invoice|doc|boleta|bol|n[°ºo]|nro|num|numero|#)")
_REF_RUN = re.compile(r"(?<![a-z])" + _PREFIX + r"[\s.:#°º-]{0,3}(\d[\d/-]*\d|\d)((?:\s*(?:,|;|y|e|and|-|/|\+|&)?\s*\d{3,}(?![\d.]))*)",
                      re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\dA-Za-z])(\d[\d/-]*\d)(?![\d])")
#: Anything that may be a RUT, NIT, RFC or NIF: digits with dots or dashes, letters before or after.
_TAXLIKE = re.compile(r"(?<![0-9A-Za-z])[A-Za-z&Ññ]{0,4}\d[\d.\-]{5,}[\dA-Za-z]{0,3}(?![0-9A-Za-z])")
_SEPARATORS = str.maketrans("", "", ".- ")


_DIGITS = re.compile(r"\d+")


def ref_keys(ref: str) -> list[str]:
    """Keys an invoice number is found by: its digits without leading zeros, and its last group."""
    groups = _DIGITS.findall(ref) if ref else ()
    if not groups:
        return []
    keys = ["".join(groups).lstrip("0")]
    if len(groups) > 1 and len(groups[-1].lstrip("0")) >= 3:
        keys.append(groups[-1].lstrip("0"))
    return [k for k in keys if k]


def mentioned_refs(text: str) -> tuple[list[str], list[str]]:
    """Invoice-number keys in ``text``: (after a word such as FACT or N°, bare numbers)."""
    prefixed: list[str] = []
    for m in _REF_RUN.finditer(text):
        for part in [m.group(1)] + re.findall(r"\d{3,}", m.group(2) or ""):
            prefixed.extend(ref_keys(part))
    bare = []
    for m in _NUMBER.finditer(text):
        for key in ref_keys(m.group(1)):
            if len(key) >= 3 and key not in prefixed:
                bare.append(key)
    return prefixed, bare


# -- the book ----------------------------------------------------------------------------------------

@dataclass
class Book:
    customers: list[Customer]
    invoices: list[Invoice]
    expected: list[Expected] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # learned: folded payer name -> customer id
    accounts: dict[str, int] = field(default_factory=dict)  # learned: compact account -> customer id
    threshold: float = DEFAULT_THRESHOLD
    fee_tolerance: dict[str, int] = field(default_factory=dict)  # currency -> minor units

    def __post_init__(self):
        # Hundreds of thousands of small lists and tuples: the cycle collector would walk them over and
        # over while they are made (none of them forms a cycle).
        paused = gc.isenabled()
        gc.disable()
        try:
            self._index()
        finally:
            if paused:
                gc.enable()

    def _index(self):
        self._customers = {c.id: c for c in self.customers}
        self._by_id = {inv.id: inv for inv in self.invoices}
        self._by_key: dict[str, list[Invoice]] = defaultdict(list)
        self._by_customer: dict[int, list[Invoice]] = defaultdict(list)
        self._by_amount: dict[tuple[str, int], list[Invoice]] = defaultdict(list)
        for inv in sorted(self.invoices, key=lambda i: (i.due_date, i.ref, i.id)):
            for key in ref_keys(inv.ref):
                self._by_key[key].append(inv)
            self._by_customer[inv.customer_id].append(inv)
            self._by_amount[(inv.currency, inv.open_amount)].append(inv)
        self._tax: dict[str, int | None] = {}
        for c in self.customers:
            if not c.tax_id:
                continue
            full = stdnum_compact(c.tax_id, c.country)
            forms = {full}
            if c.country in ("CL", "CO") and full[:-1].isdigit() and len(full) >= 8:
                forms.add(full[:-1])  # the number without its check digit, as many people type it
            for form in forms:
                self._tax[form] = c.id if self._tax.get(form, c.id) == c.id else None  # None: shared
        self._words: dict[str, list[int]] = defaultdict(list)
        self._pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._single: dict[str, list[int]] = defaultdict(list)
        self._name_tokens: dict[int, list[str]] = {}
        for c in self.customers:
            tokens = list(dict.fromkeys(name_tokens(c.name)))
            self._name_tokens[c.id] = tokens
            for t in tokens:
                self._words[t].append(c.id)
            if len(tokens) == 1:
                self._single[tokens[0]].append(c.id)
            for i, a in enumerate(tokens[:6]):
                for b in tokens[i + 1:6]:
                    self._pairs[(a, b) if a < b else (b, a)].append(c.id)
        # Rare words identify; "comercial" or "ferreteria", shared by hundreds, barely do.
        self._weights = {w: 1.0 / (1 + len(ids) ** 0.5) for w, ids in self._words.items()}
        self._name_weight = {cid: sum(self._weights[t] for t in tokens) for cid, tokens in self._name_tokens.items()}
        self._learned_names = {payer_key(k): v for k, v in self.names.items() if payer_key(k)}
        self._learned_accounts = {compact_tax_id(k): v for k, v in self.accounts.items() if compact_tax_id(k)}
        self._expected: dict[int, list[Expected]] = defaultdict(list)
        for e in self.expected:
            self._expected[e.customer_id].append(e)

    # Applied lines use up balances, so a later line of the same file cannot pay the same invoice twice.
    def consume(self, allocations) -> None:
        for inv_id, amount in allocations:
            inv = self._by_id.get(inv_id)
            if inv is None:
                continue
            bucket = self._by_amount.get((inv.currency, inv.open_amount))
            if bucket:
                bucket[:] = [x for x in bucket if x is not inv]
            inv.open_amount = max(0, inv.open_amount - amount)
            if inv.open_amount:
                self._by_amount[(inv.currency, inv.open_amount)].append(inv)

    def customer(self, customer_id: int) -> Customer | None:
        return self._customers.get(customer_id)

    # -- matching -------------------------------------------------------------------------------

    def match(self, line: Line) -> Result:
        if line.kind != "credit" or line.amount <= 0:
            kind = line.kind if line.kind in ("fee", "reversal", "pending") else "debit"
            return Result(IGNORED, 1.0, reasons=((f"ignored_{kind}", {}),))
        text = f"{line.text} {line.reference}"
        who = self._who(line, text)
        prefixed, bare = mentioned_refs(text)
        hits, wrong_currency = self._invoices_named(prefixed, bare, line)
        strong = [(cid, why) for cid, why in who if why[0] in ("tax", "alias_name", "alias_account")]
        named_customers = list(dict.fromkeys(inv.customer_id for inv, _ in hits))

        if strong:
            cid, why = strong[0]
            if len({c for c, _ in strong}) > 1:
                return self._suggest_customers([c for c, _ in strong], "ambiguous_customer")
            mine = [inv for inv, _ in hits if inv.customer_id == cid]
            if hits and not mine:
                # The tax id says one customer, the invoice numbers another: a person decides.
                other = hits[0][0]
                return self._explain(line, other.customer_id, [other], [("conflict", {"customer": self._name(cid)})],
                                     level="conflict")
            if mine:
                reasons = [why, ("invoice", {"invoices": _refs(mine), "customer": self._name(cid)})]
                return self._explain(line, cid, mine, reasons, level="strong")
            return self._explain(line, cid, [], [why], level="strong")

        if named_customers:
            any_prefixed = any(p for _, p in hits)
            # The name only corroborates here: read it when it can change the outcome.
            names = ({cid: why for cid, why in self._who_by_name(line, text)}
                     if len(named_customers) > 1 or not any_prefixed or line.counterparty else {})
            if len(named_customers) > 1:
                agreeing = [c for c in named_customers if c in names]
                if len(agreeing) != 1:
                    return self._suggest_customers(named_customers, "ambiguous_customer")
                named_customers = agreeing
            cid = named_customers[0]
            mine = [inv for inv, _ in hits if inv.customer_id == cid]
            is_prefixed = any(p for inv, p in hits if inv.customer_id == cid)
            reasons = [("invoice", {"invoices": _refs(mine), "customer": self._name(cid)})]
            if cid in names:
                reasons.insert(0, names[cid])
                level = "strong" if names[cid][0] == "name" else "invoice"
            else:
                level = "invoice" if is_prefixed else "bare"
            return self._explain(line, cid, mine, reasons, level=level)

        if wrong_currency:
            return Result(UNMATCHED, 0.0, reasons=(("currency", {"invoices": wrong_currency,
                                                                 "currency": line.currency}),))
        who = self._who_by_name(line, text)
        if who:
            if len(who) > 1:
                return self._suggest_customers([c for c, _ in who], "ambiguous_customer")
            cid, why = who[0]
            return self._explain(line, cid, [], [why], level="name" if why[0] == "name" else "name_weak")

        candidates = [inv for inv in self._by_amount.get((line.currency, line.amount), [])
                      if inv.open_amount and inv.issue_date <= line.date]
        if len(candidates) == 1:
            inv = candidates[0]
            return Result(SUGGESTED, 0.4, inv.customer_id, ((inv.id, line.amount),),
                          reasons=(("amount_only", {"invoices": inv.ref, "customer": self._name(inv.customer_id)}),))
        return Result(UNMATCHED, 0.0, reasons=(("unmatched", {}),))

    def _name(self, cid: int) -> str:
        c = self._customers.get(cid)
        return c.name if c else str(cid)

    def _suggest_customers(self, ids: list[int], code: str) -> Result:
        names = ", ".join(self._name(c) for c in list(dict.fromkeys(ids))[:3])
        return Result(SUGGESTED, 0.3, ids[0], reasons=((code, {"customers": names}),))

    def _who(self, line: Line, text: str) -> list[tuple[int, tuple[str, dict]]]:
        """Customers the line names, strongest evidence first, each once."""
        found: list[tuple[int, tuple[str, dict]]] = []
        seen: set[int] = set()

        def add(cid, code, params):
            if cid is not None and cid not in seen and cid in self._customers:
                seen.add(cid)
                found.append((cid, (code, {**params, "customer": self._name(cid)})))

        for raw in ([line.tax_id] if line.tax_id else []) + _TAXLIKE.findall(f"{line.counterparty} {text}"):
            key = raw.translate(_SEPARATORS).upper()
            if len(key) >= 8:
                cid = self._tax.get(key)
                if cid is not None:
                    add(cid, "tax", {"tax_id": raw.strip(".-")})
        if line.counterparty_account:
            add(self._learned_accounts.get(compact_tax_id(line.counterparty_account)), "alias_account",
                {"account": line.counterparty_account})
        payer = payer_key(line.counterparty)
        if payer:
            add(self._learned_names.get(payer), "alias_name", {"payer": line.counterparty})
        if self._learned_names and not payer:
            folded = " " + payer_key(text) + " "
            for alias, cid in self._learned_names.items():
                if f" {alias} " in folded:
                    add(cid, "alias_name", {"payer": alias.upper()})
                    break
        return found

    def _who_by_name(self, line: Line, text: str) -> list[tuple[int, tuple[str, dict]]]:
        return [(cid, ("name" if score >= 0.85 else "name_weak", {"customer": self._name(cid)}))
                for cid, score in self._by_name(line.counterparty or text, bool(line.counterparty))
                if cid in self._customers]

    def _by_name(self, text: str, is_name_field: bool) -> list[tuple[int, float]]:
        words = [w for w in name_tokens(text) if w not in _BANKING]
        if not words:
            return []
        present = set(words)
        # Banks cut the payer's name at 16 to 35 characters: the last word of the field may be cut.
        last = words[-1] if is_name_field and len(words[-1]) >= 3 else ""
        weight = self._weights
        # Candidates: customers whose name shares two words with the line (one, for one-word names),
        # found through an index of word pairs, so a common word never drags in thousands of names.
        usable = [w for w in dict.fromkeys(words) if w in self._words][:10]
        if last:
            usable += [w for w, _ids in self._prefix_candidates(last)][:5]
        candidates: set[int] = set()
        for i, a in enumerate(usable):
            found = self._single.get(a, ())
            if len(found) > NAME_CANDIDATES:
                return []  # the union can only be larger: the name identifies nobody (below)
            candidates.update(found)
            for b in usable[i + 1:]:
                found = self._pairs.get((a, b) if a < b else (b, a), ())
                if len(found) > NAME_CANDIDATES:
                    return []
                candidates.update(found)
        if not candidates or len(candidates) > NAME_CANDIDATES:
            # Sixty customers sharing the words of a name: the name identifies nobody.
            return []
        line_total = sum(weight.get(w, 1.0) for w in present)
        out = []
        for cid in candidates:
            tokens = self._name_tokens[cid]
            got = 0.0
            matched = 0
            for t in tokens:
                if t in present or (last and t.startswith(last)):
                    got += weight[t]
                    matched += 1
            total = self._name_weight[cid]
            if not total or matched < min(2, len(tokens)) or got / total < 0.6:
                continue
            score = got / total
            if is_name_field:
                # The payer field holds only a name: words of it the customer's name lacks count against.
                line_got = 0.0
                for w in present:
                    if w in tokens or (w == last and any(t.startswith(last) for t in tokens)):
                        line_got += weight.get(w, 1.0)
                cover = line_got / line_total if line_total else 0.0
                score = 2 * score * cover / (score + cover) if score + cover else 0.0
            out.append((cid, score))
        out.sort(key=lambda x: -x[1])
        if len(out) > 1 and out[1][1] > out[0][1] - 0.15:
            return [(cid, min(sc, 0.7)) for cid, sc in out[:3]]  # several look alike: weak evidence only
        return out[:1]

    def _prefix_candidates(self, stem: str):
        if not hasattr(self, "_by_prefix"):
            self._by_prefix: dict[str, list[str]] = defaultdict(list)
            for w in self._words:
                if len(w) >= 3:
                    self._by_prefix[w[:3]].append(w)
        return [(w, self._words[w]) for w in self._by_prefix.get(stem[:3], ()) if w.startswith(stem) and w != stem]

    def _invoices_named(self, prefixed, bare, line: Line):
        hits: list[tuple[Invoice, bool]] = []
        wrong_currency: list[str] = []
        seen: set[int] = set()
        written = None
        for keys, is_prefixed in ((prefixed, True), (bare, False)):
            for key in keys:
                for inv in self._by_key.get(key, ()):
                    if inv.id in seen:
                        continue
                    if not is_prefixed:
                        # "A-1003" written whole counts as much as a number after "FACT".
                        written = written if written is not None else re.sub(r"[^0-9A-Z]", "", fold(
                            f"{line.text} {line.reference}").upper())
                        if re.sub(r"[^0-9A-Z]", "", inv.ref.upper()) in written and not inv.ref.isdigit():
                            is_prefixed_here = True
                        else:
                            is_prefixed_here = False
                    else:
                        is_prefixed_here = True
                    if not inv.open_amount or inv.issue_date > line.date:
                        continue
                    if inv.currency != line.currency:
                        wrong_currency.append(inv.ref)
                        continue
                    seen.add(inv.id)
                    hits.append((inv, is_prefixed_here))
        if any(p for _, p in hits):  # numbers after FACT/N° win over numbers that happen to match
            hits = [(inv, p) for inv, p in hits if p]
        return hits, wrong_currency

    # -- the amount -------------------------------------------------------------------------------

    def _explain(self, line: Line, cid: int, named: list[Invoice], reasons: list, *, level: str) -> Result:
        amount, cur = line.amount, line.currency
        open_invoices = [inv for inv in self._by_customer.get(cid, ())
                         if inv.open_amount and inv.currency == cur and inv.issue_date <= line.date]
        tolerance = self.fee_tolerance.get(cur, 0)
        kind, chosen, writeoff = self._amount_kind(amount, named, open_invoices, cid, cur, tolerance)
        params = {"invoices": _refs(chosen), "currency": cur}
        if kind == "fee":
            params["diff"] = writeoff[0][1]
        confidence = max(0.0, round(_AMOUNT[kind] - _PENALTY[level], 3))
        if level == "conflict":
            confidence = min(confidence, 0.5)
        reasons = list(reasons) + [(kind, params)]
        if kind == "no_open":
            return Result(SUGGESTED if level in ("strong", "name") else UNMATCHED, confidence, cid,
                          credit=amount, reasons=tuple(reasons))
        items = [OpenItem(inv.id, inv.due_date, inv.open_amount, inv.ref) for inv in (chosen or open_invoices)]
        applied, rest = allocate(amount, items, explicit=[i.invoice_id for i in items])
        status = APPLIED if confidence >= self.threshold else SUGGESTED
        return Result(status, confidence, cid, tuple(applied), rest, tuple(writeoff), tuple(reasons))

    def _amount_kind(self, amount: int, named: list[Invoice], open_invoices: list[Invoice], cid: int, cur: str,
                     tolerance: int):
        if named:
            total = sum(i.open_amount for i in named)
            off = sum(i.discount for i in named)
            if amount == total:
                return "exact_refs", named, ()
            if off and amount == total - off:
                return "discount", named, ()
            if 0 < total - amount <= tolerance:
                return "fee", named, ((named[-1].id, total - amount),)
            if amount < total:
                return "partial_refs", named, ()
            return "over_refs", named, ()
        if not open_invoices:
            return "no_open", [], ()
        same = [i for i in open_invoices if i.open_amount == amount]
        if len(same) == 1:
            return "exact_one", same, ()
        if len(same) > 1:
            return "exact_one_ambiguous", same[:1], ()
        for e in self._expected.get(cid, ()):
            if e.currency == cur and e.amount == amount:
                wanted = [i for i in open_invoices if i.id in e.invoice_ids] or open_invoices
                return e.kind, wanted, ()
        combos = _subsets(amount, open_invoices[:SUBSET_LIMIT])
        if len(combos) == 1:
            return "subset", combos[0], ()
        if len(combos) > 1:
            return "subset_ambiguous", combos[0], ()
        discounted = [i for i in open_invoices if i.discount and i.open_amount - i.discount == amount]
        if len(discounted) == 1:
            return "discount", discounted, ()
        short = [i for i in open_invoices if 0 < i.open_amount - amount <= tolerance]
        if len(short) == 1:
            return "fee", short, ((short[0].id, short[0].open_amount - amount),)
        if amount < sum(i.open_amount for i in open_invoices):
            return "partial", [], ()
        return "over", [], ()


# Confidence by how exactly the amount is explained, less a penalty for how weakly the payer is known.
_AMOUNT = {"exact_refs": 0.99, "exact_one": 0.97, "instalment": 0.95, "promise": 0.95, "subset": 0.94,
           "discount": 0.95, "fee": 0.93, "partial_refs": 0.92, "exact_one_ambiguous": 0.85,
           "subset_ambiguous": 0.7, "partial": 0.75, "over_refs": 0.8, "over": 0.6, "no_open": 0.4}
_PENALTY = {"strong": 0.0, "invoice": 0.02, "name": 0.05, "bare": 0.07, "name_weak": 0.25, "conflict": 0.3}


def _refs(invoices: list[Invoice]) -> str:
    return ", ".join(i.ref for i in invoices)


def _subsets(amount: int, invoices: list[Invoice]) -> list[list[Invoice]]:
    """Every combination of two or more of ``invoices`` whose balances add up to ``amount`` (at most 2)."""
    if len(invoices) < 2 or amount > sum(i.open_amount for i in invoices):
        return []
    found: list[list[Invoice]] = []
    # sums reachable -> the first way found (index lists); stop at two ways, that is "ambiguous".
    reach: dict[int, list[tuple[int, ...]]] = {0: [()]}
    for idx, inv in enumerate(invoices):
        for total, ways in list(reach.items()):
            new = total + inv.open_amount
            if new > amount:
                continue
            bucket = reach.setdefault(new, [])
            for way in ways:
                if len(bucket) >= 2:
                    break
                bucket.append(way + (idx,))
    for way in reach.get(amount, []):
        if len(way) >= 2:
            found.append([invoices[i] for i in way])
    return found[:2]
