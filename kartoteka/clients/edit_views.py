"""Client pages that change something: create, edit, trash, restore, links, consents, views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.accounts.models import User
from kartoteka.clients import ownership, privacy, services
from kartoteka.clients.forms import (
    ClientForm,
    ConsentForm,
    EmailFormSet,
    JobForm,
    LinkForm,
    PhoneFormSet,
    SavedViewForm,
    emails_from,
    phones_from,
    styled_formset,
)
from kartoteka.clients.models import Client, Employment, SavedView
from kartoteka.clients.queries import visible_clients
from kartoteka.clients.views import get_client
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.forms import add_service_errors, clean_text, parse_id
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor


def _contact_initial(client: Client | None, phone: str = "") -> tuple[list[dict], list[dict]]:
    if client is None:  # a new client; the screen pop of an unknown caller gives the number
        return ([{"number": phone[:40]}] if phone.strip() else []), []
    phones = [{"number": p.raw or p.e164, "kind": p.kind} for p in client.phones.all()]
    emails = [{"email": e.email, "kind": e.kind} for e in client.emails.all()]
    return phones, emails


def _map_contact_errors(
    exc: ValidationError, phone_set: BaseFormSet, email_set: BaseFormSet
) -> ValidationError | None:
    """Put errors such as "phones.1.number" on the matching formset row; return the rest."""
    rest: dict[str, list[str]] = {}
    filled = {
        "phones": [f for f in phone_set if f.cleaned_data.get("number", "").strip()],
        "emails": [f for f in email_set if f.cleaned_data.get("email", "").strip()],
    }
    for key, messages_ in exc.message_dict.items():
        parts = key.split(".")
        if (
            parts[0] in filled
            and len(parts) == 3
            and parts[1].isdigit()
            and int(parts[1]) < len(filled[parts[0]])
        ):
            row = filled[parts[0]][int(parts[1])]
            for message in messages_:
                row.add_error(parts[2] if parts[2] in row.fields else None, message)
        else:
            rest[key] = messages_
    return ValidationError(rest) if rest else None


def _edit(request: HttpRequest, kind: str, client: Client | None) -> HttpResponse:
    initial_phones, initial_emails = _contact_initial(client, request.GET.get("phone", ""))
    data = request.POST if request.method == "POST" else None
    form = ClientForm(
        data,
        kind=kind,
        user=actor(request),
        instance=client or Client(kind=kind),
        initial={} if client else {"owner": actor(request)},
    )
    phone_set = styled_formset(PhoneFormSet(data, prefix="phone", initial=initial_phones))
    email_set = styled_formset(EmailFormSet(data, prefix="email", initial=initial_emails))
    job_form = JobForm(data, prefix="job", initial={"company": request.GET.get("company")})
    company = _company_for_job(request) if kind == Client.Kind.PERSON else None
    stale = False
    # The job fields are on the page only when the person is created from a company's card.
    parts = (form, phone_set, email_set, job_form) if company else (form, phone_set, email_set)
    if data is not None and all(f.is_valid() for f in parts):
        try:
            saved = _save(request, form, phone_set, email_set, client, company, job_form)
        except StaleVersion:
            stale = True
            form.add_error(
                None,
                _(
                    "Someone else saved this card while you were editing it. Your changes are "
                    "below and were not saved: open the card in a new tab, compare, and save "
                    "again."
                ),
            )
        except ValidationError as exc:
            remaining = _map_contact_errors(exc, phone_set, email_set)
            if remaining:
                add_service_errors(
                    form, remaining, {f"custom.{f.key}": f"cf_{f.key}" for f in form.custom_fields}
                )
        else:
            messages.success(request, _("Saved."))
            return redirect("clients:card", pk=saved.pk)
    context = {
        "form": form,
        "phone_set": phone_set,
        "email_set": email_set,
        "job_form": job_form,
        "company": company,
        "client": client,
        "kind": kind,
        "stale": stale,
    }
    failed = data is not None and any(
        f.errors for f in (*parts[:1], *parts[3:], *phone_set, *email_set)
    )
    status = 409 if stale else 422 if failed else 200
    return render(request, "clients/edit.html", context, status=status)


def _company_for_job(request: HttpRequest) -> Client | None:
    company_id = parse_id(request.POST.get("job-company") or request.GET.get("company"))
    if company_id is None:
        return None
    companies = visible_clients(actor(request), Action.EDIT).filter(kind=Client.Kind.COMPANY)
    return companies.filter(pk=company_id).first()


def _save(
    request: HttpRequest,
    form: ClientForm,
    phone_set: BaseFormSet,
    email_set: BaseFormSet,
    client: Client | None,
    company: Client | None,
    job_form: JobForm,
) -> Client:
    user = actor(request)
    args: dict[str, Any] = {
        "phones": phones_from(phone_set) if form.contacts_editable else None,
        "emails": emails_from(email_set) if form.contacts_editable else None,
        "tags": form.service_tags(),
        "custom": form.service_custom(),
    }
    with transaction.atomic():
        if client is None:
            saved = services.create_client(user, form.kind, form.service_fields(), **args)
            if company is not None:
                services.link_person(
                    user,
                    saved,
                    company,
                    job_form.cleaned_data["role"],
                    job_form.cleaned_data["position"],
                )
            return saved
        version = form.cleaned_data.get("version") or 0
        return services.update_client(user, client, version, form.service_fields(), **args)


def client_create(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in Client.Kind.values:
        return redirect("clients:list")
    permissions.require(actor(request), Action.CREATE)
    return _edit(request, kind, None)


def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_client(request, pk, Action.EDIT)
    return _edit(request, client.kind, client)


@require_POST
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_client(request, pk, Action.DELETE)
    services.trash_client(actor(request), client)
    messages.success(
        request,
        _("%(name)s is in the trash; it can be restored from there.") % {"name": client.name},
    )
    return redirect("clients:list")


@require_POST
def client_restore(request: HttpRequest, pk: int) -> HttpResponse:
    client = permissions.get_or_404(actor(request), Action.RESTORE, Client.all_objects.all(), pk=pk)
    services.restore_client(actor(request), client)
    messages.success(request, _("%(name)s is restored.") % {"name": client.name})
    return redirect("clients:card", pk=client.pk)


@require_POST
def link_add(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_client(request, pk, Action.EDIT)
    form = LinkForm(request.POST)
    if form.is_valid():
        person = get_client(request, form.cleaned_data["person"])
        try:
            services.link_person(
                actor(request),
                person,
                company,
                form.cleaned_data["role"],
                form.cleaned_data["position"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a person and a role."))
    return redirect("clients:card", pk=company.pk)


@require_POST
def link_remove(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    """Unlink from either card; changing who works at a company needs the right to edit it."""
    client = get_client(request, pk)
    links = Employment.objects.select_related("person", "company").filter(
        Q(person=client) | Q(company=client)
    )
    job = get_object_or_404(links, pk=link_id)
    get_client(request, job.company_id, Action.EDIT)
    services.unlink_person(actor(request), job)
    return redirect("clients:card", pk=client.pk)


@require_POST
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_client(request, pk, Action.EDIT)
    form = ConsentForm(request.POST, prefix="consent")
    if form.is_valid():
        privacy.record_consent(
            actor(request),
            client,
            form.cleaned_data["channel"],
            form.cleaned_data["granted"],
            form.cleaned_data["source"],
            purpose=form.cleaned_data["purpose"],
            text_version=form.cleaned_data["text_version"],
        )
        messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("Choose a channel and whether consent is given."))
    return redirect("clients:card", pk=client.pk)


@require_POST
def view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    query = clean_text(request.POST.get("query", ""), 2000)
    if form.is_valid():
        SavedView.objects.update_or_create(
            user=actor(request),
            name=form.cleaned_data["name"],
            defaults={"query": query},
        )
        messages.success(request, _("View saved."))
    return redirect(reverse("clients:list") + (f"?{query}" if query else ""))


@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    SavedView.objects.filter(user=actor(request), pk=view_id).delete()
    return redirect("clients:list")


@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    """The list's bulk action: the chosen clients to another owner."""
    me = actor(request)
    ids = [i for i in map(parse_id, request.POST.getlist("ids")) if i is not None]
    raw_owner = request.POST.get("owner", "")
    owner_id = parse_id(raw_owner)
    owner = User.objects.filter(pk=owner_id).first() if owner_id is not None else None
    if raw_owner and owner is None:
        messages.error(request, _("Choose an active user."))
    else:
        try:
            moved = ownership.reassign_clients(me, ids, owner)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Reassigned: %(n)d.") % {"n": moved})
    back = request.POST.get("query", "")[:2000]
    return redirect(reverse("clients:list") + (f"?{back}" if back else ""))
