"""Each e-invoice read once: its key (CFDI UUID, DTE type and folio, UBL ID) makes a re-import a no-op."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Invoice, TenantModel


class Document(TenantModel):
    class Format(models.TextChoices):
        UBL = "ubl", "UBL 2.1"
        CFDI = "cfdi", "CFDI 4.0"
        DTE = "dte", "DTE (SII)"

    key = models.CharField(max_length=120)
    format = models.CharField(max_length=8, choices=Format.choices)
    kind = models.CharField(max_length=16)  # invoice, credit_note, payment
    ref = models.CharField(_("número"), max_length=64)
    issuer_tax_id = models.CharField(max_length=32)
    receiver_tax_id = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="uniq_einvoice_key")]
        verbose_name = _("documento electrónico")
        verbose_name_plural = _("documentos electrónicos")

    def __str__(self) -> str:
        return self.key
