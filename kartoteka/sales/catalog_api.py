"""/api/v1/sales: products, price lists, company requisites, a deal's line items, quotes and
invoices. Thin: services in catalog.py and documents.py do every write."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from kartoteka.clients.schemas import Message, StaleOut, Strict, enum, field_error
from kartoteka.core.errors import StaleVersion, api_call
from kartoteka.core.permissions import Action, get_or_404, require
from kartoteka.core.views import actor
from kartoteka.sales import catalog, documents
from kartoteka.sales.models import Deal, Document, PriceList, PriceListItem, Product
from kartoteka.sales.schemas import ID

router = Router(tags=["products and documents"])
ERRORS: dict[int, Any] = {403: Message, 404: Message}
MONEY = Field(ge=0, lt=Decimal("1e12"), allow_inf_nan=False, decimal_places=2)
RENAMED = {"product": "product_id", "price_list": "price_list_id"}
T = TypeVar("T")


def _loc(key: str) -> list[str | int]:
    """'items.0.price' -> ['body', 'items', 0, 'price']."""
    if key == "__all__":
        return ["body"]
    parts = [int(p) if p.isdigit() else RENAMED.get(p, p) for p in key.split(".")]
    return ["body", *parts]


def _call(write: Callable[[], T]) -> T:
    """Run a service; its ValidationError as a 422 naming the body's fields."""
    return api_call(write, _loc)


# --- schemas ----------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    name: str
    sku: str
    unit: str
    price: str
    currency: str
    vat_rate: int
    is_active: bool


class ProductIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    sku: str = Field("", max_length=60)
    unit: str = Field("шт.", max_length=20)
    price: Decimal = MONEY
    currency: str = Field("RUB", max_length=3)
    vat_rate: int = Field(20, ge=0, le=100)
    is_active: bool = True


class ProductPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    sku: str | None = Field(None, max_length=60)
    unit: str | None = Field(None, max_length=20)
    price: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), allow_inf_nan=False)
    currency: str | None = Field(None, max_length=3)
    vat_rate: int | None = Field(None, ge=0, le=100)
    is_active: bool | None = None


class ListPriceIn(Strict):
    product_id: int = Field(ge=1, le=2**62)
    price: Decimal = MONEY


class ListPriceOut(Schema):
    product_id: int
    name: str
    price: str


class PriceListIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    currency: str = Field("RUB", max_length=3)
    items: list[ListPriceIn] = Field(default_factory=list, max_length=5000)


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    items: list[ListPriceOut]


class RequisitesIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    inn: str = Field("", max_length=12)
    kpp: str = Field("", max_length=9)
    ogrn: str = Field("", max_length=15)
    address: str = Field("", max_length=500)
    bank: str = Field("", max_length=200)
    bik: str = Field("", max_length=9)
    account: str = Field("", max_length=20)
    correspondent_account: str = Field("", max_length=20)
    director: str = Field("", max_length=200)
    accountant: str = Field("", max_length=200)


class RequisitesOut(Schema):
    name: str
    inn: str
    kpp: str
    ogrn: str
    address: str
    bank: str
    bik: str
    account: str
    correspondent_account: str
    director: str
    accountant: str


class ItemIn(Strict):
    product_id: int | None = ID
    price_list_id: int | None = Field(
        None, ge=1, le=2**62, description="Take the product's price from this price list."
    )
    name: str = Field("", max_length=200, description="Default: the product's name.")
    quantity: Decimal = Field(Decimal(1), allow_inf_nan=False)
    unit: str | None = Field(None, max_length=20)
    price: Decimal | None = Field(
        None, allow_inf_nan=False, description="VAT included. Default: the product's price."
    )
    discount: Decimal = Field(Decimal(0), allow_inf_nan=False, description="Percent, 0–100.")
    vat_rate: int | None = Field(None, description="Percent. Default: the product's rate.")


class ItemsIn(Strict):
    version: int = Field(ge=1, le=2**31, description="The deal's version read.")
    items: list[ItemIn] = Field(max_length=catalog.MAX_ITEMS)


class ItemOut(Schema):
    id: int
    product_id: int | None
    name: str
    quantity: str
    unit: str
    price: str
    discount: str
    vat_rate: int
    total: str
    vat: str


class ItemsOut(Schema):
    deal_id: int
    version: int
    currency: str
    amount: str | None
    items: list[ItemOut]
    total: str
    vat: str


class DocumentIn(Strict):
    kind: str = Field(json_schema_extra=enum(Document.Kind.values, nullable=False))


class DocumentOut(Schema):
    id: int
    deal_id: int
    kind: str
    year: int
    number: int
    issued_on: str
    total: str
    vat: str
    currency: str
    content: dict[str, Any]


# --- output -----------------------------------------------------------------------------------


def product_out(p: Product) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "sku": p.sku,
        "unit": p.unit,
        "price": str(p.price),
        "currency": p.currency,
        "vat_rate": p.vat_rate,
        "is_active": p.is_active,
    }


def with_prices(price_lists: QuerySet[PriceList]) -> QuerySet[PriceList]:
    """The lists with their prices and products, by product name: two queries in all."""
    rows = PriceListItem.objects.select_related("product").order_by("product__name", "product_id")
    return price_lists.prefetch_related(Prefetch("items", queryset=rows))


def price_list_out(pl: PriceList) -> dict[str, Any]:
    """`pl` as read through `with_prices`."""
    items = [
        {"product_id": r.product_id, "name": r.product.name, "price": str(r.price)}
        for r in pl.items.all()
    ]
    return {"id": pl.pk, "name": pl.name, "currency": pl.currency, "items": items}


def items_out(deal: Deal) -> dict[str, Any]:
    items = list(deal.items.all())
    lines = []
    for item in items:
        total = catalog.line_total(item.quantity, item.price, item.discount)
        lines.append(
            {
                "id": item.pk,
                "product_id": item.product_id,
                "name": item.name,
                "quantity": str(item.quantity),
                "unit": item.unit,
                "price": str(item.price),
                "discount": str(item.discount),
                "vat_rate": item.vat_rate,
                "total": str(total),
                "vat": str(catalog.line_vat(total, item.vat_rate)),
            }
        )
    sums = catalog.totals(items)
    return {
        "deal_id": deal.pk,
        "version": deal.version,
        "currency": deal.currency,
        "amount": None if deal.amount is None else str(deal.amount),
        "items": lines,
        "total": str(sums.total),
        "vat": str(sums.vat),
    }


def document_out(d: Document) -> dict[str, Any]:
    return {
        "id": d.pk,
        "deal_id": d.deal_id,
        "kind": d.kind,
        "year": d.year,
        "number": d.number,
        "issued_on": d.issued_on.isoformat(),
        "total": str(d.total),
        "vat": str(d.vat),
        "currency": d.currency,
        "content": d.content,
    }


# --- products and price lists -----------------------------------------------------------------


@router.get("/products", response=list[ProductOut], summary="Products on sale")
def list_products(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    rows = Product.objects.all() if include_inactive else catalog.active_products()
    if include_inactive:
        require(actor(request), Action.CONFIGURE)
    return [product_out(p) for p in rows[:5000]]


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Create a product")
def create_product(request: HttpRequest, payload: ProductIn) -> tuple[int, dict[str, Any]]:
    require(actor(request), Action.CONFIGURE)
    fields = payload.model_dump()
    return 201, product_out(_call(lambda: catalog.save_product(actor(request), None, fields)))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Change")
def patch_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> dict[str, Any]:
    require(actor(request), Action.CONFIGURE)
    product = _get(Product, product_id)
    fields = payload.model_dump(exclude_unset=True)
    for name, value in fields.items():
        if value is None:
            raise field_error(["body", name], _("This field cannot be empty."))
    return product_out(_call(lambda: catalog.save_product(actor(request), product, fields)))


def _get(model: Any, pk: int) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise HttpError(404, _("Not found."))
    return found


@router.get("/price-lists", response=list[PriceListOut], summary="Price lists with prices")
def list_price_lists(request: HttpRequest) -> list[dict[str, Any]]:
    return [price_list_out(pl) for pl in with_prices(PriceList.objects.all())[:200]]


def _save_list(
    request: HttpRequest, price_list: PriceList | None, payload: PriceListIn
) -> PriceList:
    require(actor(request), Action.CONFIGURE)
    prices: dict[int, Any] = {}
    for i, row in enumerate(payload.items):
        if row.product_id in prices:
            raise field_error(
                ["body", "items", i, "product_id"], _("This product is listed twice.")
            )
        prices[row.product_id] = row.price
    fields = {"name": payload.name, "currency": payload.currency}
    saved = _call(lambda: catalog.save_price_list(actor(request), price_list, fields, prices))
    return with_prices(PriceList.objects.all()).get(pk=saved.pk)


@router.post("/price-lists", response={201: PriceListOut, **ERRORS}, summary="Create")
def create_price_list(request: HttpRequest, payload: PriceListIn) -> tuple[int, dict[str, Any]]:
    return 201, price_list_out(_save_list(request, None, payload))


@router.put("/price-lists/{list_id}", response={200: PriceListOut, **ERRORS}, summary="Replace")
def put_price_list(request: HttpRequest, list_id: int, payload: PriceListIn) -> dict[str, Any]:
    require(actor(request), Action.CONFIGURE)
    return price_list_out(_save_list(request, _get(PriceList, list_id), payload))


# --- requisites -------------------------------------------------------------------------------


@router.get("/requisites", response={200: RequisitesOut, **ERRORS}, summary="Company details")
def get_requisites(request: HttpRequest) -> Any:
    require(actor(request), Action.CONFIGURE)
    found = catalog.requisites()
    if found is None:
        raise HttpError(404, _("The company's requisites are not filled in yet."))
    return found


@router.put("/requisites", response={200: RequisitesOut, **ERRORS}, summary="Set company details")
def put_requisites(request: HttpRequest, payload: RequisitesIn) -> Any:
    require(actor(request), Action.CONFIGURE)
    return _call(lambda: catalog.save_requisites(actor(request), payload.model_dump()))


# --- a deal's line items and documents --------------------------------------------------------


@router.get("/deals/{deal_id}/items", response={200: ItemsOut, **ERRORS}, summary="Line items")
def get_items(request: HttpRequest, deal_id: int, response: HttpResponse) -> dict[str, Any]:
    deal = get_or_404(actor(request), Action.VIEW, Deal.objects.all(), pk=deal_id)
    response["ETag"] = f'"{deal.version}"'
    return items_out(deal)


@router.put(
    "/deals/{deal_id}/items",
    response={200: ItemsOut, 412: StaleOut, **ERRORS},
    summary="Replace a deal's line items",
    description="The deal's amount becomes the items' total (prices include VAT). "
    "412 when the deal changed since `version` was read.",
)
def put_items(
    request: HttpRequest, deal_id: int, payload: ItemsIn, response: HttpResponse
) -> dict[str, Any]:
    me = actor(request)
    deal = get_or_404(me, Action.EDIT, Deal.objects.all(), pk=deal_id)
    if payload.version != deal.version:
        raise StaleVersion(deal.version)
    sent = [catalog.ItemIn(**row.model_dump()) for row in payload.items]
    saved = _call(lambda: catalog.set_items(me, deal, payload.version, sent))
    response["ETag"] = f'"{saved.version}"'
    return items_out(saved)


@router.get(
    "/deals/{deal_id}/documents", response={200: list[DocumentOut], **ERRORS}, summary="Documents"
)
def list_documents(request: HttpRequest, deal_id: int) -> list[dict[str, Any]]:
    deal = get_or_404(actor(request), Action.VIEW, Deal.objects.all(), pk=deal_id)
    return [document_out(d) for d in deal.documents.all()]


@router.post(
    "/deals/{deal_id}/documents",
    response={201: DocumentOut, **ERRORS},
    summary="Issue a quote or an invoice",
    description="Numbered per kind and year; the content is frozen as issued.",
)
def issue_document(
    request: HttpRequest, deal_id: int, payload: DocumentIn
) -> tuple[int, dict[str, Any]]:
    me = actor(request)
    deal = get_or_404(me, Action.EDIT, Deal.objects.all(), pk=deal_id)
    return 201, document_out(_call(lambda: documents.issue(me, deal, payload.kind)))


@router.get("/documents/{document_id}", response={200: DocumentOut, **ERRORS}, summary="Read")
def read_document(request: HttpRequest, document_id: int) -> dict[str, Any]:
    return document_out(documents.visible_document(actor(request), None, document_id))


@router.get(
    "/documents/{document_id}/pdf",
    response={200: None, **ERRORS},
    summary="Download the PDF",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document = documents.visible_document(actor(request), None, document_id)
    return pdf_response(document)


def pdf_response(document: Document) -> HttpResponse:
    response = HttpResponse(documents.render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.filename_of(document)}"'
    return response
