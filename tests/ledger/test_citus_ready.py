"""Ready for Citus (distributed PostgreSQL, sharded by organization), checked over every model (#16).

Citus cannot be installed here, so this checks the rules it imposes, on Django's own description of
every table (``django.apps``, many-to-many tables included), so that a new model cannot drift:

- every table is a **tenant table** (a non-null ``organization`` key to ``ledger.Organization``: a
  distributed table) or a **reference table** listed in ``REFERENCE`` with the reason;
- every unique constraint of a tenant table includes ``organization`` (Citus enforces uniqueness
  only within a shard), except the gaps listed in ``UNIQUE_GAPS`` and ``docs/scaling.md``;
- a tenant table's foreign keys point to tenant tables (co-located: the key becomes
  ``(organization_id, x_id)``) or to reference tables; a reference table never points to a tenant one.

Both lists must be exact: a new gap fails, and so does a fixed gap still listed.
Holidays, contact-rule presets and currencies are data files and code, not tables.
"""

from django.apps import apps

from cobro.ledger.models import Organization

#: Tables every node may hold a full copy of (Citus reference tables) or that stay on the coordinator.
REFERENCE = {
    "ledger.Organization": "the tenants themselves, small: a reference table",
    "auth.User": "people may belong to several organizations (Membership is the tenant link)",
    "auth.Group": "Django's permission groups, global",
    "auth.Permission": "Django's permissions, global",
    "auth.Group_permissions": "Django's permissions, global",
    "auth.User_groups": "Django's permissions, global",
    "auth.User_user_permissions": "Django's permissions, global",
    "contenttypes.ContentType": "Django's model registry, global",
    "admin.LogEntry": "Django admin's log: operators, not tenants; kept on the coordinator",
    "sessions.Session": "logins, looked up by session key before any organization is known",
    "django_tasks_database.DBTaskResult": "the task queue of the one-machine set-up; RQ/Redis beyond",
    "workspace.UserPreference": "one person's settings, across organizations",
    "workspace.LoginFailure": "login throttling, before any organization is known",
    "dunning.WorkerBeat": "the workers' heartbeats: one row per worker, which serves every organization",
}

#: Tables without ``organization`` that should have one before distributing (see docs/scaling.md).
MISSING_ORGANIZATION = {
    "agreements.Promise_invoices": "many-to-many through table made by Django: needs an explicit through model",
    "agreements.Plan_invoices": "many-to-many through table made by Django: needs an explicit through model",
    "providers.PaymentRequest_invoices": "many-to-many through table made by Django: needs an explicit through model",
    "payments.StatementLine_payments": "many-to-many through table made by Django: needs an explicit through model",
    "providers.WebhookLog": "organization may be empty (a provider's call logged before its account is known): "
                            "keep unmatched calls apart, or on the coordinator",
}

#: Unique constraints of tenant tables that do not include ``organization`` yet.
UNIQUE_GAPS = {
    ("dunning.PolicyAssignment", ("customer",)): "OneToOneField: a foreign key plus (organization, customer)",
    ("dunning.CustomerStage", ("customer",)): "OneToOneField: a foreign key plus (organization, customer)",
    ("messaging.LinkVersion", ("customer",)): "OneToOneField: a foreign key plus (organization, customer)",
    ("agreements.CustomerTerms", ("customer",)): "OneToOneField: a foreign key plus (organization, customer)",
    ("agreements.Fee", ("fee_invoice",)): "OneToOneField: a foreign key plus (organization, fee_invoice)",
    ("agreements.Discount", ("invoice",)): "OneToOneField: a foreign key plus (organization, invoice)",
    ("api.ApiKey", ("prefix",)): "global on purpose: the prefix finds the key's organization; make api keys "
                                 "a reference table (few rows) or look them up on the coordinator",
}


def _models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def _is_tenant(model) -> bool:
    try:
        f = model._meta.get_field("organization")
    except Exception:  # FieldDoesNotExist
        return False
    return f.concrete and f.is_relation and f.related_model is Organization and not f.null


def _uniques(model):
    meta = model._meta
    out = [(f.name,) for f in meta.concrete_fields if f.unique and not f.primary_key]
    out += [tuple(u) for u in meta.unique_together]
    out += [tuple(c.fields) for c in meta.constraints if type(c).__name__ == "UniqueConstraint" and c.fields]
    return out


def test_every_table_is_a_tenant_table_or_a_listed_reference_table():
    unlisted, stale = [], []
    for model in _models():
        label = model._meta.label
        listed = label in REFERENCE or label in MISSING_ORGANIZATION
        if _is_tenant(model) and listed:
            stale.append(label)
        elif not _is_tenant(model) and not listed:
            unlisted.append(label)
    assert not unlisted, f"tables with neither organization nor a place in REFERENCE: {unlisted}"
    assert not stale, f"listed as without organization but have it now (take them off the list): {stale}"
    known = {m._meta.label for m in _models()}
    assert set(REFERENCE) | set(MISSING_ORGANIZATION) <= known, "a listed table no longer exists"


def test_unique_constraints_of_tenant_tables_include_the_organization():
    gaps = {(m._meta.label, u) for m in _models() if _is_tenant(m) for u in _uniques(m) if "organization" not in u}
    assert gaps - set(UNIQUE_GAPS) == set(), "new unique constraints without organization (Citus cannot enforce them)"
    assert set(UNIQUE_GAPS) - gaps == set(), "fixed gaps still listed in UNIQUE_GAPS: take them off"


def test_foreign_keys_stay_within_the_tenant_or_point_to_reference_tables():
    crossing = []
    for model in _models():
        tenant = _is_tenant(model) or model._meta.label in MISSING_ORGANIZATION
        for f in model._meta.concrete_fields:
            if not f.is_relation or f.name == "organization":
                continue
            target = f.related_model
            target_tenant = _is_tenant(target)
            if not tenant and target_tenant:
                crossing.append(f"{model._meta.label}.{f.name}: a reference table pointing to a tenant table")
            elif tenant and not target_tenant and target._meta.label not in REFERENCE:
                crossing.append(f"{model._meta.label}.{f.name}: points to an unlisted table {target._meta.label}")
    assert not crossing, crossing
