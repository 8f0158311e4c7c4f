"""System checks, one per channel: an enabled channel must be configured (``cobro check``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

_NEEDS = {
    "COBRO_SMS_ENABLED": ("sms", ["COBRO_TWILIO_ACCOUNT_SID", "COBRO_TWILIO_AUTH_TOKEN", "COBRO_TWILIO_FROM"]),
    "COBRO_WHATSAPP_ENABLED": ("whatsapp", ["COBRO_WHATSAPP_TOKEN", "COBRO_WHATSAPP_PHONE_NUMBER_ID",
                                            "COBRO_WHATSAPP_APP_SECRET", "COBRO_WHATSAPP_VERIFY_TOKEN"]),
    "COBRO_EMAIL_ENABLED": ("email", ["EMAIL_HOST", "DEFAULT_FROM_EMAIL"]),
}


@register(Tags.compatibility, "cobro")
def channel_settings(app_configs=None, **kwargs):
    errors = []
    for flag, (channel, names) in _NEEDS.items():
        if not getattr(settings, flag, False):
            continue
        missing = [n for n in names if not getattr(settings, n, "")]
        if missing:
            errors.append(Error(f"The {channel} channel is on ({flag}) but {', '.join(missing)} "
                                f"{'is' if len(missing) == 1 else 'are'} not set.",
                                hint=f"Set them in the environment, or turn the channel off with {flag}=0.",
                                id=f"cobro.messaging.E00{list(_NEEDS).index(flag) + 1}"))
    if getattr(settings, "COBRO_LETTER_ENABLED", False):
        try:
            import weasyprint  # noqa: F401
        except (ImportError, OSError) as exc:
            errors.append(Error(f"Letters are on (COBRO_LETTER_ENABLED) but WeasyPrint cannot load: {exc}",
                                id="cobro.messaging.E004"))
    return errors
