"""The KPI page's CSV is an export of the calls the user sees: it follows the role matrix's
"export" of calls (a sales manager, an operator and an analyst have none), like every export."""

from __future__ import annotations

import pytest

from tests.callcenter.conftest import make_operator
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_only_roles_that_export_calls_download_the_csv(client, admin, sales, helen):
    manager = make_user("mike")
    sales.members.add(manager)
    cast = {
        "operator": (make_operator("olga", "101", sales).user, 403),
        "manager": (manager, 403),
        "analyst": (make_user("ann", role="analyst"), 403),
        "head": (helen, 200),
        "admin": (admin, 200),
    }
    for name, (user, status) in cast.items():
        client.force_login(user)
        assert client.get("/calls/kpi/", {"format": "csv"}).status_code == status, name
        page = client.get("/calls/kpi/").content.decode()
        assert ('id="kpi-csv"' in page) == (status == 200), name
