"""API v1 routes of the alerting app; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import AlertEventViewSet, AlertRuleViewSet, AlertViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-events", AlertEventViewSet, basename="alert-event")

urlpatterns = router.urls
