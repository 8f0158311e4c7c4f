"""What the portal stores itself: the one-question survey after paying (for the dashboard), and the
transfers debtors say they made ("I have paid")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import TenantModel


class Survey(TenantModel):
    customer = models.ForeignKey("ledger.Customer", on_delete=models.CASCADE, related_name="portal_surveys")
    rating = models.PositiveSmallIntegerField(_("calificación"))
    comment = models.TextField(_("comentario"), blank=True, max_length=1000)
    #: Who and what led to the payment, as they were when the debtor answered: the template of the
    #: last message sent to the customer, and the customer's agent (owner).
    template = models.CharField(_("plantilla"), max_length=48, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("agente"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                                              name="portal_survey_rating_1_5")]


def receipt_upload_to(instance, filename: str) -> str:
    return f"portal/receipts/{instance.organization_id}/{instance.customer_id}/{filename}"


class TransferNotice(TenantModel):
    """"Ya pagué": the debtor says they paid by transfer, with the receipt; the team confirms it."""

    customer = models.ForeignKey("ledger.Customer", on_delete=models.CASCADE, related_name="portal_transfers")
    invoice_refs = models.JSONField(default=list)
    receipt = models.FileField(upload_to=receipt_upload_to)
    receipt_name = models.CharField(max_length=200)
    #: The pause of those invoices' collection it opened; lifted when a payment to them is recorded.
    pause = models.ForeignKey("dunning.Pause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
