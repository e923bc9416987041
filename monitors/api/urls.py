"""API v1 routes of the monitors app; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import MonitorViewSet

router = SimpleRouter()
# Both /api/v1/monitors and /api/v1/monitors/ (and so on) resolve.
router.trailing_slash = "/?"
router.register("monitors", MonitorViewSet, basename="monitor")

urlpatterns = router.urls
