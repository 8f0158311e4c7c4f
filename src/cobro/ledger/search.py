"""One search over an organization's book: customers, invoice numbers, contacts, e-mails, phones.

A LIKE over every table would read 200,000 customers, their contacts and invoices on each key
stroke. Instead every searchable value is written once, normalised, into ``SearchKey``: accents
and case removed ("Peña" → "pena"), punctuation made a space, and one key per word start ("la
candelaria sas", "candelaria sas", "sas"), so a query is a prefix match on one indexed column. Ids
and numbers are also kept compact ("76.086.428-5" → "760864285", "+56 9 1111 1111" →
"56911111111" and the national "911111111"), so they are found however they are typed.

Keys follow the ledger's writes: saves of customers, contacts and invoices through the ORM (signals
connected in ``LedgerConfig.ready``), the importer's bulk writes (``reindex``/``index_invoices``),
the demo. ``cobro reindex_search`` rebuilds an organization's keys from scratch.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q

#: Word starts indexed per value; a name longer than this is found by its first words.
MAX_WORDS = 6
KEY_LENGTH = 100
#: Rows read per prefix; more matches than this are a query too short to be useful.
CANDIDATES = 200
MIN_QUERY = 2

CUSTOMER_KINDS = ("name", "ref", "tax_id")
CONTACT_KINDS = ("contact", "email", "phone")
INVOICE_KINDS = ("invoice",)
#: The result groups, in the order a person reads them.
GROUPS = {"name": "customers", "ref": "customers", "tax_id": "customers", "invoice": "invoices",
          "contact": "contacts", "email": "contacts", "phone": "contacts"}

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no accents, every run of punctuation or space one space: "Peña-Ruiz" → "pena ruiz"."""
    text = text or ""
    if text.isascii():  # most references, numbers, e-mails and phones: no accents to take off
        return _NOT_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", bare.replace("ß", "ss")).strip()


def compact(text: str) -> str:
    """Letters and digits only, folded: "76.086.428-5" → "760864285"."""
    return fold(text).replace(" ", "")


def word_keys(text: str) -> list[str]:
    """One key per word start (words of one letter start none): what a prefix query can find."""
    words = fold(text).split()
    keys = []
    for i, word in enumerate(words[:MAX_WORDS]):
        if len(word) > 1 or i == 0:
            keys.append(" ".join(words[i:])[:KEY_LENGTH])
    return keys


def phone_keys(text: str) -> list[str]:
    digits = compact(text)
    keys = [digits] if digits else []
    if text and text.strip().startswith("+"):
        try:
            import phonenumbers

            national = str(phonenumbers.parse(text.strip(), None).national_number)
        except Exception:  # noqa: BLE001 - an unparseable number is still found by its digits
            national = ""
        if national and national != digits:
            keys.append(national)
    return keys


def id_keys(text: str) -> list[str]:
    """A reference or number: compact ("f10001", which also serves "F-10001" as typed, since a folded
    prefix stays a prefix once its spaces go) and from each later word ("10001")."""
    tight = compact(text)[:KEY_LENGTH]
    return [tight, *word_keys(text)[1:]] if tight else []


def _rows(org_id: int, customer_id: int, kind: str, label: str, keys, source_id=None) -> list[tuple]:
    label = (label or "")[:200]
    return [(org_id, customer_id, kind, k, label, source_id) for k in dict.fromkeys(keys) if k]


def customer_rows(org_id, pk, name, ref, tax_id):
    return (_rows(org_id, pk, "name", name, word_keys(name)) + _rows(org_id, pk, "ref", ref, id_keys(ref))
            + _rows(org_id, pk, "tax_id", tax_id, [compact(tax_id)[:KEY_LENGTH]]))


def contact_rows(org_id, customer_id, pk, name, email, phone, whatsapp):
    out = _rows(org_id, customer_id, "contact", name, word_keys(name), pk)
    out += _rows(org_id, customer_id, "email", email, word_keys(email), pk)
    for number in dict.fromkeys(n for n in (phone, whatsapp) if n):
        out += _rows(org_id, customer_id, "phone", number, phone_keys(number), pk)
    return out


def invoice_rows(org_id, customer_id, pk, ref):
    return _rows(org_id, customer_id, "invoice", ref, id_keys(ref), pk)


FIELDS = ["organization", "customer", "kind", "key", "label", "source_id"]


def _save(rows: list[tuple]) -> None:
    """Rows straight through the driver (COPY, executemany): a rebuild writes millions."""
    from cobro.ledger.importing import _insert
    from cobro.ledger.models import SearchKey

    if connection.vendor == "sqlite":
        _insert(SearchKey, FIELDS, rows)
    else:
        for i in range(0, len(rows), 50000):
            _insert(SearchKey, FIELDS, rows[i:i + 50000])


def reindex(org, customer_ids=None) -> int:
    """Rebuild the keys of some customers (None: every customer of ``org``); returns rows written."""
    from cobro.ledger.models import Contact, Customer, Invoice, SearchKey

    org_id = getattr(org, "pk", org)
    ids = None if customer_ids is None else list(customer_ids)
    written = 0
    with transaction.atomic():
        keys = SearchKey.objects.filter(organization_id=org_id)
        customers = Customer.objects.filter(organization_id=org_id)
        contacts = Contact.objects.filter(organization_id=org_id)
        invoices = Invoice.objects.filter(organization_id=org_id)
        chunks = [None] if ids is None else [ids[i:i + 5000] for i in range(0, len(ids), 5000)]
        for chunk in chunks:
            where = {} if chunk is None else {"customer_id__in": chunk}
            keys.filter(**where).delete()
            rows = []
            for pk, name, ref, tax_id in customers.filter(**({} if chunk is None else {"pk__in": chunk})) \
                    .values_list("pk", "name", "ref", "tax_id").iterator(chunk_size=5000):
                rows += customer_rows(org_id, pk, name, ref, tax_id)
                if len(rows) > 20000:
                    _save(rows)
                    written, rows = written + len(rows), []
            for pk, cid, name, email, phone, whatsapp in contacts.filter(**where).values_list(
                    "pk", "customer_id", "name", "email", "phone", "whatsapp").iterator(chunk_size=5000):
                rows += contact_rows(org_id, cid, pk, name, email, phone, whatsapp)
                if len(rows) > 20000:
                    _save(rows)
                    written, rows = written + len(rows), []
            for pk, cid, ref in invoices.filter(**where).values_list("pk", "customer_id", "ref") \
                    .iterator(chunk_size=5000):
                rows += invoice_rows(org_id, cid, pk, ref)
                if len(rows) > 20000:
                    _save(rows)
                    written, rows = written + len(rows), []
            _save(rows)
            written += len(rows)
    return written


def index_invoices(org, refs) -> None:
    """Keys for invoices just written in bulk (the importer), by their numbers."""
    from cobro.ledger.models import Invoice, SearchKey

    org_id = getattr(org, "pk", org)
    refs = list(refs)
    for i in range(0, len(refs), 5000):
        found = list(Invoice.objects.filter(organization_id=org_id, ref__in=refs[i:i + 5000])
                     .values_list("pk", "customer_id", "ref"))
        # By customer first: the (customer, kind) index finds the rows, source_id has none.
        SearchKey.objects.filter(customer_id__in={cid for _pk, cid, _r in found}, kind="invoice",
                                 source_id__in=[pk for pk, _c, _r in found]).delete()
        _save([row for pk, cid, ref in found for row in invoice_rows(org_id, cid, pk, ref)])


# ---------------------------------------------------------------- following ORM writes
def _replace(org_id, customer_id, kinds, source_id, rows) -> None:
    from cobro.ledger.models import SearchKey

    with transaction.atomic():
        SearchKey.objects.filter(organization_id=org_id, customer_id=customer_id, kind__in=kinds,
                                 source_id=source_id).delete()
        _save(rows)


def customer_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields is not None and not {"name", "ref", "tax_id"} & set(update_fields)):
        return
    _replace(instance.organization_id, instance.pk, CUSTOMER_KINDS, None,
             customer_rows(instance.organization_id, instance.pk, instance.name, instance.ref, instance.tax_id))


def contact_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields is not None and not {"name", "email", "phone", "whatsapp"} & set(update_fields)):
        return
    _replace(instance.organization_id, instance.customer_id, CONTACT_KINDS, instance.pk,
             contact_rows(instance.organization_id, instance.customer_id, instance.pk, instance.name,
                          instance.email, instance.phone, instance.whatsapp))


def invoice_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields is not None and "ref" not in update_fields):
        return
    _replace(instance.organization_id, instance.customer_id, INVOICE_KINDS, instance.pk,
             invoice_rows(instance.organization_id, instance.customer_id, instance.pk, instance.ref))


def source_deleted(sender, instance, **kwargs) -> None:
    from cobro.ledger.models import Invoice, SearchKey

    kinds = INVOICE_KINDS if isinstance(instance, Invoice) else CONTACT_KINDS
    SearchKey.objects.filter(customer_id=instance.customer_id, kind__in=kinds, source_id=instance.pk).delete()


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from cobro.ledger.models import Contact, Customer, Invoice

    post_save.connect(customer_saved, sender=Customer, dispatch_uid="search-customer")
    post_save.connect(contact_saved, sender=Contact, dispatch_uid="search-contact")
    post_save.connect(invoice_saved, sender=Invoice, dispatch_uid="search-invoice")
    post_delete.connect(source_deleted, sender=Contact, dispatch_uid="search-contact-del")
    post_delete.connect(source_deleted, sender=Invoice, dispatch_uid="search-invoice-del")


# ---------------------------------------------------------------- reading
@dataclass
class Hit:
    kind: str
    label: str


@dataclass
class Result:
    customer: object
    hits: list[Hit] = field(default_factory=list)
    exact: bool = False


def _prefix(prefix: str) -> Q:
    if connection.vendor == "postgresql":
        # LIKE with the pattern-ops index (collation-proof); the key holds no % or _.
        return Q(key__startswith=prefix)
    # SQLite's LIKE ignores case and so its index: a range on the binary-ordered key serves the same.
    return Q(key__gte=prefix, key__lt=prefix + "\uffff")


def search(org, text: str, per_group: int = 8) -> dict[str, list[Result]]:
    """{"customers"|"invoices"|"contacts": [Result]}: each customer once per group, best first."""
    from cobro.ledger.models import Customer, SearchKey

    prefixes = [p for p in dict.fromkeys((fold(text)[:KEY_LENGTH], compact(text)[:KEY_LENGTH]))
                if len(p) >= MIN_QUERY]
    if not prefixes:
        return {}
    org_id = getattr(org, "pk", org)
    found = []
    for prefix in prefixes:
        found += list(SearchKey.objects.filter(_prefix(prefix), organization_id=org_id)
                      .values_list("customer_id", "kind", "label", "key")[:CANDIDATES])
    by_group: dict[str, dict[int, Result]] = defaultdict(dict)
    for cid, kind, label, key in sorted(found, key=lambda r: (r[3] not in prefixes, len(r[3]), r[2])):
        result = by_group[GROUPS[kind]].setdefault(cid, Result(None, exact=key in prefixes))
        if all(h.label != label or h.kind != kind for h in result.hits):
            result.hits.append(Hit(kind, label))
    wanted = {cid for group in by_group.values() for cid in list(group)[:per_group]}
    customers = Customer.objects.filter(organization_id=org_id, pk__in=wanted).select_related("owner").in_bulk()
    out = {}
    for group in ("customers", "invoices", "contacts"):
        results = []
        for cid, result in by_group.get(group, {}).items():
            if cid in customers and len(results) < per_group:
                result.customer = customers[cid]
                results.append(result)
        if results:
            out[group] = results
    return out
