"""The REST API at /api/v1: token authentication, JSON errors naming the field.

Every error has one shape: `{"detail": "message"}`, or for validation errors (422)
`{"detail": [{"loc": ["body", "phones", 0, "number"], "msg": "…", "type": "…"}]}`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.html import json_script
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer

from kartoteka.accounts.models import User
from kartoteka.accounts.services import user_for_token
from kartoteka.core.errors import StaleVersion, field_errors
from kartoteka.core.permissions import Denied


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


# --- docs from the swagger files bundled with ninja, never a CDN ------------------------------

ASSETS_DIR = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}
DOCS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}swagger-ui.css">
<link rel="icon" href="{assets}favicon.png" type="image/png"></head>
<body data-csrf-token="" data-api-csrf="">{settings}<div id="swagger-ui"></div>
<script src="{assets}swagger-ui-bundle.js"></script>
<script src="{assets}swagger-ui-init.js"></script></body></html>"""


class BundledSwagger(DocsBase):
    """Swagger UI loading its JS and CSS from this server (works offline)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        html = DOCS_PAGE.format(
            title=api.title,
            assets=request.path.rstrip("/") + "/assets/",
            settings=json_script(settings, "swagger-settings"),
        )
        return HttpResponse(html)


api = NinjaAPI(
    title="Kartoteka API",
    version="1",
    description=(
        "Bearer-token API of Kartoteka. Request bodies are strict: unknown keys (for example "
        "`owner`, `is_superuser`, `deleted_at`, `created_by`) are refused with 422 naming the "
        "key, never silently applied; unknown query parameters are refused the same way. "
        "Records you cannot see, and records in the trash, answer 404; a body naming such a "
        "record (`client_id`, `person_id`, `owner_id`) answers 422 naming that field. "
        "Changing a client needs its version: an `If-Match` header with the `ETag` you read, "
        "or a `version` field (428 without, 412 when someone saved in between)."
    ),
    auth=TokenAuth(),
    docs=BundledSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)


@api.get("/docs/assets/{name}", auth=None, include_in_schema=False)
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404
    return FileResponse((ASSETS_DIR / name).open("rb"), content_type=ASSETS[name])


# --- errors ------------------------------------------------------------------------------------

PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("This field cannot be set."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "too_long": gettext_lazy("At most %(max_length)s entries."),
    "greater_than_equal": gettext_lazy("Must be at least %(ge)s."),
    "less_than_equal": gettext_lazy("Must be at most %(le)s."),
    "string_type": gettext_lazy("Enter a text string."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "bool_type": gettext_lazy("Enter true or false."),
    "date_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_type": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": gettext_lazy("Enter a date and time in ISO 8601 format."),
    "datetime_from_date_parsing": gettext_lazy("Enter a date and time in ISO 8601 format."),
    "datetime_type": gettext_lazy("Enter a date and time in ISO 8601 format."),
    "decimal_parsing": gettext_lazy("Enter a number."),
    "decimal_type": gettext_lazy("Enter a number."),
    "finite_number": gettext_lazy("Enter a number."),
    "model_type": gettext_lazy("Send a JSON object."),
    "model_attributes_type": gettext_lazy("Send a JSON object."),
    "dict_type": gettext_lazy("Send a JSON object."),
    "list_type": gettext_lazy("Send a JSON list."),
}
# Service error keys that are named differently in the API.
RENAMED = {"owner": "owner_id", "person": "person_id", "client": "client_id"}
INDEX = re.compile(r"^\d{1,6}$")


def _message(error: dict[str, Any]) -> str:
    context = error.get("ctx") or {}
    if error.get("type") == "value_error" and context.get("error"):
        return str(context["error"])  # raised by our own validators, already translated
    template = PYDANTIC_MESSAGES.get(str(error.get("type")))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % error.get("ctx", {})
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


def _loc(loc: Any) -> list[Any]:
    parts = list(loc) if isinstance(loc, list | tuple) else [loc]
    if len(parts) > 1 and parts[0] == "body" and parts[1] == "payload":
        del parts[1]
    return parts


def service_loc(key: str) -> list[str | int]:
    """'phones.0.number' -> ['body', 'phones', 0, 'number']; '__all__' -> ['body']."""
    if key == "__all__":
        return ["body"]
    parts: list[str | int] = [int(p) if INDEX.match(p) else p for p in key.split(".")]
    if isinstance(parts[0], str):
        parts[0] = RENAMED.get(parts[0], parts[0])
    return ["body", *parts]


def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {
            "loc": _loc(e.get("loc", ())),
            "msg": _message(e),
            "type": str(e.get("type", "value_error")),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


def _service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    detail = [
        {"loc": service_loc(key), "msg": " ".join(messages), "type": "value_error"}
        for key, messages in field_errors(exc).items()
    ]
    return api.create_response(request, {"detail": detail}, status=422)


def _stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    body = {
        "detail": _("Someone else changed this record; reload it and apply your change again."),
        "current_version": exc.current_version,
    }
    response = api.create_response(request, body, status=412)
    response["ETag"] = f'"{exc.current_version}"'
    return response


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


def _denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("You may not do this.")}, status=403)


def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(request, {"detail": _("Send a valid API token.")}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        detail = [
            {"loc": ["body"], "msg": _("The body is not valid JSON."), "type": "json_invalid"}
        ]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


for exc_class, handler in (
    (NinjaValidationError, _validation_error),
    (DjangoValidationError, _service_error),
    (StaleVersion, _stale),
    (Http404, _not_found),
    (Denied, _denied),
    (AuthenticationError, _unauthenticated),
    (HttpError, _http_error),
):
    api.exception_handler(exc_class)(handler)


def _register_routers() -> None:
    from kartoteka.activities.api import router as interactions
    from kartoteka.clients.api import clients, companies, persons

    api.add_router("/clients", clients)
    api.add_router("/persons", persons)
    api.add_router("/companies", companies)
    api.add_router("/interactions", interactions)
    from kartoteka.transfer.api import router as exports

    api.add_router("/exports", exports)
    from kartoteka.transfer.import_api import router as imports

    api.add_router("/imports", imports)
    from kartoteka.sales.api import deals_router, pipelines_router

    api.add_router("/pipelines", pipelines_router)
    api.add_router("/deals", deals_router)
    from kartoteka.sales.catalog_api import router as catalog
    from kartoteka.sales.report_api import plans_router, reports_router

    api.add_router("/sales", catalog)
    api.add_router("/plans", plans_router)
    api.add_router("/reports/sales", reports_router)
    from kartoteka.planner.api import calendar_router, report_router, tasks_router

    api.add_router("/tasks", tasks_router)
    api.add_router("/calendar", calendar_router)
    api.add_router("/reports/tasks", report_router)
    from kartoteka.dedup.api import router as dedup

    api.add_router("/dedup", dedup)
    from kartoteka.segments.api import analytics_router, segments_router

    api.add_router("/segments", segments_router)
    api.add_router("/analytics", analytics_router)
    from kartoteka.callcenter.acd_api import acd_router, route_router

    api.add_router("/calls/route", route_router)  # before /calls: its /{call_id} takes no POST
    api.add_router("/acd", acd_router)
    from kartoteka.callcenter.api import calls_router, operators_router
    from kartoteka.staffing.api import router as staffing_router

    api.add_router("/calls/staffing", staffing_router)  # before /calls/{call_id}
    from kartoteka.callcenter.kpi_api import router as kpi_router

    api.add_router("/calls/kpi", kpi_router)
    api.add_router("/calls", calls_router)
    api.add_router("/operators", operators_router)
    from kartoteka.callscripts.api import runs_router, scripts_router

    api.add_router("/call-scripts", scripts_router)
    api.add_router("/calls", runs_router)
    from kartoteka.ivr.api import router as ivr

    api.add_router("/ivr", ivr)
    from kartoteka.quality.api import router as quality

    api.add_router("/quality", quality)


_register_routers()
