"""Tenancy in one place: which organization a request acts for, and the checks on it.

The active organization is kept in the session; a user may belong to several (an agency's staff do).
Views never read ``organization_id`` from the request: they use ``request.org``, set here only from
the user's own memberships, so no URL or form can reach another organization's rows.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from cobro.engine.money import home_currency
from cobro.ledger.models import Membership

SESSION_KEY = "cobro_org"


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.org = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(Membership.objects.filter(user=user).select_related("organization")
                               .order_by("organization__name"))
            request.memberships = memberships
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in memberships if m.organization.slug == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
            if chosen is not None:
                request.membership = chosen
                request.org = chosen.organization
        else:
            request.memberships = []
        # Amounts in any other currency than the organization's then show their ISO code.
        with home_currency(request.org.currency if request.org else None):
            return self.get_response(request)


def switch_org(request, slug: str) -> bool:
    """Make ``slug`` the active organization if the user belongs to it."""
    if any(m.organization.slug == slug for m in getattr(request, "memberships", [])):
        request.session[SESSION_KEY] = slug
        return True
    return False


def tenant_context(request):
    return {
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }


def require_role(role: str):
    """View decorator: signed in, a member of the active organization, with ``role`` or above."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"/login/?next={request.path}")
            if request.membership is None or not request.membership.can(role):
                raise PermissionDenied("Your role does not allow this in this organization.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
