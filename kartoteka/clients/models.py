"""Clients: persons and companies, their phones, e-mails, links, consents and history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.validators import validate_inn, validate_kpp, validate_ogrn
from kartoteka.core.models import SoftDeletable, TimeStamped, Versioned

LIVE = Q(deleted_at__isnull=True)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Client(TimeStamped, SoftDeletable, Versioned):
    """A person or a company; one table so that lists and search cover both."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        COMPANY = "company", _("company")

    class Stage(models.TextChoices):
        LEAD = "lead", _("lead")
        PROSPECT = "prospect", _("prospect")
        CUSTOMER = "customer", _("customer")
        LOST = "lost", _("lost")

    class Source(models.TextChoices):
        WEBSITE = "website", _("website")
        REFERRAL = "referral", _("referral")
        COLD_CALL = "cold_call", _("cold call")
        INBOUND_CALL = "inbound_call", _("inbound call")
        ADVERTISING = "advertising", _("advertising")
        EXHIBITION = "exhibition", _("exhibition")
        SOCIAL = "social", _("social networks")
        PARTNER = "partner", _("partner")
        IMPORT = "import", _("import")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=300, editable=False)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=300, blank=True)
    legal_form = models.CharField(_("legal form"), max_length=60, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True, validators=[validate_ogrn])
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    company_day = models.DateField(_("company day"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.TextField(_("address"), blank=True)
    passport = models.CharField(
        _("passport"), max_length=200, blank=True, default="", db_default=""
    )
    income = models.DecimalField(
        _("monthly income"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    description = models.TextField(_("description"), blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_clients",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.LEAD)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="clients")
    external_system = models.CharField(_("external system"), max_length=40, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    # Derived by the services, kept here so that lists and search need no joins.
    primary_phone = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    primary_email = models.CharField(_("e-mail"), max_length=254, blank=True, editable=False)
    erased_at = models.DateTimeField(
        _("personal data erased"), null=True, blank=True, editable=False
    )
    completeness = models.PositiveSmallIntegerField(
        _("completeness"), default=0, editable=False, validators=[MaxValueValidator(100)]
    )
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, editable=False)
    search_text = models.TextField(default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["name", "id"], name="client_name_live", condition=LIVE),
            models.Index(
                fields=["owner", "name", "id"], name="client_owner_name_live", condition=LIVE
            ),
            models.Index(fields=["created_at", "id"], name="client_created_live", condition=LIVE),
            models.Index(
                fields=["last_contact_at", "id"], name="client_contact_live", condition=LIVE
            ),
            models.Index(
                fields=["completeness", "id"], name="client_complete_live", condition=LIVE
            ),
            models.Index(fields=["inn"], name="client_inn"),
            models.Index(fields=["deleted_at"], name="client_trash", condition=~LIVE),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_system", "external_id"],
                condition=~Q(external_id=""),
                name="client_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["person", "company"]), name="client_kind_valid"
            ),
        ]

    # Whose record this is, for the permissions engine.
    owner_paths = ("owner",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    def compose_name(self) -> str:
        if self.is_person:
            return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)
        return " ".join(p for p in (self.legal_form, self.company_name) if p)


class ContactKind(models.TextChoices):
    MOBILE = "mobile", _("mobile")
    WORK = "work", _("work")
    HOME = "home", _("home")
    FAX = "fax", _("fax")
    OTHER = "other", _("other")


class Phone(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="phones")
    kind = models.CharField(
        _("kind"), max_length=8, choices=ContactKind.choices, default=ContactKind.MOBILE
    )
    raw = models.CharField(_("as entered"), max_length=40)
    e164 = models.CharField(_("phone"), max_length=16, db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.e164


class Email(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(
        _("kind"), max_length=8, choices=ContactKind.choices, default=ContactKind.WORK
    )
    email = models.EmailField(_("e-mail"), db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")

    def __str__(self) -> str:
        return self.email


class Employment(TimeStamped):
    """A person working at a company in a role; a person may work at several companies."""

    class Role(models.TextChoices):
        DIRECTOR = "director", _("director")
        CHIEF_ACCOUNTANT = "accountant", _("chief accountant")
        LAWYER = "lawyer", _("lawyer")
        PURCHASER = "purchaser", _("purchasing manager")
        CONTACT = "contact", _("contact person")
        EMPLOYEE = "employee", _("employee")

    person = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="jobs")
    company = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.EMPLOYEE)
    position = models.CharField(_("position"), max_length=150, blank=True)
    is_current = models.BooleanField(_("works there now"), default=True)

    class Meta:
        ordering = ["role", "id"]
        verbose_name = _("position at a company")
        verbose_name_plural = _("positions at companies")
        constraints = [
            models.UniqueConstraint(fields=["person", "company", "role"], name="employment_unique"),
            models.CheckConstraint(
                condition=~Q(person=models.F("company")), name="employment_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} — {self.company}"


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("messengers")
    PHONE = "phone", _("phone calls")


class Consent(models.Model):
    """A row of the consent ledger: the newest row per client, channel and purpose is in force.

    A withdrawal or an unsubscribe is a row with granted=False; rows are never changed.
    """

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("marketing and offers")
        SERVICE = "service", _("service messages")
        PROCESSING = "processing", _("processing of personal data")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.MARKETING
    )
    text_version = models.CharField(_("consent text version"), max_length=40, blank=True)
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("date"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            models.Index(fields=["client", "channel", "-recorded_at"], name="consent_latest")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.channel} {self.granted}"


class CustomField(models.Model):
    """A field an administrator adds to persons, companies or both."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        CHOICE = "choice", _("choice")
        MULTI = "multi", _("multiple choice")
        BOOLEAN = "boolean", _("yes / no")

    class AppliesTo(models.TextChoices):
        PERSON = "person", _("persons")
        COMPANY = "company", _("companies")
        BOTH = "both", _("persons and companies")

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=8, choices=Type.choices)
    applies_to = models.CharField(
        _("applies to"), max_length=8, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Hidden from roles that may not see sensitive data."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    def applies(self, kind: str) -> bool:
        return self.applies_to in (self.AppliesTo.BOTH, kind)


class CompletenessWeight(models.Model):
    """How much a filled field adds to a card's completeness, per client kind."""

    kind = models.CharField(_("kind"), max_length=8, choices=Client.Kind.choices)
    field = models.CharField(_("field"), max_length=60)
    weight = models.PositiveSmallIntegerField(_("weight"), validators=[MaxValueValidator(100)])

    class Meta:
        ordering = ["kind", "field"]
        verbose_name = _("completeness weight")
        verbose_name_plural = _("completeness weights")
        constraints = [
            models.UniqueConstraint(fields=["kind", "field"], name="completeness_weight_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.field}={self.weight}"


class ClientEvent(models.Model):
    """History as rows: who did what to a client, with the field-level diff."""

    class Verb(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("changed")
        DELETED = "deleted", _("moved to trash")
        RESTORED = "restored", _("restored")
        LINKED = "linked", _("linked")
        UNLINKED = "unlinked", _("unlinked")
        CONSENT = "consent", _("consent recorded")
        ERASED = "erased", _("personal data erased")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=10, choices=Verb.choices)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at", "-id"], name="client_event_recent")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.verb} {self.at:%Y-%m-%d}"


class SavedView(models.Model):
    """A user's named list view: filters, sorting and columns, as a query string."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique")]

    def __str__(self) -> str:
        return self.name


class RetentionRule(models.Model):
    """How long a kind of record keeps personal data before the nightly job removes it."""

    class Kind(models.TextChoices):
        TRASH = "trash", _("clients in the trash: erase after")
        TIMELINE = "timeline", _("texts of interactions: remove after")
        INACTIVE = "inactive", _("clients with no contact: erase after")

    kind = models.CharField(_("record kind"), max_length=10, choices=Kind.choices, unique=True)
    days = models.PositiveIntegerField(_("days"))

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")

    def __str__(self) -> str:
        return f"{self.kind}: {self.days}"
