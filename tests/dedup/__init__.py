"""Helpers for the duplicates tests: clients with everything attached, a full snapshot."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.activities.services import log_interaction
from kartoteka.clients import privacy
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client, ClientEvent, Consent, Email, Employment, Phone
from kartoteka.clients.services import EmailIn, PhoneIn
from kartoteka.sales import services as sales_services
from kartoteka.sales.models import Deal
from kartoteka.transfer.models import ImportChange


def person(
    owner: User | None,
    last: str = "Рябов",
    first: str = "Иван",
    *,
    phones: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    **fields: Any,
) -> Client:
    return client_services.create_client(
        None,
        Client.Kind.PERSON,
        {"last_name": last, "first_name": first, "owner": owner, **fields},
        phones=[PhoneIn(p) for p in phones],
        emails=[EmailIn(e) for e in emails],
    )


def company(owner: User | None, name: str = "Ромашка", form: str = "ООО", **fields: Any) -> Client:
    return client_services.create_client(
        None,
        Client.Kind.COMPANY,
        {"company_name": name, "legal_form": form, "owner": owner, **fields},
        phones=[PhoneIn(p) for p in fields.pop("phones", ())] if "phones" in fields else (),
    )


def furnish(client: Client, owner: User, tag: str, at_company: Client | None = None) -> None:
    """Give a client one of everything a merge must move."""
    log_interaction(owner, client, {"kind": "note", "summary": f"note of {client.pk}"})
    privacy.record_consent(owner, client, "email", True, "form")
    client_services.update_client(
        None, client, client.version, {}, tags=[tag, "общий"], custom=None
    )
    sales_services.create_deal(owner, {"title": f"Deal {client.pk}", "client": client})
    if at_company is not None:
        client_services.link_person(None, client, at_company, Employment.Role.DIRECTOR)
        client_services.link_person(None, client, at_company, Employment.Role.CONTACT)


def _ids(qs: Any) -> list[int]:
    return sorted(qs.values_list("pk", flat=True))


SKIP = {"version", "updated_at"}


def snapshot(*clients: Client) -> dict[int, dict[str, Any]]:
    """Everything that belongs to each client, as comparable data."""
    out = {}
    for c in clients:
        row = Client.all_objects.get(pk=c.pk)
        fields = {
            f.attname: getattr(row, f.attname)
            for f in Client._meta.concrete_fields
            if f.attname not in SKIP
        }
        out[c.pk] = {
            "fields": fields,
            "tags": sorted(row.tags.values_list("name", flat=True)),
            "phones": sorted(
                Phone.objects.filter(client=c).values_list("pk", "e164", "raw", "kind", "position")
            ),
            "emails": sorted(
                Email.objects.filter(client=c).values_list("pk", "email", "kind", "position")
            ),
            "consents": _ids(Consent.objects.filter(client=c)),
            "events": _ids(
                ClientEvent.objects.filter(client=c)
                .exclude(changes__has_key="merge")
                .exclude(changes__has_key="unmerged")
            ),
            "interactions": _ids(Interaction.all_objects.filter(client=c)),
            "deals": _ids(Deal.all_objects.filter(client=c)),
            "deal_contacts": _ids(Deal.all_objects.filter(contacts=c)),
            "jobs": sorted(
                Employment.objects.filter(Q(person=c) | Q(company=c)).values_list(
                    "pk", "person_id", "company_id", "role"
                )
            ),
            "import_changes": _ids(ImportChange.objects.filter(client=c)),
        }
    return out
