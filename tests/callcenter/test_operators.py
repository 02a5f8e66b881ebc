"""Operators edited and removed by administrators (page and API), and the call-back fallback:
a lost call nobody owns still becomes a task."""

from __future__ import annotations

import pytest

from kartoteka.callcenter import operators, services
from kartoteka.callcenter.models import Call, CallbackSettings, Operator, OperatorStatusChange
from kartoteka.core.errors import StaleVersion
from tests.api import Api
from tests.callcenter.conftest import event
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def run(capture, *events) -> None:
    with capture(execute=True):
        for e in events:
            services.handle_event(e)


# --- the service -------------------------------------------------------------------------------


def test_edit_is_versioned_and_a_taken_extension_names_the_field(admin, olga, oleg):
    saved = operators.update_operator(admin, olga, olga.version, {"extension": "111"})
    assert saved.extension == "111" and saved.version == olga.version + 1
    with pytest.raises(StaleVersion):
        operators.update_operator(admin, olga, olga.version, {"acw_seconds": 5})
    with pytest.raises(operators.ValidationError) as taken:
        operators.update_operator(admin, olga, None, {"extension": "102"})
    assert "102" in taken.value.message_dict["extension"][0]
    with pytest.raises(operators.ValidationError) as bad:
        operators.update_operator(admin, olga, None, {"extension": "1 1", "acw_seconds": 9999})
    assert set(bad.value.message_dict) == {"extension", "acw_seconds"}
    olga.refresh_from_db()
    assert olga.extension == "111" and olga.acw_seconds == 60  # nothing half-written


def test_removing_keeps_calls_and_history(admin, olga, django_capture_on_commit_callbacks):
    run(
        django_capture_on_commit_callbacks,
        event("answered", "a", extension="101"),
        event("ended", "a", seconds=30),
    )
    assert operators.remove_operator(admin, olga) == "removed"
    assert not Operator.objects.filter(pk=olga.pk).exists()  # off the list and the board
    row = Operator.all_objects.get(pk=olga.pk)
    assert row.status == "offline" and row.deleted_at is not None
    assert Call.objects.get().operator_id == olga.pk  # the call keeps its operator
    assert OperatorStatusChange.objects.filter(operator_id=olga.pk, status="offline").exists()
    # The extension is free; adding the user again brings the same row back.
    newcomer = make_user("nina", role="operator")
    operators.add_operator(admin, {"user": newcomer, "extension": "101"})
    back = operators.add_operator(admin, {"user": olga.user, "extension": "105"})
    assert back.pk == olga.pk and back.deleted_at is None and back.extension == "105"


def test_an_operator_without_calls_is_deleted_and_one_on_a_call_stays(
    admin, olga, oleg, django_capture_on_commit_callbacks
):
    assert operators.remove_operator(admin, oleg) == "deleted"
    assert not Operator.all_objects.filter(pk=oleg.pk).exists()
    run(django_capture_on_commit_callbacks, event("answered", "b", extension="101"))
    olga.refresh_from_db()
    with pytest.raises(operators.ValidationError):
        operators.remove_operator(admin, olga)
    assert Operator.objects.filter(pk=olga.pk).exists()


def test_only_administrators_change_operators(alice, olga):
    with pytest.raises(operators.permissions.Denied):
        operators.update_operator(alice, olga, None, {"extension": "9"})
    with pytest.raises(operators.permissions.Denied):
        operators.remove_operator(alice, olga)


# --- the call-back fallback --------------------------------------------------------------------


def test_a_lost_call_nobody_owns_goes_to_the_default_user(
    admin, bob, django_capture_on_commit_callbacks
):
    operators.save_callback_default(admin, bob, None)
    run(
        django_capture_on_commit_callbacks,
        event("ringing", caller="+7 903 000 11 22", extension="999"),
        event("ended", seconds=5),
    )
    assert Call.objects.get().callback_task.assignee == bob


def test_without_a_default_a_head_then_an_administrator_calls_back(
    admin, helen, django_capture_on_commit_callbacks
):
    run(
        django_capture_on_commit_callbacks,
        event("queued", "x", caller="+7 903 000 11 22", queue="nowhere"),
        event("abandoned", "x", seconds=40),
    )
    assert Call.objects.get(call_id="x").callback_task.assignee == helen
    helen.is_active = False
    helen.save()
    run(
        django_capture_on_commit_callbacks,
        event("ringing", "y", caller="+7 903 000 11 23"),
        event("ended", "y", seconds=5),
    )
    assert Call.objects.get(call_id="y").callback_task.assignee == admin


def test_the_default_is_versioned(admin, bob):
    first = operators.save_callback_default(admin, bob, CallbackSettings.current().version)
    with pytest.raises(StaleVersion):
        operators.save_callback_default(admin, None, first.version - 1)


# --- the settings page -------------------------------------------------------------------------


def test_the_page_edits_and_removes(client, admin, olga, oleg, alice):
    client.force_login(alice)
    assert client.get(f"/calls/settings/operators/{olga.pk}/").status_code == 403
    assert client.post(f"/calls/settings/operators/{olga.pk}/remove/").status_code == 403
    client.force_login(admin)
    page = client.get(f"/calls/settings/operators/{olga.pk}/")
    assert page.status_code == 200 and "has no calls yet" in page.content.decode()
    form = {"user": olga.user_id, "extension": "102", "acw_seconds": 30, "version": olga.version}
    taken = client.post(f"/calls/settings/operators/{olga.pk}/", form)
    assert taken.status_code == 422 and 'data-field="extension"' in taken.content.decode()
    saved = client.post(f"/calls/settings/operators/{olga.pk}/", {**form, "extension": "201"})
    assert saved.status_code == 302
    stale = client.post(f"/calls/settings/operators/{olga.pk}/", {**form, "extension": "202"})
    assert stale.status_code == 409 and "Someone else changed" in stale.content.decode()
    olga.refresh_from_db()
    assert olga.extension == "201" and olga.acw_seconds == 30
    client.post(f"/calls/settings/operators/{oleg.pk}/remove/")
    assert not Operator.all_objects.filter(pk=oleg.pk).exists()
    response = client.post(
        "/calls/settings/callbacks/default/",
        {"callbacks-default_user": alice.pk, "callbacks-version": 1},
    )
    assert response.status_code == 302 and CallbackSettings.current().default_user == alice


# --- the API -----------------------------------------------------------------------------------


def test_api_creates_updates_and_deletes(admin, olga, alice):
    api = Api(admin)
    nina = make_user("nina", role="operator")
    created = api.post("/operators", {"user_id": nina.pk, "extension": "150"})
    assert created.status_code == 201, created.content
    row = created.json()
    taken = api.post("/operators", {"user_id": alice.pk, "extension": "101"})
    assert taken.status_code == 422 and taken.json()["detail"][0]["loc"] == ["body", "extension"]
    assert api.post("/operators", {"user_id": 10**9, "extension": "7"}).json()["detail"][0][
        "loc"
    ] == ["body", "user_id"]
    assert (
        api.post("/operators", {"user_id": nina.pk, "extension": "8", "status": "x"}).status_code
        == 422
    )
    path = f"/operators/{row['id']}"
    assert api.patch(path, {"acw_seconds": 10}).status_code == 428
    patched = api.patch(path, {"acw_seconds": 10, "version": row["version"]})
    assert patched.status_code == 200 and patched.json()["acw_seconds"] == 10
    assert api.patch(path, {"acw_seconds": 11, "version": row["version"]}).status_code == 412
    assert api.delete(path).json() == {"result": "deleted"}
    assert api.delete(path).status_code == 404
    assert [r["extension"] for r in api.get("/operators").json()] == ["101"]


def test_api_is_for_administrators(olga, alice):
    api = Api(olga.user)
    assert api.post("/operators", {"user_id": alice.pk, "extension": "5"}).status_code == 403
    assert api.patch(f"/operators/{olga.pk}", {"extension": "5", "version": 1}).status_code == 403
    assert api.delete(f"/operators/{olga.pk}").status_code == 403
    assert [r["extension"] for r in api.get("/operators").json()] == ["101"]  # scoped: himself
    assert Operator.objects.get(pk=olga.pk).extension == "101"
