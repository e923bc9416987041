"""Top-level URLs: console, API, heartbeat push, health, and (later) the public pages."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from monitors.views_push import push

from .health import healthz

# Public paths get the status page's 404; console, API and sign-in keep theirs.
handler404 = "public_site.views.not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("push/<str:token>", push, name="push"),
    path("accounts/", include("accounts.urls")),
    path("console/", include("monitors.urls")),
    path("console/users/", include("accounts.urls_console")),
    path("console/incidents/", include("incidents.urls")),
    path("console/maintenance/", include("incidents.urls_maintenance")),
    path("console/alerts/", include("alerting.urls")),
    path("api/v1/", include("monitors.api.urls")),
    path("api/v1/", include("alerting.api.urls")),
    path("api/v1/", include("incidents.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/v1/", include("notifications.api.urls_subscribers")),
    path("console/", include("notifications.urls")),
    path("console/subscribers/", include("notifications.urls_subscribers")),
    path("console/site/", include("public_site.urls_console")),
    path("console/integrations/", include("integrations.urls")),
    path("console/services/", include("catalog.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    # Inbound webhooks from other monitoring tools: /api/<vendor>/...
    path("api/", include("integrations.urls_inbound")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Public side last: its paths are the short ones.
    path("", include("notifications.urls_public")),
    path("", include("public_site.urls_machine")),
    path("", include("public_site.urls")),
]
