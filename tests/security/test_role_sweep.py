"""Every contact-centre page the seven branches added, as each role and anonymous: the expected
answer, never a 500. Anonymous goes to the login page; writers' pages refuse read-only roles."""

from __future__ import annotations

import pytest

from kartoteka.ivr import services as ivr_services
from tests.callcenter.conftest import make_operator
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

OK, NO = 200, 403
# page: (operator, manager, head, analyst, admin)
PAGES = {
    "/ivr/": (NO, NO, OK, NO, OK),
    "/call-scripts/": (NO, NO, OK, NO, OK),
    "/quality/": (OK, OK, OK, OK, OK),
    "/quality/scores/": (OK, OK, OK, OK, OK),
    "/quality/sample/": (NO, NO, OK, NO, OK),
    "/quality/scorecards/": (NO, NO, OK, NO, OK),
    "/quality/scorecards/new/": (NO, NO, OK, NO, OK),
    "/calls/board/live/?seconds=0": (NO, NO, OK, OK, OK),
    "/calls/staffing/": (NO, NO, OK, OK, OK),
    "/calls/kpi/": (OK, OK, OK, OK, OK),
    "/calls/kpi/?format=csv": (NO, NO, OK, NO, OK),
    "/calls/wallboard/": (NO, NO, OK, OK, OK),
    "/calls/acd/": (NO, NO, NO, NO, OK),
}


def test_each_page_as_each_role(client, admin, sales, helen):
    manager = make_user("mike")
    sales.members.add(manager)
    operator = make_operator("olga", "101", sales)
    cast = [operator.user, manager, helen, make_user("ann", role="analyst"), admin]
    menu = ivr_services.save_menu(admin, None, {"name": "M", "number": "100"})
    pages = {
        **PAGES,
        f"/ivr/{menu.pk}/": (NO, NO, OK, NO, OK),
        f"/calls/settings/operators/{operator.pk}/": (NO, NO, NO, NO, OK),
    }
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    for index, user in enumerate(cast):
        client.force_login(user)
        for url, expected in pages.items():
            assert client.get(url).status_code == expected[index], (user.username, url)
