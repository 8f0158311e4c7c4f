"""The workspace's own tables: per-user preferences, call scripts and the delay-reason list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Role, TenantModel


class UserPreference(models.Model):
    """What a person chose for themselves, across organizations (today: the interface language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cobro_pref")
    language = models.CharField(_("idioma"), max_length=8, choices=settings.LANGUAGES, default="es")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class Situation(models.TextChoices):
    """The situations a call script is written for (the seeds' "speech for each situation")."""

    FIRST_CONTACT = "first_contact", _("Primer contacto")
    PROMISE_BROKEN = "promise_broken", _("Promesa incumplida")
    PLAN_LATE = "plan_late", _("Cuota atrasada")
    DISPUTE_ANSWERED = "dispute_answered", _("Reclamo respondido")
    HARDSHIP = "hardship", _("Cliente con dificultades")


class CallScript(TenantModel):
    """An organization's own wording for one situation and language; the defaults apply otherwise."""

    situation = models.CharField(_("situación"), max_length=32, choices=Situation.choices)
    language = models.CharField(_("idioma"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("guion"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "situation", "language"],
                                               name="uniq_call_script")]
        verbose_name = _("guion de llamada")
        verbose_name_plural = _("guiones de llamada")

    def __str__(self) -> str:
        return f"{self.situation} ({self.language})"


class DelayReason(TenantModel):
    """One entry of the organization's list of reasons a customer gives for paying late."""

    code = models.SlugField(_("código"), max_length=40)
    label = models.CharField(_("motivo"), max_length=120)
    position = models.PositiveSmallIntegerField(_("orden"), default=0)
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="uniq_delay_reason")]
        verbose_name = _("motivo de atraso")
        verbose_name_plural = _("motivos de atraso")

    def __str__(self) -> str:
        return self.label


class LoginFailure(models.Model):
    """A failed sign-in, kept for the login rate limit (``workspace.ratelimit``); old rows are pruned."""

    username = models.CharField(max_length=150, db_index=True)  # lower-cased as typed
    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("intento de acceso fallido")
        verbose_name_plural = _("intentos de acceso fallidos")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class ExchangeRate(TenantModel):
    """How much of the organization's currency one unit of another currency is worth, as the
    organization states it: used only to rank a day's work across currencies, never to move money."""

    currency = models.CharField(_("moneda"), max_length=3)
    rate = models.DecimalField(_("valor en la moneda de la organización"), max_digits=24, decimal_places=8)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["currency"]
        constraints = [models.UniqueConstraint(fields=["organization", "currency"], name="uniq_exchange_rate"),
                       models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive")]
        verbose_name = _("tipo de cambio")
        verbose_name_plural = _("tipos de cambio")

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate}"


class SavedView(TenantModel):
    """A person's named filter of the customers list: its query string, replayed as a link."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("nombre"), max_length=80)
    query = models.CharField(_("filtro"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "user", "name"], name="uniq_saved_view")]
        verbose_name = _("vista guardada")
        verbose_name_plural = _("vistas guardadas")

    def __str__(self) -> str:
        return self.name


class Invitation(TenantModel):
    """An invitation to the organization's team, e-mailed as a signed link that names this row: it is
    used once (``accepted_at``), can be withdrawn by an admin (``revoked_at``) and expires."""

    email = models.EmailField(_("correo"))
    role = models.CharField(_("rol"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("enviada"))
    accepted_at = models.DateTimeField(_("aceptada"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(_("anulada"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email")]
        verbose_name = _("invitación")
        verbose_name_plural = _("invitaciones")

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"
