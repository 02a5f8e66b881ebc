"""/api/v1/persons and /api/v1/companies: the client base, its links and timelines.

Both routers are built by one factory; they differ only in the kind and the body schema.
(No `from __future__ import annotations` here: ninja reads the factory's annotations.)
"""

from typing import Annotated, Any, Literal

from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict

from kartoteka.accounts.models import User
from kartoteka.activities.api import InteractionPage, TimelineQuery, check_kind, page_out
from kartoteka.activities.queries import timeline
from kartoteka.clients import field_rules, ownership, services
from kartoteka.clients.models import Client, Employment
from kartoteka.clients.queries import ClientFilter, links_of, list_clients
from kartoteka.clients.schemas import (
    DEFAULT_LIMIT,
    IF_MATCH,
    MAX_LIMIT,
    Clean,
    ClientIn,
    ClientOut,
    ClientPage,
    CompanyIn,
    CompanyPatch,
    LinkList,
    LinkOut,
    Message,
    PersonIn,
    PersonPatch,
    StaffIn,
    StaleOut,
    client_out,
    expected_version,
    field_error,
    link_out,
    with_cursor,
)
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, can, get_or_404, require, scope
from kartoteka.core.views import actor
from kartoteka.dedup import queries as dedup_queries
from kartoteka.dedup import reader as dedup_reader
from kartoteka.dedup.schemas import ClientCreatedOut, DuplicatesOut, duplicate_out

NOT_FIELDS = {"phones", "emails", "tags", "custom", "owner_id", "version"}


class ListQuery(Clean):
    """The list's filters (plus `cf_<key>` for custom fields); any other key is refused."""

    q: str | None = Field(
        None, max_length=200, description="Search: names, phones in any format, e-mails, INN."
    )
    owner: str | None = Field(None, max_length=20, description="A user id, `me` or `none`.")
    tag: str | None = Field(None, max_length=60)
    stage: str | None = Field(None, max_length=10)
    source: str | None = Field(None, max_length=20)
    completeness_below: int | None = Field(None, ge=1, le=101)
    created_from: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    created_to: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    contact_from: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    contact_to: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    no_contact_days: int | None = Field(None, ge=1, le=36500)
    sort: str | None = Field(
        None,
        max_length=60,
        description="name, created_at, last_contact_at, "
        "completeness or custom.<key>; a leading - sorts descending.",
    )
    cursor: str | None = Field(
        None, max_length=500, description="next_cursor of the previous page."
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- helpers ----------------------------------------------------------------------------------


def _cards(kind: str) -> QuerySet[Client]:
    return (
        Client.objects.filter(kind=kind)
        .select_related("owner")
        .prefetch_related("phones", "emails", "tags")
    )


def _card(
    request: HttpRequest, client: Client, response: HttpResponse | None = None
) -> dict[str, Any]:
    if response is not None:
        response["ETag"] = f'"{client.version}"'
    viewer = actor(request)
    return client_out(client, list(links_of(client, viewer)), field_rules.hidden_fields(viewer))


def _reload(request: HttpRequest, kind: str, pk: int, response: HttpResponse) -> dict[str, Any]:
    return _card(request, get_or_404(actor(request), Action.VIEW, _cards(kind), pk=pk), response)


def _query_errors(form: ClientFilter) -> NinjaValidationError:
    return NinjaValidationError(
        [
            {
                "loc": ["query", name],
                "msg": " ".join(str(m) for m in messages),
                "type": "value_error",
            }
            for name, messages in form.errors.items()
        ]
    )


def _filter_form(request: HttpRequest, kind: str) -> ClientFilter:
    data = request.GET.copy()
    form = ClientFilter(data, user=actor(request))
    allowed = (set(form.fields) - {"kind"}) | {"cursor", "limit"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise field_error(["query", unknown[0][:100]], _("There is no such filter."))
    data["kind"] = kind
    if not form.is_valid():
        raise _query_errors(form)
    return form


def _list(request: HttpRequest, kind: str, filters: ListQuery) -> dict[str, Any]:
    form = _filter_form(request, kind)
    result = with_cursor(lambda: list_clients(actor(request), form, filters.cursor, filters.limit))
    if isinstance(result, QuerySet):
        if filters.cursor:
            raise field_error(
                ["query", "cursor"], _("Search results come in one page; refine the query.")
            )
        rows, next_cursor = list(result[: filters.limit]), None
    else:
        rows, next_cursor = result.rows, result.next_cursor
    prefetch_related_objects(rows, "phones", "emails", "tags")
    hidden = field_rules.hidden_fields(actor(request))
    return {"items": [client_out(c, hidden=hidden) for c in rows], "next_cursor": next_cursor}


def _owner(request: HttpRequest, payload: ClientIn, current: int | None) -> dict[str, Any]:
    """{"owner": user} when the body sets the owner; checks the user may reassign."""
    if "owner_id" not in payload.model_fields_set or payload.owner_id == current:
        return {}
    if payload.owner_id == actor(request).pk:
        return {"owner": actor(request)}
    if payload.owner_id is None:
        owner = None
    else:
        owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
        if owner is None:
            raise field_error(["body", "owner_id"], _("There is no such user."))
    if owner != actor(request):
        require(actor(request), Action.REASSIGN, Client)
    return {"owner": owner}


def _write_args(payload: ClientIn) -> dict[str, Any]:
    """phones/emails/tags/custom for the service; only those the body sent (null empties)."""
    sent = payload.model_fields_set
    args: dict[str, Any] = {}
    if "phones" in sent:
        args["phones"] = [services.PhoneIn(p.number, p.kind) for p in payload.phones or []]
    if "emails" in sent:
        args["emails"] = [services.EmailIn(e.email, e.kind) for e in payload.emails or []]
    if "tags" in sent:
        args["tags"] = payload.tags or []
    if "custom" in sent:
        args["custom"] = payload.custom or {}
    return args


def _fields(payload: ClientIn) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude=NOT_FIELDS)


def _duplicates_out(found: dedup_queries.CheckResult) -> dict[str, Any]:
    return {
        "detail": _("This looks like a client that already exists."),
        "duplicates": [duplicate_out(x) for x in found.visible],
        "hidden": found.hidden,
    }


def _create(
    request: HttpRequest,
    kind: str,
    payload: ClientIn,
    response: HttpResponse,
    on_duplicate: Literal["warn", "reject"] = "warn",
) -> Any:
    require(actor(request), Action.CREATE, Client)
    me = actor(request)
    fields = {"owner": me, **_fields(payload), **_owner(request, payload, me.pk)}
    phones = [p.number for p in getattr(payload, "phones", None) or []]
    emails = [e.email for e in getattr(payload, "emails", None) or []]
    found = dedup_queries.check_written(me, kind, fields, phones, emails)
    if on_duplicate == "reject" and (found.visible or found.hidden):
        return 409, _duplicates_out(found)
    client = services.create_client(actor(request), kind, fields, **_write_args(payload))
    card = _reload(request, kind, client.pk, response)
    return 201, {**card, "likely_duplicates": [duplicate_out(x) for x in found.visible]}


def _update(
    request: HttpRequest,
    kind: str,
    pk: int,
    payload: PersonPatch | CompanyPatch,
    if_match: str | None,
    response: HttpResponse,
    on_duplicate: Literal["warn", "reject"] = "warn",
) -> Any:
    me = actor(request)
    client = get_or_404(me, Action.EDIT, Client.objects.filter(kind=kind), pk=pk)
    expected = expected_version(if_match, payload.version)
    if expected != client.version:
        raise StaleVersion(client.version)
    fields = {**_fields(payload), **_owner(request, payload, client.owner_id)}
    with transaction.atomic():
        services.update_client(me, client, expected, fields, **_write_args(payload))
        # The stored record after the change, as the edit form checks it.
        stored = dedup_reader.records_for([pk])[0]
        found = dedup_queries.check(me, stored, exclude=pk)
        if on_duplicate == "reject" and (found.visible or found.hidden):
            transaction.set_rollback(True)
            return 409, _duplicates_out(found)
    card = _reload(request, kind, pk, response)
    return 200, {**card, "likely_duplicates": [duplicate_out(x) for x in found.visible]}


def _delete(request: HttpRequest, kind: str, pk: int, if_match: str | None) -> tuple[int, None]:
    client = get_or_404(actor(request), Action.DELETE, Client.objects.filter(kind=kind), pk=pk)
    if if_match is not None and expected_version(if_match, None) != client.version:
        raise StaleVersion(client.version)
    services.trash_client(actor(request), client)
    return 204, None


def _restore(request: HttpRequest, kind: str, pk: int, response: HttpResponse) -> dict[str, Any]:
    client = get_or_404(actor(request), Action.RESTORE, Client.all_objects.filter(kind=kind), pk=pk)
    services.restore_client(actor(request), client)
    return _reload(request, kind, pk, response)


def _timeline(request: HttpRequest, kind: str, pk: int, filters: TimelineQuery) -> dict[str, Any]:
    check_kind(filters.kind)
    client = get_or_404(actor(request), Action.VIEW, Client.objects.filter(kind=kind), pk=pk)
    page = with_cursor(
        lambda: timeline(
            client,
            actor(request),
            kind=filters.kind or "",
            since=filters.since,
            until=filters.until,
            cursor=filters.cursor,
            size=filters.limit,
        )
    )
    return page_out(page)


# --- links between persons and companies ------------------------------------------------------


def _links(request: HttpRequest, kind: str, pk: int) -> dict[str, Any]:
    client = get_or_404(actor(request), Action.VIEW, Client.objects.filter(kind=kind), pk=pk)
    return {"items": [link_out(j) for j in links_of(client, actor(request))]}


def _link(request: HttpRequest, pk: int, payload: StaffIn) -> tuple[int, dict[str, Any]]:
    user = actor(request)
    company = get_or_404(user, Action.EDIT, Client.objects.filter(kind=Client.Kind.COMPANY), pk=pk)
    persons = scope(user, Action.EDIT, Client.objects.filter(kind=Client.Kind.PERSON))
    person = persons.filter(pk=payload.person_id).first()
    if person is None or not can(user, Action.EDIT, person):
        raise field_error(["body", "person_id"], _("There is no such person."))
    job = services.link_person(user, person, company, payload.role, payload.position)
    return 201, link_out(Employment.objects.select_related("person", "company").get(pk=job.pk))


def _unlink(request: HttpRequest, pk: int, link_id: int) -> tuple[int, None]:
    user = actor(request)
    company = get_or_404(user, Action.EDIT, Client.objects.filter(kind=Client.Kind.COMPANY), pk=pk)
    job = (
        Employment.objects.select_related("person", "company")
        .filter(company=company, pk=link_id)
        .first()
    )
    if job is None:
        raise Http404
    services.unlink_person(user, job)
    return 204, None


# --- the routers ------------------------------------------------------------------------------

ERRORS: dict[int, Any] = {403: Message, 404: Message}


def build_router(kind: str, body: type[ClientIn], patch: type[ClientIn]) -> Router:
    """The CRUD, restore and timeline operations of one kind of client."""
    router = Router(tags=[f"{kind}s"])
    op = f"{kind}s_"

    @router.get("", response=ClientPage, operation_id=op + "list", summary=f"List {kind}s")
    def list_(request: HttpRequest, filters: Query[ListQuery]) -> dict[str, Any]:
        return _list(request, kind, filters)

    @router.post(
        "",
        response={201: ClientCreatedOut, 409: DuplicatesOut, **ERRORS},
        operation_id=op + "create",
        summary=f"Create a {kind}",
        description="The answer names likely duplicates; `?on_duplicate=reject` refuses "
        "to create the record when there are any (409 naming them).",
    )
    def create(
        request: HttpRequest,
        payload: body,  # type: ignore[valid-type]
        response: HttpResponse,
        on_duplicate: Literal["warn", "reject"] = "warn",
    ) -> Any:
        return _create(request, kind, payload, response, on_duplicate)

    @router.get(
        "/{pk}",
        response={200: ClientOut, **ERRORS},
        operation_id=op + "read",
        summary=f"Read a {kind}",
    )
    def read(request: HttpRequest, pk: int, response: HttpResponse) -> dict[str, Any]:
        return _reload(request, kind, pk, response)

    @router.patch(
        "/{pk}",
        response={200: ClientCreatedOut, 409: DuplicatesOut, 412: StaleOut, 428: Message, **ERRORS},
        operation_id=op + "update",
        summary=f"Change a {kind}",
        description="Needs If-Match or `version`: 428 without, 412 when stale. The answer "
        "names likely duplicates of the changed record; `?on_duplicate=reject` refuses the "
        "change when there are any (409 naming them, nothing saved).",
    )
    def update(
        request: HttpRequest,
        pk: int,
        payload: patch,  # type: ignore[valid-type]
        response: HttpResponse,
        if_match: str | None = IF_MATCH,
        on_duplicate: Literal["warn", "reject"] = "warn",
    ) -> Any:
        return _update(request, kind, pk, payload, if_match, response, on_duplicate)

    @router.delete(
        "/{pk}",
        response={204: None, 412: StaleOut, **ERRORS},
        operation_id=op + "delete",
        summary=f"Move a {kind} to the trash",
    )
    def delete(request: HttpRequest, pk: int, if_match: str | None = IF_MATCH) -> tuple[int, None]:
        return _delete(request, kind, pk, if_match)

    @router.post(
        "/{pk}/restore",
        response={200: ClientOut, **ERRORS},
        operation_id=op + "restore",
        summary=f"Restore a {kind} from the trash",
    )
    def restore(request: HttpRequest, pk: int, response: HttpResponse) -> dict[str, Any]:
        return _restore(request, kind, pk, response)

    @router.get(
        "/{pk}/timeline",
        response={200: InteractionPage, **ERRORS},
        operation_id=op + "timeline",
        summary="The timeline, newest first (a company's includes its staff's)",
    )
    def timeline_(request: HttpRequest, pk: int, filters: Query[TimelineQuery]) -> dict[str, Any]:
        return _timeline(request, kind, pk, filters)

    links = "jobs" if kind == Client.Kind.PERSON else "staff"

    @router.get(
        f"/{{pk}}/{links}",
        response={200: LinkList, **ERRORS},
        operation_id=op + links,
        summary=f"The {kind}'s {links}",
    )
    def links_(request: HttpRequest, pk: int) -> dict[str, Any]:
        return _links(request, kind, pk)

    return router


persons = build_router(Client.Kind.PERSON, PersonIn, PersonPatch)
companies = build_router(Client.Kind.COMPANY, CompanyIn, CompanyPatch)


@companies.post(
    "/{pk}/staff",
    response={201: LinkOut, **ERRORS},
    operation_id="companies_staff_add",
    summary="Link a person to the company",
)
def staff_add(request: HttpRequest, pk: int, payload: StaffIn) -> tuple[int, dict[str, Any]]:
    return _link(request, pk, payload)


@companies.delete(
    "/{pk}/staff/{link_id}",
    response={204: None, **ERRORS},
    operation_id="companies_staff_remove",
    summary="Unlink a person from the company",
)
def staff_remove(request: HttpRequest, pk: int, link_id: int) -> tuple[int, None]:
    return _unlink(request, pk, link_id)


clients = Router(tags=["clients"])


class ReassignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(min_length=1, max_length=10_000)
    owner_id: int | None = Field(None, ge=1, le=2**62)


class ReassignOut(Schema):
    reassigned: int


@clients.post(
    "/reassign",
    response={200: ReassignOut, **ERRORS},
    operation_id="clients_reassign",
    summary="Give persons or companies to another owner",
    description="All or nothing: if you may not reassign any one id, nothing changes (422, `ids`).",
)
def reassign(request: HttpRequest, payload: ReassignIn) -> dict[str, int]:
    owner = None
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
        if owner is None:
            raise field_error(["body", "owner_id"], _("There is no such user."))
    return {"reassigned": ownership.reassign_clients(actor(request), payload.ids, owner)}
