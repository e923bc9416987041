"""API v1 routes of the incidents app; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import IncidentViewSet, MaintenanceWindowViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("incidents", IncidentViewSet, basename="incident")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")

urlpatterns = router.urls
