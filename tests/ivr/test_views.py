"""The editor's pages: supervisors build the tree, operators get 403, errors name the field."""

from __future__ import annotations

import pytest

from kartoteka.callcenter import services as calls
from kartoteka.callcenter.models import Call
from kartoteka.ivr.models import Menu, Node
from tests.callcenter.conftest import event, make_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def node_body(menu, parent, **fields):
    body = {
        "node-parent": parent.pk,
        "node-kind": "menu",
        "node-title": "New",
        "node-digit": "",
        "node-min_digits": 1,
        "node-max_digits": 1,
        "node-retries": 3,
        "node-timeout_s": 5,
        "node-version": menu.version,
    }
    body.update({f"node-{k}": v for k, v in fields.items()})
    return body


def test_an_operator_gets_403_everywhere(client, menu, sales):
    olga = make_operator("olga", "101", sales)
    client.force_login(olga.user)
    root = Node.objects.get(menu=menu, parent=None)
    assert client.get("/ivr/").status_code == 403
    assert client.get(f"/ivr/{menu.pk}/").status_code == 403
    assert (
        client.post(f"/ivr/{menu.pk}/nodes/", node_body(menu, root, digit="7")).status_code == 403
    )
    assert client.post(f"/ivr/{menu.pk}/delete/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"/ivr/{menu.pk}/try/", {"press": "start"}).status_code == 403
    assert Node.objects.filter(menu=menu).count() == 6 and Menu.objects.count() == 1


def test_the_page_shows_the_tree(admin_client, menu):
    page = admin_client.get(f"/ivr/{menu.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for title in ("Billing", "Sales", "Deal number", "Stage", "Open deals"):
        assert title in text
    assert admin_client.get(f"/ivr/{menu.pk}/?edit=abc").status_code == 200
    assert admin_client.get("/ivr/999999/").status_code == 404


def test_a_duplicate_digit_is_named(admin_client, menu):
    root = Node.objects.get(menu=menu, parent=None)
    response = admin_client.post(f"/ivr/{menu.pk}/nodes/", node_body(menu, root, digit="1"))
    assert response.status_code == 422
    assert 'data-field="digit"' in response.content.decode()
    route = admin_client.post(
        f"/ivr/{menu.pk}/nodes/", node_body(menu, root, digit="5", kind="route")
    )
    assert 'data-field="queue"' in route.content.decode()
    assert Node.objects.filter(menu=menu).count() == 6


def test_add_edit_move_delete(admin_client, menu):
    root = Node.objects.get(menu=menu, parent=None)
    added = admin_client.post(
        f"/ivr/{menu.pk}/nodes/", node_body(menu, root, digit="9", kind="hangup", title="Bye")
    )
    assert added.status_code == 302
    bye = Node.objects.get(menu=menu, title="Bye")
    menu.refresh_from_db()
    admin_client.post(
        f"/ivr/{menu.pk}/nodes/{bye.pk}/move/", {"direction": "up", "version": menu.version}
    )
    titles = list(
        Node.objects.filter(parent=root).order_by("position").values_list("title", flat=True)
    )
    assert titles == ["Billing", "Bye", "Sales"]
    stale = admin_client.post(
        f"/ivr/{menu.pk}/nodes/{bye.pk}/move/", {"direction": "up", "version": 1}
    )
    assert stale.status_code == 302
    billing = Node.objects.get(menu=menu, title="Billing")
    menu.refresh_from_db()
    asks = admin_client.post(
        f"/ivr/{menu.pk}/nodes/{billing.pk}/delete/", {"version": menu.version}
    )
    assert asks.status_code == 302 and f"?delete={billing.pk}" in asks["Location"]
    assert Node.objects.filter(pk=billing.pk).exists()
    page = admin_client.get(asks["Location"])
    assert "will be deleted too" in page.content.decode()
    admin_client.post(
        f"/ivr/{menu.pk}/nodes/{billing.pk}/delete/",
        {"version": menu.version, "with_children": "yes"},
    )
    assert not Node.objects.filter(menu=menu, title__in=["Billing", "Stage"]).exists()


def test_try_it_walks_the_engine(admin_client, menu, deal):
    start = admin_client.post(f"/ivr/{menu.pk}/try/", {"caller": "+79161234567", "press": "start"})
    assert "Press 1 for billing" in start.content.decode()
    admin_client.post(f"/ivr/{menu.pk}/try/", {"key": "1"})
    admin_client.post(f"/ivr/{menu.pk}/try/", {"key": "1"})
    said = admin_client.post(f"/ivr/{menu.pk}/try/", {"digits": str(deal.pk), "press": "send"})
    text = said.content.decode()
    assert "20.12.2026" in text and f'<dd class="col-8">{deal.pk}</dd>' in text
    bad = admin_client.post(f"/ivr/{menu.pk}/try/", {"digits": "²", "press": "send"})
    assert bad.status_code == 422
    assert not Call.objects.exists()  # trying writes no call


def test_the_call_card_shows_the_answers(client, admin, menu):
    calls.handle_event(
        event(
            "ringing",
            "card-1",
            ivr={"menu": "Hotline", "path": "Billing › Deal number", "deal": "17"},
        )
    )
    client.force_login(admin)
    call = Call.objects.get(call_id="card-1")
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert (
        'id="call-ivr"' in page
        and "Billing › Deal number" in page
        and 'data-key="deal">17<' in page
    )


def test_menu_settings_and_delete(admin_client, menu):
    bad = admin_client.post(
        f"/ivr/{menu.pk}/settings/",
        {"menu-name": "", "menu-number": "x", "menu-is_active": "on", "menu-version": menu.version},
    )
    assert bad.status_code == 422
    assert admin_client.post(f"/ivr/{menu.pk}/delete/", {}).status_code == 302
    assert Menu.objects.filter(pk=menu.pk).exists()
    admin_client.post(f"/ivr/{menu.pk}/delete/", {"confirm": "yes"})
    assert not Menu.objects.filter(pk=menu.pk).exists()


def test_titles_are_escaped_and_stale_pages_refused(admin_client, menu):
    root = Node.objects.get(menu=menu, parent=None)
    evil = '"><img src=x onerror=alert(1)>'
    admin_client.post(
        f"/ivr/{menu.pk}/nodes/", node_body(menu, root, digit="8", kind="hangup", title=evil)
    )
    page = admin_client.get(f"/ivr/{menu.pk}/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    old = node_body(menu, root, digit="7", kind="hangup", title="Late")  # the version before
    stale = admin_client.post(f"/ivr/{menu.pk}/nodes/", old)
    assert stale.status_code == 302 and not Node.objects.filter(title="Late").exists()
