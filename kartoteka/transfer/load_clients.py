"""Writing imported persons and companies: duplicates matched, new rows written in bulk.

A chunk of parsed records is matched against the database (external id, INN, e-mail, phone —
in that order of trust) and against the chunk itself; what is new is written with COPY or
executemany with its derived columns, history rows and links; what exists is skipped or updated
through the clients' own service, which checks the user's rights and leaves history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import completeness, derived
from kartoteka.clients.bulk import allocate_ids, is_postgres, table, write_rows
from kartoteka.clients.demo_words import (
    CLIENT_COLS,
    EMAIL_COLS,
    JOB_COLS,
    PHONE_COLS,
    TAG_COLS,
)
from kartoteka.clients.models import (
    Client,
    ClientEvent,
    ContactKind,
    Email,
    Employment,
    Phone,
    Tag,
)
from kartoteka.clients.services import EmailIn, PhoneIn, update_client
from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, Denied
from kartoteka.dedup import keys as dedup_keys
from kartoteka.transfer import values
from kartoteka.transfer.fields import CLIENT_KIND
from kartoteka.transfer.models import ImportChange, ImportJob, OnDuplicate
from kartoteka.transfer.outcome import Outcome, add_ids
from kartoteka.transfer.rows import ClientRecord, role_of

EVENT_COLS = ("client_id", "actor_id", "verb", "changes", "at")


def _fold(name: str) -> str:
    return " ".join(name.lower().replace("ё", "е").split())


class ClientLoader:
    def __init__(self, job: ImportJob, outcome: Outcome, actor: User | None) -> None:
        self.job, self.outcome, self.actor = job, outcome, actor
        self.kind = CLIENT_KIND[job.entity]
        self.postgres = is_postgres()
        self.now = timezone.now()
        self.stamp: Any = self.now if self.postgres else self.now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.weights = {k: completeness.weights(k) for k in Client.Kind.values}
        self.totals = {k: sum(w.values()) or 1 for k, w in self.weights.items()}
        self.actor_id = getattr(actor, "pk", None)
        self.tag_ids: dict[str, int] = {}
        self.owners: dict[int, User] = {}  # the owners rows name, read once for all updates
        self.companies: dict[str, int] = {}  # folded name -> id, found or created by this import
        self.event = json.dumps({"import": job.pk})
        self.editable = permissions.scope(actor, Action.EDIT, Client.objects.all())
        # An import into an empty base needs no lookups: its own keys are remembered instead.
        self.fresh = not Client.all_objects.exists()
        self.seen: dict[str, int] = {}  # "p+7916…" / "eanna@…" / "i…" / "x…" -> id it created

    # --- matching -----------------------------------------------------------------------------

    def _existing(self, records: Sequence[ClientRecord], kind: str) -> dict[tuple[str, str], int]:
        """(key, value) -> id of a live client of `kind`; an external id also finds the trash."""
        ext = {r.fields["external_id"] for r in records if r.fields.get("external_id")}
        inns = {r.fields["inn"] for r in records if r.fields.get("inn")}
        mails = {e for r in records for e in r.emails}
        phones = {p for r in records for _raw, p in r.phones}
        found: dict[tuple[str, str], int] = {}
        live = Q(client__deleted_at__isnull=True, client__kind=kind)
        queries = [
            ("email", Email.objects.filter(live, email__in=mails).values_list("email", "client")),
            ("phone", Phone.objects.filter(live, e164__in=phones).values_list("e164", "client")),
            ("inn", Client.objects.filter(kind=kind, inn__in=inns).values_list("inn", "pk")),
        ]
        for key, query in queries:
            for value, pk in query if query.query.where else []:
                found.setdefault((key, value), pk)
        holders = Client.all_objects.filter(external_system="", external_id__in=ext)
        for value, pk, deleted, holder in holders.values_list(
            "external_id", "pk", "deleted_at", "kind"
        ):
            # External ids are unique over all clients: one in the trash or on another kind of
            # client is a clash (negative), not a duplicate to skip or update.
            found[("external_id", value)] = -pk if deleted or holder != kind else pk
        return found

    @staticmethod
    def keys(record: ClientRecord) -> list[tuple[str, str]]:
        found = []
        for key in ("external_id", "inn"):
            if record.fields.get(key):
                found.append((key, record.fields[key]))
        found += [("email", e) for e in record.emails]
        found += [("phone", p) for _raw, p in record.phones]
        return found

    # --- one chunk ----------------------------------------------------------------------------

    def load(self, records: list[ClientRecord]) -> None:
        existing = {} if self.fresh else self._existing(records, self.kind)
        in_chunk: dict[tuple[str, str], ClientRecord] = {}
        new: list[ClientRecord] = []
        contacts: list[tuple[ClientRecord, ClientRecord | int]] = []  # (person, its company)
        keys: list[list[tuple[str, str]]] = []  # of the new records
        for record in records:
            mine = self.keys(record)
            target = self._decide(record, mine, existing, in_chunk)
            if target is record:
                new.append(record)
                keys.append(mine)
                for key in mine:
                    in_chunk.setdefault(key, record)
            if record.contact is not None and target is not None:
                contacts.append((record.contact, target))
        employers = self._employers(new) if self.kind == "person" else {}
        ids = self._write(new)
        created = {id(r): pk for r, pk in zip(new, ids, strict=True)}
        for found, pk in zip(keys, ids, strict=True):
            self.seen.update(dict.fromkeys((k[0][0] + k[1] for k in found), pk))
        if self.kind == "person":
            self._link_employers(new, ids, employers)
        else:
            self._write_contacts(
                [(p, c if isinstance(c, int) else created[id(c)]) for p, c in contacts]
            )

    def _decide(
        self,
        record: ClientRecord,
        keys: list[tuple[str, str]],
        existing: dict[tuple[str, str], int],
        in_chunk: dict[tuple[str, str], ClientRecord],
    ) -> ClientRecord | int | None:
        """What the row stands for: itself (new), an earlier row of the chunk, an existing
        client's id; None when it was rejected."""
        policy = self.job.on_duplicate
        for key in keys:
            pk, earlier = existing.get(key), in_chunk.get(key)
            mine = self.seen.get(key[0][0] + key[1])  # created by an earlier chunk
            clash = (pk is not None and (pk < 0 or policy == OnDuplicate.CREATE)) or earlier or mine
            if key[0] == "external_id" and clash:
                self._refuse(record, key[0], _external_clash(pk, earlier, mine))
                return None
            if policy == OnDuplicate.CREATE or (pk is None and earlier is None and mine is None):
                continue
            if earlier is not None or mine is not None:
                row = earlier.row if earlier is not None else 0
                message = (
                    _("Same as row %(row)d.") % {"row": row}
                    if row
                    else _("Same as a client an earlier row of this file created (id %(id)d).")
                    % {"id": mine}
                )
                self.outcome.skip(record.row, key[0], message)
                return earlier if earlier is not None else mine
            assert pk is not None
            if policy == OnDuplicate.SKIP:
                message = _("Already in the CRM (id %(id)d).") % {"id": pk}
                self.outcome.skip(record.row, key[0], message)
                return pk
            return pk if self._update(record, pk) else None
        return record

    def _refuse(self, record: ClientRecord, name: str, message: str) -> None:
        self.outcome.reject(record.row, record.cells, [(name, message)])

    # --- updates ------------------------------------------------------------------------------

    def _update(self, record: ClientRecord, pk: int) -> bool:
        """Fill the existing client from the row: given values replace, contacts are added."""
        client = self.editable.filter(pk=pk).first()
        if client is None:
            self.outcome.reject(
                record.row, record.cells, [("", _("The record exists and you may not change it."))]
            )
            return False
        before = snapshot(client)
        phones = [PhoneIn(raw, kind) for raw, kind in before["phones"]]
        emails = [EmailIn(email, kind) for email, kind in before["emails"]]
        known_phones = set(client.phones.values_list("e164", flat=True))
        new_phones = [PhoneIn(raw) for raw, e164 in record.phones if e164 not in known_phones]
        known_emails = {m.email for m in emails}
        new_emails = [EmailIn(e) for e in record.emails if e not in known_emails]
        fields = {k: v for k, v in record.fields.items() if v not in ("", None) and k != "owner_id"}
        if (owner_id := record.fields.get("owner_id")) is not None:
            if owner_id not in self.owners:
                self.owners[owner_id] = User.objects.get(pk=owner_id)
            fields["owner"] = self.owners[owner_id]
        try:
            saved = update_client(
                self.actor,
                client,
                client.version,
                fields,
                # Contacts are added to, never replaced: what people typed keeps its kind.
                phones=phones + new_phones if new_phones else None,
                emails=emails + new_emails if new_emails else None,
                tags=sorted(set(before["tags"]) | set(record.tags)) if record.tags else None,
                custom=record.custom or None,
            )
        except ValidationError as exc:
            errors = [(k, " ".join(m)) for k, m in exc.message_dict.items()]
            self.outcome.reject(record.row, record.cells, errors)
            return False
        except (Denied, StaleVersion):
            self.outcome.reject(
                record.row, record.cells, [("", _("The record exists and you may not change it."))]
            )
            return False
        ImportChange.objects.create(
            job=self.job, client=saved, version=saved.version, before=before
        )
        self.outcome.updated += 1
        return True

    # --- creates ------------------------------------------------------------------------------

    def _write(self, records: list[ClientRecord], kind: str | None = None) -> list[int]:
        """Insert new clients of `kind` (the import's own, when None: those go to the sample)."""
        main, kind = kind is None, kind or self.kind
        ids = allocate_ids(Client, len(records))
        rows, phones, emails, tags, events = [], [], [], [], []
        for pk, record in zip(ids, records, strict=True):
            rows.append(self._client_row(pk, record, kind, main))
            phones += [
                (pk, ContactKind.MOBILE, raw, e164, i)
                for i, (raw, e164) in enumerate(record.phones)
            ]
            emails += [(pk, ContactKind.WORK, e, i) for i, e in enumerate(record.emails)]
            tags += [(pk, tag) for tag in self._tag_ids(record.tags)]
            events.append((pk, self.actor_id, ClientEvent.Verb.CREATED, self.event, self.stamp))
        write_rows(table(Client), CLIENT_COLS, rows)
        dedup_keys.write_for_client_rows(CLIENT_COLS, rows)
        write_rows(table(Phone), PHONE_COLS, phones)
        write_rows(table(Email), EMAIL_COLS, emails)
        write_rows(table(Client.tags.through), TAG_COLS, tags)
        write_rows(table(ClientEvent), EVENT_COLS, events)
        self.outcome.created += len(ids)
        add_ids(self.outcome.created_clients, ids)
        return ids

    def _client_row(self, pk: int, record: ClientRecord, kind: str, main: bool) -> tuple[Any, ...]:
        f = record.fields
        get = f.get
        owner = get("owner_id", self.actor_id)
        name = _compose_fields(f, kind)
        phones = [e for _raw, e in record.phones]
        emails = record.emails
        search = derived.search_words(
            [
                name,
                get("company_name", ""),
                get("inn", ""),
                get("ogrn", ""),
                get("external_id", ""),
                *emails,
            ],
            phones,
        )
        birthday = get("birthday")
        if main and self.outcome.wants_sample:
            self.outcome.show(record.row, _shown(name, phones, record))
        if birthday is not None and not self.postgres:
            birthday = birthday.isoformat()
        filled = {k for k, v in f.items() if v} | self._derived_filled(record, owner)
        weights = self.weights[kind]
        score = round(100 * sum(w for k, w in weights.items() if k in filled) / self.totals[kind])
        # fmt: off
        return (pk, self.stamp, self.stamp, None, 1, kind, name[:300], get("last_name", ""),
                get("first_name", ""), get("middle_name", ""), get("company_name", ""),
                get("legal_form", ""), get("inn", ""), get("kpp", ""), get("ogrn", ""), birthday,
                None, get("website", ""), get("address", ""), get("description", ""), owner,
                get("source", ""), get("stage") or Client.Stage.LEAD, "", get("external_id", ""),
                json.dumps(record.custom, ensure_ascii=False) if record.custom else "{}",
                phones[0] if phones else "", emails[0] if emails else "", score, None, search,
                self.actor_id)
        # fmt: on

    @staticmethod
    def _derived_filled(record: ClientRecord, owner: int | None) -> set[str]:
        """The completeness fields that are not plain columns (see clients.completeness)."""
        filled = {f"custom.{k}" for k, v in record.custom.items() if v not in ("", None, [])}
        for name, present in (
            ("phone", record.phones),
            ("email", record.emails),
            ("tags", record.tags),
            ("owner", owner is not None),
        ):
            if present:
                filled.add(name)
        return filled

    def _tag_ids(self, names: list[str]) -> list[int]:
        missing = [n for n in names if n not in self.tag_ids]
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
            self.tag_ids.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
        return [self.tag_ids[n] for n in names]

    # --- links --------------------------------------------------------------------------------

    def _employers(self, records: list[ClientRecord]) -> dict[str, int]:
        """Companies named in the persons' rows: found by name, or created by this import."""
        names = {r.company for r in records if r.company}
        wanted = {_fold(n): n for n in names if _fold(n) not in self.companies}
        if wanted:
            plain = {values.split_company(n)[1] for n in wanted.values()} | set(wanted.values())
            found = Client.objects.filter(kind="company").filter(
                Q(company_name__in=plain) | Q(name__in=plain)
            )
            for pk, name, short in found.values_list("pk", "name", "company_name"):
                for candidate in (name, short):
                    self.companies.setdefault(_fold(candidate), pk)
        create = []
        # Names with a legal form first, so that "Ромашка" joins the "ООО «Ромашка»" beside it.
        for folded, name in sorted(wanted.items(), key=lambda w: not values.split_company(w[1])[0]):
            form, short = values.split_company(name)
            if folded not in self.companies and _fold(short) not in self.companies:
                fields = {"company_name": short[:300], "legal_form": form}
                create.append(ClientRecord(0, fields))
                self.companies[folded] = self.companies[_fold(short)] = 0
        ids = self._write(create, "company") if create else []
        for record, pk in zip(create, ids, strict=True):
            name = _compose_fields(record.fields)
            self.companies[_fold(name)] = pk
            self.companies[_fold(record.fields["company_name"])] = pk
        return {
            r.company: self.companies.get(_fold(r.company))
            or self.companies[_fold(values.split_company(r.company)[1])]
            for r in records
            if r.company
        }

    def _link_employers(
        self, records: list[ClientRecord], ids: list[int], employers: dict[str, int]
    ) -> None:
        jobs = [
            (
                self.stamp,
                self.stamp,
                pk,
                employers[r.company],
                role_of(r.position),
                r.position,
                True,
            )
            for pk, r in zip(ids, records, strict=True)
            if r.company
        ]
        write_rows(table(Employment), JOB_COLS, jobs)

    def _write_contacts(self, contacts: list[tuple[ClientRecord, int]]) -> None:
        """Companies' contact persons: found by e-mail or phone, or created; then linked."""
        if not contacts:
            return
        persons = [person for person, _company in contacts]
        existing = self._existing(persons, "person")
        found: dict[int, int] = {}
        new: list[ClientRecord] = []
        in_chunk: dict[tuple[str, str], ClientRecord] = {}
        for person in persons:
            keys = self.keys(person)
            match = next((existing[k] for k in keys if k in existing), None)
            earlier = next((in_chunk[k] for k in keys if k in in_chunk), None)
            if match is not None:
                found[id(person)] = match
            elif earlier is not None:
                found[id(person)] = -id(earlier)  # resolved once the earlier one has its id
            else:
                new.append(person)
                in_chunk.update(dict.fromkeys(keys, person))
        for person, pk in zip(new, self._write(new, "person"), strict=True):
            found[id(person)] = pk
        jobs: dict[tuple[int, int, str], tuple[Any, ...]] = {}
        for person, company_id in contacts:
            person_id = found[id(person)]
            if person_id < 0:
                person_id = found[-person_id]
            role = role_of(person.position, Employment.Role.CONTACT)
            row = (self.stamp, self.stamp, person_id, company_id, role, person.position, True)
            jobs.setdefault((person_id, company_id, role), row)
        known = Employment.objects.filter(
            person__in={k[0] for k in jobs}, company__in={k[1] for k in jobs}
        ).values_list("person", "company", "role")
        for key in known:
            jobs.pop(key, None)
        write_rows(table(Employment), JOB_COLS, list(jobs.values()))


def snapshot(client: Client) -> dict[str, Any]:
    """A client as "undo this import" puts it back: fields, owner, contacts with their kinds."""
    data = {
        f: derived.plain(getattr(client, f))
        for f in derived.editable_fields(client.kind)
        if f != "owner"
    }
    data["owner"] = client.owner_id
    data["phones"] = [list(p) for p in client.phones.values_list("raw", "kind")]
    data["emails"] = [list(e) for e in client.emails.values_list("email", "kind")]
    data["tags"] = list(client.tags.values_list("name", flat=True))
    data["custom"] = client.custom
    return data


def _external_clash(pk: int | None, earlier: ClientRecord | None, mine: int | None) -> str:
    if pk is not None and pk < 0:
        return _("Another client (in the trash, or of another kind) has this external id.")
    if earlier is not None:
        return _("Row %(row)d has this external id too.") % {"row": earlier.row}
    if mine is not None:
        return _("An earlier row of the file has this external id too.")
    return _("Another client already has this external id.")


def _shown(name: str, phones: list[str], record: ClientRecord) -> dict[str, str]:
    """A new record as the preview shows it: the stored, normalised values."""
    shown = {
        _("name"): name,
        _("INN"): record.fields.get("inn", ""),
        _("birthday"): str(record.fields.get("birthday") or ""),
        _("phones"): ", ".join(phones),
        _("e-mails"): ", ".join(record.emails),
        _("company"): record.company,
        _("position"): record.position,
    }
    return {k: v for k, v in shown.items() if v}


def _compose_fields(fields: dict[str, Any], kind: str = "company") -> str:
    names = ("last_name", "first_name", "middle_name")
    parts = [fields.get(n) for n in (names if kind == "person" else ("legal_form", "company_name"))]
    return " ".join(p for p in parts if p)
