"""Hostile query strings at the planner's, duplicates' and analytics' pages and API: never a 500."""

from __future__ import annotations

import pytest

from tests.api import Api

pytestmark = pytest.mark.django_db

HOSTILE = {
    "cursor": "'; DROP TABLE x;--",
    "user": "1e400",
    "start": "UTC')--",
    "end": "9999-99-99",
    "status": "<svg onload=alert(1)>",
    "kind": "x__regex",
    "_connector": "OR",
    "owner__password__startswith": "a",
    "page": "-1",
    "cluster": "\u0000",
    "sort": "name'--",
}
PAGES = [
    "/tasks/",
    "/tasks/calendar/",
    "/tasks/calendar/events/",
    "/tasks/report/",
    "/tasks/rules/",
    "/tasks/absences/",
    "/duplicates/",
    "/duplicates/merges/",
]
API = ["/tasks", "/calendar", "/reports/tasks", "/dedup/pairs", "/dedup/merges", "/segments"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["admin", "alice"])
def test_pages_answer_hostile_queries_without_a_500(request, client, path, who):
    client.force_login(request.getfixturevalue(who))
    for key, value in HOSTILE.items():
        answer = client.get(path, {key: value})
        assert answer.status_code < 500, (path, key)


@pytest.mark.parametrize("path", API)
@pytest.mark.parametrize("who", ["admin", "alice"])
def test_api_answers_hostile_queries_without_a_500(request, path, who):
    api = Api(request.getfixturevalue(who))
    for key, value in HOSTILE.items():
        answer = api.get(path, {key: value})
        assert answer.status_code < 500, (path, key)
