"""Analytics: the current classes of each client, their history, the settings, segments.

`ClientClass` is the table other apps join (`Client.objects.filter(analytics__abc="A")`, or
`queries.client_class(client_id)`); it is rewritten by the recompute job only. `ClassChange`
keeps a row per change of a class, never per run. `Tally` holds the per-owner counts behind
the dashboards, so that a dashboard sums a few hundred rows instead of a million clients.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client
from kartoteka.core.models import Versioned


class Cycle(models.TextChoices):
    """The contact cycle: where a client is in the relationship (rules in docs/analytics.md)."""

    LEAD = "lead", _("lead")
    PROSPECT = "prospect", _("prospect")
    FIRST_ORDER = "first_order", _("first order")
    REPEAT = "repeat", _("repeat customer")
    LOYAL = "loyal", _("loyal")
    AT_RISK = "at_risk", _("at risk")
    LOST = "lost", _("lost")
    WON_BACK = "won_back", _("won back")


class AnalyticsConfig(Versioned):
    """The one row of analytics settings (pk 1): thresholds, periods, the currency, cycle rules."""

    class AbcRule(models.TextChoices):
        OWN = "own", _("the client's own cumulative share decides")
        CROSSING = "crossing", _("the client that crosses a threshold stays in the class")

    currency = models.CharField(_("analytics currency"), max_length=3, default="RUB")
    months = models.PositiveSmallIntegerField(
        _("period, months"), default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    abc_a = models.DecimalField(_("A up to, %"), max_digits=5, decimal_places=2, default=80)
    abc_b = models.DecimalField(_("B up to, %"), max_digits=5, decimal_places=2, default=95)
    abc_rule = models.CharField(
        _("ABC rule"), max_length=8, choices=AbcRule.choices, default=AbcRule.OWN
    )
    xyz_x = models.DecimalField(_("X up to, %"), max_digits=6, decimal_places=2, default=10)
    xyz_y = models.DecimalField(_("Y up to, %"), max_digits=6, decimal_places=2, default=25)
    xyz_min_periods = models.PositiveSmallIntegerField(
        _("XYZ: fewest months"), default=3, validators=[MinValueValidator(2)]
    )
    at_risk_days = models.PositiveSmallIntegerField(_("at risk after, days"), default=90)
    lost_days = models.PositiveSmallIntegerField(_("lost after, days"), default=180)
    repeat_purchases = models.PositiveSmallIntegerField(
        _("repeat customer from, purchases"), default=2
    )
    loyal_purchases = models.PositiveSmallIntegerField(_("loyal from, purchases"), default=5)
    prospect_days = models.PositiveSmallIntegerField(
        _("prospect: contact within, days"), default=180
    )
    # What the last run did: when, the window, how many clients, which purchases it left out.
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True, editable=False)
    last_run = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")

    def __str__(self) -> str:
        return f"analytics {self.currency} {self.months}m"


class ClientClass(models.Model):
    """A client's current classes and the figures they came from (one row per client)."""

    client = models.OneToOneField(
        Client, primary_key=True, on_delete=models.CASCADE, related_name="analytics"
    )
    abc = models.CharField(_("ABC"), max_length=1, blank=True)
    xyz = models.CharField(_("XYZ"), max_length=1, blank=True)
    rfm = models.CharField(_("RFM"), max_length=3, blank=True)
    cycle = models.CharField(_("contact cycle"), max_length=12, choices=Cycle.choices)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=Decimal(0))
    purchases = models.PositiveIntegerField(_("purchases"), default=0)
    cv = models.FloatField(_("coefficient of variation, %"), null=True, blank=True)
    periods = models.PositiveSmallIntegerField(_("months"), default=0)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)

    class Meta:
        verbose_name = _("client class")
        verbose_name_plural = _("client classes")
        indexes = [
            models.Index(fields=["abc", "xyz"], name="client_class_abc_xyz"),
            models.Index(fields=["rfm"], name="client_class_rfm"),
            models.Index(fields=["cycle"], name="client_class_cycle"),
        ]

    owner_paths = ("client__owner",)

    def __str__(self) -> str:
        return f"{self.client_id} {self.abc}{self.xyz} {self.rfm} {self.cycle}"


class ClassChange(models.Model):
    """History as rows: a client's class moved from `old` to `new` (written only on change)."""

    class Measure(models.TextChoices):
        ABC = "abc", "ABC"
        XYZ = "xyz", "XYZ"
        RFM = "rfm", "RFM"
        CYCLE = "cycle", _("contact cycle")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="class_changes")
    measure = models.CharField(max_length=5, choices=Measure.choices)
    old = models.CharField(max_length=12, blank=True)
    new = models.CharField(max_length=12, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client", "-at"], name="class_change_client"),
            models.Index(fields=["measure", "at"], name="class_change_measure"),
        ]

    owner_paths = ("client__owner",)

    def __str__(self) -> str:
        return f"{self.client_id} {self.measure} {self.old}→{self.new}"


class Tally(models.Model):
    """A precomputed dashboard cell per owner (per author for "activity"), rewritten by every
    recompute: chart "abcxyz" key "AX", "rfm" "54" (R, F), "cycle" "loyal", "leads" "2026-05"
    (clients created), "cohort" "2026-01:2026-03" (first-purchase month : month), "activity"
    "2026-05:call" (interactions by kind), "sales" "2026-05" (purchases, revenue, buyers)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    chart = models.CharField(max_length=12)
    key = models.CharField(max_length=24)
    clients = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    count = models.PositiveIntegerField(default=0)  # purchases, interactions: what the chart counts

    class Meta:
        indexes = [models.Index(fields=["chart", "owner"], name="tally_chart_owner")]

    def __str__(self) -> str:
        return f"{self.chart} {self.key} {self.owner_id}: {self.clients}"


class Segment(Versioned):
    """A saved group of clients: dynamic (rules, evaluated when used) or static (a list)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("dynamic (rules)")
        STATIC = "static", _("static list")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )
    members: models.ManyToManyField[Client, SegmentMember] = models.ManyToManyField(
        Client, through="SegmentMember", related_name="segments", blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "client"], name="segment_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.client_id}"


class DashboardTally(models.Model):
    """Dashboard cells the recompute's `Tally` lacks, per owner, rewritten by
    `dashboard_tallies.refresh()` after each recompute: chart "deals" key "2026-05:won" (deals
    created / won / lost that month; revenue: won amounts in the analytics currency), "source"
    key "ads:loyal" (clients by source and contact-cycle stage), "moves" key
    "2026-05:lost:won_back" (contact-cycle moves that month, by the client's owner)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    chart = models.CharField(max_length=12)
    key = models.CharField(max_length=40)
    clients = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["chart", "owner"], name="dashboard_tally_chart_owner")]

    def __str__(self) -> str:
        return f"{self.chart} {self.key} {self.owner_id}: {self.clients}/{self.count}"
