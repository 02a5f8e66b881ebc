"""Products, price lists, the company's requisites and a deal's line items: every write.

Prices include VAT (Russian practice, «в т.ч. НДС»): a line's total is quantity × price ×
(1 − discount/100) rounded to kopecks, and its VAT is total × rate / (100 + rate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities.services import CURRENCIES
from kartoteka.clients.validators import validate_inn, validate_kpp, validate_ogrn
from kartoteka.core import audit, permissions
from kartoteka.core.errors import StaleVersion
from kartoteka.core.permissions import Action, Denied
from kartoteka.sales.models import Deal, DealItem, PriceList, PriceListItem, Product, Requisites

KOPECK = Decimal("0.01")
MAX_ITEMS = 200
PRODUCT_FIELDS = ("name", "sku", "unit", "price", "currency", "vat_rate", "is_active")
REQUISITES_FIELDS = (
    "name",
    "inn",
    "kpp",
    "ogrn",
    "address",
    "bank",
    "bik",
    "account",
    "correspondent_account",
    "director",
    "accountant",
)
# What an invoice cannot be issued without.
INVOICE_NEEDS = ("name", "inn", "bank", "bik", "account")


# --- arithmetic -------------------------------------------------------------------------------


def line_total(quantity: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    total = Decimal(quantity) * Decimal(price) * (100 - Decimal(discount)) / 100
    return total.quantize(KOPECK, rounding=ROUND_HALF_UP)


def line_vat(total: Decimal, rate: int) -> Decimal:
    return (Decimal(total) * rate / (100 + rate)).quantize(KOPECK, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> str:
    """10.000 -> '10', 1.500 -> '1.5' (never '1E+1')."""
    return format(Decimal(value).normalize(), "f")


@dataclass(frozen=True)
class Totals:
    total: Decimal
    vat: Decimal


def totals(items: Iterable[DealItem]) -> Totals:
    total = vat = Decimal("0.00")
    for item in items:
        line = line_total(item.quantity, item.price, item.discount)
        total += line
        vat += line_vat(line, item.vat_rate)
    return Totals(total, vat)


# --- products and price lists -----------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _full_clean(obj: Any, errors: dict[str, list[str]], prefix: str = "", **kw: Any) -> None:
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False, **kw)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(prefix + name, []).extend(messages)


def save_product(actor: User | None, product: Product | None, fields: dict[str, Any]) -> Product:
    """Create (`product` None) or change a product; deactivating is `is_active=False`."""
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    errors: dict[str, list[str]] = {}
    target = product or Product()
    for name, value in fields.items():
        if name not in PRODUCT_FIELDS:
            errors[name] = [_("This field cannot be set.")]
        else:
            setattr(target, name, value)
    target.name = " ".join((target.name or "").split())
    target.sku = (target.sku or "").strip()
    target.unit = (target.unit or "").strip()
    target.currency = (target.currency or "").upper()
    if target.currency not in CURRENCIES:
        errors.setdefault("currency", []).append(_("Unknown currency."))
    if "price" in fields and _decimal(fields["price"]) is None:
        errors.setdefault("price", []).append(_("Enter a price that is not negative."))
    else:
        _full_clean(target, errors)
    if target.sku and Product.objects.filter(sku=target.sku).exclude(pk=target.pk).exists():
        errors.setdefault("sku", []).append(_("Another product has this article."))
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            target.save()
            audit.record(actor, "create" if product is None else "update", target)
    except IntegrityError:
        raise ValidationError({"sku": [_("Another product has this article.")]}) from None
    return target


def save_price_list(
    actor: User | None,
    price_list: PriceList | None,
    fields: dict[str, Any],
    prices: dict[int, Any] | None = None,
) -> PriceList:
    """Create or change a price list; `prices` ({product id: price}) replaces its prices."""
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    errors: dict[str, list[str]] = {}
    target = price_list or PriceList()
    for name, value in fields.items():
        if name not in ("name", "currency"):
            errors[name] = [_("This field cannot be set.")]
        else:
            setattr(target, name, value)
    target.name = " ".join((target.name or "").split())
    target.currency = (target.currency or "").upper()
    if target.currency not in CURRENCIES:
        errors.setdefault("currency", []).append(_("Unknown currency."))
    _full_clean(target, errors, exclude=["name"] if not target.name else None)
    if not target.name:
        errors.setdefault("name", []).append(_("This field is required."))
    elif PriceList.objects.filter(name=target.name).exclude(pk=target.pk).exists():
        errors.setdefault("name", []).append(_("A price list with this name exists."))
    rows: list[PriceListItem] = []
    if prices is not None:
        known = Product.objects.in_bulk(list(prices))
        for i, (product_id, raw) in enumerate(prices.items()):
            price = _decimal(raw)
            product = known.get(product_id)
            if product is None:
                errors[f"items.{i}.product"] = [_("There is no such product.")]
            elif product.currency != target.currency:
                errors[f"items.{i}.product"] = [_("The product is priced in another currency.")]
            if price is None or price < 0 or price >= Decimal("1e12"):
                errors[f"items.{i}.price"] = [_("Enter a price that is not negative.")]
            elif product is not None:
                rows.append(PriceListItem(product=product, price=price.quantize(KOPECK)))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.save()
        if prices is not None:
            target.items.all().delete()
            for row in rows:
                row.price_list = target
            PriceListItem.objects.bulk_create(rows)
        audit.record(actor, "create" if price_list is None else "update", target)
    return target


def active_products() -> Any:
    return Product.objects.filter(is_active=True)


# --- requisites -------------------------------------------------------------------------------


def requisites() -> Requisites | None:
    return Requisites.objects.order_by("pk").first()


def missing_for_invoice(found: Requisites | None) -> list[str]:
    return [f for f in INVOICE_NEEDS if found is None or not getattr(found, f)]


def save_requisites(actor: User | None, fields: dict[str, Any]) -> Requisites:
    if actor is not None:
        permissions.require(actor, Action.CONFIGURE)
    errors: dict[str, list[str]] = {}
    target = requisites() or Requisites()
    for name, value in fields.items():
        if name not in REQUISITES_FIELDS:
            errors[name] = [_("This field cannot be set.")]
        else:
            setattr(target, name, " ".join(str(value or "").split()))
    checks = {"inn": validate_inn, "kpp": validate_kpp, "ogrn": validate_ogrn}
    for name, check in checks.items():
        value = getattr(target, name)
        if value:
            try:
                check(value)
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
    digits = {"bik": 9, "account": 20, "correspondent_account": 20}
    for name, length in digits.items():
        value = getattr(target, name)
        if value and not (value.isascii() and value.isdigit() and len(value) == length):
            errors.setdefault(name, []).append(_("Enter %(n)d digits.") % {"n": length})
    if not target.name:
        errors.setdefault("name", []).append(_("This field is required."))
    _full_clean(target, errors, exclude=list(errors) or None)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.save()
        audit.record(actor, "update", target)
    return target


# --- a deal's line items ----------------------------------------------------------------------


@dataclass
class ItemIn:
    """One line as sent: a product (its price, or a price list's) or a free line."""

    product_id: int | None = None
    price_list_id: int | None = None
    name: str = ""
    quantity: Any = 1
    unit: str | None = None
    price: Any = None
    discount: Any = 0
    vat_rate: Any = None


def _item(
    i: int,
    sent: ItemIn,
    deal: Deal,
    products: dict[int, Product],
    lists: dict[int, PriceList],
    list_prices: dict[tuple[int, int], Decimal],
    errors: dict[str, list[str]],
) -> DealItem:
    key = f"items.{i}."
    product = products.get(sent.product_id) if sent.product_id else None
    if sent.product_id and product is None:
        errors[key + "product_id"] = [_("There is no such product.")]
    elif product is not None and product.currency != deal.currency:
        errors[key + "product_id"] = [
            _("The product is priced in %(currency)s, the deal in %(deal)s.")
            % {"currency": product.currency, "deal": deal.currency}
        ]
    price = _decimal(sent.price)
    if sent.price not in (None, "") and price is None:
        errors[key + "price"] = [_("Enter a number.")]
    if sent.price_list_id:
        price_list = lists.get(sent.price_list_id)
        if price_list is None:
            errors[key + "price_list_id"] = [_("There is no such price list.")]
        elif price_list.currency != deal.currency:
            errors[key + "price_list_id"] = [_("The price list is in another currency.")]
        elif product is not None and price is None:
            found = list_prices.get((price_list.pk, product.pk))
            if found is None:
                errors[key + "product_id"] = [_("The price list has no price for this product.")]
            price = found
    if price is None and product is not None and sent.price in (None, ""):
        price = product.price
    if price is None and key + "price" not in errors and product is None:
        errors[key + "price"] = [_("Enter the price.")]
    vat_rate = sent.vat_rate
    if vat_rate in (None, ""):
        vat_rate = product.vat_rate if product is not None else 20
    quantity = _decimal(sent.quantity)
    discount = _decimal(sent.discount) if sent.discount not in (None, "") else Decimal(0)
    item = DealItem(
        deal=deal,
        product=product,
        name=" ".join((sent.name or (product.name if product else "")).split()),
        quantity=quantity if quantity is not None else Decimal(0),
        unit=(sent.unit if sent.unit is not None else (product.unit if product else "")).strip(),
        price=price if price is not None else Decimal(0),
        discount=discount if discount is not None else Decimal(0),
        vat_rate=vat_rate,
        position=i,
    )
    if quantity is None:
        errors.setdefault(key + "quantity", []).append(_("Enter a number."))
    elif item.quantity < 0:
        errors.setdefault(key + "quantity", []).append(_("Enter a quantity that is not negative."))
    if item.price is not None and item.price < 0:
        errors.setdefault(key + "price", []).append(_("Enter a price that is not negative."))
    if discount is None:
        errors.setdefault(key + "discount", []).append(_("Enter a number."))
    elif not 0 <= item.discount <= 100:
        errors.setdefault(key + "discount", []).append(_("Enter a discount from 0 to 100%."))
    try:
        rate = int(item.vat_rate)
        valid_rate = 0 <= rate <= 100 and str(rate) == str(item.vat_rate).strip()
    except (TypeError, ValueError):
        valid_rate = False
    if not valid_rate:
        errors.setdefault(key + "vat_rate", []).append(_("Enter a VAT rate from 0 to 100."))
    if not item.name:
        errors.setdefault(key + "name", []).append(_("Name the line or choose a product."))
    if not [k for k in errors if k.startswith(key)]:
        item.vat_rate = int(item.vat_rate)
        _full_clean(item, errors, prefix=key, exclude=["deal", "product"])
    return item


def set_items(
    actor: User | None,
    deal: Deal,
    expected_version: int,
    items: Sequence[ItemIn],
) -> Deal:
    """Replace a deal's lines; its amount becomes their total (when it has any). One
    transaction: the deal's version goes up, StaleVersion if someone saved it since."""
    errors: dict[str, list[str]] = {}
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": [_("At most %(n)d lines.") % {"n": MAX_ITEMS}]})
    product_ids = {s.product_id for s in items if s.product_id}
    list_ids = {s.price_list_id for s in items if s.price_list_id}
    products = Product.objects.in_bulk(list(product_ids))
    lists = PriceList.objects.in_bulk(list(list_ids))
    list_prices = {
        (row.price_list_id, row.product_id): row.price
        for row in PriceListItem.objects.filter(price_list__in=list_ids, product__in=product_ids)
    }
    with transaction.atomic():
        locked = get_object_or_404(Deal.objects.select_for_update(), pk=deal.pk)
        if actor is not None and not permissions.can(actor, Action.EDIT, locked):
            raise Denied(Action.EDIT)
        if locked.version != expected_version:
            raise StaleVersion(locked.version)
        rows = [
            _item(i, s, locked, products, lists, list_prices, errors) for i, s in enumerate(items)
        ]
        if errors:
            raise ValidationError(errors)
        locked.items.all().delete()
        DealItem.objects.bulk_create(rows)
        if rows:
            locked.amount = totals(rows).total
            if locked.amount >= Decimal("1e12"):
                raise ValidationError({"items": [_("The total is too large.")]})
        locked.version += 1
        locked.save(update_fields=["amount", "version", "updated_at"])
        audit.record(actor, "update", locked, items=len(rows))
    return locked
