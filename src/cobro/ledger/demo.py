"""The demo organization: a Chilean distributor with customers in Chile, Colombia, Mexico and Spain.

Deterministic (fixed seed) but dated relative to ``today``, so the demo always shows invoices about to
fall due, fresh arrears and old ones. Everything is written through the ledger's own services or in
bulk with the same rules, so the demo's balances add up like real ones.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.es import cif

from cobro.engine.daybook import Totals
from cobro.engine.money import to_minor
from cobro.insights import totals
from cobro.ledger import search, services
from cobro.ledger.models import Contact, Customer, Invoice, Membership, Organization, Role

DEMO_SLUG = "demo"
DEMO_PASSWORD = "cobro-demo"
DEMO_USERS = [  # email, name, role
    ("admin@demo.cobro", "Carolina Muñoz", Role.ADMIN),
    ("supervisora@demo.cobro", "Patricia Rojas", Role.MANAGER),
    ("gestor1@demo.cobro", "Felipe Araya", Role.AGENT),
    ("gestor2@demo.cobro", "Valentina Soto", Role.AGENT),
    ("lectura@demo.cobro", "Tomás Vidal", Role.VIEWER),
]

# country, currency, zone, share of customers, (low, high) invoice amount in major units
MARKETS = [
    ("CL", "CLP", "America/Santiago", 45, (85_000, 4_500_000)),
    ("CO", "COP", "America/Bogota", 25, (400_000, 18_000_000)),
    ("MX", "MXN", "America/Mexico_City", 18, (2_500, 95_000)),
    ("ES", "EUR", "Europe/Madrid", 12, (180, 9_500)),
]
KINDS = {"CL": ["Comercial", "Ferretería", "Minimarket", "Constructora", "Panadería", "Distribuidora",
                "Farmacia", "Librería", "Botillería", "Taller Mecánico"],
         "CO": ["Tienda", "Droguería", "Ferretería", "Restaurante", "Papelería", "Almacén", "Cafetería"],
         "MX": ["Abarrotes", "Tlapalería", "Papelería", "Farmacia", "Refaccionaria", "Cocina Económica"],
         "ES": ["Bar", "Ferretería", "Panadería", "Librería", "Autoservicio", "Clínica Dental"]}
PLACES = {"CL": ["Los Andes", "Ñuñoa", "Valparaíso", "El Roble", "Cordillera", "San Miguel", "La Serena",
                 "Temuco Centro", "Puerto Varas", "Providencia", "Rancagua", "Los Ángeles"],
          "CO": ["La 70", "El Poblado", "Chapinero", "San Antonio", "La Candelaria", "Cabecera", "El Prado"],
          "MX": ["La Merced", "Coyoacán", "Santa Fe", "del Valle", "Tlaquepaque", "Polanco", "Roma Norte"],
          "ES": ["Lavapiés", "Gràcia", "Triana", "El Carmen", "Malasaña", "Ruzafa", "Deusto"]}
SUFFIX = {"CL": ["SpA", "Ltda.", "EIRL"], "CO": ["S.A.S.", "Ltda."], "MX": ["S.A. de C.V.", "S. de R.L."],
          "ES": ["S.L.", "S.L.U."]}
FIRST = ["María", "José", "Camila", "Juan", "Francisca", "Luis", "Daniela", "Carlos", "Andrea", "Jorge",
         "Paula", "Ricardo", "Lucía", "Sebastián", "Fernanda", "Diego", "Isabel", "Martín", "Rocío", "Pablo"]
LAST = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez", "Sepúlveda",
        "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Ramírez", "García", "Castro"]
PHONE = {"CL": ("+569", 8), "CO": ("+57310", 7), "MX": ("+5255", 8), "ES": ("+346", 8)}


def ensure_demo(today: dt.date, *, customers: int = 200) -> tuple[Organization, bool]:
    """The demo organization, created (with users and its ledger) the first time only."""
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    if org is not None:
        ensure_demo_staff(org)  # demos made before the admin let its admin in
        return org, False
    with transaction.atomic():
        org = Organization.objects.create(
            slug=DEMO_SLUG, name="Distribuidora Los Andes SpA", country="CL", currency="CLP",
            timezone="America/Santiago", language="es", tax_id="76.086.428-5",
            email="cobranza@losandes.example", phone="+56225550100",
            options={"transfer_instructions": "Banco de Chile, cuenta corriente 00-123-45678-09, "
                                              "RUT 76.086.428-5, a nombre de Distribuidora Los Andes SpA. "
                                              "Indique el número de factura en el comentario."})
        users = _users(org)
        _ledger(org, today, random.Random(2026), customers, [u for u, role in users if role == Role.AGENT])
    ensure_demo_staff(org)
    return org, True


#: How many days Cobro has been sending the demo organization's messages (its cycle's month).
SENDING_DAYS = 30


def recorded_at(org: Organization, today: dt.date, day: dt.date) -> dt.datetime:
    """When the demo's books learnt of a payment or credit dated ``day``: at eleven that morning on the
    organization's clock, or, for the history before Cobro began sending, on its first morning (as an
    import would: only the last week before it is thanked, the rest is too old)."""
    from zoneinfo import ZoneInfo

    first = today - dt.timedelta(days=SENDING_DAYS)
    return dt.datetime.combine(max(day, first), dt.time(11), tzinfo=ZoneInfo(org.timezone or "UTC"))


def ensure_demo_staff(org: Organization) -> None:
    """The demo's admin is staff of the Django admin (as the README says), scoped to its organization by
    ``ledger.admin_site``: it may view and change the organization's rows, view and change its people
    (never their powers), and add or delete tenant rows; installation-wide tables stay superuser-only."""
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from cobro.ledger.admin_site import kind_of

    admins = get_user_model().objects.filter(memberships__organization=org, memberships__role=Role.ADMIN,
                                             username__endswith="@demo.cobro")
    if not admins.exists():
        return
    allowed = {"tenant": ("view", "add", "change", "delete"), "org": ("view", "change"), "user": ("view", "change")}
    wanted = []
    for model in apps.get_models():
        actions = allowed.get(kind_of(model))
        if actions:
            ct = ContentType.objects.get_for_model(model, for_concrete_model=False)
            wanted += Permission.objects.filter(content_type=ct, codename__in=[f"{a}_{ct.model}" for a in actions])
    for user in admins:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.user_permissions.add(*wanted)


def _users(org: Organization):
    User = get_user_model()
    made = []
    for email, name, role in DEMO_USERS:
        first, _, last = name.partition(" ")
        user = User.objects.filter(username=email).first()
        if user is None:
            user = User.objects.create_user(username=email, email=email, password=DEMO_PASSWORD,
                                            first_name=first, last_name=last)
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": role})
        made.append((user, role))
    return made


def _tax_id(rng: random.Random, country: str) -> str:
    if country == "CL":
        body = str(rng.randrange(76_000_000, 77_999_999))
        return rut.format(body + rut.calc_check_digit(body))
    if country == "CO":
        body = str(rng.randrange(800_000_000, 901_999_999))
        return nit.format(body + nit.calc_check_digit(body))
    if country == "ES":
        body = rng.choice("BB") + f"{rng.randrange(10_000_000, 99_999_999):08d}"[:7]
        return body + cif.calc_check_digits(body + "0")[0]
    return ""


def _distinct_name(name: str, country: str, taken: set[str], alt: random.Random) -> str:
    """Two customers never share a name: a drawn name already taken is drawn again.

    The redraws use their own generator, so the rest of the demo stays what it was.
    """
    drawn = name
    for _ in range(50):
        if name not in taken:
            break
        name = f"{alt.choice(KINDS[country])} {alt.choice(PLACES[country])} {alt.choice(SUFFIX[country])}"
    else:
        name = f"{drawn} ({len(taken) + 1})"
    taken.add(name)
    return name


def _ledger(org: Organization, today: dt.date, rng: random.Random, n_customers: int, agents: list) -> None:
    customers, names = [], set()
    for i in range(n_customers):
        country, currency, zone, _, _ = rng.choices(MARKETS, [m[3] for m in MARKETS])[0]
        name = f"{rng.choice(KINDS[country])} {rng.choice(PLACES[country])} {rng.choice(SUFFIX[country])}"
        name = _distinct_name(name, country, names, random.Random(i))
        channel = rng.choices(["whatsapp", "email", "sms", "call"], [45, 40, 10, 5])[0]
        customers.append(Customer(
            organization=org, ref=f"CL-{i + 1:04d}" if country == "CL" else f"{country}-{i + 1:04d}",
            name=name, tax_id=_tax_id(rng, country), country=country, timezone=zone,
            language="es", preferred_channel=channel,
            segment=rng.choices(["pyme", "corporativo", "minorista"], [60, 15, 25])[0],
            owner=rng.choice(agents) if agents and rng.random() < 0.8 else None))
    Customer.objects.bulk_create(customers)
    customers = list(Customer.objects.for_org(org).order_by("ref"))
    contacts, invoices = [], []
    for c in customers:
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        prefix, digits = PHONE[c.country]
        phone = prefix + str(rng.randrange(10 ** (digits - 1), 10 ** digits))
        slug = person.split()[0].lower().translate(str.maketrans("áéíóúñ", "aeioun"))
        contacts.append(Contact(organization=org, customer=c, name=person, email=f"{slug}@{c.ref.lower()}.example",
                                phone=phone, whatsapp=phone if c.preferred_channel == "whatsapp" else ""))
    Contact.objects.bulk_create(contacts)
    n = 0
    for c in customers:
        market = next(m for m in MARKETS if m[0] == c.country)
        currency, (low, high) = market[1], market[4]
        for _ in range(rng.choice([2, 3, 4, 5, 6, 7, 8])):
            n += 1
            issue = today - dt.timedelta(days=rng.randrange(0, 170))
            terms = rng.choices([30, 15, 45, 60], [60, 15, 15, 10])[0]
            major = rng.uniform(low, high) if rng.random() < 0.3 else rng.uniform(low, (low + high) / 3)
            step = {"CLP": 100, "COP": 1000}.get(currency, 1)  # prices end in round pesos
            amount = to_minor(int(major // step * step), currency)
            invoices.append(Invoice(organization=org, customer=c, ref=f"F-{10000 + n}", issue_date=issue,
                                    due_date=issue + dt.timedelta(days=terms), currency=currency,
                                    amount=amount, open_amount=amount))
    Invoice.objects.bulk_create(invoices)
    search.reindex(org)  # bulk_create sends no signals: the top bar's search keys, at once
    issued = Totals()  # the Dashboard's daily totals, as services.add_invoice keeps them
    for inv in invoices:
        issued.issued(inv.currency, inv.issue_date, inv.due_date, inv.amount)
    totals.save(org, issued)
    invoices = list(Invoice.objects.for_org(org).select_related("customer").order_by("ref"))
    p = 0
    for inv in invoices:
        overdue = (today - inv.due_date).days
        # Older invoices are more likely paid; a few customers pay in parts ("abonos").
        chance = 0.92 if overdue > 75 else 0.7 if overdue > 20 else 0.45 if overdue > 0 else 0.15
        roll = rng.random()
        if roll < chance:
            p += 1
            day = inv.due_date + dt.timedelta(days=rng.randrange(-10, 25))
            # A payment drawn after ``today`` came in during the last week (dated today, they piled a
            # fifth of the book's payments, and their thank-yous, on the demo's last day).
            day = max(day if day <= today else today - dt.timedelta(days=p % 7), inv.issue_date)
            services.apply_payment(org, inv.customer, f"PAG-{5000 + p}", day, inv.amount, inv.currency,
                                   rng.choice(["transferencia", "transferencia", "tarjeta", "depósito"]), invoice=inv,
                                   now=recorded_at(org, today, day))
        elif roll < chance + 0.08 and overdue > 0:
            p += 1
            part = inv.amount * rng.choice([20, 30, 40, 50]) // 100
            if inv.currency == "CLP":
                part = part // 100 * 100
            day = today - dt.timedelta(days=rng.randrange(1, 15))
            services.apply_payment(org, inv.customer, f"PAG-{5000 + p}", day, part, inv.currency, "transferencia",
                                   invoice=inv, now=recorded_at(org, today, day))
    open_invoices = [i for i in Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN)]
    for k, inv in enumerate(rng.sample(open_invoices, min(12, len(open_invoices)))):
        part = inv.open_amount if k < 3 else inv.open_amount // 10 or inv.open_amount
        day = today - dt.timedelta(days=rng.randrange(1, 30))
        services.add_credit_note(org, inv, f"NC-{700 + k}", day, part,
                                 reason="Devolución de mercadería" if k < 3 else "Descuento comercial",
                                 now=recorded_at(org, today, day))


#: The day a row's own record says it came about: its write time is dated by it (model label → field).
OWN_DAY = {"ledger.Invoice": "issue_date", "ledger.Payment": "date", "ledger.CreditNote": "date",
           "ledger.Task": "due_on", "agreements.Promise": "made_on", "agreements.Plan": "start_date",
           "payments.Statement": "statement_date", "payments.StatementLine": "booking_date",
           "messaging.Message": "scheduled_for"}
#: How long before ``today`` the demo's organization was set up (its invoices go back 170 days).
SET_UP_DAYS = 200


def date_the_bookkeeping(org: Organization, today: dt.date) -> int:
    """Date the rows' write times (``auto_now``/``auto_now_add`` columns) by the demo's clock.

    Django stamps those columns itself when a row is written, and the demo writes its months of
    history in one go: left alone, every ``created_at`` would be the moment the demo ran. Those are the
    demo's bookkeeping, not facts, so here (and only for them) the rows are re-dated afterwards: a row
    written after the demo's day gets the day its own record names (an invoice its issue date, a
    payment its date, a message its scheduled time), or the day the organization was set up; never
    later than the demo's day (nor, with a ``today`` after the real date, earlier than its set-up). Every other moment (events, stages, tasks done, fees waived, statements
    read) is given by the services at the time they act. Returns how many values were re-dated.
    """
    from zoneinfo import ZoneInfo

    from django.apps import apps
    from django.db import models as dj

    zone = ZoneInfo(org.timezone or "UTC")
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    last = end - dt.timedelta(minutes=1)
    set_up = dt.datetime.combine(today - dt.timedelta(days=SET_UP_DAYS), dt.time(9), tzinfo=zone)

    def moment(value) -> dt.datetime:
        if value is None:
            return set_up
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(9), tzinfo=zone)
        return max(min(value, last), set_up)

    changed = 0
    with transaction.atomic():
        for model in apps.get_models():
            if not model.__module__.startswith("cobro."):
                continue
            auto = [f.attname for f in model._meta.concrete_fields if isinstance(f, dj.DateTimeField)
                    and (f.auto_now or f.auto_now_add)]
            if not auto:
                continue
            names = {f.name for f in model._meta.concrete_fields}
            if "organization" in names:
                rows = model.objects.filter(organization=org)
            elif model is Organization:
                rows = model.objects.filter(pk=org.pk)
            elif model is Membership:
                rows = model.objects.filter(organization=org)
            else:
                continue
            own = OWN_DAY.get(model._meta.label)
            for name in auto:
                # Later than the demo's day, or earlier than its set-up: the real clock, either way.
                late = rows.filter(dj.Q(**{f"{name}__gte": end}) | dj.Q(**{f"{name}__lt": set_up}))
                if own is None:
                    changed += late.update(**{name: set_up})  # update() leaves auto_now alone
                    continue
                objs = list(late.only("pk", own))
                for obj in objs:
                    setattr(obj, name, moment(getattr(obj, own)))
                model.objects.bulk_update(objs, [name], batch_size=500)  # no pre_save: the value stays
                changed += len(objs)
    return changed
