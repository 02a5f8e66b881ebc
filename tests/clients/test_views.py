"""Client pages as a person uses them: list, card, create, edit, trash, links, consents."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.activities.services import log_interaction
from kartoteka.clients import services
from kartoteka.clients.models import Client, ClientEvent, CustomField, SavedView
from kartoteka.clients.services import PhoneIn

XSS = '"><img src=x onerror=alert(1)><script>alert(1)</script>'


@pytest.fixture
def person(alice):
    return services.create_client(
        alice,
        "person",
        {"last_name": "Рябов", "first_name": "Иван", "owner": alice},
        phones=[PhoneIn("+79161234567")],
    )


@pytest.fixture
def company(alice):
    return services.create_client(
        alice, "company", {"company_name": "Ромашка", "legal_form": "ООО"}
    )


def person_post(**overrides):
    data = {
        "last_name": "Петров",
        "first_name": "Пётр",
        "middle_name": "",
        "stage": "lead",
        "source": "",
        "owner": "",
        "tags": "vip, опт",
        "address": "",
        "description": "",
        "external_system": "",
        "external_id": "",
        "birthday": "",
        "version": "",
        "phone-TOTAL_FORMS": "2",
        "phone-INITIAL_FORMS": "0",
        "phone-0-number": "8 (903) 111-22-33",
        "phone-0-kind": "mobile",
        "phone-1-number": "",
        "phone-1-kind": "work",
        "email-TOTAL_FORMS": "1",
        "email-INITIAL_FORMS": "0",
        "email-0-email": "Petrov@Example.com",
        "email-0-kind": "work",
        "job-role": "employee",
        "job-position": "",
    }
    data.update(overrides)
    return data


def test_pages_need_login(client, person):
    for url in (reverse("clients:list"), reverse("clients:card", args=[person.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_list_shows_clients_and_searches(alice_client, person, company):
    response = alice_client.get(reverse("clients:list"))
    assert response.status_code == 200
    assert "Рябов Иван" in response.text and "ООО Ромашка" in response.text
    response = alice_client.get(reverse("clients:list"), {"q": "8 916 123-45-67"})
    assert "Рябов Иван" in response.text and "ООО Ромашка" not in response.text


def test_list_filters_and_rejects_hostile_keys(alice_client, person, company, alice):
    response = alice_client.get(reverse("clients:list"), {"kind": "company"})
    assert "ООО Ромашка" in response.text and "Рябов Иван" not in response.text
    response = alice_client.get(reverse("clients:list"), {"owner": "none"})
    assert "Рябов Иван" not in response.text and "ООО Ромашка" not in response.text
    response = alice_client.get(reverse("clients:list"), {"owner": "me", "stage": "lead"})
    assert "Рябов Иван" in response.text and "ООО Ромашка" in response.text
    for params in (
        {"sort": "owner__password"},
        {"sort": "name'--"},
        {"owner": "1 OR 1=1"},
        {"_connector": "OR", "owner__password__startswith": "a"},
        {"cursor": "!!!"},
    ):
        response = alice_client.get(reverse("clients:list"), params)
        assert response.status_code == 200
    assert (
        "Cannot sort by"
        in alice_client.get(reverse("clients:list"), {"sort": "owner__password"}).text
    )


def test_list_pages_with_keyset_and_constant_queries(
    alice_client, alice, django_assert_max_num_queries
):
    for i in range(60):
        services.create_client(alice, "person", {"last_name": f"Клиент{i:03d}"})
    with django_assert_max_num_queries(18):
        first = alice_client.get(reverse("clients:list"), {"col": ["name", "tags", "owner"]})
    assert first.context["next_cursor"]
    assert len(first.context["rows"]) == 50
    second = alice_client.get(reverse("clients:list"), {"cursor": first.context["next_cursor"]})
    assert len(second.context["rows"]) == 10
    assert "Клиент059" in second.text and "Клиент000" not in second.text


def test_card_shows_everything_with_constant_queries(
    alice_client, alice, person, company, django_assert_max_num_queries
):
    services.link_person(alice, person, company, "director", "CEO")
    for i in range(5):
        log_interaction(alice, person, {"kind": "note", "summary": f"note {i}"})
    with django_assert_max_num_queries(32) as few:
        response = alice_client.get(reverse("clients:card", args=[company.pk]))
    for i in range(30):
        log_interaction(alice, person, {"kind": "call", "summary": f"call {i}", "direction": "in"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("clients:card", args=[company.pk]))
    assert response.status_code == 200
    assert "Рябов Иван" in response.text  # the company lists its people
    assert "note 4" in response.text  # and their timeline


def test_create_person_in_company(alice_client, company):
    url = reverse("clients:create", args=["person"]) + f"?company={company.pk}"
    response = alice_client.post(
        url, person_post(**{"job-company": str(company.pk), "job-role": "lawyer"})
    )
    assert response.status_code == 302
    created = Client.objects.get(last_name="Петров")
    assert created.primary_phone == "+79031112233"
    assert created.primary_email == "petrov@example.com"
    assert sorted(created.tags.values_list("name", flat=True)) == ["vip", "опт"]
    assert created.jobs.get().company == company


def test_bad_phone_is_a_form_error_and_nothing_saved(alice_client):
    response = alice_client.post(
        reverse("clients:create", args=["person"]),
        person_post(**{"phone-0-number": "12", "email-0-email": "x@"}),
    )
    assert response.status_code == 422
    assert "is not a valid phone number" in response.text
    assert "is not a valid e-mail address" in response.text
    assert not Client.all_objects.exists()


def test_bad_inn_is_a_form_error(alice_client):
    data = person_post(
        company_name="X",
        legal_form="",
        inn="1234567890",
        kpp="",
        ogrn="",
        company_day="",
        website="",
    )
    response = alice_client.post(reverse("clients:create", args=["company"]), data)
    assert response.status_code == 422
    assert "is not a valid INN" in response.text
    assert not Client.all_objects.exists()


def test_concurrent_edit_is_refused_and_input_kept(alice_client, person, bob):
    services.update_client(bob, person, person.version, {"first_name": "Боб"})
    data = person_post(last_name="Рябов", first_name="Алиса", version="1")
    response = alice_client.post(reverse("clients:edit", args=[person.pk]), data)
    assert response.status_code == 409
    assert "Someone else saved this card" in response.text
    assert 'value="Алиса"' in response.text  # what the user typed is not lost
    person.refresh_from_db()
    assert person.first_name == "Боб"


def test_edit_saves_and_records_history(alice_client, person):
    data = person_post(last_name="Рябов", first_name="Иван", middle_name="Петрович", version="1")
    response = alice_client.post(reverse("clients:edit", args=[person.pk]), data)
    assert response.status_code == 302
    card = alice_client.get(reverse("clients:card", args=[person.pk]))
    assert "Петрович" in card.text
    event = ClientEvent.objects.filter(client=person, verb="updated").get()
    assert event.changes["middle_name"] == ["", "Петрович"]


def test_html_is_shown_as_text_everywhere(alice_client, alice):
    client = services.create_client(
        alice, "person", {"last_name": XSS, "description": XSS}, tags=[XSS[:60]]
    )
    log_interaction(alice, client, {"kind": "note", "summary": XSS})
    for url in (reverse("clients:card", args=[client.pk]), reverse("clients:list")):
        text = alice_client.get(url).text
        assert "<img src=x" not in text and "<script>alert" not in text
        assert "&lt;img src=x" in text


def test_trash_and_restore(helen_client, person):
    """A head deletes a team member's client and restores it from the trash."""
    response = helen_client.post(reverse("clients:delete", args=[person.pk]))
    assert response.status_code == 302
    assert helen_client.get(reverse("clients:card", args=[person.pk])).status_code == 404
    assert "Рябов Иван" in helen_client.get(reverse("clients:trash")).text
    helen_client.post(reverse("clients:restore", args=[person.pk]))
    assert helen_client.get(reverse("clients:card", args=[person.pk])).status_code == 200


def test_a_manager_cannot_delete(alice_client, person):
    assert alice_client.post(reverse("clients:delete", args=[person.pk])).status_code == 404
    assert Client.objects.filter(pk=person.pk).exists()


def test_changes_need_post(alice_client, person):
    assert alice_client.get(reverse("clients:delete", args=[person.pk])).status_code == 405
    assert Client.objects.filter(pk=person.pk).exists()


def test_link_existing_person_and_consent(alice_client, person, company):
    lookup = alice_client.get(reverse("clients:lookup", args=[company.pk]), {"q": "рябов"})
    assert "Рябов Иван" in lookup.text
    alice_client.post(
        reverse("clients:link_add", args=[company.pk]),
        {"person": person.pk, "role": "accountant", "position": "Главбух"},
    )
    assert company.staff.get().person == person
    alice_client.post(
        reverse("clients:consent_add", args=[person.pk]),
        {
            "consent-channel": "sms",
            "consent-purpose": "marketing",
            "consent-granted": "yes",
            "consent-source": "call",
        },
    )
    assert person.consents.get().granted is True


def test_saved_views(alice_client, alice):
    alice_client.post(
        reverse("clients:view_save"), {"name": "Мои", "query": "owner=me&sort=-created_at"}
    )
    view = SavedView.objects.get(user=alice)
    assert view.query == "owner=me&sort=-created_at"
    assert "Мои" in alice_client.get(reverse("clients:list")).text


def test_custom_field_settings_are_for_staff(alice_client, client, admin):
    assert alice_client.get(reverse("clients:custom_fields")).status_code == 403
    client.force_login(admin)
    response = client.post(
        reverse("clients:custom_fields"),
        {
            "label": "Доход",
            "key": "income",
            "type": "number",
            "applies_to": "person",
            "position": 0,
        },
    )
    assert response.status_code == 302
    assert CustomField.objects.get(key="income").label == "Доход"
    response = client.post(
        reverse("clients:completeness") + "?kind=person",
        {"last_name": 50, "phone": 50, "first_name": 0},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "²"},
        {"owner": "99999999999999999999"},
        {"cursor": "WyJhIiwiYiJd", "sort": "name"},  # ["a","b"]
        {"cursor": "WyJ6enoiLDFd", "sort": "created_at"},  # ["zzz",1]
        {"cursor": "W3RydWVd", "sort": "name"},  # [true]
        {"cursor": "WyJ4IiwxZTQwMF0", "sort": "-name"},  # ["x",1e400]
        {"cf_x": "\x00"},
    ],
)
def test_forged_input_never_fails_the_list(alice_client, person, params):
    assert alice_client.get(reverse("clients:list"), params).status_code == 200


def test_forged_ids_in_posts_are_ignored(helen_client, person):
    for data in ({"ids": ["²", "9" * 30], "owner": "²"}, {"ids": [person.pk], "owner": "9" * 30}):
        assert helen_client.post(reverse("clients:reassign"), data).status_code == 302
    person.refresh_from_db()
    assert person.owner.username == "alice"
    url = reverse("clients:create", args=["person"]) + "?company=²"
    assert helen_client.get(url).status_code == 200


def test_custom_number_overflow_is_a_field_error(alice):
    from django.core.exceptions import ValidationError

    CustomField.objects.create(key="income2", label="Доход", type="number")
    with pytest.raises(ValidationError) as caught:
        services.create_client(alice, "person", {"last_name": "X"}, custom={"income2": "1e400"})
    assert "custom.income2" in caught.value.message_dict
