from django.urls import include, path

from kartoteka.api import api
from kartoteka.callcenter.urls import webhook_urls
from kartoteka.ivr.urls import step_urls as ivr_step_urls

urlpatterns = [
    path("", include("kartoteka.core.urls")),
    path("", include("kartoteka.accounts.urls")),
    path("clients/", include("kartoteka.clients.urls")),
    path("deals/", include("kartoteka.sales.urls")),
    path("", include("kartoteka.transfer.urls")),
    path("tasks/", include("kartoteka.planner.urls")),
    path("duplicates/", include("kartoteka.dedup.urls")),
    path("segments/", include("kartoteka.segments.urls")),
    path("analytics/", include("kartoteka.segments.analytics_urls")),
    path("calls/", include("kartoteka.callcenter.urls")),
    path("call-scripts/", include("kartoteka.callscripts.urls")),
    path("telephony/", include(webhook_urls)),
    path("ivr/", include("kartoteka.ivr.urls")),
    path("telephony/ivr/", include(ivr_step_urls)),
    path("quality/", include("kartoteka.quality.urls")),
    path("api/v1/", api.urls),
]
