"""Keyset pages: every row exactly once, in order, for nullable and NOT NULL keys, both ways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.clients import services
from kartoteka.clients.models import Client
from kartoteka.core.pagination import BadCursor, encode_cursor, keyset_page


@pytest.fixture
def clients(alice):
    now = timezone.now()
    rows = []
    for i in range(9):
        client = services.create_client(alice, "person", {"last_name": f"К{i % 4}"})
        contact = None if i % 3 == 0 else now - dt.timedelta(days=i % 4)
        Client.objects.filter(pk=client.pk).update(last_contact_at=contact, completeness=i % 2)
        rows.append(client.pk)
    return rows


@pytest.mark.parametrize("key", ["name", "completeness", "last_contact_at", "created_at", "id"])
@pytest.mark.parametrize("desc", [False, True])
def test_every_row_once_in_order(clients, key, desc):
    seen, cursor = [], None
    while True:
        page = keyset_page(Client.objects.all(), key, desc, cursor, 2)
        seen += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(r.pk for r in seen) == sorted(clients)
    values = [getattr(r, key) for r in seen if getattr(r, key) is not None]
    assert values == sorted(values, reverse=desc)
    nulls = [getattr(r, key) is None for r in seen]
    assert nulls == sorted(nulls)  # NULLs last


def test_a_cursor_of_the_wrong_shape_is_refused(clients):
    for values in (["x"], ["a", "b"], ["a", True], ["a", 2**70]):
        with pytest.raises(BadCursor):
            keyset_page(Client.objects.all(), "created_at", False, encode_cursor(values), 2)
