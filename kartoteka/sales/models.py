"""Sales: pipelines with ordered stages, deals moving through them, and the history of moves."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kartoteka.clients.models import Client
from kartoteka.core.models import SoftDeletable, TimeStamped, Versioned


class Pipeline(models.Model):
    """A sales process: new sales, repeat sales, tenders, …"""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal status", "open")
        WON = "won", pgettext_lazy("deal status", "won")
        LOST = "lost", pgettext_lazy("deal status", "lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), default=0, validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)
    # Deal fields that must be filled before a deal may enter this stage.
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} / {self.name}"

    def stage_changes_exist(self) -> bool:
        """Whether the history of any deal names this stage (it is protected then)."""
        moved = Q(from_stage=self) | Q(to_stage=self)
        return StageChange.objects.filter(moved).exists()


class LossReason(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")

    def __str__(self) -> str:
        return self.name


class Deal(TimeStamped, SoftDeletable, Versioned):
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    title = models.CharField(_("title"), max_length=200)
    # The title case-folded (ё as е), kept by the services: search with `like` on both databases.
    search_title = models.CharField(max_length=200, default="", editable=False)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="deals"
    )
    contacts = models.ManyToManyField(
        Client, verbose_name=_("contact persons"), blank=True, related_name="deals_as_contact"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Client.Source.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    stage_entered_at = models.DateTimeField(_("in the stage since"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            # The kanban: a stage's column, newest activity first.
            models.Index(
                fields=["stage", "-updated_at", "-id"],
                name="deal_column",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["owner", "stage", "-updated_at"],
                name="deal_owner_column",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["client", "-created_at"], name="deal_client"),
            models.Index(fields=["expected_close"], name="deal_close"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="deal_amount_positive"
            ),
        ]

    # Whose record this is, for the permissions engine.
    owner_paths = ("owner",)

    def __str__(self) -> str:
        return self.title


class StageChange(models.Model):
    """History as rows: a deal left `from_stage` and entered `to_stage`."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    # Seconds the deal spent in from_stage.
    seconds_in_stage = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["deal", "-at"], name="stage_change_deal")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Product(models.Model):
    """A product or service from the price list; deals quote it as line items."""

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("article"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="шт.")
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    vat_rate = models.PositiveSmallIntegerField(
        _("VAT, %"), default=20, validators=[MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=~Q(sku=""), name="product_sku_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """Prices other than the products' own, e.g. for wholesale or for partners."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")

    class Meta:
        ordering = ["name"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="list_prices")
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_list_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.price_list}: {self.product} {self.price}"


class DealItem(models.Model):
    """A line of a deal: what is sold, how many, at what price, discount and VAT."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    discount = models.DecimalField(
        _("discount, %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    vat_rate = models.PositiveSmallIntegerField(
        _("VAT, %"), default=20, validators=[MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("line item")
        verbose_name_plural = _("line items")

    def __str__(self) -> str:
        return self.name


class Requisites(models.Model):
    """The selling company's details printed on quotes and invoices (one row)."""

    name = models.CharField(_("company name"), max_length=300)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    bank = models.CharField(_("bank"), max_length=200, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True)
    account = models.CharField(_("settlement account"), max_length=20, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    director = models.CharField(_("director"), max_length=200, blank=True)
    accountant = models.CharField(_("chief accountant"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("company requisites")
        verbose_name_plural = _("company requisites")

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """A quote or an invoice as issued: numbered per kind and year, its content frozen."""

    class Kind(models.TextChoices):
        QUOTE = "quote", _("quote")
        INVOICE = "invoice", _("invoice")

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    issued_on = models.DateField(_("date"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # Requisites, client and line items as they were when issued: later edits don't change it.
    content = models.JSONField(default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "number"], name="document_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}/{self.year}"


class SalesPlan(models.Model):
    """A month's target for a manager or for a team: an amount and a number of won deals."""

    month = models.DateField(_("month"))  # the first day of the month
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_plans",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_plans",
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    deals = models.PositiveIntegerField(_("won deals"), default=0)

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, team__isnull=True)
                | Q(owner__isnull=True, team__isnull=False),
                name="sales_plan_owner_or_team",
            ),
            models.UniqueConstraint(
                fields=["month", "owner"], condition=Q(owner__isnull=False), name="plan_owner"
            ),
            models.UniqueConstraint(
                fields=["month", "team"], condition=Q(team__isnull=False), name="plan_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.owner or self.team}: {self.amount}"
