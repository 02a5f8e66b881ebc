"""Quotes and invoices: issued with the next number of their kind and year, their content frozen
as JSON when issued, and rendered to PDF (WeasyPrint) from that frozen content on download."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.core import audit, permissions
from kartoteka.core.permissions import Action, Denied
from kartoteka.sales import catalog
from kartoteka.sales.models import Deal, DealItem, Document, Requisites

ATTEMPTS = 5


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(catalog.KOPECK))


def _supplier(found: Requisites | None) -> dict[str, str]:
    return {f: getattr(found, f) if found else "" for f in catalog.REQUISITES_FIELDS}


def _buyer(client: Client) -> dict[str, str]:
    return {
        "name": client.name,
        "inn": client.inn,
        "kpp": client.kpp,
        "address": client.address,
    }


def _lines(items: list[DealItem]) -> list[dict[str, Any]]:
    lines = []
    for n, item in enumerate(items, start=1):
        total = catalog.line_total(item.quantity, item.price, item.discount)
        lines.append(
            {
                "n": n,
                "name": item.name,
                "quantity": catalog.plain(item.quantity),
                "unit": item.unit,
                "price": _money(item.price),
                "discount": catalog.plain(item.discount),
                "vat_rate": item.vat_rate,
                "total": _money(total),
                "vat": _money(catalog.line_vat(total, item.vat_rate)),
            }
        )
    return lines


def content_of(deal: Deal, items: list[DealItem], kind: str, found: Requisites | None) -> dict:
    sums = catalog.totals(items)
    return {
        "kind": kind,
        "deal": {"id": deal.pk, "title": deal.title},
        "currency": deal.currency,
        "supplier": _supplier(found),
        "buyer": _buyer(deal.client),
        "items": _lines(items),
        "total": _money(sums.total),
        "vat": _money(sums.vat),
    }


def issue(actor: User | None, deal: Deal, kind: str, today: dt.date | None = None) -> Document:
    """Issue a quote or an invoice for `deal` with the next number of its kind in the year.

    Two people issuing at once: the unique (kind, year, number) lets one win; the other takes
    the next number (no gaps, no duplicates)."""
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": [_("Choose a quote or an invoice.")]})
    on = today or timezone.localdate()
    for attempt in range(ATTEMPTS):
        try:
            return _issue_once(actor, deal, kind, on)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def next_number(kind: str, year: int) -> int:
    same = Document.objects.filter(kind=kind, year=year)
    return int(same.aggregate(last=Max("number"))["last"] or 0) + 1


def _issue_once(actor: User | None, deal: Deal, kind: str, on: dt.date) -> Document:
    with transaction.atomic():
        locked = get_object_or_404(
            Deal.objects.select_for_update().select_related("client"), pk=deal.pk
        )
        if actor is not None and not permissions.can(actor, Action.EDIT, locked):
            raise Denied(Action.EDIT)
        items = list(locked.items.all())
        if not items:
            raise ValidationError({"items": [_("Add line items to the deal first.")]})
        found = catalog.requisites()
        missing = catalog.missing_for_invoice(found)
        if kind == Document.Kind.INVOICE and missing:
            raise ValidationError(
                {"requisites": [_("Fill in the company's requisites first (bank, BIK, account).")]}
            )
        content = content_of(locked, items, kind, found)
        number = next_number(kind, on.year)
        content.update(number=number, date=on.isoformat())
        document = Document.objects.create(
            deal=locked,
            kind=kind,
            year=on.year,
            number=number,
            issued_on=on,
            total=Decimal(content["total"]),
            vat=Decimal(content["vat"]),
            currency=locked.currency,
            content=content,
            author=actor,
        )
        audit.record(actor, "issue", document, kind=kind, number=number, year=on.year)
    return document


def visible_document(actor: User, deal_id: int | None, document_id: int) -> Document:
    """The document, if `actor` may see its deal; Http404 otherwise."""
    rows = Document.objects.select_related("deal")
    if deal_id is not None:
        rows = rows.filter(deal_id=deal_id)
    document = get_object_or_404(rows, pk=document_id)
    permissions.get_or_404(actor, Action.VIEW, Deal.objects.all(), pk=document.deal_id)
    return document


def title_of(document: Document) -> str:
    if document.kind == Document.Kind.INVOICE:
        text = _("Invoice No. %(number)s of %(date)s")
    else:
        text = _("Quote No. %(number)s of %(date)s")
    return text % {"number": document.number, "date": document.issued_on.strftime("%d.%m.%Y")}


def filename_of(document: Document) -> str:
    return f"{document.kind}-{document.year}-{document.number}.pdf"


def render_html(document: Document) -> str:
    """The document's HTML in the active language, from its frozen content only."""
    content = document.content
    context = {
        "document": document,
        "title": title_of(document),
        "c": content,
        "is_invoice": document.kind == Document.Kind.INVOICE,
        "LANGUAGE_CODE": get_language(),
    }
    return render_to_string("sales/documents/document.html", context)


def render_pdf(document: Document) -> bytes:
    """WeasyPrint needs Pango: imported only when asked. Nothing is fetched from outside."""
    from weasyprint import HTML

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"external resources are not loaded: {url[:100]}")

    return bytes(HTML(string=render_html(document), url_fetcher=no_fetch).write_pdf())
