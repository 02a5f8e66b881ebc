"""Pages for products, price lists and the company's requisites (administrators), and the deal
card's line items and documents (htmx partials). Thin: catalog.py and documents.py write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kartoteka.core import permissions
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.forms import StyledForm, add_service_errors, clean_text, parse_id
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor
from kartoteka.sales import catalog, documents
from kartoteka.sales.catalog_api import pdf_response
from kartoteka.sales.models import Deal, DealItem, PriceList, Product, Requisites

ITEM_FIELDS = ("product", "name", "quantity", "unit", "price", "discount", "vat_rate")
BLANK_ROWS = 3


# --- forms ------------------------------------------------------------------------------------


class ProductForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("name"), max_length=200)
    sku = forms.CharField(label=gettext_lazy("article"), max_length=60, required=False)
    unit = forms.CharField(label=gettext_lazy("unit"), max_length=20, initial="шт.")
    price = forms.DecimalField(label=gettext_lazy("price, VAT included"), min_value=0)
    currency = forms.CharField(label=gettext_lazy("currency"), max_length=3, initial="RUB")
    vat_rate = forms.IntegerField(
        label=gettext_lazy("VAT, %"), min_value=0, max_value=100, initial=20
    )
    is_active = forms.BooleanField(label=gettext_lazy("on sale"), required=False, initial=True)


class PriceListForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    currency = forms.CharField(label=gettext_lazy("currency"), max_length=3, initial="RUB")


class RequisitesForm(StyledForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in catalog.REQUISITES_FIELDS:
            field = cast(models.CharField, Requisites._meta.get_field(name))
            self.fields[name] = forms.CharField(
                label=field.verbose_name,
                max_length=field.max_length,
                required=name == "name",
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )


def _configure(request: HttpRequest) -> None:
    permissions.require(actor(request), Action.CONFIGURE)


# --- products ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def products(request: HttpRequest) -> HttpResponse:
    _configure(request)
    form = ProductForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            product = catalog.save_product(actor(request), None, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Product “%(name)s” created.") % {"name": product.name})
            return redirect("sales:products")
    context = {"form": form, "products": Product.objects.all()[:1000]}
    status = 422 if form.errors else 200
    return render(request, "sales/catalog/products.html", context, status=status)


@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _configure(request)
    product = get_object_or_404(Product, pk=pk)
    initial = {f: getattr(product, f) for f in catalog.PRODUCT_FIELDS}
    form = ProductForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.save_product(actor(request), product, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:products")
    context = {"form": form, "product": product}
    status = 422 if form.errors else 200
    return render(request, "sales/catalog/product_edit.html", context, status=status)


# --- price lists ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def price_lists(request: HttpRequest) -> HttpResponse:
    _configure(request)
    form = PriceListForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            made = catalog.save_price_list(actor(request), None, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("sales:price_list", pk=made.pk)
    context = {"form": form, "price_lists": PriceList.objects.all()}
    status = 422 if form.errors else 200
    return render(request, "sales/catalog/price_lists.html", context, status=status)


@require_http_methods(["GET", "POST"])
def price_list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The list's name and currency, and a price per product (blank: not in the list)."""
    _configure(request)
    price_list = get_object_or_404(PriceList, pk=pk)
    current = dict(price_list.items.values_list("product_id", "price"))
    every = list(Product.objects.filter(is_active=True) | Product.objects.filter(pk__in=current))
    data = request.POST if request.method == "POST" else None
    form = PriceListForm(data, initial={"name": price_list.name, "currency": price_list.currency})
    for product in every:
        raw = data.get(f"price_{product.pk}", "") if data else current.get(product.pk, "")
        product.list_price = clean_text(str(raw), 20).strip()  # type: ignore[attr-defined]
    if data is not None and form.is_valid():
        priced = [p for p in every if p.list_price]  # type: ignore[attr-defined]
        prices = {p.pk: p.list_price for p in priced}  # type: ignore[attr-defined]
        try:
            catalog.save_price_list(actor(request), price_list, form.cleaned_data, prices)
        except ValidationError as exc:
            _add_price_errors(form, exc, priced)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:price_lists")
    context = {"form": form, "price_list": price_list, "products": every}
    status = 422 if form.errors else 200
    return render(request, "sales/catalog/price_list_edit.html", context, status=status)


def _add_price_errors(form: PriceListForm, exc: ValidationError, priced: list[Product]) -> None:
    """The service's errors, "items.<i>.<field>" (the i-th price sent) named by the product."""
    for key, texts in field_errors(exc).items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            name = priced[int(parts[1])].name
            for text in texts:
                form.add_error(None, f"{name}: {text}")
        else:
            add_service_errors(form, ValidationError({key: texts}))


# --- requisites -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def requisites(request: HttpRequest) -> HttpResponse:
    _configure(request)
    found = catalog.requisites()
    initial = {f: getattr(found, f) for f in catalog.REQUISITES_FIELDS} if found else {}
    form = RequisitesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.save_requisites(actor(request), form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:requisites")
    status = 422 if form.errors else 200
    return render(request, "sales/catalog/requisites.html", {"form": form}, status=status)


# --- a deal's line items ----------------------------------------------------------------------


def _deal(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Deal:
    return permissions.get_or_404(actor(request), action, Deal.objects.all(), pk=pk)


def _sent_rows(data: Any) -> list[dict[str, str]]:
    """The posted rows (parallel lists), blank ones left out."""
    columns = {f: data.getlist(f)[: catalog.MAX_ITEMS + BLANK_ROWS] for f in ITEM_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {f: clean_text(v[i] if i < len(v) else "", 200).strip() for f, v in columns.items()}
        if row["product"] or row["name"]:
            rows.append(row)
    return rows


def _items_context(
    request: HttpRequest, deal: Deal, rows: list[dict[str, str]] | None, errors: list[str]
) -> dict[str, Any]:
    items = list(deal.items.all())
    for item in items:
        item.total = catalog.line_total(item.quantity, item.price, item.discount)  # type: ignore[attr-defined]
        item.quantity_text = catalog.plain(item.quantity)  # type: ignore[attr-defined]
        item.discount_text = catalog.plain(item.discount)  # type: ignore[attr-defined]
    if rows is None:
        rows = [
            {
                "product": str(i.product_id or ""),
                "name": i.name,
                "quantity": catalog.plain(i.quantity),
                "unit": i.unit,
                "price": str(i.price),
                "discount": catalog.plain(i.discount),
                "vat_rate": str(i.vat_rate),
            }
            for i in items
        ]
    blank = dict.fromkeys(ITEM_FIELDS, "")
    user = actor(request)
    return {
        "deal": deal,
        "items": items,
        "sums": catalog.totals(items),
        "rows": [*rows, *[blank] * BLANK_ROWS],
        "errors": errors,
        "products": list(catalog.active_products()),
        "price_lists": list(PriceList.objects.filter(currency=deal.currency)),
        "can_edit": not deal.in_trash and permissions.can(user, Action.EDIT, deal),
    }


def _row_errors(exc: ValidationError) -> list[str]:
    found = []
    for key, texts in field_errors(exc).items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit():
            name = parts[2].removesuffix("_id").replace("_", " ")
            label = _("Line %(n)d, %(field)s") % {"n": int(parts[1]) + 1, "field": _(name)}
            found.append(f"{label}: {' '.join(texts)}")
        else:
            found.append(" ".join(texts))
    return found


@require_http_methods(["GET", "POST"])
def deal_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The deal's lines; editors post the whole table back (its version read with it)."""
    if request.method == "GET":
        deal = _deal(request, pk)
        return render(request, "sales/catalog/_items.html", _items_context(request, deal, None, []))
    deal = _deal(request, pk, Action.EDIT)
    rows = _sent_rows(request.POST)
    price_list = parse_id(request.POST.get("price_list"))
    sent = [
        catalog.ItemIn(
            product_id=parse_id(r["product"]),
            price_list_id=price_list if r["product"] and not r["price"] else None,
            name=r["name"],
            quantity=r["quantity"] or "1",
            unit=r["unit"] if r["unit"] or not r["product"] else None,
            price=r["price"] or None,
            discount=r["discount"] or "0",
            vat_rate=r["vat_rate"] or None,
        )
        for r in rows
    ]
    try:
        catalog.set_items(actor(request), deal, parse_id(request.POST.get("version")) or 0, sent)
    except StaleVersion:
        text = _("Someone else changed this deal; reload the page and apply your change again.")
        context = _items_context(request, deal, rows, [text])
        return render(request, "sales/catalog/_items.html", context, status=409)
    except ValidationError as exc:
        context = _items_context(request, deal, rows, _row_errors(exc))
        return render(request, "sales/catalog/_items.html", context, status=422)
    messages.success(request, _("Line items saved."))
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(reverse("sales:card", args=[deal.pk]))
    return redirect("sales:card", pk=deal.pk)


# --- documents --------------------------------------------------------------------------------


@require_GET
def deal_documents(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(request, pk)
    user = actor(request)
    context = {
        "deal": deal,
        "documents": list(deal.documents.all()),
        "can_issue": not deal.in_trash and permissions.can(user, Action.EDIT, deal),
        "has_items": DealItem.objects.filter(deal=deal).exists(),
        "invoice_needs": catalog.missing_for_invoice(catalog.requisites()),
    }
    return render(request, "sales/catalog/_documents.html", context)


@require_POST
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(request, pk, Action.EDIT)
    kind = request.POST.get("kind", "")
    try:
        document = documents.issue(actor(request), deal, kind)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, documents.title_of(document))
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(reverse("sales:card", args=[deal.pk]))
    return redirect("sales:card", pk=deal.pk)


@require_GET
def document_pdf(request: HttpRequest, pk: int, doc_id: int) -> HttpResponse:
    return pdf_response(documents.visible_document(actor(request), pk, doc_id))
