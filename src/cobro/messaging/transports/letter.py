"""Letters: the message rendered as a PDF (WeasyPrint) and queued in a folder for printing.

"Sent" for a letter means the PDF is in ``<COBRO_DATA_DIR>/letters/<org>/<date>/`` waiting for the
print run; the file name is derived from the message key, so a retry overwrites, never duplicates.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from cobro.messaging.transports import SendResult, Transport, TransportError, stable_id


class LetterTransport(Transport):
    name = "letter"
    channel = "letter"

    def send(self, message, rendered) -> SendResult:
        from weasyprint import HTML

        folder = settings.DATA_DIR / "letters" / str(message.organization_id) / timezone.now().date().isoformat()
        path = folder / f"{stable_id(message.key)}.pdf"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            HTML(string=rendered.html).write_pdf(path)
        except OSError as exc:
            raise TransportError(f"cannot write the letter: {exc}") from None
        return SendResult(provider_id=str(path.relative_to(settings.DATA_DIR)), data={"pdf": str(path)})
