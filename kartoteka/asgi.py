import gc
import os

from django.core.asgi import get_asgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
application = get_asgi_application()

# After Django is set up: the telephony webhook's fast door (see its module for why).
from kartoteka.callcenter.providers.webhook.asgi import route_webhook  # noqa: E402

application = route_webhook(application)  # type: ignore[assignment]

# What the start made (Django, the apps, the URLs) lives as long as the process: kept out of
# the collector's sight, a full collection scans what requests made, not ~160,000 more objects
# (75 ms on the bench machine, with every request of the process waiting).
get_resolver().url_patterns  # noqa: B018 - loaded now, not by the first request
gc.freeze()
