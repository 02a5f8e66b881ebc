"""What the voice menu asks of the CRM: is this deal / client / phone real, and the
self-service answers read from real records (open deals, a deal's stage, the latest invoice).

The caller is not a user: these reads are not scoped by a role. What they may learn is bounded
instead: a deal number is accepted only if it belongs to the client the caller's number found
(when it found one), and answers speak only of the client the caller's own number found. Ids
are sequential and phone numbers are no secret: a client that typed digits identified (from
an unknown number) fills the call card for the operator, but hears nothing of their account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kartoteka.callcenter import lookup
from kartoteka.clients.models import Client
from kartoteka.clients.queries import visible_clients
from kartoteka.ivr.engine import CALLER_FACT, Checked, Crm, Spoken
from kartoteka.ivr.models import Node
from kartoteka.sales.models import Deal, Document, Stage
from kartoteka.sales.queries import visible_deals

DEAL_FACT = "_deal"  # hidden value: the deal a digit input found (not shown on the card)
MAX_ID_DIGITS = 18


def caller_client(number: str) -> int | None:
    """The client the caller's number identifies: only when exactly one client has it."""
    found = lookup.client_ids(lookup.e164(number))
    return found[0] if len(found) == 1 else None


def check(kind: str, digits: str, client_id: int | None) -> Checked:
    if kind == Node.Check.PHONE:
        number = lookup.e164(digits)
        if not number:
            return Checked(False)
        found = lookup.client_ids(number)
        return Checked(True, found[0] if len(found) == 1 else None)
    if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_ID_DIGITS:
        return Checked(False)
    if kind == Node.Check.CLIENT:
        exists = Client.objects.filter(pk=int(digits)).exists()
        return Checked(exists, int(digits) if exists else None)
    if kind == Node.Check.DEAL:
        deal = Deal.objects.filter(pk=int(digits)).values("client_id").first()
        if deal is None or (client_id is not None and deal["client_id"] != client_id):
            return Checked(False)
        return Checked(True, deal["client_id"], {DEAL_FACT: digits})
    return Checked(False)


def answer(kind: str, client_id: int | None, values: Mapping[str, str]) -> Spoken:
    if client_id is None or values.get(CALLER_FACT) != str(client_id):
        return Spoken(_("We could not find your account."))
    if kind == Node.Answer.OPEN_DEALS:
        return _open_deals(client_id)
    if kind == Node.Answer.DEAL_STAGE:
        return _deal_stage(client_id, values.get(DEAL_FACT, ""))
    if kind == Node.Answer.LAST_INVOICE:
        return _last_invoice(client_id)
    return Spoken("")


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def _open_deals(client_id: int) -> Spoken:
    rows = list(
        Deal.objects.filter(client_id=client_id, stage__kind=Stage.Kind.OPEN)
        .values("currency")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("currency")
    )
    if not rows:
        return Spoken(_("You have no open deals."))
    count = sum(row["n"] for row in rows)
    totals = ", ".join(_money(row["total"] or Decimal(0), row["currency"]) for row in rows)
    text = ngettext(
        "You have %(count)d open deal for %(totals)s.",
        "You have %(count)d open deals for %(totals)s.",
        count,
    ) % {"count": count, "totals": totals}
    return Spoken(text, str(int(rows[0]["total"] or 0)))


def _deal_stage(client_id: int, deal_digits: str) -> Spoken:
    deals = Deal.objects.filter(client_id=client_id).select_related("stage")
    deal = (
        deals.filter(pk=int(deal_digits)).first()
        if deal_digits.isdigit()
        else deals.filter(stage__kind=Stage.Kind.OPEN).order_by("-updated_at").first()
    )
    if deal is None:
        return Spoken(_("You have no open deals."))
    text = _("Deal %(number)d: %(stage)s.") % {"number": deal.pk, "stage": deal.stage.name}
    if deal.expected_close is not None and deal.stage.kind == Stage.Kind.OPEN:
        day = f"{deal.expected_close:%d.%m.%Y}"
        text += " " + _("Expected by %(date)s.") % {"date": day}
        return Spoken(text, day.replace(".", ""))
    return Spoken(text, str(deal.pk))


def _last_invoice(client_id: int) -> Spoken:
    invoice = (
        Document.objects.filter(deal__client_id=client_id, kind=Document.Kind.INVOICE)
        .order_by("-issued_on", "-id")
        .first()
    )
    if invoice is None:
        return Spoken(_("You have no invoices."))
    text = _("Invoice %(number)s of %(date)s: %(total)s.") % {
        "number": f"{invoice.number}/{invoice.year}",
        "date": f"{invoice.issued_on:%d.%m.%Y}",
        "total": _money(invoice.total, invoice.currency),
    }
    return Spoken(text, str(int(invoice.total)))


CRM = Crm(check=check, answer=answer)


def scoped(user: Any) -> tuple[Crm, Callable[[str], int | None]]:
    """The CRM as an editor's "Try it" (page and API) reads it: a real caller is not a user, but
    the editor is, so a client or deal they may not see is found and answered as no one's (a
    head of one team would otherwise hear another team's clients' deals and invoices)."""
    clients = visible_clients(user)
    deals = visible_deals(user)

    def seen(client_id: int | None) -> bool:
        return client_id is not None and clients.filter(pk=client_id).exists()

    def scoped_check(kind: str, digits: str, client_id: int | None) -> Checked:
        verdict = check(kind, digits, client_id)
        if verdict.client_id is not None and not seen(verdict.client_id):
            return Checked(False)
        if (
            DEAL_FACT in verdict.facts
            and not deals.filter(pk=int(verdict.facts[DEAL_FACT])).exists()
        ):
            return Checked(False)
        return verdict

    def scoped_answer(kind: str, client_id: int | None, values: Mapping[str, str]) -> Spoken:
        return answer(kind, client_id if seen(client_id) else None, values)

    def scoped_caller(number: str) -> int | None:
        found = caller_client(number)
        return found if seen(found) else None

    return Crm(check=scoped_check, answer=scoped_answer), scoped_caller
