"""The portal's PDFs (each invoice, the statement) with WeasyPrint from HTML, as the case file and the
plan schedule are made."""

from __future__ import annotations

from django.template.loader import render_to_string


def render_document(template: str, context: dict, request=None):
    """WeasyPrint's laid-out document (pages and boxes), before it is written as PDF."""
    from weasyprint import HTML  # imported late: loading Pango costs time the statement page does not need

    return HTML(string=render_to_string(template, context, request=request)).render()


def render_pdf(template: str, context: dict, request=None) -> bytes:
    return render_document(template, context, request).write_pdf()
