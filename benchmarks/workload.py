"""Workload W of BENCHMARKS.md: a deterministic accounts-receivable book of a given size.

    python benchmarks/workload.py --size S --out /tmp/w        # writes customers/invoices/payments.csv

Sizes: S = 10,000 invoices, M = 100,000, L = 1,000,000; five invoices per customer on average. Issue
dates over the 12 months before ``as_of``; terms net 30 (60 % of customers), net 15, net 60 or due on
receipt; about 30 % of invoices open at ``as_of`` with due dates from 180 days before to 45 days after
it; log-normal amounts in CLP, COP, MXN, EUR and USD; customers in Chile, Colombia, Mexico, Spain and
the United States, each in its own time zone. The same seed and size always give the same files.

Agreements, opt-outs and contact history are added by the benchmarks that need them (they belong to
the apps that own those tables); ``Workload.extras_rng`` gives them a deterministic random source.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}
AS_OF = dt.date(2026, 11, 23)

COUNTRIES = [  # country, currency, zone, weight, units per USD, phone prefix and length
    ("CL", "CLP", "America/Santiago", 30, 950, "+569", 8),
    ("CO", "COP", "America/Bogota", 25, 4000, "+57300", 7),
    ("MX", "MXN", "America/Mexico_City", 20, 18, "+5255", 8),
    ("ES", "EUR", "Europe/Madrid", 15, 0.92, "+346", 8),
    ("US", "USD", "America/New_York", 10, 1, "+1212555", 4),
]
TERMS = [(30, 60), (15, 15), (60, 15), (0, 10)]  # days, weight in %

_FIRST = ["Comercial", "Distribuidora", "Servicios", "Inversiones", "Constructora", "Ferretería", "Panadería",
          "Transportes", "Importadora", "Clínica", "Librería", "Agrícola", "Textil", "Farmacia", "Taller"]
_SECOND = ["Los Andes", "del Sur", "Pacífico", "San Martín", "La Esperanza", "Santa Rosa", "El Roble",
           "Norte Grande", "Valle Central", "Aurora", "Cordillera", "Las Palmas", "Río Claro", "Mirador",
           "Alameda", "Horizonte", "Sol y Luna", "Puerto Nuevo", "Los Olivos", "Altamira"]
_SUFFIX = {"CL": ["SpA", "Ltda.", "S.A."], "CO": ["S.A.S.", "Ltda."], "MX": ["S.A. de C.V.", "S. de R.L."],
           "ES": ["S.L.", "S.A."], "US": ["LLC", "Inc."]}


@dataclass
class Workload:
    size: str
    seed: int
    as_of: dt.date
    customers: list[list[str]] = field(default_factory=list)
    invoices: list[list[str]] = field(default_factory=list)
    payments: list[list[str]] = field(default_factory=list)

    @property
    def extras_rng(self) -> random.Random:
        return random.Random(self.seed * 7919 + SIZES.get(self.size, 0))


CUSTOMER_COLUMNS = ["customer_ref", "name", "email", "phone", "whatsapp", "country", "language", "timezone",
                    "tax_id"]
INVOICE_COLUMNS = ["invoice_ref", "customer_ref", "customer_name", "issue_date", "due_date", "currency", "amount",
                   "email", "phone", "country"]
PAYMENT_COLUMNS = ["payment_ref", "customer_ref", "invoice_ref", "date", "amount", "currency", "method"]


def _amount(rng: random.Random, per_usd: float, currency: str) -> tuple[str, int]:
    """A log-normal amount (median about 800 USD) as text and as minor units."""
    usd = rng.lognormvariate(math.log(800), 1.0)
    major = usd * per_usd
    if currency in ("CLP",):
        whole = max(1000, int(round(major, -2)))
        return str(whole), whole
    cents = max(100, int(major * 100))
    return f"{cents // 100}.{cents % 100:02d}", cents


def generate(size: str | int = "S", seed: int = 42, as_of: dt.date = AS_OF) -> Workload:
    n_invoices = SIZES[size] if isinstance(size, str) else int(size)
    rng = random.Random(seed)
    wl = Workload(size=str(size), seed=seed, as_of=as_of)
    n_customers = max(1, n_invoices // 5)
    weights = [c[3] for c in COUNTRIES]
    customers = []
    for i in range(n_customers):
        country, currency, zone, _, per_usd, prefix, digits = rng.choices(COUNTRIES, weights)[0]
        terms = rng.choices([t for t, _ in TERMS], [w for _, w in TERMS])[0]
        ref = f"C{i + 1:07d}"
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX[country])}"
        email = f"pagos+{ref.lower()}@example.com"
        phone = prefix + f"{rng.randrange(10 ** (digits - 1), 10 ** digits)}" if rng.random() < 0.7 else ""
        whatsapp = phone if phone and rng.random() < 0.55 else ""
        language = "en" if country == "US" else "es"
        customers.append((ref, name, country, currency, per_usd, terms, email, phone))
        wl.customers.append([ref, name, email, phone, whatsapp, country, language, zone, ""])
    pay_no = 0
    for i in range(n_invoices):
        ref, name, country, currency, per_usd, terms, email, phone = customers[
            i % n_customers if i < n_customers else rng.randrange(n_customers)]
        issue = as_of - dt.timedelta(days=rng.randrange(365))
        due = issue + dt.timedelta(days=terms)
        text, minor = _amount(rng, per_usd, currency)
        inv_ref = f"F{i + 1:08d}"
        wl.invoices.append([inv_ref, ref, name, issue.isoformat(), due.isoformat(), currency, text, email, phone,
                            country])
        days_to_due = (due - as_of).days
        open_p = 0.9 if days_to_due > 0 else 0.46 if days_to_due >= -180 else 0.0
        if rng.random() < open_p:
            if rng.random() < 0.1 and issue < as_of:  # an "abono": a partial payment on an open invoice
                part = minor * rng.randrange(10, 60) // 100
                if part > 0:
                    pay_no += 1
                    day = issue + dt.timedelta(days=rng.randrange(max(1, (as_of - issue).days)))
                    wl.payments.append([f"P{pay_no:08d}", ref, inv_ref, day.isoformat(),
                                        _minor_text(part, currency), currency, "transfer"])
            continue
        late = max(0, int(rng.gauss(8, 15)))
        day = min(as_of, due + dt.timedelta(days=late), max(issue, as_of - dt.timedelta(days=1)))
        day = max(day, issue)
        pay_no += 1
        wl.payments.append([f"P{pay_no:08d}", ref, inv_ref, day.isoformat(), text, currency,
                            rng.choice(["transfer", "transfer", "card", "cash", "check"])])
    return wl


def _minor_text(minor: int, currency: str) -> str:
    return str(minor) if currency == "CLP" else f"{minor // 100}.{minor % 100:02d}"


def write_files(wl: Workload, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, header, rows in (("customers", CUSTOMER_COLUMNS, wl.customers),
                               ("invoices", INVOICE_COLUMNS, wl.invoices),
                               ("payments", PAYMENT_COLUMNS, wl.payments)):
        path = out / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        paths[kind] = path
    return paths


def load(org, wl: Workload) -> None:
    """Import the workload into ``org`` through the real importer (customers, invoices, payments)."""
    import io

    from cobro.ledger.importing import import_file

    for kind, header, rows in (("customers", CUSTOMER_COLUMNS, wl.customers),
                               ("invoices", INVOICE_COLUMNS, wl.invoices),
                               ("payments", PAYMENT_COLUMNS, wl.payments)):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        import_file(org, kind, buf.getvalue().encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="S", help="S, M, L or a number of invoices")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    size = args.size if args.size in SIZES else int(args.size)
    wl = generate(size, args.seed)
    for kind, path in write_files(wl, args.out).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
