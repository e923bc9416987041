"""API v1 routes of triggers and deliveries; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, TriggerViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("triggers", TriggerViewSet, basename="trigger")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
