import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
application = get_asgi_application()

# After Django is set up: the telephony webhook's fast door (see its module for why).
from kartoteka.callcenter.providers.webhook.asgi import route_webhook  # noqa: E402

application = route_webhook(application)  # type: ignore[assignment]
