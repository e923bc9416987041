"""API v1 routes of the service catalogue; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import ServiceViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("services", ServiceViewSet, basename="service")

urlpatterns = router.urls
