"""Client services: validation names the field, writes are whole, history is kept."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kartoteka.clients import privacy, services
from kartoteka.clients.models import Client, ClientEvent, CustomField, Employment, Phone
from kartoteka.clients.services import EmailIn, PhoneIn
from kartoteka.core.errors import StaleVersion

VALID_INN_COMPANY = "7707083893"  # Sberbank
VALID_OGRN = "1027700132195"


@pytest.fixture
def person(alice):
    return services.create_client(
        alice,
        "person",
        {"last_name": "Рябов", "first_name": "Иван", "owner": alice},
        phones=[PhoneIn("8 (916) 123-45-67")],
        emails=[EmailIn(" Ivan.Ryabov@Mail.RU ")],
        tags=["VIP"],
    )


def test_create_person_normalises_contacts(person):
    assert person.name == "Рябов Иван"
    assert person.primary_phone == "+79161234567"
    assert person.primary_email == "ivan.ryabov@mail.ru"
    phone = Phone.objects.get(client=person)
    assert phone.raw == "8 (916) 123-45-67"
    assert list(person.tags.values_list("name", flat=True)) == ["VIP"]
    assert ClientEvent.objects.get(client=person).verb == "created"
    assert 0 < person.completeness < 100


def test_create_company_validates_russian_ids(alice):
    company = services.create_client(
        alice,
        "company",
        {
            "company_name": "Ромашка",
            "legal_form": "ООО",
            "inn": VALID_INN_COMPANY,
            "ogrn": VALID_OGRN,
            "kpp": "773601001",
        },
    )
    assert company.name == "ООО Ромашка"


@pytest.mark.parametrize(
    ("fields", "phones", "emails", "error_key"),
    [
        ({"last_name": "X"}, [PhoneIn("12345")], [], "phones.0.number"),
        ({"last_name": "X"}, [], [EmailIn("not-an-email")], "emails.0.email"),
        ({"last_name": "X"}, [PhoneIn("+79161234567", "satellite")], [], "phones.0.kind"),
        ({}, [], [], "last_name"),
        ({"last_name": "X", "inn": "1234567890"}, [], [], "inn"),
        ({"last_name": "X", "stage": "bogus"}, [], [], "stage"),
        ({"last_name": "X", "is_superuser": True}, [], [], "is_superuser"),
        ({"last_name": "X", "deleted_at": "2020-01-01"}, [], [], "deleted_at"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(alice, fields, phones, emails, error_key):
    with pytest.raises(ValidationError) as caught:
        services.create_client(alice, "person", fields, phones=phones, emails=emails)
    assert error_key in caught.value.message_dict
    assert Client.all_objects.count() == 0
    assert Phone.objects.count() == 0


def test_invalid_inn_for_company(alice):
    with pytest.raises(ValidationError) as caught:
        services.create_client(alice, "company", {"company_name": "X", "inn": "7707083890"})
    assert "inn" in caught.value.message_dict


def test_update_records_field_history(person, bob):
    services.update_client(
        bob,
        person,
        person.version,
        {"first_name": "Пётр"},
        phones=[PhoneIn("+7 495 123-45-67", "work")],
    )
    person.refresh_from_db()
    assert person.version == 2
    assert person.name == "Рябов Пётр"
    event = ClientEvent.objects.filter(client=person, verb="updated").get()
    assert event.actor == bob
    assert event.changes["first_name"] == ["Иван", "Пётр"]
    assert event.changes["phones"] == [["+79161234567"], ["+74951234567"]]


def test_stale_version_is_refused_and_first_save_kept(person, bob):
    services.update_client(bob, person, 1, {"first_name": "Первый"})
    with pytest.raises(StaleVersion):
        services.update_client(bob, person, 1, {"first_name": "Второй"})
    person.refresh_from_db()
    assert person.first_name == "Первый"


def test_failed_update_changes_nothing(person, bob):
    with pytest.raises(ValidationError):
        services.update_client(bob, person, 1, {"first_name": "Новое"}, phones=[PhoneIn("abc")])
    person.refresh_from_db()
    assert person.first_name == "Иван"
    assert person.version == 1
    assert person.phones.get().e164 == "+79161234567"


def test_trash_and_restore(person, alice):
    services.trash_client(alice, person)
    assert not Client.objects.filter(pk=person.pk).exists()
    assert Client.all_objects.get(pk=person.pk).in_trash
    services.restore_client(alice, person)
    assert Client.objects.filter(pk=person.pk).exists()
    verbs = list(ClientEvent.objects.filter(client=person).values_list("verb", flat=True))
    assert "deleted" in verbs and "restored" in verbs


def test_link_person_to_company_with_roles(person, alice):
    company = services.create_client(alice, "company", {"company_name": "Ромашка"})
    services.link_person(alice, person, company, Employment.Role.DIRECTOR, "Генеральный директор")
    services.link_person(alice, person, company, Employment.Role.CHIEF_ACCOUNTANT)
    assert company.staff.count() == 2
    company.refresh_from_db()
    with pytest.raises(ValidationError):
        services.link_person(alice, company, person, Employment.Role.DIRECTOR)


def test_external_id_unique_per_system(alice):
    services.create_client(
        alice, "person", {"last_name": "A", "external_system": "1c", "external_id": "42"}
    )
    services.create_client(
        alice, "person", {"last_name": "B", "external_system": "bitrix", "external_id": "42"}
    )
    with pytest.raises(ValidationError) as caught:
        services.create_client(
            alice, "person", {"last_name": "C", "external_system": "1c", "external_id": "42"}
        )
    assert "external_id" in caught.value.message_dict


def test_custom_fields_are_validated(alice):
    CustomField.objects.create(key="income", label="Доход", type="number")
    CustomField.objects.create(
        key="segment", label="Сегмент", type="choice", choices=["A", "B"], required=True
    )
    with pytest.raises(ValidationError) as caught:
        services.create_client(
            alice, "person", {"last_name": "X"}, custom={"income": "много", "nope": 1}
        )
    errors = caught.value.message_dict
    assert {"custom.income", "custom.nope", "custom.segment"} <= errors.keys()
    client = services.create_client(
        alice, "person", {"last_name": "X"}, custom={"income": "1 500,5", "segment": "A"}
    )
    assert client.custom == {"income": 1500.5, "segment": "A"}


def test_consent_ledger_keeps_every_row(person, alice):
    privacy.record_consent(alice, person, "email", True, "web form")
    privacy.record_consent(alice, person, "email", False, "unsubscribe link")
    assert person.consents.count() == 2
    assert person.consents.first().granted is False
    with pytest.raises(ValidationError):
        privacy.record_consent(alice, person, "pigeon", True)


def test_completeness_follows_admin_weights(person):
    from kartoteka.clients.models import CompletenessWeight

    CompletenessWeight.objects.create(kind="person", field="phone", weight=50)
    CompletenessWeight.objects.create(kind="person", field="birthday", weight=50)
    assert services.recompute_completeness("person") == 1
    person.refresh_from_db()
    assert person.completeness == 50
