"""Administrator pages: users, teams, the role matrix, the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kartoteka.accounts import services
from kartoteka.accounts.models import Grant, Role, Team, User
from kartoteka.accounts.roles import ACTIONS, FIELD_GROUPS, KINDS
from kartoteka.core import permissions
from kartoteka.core.forms import IdsChoiceField, StyledForm, add_service_errors, lookups
from kartoteka.core.models import AuditEntry
from kartoteka.core.pagination import BadCursor, keyset_page
from kartoteka.core.permissions import Action
from kartoteka.core.views import actor


def _admin(request: HttpRequest) -> User:
    user = actor(request)
    permissions.require(user, Action.CONFIGURE)
    return user


class UserForm(StyledForm):
    username = forms.CharField(label=gettext_lazy("user name"), max_length=150)
    first_name = forms.CharField(label=gettext_lazy("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("last name"), max_length=150, required=False)
    email = forms.EmailField(label=gettext_lazy("e-mail"), required=False)
    password = forms.CharField(
        label=gettext_lazy("password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=gettext_lazy("Empty: the user cannot log in until one is set."),
    )
    role = forms.ModelChoiceField(label=gettext_lazy("role"), queryset=Role.objects.all())
    teams = IdsChoiceField(
        label=gettext_lazy("teams"),
        queryset=Team.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=gettext_lazy("active"), required=False, initial=True)


def users(request: HttpRequest) -> HttpResponse:
    me = _admin(request)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_user(
                me,
                data["username"],
                data["role"],
                data["password"] or None,
                teams=data["teams"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("User added."))
            return redirect("users")
    rows = User.objects.select_related("role").prefetch_related("teams").order_by("username")
    return render(
        request,
        "accounts/users.html",
        {"form": form, "rows": rows},
        status=422 if form.errors else 200,
    )


class UserEditForm(StyledForm):
    role = forms.ModelChoiceField(label=gettext_lazy("role"), queryset=Role.objects.all())
    teams = IdsChoiceField(
        label=gettext_lazy("teams"),
        queryset=Team.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=gettext_lazy("active"), required=False)


def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    me = _admin(request)
    user = get_object_or_404(User, pk=pk)
    initial = {"role": user.role, "teams": list(user.teams.all()), "is_active": user.is_active}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if user == me and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("You cannot deactivate yourself."))
        else:
            services.update_user(
                me,
                user,
                role=form.cleaned_data["role"],
                teams=form.cleaned_data["teams"],
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, _("Saved."))
            return redirect("users")
    return render(request, "accounts/user_edit.html", {"form": form, "subject": user})


class TeamForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    head = forms.ModelChoiceField(
        label=gettext_lazy("head"), queryset=User.objects.filter(is_active=True), required=False
    )
    members = IdsChoiceField(
        label=gettext_lazy("members"),
        required=False,
        queryset=User.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )


def teams(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    me = _admin(request)
    team = get_object_or_404(Team, pk=pk) if pk else Team()
    initial = (
        {"name": team.name, "head": team.head, "members": list(team.members.all())} if pk else {}
    )
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        clash = Team.objects.filter(name=form.cleaned_data["name"]).exclude(pk=team.pk).exists()
        if clash:
            form.add_error("name", _("A team with that name already exists."))
        else:
            data = form.cleaned_data
            services.save_team(me, team, data["name"], data["head"], data["members"])
            messages.success(request, _("Saved."))
            return redirect("teams")
    rows = Team.objects.select_related("head").prefetch_related("members")
    return render(request, "accounts/teams.html", {"form": form, "rows": rows, "team": team})


def roles(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "accounts/roles.html", {"rows": Role.objects.all()})


def role_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    me = _admin(request)
    role = get_object_or_404(Role, pk=pk)
    scopes = dict(Grant.Scope.choices)
    if request.method == "POST":
        grants, fields, bad = _parse_matrix(request.POST)
        if bad:
            messages.error(request, _("Unknown value for %(cell)s.") % {"cell": bad})
        else:
            changes = services.save_role_matrix(me, role, grants, fields)
            messages.success(request, _("Saved: %(n)d changes.") % {"n": len(changes)})
            return redirect("role_matrix", pk=role.pk)
    current = {(g.kind, g.action): g.scope for g in role.grants.all()}
    rules = dict(role.field_rules.values_list("field", "access"))
    matrix = [
        (kind, label, [(action, current.get((kind, action), 0)) for action in ACTIONS])
        for kind, label in KINDS.items()
    ]
    context = {
        "role": role,
        "matrix": matrix,
        "actions": ACTIONS,
        "scopes": scopes,
        "field_groups": [(g, label, rules.get(g, "")) for g, label in FIELD_GROUPS.items()],
    }
    return render(request, "accounts/role_matrix.html", context)


def _parse_matrix(post: Any) -> tuple[dict[tuple[str, str], int], dict[str, str], str]:
    grants: dict[tuple[str, str], int] = {}
    for kind in KINDS:
        for action in ACTIONS:
            raw = post.get(f"{kind}.{action}", "0")
            if raw not in {"0", "1", "2", "3"}:
                return {}, {}, f"{kind}.{action}"
            grants[(kind, action)] = int(raw)
    fields: dict[str, str] = {}
    for group in FIELD_GROUPS:
        raw = post.get(f"field.{group}", "")
        if raw not in {"", "hidden", "read"}:
            return {}, {}, f"field.{group}"
        fields[group] = raw
    return grants, fields, ""


class AuditFilter(StyledForm):
    user = forms.CharField(label=gettext_lazy("user"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=gettext_lazy("action"),
        required=False,
        choices=[("", "—"), *AuditEntry.Action.choices],
    )
    target = forms.CharField(label=gettext_lazy("record id"), required=False, max_length=40)
    since = forms.DateField(
        label=gettext_lazy("from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def conditions(self) -> Q:
        return lookups(
            self.cleaned_data,
            {
                "user": "actor_name",
                "action": "action",
                "target": "target_id",
                "since": "at__date__gte",
                "until": "at__date__lte",
            },
        )


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = AuditFilter(request.GET or None)
    rows, next_cursor = [], None
    if not form.is_bound or form.is_valid():
        queryset = AuditEntry.objects.filter(form.conditions() if form.is_bound else Q())
        try:
            page = keyset_page(queryset, "id", True, request.GET.get("cursor"), 100)
        except BadCursor:
            page = keyset_page(queryset, "id", True, None, 100)
        rows, next_cursor = page.rows, page.next_cursor
    query = request.GET.copy()
    query["cursor"] = next_cursor or ""
    return render(
        request,
        "accounts/audit.html",
        {"form": form, "rows": rows, "next_cursor": next_cursor, "next_query": query.urlencode()},
    )
