from django.http import HttpResponse

from cobro.ledger.tenancy import require_role


@require_role("viewer")
def home(request):
    return HttpResponse(f"Cobro — {request.org.name}")
