"""Pages of the duplicates: the review queue, a pair side by side, merges, settings, the hint."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.clients.models import Client
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import parse_id
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.dedup import merge as merging
from kartoteka.dedup import queries, services
from kartoteka.dedup.forms import SettingsForm
from kartoteka.dedup.labels import labels
from kartoteka.dedup.models import Candidate, DedupSettings

PAGE = 50
PERSON_FORM_FIELDS = ("last_name", "first_name", "middle_name", "birthday", "inn", "passport")
COMPANY_FORM_FIELDS = ("company_name", "legal_form", "inn", "kpp")


def _pair(request: HttpRequest, pk: int) -> Candidate:
    found = queries.visible_pairs(actor(request)).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    rows = queries.visible_pairs(actor(request))
    cluster = parse_id(request.GET.get("cluster"))
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    try:
        page = keyset_page(rows, "score", True, request.GET.get("cursor"), PAGE)
    except BadCursor:
        page = keyset_page(rows, "score", True, None, PAGE)
    pairs = [(p, labels(p.reasons)) for p in page.rows]
    context = {"pairs": pairs, "page": page, "cluster": cluster}
    return render(request, "dedup/queue.html", context)


def _value(client: Client, name: str) -> Any:
    value = getattr(client, name)
    if name == "owner":
        return str(value) if value else ""
    return "" if value is None else value


def _rows(pair: Candidate) -> list[dict[str, Any]]:
    """The fields side by side; `differs` marks where the person merging chooses."""
    out = []
    for name in merging.mergeable_fields(pair.a.kind):
        field = Client._meta.get_field(name)
        a, b = _value(pair.a, name), _value(pair.b, name)
        out.append(
            {
                "name": name,
                "label": getattr(field, "verbose_name", name),
                "a": a,
                "b": b,
                "differs": a != b,
                "default": "a" if a or not b else "b",
            }
        )
    return out


def _contacts(client: Client) -> dict[str, Any]:
    return {
        "phones": [p.e164 for p in client.phones.all()],
        "emails": [e.email for e in client.emails.all()],
        "tags": [t.name for t in client.tags.all()],
        "interactions": client.interactions.count(),
        "deals": client.deals.count(),
    }


@require_GET
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    user = actor(request)
    context = {
        "pair": pair,
        "reasons": labels(pair.reasons),
        "rows": _rows(pair),
        "extra": {"a": _contacts(pair.a), "b": _contacts(pair.b)},
        "may_merge": permissions.can(user, Action.MERGE, pair.a)
        and permissions.can(user, Action.MERGE, pair.b),
        "may_dismiss": permissions.can(user, Action.EDIT, pair.a)
        and permissions.can(user, Action.EDIT, pair.b),
    }
    return render(request, "dedup/compare.html", context)


@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    keep = request.POST.get("survivor", "a")
    survivor, loser = (pair.a, pair.b) if keep != "b" else (pair.b, pair.a)
    versions = (parse_id(request.POST.get("version_a")), parse_id(request.POST.get("version_b")))
    if versions != (pair.a.version, pair.b.version):
        messages.error(request, _("One of the records changed since you opened it; compare again."))
        return redirect("dedup:compare", pk=pair.pk)
    mine = "a" if survivor is pair.a else "b"
    choices = {}
    for name in merging.mergeable_fields(pair.a.kind):
        side = request.POST.get(f"field_{name}")
        if side in ("a", "b"):
            choices[name] = "a" if side == mine else "b"
    try:
        record = merging.merge(actor(request), survivor, loser, choices)
    except (ValidationError, StaleVersion):
        messages.error(request, _("The merge was refused; compare again."))
        return redirect("dedup:compare", pk=pair.pk)
    messages.success(
        request,
        _("%(loser)s is merged into %(survivor)s.")
        % {"loser": loser.name, "survivor": survivor.name},
    )
    return redirect("clients:card", pk=record.survivor_id)


@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    try:
        services.dismiss(actor(request), pair)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Marked as not a duplicate; it will not be proposed again."))
    return redirect("dedup:queue")


@require_GET
def merges(request: HttpRequest) -> HttpResponse:
    rows = queries.visible_merges(actor(request))
    try:
        page = keyset_page(rows, "id", True, request.GET.get("cursor"), PAGE)
    except BadCursor:
        page = keyset_page(rows, "id", True, None, PAGE)
    return render(request, "dedup/merges.html", {"page": page})


@require_POST
def unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    record = queries.visible_merges(actor(request)).filter(pk=pk).first()
    if record is None:
        raise Http404
    try:
        merging.unmerge(actor(request), record)
    except StaleVersion:
        messages.error(
            request, _("The record was changed after the merge; the merge cannot be undone.")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The merge is undone: both records are back."))
    return redirect("dedup:merges")


def settings_page(request: HttpRequest) -> HttpResponse:
    permissions.require(actor(request), Action.CONFIGURE)
    current = DedupSettings.current()
    initial = {"auto_merge": current.auto_merge, "threshold": current.threshold}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.save_settings(
            actor(request), form.cleaned_data["auto_merge"], form.cleaned_data["threshold"]
        )
        messages.success(request, _("Saved."))
        return redirect("dedup:settings")
    status = 422 if request.method == "POST" else 200
    return render(request, "dedup/settings.html", {"form": form}, status=status)


@require_POST
def check(request: HttpRequest, kind: str) -> HttpResponse:
    """The edit form's hint: "this looks like …", while the record is typed in."""
    if kind not in Client.Kind.values:
        raise Http404
    data = request.POST
    names = PERSON_FORM_FIELDS if kind == Client.Kind.PERSON else COMPANY_FORM_FIELDS
    fields: dict[str, object] = {n: str(data.get(n, ""))[:300] for n in (*names, "address")}
    phones = [
        str(v)[:40] for k, v in data.items() if k.startswith("phone-") and k.endswith("-number")
    ]
    emails = [
        str(v)[:254] for k, v in data.items() if k.startswith("email-") and k.endswith("-email")
    ]
    exclude = parse_id(request.GET.get("exclude"))
    found = queries.check_written(actor(request), kind, fields, phones[:20], emails[:20], exclude)
    items = [(x, labels(x.reasons)) for x in found.visible]
    return render(request, "dedup/_hint.html", {"items": items, "hidden": found.hidden})
