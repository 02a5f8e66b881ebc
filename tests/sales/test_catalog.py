"""Products, price lists, requisites and a deal's line items: services, API and pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Denied
from kartoteka.sales import catalog
from kartoteka.sales.catalog import ItemIn
from kartoteka.sales.models import Deal, DealItem, PriceList, PriceListItem, Product, Requisites
from tests.api import Api as BaseApi
from tests.sales import deal, snapshot

pytestmark = pytest.mark.django_db
XSS = '"><img src=x onerror=alert(1)>'


class Api(BaseApi):
    def put(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("put", path, body, headers)


INN, KPP, OGRN = "7707083893", "773601001", "1027700132195"


def product(name: str = "Станок", price: str = "1200.00", **fields: Any) -> Product:
    return catalog.save_product(None, None, {"name": name, "price": Decimal(price), **fields})


def rows(d: Deal) -> list[Any]:
    return list(DealItem.objects.filter(deal=d).order_by("pk").values())


def state() -> list[Any]:
    return [
        snapshot(),
        list(DealItem.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
        list(PriceList.objects.order_by("pk").values()),
        list(PriceListItem.objects.order_by("pk").values()),
        list(Requisites.objects.order_by("pk").values()),
    ]


# --- arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "rate", "total", "vat"),
    [
        ("1", "1200.00", "0", 20, "1200.00", "200.00"),
        ("3", "99.99", "10", 20, "269.97", "45.00"),  # 269.973 -> 269.97
        ("0.333", "10.00", "0", 10, "3.33", "0.30"),
        ("2", "100.00", "100", 20, "0.00", "0.00"),
        ("1", "0.05", "50", 20, "0.03", "0.01"),  # half a kopeck rounds up
        ("7", "1000.00", "0", 0, "7000.00", "0.00"),
    ],
)
def test_line_total_and_vat_in_kopecks(quantity, price, discount, rate, total, vat):
    line = catalog.line_total(Decimal(quantity), Decimal(price), Decimal(discount))
    assert line == Decimal(total) and isinstance(line, Decimal)
    assert catalog.line_vat(line, rate) == Decimal(vat)


# --- a deal's items ---------------------------------------------------------------------------


def test_items_replace_and_the_amount_follows(alice):
    made = deal(alice, amount=Decimal("5"))
    lathe = product(vat_rate=20)
    saved = catalog.set_items(
        alice,
        made,
        made.version,
        [
            ItemIn(product_id=lathe.pk, quantity="3", discount="10"),
            ItemIn(name="Доставка", quantity="1", price="500", vat_rate=0, unit="усл."),
        ],
    )
    assert saved.version == made.version + 1
    saved.refresh_from_db()
    assert saved.amount == Decimal("3740.00")  # 3 × 1200 × 0.9 + 500
    first, second = DealItem.objects.filter(deal=made)
    assert (first.name, first.unit, first.price, first.vat_rate) == ("Станок", "шт.", 1200, 20)
    assert (second.product_id, second.unit, second.vat_rate) == (None, "усл.", 0)
    assert catalog.totals([first, second]) == catalog.Totals(Decimal("3740.00"), Decimal("540.00"))
    catalog.set_items(alice, saved, saved.version, [ItemIn(name="Монтаж", price="10")])
    saved.refresh_from_db()
    assert saved.amount == Decimal("10.00") and DealItem.objects.filter(deal=made).count() == 1


def test_price_from_a_price_list(alice):
    made, lathe = deal(alice), product()
    wholesale = catalog.save_price_list(None, None, {"name": "Опт"}, {lathe.pk: "1000.50"})
    catalog.set_items(alice, made, 1, [ItemIn(product_id=lathe.pk, price_list_id=wholesale.pk)])
    assert DealItem.objects.get(deal=made).price == Decimal("1000.50")
    other = product("Пила", "10")
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        catalog.set_items(alice, made, 2, [ItemIn(product_id=other.pk, price_list_id=wholesale.pk)])
    assert set(excinfo.value.message_dict) == {"items.0.product_id"}
    assert state() == before


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        (ItemIn(name="A", price="-1"), "items.1.price"),
        (ItemIn(name="A", price="1", quantity="-2"), "items.1.quantity"),
        (ItemIn(name="A", price="1", discount="100.5"), "items.1.discount"),
        (ItemIn(name="A", price="1", vat_rate=101), "items.1.vat_rate"),
        (ItemIn(name="A", price="abc"), "items.1.price"),
        (ItemIn(product_id=10**9), "items.1.product_id"),
        (ItemIn(name="", price="1"), "items.1.name"),
        (ItemIn(name="A"), "items.1.price"),
        (ItemIn(name="A", price="1", quantity="1.2345"), "items.1.quantity"),
    ],
)
def test_bad_lines_are_named_and_nothing_is_written(alice, sent, field):
    made = deal(alice)
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        catalog.set_items(alice, made, 1, [ItemIn(name="ok", price="1"), sent])
    assert field in excinfo.value.message_dict
    assert state() == before


def test_a_product_in_another_currency_is_refused(alice):
    made, dollars = deal(alice), product("Licence", "10", currency="usd")
    with pytest.raises(ValidationError) as excinfo:
        catalog.set_items(alice, made, 1, [ItemIn(product_id=dollars.pk)])
    assert "items.0.product_id" in excinfo.value.message_dict
    assert not DealItem.objects.exists()


def test_stale_version_and_other_peoples_deals(alice, bob, carol, admin):
    made = deal(alice)
    catalog.set_items(alice, made, 1, [ItemIn(name="A", price="1")])
    before = state()
    with pytest.raises(StaleVersion):
        catalog.set_items(alice, made, 1, [ItemIn(name="B", price="2")])
    with pytest.raises(Denied):
        catalog.set_items(carol, made, 2, [ItemIn(name="B", price="2")])
    assert state() == before
    catalog.set_items(admin, made, 2, [])  # emptied: the amount stays as it was
    made.refresh_from_db()
    assert made.amount == Decimal("1.00") and made.version == 3


# --- products, price lists, requisites --------------------------------------------------------


def test_only_administrators_change_products(alice, admin):
    with pytest.raises(Denied):
        catalog.save_product(alice, None, {"name": "A", "price": 1})
    made = catalog.save_product(admin, None, {"name": " A  b ", "price": 1, "sku": "X-1"})
    assert made.name == "A b"
    with pytest.raises(ValidationError) as excinfo:
        catalog.save_product(admin, None, {"name": "B", "price": 1, "sku": "X-1"})
    assert set(excinfo.value.message_dict) == {"sku"}
    with pytest.raises(ValidationError) as excinfo:
        catalog.save_product(admin, None, {"name": "B", "price": -1, "currency": "XXX"})
    assert set(excinfo.value.message_dict) == {"price", "currency"}
    catalog.save_product(admin, made, {"is_active": False})
    assert not catalog.active_products().exists()


def test_requisites_are_validated(admin, alice):
    with pytest.raises(Denied):
        catalog.save_requisites(alice, {"name": "A"})
    bad = {"name": "ООО Ромашка", "inn": "7707083890", "kpp": "12", "ogrn": "1027700132190"}
    bad |= {"bik": "04452522", "account": "4070281000000000000", "correspondent_account": "x" * 20}
    with pytest.raises(ValidationError) as excinfo:
        catalog.save_requisites(admin, bad)
    expected = {"inn", "kpp", "ogrn", "bik", "account", "correspondent_account"}
    assert set(excinfo.value.message_dict) == expected
    assert not Requisites.objects.exists()
    good = {"name": "ООО Ромашка", "inn": INN, "kpp": KPP, "ogrn": OGRN, "bik": "044525225"}
    catalog.save_requisites(admin, good | {"account": "40702810000000000001"})
    catalog.save_requisites(admin, good | {"bank": "ПАО Сбербанк"})
    (row,) = Requisites.objects.all()
    assert row.bank == "ПАО Сбербанк" and row.account == "40702810000000000001"


# --- API --------------------------------------------------------------------------------------


def test_api_products_and_price_lists(alice, admin):
    manager, administrator = Api(alice), Api(admin)
    before = state()
    body = {"name": "Станок", "price": "1200.00", "sku": "ST-1"}
    assert manager.post("/sales/products", body).status_code == 403
    assert manager.post("/sales/price-lists", {"name": "Опт"}).status_code == 403
    assert state() == before
    response = administrator.post("/sales/products", body)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made == {
        "id": made["id"],
        "name": "Станок",
        "sku": "ST-1",
        "unit": "шт.",
        "price": "1200.00",
        "currency": "RUB",
        "vat_rate": 20,
        "is_active": True,
    }
    response = administrator.post("/sales/products", body | {"owner_id": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "owner_id"]
    assert administrator.post("/sales/products", body).json()["detail"][0]["loc"] == ["body", "sku"]
    pl = administrator.post(
        "/sales/price-lists", {"name": "Опт", "items": [{"product_id": made["id"], "price": "900"}]}
    )
    assert pl.status_code == 201 and pl.json()["items"][0]["price"] == "900.00"
    bad = {"name": "Опт", "items": [{"product_id": 10**9, "price": "1"}]}
    response = administrator.put(f"/sales/price-lists/{pl.json()['id']}", bad)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "items", 0, "product_id"]
    patched = administrator.patch(f"/sales/products/{made['id']}", {"is_active": False})
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert manager.get("/sales/products").json() == []
    assert manager.get("/sales/products", {"include_inactive": "true"}).status_code == 403


def test_api_items_put_and_get(alice, carol):
    made, lathe = deal(alice), product()
    api, outsider = Api(alice), Api(carol)
    body = {
        "version": 1,
        "items": [
            {"product_id": lathe.pk, "quantity": "2", "discount": "5"},
            {"name": XSS, "price": "10.10", "vat_rate": 10},
        ],
    }
    response = api.put(f"/sales/deals/{made.pk}/items", body)
    assert response.status_code == 200, response.content
    got = response.json()
    assert got["version"] == 2 and got["amount"] == "2290.10" and got["total"] == "2290.10"
    assert got["vat"] == "380.92"  # 380.00 + 0.92
    assert got["items"][0]["total"] == "2280.00" and got["items"][1]["name"] == XSS
    assert response["ETag"] == '"2"'
    assert api.get(f"/sales/deals/{made.pk}/items").json() == got
    before = state()
    assert api.put(f"/sales/deals/{made.pk}/items", body).status_code == 412
    for bad_row, loc in (
        ({"name": "A", "price": "-1"}, ["body", "items", 0, "price"]),
        ({"name": "A", "price": "1", "discount": "101"}, ["body", "items", 0, "discount"]),
        ({"product_id": 10**9}, ["body", "items", 0, "product_id"]),
    ):
        response = api.put(f"/sales/deals/{made.pk}/items", {"version": 2, "items": [bad_row]})
        assert response.status_code == 422, response.content
        assert response.json()["detail"][0]["loc"] == loc
    assert api.put(f"/sales/deals/{made.pk}/items", {"items": []}).status_code == 422
    assert outsider.put(f"/sales/deals/{made.pk}/items", body | {"version": 2}).status_code == 404
    assert outsider.get(f"/sales/deals/{made.pk}/items").status_code == 404
    assert state() == before


def test_api_requisites(admin, alice):
    assert Api(admin).get("/sales/requisites").status_code == 404
    body = {"name": "ООО Ромашка", "inn": INN, "kpp": KPP, "bik": "1234"}
    response = Api(admin).put("/sales/requisites", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "bik"]
    assert Api(alice).put("/sales/requisites", body | {"bik": "044525225"}).status_code == 403
    response = Api(admin).put("/sales/requisites", body | {"bik": "044525225"})
    assert response.status_code == 200 and response.json()["inn"] == INN
    assert Api(admin).get("/sales/requisites").json()["bik"] == "044525225"


# --- pages ------------------------------------------------------------------------------------


def test_settings_pages_for_administrators_only(client, alice, admin):
    client.force_login(alice)
    for name in ("products/", "price-lists/", "requisites/"):
        assert client.get(f"/deals/catalog/{name}").status_code == 403
    client.force_login(admin)
    response = client.post(
        "/deals/catalog/products/",
        {
            "name": XSS,
            "unit": "шт.",
            "price": "5",
            "currency": "RUB",
            "vat_rate": "20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    page = client.get("/deals/catalog/products/").content.decode()
    assert XSS not in page and "&quot;&gt;&lt;img" in page
    made = Product.objects.get()
    response = client.post("/deals/catalog/price-lists/", {"name": "Опт", "currency": "RUB"})
    pl = PriceList.objects.get()
    assert response.status_code == 302
    response = client.post(
        f"/deals/catalog/price-lists/{pl.pk}/",
        {"name": "Опт", "currency": "RUB", f"price_{made.pk}": "-3"},
    )
    assert response.status_code == 422 and not PriceListItem.objects.exists()
    client.post(
        f"/deals/catalog/price-lists/{pl.pk}/",
        {"name": "Опт", "currency": "RUB", f"price_{made.pk}": "3,50"},
    )
    assert PriceListItem.objects.get().price == Decimal("3.50")
    response = client.post("/deals/catalog/requisites/", {"name": "ООО", "inn": "123"})
    assert response.status_code == 422 and not Requisites.objects.exists()


def test_items_on_the_deal_card(client, alice, bob, carol):
    made, lathe = deal(alice), product(name=XSS)
    client.force_login(alice)
    card = client.get(f"/deals/{made.pk}/").content.decode()
    assert f"/deals/catalog/deals/{made.pk}/items/" in card
    url = f"/deals/catalog/deals/{made.pk}/items/"
    form = {
        "version": "1",
        "product": [str(lathe.pk), "", ""],
        "name": ["", "Доставка", ""],
        "quantity": ["2", "1", ""],
        "unit": ["", "", ""],
        "price": ["", "300", ""],
        "discount": ["", "", ""],
        "vat_rate": ["", "", ""],
    }
    response = client.post(url, form, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == f"/deals/{made.pk}/"
    made.refresh_from_db()
    assert made.amount == Decimal("2700.00") and made.version == 2
    page = client.get(url).content.decode()
    assert XSS not in page and "&lt;img src=x" in page and "items-form" in page
    stale = client.post(url, form, headers={"HX-Request": "true"})
    assert stale.status_code == 409
    bad = client.post(url, form | {"version": "2", "price": ["", "-1", ""]})
    assert bad.status_code == 422 and "Line 2, price" in bad.content.decode()
    client.force_login(bob)  # a colleague sees the deal (team) but may not edit it
    assert "items-form" not in client.get(url).content.decode()
    assert client.post(url, form | {"version": "2"}).status_code in (403, 404)
    client.force_login(carol)
    assert client.get(url).status_code == 404
    made.refresh_from_db()
    assert made.version == 2 and DealItem.objects.filter(deal=made).count() == 2


def test_api_price_lists_read_in_a_fixed_number_of_queries(alice, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = Api(alice)
    made = product()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager.get("/sales/price-lists").status_code == 200
        return len(queries)

    catalog.save_price_list(admin, None, {"name": "Опт", "currency": "RUB"}, {made.pk: "900"})
    count()  # the session and the rights, read once
    one = count()
    for name in ("Розница", "VIP"):
        catalog.save_price_list(admin, None, {"name": name, "currency": "RUB"}, {made.pk: "1"})
    assert count() == one
    listed = manager.get("/sales/price-lists").json()
    assert [i["name"] for pl in listed for i in pl["items"]] == ["Станок"] * 3


def test_a_bad_list_price_is_named_by_its_product(client, admin):
    client.force_login(admin)
    first, second = product("Болт", sku="B-1"), product("Гайка", sku="G-1")
    pl = catalog.save_price_list(admin, None, {"name": "Опт", "currency": "RUB"})
    response = client.post(
        f"/deals/catalog/price-lists/{pl.pk}/",
        {"name": "Опт", "currency": "RUB", f"price_{first.pk}": "1", f"price_{second.pk}": "-3"},
    )
    assert response.status_code == 422 and not PriceListItem.objects.exists()
    assert response.context["form"].non_field_errors() == [
        "Гайка: Enter a price that is not negative."
    ]
