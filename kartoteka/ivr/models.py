"""Voice menus: a menu answers a dialled number; its nodes form a tree the engine walks."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kartoteka.core.models import TimeStamped, Versioned
from kartoteka.ivr import engine

# A file name as Asterisk's Playback takes it: no extension, no "..", no leading slash.
SOUND_RE = r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$"
sound_name = RegexValidator(SOUND_RE, _("Letters, digits, - and _, folders separated by /."))
variable_name = RegexValidator(r"^[a-z][a-z0-9_]{0,29}$", _("Lower-case latin letters, digits, _."))


class Menu(TimeStamped, Versioned):
    """A voice menu. Any change to its nodes bumps its version: two supervisors editing the
    same tree see the second save refused instead of silently mixed."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    # The number it answers: E.164 or a short internal number, as normalized by services.
    number = models.CharField(_("number dialled"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    fallback_queue = models.ForeignKey(
        "callcenter.Queue",
        verbose_name=_("queue after too many errors"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("voice menu")
        verbose_name_plural = _("voice menus")
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                name="ivr_menu_number_active",
                condition=Q(is_active=True) & ~Q(number=""),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Node(models.Model):
    class Kind(models.TextChoices):
        MENU = engine.MENU, _("menu: choices by digit")
        INPUT = engine.INPUT, _("digit input")
        ANSWER = engine.ANSWER, _("self-service answer")
        ROUTE = engine.ROUTE, _("route to a queue")
        BACK = engine.BACK, _("back to the menu above")
        HANGUP = engine.HANGUP, _("hang up")

    class Check(models.TextChoices):
        DEAL = "deal", _("deal number (of the caller, when the number is known)")
        CLIENT = "client", _("client number")
        PHONE = "phone", _("phone number")

    class Answer(models.TextChoices):
        OPEN_DEALS = "open_deals", _("open deals: count and total")
        DEAL_STAGE = "deal_stage", _("the deal's stage and expected close date")
        LAST_INVOICE = "last_invoice", _("the latest invoice: total and date")

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    digit = models.CharField(
        _("digit"),
        max_length=1,
        blank=True,
        validators=[RegexValidator(r"^[0-9]$", _("One digit, 0 to 9."))],
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=80)
    prompt = models.TextField(_("prompt text (for speech synthesis)"), max_length=1000, blank=True)
    sound = models.CharField(_("sound file"), max_length=200, blank=True, validators=[sound_name])
    key = models.CharField(_("variable"), max_length=30, blank=True, validators=[variable_name])
    validation = models.CharField(_("validation"), max_length=8, choices=Check.choices, blank=True)
    answer = models.CharField(_("answer"), max_length=20, choices=Answer.choices, blank=True)
    queue = models.ForeignKey(
        "callcenter.Queue",
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    min_digits = models.PositiveSmallIntegerField(
        _("at least digits"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(engine.MAX_DIGITS)],
    )
    max_digits = models.PositiveSmallIntegerField(
        _("at most digits"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(engine.MAX_DIGITS)],
    )
    retries = models.PositiveSmallIntegerField(
        _("tries"), default=3, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    timeout_s = models.PositiveSmallIntegerField(
        _("wait for digits, seconds"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("menu node")
        verbose_name_plural = _("menu nodes")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "digit"], name="ivr_node_digit_once", condition=~Q(digit="")
            ),
            models.UniqueConstraint(
                fields=["menu"], name="ivr_node_one_root", condition=Q(parent__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def as_engine(self) -> engine.Node:
        return engine.Node(
            id=self.pk,
            kind=self.kind,
            parent=self.parent_id,
            digit=self.digit,
            title=self.title,
            prompt=self.prompt,
            sound=self.sound,
            key=self.key,
            check=self.validation,
            answer=self.answer,
            queue=self.queue.name if self.queue_id and self.queue else "",
            min_digits=self.min_digits,
            max_digits=self.max_digits,
            retries=self.retries,
            timeout_s=self.timeout_s,
        )


class Session(models.Model):
    """A call walking a menu through the JSON step API: the engine's state between requests."""

    token = models.CharField(max_length=43, unique=True)
    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    call_id = models.CharField(max_length=150)
    caller = models.CharField(max_length=80, blank=True)
    callee = models.CharField(max_length=80, blank=True)
    state = models.JSONField(default=dict)
    steps = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="ivr_session_age")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.call_id}"
