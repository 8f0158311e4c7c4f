"""URL map. Each app owns its own ``urls.py``; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("policies/", include("cobro.dunning.urls")),
    path("messages/", include("cobro.messaging.urls")),
    path("agreements/", include("cobro.agreements.urls")),
    path("", include("cobro.portal.staff_urls")),  # settings/portal/ and insights/surveys/
    path("insights/", include("cobro.insights.urls")),
    path("portal/", include("cobro.portal.urls")),
    path("reconciliation/", include("cobro.payments.urls")),
    path("api/", include("cobro.api.urls")),
    path("settings/api/", include("cobro.api.settings_urls")),
    path("", include("cobro.providers.urls")),  # webhooks/<provider>/<org>/ and the providers' returns
    path("", include("cobro.workspace.urls")),
]
